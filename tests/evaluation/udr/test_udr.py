"""Tests for the UDR metric (the original's behaviours, §10.2 of the spec)."""
import numpy as np
import pytest
import scipy.stats

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.udr.metrics import udr
from dlib_torch.utils import batching


def test_relative_strength_disentanglement():
  assert udr.relative_strength_disentanglement(np.eye(3)) == pytest.approx(1.)
  assert udr.relative_strength_disentanglement(
      np.array([[1., 1., 0.], [1., 1., 0.], [0., 0., 1.]])) == pytest.approx(2. / 3.)
  assert udr.relative_strength_disentanglement(np.ones((3, 3))) == pytest.approx(1. / 3.)
  assert udr.relative_strength_disentanglement(np.zeros((3, 3))) == 0.
  assert udr.relative_strength_disentanglement(np.zeros((0, 3))) == 0.


def _normal(num_points=1000, num_latents=3, seed=0):
  return np.random.RandomState(seed).normal(size=(num_points, num_latents))


@pytest.mark.parametrize("correlation_fn, atol", [
    (udr.spearman_correlation_conv, 0.1), (udr.lasso_correlation_matrix, 0.2)])
def test_correlation_of_a_copy_is_identity(correlation_fn, atol):
  x = _normal()
  np.testing.assert_allclose(correlation_fn(x, x), np.eye(3), atol=atol)


@pytest.mark.parametrize("correlation_fn, atol", [
    (udr.spearman_correlation_conv, 0.1), (udr.lasso_correlation_matrix, 0.2)])
def test_correlation_with_a_duplicated_column(correlation_fn, atol):
  x = _normal()
  y = x.copy()
  x[:, 1] = x[:, 0]
  np.testing.assert_allclose(correlation_fn(x, y),
                             [[1., 0., 0.], [1., 0., 0.], [0., 0., 1.]] if
                             correlation_fn is udr.spearman_correlation_conv else
                             [[1., 0., 0.], [0., 0., 0.], [0., 0., 1.]], atol=atol)


def test_spearman_equals_pairwise_scipy():
  rs = np.random.RandomState(1)
  x, y = rs.normal(size=(200, 3)), rs.normal(size=(200, 4))
  y[:, 0] = x[:, 2] ** 3
  expected = [[abs(scipy.stats.spearmanr(x[:, i], y[:, j])[0]) for j in range(4)]
              for i in range(3)]
  np.testing.assert_allclose(udr.spearman_correlation_conv(x, y), expected, rtol=1e-12)


def _rep_fns(kl_vectors, transforms):
  """Representation functions of the 10 dummy factors' noise, as (means, kl)."""
  def make(kl, transform):
    def fn(x):
      flat = np.reshape(x, (len(x), -1))[:, :10]
      return transform(flat), np.asarray(kl, dtype=np.float64)
    return fn
  return [make(kl, t) for kl, t in zip(kl_vectors, transforms)]


def _udr(fns, **kwargs):
  return udr.compute_udr_sklearn(dummy_data.DummyData(), fns, np.random.RandomState(0),
                                 batch_size=10, num_data_points=1000, **kwargs)


@pytest.mark.parametrize("correlation_matrix", ["lasso", "spearman"])
def test_permuted_and_sign_flipped_representations_agree(correlation_matrix):
  permutation = np.random.RandomState(0).permutation(10)
  signs = np.where(np.arange(10) % 2, -1., 1.)
  fns = _rep_fns([np.ones(10)] * 2, [lambda z: z, lambda z: z[:, permutation] * signs])
  scores = _udr(fns, correlation_matrix=correlation_matrix)
  assert all(0.8 <= s <= 1. for s in scores["model_scores"])
  assert np.shape(scores["raw_correlations"]) == (2, 2, 10, 10)
  assert np.shape(scores["pairwise_disentanglement_scores"]) == (2, 2, 1)


