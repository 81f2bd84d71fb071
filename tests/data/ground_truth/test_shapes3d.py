"""Shapes3D from small files in both real formats (official h5, original npz)."""
import os

import h5py
import numpy as np
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.utils import errors

SIZES = [2, 1, 3, 2, 1, 2]  # a small file in the real layout


def _images(sizes):
  n = int(np.prod(sizes))
  # Row r is filled with r (mod 256) in channel 0 and a known gradient elsewhere.
  images = np.zeros((n, 64, 64, 3), np.uint8)
  images[..., 0] = (np.arange(n) % 256)[:, None, None]
  images[..., 1] = np.arange(64)[None, :, None] * 4
  labels = np.stack(np.meshgrid(*[np.linspace(0, 1, s) for s in sizes], indexing="ij"),
                    -1).reshape(n, 6)
  return images, labels


def _write_h5(root, sizes=SIZES, images=None, labels=None, chunked=False, **extra):
  default_images, default_labels = _images(sizes)
  images = default_images if images is None else images
  labels = default_labels if labels is None else labels
  path = os.path.join(root, *shapes3d.H5_FILE)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with h5py.File(path, "w") as f:
    if chunked:
      f.create_dataset("images", data=images, chunks=(1, 64, 64, 3), compression="gzip")
    else:
      f.create_dataset("images", data=images)
    f.create_dataset("labels", data=labels)
    for key, value in extra.items():
      f.create_dataset(key, data=value)
  return path


def _write_npz(root, sizes=SIZES):
  images, labels = _images(sizes)
  path = os.path.join(root, *shapes3d.NPZ_FILE)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.savez(path, images=images.reshape(sizes + [64, 64, 3]), labels=labels.reshape(sizes + [6]))
  return path


@pytest.fixture
def data_root(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  monkeypatch.setattr(shapes3d, "FACTOR_SIZES", SIZES)
  return str(tmp_path)


def test_full_size_declaration():
  assert shapes3d.FACTOR_SIZES == [10, 10, 10, 8, 4, 15]


@pytest.mark.parametrize("writer", [_write_h5, lambda root: _write_h5(root, chunked=True), _write_npz])
def test_sizes_draws_and_pixels(data_root, writer):
  writer(data_root)
  data = named_data.get_named_ground_truth_data("shapes3d")
  assert data.num_factors == 6 and data.factors_num_values == SIZES
  assert data.observation_shape == [64, 64, 3] and not data.observations_draw_random
  assert not data.images.flags.writeable  # memory-mapped, read-only
  rs = np.random.RandomState(0)
  factors, observations = data.sample(20, rs)
  expected_rs = np.random.RandomState(0)
  np.testing.assert_array_equal(
      factors, np.stack([expected_rs.randint(k, size=20) for k in SIZES], axis=1))
  rows = factors @ np.array([12, 12, 4, 2, 2, 1])
  assert observations.dtype == np.float32
  np.testing.assert_array_equal(observations[:, 0, 0, 0], np.float32(rows) / np.float32(255.))
  np.testing.assert_array_equal(observations[0, :, 0, 1], np.float32(np.arange(64) * 4) / 255.)


def _assert_one_line_error(path_part):
  with pytest.raises(errors.UserError) as info:
    shapes3d.Shapes3D()
  message = str(info.value)
  assert "\n" not in message and path_part in message and "ddownload shapes3d" in message
  return message


class TestBadFiles:

  def test_missing(self, data_root):
    assert "missing" in _assert_one_line_error("3dshapes.h5")

  def test_truncated(self, data_root):
    path = _write_h5(data_root)
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) // 2)
    _assert_one_line_error(path)

  def test_wrong_keys(self, data_root):
    path = _write_h5(data_root, labels=np.zeros((24, 6)))
    with h5py.File(path, "a") as f:
      del f["labels"]
    assert "labels" in _assert_one_line_error(path)

  def test_wrong_shape(self, data_root):
    path = _write_h5(data_root, images=np.zeros((23, 64, 64, 3), np.uint8))
    assert "(23, 64, 64, 3)" in _assert_one_line_error(path)

  def test_wrong_npz_shape(self, data_root, monkeypatch):
    path = _write_npz(data_root)
    monkeypatch.setattr(shapes3d, "FACTOR_SIZES", [2, 1, 3, 2, 1, 1])
    _assert_one_line_error(path)
