"""Reduced downstream task: information left about a factor after removing codes.

For each factor of interest, the code dimensions most important for it
(by the gin `reduced_representation.correlation_measure`, e.g. the DCI
importance matrix) are removed one at a time; then a classifier per factor is
trained on the remaining codes. Low accuracy on the reduced factor means its
information was concentrated in the removed dimensions.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils

# The original's name for the per-factor train/test accuracies.
compute_predictive_accuracy = downstream_task.compute_accuracies


@gin.configurable(
    "reduced_downstream_task",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_reduced_downstream_task(ground_truth_data,
                                    representation_function,
                                    random_state,
                                    artifact_dir=None,
                                    num_factors_to_remove=gin.REQUIRED,
                                    num_train=gin.REQUIRED,
                                    num_test=gin.REQUIRED,
                                    batch_size=16):
  """Computes the downstream accuracies of reduced representations.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_factors_to_remove: number of code dimensions removed per factor.
    num_train: list of training-set sizes; each gets fresh samples.
    num_test: number of test points per training-set size.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with, for each size n and factor of interest f,
    "<n>:reduced_factor_<f>:mean_{train,test}_accuracy_reduced_factor",
    "...:mean_{train,test}_accuracy_factor_<i>",
    "...:mean_{train,test}_accuracy_non_reduced_factor", and the aggregates
    "<n>:mean_{train,test}_accuracy_reduced_factor" and
    "<n>:mean_{train,test}_accuracy_other_factors".
  """
  del artifact_dir
  scores = {}
  for train_size in num_train:
    size_string = str(train_size)
    mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
        ground_truth_data, representation_function, train_size, num_test, random_state,
        batch_size)
    reduced_train, reduced_test, other_train, other_test = [], [], [], []
    for factor in range(ground_truth_data.num_factors):
      reduced_mus_train, reduced_mus_test = mus_train.copy(), mus_test.copy()
      for _ in range(num_factors_to_remove):
        reduced_mus_train, reduced_mus_test = compute_reduced_representation(
            reduced_mus_train, ys_train, reduced_mus_test, ys_test, factor)
      train_acc, test_acc = compute_predictive_accuracy(
          reduced_mus_train.T, ys_train, reduced_mus_test.T, ys_test,
          utils.make_predictor_fn())
      prefix = "{}:reduced_factor_{}:".format(size_string, factor)
      scores[prefix + "mean_train_accuracy_reduced_factor"] = train_acc[factor]
      scores[prefix + "mean_test_accuracy_reduced_factor"] = test_acc[factor]
      for i, (train, test) in enumerate(zip(train_acc, test_acc)):
        scores[prefix + "mean_train_accuracy_factor_{}".format(i)] = train
        scores[prefix + "mean_test_accuracy_factor_{}".format(i)] = test
      others = [i for i in range(len(train_acc)) if i != factor]
      mean_other_train = np.mean([train_acc[i] for i in others])
      mean_other_test = np.mean([test_acc[i] for i in others])
      scores[prefix + "mean_train_accuracy_non_reduced_factor"] = mean_other_train
      scores[prefix + "mean_test_accuracy_non_reduced_factor"] = mean_other_test
      reduced_train.append(train_acc[factor])
      reduced_test.append(test_acc[factor])
      other_train.append(mean_other_train)
      other_test.append(mean_other_test)
    scores[size_string + ":mean_train_accuracy_reduced_factor"] = np.mean(reduced_train)
    scores[size_string + ":mean_test_accuracy_reduced_factor"] = np.mean(reduced_test)
    scores[size_string + ":mean_train_accuracy_other_factors"] = np.mean(other_train)
    scores[size_string + ":mean_test_accuracy_other_factors"] = np.mean(other_test)
  return scores


@gin.configurable("reduced_representation")
def compute_reduced_representation(mus_train,
                                   ys_train,
                                   mus_test,
                                   ys_test,
                                   factor_of_interest,
                                   correlation_measure=gin.REQUIRED):
  """Removes the code row most related to `factor_of_interest` from both sets.

  Args:
    mus_train: codes [d, num_train].
    ys_train: factors [num_factors, num_train].
    mus_test: codes [d, num_test].
    ys_test: factors [num_factors, num_test].
    factor_of_interest: index of the factor.
    correlation_measure: maps (mus_train, ys_train, mus_test, ys_test) to a
      [d, num_factors] matrix, e.g. `@factorwise_dci`.

  Returns:
    The reduced training and test codes, [d - 1, num_train] and [d - 1, num_test].
  """
  importance_matrix = correlation_measure(mus_train, ys_train, mus_test, ys_test)
  row = np.argmax(importance_matrix[:, factor_of_interest])
  return np.delete(mus_train, row, axis=0), np.delete(mus_test, row, axis=0)


@gin.configurable(
    "factorwise_dci",
    denylist=["mus_train", "ys_train", "mus_test", "ys_test"])
def compute_factorwise_dci(mus_train, ys_train, mus_test, ys_test):
  """The DCI importance matrix [d, num_factors] (gradient boosted trees)."""
  importance_matrix, _, _ = dci.compute_importance_gbt(mus_train, ys_train,
                                                       mus_test, ys_test)
  return importance_matrix
