"""Modularity and explicitness (Ridgeway & Mozer, 2018).

Modularity: each code dimension should share mutual information with one
factor only. Explicitness: a linear classifier on the codes should predict
each factor well (ROC-AUC).
"""
import gin
import numpy as np
from sklearn import linear_model
from sklearn import metrics
from sklearn import preprocessing

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "modularity_explicitness",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_modularity_explicitness(ground_truth_data,
                                    representation_function,
                                    random_state,
                                    artifact_dir=None,
                                    num_train=gin.REQUIRED,
                                    num_test=gin.REQUIRED,
                                    batch_size=16):
  """Computes modularity and explicitness on sampled training and test points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of training points.
    num_test: number of test points.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with "modularity_score", "explicitness_score_train" and
    "explicitness_score_test".
  """
  del artifact_dir
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  return compute_modularity_explicitness_from_codes(mus_train, ys_train,
                                                    mus_test, ys_test)


def compute_modularity_explicitness_from_codes(mus_train, ys_train, mus_test,
                                               ys_test,
                                               discretize=utils.make_discretizer):
  """Modularity (on the training codes) and explicitness of codes [d, N], factors [F, N].

  `discretize` maps the codes to discrete values for the mutual information;
  the default is the gin `discretizer`.
  """
  mutual_information = utils.discrete_mutual_info(discretize(mus_train),
                                                  ys_train)
  mus_train_norm, mean_mus, stddev_mus = utils.normalize_data(mus_train)
  mus_test_norm, _, _ = utils.normalize_data(mus_test, mean_mus, stddev_mus)
  models = utils.fit_per_factor(linear_model.LogisticRegression,
                                mus_train_norm.T, ys_train)
  scores_train, scores_test = [], []
  for model, y_train, y_test in zip(models, ys_train, ys_test):
    scores_train.append(_roc_auc(model, mus_train_norm.T, y_train))
    scores_test.append(_roc_auc(model, mus_test_norm.T, y_test))
  return {
      "modularity_score": modularity(mutual_information),
      "explicitness_score_train": np.mean(scores_train),
      "explicitness_score_test": np.mean(scores_test),
  }


def explicitness_per_factor(mus_train, y_train, mus_test, y_test):
  """Train and test ROC-AUC of a logistic regression predicting one factor.

  Args:
    mus_train, mus_test: normalised codes [d, N].
    y_train, y_test: values of the factor [N].
  """
  model = linear_model.LogisticRegression().fit(mus_train.T, y_train)
  return (_roc_auc(model, mus_train.T, y_train),
          _roc_auc(model, mus_test.T, y_test))


def _roc_auc(model, x, y):
  """Macro ROC-AUC of the predicted class probabilities, one-vs-rest.

  As in the original, the labels are binarised over the values present in `y`
  (so a value missing from one split misaligns or fails, as it did there).
  """
  binarised = preprocessing.MultiLabelBinarizer().fit_transform(
      np.expand_dims(y, 1))
  return metrics.roc_auc_score(binarised, model.predict_proba(x))


def modularity(mutual_information):
  """Mean modularity of the codes given their mutual information [d, F] with the factors."""
  squared_mi = np.square(mutual_information)
  max_squared_mi = np.max(squared_mi, axis=1)
  numerator = np.sum(squared_mi, axis=1) - max_squared_mi
  denominator = max_squared_mi * (squared_mi.shape[1] - 1.)
  with np.errstate(divide="ignore", invalid="ignore"):
    modularity_score = 1. - numerator / denominator
  modularity_score[max_squared_mi == 0.] = 0.
  return np.mean(modularity_score)
