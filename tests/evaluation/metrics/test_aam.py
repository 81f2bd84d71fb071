"""Tests for disentangling-vae's AAM and MIG."""
import gin
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import aam
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors

LOG2, LOG4 = np.log(2.), np.log(4.)


def _grid(repeats=5):
  """Every configuration of two factors with 2 and 4 values, `repeats` times: [40, 2]."""
  v0, v1 = np.meshgrid(np.arange(2), np.arange(4), indexing="ij")
  return np.tile(np.stack([v0.ravel(), v1.ravel()], axis=1), (repeats, 1))


def _sharp_posteriors(means):
  # sigma = 0.01: components 10 apart do not overlap, so the mixture entropies
  # are log(number of components) + const exactly.
  return np.asarray(means, np.float64), np.full(np.shape(means), 2. * np.log(0.01))


def test_axis_alignment_of_hand_matrices():
  assert aam.axis_alignment([[2., 0., 0.], [0., 0., 1.]]) == 1.
  # Factor 0: (3 - (1 + 0.5)) / 3 = 0.5; factor 1: 1 - 2 < 0 -> 0; factor 2: nothing -> 0.
  assert aam.axis_alignment([[1., 3., .5], [1., 1., 1.], [0., 0., 0.]]) == pytest.approx(0.5 / 3)
  # Negative estimates are clamped before summing.
  assert aam.axis_alignment([[1., -0.5]]) == 1.


def test_mig_of_hand_matrix():
  matrix = [[LOG2, 0., 0.1], [0.2, LOG4, LOG2]]
  expected = np.mean([(LOG2 - 0.1) / LOG2, (LOG4 - LOG2) / LOG4])
  assert aam.mutual_information_gap(matrix, [LOG2, LOG4]) == pytest.approx(expected)


def test_gaussian_mutual_information_of_an_aligned_code():
  factors = _grid()
  # z0 = 10 * v0, z1 = 10 * v1 + 100: different scales per dimension, so
  # evaluating a sample in another dimension's density (disentangling-vae's
  # reshape instead of transpose) would give very different numbers.
  means, logvars = _sharp_posteriors(np.stack([10. * factors[:, 0], 10. * factors[:, 1] + 100.],
                                              axis=1))
  mi = aam.estimate_gaussian_mutual_information(means, logvars, factors,
                                                np.random.RandomState(0), num_samples=1000)
  np.testing.assert_allclose(mi, [[LOG2, 0.], [0., LOG4]], atol=1e-9)
  assert aam.axis_alignment(mi) == pytest.approx(1.)
  assert aam.mutual_information_gap(mi, [LOG2, LOG4]) == pytest.approx(1.)


