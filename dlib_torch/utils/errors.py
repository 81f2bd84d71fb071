"""The one exception type that means "the user asked for something wrong".

The command-line entry points turn it into one line on stderr and exit
status 2; everything else is a bug and keeps its traceback.
"""
import numbers


class UserError(ValueError):
  """Bad input: unknown names, missing files, wrong shapes, existing output."""


def check_positive_int(name, value):
  """A UserError unless value is an integer >= 1 (gin binds any literal to any parameter)."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
    raise UserError("{} must be a positive integer, not {!r}.".format(name, value))


# numpy's RandomState takes seeds from 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


def check_seed(name, value, optional=False):
  """A UserError unless value is an integer seed from 0 to MAX_SEED (or None, if optional)."""
  if value is None and optional:
    return
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
      0 <= value <= MAX_SEED):
    raise UserError("{} must be a seed, an integer from 0 to 2**32 - 1, not {!r}.".format(
        name, value))


def check_positive_number(name, value):
  """A UserError unless value is a real number > 0."""
  if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
    raise UserError("{} must be a positive number, not {!r}.".format(name, value))
