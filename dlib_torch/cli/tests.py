"""dtests: runs the test suite shipped with the installed package (pytest).

Any arguments are passed on to pytest (e.g. `dtests -k mig -x`). With
pytest-xdist installed the tests run on all cores.
"""
import importlib.util
import os
import sys

# dtests' own arguments; everything else goes to pytest.
_HELP_ARGS = ("-h", "--help")
_PYTEST_HELP_ARG = "--help-pytest"


def _tests_dir():
  from dlib_torch import tests  # pylint: disable=g-import-not-at-top
  return os.path.dirname(os.path.abspath(tests.__file__))


def _has_xdist():
  return importlib.util.find_spec("xdist") is not None


def _pytest_args(tests_dir, user_args):
  args = [tests_dir, "-p", "no:cacheprovider", "--rootdir", tests_dir]
  if _has_xdist():
    args += ["-n", "auto"]
  return args + list(user_args)


def usage():
  """dtests' own help: what it runs and that its arguments go to pytest."""
  command = " ".join(_pytest_args(_tests_dir(), ["[ARGS...]"]))
  return "\n".join([
      __doc__.strip(), "",
      "USAGE: dtests [ARGS...]", "",
      "It runs: pytest " + command, "",
      "  -h, --help      show this help",
      "  {:<15} show pytest's own options (pytest --help)".format(_PYTEST_HELP_ARG),
      "  ARGS...         any other arguments: passed to pytest as they are,",
      "                  e.g. -x, -k EXPRESSION, -q, --lf, -m MARKER", ""])


def run():
  user_args = sys.argv[1:]
  if any(arg in _HELP_ARGS for arg in user_args):
    sys.stdout.write(usage())
    sys.exit(0)
  user_args = ["--help" if arg == _PYTEST_HELP_ARG else arg for arg in user_args]
  try:
    import pytest  # pylint: disable=g-import-not-at-top
  except ImportError:
    sys.stderr.write("Error: dtests needs pytest: pip install 'dlib_torch[test]'\n")
    sys.exit(2)
  sys.exit(pytest.main(_pytest_args(_tests_dir(), user_args)))


if __name__ == "__main__":
  run()
