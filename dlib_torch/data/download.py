"""Verified downloads of the real data sets (`ddownload`).

`RESOURCES` lists, per download name, the files a data set needs: where each
lands below the data folder, the URLs to try (the original's first where it
had one, then known mirrors), its published checksum and how it is unpacked
(SmallNORB's `.gz` files are gunzipped; of the Cars3D tarball only
`data/cars/*.mat` is extracted, into `cars/`). `DATASETS` maps each
registered data set name to the download names it needs (scream_dsprites
needs both the dSprites npz and scream.jpg); the download names themselves
are accepted too, as the loaders' error messages use them.

Checksums. Where a SHA-256 is published we check it: the six SmallNORB
`.gz` files and `3dshapes.h5` (TensorFlow Datasets' url_checksums). Where
only an MD5 is published we check that: the dSprites npz (used by many
loaders), the Cars3D tarball and the three MPI3D npz files (the disent
library). scream.jpg has none. A mirror must serve the same bytes as the
primary URL: its download is checked against the same checksum.

Trust on first use. Every file installed is recorded with its SHA-256, size
and modification time in `ddownload_manifest.json` in the data folder.
Where no checksum is published, the SHA-256 of the first successful
download is recorded there and later downloads (after the file was lost, or
with --force) must match it; to accept a new upstream version, delete the
file's entry from the manifest. Files already in the data folder but not in
the manifest (e.g. fetched by the original's script) are adopted: checked
when a checksum of that exact file is published, otherwise recorded as
found. A data set whose recorded files are present and unchanged (same
size and modification time, else same SHA-256) is not fetched again.

Downloads go to `<file>.part`, resumed with an HTTP Range request when a
previous attempt was cut off (the transfer is also retried a few times in
place), and renamed into place only when the checksum matches; a mismatch
deletes the `.part` and tries the next mirror. Archives are extracted only
if no entry could land outside the target folder. Nothing here reads flags;
the data folder is passed in (the CLI defaults it as the loaders do).
"""
import collections
import dataclasses
import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from typing import Optional, Tuple

from absl import logging

from dlib_torch.data.ground_truth import cars3d
from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import norb
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.utils import progress as progress_report

MANIFEST_NAME = "ddownload_manifest.json"
_CHUNK_BYTES = 1 << 20
_TIMEOUT_S = 60
_RETRIES = 3
_USER_AGENT = "dlib_torch-ddownload"

# Where to take files from an archive: entries under `prefix` whose names end
# with `suffix` go to `dest` (relative to the data folder), prefix stripped.
Extract = collections.namedtuple("Extract", "prefix suffix dest")


@dataclasses.dataclass(frozen=True)
class RemoteFile:
  """One downloaded file. `path` is where the download lands, relative to the data folder."""
  path: str
  urls: Tuple[str, ...]
  sha256: Optional[str] = None
  md5: Optional[str] = None
  size: Optional[int] = None
  gunzip: bool = False  # Replace `path` (…gz) by its decompressed content.
  extract: Optional[Extract] = None  # Take files from the archive, then delete it.
  also_accept: Tuple[str, ...] = ()  # Other files the loader reads as well.


@dataclasses.dataclass(frozen=True)
class Resource:
  description: str
  files: Tuple[RemoteFile, ...]


def _norb_files():
  # SHA-256 and sizes of the .gz files: TensorFlow Datasets, url_checksums/smallnorb.txt.
  published = {
      "training-dat": ("5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
                       131896188),
      "training-cat": ("2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa", 348),
      "training-info": ("de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32", 71052),
      "testing-dat": ("cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
                      130799817),
      "testing-cat": ("ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff", 347),
      "testing-info": ("16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2", 10428),
  }
  result = []
  for chunk in norb.SMALLNORB_CHUNKS:
    for kind in ("dat", "cat", "info"):
      name = "smallnorb-{}-{}.mat.gz".format(chunk, kind)
      sha256, size = published[chunk.split("-")[-1] + "-" + kind]
      result.append(RemoteFile(
          path=norb.SMALLNORB_FOLDER + "/" + name,
          urls=("https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/" + name,),
          sha256=sha256, size=size, gunzip=True))
  return tuple(result)


