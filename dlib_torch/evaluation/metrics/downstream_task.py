"""Downstream task: how well a classifier on the codes predicts each factor.

For every training-set size, one fresh classifier per factor (the gin
`predictor`) is fitted on the codes of that many sampled points and scored by
its accuracy on the training points and on `num_test` new points.
"""
from absl import logging
import gin
import joblib
import numpy as np
from sklearn import ensemble
from sklearn import linear_model
import threadpoolctl

from dlib_torch.evaluation.metrics import presorted_boosting
from dlib_torch.evaluation.metrics import utils

# Below this many training points the fits run in this process: starting
# workers would cost more than the fits.
_MIN_POINTS_FOR_PROCESSES = 500
# Tree splitters seed themselves with one randint(0, _RAND_R_MAX) each.
_RAND_R_MAX = 2**31 - 1


@gin.configurable(
    "downstream_task",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_downstream_task(ground_truth_data,
                            representation_function,
                            random_state,
                            artifact_dir=None,
                            num_train=gin.REQUIRED,
                            num_test=gin.REQUIRED,
                            batch_size=16):
  """Computes the downstream accuracies for every size in `num_train`.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: list of training-set sizes; each gets fresh samples.
    num_test: number of test points per training-set size.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with, for each size n, "<n>:mean_train_accuracy",
    "<n>:mean_test_accuracy", "<n>:min_train_accuracy",
    "<n>:min_test_accuracy", "<n>:train_accuracy_factor_<i>" and
    "<n>:test_accuracy_factor_<i>".
  """
  del artifact_dir
  scores = {}
  for train_size in num_train:
    logging.info("Downstream task with %d training points.", train_size)
    mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
        ground_truth_data, representation_function, train_size, num_test, random_state,
        batch_size)
    train_acc, test_acc = compute_accuracies(
        mus_train.T, ys_train, mus_test.T, ys_test, utils.make_predictor_fn())
    scores.update(accuracy_scores(str(train_size), train_acc, test_acc))
  return scores


def accuracy_scores(prefix, train_acc, test_acc):
  """The original's result keys for per-factor accuracies, under "<prefix>:"."""
  scores = {
      prefix + ":mean_train_accuracy": np.mean(train_acc),
      prefix + ":mean_test_accuracy": np.mean(test_acc),
      prefix + ":min_train_accuracy": np.min(train_acc),
      prefix + ":min_test_accuracy": np.min(test_acc),
  }
  for i, (train, test) in enumerate(zip(train_acc, test_acc)):
    scores[prefix + ":train_accuracy_factor_{}".format(i)] = train
    scores[prefix + ":test_accuracy_factor_{}".format(i)] = test
  return scores


def compute_accuracies(x_train, ys_train, x_test, ys_test, predictor_fn):
  """Train and test accuracy of one new `predictor_fn()` per factor.

  Args:
    x_train: codes [num_train, d] (scikit-learn layout).
    ys_train: factors [num_factors, num_train].
    x_test: codes [num_test, d].
    ys_test: factors [num_factors, num_test].
    predictor_fn: zero-argument factory of a scikit-learn classifier.

  Returns:
    Lists of the per-factor train and test accuracies.
  """
  models = fit_predictors(predictor_fn, x_train, ys_train)
  train_acc = [np.mean(model.predict(x_train) == y)
               for model, y in zip(models, ys_train)]
  test_acc = [np.mean(model.predict(x_test) == y)
              for model, y in zip(models, ys_test)]
  return train_acc, test_acc


def fit_predictors(predictor_fn, x_train, ys_train, n_jobs=None):
  """Fits a new `predictor_fn()` per factor, as the original's sequential loop.

  The original fits one estimator after the other, and unseeded estimators
  (its GradientBoostingClassifier) draw from numpy's global generator, so
  each fit starts where the previous one left that generator. For estimators
  whose number of global draws is known in advance (`_global_draws`), the
  start state of every fit is computed by replaying those draws; the fits
  then run in parallel processes and give the original's results exactly, and
  the global generator ends where the original's would. Other estimators go
  through `utils.fit_per_factor` (reproducible, but not the original's draws).

  Args:
    predictor_fn: zero-argument factory of a scikit-learn classifier.
    x_train: features [num_points, num_features].
    ys_train: labels [num_factors, num_points].
    n_jobs: number of processes; None picks one per core for large inputs.

  Returns:
    List of the fitted estimators, one per factor.
  """
  estimators = [predictor_fn() for _ in ys_train]
  draws = [_global_draws(estimator, y) for estimator, y in zip(estimators, ys_train)]
  if any(n is None for n in draws):
    return utils.fit_per_factor(predictor_fn, x_train, ys_train, n_jobs)
  replay = np.random.RandomState()
  replay.set_state(np.random.get_state())
  start_states = []
  for n in draws:
    start_states.append(replay.get_state())
    for _ in range(n):
      replay.randint(0, _RAND_R_MAX)
  if n_jobs is None:
    n_jobs = joblib.cpu_count() if len(x_train) >= _MIN_POINTS_FOR_PROCESSES else 1
  n_jobs = max(1, min(n_jobs, len(estimators)))
  if n_jobs == 1:
    fitted = [_fit_from_state(estimator, x_train, y, state)
              for estimator, y, state in zip(estimators, ys_train, start_states)]
  else:
    # Most draws (most classes) first, so that the processes finish together.
    order = sorted(range(len(estimators)), key=lambda j: -draws[j])
    results = joblib.Parallel(n_jobs=n_jobs, backend="loky")(
        joblib.delayed(_fit_from_state)(estimators[j], x_train, ys_train[j],
                                        start_states[j])
        for j in order)
    fitted = [None] * len(estimators)
    for j, estimator in zip(order, results):
      fitted[j] = estimator
  np.random.set_state(replay.get_state())
  return fitted


def _fit_from_state(estimator, x, y, state):
  """Fits with numpy's global generator set to `state`, BLAS and OpenMP on one thread.

  The matrices of these fits are small: with several threads, synchronising
  them costs more than the arithmetic (LogisticRegressionCV on 10000 points
  and 40 classes: 6x slower on 2 threads than on 1).
  """
  with threadpoolctl.threadpool_limits(limits=1):
    np.random.set_state(state)
    return estimator.fit(x, y)


def _global_draws(estimator, y):
  """How many randint(0, 2**31 - 1) draws fitting `estimator` on labels y takes
  from numpy's global generator, or None when that is not known in advance."""
  if isinstance(estimator, linear_model.LogisticRegressionCV):
    # lbfgs and unshuffled folds draw nothing.
    return 0 if estimator.solver == "lbfgs" else None
  # The presorted estimator draws exactly what sklearn's draws.
  if (type(estimator) in (ensemble.GradientBoostingClassifier,  # pylint: disable=unidiomatic-typecheck
                          presorted_boosting.PresortedGradientBoostingClassifier) and
      estimator.random_state is None and estimator.subsample == 1.0 and
      estimator.n_iter_no_change is None and estimator.init is None):
    # One tree per stage for two classes, one per class otherwise; each tree's
    # splitter draws its seed once.
    num_classes = len(np.unique(y))
    return estimator.n_estimators * (1 if num_classes == 2 else num_classes)
  return None
