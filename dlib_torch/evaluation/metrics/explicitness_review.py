"""Explicitness as the Ubisoft review scores it (Ridgeway & Mozer, 2018).

Explicitness asks whether each factor can be read off the codes by a simple
(linear) classifier: per factor, a one-vs-rest logistic regression predicts
the factor's class from all codes, and the score is the macro ROC-AUC of its
class probabilities, averaged over factors and (with `scale`) mapped from
[0.5, 1] to [0, 1]. Reference: the review of Zaidi et al. (2020, arXiv
2012.09276), ubisoft/ubisoft-laforge-disentanglement-metrics
src/metrics/explicitness.py; paper: K. Ridgeway and M. C. Mozer, "Learning
deep disentangled embeddings with the F-statistic loss", NeurIPS 2018.

Codes are min-max scaled per column; factors declared continuous are binned
(`nb_bins` equal-width bins after min-max scaling). As in the reference, the
classifiers use `class_weight="balanced"` and are fitted and scored on the
same samples (an in-sample AUC, where disentanglement_lib's
`modularity_explicitness` reports a held-out one); there is no train/test
split. `impl=2` is the reference's second variant: one binary classifier per
class, scored on its own (unnormalised) probability.
"""
import gin
import numpy as np
from sklearn import linear_model
from sklearn import metrics
from sklearn import multiclass
from sklearn import preprocessing
import threadpoolctl

from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import review_information
from dlib_torch.utils import errors


def explicitness_review(factors, codes, continuous_factors=True, nb_bins=10, scale=True,
                        impl=1):
  """Explicitness of codes [N, D] for factors [N, K].

  Args:
    factors: factor values, one row per sample; integer labels unless
      `continuous_factors`.
    codes: code values, one row per sample.
    continuous_factors: bin the factors into `nb_bins` classes first.
    nb_bins: number of bins for continuous factors.
    scale: map the mean AUC from [0.5, 1] to [0, 1].
    impl: 1 (one-vs-rest classifier, probabilities normalised over the
      classes) or 2 (a binary classifier per class, scored alone).

  Returns:
    {"score": mean over factors of the macro ROC-AUC (scaled)}.
  """
  factors, codes = review_information.check_inputs(factors, codes, continuous_factors,
                                                   nb_bins)
  codes = codes.astype(np.float64)  # float32 codes (a model's) score as float64 ones
  if impl not in (1, 2):
    raise errors.UserError("impl must be 1 or 2, not {!r}.".format(impl))
  if continuous_factors:
    factors = review_information.bin_columns(factors, nb_bins)
  for k, column in enumerate(factors.T):
    if len(np.unique(column)) < 2:
      raise errors.UserError(
          "Factor {} takes a single value: explicitness needs at least 2 classes.".format(k))
  codes = preprocessing.minmax_scale(codes)
  # The fits are small: BLAS threads only add synchronisation (several times
  # slower on a busy machine). One thread is also how the reference ran.
  with threadpoolctl.threadpool_limits(limits=1):
    auc = np.mean([_factor_auc(codes, y, impl) for y in factors.T])
  return {"score": float((auc - 0.5) * 2 if scale else auc)}


def _factor_auc(codes, y, impl):
  """Macro ROC-AUC over the classes of one factor y [N], in-sample."""
  if impl == 1:
    # scikit-learn >= 1.7 has no LogisticRegression(multi_class="ovr"); the
    # one-vs-rest wrapper fits the same binary problems (labels 0/1, weights
    # balanced per binary problem) and normalises the probabilities the same
    # way: it reproduces the reference (scikit-learn 1.5.2) on every case
    # exactly, as do separate per-class fits.
    model = multiclass.OneVsRestClassifier(
        linear_model.LogisticRegression(class_weight="balanced")).fit(codes, y)
    return modularity_explicitness._roc_auc(model, codes, y)  # pylint: disable=protected-access
  labels = preprocessing.MultiLabelBinarizer().fit_transform(y[:, np.newaxis])
  aucs = []
  for column in labels.T:
    model = linear_model.LogisticRegression(class_weight="balanced").fit(codes, column)
    aucs.append(metrics.roc_auc_score(column, model.predict_proba(codes)[:, 1]))
  return np.mean(aucs)


@gin.configurable(
    "explicitness_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_explicitness_review(ground_truth_data, representation_function, random_state,
                                artifact_dir=None, num_train=gin.REQUIRED, batch_size=16,
                                nb_bins=10, scale=True, impl=1):
  """Explicitness (review version) on `num_train` sampled points (discrete factors).

  Returns:
    {"explicitness_review": score}.
  """
  del artifact_dir
  return review_information.score_on_samples(
      explicitness_review, "explicitness_review", ground_truth_data,
      representation_function, random_state, num_train, batch_size, nb_bins=nb_bins,
      scale=scale, impl=impl)
