"""dudr: Unsupervised Disentanglement Ranking of trained models (the original's dlib_udr)."""
import glob
import os

from absl import flags

from dlib_torch.cli import common
from dlib_torch.evaluation.udr import evaluate
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_list("model_dirs", [], "Comma-separated trained model directories to rank "
                  "(required).")
flags.DEFINE_string("output_dir", None, "Directory to save the scores to (required; replaced "
                    "if it exists).")
flags.DEFINE_multi_string("gin_config", [], "Gin config files")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, applied after the files")
flags.DEFINE_string("gin_evaluation_config_glob", None,
                    "Run every UDR config matching this glob, each into "
                    "output_dir/<config name> (then --gin_config/--gin_bindings are ignored).")
flags.DEFINE_boolean("overwrite", False, "Whether to replace existing results in the output "
                     "folder(s).")
flags.mark_flags_as_required(["output_dir"])
common.define_device_flag()


def main(unused_argv):
  if not FLAGS.model_dirs:
    raise errors.UserError("--model_dirs is empty: give the trained model directories.")
  if FLAGS.gin_evaluation_config_glob is None:
    common.require_files(FLAGS.gin_config)
    evaluate.evaluate_with_gin(FLAGS.model_dirs, FLAGS.output_dir, FLAGS.gin_config,
                               FLAGS.gin_bindings, device=FLAGS.device,
                               overwrite=FLAGS.overwrite)
    return
  config_files = sorted(glob.glob(FLAGS.gin_evaluation_config_glob))
  if not config_files:
    raise errors.UserError("No gin file matches {}".format(FLAGS.gin_evaluation_config_glob))
  for config_file in config_files:
    metric_name = os.path.basename(config_file).replace(".gin", "")
    evaluate.evaluate_with_gin(FLAGS.model_dirs, os.path.join(FLAGS.output_dir, metric_name),
                               [config_file], ["evaluation.name = '{}'".format(metric_name)],
                               device=FLAGS.device, overwrite=FLAGS.overwrite)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
