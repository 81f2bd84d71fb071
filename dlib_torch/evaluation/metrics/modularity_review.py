"""Modularity as the review computes it (Zaidi et al., 2020).

Modularity (Ridgeway & Mozer, "Learning deep disentangled embeddings with the
F-statistic loss", NeurIPS 2018): a code dimension is modular when it shares
mutual information with one factor only. With m_f = I(v_f; z_c) and theta =
max_f m_f, the deviation from an ideal code is
`delta_c = sum_{f != argmax} m_f^2 / (theta^2 (K - 1))`; the score is the mean
of `1 - delta_c` over code dimensions.

Departure of the reference (ubisoft src/metrics/modularity.py): a constant
code has theta = 0, so its delta is 0/0 and the score NaN, whereas
disentanglement_lib's modularity (modularity_explicitness.modularity) scores
such a code 0. The paper does not define the case; NaN is kept so that the
numbers are the reference's.

Codes, and continuous factors, are binned per column (review_information).
"""
from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import review_information


def modularity_review(factors, codes, continuous_factors=True, nb_bins=10):
  """Modularity of factors [N, K] and codes [N, D] (K >= 2): {"score"}.

  The arguments are those of review_information.prepare.
  """
  factors, codes = review_information.prepare(factors, codes, continuous_factors, nb_bins,
                                              min_factors=2)
  mi = review_information.mutual_information(factors, codes)
  if np.any(np.max(mi, axis=0) == 0.0):
    logging.warning("Modularity is NaN: a code shares no information with any factor.")
    return {"score": float("nan")}
  return {"score": float(modularity_explicitness.modularity(mi.T))}


@gin.configurable(
    "modularity_review",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_modularity_review(ground_truth_data,
                              representation_function,
                              random_state,
                              artifact_dir=None,
                              num_train=gin.REQUIRED,
                              batch_size=16,
                              nb_bins=10):
  """The review's Modularity on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "modularity_review".
  """
  del artifact_dir
  return review_information.score_on_samples(
      modularity_review, "modularity_review", ground_truth_data, representation_function,
      random_state, num_train, batch_size, nb_bins=nb_bins)
