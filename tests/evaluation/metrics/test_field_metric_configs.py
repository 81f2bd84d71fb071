"""The field metrics' configs score a representation as devaluate runs them, as score_codes does."""
import inspect
import json
import os

import numpy as np
import pytest

from dlib_torch.config import reproduce
from dlib_torch.config import resources
from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation import code_scores
from dlib_torch.evaluation import evaluate
from dlib_torch.evaluation.metrics import utils
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import torchscript_io

_CONFIGS = resources.list_configs("field_metrics")
_NUM_POINTS = 400
# Parameters bound on both sides. DCI-ES is randomised (its values are not compared below)
# and its 12 capacities x 10 factors x 100 trees took 20 s a side: 10 trees give its keys.
_PARAMS = {"dci_es": {"n_estimators": 10}}


def _name(path):
  return os.path.basename(path)[:-len(".gin")]


def _results(folder):
  with open(os.path.join(folder, "results", "json", "evaluation_results.json")) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def representation(tmp_path_factory):
  return helpers.train_and_postprocess(str(tmp_path_factory.mktemp("field")))["post"]


def test_every_field_metric_has_a_config_and_the_study_scores_them_all():
  assert sorted(_name(p) for p in _CONFIGS) == sorted(
      code_scores.METRIC_NAMES[code_scores.METRIC_NAMES.index("mig_review"):])
  study = reproduce.get_study("field_metrics_study").get_eval_config_files()
  assert set(_CONFIGS) <= set(study)
  assert set(reproduce.get_study("unsupervised_study_v1").get_eval_config_files()) < set(study)


@pytest.mark.parametrize("config", _CONFIGS, ids=_name)
def test_a_config_scores_the_sampled_points_as_score_codes_does(representation, tmp_path,
                                                                config):
  name = _name(config)
  params = _PARAMS.get(name, {})
  bindings = ["{}.num_train = {}".format(name, _NUM_POINTS)] + [
      "{}.{} = {}".format(name, key, value) for key, value in params.items()]
  num_points = _NUM_POINTS
  if "{}.num_test".format(name) in open(config).read():
    # Training then test points (as many): score_codes' halves of the same draws.
    bindings.append("{}.num_test = {}".format(name, _NUM_POINTS))
    num_points *= 2
  evaluate.evaluate_with_gin(representation, str(tmp_path / name), False, [config], bindings)
  scores = _results(str(tmp_path / name))
  # The same points as the metric drew (evaluation.random_seed = 0), scored as arrays.
  dataset = named_data.get_named_ground_truth_data("dummy_data")
  codes, factors = utils.generate_batch_factor_code(
      dataset, torchscript_io.load_representation(representation), num_points,
      np.random.RandomState(0), 16)
  expected = code_scores.score_codes(factors.T, codes.T, metrics=[name], **params)[name]
  expected = {(name if key == "score" else key): value for key, value in expected.items()
              if np.ndim(value) == 0}
  assert expected and set(expected) <= set(scores)
  # Randomised metrics draw other numbers here (the sampling moved the generator first);
  # the others agree to the float32 rounding of the representation's codes.
  if "random_state" not in inspect.signature(code_scores._function(name)).parameters:
    for key, value in expected.items():
      np.testing.assert_allclose(scores[key], value, rtol=1e-6, atol=1e-9, err_msg=key)


def test_devaluate_runs_a_field_metric_config(representation, tmp_path):
  config = resources.config_path("field_metrics/mig_review.gin")
  completed = commands.run("devaluate", "--input_dir=" + representation,
                           "--output_dir=" + str(tmp_path / "mig_review"),
                           "--gin_config=" + config,
                           "--gin_bindings=mig_review.num_train = {}".format(_NUM_POINTS))
  assert completed.returncode == 0, completed.stderr[-2000:]
  assert 0.0 <= _results(str(tmp_path / "mig_review"))["mig_review"] <= 1.0

