"""Mutual Information Gap as the review computes it (Zaidi et al., 2020).

MIG (Chen et al., "Isolating sources of disentanglement in VAEs", NeurIPS
2018): for each factor, the gap between the normalised mutual information of
its most and second-most informative code dimensions, averaged over factors.
A factor captured by one code alone scores 1.

Departure of the reference (ubisoft src/metrics/mig.py) from the paper: the
mutual information I(v_f; z_c) is divided by the CODE's entropy H(z_c), not
by the factor's entropy H(v_f). The default `normalize_by="code"` reproduces
the reference; `normalize_by="factor"` gives Chen et al.'s definition. With
the code's entropy, a constant code (H = 0) makes the score NaN.

Codes, and continuous factors, are binned per column (review_information).
"""
from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import review_information


def mig_review(factors, codes, continuous_factors=True, nb_bins=10, normalize_by="code"):
  """MIG of factors [N, K] and codes [N, D] (D >= 2): {"score"}.

  `normalize_by` is "code" (the reference) or "factor" (Chen et al.); the
  other arguments are those of review_information.prepare.
  """
  return {"score": normalised_gap(factors, codes, continuous_factors, nb_bins, normalize_by,
                                  per="factor")}


def normalised_gap(factors, codes, continuous_factors, nb_bins, normalize_by, per):
  """Mean gap between the two largest normalised I(v_f; z_c).

  per="factor": the gap over codes, averaged over factors (MIG); per="code":
  the gap over factors, averaged over codes (MIG-sup).
  """
  factors, codes = review_information.prepare(
      factors, codes, continuous_factors, nb_bins, min_factors=2 if per == "code" else 1,
      min_codes=2 if per == "factor" else 1)
  normalised = review_information.normalised_mutual_information(factors, codes, normalize_by)
  # mig.mutual_information_gap sorts along the first axis, averages along the
  # second and divides by its entropy argument (done already: ones).
  if per == "factor":
    normalised = normalised.T
  score = mig.mutual_information_gap(normalised, np.ones(normalised.shape[1]))
  if np.isnan(score):
    logging.warning("The score is NaN: a constant %s has zero entropy.", normalize_by)
  return float(score)


@gin.configurable(
    "mig_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_mig_review(ground_truth_data,
                       representation_function,
                       random_state,
                       artifact_dir=None,
                       num_train=gin.REQUIRED,
                       batch_size=16,
                       nb_bins=10,
                       normalize_by="code"):
  """The review's MIG on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "mig_review".
  """
  del artifact_dir
  return review_information.score_on_samples(
      mig_review, "mig_review", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins, normalize_by=normalize_by)
