"""DCIMIG as the review computes it (Zaidi et al., 2020).

DCIMIG (Sepliarskaia et al., "Evaluating disentangled representations",
arXiv 1910.05587): each code dimension is credited to its most informative
factor with the gap between its two largest mutual informations; each factor
keeps the largest gap credited to it; the sum over factors is divided by the
sum of the factors' entropies. 1 when every factor is held, alone, by a code
that holds nothing else.

The reference (ubisoft src/metrics/dcimig.py) follows the paper. Codes, and
continuous factors, are binned per column (review_information); entropies are
in bits.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import review_information


def dcimig(factors, codes, continuous_factors=True, nb_bins=10):
  """DCIMIG of factors [N, K] and codes [N, D] (K >= 2): {"score"}.

  The arguments are those of review_information.prepare.
  """
  factors, codes = review_information.prepare(factors, codes, continuous_factors, nb_bins,
                                              min_factors=2)
  mi = review_information.mutual_information(factors, codes)
  ranked = np.sort(mi, axis=0)
  credited = np.zeros_like(mi)
  # Ties go to the first factor, as np.argmax picks it.
  credited[np.argmax(mi, axis=0), np.arange(mi.shape[1])] = ranked[-1] - ranked[-2]
  with np.errstate(divide="ignore", invalid="ignore"):
    score = np.sum(np.max(credited, axis=1)) / np.sum(review_information.entropy(factors))
  return {"score": float(score)}


@gin.configurable(
    "dcimig",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_dcimig(ground_truth_data,
                   representation_function,
                   random_state,
                   artifact_dir=None,
                   num_train=gin.REQUIRED,
                   batch_size=16,
                   nb_bins=10):
  """The review's DCIMIG on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "dcimig".
  """
  del artifact_dir
  return review_information.score_on_samples(
      dcimig, "dcimig", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins)
