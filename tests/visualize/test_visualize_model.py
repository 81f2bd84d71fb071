"""visualize_model: files, layouts and pixel values from a small scripted model."""
import os
import subprocess
import sys
from typing import Tuple

import gin
import imageio.v3 as iio
import numpy as np
import pytest
from scipy import special
import torch

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.visualize import model_card
from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_model
from dlib_torch.visualize import visualize_util

NUM_LATENT = 3
KINDS = ("std_gaussian", "fitted_gaussian", "fixed_interval", "conf_interval",
         "minmax_interval")


class _Encoder(torch.nn.Module):
  """mean_l = (l + 1) * 100 * (mean pixel - 0.5) (spread ~0.5 on noise); logvar = -2."""

  def __init__(self):
    super().__init__()
    self.register_buffer("scales", torch.arange(1., NUM_LATENT + 1.) * 100.)

  def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    brightness = x.mean(dim=(1, 2, 3)) - 0.5
    mean = brightness[:, None] * self.scales[None, :]
    return mean, torch.full_like(mean, -2.)


class _Decoder(torch.nn.Module):
  """Every pixel's logit is weight * z_0 + bias: gray levels we can predict."""

  def __init__(self, weight: float, bias: float):
    super().__init__()
    self.weight = weight
    self.bias = bias

  def forward(self, z: torch.Tensor) -> torch.Tensor:
    logits = self.weight * z[:, 0] + self.bias
    return logits[:, None, None, None].expand(z.shape[0], 64, 64, 1).contiguous()


def _make_model(directory, activation="logits", weight=1., bias=0.):
  os.makedirs(os.path.join(directory, "torchscript"))
  torch.jit.save(torch.jit.script(_Encoder()),
                 os.path.join(directory, "torchscript", "gaussian_encoder.pt"))
  torch.jit.save(torch.jit.script(_Decoder(weight, bias)),
                 os.path.join(directory, "torchscript", "decoder.pt"))
  atomic_io.write_text(
      os.path.join(directory, "results", "gin", "train.gin"),
      "# Parameters for dataset:\n"
      "dataset.name = 'dummy_data'\n"
      "encoder.num_latent = {}\n"
      "reconstruction_loss.activation = '{}'\n".format(NUM_LATENT, activation))
  atomic_io.write_json(os.path.join(directory, "results", "json", "train_results.json"),
                       {"loss": 1.5})
  return directory


def _visualize(model_dir, output_dir, **kwargs):
  kwargs.setdefault("num_animations", 2)
  kwargs.setdefault("num_frames", 4)
  kwargs.setdefault("num_points_irs", 200)
  visualize_model.visualize(model_dir, output_dir, **kwargs)


def _gray(path):
  """The image as a float array of its first channel (all channels are equal)."""
  image = iio.imread(path)
  return image[..., 0].astype(np.float64)


@pytest.fixture(scope="module")
def visualized(tmp_path_factory):
  root = tmp_path_factory.mktemp("vis")
  model_dir = _make_model(str(root / "model"))
  output_dir = str(root / "out")
  _visualize(model_dir, output_dir)
  return model_dir, output_dir


