"""MIG-sup as the review computes it (Zaidi et al., 2020).

MIG-sup (Li et al., "Progressive learning and disentanglement of
hierarchical representations", ICLR 2020) is MIG turned around: for each code
dimension, the gap between the normalised mutual information of its most and
second-most informative factors, averaged over code dimensions. It rewards
codes that each carry one factor only (modularity), where MIG rewards factors
that each live in one code (compactness).

Departure of the reference (ubisoft src/metrics/mig_sup.py) from the paper:
as in the review's MIG, I(v_f; z_c) is divided by the CODE's entropy H(z_c);
the paper normalises by the factor's entropy H(v_f), as Chen et al.'s MIG
does. The default `normalize_by="code"` reproduces the reference;
`normalize_by="factor"` gives the paper's definition. With the code's
entropy, a constant code (H = 0) makes the score NaN.

Codes, and continuous factors, are binned per column (review_information).
"""
import gin

from dlib_torch.evaluation.metrics import mig_review
from dlib_torch.evaluation.metrics import review_information


def mig_sup(factors, codes, continuous_factors=True, nb_bins=10, normalize_by="code"):
  """MIG-sup of factors [N, K] (K >= 2) and codes [N, D]: {"score"}.

  `normalize_by` is "code" (the reference) or "factor" (Li et al.); the
  other arguments are those of review_information.prepare.
  """
  return {"score": mig_review.normalised_gap(factors, codes, continuous_factors, nb_bins,
                                             normalize_by, per="code")}


@gin.configurable(
    "mig_sup",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_mig_sup(ground_truth_data,
                    representation_function,
                    random_state,
                    artifact_dir=None,
                    num_train=gin.REQUIRED,
                    batch_size=16,
                    nb_bins=10,
                    normalize_by="code"):
  """The review's MIG-sup on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "mig_sup".
  """
  del artifact_dir
  return review_information.score_on_samples(
      mig_sup, "mig_sup", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins, normalize_by=normalize_by)
