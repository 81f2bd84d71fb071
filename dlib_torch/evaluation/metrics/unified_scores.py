"""Unified disentanglement scores: one matrix, several aggregations.

A matrix [codes, factors] relates codes and factors (DCI's gradient boosted
tree importances, the discretised mutual information of MIG and modularity,
or SAP's single-code SVM accuracies). Each matrix is then aggregated in every
way (DCI disentanglement and completeness, MIG, SAP, modularity, and the area
under the precision curve of the matrix read as a bipartite graph), so that
matrices and aggregations can be compared independently.
"""
import os

from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import results
from dlib_torch.visualize import dendrogram
from dlib_torch.visualize import visualize_scores


@gin.configurable(
    "unified_scores",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_unified_scores(ground_truth_data, representation_function,
                           random_state,
                           artifact_dir=None,
                           num_train=gin.REQUIRED,
                           num_test=gin.REQUIRED,
                           matrix_fns=gin.REQUIRED,
                           batch_size=16):
  """Computes every aggregation of every matrix in `matrix_fns`.

  Args:
    ground_truth_data: GroundTruthData to sample from; its `factor_names`
      label the plots when it has them ("Factor <i>" otherwise).
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: folder for the plots; None draws none.
    num_train: number of training points.
    num_test: number of test points.
    matrix_fns: matrix functions, e.g. [@importance_gbt_matrix,
      @mutual_information_matrix, @accuracy_svm_matrix].
    batch_size: number of points sampled at a time.

  Returns:
    Dict "<matrix function name>.<aggregation key>", e.g.
    "mutual_information_matrix.mig".
  """
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  factor_names = getattr(ground_truth_data, "factor_names", None)
  if factor_names is None:
    factor_names = ["Factor {}".format(i) for i in range(len(ys_train))]
  return unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns,
                        artifact_dir, factor_names)


@gin.configurable(
    "unified_score_validation",
    denylist=["observations", "labels", "representation_function"])
def compute_unified_score_on_fixed_data(
    observations, labels, representation_function,
    train_percentage=gin.REQUIRED, matrix_fns=gin.REQUIRED, batch_size=100):
  """Unified scores of fixed observations [N, ...] and factors [F, N], split train/test."""
  mus = utils.obtain_representation(observations, representation_function,
                                    batch_size)
  mus_train, mus_test = utils.split_train_test(mus, train_percentage)
  ys_train, ys_test = utils.split_train_test(labels, train_percentage)
  return unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns)


def unified_scores(mus_train, ys_train, mus_test, ys_test, matrix_fns,
                   artifact_dir=None, factor_names=None):
  """Aggregations of each matrix of codes [d, N] and factors [F, N].

  With an `artifact_dir`, also draws per matrix <name>.png (heat squares),
  <name>_pr.png (precision and recall against the threshold) and
  <name>_dendrogram.png, and adds the dendrogram's "merge_<a>_<b>" scores.
  """
  scores_by_matrix = {}
  for matrix_fn in matrix_fns:
    matrix = matrix_fn(mus_train, ys_train, mus_test, ys_test)
    name = matrix_fn.__name__
    scores = {}
    if artifact_dir is not None:
      scores.update(_plot(matrix, artifact_dir, name, factor_names))
    scores.update(pr_curves_values(matrix))
    for aggregation_fn in AGGREGATION_FN:
      scores.update(aggregation_fn(matrix, ys_train))
    scores_by_matrix[name] = scores
  return results.namespaced_dict({}, **scores_by_matrix)


def _plot(matrix, artifact_dir, name, factor_names):
  """Draws the three plots of a matrix; returns the dendrogram's merge scores."""
  os.makedirs(artifact_dir, exist_ok=True)
  logging.info("Plotting %s to %s.", name, artifact_dir)
  visualize_scores.heat_square(matrix.copy(), artifact_dir, name,
                               "Latent codes", "Factors of Variation",
                               factor_names=factor_names)
  visualize_scores.plot_recovery_vs_independent(matrix.copy().T, artifact_dir,
                                                name + "_pr")
  return dendrogram.dendrogram_plot(
      matrix.copy().T, os.path.join(artifact_dir, name + "_dendrogram"),
      factor_names)


