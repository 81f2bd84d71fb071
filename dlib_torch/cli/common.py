"""What every console command shares: absl start-up and the user-error contract.

A user mistake (UserError, a gin error about an unknown or misspelled name,
a missing file) ends with one line on stderr and exit status 2.
"""
import logging as std_logging
import sys

from absl import app
from absl import flags
from absl import logging

from dlib_torch.utils import errors

# gin reports an unknown configurable or parameter as a ValueError, and a
# syntax error as a SyntaxError, from parse time; both are user mistakes.
_GIN_ERROR_MARKERS = ("No configurable matching", "Unknown reference", "not a configurable",
                      "Could not parse", "does not have a parameter", "Unable to parse",
                      "isn't a configurable", "Required bindings")


def is_gin_user_error(exc):
  text = str(exc)
  return isinstance(exc, SyntaxError) or any(m in text for m in _GIN_ERROR_MARKERS)


def _one_line(exc):
  return " ".join(str(exc).split()) or type(exc).__name__


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
  try:
    app.run(guarded)
  except flags.Error as e:
    _fail(_one_line(e))


def _fail(message):
  sys.stderr.write("Error: {}\n".format(message))
  sys.exit(2)
