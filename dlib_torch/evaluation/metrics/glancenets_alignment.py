"""GlanceNets alignment and explicitness (Marconato, Passerini, Teso 2022).

GlanceNets measure how well learned concepts line up with ground-truth ones
with DCI between the ground-truth factors and the representation:

* alignment = DCI disentanglement of the importance matrix: each code should
  depend on a single factor;
* explicitness = how well the factors can be read from the codes: the mean
  test accuracy of the per-factor gradient-boosted trees (DCI
  informativeness_test), as GlanceNets report on dSprites and MPI3D.

The linear variant (their CelebA analysis) reads the importances from sparse
linear models instead: an L1 logistic regression (liblinear, C=100) for a
binary factor, a Lasso (alpha=0.01) for any other factor, each target scaled
to [0, 1] by the training range, importance |coef| + 1e-7; explicitness is
1 - 6 * MSE, the MSE between predictions and targets averaged over factors
(for a uniform target in [0, 1] a uniformly random guess has MSE 1/6, so 0
means "no better than guessing"; wrong hard labels can make it negative). GlanceNets fit and score on the same data:
that number is `explicitness_train`; `explicitness` is on held-out points.
"""
import gin
import numpy as np
import sklearn
from sklearn import linear_model

from dlib_torch.evaluation.metrics import code_transforms
from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors

@gin.configurable(
    "glancenets_alignment",
    denylist=["ground_truth_data", "representation_function", "random_state",
               "artifact_dir"])
def compute_glancenets_alignment(ground_truth_data, representation_function, random_state,
                                 artifact_dir=None, num_train=gin.REQUIRED,
                                 num_test=gin.REQUIRED, batch_size=16, importance="gbt",
                                 code_transform="none", factor_indices=None):
  """GlanceNets alignment and explicitness of a representation.

  Args:
    ground_truth_data: GroundTruthData to sample factors and observations from.
    representation_function: numpy observations -> numpy codes [N, d].
    random_state: np.random.RandomState for sampling.
    artifact_dir: unused.
    num_train: points to fit the importance models on.
    num_test: held-out points for explicitness.
    batch_size: points per call of the representation function.
    importance: "gbt" (dSprites/MPI3D protocol) or "linear" (CelebA protocol).
    code_transform: "none", "sigmoid" or "tanh_half", applied to the codes.
    factor_indices: factors to align with (None: all).

  Returns:
    Dict with alignment, explicitness, explicitness_train and completeness.
  """
  del artifact_dir
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  return compute_alignment_explicitness(mus_train, ys_train, mus_test, ys_test,
                                        importance, code_transform, factor_indices)


def compute_alignment_explicitness(mus_train, ys_train, mus_test, ys_test, importance="gbt",
                                   code_transform="none", factor_indices=None):
  """Alignment and explicitness from codes [d, N] and factors [F, N]."""
  if factor_indices is not None:
    ys_train = np.asarray(ys_train)[list(factor_indices)]
    ys_test = np.asarray(ys_test)[list(factor_indices)]
  x_train = code_transforms.transform_codes(mus_train, code_transform)
  x_test = code_transforms.transform_codes(mus_test, code_transform)
  if importance == "gbt":
    matrix, explicit_train, explicit_test = dci.compute_importance_gbt(
        x_train, ys_train, x_test, ys_test)
  elif importance == "linear":
    matrix, explicit_train, explicit_test = compute_importance_linear(
        x_train, ys_train, x_test, ys_test)
  else:
    raise errors.UserError("Unknown importance {!r}; use 'gbt' or 'linear'.".format(importance))
  return {
      "alignment": float(dci.disentanglement(matrix)),
      "explicitness": float(explicit_test),
      "explicitness_train": float(explicit_train),
      "completeness": float(dci.completeness(matrix)),
  }


def _l1_logistic_regression(c):
  # scikit-learn 1.8 replaced penalty="l1" by l1_ratio=1; older versions need the former.
  version = tuple(int(part) for part in sklearn.__version__.split(".")[:2])
  penalty = {"l1_ratio": 1.} if version >= (1, 8) else {"penalty": "l1"}
  return linear_model.LogisticRegression(solver="liblinear", C=c, random_state=0, **penalty)


def compute_importance_linear(x_train, y_train, x_test, y_test, alpha=0.01, c=100.):
  """Sparse linear importances [d, F] and explicitness 1 - 6 MSE on train and test."""
  num_codes, num_factors = x_train.shape[0], y_train.shape[0]
  matrix = np.zeros([num_codes, num_factors])
  mse_train, mse_test = np.zeros(num_factors), np.zeros(num_factors)
  for k in range(num_factors):
    low, high = np.min(y_train[k]), np.max(y_train[k])
    span = (high - low) if high > low else 1.
    target_train = (y_train[k] - low) / span
    target_test = (y_test[k] - low) / span
    if np.unique(target_train).size == 2:
      model = _l1_logistic_regression(c)
      model.fit(x_train.T, target_train.astype(np.int64))
    else:
      model = linear_model.Lasso(alpha=alpha)
      model.fit(x_train.T, target_train)
    matrix[:, k] = np.abs(np.ravel(model.coef_)) + 1e-7
    mse_train[k] = np.mean((model.predict(x_train.T) - target_train)**2)
    mse_test[k] = np.mean((model.predict(x_test.T) - target_test)**2)
  return matrix, 1. - 6. * np.mean(mse_train), 1. - 6. * np.mean(mse_test)
