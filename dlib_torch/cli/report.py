"""dreport: the study report of daggregate's output (figures of Locatello et al. 2019).

Writes OUTPUT/index.html and its figures: per data set, each score's distribution per method
and per hyper-parameter value and the rank correlations between scores; each score's rank
correlation between data sets; a sortable table of every model linking to its model card; and
what is missing. Needs matplotlib (pip install "dlib_torch[plots]").
"""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils import errors
from dlib_torch.visualize import study_report

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "daggregate's output JSON (required).")
flags.DEFINE_string("output", None, "Folder to write the report to (required).")
flags.DEFINE_boolean("all_scores", False, "Report every numeric result of every metric, not "
                     "only the score the study plots for each of the original's metrics.")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing output folder.")


def main(unused_argv):
  for name in ("input", "output"):
    if not FLAGS[name].value:
      raise errors.UserError("Flag --{} is required.".format(name))
  study_report.write_report(FLAGS.input, FLAGS.output, FLAGS.overwrite, FLAGS.all_scores)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
