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

from dlib_torch import reproduce_weak
from dlib_torch.cli import common

FLAGS = flags.FLAGS
flags.DEFINE_string("output_directory", None, "Output directory of the pipeline.")
flags.DEFINE_string("model_dir", None, "Output directory of an earlier run whose model/ is "
                    "used; training is then skipped.")
flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings for training (repeatable).")
flags.DEFINE_string("gin_model_config_dir", None, "Folder of the model config (default: the "
                    "shipped weakly_supervised_study/model_configs).")
flags.DEFINE_string("gin_model_config_name", "shared.gin", "File name of the model config.")
flags.DEFINE_string("gin_postprocess_config_glob", None, "Glob of the postprocessing configs "
                    "(default: the shipped weakly_supervised_study/postprocess_configs/*.gin).")
flags.DEFINE_string("gin_evaluation_config_glob", None, "Glob of the metric configs (default: "
                    "the shipped unsupervised_study_v1/metric_configs/*.gin).")
flags.DEFINE_string("gin_validation_config_glob", None, "Unused (as in the original).")
flags.DEFINE_integer("pipeline_seed", None, "Seed of all the pipeline's seeds (default: random).")
flags.DEFINE_integer("eval_seed", None, "Unused (as in the original).")
flags.DEFINE_boolean("overwrite", False, "Redo finished stages instead of skipping them.")
flags.DEFINE_integer("supervised_seed", None, "Unused (as in the original).")
flags.DEFINE_integer("num_labelled_samples", None, "Unused (as in the original).")
flags.DEFINE_float("train_percentage", None, "Unused (as in the original).")
flags.DEFINE_string("labeller_fn", None, "Unused (as in the original).")
flags.mark_flag_as_required("output_directory")
common.define_runtime_flags()


def main(unused_argv):
  model_config = None
  if FLAGS.model_dir is None:
    model_config = reproduce_weak.model_config_file(
        FLAGS.gin_model_config_dir, FLAGS.gin_model_config_name,
        reproduce_weak.STUDY_DIR + "/model_configs")
  post_configs = reproduce_weak.config_files(FLAGS.gin_postprocess_config_glob,
                                             reproduce_weak.STUDY_DIR + "/postprocess_configs")
  metric_configs = reproduce_weak.config_files(FLAGS.gin_evaluation_config_glob,
                                               reproduce_weak.METRIC_CONFIG_DIR)
  reproduce_weak.reproduce_weakly_supervised(
      FLAGS.output_directory, model_config, post_configs, metric_configs,
      model_dir=FLAGS.model_dir, gin_bindings=FLAGS.gin_bindings,
      pipeline_seed=FLAGS.pipeline_seed, overwrite=FLAGS.overwrite,
      runtime=common.runtime_from_flags())
  logging.info("Done: %s.", FLAGS.output_directory)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
