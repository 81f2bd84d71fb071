"""dvisualize_dataset: still grids and animations of a data set (dlib_visualize_dataset)."""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.visualize import visualize_dataset

FLAGS = flags.FLAGS
flags.DEFINE_string("name", "dsprites_full", "Name of the data set to visualize.")
flags.DEFINE_string("path", "dataset_visualizations", "Folder in which to save the pictures.")


def main(unused_argv):
  visualize_dataset.visualize_dataset(FLAGS.name, FLAGS.path)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
