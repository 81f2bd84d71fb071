"""dreproduce_jmlr: trains a model and computes its scores many times (the original's
dlib_reproduce_jmlr, the pipeline of Locatello et al.'s JMLR paper).

The original's flags and seeds (dlib_torch.pipeline.jmlr). Without the config
globs the shipped unsupervised_study_v1 postprocessing and metric configs are
used; the model config is required unless --model_dir is given.
"""
import os

from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.config import resources
from dlib_torch.pipeline import jmlr
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("output_directory", None, "Output directory of experiments (required).")
flags.DEFINE_string("model_dir", None, "Output directory of an earlier run whose model/ is "
                    "used; training is then skipped.")
flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings for training")
flags.DEFINE_string("gin_model_config_dir", None, "Folder of the model config.")
flags.DEFINE_string("gin_model_config_name", None, "File name of the model config.")
flags.DEFINE_string("gin_postprocess_config_glob", None, "Glob of the postprocessing configs "
                    "(default: the shipped unsupervised_study_v1/postprocess_configs/*.gin).")
flags.DEFINE_string("gin_evaluation_config_glob", None, "Glob of the metric configs (default: "
                    "the shipped unsupervised_study_v1/metric_configs/*.gin).")
flags.DEFINE_integer("num_eval", 1, "Number of times the evaluation measures are computed.",
                     lower_bound=1)
flags.DEFINE_multi_string("scores_list", [], "Scores computed once per sample size of "
                          "--evaluation_num_samples_train.")
flags.DEFINE_multi_string("evaluation_num_samples_train", [], "Sample sizes (num_train) of the "
                          "scores in --scores_list.")
common.define_seed_flag("random_seed", "Seed of every seed of the pipeline (default: random).")
flags.DEFINE_boolean("overwrite", False, "Redo finished stages instead of skipping them.")
flags.mark_flag_as_required("output_directory")
common.define_runtime_flags()


def main(unused_argv):
  model_config = None
  if FLAGS.model_dir is None:
    if FLAGS.gin_model_config_dir is None or FLAGS.gin_model_config_name is None:
      raise errors.UserError("Training needs --gin_model_config_dir and --gin_model_config_name "
                             "(or --model_dir, an earlier run's output directory).")
    model_config = resources.model_config_file(FLAGS.gin_model_config_dir,
                                               FLAGS.gin_model_config_name, None)
  post_configs = resources.config_files(FLAGS.gin_postprocess_config_glob,
                                        "unsupervised_study_v1/postprocess_configs")
  metric_configs = resources.config_files(FLAGS.gin_evaluation_config_glob,
                                          "unsupervised_study_v1/metric_configs")
  aggregated = jmlr.reproduce_jmlr(
      FLAGS.output_directory, model_config, post_configs, metric_configs,
      model_dir=FLAGS.model_dir, gin_bindings=FLAGS.gin_bindings, num_eval=FLAGS.num_eval,
      scores_list=FLAGS.scores_list,
      evaluation_num_samples_train=FLAGS.evaluation_num_samples_train,
      random_seed=FLAGS.random_seed, overwrite=FLAGS.overwrite,
      runtime=common.runtime_from_flags())
  logging.info("Done: %s.", FLAGS.output_directory)
  print("Aggregated results: {}".format(os.path.abspath(aggregated)))


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
