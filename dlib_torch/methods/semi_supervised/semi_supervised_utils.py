"""Labelled data of the semi-supervised methods: sampling, labellers, split.

The labellers simulate imperfect annotators (Locatello et al. 2020,
"Disentangling Factors of Variation Using Few Labels"). Each returns the
labels as float32 [n, num_factors] and the number of values of each label.
"""
import math

import gin
import numpy as np

from dlib_torch.utils import errors


def sample_supervised_data(supervised_seed, ground_truth_data, num_labelled_samples):
  """Draws the labelled set: factors, observations, then the labeller's noise.

  Returns:
    (observations [n, H, W, C], labels [n, F'] float32, factor_sizes [F']).
  """
  random_state = np.random.RandomState(supervised_seed)
  factors = ground_truth_data.sample_factors(num_labelled_samples, random_state)
  observations = ground_truth_data.sample_observations_from_factors(factors, random_state)
  labels, factor_sizes = make_labeller(factors, ground_truth_data, random_state)
  return observations, labels, factor_sizes


def train_test_split(observations, labels, num_labelled_samples, train_percentage):
  """The first ceil(n * train_percentage) samples train, the rest validate."""
  if observations.shape[0] != num_labelled_samples:
    raise errors.UserError("Wrong observations shape.")
  num_train = int(math.ceil(num_labelled_samples * train_percentage))
  return (observations[:num_train], labels[:num_train], observations[num_train:],
          labels[num_train:])


@gin.configurable("labeller", denylist=["labels", "dataset"])
def make_labeller(labels, dataset, random_state, labeller_fn=gin.REQUIRED):
  """The configured labeller applied to the true factors."""
  return labeller_fn(labels, dataset, random_state)


@gin.configurable("perfect_labeller", denylist=["labels", "dataset"])
def perfect_labeller(labels, dataset, random_state):
  """The true factors."""
  del random_state
  return np.float32(labels), dataset.factors_num_values


@gin.configurable("bin_labeller", denylist=["labels", "dataset"])
def bin_labeller(labels, dataset, random_state, num_bins=5):
  """Factors with more than num_bins values binned into num_bins equal ranges."""
  del random_state
  labels = np.float32(labels)
  for i, num_values in enumerate(dataset.factors_num_values):
    if num_values > num_bins:
      size_bin = num_values / num_bins
      labels[:, i] = np.minimum(labels[:, i] // size_bin, num_bins - 1)
  return labels, np.minimum(dataset.factors_num_values, num_bins)


@gin.configurable("noisy_labeller", denylist=["labels", "dataset"])
def noisy_labeller(labels, dataset, random_state, prob_random=0.1):
  """Each label replaced by a uniformly drawn value with probability prob_random."""
  labels = np.array(labels)
  # Per sample, per factor, one uniform draw and (if below) one value: the original's order.
  for j in range(labels.shape[0]):
    for i, num_values in enumerate(dataset.factors_num_values):
      if random_state.rand() < prob_random:
        labels[j, i] = random_state.randint(num_values)
  return np.float32(labels), dataset.factors_num_values


@gin.configurable("permuted_labeller", denylist=["labels", "dataset"])
def permuted_labeller(labels, dataset, random_state):
  """Each factor's values relabelled by a random permutation (order information lost)."""
  labels = np.array(labels)
  for i, num_values in enumerate(dataset.factors_num_values):
    labels[:, i] = permute(labels[:, i], num_values, random_state)
  return np.float32(labels), dataset.factors_num_values


def permute(factor, num_values, random_state):
  """factor [n] (integers) mapped through a random permutation of range(num_values)."""
  permutation = random_state.permutation(range(num_values))
  factor[:] = permutation[np.asarray(factor, dtype=np.int64)]
  return factor


def filter_factors(labels, num_observed_factors, random_state):
  """Keeps num_observed_factors randomly chosen label columns."""
  if num_observed_factors < 1:
    raise errors.UserError("Cannot observe negative amount of factors.")
  if num_observed_factors > labels.shape[1]:
    raise errors.UserError("Cannot observe more factors than the ones in the dataset.")
  factors_to_keep = random_state.choice(labels.shape[1], size=num_observed_factors,
                                        replace=False)
  return labels[:, factors_to_keep], factors_to_keep


@gin.configurable("partial_labeller", denylist=["labels", "dataset"])
def partial_labeller(labels, dataset, random_state, num_observed_factors=2):
  """The true values of a random subset of the factors."""
  labels, factors_to_keep = filter_factors(np.float32(labels), num_observed_factors,
                                           random_state)
  return labels, [dataset.factors_num_values[i] for i in factors_to_keep]
