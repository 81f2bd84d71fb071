"""SmallNORB from small files in the NORB binary matrix format."""
import os

import numpy as np
import pytest
from PIL import Image

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import norb
from dlib_torch.utils import errors

# category, instance, elevation, azimuth, lighting; training holds instance 1,
# testing instance 0 (as the real chunks split the instances).
SIZES = [2, 2, 1, 3, 2]
_MAGIC = {np.dtype(np.uint8): 507333717, np.dtype(np.int32): 507333716}


def _write_matrix(path, array):
  dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
  with open(path, "wb") as f:
    np.array([_MAGIC[array.dtype], array.ndim] + dims, "<i4").tofile(f)
    array.tofile(f)


def _chunk_rows(instance):
  grid = np.stack(np.meshgrid(np.arange(2), [instance], [0], np.arange(3) * 2, np.arange(2),
                              indexing="ij"), -1).reshape(-1, 5)
  return grid[::-1]  # any row order: the loader looks rows up by their factors


def _value(features):
  # A distinct grey level per full configuration (azimuth index = raw / 2).
  return 10 * (features[:, 0] * 12 + features[:, 1] * 6 + features[:, 3] // 2 * 2 + features[:, 4]) + 5


def _write_files(root, dat_override=None):
  folder = os.path.join(root, norb.SMALLNORB_FOLDER)
  os.makedirs(folder, exist_ok=True)
  for chunk, instance in zip(norb.SMALLNORB_CHUNKS, [1, 0]):
    rows = _chunk_rows(instance)
    dat = np.zeros((len(rows), 2, 96, 96), np.uint8)
    dat[:, 0] = _value(rows)[:, None, None]
    dat[:, 1] = 255  # the second stereo image is ignored
    if dat_override is not None:
      dat = dat_override
    base = os.path.join(folder, "smallnorb-{}-".format(chunk))
    _write_matrix(base + "dat.mat", dat)
    _write_matrix(base + "cat.mat", rows[:, 0].astype(np.int32))
    _write_matrix(base + "info.mat", rows[:, 1:].astype(np.int32))
  return folder


@pytest.fixture
def data_root(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  monkeypatch.setattr(norb, "FACTOR_SIZES", SIZES)
  return str(tmp_path)


def test_full_size_declaration():
  assert norb.FACTOR_SIZES == [5, 10, 9, 18, 6]


def test_sizes_draws_and_pixels(data_root):
  _write_files(data_root)
  data = named_data.get_named_ground_truth_data("smallnorb")
  assert data.num_factors == 4 and data.factors_num_values == [2, 1, 3, 2]
  assert data.observation_shape == [64, 64, 1] and data.observations_draw_random
  rs = np.random.RandomState(0)
  factors, observations = data.sample(30, rs)
  expected_rs = np.random.RandomState(0)
  latent = np.stack([expected_rs.randint(k, size=30) for k in [2, 1, 3, 2]], axis=1)
  instance = expected_rs.randint(2, size=30)  # the nuisance factor, drawn after
  np.testing.assert_array_equal(factors, latent)
  full = np.stack([latent[:, 0], instance, latent[:, 1], latent[:, 2] * 2, latent[:, 3]], 1)
  assert observations.dtype == np.float32 and observations.shape == (30, 64, 64, 1)
  np.testing.assert_allclose(observations[:, 10, 20, 0], _value(full) / 255., rtol=1e-6)


def test_lanczos_resize_is_not_clipped():
  step = np.zeros((1, 96, 96), np.uint8)
  step[:, :, 48:] = 255
  resized = norb._resize_images(step)  # pylint: disable=protected-access
  # Lanczos rings at a sharp edge; the original kept the overshoot.
  assert resized.min() < 0 and resized.max() > 255
  reference = np.asarray(Image.fromarray(step[0].astype(np.int32)).resize((64, 64), Image.LANCZOS))
  np.testing.assert_array_equal(resized[0], reference)


class TestBadFiles:

  def _error(self):
    with pytest.raises(errors.UserError) as info:
      norb.SmallNORB()
    message = str(info.value)
    assert "\n" not in message and "ddownload smallnorb" in message
    return message

  def test_missing(self, data_root):
    assert "training-dat.mat is missing" in self._error()

  def test_truncated(self, data_root):
    folder = _write_files(data_root)
    path = os.path.join(folder, "smallnorb-{}-dat.mat".format(norb.SMALLNORB_CHUNKS[1]))
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) - 100)
    assert "testing-dat.mat" in self._error()

  def test_wrong_header(self, data_root):
    folder = _write_files(data_root)
    path = os.path.join(folder, "smallnorb-{}-cat.mat".format(norb.SMALLNORB_CHUNKS[0]))
    with open(path, "r+b") as f:
      f.write(b"\0\0\0\0")
    assert "training-cat.mat is not a NORB" in self._error()

  def test_wrong_shape(self, data_root):
    _write_files(data_root, dat_override=np.zeros((6, 2, 32, 32), np.uint8))
    assert "(6, 2, 32, 32)" in self._error()

  def test_incomplete_factors(self, data_root, monkeypatch):
    _write_files(data_root)
    monkeypatch.setattr(norb, "FACTOR_SIZES", [2, 3, 1, 3, 2])
    assert "combination" in self._error()


def test_resized_images_cached(data_root):
  folder = _write_files(data_root)
  first = norb.SmallNORB()
  cache = os.path.join(folder, "smallnorb-{}-dat.mat.resized64.npy".format(norb.SMALLNORB_CHUNKS[0]))
  assert os.path.isfile(cache) and isinstance(first.images, np.memmap)
  np.testing.assert_array_equal(norb.SmallNORB().images, first.images)
