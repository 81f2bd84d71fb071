"""What every console command shares: absl start-up and the user-error contract.

A user mistake (UserError, which gin_registry makes of gin's errors in the
configuration, or a missing file) ends with one line on stderr and exit
status 2.
"""
import logging as std_logging
import os
import sys

from absl import app
from absl import flags
from absl import logging

from dlib_torch.utils import errors

def _one_line(exc):
  # gin appends "In call to configurable 'x' (<function ...>)" to errors raised inside a
  # configurable: noise on an error line.
  text = str(exc).split("\n  In call to configurable")[0]
  return " ".join(text.split()) or type(exc).__name__


def run_main(main):
  """Runs an absl `main(argv)`, mapping user errors to one line and exit status 2."""

  def guarded(argv):
    try:
      return main(argv)
    except errors.UserError as e:
      _fail(_one_line(e))
    except FileNotFoundError as e:
      _fail("Missing file: {}".format(e.filename or _one_line(e)))

  std_logging.getLogger("absl").setLevel(std_logging.INFO)
  logging.set_verbosity(logging.INFO)
  app.run(guarded, flags_parser=_parse_flags)


def _parse_flags(argv):
  """absl's parsing, with a bad or missing flag as a user error (exit 2, not 1).

  -h, --help and --helpshort print the command's own help to stdout and exit 0.
  """
  command = _command_module()
  _declare_key_flags(command)
  if any(arg in _HELP_ARGS for arg in _flag_args(argv)):
    sys.stdout.write(command_help(command))
    sys.exit(0)
  try:
    remaining = flags.FLAGS(argv)
  except flags.Error as e:
    _fail(_one_line(e))
  for check in _FLAG_CHECKS:
    try:
      check()
    except errors.UserError as e:
      _fail(_one_line(e))
  return remaining


# Checks of the parsed flags that the command defined (UserError: exit 2 before it runs).
_FLAG_CHECKS = []


# What asks for the short help; absl's --help (also -?) would exit 1, and has no -h.
_HELP_ARGS = ("-h", "--help", "-help", "--helpshort", "-helpshort", "-?")


def _flag_args(argv):
  """The arguments absl reads as flags: those before a lone '--'."""
  args = list(argv[1:])
  return args[:args.index("--")] if "--" in args else args


def _command_module():
  """The module of the command being run: the one whose run() called run_main."""
  frame = sys._getframe()  # pylint: disable=protected-access
  while frame is not None:
    if frame.f_code is run_main.__code__ and frame.f_back is not None:
      return sys.modules.get(frame.f_back.f_globals.get("__name__"), sys.modules["__main__"])
    frame = frame.f_back
  return sys.modules["__main__"]


def _declare_key_flags(command):
  """Makes the command's flags (its own and those it defined here) key flags of the main module.

  absl's --help/--helpshort list the key flags of the main module (sys.argv[0]);
  a console script's main module is pip's wrapper, so without this they list
  nothing. This is what flags.adopt_module_key_flags does for its caller.
  """
  main = sys.argv[0]
  for module_name in (command.__name__, __name__):
    for flag in flags.FLAGS.get_key_flags_for_module(module_name):
      flags.FLAGS.register_key_flag_for_module(main, flag)


def command_help(command):
  """The help of a command: its module docstring, its flags, and an optional epilog.

  The epilog is the text of the command module's help_epilog(), if it has one.
  """
  doc = (command.__doc__ or "").strip() or "USAGE: {} [flags]".format(
      os.path.basename(sys.argv[0]))
  summary, _, details = doc.partition("\n\n")
  parts = [" ".join(summary.split())]  # The docstring's summary, on one line.
  if details.strip():
    parts.append(details.strip("\n"))
  epilog = getattr(command, "help_epilog", None)
  if epilog is not None:
    parts.append(epilog().strip())
  listing = flags.FLAGS.main_module_help()
  header = "\n{}:\n".format(sys.argv[0])
  if listing.startswith(header):
    listing = listing[len(header):]
  if listing.strip():
    parts.append("flags:\n" + listing.rstrip())
  parts.append("Try --helpfull to see absl's own flags (logging, ...) too.")
  return "\n\n".join(parts) + "\n"


def _fail(message):
  sys.stderr.write("Error: {}\n".format(message))
  sys.exit(2)


def require_files(paths):
  """Each path must be an existing file (gin configs named on the command line)."""
  for path in paths:
    if not os.path.isfile(path):
      raise errors.UserError("Gin config file not found: {}".format(path))


def define_train_flags():
  """The flags of dtrain and its weakly/semi-supervised variants (the original's)."""
  flags.DEFINE_string("model_dir", None, "Directory to save the trained model to (required).")
  flags.DEFINE_string("gin_model_dir", None, "Folder of the gin file named by --gin_file_name.")
  flags.DEFINE_string("gin_file_name", None,
                      "A gin file in --gin_model_dir to add to --gin_config.")
  flags.DEFINE_multi_string("gin_config", [], "Gin config files")
  flags.DEFINE_multi_string("gin_bindings", [],
                            "Gin bindings, applied after the files")
  flags.DEFINE_boolean("overwrite", False, "Whether to replace an existing finished model_dir.")
  define_runtime_flags()
  flags.mark_flag_as_required("model_dir")


