"""Imports every module that declares gin configurables, before gin parses a file.

Gin only knows a configurable once its module is imported. Rather than keep a
central list that every new metric, method or data set would have to edit, a
pipeline step calls `register_for(step)`, which imports every module of the
packages that step's gin files may name.
"""
import importlib

import gin

from dlib_torch.utils import errors
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


def register_all():
  """Imports the configurable-declaring packages of every step."""
  for step in _PACKAGES_BY_STEP:
    register_for(step)


def run_with_config(step, gin_config_files, gin_bindings, fn, *args, **kwargs):
  """Parses the gin files and bindings for `step`, calls fn, and clears gin.

  Bindings are applied after the files, so they override them, as in the
  original's `*_with_gin` functions.
  """
  register_for(step)
  try:
    gin.parse_config_files_and_bindings(gin_config_files or [], gin_bindings or [])
  except (ValueError, SyntaxError) as e:
    # Unknown configurable or parameter, bad syntax: the user's configuration.
    gin.clear_config()
    raise errors.UserError("Bad gin configuration: {}".format(e)) from e
  try:
    return fn(*args, **kwargs)
  finally:
    gin.clear_config()
