"""dSprites from a small file in the real format: sizes, draw order, variants, bad files."""
import os

import numpy as np
import pytest
from PIL import Image

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

# A dSprites-format file with fewer values per factor (the loader reads the
# sizes from metadata["latents_sizes"], as the original does).
SIZES = [1, 3, 2, 3, 2, 2]


def _write_dsprites(root, compressed=True, sizes=SIZES, **overrides):
  n = int(np.prod(sizes))
  classes = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"),
                     -1).reshape(n, len(sizes))
  imgs = np.zeros((n, 64, 64), np.uint8)
  # Image r marks its row number in binary in its first row of pixels.
  bits = (np.arange(n)[:, None] >> np.arange(16)[None, :]) & 1
  imgs[:, 0, :16] = bits
  metadata = {"latents_sizes": np.array(sizes), "latents_names": (
      "color", "shape", "scale", "orientation", "posX", "posY")}
  arrays = dict(imgs=imgs, latents_classes=classes, latents_values=classes.astype(np.float64),
                metadata=np.array(metadata, dtype=object))
  arrays.update(overrides)
  arrays = {k: v for k, v in arrays.items() if v is not None}
  path = os.path.join(root, *dsprites.DSPRITES_FILE)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  (np.savez_compressed if compressed else np.savez)(path, **arrays)
  return path


def _row_of(observations):
  return (observations[:, 0, :16, 0].astype(np.int64) << np.arange(16)).sum(axis=1)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  return str(tmp_path)


@pytest.mark.parametrize("compressed", [True, False])
def test_dsprites_full_sizes_and_draws(data_root, compressed):
  _write_dsprites(data_root, compressed)
  data = named_data.get_named_ground_truth_data("dsprites_full")
  assert data.num_factors == 5
  assert data.factors_num_values == [3, 6, 40, 32, 32]  # nominal, as the original
  assert data.observation_shape == [64, 64, 1]
  assert not data.observations_draw_random
  # Held once as one bit per pixel, read-only (memory-mapped).
  assert isinstance(data.sprites.bits, np.memmap) and not data.sprites.bits.flags.writeable
  assert data.sprites.bits.shape == (72, 64, 8)
  rs = np.random.RandomState(0)
  factors, observations = data.sample(50, rs)
  expected_rs = np.random.RandomState(0)
  expected = np.stack([expected_rs.randint(k, size=50) for k in SIZES[1:]], axis=1)
  np.testing.assert_array_equal(factors, expected)
  assert rs.randint(1 << 30) == expected_rs.randint(1 << 30)
  assert observations.dtype == np.float32 and observations.shape == (50, 64, 64, 1)
  # Row-major index over (color, shape, scale, orientation, x, y).
  bases = np.array([24, 12, 4, 2, 1])
  np.testing.assert_array_equal(_row_of(observations), factors @ bases)


def test_noshape_draws_the_shape_when_rendering(data_root):
  _write_dsprites(data_root)
  data = named_data.get_named_ground_truth_data("dsprites_noshape")
  assert data.factors_num_values == [6, 40, 32, 32] and data.observations_draw_random
  rs = np.random.RandomState(1)
  factors, observations = data.sample(30, rs)
  expected_rs = np.random.RandomState(1)
  latent = np.stack([expected_rs.randint(k, size=30) for k in SIZES[2:]], axis=1)
  shape = expected_rs.randint(3, size=30)
  np.testing.assert_array_equal(factors, latent)
  np.testing.assert_array_equal(_row_of(observations), shape * 24 + latent @ [12, 4, 2, 1])


def test_color_and_noisy_variants(data_root):
  _write_dsprites(data_root)
  masks = named_data.get_named_ground_truth_data("dsprites_full")
  for name, low, shape in [("color_dsprites", 0.5, (4, 1, 1, 3)), ("noisy_dsprites", 0., (4, 64, 64, 3))]:
    data = named_data.get_named_ground_truth_data(name)
    assert data.observation_shape == [64, 64, 3] and data.observations_draw_random
    factors, observations = data.sample(4, np.random.RandomState(2))
    expected_rs = np.random.RandomState(2)
    for k in SIZES[1:]:
      expected_rs.randint(k, size=4)
    draw = expected_rs.uniform(low, 1, shape)
    mask = masks.sample_observations_from_factors(factors, np.random.RandomState(0))
    expected = mask * draw if name == "color_dsprites" else np.minimum(mask + draw, 1.)
    assert observations.dtype == np.float64
    np.testing.assert_allclose(observations, expected)