@pytest.mark.parametrize("correlation_matrix", ["lasso", "spearman"])
def test_kl_filter_keeps_only_informative_latents(correlation_matrix):
  # Latent 0 is shared; the other latents are independent noise per model.
  def model(seed):
    def transform(z):
      noise = np.random.RandomState(seed).normal(size=(len(z), 9))
      return np.hstack([z[:, :1], noise])
    return transform
  kl = np.array([1.] + [0.] * 9)
  fns = _rep_fns([kl, kl], [model(1), model(2)])
  unfiltered = _udr(fns, correlation_matrix=correlation_matrix, filter_low_kl=False)
  filtered = _udr(fns, correlation_matrix=correlation_matrix, filter_low_kl=True)
  assert all(0. <= s <= 0.2 for s in unfiltered["model_scores"])
  assert all(0.8 <= s <= 1. for s in filtered["model_scores"])


def test_num_data_points_must_be_a_multiple_of_batch_size():
  with pytest.raises(ValueError, match="multiple of batch_size"):
    udr.compute_udr_sklearn(dummy_data.DummyData(), [], np.random.RandomState(0),
                            batch_size=3, num_data_points=10)


def test_chunked_encoding_draws_as_batch_by_batch(monkeypatch):
  data = dummy_data.DummyData()
  seen = []
  fn = batching.declare_any_batch_size(
      lambda x: (seen.append(x.copy()) or np.reshape(x, (len(x), -1))[:, :2],
                 np.full(2, float(len(seen)))))
  monkeypatch.setattr(udr, "_CHUNK_BYTES", 3 * 10 * 64 * 64 * 8)
  means, kl = udr._generate_representation_dataset(data, [fn], 10, 100,
                                                    np.random.RandomState(0))
  rs = np.random.RandomState(0)
  expected = np.concatenate([data.sample_observations(10, rs) for _ in range(10)])
  np.testing.assert_array_equal(np.concatenate(seen), expected)
  assert [len(x) for x in seen] == [30, 30, 30, 10]
  # Chunk k reports KL k and holds 3, 3, 3 and 1 batches.
  np.testing.assert_allclose(kl[0], (3 * 1 + 3 * 2 + 3 * 3 + 4) / 10.)
  assert means[0].shape == (100, 2)


def test_plain_functions_get_the_original_batches_in_the_original_order():
  calls = []

  def make(name, any_batch_size):
    def fn(x):
      calls.append((name, len(x)))
      return np.reshape(x, (len(x), -1))[:, :2], np.ones(2)
    return batching.declare_any_batch_size(fn) if any_batch_size else fn

  udr._generate_representation_dataset(dummy_data.DummyData(), [make("a", False), make("b", True)],
                                       10, 30, np.random.RandomState(0))
  assert calls == [("a", 10), ("b", 10)] * 3


@pytest.mark.parametrize("correlation_matrix", ["lasso", "spearman"])
def test_the_originals_udr_test_functions_of_batch_size_rows(correlation_matrix):
  # The original's own test: its functions reshape their input to (batch_size, -1),
  # which only works when called with exactly batch_size observations.
  num_factors, batch_size = 10, 10
  rs = np.random.RandomState(0)
  permutation = rs.permutation(num_factors)
  sign_inverse = rs.choice(num_factors, num_factors // 2)

  def rep_fn1(data):
    return np.reshape(data, (batch_size, -1))[:, :num_factors], np.ones(num_factors)

  def rep_fn2(data):
    raw_representation = np.reshape(data, (batch_size, -1))[:, :num_factors]
    perm_rep = raw_representation[:, permutation]
    perm_rep[:, sign_inverse] = -1.0 * perm_rep[:, sign_inverse]
    return perm_rep, np.ones(num_factors)

  scores = udr.compute_udr_sklearn(dummy_data.DummyData(), [rep_fn1, rep_fn2],
                                   np.random.RandomState(0), batch_size, 1000,
                                   correlation_matrix=correlation_matrix)
  assert all(0.8 <= s <= 1. for s in scores["model_scores"])
