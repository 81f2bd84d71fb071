"""A metric's values depend only on its configuration and seed, not on the process's history.

DCI and the boosted-trees downstream task fit estimators that draw from
numpy's global generator; evaluation seeds it from the metric's seed, so the
same config scores the same in a fresh process, after other work in this one,
and alone or within a suite.
"""
import json
import os

import numpy as np
import pytest

from dlib_torch.config import resources
from dlib_torch.evaluation import evaluate
from dlib_torch.methods.unsupervised import train
from dlib_torch.postprocessing import postprocess
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers


@pytest.fixture(scope="module")
def representation(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("reproducible"))
  train.train_with_gin(os.path.join(root, "model"), False,
                       [helpers.write_gin(root, "train.gin", helpers.FAST_TRAIN_GIN)])
  postprocess.postprocess_with_gin(
      os.path.join(root, "model"), os.path.join(root, "mean"), False,
      [resources.config_path("tests/postprocessing/postprocess_test_configs/mean.gin")])
  return os.path.join(root, "mean")


def _scores(metric_dir):
  with open(os.path.join(metric_dir, "results", "json", "evaluation_results.json")) as f:
    scores = json.load(f)
  # Where it ran is recorded beside the scores (devices.describe): not a score.
  return {k: v for k, v in scores.items()
          if k not in ("elapsed_time", "uuid", "device", "num_threads", "cuda_visible_devices")}


@pytest.mark.parametrize("config", ["dci.gin", "downstream_task_boosted_trees.gin"])
def test_the_same_config_scores_the_same_whatever_ran_before(representation, tmp_path,
                                                             config):
  config_file = resources.config_path("tests/evaluation/evaluate_test_configs/" + config)
  bindings = ["evaluation.random_seed = 4"]
  evaluate.evaluate_with_gin(representation, str(tmp_path / "first"), False, [config_file],
                             bindings)
  np.random.seed(99)  # Other work of the process moves numpy's global generator.
  np.random.random_sample(1000)
  evaluate.evaluate_with_gin(representation, str(tmp_path / "second"), False, [config_file],
                             bindings)
  fresh = commands.run("devaluate", "--input_dir=" + representation,
                       "--output_dir=" + str(tmp_path / "fresh"), "--gin_config=" + config_file,
                       "--gin_bindings=" + bindings[0])
  assert fresh.returncode == 0, fresh.stderr[-2000:]
  first = _scores(str(tmp_path / "first"))
  assert _scores(str(tmp_path / "second")) == first
  assert _scores(str(tmp_path / "fresh")) == first
  # Another seed draws other fits (the seed reaches them).
  evaluate.evaluate_with_gin(representation, str(tmp_path / "other"), False, [config_file],
                             ["evaluation.random_seed = 5"])
  assert _scores(str(tmp_path / "other")) != first
