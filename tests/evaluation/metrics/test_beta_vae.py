"""Tests for the BetaVAE score."""
import numpy as np

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import beta_vae


def _identity(x):
  return np.array(x, dtype=np.float64)


def test_identity_representation_scores_high():
  data = dummy_data.IdentityObservationsData()
  scores = beta_vae.compute_beta_vae_sklearn(
      data, _identity, np.random.RandomState(0), None, 5, 500, 500)
  assert 0.9 <= scores["train_accuracy"] <= 1.
  assert 0.9 <= scores["eval_accuracy"] <= 1.


def test_constant_representation_scores_at_chance():
  data = dummy_data.IdentityObservationsData()
  scores = beta_vae.compute_beta_vae_sklearn(
      data, lambda x: np.zeros_like(x, dtype=np.float64),
      np.random.RandomState(0), None, 5, 500, 500)
  assert scores["eval_accuracy"] <= 0.2


def test_pairs_follow_the_original_draw_order():
  # DummyData draws when rendering, so any change of order changes the data.
  data = dummy_data.DummyData()

  def rep_fn(x):
    return np.mean(x, axis=(1, 2))

  rs = np.random.RandomState(4)
  expected_features, expected_labels = [], []
  for _ in range(7):
    k = rs.randint(data.num_factors)
    f1 = data.sample_factors(3, rs)
    f2 = data.sample_factors(3, rs)
    f2[:, k] = f1[:, k]
    o1 = data.sample_observations_from_factors(f1, rs)
    o2 = data.sample_observations_from_factors(f2, rs)
    expected_features.append(np.mean(np.abs(rep_fn(o1) - rep_fn(o2)), axis=0))
    expected_labels.append(k)
  expected_next = rs.randint(1000)

  rs = np.random.RandomState(4)
  codes1, codes2, labels = beta_vae.sample_pairs(data, rep_fn, 3, 7, rs)
  assert codes1.shape == codes2.shape == (7, 3, 1)
  np.testing.assert_array_equal(labels, expected_labels)
  np.testing.assert_array_equal(beta_vae.pair_features(codes1, codes2),
                                expected_features)
  assert rs.randint(1000) == expected_next


def test_score_from_codes_separates_the_fixed_factor():
  rs = np.random.RandomState(0)
  labels = rs.randint(3, size=300)
  codes1 = rs.normal(size=(300, 8, 3))
  codes2 = rs.normal(size=(300, 8, 3))
  codes2[np.arange(300), :, labels] = codes1[np.arange(300), :, labels]
  scores = beta_vae.compute_beta_vae_from_codes(
      codes1[:200], codes2[:200], labels[:200], codes1[200:], codes2[200:],
      labels[200:])
  assert scores["train_accuracy"] == scores["eval_accuracy"] == 1.
