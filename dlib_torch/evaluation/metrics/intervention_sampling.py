"""Labelled points of the intervention-based metrics (Z-diff, Z-min-var, Z-max-var).

The Ubisoft review (Zaidi et al., 2020, arXiv 2012.09276) computes the three
metrics from a fixed sample of factors and codes instead of a generator: an
intervention on a factor becomes a choice of rows that share a value (of that
factor for Z-diff and Z-min-var, of all the other factors for Z-max-var).
This module holds the pieces they share: input checks and the binning of
continuous factors, the factor each point fixes, the groups of rows, the
drawing of rows within a group, and the variance vote of Z-min-var and
Z-max-var. Draws come from a np.random.RandomState in the reference's order
(its `np.random.*` calls in ubisoft src/metrics/z_*.py), so a RandomState
seeded as the reference seeds numpy's global generator gives its numbers.
"""
import functools
import numbers

from absl import logging
import numpy as np

from dlib_torch.evaluation.metrics import factor_vae
from dlib_torch.evaluation.metrics import review_information
from dlib_torch.utils import errors


def prepare_inputs(factors, codes, continuous_factors, nb_bins, batch_size, nb_training,
                   nb_eval, min_batch_size=1):
  """Checked factors [N, K] (binned if continuous) and codes [N, D]; a UserError if unusable.

  `min_batch_size` is 2 for the variance metrics (a variance needs 2 rows).
  """
  factors, codes = review_information.check_inputs(factors, codes, continuous_factors,
                                                   nb_bins, min_factors=2)
  for name, value in (("batch_size", batch_size), ("nb_training", nb_training),
                      ("nb_eval", nb_eval)):
    errors.check_positive_int(name, value)
  if batch_size < min_batch_size:
    raise errors.UserError("batch_size must be at least {}, not {}.".format(
        min_batch_size, batch_size))
  if continuous_factors:
    factors = review_information.bin_columns(factors, nb_bins)
  return factors, codes


def score_on_samples(metric_fn, name, ground_truth_data, representation_function,
                     random_state, num_train, batch_size, intervention_batch_size, **params):
  """{name: score} of an intervention metric on `num_train` sampled points.

  The points are sampled `batch_size` at a time; the metric then draws from
  the same `random_state`, with `intervention_batch_size` as its own
  `batch_size` (samples or pairs per point).
  """
  return review_information.score_on_samples(
      functools.partial(metric_fn, random_state=random_state,
                        batch_size=intervention_batch_size),
      name, ground_truth_data, representation_function, random_state, num_train, batch_size,
      **params)


def point_factors(num_factors, nb_training, nb_eval, random_state):
  """How many training and evaluation points fix each factor, drawn uniformly.

  As in the reference: all training labels, then all evaluation labels. Only
  the counts matter, since a factor's points are built together.
  """
  train = random_state.randint(low=0, high=num_factors, size=nb_training)
  evaluation = random_state.randint(low=0, high=num_factors, size=nb_eval)
  return (np.bincount(train, minlength=num_factors),
          np.bincount(evaluation, minlength=num_factors))


class RowGroups:
  """The rows of a sample grouped by equal values of some of its factor columns.

  Attributes:
    rows: list, for each group (distinct value, in np.unique's sorted order), of
      the ascending indices of its rows.
    eligible: indices of the groups with at least 2 rows, the only ones the
      metrics fix (one row gives no pair and no variance).
  """

  def __init__(self, columns):
    _, group_of_row, sizes = np.unique(columns, axis=0, return_inverse=True,
                                       return_counts=True)
    order = np.argsort(group_of_row.reshape(-1), kind="stable")
    self.rows = np.split(order, np.cumsum(sizes)[:-1])
    self.eligible = np.flatnonzero(sizes > 1)


def no_eligible_group(metric, factor, what):
  """Logs why the score is NaN (the reference prints it and returns NaN)."""
  logging.warning("%s: no %s of factor %d occurs in 2 or more rows (too many bins for "
                  "continuous factors, or too few rows); the score is NaN.", metric, what, factor)
  return {"score": float("nan")}


def draw_rows(groups, group_of_item, random_state, pairs=False):
  """Rows for items that each fix a group: [num_items], or [num_items, 2] pairs.

  Each group's rows are used without replacement: its row array is shuffled in
  place and its first rows taken, then shuffled again for the next pass when
  the group's items need more rows than it has (for pairs, a pass serves at
  most `len // 2` items, pairing its first `take` rows with the next `take`). Groups are served in sorted
  order and, within a group, items in their order, as in the reference.

  Args:
    groups: RowGroups.
    group_of_item: [num_items] eligible group index of each item.
    random_state: np.random.RandomState.
    pairs: draw two distinct rows per item instead of one.
  """
  order = np.argsort(group_of_item, kind="stable")
  group_ids, counts = np.unique(group_of_item, return_counts=True)
  drawn = []
  for group, count in zip(group_ids, counts):
    rows = groups.rows[group].copy()
    per_pass = len(rows) // 2 if pairs else len(rows)
    for start in range(0, count, per_pass):
      random_state.shuffle(rows)
      take = min(per_pass, count - start)
      drawn.append(np.stack([rows[:take], rows[take:2 * take]], axis=1) if pairs
                   else rows[:take].copy())
  out = np.empty((len(group_of_item), 2) if pairs else len(group_of_item), dtype=np.int64)
  out[order] = np.concatenate(drawn)
  return out


