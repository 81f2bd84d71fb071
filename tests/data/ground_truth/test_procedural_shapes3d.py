"""Procedural Shapes3D: factors, draw order, and what each factor changes."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import named_data


@pytest.fixture(scope="module")
def data():
  return named_data.get_named_ground_truth_data("procedural_shapes3d")


def _render(data, *rows):
  return data.sample_observations_from_factors(np.array(rows), np.random.RandomState(0))


def test_factors_draw_order_and_format(data):
  assert data.factors_num_values == [10, 10, 10, 8, 4, 15]
  assert data.observation_shape == [64, 64, 3] and not data.observations_draw_random
  rs = np.random.RandomState(9)
  factors, observations = data.sample(16, rs)
  expected_rs = np.random.RandomState(9)
  np.testing.assert_array_equal(
      factors, np.stack([expected_rs.randint(k, size=16) for k in [10, 10, 10, 8, 4, 15]], 1))
  assert rs.randint(1 << 30) == expected_rs.randint(1 << 30)  # rendering drew nothing
  assert observations.dtype == np.float32 and observations.shape == (16, 64, 64, 3)
  assert observations.min() >= 0. and observations.max() <= 1.


def test_each_hue_colours_its_own_region(data):
  base = [0, 3, 6, 4, 0, 7]
  reference = _render(data, base)[0]
  changed = {}
  for factor in range(3):
    row = list(base)
    row[factor] = 8
    changed[factor] = np.any(np.abs(_render(data, row)[0] - reference) > 1e-6, axis=-1)
  # Floor, wall and object are regions that share only anti-aliased edge
  # pixels and together cover the image.
  assert (changed[0] & changed[1]).sum() < 2 * 64 and (changed[0] & changed[2]).sum() < 64
  assert changed[0][-1].all() and changed[1][0].all()  # bottom row floor, top row wall
  assert changed[2][36, 32] and 50 < changed[2].sum() < 1000  # object in the middle
  assert (changed[0] | changed[1] | changed[2]).all()


def test_scale_shape_and_orientation(data):
  def object_area(scale, shape, orientation):
    a = _render(data, [0, 0, 5, scale, shape, orientation])[0]
    b = _render(data, [0, 0, 2, scale, shape, orientation])[0]
    return np.any(np.abs(a - b) > 1e-6, axis=-1).sum()
  areas = [object_area(s, 0, 7) for s in range(8)]
  assert all(x < y for x, y in zip(areas, areas[1:]))
  assert areas[-1] == pytest.approx(areas[0] * (1.25 / 0.75) ** 2, rel=0.2)
  shapes = _render(data, *[[0, 3, 6, 4, shape, 7] for shape in range(4)])
  assert len({s.tobytes() for s in shapes}) == 4
  views = _render(data, *[[0, 3, 6, 4, 0, o] for o in range(15)])
  assert len({v.tobytes() for v in views}) == 15
  # Turning the view left or right mirrors the room's geometry (the light
  # is not symmetric, so compare where the floor is).
  def floor(orientation):
    a, b = _render(data, [1, 0, 0, 4, 0, orientation], [7, 0, 0, 4, 0, orientation])
    return np.any(np.abs(a - b) > 1e-6, axis=-1)
  assert (floor(0) != floor(14)[:, ::-1]).sum() < 64
