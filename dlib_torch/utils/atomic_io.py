"""Atomic file and folder writes: a reader sees the old content or the new, never half.

Files are written to a temporary name in the same folder and renamed; step
output folders are built under a temporary name and renamed into place, by
the one process that holds the folder's lock (folder_lock). What a killed
run leaves behind (temporary files and folders, an old folder being
replaced) is removed by the next run that takes the folder (remove_leftovers).
A write that fails for lack of space or permission removes its temporary
file or folder and raises write_errors.WriteError, one line naming the path;
what was complete before stays as it was.

Temporary names, all beginning with a dot:
  DIR/.FILE.XXXXXXXX.tmp        a file being written (write_with)
  PARENT/.NAME.partial-XXXXXXXX  a step's folder being built (staged_directory)
  PARENT/.NAME.old-XXXXXXXX      a finished folder being replaced, then removed
"""
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile

import numpy as np
import simplejson

from dlib_torch.utils import folder_lock
from dlib_torch.utils import write_errors

# mkstemp and mkdtemp make their files 0600 and folders 0700; the finished ones get
# the modes a plain open() or makedirs would have given them.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_FILE_MODE, _FOLDER_MODE = 0o666 & ~_UMASK, 0o777 & ~_UMASK

_TEMPORARY_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
_TEMPORARY_FOLDER = re.compile(r"^\.(?P<name>.+)\.(partial|old)-[a-z0-9_]{8}$")


def write_with(path, writer):
  """Calls writer(tmp_path) and renames tmp_path to path.

  A failure removes the temporary file; one for lack of space or permission
  is a WriteError naming path.
  """
  directory = os.path.dirname(os.path.abspath(path))
  with write_errors.translated(path):
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    os.close(fd)
  try:
    os.chmod(tmp, _FILE_MODE)
    writer(tmp)
    os.replace(tmp, path)
  except BaseException as e:
    _remove_file(tmp)
    if write_errors.is_write_error(e):
      raise write_errors.write_error(path, e) from e
    raise


def _remove_file(path):
  try:
    os.remove(path)
  except OSError:
    pass


def write_bytes(path, data):
  """Writes bytes (or a buffer) to path atomically."""
  def writer(tmp):
    with open(tmp, "wb") as f:
      f.write(data)
  write_with(path, writer)


def write_torch(path, save_fn, obj):
  """Writes obj with save_fn (torch.save, torch.jit.save) to path atomically.

  The object is serialised in memory and written by Python: torch's own file
  writer reports a full disk as an opaque RuntimeError (torch.save) or aborts
  the process (torch.jit.save).
  """
  buffer = io.BytesIO()
  save_fn(obj, buffer)
  write_bytes(path, buffer.getbuffer())


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

  The folder's lock (folder_lock) is held throughout: a second process gets
  folder_lock.FolderBusy. On an exception the temporary folder is removed and
  final_dir is untouched; an existing final_dir is replaced only on success
  (the caller applies the overwrite rule first).
  """
  with folder_lock.hold(final_dir):
    try:
      remove_leftovers(final_dir)
      parent = os.path.dirname(os.path.abspath(final_dir))
      with write_errors.translated(final_dir):
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(final_dir) + ".partial-")
      try:
        os.chmod(tmp, _FOLDER_MODE)
        yield tmp
        replace_directory(tmp, final_dir)
      except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        # Failed writes name the file as it would have been in the finished folder.
        final = os.path.abspath(final_dir)
        if write_errors.is_write_error(e):
          # The file being written, if the error names it (a copy names its source too).
          names = [n for n in (e.filename2, e.filename)
                   if isinstance(n, str) and n.startswith(tmp + os.sep)]
          raise write_errors.write_error(names[0].replace(tmp, final) if names else final,
                                         e) from e
        if isinstance(e, write_errors.WriteError) and tmp in str(e):
          raise write_errors.WriteError(str(e).replace(tmp, final)) from e
        raise
    finally:
      folder_lock.end_unscoped(final_dir)


def replace_directory(new_dir, final_dir):
  """Renames new_dir to final_dir; an existing final_dir is first renamed aside and removed.

  Killed at any moment, final_dir is the old folder, the new one or absent,
  never a mixture; a folder left aside is removed by the next run.
  """
  with write_errors.translated(final_dir):
    old = None
    if os.path.lexists(final_dir):
      old = set_aside(final_dir)
    os.replace(new_dir, final_dir)
  if old is not None:
    shutil.rmtree(old, ignore_errors=True)


def set_aside(folder):
  """Renames folder to PARENT/.NAME.old-XXXXXXXX (removed by remove_leftovers); that path."""
  parent, name = os.path.split(os.path.abspath(folder))
  aside = os.path.join(parent, ".{}.old-{}".format(name, secrets.token_hex(4)))
  os.replace(folder, aside)
  return aside


def remove_folder(folder):
  """Removes folder: renamed aside first, so that a kill leaves it whole or absent."""
  with write_errors.translated(folder):
    aside = set_aside(folder)
  shutil.rmtree(aside, ignore_errors=True)


def claim_folder(folder):
  """Takes the folder's lock until the step ends (folder_lock.hold_for_step) and removes
  what killed runs left there."""
  folder_lock.hold_for_step(folder)
  remove_leftovers(folder)


def remove_leftovers(folder):
  """Removes what killed runs left of folder: its temporary and set-aside siblings, and
  temporary files and folders inside it. Only the folder's lock holder may call this."""
  parent, name = os.path.split(os.path.abspath(folder))
  if os.path.isdir(parent):
    for entry in os.listdir(parent):
      match = _TEMPORARY_FOLDER.match(entry)
      if match and match.group("name") == name:
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
  if not os.path.isdir(folder) or os.path.islink(folder):
    return
  for root, dirs, files in os.walk(folder):
    for entry in list(dirs):
      if _TEMPORARY_FOLDER.match(entry):
        shutil.rmtree(os.path.join(root, entry), ignore_errors=True)
        dirs.remove(entry)
    for entry in files:
      if _TEMPORARY_FILE.match(entry):
        _remove_file(os.path.join(root, entry))
