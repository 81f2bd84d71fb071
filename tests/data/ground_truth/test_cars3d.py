"""Cars3D from small .mat files written with scipy.io.savemat."""
import os

import numpy as np
import pytest
from scipy import io as sio

from dlib_torch.data.ground_truth import cars3d
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

SIZES = [4, 24, 3]  # three cars


def _write_cars(root, names=("car_b.mat", "car_a.mat", "car_c.mat"), im=None):
  folder = os.path.join(root, cars3d.CARS3D_FOLDER)
  os.makedirs(folder, exist_ok=True)
  for name in names:
    car = int(name[4]) if name[4].isdigit() else "abc".index(name[4])
    if im is None:
      mesh = np.zeros((128, 128, 3, 24, 4), np.uint8)
      # Constant views: red = car, green = azimuth, blue = elevation.
      mesh[:, :, 0] = 50 * car
      mesh[:, :, 1] = (np.arange(24) * 10)[:, None]
      mesh[:, :, 2] = (np.arange(4) * 60)[None, :]
    else:
      mesh = im
    sio.savemat(os.path.join(folder, name), {"im": mesh})
  with open(os.path.join(folder, "README.txt"), "w") as f:
    f.write("not a car")
  return folder


@pytest.fixture
def data_root(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  monkeypatch.setattr(cars3d, "FACTOR_SIZES", SIZES)
  return str(tmp_path)


def test_full_size_declaration():
  assert cars3d.FACTOR_SIZES == [4, 24, 183]


def test_sizes_draws_and_pixels(data_root):
  _write_cars(data_root)
  data = named_data.get_named_ground_truth_data("cars3d")
  assert data.num_factors == 3 and data.factors_num_values == SIZES
  assert data.observation_shape == [64, 64, 3] and not data.observations_draw_random
  rs = np.random.RandomState(0)
  factors, observations = data.sample(40, rs)
  expected_rs = np.random.RandomState(0)
  np.testing.assert_array_equal(
      factors, np.stack([expected_rs.randint(k, size=40) for k in SIZES], axis=1))
  assert observations.dtype == np.float32
  # Cars are numbered in sorted file-name order: car_a, car_b, car_c.
  expected = np.stack([50 * factors[:, 2], 10 * factors[:, 1], 60 * factors[:, 0]], 1) / 255.
  np.testing.assert_allclose(observations[:, 30, 30], expected, rtol=1e-6)


class TestBadFiles:

  def _error(self):
    with pytest.raises(errors.UserError) as info:
      cars3d.Cars3D()
    message = str(info.value)
    assert "\n" not in message and "ddownload cars3d" in message
    return message

  def test_missing_folder(self, data_root):
    assert "holds 0 .mat files, expected 3" in self._error()

  def test_too_few_cars(self, data_root):
    _write_cars(data_root, names=("car_a.mat", "car_b.mat"))
    assert "holds 2 .mat files" in self._error()

  def test_truncated(self, data_root):
    folder = _write_cars(data_root)
    path = os.path.join(folder, "car_b.mat")
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) // 2)
    assert "car_b.mat" in self._error()

  def test_wrong_key(self, data_root):
    folder = _write_cars(data_root)
    sio.savemat(os.path.join(folder, "car_c.mat"), {"images": np.zeros(3)})
    assert "car_c.mat has no readable array 'im'" in self._error()

  def test_wrong_shape(self, data_root):
    _write_cars(data_root, im=np.zeros((64, 64, 3, 24, 4), np.uint8))
    assert "(64, 64, 3, 24, 4)" in self._error()


def test_resized_images_cached_and_refreshed(data_root):
  folder = _write_cars(data_root)
  first = cars3d.Cars3D()
  cache = os.path.join(folder, "cars3d.images64.npy")
  assert os.path.isfile(cache) and isinstance(first.images, np.memmap)
  np.testing.assert_array_equal(cars3d.Cars3D().images, first.images)
  # A newer car file invalidates the cache.
  mesh = np.full((128, 128, 3, 24, 4), 7, np.uint8)
  sio.savemat(os.path.join(folder, "car_a.mat"), {"im": mesh})
  os.utime(os.path.join(folder, "car_a.mat"), (os.path.getmtime(cache) + 10,) * 2)
  np.testing.assert_array_equal(cars3d.Cars3D().images[::3], 7)
