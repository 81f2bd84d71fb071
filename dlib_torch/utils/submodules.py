"""Importing every module of a package, so that each registers its gin configurables.

Packages whose modules declare gin configurables (metrics, methods, data sets)
call this from their ``__init__`` so that a new module is picked up without
anyone editing a central list.
"""
import importlib
import pkgutil


def import_submodules(package_name, package_path):
  """Imports every non-test module below a package (recursively)."""
  for info in pkgutil.walk_packages(package_path, prefix=package_name + "."):
    if info.name.rsplit(".", 1)[-1].startswith("_"):
      continue
    importlib.import_module(info.name)
