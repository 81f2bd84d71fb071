"""DCI as the Ubisoft review scores it (Eastwood & Williams, 2018).

Per factor, a regressor (Lasso or random forest, hyper-parameters chosen by
10-fold cross-validated MSE) predicts the min-max scaled factor from the
min-max scaled codes; the absolute weights (Lasso) or feature importances
(forest) form the importance matrix E[factor, code].
* Disentanglement: per code, 1 - entropy (base K) of its importances over the
  factors, averaged with weights rho_c = the code's share of all importance.
* Completeness: per factor, 1 - entropy (base D) of its importances over the
  codes (uniform when the factor's row is all zero); plain mean over factors.
* Informativeness: per factor, max(1 - 12 MSE, 0) (1/12 is the variance of
  U(0, 1)), on the training samples; mean over factors.
Reference: the review of Zaidi et al. (2020, arXiv 2012.09276),
ubisoft/ubisoft-laforge-disentanglement-metrics src/metrics/dci.py; paper:
C. Eastwood and C. K. I. Williams, "A framework for the quantitative
evaluation of disentangled representations", ICLR 2018.

Where the reference departs from the paper:
* It stops computing disentanglement at the first code whose importances are
  all zero (a `break`): every later code gets D_c = 0 and weight 0, so D
  comes from the codes before it alone (a collapsed or, with Lasso, an
  ignored code triggers it). Kept by default (`stop_at_unused_code=True`);
  `stop_at_unused_code=False` weights every code, as the paper defines D.
* Informativeness is measured on the data the regressors were fitted on (the
  paper measures the prediction error on held-out data); completeness is an
  unweighted mean over factors (disentanglement_lib weights them by their
  importance); the final Lasso fit has scikit-learn's default
  `max_iter=1000` while the cross-validation fits have 5000. Kept.
* The reference asserts `continuous_factors=True` ("support for discrete
  data" is a TODO), yet the review calls it on discrete factors, which it
  min-max scales and regresses like continuous ones. Here the flag changes
  nothing: both kinds of factors are regressed on their (scaled) values.

The random forests are unseeded in the reference and draw from numpy's global
generator; here they draw from `random_state` in the same order, so
`random_state=s` gives the reference's numbers after `np.random.seed(s)`.
"""
import functools
import math

import gin
import numpy as np
from sklearn import ensemble
from sklearn import linear_model
from sklearn import metrics
from sklearn import model_selection
from sklearn import preprocessing
from sklearn.utils import check_random_state
import threadpoolctl

from dlib_torch.evaluation.metrics import review_information
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors

_NUM_FOLDS = 10
_LASSO_ALPHAS = (0.0001, 0.001, 0.01, 0.1, 0.2, 0.4, 0.8, 1)
_FOREST_MAX_DEPTHS = (8, 16, 32, 64, 128)
_FOREST_MAX_FEATURES = (0.2, 0.4, 0.8, 1.0)
_FOREST_TREES = 10


def dci_review(factors, codes, continuous_factors=True, model="lasso", random_state=0,
               stop_at_unused_code=True):
  """DCI of codes [N, D] (D >= 2) for factors [N, K] (K >= 2).

  Args:
    factors: factor values, one row per sample (regressed on their values).
    codes: code values, one row per sample.
    continuous_factors: accepted for the reference's signature; no effect.
    model: "lasso" (deterministic) or "random_forest" (draws from random_state).
    random_state: int seed or np.random.RandomState for the random forests.
    stop_at_unused_code: reproduce the reference's stop at the first code with
      zero importance (True) or weight every code as the paper does (False).

  Returns:
    {"disentanglement", "completeness", "informativeness"}.
  """
  # DCI bins nothing: nb_bins=1 only satisfies the shared check.
  factors, codes = review_information.check_inputs(
      factors, codes, continuous_factors, nb_bins=1, min_factors=2, min_codes=2)
  codes = codes.astype(np.float64)  # float32 codes (a model's) score as float64 ones
  if model not in ("lasso", "random_forest"):
    raise errors.UserError("model must be 'lasso' or 'random_forest', not {!r}.".format(model))
  if len(codes) < _NUM_FOLDS:
    raise errors.UserError("DCI cross-validates over {} folds: it needs at least {} samples, "
                           "got {}.".format(_NUM_FOLDS, _NUM_FOLDS, len(codes)))
  random_state = check_random_state(random_state)
  factors = preprocessing.minmax_scale(factors)
  codes = preprocessing.minmax_scale(codes)
  # Unshuffled folds (the reference's cross_val_score(cv=10) on a regressor).
  folds = list(model_selection.KFold(_NUM_FOLDS).split(codes))
  importance = np.zeros((factors.shape[1], codes.shape[1]))
  informativeness = np.zeros(factors.shape[1])
  # Small fits: one BLAS thread (as the reference ran) avoids thread overhead.
  with threadpoolctl.threadpool_limits(limits=1):
    for f, factor in enumerate(factors.T):
      if model == "lasso":
        informativeness[f], importance[f] = _fit_lasso(codes, factor, folds)
      else:
        informativeness[f], importance[f] = _fit_random_forest(codes, factor, folds,
                                                               random_state)
  return {
      "disentanglement": disentanglement(importance, stop_at_unused_code),
      "completeness": float(np.mean([1.0 - _entropy(row) for row in importance])),
      "informativeness": float(np.mean(informativeness)),
  }


