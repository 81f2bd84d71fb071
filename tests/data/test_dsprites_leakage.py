"""Tests for GlanceNets' dSprites leakage split."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites_leakage
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

DSPRITES_SIZES = [3, 6, 40, 32, 32]


class FactorImagesDSprites(ground_truth_data.GroundTruthData):
  """dSprites' factor grid; an observation is a 1x1x5 image of its factors in [0, 1]."""

  observations_draw_random = False

  def __init__(self, sizes=None):
    self.sizes = list(sizes or DSPRITES_SIZES)

  @property
  def num_factors(self):
    return 5

  @property
  def factors_num_values(self):
    return self.sizes

  @property
  def observation_shape(self):
    return [1, 1, 5]

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num) for n in self.sizes], axis=1)

  def sample_observations_from_factors(self, factors, random_state):
    scaled = np.asarray(factors, np.float32) / (np.array(self.sizes, np.float32) - 1)
    return scaled.reshape(-1, 1, 1, 5)


def test_positions_on_dsprites_grid():
  np.testing.assert_array_equal(dsprites_leakage.centre_positions(32), [15, 16])
  low, high = dsprites_leakage.corner_positions(32)
  np.testing.assert_array_equal(low, np.arange(8))
  np.testing.assert_array_equal(high, np.arange(24, 32))


def test_positions_on_coarse_grids():
  # No position in (0.48, 0.52): the nearest to the middle.
  np.testing.assert_array_equal(dsprites_leakage.centre_positions(8), [3, 4])
  np.testing.assert_array_equal(dsprites_leakage.centre_positions(9), [4])
  low, high = dsprites_leakage.corner_positions(9)  # values 0, .125, .25, ...
  np.testing.assert_array_equal(low, [0, 1])
  np.testing.assert_array_equal(high, [7, 8])


def test_train_pool_has_glancenets_size_and_centred_positions():
  data = dsprites_leakage.DSpritesLeakage(FactorImagesDSprites())
  assert data.factors_num_values == [3, 6, 40, 2, 2]
  assert np.prod(data.factors_num_values) == 2880
  rs = np.random.RandomState(0)
  factors, observations = data.sample(200, rs)
  assert factors.shape == (200, 5)
  base = data.to_base_factors(factors)
  assert set(np.unique(base[:, 3])) <= {15, 16} and set(np.unique(base[:, 4])) <= {15, 16}
  np.testing.assert_array_equal(base[:, :3], factors[:, :3])
  positions = observations.reshape(200, 5)[:, 3:]
  assert np.all((positions > 0.48) & (positions < 0.52))


def test_train_pool_draws_like_a_state_space():
  data = dsprites_leakage.DSpritesLeakage(FactorImagesDSprites())
  factors = data.sample_factors(7, np.random.RandomState(3))
  rs = np.random.RandomState(3)
  expected = np.stack([rs.randint(n, size=7) for n in [3, 6, 40, 2, 2]], axis=1)
  np.testing.assert_array_equal(factors, expected)


def test_task_labels_and_concepts():
  data = dsprites_leakage.DSpritesLeakage(FactorImagesDSprites())
  factors = np.array([[2, 5, 0, 0, 1], [0, 0, 39, 1, 0]])
  np.testing.assert_array_equal(data.task_labels(factors), [2, 0])
  np.testing.assert_allclose(data.concepts(factors),
                             [[0, 0, 1, 1, 0], [1, 0, 0, 0, 1]])


def test_test_pool_corners_and_labels():
  data = dsprites_leakage.DSpritesLeakage(FactorImagesDSprites())
  assert data.test_pool_size == 3 * 6 * 40 * 2 * 8 * 8
  factors, labels, observations = data.sample_test(3000, np.random.RandomState(1))
  assert observations.shape == (3000, 1, 1, 5)
  x, y = factors[:, 3], factors[:, 4]
  top_right = (x >= 24) & (y >= 24)
  bottom_left = (x <= 7) & (y <= 7)
  np.testing.assert_array_equal(labels, top_right.astype(int))
  assert np.all(top_right | bottom_left)
  assert 0.45 < labels.mean() < 0.55
  # Without replacement: no configuration twice.
  assert len({tuple(f) for f in factors}) == 3000
  # Every shape, scale and some orientations appear.
  assert set(factors[:, 0]) == {0, 1, 2} and set(factors[:, 1]) == set(range(6))


def test_test_pool_is_seeded_and_draws_with_replacement_beyond_its_size():
  data = dsprites_leakage.DSpritesLeakage(FactorImagesDSprites([2, 1, 1, 5, 5]))
  # Grid 0, .25, .5, .75, 1: one position per corner; pool of 2 * 2 configurations.
  assert data.test_pool_size == 4
  factors, labels = data.sample_test_factors(50, np.random.RandomState(0))
  assert set(map(tuple, factors[:, 3:])) == {(0, 0), (4, 4)}
  again, _ = data.sample_test_factors(50, np.random.RandomState(0))
  np.testing.assert_array_equal(factors, again)
  np.testing.assert_array_equal(labels, factors[:, 3] == 4)


def test_rejects_data_without_dsprites_factors():
  with pytest.raises(errors.UserError):
    dsprites_leakage.DSpritesLeakage(dummy_data.DummyData())


def test_registered_names():
  names = named_data.known_names()
  assert "dsprites_leakage" in names
  assert "procedural_dsprites_leakage" in names