def pr_curves_values(matrix):
  """Trapezoidal area under precision-vs-threshold, and the largest precision.

  The thresholds are the matrix entries, largest first.
  """
  thresholds = np.sort(matrix.flatten())[::-1]
  precisions = [visualize_scores.precision(matrix, t) for t in thresholds]
  area = 0.
  for i in range(len(precisions) - 1):
    area += ((precisions[i] + precisions[i + 1]) *
             (thresholds[i] - thresholds[i + 1]) * 0.5)
  return {"area_precision": area, "max_precision": max(precisions)}


@gin.configurable(
    "importance_gbt_matrix",
    denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def importance_gbt_matrix(mus_train, ys_train, mus_test, ys_test):
  """DCI's importance matrix [d, F] of gradient boosted trees."""
  matrix, _, _ = dci.compute_importance_gbt(mus_train, ys_train, mus_test,
                                            ys_test)
  return matrix


@gin.configurable(
    "mutual_information_matrix",
    denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def mutual_information_matrix(mus_train, ys_train, mus_test, ys_test):
  """Mutual information [d, F] of the discretised training codes (gin `discretizer`)."""
  del mus_test, ys_test
  return utils.discrete_mutual_info(utils.make_discretizer(mus_train), ys_train)


@gin.configurable(
    "accuracy_svm_matrix",
    denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def accuracy_svm_matrix(mus_train, ys_train, mus_test, ys_test):
  """SAP's test accuracies [d, F] of a linear SVM on one code dimension."""
  return sap_score.compute_score_matrix(mus_train, ys_train, mus_test, ys_test,
                                        continuous_factors=False)


def aggregation_dci(matrix, ys):
  """DCI disentanglement (also as "dci") and completeness, overall and per code/factor."""
  del ys
  score = {
      "dci_disentanglement": dci.disentanglement(matrix),
      "dci_completeness": dci.completeness(matrix),
      "dci": dci.disentanglement(matrix),
  }
  for i, value in enumerate(dci.disentanglement_per_code(matrix)):
    score["dci_disentanglement.code_{}".format(i)] = value
  # Per factor, under the original's "code_" key.
  for j, value in enumerate(dci.completeness_per_factor(matrix)):
    score["dci_completeness.code_{}".format(j)] = value
  return score


def aggregation_mig(matrix, ys_train):
  """MIG (gap of the two largest entries over the factor's entropy), overall and per factor."""
  entropy = utils.discrete_entropy(ys_train)
  sorted_matrix = np.sort(matrix, axis=0)[::-1]
  with np.errstate(divide="ignore", invalid="ignore"):
    per_factor = np.divide(sorted_matrix[0, :] - sorted_matrix[1, :], entropy)
  score = {"mig": mig.mutual_information_gap(matrix, entropy)}
  for j, value in enumerate(per_factor):
    score["mig.factor_{}".format(j)] = value
  return score


def aggregation_sap(matrix, ys):
  """SAP (gap of the two largest entries), overall and per factor."""
  del ys
  score = {"sap": sap_score.compute_avg_diff_top_two(matrix)}
  for j, value in enumerate(sap_compute_diff_top_two(matrix)):
    score["sap.factor_{}".format(j)] = value
  return score


def sap_compute_diff_top_two(matrix):
  """Largest minus second largest entry of each column: [F]."""
  sorted_matrix = np.sort(matrix, axis=0)
  return sorted_matrix[-1, :] - sorted_matrix[-2, :]


def aggregation_modularity(matrix, ys):
  """Modularity, overall and per code."""
  del ys
  score = {"modularity": modularity_explicitness.modularity(matrix)}
  for i, value in enumerate(compute_modularity_per_code(matrix)):
    score["modularity.code_{}".format(i)] = value
  return score


def compute_modularity_per_code(mutual_information):
  """1 - (share of squared MI [d, F] outside each code's best factor); 0 for MI-less codes."""
  squared_mi = np.square(mutual_information)
  max_squared_mi = np.max(squared_mi, axis=1)
  numerator = np.sum(squared_mi, axis=1) - max_squared_mi
  denominator = max_squared_mi * (squared_mi.shape[1] - 1.)
  with np.errstate(divide="ignore", invalid="ignore"):
    modularity_score = 1. - numerator / denominator
  modularity_score[max_squared_mi == 0.] = 0.
  return modularity_score


AGGREGATION_FN = [aggregation_dci, aggregation_mig, aggregation_sap,
                  aggregation_modularity]
