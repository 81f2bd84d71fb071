"""Cars3D, as in disentanglement_lib.

Factors, all exposed: elevation (4), azimuth (24), object (183); 64x64x3
float32. Files `<data>/cars/*.mat`, one per car, each with `im` uint8
[128, 128, 3, 24, 4] (height, width, RGB, azimuth, elevation); images are
shrunk to 64x64 with Lanczos as the original's PIL thumbnail call did.

Deviation: the original numbered the cars in the (unsorted, file-system
dependent) order of the directory listing; we sort the file names, so the
object factor is the same on every machine. The images are kept as uint8
(216 MB instead of the original's 1.7 GB of float64), saved once to
`cars/cars3d.images64.npy` (or the user cache if that folder is read-only),
memory-mapped, and converted per batch to the original's values.
"""
import os

import numpy as np
from PIL import Image
from scipy import io as sio

from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import image_array_data
from dlib_torch.data.ground_truth import named_data

CARS3D_FOLDER = "cars"
DOWNLOAD_NAME = "cars3d"
# Sizes of elevation, azimuth and object; a smaller folder (fewer cars) can
# be read by changing them (the tests do).
FACTOR_SIZES = [4, 24, 183]


class Cars3D(image_array_data.ImageArrayData):
  """Cars3D: 3 factors, all exposed, 64x64x3."""

  def __init__(self):
    sizes = list(FACTOR_SIZES)
    folder = files.data_path(CARS3D_FOLDER)
    names = sorted(x for x in os.listdir(folder) if x.endswith(".mat")) if os.path.isdir(
        folder) else []
    if len(names) != sizes[2]:
      raise files.bad_file(folder, DOWNLOAD_NAME, "holds {} .mat files, expected {}".format(
          len(names), sizes[2]), kind="folder")
    paths = [os.path.join(folder, name) for name in names]
    images = files.cached_array(files.extraction_path(os.path.join(folder, "cars3d"), "images64"),
                                paths, lambda: _load_cars(paths, sizes))
    files.check_array(folder, DOWNLOAD_NAME, "the cached images", images,
                      shape=[int(np.prod(sizes)), 64, 64, 3])
    self._set_images(images, sizes, range(3), [64, 64, 3])

  def _to_observations(self, rows):
    return (rows / 255.).astype(np.float32)


def _load_cars(paths, sizes):
  """All views of all cars, uint8 [elevation * azimuth * object, 64, 64, 3], row-major."""
  images = np.zeros((int(np.prod(sizes)), 64, 64, 3), dtype=np.uint8)
  elevation, azimuth = np.arange(sizes[0]), np.arange(sizes[1])
  for i, path in enumerate(paths):
    # Image k of a car shows azimuth k // 4 and elevation k % 4.
    factors = np.stack([np.tile(elevation, sizes[1]), np.repeat(azimuth, sizes[0]),
                        np.full(sizes[0] * sizes[1], i)], axis=1)
    images[factors @ [sizes[1] * sizes[2], sizes[2], 1]] = _load_car(path, sizes)
  return images


def _load_car(path, sizes):
  """The 96 views of one car, uint8 [azimuth * elevation, 64, 64, 3]."""
  try:
    mesh = sio.loadmat(path)["im"]
  except Exception as e:  # pylint: disable=broad-except
    raise files.bad_file(path, DOWNLOAD_NAME, "has no readable array 'im' ({})".format(
        " ".join(str(e).split()) or type(e).__name__)) from e
  files.check_array(path, DOWNLOAD_NAME, "im", mesh, shape=[128, 128, 3, sizes[1], sizes[0]],
                    dtype=np.uint8)
  views = np.einsum("abcde->deabc", mesh).reshape((-1, 128, 128, 3))
  resized = np.zeros((views.shape[0], 64, 64, 3), dtype=np.uint8)
  for i, view in enumerate(views):
    picture = Image.fromarray(view)
    picture.thumbnail((64, 64), Image.LANCZOS)
    resized[i] = np.asarray(picture)
  return resized


@named_data.register("cars3d", "Cars3D: 3 factors (elevation, azimuth, object), 64x64x3")
def cars3d():
  return Cars3D()
