"""Tests for modularity and explicitness."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import utils


@pytest.fixture(autouse=True)
def _histogram_with_a_bin_per_value():
  gin.clear_config()
  gin.parse_config_files_and_bindings([], [
      "discretizer.discretizer_fn = @histogram_discretizer",
      "discretizer.num_bins = 10"])
  yield
  gin.clear_config()


@pytest.mark.parametrize("matrix, expected", [
    (np.diag(5. * np.ones(5)), 1.),
    (np.array([[1., 0.], [0., 1.], [0., 0.]]), 2. / 3.),  # An unused code scores 0.
    (np.zeros([10, 10]), 0.),
    (np.vstack([np.diag(5. * np.ones(5))] * 2), 1.),  # Redundant codes.
    (np.hstack([np.diag(5. * np.ones(5))] * 2), 1. - 1. / 9.),  # A code per two factors.
])
def test_modularity_closed_forms(matrix, expected):
  np.testing.assert_allclose(modularity_explicitness.modularity(matrix), expected)


def _scores(representation_function):
  data = dummy_data.IdentityObservationsData()
  return modularity_explicitness.compute_modularity_explicitness(
      data, representation_function, np.random.RandomState(0), None, 1000, 500)


def test_identity_representation_is_modular_and_explicit():
  scores = _scores(lambda x: np.array(x, dtype=np.float64))
  assert 0.9 <= scores["modularity_score"] <= 1.
  assert 0.9 <= scores["explicitness_score_train"] <= 1.
  assert 0.9 <= scores["explicitness_score_test"] <= 1.


def _modularity_of_codes(codes, factors):
  mutual_info = utils.discrete_mutual_info(utils.make_discretizer(codes.T),
                                           factors.T)
  return modularity_explicitness.modularity(mutual_info)


def test_duplicated_representation_stays_modular():
  factors = dummy_data.IdentityObservationsData().sample_factors(
      2000, np.random.RandomState(0))
  codes = np.hstack([factors, factors]).astype(np.float64)
  assert 0.9 <= _modularity_of_codes(codes, factors) <= 1.


def test_random_permutation_per_sample_is_not_modular():
  rs = np.random.RandomState(0)
  factors = dummy_data.IdentityObservationsData().sample_factors(20000, rs)
  codes = np.array([rs.permutation(row) for row in factors], dtype=np.float64)
  assert 0. <= _modularity_of_codes(codes, factors) <= 0.2


def test_explicitness_per_factor():
  rs = np.random.RandomState(0)
  y = rs.randint(3, size=400)
  mus = np.vstack([y + 0.01 * rs.normal(size=400), rs.normal(size=400)])
  mus, _, _ = utils.normalize_data(mus)
  train, test = modularity_explicitness.explicitness_per_factor(
      mus[:, :300], y[:300], mus[:, 300:], y[300:])
  assert train > 0.99 and test > 0.99
  noise = rs.normal(size=(2, 400))
  train, test = modularity_explicitness.explicitness_per_factor(
      noise[:, :300], y[:300], noise[:, 300:], y[300:])
  assert test < 0.65
