"""JEMMIG as the review computes it (Zaidi et al., 2020).

JEMMIG (Do & Tran, "Theory and evaluation metrics for learning disentangled
representations", ICLR 2020): for each factor v_f, with z* its most
informative code and I2 the second-largest mutual information,
`H(v_f, z*) - I(v_f; z*) + I2` is small when z* holds v_f alone and no other
code holds it. The paper normalises this error by `H(v_f) + log2(nb_bins)`
(0 is best); the review (ubisoft src/metrics/jemmig.py) reports one minus the
normalised error, averaged over factors, so that 1 is best (the paper's
normalised JEMMIG is 1 - score). Where two codes tie for the largest mutual
information the reference takes the later one (the last of an ascending
sort), as done here.

Codes, and continuous factors, are binned per column (review_information);
entropies are in bits.
"""
import gin
import numpy as np

from dlib_torch.evaluation.metrics import review_information


def jemmig(factors, codes, continuous_factors=True, nb_bins=10):
  """JEMMIG of factors [N, K] and codes [N, D] (D >= 2): {"score"}.

  The arguments are those of review_information.prepare.
  """
  factors, codes = review_information.prepare(factors, codes, continuous_factors, nb_bins,
                                              min_codes=2)
  mi = review_information.mutual_information(factors, codes)
  joint = review_information.joint_entropy(factors, codes)
  factor_entropy = review_information.entropy(factors)
  scores = []
  for f, mi_f in enumerate(mi):
    order = np.argsort(mi_f, kind="stable")
    best, second = order[-1], order[-2]
    unexplained = joint[f, best] - mi_f[best] + mi_f[second]
    scores.append(1.0 - unexplained / (factor_entropy[f] + np.log2(nb_bins)))
  return {"score": float(np.mean(scores))}


@gin.configurable(
    "jemmig",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_jemmig(ground_truth_data,
                   representation_function,
                   random_state,
                   artifact_dir=None,
                   num_train=gin.REQUIRED,
                   batch_size=16,
                   nb_bins=10):
  """The review's JEMMIG on `num_train` sampled points (factors as discrete labels).

  Returns:
    Dict with "jemmig".
  """
  del artifact_dir
  return review_information.score_on_samples(
      jemmig, "jemmig", ground_truth_data, representation_function, random_state,
      num_train, batch_size, nb_bins=nb_bins)
