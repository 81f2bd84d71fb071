"""Training features every method shares: resume after a kill, bf16 autocast, dtrain_weak."""
import json
import subprocess

import pytest

from dlib_torch.config import resources
from dlib_torch.methods.unsupervised import train
from dlib_torch.tests.methods import helpers
from dlib_torch.tests.methods import test_train_from_gin
from dlib_torch.utils import devices

CASES = test_train_from_gin.CASES


def _results(model_dir):
  with open(model_dir / "results" / "json" / "train_results.json") as f:
    results = json.load(f)
  return {k: v for k, v in results.items() if k not in ("elapsed_time", "uuid")}


@pytest.mark.parametrize("name", ["factor_vae", "mlvae_labels", "s2_factor_vae", "glancenet"])
def test_a_killed_run_resumes_to_the_same_results(tmp_path, name):
  config, bindings = CASES[name]
  bindings = bindings + ["model.training_steps = 6"]
  helpers.train_from_gin(tmp_path / "a", config, bindings)

  def kill_at_step_4(step):
    if step == 4:
      raise KeyboardInterrupt()

  with pytest.raises(KeyboardInterrupt):
    helpers.train_from_gin(tmp_path / "b", config, bindings, runtime=train.Runtime(
        checkpoint_every_steps=2, after_step=kill_at_step_4))
  helpers.train_from_gin(tmp_path / "b", config, bindings)
  assert _results(tmp_path / "b") == _results(tmp_path / "a")


@pytest.mark.parametrize("name", ["factor_vae", "group_vae_argmax", "s2_vae",
                                  "glancenet_terms"])
def test_bf16_autocast(tmp_path, name, monkeypatch):
  # On a CPU without native bf16 the commands refuse bf16 (too slow); its numbers are
  # tested all the same.
  monkeypatch.setenv(devices.CPU_BF16_ENVIRONMENT_VARIABLE, "1")
  config, bindings = CASES[name]
  helpers.train_from_gin(tmp_path / "model", config, bindings,
                         runtime=train.Runtime(device="cpu", precision="bf16"))
  results = _results(tmp_path / "model")
  assert results["precision"] == "bf16"
  assert all(v == v for v in results.values() if isinstance(v, float))  # No NaN.


# dtrain_semi is the same thin command over the same loop; one subprocess run suffices.
@pytest.mark.parametrize("command, config, short_evaluation", [
    ("dtrain_weak", test_train_from_gin.WEAK, "model.eval_steps = 2")])
def test_commands(tmp_path, command, config, short_evaluation):
  run = subprocess.run(
      [command, "--model_dir", str(tmp_path / "m"),
       "--gin_config", resources.config_path(config), "--gin_bindings", short_evaluation],
      capture_output=True, text=True, timeout=300, check=False)
  assert run.returncode == 0, run.stderr[-2000:]
  assert (tmp_path / "m" / "results" / "aggregate" / "train.json").exists()
  assert (tmp_path / "m" / "visualizations" / "weak" / "animation.gif").exists()
  missing = subprocess.run(
      [command, "--model_dir", str(tmp_path / "n"),
       "--gin_config", str(tmp_path / "missing.gin")], capture_output=True, text=True,
      timeout=300, check=False)
  assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
