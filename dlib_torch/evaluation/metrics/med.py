"""MED: Mutual-information-based Entropy Disentanglement, and Top-k MED.

Cao et al., "An Empirical Study on Disentanglement of Negative-free
Contrastive Learning" (NeurIPS 2022); the authors' reference is
noahcao/disentanglement_lib_med disentanglement_lib/evaluation/metrics/med.py
(`_compute_med`), configured by its med.gin (histogram discretiser, 20 bins,
top-1).

DCI's disentanglement and completeness (dci.py) on an importance matrix made
of mutual information instead of a predictor's feature importances: each code
of the training half is cut into equal-width bins, m[c, f] = I(z_c; v_f) in
nats, and each factor's column is normalised to sum to 1. Top-k MED keeps,
for each factor, the k most disentangled codes among those that are most
important for that factor, and scores the kept rows alone: a representation
is not penalised for codes it does not use.

Informativeness is the accuracy (train and test halves) of a logistic
regression per factor (scikit-learn defaults: L2, C = 1, lbfgs, 100
iterations) on codes standardised with the training half's statistics.

Where the reference departs from its paper: the informativeness values are
accuracies, higher is better, though the code calls them losses. A factor
whose mutual information with every code is 0 makes its importance column
0/0 = NaN, and D and C NaN, as in the reference.
"""
import numbers

import gin
import numpy as np
from sklearn import linear_model
from sklearn import preprocessing

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import infomec
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors


def med(factors, codes, topk=1, num_bins=20):
  """MED and Top-k MED of discrete factors [N, K] and codes [N, D].

  The first N // 2 rows train (importance and classifiers), the rest test.

  Args:
    factors: discrete factor values (integer labels), one row per sample.
    codes: code values, one row per sample.
    topk: codes kept per factor for Top-k MED; below 1, only MED.
    num_bins: equal-width bins per code for the mutual information.

  Returns:
    Dict with "informativeness_train", "informativeness_test",
    "disentanglement", "completeness" and, for topk >= 1,
    "top{topk}_disentanglement" and "top{topk}_completeness".
  """
  factors, codes = infomec.check_samples(factors, codes, discrete_factors=True,
                                         min_samples=4)
  errors.check_positive_int("num_bins", num_bins)
  num_train = len(codes) // 2
  return med_from_split(codes[:num_train], factors[:num_train], codes[num_train:],
                        factors[num_train:], topk,
                        lambda target: utils.histogram_discretizer(target, num_bins))


@gin.configurable(
    "med",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_med(ground_truth_data, representation_function, random_state,
                artifact_dir=None, num_train=gin.REQUIRED, num_test=gin.REQUIRED,
                batch_size=16, topk=1):
  """MED on `num_train` training and `num_test` test points, as the original.

  The codes are binned by the gin `discretizer` (med.gin:
  `discretizer.discretizer_fn = @histogram_discretizer`,
  `discretizer.num_bins = 20`). The original's signature default is
  topk=-1 (MED only); its med.gin sets 1, the default here.

  Returns:
    Dict with the scores of `med`.
  """
  del artifact_dir
  errors.check_positive_int("num_train", num_train)
  errors.check_positive_int("num_test", num_test)
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  for mus, ys in ((mus_train, ys_train), (mus_test, ys_test)):
    infomec.check_samples(ys.T, mus.T, discrete_factors=True, min_samples=1)
  return med_from_split(mus_train.T, ys_train.T, mus_test.T, ys_test.T, topk,
                        utils.make_discretizer)


def med_from_split(codes_train, factors_train, codes_test, factors_test, topk, discretize):
  """The scores of `med` from training and test rows [n, D] / [n, K].

  `discretize` maps codes [D, n] to bin labels [D, n].
  """
  if isinstance(topk, bool) or not isinstance(topk, numbers.Integral):
    raise errors.UserError("topk must be an integer, not {!r}.".format(topk))
  importance = importance_matrix(codes_train, factors_train, discretize)
  train_accuracy, test_accuracy = informativeness(codes_train, factors_train, codes_test,
                                                  factors_test)
  scores = {
      "informativeness_train": train_accuracy,
      "informativeness_test": test_accuracy,
      "disentanglement": float(dci.disentanglement(importance)),
      "completeness": float(dci.completeness(importance)),
  }
  if topk > 0:
    kept = importance[pick_top_codes(importance, topk)]
    scores["top{}_disentanglement".format(topk)] = float(dci.disentanglement(kept))
    scores["top{}_completeness".format(topk)] = float(dci.completeness(kept))
  return scores


def importance_matrix(codes, factors, discretize):
  """Mutual information [D, K] of binned codes [n, D] and factors [n, K], each
  factor's column divided by its sum."""
  mutual_info = utils.discrete_mutual_info(discretize(codes.T), factors.T)
  with np.errstate(divide="ignore", invalid="ignore"):
    return mutual_info / mutual_info.sum(axis=0)


def informativeness(codes_train, factors_train, codes_test, factors_test):
  """Mean train and test accuracy of a logistic regression per factor on
  codes standardised with the training statistics (a constant code stays 0)."""
  scaler = preprocessing.StandardScaler().fit(codes_train)
  inputs_train, inputs_test = scaler.transform(codes_train), scaler.transform(codes_test)
  train_accuracy, test_accuracy = [], []
  for j, (labels_train, labels_test) in enumerate(zip(factors_train.T, factors_test.T)):
    if len(np.unique(labels_train)) < 2:
      raise errors.UserError("Factor {} takes a single value in the training half: no "
                             "classifier can be fitted.".format(j))
    model = linear_model.LogisticRegression().fit(inputs_train, labels_train)
    train_accuracy.append(np.mean(model.predict(inputs_train) == labels_train))
    test_accuracy.append(np.mean(model.predict(inputs_test) == labels_test))
  return float(np.mean(train_accuracy)), float(np.mean(test_accuracy))


def pick_top_codes(importance, k):
  """Rows of the importance matrix [D, K] that Top-k MED keeps, ascending.

  Codes are visited from the most to the least disentangled; each goes to
  the factor it is most important for, until that factor holds k codes. The
  reference returns `list(set(rows))`, ascending for small integers.
  """
  per_code = dci.disentanglement_per_code(importance)
  favourite = np.argmax(importance, axis=1)
  kept = [[] for _ in range(importance.shape[1])]
  full = [False] * importance.shape[1]
  for code in np.argsort(-per_code):
    factor = favourite[code]
    if len(kept[factor]) < k:
      kept[factor].append(code)
    else:
      full[factor] = True
    if all(full):
      break
  return sorted({code for codes in kept for code in codes})
