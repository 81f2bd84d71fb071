"""Imports every module that declares gin configurables, before gin parses a file.

Gin only knows a configurable once its module is imported. Rather than keep a
central list that every new metric, method or data set would have to edit, a
pipeline step calls `register_for(step)`, which imports every module of the
packages that step's gin files may name.
"""
import importlib
import os
import re
import traceback

import gin

from dlib_torch.utils import errors
from dlib_torch.utils import folder_lock
from dlib_torch.utils import submodules

_DATA = "dlib_torch.data.ground_truth"
_PACKAGES_BY_STEP = {
    "train": (_DATA, "dlib_torch.methods"),
    "postprocess": (_DATA, "dlib_torch.postprocessing"),
    "evaluation": (_DATA, "dlib_torch.evaluation"),
    "visualize": (_DATA, "dlib_torch.visualize"),
    # The *_validation metrics and the labellers of the semi-supervised methods.
    "validation": (_DATA, "dlib_torch.evaluation", "dlib_torch.methods.semi_supervised",
                   "dlib_torch.validation"),
}


def register_for(step):
  """Imports the configurable-declaring packages of a step (cheap after the first call)."""
  for name in _PACKAGES_BY_STEP[step]:
    package = importlib.import_module(name)
    submodules.import_submodules(name, package.__path__)


def run_with_config(step, gin_config_files, gin_bindings, fn, *args, **kwargs):
  """Parses the gin files and bindings for `step`, calls fn, and clears gin.

  Bindings are applied after the files, so they override them, as in the
  original's `*_with_gin` functions. The output folder the step takes
  (folder_lock.hold_for_step) is given back when fn returns.
  """
  _parse(step, gin_config_files, gin_bindings)
  try:
    with folder_lock.step():
      return fn(*args, **kwargs)
  except (ValueError, TypeError, RuntimeError) as e:
    # Raised by gin itself while calling a configurable: a required binding left
    # out, a reference to an unknown configurable, a parameter the function lacks.
    if isinstance(e, errors.UserError) or not _raised_by_gin(e):
      raise
    raise errors.UserError("Bad gin configuration: {}".format(_without_call_notes(e))) from e
  finally:
    gin.clear_config()


def check_config(step, gin_config_files, gin_bindings=()):
  """Parses a configuration for `step` and clears gin again: a UserError if it is bad.

  Pipelines check every stage's configuration before they run the first.
  """
  _parse(step, gin_config_files, gin_bindings)
  gin.clear_config()


def _parse(step, gin_config_files, gin_bindings):
  register_for(step)
  try:
    gin.parse_config_files_and_bindings(gin_config_files or [], gin_bindings or [])
  except (ValueError, SyntaxError) as e:
    # Unknown configurable or parameter, bad syntax: the user's configuration.
    gin.clear_config()
    raise errors.UserError("Bad gin configuration: {}".format(e)) from e


_GIN_DIR = os.path.dirname(os.path.abspath(gin.__file__))


def _raised_by_gin(exc):
  """Whether the innermost frame of exc's traceback is gin's own code.

  Python raises a call's argument errors in the caller's frame, so a
  parameter that gin passes and the function lacks counts as gin's too;
  errors of our own code raised inside a configurable do not.
  """
  frames = traceback.extract_tb(exc.__traceback__)
  return bool(frames) and os.path.abspath(frames[-1].filename).startswith(_GIN_DIR + os.sep)


def _without_call_notes(exc):
  """exc's message, gin's "In call to configurable 'x' (<function ...>)" notes shortened."""
  text = str(exc)
  names = re.findall(r"In call to configurable '([^']+)'", text)
  text = " ".join(text.split("\n  In call to configurable")[0].split())
  return text + (" (in {})".format(" <- ".join(names)) if names else "")
