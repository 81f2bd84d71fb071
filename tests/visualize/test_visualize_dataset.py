"""visualize_dataset: file names, layouts and draw order; the dvisualize_dataset command."""
import os

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import named_data
from dlib_torch.tests import commands
from dlib_torch.visualize import visualize_dataset
from dlib_torch.visualize import visualize_util


def test_files_layout_and_draw_order(tmp_path):
  visualize_dataset.visualize_dataset("procedural_dsprites", str(tmp_path), num_animations=2,
                                      num_frames=4, fps=5)
  folder = tmp_path / "procedural_dsprites"
  assert sorted(os.listdir(folder)) == ["animation0.gif", "animation1.gif"] + [
      "variations_of_factor%d.png" % i for i in range(5)]

  # Replay the original's draws: 16 samples per factor, then one base per animation.
  data = named_data.get_named_ground_truth_data("procedural_dsprites")
  rs = np.random.RandomState(0)
  for i in range(5):
    factors = data.sample_factors(16, rs)
    varied = factors[:, i].copy()
    factors[:, :] = factors[0]
    factors[:, i] = varied
    images = data.sample_observations_from_factors(factors, rs)
    grid = np.array(Image.open(folder / ("variations_of_factor%d.png" % i)))
    assert grid.shape == (256, 256, 3)
    # Image k lies at column k // 4, row k % 4.
    for k in (0, 5, 15):
      tile = grid[64 * (k % 4):64 * (k % 4 + 1), 64 * (k // 4):64 * (k // 4 + 1), 0]
      np.testing.assert_array_equal(tile, (images[k, :, :, 0] * 255).astype(np.uint8))
  base = data.sample_factors(1, rs)

  with Image.open(folder / "animation0.gif") as gif:
    # 5 panels -> 2 x 3 grid (138 x 212) + footer (24) + 10 px border.
    assert gif.n_frames == 4 and gif.size == (232, 182) and gif.info["duration"] == 200
    gif.seek(1)
    frame = np.array(gif.convert("RGB"))
  # Frame 1, panel 0 (shape cycled): the base with shape = cycle_factor(...)[1].
  factors = base.copy()
  factors[0, 0] = visualize_util.cycle_factor(base[0, 0], 3, 4)[1]
  expected = data.sample_observations_from_factors(factors, rs)[0, :, :, 0]
  np.testing.assert_array_equal(frame[10:74, 10:74, 0], np.round(expected * 255))


def test_command(tmp_path):
  env = dict(os.environ, DISENTANGLEMENT_LIB_DATA=str(tmp_path / "no_data"))
  ok = commands.run("dvisualize_dataset", "--name=procedural_dsprites",
                    "--path=" + str(tmp_path / "out"), env=env)
  assert ok.returncode == 0, ok.stderr
  assert len(os.listdir(tmp_path / "out" / "procedural_dsprites")) == 10
  # The default data set needs its file: one line naming the download command.
  missing = commands.run("dvisualize_dataset", "--path=" + str(tmp_path / "out2"), env=env)
  assert missing.returncode == 2
  lines = missing.stderr.strip().splitlines()
  assert len(lines) == 1 and "ddownload dsprites" in lines[0] and "dsprites_ndarray" in lines[0]