class TestFiles:

  def test_every_file_with_its_size(self, visualized):
    _, out = visualized
    expected = {
        "reconstructions/reconstructions.jpg": (512, 1024, 3),
        "sampled/samples.jpg": (512, 512, 3),
    }
    for i in range(NUM_LATENT):
      # One 64-px column per latent, 11 values from top to bottom.
      expected["traversals/traversals{}.jpg".format(i)] = (11 * 64, NUM_LATENT * 64, 3)
    for path, shape in expected.items():
      assert iio.imread(os.path.join(out, path)).shape == shape, path
    gifs = sorted(os.listdir(os.path.join(out, "animated_traversals")))
    assert gifs == sorted("{}_cycle{}.gif".format(k, i) for k in KINDS for i in range(2))
    for name in gifs:
      frames = iio.imread(os.path.join(out, "animated_traversals", name), index=None)
      # 3 panels in one row (64 x 212), logo footer (+24), 10-px border.
      assert frames.shape[:3] == (4, 108, 232), name
    has_irs = os.path.exists(
        os.path.join(out, "interventional_effects", "interventional_effect.png"))
    assert has_irs == plotting.available()

  def test_index_page_shows_every_picture_in_order(self, visualized):
    _, out = visualized
    page = open(os.path.join(out, "index.html")).read()
    pictures = [os.path.relpath(os.path.join(d, f), out) for d, _, files in os.walk(out)
                for f in files if f.endswith((".jpg", ".gif", ".png"))]
    for picture in pictures:
      assert 'src="{}"'.format(picture) in page
    assert page.index("traversals/traversals1.jpg") < page.index("traversals/traversals2.jpg")
    assert page.index("sampled/samples.jpg") < page.index("animated_traversals/")
    assert sorted(["traversals10.jpg", "traversals2.jpg"], key=model_card.natural_key) == [
        "traversals2.jpg", "traversals10.jpg"]

  def test_results_folder_records_the_visualize_step(self, visualized):
    _, out = visualized
    results = os.path.join(out, "results")
    assert os.path.exists(os.path.join(results, "gin", "train.gin"))
    assert "dataset.name = 'dummy_data'" in open(
        os.path.join(results, "gin", "visualize.gin")).read()
    step = atomic_io.read_json(os.path.join(results, "json", "visualize_results.json"))
    assert step["elapsed_time"] > 0 and "uuid" in step
    aggregate = atomic_io.read_json(os.path.join(results, "aggregate", "visualize.json"))
    assert aggregate["train_results.loss"] == 1.5
    assert aggregate["visualize_config.dataset.name"] == "'dummy_data'"

  def test_no_staging_folder_left(self, visualized):
    _, out = visualized
    assert sorted(os.listdir(os.path.dirname(out))) == ["model", "out"]


class TestPixels:

  def test_samples_decode_the_seeded_codes_in_grid_order(self, visualized):
    _, out = visualized
    # Replay the original's draws: 64 observations, then the 64 codes.
    random_state = np.random.RandomState(0)
    dummy_data.DummyData().sample_observations(64, random_state)
    codes = random_state.normal(0, 1, [64, NUM_LATENT])
    expected = np.floor(special.expit(codes[:, 0]) * 255.)
    image = _gray(os.path.join(out, "sampled", "samples.jpg"))
    for k in (0, 1, 9, 63):  # Image k: column k // 8, row k % 8.
      row, col = k % 8, k // 8
      cell = image[row * 64 + 8:row * 64 + 56, col * 64 + 8:col * 64 + 56]
      assert abs(cell.mean() - expected[k]) < 2.5, k

  def test_traversals_vary_the_latent_down_each_column(self, visualized):
    _, out = visualized
    image = _gray(os.path.join(out, "traversals", "traversals0.jpg"))
    # Column 0 traverses z_0 (the decoder's input) over linspace(-1, 1, 11).
    for row, value in enumerate(np.linspace(-1., 1., 11)):
      cell = image[row * 64 + 8:row * 64 + 56, 8:56]
      assert abs(cell.mean() - np.floor(special.expit(value) * 255.)) < 2.5, row
    # Columns of the other latents keep z_0 and so one gray level throughout.
    other = image[:, 64 + 8:64 + 56]
    assert other.max() - other.min() < 5

  def test_reconstructions_pair_real_and_decoded(self, visualized):
    _, out = visualized
    image = _gray(os.path.join(out, "reconstructions", "reconstructions.jpg"))
    assert image.shape == (512, 1024)
    real, recon = image[8:56, 8:56], image[8:56, 64 + 8:64 + 56]
    assert real.std() > 40  # noise of the dummy data
    assert recon.std() < 3  # a constant decoded gray

  @pytest.mark.parametrize("activation,value", [
      ("logits", special.expit(2.)),
      ("tanh", np.tanh(2.) / 2. + .5),
  ])
  def test_constant_decoder_gives_known_gray(self, tmp_path, activation, value):
    model_dir = _make_model(str(tmp_path / "model"), activation, weight=0., bias=2.)
    out = str(tmp_path / "out")
    _visualize(model_dir, out, num_animations=1, num_frames=2)
    assert "dummy_data" not in gin.config_str()  # The data set binding is cleared.
    samples = _gray(os.path.join(out, "sampled", "samples.jpg"))
    # Stills truncate value * 255.
    assert abs(samples.mean() - np.floor(value * 255.)) < 1.5
    frames = iio.imread(os.path.join(out, "animated_traversals", "std_gaussian_cycle0.gif"),
                        index=None)
    # GIF frames round instead; the first panel starts after the 10-px border.
    assert abs(frames[0, 20, 20, 0] - np.round(value * 255.)) <= 1


