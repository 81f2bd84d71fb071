"""The registry of data sets by name (gin: `dataset.name`).

A module that defines a data set registers a factory under its name with
`register`; every module of this package is imported on the first look-up,
so adding a data set needs no edit here.
"""
import gin

from dlib_torch.utils import errors

_FACTORIES = {}
_DESCRIPTIONS = {}


def register(name, description=""):
  """Decorator: registers `factory()` (a class or function) under `name`."""

  def decorator(factory):
    _FACTORIES[name] = factory
    _DESCRIPTIONS[name] = description
    return factory

  return decorator


def _load_all():
  from dlib_torch.data import ground_truth  # pylint: disable=g-import-not-at-top
  from dlib_torch.utils import submodules  # pylint: disable=g-import-not-at-top
  submodules.import_submodules(ground_truth.__name__, ground_truth.__path__)


def known_names():
  """All registered data set names, sorted."""
  _load_all()
  return sorted(_FACTORIES)


def describe(name):
  """A one-line description of a registered data set."""
  _load_all()
  return _DESCRIPTIONS[name]


@gin.configurable("dataset")
def get_named_ground_truth_data(name):
  """Builds the data set registered under `name`."""
  _load_all()
  if name not in _FACTORIES:
    raise errors.UserError("Invalid data set name: {!r}; known data sets: {}.".format(
        name, ", ".join(sorted(_FACTORIES))))
  return _FACTORIES[name]()

