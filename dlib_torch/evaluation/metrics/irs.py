"""Interventional Robustness Score (Suter et al., 2019).

For each code dimension and factor: how much the code still moves (a high
quantile of its deviation from the mean) when the factor is held at one
value, relative to how much it moves overall. A dimension is robust if some
factor, held fixed, pins it down.
"""
from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "irs",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_irs(ground_truth_data,
                representation_function,
                random_state,
                artifact_dir=None,
                diff_quantile=0.99,
                num_train=gin.REQUIRED,
                batch_size=gin.REQUIRED):
  """Computes IRS on `num_train` sampled points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    diff_quantile: quantile of the deviations taken as their maximum (1.0 is
      the paper's version).
    num_train: number of points.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with "IRS" and "num_active_dims" (as in the original, the sum of the
    values of the non-constant code dimensions, not their number).
  """
  del artifact_dir
  logging.info("Generating training set.")
  mus, ys = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state,
      batch_size)
  return compute_irs_from_codes(mus, ys, diff_quantile)


def compute_irs_from_codes(mus, ys, diff_quantile=0.99,
                           discretize=utils.make_discretizer):
  """IRS of codes [d, N] and factors [F, N].

  The factors are discretised with `discretize` (default: the gin
  `discretizer`) and constant code dimensions are dropped first.
  """
  ys_discrete = discretize(ys)
  active_mus = _drop_constant_dims(mus)
  if not active_mus.any():
    irs_score = 0.0
  else:
    irs_score = scalable_disentanglement_score(
        ys_discrete.T, active_mus.T, diff_quantile)["avg_score"]
  return {"IRS": irs_score, "num_active_dims": np.sum(active_mus)}


def _drop_constant_dims(ys):
  """The rows of the matrix `ys` that are not constant."""
  ys = np.asarray(ys)
  if ys.ndim != 2:
    raise ValueError("Expecting a matrix.")
  return ys[ys.var(axis=1) > 0., :]


def scalable_disentanglement_score(gen_factors, latents, diff_quantile=0.99):
  """IRS of latents [N, L] given discrete generative factors [N, F].

  Assumes independent factors whose values are equally likely.

  Returns:
    Dict with "disentanglement_scores" [L], "avg_score" (their average
    weighted by each latent's largest deviation), "parents" [L] (the factor
    that best pins each latent), "IRS_matrix" [L, F] and "max_deviations" [L].
  """
  num_gen = gen_factors.shape[1]
  num_lat = latents.shape[1]
  max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
  cum_deviations = np.zeros([num_lat, num_gen])
  for i in range(num_gen):
    values = np.unique(gen_factors[:, i])
    for value in values:
      match = gen_factors[:, i] == value
      e_loc = np.mean(latents[match, :], axis=0)
      diffs = np.abs(latents[match, :] - e_loc)
      cum_deviations[:, i] += np.percentile(diffs, q=diff_quantile * 100, axis=0)
    cum_deviations[:, i] /= len(values)
  with np.errstate(divide="ignore", invalid="ignore"):
    irs_matrix = 1.0 - cum_deviations / max_deviations[:, np.newaxis]
  disentanglement_scores = irs_matrix.max(axis=1)
  if np.sum(max_deviations) > 0.0:
    avg_score = np.average(disentanglement_scores, weights=max_deviations)
  else:
    avg_score = np.mean(disentanglement_scores)
  return {
      "disentanglement_scores": disentanglement_scores,
      "avg_score": avg_score,
      "parents": irs_matrix.argmax(axis=1),
      "IRS_matrix": irs_matrix,
      "max_deviations": max_deviations,
  }
