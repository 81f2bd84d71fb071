"""dreason end to end: the original's schedule, result keys and folders; bad input; learning."""
import json
import os

import pytest
import torch

from dlib_torch import gin_configs
from dlib_torch import gin_registry
from dlib_torch.evaluation.abstract_reasoning import reason
from dlib_torch.tests import commands
from dlib_torch.tests.evaluation.abstract_reasoning import frozen_representation
from dlib_torch.utils import errors

_CONFIGS = os.path.join(os.path.dirname(gin_configs.__file__), "tests", "abstract_reasoning")


def _results(output_dir):
  with open(os.path.join(output_dir, "results", "json", "abstract_reasoning_results.json")) as f:
    return json.load(f)


def _expected_keys(steps):
  keys = {"elapsed_time", "uuid", "device", "num_threads"}
  for prefix in ["step{}".format(s) for s in steps] + ["best"]:
    keys |= {"{}.{}.{}".format(prefix, split, name) for split in ("val", "test")
             for name in ("accuracy", "loss", "global_step")}
  return keys


@pytest.mark.slow
def test_dreason_quickstart_learns_and_writes_the_originals_results(tmp_path):
  output_dir = str(tmp_path / "reason")
  config = os.path.join(_CONFIGS, "quickstart.gin")
  done = commands.run("dreason", "--output_dir=" + output_dir, "--gin_config=" + config,
                      "--device=cpu")
  assert done.returncode == 0, done.stderr[-2000:]
  scores = _results(output_dir)
  # Two iterations of 125 steps: labelled by the steps before each, as the original.
  assert _expected_keys([0, 125]) <= set(scores)
  assert scores["step0.val.global_step"] == 125 and scores["step125.test.global_step"] == 250
  best = "step0" if scores["step0.val.accuracy"] >= scores["step125.val.accuracy"] else "step125"
  assert scores["best.test.accuracy"] == scores[best + ".test.accuracy"]
  # Learnt: chance is 1/6 and 128 test PGMs put chance's accuracy at 0.17 +- 0.03.
  assert scores["step125.test.accuracy"] > 0.3
  for name in ("gin/abstract_reasoning.gin", "json/abstract_reasoning_config.json",
               "aggregate/abstract_reasoning.json"):
    assert os.path.exists(os.path.join(output_dir, "results", name))
  # The original's rule: an existing output folder needs --overwrite.
  again = commands.run("dreason", "--output_dir=" + output_dir, "--gin_config=" + config)
  assert again.returncode == 2
  assert len(again.stderr.strip().splitlines()) == 1 and "overwrite" in again.stderr
  assert _results(output_dir)["uuid"] == scores["uuid"]


@pytest.mark.parametrize("config", ["quickstart.gin", "from_scratch/cnn_embedder.gin",
                                    "from_scratch/true_factor_values.gin"])
def test_configs_bind(config):
  gin_registry.check_config("evaluation", [os.path.join(_CONFIGS, config)])


def test_bad_pgm_type_is_a_user_error_and_writes_nothing(tmp_path):
  config = os.path.join(_CONFIGS, "from_scratch", "true_factors_onehot.gin")
  with pytest.raises(errors.UserError, match="pgm_type"):
    reason.reason_with_gin(None, str(tmp_path / "out"), gin_config_files=[config],
                           gin_bindings=["pgm.pgm_type = 'medium1'"])
  assert not os.path.exists(str(tmp_path / "out"))


def test_reason_on_a_frozen_representation_with_auto_data_set(tmp_path):
  input_dir, output_dir = str(tmp_path / "post"), str(tmp_path / "reason")
  frozen_representation.write_postprocessed_folder(input_dir)
  reason.reason_with_gin(input_dir, output_dir, gin_config_files=[
      os.path.join(_CONFIGS, "representation", "from_representation.gin")],
      gin_bindings=["dataset.name = 'auto'"], device="cpu")
  assert _expected_keys([0, 2]) <= set(_results(output_dir))
  # The input's results are carried along, as every step of the pipeline does.
  assert os.path.exists(os.path.join(output_dir, "results", "json", "postprocess_results.json"))
  state = torch.load(os.path.join(output_dir, "checkpoint", "model.pt"))
  # Frozen: the representation has no parameters to train, only WReN's are saved as trained.
  assert any(k.startswith("reasoning_model.") for k in state)