def test_scream_variant(data_root):
  _write_dsprites(data_root)
  os.makedirs(os.path.join(data_root, "scream"))
  painting = np.random.RandomState(0).randint(0, 256, (600, 450, 3)).astype(np.uint8)
  Image.fromarray(painting).save(os.path.join(data_root, *dsprites.SCREAM_FILE))
  data = named_data.get_named_ground_truth_data("scream_dsprites")
  # Portrait 600 x 450 shrunk to fit 350 x 274 keeps its aspect: 274 x 205 (Pillow rounds 205.5 down).
  assert data.scream.shape == (274, 205, 3)
  factors, observations = data.sample(3, np.random.RandomState(4))
  expected_rs = np.random.RandomState(4)
  for k in SIZES[1:]:
    expected_rs.randint(k, size=3)
  mask = named_data.get_named_ground_truth_data("dsprites_full").sample_observations_from_factors(
      factors, np.random.RandomState(0))[..., 0] == 1
  assert observations.dtype == np.float32
  for i in range(3):
    x, y = expected_rs.randint(0, 274 - 64), expected_rs.randint(0, 205 - 64)
    background = (data.scream[x:x + 64, y:y + 64] + expected_rs.uniform(0, 1, size=3)) / 2
    background[mask[i]] = 1 - background[mask[i]]
    np.testing.assert_allclose(observations[i], background, rtol=1e-6)


def test_data_root_is_read_at_construction(tmp_path, monkeypatch):
  first, second = tmp_path / "a", tmp_path / "b"
  _write_dsprites(str(second), sizes=[1, 3, 1, 1, 1, 2])
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(first))
  with pytest.raises(errors.UserError):
    dsprites.DSprites([1, 2, 3, 4, 5])
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(second))
  assert list(dsprites.DSprites([1, 2, 3, 4, 5]).factor_sizes) == [1, 3, 1, 1, 1, 2]


def _assert_one_line_error(make, path_part, command="ddownload dsprites"):
  with pytest.raises(errors.UserError) as info:
    make()
  message = str(info.value)
  assert "\n" not in message and path_part in message and command in message
  return message


class TestBadFiles:

  def test_missing(self, data_root):
    message = _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), "dsprites_ndarray")
    assert "missing" in message

  @pytest.mark.parametrize("compressed", [True, False])
  def test_truncated(self, data_root, compressed):
    path = _write_dsprites(data_root, compressed)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
      f.truncate(size // 2)
    _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)

  def test_not_an_archive(self, data_root):
    path = os.path.join(data_root, *dsprites.DSPRITES_FILE)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
      f.write("<html>Not found</html>")
    _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)

  def test_wrong_keys(self, data_root):
    path = _write_dsprites(data_root, metadata=None)
    message = _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)
    assert "metadata" in message

  def test_wrong_shape(self, data_root):
    path = _write_dsprites(data_root, imgs=np.zeros((36, 64, 64), np.uint8))
    message = _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)
    assert "(36, 64, 64)" in message

  def test_wrong_dtype(self, data_root):
    path = _write_dsprites(data_root, imgs=np.zeros((72, 64, 64), np.float32))
    _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)

  def test_bad_metadata(self, data_root):
    path = _write_dsprites(data_root, metadata=np.array({"names": 1}, dtype=object))
    _assert_one_line_error(lambda: dsprites.DSprites([1, 2, 3, 4, 5]), path)

  def test_missing_or_bad_scream(self, data_root):
    _write_dsprites(data_root)
    _assert_one_line_error(dsprites.ScreamDSprites, "scream.jpg", "ddownload scream")
    os.makedirs(os.path.join(data_root, "scream"))
    with open(os.path.join(data_root, *dsprites.SCREAM_FILE), "wb") as f:
      f.write(b"\xff\xd8 truncated jpeg")
    _assert_one_line_error(dsprites.ScreamDSprites, "scream.jpg", "ddownload scream")
