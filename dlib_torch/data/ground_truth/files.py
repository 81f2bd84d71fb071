"""Where data files live, and checks that turn a bad file into one clear error.

The data root is `DISENTANGLEMENT_LIB_DATA`, else the current folder, read
each time a data set is built (not at import). Large arrays are memory-mapped
so that a data set is held once per process and shared by forked workers:
an uncompressed npz member is mapped in place; a compressed one (or a
chunked/compressed HDF5 data set) is extracted once to a `.npy` file beside
the original (or in the user cache if that folder is read-only), which is
then mapped.
"""
import os
import tempfile
import zipfile
import zlib

import numpy as np

from dlib_torch.utils import errors

# Rows copied per chunk when a member is extracted or converted.
_CHUNK_BYTES = 64 * 1024 * 1024


def data_root():
  """The data folder: $DISENTANGLEMENT_LIB_DATA, else the current folder."""
  return os.environ.get("DISENTANGLEMENT_LIB_DATA", ".")


def data_path(*parts):
  """A path below the data folder."""
  return os.path.join(data_root(), *parts)


def bad_file(path, download_name, problem, kind="file"):
  """The one-line UserError for a missing or unusable data file (or folder)."""
  return errors.UserError(
      "Data {} {} {}; fetch it with `ddownload {}` (data folder: "
      "$DISENTANGLEMENT_LIB_DATA, else the current folder).".format(
          kind, path, problem, download_name))


def require_file(path, download_name):
  """Raises the one-line UserError unless `path` is an existing file."""
  if not os.path.isfile(path):
    raise bad_file(path, download_name, "is missing")
  return path


def check_array(path, download_name, name, array, shape=None, dtype=None):
  """Raises the one-line UserError unless `array` has the shape and dtype given.

  `shape` may contain None for a free dimension.
  """
  check_layout(path, download_name, name, array.shape, array.dtype, shape, dtype)
  return array


def check_layout(path, download_name, name, actual_shape, actual_dtype, shape=None,
                 dtype=None):
  """As `check_array`, given an array's shape and dtype."""
  if shape is not None:
    ok = len(actual_shape) == len(shape) and all(
        want is None or want == got for want, got in zip(shape, actual_shape))
    if not ok:
      raise bad_file(path, download_name, "has {} of shape {}, expected {}".format(
          name, tuple(actual_shape), tuple("*" if s is None else s for s in shape)))
  if dtype is not None and np.dtype(actual_dtype) != np.dtype(dtype):
    raise bad_file(path, download_name, "has {} of dtype {}, expected {}".format(
        name, actual_dtype, np.dtype(dtype)))


def load_npz(path, download_name, keys, **kwargs):
  """Opens an npz file and checks that it holds `keys`; returns the NpzFile."""
  require_file(path, download_name)
  try:
    data = np.load(path, **kwargs)
  except Exception as e:  # pylint: disable=broad-except
    raise bad_file(path, download_name, "cannot be read ({})".format(
        " ".join(str(e).split()) or type(e).__name__)) from e
  if not isinstance(data, np.lib.npyio.NpzFile):
    raise bad_file(path, download_name, "is not an npz archive")
  missing = [k for k in keys if k not in data.files]
  if missing:
    raise bad_file(path, download_name, "lacks the array(s) {} (has {})".format(
        ", ".join(missing), ", ".join(data.files) or "none"))
  return data


def read_npz_member(path, download_name, data, key):
  """Reads one member of an open NpzFile fully into memory, with a clear error."""
  try:
    return data[key]
  except Exception as e:  # pylint: disable=broad-except
    raise bad_file(path, download_name, "has an unreadable array {} ({})".format(
        key, " ".join(str(e).split()) or type(e).__name__)) from e


