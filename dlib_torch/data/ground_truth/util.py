"""State spaces: sampling factor vectors and mapping them to image indices."""
import numpy as np


class SplitDiscreteStateSpace:
  """Splits the factors of a data set into latent (exposed) and nuisance ones.

  Latent factors are sampled by `sample_latent_factors`; nuisance factors are
  filled in at random by `sample_all_factors` when an observation is rendered.
  Draws are column by column, latent factors in the order given, nuisance
  factors in ascending order, as in disentanglement_lib.
  """

  def __init__(self, factor_sizes, latent_factor_indices):
    self.factor_sizes = factor_sizes
    self.num_factors = len(self.factor_sizes)
    self.latent_factor_indices = latent_factor_indices
    self.observation_factor_indices = [
        i for i in range(self.num_factors) if i not in self.latent_factor_indices
    ]

  @property
  def num_latent_factors(self):
    return len(self.latent_factor_indices)

  def sample_latent_factors(self, num, random_state):
    """Samples a batch of the latent factors: int64 [num, num_latent]."""
    factors = np.zeros(shape=(num, len(self.latent_factor_indices)), dtype=np.int64)
    for pos, i in enumerate(self.latent_factor_indices):
      factors[:, pos] = self._sample_factor(i, num, random_state)
    return factors

  def sample_all_factors(self, latent_factors, random_state):
    """Completes latent factors with random nuisance factors: int64 [num, num_factors]."""
    num_samples = latent_factors.shape[0]
    all_factors = np.zeros(shape=(num_samples, self.num_factors), dtype=np.int64)
    all_factors[:, self.latent_factor_indices] = latent_factors
    for i in self.observation_factor_indices:
      all_factors[:, i] = self._sample_factor(i, num_samples, random_state)
    return all_factors

  def _sample_factor(self, i, num, random_state):
    return random_state.randint(self.factor_sizes[i], size=num)


class StateSpaceAtomIndex:
  """Maps a full factor configuration to the row of the image array that shows it."""

  def __init__(self, factor_sizes, features):
    self.factor_sizes = factor_sizes
    num_total_atoms = np.prod(self.factor_sizes)
    # Row-major strides, as floats (the original divides floats).
    self.factor_bases = num_total_atoms / np.cumprod(self.factor_sizes)
    feature_state_space_index = self._features_to_state_space_index(features)
    if np.unique(feature_state_space_index).size != num_total_atoms:
      raise ValueError("Features matrix does not cover the whole state space.")
    lookup_table = np.zeros(num_total_atoms, dtype=np.int64)
    lookup_table[feature_state_space_index] = np.arange(num_total_atoms)
    self.state_space_to_save_space_index = lookup_table

  def features_to_index(self, features):
    """Returns the indices of the rows that show the given factor configurations."""
    state_space_index = self._features_to_state_space_index(features)
    return self.state_space_to_save_space_index[state_space_index]

  def _features_to_state_space_index(self, features):
    # The original only rejects values above the size (not equal to it); we
    # reject both, since a value equal to the size indexes another atom.
    if (np.any(features >= np.expand_dims(self.factor_sizes, 0)) or
        np.any(features < 0)):
      raise ValueError("Feature indices have to be within [0, factor_size-1]!")
    return np.array(np.dot(features, self.factor_bases), dtype=np.int64)
