"""Procedural dSprites: factors, draw order, and the geometry of the drawn sprites."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import procedural_dsprites


@pytest.fixture(scope="module")
def data():
  return named_data.get_named_ground_truth_data("procedural_dsprites")


def _one(data, shape=0, scale=5, orientation=0, x=15, y=15):
  factors = np.array([[shape, scale, orientation, x, y]])
  return data.sample_observations_from_factors(factors, np.random.RandomState(0))[0, :, :, 0]


def test_factors_and_shapes(data):
  assert data.num_factors == 5
  assert data.factors_num_values == [3, 6, 40, 32, 32]
  assert data.observation_shape == [64, 64, 1]
  assert not data.observations_draw_random


def test_draw_order_is_dsprites_full(data):
  rs = np.random.RandomState(7)
  factors, observations = data.sample(10, rs)
  expected_rs = np.random.RandomState(7)
  expected = np.stack([expected_rs.randint(k, size=10) for k in [3, 6, 40, 32, 32]], axis=1)
  np.testing.assert_array_equal(factors, expected)
  # Rendering drew nothing: both states are at the same place.
  assert rs.randint(1 << 30) == expected_rs.randint(1 << 30)
  assert observations.dtype == np.float32 and observations.shape == (10, 64, 64, 1)
  assert set(np.unique(observations)) <= {0., 1.}


def test_position_moves_the_centroid(data):
  def centroid(image):
    rows, cols = np.nonzero(image)
    return rows.mean(), cols.mean()
  r0, c0 = centroid(_one(data, x=0, y=0))
  r1, c1 = centroid(_one(data, x=31, y=0))
  r2, c2 = centroid(_one(data, x=0, y=31))
  assert c1 - c0 == pytest.approx(31 * 1.25, abs=0.5) and r1 == pytest.approx(r0, abs=0.5)
  assert r2 - r0 == pytest.approx(31 * 1.25, abs=0.5) and c2 == pytest.approx(c0, abs=0.5)
  # The sprites span the image: centres from about 12.6 to 51.4 px.
  assert c0 == pytest.approx(12.625 - 0.5, abs=0.5) and c1 == pytest.approx(51.375 - 0.5, abs=0.5)


def test_scale_and_shape_areas(data):
  big, small = _one(data, scale=5).sum(), _one(data, scale=0).sum()
  # The square's side is 12.5 * sqrt(2) * scale pixels.
  assert big == pytest.approx((12.5 * 2 ** 0.5) ** 2, rel=0.1)
  assert small == pytest.approx(big / 4, rel=0.15)
  ellipse = _one(data, shape=1).sum()
  assert ellipse == pytest.approx(np.pi * 12.5 * 12.5 * 0.46, rel=0.1)
  assert 0 < _one(data, shape=2).sum() < np.pi * 12.5 ** 2


def test_orientation_rotates(data):
  # A square turned by a quarter turn (10 of 39 steps of 2*pi/39 is close) or
  # by the full turn (last value) looks like the unrotated one.
  np.testing.assert_array_equal(_one(data, orientation=0), _one(data, orientation=39))
  ellipse = _one(data, shape=1, orientation=0)
  rows, cols = np.nonzero(ellipse)
  assert np.ptp(cols) > 1.8 * np.ptp(rows)
  quarter = _one(data, shape=1, orientation=10)  # ~92 degrees.
  rows, cols = np.nonzero(quarter)
  assert np.ptp(rows) > 1.8 * np.ptp(cols)


def test_all_sprites_inside_and_nonempty():
  renderer = procedural_dsprites.SpriteRenderer()
  grid = np.stack(np.meshgrid(np.arange(3), np.arange(6), np.arange(40), [0, 31], [0, 31],
                              indexing="ij"), -1).reshape(-1, 5)
  full = np.concatenate([np.zeros((len(grid), 1), np.int64), grid], axis=1)
  masks = renderer.masks(full)
  # Nothing is cut by the border: the patch's pixels all land in the image.
  # pylint: disable=protected-access
  phase = renderer._phase
  patches = renderer._patches[grid[:, 0], grid[:, 1], grid[:, 2], phase[grid[:, 4]], phase[grid[:, 3]]]
  np.testing.assert_array_equal(masks.reshape(len(masks), -1).sum(1),
                                patches.reshape(len(masks), -1).sum(1))
  assert masks.reshape(len(masks), -1).sum(1).min() > 20


@pytest.mark.parametrize("name,extra_draw", [
    ("procedural_color_dsprites", lambda rs, n: rs.uniform(0.5, 1, [n, 1, 1, 3])),
    ("procedural_noisy_dsprites", lambda rs, n: rs.uniform(0, 1, [n, 64, 64, 3])),
])
def test_variants_draw_after_the_factors(name, extra_draw):
  data = named_data.get_named_ground_truth_data(name)
  assert data.observation_shape == [64, 64, 3] and data.observations_draw_random
  rs = np.random.RandomState(3)
  factors, observations = data.sample(4, rs)
  expected_rs = np.random.RandomState(3)
  for k in [3, 6, 40, 32, 32]:
    expected_rs.randint(k, size=4)
  draw = extra_draw(expected_rs, 4)
  mask = named_data.get_named_ground_truth_data("procedural_dsprites").sample_observations_from_factors(
      factors, np.random.RandomState(0))
  if name == "procedural_color_dsprites":
    np.testing.assert_allclose(observations, mask * draw)
  else:
    np.testing.assert_allclose(observations, np.minimum(mask + draw, 1.))


def test_scream_variant_draw_order_and_inversion():
  data = named_data.get_named_ground_truth_data("procedural_scream_dsprites")
  texture = procedural_dsprites.scream_texture()
  assert texture.shape == (274, 213, 3) and texture.min() >= 0 and texture.max() <= 1
  rs = np.random.RandomState(5)
  factors, observations = data.sample(2, rs)
  assert observations.dtype == np.float32
  expected_rs = np.random.RandomState(5)
  for k in [3, 6, 40, 32, 32]:
    expected_rs.randint(k, size=2)
  mask = named_data.get_named_ground_truth_data("procedural_dsprites").sample_observations_from_factors(
      factors, np.random.RandomState(0))[..., 0] == 1
  for i in range(2):
    x, y = expected_rs.randint(0, 274 - 64), expected_rs.randint(0, 213 - 64)
    background = (texture[x:x + 64, y:y + 64] + expected_rs.uniform(0, 1, size=3)) / 2
    background[mask[i]] = 1 - background[mask[i]]
    np.testing.assert_allclose(observations[i], background, rtol=1e-6)
