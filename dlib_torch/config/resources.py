"""Paths of the gin files shipped with dlib_torch, and of those a pipeline's flags name.

The `configs/` folder of the checkout (gin files only) installs as the package
`dlib_torch.gin_configs`, so these paths are valid after an editable and after
a regular install alike; the Python study definitions are dlib_torch.config,
as in the original. Paths are relative to that folder, e.g.
"unsupervised_study_v1/model_configs/shared.gin".
"""
import glob
import importlib.resources
import os

from dlib_torch.utils import errors


def configs_root():
  try:
    return str(importlib.resources.files("dlib_torch.gin_configs"))
  except ModuleNotFoundError:
    # Run from a checkout without installing (bin/): configs/ beside the package.
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "configs")


def config_path(relative):
  """Absolute path of the shipped gin file `relative`; it must exist."""
  path = os.path.join(configs_root(), relative)
  if not os.path.isfile(path):
    raise errors.UserError(
        "No config file {!r} in the dlib_torch configs ({}).".format(
            relative, configs_root()))
  return path


def list_configs(relative_dir):
  """Absolute paths of the .gin files directly inside `relative_dir`, sorted."""
  folder = os.path.join(configs_root(), relative_dir)
  if not os.path.isdir(folder):
    raise errors.UserError(
        "No config folder {!r} in the dlib_torch configs ({}).".format(
            relative_dir, configs_root()))
  return sorted(
      os.path.join(folder, name) for name in os.listdir(folder)
      if name.endswith(".gin") and os.path.isfile(os.path.join(folder, name)))


def config_files(pattern, default_dir):
  """The gin files matching a glob pattern, sorted; None means the shipped default_dir's."""
  if pattern is None:
    return list_configs(default_dir)
  files = sorted(glob.glob(pattern))
  if not files:
    raise errors.UserError("No gin config file matches {}.".format(pattern))
  return files


def model_config_file(config_dir, config_name, default_dir):
  """config_dir/config_name; config_dir None means the shipped default_dir."""
  if config_dir is None:
    return config_path(os.path.join(default_dir, config_name))
  path = os.path.join(config_dir, config_name)
  if not os.path.isfile(path):
    raise errors.UserError("Gin config file not found: {}".format(path))
  return path
