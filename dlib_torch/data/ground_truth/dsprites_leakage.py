"""GlanceNets' dSprites leakage split, built from any dSprites-like data set.

GlanceNets (Marconato et al. 2022) measure concept leakage on dSprites: a
model is trained on sprites near the centre of the image, where position does
not vary, and its frozen representation is then asked which corner (bottom
left or top right) a sprite sits in. The split is:

* train pool: posX and posY both in (0.48, 0.52) of the image width (on the
  32-point dSprites grid: positions 15 and 16, 2880 images); the task label is
  the shape, the supervised concepts are shape (one-hot), scale, orientation;
* test pool: posX and posY both below 0.25 (label 0, GlanceNets' "bottom
  left") or both above 0.75 (label 1, "top right"), 8 x 8 positions per corner
  on the dSprites grid; the task is to tell the two corners apart.

`DSpritesLeakage` wraps a GroundTruthData whose factors are, in order, shape,
scale, orientation, posX, posY (dsprites_full or a procedural renderer). It is
itself a GroundTruthData over the train pool, whose posX/posY factors index the
central positions, and it draws the test pool from a RandomState (GlanceNets
drew it unseeded).
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import util
from dlib_torch.utils import errors

SHAPE, SCALE, ORIENTATION, POS_X, POS_Y = range(5)
CENTRE_BAND = (0.48, 0.52)
CORNER_FRACTION = 0.25


def _position_values(num_positions):
  return np.linspace(0., 1., num_positions)


def centre_positions(num_positions, band=CENTRE_BAND):
  """Indices of the positions strictly inside `band` (as fractions of the width).

  A grid too coarse to have a position inside the band gets the position(s)
  nearest to the middle instead; on the dSprites grid both rules give {15, 16}.
  """
  values = _position_values(num_positions)
  inside = np.flatnonzero((values > band[0]) & (values < band[1]))
  if inside.size:
    return inside
  distance = np.abs(values - 0.5)
  return np.flatnonzero(np.isclose(distance, distance.min()))


def corner_positions(num_positions, fraction=CORNER_FRACTION):
  """(low, high): indices of positions below `fraction` and above 1 - `fraction`."""
  low = np.flatnonzero(_position_values(num_positions) < fraction)
  # The mirror image of `low`, so that both corners have the same size.
  return low, (num_positions - 1 - low)[::-1]


class DSpritesLeakage(ground_truth_data.GroundTruthData):
  """The centre-position train pool of a dSprites-like data set, and its corner test pool."""

  def __init__(self, base):
    if base.num_factors != 5:
      raise errors.UserError(
          "The dSprites leakage split needs a data set with the 5 dSprites factors "
          "(shape, scale, orientation, posX, posY); got {} factors.".format(base.num_factors))
    self.base = base
    self.observations_draw_random = base.observations_draw_random
    sizes = [int(n) for n in base.factors_num_values]
    self._centre = [centre_positions(sizes[POS_X]), centre_positions(sizes[POS_Y])]
    low_x, high_x = corner_positions(sizes[POS_X])
    low_y, high_y = corner_positions(sizes[POS_Y])
    if not (low_x.size and low_y.size):
      raise errors.UserError("The position grid is too coarse for corner positions.")
    self._corners = ((low_x, low_y), (high_x, high_y))
    self._factor_sizes = sizes[:POS_X] + [c.size for c in self._centre]
    self._state_space = util.SplitDiscreteStateSpace(self._factor_sizes,
                                                     list(range(5)))
    # The test pool in row-major order: shape, scale, orientation, corner,
    # x within the corner, y within the corner.
    self._test_pool_shape = tuple(sizes[:POS_X]) + (2, low_x.size, low_y.size)

  @property
  def num_factors(self):
    return 5

  @property
  def factors_num_values(self):
    return list(self._factor_sizes)

  @property
  def observation_shape(self):
    return self.base.observation_shape

  def sample_factors(self, num, random_state):
    """Train-pool factors; posX/posY index the central positions."""
    return self._state_space.sample_latent_factors(num, random_state)

  def to_base_factors(self, factors):
    """Maps train-pool factors to the factors of the wrapped data set."""
    base_factors = np.array(factors, dtype=np.int64, copy=True)
    for axis, centre in zip((POS_X, POS_Y), self._centre):
      base_factors[:, axis] = centre[base_factors[:, axis]]
    return base_factors

  def sample_observations_from_factors(self, factors, random_state):
    return self.base.sample_observations_from_factors(self.to_base_factors(factors),
                                                      random_state)

  def task_labels(self, factors):
    """GlanceNets' train task: the shape class (0, 1, 2)."""
    return np.asarray(factors)[:, SHAPE]

  def concepts(self, factors):
    """GlanceNets' supervised concepts: one-hot shape, then scale and orientation in [0, 1]."""
    factors = np.asarray(factors)
    one_hot = np.eye(self._factor_sizes[SHAPE], dtype=np.float32)[factors[:, SHAPE]]
    scaled = [factors[:, i] / max(self._factor_sizes[i] - 1, 1) for i in (SCALE, ORIENTATION)]
    return np.concatenate([one_hot, np.stack(scaled, axis=1).astype(np.float32)], axis=1)

  @property
  def test_pool_size(self):
    return int(np.prod(self._test_pool_shape))

  def sample_test_factors(self, num, random_state):
    """Draws test-pool points: (factors of the wrapped data set, corner labels).

    Without replacement (as GlanceNets' subsample) unless `num` exceeds the
    pool. Label 1: both positions high; 0: both low.
    """
    indices = random_state.choice(self.test_pool_size, size=num,
                                  replace=num > self.test_pool_size)
    shape, scale, orientation, corner, x, y = np.unravel_index(indices, self._test_pool_shape)
    (low_x, low_y), (high_x, high_y) = self._corners
    pos_x = np.where(corner == 1, high_x[x], low_x[x])
    pos_y = np.where(corner == 1, high_y[y], low_y[y])
    factors = np.stack([shape, scale, orientation, pos_x, pos_y], axis=1).astype(np.int64)
    return factors, corner.astype(np.int64)

  def sample_test(self, num, random_state):
    """Draws test-pool points: (base factors, corner labels, observations)."""
    factors, labels = self.sample_test_factors(num, random_state)
    return factors, labels, self.base.sample_observations_from_factors(factors, random_state)


def _leakage_of(base_name):
  return lambda: DSpritesLeakage(named_data.get_named_ground_truth_data(base_name))


named_data.register(
    "dsprites_leakage",
    "GlanceNets leakage train pool of dsprites_full (centred sprites); corner test pool")(
        _leakage_of("dsprites_full"))
named_data.register(
    "procedural_dsprites_leakage",
    "GlanceNets leakage train pool of procedural_dsprites; corner test pool")(
        _leakage_of("procedural_dsprites"))
