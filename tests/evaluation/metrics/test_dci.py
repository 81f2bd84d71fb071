"""Tests for the DCI metric."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.evaluation.metrics import dci

_ONE_OF_TEN = 1. - np.log(2) / np.log(10)


def _diagonal():
  return np.diag(5. * np.ones(5))


@pytest.mark.parametrize("matrix, expected_d, expected_c", [
    (_diagonal(), 1., 1.),
    (np.array([[1., 0.], [0., 1.], [0., 0.]]), 1., 1.),  # An unused code.
    (np.vstack([_diagonal(), _diagonal()]), 1., _ONE_OF_TEN),  # Redundant codes.
    (_diagonal()[:2, :], 1., 1.),  # Missed factors.
    (np.hstack([_diagonal(), _diagonal()]), _ONE_OF_TEN, 1.),  # A code per two factors.
])
def test_closed_forms(matrix, expected_d, expected_c):
  np.testing.assert_allclose(dci.disentanglement(matrix), expected_d)
  np.testing.assert_allclose(dci.completeness(matrix), expected_c)


def test_zero_importance():
  matrix = np.zeros([10, 10])
  np.testing.assert_allclose(dci.disentanglement(matrix), 0.)
  np.testing.assert_allclose(dci.completeness(matrix), 0., atol=1e-7)


def test_per_code_and_per_factor():
  matrix = np.array([[1., 1.], [2., 0.]])
  np.testing.assert_allclose(dci.disentanglement_per_code(matrix), [0., 1.], atol=1e-9)
  np.testing.assert_allclose(dci.completeness_per_factor(matrix),
                             [1. - (np.log(3) - 2. / 3. * np.log(2)) / np.log(2), 1.],
                             atol=1e-9)


class _FactorsAsObservations(ground_truth_data.GroundTruthData):
  """4 factors of 4 values, observed directly (fewer classes keep the trees fast)."""

  observations_draw_random = False
  num_factors = 4
  factors_num_values = [4] * 4
  observation_shape = [4]

  def sample_factors(self, num, random_state):
    return random_state.randint(4, size=(num, 4))

  def sample_observations_from_factors(self, factors, random_state):
    return factors


def _scores(representation_function, num_points=300):
  data = _FactorsAsObservations()
  np.random.seed(0)
  return dci.compute_dci(data, representation_function, np.random.RandomState(0),
                         None, num_points, num_points)


def test_identity_is_disentangled_and_complete():
  scores = _scores(lambda x: np.array(x, dtype=np.float64))
  assert 0.9 <= scores["disentanglement"] <= 1.
  assert 0.9 <= scores["completeness"] <= 1.
  assert scores["informativeness_train"] == 1.
  assert 0.9 <= scores["informativeness_test"] <= 1.


def test_random_permutation_per_sample_is_entangled():
  rs = np.random.RandomState(1)

  def shuffle_each_row(x):
    return np.array([rs.permutation(row) for row in x], dtype=np.float64)

  scores = _scores(shuffle_each_row)
  assert 0. <= scores["disentanglement"] <= 0.2
  assert 0. <= scores["completeness"] <= 0.2


def test_duplicated_codes_are_incomplete():
  scores = _scores(lambda x: np.hstack([x, x]).astype(np.float64))
  assert 0.9 <= scores["disentanglement"] <= 1.
  assert abs(scores["completeness"] - _ONE_OF_TEN) <= 0.1


def test_fixed_data_split():
  rs = np.random.RandomState(0)
  labels = rs.randint(3, size=(2, 200))
  observations = labels.T.astype(np.float64)
  np.random.seed(0)
  scores = dci.compute_dci_on_fixed_data(observations, labels, lambda x: x,
                                         train_percentage=0.9)
  assert scores["informativeness_train"] == scores["informativeness_test"] == 1.
  assert scores["disentanglement"] > 0.99
