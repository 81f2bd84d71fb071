"""dimport: converts a trained model of the original (folder or zip) into a dlib_torch model folder.

No TensorFlow is needed: the TF checkpoint is read by dlib_torch.pretrained.
The output takes dpostprocess, devaluate, dvisualize, daggregate and
dreproduce --model_dir like a folder that dtrain wrote.
"""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.pretrained import import_model

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "The original's model: its unpacked folder (N/ or N/model/) "
                    "or its zip (required).")
flags.DEFINE_string("output_dir", None, "The dlib_torch model folder to write (required).")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing output_dir.")
flags.mark_flags_as_required(["input", "output_dir"])


def main(unused_argv):
  import_model.import_model(FLAGS.input, FLAGS.output_dir, FLAGS.overwrite)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