def map_npz_member(path, download_name, key):
  """Returns member `key` of an npz file as a read-only memory-mapped array.

  A member stored uncompressed (np.savez) is mapped where it lies inside the
  archive. A compressed one (np.savez_compressed) is extracted once to
  `<path>.<key>.npy` (see `extraction_path`; written under a temporary name,
  then renamed), which is mapped on this and later runs.
  """
  require_file(path, download_name)
  member = key + ".npy"
  try:
    with zipfile.ZipFile(path) as archive:
      info = archive.getinfo(member)
      if info.compress_type == zipfile.ZIP_STORED:
        offset = _stored_member_offset(path, info)
        with open(path, "rb") as f:
          f.seek(offset)
          shape, fortran, dtype = _read_npy_header(f)
          data_offset = f.tell()
        return _memmap(path, dtype, shape, fortran, data_offset, info.file_size -
                       (data_offset - offset))
      cache = extraction_path(path, key)
      if not _cache_is_current(cache, path):
        with archive.open(member) as src:
          _copy_npy_stream(src, cache)
  except (KeyError, zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as e:
    raise bad_file(path, download_name, "is not a valid npz archive with array {} ({})".format(
        key, " ".join(str(e).split()) or type(e).__name__)) from e
  return np.load(cache, mmap_mode="r")


def npz_member_header(path, download_name, key):
  """(shape, dtype) of member `key` of an npz file, reading only its header."""
  try:
    with zipfile.ZipFile(path) as archive, archive.open(key + ".npy") as src:
      shape, fortran, dtype = _read_npy_header(src)
  except (KeyError, zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as e:
    raise bad_file(path, download_name, "is not a valid npz archive with array {} ({})".format(
        key, " ".join(str(e).split()) or type(e).__name__)) from e
  if fortran:
    raise bad_file(path, download_name, "has array {} in Fortran order".format(key))
  return shape, dtype


def transform_npz_member(path, download_name, key, transform):
  """Streams member `key` in blocks of rows; returns the concatenated transform(block).

  The member is never held whole in memory (it may be compressed).
  """
  try:
    with zipfile.ZipFile(path) as archive, archive.open(key + ".npy") as src:
      shape, _, dtype = _read_npy_header(src)
      step = rows_per_chunk(shape[1:], dtype)
      row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
      blocks = []
      for start in range(0, shape[0], step):
        rows = min(step, shape[0] - start)
        data = src.read(rows * row_bytes)
        if len(data) != rows * row_bytes:
          raise ValueError("array data truncated")
        blocks.append(transform(np.frombuffer(data, dtype).reshape((rows,) + shape[1:])))
  except (KeyError, zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as e:
    raise bad_file(path, download_name, "is not a valid npz archive with array {} ({})".format(
        key, " ".join(str(e).split()) or type(e).__name__)) from e
  return np.concatenate(blocks, axis=0)


def extraction_path(path, key):
  """Where an array extracted from `path` is kept: beside it, else in the user cache.

  The user cache ($XDG_CACHE_HOME or ~/.cache, then dlib_torch/) serves data
  folders the user cannot write to.
  """
  name = "{}.{}.npy".format(os.path.basename(path), key)
  directory = os.path.dirname(os.path.abspath(path))
  if os.access(directory, os.W_OK):
    return os.path.join(directory, name)
  cache_root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  directory = os.path.join(cache_root, "dlib_torch", directory.strip(os.sep).replace(os.sep, "_"))
  os.makedirs(directory, exist_ok=True)
  return os.path.join(directory, name)


def _stored_member_offset(path, info):
  """Byte offset of the data of an uncompressed zip member."""
  with open(path, "rb") as f:
    f.seek(info.header_offset)
    header = f.read(30)
  if len(header) != 30 or header[:4] != b"PK\x03\x04":
    raise ValueError("corrupt zip local header")
  name_len = int.from_bytes(header[26:28], "little")
  extra_len = int.from_bytes(header[28:30], "little")
  return info.header_offset + 30 + name_len + extra_len


def _read_npy_header(f):
  version = np.lib.format.read_magic(f)
  if version == (1, 0):
    return np.lib.format.read_array_header_1_0(f)
  return np.lib.format.read_array_header_2_0(f)


def _memmap(path, dtype, shape, fortran, offset, available):
  if dtype.hasobject:
    raise ValueError("object arrays cannot be memory-mapped")
  needed = int(np.prod(shape)) * dtype.itemsize
  if available < needed:
    raise ValueError("array data truncated ({} of {} bytes)".format(available, needed))
  return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                   order="F" if fortran else "C")


def _cache_is_current(cache, *sources):
  return os.path.isfile(cache) and all(
      os.path.getmtime(cache) >= os.path.getmtime(source) for source in sources)


def cached_array(cache, sources, build):
  """The array `build()` returns, saved once to `cache` and memory-mapped after.

  The cache is rebuilt when any of `sources` is newer than it.
  """
  if _cache_is_current(cache, *sources):
    try:
      return np.load(cache, mmap_mode="r")
    except (OSError, ValueError):
      pass  # Unreadable cache: build it again.
  array = build()
  write_npy_rows(cache, array.shape, array.dtype, [array])
  return np.load(cache, mmap_mode="r")


def _copy_npy_stream(src, dest):
  """Copies a .npy stream to `dest` atomically, checking that it is complete."""
  shape, fortran, dtype = _read_npy_header(src)
  if dtype.hasobject:
    raise ValueError("object arrays cannot be memory-mapped")
  remaining = int(np.prod(shape)) * dtype.itemsize
  fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)),
                             suffix=".tmp")
  try:
    with os.fdopen(fd, "wb") as out:
      np.lib.format.write_array_header_2_0(
          out, {"descr": np.lib.format.dtype_to_descr(dtype),
                "fortran_order": fortran, "shape": shape})
      while remaining:
        block = src.read(min(remaining, _CHUNK_BYTES))
        if not block:
          raise ValueError("array data truncated")
        out.write(block)
        remaining -= len(block)
    os.replace(tmp, dest)
  except BaseException:
    os.unlink(tmp)
    raise


