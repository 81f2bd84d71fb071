"""dreproduce_jmlr: the original's flags, seed draws and folder names, end to end."""
import functools
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from dlib_torch.config import resources
from dlib_torch.pipeline import jmlr
from dlib_torch.tests import commands
from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_model

MODEL = resources.config_path("tests/methods/unsupervised/train_test.gin")
MEAN = resources.config_path("tests/postprocessing/postprocess_test_configs/mean.gin")
EVAL_DIR = "tests/evaluation/evaluate_test_configs/"


def _config(step_dir, step):
  with open(os.path.join(step_dir, "results", "json", step + "_config.json")) as f:
    return json.load(f)


def _draws(seed, n):
  random_state = np.random.RandomState(seed)
  return [str(random_state.randint(2**32)) for _ in range(n)]


@pytest.mark.slow
def test_dreproduce_jmlr_seeds_names_and_aggregate(tmp_path, monkeypatch):
  metrics = tmp_path / "metric_configs"
  metrics.mkdir()
  for name in ("mig.gin", "sap_score.gin"):
    shutil.copy(resources.config_path(EVAL_DIR + name), str(metrics))
  out = str(tmp_path / "run")
  done = commands.run(
      "dreproduce_jmlr", "--output_directory=" + out,
      "--gin_model_config_dir=" + os.path.dirname(MODEL), "--gin_model_config_name=train_test.gin",
      "--gin_postprocess_config_glob=" + MEAN,
      "--gin_evaluation_config_glob=" + str(metrics / "*.gin"), "--num_eval=2",
      "--scores_list=mig", "--evaluation_num_samples_train=50",
      "--evaluation_num_samples_train=100", "--random_seed=3", "--device=cpu")
  assert done.returncode == 0, done.stderr[-2000:]
  # Draws: the model, the representation, then mig at each size in each iteration; sap_score
  # keeps its gin file's seed.
  seeds = _draws(3, 6)
  train_config = _config(os.path.join(out, "model"), "train")
  assert train_config["model.random_seed"] == seeds[0]
  assert train_config["model.name"] == "'train_test'"
  assert _config(os.path.join(out, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == seeds[1]
  expected = {"mig_50_0": (seeds[2], "50"), "mig_100_0": (seeds[3], "100"),
              "sap_score_0": ("0", None), "mig_50_1": (seeds[4], "50"),
              "mig_100_1": (seeds[5], "100"), "sap_score_1": ("0", None)}
  assert sorted(os.listdir(os.path.join(out, "metrics", "mean"))) == sorted(expected)
  for name, (seed, num_train) in expected.items():
    config = _config(os.path.join(out, "metrics", "mean", name), "evaluation")
    assert config["evaluation.random_seed"] == seed
    assert config["evaluation.name"] == "'{}'".format(name)
    if num_train:
      assert config["mig.num_train"] == num_train
  rows = pd.read_json(os.path.join(out, "metrics", "aggregated_results.json"))
  assert sorted(rows["evaluation_config.evaluation.name"]) == sorted(
      "'{}'".format(name) for name in expected)
  assert "Aggregated results" in done.stdout

  # Training skipped: its seed is drawn all the same, so the representation's is unchanged.
  monkeypatch.setattr(visualize_model, "visualize", functools.partial(
      visualize_model.visualize, num_animations=1, num_frames=2))
  monkeypatch.setattr(plotting, "available", lambda: False)
  again = str(tmp_path / "again")
  jmlr.reproduce_jmlr(again, None, [MEAN], [], model_dir=out, random_seed=3)
  assert not os.path.exists(os.path.join(again, "model"))
  assert _config(os.path.join(again, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == seeds[1]


def test_scores_list_without_sample_sizes_is_one_line_and_writes_nothing(tmp_path):
  out = str(tmp_path / "run")
  done = commands.run("dreproduce_jmlr", "--output_directory=" + out,
                      "--gin_model_config_dir=" + os.path.dirname(MODEL),
                      "--gin_model_config_name=train_test.gin", "--scores_list=mig")
  assert done.returncode == 2
  assert len(done.stderr.strip().splitlines()) == 1
  assert "--evaluation_num_samples_train" in done.stderr
  assert not os.path.exists(out)
