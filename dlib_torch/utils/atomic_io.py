"""Atomic file and folder writes: a reader sees the old content or the new, never half.

Files are written to a temporary name in the same folder and renamed; step
output folders are built under a temporary name and renamed into place.
"""
import contextlib
import json
import os
import shutil
import tempfile

import numpy as np
import simplejson


def write_with(path, writer):
  """Calls writer(tmp_path) and renames tmp_path to path."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                             suffix=".tmp")
  os.close(fd)
  try:
    writer(tmp)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def write_text(path, text):
  def writer(tmp):
    with open(tmp, "w") as f:
      f.write(text)
  write_with(path, writer)


class _NumpyEncoder(simplejson.JSONEncoder):
  """Writes numpy scalars as Python numbers and numpy arrays as lists."""

  def default(self, o):  # pylint: disable=method-hidden
    if isinstance(o, np.integer):
      return int(o)
    if isinstance(o, np.floating):
      return float(o)
    if isinstance(o, np.bool_):
      return bool(o)
    if isinstance(o, np.ndarray):
      return o.tolist()
    return super().default(o)


def write_json(path, obj):
  """Writes obj as indented JSON (NaN/Infinity as simplejson writes them)."""
  def writer(tmp):
    with open(tmp, "w") as f:
      simplejson.dump(obj, f, indent=2, cls=_NumpyEncoder, ignore_nan=False, allow_nan=True)
  write_with(path, writer)


def read_json(path):
  with open(path) as f:
    return json.load(f)


@contextlib.contextmanager
def staged_directory(final_dir):
  """Yields a temporary sibling folder that is renamed to final_dir on success.

  On an exception the temporary folder is removed and final_dir is untouched.
  final_dir must not exist (the caller applies the overwrite rule first).
  """
  parent = os.path.dirname(os.path.abspath(final_dir))
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(final_dir) + ".partial-")
  try:
    yield tmp
    if os.path.exists(final_dir):
      shutil.rmtree(final_dir)
    os.replace(tmp, final_dir)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