def _mpi3d(mode, md5, mirrors=()):
  # MD5s of the official files: the disent library (nmichlo/disent, _groundtruth__mpi3d.py).
  return Resource(
      "MPI3D {} images (npz)".format(mode.split("_")[1]),
      (RemoteFile(path="{0}/{0}.npz".format(mode),
                  urls=("https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/"
                        "{}.npz".format(mode),) + tuple(mirrors),
                  md5=md5),))


_DSPRITES_NAME = dsprites.DSPRITES_FILE[1]
_MPI3D_OLD = "https://storage.googleapis.com/disentanglement_dataset/data_npz/"

RESOURCES = {
    dsprites.DSPRITES_DOWNLOAD_NAME: Resource("dSprites masks (npz)", (RemoteFile(
        path="/".join(dsprites.DSPRITES_FILE),
        urls=("https://github.com/deepmind/dsprites-dataset/raw/master/" + _DSPRITES_NAME,
              "https://raw.githubusercontent.com/google-deepmind/dsprites-dataset/master/" +
              _DSPRITES_NAME),
        md5="7da33b31b13a06f4b04a70402ce90c2e"),)),
    dsprites.SCREAM_DOWNLOAD_NAME: Resource("The Scream, for scream_dsprites (jpg)", (RemoteFile(
        path="/".join(dsprites.SCREAM_FILE),
        urls=("https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg",)),)),
    norb.DOWNLOAD_NAME: Resource("SmallNORB matrices (6 files, gunzipped)", _norb_files()),
    cars3d.DOWNLOAD_NAME: Resource("Cars3D meshes (tarball; data/cars/*.mat kept)", (RemoteFile(
        path="nips2015-analogy-data.tar.gz",
        urls=("http://www.scottreed.info/files/nips2015-analogy-data.tar.gz",
              "http://www-personal.umich.edu/~reedscot/files/nips2015-analogy-data.tar.gz"),
        # MD5: the disent library (_groundtruth__cars3d.py).
        md5="4e866a7919c1beedf53964e6f7a23686",
        extract=Extract("data/cars/", ".mat", cars3d.CARS3D_FOLDER)),)),
    shapes3d.DOWNLOAD_NAME: Resource("3D shapes (DeepMind's 3dshapes.h5)", (RemoteFile(
        path="/".join(shapes3d.H5_FILE),
        urls=("https://storage.googleapis.com/3d-shapes/3dshapes.h5",),
        # TensorFlow Datasets, url_checksums/shapes3d.txt.
        sha256="0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785",
        size=267573662,
        also_accept=("/".join(shapes3d.NPZ_FILE),)),)),
    "mpi3d_toy": _mpi3d("mpi3d_toy", "55889cb7c7dfc655d6e0277beee88868",
                        [_MPI3D_OLD + "sim_toy_64x_ordered_without_heldout_factors.npz"]),
    "mpi3d_realistic": _mpi3d(
        "mpi3d_realistic", "59a6225b88b635365f70c91b3e52f70f",
        [_MPI3D_OLD + "sim_realistic_64x_ordered_without_heldout_factors.npz"]),
    "mpi3d_real": _mpi3d("mpi3d_real", "0f33f609918fb5c97996692f91129802"),
}

# Registered data set name -> the download names it needs.
DATASETS = {
    "dsprites_full": ("dsprites",),
    "dsprites_noshape": ("dsprites",),
    "color_dsprites": ("dsprites",),
    "noisy_dsprites": ("dsprites",),
    "scream_dsprites": ("dsprites", "scream"),
    "dsprites_leakage": ("dsprites",),
    "abstract_dsprites": ("dsprites",),
    "smallnorb": ("smallnorb",),
    "cars3d": ("cars3d",),
    "shapes3d": ("shapes3d",),
    "mpi3d_toy": ("mpi3d_toy",),
    "mpi3d_realistic": ("mpi3d_realistic",),
    "mpi3d_real": ("mpi3d_real",),
}


