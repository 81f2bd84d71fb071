"""One writer per output folder: an exclusive lock that dies with its process.

A step that writes a folder (a model, a postprocessing, a metric, a set of
pictures) first takes the folder's lock; a second process that asks for the
same folder meanwhile gets FolderBusy, a UserError (one line, exit status 2)
naming the folder and the process that holds it, and does no work.

The lock is `flock` on a file beside the folder, PARENT/.NAME.lock, which
records the holder's PID, host and start time for that message. The kernel
releases a flock when its process ends, however it ends, so a lock left by a
killed process never blocks the next run: the next run takes it. The holder
removes the file when it lets go (so finished runs leave nothing behind); a
run that takes a lock checks that the file it locked is still the one at the
path, so removing the file cannot let two processes hold the folder. Linux
honours flock across NFS clients (as byte-range locks); on a file system
that cannot lock at all, steps run unlocked after a warning.

Within one process the lock is re-entrant: a step that holds its folder may
take it again (the folder's staged write inside the step, the stages of one
pipeline). `hold_for_step` keeps a lock until the end of the pipeline step
that took it: the outermost `step()` scope (gin_registry.run_with_config
opens one per step), or, outside any step, until `end_unscoped` (the staged
write of that folder ends) or the process ends.
"""
import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket
import sys
import threading

from absl import logging

from dlib_torch.utils import errors
from dlib_torch.utils import write_errors


class FolderBusy(errors.UserError):
  """Another process is writing the folder."""


class _Lock:
  """An open, flocked lock file (fd None where the file system cannot lock); `count` is the
  number of holds of this process."""

  def __init__(self, fd, path, created_dirs):
    self.fd, self.path, self.created_dirs, self.count = fd, path, created_dirs, 0


_mutex = threading.RLock()
_held = {}  # lock file path -> _Lock
_scopes = []  # open step() scopes, outermost first: each a list of folders held for it
_unscoped = {}  # folder -> number of hold_for_step holds taken outside any step()


def lock_path(folder):
  """PARENT/.NAME.lock, PARENT resolved (symbolic links), for the folder PARENT/NAME."""
  folder = os.path.abspath(folder)
  parent, name = os.path.split(folder)
  return os.path.join(os.path.realpath(parent), "." + name + ".lock")


def acquire(folder):
  """Takes the folder's lock (again, if this process holds it); FolderBusy if another does."""
  path = lock_path(folder)
  with _mutex:
    lock = _held.get(path)
    if lock is None:
      lock = _held[path] = _take(folder, path)
    lock.count += 1


def release(folder):
  """Gives back one hold; the last one removes the lock file and unlocks."""
  path = lock_path(folder)
  with _mutex:
    lock = _held.get(path)
    if lock is None:
      return
    lock.count -= 1
    if lock.count > 0:
      return
    del _held[path]
    if lock.fd is not None:
      try:
        os.unlink(path)  # While still locked: nobody can have taken it meanwhile.
      except OSError:
        pass
      os.close(lock.fd)
    for directory in reversed(lock.created_dirs):
      try:
        os.rmdir(directory)  # Only if the step left it empty (it failed early).
      except OSError:
        break


def holds(folder):
  """Whether this process holds the folder's lock."""
  with _mutex:
    return lock_path(folder) in _held


@contextlib.contextmanager
def hold(folder):
  """Holds the folder's lock for the `with` block."""
  acquire(folder)
  try:
    yield
  finally:
    release(folder)


@contextlib.contextmanager
def step():
  """A pipeline step: locks taken with hold_for_step inside it are released at its end.

  Scopes nest; the holds belong to the outermost one (a pack of training runs
  keeps its members' folders until the pack is done).
  """
  with _mutex:
    outermost = not _scopes
    if outermost:
      _scopes.append([])
  try:
    yield
  finally:
    if outermost:
      with _mutex:
        folders = _scopes.pop()
      for folder in reversed(folders):
        release(folder)


def hold_for_step(folder):
  """Takes the folder's lock until the current step ends (see the module's docstring)."""
  acquire(folder)
  with _mutex:
    if _scopes:
      _scopes[0].append(folder)
    else:
      key = os.path.abspath(folder)
      _unscoped[key] = _unscoped.get(key, 0) + 1


def end_unscoped(folder):
  """Releases the holds hold_for_step took on the folder outside any step()."""
  with _mutex:
    count = _unscoped.pop(os.path.abspath(folder), 0)
  for _ in range(count):
    release(folder)


def _take(folder, path):
  """Opens and flocks the lock file; the _Lock, with count 0."""
  created_dirs = _make_parents(os.path.dirname(path))
  while True:
    try:
      fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
      _remove_dirs(created_dirs)
      raise write_errors.write_error(folder, e) if write_errors.is_write_error(e) else e
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = _read_holder(fd)
      os.close(fd)
      _remove_dirs(created_dirs)
      raise FolderBusy("{} is being written by {}; wait for it to end, or stop it and run "
                       "again.".format(os.path.abspath(folder), holder)) from None
    except OSError as e:
      if e.errno not in _NO_FLOCK:
        os.close(fd)
        raise
      # A file system without flock (Lustre mounted without -o flock, some FUSE ones):
      # writes stay atomic, but two processes on one folder are not kept apart.
      _warn_once(os.path.dirname(path), e)
      if os.fstat(fd).st_size == 0:
        os.unlink(path)
      os.close(fd)
      return _Lock(None, path, created_dirs)
    # The holder before us may have removed the file after we opened it: then we
    # hold a lock nobody else sees, and take the new file instead.
    try:
      same = _same_file(fd, path)
    except FileNotFoundError:
      same = False
    if same:
      break
    os.close(fd)
  _write_holder(fd)
  return _Lock(fd, path, created_dirs)


# flock's answers on a file system that does not support it.
_NO_FLOCK = (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)
_warned = set()


def _warn_once(directory, exc):
  if directory not in _warned:
    _warned.add(directory)
    logging.warning("The file system of %s does not lock files (%s): nothing stops two "
                    "processes from writing the same folder there.", directory, exc.strerror)


def _same_file(fd, path):
  opened, named = os.fstat(fd), os.stat(path)
  return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def _make_parents(directory):
  """Creates directory and its missing parents; those it created, outermost first."""
  missing = []
  while directory and not os.path.isdir(directory):
    missing.append(directory)
    parent = os.path.dirname(directory)
    if parent == directory:
      break
    directory = parent
  created = []
  for path in reversed(missing):
    try:
      os.mkdir(path)
      created.append(path)
    except FileExistsError:
      pass
    except OSError as e:
      _remove_dirs(created)
      raise write_errors.write_error(path, e) if write_errors.is_write_error(e) else e
  return created


def _remove_dirs(created):
  for directory in reversed(created):
    try:
      os.rmdir(directory)
    except OSError:
      break


def _write_holder(fd):
  record = {"pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(os.path.basename(a) if i == 0 else a
                                for i, a in enumerate(sys.argv))[:200]}
  try:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
  except OSError:
    pass  # Only the busy message of a second process would lack the holder's name.


def _read_holder(fd):
  try:
    record = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    return "process {} on {} (since {}: {})".format(record["pid"], record["host"],
                                                    record["since"], record["command"])
  except (OSError, ValueError, KeyError):
    return "another process"

