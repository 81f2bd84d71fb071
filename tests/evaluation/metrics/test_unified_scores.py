"""Tests for the unified scores."""
import os

import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import unified_scores
from dlib_torch.visualize import plotting


def _identity_discretizer(target, num_bins):
  del num_bins
  return target


@pytest.fixture(autouse=True)
def _gin():
  gin.clear_config()
  gin.bind_parameter("discretizer.discretizer_fn", _identity_discretizer)
  gin.bind_parameter("discretizer.num_bins", 10)
  yield
  gin.clear_config()


def _identity(x):
  return np.array(x, dtype=np.float64)


def _duplicated(x):
  x = np.array(x, dtype=np.float64)
  return np.hstack([x, x])


def _scores(representation_function, matrix_fn, num_train=1000, num_test=500,
            data=None, artifact_dir=None):
  np.random.seed(0)
  return unified_scores.compute_unified_scores(
      data or dummy_data.IdentityObservationsData(), representation_function,
      np.random.RandomState(0), artifact_dir, num_train, num_test,
      matrix_fns=[matrix_fn])


def test_mutual_information_identity():
  scores = _scores(_identity, unified_scores.mutual_information_matrix, 5000)
  assert 0.9 <= scores["mutual_information_matrix.mig"] <= 1.
  assert 0.9 <= scores["mutual_information_matrix.modularity"] <= 1.


def test_mutual_information_duplicated():
  scores = _scores(_duplicated, unified_scores.mutual_information_matrix)
  assert 0. <= scores["mutual_information_matrix.mig"] <= 0.2
  assert 0.9 <= scores["mutual_information_matrix.modularity"] <= 1.


def test_importance_gbt_identity():
  scores = _scores(_identity, unified_scores.importance_gbt_matrix)
  assert 0.9 <= scores["importance_gbt_matrix.dci_disentanglement"] <= 1.


def test_accuracy_svm_duplicated():
  scores = _scores(_duplicated, unified_scores.accuracy_svm_matrix, 500, 500)
  assert 0. <= scores["accuracy_svm_matrix.sap"] <= 0.2


def test_keys_of_every_aggregation():
  scores = _scores(_duplicated, unified_scores.mutual_information_matrix, 300)
  prefix = "mutual_information_matrix."
  expected = {"area_precision", "max_precision", "dci_disentanglement",
              "dci_completeness", "dci", "mig", "sap", "modularity"}
  expected |= {"dci_disentanglement.code_{}".format(i) for i in range(20)}
  expected |= {"modularity.code_{}".format(i) for i in range(20)}
  for name in ("dci_completeness.code_{}", "mig.factor_{}", "sap.factor_{}"):
    expected |= {name.format(j) for j in range(10)}
  assert set(scores) == {prefix + key for key in expected}
  assert scores[prefix + "dci"] == scores[prefix + "dci_disentanglement"]


def test_aggregations_of_a_diagonal_matrix():
  matrix = np.diag([1., 2., 3.])
  ys = np.array([[0, 1, 0, 1], [0, 0, 1, 1], [1, 0, 1, 0]])
  dci = unified_scores.aggregation_dci(matrix, ys)
  assert dci["dci_disentanglement"] == pytest.approx(1.)
  assert dci["dci_completeness.code_2"] == pytest.approx(1.)
  sap = unified_scores.aggregation_sap(matrix, ys)
  assert [sap["sap.factor_{}".format(j)] for j in range(3)] == [1., 2., 3.]
  modularity = unified_scores.aggregation_modularity(
      np.array([[1., 0.], [0., 1.], [0., 0.]]), ys)
  assert modularity["modularity"] == pytest.approx(2. / 3.)
  assert modularity["modularity.code_2"] == 0.
  mig = unified_scores.aggregation_mig(matrix, ys)
  # Every factor has entropy ln 2.
  assert mig["mig.factor_0"] == pytest.approx(1. / np.log(2.))
  assert mig["mig"] == pytest.approx(2. / np.log(2.))


def test_pr_curve_values():
  # Thresholds 1, 1, 0, 0: precision 2 at each; area 2 * (1 - 0).
  scores = unified_scores.pr_curves_values(np.eye(2))
  assert scores == {"area_precision": 2., "max_precision": 2}


class _Unnamed(dummy_data.IdentityObservationsData):
  factor_names = None


def test_plots_without_factor_names(tmp_path):
  scores = _scores(_identity, unified_scores.mutual_information_matrix, 300,
                   data=_Unnamed(), artifact_dir=str(tmp_path))
  assert any(key.startswith("mutual_information_matrix.merge_") for key in scores)
  if plotting.available():
    for name in ("", "_pr", "_dendrogram"):
      assert os.path.exists(tmp_path / "mutual_information_matrix{}.png".format(name))


def test_validation_on_fixed_data_scores_the_split_labelled_set():
  # unified_score_validation (the original's compute_unified_score_on_fixed_data): the
  # first train_percentage of the labelled set fits, the rest tests, as the other
  # *_validation metrics split it.
  data, random_state = dummy_data.IdentityObservationsData(), np.random.RandomState(0)
  factors = data.sample_factors(1000, random_state)
  observations = data.sample_observations_from_factors(factors, random_state)
  matrix_fns = [unified_scores.mutual_information_matrix]
  scores = unified_scores.compute_unified_score_on_fixed_data(
      observations, factors.T, _identity, train_percentage=0.8, matrix_fns=matrix_fns)
  codes = factors.T.astype(np.float64)
  assert scores == unified_scores.unified_scores(codes[:, :800], factors.T[:, :800],
                                                 codes[:, 800:], factors.T[:, 800:],
                                                 matrix_fns)
  assert scores["mutual_information_matrix.mig"] >= 0.9
