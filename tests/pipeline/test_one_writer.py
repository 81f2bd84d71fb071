"""One writer per folder: of two real processes on the same model, postprocessing or metric
folder, one does the work and the other ends with one line (exit 2) naming the folder and the
process holding it; a lock left by a killed process does not block the next run."""
import glob
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from dlib_torch.config import resources
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers

pytestmark = pytest.mark.slow

POST_GIN = "tests/postprocessing/postprocess_test_configs/mean.gin"
EVAL_GIN = "tests/evaluation/evaluate_test_configs/mig.gin"


def _lock_path(folder):
  parent, name = os.path.split(os.path.abspath(folder))
  return os.path.join(parent, "." + name + ".lock")


def _holder(lock_path):
  try:
    with open(lock_path) as f:
      return json.loads(f.read() or "{}").get("pid")
  except (OSError, ValueError):
    return None


def _start_and_stop_while_holding(root, name, args, folder):
  """Starts the command and freezes it (SIGSTOP) once it holds folder's lock."""
  log = open(os.path.join(root, "{}-{}.log".format(name, time.time())), "w")
  process = subprocess.Popen([commands.command_path(name)] + list(args), stdout=log,
                             stderr=subprocess.STDOUT)
  log.close()
  while _holder(_lock_path(folder)) != process.pid:
    assert process.poll() is None, "{} ended before it took {}".format(name, folder)
    time.sleep(0.002)
  process.send_signal(signal.SIGSTOP)
  return process


def _assert_busy(completed, folder, holder):
  assert completed.returncode == 2, completed.stderr
  assert "Traceback" not in completed.stderr
  line = completed.stderr.strip().splitlines()[-1]
  assert line.startswith("Error: {} is being written by process {} on {}".format(
      os.path.abspath(folder), holder.pid, socket.gethostname())), line


def _resume(process):
  process.send_signal(signal.SIGCONT)
  assert process.wait(timeout=600) == 0


def _files(folder):
  return sorted(os.path.relpath(p, folder)
                for p in glob.glob(os.path.join(folder, "**"), recursive=True))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A trained model and its mean representation."""
  return helpers.train_and_postprocess(str(tmp_path_factory.mktemp("trained")))


def test_second_dtrain_on_a_model_folder_ends_at_once(trained, tmp_path):
  model = str(tmp_path / "model")
  args = ["--model_dir=" + model, "--gin_config=" + trained["gin"]]
  first = _start_and_stop_while_holding(str(tmp_path), "dtrain", args, model)
  before = _files(model)
  second = commands.run("dtrain", *args)
  _assert_busy(second, model, first)
  assert _files(model) == before  # The second wrote nothing.
  _resume(first)
  assert os.path.isfile(os.path.join(model, "results", "aggregate", "train.json"))
  # One run's summaries only: TensorBoard names its event files after the writing process.
  events = glob.glob(os.path.join(model, "checkpoint", "**", "events.*"), recursive=True)
  assert events and all(".{}.".format(first.pid) in e for e in events), events
  assert not os.path.exists(_lock_path(model))


def _second_ends_at_once(tmp_path, name, args, folder, step):
  """A second `name` on the folder the first holds ends at once; the first then finishes."""
  first = _start_and_stop_while_holding(str(tmp_path), name, args, folder)
  _assert_busy(commands.run(name, *args), folder, first)
  _resume(first)
  assert os.path.isfile(os.path.join(folder, "results", "aggregate", step + ".json"))
  assert [n for n in os.listdir(str(tmp_path)) if n.startswith(".")] == []


def test_second_dpostprocess_on_a_postprocessing_folder_ends_at_once(trained, tmp_path):
  post = str(tmp_path / "post")
  _second_ends_at_once(tmp_path, "dpostprocess", [
      "--model_dir=" + trained["model"], "--output_dir=" + post,
      "--gin_config=" + resources.config_path(POST_GIN)], post, "postprocess")


def test_second_devaluate_on_a_metric_folder_ends_at_once(trained, tmp_path):
  metric = str(tmp_path / "mig")
  _second_ends_at_once(tmp_path, "devaluate", [
      "--input_dir=" + trained["post"], "--output_dir=" + metric,
      "--gin_config=" + resources.config_path(EVAL_GIN), "--overwrite"], metric, "evaluation")


def test_second_dreproduce_on_a_model_ends_at_once(tmp_path):
  out = str(tmp_path / "out")
  args = ["--study=test", "--metrics=mig", "--output_directory=" + out,
          "--gin_bindings=model.eval_steps = 3", "--gin_bindings=encoder.num_latent = 2"]
  first = _start_and_stop_while_holding(str(tmp_path), "dreproduce", args,
                                        os.path.join(out, "model"))
  second = commands.run("dreproduce", *args)
  _assert_busy(second, os.path.join(out, "model"), first)
  first.kill()
  first.wait()


def test_a_lock_left_by_a_killed_process_does_not_block(trained, tmp_path):
  metric = str(tmp_path / "mig")
  args = ["--input_dir=" + trained["post"], "--output_dir=" + metric,
          "--gin_config=" + resources.config_path(EVAL_GIN)]
  first = _start_and_stop_while_holding(str(tmp_path), "devaluate", args, metric)
  first.kill()
  first.wait()
  assert _holder(_lock_path(metric)) == first.pid  # The killed process's lock file is left.
  completed = commands.run("devaluate", *args)
  assert completed.returncode == 0, completed.stderr
  assert os.path.isfile(os.path.join(metric, "results", "aggregate", "evaluation.json"))
  assert [n for n in os.listdir(str(tmp_path)) if n.startswith(".")] == []
