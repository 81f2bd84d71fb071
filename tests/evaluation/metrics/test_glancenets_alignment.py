"""Tests for GlanceNets alignment and explicitness."""
import numpy as np
import pytest

from dlib_torch.evaluation.metrics import glancenets_alignment
from dlib_torch.utils import errors
from . import test_latent_response


def _factors(num, seed, sizes=(4, 5)):
  rs = np.random.RandomState(seed)
  return np.stack([rs.randint(n, size=num) for n in sizes]).astype(np.float64)


def test_identity_representation_is_aligned_and_explicit():
  ys_train, ys_test = _factors(400, 0), _factors(200, 1)
  results = glancenets_alignment.compute_alignment_explicitness(ys_train, ys_train, ys_test,
                                                                ys_test)
  assert results["alignment"] == pytest.approx(1., abs=1e-6)
  assert results["completeness"] == pytest.approx(1., abs=1e-6)
  assert results["explicitness"] == 1. and results["explicitness_train"] == 1.


def test_rotated_representation_is_less_aligned():
  ys_train, ys_test = _factors(400, 0), _factors(200, 1)
  rotation = np.array([[1., 1.], [1., -1.]]) / np.sqrt(2.)
  results = glancenets_alignment.compute_alignment_explicitness(
      rotation @ ys_train, ys_train, rotation @ ys_test, ys_test)
  assert results["alignment"] < 0.8
  # Still informative: trees read each factor from the pair of codes.
  assert results["explicitness"] > 0.9


def test_monotone_code_transform_does_not_change_tree_alignment():
  ys_train, ys_test = _factors(300, 0), _factors(100, 1)
  rotation = np.array([[2., 1.], [1., -1.]])
  plain = glancenets_alignment.compute_alignment_explicitness(
      rotation @ ys_train, ys_train, rotation @ ys_test, ys_test)
  squashed = glancenets_alignment.compute_alignment_explicitness(
      rotation @ ys_train, ys_train, rotation @ ys_test, ys_test, code_transform="tanh_half")
  assert squashed["alignment"] == pytest.approx(plain["alignment"], abs=0.05)


def test_linear_explicitness_is_one_minus_six_mse_on_a_known_regression():
  # One code equal to the factor scaled to [0, 1] (11 values, variance 0.1):
  # Lasso(alpha) fits w = 1 - alpha / var = 0.9, so MSE = alpha^2 / var = 1e-3.
  values = np.tile(np.arange(11.), 10)[None]
  matrix, explicit_train, explicit_test = glancenets_alignment.compute_importance_linear(
      values / 10., values, values / 10., values)
  np.testing.assert_allclose(matrix, [[0.9 + 1e-7]], rtol=1e-6)
  assert explicit_train == pytest.approx(1. - 6. * 1e-3, rel=1e-6)
  assert explicit_test == pytest.approx(explicit_train)


def test_linear_variant_on_binary_and_irrelevant_codes():
  rs = np.random.RandomState(0)
  ys = np.stack([rs.randint(2, size=300), rs.randint(2, size=300)]).astype(float)
  codes = np.concatenate([4. * ys - 2., rs.normal(size=(1, 300))])
  results = glancenets_alignment.compute_alignment_explicitness(
      codes, ys, codes, ys, importance="linear")
  # L1 logistic regressions classify perfectly (MSE 0) from their own code.
  assert results["explicitness"] == 1.
  assert results["alignment"] > 0.8


def test_factor_subset_and_bad_importance():
  ys = _factors(200, 0, sizes=(3, 4, 5))
  subset = glancenets_alignment.compute_alignment_explicitness(ys[:2], ys, ys[:2], ys,
                                                               factor_indices=[0, 1])
  assert subset["alignment"] == pytest.approx(1., abs=1e-6)
  with pytest.raises(errors.UserError):
    glancenets_alignment.compute_alignment_explicitness(ys, ys, ys, ys, importance="svm")
  with pytest.raises(errors.UserError):
    glancenets_alignment.compute_alignment_explicitness(ys, ys, ys, ys, code_transform="relu")


def test_entry_point_samples_train_then_test():
  data = test_latent_response.GridImages([3, 4])
  representation = lambda x: x.reshape(len(x), 2)
  results = glancenets_alignment.compute_glancenets_alignment(
      data, representation, np.random.RandomState(0), num_train=200, num_test=100)
  assert results["alignment"] == pytest.approx(1., abs=1e-6)
  assert results["explicitness"] == 1.
  assert set(results) == {"alignment", "explicitness", "explicitness_train", "completeness"}
