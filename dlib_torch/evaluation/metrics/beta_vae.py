"""BetaVAE disentanglement score (Higgins et al., 2017), scikit-learn version.

A training point is a pair of batches that share the value of one random
factor; its feature is the mean absolute difference of their codes and its
label the shared factor. The score is the accuracy of a logistic regression
predicting the label.
"""
from absl import logging
import gin
import numpy as np
from sklearn import linear_model

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "beta_vae_sklearn",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_beta_vae_sklearn(ground_truth_data,
                             representation_function,
                             random_state,
                             artifact_dir=None,
                             batch_size=gin.REQUIRED,
                             num_train=gin.REQUIRED,
                             num_eval=gin.REQUIRED):
  """Computes the BetaVAE score.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    batch_size: number of observations per batch of a pair.
    num_train: number of training points (pairs of batches).
    num_eval: number of evaluation points.

  Returns:
    Dict with "train_accuracy" and "eval_accuracy".
  """
  del artifact_dir
  logging.info("Generating training set.")
  train = sample_pairs(ground_truth_data, representation_function, batch_size,
                       num_train, random_state)
  # The original fits the classifier before sampling the evaluation set; the
  # logistic regression (lbfgs) draws nothing from `random_state`, so sampling
  # both sets first leaves every draw unchanged.
  logging.info("Generating evaluation set.")
  evaluation = sample_pairs(ground_truth_data, representation_function,
                            batch_size, num_eval, random_state)
  return compute_beta_vae_from_codes(*train, *evaluation,
                                     random_state=random_state)


def sample_pairs(ground_truth_data, representation_function, batch_size,
                 num_points, random_state):
  """Samples `num_points` pairs of batches that share one random factor.

  Draws, per point and in the original's order: the shared factor, the
  factors of both batches, then both batches' observations.

  Returns:
    codes1, codes2: [num_points, batch_size, d] codes of the two batches.
    labels: [num_points] index of the shared factor.
  """
  labels = np.zeros(num_points, dtype=np.int64)

  def factor_batches():
    for i in range(num_points):
      labels[i] = random_state.randint(ground_truth_data.num_factors)
      factors1 = ground_truth_data.sample_factors(batch_size, random_state)
      factors2 = ground_truth_data.sample_factors(batch_size, random_state)
      factors2[:, labels[i]] = factors1[:, labels[i]]
      yield factors1
      yield factors2

  codes = utils.represent_factor_batches(factor_batches(), ground_truth_data,
                                         representation_function, random_state,
                                         num_points=2 * num_points * batch_size)
  return np.stack(codes[0::2]), np.stack(codes[1::2]), labels


def compute_beta_vae_from_codes(train_codes1, train_codes2, train_labels,
                                eval_codes1, eval_codes2, eval_labels,
                                random_state=None):
  """BetaVAE score of pairs of code batches [num_points, batch_size, d].

  Batches i of `*_codes1` and `*_codes2` share the factor `*_labels[i]`.
  """
  train_points = pair_features(train_codes1, train_codes2)
  eval_points = pair_features(eval_codes1, eval_codes2)
  model = linear_model.LogisticRegression(random_state=random_state)
  model.fit(train_points, train_labels)
  train_accuracy = np.mean(model.predict(train_points) == train_labels)
  eval_accuracy = model.score(eval_points, eval_labels)
  logging.info("BetaVAE train accuracy %.2g, eval accuracy %.2g",
               train_accuracy, eval_accuracy)
  return {"train_accuracy": train_accuracy, "eval_accuracy": eval_accuracy}


def pair_features(codes1, codes2):
  """Mean absolute code difference of each pair of batches: [num_points, d] float64."""
  return np.mean(np.abs(codes1 - codes2), axis=1).astype(np.float64)