def shuffle_points(random_state, *arrays):
  """The arrays' rows in one random order, drawn as the reference's final shuffle."""
  order = np.arange(len(arrays[0]))
  random_state.shuffle(order)
  return [array[order] for array in arrays]


def normalized_accuracy(accuracy, num_factors, scale):
  """Accuracy mapped to [0, 1] from chance level 1 / num_factors (if `scale`)."""
  if not scale:
    return float(accuracy)
  return float((accuracy - 1. / num_factors) / (1. - 1. / num_factors))


def variance_vote_score(factors, codes, fixed_columns, vote, batch_size, nb_training,
                        nb_eval, nb_variance_estimate, std_threshold, scale, random_state):
  """Score of a variance-vote metric (Z-min-var, Z-max-var) on prepared inputs.

  Global variances (ddof=1) come from the first `nb_variance_estimate` rows in
  a random order; dimensions whose standard deviation is below
  `std_threshold` do not vote. Each point is a batch of rows that share the
  values of `fixed_columns(factor)` (a group drawn uniformly among those with
  2 or more rows); its vote is the dimension of least ("min") or greatest
  ("max") batch variance relative to the global one. A majority-vote
  classifier (FactorVAE's) maps dimensions to factors; the score is its
  evaluation accuracy.

  Args:
    factors: discrete factors [N, K]; codes: [N, D].
    fixed_columns: maps a factor index to the factor columns a batch fixes.
    vote: "min" or "max".
    random_state: np.random.RandomState, drawn from in the reference's order.

  Returns:
    Dict with "score"; NaN when a factor has no group of 2 rows or no
    dimension is active.
  """
  metric = "Z-{}-var".format(vote)
  errors.check_positive_int("nb_variance_estimate", nb_variance_estimate)
  if nb_variance_estimate < 2:
    raise errors.UserError("nb_variance_estimate must be at least 2 (a variance needs 2 "
                           "rows), not {}.".format(nb_variance_estimate))
  if (isinstance(std_threshold, bool) or not isinstance(std_threshold, numbers.Real) or
      not std_threshold >= 0):
    raise errors.UserError("std_threshold must be a number >= 0, not {!r}.".format(
        std_threshold))
  order = shuffle_points(random_state, np.arange(len(codes)))[0]
  variances = np.var(codes[order][:nb_variance_estimate], axis=0, ddof=1)
  active = factor_vae.prune_dims(variances, threshold=std_threshold)
  if not active.any():
    logging.warning("%s: no code dimension has a standard deviation of at least %g; the "
                    "score is NaN.", metric, std_threshold)
    return {"score": float("nan")}
  num_factors = factors.shape[1]
  train_counts, eval_counts = point_factors(num_factors, nb_training, nb_eval, random_state)
  train_batches, eval_batches = [], []
  for factor in range(num_factors):
    groups = RowGroups(factors[:, fixed_columns(factor)])
    if len(groups.eligible) == 0:
      return no_eligible_group(metric, factor, "value" if vote == "min" else
                               "combination of the other factors")
    num_points = train_counts[factor] + eval_counts[factor]
    # The reference draws Z-max-var's groups with Python's `random`; here
    # they come from random_state, at the same place in the sequence.
    fixed = random_state.choice(groups.eligible, size=num_points)
    rows = draw_rows(groups, np.repeat(fixed, batch_size), random_state)
    batches = codes[rows].reshape(num_points, batch_size, -1)
    train_batches.append(batches[:train_counts[factor]])
    eval_batches.append(batches[train_counts[factor]:])
  # Votes do not depend on the order of the points; the shuffles keep the
  # random stream where the reference leaves it.
  train_batches, train_labels = shuffle_points(
      random_state, np.concatenate(train_batches),
      np.repeat(np.arange(num_factors), train_counts))
  eval_batches, eval_labels = shuffle_points(
      random_state, np.concatenate(eval_batches),
      np.repeat(np.arange(num_factors), eval_counts))
  # FactorVAE's votes take the argmin of batch / global variance. Dividing by
  # the negated global variances gives exactly -(ratio), so its argmin is the
  # argmax of the ratio (ties: first dimension in both).
  accuracy = factor_vae.compute_factor_vae_from_codes(
      variances if vote == "min" else -variances, train_batches, train_labels,
      eval_batches, eval_labels, num_factors, active)["eval_accuracy"]
  return {"score": normalized_accuracy(accuracy, num_factors, scale)}
