"""Tests for the reduced downstream task."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import reduced_downstream_task
from dlib_torch.evaluation.metrics import utils


@pytest.fixture(autouse=True)
def _gin():
  gin.clear_config()
  gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
  gin.bind_parameter("reduced_representation.correlation_measure",
                     reduced_downstream_task.compute_factorwise_dci)
  yield
  gin.clear_config()


class _ThreeFactors(dummy_data.IdentityObservationsData):
  """The first three factors of IdentityObservationsData only."""

  @property
  def num_factors(self):
    return 3

  @property
  def factors_num_values(self):
    return [10] * 3


def test_removing_the_only_informative_code_destroys_that_factor():
  np.random.seed(0)
  scores = reduced_downstream_task.compute_reduced_downstream_task(
      _ThreeFactors(), lambda x: np.array(x, dtype=np.float64),
      np.random.RandomState(0), None, num_factors_to_remove=1, num_train=[300],
      num_test=200)
  for f in range(3):
    prefix = "300:reduced_factor_{}:".format(f)
    # Uniform over 10 values: chance level is 0.1.
    assert scores[prefix + "mean_test_accuracy_reduced_factor"] < 0.25
    assert scores[prefix + "mean_test_accuracy_reduced_factor"] == (
        scores[prefix + "mean_test_accuracy_factor_{}".format(f)])
    assert scores[prefix + "mean_test_accuracy_non_reduced_factor"] > 0.95
  assert scores["300:mean_test_accuracy_reduced_factor"] < 0.25
  assert scores["300:mean_test_accuracy_other_factors"] > 0.95
  assert len(scores) == 3 * (2 + 2 * 3 + 2) + 4


def test_reduced_representation_drops_the_most_important_row():
  mus = np.arange(12.).reshape(3, 4)
  measure = lambda *unused: np.array([[0.1, 0.], [0.7, 0.2], [0.2, 0.8]])
  train, test = reduced_downstream_task.compute_reduced_representation(
      mus, None, mus + 100, None, 0, correlation_measure=measure)
  np.testing.assert_array_equal(train, mus[[0, 2]])
  np.testing.assert_array_equal(test, mus[[0, 2]] + 100)
