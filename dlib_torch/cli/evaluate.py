"""devaluate: scores a representation with a metric (the original's dlib_evaluate)."""
import glob
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.evaluation import evaluate
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("input_dir", None, "Directory of the postprocessed representation (required).")
flags.DEFINE_string("output_dir", None, "Directory to save the scores to (required).")
flags.DEFINE_multi_string("gin_config", [], "Gin config files")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, applied after the files")
flags.DEFINE_string("gin_evaluation_config_glob", None,
                    "Evaluate every metric config matching this glob, each into "
                    "output_dir/<config name> (then --gin_config/--gin_bindings are ignored).")
flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing output_dir.")
flags.mark_flags_as_required(["input_dir", "output_dir"])
common.define_device_flag()


def main(unused_argv):
  if FLAGS.gin_evaluation_config_glob is None:
    common.require_files(FLAGS.gin_config)
    evaluate.evaluate_with_gin(FLAGS.input_dir, FLAGS.output_dir, FLAGS.overwrite,
                               FLAGS.gin_config, FLAGS.gin_bindings, device=FLAGS.device)
    return
  config_files = sorted(glob.glob(FLAGS.gin_evaluation_config_glob))
  if not config_files:
    raise errors.UserError("No gin file matches {}".format(
        FLAGS.gin_evaluation_config_glob))
  for config_file in config_files:
    metric_name = os.path.basename(config_file).replace(".gin", "")
    evaluate.evaluate_with_gin(FLAGS.input_dir, os.path.join(FLAGS.output_dir, metric_name),
                               FLAGS.overwrite, [config_file],
                               ["evaluation.name = '{}'".format(metric_name)],
                               device=FLAGS.device)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