class TestErrors:

  def test_existing_output_needs_overwrite(self, tmp_path):
    model_dir = _make_model(str(tmp_path / "model"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(errors.UserError,
                       match="Directory already exists and overwrite is False: "):
      _visualize(model_dir, str(out))
    assert (out / "old.txt").exists()
    _visualize(model_dir, str(out), overwrite=True, num_animations=1, num_frames=2)
    assert not (out / "old.txt").exists()
    assert (out / "sampled" / "samples.jpg").exists()

  @pytest.mark.parametrize("existing", [False, True])
  def test_failure_midway_leaves_nothing_behind(self, tmp_path, monkeypatch, existing):
    model_dir = _make_model(str(tmp_path / "model"))
    out = tmp_path / "out"
    if existing:
      out.mkdir()
      (out / "old.txt").write_text("old")

    def broken(*unused_args):
      raise RuntimeError("disk full")

    monkeypatch.setattr(visualize_util, "save_animation", broken)
    with pytest.raises(RuntimeError, match="disk full"):
      _visualize(model_dir, str(out), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == (["model", "out"] if existing else ["model"])
    if existing:
      assert os.listdir(out) == ["old.txt"]

  def test_unknown_activation(self, tmp_path):
    model_dir = _make_model(str(tmp_path / "model"), activation="relu")
    with pytest.raises(errors.UserError, match="Activation function"):
      _visualize(model_dir, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()

  def test_output_is_a_file(self, tmp_path):
    model_dir = _make_model(str(tmp_path / "model"))
    (tmp_path / "out").write_text("a file")
    with pytest.raises(errors.UserError, match="is not a directory"):
      _visualize(model_dir, str(tmp_path / "out"), overwrite=True)
    assert (tmp_path / "out").read_text() == "a file"

  def test_not_a_model_folder(self, tmp_path):
    with pytest.raises(errors.UserError, match="not a trained model folder"):
      _visualize(str(tmp_path), str(tmp_path / "out"))


class TestLatentTraversal:

  def test_layout_and_transpose(self):
    def generator(codes):  # 1x1 images holding the code's sum.
      return codes.sum(axis=1)[:, None, None, None]
    base = np.array([0., 10., 100.])
    image = visualize_model.latent_traversal_1d_multi_dim(generator, base, 2, np.array([1., 2.]))
    # Column d varies dimension d; rows follow the values.
    np.testing.assert_array_equal(image[..., 0], [[111., 101.], [112., 102.]])
    transposed = visualize_model.latent_traversal_1d_multi_dim(
        generator, base, 2, np.array([1., 2.]), transpose=True)
    np.testing.assert_array_equal(transposed[..., 0], [[111., 112.], [101., 102.]])

  @pytest.mark.parametrize("kwargs,message", [
      ({"dimensions": 4}, "less than the number of dimensions"),
      ({"dimensions": 0}, "at least 1"),
      ({"values": 1}, "has to be >1"),
  ])
  def test_bad_arguments(self, kwargs, message):
    with pytest.raises(ValueError, match=message):
      visualize_model.latent_traversal_1d_multi_dim(lambda c: c, np.zeros(3), **kwargs)


def test_command_line(tmp_path):
  model_dir = _make_model(str(tmp_path / "model"))
  out = tmp_path / "out"
  command = [sys.executable, "-m", "dlib_torch.cli.visualize",
             "--model_dir=" + model_dir, "--output_dir=" + str(out)]
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  assert done.returncode == 0, done.stderr
  assert len(os.listdir(out / "animated_traversals")) == 5 * 5
  assert len(iio.imread(out / "animated_traversals" / "std_gaussian_cycle4.gif",
                        index=None)) == 20
  refused = subprocess.run(command, capture_output=True, text=True, check=False)
  assert refused.returncode == 2
  assert refused.stderr.strip().splitlines()[-1] == (
      "Error: Directory already exists and overwrite is False: {}".format(out))
  missing = subprocess.run(command[:3] + ["--output_dir=" + str(out)], capture_output=True,
                           text=True, check=False)
  assert missing.returncode == 2
  assert missing.stderr.strip().splitlines()[-1] == "Error: Flag --model_dir is required."
