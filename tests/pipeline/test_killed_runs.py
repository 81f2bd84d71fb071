"""Real kills: dtrain, dpostprocess, devaluate and dreproduce killed with SIGKILL at random
moments, then started again, end with an uninterrupted run's results; a killed run never
leaves a half-written file in sight, and the next run removes what it left behind."""
import glob
import json
import os
import random
import re
import signal
import subprocess
import time

import numpy as np
import pytest
import torch

from dlib_torch.config import resources
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:torch.jit")]

# The kill moments are drawn from this seed: uniform over the work of the command (from
# the moment it takes its first output folder to its end in the uninterrupted run).
SEED = 20240613
KILLS = 3

TRAIN_ARGS = ["--gin_bindings=model.training_steps = 30", "--checkpoint_every=1"]
# Results that differ between two identical runs.
VOLATILE_KEYS = ("elapsed_time", "uuid")
LEFTOVER = re.compile(r"^\..+(\.lock|\.tmp|\.partial-\w+|\.old-\w+)$")


def _holds_a_lock(root, pid):
  """Whether process pid holds a folder lock under root (the lock file names its holder)."""
  for path in glob.glob(os.path.join(root, "**", ".*.lock"), recursive=True):
    try:
      with open(path) as f:
        if json.loads(f.read() or "{}").get("pid") == pid:
          return True
    except (OSError, ValueError):
      pass
  return False


def _start(root, name, args):
  log = open(os.path.join(root, "{}-{}.log".format(name, time.time())), "w")
  process = subprocess.Popen([commands.command_path(name)] + list(args),
                             stdout=log, stderr=subprocess.STDOUT)
  log.close()
  return process


def _wait_for_work(process, root):
  """Waits until the process takes an output folder (its lock file appears) or ends; when."""
  while process.poll() is None and not _holds_a_lock(root, process.pid):
    time.sleep(0.005)
  return time.monotonic()


def _timed_run(root, name, args):
  """Runs the command uninterrupted; the seconds of its work."""
  process = _start(root, name, args)
  started = _wait_for_work(process, root)
  assert process.wait(timeout=600) == 0, name
  return time.monotonic() - started


def _killed_run(root, name, args, delay):
  """Starts the command and SIGKILLs it `delay` seconds into its work; whether it was killed."""
  process = _start(root, name, args)
  _wait_for_work(process, root)
  try:
    process.wait(timeout=delay)
    return False
  except subprocess.TimeoutExpired:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return True


def _run_with_kills(rng, root, name, args, work_seconds, finished):
  """Kills the command KILLS times at random moments, checking what is in sight after each,
  then runs it to its end; the number of runs that were killed."""
  killed = 0
  for _ in range(KILLS):
    if finished():
      break
    killed += _killed_run(root, name, args, rng.uniform(0.0, work_seconds))
    _assert_nothing_half_written(root)
  if not finished():
    completed = commands.run(name, *args)
    assert completed.returncode == 0, completed.stderr
  return killed


def _assert_nothing_half_written(root):
  """Every file in sight (not a dot-file) is whole: JSON parses, torch files load, and
  a step folder with results/ has every results file."""
  for folder, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in files:
      path = os.path.join(folder, name)
      if name.startswith(".") or name.endswith(".log"):
        continue
      if name.endswith(".json"):
        with open(path) as f:
          json.load(f)
      elif name == "checkpoint.pt":
        torch.load(path, weights_only=False)
      elif name.endswith(".pt"):
        torch.jit.load(path)
    if os.path.basename(folder) == "results":
      steps = [n[:-len(".json")] for n in os.listdir(os.path.join(folder, "aggregate"))]
      assert steps, folder
      for step in steps:
        for part in ("gin/{}.gin", "json/{}_config.json", "json/{}_results.json"):
          assert os.path.isfile(os.path.join(folder, part.format(step))), (folder, part)


def _assert_no_leftovers(root):
  left = [os.path.join(folder, name) for folder, dirs, files in os.walk(root)
          for name in dirs + files if LEFTOVER.match(name)]
  assert not left, left


def _results(step_dir):
  """{relative path: results dict without the volatile keys} of the step folders under
  step_dir (itself included)."""
  found = {}
  for path in glob.glob(os.path.join(step_dir, "**", "results", "json", "*_results.json"),
                        recursive=True):
    with open(path) as f:
      values = json.load(f)
    found[os.path.relpath(path, step_dir)] = {k: v for k, v in values.items()
                                              if k not in VOLATILE_KEYS}
  assert found, step_dir
  return found


