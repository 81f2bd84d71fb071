"""GlanceNets concept leakage on dSprites (Marconato, Passerini, Teso 2022).

A model trained on centred sprites (position constant) should not encode
position. Leakage is tested on sprites in the bottom-left or top-right corner
(see data/ground_truth/dsprites_leakage.py): the frozen codes of those images
are split at random 75/25, a logistic regression (lbfgs, C=1, max_iter=1000)
learns the corner from the 75% and is scored on the 25%. An accuracy of 0.5
means no leakage, 1.0 full leakage. Inputs a model rejects (GlanceNet's
open-set recognition, methods/concepts/open_set.py; evaluation passes the
representation folder's `open_set` module as `acceptance_function`) get a
fair coin flip instead of a prediction.
"""
import math

import gin
import numpy as np
from sklearn import linear_model

from dlib_torch.data.ground_truth import dsprites_leakage
from dlib_torch.evaluation.metrics import code_transforms
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import batching
from dlib_torch.utils import errors


@gin.configurable(
    "glancenets_leakage",
    denylist=["ground_truth_data", "representation_function", "random_state",
               "artifact_dir", "acceptance_function"])
def compute_glancenets_leakage(ground_truth_data, representation_function, random_state,
                               artifact_dir=None, acceptance_function=None,
                               num_test_points=5000, batch_size=16, test_fraction=0.25,
                               code_transform="sigmoid", max_iter=1000):
  """Corner-prediction accuracy from the representation of corner sprites.

  Args:
    ground_truth_data: a DSpritesLeakage data set, or any data set with the five
      dSprites factors (shape, scale, orientation, posX, posY), which is wrapped.
    representation_function: numpy observations -> numpy codes [N, d].
    random_state: np.random.RandomState: test-pool draw, then split, then coin flips.
    artifact_dir: unused.
    acceptance_function: numpy observations -> bool [N], the inputs the model
      accepts (its open-set rejection); None: all are accepted.
    num_test_points: corner images drawn from the test pool (GlanceNets: 5000).
    batch_size: images rendered and encoded at a time.
    test_fraction: share of the corner images the classifier is scored on.
    code_transform: map applied to the codes (GlanceNets: "sigmoid").
    max_iter: iterations of the logistic regression.

  Returns:
    Dict with leakage_accuracy, leakage (accuracy - 0.5) and acceptance_rate.
  """
  del artifact_dir
  if not isinstance(ground_truth_data, dsprites_leakage.DSpritesLeakage):
    ground_truth_data = dsprites_leakage.DSpritesLeakage(ground_truth_data)
  factors, labels = ground_truth_data.sample_test_factors(num_test_points, random_state)
  batches = (ground_truth_data.base.sample_observations_from_factors(
      factors[start:start + batch_size], random_state)
             for start in range(0, num_test_points, batch_size))
  if acceptance_function is None:
    codes = np.concatenate(utils.represent_batches(batches, representation_function))
    accepted = None
  else:
    outputs = np.concatenate(utils.represent_batches(
        batches, _with_acceptance(representation_function, acceptance_function)))
    codes, accepted = outputs[:, :-1], outputs[:, -1] > 0.5
  codes = code_transforms.transform_codes(codes, code_transform)
  return compute_leakage(codes, labels, random_state, test_fraction, accepted=accepted,
                         max_iter=max_iter)


def _with_acceptance(representation_function, acceptance_function):
  """Codes with a last column 1 (accepted) or 0: both functions see the same images."""

  def function(observations):
    codes = np.asarray(representation_function(observations))
    accepted = np.asarray(acceptance_function(observations))
    if accepted.shape != (len(observations),):
      raise errors.UserError("The acceptance function returned shape {} for {} images, not "
                             "one flag per image.".format(list(accepted.shape),
                                                          len(observations)))
    return np.concatenate([codes, accepted.astype(codes.dtype)[:, None]], axis=1)

  if all(batching.takes_any_batch_size(f)
         for f in (representation_function, acceptance_function)):
    batching.declare_any_batch_size(function)
  return function


def compute_leakage(codes, labels, random_state, test_fraction=0.25, accepted=None,
                    max_iter=1000):
  """Accuracy of a logistic regression predicting `labels` from `codes` [N, d].

  Args:
    codes: frozen codes [N, d].
    labels: binary labels [N] that depend only on non-concept factors.
    random_state: np.random.RandomState for the split and the coin flips.
    test_fraction: share of the points scored (ceil, as sklearn's split).
    accepted: optional boolean [N]; rejected points get a coin flip.
    max_iter: iterations of the logistic regression.

  Returns:
    Dict with leakage_accuracy, leakage and acceptance_rate.
  """
  codes, labels = np.asarray(codes), np.asarray(labels)
  num_points = labels.shape[0]
  accepted = np.ones(num_points, bool) if accepted is None else np.asarray(accepted, bool)
  num_test = int(math.ceil(num_points * test_fraction))
  order = random_state.permutation(num_points)
  test, train = order[:num_test], order[num_test:]
  if num_test == 0 or np.unique(labels[train]).size < 2:
    raise errors.UserError("Leakage needs test points and both labels among the training "
                           "points; draw more points.")
  model = linear_model.LogisticRegression(max_iter=max_iter)
  model.fit(codes[train], labels[train])
  predictions = model.predict(codes[test])
  rejected = ~accepted[test]
  predictions[rejected] = model.classes_[random_state.randint(2, size=int(rejected.sum()))]
  accuracy = float(np.mean(predictions == labels[test]))
  return {
      "leakage_accuracy": accuracy,
      "leakage": accuracy - 0.5,
      "acceptance_rate": float(np.mean(accepted[test])),
  }
