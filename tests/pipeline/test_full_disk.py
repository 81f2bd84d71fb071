"""Full disks and read-only folders: a failed write of a checkpoint, a TorchScript file or
results ends with one line (exit 2) naming the path, removes what it had started, and leaves
the last good checkpoint and every finished folder as they were.

The tests make a small file system of their own: a size-limited tmpfs (mounting needs root or
CAP_SYS_ADMIN; where that fails they are skipped with the reason).
"""
import filecmp
import json
import os
import re
import shutil
import subprocess

import pytest
import torch

from dlib_torch.config import resources
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:torch.jit")]

TRAIN_ARGS = ["--gin_bindings=model.training_steps = 12", "--checkpoint_every=3"]
POST_GIN = "tests/postprocessing/postprocess_test_configs/mean.gin"
EVAL_GIN = "tests/evaluation/evaluate_test_configs/mig.gin"
LEFTOVER = re.compile(r"^\..+(\.lock|\.tmp|\.partial-\w+|\.old-\w+)$")


def _mount(args, target):
  completed = subprocess.run(["mount"] + args + [target], capture_output=True, text=True,
                             check=False)
  return completed.returncode == 0, (completed.stderr or completed.stdout).strip()


@pytest.fixture
def small_fs(tmp_path):
  """A 4 MiB tmpfs at tmp_path/fs, unmounted afterwards."""
  target = str(tmp_path / "fs")
  os.makedirs(target)
  if shutil.which("mount") is None:
    pytest.skip("no mount command to make a small file system")
  ok, message = _mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs"], target)
  if not ok:
    pytest.skip("cannot mount a small tmpfs (needs root or CAP_SYS_ADMIN): " + message)
  try:
    yield target
  finally:
    subprocess.run(["umount", target], check=False, capture_output=True)
    if os.path.ismount(target):
      subprocess.run(["umount", "-l", target], check=False, capture_output=True)


def _fill(fs, leave_bytes):
  """Fills the file system up to leave_bytes of free space with a new file; its path."""
  stats = os.statvfs(fs)
  free = stats.f_bavail * stats.f_frsize
  path = os.path.join(fs, "filler{}".format(len(os.listdir(fs))))
  with open(path, "wb") as f:
    f.write(b"\0" * max(0, free - leave_bytes))
  return path


def _read_only(fs):
  ok, message = _mount(["-o", "remount,ro"], fs)
  assert ok, message


def _assert_write_error(completed, path, what):
  assert completed.returncode == 2, completed.stderr
  assert "Traceback" not in completed.stderr, completed.stderr
  line = completed.stderr.strip().splitlines()[-1]
  assert line.startswith("Error: Cannot write " + path), line
  assert what in line, line


def _assert_no_leftovers(root):
  left = [os.path.join(folder, name) for folder, dirs, files in os.walk(root)
          for name in dirs + files if LEFTOVER.match(name)]
  assert not left, left


def _results(step_dir, step):
  with open(os.path.join(step_dir, "results", "json", step + "_results.json")) as f:
    return {k: v for k, v in json.load(f).items() if k not in ("elapsed_time", "uuid")}


def _same_folders(a, b):
  comparison = filecmp.dircmp(a, b)
  assert not (comparison.left_only or comparison.right_only or comparison.diff_files), a
  for sub in comparison.common_dirs:
    _same_folders(os.path.join(a, sub), os.path.join(b, sub))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """A model trained and postprocessed on a roomy disk."""
  return helpers.train_and_postprocess(str(tmp_path_factory.mktemp("reference")), *TRAIN_ARGS)


def test_a_full_disk_while_checkpointing_keeps_the_last_good_checkpoint(reference, small_fs):
  model = os.path.join(small_fs, "model")
  checkpoint = os.path.join(model, "checkpoint", "checkpoint.pt")
  size = os.path.getsize(os.path.join(reference["model"], "checkpoint", "checkpoint.pt"))
  # Room for one checkpoint, not for the next one beside it.
  filler = _fill(small_fs, size + size // 2)
  args = ["--model_dir=" + model, "--gin_config=" + reference["gin"]] + TRAIN_ARGS
  _assert_write_error(commands.run("dtrain", *args), checkpoint, "No space left on device")
  assert torch.load(checkpoint, weights_only=False)["global_step"] == 3
  assert not os.path.exists(os.path.join(model, "results"))
  _assert_no_leftovers(small_fs)
  # With space again, the run resumes from that checkpoint to the uninterrupted run's end.
  os.remove(filler)
  completed = commands.run("dtrain", *args)
  assert completed.returncode == 0, completed.stderr
  assert "Resuming training at step 3" in completed.stderr
  assert _results(model, "train") == _results(reference["model"], "train")
  _assert_no_leftovers(small_fs)


def test_a_full_disk_while_writing_torchscript_or_results_keeps_finished_folders(
    reference, small_fs):
  model, post = os.path.join(small_fs, "model"), os.path.join(small_fs, "post")
  metric = os.path.join(small_fs, "mig")
  shutil.copytree(reference["model"], model)
  shutil.copytree(reference["post"], post)
  evaluate = ["--input_dir=" + post, "--output_dir=" + metric,
              "--gin_config=" + resources.config_path(EVAL_GIN), "--overwrite"]
  completed = commands.run("devaluate", *evaluate)
  assert completed.returncode == 0, completed.stderr
  finished = os.path.join(small_fs, "..", "finished_mig")
  shutil.copytree(metric, finished)
  _fill(small_fs, 16 * 1024)
  # TorchScript: the representation does not fit.
  new_post = os.path.join(small_fs, "post2")
  _assert_write_error(
      commands.run("dpostprocess", "--model_dir=" + model, "--output_dir=" + new_post,
                   "--gin_config=" + resources.config_path(POST_GIN)),
      os.path.join(new_post, "torchscript", "representation.pt"), "No space left on device")
  assert not os.path.exists(new_post)
  # Results: replacing the finished metric folder fails and keeps it.
  _fill(small_fs, 0)
  _assert_write_error(commands.run("devaluate", *evaluate), metric, "(ENOSPC)")
  _same_folders(metric, finished)
  _same_folders(model, reference["model"])
  _same_folders(post, reference["post"])
  _assert_no_leftovers(small_fs)


def test_a_read_only_file_system_ends_with_one_line(reference, small_fs):
  unfinished, model = os.path.join(small_fs, "unfinished"), os.path.join(small_fs, "model")
  shutil.copytree(reference["model"], model)
  os.makedirs(os.path.join(unfinished, "checkpoint"))
  shutil.copy(os.path.join(reference["model"], "checkpoint", "checkpoint.pt"),
              os.path.join(unfinished, "checkpoint"))
  _read_only(small_fs)
  _assert_write_error(
      commands.run("dtrain", "--model_dir=" + unfinished, "--gin_config=" + reference["gin"],
                   *TRAIN_ARGS), unfinished, "Read-only file system (EROFS)")
  post = os.path.join(small_fs, "post")
  _assert_write_error(
      commands.run("dpostprocess", "--model_dir=" + model, "--output_dir=" + post,
                   "--gin_config=" + resources.config_path(POST_GIN)),
      post, "Read-only file system (EROFS)")
  assert not os.path.exists(post)
  _same_folders(model, reference["model"])
