"""folder_lock: one writer per folder, re-entrant within a process, released when its holder
ends however it ends; step scopes."""
import errno
import fcntl
import os
import socket
import subprocess
import sys

import pytest

from dlib_torch import gin_registry
from dlib_torch.utils import folder_lock
from dlib_torch.utils import write_errors

_HOLD = """
import sys, time
from dlib_torch.utils import folder_lock
folder_lock.acquire(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def other_holder(tmp_path):
  """Starts a process that holds tmp_path/out; yields (folder, process)."""
  folder = str(tmp_path / "out")
  process = subprocess.Popen([sys.executable, "-c", _HOLD, folder], stdout=subprocess.PIPE,
                             text=True)
  assert process.stdout.readline().strip() == "held"
  yield folder, process
  process.kill()
  process.wait()


def test_a_folder_held_by_another_process_is_busy_naming_it(other_holder):
  folder, process = other_holder
  with pytest.raises(folder_lock.FolderBusy) as raised:
    folder_lock.acquire(folder)
  message = str(raised.value)
  assert message.startswith("{} is being written by process {} on {}".format(
      folder, process.pid, socket.gethostname()))
  assert not folder_lock.holds(folder)


def test_the_lock_of_a_killed_process_is_free(other_holder):
  folder, process = other_holder
  process.kill()
  process.wait()
  assert os.path.exists(folder_lock.lock_path(folder))  # Left behind, but not locked.
  with folder_lock.hold(folder):
    assert folder_lock.holds(folder)
  assert not os.path.exists(folder_lock.lock_path(folder))


def test_holds_are_reentrant_and_the_last_release_removes_the_lock_file(tmp_path):
  folder = str(tmp_path / "out")
  with folder_lock.hold(folder):
    with folder_lock.hold(folder):
      assert os.path.exists(folder_lock.lock_path(folder))
    assert folder_lock.holds(folder)
  assert not folder_lock.holds(folder)
  assert os.listdir(str(tmp_path)) == []


def test_parent_folders_made_for_the_lock_go_when_left_empty(tmp_path):
  folder = str(tmp_path / "a" / "b" / "out")
  with folder_lock.hold(folder):
    assert os.path.isdir(str(tmp_path / "a" / "b"))
  assert os.listdir(str(tmp_path)) == []
  with folder_lock.hold(folder):
    os.makedirs(folder)
  assert os.path.isdir(folder)


def test_step_holds_last_until_the_outermost_step_ends(tmp_path):
  first, second = str(tmp_path / "first"), str(tmp_path / "second")
  with folder_lock.step():
    with folder_lock.step():
      folder_lock.hold_for_step(first)
    assert folder_lock.holds(first)
    gin_registry.run_with_config("postprocess", [], [], folder_lock.hold_for_step, second)
    assert folder_lock.holds(second)
  assert not folder_lock.holds(first) and not folder_lock.holds(second)


def test_a_step_run_with_config_gives_its_folder_back_even_when_it_fails(tmp_path):
  folder = str(tmp_path / "out")

  def failing_step():
    folder_lock.hold_for_step(folder)
    raise ValueError("bad")

  with pytest.raises(ValueError):
    gin_registry.run_with_config("postprocess", [], [], failing_step)
  assert not folder_lock.holds(folder)


def test_holds_outside_a_step_end_with_end_unscoped(tmp_path):
  folder = str(tmp_path / "out")
  folder_lock.hold_for_step(folder)
  folder_lock.hold_for_step(folder)
  assert folder_lock.holds(folder)
  folder_lock.end_unscoped(folder)
  assert not folder_lock.holds(folder)


def test_an_unwritable_parent_is_a_write_error(tmp_path, monkeypatch):
  def refuse(*args, **kwargs):
    raise PermissionError(13, "Permission denied")

  monkeypatch.setattr(os, "open", refuse)
  with pytest.raises(write_errors.WriteError, match=r"Cannot write .*out: Permission denied "
                     r"\(EACCES\)"):
    folder_lock.acquire(str(tmp_path / "out"))


def test_a_file_system_without_flock_is_written_unlocked_with_a_warning(tmp_path, monkeypatch):
  def unsupported(*args):
    raise OSError(errno.ENOLCK, "No locks available")

  monkeypatch.setattr(fcntl, "flock", unsupported)
  folder = str(tmp_path / "out")
  with folder_lock.hold(folder):
    assert folder_lock.holds(folder)
  assert not folder_lock.holds(folder)
  assert os.listdir(str(tmp_path)) == []
