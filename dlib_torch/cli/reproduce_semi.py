"""dreproduce_semi: trains, validates and evaluates a semi-supervised model (the original's
dlib_reproduce_semi_supervised).

The original's flags. Without --gin_model_config_dir and the config globs the
shipped configs are used: semi_supervised_study/model_configs/shared.gin,
semi_supervised_study/postprocess_configs/*.gin,
semi_supervised_study/validation_configs/*.gin and the unsupervised study's
metrics. A supervision flag left out when training keeps the model config's
value; with --model_dir they must all be left out (they are read from the
model's training configuration).
"""
from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.config import resources
from dlib_torch.pipeline import semi_supervised
from dlib_torch.pipeline import weakly_supervised

FLAGS = flags.FLAGS
common.define_pipeline_flags("semi_supervised_study", supervised=True)


def main(unused_argv):
  model_config = None
  if FLAGS.model_dir is None:
    model_config = resources.model_config_file(
        FLAGS.gin_model_config_dir, FLAGS.gin_model_config_name,
        semi_supervised.STUDY_DIR + "/model_configs")
  post_configs = resources.config_files(FLAGS.gin_postprocess_config_glob,
                                        semi_supervised.STUDY_DIR + "/postprocess_configs")
  validation_configs = resources.config_files(FLAGS.gin_validation_config_glob,
                                              semi_supervised.VALIDATION_CONFIG_DIR)
  metric_configs = resources.config_files(FLAGS.gin_evaluation_config_glob,
                                          weakly_supervised.METRIC_CONFIG_DIR)
  supervision = semi_supervised.Supervision(FLAGS.supervised_seed, FLAGS.num_labelled_samples,
                                            FLAGS.train_percentage, FLAGS.labeller_fn)
  semi_supervised.reproduce_semi_supervised(
      FLAGS.output_directory, model_config, post_configs, metric_configs, validation_configs,
      model_dir=FLAGS.model_dir, gin_bindings=FLAGS.gin_bindings,
      pipeline_seed=FLAGS.pipeline_seed, eval_seed=FLAGS.eval_seed, supervision=supervision,
      overwrite=FLAGS.overwrite, runtime=common.runtime_from_flags())
  logging.info("Done: %s.", FLAGS.output_directory)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