def train_main(train_with_gin):
  """The main(argv) of a training command that calls train_with_gin with the flags."""

  def main(unused_argv):
    config = flags.FLAGS
    gin_configs = list(config.gin_config)
    if config.gin_file_name:
      gin_configs.append(os.path.join(config.gin_model_dir or "", config.gin_file_name))
    require_files(gin_configs)
    train_with_gin(config.model_dir, config.overwrite, gin_configs, config.gin_bindings,
                   runtime=runtime_from_flags())

  return main


def define_seed_flag(name, help_text):
  """An optional integer flag bounded to the seeds numpy's RandomState takes."""
  flags.DEFINE_integer(name, None, help_text, lower_bound=0, upper_bound=errors.MAX_SEED)


def define_pipeline_flags(study_dir, supervised):
  """The flags of the original's weakly/semi-supervised reproduce pipelines.

  Both pipelines take the same flags; the weak one accepts the supervision
  and validation flags but ignores them, as the original did.
  """
  unused = "" if supervised else " Unused by this pipeline (as in the original)."
  flags.DEFINE_string("output_directory", None, "Output directory of the pipeline (required).")
  flags.DEFINE_string("model_dir", None, "Output directory of an earlier run whose model/ is "
                      "used; training is then skipped.")
  flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings for training")
  flags.DEFINE_string("gin_model_config_dir", None, "Folder of the model config (default: the "
                      "shipped {}/model_configs).".format(study_dir))
  flags.DEFINE_string("gin_model_config_name", "shared.gin", "File name of the model config.")
  flags.DEFINE_string("gin_postprocess_config_glob", None, "Glob of the postprocessing configs "
                      "(default: the shipped {}/postprocess_configs/*.gin).".format(study_dir))
  flags.DEFINE_string("gin_evaluation_config_glob", None, "Glob of the metric configs (default: "
                      "the shipped unsupervised_study_v1/metric_configs/*.gin).")
  flags.DEFINE_string("gin_validation_config_glob", None, "Glob of the validation configs "
                      "(default: the shipped {}/validation_configs/*.gin).".format(study_dir) +
                      unused)
  define_seed_flag("pipeline_seed", "Seed the pipeline draws its seeds from (default: random).")
  define_seed_flag("eval_seed", "Seed of the evaluation seeds (default: random)." + unused)
  flags.DEFINE_boolean("overwrite", False, "Redo finished stages instead of skipping them.")
  define_seed_flag("supervised_seed",
                   "Seed of the labelled set (training and validation)." + unused)
  flags.DEFINE_integer("num_labelled_samples", None, "Number of labelled samples." + unused,
                       lower_bound=1)
  flags.DEFINE_float("train_percentage", None,
                     "Share of the labelled samples used for training." + unused,
                     lower_bound=0., upper_bound=1.)
  flags.DEFINE_string("labeller_fn", None,
                      "Labeller of the labelled set, e.g. @perfect_labeller." + unused)
  flags.mark_flag_as_required("output_directory")
  define_runtime_flags()


def define_device_flag():
  """--device, of every command that runs a model."""
  flags.DEFINE_string("device", "auto", "Torch device: auto (CUDA if present, else CPU), cpu, "
                      "cuda, cuda:1, ...")
  _FLAG_CHECKS.append(_parse_device_name)


def _parse_device_name():
  from dlib_torch.utils import devices  # pylint: disable=g-import-not-at-top
  devices.parse_device_name(flags.FLAGS.device)


def define_runtime_flags():
  """Flags of how training runs: device, precision, checkpoint interval.

  --precision=bf16 with a device that cannot run it natively (a CPU without
  native bf16) is refused when the flags are parsed.
  """
  define_device_flag()
  flags.DEFINE_enum("precision", "float32", ["float32", "bf16"],
                    "float32, or bf16 autocast for the forward pass (on a CPU only with native "
                    "bf16: AVX-512-BF16 or AMX).")
  flags.DEFINE_integer("checkpoint_every", 1000, "Save a checkpoint every this many steps "
                       "(and at least every 5 minutes).", lower_bound=1)
  _FLAG_CHECKS.append(_check_precision)


def _check_precision():
  if flags.FLAGS.precision == "float32":
    return
  from dlib_torch.utils import devices  # pylint: disable=g-import-not-at-top
  try:
    device = devices.resolve_device(flags.FLAGS.device)
  except errors.UserError:
    return  # The command reports a bad device itself.
  devices.check_precision(device, flags.FLAGS.precision)


def runtime_from_flags():
  from dlib_torch.methods.unsupervised import train  # pylint: disable=g-import-not-at-top
  return train.Runtime(device=flags.FLAGS.device, precision=flags.FLAGS.precision,
                       checkpoint_every_steps=flags.FLAGS.checkpoint_every)