def _same_checkpoint(model_a, model_b):
  a, b = (torch.load(os.path.join(m, "checkpoint", "checkpoint.pt"), weights_only=False)
          for m in (model_a, model_b))
  assert a["global_step"] == b["global_step"]
  assert a["model"].keys() == b["model"].keys()
  for key in a["model"]:
    assert torch.equal(a["model"][key], b["model"][key]), key


def _representation(post_dir):
  module = torch.jit.load(os.path.join(post_dir, "torchscript", "representation.pt"))
  images = torch.from_numpy(np.random.RandomState(0).rand(8, 64, 64, 1).astype(np.float32))
  torch.manual_seed(0)  # The sampled representation draws its noise from torch's generator.
  return module(images).detach().numpy()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """The uninterrupted dtrain -> dpostprocess -> devaluate, and the seconds of their work."""
  root = str(tmp_path_factory.mktemp("reference"))
  gin = helpers.write_gin(root, "train.gin", helpers.FAST_TRAIN_GIN)
  paths = {"root": root, "gin": gin, "model": os.path.join(root, "model"),
           "post": os.path.join(root, "post"), "eval": os.path.join(root, "eval")}
  paths["train_args"] = ["--model_dir=" + paths["model"], "--gin_config=" + gin] + TRAIN_ARGS
  seconds = {"train": _timed_run(root, "dtrain", paths["train_args"]),
             "postprocess": _timed_run(root, "dpostprocess", _post_args(paths, paths["post"])),
             "evaluate": _timed_run(root, "devaluate", _eval_args(paths, paths["eval"]))}
  paths["seconds"] = seconds
  return paths


def _post_args(reference, output_dir):
  return ["--model_dir=" + reference["model"], "--output_dir=" + output_dir, "--gin_config=" +
          resources.config_path("tests/postprocessing/postprocess_test_configs/sampled.gin")]


def _eval_args(reference, output_dir):
  return ["--input_dir=" + reference["post"], "--output_dir=" + output_dir, "--gin_config=" +
          resources.config_path("tests/evaluation/evaluate_test_configs/dci.gin")]


def test_killed_dtrain_resumes_to_the_uninterrupted_model(reference, tmp_path):
  root = str(tmp_path)
  model = os.path.join(root, "model")
  args = ["--model_dir=" + model, "--gin_config=" + reference["gin"]] + TRAIN_ARGS
  rng = random.Random(SEED)
  killed = _run_with_kills(rng, root, "dtrain", args, reference["seconds"]["train"],
                           lambda: os.path.isdir(os.path.join(model, "results")))
  assert killed >= 1
  assert _results(model) == _results(reference["model"])
  _same_checkpoint(model, reference["model"])
  _assert_nothing_half_written(root)
  _assert_no_leftovers(root)


def test_killed_dpostprocess_and_devaluate_end_as_uninterrupted_runs(reference, tmp_path):
  root = str(tmp_path)
  post, evaluation = os.path.join(root, "post"), os.path.join(root, "eval")
  rng = random.Random(SEED + 1)
  _run_with_kills(rng, root, "dpostprocess", _post_args(reference, post),
                  reference["seconds"]["postprocess"], lambda: os.path.isdir(post))
  _run_with_kills(rng, root, "devaluate", _eval_args(reference, evaluation),
                  reference["seconds"]["evaluate"], lambda: os.path.isdir(evaluation))
  assert _results(post) == _results(reference["post"])
  np.testing.assert_array_equal(_representation(post), _representation(reference["post"]))
  assert _results(evaluation) == _results(reference["eval"])
  _assert_nothing_half_written(root)
  _assert_no_leftovers(root)


REPRODUCE_ARGS = ["--study=test", "--metrics=dci,mig", "--gin_bindings=model.training_steps = 20",
                  "--gin_bindings=model.eval_steps = 3", "--gin_bindings=encoder.num_latent = 3",
                  "--checkpoint_every=1"]


@pytest.mark.slow
def test_killed_dreproduce_resumes_to_the_uninterrupted_results(tmp_path):
  reference_out, out = str(tmp_path / "reference"), str(tmp_path / "killed")
  os.makedirs(reference_out)
  os.makedirs(out)
  seconds = _timed_run(reference_out, "dreproduce",
                       REPRODUCE_ARGS + ["--output_directory=" + reference_out])
  rng = random.Random(SEED + 2)
  args = REPRODUCE_ARGS + ["--output_directory=" + out]
  killed = 0
  for _ in range(KILLS):
    killed += _killed_run(out, "dreproduce", args, rng.uniform(0.0, seconds))
    _assert_nothing_half_written(out)
  completed = commands.run("dreproduce", *args)
  assert completed.returncode == 0, completed.stderr
  assert killed >= 1
  assert _results(out) == _results(reference_out)
  _assert_nothing_half_written(out)
  _assert_no_leftovers(out)
