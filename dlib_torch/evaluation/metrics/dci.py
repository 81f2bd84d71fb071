"""DCI disentanglement, completeness and informativeness (Eastwood & Williams, 2018).

A gradient boosted tree classifier per factor predicts it from the codes; its
feature importances form the importance matrix R [codes, factors].
Disentanglement is how concentrated each code's row is on one factor,
completeness how concentrated each factor's column is on one code (both via
entropy), and informativeness the classifiers' accuracy.
"""
from absl import logging
import gin
import numpy as np
import scipy.stats

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "dci",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_dci(ground_truth_data, representation_function, random_state,
                artifact_dir=None,
                num_train=gin.REQUIRED,
                num_test=gin.REQUIRED,
                batch_size=16):
  """Computes DCI on `num_train` training and `num_test` test points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of training points.
    num_test: number of test points.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with "informativeness_train", "informativeness_test" (accuracies),
    "disentanglement" and "completeness".
  """
  del artifact_dir
  logging.info("Generating training set.")
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  return compute_dci_from_codes(mus_train, ys_train, mus_test, ys_test)


@gin.configurable(
    "dci_validation",
    denylist=["observations", "labels", "representation_function"])
def compute_dci_on_fixed_data(observations, labels, representation_function,
                              train_percentage=gin.REQUIRED, batch_size=100):
  """DCI of fixed observations [N, ...] and factors [F, N], split train/test."""
  mus = utils.obtain_representation(observations, representation_function,
                                    batch_size)
  mus_train, mus_test = utils.split_train_test(mus, train_percentage)
  ys_train, ys_test = utils.split_train_test(labels, train_percentage)
  return compute_dci_from_codes(mus_train, ys_train, mus_test, ys_test)


def compute_dci_from_codes(mus_train, ys_train, mus_test, ys_test):
  """DCI scores of codes [d, N] and discrete factors [F, N] (train and test)."""
  importance_matrix, train_accuracy, test_accuracy = compute_importance_gbt(
      mus_train, ys_train, mus_test, ys_test)
  return {
      "informativeness_train": train_accuracy,
      "informativeness_test": test_accuracy,
      "disentanglement": disentanglement(importance_matrix),
      "completeness": completeness(importance_matrix),
  }


def compute_importance_gbt(x_train, y_train, x_test, y_test):
  """Importance matrix [d, F] of one gradient boosted tree classifier per factor.

  The classifiers are fitted in parallel (see `utils.fit_per_factor`).

  Returns:
    The importance matrix, the mean train accuracy and the mean test accuracy.
  """
  models = utils.fit_per_factor(utils.gradient_boosting_classifier,
                                x_train.T, y_train)
  importance_matrix = np.stack(
      [np.abs(model.feature_importances_) for model in models], axis=1)
  train_accuracy = [np.mean(model.predict(x_train.T) == y)
                    for model, y in zip(models, y_train)]
  test_accuracy = [np.mean(model.predict(x_test.T) == y)
                   for model, y in zip(models, y_test)]
  return (importance_matrix.astype(np.float64), np.mean(train_accuracy),
          np.mean(test_accuracy))


def disentanglement_per_code(importance_matrix):
  """1 - entropy (base F) of each code's importance over the factors: [d]."""
  return 1. - scipy.stats.entropy(importance_matrix.T + 1e-11,
                                  base=importance_matrix.shape[1])


def disentanglement(importance_matrix):
  """Per-code disentanglement weighted by the codes' share of total importance."""
  per_code = disentanglement_per_code(importance_matrix)
  if importance_matrix.sum() == 0.:
    importance_matrix = np.ones_like(importance_matrix)
  code_importance = importance_matrix.sum(axis=1) / importance_matrix.sum()
  return np.sum(per_code * code_importance)


def completeness_per_factor(importance_matrix):
  """1 - entropy (base d) of each factor's importance over the codes: [F]."""
  return 1. - scipy.stats.entropy(importance_matrix + 1e-11,
                                  base=importance_matrix.shape[0])


def completeness(importance_matrix):
  """Per-factor completeness weighted by the factors' share of total importance."""
  per_factor = completeness_per_factor(importance_matrix)
  if importance_matrix.sum() == 0.:
    importance_matrix = np.ones_like(importance_matrix)
  factor_importance = importance_matrix.sum(axis=0) / importance_matrix.sum()
  return np.sum(per_factor * factor_importance)
