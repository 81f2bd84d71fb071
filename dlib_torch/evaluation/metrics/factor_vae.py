"""FactorVAE disentanglement score (Kim & Mnih, 2018).

For a batch in which one factor is fixed, the code dimension with the least
variance (relative to its global variance) votes for that factor. A majority
vote classifier maps each dimension to a factor; the score is its accuracy.
"""
from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "factor_vae_score",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_factor_vae(ground_truth_data,
                       representation_function,
                       random_state,
                       artifact_dir=None,
                       batch_size=gin.REQUIRED,
                       num_train=gin.REQUIRED,
                       num_eval=gin.REQUIRED,
                       num_variance_estimate=gin.REQUIRED):
  """Computes the FactorVAE score.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    batch_size: number of observations in a batch with one fixed factor.
    num_train: number of training votes.
    num_eval: number of evaluation votes.
    num_variance_estimate: number of observations for the global variances.

  Returns:
    Dict with "train_accuracy", "eval_accuracy" and "num_active_dims" (as in
    the original, the total number of code dimensions, pruned ones included).
  """
  del artifact_dir
  observations = ground_truth_data.sample_observations(num_variance_estimate,
                                                       random_state)
  global_codes = utils.obtain_representation(observations,
                                             representation_function, 64).T
  global_variances = np.var(global_codes, axis=0, ddof=1)
  active_dims = prune_dims(global_variances)
  if not active_dims.any():
    return {"train_accuracy": 0., "eval_accuracy": 0., "num_active_dims": 0}
  logging.info("Generating training set.")
  train_codes, train_labels = sample_fixed_factor_batches(
      ground_truth_data, representation_function, batch_size, num_train,
      random_state)
  logging.info("Generating evaluation set.")
  eval_codes, eval_labels = sample_fixed_factor_batches(
      ground_truth_data, representation_function, batch_size, num_eval,
      random_state)
  return compute_factor_vae_from_codes(
      global_variances, train_codes, train_labels, eval_codes, eval_labels,
      ground_truth_data.num_factors, active_dims)


@gin.configurable("prune_dims", denylist=["variances"])
def prune_dims(variances, threshold=0.):
  """Mask of the dimensions whose standard deviation reaches `threshold`."""
  return np.sqrt(variances) >= threshold


def sample_fixed_factor_batches(ground_truth_data, representation_function,
                                batch_size, num_points, random_state):
  """Samples batches in which one random factor takes one random value.

  Draws, per batch and in the original's order: the factor, the batch's
  factors (the fixed factor copied from the first row), its observations.

  Returns:
    codes [num_points, batch_size, d] and labels [num_points] (fixed factor).
  """
  labels = np.zeros(num_points, dtype=np.int64)

  def factor_batches():
    for i in range(num_points):
      labels[i] = random_state.randint(ground_truth_data.num_factors)
      factors = ground_truth_data.sample_factors(batch_size, random_state)
      factors[:, labels[i]] = factors[0, labels[i]]
      yield factors

  codes = utils.represent_factor_batches(factor_batches(), ground_truth_data,
                                         representation_function, random_state,
                                         num_points=num_points * batch_size)
  return np.stack(codes), labels


def compute_factor_vae_from_codes(global_variances, train_codes, train_labels,
                                  eval_codes, eval_labels, num_factors,
                                  active_dims=None):
  """FactorVAE score of batches of codes [num_points, batch_size, d].

  Args:
    global_variances: [d] variance of each code dimension over the data.
    train_codes, eval_codes: batches [num_points, batch_size, d] in which the
      factor given by `*_labels` [num_points] is fixed.
    num_factors: number of factors.
    active_dims: optional boolean mask [d] of the dimensions that may vote.

  Returns:
    Dict with "train_accuracy", "eval_accuracy", "num_active_dims".
  """
  if active_dims is None:
    active_dims = np.ones(len(global_variances), dtype=bool)
  train_votes = votes(train_codes, train_labels, global_variances, active_dims,
                      num_factors)
  eval_votes = votes(eval_codes, eval_labels, global_variances, active_dims,
                     num_factors)
  # Each dimension predicts the factor it voted for most (ties: lowest index).
  classifier = np.argmax(train_votes, axis=0)
  dims = np.arange(train_votes.shape[1])
  train_accuracy = np.sum(train_votes[classifier, dims]) * 1. / np.sum(train_votes)
  eval_accuracy = np.sum(eval_votes[classifier, dims]) * 1. / np.sum(eval_votes)
  logging.info("FactorVAE train accuracy %.2g, eval accuracy %.2g",
               train_accuracy, eval_accuracy)
  return {"train_accuracy": train_accuracy, "eval_accuracy": eval_accuracy,
          "num_active_dims": len(active_dims)}


def votes(codes, labels, global_variances, active_dims, num_factors):
  """Vote matrix [num_factors, d]: batch i votes (labels[i], argmin relative variance).

  As in the original, the argmin is taken over the active dimensions only but
  used as an index into all dimensions (they differ once a dimension is pruned).
  """
  local_variances = np.var(codes, axis=1, ddof=1)
  relative = local_variances[:, active_dims] / global_variances[active_dims]
  counts = np.zeros((num_factors, len(global_variances)), dtype=np.int64)
  np.add.at(counts, (labels, np.argmin(relative, axis=1)), 1)
  return counts
