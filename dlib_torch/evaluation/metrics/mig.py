"""Mutual Information Gap (Chen et al., 2018).

For each factor, the gap between the two code dimensions that share the most
(discretised) mutual information with it, divided by the factor's entropy;
averaged over factors.
"""
from absl import logging
import gin
import numpy as np

from dlib_torch.evaluation.metrics import utils


@gin.configurable(
    "mig",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_mig(ground_truth_data,
                representation_function,
                random_state,
                artifact_dir=None,
                num_train=gin.REQUIRED,
                batch_size=16):
  """Computes MIG on `num_train` sampled points.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    random_state: np.random.RandomState for all the draws.
    artifact_dir: unused.
    num_train: number of points.
    batch_size: number of points sampled at a time.

  Returns:
    Dict with "discrete_mig".
  """
  del artifact_dir
  logging.info("Generating training set.")
  mus_train, ys_train = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state,
      batch_size)
  return compute_mig_from_codes(mus_train, ys_train)


@gin.configurable(
    "mig_validation",
    denylist=["observations", "labels", "representation_function"])
def compute_mig_on_fixed_data(observations, labels, representation_function,
                              batch_size=100):
  """MIG of fixed observations [N, ...] with factors `labels` [F, N]."""
  mus = utils.obtain_representation(observations, representation_function,
                                    batch_size)
  return compute_mig_from_codes(mus, labels)


def compute_mig_from_codes(mus, ys, discretize=utils.make_discretizer):
  """MIG of codes `mus` [d, N] and discrete factors `ys` [F, N].

  `discretize` maps the codes to discrete values; the default is the gin
  `discretizer` (e.g. `discretizer.discretizer_fn = @histogram_discretizer`,
  `discretizer.num_bins = 20`).
  """
  mutual_info = utils.discrete_mutual_info(discretize(mus), ys)
  entropy = utils.discrete_entropy(ys)
  return {"discrete_mig": mutual_information_gap(mutual_info, entropy)}


def mutual_information_gap(mutual_info, entropy):
  """Mean over factors of (largest - second largest MI [d, F]) / entropy [F].

  A constant factor has zero entropy and gives inf or NaN, as in the original.
  """
  sorted_mi = np.sort(mutual_info, axis=0)[::-1]
  with np.errstate(divide="ignore", invalid="ignore"):
    return np.mean(np.divide(sorted_mi[0, :] - sorted_mi[1, :], entropy))
