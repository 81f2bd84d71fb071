"""Tests for the Mutual Information Gap."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import mig


@pytest.fixture(autouse=True)
def _histogram_with_a_bin_per_value():
  # IdentityObservationsData factors take the values 1..10: 10 equal-width
  # bins map them to themselves.
  gin.clear_config()
  gin.parse_config_files_and_bindings([], [
      "discretizer.discretizer_fn = @histogram_discretizer",
      "discretizer.num_bins = 10"])
  yield
  gin.clear_config()


def _score(representation_function):
  data = dummy_data.IdentityObservationsData()
  return mig.compute_mig(data, representation_function,
                         np.random.RandomState(0), None, 1000)["discrete_mig"]


def test_identity_representation_scores_high():
  assert 0.9 <= _score(lambda x: np.array(x, dtype=np.float64)) <= 1.


def test_constant_representation_scores_low():
  assert 0. <= _score(lambda x: np.zeros_like(x, dtype=np.float64)) <= 0.2


def test_duplicated_representation_is_penalised():
  assert 0. <= _score(lambda x: np.hstack([x, x]).astype(np.float64)) <= 0.1


def test_mutual_information_gap():
  mutual_info = np.array([[1., 0.], [0.5, 0.2], [0., 0.6]])
  np.testing.assert_allclose(
      mig.mutual_information_gap(mutual_info, np.array([2., 0.8])),
      np.mean([0.5 / 2., 0.4 / 0.8]))


def test_constant_factor_gives_nan():
  mus = np.array([[1., 2., 1., 2.], [1., 1., 2., 2.]])
  ys = np.array([[1, 1, 1, 1]])
  assert np.isnan(mig.compute_mig_from_codes(mus, ys, discretize=lambda x: x)[
      "discrete_mig"])


def test_validation_on_fixed_data():
  labels = np.random.RandomState(0).randint(1, 11, size=(3, 2000))
  score = mig.compute_mig_on_fixed_data(labels.T.astype(np.float64), labels,
                                        lambda x: x)["discrete_mig"]
  assert 0.9 <= score <= 1.
