"""dvisualize: pictures, animations and the model card of a trained model (dlib_visualize_model)."""
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils import errors
from dlib_torch.visualize import visualize_model

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Directory of the trained model to visualize (required).")
flags.DEFINE_string("output_dir", None, "Directory to write the visualizations to (required).")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing output directory.")
flags.DEFINE_integer("num_animations", 5, "Animated traversals of each kind (one per base code).")
flags.DEFINE_integer("num_frames", 20, "Frames of each animated traversal; fewer draw faster.")
common.define_device_flag()


def main(unused_argv):
  for name in ("model_dir", "output_dir"):
    if not FLAGS[name].value:
      raise errors.UserError("Flag --{} is required.".format(name))
  for name in ("num_animations", "num_frames"):
    errors.check_positive_int("--" + name, FLAGS[name].value)
  visualize_model.visualize(FLAGS.model_dir, FLAGS.output_dir, FLAGS.overwrite,
                            num_animations=FLAGS.num_animations, num_frames=FLAGS.num_frames,
                            device=FLAGS.device)
  print("Model card: {}".format(os.path.join(FLAGS.output_dir, "index.html")))


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
