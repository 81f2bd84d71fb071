"""Files shipped with dlib_torch, by the original's package-relative paths.

The original's `utils.resources` resolves paths relative to its package, e.g.
`get_file("config/unsupervised_study_v1/metric_configs/mig.gin")`; scripts
written for it locate the shipped gin files that way. Here the gin files are
the `dlib_torch.gin_configs` package (dlib_torch.config.resources finds it),
so a path under "config/" is looked for there first, then in the package
dlib_torch.config (the Python study definitions); any other path is relative
to the dlib_torch package. Like the original, get_file does not check that
the file exists.
"""
import os

from dlib_torch.config import resources as config_resources

_CONFIG_PREFIX = "config/"
# Folders of the original's config/ that ship under another name here.
_RENAMED = {"tests/methods/udr": "tests/udr"}
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get_file(path):
  """The absolute path of the shipped file at the original's package-relative `path`."""
  return _candidates(path)[0]


def get_files_in_folder(path):
  """Yields the files (not folders) directly in the shipped folder `path`, sorted."""
  folder = get_file(path)
  for name in sorted(os.listdir(folder)):
    file_path = os.path.join(folder, name)
    if os.path.isfile(file_path):
      yield file_path


def _candidates(path):
  """Where `path` may be, the first existing one first (the first if none exists)."""
  path = path.lstrip("/")
  if not path.startswith(_CONFIG_PREFIX):
    return [os.path.join(_PACKAGE_ROOT, path)]
  relative = path[len(_CONFIG_PREFIX):]
  for old, new in _RENAMED.items():
    if relative == old or relative.startswith(old + "/"):
      relative = new + relative[len(old):]
  places = [os.path.join(config_resources.configs_root(), relative),
            os.path.join(_PACKAGE_ROOT, path)]
  return sorted(places, key=lambda place: not os.path.exists(place))