def resolve(names):
  """Download names needed for the given data set or download names, in order, once each."""
  result = []
  for name in names:
    needed = DATASETS.get(name, (name,) if name in RESOURCES else None)
    if needed is None:
      raise errors.UserError("Unknown data set for ddownload: {!r}; known: {} (`ddownload --list` "
                             "says more).".format(name, ", ".join(known_names())))
    result.extend(n for n in needed if n not in result)
  return result


def known_names():
  """Every name `ddownload` accepts, sorted."""
  return sorted(set(DATASETS) | set(RESOURCES))


# --------------------------------------------------------------------------
# Fetching a data set.


def fetch(names, data_dir, force=False, progress=True):
  """Makes the files of the named data sets present and valid in data_dir."""
  for resource in resolve(names):
    for item in RESOURCES[resource].files:
      _install(resource, item, data_dir, force, progress)
    logging.info("%s: ready in %s.", resource, data_dir)


def _install(resource, item, root, force, progress):
  manifest = _Manifest(root)
  if not force and _present(item, root, manifest):
    logging.info("%s: %s is present and valid; not fetched again.", resource,
                 ", ".join(_outputs_recorded(item, manifest)))
    return
  sha256 = item.sha256 or manifest.pinned(item.path)
  target = os.path.join(root, item.path)
  digest = None
  if (item.gunzip or item.extract) and os.path.isfile(target) and (sha256 or item.md5):
    # A verified download whose unpacking was interrupted: unpack it again.
    digests = _hash_file(target, item.md5 is not None)
    digest = None if _checksum_problem(digests, sha256, item.md5) else digests.sha256()
  if digest is None:
    digest = download_file(item.urls, target, sha256, progress, md5=item.md5)
  _finish(item, root, manifest, digest)


def _finish(item, root, manifest, download_sha256):
  """Unpacks a verified download and records what it produced."""
  target = os.path.join(root, item.path)
  if item.gunzip:
    outputs = [_gunzip(target)]
  elif item.extract:
    dest = os.path.join(root, item.extract.dest)
    outputs = safe_extract(target, dest, item.extract.prefix, item.extract.suffix)
    os.remove(target)
  else:
    outputs = [target]
  manifest.record(item.path, download_sha256, [os.path.relpath(p, root) for p in outputs])


def _gunzip(path):
  """Decompresses path (…gz) beside it, atomically; deletes path; returns the new file."""
  output = path[:-len(".gz")]

  def writer(tmp):
    with gzip.open(path, "rb") as src, open(tmp, "wb") as out:
      shutil.copyfileobj(src, out, _CHUNK_BYTES)

  try:
    atomic_io.write_with(output, writer)
  except (OSError, EOFError, zlib.error) as e:
    raise errors.UserError("{} is not a valid gzip file ({}); delete it and run ddownload "
                           "again.".format(path, e)) from e
  os.remove(path)
  return output


# --------------------------------------------------------------------------
# What is already there.


def _present(item, root, manifest):
  """Whether the files of `item` are in the data folder and valid (adopting unrecorded ones)."""
  recorded = manifest.outputs(item.path)
  if recorded:
    return all(manifest.valid(root, rel) for rel in recorded)
  found = [rel for rel in _expected_outputs(item, root)
           if os.path.isfile(os.path.join(root, rel))]
  if not found:
    return False
  checkable = not item.gunzip and not item.extract and found[0] == item.path
  if checkable and (item.sha256 or item.md5):
    digests = _hash_file(os.path.join(root, item.path), item.md5 is not None)
    problem = _checksum_problem(digests, item.sha256, item.md5)
    if problem:
      logging.warning("%s is in the data folder but %s; fetching it again.", item.path, problem)
      return False
    manifest.record(item.path, digests.sha256(), found)
    return True
  logging.warning("Found %s in the data folder, not fetched by ddownload and with no published "
                  "checksum: recorded as found (--force fetches it again).", ", ".join(found))
  pin = _hash_file(os.path.join(root, item.path)).sha256() if checkable else None
  manifest.record(item.path, pin, found)
  return True


