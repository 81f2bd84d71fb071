"""Shapes3D (3dshapes), as in disentanglement_lib.

Factors, all exposed: floor hue (10), wall hue (10), object hue (10), object
scale (8), object shape (4), orientation (15); 64x64x3 float32 in [0, 1].
Images are read from the official release `<data>/3dshapes/3dshapes.h5`
(`images` uint8 [480000, 64, 64, 3], `labels` float64 [480000, 6]) or, as
the original, from the npz with `images` shaped [10, 10, 10, 8, 4, 15, 64, 64, 3];
both list the images row-major in factor order. The images stay uint8 and
memory-mapped (about 5.9 GB instead of the original's 23.6 GB of float32);
each batch is converted exactly as the original converted the whole array.
"""
import os

import numpy as np

from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import image_array_data
from dlib_torch.data.ground_truth import named_data

NPZ_FILE = ("3dshapes",
            "look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz")
H5_FILE = ("3dshapes", "3dshapes.h5")
DOWNLOAD_NAME = "shapes3d"
# Factor sizes of the file; a smaller file in the same layout can be read by
# changing them (the tests do).
FACTOR_SIZES = [10, 10, 10, 8, 4, 15]


class Shapes3D(image_array_data.ImageArrayData):
  """Shapes3D: 6 factors, all exposed, 64x64x3."""

  def __init__(self):
    sizes = list(FACTOR_SIZES)
    num_images = int(np.prod(sizes))
    npz_path, h5_path = files.data_path(*NPZ_FILE), files.data_path(*H5_FILE)
    if os.path.isfile(npz_path):
      files.load_npz(npz_path, DOWNLOAD_NAME, ["images", "labels"]).close()
      images = files.map_npz_member(npz_path, DOWNLOAD_NAME, "images")
      files.check_array(npz_path, DOWNLOAD_NAME, "images", images,
                        shape=sizes + [64, 64, 3], dtype=np.uint8)
      images = images.reshape([num_images, 64, 64, 3])
    else:
      if not os.path.isfile(h5_path):
        raise files.bad_file(h5_path, DOWNLOAD_NAME,
                             "is missing (nor is there {})".format(npz_path))
      with files.open_h5(h5_path, DOWNLOAD_NAME, ["images", "labels"]) as handle:
        files.check_array(h5_path, DOWNLOAD_NAME, "labels", handle["labels"],
                          shape=[num_images, 6])
        files.check_array(h5_path, DOWNLOAD_NAME, "images", handle["images"],
                          shape=[num_images, 64, 64, 3], dtype=np.uint8)
        images = files.map_h5_dataset(h5_path, DOWNLOAD_NAME, handle, "images")
    self._set_images(images, sizes, range(6), [64, 64, 3])

  def _to_observations(self, rows):
    return rows.astype(np.float32) / 255.


@named_data.register(
    "shapes3d",
    "3D shapes: 6 factors (floor, wall, object hue, scale, shape, orientation), 64x64x3")
def shapes3d():
  return Shapes3D()
