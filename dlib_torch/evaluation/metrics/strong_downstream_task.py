"""Strong downstream task: generalisation under a covariate shift.

Classifiers predicting a factor are trained on data where another factor is
held at one value and tested where it takes every other value. The gap
between this accuracy and the ordinary test accuracy measures how much the
prediction relies on the shifted factor.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "strong_downstream_task",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_strong_downstream_task(ground_truth_data,
                                   representation_function,
                                   random_state,
                                   artifact_dir=None,
                                   num_train=gin.REQUIRED,
                                   num_test=gin.REQUIRED,
                                   n_experiment=gin.REQUIRED):
  """Computes plain and intervened downstream accuracies per training size.

  As in the original, the intervened factor and its values come from numpy's
  global generator (`intervene`), the data from `random_state`.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for the sampling and rendering.
    artifact_dir: unused.
    num_train: list of training-set sizes.
    num_test: number of test points.
    n_experiment: interventions per target factor.

  Returns:
    Dict with, for each size n, "<n>:mean_train_accuracy",
    "<n>:mean_test_accuracy", "<n>:mean_strong_train_accuracy",
    "<n>:mean_strong_test_accuracy" and "<n>:strong_generalization_gap"
    (1 - strong test accuracy / test accuracy).
  """
  del artifact_dir
  scores = {}
  for train_size in num_train:
    factors_train = ground_truth_data.sample_factors(train_size, random_state)
    factors_test = ground_truth_data.sample_factors(num_test, random_state)
    x_train = ground_truth_data.sample_observations_from_factors(
        factors_train, random_state)
    x_test = ground_truth_data.sample_observations_from_factors(
        factors_test, random_state)
    predictor_fn = utils.make_predictor_fn()
    train_acc, test_acc = downstream_task.compute_accuracies(
        representation_function(x_train), factors_train.T,
        representation_function(x_test), factors_test.T, predictor_fn)
    strong_train_acc, strong_test_acc = _intervened_accuracies(
        factors_train, factors_test, predictor_fn, ground_truth_data,
        representation_function, random_state, n_experiment)
    prefix = str(train_size) + ":"
    scores[prefix + "mean_train_accuracy"] = np.mean(train_acc)
    scores[prefix + "mean_test_accuracy"] = np.mean(test_acc)
    scores[prefix + "mean_strong_train_accuracy"] = np.mean(strong_train_acc)
    scores[prefix + "mean_strong_test_accuracy"] = np.mean(strong_test_acc)
    scores[prefix + "strong_generalization_gap"] = 1. - (
        scores[prefix + "mean_strong_test_accuracy"] /
        scores[prefix + "mean_test_accuracy"])
  return scores


def _intervened_accuracies(factors_train, factors_test, predictor_fn,
                           ground_truth_data, representation_function,
                           random_state, n_experiment):
  """Train and test accuracies of `n_experiment` intervened fits per factor.

  Fits run one after the other: each intervention draws from numpy's global
  generator, which the previous (unseeded) fit has advanced.
  """
  num_factors = factors_train.shape[1]
  train_acc, test_acc = [], []
  for i in range(num_factors):
    for _ in range(n_experiment):
      train_int, test_int, _, _ = intervene(
          factors_train.copy(), factors_test.copy(), i, num_factors,
          ground_truth_data)
      x_train = representation_function(
          ground_truth_data.sample_observations_from_factors(train_int, random_state))
      x_test = representation_function(
          ground_truth_data.sample_observations_from_factors(test_int, random_state))
      model = predictor_fn()
      model.fit(x_train, train_int[:, i])
      train_acc.append(np.mean(model.predict(x_train) == train_int[:, i]))
      test_acc.append(np.mean(model.predict(x_test) == test_int[:, i]))
  return train_acc, test_acc


def intervene(y_train, y_test, target_y, num_factors, ground_truth_data):
  """Fixes a random other factor in the training set and shifts it in the test set.

  Draws from numpy's global generator, as the original: the intervened factor
  (uniform among the factors other than `target_y`), its training value, and
  for every test row a value different from the training one.

  Args:
    y_train: factors [num_train, num_factors], modified in place.
    y_test: factors [num_test, num_factors], modified in place.
    target_y: the factor to be predicted (never intervened on).
    num_factors: number of factors.
    ground_truth_data: gives the number of values of each factor.

  Returns:
    (y_train, y_test, intervened factor, its training value).
  """
  candidates = [j for j in range(num_factors) if j != target_y]
  interv_factor = np.random.choice(candidates)
  values = list(range(ground_truth_data.factors_num_values[interv_factor]))
  train_value = np.random.choice(values)
  values.remove(train_value)
  y_train[:, interv_factor] = train_value
  y_test[:, interv_factor] = np.random.choice(values, size=y_test.shape[0])
  return y_train, y_test, interv_factor, train_value
