"""Tests for the fairness metric."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import fairness
from dlib_torch.evaluation.metrics import utils


def test_inter_group_fairness():
  mean_fairness, max_fairness = fairness.inter_group_fairness(
      np.array([[0, 100], [100, 100]]))
  # Overall [1/3, 2/3]; the groups [0, 1] and [1/2, 1/2] are 1/3 and 1/6 away,
  # weighted by their sizes 100 and 200.
  assert mean_fairness == pytest.approx(2. / 9.)
  assert max_fairness == pytest.approx(1. / 3.)


def test_inter_group_fairness_of_identical_groups_is_zero():
  assert fairness.inter_group_fairness(np.array([[3, 6], [1, 2]])) == (0., 0.)


def test_compute_scores_dict():
  metric = np.array([[0., 2., 4.], [4., 0., 8.], [2., 10., 0.]])
  scores = fairness.compute_scores_dict(metric, "test")
  expected = {
      "test:pred0:sens1": 2., "test:pred0:sens2": 4., "test:pred1:sens0": 4.,
      "test:pred1:sens2": 8., "test:pred2:sens0": 2., "test:pred2:sens1": 10.,
      "test:pred0:mean_sens": 3., "test:pred0:max_sens": 4.,
      "test:pred1:mean_sens": 6., "test:pred1:max_sens": 8.,
      "test:pred2:mean_sens": 6., "test:pred2:max_sens": 10.,
      "test:sens0:mean_pred": 3., "test:sens0:max_pred": 4.,
      "test:sens1:mean_pred": 6., "test:sens1:max_pred": 10.,
      "test:sens2:mean_pred": 6., "test:sens2:max_pred": 8.,
      "test:mean_sens:mean_pred": 5., "test:mean_sens:max_pred": 22. / 3.,
      "test:max_sens:mean_pred": 6., "test:max_sens:max_pred": 10.,
      "test:mean_pred:mean_sens": 5., "test:mean_pred:max_sens": 22. / 3.,
      "test:max_pred:mean_sens": 6., "test:max_pred:max_sens": 10.,
  }
  assert set(scores) == set(expected)
  for key, value in expected.items():
    assert scores[key] == pytest.approx(value), key


class _FewFactors(dummy_data.IdentityObservationsData):
  """Three factors with values 0..3 (bincount needs labels from 0)."""

  @property
  def num_factors(self):
    return 3

  @property
  def factors_num_values(self):
    return [4] * 3

  def sample_factors(self, num, random_state):
    return random_state.randint(4, size=(num, 3))


@pytest.mark.parametrize("mix, low", [(False, True), (True, False)])
def test_independent_codes_are_fair_and_mixed_codes_are_not(mix, low):
  gin.clear_config()
  gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
  try:
    # Mixed: the first code is the sum of factors 0 and 1, so a prediction of
    # factor 0 shifts with the value of factor 1.
    mixing = np.array([[1, 0], [1, 0], [0, 1]]) if mix else np.eye(3)
    np.random.seed(0)
    scores = fairness.compute_fairness(
        _FewFactors(), lambda x: np.asarray(x, dtype=np.float64) @ mixing,
        np.random.RandomState(0), None, num_train=300,
        num_test_points_per_class=50)
  finally:
    gin.clear_config()
  assert len(scores) == 2 * (6 + 4 * 3 + 8)
  score = scores["mean_fairness:mean_pred:mean_sens"]
  assert (score < 0.05) if low else (score > 0.1)