def test_gaussian_mutual_information_separates_aam_from_mig():
  factors = _grid()
  # z0 keeps half of v1 (v1 // 2), z1 all of v0, z2 is constant.
  means, logvars = _sharp_posteriors(np.stack(
      [10. * (factors[:, 1] // 2), 20. * factors[:, 0], np.zeros(len(factors))], axis=1))
  mi = aam.estimate_gaussian_mutual_information(means, logvars, factors,
                                                np.random.RandomState(0), num_samples=1000)
  np.testing.assert_allclose(mi, [[0., LOG2, 0.], [LOG2, 0., 0.]], atol=1e-9)
  # AAM ignores how much of v1 is kept; MIG divides by log 4.
  assert aam.axis_alignment(mi) == pytest.approx(1.)
  assert aam.mutual_information_gap(mi, [LOG2, LOG4]) == pytest.approx(0.75)


def test_entropy_of_a_dimension_ignores_the_other_dimensions():
  # disentangling-vae's `.view(latent_dim, n_samples)` mixes the dimensions'
  # samples, so H(z_0) would change with z_1; with the transpose it cannot.
  rs = np.random.RandomState(0)
  means = rs.normal(size=(50, 2))
  logvars = np.full((50, 2), -1.)
  shifted = means + [0., 1000.]
  first = aam.estimate_latent_entropies(means, means, logvars, 20, np.random.RandomState(1))
  second = aam.estimate_latent_entropies(shifted, shifted, logvars, 20,
                                         np.random.RandomState(1))
  np.testing.assert_allclose(first, second, rtol=1e-12)
  # Dimension 0 alone gives the same entropy.
  alone = aam.estimate_latent_entropies(means[:, :1], means[:, :1], logvars[:, :1], 20,
                                        np.random.RandomState(1))
  np.testing.assert_allclose(first[0], alone[0], rtol=1e-12)


def test_latent_entropy_uses_few_samples_without_replacement():
  means, logvars = _sharp_posteriors(10. * np.arange(8.)[:, None])
  entropy = aam.estimate_latent_entropies(means, means, logvars, 3, np.random.RandomState(1))
  # Each of 8 equally weighted, separated components: log 8 + log(sigma sqrt(2 pi)).
  np.testing.assert_allclose(entropy, [np.log(8.) + np.log(0.01 * np.sqrt(2 * np.pi))])


class _AxisData:
  """Two factors of 4 values; the observation is the factor vector."""

  num_factors = 2
  factors_num_values = [4, 4]
  observation_shape = [2]

  def sample(self, num, random_state):
    factors = random_state.randint(4, size=(num, 2))
    return factors, factors.astype(np.float32)


def test_discrete_estimator_entry_point():
  with gin.unlock_config():
    gin.bind_parameter("discretizer.discretizer_fn", utils.histogram_discretizer)
    gin.bind_parameter("discretizer.num_bins", 4)
  try:
    aligned = aam.compute_aam(_AxisData(), lambda x: x, np.random.RandomState(0),
                              num_train=400, estimator="discrete")
    duplicated = aam.compute_aam(_AxisData(), lambda x: x[:, [0, 0]],
                                 np.random.RandomState(0), num_train=400, estimator="discrete")
  finally:
    gin.clear_config()
  # Finite samples give the other factor a little empirical MI.
  assert aligned["aam"] == pytest.approx(1., abs=0.02)
  assert aligned["mig"] == pytest.approx(1., abs=0.02)
  assert np.array(aligned["mutual_information"]).shape == (2, 2)
  # Factor 0 spread over two identical codes: nothing is axis aligned.
  assert duplicated["aam"] == 0.
  assert duplicated["mig"] == 0.


def test_unknown_estimator_and_missing_model_are_user_errors():
  with pytest.raises(errors.UserError):
    aam.compute_aam(_AxisData(), lambda x: x, np.random.RandomState(0), num_train=10,
                    estimator="kde")
  with pytest.raises(errors.UserError):
    aam.compute_aam(_AxisData(), lambda x: x, np.random.RandomState(0), num_train=10)


def test_gaussian_estimator_entry_point_reads_the_trained_encoder(tmp_path):
  from . import test_latent_response  # pylint: disable=g-import-not-at-top
  model_dir = str(tmp_path / "model")
  # Code j = 10 * factor j with sigma = 0.01.
  test_latent_response.save_linear_model(model_dir, 10. * np.eye(2), np.eye(2), [1, 1, 2],
                                         logvar=2. * np.log(0.01), invert_sigmoid=False)
  data = test_latent_response.GridImages([2, 4])
  results = aam.compute_aam(data, None, np.random.RandomState(0), num_train=400,
                            num_entropy_samples=400, model_dir=model_dir)
  mi = np.array(results["mutual_information"])
  # The diagonal is the empirical entropy of each factor (near log 2, log 4).
  np.testing.assert_allclose(np.diag(mi), [LOG2, LOG4], rtol=0.02)
  assert np.all(np.abs(mi[[0, 1], [1, 0]]) < 0.02)
  assert results["aam"] == pytest.approx(1., abs=0.02)
  assert results["mig"] == pytest.approx(1., abs=0.02)
