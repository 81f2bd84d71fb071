"""--device on every command that runs a model, recorded in its results; --precision=bf16's
refusal on a CPU without native bf16. Through the installed commands."""
import json
import os

import pytest
import torch

from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import devices

UDR_GIN = """
evaluation.evaluation_fn = @udr_sklearn
dataset.name = "auto"
evaluation.random_seed = 0
udr_sklearn.batch_size = 10
udr_sklearn.num_data_points = 100
udr_sklearn.correlation_matrix = "lasso"
udr_sklearn.filter_low_kl = True
udr_sklearn.include_raw_correlations = False
udr_sklearn.kl_filter_threshold = 0.01
"""

def _without_native_bf16():
  return dict(os.environ, **{devices.CPU_BF16_ENVIRONMENT_VARIABLE: "0"})


def _assert_one_line_error(completed, fragment):
  assert completed.returncode == 2, completed.stderr
  lines = completed.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], (
      completed.stderr)


def _results(directory, step):
  with open(os.path.join(directory, "results", "json", step + "_results.json")) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("devices")
  texts = {"train": helpers.FAST_TRAIN_GIN, "mean": helpers.MEAN_GIN, "mig": helpers.MIG_GIN,
           "udr": UDR_GIN}
  paths = {name: helpers.write_gin(str(root), name + ".gin", text)
           for name, text in texts.items()}
  paths["root"], paths["model"] = root, str(root / "model")
  completed = commands.run("dtrain", "--model_dir=" + paths["model"],
                           "--gin_config=" + paths["train"], "--device=cpu",
                           "--gin_bindings=model.training_steps = 3")
  assert completed.returncode == 0, completed.stderr
  paths["post"] = str(root / "post")
  completed = commands.run("dpostprocess", "--model_dir=" + paths["model"],
                           "--output_dir=" + paths["post"], "--gin_config=" + paths["mean"],
                           "--device=cpu")
  assert completed.returncode == 0, completed.stderr
  return paths


def _command(name, paths, out):
  """The command line of `name` on the trained model, writing into `out`."""
  return {
      "dpostprocess": ["--model_dir=" + paths["model"], "--output_dir=" + out,
                       "--gin_config=" + paths["mean"]],
      "devaluate": ["--input_dir=" + paths["post"], "--output_dir=" + out,
                    "--gin_config=" + paths["mig"]],
      "dvisualize": ["--model_dir=" + paths["model"], "--output_dir=" + out],
      "dudr": ["--model_dirs={0},{0}".format(paths["model"]), "--output_dir=" + out,
               "--gin_config=" + paths["udr"]],
  }[name]


_STEPS = {"dpostprocess": "postprocess", "devaluate": "evaluation", "dvisualize": "visualize",
          "dudr": "evaluation"}


@pytest.mark.parametrize("name", sorted(_STEPS))
@pytest.mark.parametrize("device, expected", [("cpu", "cpu")] + (
    [("auto", "cuda:0")] if torch.cuda.is_available() else []))
def test_each_command_runs_on_its_device_and_records_it(trained, tmp_path, name, device,
                                                        expected):
  out = str(tmp_path / "out")
  # One torch thread, as the launcher gives a job its share of the cores; recorded.
  completed = commands.run(name, *_command(name, trained, out), "--device=" + device,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
  assert completed.returncode == 0, completed.stderr
  results = _results(out, _STEPS[name])
  assert results["device"] == expected
  assert results["num_threads"] == 1
  assert "elapsed_time" in results


def test_training_records_its_device(trained):
  assert _results(trained["model"], "train")["device"] == "cpu"


@pytest.mark.parametrize("name, device, message", [
    (name, "cuda:7", "Device 'cuda:7' requested but") for name in sorted(_STEPS)] + [
        ("devaluate", "no_such_device", "Unknown device")])
def test_an_unusable_device_is_one_line(trained, tmp_path, name, device, message):
  if torch.cuda.device_count() > 7:
    pytest.skip("this machine has a GPU 7")
  out = str(tmp_path / "out")
  completed = commands.run(name, *_command(name, trained, out), "--device=" + device)
  _assert_one_line_error(completed, message)
  assert not os.path.exists(out)


def test_the_local_launcher_refuses_a_device_that_is_not_here(tmp_path):
  if torch.cuda.device_count() > 7:
    pytest.skip("this machine has a GPU 7")
  completed = commands.run("dreproduce", "--study=test", "--model_nums=0-1", "--device=cuda:7",
                           "--output_directory=" + str(tmp_path / "{model_num}"))
  _assert_one_line_error(completed, "Device 'cuda:7' requested but")
  assert not os.listdir(tmp_path)


def test_bf16_on_a_cpu_without_native_bf16_is_refused(trained, tmp_path):
  model_dir = str(tmp_path / "model")
  completed = commands.run("dtrain", "--model_dir=" + model_dir, "--gin_config=" +
                           trained["train"], "--device=cpu", "--precision=bf16",
                           env=_without_native_bf16())
  _assert_one_line_error(completed, "--precision=bf16 needs a CPU with native bf16")
  assert "0.1x the float32 step" in completed.stderr
  assert not os.path.exists(model_dir)


def test_bf16_refusal_comes_before_any_job_is_launched(tmp_path):
  pattern = str(tmp_path / "{model_num}")
  completed = commands.run("dreproduce", "--study=test", "--model_nums=0-1", "--device=cpu",
                           "--precision=bf16", "--output_directory=" + pattern,
                           env=_without_native_bf16())
  _assert_one_line_error(completed, "native bf16")
  assert not os.listdir(tmp_path)


def test_bf16_with_native_bf16_trains(trained, tmp_path):
  model_dir = str(tmp_path / "model")
  completed = commands.run("dtrain", "--model_dir=" + model_dir, "--gin_config=" +
                           trained["train"], "--device=cpu", "--precision=bf16",
                           "--gin_bindings=model.training_steps = 2",
                           env=dict(os.environ, **{devices.CPU_BF16_ENVIRONMENT_VARIABLE: "1"}))
  assert completed.returncode == 0, completed.stderr
  assert _results(model_dir, "train")["precision"] == "bf16"
