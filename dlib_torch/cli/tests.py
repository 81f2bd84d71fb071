"""dtests: runs the test suite shipped with the installed package (pytest).

Any arguments are passed on to pytest (e.g. `dtests -k mig -x`). With
pytest-xdist installed the tests run on all cores.
"""
import os
import sys


def run():
  try:
    import pytest  # pylint: disable=g-import-not-at-top
  except ImportError:
    sys.stderr.write("Error: dtests needs pytest: pip install 'dlib_torch[test]'\n")
    sys.exit(2)
  from dlib_torch import tests  # pylint: disable=g-import-not-at-top
  tests_dir = os.path.dirname(os.path.abspath(tests.__file__))
  args = [tests_dir, "-p", "no:cacheprovider", "--rootdir", tests_dir]
  try:
    import xdist  # pylint: disable=g-import-not-at-top,unused-import
    args += ["-n", "auto"]
  except ImportError:
    pass
  sys.exit(pytest.main(args + sys.argv[1:]))


if __name__ == "__main__":
  run()
