"""Memory-mapping npz members and HDF5 data sets; one-time caches."""
import io
import os
import zipfile

import h5py
import numpy as np
import pytest

from dlib_torch.data.ground_truth import files
from dlib_torch.utils import errors


def _npy_bytes(array):
  buffer = io.BytesIO()
  np.save(buffer, array)
  return buffer.getvalue()


@pytest.mark.parametrize("force_zip64", [False, True])
def test_stored_member_is_mapped_in_place(tmp_path, force_zip64):
  array = np.arange(6 * 5 * 4, dtype=np.uint8).reshape(6, 5, 4)
  path = str(tmp_path / "a.npz")
  # Large npz files (over 4 GB, e.g. mpi3d_real) carry zip64 headers.
  with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
    with archive.open("other.npy", "w") as f:
      f.write(_npy_bytes(np.zeros(3)))
    with archive.open("images.npy", "w", force_zip64=force_zip64) as f:
      f.write(_npy_bytes(array))
  mapped = files.map_npz_member(path, "x", "images")
  assert isinstance(mapped, np.memmap) and mapped.filename == os.path.abspath(path)
  np.testing.assert_array_equal(mapped, array)
  assert os.listdir(tmp_path) == ["a.npz"]  # nothing extracted


def test_compressed_member_is_extracted_once(tmp_path):
  array = np.random.RandomState(0).randint(0, 255, (7, 3, 3)).astype(np.uint8)
  path = str(tmp_path / "a.npz")
  np.savez_compressed(path, images=array)
  np.testing.assert_array_equal(files.map_npz_member(path, "x", "images"), array)
  cache = path + ".images.npy"
  stamp = os.path.getmtime(cache)
  np.testing.assert_array_equal(files.map_npz_member(path, "x", "images"), array)
  assert os.path.getmtime(cache) == stamp
  assert sorted(os.listdir(tmp_path)) == ["a.npz", "a.npz.images.npy"]  # no temporaries


def test_missing_member(tmp_path):
  path = str(tmp_path / "a.npz")
  np.savez(path, imgs=np.zeros(3))
  with pytest.raises(errors.UserError, match="ddownload x"):
    files.map_npz_member(path, "x", "images")


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_h5_dataset(tmp_path, compression):
  array = np.arange(4 * 8 * 3, dtype=np.uint8).reshape(4, 8, 3)
  path = str(tmp_path / "a.h5")
  with h5py.File(path, "w") as f:
    f.create_dataset("images", data=array, compression=compression,
                     chunks=(1, 8, 3) if compression else None)
  with files.open_h5(path, "x", ["images"]) as handle:
    mapped = files.map_h5_dataset(path, "x", handle, "images")
  np.testing.assert_array_equal(mapped, array)
  assert not mapped.flags.writeable
  assert os.path.exists(path + ".images.npy") == (compression is not None)


def test_cached_array(tmp_path):
  source = tmp_path / "source"
  source.write_text("v1")
  cache = str(tmp_path / "cache.npy")
  calls = []
  def build():
    calls.append(1)
    return np.full(3, len(calls))
  np.testing.assert_array_equal(files.cached_array(cache, [str(source)], build), 1)
  np.testing.assert_array_equal(files.cached_array(cache, [str(source)], build), 1)
  os.utime(source, (os.path.getmtime(cache) + 5,) * 2)
  np.testing.assert_array_equal(files.cached_array(cache, [str(source)], build), 2)
