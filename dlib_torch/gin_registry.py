"""Imports every module that declares gin configurables, before gin parses a file.

Gin only knows a configurable once its module is imported. Rather than keep a
central list that every new metric, method or data set would have to edit, the
pipeline steps call `register_all()`, which imports every module of these
packages.
"""
from dlib_torch.utils import submodules

_PACKAGES = (
    "dlib_torch.data.ground_truth",
    "dlib_torch.methods",
    "dlib_torch.postprocessing",
    "dlib_torch.evaluation",
    "dlib_torch.visualize",
)


def register_all():
  """Imports all configurable-declaring packages (cheap after the first call)."""
  import importlib  # pylint: disable=g-import-not-at-top
  for name in _PACKAGES:
    package = importlib.import_module(name)
    submodules.import_submodules(name, package.__path__)
