"""What every console command shares: absl start-up and the user-error contract.

A user mistake (UserError, a gin error about an unknown or misspelled name,
a missing file) ends with one line on stderr and exit status 2.
"""
import logging as std_logging
import os
import sys

from absl import app
from absl import flags
from absl import logging

from dlib_torch.utils import errors

# Parse-time gin errors arrive as UserError (gin_registry.run_with_config);
# these are the ones gin raises later, when a configurable is called.
_GIN_ERROR_MARKERS = ("Required bindings", "No configurable matching",
                      "doesn't have a parameter")


def is_gin_user_error(exc):
  text = str(exc)
  return isinstance(exc, SyntaxError) or any(m in text for m in _GIN_ERROR_MARKERS)


def _one_line(exc):
  # gin appends "In call to configurable '...' (<function ... at 0x...>)": noise here.
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
    except (ValueError, SyntaxError, TypeError, KeyError) as e:
      if is_gin_user_error(e) or isinstance(e, SyntaxError):
        _fail("Bad gin configuration: {}".format(_one_line(e)))
      raise

  std_logging.getLogger("absl").setLevel(std_logging.INFO)
  logging.set_verbosity(logging.INFO)
  app.run(guarded, flags_parser=_parse_flags)


def _parse_flags(argv):
  """absl's parsing, with a bad or missing flag as a user error (exit 2, not 1)."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    _fail(_one_line(e))


def _fail(message):
  sys.stderr.write("Error: {}\n".format(message))
  sys.exit(2)


def require_files(paths):
  """Each path must be an existing file (gin configs named on the command line)."""
  for path in paths:
    if not os.path.isfile(path):
      raise errors.UserError("Gin config file not found: {}".format(path))


def define_runtime_flags():
  """Flags of how training runs: device, precision, checkpoint interval."""
  flags.DEFINE_string("device", "auto", "Torch device: auto (CUDA if present, else CPU), cpu, "
                      "cuda, cuda:1, ...")
  flags.DEFINE_enum("precision", "float32", ["float32", "bf16"],
                    "float32, or bf16 autocast for the forward pass.")
  flags.DEFINE_integer("checkpoint_every", 1000, "Save a checkpoint every this many steps "
                       "(and at least every 5 minutes).")


def runtime_from_flags():
  from dlib_torch.methods.unsupervised import train  # pylint: disable=g-import-not-at-top
  return train.Runtime(device=flags.FLAGS.device, precision=flags.FLAGS.precision,
                       checkpoint_every_steps=flags.FLAGS.checkpoint_every)
