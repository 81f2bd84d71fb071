"""Separated Attribute Predictability (Kumar et al., 2018).

A score matrix [codes, factors] says how well each single code dimension
predicts each factor; SAP is the mean over factors of the gap between the best
and the second best code.
"""
from absl import logging
import gin
import numpy as np
from sklearn import svm

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "sap_score",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_sap(ground_truth_data,
                representation_function,
                random_state,
                artifact_dir=None,
                num_train=gin.REQUIRED,
                num_test=gin.REQUIRED,
                batch_size=16,
                continuous_factors=gin.REQUIRED):
  """Computes SAP on `num_train` training and `num_test` test points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of training points.
    num_test: number of test points (sampled even when unused).
    batch_size: number of points sampled at a time.
    continuous_factors: score by squared correlation (True) or by the test
      accuracy of a linear SVM on one code dimension (False).

  Returns:
    Dict with "SAP_score".
  """
  del artifact_dir
  logging.info("Generating training set.")
  mus, ys, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  return compute_sap_from_codes(mus, ys, mus_test, ys_test, continuous_factors)


@gin.configurable(
    "sap_score_validation",
    denylist=["observations", "labels", "representation_function"])
def compute_sap_on_fixed_data(observations, labels, representation_function,
                              train_percentage=gin.REQUIRED,
                              continuous_factors=gin.REQUIRED,
                              batch_size=100):
  """SAP of fixed observations [N, ...] and factors [F, N], split train/test."""
  mus = utils.obtain_representation(observations, representation_function,
                                    batch_size)
  mus_train, mus_test = utils.split_train_test(mus, train_percentage)
  ys_train, ys_test = utils.split_train_test(labels, train_percentage)
  return compute_sap_from_codes(mus_train, ys_train, mus_test, ys_test,
                                continuous_factors)


def compute_sap_from_codes(mus, ys, mus_test, ys_test, continuous_factors):
  """SAP of codes [d, N] and factors [F, N] (train and test)."""
  score_matrix = compute_score_matrix(mus, ys, mus_test, ys_test,
                                      continuous_factors)
  sap = compute_avg_diff_top_two(score_matrix)
  logging.info("SAP score: %.2g", sap)
  return {"SAP_score": sap}


def compute_score_matrix(mus, ys, mus_test, ys_test, continuous_factors):
  """Score [d, F] of each code dimension for each factor.

  Continuous factors: squared Pearson correlation on the training data (0 for
  a constant code). Discrete factors: test accuracy of
  LinearSVC(C=0.01, class_weight="balanced") fitted on the single code
  dimension; the fits are unseeded and run in the original's order.
  """
  num_codes, num_factors = len(mus), len(ys)
  score_matrix = np.zeros([num_codes, num_factors])
  for i in range(num_codes):
    for j in range(num_factors):
      if continuous_factors:
        cov = np.cov(mus[i, :], ys[j, :], ddof=1)
        if cov[0, 0] > 1e-12:
          score_matrix[i, j] = cov[0, 1]**2 * 1. / (cov[0, 0] * cov[1, 1])
      else:
        classifier = svm.LinearSVC(C=0.01, class_weight="balanced")
        classifier.fit(mus[i, :, np.newaxis], ys[j, :])
        pred = classifier.predict(mus_test[i, :, np.newaxis])
        score_matrix[i, j] = np.mean(pred == ys_test[j, :])
  return score_matrix


def compute_avg_diff_top_two(matrix):
  """Mean over columns of (largest - second largest) entry."""
  sorted_matrix = np.sort(matrix, axis=0)
  return np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])
