"""Tests for the FactorVAE score."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import factor_vae


@pytest.fixture(autouse=True)
def _clean_gin():
  gin.clear_config()
  yield
  gin.clear_config()


def _scores(representation_function):
  data = dummy_data.IdentityObservationsData()
  return factor_vae.compute_factor_vae(
      data, representation_function, np.random.RandomState(0), None,
      batch_size=5, num_train=1000, num_eval=500, num_variance_estimate=1000)


def test_identity_representation_scores_high():
  scores = _scores(lambda x: np.array(x, dtype=np.float64))
  assert 0.9 <= scores["train_accuracy"] <= 1.
  assert 0.9 <= scores["eval_accuracy"] <= 1.
  assert scores["num_active_dims"] == 10


def test_constant_representation_scores_low():
  with np.errstate(invalid="ignore"):
    scores = _scores(lambda x: np.zeros_like(x, dtype=np.float64))
  assert 0. <= scores["train_accuracy"] <= 0.2
  assert 0. <= scores["eval_accuracy"] <= 0.2


def test_all_dims_pruned():
  gin.bind_parameter("prune_dims.threshold", 0.05)
  scores = _scores(lambda x: np.zeros_like(x, dtype=np.float64))
  assert scores == {"train_accuracy": 0., "eval_accuracy": 0., "num_active_dims": 0}


def test_prune_dims():
  np.testing.assert_array_equal(
      factor_vae.prune_dims(np.array([0., 0.01, 0.04]), threshold=0.1),
      [False, True, True])


def test_votes_index_quirk_of_pruned_dims():
  # Dim 0 is pruned; the argmin over the active dims (1, 2) is credited to
  # dims 0, 1 as in the original.
  global_variances = np.array([0., 1., 1.])
  codes = np.zeros((2, 4, 3))
  codes[0, :, 1] = [0., 1., 0., 1.]  # Dim 2 still: argmin over active is 1.
  codes[1, :, 2] = [0., 1., 0., 1.]  # Dim 1 still: argmin over active is 0.
  votes = factor_vae.votes(codes, np.array([1, 0]), global_variances,
                           np.array([False, True, True]), num_factors=2)
  np.testing.assert_array_equal(votes, [[1, 0, 0], [0, 1, 0]])


def test_score_from_codes():
  votes_codes = np.zeros((4, 3, 2))
  votes_codes[:, :, 1] = [[0., 1., 2.]] * 4  # Dim 0 is always the stillest.
  labels = np.array([0, 0, 0, 1])
  scores = factor_vae.compute_factor_vae_from_codes(
      np.ones(2), votes_codes, labels, votes_codes[:2], labels[2:], 2)
  assert scores["train_accuracy"] == 0.75 and scores["eval_accuracy"] == 0.5