def write_npy_rows(dest, shape, dtype, row_chunks):
  """Writes an array given as consecutive row blocks to `dest` atomically."""
  fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)),
                             suffix=".tmp")
  os.close(fd)
  try:
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=tuple(shape))
    start = 0
    for block in row_chunks:
      out[start:start + len(block)] = block
      start += len(block)
    out.flush()
    del out
    os.replace(tmp, dest)
  except BaseException:
    os.unlink(tmp)
    raise


def rows_per_chunk(row_shape, dtype):
  """How many rows of this shape make one copy chunk."""
  return max(1, _CHUNK_BYTES // max(1, int(np.prod(row_shape)) * np.dtype(dtype).itemsize))


def open_h5(path, download_name, keys):
  """Opens an HDF5 file read-only and checks that it holds data sets `keys`."""
  import h5py  # pylint: disable=g-import-not-at-top
  require_file(path, download_name)
  try:
    handle = h5py.File(path, "r")
  except OSError as e:
    raise bad_file(path, download_name, "is not a readable HDF5 file ({})".format(
        " ".join(str(e).split()))) from e
  missing = [k for k in keys if k not in handle]
  if missing:
    names = ", ".join(sorted(handle.keys())) or "none"
    handle.close()
    raise bad_file(path, download_name, "lacks the data set(s) {} (has {})".format(
        ", ".join(missing), names))
  return handle


def map_h5_dataset(path, download_name, handle, key):
  """Returns data set `key` of an open HDF5 file as a read-only memory-mapped array.

  A contiguous, unfiltered data set is mapped where it lies in the file; any
  other (chunked, compressed) is copied once to a `.npy` file (see
  `extraction_path`), which is mapped.
  """
  dataset = handle[key]
  try:
    offset = dataset.id.get_offset()
    if offset is not None and dataset.chunks is None and not dataset.compression:
      return _memmap(path, dataset.dtype, dataset.shape, False, offset,
                     os.path.getsize(path) - offset)
    cache = extraction_path(path, key)
    if not _cache_is_current(cache, path):
      step = rows_per_chunk(dataset.shape[1:], dataset.dtype)
      blocks = (dataset[i:i + step] for i in range(0, dataset.shape[0], step))
      write_npy_rows(cache, dataset.shape, dataset.dtype, blocks)
  except (OSError, ValueError, KeyError) as e:
    raise bad_file(path, download_name, "has an unreadable data set {} ({})".format(
        key, " ".join(str(e).split()) or type(e).__name__)) from e
  return np.load(cache, mmap_mode="r")
