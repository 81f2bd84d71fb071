"""atomic_io: atomic files and staged folders, what killed runs leave behind, and writes that
fail for lack of space or permission."""
import errno
import os

import pytest

from dlib_torch.utils import atomic_io
from dlib_torch.utils import folder_lock
from dlib_torch.utils import write_errors


def test_the_next_writer_removes_what_a_killed_one_left(tmp_path):
  model = tmp_path / "model"
  leftovers = [tmp_path / ".model.partial-abcd1234", tmp_path / ".model.old-0123abcd",
               model / ".results.partial-x1y2z3w4", model / "checkpoint" /
               ".checkpoint.pt.k2j4h6g8.tmp"]
  kept = [model / "checkpoint" / "checkpoint.pt", tmp_path / ".other.partial-abcd1234",
          model / "notes.tmp"]
  for path in leftovers + kept:
    os.makedirs(str(path.parent), exist_ok=True)
    if "partial" in path.name or "old-" in path.name:
      os.makedirs(str(path))
    else:
      path.write_text("x")
  atomic_io.claim_folder(str(model))
  folder_lock.end_unscoped(str(model))
  assert not [p for p in leftovers if os.path.exists(str(p))]
  assert all(os.path.exists(str(p)) for p in kept)


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                                    errno.EROFS])
def test_a_write_without_space_or_permission_is_one_line_and_keeps_the_old_file(
    tmp_path, number):
  path = str(tmp_path / "checkpoint.pt")
  atomic_io.write_bytes(path, b"good")

  def fail(tmp):
    with open(tmp, "wb") as f:
      f.write(b"ha")
    raise OSError(number, os.strerror(number))

  with pytest.raises(write_errors.WriteError) as raised:
    atomic_io.write_with(path, fail)
  assert str(raised.value).startswith("Cannot write {}: {} ({})".format(
      path, os.strerror(number), errno.errorcode[number]))
  assert os.listdir(str(tmp_path)) == ["checkpoint.pt"]
  with open(path, "rb") as f:
    assert f.read() == b"good"


def test_a_failed_write_in_a_staged_folder_names_the_final_path(tmp_path):
  target = str(tmp_path / "mig")

  def full(tmp):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

  with pytest.raises(write_errors.WriteError) as raised:
    with atomic_io.staged_directory(target) as staging:
      atomic_io.write_with(os.path.join(staging, "results", "x.json"), full)
  assert str(raised.value).startswith("Cannot write {}: No space left on device".format(
      os.path.join(target, "results", "x.json")))
  assert os.listdir(str(tmp_path)) == []


def test_replacing_a_folder_keeps_the_old_one_until_the_new_one_is_complete(tmp_path):
  target = tmp_path / "mig"
  os.makedirs(str(target))
  (target / "old.txt").write_text("old")
  with pytest.raises(KeyboardInterrupt):
    with atomic_io.staged_directory(str(target)) as staging:
      atomic_io.write_text(os.path.join(staging, "new.txt"), "new")
      raise KeyboardInterrupt()
  assert os.listdir(str(target)) == ["old.txt"]
  with atomic_io.staged_directory(str(target)) as staging:
    atomic_io.write_text(os.path.join(staging, "new.txt"), "new")
  assert os.listdir(str(target)) == ["new.txt"]
  assert os.listdir(str(tmp_path)) == ["mig"]
  assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o777 & ~_umask())
  assert oct(os.stat(str(target / "new.txt")).st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask
