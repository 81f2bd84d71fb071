"""daggregate: collects results into one JSON for pandas (the original's dlib_aggregate_results)."""
import glob

from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("result_file_pattern",
                    "output/*/*/metrics/*/*/results/aggregate/evaluation.json",
                    "Glob of the result files to aggregate (quote it in the shell).")
flags.DEFINE_string("output_path", "results.json", "Output JSON file.")


def main(unused_argv):
  if not glob.glob(FLAGS.result_file_pattern):
    raise errors.UserError("No result file matches {}".format(FLAGS.result_file_pattern))
  df = aggregate_results.aggregate_results_to_json(FLAGS.result_file_pattern, FLAGS.output_path)
  logging.info("Aggregated %d result files into %s.", len(df), FLAGS.output_path)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
