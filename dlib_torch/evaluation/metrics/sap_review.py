"""SAP as the Ubisoft review scores it (Kumar et al., 2018).

Separated Attribute Predictability: a score matrix S[factor, code] says how
well each single code predicts each factor, and SAP is the mean over factors
of the gap between the best and the second-best code. Reference: the review of
Zaidi et al. (2020, arXiv 2012.09276), ubisoft/ubisoft-laforge-disentanglement-metrics
src/metrics/sap.py; paper: A. Kumar, P. Sattigeri and A. Balakrishnan,
"Variational inference of disentangled latent concepts from unlabeled
observations", ICLR 2018.

* `regression=True` (the review's default): S = R^2 of a least-squares line
  predicting the raw factor value from the code (the squared correlation),
  clipped at 0, fitted and scored on all samples.
* `regression=False`: codes min-max scaled, factors binned if continuous;
  S = accuracy, on all samples, of a decision tree on the one code whose
  depth (1..9) has the best mean 10-fold (stratified, unshuffled) accuracy.

Choices of the reference, kept: both scores are measured on the samples the
predictors were fitted on (disentanglement_lib's `sap_score` tests its
classifiers on held-out points), and the classifier is a depth-tuned decision
tree. The reference asserts `continuous_factors=True` for the regression (the
review calls it so on discrete factors too, regressing on their integer
values); here the flag only matters for the classification, so discrete
factors regress the same way. Neither variant needs a train/test split.
"""
import gin
import numpy as np
from sklearn import linear_model
from sklearn import metrics
from sklearn import model_selection
from sklearn import preprocessing
from sklearn import tree

from dlib_torch.evaluation.metrics import review_information
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.utils import errors

_MAX_DEPTH = 9
_NUM_FOLDS = 10


def sap_review(factors, codes, continuous_factors=True, nb_bins=10, regression=True):
  """SAP of codes [N, D] (D >= 2) for factors [N, K].

  Args:
    factors: factor values, one row per sample; integer labels unless
      `continuous_factors` (the classification bins continuous factors).
    codes: code values, one row per sample.
    continuous_factors: whether the factors are continuous.
    nb_bins: number of bins for continuous factors (classification only).
    regression: score codes by R^2 (True) or by decision-tree accuracy (False).

  Returns:
    {"score": mean over factors of the gap between the two best codes}.
  """
  factors, codes = review_information.check_inputs(factors, codes, continuous_factors,
                                                   nb_bins, min_codes=2)
  codes = codes.astype(np.float64)  # float32 codes (a model's) score as float64 ones
  if regression:
    scores = _regression_scores(factors, codes)
  else:
    if len(codes) < _NUM_FOLDS:
      raise errors.UserError("SAP classification cross-validates over {} folds: it needs at "
                             "least {} samples, got {}.".format(_NUM_FOLDS, _NUM_FOLDS,
                                                                len(codes)))
    if continuous_factors:
      factors = review_information.bin_columns(factors, nb_bins)
    scores = _classification_scores(factors, preprocessing.minmax_scale(codes))
  return {"score": float(sap_score.compute_avg_diff_top_two(scores))}


def _regression_scores(factors, codes):
  """R^2 [D, K] of a line fitted from each code to each factor, clipped at 0."""
  scores = np.zeros((codes.shape[1], factors.shape[1]))
  for c, code in enumerate(codes.T):
    x = code.reshape(-1, 1)
    for f, factor in enumerate(factors.T):
      prediction = linear_model.LinearRegression().fit(x, factor).predict(x)
      scores[c, f] = max(0.0, metrics.r2_score(factor, prediction))
  return scores


def _classification_scores(factors, codes):
  """Accuracy [D, K] of the cross-validated decision tree on each code for each factor.

  The reference fits a tree per depth 1..9 and fold. A tree on a single
  feature grows each node the same way whatever its depth limit (the split
  search has no random choice to make), so the tree of depth d is the tree of
  depth 9 cut at depth d: one tree per fold gives the predictions of all nine
  depths, and one tree on all samples the final accuracy.
  """
  scores = np.zeros((codes.shape[1], factors.shape[1]))
  for f, y in enumerate(factors.T):
    # The folds depend on the labels only: the reference's cross_val_score(cv=10).
    folds = list(model_selection.check_cv(_NUM_FOLDS, y, classifier=True).split(codes, y))
    for c in range(codes.shape[1]):
      x = codes[:, c:c + 1]
      fold_accuracy = np.empty((_MAX_DEPTH, len(folds)))
      for i, (train, test) in enumerate(folds):
        predictions = _predictions_by_depth(_deepest_tree(x[train], y[train]), x[test])
        fold_accuracy[:, i] = np.mean(predictions == y[test], axis=1)
      # Mean over folds of each depth as the reference takes it (a 1-D mean,
      # so the same rounding); the first best depth wins ties.
      mean_accuracy = [np.mean(np.ascontiguousarray(row)) for row in fold_accuracy]
      best_depth = int(np.argmax(mean_accuracy)) + 1
      predictions = _predictions_by_depth(_deepest_tree(x, y), x)[best_depth - 1]
      scores[c, f] = np.mean(predictions == y)
  return scores


def _deepest_tree(x, y):
  return tree.DecisionTreeClassifier(max_depth=_MAX_DEPTH).fit(x, y)


def _predictions_by_depth(classifier, x):
  """Class predictions [9, n] of the tree cut at depths 1..9, for x [n, 1].

  Walks the fitted tree as its `predict` does (float32 inputs compared with
  the float64 thresholds); a sample that reaches a leaf stays there.
  """
  structure = classifier.tree_
  left, right = structure.children_left, structure.children_right
  values = np.asarray(x, dtype=np.float32)[:, 0]
  node = np.zeros(len(values), dtype=np.intp)
  predictions = np.empty((_MAX_DEPTH, len(values)), dtype=classifier.classes_.dtype)
  for depth in range(_MAX_DEPTH):
    inner = left[node] != -1
    go_left = values <= structure.threshold[node]
    node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    predictions[depth] = classifier.classes_[np.argmax(structure.value[node, 0], axis=1)]
  return predictions


@gin.configurable(
    "sap_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_sap_review(ground_truth_data, representation_function, random_state,
                       artifact_dir=None, num_train=gin.REQUIRED, batch_size=16,
                       nb_bins=10, regression=True):
  """SAP (review version) on `num_train` sampled points (discrete factors).

  Returns:
    {"sap_review": score}.
  """
  del artifact_dir
  return review_information.score_on_samples(
      sap_review, "sap_review", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins, regression=regression)
