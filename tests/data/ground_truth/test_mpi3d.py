"""MPI3D from small npz files in the real format."""
import os

import numpy as np
import pytest

from dlib_torch.data.ground_truth import mpi3d
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

SIZES = [2, 1, 2, 1, 3, 2, 2]


def _write(root, mode="mpi3d_toy", compressed=False, images=None):
  n = int(np.prod(SIZES))
  if images is None:
    images = np.zeros((n, 64, 64, 3), np.uint8)
    images[..., 2] = np.arange(n)[:, None, None]
  path = os.path.join(root, mode, mode + ".npz")
  os.makedirs(os.path.dirname(path), exist_ok=True)
  (np.savez_compressed if compressed else np.savez)(path, images=images)
  return path


@pytest.fixture
def data_root(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  monkeypatch.setattr(mpi3d, "FACTOR_SIZES", {m: SIZES for m in mpi3d.FACTOR_SIZES})
  return str(tmp_path)


def test_full_size_declarations():
  assert mpi3d.FACTOR_SIZES["mpi3d_toy"] == [4, 4, 2, 3, 3, 40, 40]
  assert mpi3d.FACTOR_SIZES["mpi3d_realistic"] == [4, 4, 2, 3, 3, 40, 40]
  assert mpi3d.FACTOR_SIZES["mpi3d_real"] == [6, 6, 2, 3, 3, 40, 40]


@pytest.mark.parametrize("mode", ["mpi3d_toy", "mpi3d_realistic", "mpi3d_real"])
@pytest.mark.parametrize("compressed", [False, True])
def test_sizes_draws_and_pixels(data_root, mode, compressed):
  path = _write(data_root, mode, compressed)
  data = named_data.get_named_ground_truth_data(mode)
  assert data.factors_num_values == SIZES and data.observation_shape == [64, 64, 3]
  assert isinstance(data.images, np.memmap) and not data.images.flags.writeable
  if compressed:  # extracted once beside the npz, then mapped
    assert os.path.isfile(path + ".images.npy")
  else:  # mapped inside the npz itself
    assert data.images.filename == os.path.abspath(path)
  rs = np.random.RandomState(3)
  factors, observations = data.sample(25, rs)
  expected_rs = np.random.RandomState(3)
  np.testing.assert_array_equal(
      factors, np.stack([expected_rs.randint(k, size=25) for k in SIZES], axis=1))
  assert observations.dtype == np.float64  # as the original
  rows = factors @ np.array([24, 24, 12, 12, 4, 2, 1])
  np.testing.assert_array_equal(observations[:, 5, 7, 2], rows / 255.)


def test_errors(data_root):
  with pytest.raises(errors.UserError, match="Unknown mode"):
    mpi3d.MPI3D("mpi3d_imaginary")
  with pytest.raises(errors.UserError) as info:
    mpi3d.MPI3D("mpi3d_real")
  assert "mpi3d_real.npz is missing" in str(info.value) and "ddownload mpi3d_real" in str(info.value)
  path = _write(data_root, images=np.zeros((47, 64, 64, 3), np.uint8))
  with pytest.raises(errors.UserError, match="ddownload mpi3d_toy") as info:
    mpi3d.MPI3D()
  assert path in str(info.value) and "(47, 64, 64, 3)" in str(info.value)
  path = _write(data_root)
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) - 5000)
  with pytest.raises(errors.UserError, match="ddownload mpi3d_toy"):
    mpi3d.MPI3D()
