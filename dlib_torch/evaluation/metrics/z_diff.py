"""Z-diff, the beta-VAE metric as the review computes it on samples (Zaidi et al., 2020).

Z-diff (Higgins et al., "beta-VAE: Learning basic visual concepts with a
constrained variational framework", ICLR 2017): a point is the mean absolute
code difference over `batch_size` pairs of samples that share the value of
one factor, labelled with that factor. A linear classifier predicts the factor
from the point; the score is its evaluation accuracy, rescaled so that chance
(1 / K) is 0 and perfect is 1. In a disentangled code the fixed factor's
dimension differs least, which a linear model reads off.

Reference: ubisoft/ubisoft-laforge-disentanglement-metrics src/metrics/z_diff.py,
with the review's settings (src/experiments/config.py). The pairs are drawn
from the given samples, not from a generator: rows with the fixed value,
without replacement, shuffled again whenever a value runs out. Continuous
factors are binned (`continuous_factors=True`), as in the reference.

Departure of the reference from the paper as the review describes it (the
README's oddity 6): each of a point's pairs gets its own randomly drawn value
of the fixed factor, not one value per point. `fixed_value_per="pair"` (the
default) reproduces the reference's numbers; `fixed_value_per="batch"` fixes
one value per point. (Higgins et al.'s algorithm can be read either way, and
disentanglement_lib's `beta_vae_sklearn` fixes the value per pair too.)
A factor with no value shared by two rows gives NaN, as in the reference.
"""
import gin
import numpy as np
from sklearn import linear_model
from sklearn import utils as sklearn_utils

from dlib_torch.evaluation.metrics import intervention_sampling as sampling
from dlib_torch.utils import errors


def z_diff(factors, codes, continuous_factors=True, nb_bins=10, batch_size=200,
           nb_training=10000, nb_eval=5000, nb_max_iterations=10000, scale=True,
           random_state=0, fixed_value_per="pair"):
  """Z-diff of factors [N, K] (K >= 2) and codes [N, D].

  Args:
    factors: factor values, one row per sample (integer labels unless
      `continuous_factors`).
    codes: code values, one row per sample.
    continuous_factors: bin the factors into `nb_bins` equal-width bins
      (True) or take them as labels (False).
    nb_bins: number of bins of continuous factors.
    batch_size: pairs averaged into one point.
    nb_training: number of training points.
    nb_eval: number of evaluation points.
    nb_max_iterations: iteration limit of the logistic regression.
    scale: rescale the accuracy so that chance is 0 and perfect 1.
    random_state: int seed or np.random.RandomState; the only source of draws.
    fixed_value_per: "pair" (the reference) or "batch" (one value per point).

  Returns:
    Dict with "score" (evaluation accuracy).
  """
  if fixed_value_per not in ("pair", "batch"):
    raise errors.UserError(
        "fixed_value_per must be 'pair' or 'batch', not {!r}.".format(fixed_value_per))
  errors.check_positive_int("nb_max_iterations", nb_max_iterations)
  factors, codes = sampling.prepare_inputs(factors, codes, continuous_factors, nb_bins,
                                           batch_size, nb_training, nb_eval)
  random_state = sklearn_utils.check_random_state(random_state)
  num_factors = factors.shape[1]
  train_counts, eval_counts = sampling.point_factors(num_factors, nb_training, nb_eval,
                                                     random_state)
  train_points, eval_points = [], []
  for factor in range(num_factors):
    groups = sampling.RowGroups(factors[:, [factor]])
    if len(groups.eligible) == 0:
      return sampling.no_eligible_group("Z-diff", factor, "value")
    num_points = train_counts[factor] + eval_counts[factor]
    if fixed_value_per == "pair":
      # Only how many pairs fix each value matters: the reference lays the
      # pairs out by value, then shuffles them.
      values = np.sort(random_state.choice(groups.eligible, size=batch_size * num_points))
      pairs = sampling.draw_rows(groups, values, random_state, pairs=True)
      pairs = sampling.shuffle_points(random_state, pairs)[0]
    else:
      values = random_state.choice(groups.eligible, size=num_points)
      pairs = sampling.draw_rows(groups, np.repeat(values, batch_size), random_state,
                                 pairs=True)
    points = _mean_abs_differences(codes, pairs, batch_size)
    train_points.append(points[:train_counts[factor]])
    eval_points.append(points[train_counts[factor]:])
  train_labels = np.repeat(np.arange(num_factors), train_counts)
  eval_labels = np.repeat(np.arange(num_factors), eval_counts)
  train_points, train_labels = sampling.shuffle_points(
      random_state, np.concatenate(train_points), train_labels)
  eval_points, eval_labels = sampling.shuffle_points(
      random_state, np.concatenate(eval_points), eval_labels)
  if len(np.unique(train_labels)) < 2:
    raise errors.UserError("Z-diff's classifier needs training points of 2 factors or more; "
                           "nb_training={} is too small.".format(nb_training))
  model = linear_model.LogisticRegression(max_iter=nb_max_iterations)
  model.fit(train_points, train_labels)
  accuracy = model.score(eval_points, eval_labels)
  return {"score": sampling.normalized_accuracy(accuracy, num_factors, scale)}


def _mean_abs_differences(codes, pairs, batch_size, points_per_chunk=256):
  """Mean |z_a - z_b| over each run of `batch_size` pairs [P * batch_size, 2]: [P, D].

  A chunk of points at a time: all the pairs' codes at once would take
  gigabytes for wide codes.
  """
  num_points = len(pairs) // batch_size
  points = np.empty((num_points, codes.shape[1]))
  for start in range(0, num_points, points_per_chunk):
    chunk = pairs[start * batch_size:(start + points_per_chunk) * batch_size]
    points[start:start + points_per_chunk] = np.mean(np.abs(
        codes[chunk[:, 0]] - codes[chunk[:, 1]]).reshape(-1, batch_size, codes.shape[1]), axis=1)
  return points


@gin.configurable(
    "z_diff",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_z_diff(ground_truth_data,
                   representation_function,
                   random_state,
                   artifact_dir=None,
                   num_train=gin.REQUIRED,
                   batch_size=16,
                   nb_training=10000,
                   nb_eval=5000,
                   intervention_batch_size=200,
                   nb_max_iterations=10000,
                   scale=True,
                   fixed_value_per="pair"):
  """{"z_diff": score} on `num_train` points sampled `batch_size` at a time.

  The data set's factors are labels (`continuous_factors=False`);
  `intervention_batch_size` is z_diff's `batch_size` (pairs per point), the
  other parameters are z_diff's. `random_state` draws the sample, then the pairs.
  """
  del artifact_dir
  return sampling.score_on_samples(
      z_diff, "z_diff", ground_truth_data, representation_function, random_state, num_train,
      batch_size, intervention_batch_size, nb_training=nb_training, nb_eval=nb_eval,
      nb_max_iterations=nb_max_iterations, scale=scale, fixed_value_per=fixed_value_per)
