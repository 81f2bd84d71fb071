"""SmallNORB, as in disentanglement_lib.

Exposed factors: category (5), elevation (9), azimuth (18), lighting (6); the
instance (10) is a nuisance factor drawn when rendering. 64x64x1 float32.
Files `<data>/small_norb/smallnorb-<chunk>-{dat,cat,info}.mat` in the NORB
binary matrix format, training chunk first. Only the first image of each
stereo pair is used; it is resized from 96x96 to 64x64 with Lanczos (a = 3)
in 32-bit, without clipping, as the original's PIL call did, so values can
fall slightly outside [0, 1]. The resized pixels are kept as int16 and
divided by 255 per batch, giving the original's values exactly; both chunks'
are saved once beside the files (`*-training-dat.mat.resized64.npy`, or in
the user cache if that folder is read-only) and memory-mapped on later runs.
"""
import os

import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import image_array_data
from dlib_torch.data.ground_truth import named_data

SMALLNORB_FOLDER = "small_norb"
SMALLNORB_CHUNKS = ["5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing"]
DOWNLOAD_NAME = "smallnorb"
# Sizes of category, instance, elevation, azimuth, lighting in the files; a
# smaller set of files in the same format can be read by changing them (the
# tests do).
FACTOR_SIZES = [5, 10, 9, 18, 6]

# NORB matrix magic numbers -> element type (the original mapped the pixel
# type to int8; the bytes are unsigned, as PIL then read them).
_DTYPES = {507333717: np.uint8, 507333716: np.int32, 507333713: np.float32,
           507333715: np.float64}


class SmallNORB(image_array_data.ImageArrayData):
  """SmallNORB: 4 exposed factors, the instance drawn at random, 64x64x1."""

  def __init__(self):
    chunks = [_load_chunk(chunk) for chunk in SMALLNORB_CHUNKS]
    dat_paths = [_path(chunk, "dat") for chunk in SMALLNORB_CHUNKS]
    images = files.cached_array(
        files.extraction_path(dat_paths[0], "resized64"), dat_paths,
        lambda: np.concatenate([_resize_images(dat[:, 0]) for dat, _ in chunks], axis=0))
    features = np.concatenate([chunk_features for _, chunk_features in chunks], axis=0)
    features[:, 3] = features[:, 3] // 2  # azimuths are 0, 2, ..., 34
    files.check_array(dat_paths[0], DOWNLOAD_NAME, "the cached images", images,
                      shape=[len(features), 64, 64])
    try:
      self._set_images(images, FACTOR_SIZES, [0, 2, 3, 4], [64, 64, 1], features=features)
    except ValueError as e:
      raise files.bad_file(_path(SMALLNORB_CHUNKS[0], "info"), DOWNLOAD_NAME,
                           "and its companions do not list every factor combination "
                           "once ({})".format(e)) from e

  def _to_observations(self, rows):
    return np.expand_dims((rows / 255.).astype(np.float32), axis=3)


def _path(chunk, kind):
  return files.data_path(SMALLNORB_FOLDER, "smallnorb-{}-{}.mat".format(chunk, kind))


def _load_chunk(chunk):
  """Images uint8 [n, 2, 96, 96] (memory-mapped) and features [n, 5] of one chunk."""
  dat = _read_binary_matrix(_path(chunk, "dat"), ndim=4)
  cat = _read_binary_matrix(_path(chunk, "cat"), ndim=1)
  info = _read_binary_matrix(_path(chunk, "info"), ndim=2)
  n = dat.shape[0]
  files.check_array(_path(chunk, "dat"), DOWNLOAD_NAME, "the matrix", dat,
                    shape=[None, 2, 96, 96], dtype=np.uint8)
  files.check_array(_path(chunk, "cat"), DOWNLOAD_NAME, "the matrix", cat, shape=[n],
                    dtype=np.int32)
  files.check_array(_path(chunk, "info"), DOWNLOAD_NAME, "the matrix", info,
                    shape=[n, 4], dtype=np.int32)
  return dat, np.column_stack((cat, info)).astype(np.int64)


def _read_binary_matrix(path, ndim):
  """Reads a NORB binary matrix (memory-mapped): header, dims, then the data."""
  files.require_file(path, DOWNLOAD_NAME)
  size = os.path.getsize(path)
  header = np.fromfile(path, dtype="<i4", count=2) if size >= 8 else np.zeros(0)
  if len(header) < 2 or int(header[0]) not in _DTYPES or int(header[1]) != ndim:
    raise files.bad_file(path, DOWNLOAD_NAME, "is not a NORB {}-d matrix file".format(ndim))
  dtype = np.dtype(_DTYPES[int(header[0])])
  num_dims = max(3, ndim)
  offset = 8 + 4 * num_dims
  if size < offset:
    raise files.bad_file(path, DOWNLOAD_NAME, "is truncated")
  dims = [int(d) for d in np.fromfile(path, dtype="<i4", count=num_dims, offset=8)[:ndim]]
  if min(dims) < 0 or size - offset != int(np.prod(dims)) * dtype.itemsize:
    raise files.bad_file(path, DOWNLOAD_NAME, "has {} data bytes for dims {} (truncated?)".format(
        size - offset, dims))
  return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(dims))


def _resize_images(images):
  """96x96 uint8 -> 64x64 Lanczos in 32-bit integers, rounded, not clipped."""
  resized = np.zeros((images.shape[0], 64, 64), dtype=np.int16)
  for i in range(images.shape[0]):
    image = Image.fromarray(np.asarray(images[i], dtype=np.int32))
    resized[i] = np.asarray(image.resize((64, 64), Image.LANCZOS))
  return resized


@named_data.register("smallnorb",
                     "SmallNORB: 4 factors (category, elevation, azimuth, lighting), 64x64x1")
def smallnorb():
  return SmallNORB()
