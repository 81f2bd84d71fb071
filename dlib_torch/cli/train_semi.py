"""dtrain_semi: trains a semi-supervised model (the original's dlib_train_semi_supervised).

The same flags and loop as dtrain; the gin files bind the semi-supervised
protocol's `model.*` parameters (num_labelled_samples, seeds, …).
"""
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory to save the trained model to.")
flags.DEFINE_string("gin_model_dir", None, "Folder of the gin file named by --gin_file_name.")
flags.DEFINE_string("gin_file_name", None, "A gin file in --gin_model_dir to add to --gin_config.")
flags.DEFINE_multi_string("gin_config", [], "Gin config files (repeatable).")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, applied after the files (repeatable).")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing finished model_dir.")
common.define_runtime_flags()
flags.mark_flag_as_required("model_dir")


def main(unused_argv):
  gin_configs = list(FLAGS.gin_config)
  if FLAGS.gin_file_name:
    gin_configs.append(os.path.join(FLAGS.gin_model_dir or "", FLAGS.gin_file_name))
  common.require_files(gin_configs)
  train_semi_supervised_lib.train_with_gin(FLAGS.model_dir, FLAGS.overwrite, gin_configs,
                                          FLAGS.gin_bindings,
                                          runtime=common.runtime_from_flags())


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