def disentanglement(importance, stop_at_unused_code=True):
  """Importance-weighted mean over codes of 1 - entropy of a code's column of E [K, D]."""
  weight = np.zeros(importance.shape[1])
  per_code = np.zeros(importance.shape[1])
  for c, column in enumerate(importance.T):
    weight[c] = np.sum(column)
    if weight[c] == 0:
      if stop_at_unused_code:
        break
      continue
    per_code[c] = 1.0 - _entropy(column)
  total = np.sum(weight)
  return float(np.dot(per_code, weight / total)) if total else 0.0


def _entropy(weights):
  """Entropy, in base len(weights), of non-negative weights made a distribution.

  All-zero weights count as uniform (entropy 1). Zero entries contribute
  nothing. Same operations as the reference, for the same rounding.
  """
  total = np.sum(weights)
  probabilities = weights / total if total != 0 else np.full(len(weights), 1.0 / len(weights))
  entropy = 0.0
  for p in probabilities:
    if p:
      entropy -= p * math.log(p, len(probabilities))
  return entropy


def _cross_validated_mse(make_regressor, codes, y, folds):
  """Mean over the folds of the test MSE of a regressor fitted on the other folds."""
  fold_mse = [metrics.mean_squared_error(y[test], make_regressor().fit(codes[train], y[train])
                                         .predict(codes[test])) for train, test in folds]
  return np.mean(fold_mse)


def _fit_lasso(codes, factor, folds):
  """(informativeness, |weights| [D]) of the Lasso whose alpha has the best CV MSE."""
  y = factor.reshape(-1, 1)  # the reference's target shape
  best_alpha, best_mse = 0, 10e10
  for alpha in _LASSO_ALPHAS:
    mse = _cross_validated_mse(
        functools.partial(linear_model.Lasso, alpha=alpha, max_iter=5000), codes, y, folds)
    if mse < best_mse:
      best_alpha, best_mse = alpha, mse
  regressor = linear_model.Lasso(alpha=best_alpha).fit(codes, y)
  mse = metrics.mean_squared_error(regressor.predict(codes), y)
  return max(1 - 12 * mse, 0), np.ravel(np.abs(regressor.coef_))


def _fit_random_forest(codes, factor, folds, random_state):
  """(informativeness, feature importances [D]) of the forest with the best CV MSE.

  Every forest is handed `random_state` itself (not a copy, as cloning would
  make), so each fit draws its trees' seeds from it in the reference's order:
  grid point by grid point, fold by fold, then the final fit.
  """
  forest = functools.partial(ensemble.RandomForestRegressor, n_estimators=_FOREST_TREES,
                             random_state=random_state)
  best_mse, best_depth, best_features = 10e10, 0, 0
  for max_depth in _FOREST_MAX_DEPTHS:
    for max_features in _FOREST_MAX_FEATURES:
      mse = _cross_validated_mse(
          functools.partial(forest, max_depth=max_depth, max_features=max_features),
          codes, factor, folds)
      if mse < best_mse:
        best_mse, best_depth, best_features = mse, max_depth, max_features
  regressor = forest(max_depth=best_depth, max_features=best_features).fit(codes, factor)
  mse = metrics.mean_squared_error(regressor.predict(codes), factor)
  return max(1 - 12 * mse, 0), regressor.feature_importances_


@gin.configurable(
    "dci_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_dci_review(ground_truth_data, representation_function, random_state,
                       artifact_dir=None, num_train=gin.REQUIRED, batch_size=16,
                       model="lasso", stop_at_unused_code=True):
  """DCI (review version) on `num_train` sampled points.

  The random forests (`model="random_forest"`) draw from `random_state` after
  the sampling.

  Returns:
    {"disentanglement", "completeness", "informativeness"}.
  """
  del artifact_dir
  errors.check_positive_int("num_train", num_train)
  codes, factors = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state, batch_size)
  return dci_review(factors.T, codes.T, continuous_factors=False, model=model,
                    random_state=random_state, stop_at_unused_code=stop_at_unused_code)
