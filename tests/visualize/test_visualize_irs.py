"""visualize_irs: the interventional-effects grid and the values of its cells."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from dlib_torch.visualize import plotting  # pylint: disable=g-import-not-at-top
from dlib_torch.visualize import visualize_irs  # pylint: disable=g-import-not-at-top

# z_0 = g_0 + g_1 / 10; z_1 = g_1, over a full 3 x 2 grid of factor values.
FACTORS = np.array([[a, b] for a in range(3) for b in range(2) for _ in range(2)])
LATENTS = np.stack([FACTORS[:, 0] + FACTORS[:, 1] / 10., FACTORS[:, 1] * 1.], axis=1)


def test_unconditioned_cell_plots_mean_median_and_std():
  plt = plotting.pyplot()
  fig, ax = plt.subplots()
  visualize_irs._visualize_interventional_effect(FACTORS, LATENTS, 0, 0, 0,
                                                 no_conditioning=True, ax=ax)
  mean, median, upper, lower = (line.get_ydata() for line in ax.lines)
  np.testing.assert_allclose(mean, [0.05, 1.05, 2.05])
  np.testing.assert_allclose(median, [0.05, 1.05, 2.05])
  np.testing.assert_allclose(upper - mean, [0.05] * 3)
  np.testing.assert_allclose(mean - lower, [0.05] * 3)
  assert ax.get_ylabel() == "E[z_0|g_0]"
  plt.close(fig)


def test_conditioned_cell_plots_one_line_per_parent_value():
  plt = plotting.pyplot()
  fig, ax = plt.subplots()
  # Latent 0 with parent factor 0 held at each value, intervening on factor 1.
  visualize_irs._visualize_interventional_effect(FACTORS, LATENTS, 0, 0, 1, ax=ax)
  assert len(ax.lines) == 3
  for value, line in enumerate(ax.lines):
    np.testing.assert_array_equal(line.get_xdata(), [0, 1])
    np.testing.assert_allclose(line.get_ydata(), [value, value + 0.1])
    assert line.get_label() == "g_0=={}".format(value)
  plt.close(fig)


def test_conditioned_means_leave_a_gap_where_a_pair_was_not_sampled():
  plt = plotting.pyplot()
  fig, ax = plt.subplots()
  # No point has (g_0, g_1) == (1, 1); (0, 0) has three points of unequal z.
  factors = np.array([[0, 0], [0, 0], [0, 0], [0, 1], [1, 0], [2, 0], [2, 1]])
  latents = np.array([[1.], [2.], [6.], [5.], [7.], [-1.], [0.5]])
  visualize_irs._visualize_interventional_effect(factors, latents, 0, 0, 1, ax=ax)
  expected = [[3., 5.], [7., np.nan], [-1., 0.5]]
  for line, values in zip(ax.lines, expected):
    np.testing.assert_allclose(line.get_ydata(), values)
  plt.close(fig)


def test_grid_is_written(tmp_path):
  visualize_irs.vis_all_interventional_effects(FACTORS, LATENTS, str(tmp_path / "irs"))
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with Image.open(tmp_path / "irs" / "interventional_effect.png") as image:
    # 3 inches per cell at matplotlib's default 100 dpi: 2 factors x 2 latents.
    assert image.size == (600, 600)
