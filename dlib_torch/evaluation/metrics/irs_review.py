"""Interventional Robustness Score as the review computes it (Zaidi et al., 2020).

IRS (Suter et al., "Robustly disentangled causal mechanisms: validating deep
representations for interventional robustness", ICML 2019): for each code
dimension and factor, how far the code still moves from its mean while the
factor is held at one value (the `diff_quantile` quantile of the deviations,
averaged over the factor's values), relative to how far it moves overall. A
code is robust when some factor, held fixed, pins it down; the score is the
average of the codes' robustness weighted by their largest deviation.

The reference (ubisoft src/metrics/irs.py, a copy of disentanglement_lib's
with `diff_quantile=1.0`, the paper's maximum) drops constant code dimensions
first (it prints a warning; here it is logged), scores 0 when none is left,
and bins continuous factors into `nb_bins` groups. As in disentanglement_lib,
the weights are the codes' largest deviations, so pure-noise dimensions with
a wide range dominate the average (three noise codes beside five clean ones:
0.29 instead of 0.76). The arithmetic is irs.scalable_disentanglement_score.
"""
import numbers

from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import irs
from dlib_torch.evaluation.metrics import review_information
from dlib_torch.utils import errors


def irs_review(factors, codes, continuous_factors=True, nb_bins=10, diff_quantile=1.0):
  """IRS of factors [N, K] and codes [N, D].

  Args:
    factors: factor values, one row per sample (integer labels unless
      `continuous_factors`).
    codes: code values, one row per sample.
    continuous_factors: bin the factors (True) or take them as labels (False).
    nb_bins: number of equal-width bins per continuous factor.
    diff_quantile: quantile in [0, 1] of the deviations taken as their
      maximum (1.0: the maximum, as in the paper).

  Returns:
    Dict with "score".
  """
  factors, codes = review_information.check_inputs(factors, codes, continuous_factors,
                                                   nb_bins)
  if (isinstance(diff_quantile, bool) or not isinstance(diff_quantile, numbers.Real) or
      not 0.0 <= diff_quantile <= 1.0):
    raise errors.UserError(
        "diff_quantile must be a number in [0, 1], not {!r}.".format(diff_quantile))
  if continuous_factors:
    factors = review_information.bin_columns(factors, nb_bins)
  active = codes.var(axis=0) > 0.0
  if not np.all(active):
    logging.warning("IRS: dropping constant code dimensions %s.",
                    np.flatnonzero(~active).tolist())
  if not np.any(active):
    return {"score": 0.0}
  score = irs.scalable_disentanglement_score(factors, codes[:, active],
                                             diff_quantile)["avg_score"]
  return {"score": float(score)}


@gin.configurable(
    "irs_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_irs_review(ground_truth_data,
                       representation_function,
                       random_state,
                       artifact_dir=None,
                       num_train=gin.REQUIRED,
                       batch_size=16,
                       nb_bins=10,
                       diff_quantile=1.0):
  """The review's IRS on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "irs_review".
  """
  del artifact_dir
  return review_information.score_on_samples(
      irs_review, "irs_review", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins, diff_quantile=diff_quantile)
