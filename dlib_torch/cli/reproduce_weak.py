"""dreproduce_weak: trains and evaluates a weakly-supervised model (the original's
dlib_reproduce_weakly_supervised).

The original's flags. Without --gin_model_config_dir and the config globs the
shipped configs are used: weakly_supervised_study/model_configs/shared.gin,
weakly_supervised_study/postprocess_configs/*.gin and the unsupervised study's
metrics. --eval_seed, --gin_validation_config_glob and the supervision flags
are accepted and unused, as in the original.
"""
from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.config import resources
from dlib_torch.pipeline import weakly_supervised

FLAGS = flags.FLAGS
common.define_pipeline_flags("weakly_supervised_study", supervised=False)


def main(unused_argv):
  model_config = None
  if FLAGS.model_dir is None:
    model_config = resources.model_config_file(
        FLAGS.gin_model_config_dir, FLAGS.gin_model_config_name,
        weakly_supervised.STUDY_DIR + "/model_configs")
  post_configs = resources.config_files(FLAGS.gin_postprocess_config_glob,
                                        weakly_supervised.STUDY_DIR + "/postprocess_configs")
  metric_configs = resources.config_files(FLAGS.gin_evaluation_config_glob,
                                          weakly_supervised.METRIC_CONFIG_DIR)
  weakly_supervised.reproduce_weakly_supervised(
      FLAGS.output_directory, model_config, post_configs, metric_configs,
      model_dir=FLAGS.model_dir, gin_bindings=FLAGS.gin_bindings,
      pipeline_seed=FLAGS.pipeline_seed, overwrite=FLAGS.overwrite,
      runtime=common.runtime_from_flags())
  logging.info("Done: %s.", FLAGS.output_directory)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
