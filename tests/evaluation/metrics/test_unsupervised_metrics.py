"""Tests for the unsupervised scores."""
import gin
import numpy as np
import pytest
import scipy.linalg

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import unsupervised_metrics


def _kl_gaussians(mean_0, cov_0, mean_1, cov_1):
  """KL(N(mean_0, cov_0) || N(mean_1, cov_1)), directly from the textbook formula."""
  inv_1 = np.linalg.inv(cov_1)
  diff = mean_1 - mean_0
  return 0.5 * (np.trace(inv_1 @ cov_0) + diff @ inv_1 @ diff - len(mean_0) +
                np.log(np.linalg.det(cov_1) / np.linalg.det(cov_0)))


def test_total_correlation_of_independent_gaussian_is_zero():
  np.testing.assert_allclose(
      unsupervised_metrics.gaussian_total_correlation(np.diag([1., 2., 3.])), 0.,
      atol=1e-12)


def test_total_correlation_closed_form():
  cov = np.array([[1., 0.9], [0.9, 1.]])
  expected = _kl_gaussians(np.zeros(2), cov, np.zeros(2), np.diag(np.diag(cov)))
  np.testing.assert_allclose(
      unsupervised_metrics.gaussian_total_correlation(cov), expected)
  np.testing.assert_allclose(expected, -0.5 * np.log(1. - 0.81))


def test_wasserstein_correlation_of_independent_gaussian_is_zero():
  np.testing.assert_allclose(
      unsupervised_metrics.gaussian_wasserstein_correlation(np.eye(3)), 0.,
      atol=1e-12)


def test_wasserstein_correlation_closed_form():
  cov = np.array([[1., 0.9], [0.9, 1.]])
  diag = np.diag(np.diag(cov))
  expected = np.trace(cov + diag - 2 * scipy.linalg.sqrtm(cov @ diag))
  np.testing.assert_allclose(
      unsupervised_metrics.gaussian_wasserstein_correlation(cov), expected)


@pytest.fixture
def _histogram_discretizer():
  gin.clear_config()
  gin.parse_config_files_and_bindings([], [
      "discretizer.discretizer_fn = @histogram_discretizer",
      "discretizer.num_bins = 10"])
  yield
  gin.clear_config()


@pytest.mark.usefixtures("_histogram_discretizer")
def test_independent_codes_score_near_zero():
  scores = unsupervised_metrics.unsupervised_metrics(
      dummy_data.IdentityObservationsData(),
      lambda x: np.array(x, dtype=np.float64), np.random.RandomState(0), None,
      5000)
  assert abs(scores["gaussian_total_correlation"]) < 0.01
  assert abs(scores["gaussian_wasserstein_correlation_norm"]) < 0.01
  assert scores["mutual_info_score"] < 0.02


@pytest.mark.usefixtures("_histogram_discretizer")
def test_duplicated_codes_share_information():
  rs = np.random.RandomState(0)
  x = rs.randint(1, 11, size=(1, 2000)).astype(np.float64)
  scores = unsupervised_metrics.unsupervised_metrics_from_codes(
      np.vstack([x, x + 0.01 * rs.normal(size=x.shape)]))
  # The mutual information of a code with its copy is its entropy, ln 10.
  np.testing.assert_allclose(scores["mutual_info_score"], np.log(10), rtol=0.01)
  assert scores["gaussian_total_correlation"] > 3.
