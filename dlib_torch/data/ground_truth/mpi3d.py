"""MPI3D (toy, realistic, real), as in disentanglement_lib.

Factors, all exposed: object color (4; 6 for real), object shape (4; 6 for
real), object size (2), camera height (3), background color (3), first DOF
(40), second DOF (40); 64x64x3 float64 in [0, 1] (the original's dtype).
File `<data>/<mode>/<mode>.npz`, key `images` uint8 [N, 64, 64, 3]. The
images are memory-mapped, never loaded: a member stored uncompressed is
mapped inside the npz; a compressed one is extracted once to a `.npy` beside
the npz (or in the user cache) and mapped, so mpi3d_real (over 10 GB) works
on a machine with less memory.
"""
import numpy as np

from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import image_array_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

# Factor sizes per mode; a smaller file in the same layout can be read by
# changing them (the tests do).
FACTOR_SIZES = {
    "mpi3d_toy": [4, 4, 2, 3, 3, 40, 40],
    "mpi3d_realistic": [4, 4, 2, 3, 3, 40, 40],
    "mpi3d_real": [6, 6, 2, 3, 3, 40, 40],
}


class MPI3D(image_array_data.ImageArrayData):
  """MPI3D: 7 factors, all exposed, 64x64x3."""

  def __init__(self, mode="mpi3d_toy"):
    if mode not in FACTOR_SIZES:
      raise errors.UserError("Unknown mode provided: {!r} (known: {}).".format(
          mode, ", ".join(FACTOR_SIZES)))
    sizes = list(FACTOR_SIZES[mode])
    path = files.data_path(mode, mode + ".npz")
    files.load_npz(path, mode, ["images"]).close()
    images = files.map_npz_member(path, mode, "images")
    files.check_array(path, mode, "images", images,
                      shape=[int(np.prod(sizes)), 64, 64, 3], dtype=np.uint8)
    self._set_images(images, sizes, range(7), [64, 64, 3])

  def _to_observations(self, rows):
    return rows / 255.


@named_data.register("mpi3d_toy", "MPI3D toy renderings: 7 factors, 64x64x3")
def mpi3d_toy():
  return MPI3D("mpi3d_toy")


@named_data.register("mpi3d_realistic", "MPI3D realistic renderings: 7 factors, 64x64x3")
def mpi3d_realistic():
  return MPI3D("mpi3d_realistic")


@named_data.register("mpi3d_real", "MPI3D real camera images: 7 factors, 64x64x3")
def mpi3d_real():
  return MPI3D("mpi3d_real")