def _expected_outputs(item, root):
  """Relative paths of the files `item` puts in the data folder (that exist, for an archive)."""
  if item.extract:
    folder = os.path.join(root, item.extract.dest)
    if not os.path.isdir(folder):
      return []
    return [os.path.join(item.extract.dest, name) for name in sorted(os.listdir(folder))
            if name.endswith(item.extract.suffix)]
  if item.gunzip:
    return [item.path[:-len(".gz")]]
  return [item.path] + list(item.also_accept)


def _outputs_recorded(item, manifest):
  outputs = manifest.outputs(item.path)
  if item.extract and len(outputs) > 1:
    return ["{} ({} files)".format(item.extract.dest, len(outputs))]
  return outputs


def status(name, data_dir):
  """'present' or 'missing' for one download name, from file existence only (no hashing)."""
  manifest = _Manifest(data_dir)
  for item in RESOURCES[name].files:
    recorded = manifest.outputs(item.path)
    exists = [os.path.isfile(os.path.join(data_dir, rel))
              for rel in recorded or _expected_outputs(item, data_dir)]
    if not exists or not (all(exists) if recorded else any(exists)):
      return "missing"
  return "present"


class _Manifest:
  """The record of installed files in the data folder (see the module docstring).

  {"files": {relative path: {"sha256", "size", "mtime_ns"}},
   "downloads": {download path: {"sha256": of the download or null, "outputs": [paths]}}}
  """

  def __init__(self, root):
    self._path = os.path.join(root, MANIFEST_NAME)
    self._data = self._read()

  def _read(self):
    if not os.path.isfile(self._path):
      return {"files": {}, "downloads": {}}
    try:
      data = atomic_io.read_json(self._path)
      if not isinstance(data.get("files"), dict) or not isinstance(data.get("downloads"), dict):
        raise ValueError("unexpected layout")
    except (ValueError, AttributeError) as e:
      raise errors.UserError("The download manifest {} is unreadable ({}); delete it (its records "
                             "are rebuilt from the files).".format(self._path, e)) from e
    return data

  def outputs(self, download_path):
    return self._data["downloads"].get(download_path, {}).get("outputs", [])

  def pinned(self, download_path):
    return self._data["downloads"].get(download_path, {}).get("sha256")

  def file_sha256(self, rel):
    return self._data["files"].get(rel, {}).get("sha256")

  def valid(self, root, rel):
    """The file exists unchanged: same size and mtime as recorded, else the same SHA-256."""
    record = self._data["files"].get(rel)
    path = os.path.join(root, rel)
    if record is None or not os.path.isfile(path):
      return False
    stat = os.stat(path)
    if stat.st_size != record["size"]:
      return False
    if stat.st_mtime_ns == record["mtime_ns"]:
      return True
    if _hash_file(path).sha256() != record["sha256"]:
      logging.warning("%s has changed since it was installed.", path)
      return False
    self._update({rel: dict(record, mtime_ns=stat.st_mtime_ns)}, {})
    return True

  def record(self, download_path, download_sha256, outputs):
    root = os.path.dirname(self._path)
    files = {}
    for rel in outputs:
      stat = os.stat(os.path.join(root, rel))
      known = self._data["files"].get(rel, {})
      if rel == download_path and download_sha256:
        sha256 = download_sha256
      elif (known.get("size"), known.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        sha256 = known["sha256"]
      else:
        sha256 = _hash_file(os.path.join(root, rel)).sha256()
      files[rel] = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    self._update(files, {download_path: {"sha256": download_sha256, "outputs": list(outputs)}})

  def _update(self, files, downloads):
    # Re-read first so that records written meanwhile by another run are kept.
    self._data = self._read()
    self._data["files"].update(files)
    self._data["downloads"].update(downloads)
    try:
      atomic_io.write_json(self._path, self._data)
    except OSError as e:  # A read-only data folder can still be checked.
      logging.warning("Could not update %s (%s).", self._path, e)


# --------------------------------------------------------------------------
# Downloading one file.


class _NoTransfer(Exception):
  """The URL gave no usable answer (refused, not found, server error)."""


class _Cut(Exception):
  """The transfer stopped before the end; the .part file holds what arrived."""


def download_file(urls, target, sha256=None, progress=True, md5=None, retries=_RETRIES):
  """Downloads target from the first of urls that serves a file with the given checksum.

  The data goes to target + ".part", which a later call resumes (HTTP Range);
  a transfer cut off is resumed up to `retries` times in place. On success
  the .part file is renamed to target and its SHA-256 (hex) returned. A
  checksum mismatch deletes the .part file and moves on to the next URL.
  Raises UserError naming the file when no URL gave it.
  """
  folder = os.path.dirname(os.path.abspath(target))
  created = not os.path.isdir(folder)
  os.makedirs(folder, exist_ok=True)
  part = target + ".part"
  failures = []
  for url in urls:
    for _ in range(2):  # A mismatch after resuming is retried once from scratch.
      try:
        digests, resumed = _fetch(url, part, retries, progress, md5 is not None)
      except (_NoTransfer, _Cut) as e:
        failures.append("{}: {}".format(url, e))
        break
      problem = _checksum_problem(digests, sha256, md5)
      if not problem:
        os.replace(part, target)
        logging.info("Downloaded %s (SHA-256 %s).", target, digests.sha256())
        return digests.sha256()
      os.remove(part)
      failures.append("{}: {}".format(url, problem))
      if not resumed:
        break
  kept = ""
  if os.path.exists(part):
    kept = " The partial download {} is kept; run again to resume.".format(part)
  elif created and not os.listdir(folder):
    os.rmdir(folder)
  raise errors.UserError("Could not download {} ({}).{}".format(
      target, "; ".join(failures) or "no URL", kept))


def _fetch(url, part, retries, progress, want_md5):
  """Fetches url into part, resuming; returns (digests of the whole file, whether it resumed)."""
  resumed, cuts = False, 0
  while True:
    start = os.path.getsize(part) if os.path.exists(part) else 0
    resumed = resumed or start > 0
    try:
      return _fetch_once(url, part, start, progress, want_md5), resumed
    except _Cut as e:
      cuts += 1
      if cuts > retries:
        raise
      logging.warning("Download of %s cut off (%s); resuming.", url, e)


def _fetch_once(url, part, start, progress, want_md5):
  request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
  if start:
    request.add_header("Range", "bytes={}-".format(start))
  try:
    response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
  except urllib.error.HTTPError as e:
    e.close()
    if e.code == 416 and start:
      # Nothing left to send: the .part file is complete (or too long: the checksum tells).
      return _hash_file(part, want_md5)
    raise _NoTransfer("HTTP {} {}".format(e.code, e.reason)) from e
  except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
    raise _NoTransfer(str(getattr(e, "reason", e))) from e
  with response:
    if start and not (response.status == 206 and _range_start(response) == start):
      start = 0  # The server sent the whole file.
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    digests = _hash_file(part, want_md5) if start else _Digests(want_md5)
    bar = progress_report.Progress(
        None if length is None else start + length, os.path.basename(part[:-len(".part")]),
        "B", start, enabled=progress, format_count=_megabytes, unit_scale=True,
        unit_divisor=1024)
    received = 0
    try:
      with open(part, "ab" if start else "wb") as out:
        while True:
          chunk = response.read(_CHUNK_BYTES)
          if not chunk:
            break
          out.write(chunk)
          digests.update(chunk)
          received += len(chunk)
          bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as e:
      raise _Cut("{} after {} bytes".format(type(e).__name__, start + received)) from e
    finally:
      bar.close()
  if length is not None and received < length:
    raise _Cut("connection closed after {} of {} bytes".format(start + received, start + length))
  return digests


def _megabytes(num_bytes):
  return "{:.1f} MB".format(num_bytes / 1e6)


def _range_start(response):
  # "Content-Range: bytes 100-199/200" -> 100.
  value = response.headers.get("Content-Range", "")
  try:
    return int(value.split()[1].split("-")[0])
  except (IndexError, ValueError):
    return None


class _Digests:
  """SHA-256, and MD5 where one is to be checked, of a byte stream."""

  def __init__(self, want_md5=False):
    self._sha256 = hashlib.sha256()
    self._md5 = hashlib.md5(usedforsecurity=False) if want_md5 else None

  def update(self, data):
    self._sha256.update(data)
    if self._md5 is not None:
      self._md5.update(data)

  def sha256(self):
    return self._sha256.hexdigest()

  def md5(self):
    return None if self._md5 is None else self._md5.hexdigest()


def _hash_file(path, want_md5=False):
  digests = _Digests(want_md5)
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
      digests.update(block)
  return digests


def _checksum_problem(digests, sha256, md5):
  """None if the digests match what is expected, else what is wrong."""
  if sha256 and digests.sha256() != sha256.lower():
    return "SHA-256 {} does not match the expected {}".format(digests.sha256(), sha256)
  if md5 and digests.md5() != md5.lower():
    return "MD5 {} does not match the published {}".format(digests.md5(), md5)
  return None


# --------------------------------------------------------------------------
# Archives.


def safe_extract(archive, dest_dir, prefix="", suffix=""):
  """Extracts the regular files of a tar or zip archive under `prefix` ending with `suffix`.

  They are written to dest_dir with `prefix` removed from their names, each
  atomically. Every entry of the archive is checked first: if any is
  absolute, climbs out with "..", or (tar) is a link or special file that
  tarfile's "data" filter refuses, a UserError names it and nothing is
  written. Returns the paths written.
  """
  try:
    return _extract(archive, os.path.realpath(dest_dir), prefix, suffix)
  except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as e:
    raise errors.UserError("{} is not a readable archive ({}); delete it and run ddownload "
                           "again.".format(archive, e)) from e


def _extract(archive, dest_dir, prefix, suffix):
  """safe_extract, given the real path of dest_dir."""
  is_tar = tarfile.is_tarfile(archive)
  if not is_tar and not zipfile.is_zipfile(archive):
    raise errors.UserError("{} is not a tar or zip archive.".format(archive))
  with tarfile.open(archive, "r:*") if is_tar else zipfile.ZipFile(archive) as opened:
    if is_tar:
      entries = [(m.name, m.isfile(), m) for m in opened.getmembers()]
      read = opened.extractfile
    else:
      entries = [(i.filename, not i.is_dir() and not _zip_is_link(i), i)
                 for i in opened.infolist()]
      read = opened.open
    chosen = []
    for name, regular, entry in entries:
      _check_entry(archive, name, dest_dir)
      if isinstance(entry, tarfile.TarInfo) and hasattr(tarfile, "data_filter"):
        try:
          tarfile.data_filter(entry, dest_dir)
        except tarfile.FilterError as e:
          raise errors.UserError("Refusing to extract {}: entry {!r} ({}).".format(
              archive, name, e)) from e
      clean = name
      while clean.startswith("./"):
        clean = clean[2:]
      if regular and clean.startswith(prefix) and clean.endswith(suffix):
        relative = clean[len(prefix):]
        _check_entry(archive, relative, dest_dir)
        chosen.append((os.path.join(dest_dir, relative), entry))
    if not chosen:
      raise errors.UserError("{} holds no files {}*{}.".format(archive, prefix, suffix))
    written = []
    for path, entry in chosen:
      def writer(tmp, entry=entry):
        with read(entry) as src, open(tmp, "wb") as out:
          shutil.copyfileobj(src, out, _CHUNK_BYTES)
      atomic_io.write_with(path, writer)
      written.append(path)
  return written


def _check_entry(archive, name, dest_dir):
  path = os.path.realpath(os.path.join(dest_dir, name))
  if os.path.isabs(name) or os.path.commonpath([dest_dir, path]) != dest_dir:
    raise errors.UserError("Refusing to extract {}: entry {!r} would be written outside {}.".format(
        archive, name, dest_dir))


def _zip_is_link(info):
  return (info.external_attr >> 16) & 0o170000 == 0o120000


# --------------------------------------------------------------------------
# Files the user already has (--from_file).


def register_local_file(name, path, data_dir):
  """Installs a file the user already has (or every matching file in a folder) for `name`.

  The file is matched by its name to one of the data set's files: the
  download (a SmallNORB `.mat.gz`, the Cars3D tarball) or what is unpacked
  from it (the `.mat`; for Cars3D, a folder of `car_*.mat`); a data set made
  of a single download takes any name. It is copied into the data folder,
  checked like a download (an unpacked file only against an earlier record),
  unpacked and recorded. Returns the relative paths installed.
  """
  items = [item for resource in resolve([name]) for item in RESOURCES[resource].files]
  if os.path.isdir(path):
    sources = [os.path.join(path, n) for n in sorted(os.listdir(path))]
  elif os.path.isfile(path):
    sources = [path]
  else:
    raise errors.UserError("--from_file {} does not exist.".format(path))
  installed = []
  for source in sources:
    match = _match_local(items, os.path.basename(source), single=len(sources) == 1)
    if match is not None:
      installed.extend(_install_local(match[0], match[1], source, data_dir))
  if not installed:
    expected = sorted({n for item in items for n in _local_names(item)})
    raise errors.UserError("{} holds no file of {}; expected one of: {}.".format(
        path, name, ", ".join(expected)))
  return installed


def _match_local(items, basename, single):
  """(item, relative path it installs to) for a file called basename, or None."""
  for item in items:
    for rel in [item.path] + list(item.also_accept) + (
        [item.path[:-len(".gz")]] if item.gunzip else []):
      if basename == os.path.basename(rel):
        return item, rel
  for item in items:
    if item.extract and basename.endswith(item.extract.suffix):
      return item, os.path.join(item.extract.dest, basename)
  if single and len(items) == 1:
    return items[0], items[0].path
  return None


def _local_names(item):
  names = [item.path] + list(item.also_accept)
  if item.gunzip:
    names.append(item.path[:-len(".gz")])
  if item.extract:
    names.append("*" + item.extract.suffix)
  return [os.path.basename(n) for n in names]


def _install_local(item, rel, source, root):
  manifest = _Manifest(root)
  target = os.path.join(root, rel)
  if rel == item.path:
    sha256, md5 = item.sha256 or manifest.pinned(item.path), item.md5
  else:  # An unpacked form: only a record of an earlier install can check it.
    sha256, md5 = manifest.file_sha256(rel), None
  digests = _Digests(md5 is not None)

  def writer(tmp):
    with open(source, "rb") as src, open(tmp, "wb") as out:
      for block in iter(lambda: src.read(_CHUNK_BYTES), b""):
        out.write(block)
        digests.update(block)
    problem = _checksum_problem(digests, sha256, md5)
    if problem:
      raise errors.UserError("{} is not the file {} expects: {}.".format(source, rel, problem))

  atomic_io.write_with(target, writer)
  if rel == item.path:
    _finish(item, root, manifest, digests.sha256())
  else:
    earlier = [o for o in manifest.outputs(item.path) if os.path.isfile(os.path.join(root, o))]
    manifest.record(item.path, None, sorted(set(earlier) | {rel}))
  if not sha256 and not md5:
    logging.warning("%s has no published checksum; recorded its SHA-256 %s.", rel,
                    digests.sha256())
  logging.info("Registered %s as %s.", source, rel)
  return manifest.outputs(item.path) if rel == item.path else [rel]
