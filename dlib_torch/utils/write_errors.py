"""A write that fails for lack of space or permission: one line for the user, not a traceback.

A full disk (ENOSPC), an exhausted quota (EDQUOT), a folder the user may not
write (EACCES, EPERM) or a read-only file system (EROFS) are the machine's
state, not a bug: the user frees space or fixes the folder and runs again.
The write helpers (atomic_io, folder_lock) turn such an OSError into
WriteError, a UserError naming the path, after removing what they had
started; what was complete before (the last checkpoint, finished folders)
is untouched.
"""
import contextlib
import errno
import os

from dlib_torch.utils import errors

WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


class WriteError(errors.UserError):
  """A write failed for lack of space or of permission; nothing finished was replaced."""


def is_write_error(exc):
  """Whether exc is an OSError of WRITE_ERRNOS."""
  return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


def write_error(path, exc):
  """The one-line WriteError for the OSError `exc` met while writing `path`."""
  return WriteError("Cannot write {}: {} ({}); what was complete before is kept.".format(
      os.path.abspath(path), exc.strerror or exc, errno.errorcode.get(exc.errno, exc.errno)))


@contextlib.contextmanager
def translated(path):
  """Turns a write-errno OSError raised in the block into WriteError about `path`."""
  try:
    yield
  except OSError as e:
    if is_write_error(e):
      raise write_error(path, e) from e
    raise
