"""Tests for the SAP score."""
import numpy as np

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import sap_score


def _score(representation_function, continuous_factors=True, num_points=1000):
  data = dummy_data.IdentityObservationsData()
  np.random.seed(0)
  return sap_score.compute_sap(data, representation_function,
                               np.random.RandomState(0), None, num_points,
                               num_points,
                               continuous_factors=continuous_factors)["SAP_score"]


def test_identity_representation_scores_high():
  assert 0.9 <= _score(lambda x: np.array(x, dtype=np.float64)) <= 1.


def test_constant_representation_scores_low():
  assert 0. <= _score(lambda x: np.zeros_like(x, dtype=np.float64)) <= 0.2


def test_duplicated_representation_is_penalised():
  assert 0. <= _score(lambda x: np.hstack([x, x]).astype(np.float64)) <= 0.2


def test_discrete_factors_score_matrix():
  rs = np.random.RandomState(0)
  ys = rs.randint(2, size=(2, 300))
  mus = np.vstack([ys[0] + 0.1 * rs.normal(size=300), rs.normal(size=300)])
  np.random.seed(0)
  matrix = sap_score.compute_score_matrix(mus[:, :200], ys[:, :200],
                                          mus[:, 200:], ys[:, 200:], False)
  assert matrix[0, 0] == 1.
  assert np.all(matrix[1] < 0.7) and matrix[0, 1] < 0.7


def test_avg_diff_top_two():
  matrix = np.array([[0.9, 0.2], [0.5, 0.3], [0.1, 0.3]])
  np.testing.assert_allclose(sap_score.compute_avg_diff_top_two(matrix),
                             np.mean([0.4, 0.]))


def test_validation_on_fixed_data():
  labels = np.random.RandomState(0).randint(1, 11, size=(3, 500))
  score = sap_score.compute_sap_on_fixed_data(
      labels.T.astype(np.float64), labels, lambda x: x, train_percentage=0.9,
      continuous_factors=True)["SAP_score"]
  assert 0.9 <= score <= 1.
