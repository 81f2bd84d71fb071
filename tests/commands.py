"""The installed console commands, as a user runs them (tests of the command line use these)."""
import os
import shutil
import subprocess
import sys
import sysconfig


def command_path(name):
  """The console script `name` of the installed dlib_torch (interpreter's scripts, else PATH)."""
  for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
    path = os.path.join(folder, name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
      return path
  path = shutil.which(name)
  assert path, "console command {} is not installed (pip install -e .)".format(name)
  return path


def run(name, *args, timeout=600, **kwargs):
  """Runs the installed command `name` with args; returns the CompletedProcess."""
  return subprocess.run([command_path(name)] + list(args), capture_output=True, text=True,
                        timeout=timeout, check=False, **kwargs)
