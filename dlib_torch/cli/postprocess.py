"""dpostprocess: extracts a representation from a trained model (the original's dlib_postprocess)."""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.postprocessing import postprocess

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory of the trained model (required).")
flags.DEFINE_string("output_dir", None, "Directory to save the representation to (required).")
flags.DEFINE_multi_string("gin_config", [], "Gin config files")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, applied after the files")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing output_dir.")
flags.mark_flags_as_required(["model_dir", "output_dir"])
common.define_device_flag()


def main(unused_argv):
  common.require_files(FLAGS.gin_config)
  postprocess.postprocess_with_gin(FLAGS.model_dir, FLAGS.output_dir, FLAGS.overwrite,
                                   FLAGS.gin_config, FLAGS.gin_bindings, device=FLAGS.device)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
