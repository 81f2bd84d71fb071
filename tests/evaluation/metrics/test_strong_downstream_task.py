"""Tests for the strong downstream task."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import strong_downstream_task
from dlib_torch.evaluation.metrics import utils


@pytest.fixture(autouse=True)
def _gin():
  gin.clear_config()
  gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
  yield
  gin.clear_config()


def test_intervene_contract():
  data = dummy_data.DummyData()
  rs = np.random.RandomState(0)
  np.random.seed(0)
  for target in range(data.num_factors):
    y_train = data.sample_factors(50, rs)
    y_test = data.sample_factors(40, rs)
    y_train, y_test, factor, value = strong_downstream_task.intervene(
        y_train, y_test, target, data.num_factors, data)
    assert factor != target
    assert np.all(y_train[:, factor] == value)
    assert np.all(y_test[:, factor] != value)
    assert set(np.unique(y_test[:, factor])) <= set(range(5))


def test_noise_representation_does_not_generalise():
  np.random.seed(0)
  scores = strong_downstream_task.compute_strong_downstream_task(
      dummy_data.DummyData(), lambda x: np.reshape(x, (len(x), -1))[:, :16],
      np.random.RandomState(0), None, num_train=[100], num_test=50,
      n_experiment=1)
  assert set(scores) == {"100:mean_train_accuracy", "100:mean_test_accuracy",
                         "100:mean_strong_train_accuracy",
                         "100:mean_strong_test_accuracy",
                         "100:strong_generalization_gap"}
  assert 0. <= scores["100:mean_strong_test_accuracy"] <= 0.3
  assert scores["100:strong_generalization_gap"] == pytest.approx(
      1. - scores["100:mean_strong_test_accuracy"] / scores["100:mean_test_accuracy"])
