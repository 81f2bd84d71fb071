"""Unsupervised scores of a representation: how far its codes are from independent.

Gaussian total correlation and Wasserstein correlation of the codes'
covariance, and the mean pairwise mutual information of discretised codes.
"""
from absl import logging
import gin
import numpy as np
import scipy.linalg

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "unsupervised_metrics",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def unsupervised_metrics(ground_truth_data,
                         representation_function,
                         random_state,
                         artifact_dir=None,
                         num_train=gin.REQUIRED,
                         batch_size=16):
  """Computes the unsupervised scores on `num_train` sampled points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of points.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with "gaussian_total_correlation", "gaussian_wasserstein_correlation",
    "gaussian_wasserstein_correlation_norm" and "mutual_info_score".
  """
  del artifact_dir
  logging.info("Generating training set.")
  mus_train, _ = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state,
      batch_size)
  return unsupervised_metrics_from_codes(mus_train)


def unsupervised_metrics_from_codes(mus, discretize=utils.make_discretizer):
  """Unsupervised scores of codes [d, N].

  `discretize` maps the codes to discrete values for the mutual information;
  the default is the gin `discretizer`.
  """
  num_codes = mus.shape[0]
  cov_mus = np.cov(mus)
  wasserstein = gaussian_wasserstein_correlation(cov_mus)
  mus_discrete = discretize(mus)
  mutual_info_matrix = utils.discrete_mutual_info(mus_discrete, mus_discrete)
  np.fill_diagonal(mutual_info_matrix, 0)
  return {
      "gaussian_total_correlation": gaussian_total_correlation(cov_mus),
      "gaussian_wasserstein_correlation": wasserstein,
      "gaussian_wasserstein_correlation_norm":
          wasserstein / np.sum(np.diag(cov_mus)),
      "mutual_info_score":
          np.sum(mutual_info_matrix) / (num_codes**2 - num_codes),
  }


def gaussian_total_correlation(cov):
  """KL(N(0, cov) || N(0, diag(cov))): the total correlation of a Gaussian."""
  return 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])


def gaussian_wasserstein_correlation(cov):
  """Squared 2-Wasserstein distance between N(0, cov) and N(0, diag(cov))."""
  sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
  return 2 * np.trace(cov) - 2 * np.trace(sqrtm)
