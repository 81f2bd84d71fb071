"""Tests for the Interventional Robustness Score."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import irs


@pytest.fixture(autouse=True)
def _histogram_with_a_bin_per_value():
  gin.clear_config()
  gin.parse_config_files_and_bindings([], [
      "discretizer.discretizer_fn = @histogram_discretizer",
      "discretizer.num_bins = 10"])
  yield
  gin.clear_config()


def _scores(representation_function):
  return irs.compute_irs(dummy_data.IdentityObservationsData(),
                         representation_function, np.random.RandomState(0),
                         None, 0.99, 3000, 3000)


def test_identity_representation_scores_high():
  assert 0.9 <= _scores(lambda x: np.array(x, dtype=np.float64))["IRS"] <= 1.


def test_constant_representation_scores_zero():
  scores = _scores(lambda x: np.zeros_like(x, dtype=np.float64))
  assert scores == {"IRS": 0., "num_active_dims": 0.}


def test_num_active_dims_is_the_sum_of_active_values():
  scores = _scores(lambda x: np.hstack([x[:, :2], np.ones((len(x), 1))]))
  assert scores["num_active_dims"] == np.sum(
      dummy_data.IdentityObservationsData().sample_factors(
          3000, np.random.RandomState(0))[:, :2])


def test_drop_constant_dims():
  ys = np.random.RandomState(0).normal(0., 1., (100, 100))
  ys[0, :] = 1.
  ys[-1, :] = 0.
  np.testing.assert_array_equal(irs._drop_constant_dims(ys), ys[1:-1])


def test_scalable_disentanglement_score():
  gen_factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
  # Latent 0 follows factor 0 exactly; latent 1 mixes both factors.
  latents = np.array([[0., 0.], [0., 1.], [2., 2.], [2., 3.]])
  result = irs.scalable_disentanglement_score(gen_factors, latents, 1.0)
  np.testing.assert_allclose(result["max_deviations"], [1., 1.5])
  # Latent 1 with factor 0 fixed moves by 0.5 (of 1.5); with factor 1 by 1.
  np.testing.assert_allclose(result["IRS_matrix"], [[1., 0.], [2. / 3., 1. / 3.]])
  np.testing.assert_array_equal(result["parents"], [0, 0])
  np.testing.assert_allclose(result["avg_score"], (1. * 1. + 2. / 3. * 1.5) / 2.5)
