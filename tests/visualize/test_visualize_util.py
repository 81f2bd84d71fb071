"""Grid layouts, padding, cycles and file output of visualize_util."""
import numpy as np
import pytest
from PIL import Image

from dlib_torch.visualize import visualize_util


def _constant(value, height=4, width=4, channels=3):
  return np.full((height, width, channels), value, dtype=np.float64)


class TestLayouts:

  @pytest.mark.parametrize("n,rows", [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2), (7, 2),
                                      (8, 2), (9, 3), (10, 2), (12, 3), (15, 3), (20, 4),
                                      (32, 4)])
  def test_best_num_rows(self, n, rows):
    assert visualize_util.best_num_rows(n) == rows

  def test_padded_stack_and_array(self):
    stacked = visualize_util.padded_stack([_constant(0.), _constant(0.5)], padding_px=2, axis=1)
    assert stacked.shape == (4, 10, 3)
    np.testing.assert_array_equal(stacked[:, 4:6], 1.)
    np.testing.assert_array_equal(stacked[:, 6:], 0.5)
    red = visualize_util.padding_array(_constant(0.), 3, axis=0, value=[1., 0., 0.])
    assert red.shape == (3, 4, 3)
    np.testing.assert_array_equal(red[..., 0], 1.)
    np.testing.assert_array_equal(red[..., 1:], 0.)
    with pytest.raises(ValueError):
      visualize_util.padding_array(_constant(0.), 3, axis=0, value=[1., 0.])

  def test_padded_grid_is_row_major_with_white_fill(self):
    # 5 images -> 2 rows x 3 columns, one blank (white) cell at the end.
    images = [_constant(i / 10.) for i in range(5)]
    grid = visualize_util.padded_grid(images, padding_px=1)
    assert grid.shape == (2 * 4 + 1, 3 * 4 + 2, 3)
    assert grid[0, 5, 0] == pytest.approx(0.1)   # row 0, column 1: image 1
    assert grid[5, 0, 0] == pytest.approx(0.3)   # row 1, column 0: image 3
    np.testing.assert_array_equal(grid[5:, 10:], 1.)  # blank cell

  def test_pad_around_and_add_below(self):
    padded = visualize_util.pad_around(_constant(0., 3, 5), padding_px=2)
    assert padded.shape == (7, 9, 3)
    wide = visualize_util.add_below(_constant(0., 20, 200, 1), padding_px=10)
    # The 130 x 14 footer is right-aligned below, after 10 px of white.
    assert wide.shape == (20 + 10 + 14, 200, 3)
    np.testing.assert_array_equal(wide[30:, :70], 1.)
    narrow = _constant(0., 20, 100, 3)
    np.testing.assert_array_equal(visualize_util.add_below(narrow), narrow)


class TestCycles:

  def test_cycle_factor(self):
    np.testing.assert_array_equal(visualize_util.cycle_factor(1, 3, 4), [1, 2, 1, 0])
    np.testing.assert_array_equal(visualize_util.cycle_factor(0, 3, 6), [0, 1, 2, 2, 1, 0])
    cycle = visualize_util.cycle_factor(5, 40, 20)
    assert cycle[0] == 5 and cycle.min() >= 0 and cycle.max() <= 39

  def test_cycle_interval(self):
    np.testing.assert_allclose(visualize_util.cycle_interval(0., 4, -2., 2.), [0., 2., 0., -2.])

  def test_cycle_gaussian(self):
    values = visualize_util.cycle_gaussian(0., 4)
    np.testing.assert_allclose(values[[0, 2]], [0., 0.], atol=1e-12)
    # The turning points are the clipped 0.999 and 0.001 quantiles.
    assert values[1] == pytest.approx(3.090232306, abs=1e-6)
    assert values[3] == pytest.approx(-3.090232306, abs=1e-6)
    shifted = visualize_util.cycle_gaussian(1., 4, loc=1., scale=2.)
    np.testing.assert_allclose(shifted, 1. + 2. * values)


class TestFiles:

  def test_grid_save_images_column_major(self, tmp_path):
    images = [_constant(i / 8., 2, 2, 1) for i in range(5)]  # only 2 x 2 = 4 used
    path = str(tmp_path / "grid.png")
    visualize_util.grid_save_images(images, path)
    pixels = np.array(Image.open(path))
    assert pixels.shape == (4, 4, 3)
    # Image k goes to column k // 2, row k % 2; pixels truncate value * 255.
    expected = np.array([[0, 2], [1, 3]]) / 8. * 255.
    np.testing.assert_array_equal(pixels[::2, ::2, 0], expected.astype(np.uint8))

  def test_save_image_leaves_input_alone(self, tmp_path):
    image = _constant(0.5, 2, 2, 3)
    visualize_util.save_image(image, str(tmp_path / "a.png"))
    np.testing.assert_array_equal(image, 0.5)
    assert list(tmp_path.iterdir()) == [tmp_path / "a.png"]

  def test_save_animation(self, tmp_path):
    rs = np.random.RandomState(0)
    panels = rs.uniform(size=(10, 3, 64, 64, 1))  # 10 panels, 3 frames
    path = str(tmp_path / "animation0.gif")
    visualize_util.save_animation(panels, path, fps=10)
    with Image.open(path) as gif:
      assert gif.n_frames == 3
      assert gif.size == (380, 182)  # 2 x 5 grid + footer + padding, as the original
      assert gif.info["duration"] == 100

  @pytest.mark.parametrize("channels", [1, 3])
  def test_animation_pixels(self, tmp_path, channels):
    # Gray panels are written with one channel (fast) and keep every level; coloured ones
    # go through GIF's 256-colour palette.
    levels = np.random.RandomState(0).randint(0, 256, size=(2, 3, 64, 64, 1)) / 255.
    panels = levels if channels == 1 else np.concatenate([levels, levels, 1. - levels], -1)
    path = str(tmp_path / "animation.gif")
    visualize_util.save_animation(panels, path, fps=10)
    with Image.open(path) as gif:
      gif.seek(2)
      frame = np.asarray(gif.convert("RGB")).astype(np.float64)
    # Frame 2 of the first panel, after the 10-px border.
    expected = np.broadcast_to(np.round(panels[0, 2] * 255.), (64, 64, 3))
    error = np.abs(frame[10:74, 10:74] - expected)
    assert error.max() == 0 if channels == 1 else error.mean() < 8
