"""Shared base: observations are rows of an image array, found by their factors.

Shapes3D, MPI3D, SmallNORB and Cars3D differ only in their file, factor
sizes, which factors are exposed, and how a row becomes an observation; this
class does the sampling (in the original's draw order) and the lookup.
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import util


class ImageArrayData(ground_truth_data.StateSpaceData):
  """A data set whose image array has one row per full factor configuration.

  Subclasses call `_set_images` in `__init__` and define `_to_observations`.
  Rows are found row-major over `factor_sizes` unless `features` (the factor
  configuration of every row) is given.
  """

  def _set_images(self, images, factor_sizes, latent_factor_indices, observation_shape,
                  features=None):
    self.images = images
    self.factor_sizes = list(factor_sizes)
    self.latent_factor_indices = list(latent_factor_indices)
    self.data_shape = list(observation_shape)
    self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes,
                                                    self.latent_factor_indices)
    if features is None:
      self.index = None
      self.factor_bases = np.prod(self.factor_sizes) / np.cumprod(self.factor_sizes)
    else:
      self.index = util.StateSpaceAtomIndex(self.factor_sizes, features)

  @property
  def factors_num_values(self):
    return [self.factor_sizes[i] for i in self.latent_factor_indices]

  def sample_observations_from_factors(self, factors, random_state):
    all_factors = self.state_space.sample_all_factors(factors, random_state)
    return self._to_observations(self.images[self.rows(all_factors)])

  def rows(self, all_factors):
    """Rows of the image array for full factor configurations."""
    if self.index is not None:
      return self.index.features_to_index(all_factors)
    return np.array(np.dot(all_factors, self.factor_bases), dtype=np.int64)

  def _to_observations(self, rows):
    raise NotImplementedError()
