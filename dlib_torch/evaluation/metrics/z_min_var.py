"""Z-min-var, the FactorVAE metric as the review computes it on samples (Zaidi et al., 2020).

Z-min Variance (Kim & Mnih, "Disentangling by factorising", ICML 2018): a
point is a batch of `batch_size` samples that share the value of one factor;
the code dimension whose variance over the batch is smallest relative to its
global variance votes for that factor. Each dimension is assigned the factor
it voted for most on the training points; the score is the accuracy of that
assignment on the evaluation points, rescaled so that chance (1 / K) is 0 and
perfect is 1. Dimensions with a global standard deviation below
`std_threshold` do not vote.

Reference: ubisoft/ubisoft-laforge-disentanglement-metrics src/metrics/z_min_var.py,
with the review's settings (src/experiments/config.py). The batches are drawn
from the given samples, not from a generator: rows with the fixed value,
without replacement, shuffled again whenever a value runs out. Continuous
factors are binned (`continuous_factors=True`), as in the reference.

Reference details reproduced (the README's oddities 5 and 7):
- a vote is the dimension's position among the active dimensions, not its
  index (FactorVAE's `votes` in factor_vae.py has the same quirk). It
  relabels rows of the vote matrix and leaves the accuracy unchanged.
- the review's `std_threshold` is 0.02 (its config); the reference function's
  own default is 0.05. The default here is the review's.
A factor with no value shared by two rows gives NaN, as in the reference; so
does a code with no active dimension (the reference fails there).
"""
import gin
from sklearn import utils as sklearn_utils

from dlib_torch.evaluation.metrics import intervention_sampling as sampling


def z_min_var(factors, codes, continuous_factors=True, nb_bins=10, batch_size=200,
              nb_training=800, nb_eval=800, nb_variance_estimate=10000, std_threshold=0.02,
              scale=True, random_state=0):
  """Z-min-var of factors [N, K] (K >= 2) and codes [N, D].

  Args:
    factors: factor values, one row per sample (integer labels unless
      `continuous_factors`).
    codes: code values, one row per sample.
    continuous_factors: bin the factors into `nb_bins` equal-width bins
      (True) or take them as labels (False).
    nb_bins: number of bins of continuous factors.
    batch_size: samples per point (>= 2).
    nb_training: number of training points.
    nb_eval: number of evaluation points.
    nb_variance_estimate: most samples used for the global variances.
    std_threshold: smallest global standard deviation of a voting dimension.
    scale: rescale the accuracy so that chance is 0 and perfect 1.
    random_state: int seed or np.random.RandomState; the only source of draws.

  Returns:
    Dict with "score" (evaluation accuracy).
  """
  factors, codes = sampling.prepare_inputs(factors, codes, continuous_factors, nb_bins,
                                           batch_size, nb_training, nb_eval, min_batch_size=2)
  return sampling.variance_vote_score(
      factors, codes, lambda factor: [factor], "min", batch_size, nb_training, nb_eval,
      nb_variance_estimate, std_threshold, scale, sklearn_utils.check_random_state(random_state))


@gin.configurable(
    "z_min_var",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_z_min_var(ground_truth_data,
                      representation_function,
                      random_state,
                      artifact_dir=None,
                      num_train=gin.REQUIRED,
                      batch_size=16,
                      nb_training=800,
                      nb_eval=800,
                      intervention_batch_size=200,
                      nb_variance_estimate=10000,
                      std_threshold=0.02,
                      scale=True):
  """{"z_min_var": score} on `num_train` points sampled `batch_size` at a time.

  The data set's factors are labels (`continuous_factors=False`);
  `intervention_batch_size` is z_min_var's `batch_size` (samples per point), the
  other parameters are z_min_var's. `random_state` draws the sample, then the batches.
  """
  del artifact_dir
  return sampling.score_on_samples(
      z_min_var, "z_min_var", ground_truth_data, representation_function, random_state,
      num_train, batch_size, intervention_batch_size, nb_training=nb_training,
      nb_eval=nb_eval, nb_variance_estimate=nb_variance_estimate,
      std_threshold=std_threshold, scale=scale)
