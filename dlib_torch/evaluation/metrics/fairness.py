"""Fairness of downstream predictions (Locatello et al., 2019).

A classifier per target factor is trained on the codes. Then, for every other
(sensitive) factor, the same sampled points are rendered once with each value
of the sensitive factor; a fair prediction does not change its distribution
with that value. Unfairness is the total variation distance between the
prediction distribution of each sensitive value and the overall one.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "fairness",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_fairness(ground_truth_data,
                     representation_function,
                     random_state,
                     artifact_dir=None,
                     num_train=gin.REQUIRED,
                     num_test_points_per_class=gin.REQUIRED,
                     batch_size=16):
  """Computes the mean and maximum unfairness for all target/sensitive pairs.

  The draws from `random_state` are the original's: the training codes, then
  for each target i and sensitive j != i one sample of factors followed by one
  rendering per value of j. The renderings are encoded `batch_size` at a time
  as in the original, or in large chunks by a function of any batch size.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of points to train the classifiers on.
    num_test_points_per_class: points rendered per value of a sensitive factor.
    batch_size: number of points sampled (and encoded) at a time.

  Returns:
    Dict of every aggregation of the mean and maximum unfairness matrices,
    see `compute_scores_dict`; the paper's score is
    "mean_fairness:mean_pred:mean_sens".
  """
  del artifact_dir
  factor_counts = ground_truth_data.factors_num_values
  num_factors = len(factor_counts)
  mus_train, ys_train = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state,
      batch_size)
  models = downstream_task.fit_predictors(utils.make_predictor_fn(),
                                          mus_train.T, ys_train)

  pairs = [(i, j) for i in range(num_factors) for j in range(num_factors)
           if i != j]

  def intervened_observations():
    for _, j in pairs:
      original_factors = ground_truth_data.sample_factors(
          num_test_points_per_class, random_state)
      for c in range(factor_counts[j]):
        intervened_factors = np.copy(original_factors)
        intervened_factors[:, j] = c
        yield ground_truth_data.sample_observations_from_factors(
            intervened_factors, random_state)

  # The original encodes each intervened set batch_size observations at a time.
  codes = iter(utils.represent_batches(intervened_observations(),
                                       representation_function, batch_size))
  mean_fairness = np.zeros((num_factors, num_factors), dtype=np.float64)
  max_fairness = np.zeros((num_factors, num_factors), dtype=np.float64)
  for i, j in pairs:
    counts = np.zeros((factor_counts[i], factor_counts[j]), dtype=np.int64)
    for c in range(factor_counts[j]):
      predictions = models[i].predict(next(codes))
      counts[:, c] = np.bincount(predictions, minlength=factor_counts[i])
    mean_fairness[i, j], max_fairness[i, j] = inter_group_fairness(counts)

  scores = compute_scores_dict(mean_fairness, "mean_fairness")
  scores.update(compute_scores_dict(max_fairness, "max_fairness"))
  return scores


def compute_scores_dict(metric, prefix):
  """Every mean/max aggregation of an unfairness matrix [target, sensitive].

  The diagonal (a factor as its own sensitive attribute) is left out.

  Args:
    metric: [num_factors, num_factors] unfairness of predicting row i with
      column j as the sensitive factor.
    prefix: first part of the keys ("mean_fairness" or "max_fairness").

  Returns:
    Dict with "<prefix>:pred<i>:sens<j>", per-row ("pred<i>:mean_sens",
    "pred<i>:max_sens") and per-column ("sens<j>:mean_pred", "sens<j>:max_pred")
    aggregates, and the eight aggregates of those ("mean_sens:mean_pred", ...).
  """
  num_factors = metric.shape[0]
  off_diagonal = ~np.eye(num_factors, dtype=bool)
  result = {}
  for i in range(num_factors):
    for j in range(num_factors):
      if i != j:
        result["{}:pred{}:sens{}".format(prefix, i, j)] = metric[i, j]
  row_means, row_maxs, column_means, column_maxs = [], [], [], []
  for i in range(num_factors):
    relevant = metric[i, off_diagonal[i]]
    row_means.append(np.mean(relevant))
    row_maxs.append(np.amax(relevant))
    result["{}:pred{}:mean_sens".format(prefix, i)] = row_means[-1]
    result["{}:pred{}:max_sens".format(prefix, i)] = row_maxs[-1]
  for j in range(num_factors):
    relevant = metric[off_diagonal[:, j], j]
    column_means.append(np.mean(relevant))
    column_maxs.append(np.amax(relevant))
    result["{}:sens{}:mean_pred".format(prefix, j)] = column_means[-1]
    result["{}:sens{}:max_pred".format(prefix, j)] = column_maxs[-1]
  result[prefix + ":mean_sens:mean_pred"] = np.mean(column_means)
  result[prefix + ":mean_sens:max_pred"] = np.mean(column_maxs)
  result[prefix + ":max_sens:mean_pred"] = np.amax(column_means)
  result[prefix + ":max_sens:max_pred"] = np.amax(column_maxs)
  result[prefix + ":mean_pred:mean_sens"] = np.mean(row_means)
  result[prefix + ":mean_pred:max_sens"] = np.mean(row_maxs)
  result[prefix + ":max_pred:mean_sens"] = np.amax(row_means)
  result[prefix + ":max_pred:max_sens"] = np.amax(row_maxs)
  return result


def inter_group_fairness(counts):
  """Mean and maximum total variation between per-group and overall predictions.

  Computed in float32, as the original.

  Args:
    counts: [num_predicted_classes, num_sensitive_classes] prediction counts.

  Returns:
    (mean over sensitive classes of the TV distance, weighted by class size;
     maximum TV distance).
  """
  overall = np.sum(counts, axis=1, dtype=np.float32)
  overall /= overall.sum()
  per_class = np.array(counts, dtype=np.float32)
  class_sizes = np.sum(counts, axis=0)
  per_class /= np.expand_dims(class_sizes, 0)
  total_variation = np.sum(np.abs(per_class - np.expand_dims(overall, 1)), 0) / 2.
  weighted = total_variation * class_sizes
  weighted /= class_sizes.sum()
  return np.sum(weighted), np.amax(total_variation)
