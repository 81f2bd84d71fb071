"""ddownload: downloads, checks, resuming, mirrors, archives and the manifest, on a local server."""
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import socket
import tarfile
import threading
import zipfile

import pytest

from dlib_torch.data import download
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors


class FileServer:
  """An HTTP server on 127.0.0.1 serving `files` (path -> bytes), with Range support.

  `cuts[path] = [n, times]` closes the connection after n body bytes, `times`
  times; every request is logged as (path, Range header) in `requests`.
  """

  def __init__(self):
    self.files, self.cuts, self.requests = {}, {}, []
    self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
    self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                    daemon=True)
    self._thread.start()

  def url(self, path):
    return "http://127.0.0.1:{}{}".format(self._httpd.server_address[1], path)

  def close(self):
    self._httpd.shutdown()
    self._httpd.server_close()

  def _handler(self):
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):
      """GET with an optional "Range: bytes=N-"."""

      def do_GET(self):  # pylint: disable=invalid-name
        server.requests.append((self.path, self.headers.get("Range")))
        if self.path not in server.files:
          self.send_error(404)
          return
        data = server.files[self.path]
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(match.group(1)) if match else 0
        if start >= len(data) > 0 and match:
          self.send_response(416)
          self.send_header("Content-Range", "bytes */{}".format(len(data)))
          self.send_header("Content-Length", "0")
          self.end_headers()
          return
        if match:
          self.send_response(206)
          self.send_header("Content-Range", "bytes {}-{}/{}".format(start, len(data) - 1,
                                                                     len(data)))
        else:
          self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = server.cuts.get(self.path)
        if cut and cut[1] > 0:
          cut[1] -= 1
          self.wfile.write(body[:cut[0]])
          self.wfile.flush()
          self.close_connection = True
          self.connection.shutdown(socket.SHUT_RDWR)
          return
        self.wfile.write(body)

      def log_message(self, *args):
        pass

    return Handler


@pytest.fixture
def server():
  s = FileServer()
  yield s
  s.close()


def _closed_port_url():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  return "http://127.0.0.1:{}/gone".format(port)


def _sha256(data):
  return hashlib.sha256(data).hexdigest()


def _blob(n, seed=0):
  return bytes((i * 7 + seed) % 251 for i in range(n))


def _tar_bytes(entries, gz=True):
  """A tar(.gz) of entries: (name, bytes) regular files, or (name, ("symlink", target))."""
  out = io.BytesIO()
  with tarfile.open(fileobj=out, mode="w:gz" if gz else "w") as tar:
    for name, content in entries:
      info = tarfile.TarInfo(name)
      if isinstance(content, tuple):
        info.type, info.linkname = tarfile.SYMTYPE, content[1]
        tar.addfile(info)
      else:
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
  return out.getvalue()


def use_resource(monkeypatch, name, *files):
  monkeypatch.setitem(download.RESOURCES, name, download.Resource("test " + name, tuple(files)))


def _listing(root):
  return sorted(os.path.relpath(os.path.join(d, f), root)
                for d, _, names in os.walk(root) for f in names)


# --------------------------------------------------------------------------
# download_file


def test_good_download_is_checked_and_renamed(server, tmp_path):
  data = _blob(5000)
  server.files["/a.bin"] = data
  target = str(tmp_path / "sub" / "a.bin")
  digest = download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False)
  assert digest == _sha256(data)
  with open(target, "rb") as f:
    assert f.read() == data
  assert _listing(tmp_path) == ["sub/a.bin"]


def test_md5_is_checked_when_only_md5_is_published(server, tmp_path):
  data = _blob(3000)
  server.files["/a.bin"] = data
  target = str(tmp_path / "a.bin")
  download.download_file([server.url("/a.bin")], target, progress=False,
                         md5=hashlib.md5(data).hexdigest())
  assert os.path.isfile(target)
  with pytest.raises(errors.UserError, match="MD5"):
    download.download_file([server.url("/a.bin")], str(tmp_path / "b.bin"), progress=False,
                           md5="0" * 32)
  assert not os.path.exists(str(tmp_path / "b.bin"))


def test_checksum_mismatch_is_an_error_naming_the_file_and_leaves_nothing(server, tmp_path):
  server.files["/a.bin"] = _blob(4000)
  target = str(tmp_path / "sub" / "a.bin")
  with pytest.raises(errors.UserError) as info:
    download.download_file([server.url("/a.bin")], target, "ab" * 32, progress=False)
  assert target in str(info.value) and "SHA-256" in str(info.value)
  assert os.listdir(tmp_path) == []


def test_transfer_cut_halfway_is_resumed_with_range_in_place(server, tmp_path):
  data = _blob(10000)
  server.files["/a.bin"] = data
  server.cuts["/a.bin"] = [4000, 1]
  target = str(tmp_path / "a.bin")
  download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False)
  with open(target, "rb") as f:
    assert f.read() == data
  assert server.requests == [("/a.bin", None), ("/a.bin", "bytes=4000-")]


def test_transfer_cut_halfway_is_resumed_by_the_next_run(server, tmp_path):
  data = _blob(10000)
  server.files["/a.bin"] = data
  server.cuts["/a.bin"] = [6000, 1]
  target = str(tmp_path / "a.bin")
  with pytest.raises(errors.UserError, match="run again to resume"):
    download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False,
                           retries=0)
  assert os.path.getsize(target + ".part") == 6000 and not os.path.exists(target)
  digest = download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False,
                                  retries=0)
  assert digest == _sha256(data)
  assert server.requests[-1] == ("/a.bin", "bytes=6000-")
  with open(target, "rb") as f:
    assert f.read() == data
  assert not os.path.exists(target + ".part")


def test_complete_part_file_is_finished_without_refetching(server, tmp_path):
  data = _blob(2000)
  server.files["/a.bin"] = data
  target = str(tmp_path / "a.bin")
  with open(target + ".part", "wb") as f:
    f.write(data)
  download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False)
  assert server.requests == [("/a.bin", "bytes=2000-")]  # Answered 416: nothing left.
  assert os.path.isfile(target)


def test_stale_part_file_fails_the_check_and_is_fetched_again_from_scratch(server, tmp_path):
  data = _blob(3000)
  server.files["/a.bin"] = data
  target = str(tmp_path / "a.bin")
  with open(target + ".part", "wb") as f:
    f.write(b"x" * 1000)
  download.download_file([server.url("/a.bin")], target, _sha256(data), progress=False)
  with open(target, "rb") as f:
    assert f.read() == data
  assert server.requests == [("/a.bin", "bytes=1000-"), ("/a.bin", None)]


def test_dead_primary_urls_fall_back_to_a_working_mirror(server, tmp_path):
  data = _blob(2500)
  server.files["/mirror/a.bin"] = data
  target = str(tmp_path / "a.bin")
  download.download_file([_closed_port_url(), server.url("/missing"), server.url("/mirror/a.bin")],
                         target, _sha256(data), progress=False)
  with open(target, "rb") as f:
    assert f.read() == data
  assert [r[0] for r in server.requests] == ["/missing", "/mirror/a.bin"]


def test_mirror_serving_other_bytes_is_rejected_and_the_next_one_used(server, tmp_path):
  data = _blob(2500)
  server.files["/bad/a.bin"] = _blob(2500, seed=1)
  server.files["/good/a.bin"] = data
  target = str(tmp_path / "a.bin")
  download.download_file([server.url("/bad/a.bin"), server.url("/good/a.bin")], target,
                         _sha256(data), progress=False)
  with open(target, "rb") as f:
    assert f.read() == data
  assert _listing(tmp_path) == ["a.bin"]


def test_no_working_url_is_an_error_listing_each_failure(server, tmp_path):
  with pytest.raises(errors.UserError) as info:
    download.download_file([server.url("/x"), server.url("/y")], str(tmp_path / "a.bin"),
                           progress=False)
  assert "/x: HTTP 404" in str(info.value) and "/y: HTTP 404" in str(info.value)


# --------------------------------------------------------------------------
# Archives


@pytest.mark.parametrize("evil", [
    ("../evil", b"pwned"),
    ("data/cars/../../../evil.mat", b"pwned"),
    ("/tmp/evil_dlib_torch_test.mat", b"pwned"),
    ("data/cars/link.mat", ("symlink", "../../../../etc/passwd")),
])
def test_malicious_tar_entry_is_rejected_and_nothing_is_written(tmp_path, evil):
  archive = tmp_path / "a.tar.gz"
  archive.write_bytes(_tar_bytes([("data/cars/a.mat", b"ok"), evil]))
  dest = tmp_path / "root" / "cars"
  with pytest.raises(errors.UserError, match="Refusing to extract"):
    download.safe_extract(str(archive), str(dest), "data/cars/", ".mat")
  assert not dest.exists()
  assert _listing(tmp_path) == ["a.tar.gz"]
  assert not os.path.exists("/tmp/evil_dlib_torch_test.mat")


def test_malicious_zip_entry_is_rejected(tmp_path):
  archive = tmp_path / "a.zip"
  with zipfile.ZipFile(archive, "w") as z:
    z.writestr("data/cars/a.mat", b"ok")
    z.writestr("../../evil.mat", b"pwned")
  dest = tmp_path / "cars"
  with pytest.raises(errors.UserError, match="outside"):
    download.safe_extract(str(archive), str(dest), "data/cars/", ".mat")
  assert _listing(tmp_path) == ["a.zip"]


def test_extraction_takes_only_the_chosen_files(tmp_path):
  archive = tmp_path / "a.tar"
  archive.write_bytes(_tar_bytes([("data/cars/a.mat", b"A"), ("data/cars/list.txt", b"a"),
                                  ("data/shapes48.mat", b"S"), ("./data/cars/b.mat", b"B")],
                                 gz=False))
  written = download.safe_extract(str(archive), str(tmp_path / "cars"), "data/cars/", ".mat")
  assert sorted(os.path.basename(p) for p in written) == ["a.mat", "b.mat"]
  assert (tmp_path / "cars" / "b.mat").read_bytes() == b"B"
  assert sorted(os.listdir(tmp_path / "cars")) == ["a.mat", "b.mat"]


# --------------------------------------------------------------------------
# fetch: unpacking, the manifest, what is already there


def test_fetch_extracts_an_archive_and_deletes_it(server, tmp_path, monkeypatch):
  tarball = _tar_bytes([("data/cars/car_001_mesh.mat", b"1"), ("data/cars/car_002_mesh.mat", b"2"),
                        ("data/sprites/x.mat", b"x")])
  server.files["/cars.tgz"] = tarball
  use_resource(monkeypatch, "cars3d", download.RemoteFile(
      path="nips.tar.gz", urls=(server.url("/cars.tgz"),), sha256=_sha256(tarball),
      extract=download.Extract("data/cars/", ".mat", "cars")))
  download.fetch(["cars3d"], str(tmp_path), progress=False)
  assert _listing(tmp_path) == ["cars/car_001_mesh.mat", "cars/car_002_mesh.mat",
                                download.MANIFEST_NAME]
  download.fetch(["cars3d"], str(tmp_path), progress=False)
  assert len(server.requests) == 1


def test_a_verified_archive_left_by_an_interrupted_unpacking_is_not_fetched_again(
    server, tmp_path, monkeypatch):
  tarball = _tar_bytes([("data/cars/a.mat", b"1")])
  use_resource(monkeypatch, "cars3d", download.RemoteFile(
      path="nips.tar.gz", urls=(server.url("/cars.tgz"),), md5=hashlib.md5(tarball).hexdigest(),
      extract=download.Extract("data/cars/", ".mat", "cars")))
  (tmp_path / "nips.tar.gz").write_bytes(tarball)
  download.fetch(["cars3d"], str(tmp_path), progress=False)
  assert server.requests == []
  assert _listing(tmp_path) == ["cars/a.mat", download.MANIFEST_NAME]


def test_truncated_archive_is_a_user_error(tmp_path):
  archive = tmp_path / "a.tar.gz"
  archive.write_bytes(_tar_bytes([("data/cars/a.mat", _blob(20000))])[:300])
  with pytest.raises(errors.UserError, match="not a readable archive"):
    download.safe_extract(str(archive), str(tmp_path / "cars"), "data/cars/", ".mat")
  assert not (tmp_path / "cars").exists()


def test_fetch_refuses_a_malicious_archive_from_the_server(server, tmp_path, monkeypatch):
  tarball = _tar_bytes([("data/cars/a.mat", b"1"), ("../../evil.mat", b"x")])
  server.files["/cars.tgz"] = tarball
  use_resource(monkeypatch, "cars3d", download.RemoteFile(
      path="nips.tar.gz", urls=(server.url("/cars.tgz"),), sha256=_sha256(tarball),
      extract=download.Extract("data/cars/", ".mat", "cars")))
  root = tmp_path / "data"
  with pytest.raises(errors.UserError, match="evil"):
    download.fetch(["cars3d"], str(root), progress=False)
  assert not (root / "cars").exists()
  assert _listing(tmp_path) == ["data/nips.tar.gz"]


def test_fetch_gunzips_and_records_the_outputs(server, tmp_path, monkeypatch):
  raw = _blob(7000)
  packed = gzip.compress(raw)
  server.files["/m.mat.gz"] = packed
  use_resource(monkeypatch, "smallnorb", download.RemoteFile(
      path="small_norb/m.mat.gz", urls=(server.url("/m.mat.gz"),), sha256=_sha256(packed),
      gunzip=True))
  download.fetch(["smallnorb"], str(tmp_path), progress=False)
  assert (tmp_path / "small_norb" / "m.mat").read_bytes() == raw
  assert not (tmp_path / "small_norb" / "m.mat.gz").exists()
  manifest = json.loads((tmp_path / download.MANIFEST_NAME).read_text())
  assert manifest["files"]["small_norb/m.mat"]["sha256"] == _sha256(raw)
  assert manifest["downloads"]["small_norb/m.mat.gz"]["sha256"] == _sha256(packed)
  assert download.status("smallnorb", str(tmp_path)) == "present"


def test_present_and_valid_data_is_not_fetched_again(server, tmp_path, monkeypatch):
  data = _blob(3000)
  server.files["/d.npz"] = data
  use_resource(monkeypatch, "dsprites", download.RemoteFile(
      path="dsprites/d.npz", urls=(server.url("/d.npz"),), sha256=_sha256(data)))
  download.fetch(["dsprites_full", "color_dsprites"], str(tmp_path), progress=False)
  assert len(server.requests) == 1
  download.fetch(["noisy_dsprites"], str(tmp_path), progress=False)
  assert len(server.requests) == 1
  os.utime(tmp_path / "dsprites" / "d.npz", ns=(1, 1))  # Touched, same content: still valid.
  download.fetch(["dsprites"], str(tmp_path), progress=False)
  assert len(server.requests) == 1
  (tmp_path / "dsprites" / "d.npz").write_bytes(_blob(3000, seed=5))  # Damaged: fetched again.
  download.fetch(["dsprites"], str(tmp_path), progress=False)
  assert len(server.requests) == 2
  assert (tmp_path / "dsprites" / "d.npz").read_bytes() == data
  download.fetch(["dsprites"], str(tmp_path), progress=False, force=True)
  assert len(server.requests) == 3


def test_file_already_there_is_adopted_if_it_has_the_published_checksum(server, tmp_path,
                                                                       monkeypatch):
  data = _blob(3000)
  server.files["/d.npz"] = data
  use_resource(monkeypatch, "dsprites", download.RemoteFile(
      path="dsprites/d.npz", urls=(server.url("/d.npz"),), md5=hashlib.md5(data).hexdigest()))
  (tmp_path / "dsprites").mkdir()
  (tmp_path / "dsprites" / "d.npz").write_bytes(data)
  download.fetch(["dsprites"], str(tmp_path), progress=False)
  assert server.requests == []
  (tmp_path / "dsprites" / "d.npz").write_bytes(b"truncated")
  (tmp_path / download.MANIFEST_NAME).unlink()
  download.fetch(["dsprites"], str(tmp_path), progress=False)
  assert len(server.requests) == 1
  assert (tmp_path / "dsprites" / "d.npz").read_bytes() == data


def test_without_a_published_checksum_the_first_download_is_trusted_and_pinned(server, tmp_path,
                                                                              monkeypatch):
  first = _blob(1500)
  server.files["/scream.jpg"] = first
  use_resource(monkeypatch, "scream", download.RemoteFile(
      path="scream/scream.jpg", urls=(server.url("/scream.jpg"),)))
  download.fetch(["scream"], str(tmp_path), progress=False)
  manifest = json.loads((tmp_path / download.MANIFEST_NAME).read_text())
  assert manifest["downloads"]["scream/scream.jpg"]["sha256"] == _sha256(first)
  (tmp_path / "scream" / "scream.jpg").unlink()
  server.files["/scream.jpg"] = _blob(1500, seed=3)  # Upstream now serves other bytes.
  with pytest.raises(errors.UserError, match="does not match"):
    download.fetch(["scream"], str(tmp_path), progress=False)
  assert not (tmp_path / "scream" / "scream.jpg").exists()
  server.files["/scream.jpg"] = first
  download.fetch(["scream"], str(tmp_path), progress=False)
  assert (tmp_path / "scream" / "scream.jpg").read_bytes() == first


def test_unknown_name_is_a_user_error(tmp_path):
  with pytest.raises(errors.UserError, match="Unknown data set"):
    download.fetch(["dsprites_ful"], str(tmp_path))


# --------------------------------------------------------------------------
# register_local_file (--from_file)


def test_local_file_is_checked_copied_and_then_not_fetched(server, tmp_path, monkeypatch):
  data = _blob(4000)
  use_resource(monkeypatch, "shapes3d", download.RemoteFile(
      path="3dshapes/3dshapes.h5", urls=(server.url("/s.h5"),), sha256=_sha256(data)))
  mine = tmp_path / "downloads" / "my_copy.h5"
  mine.parent.mkdir()
  mine.write_bytes(data)
  root = tmp_path / "data"
  assert download.register_local_file("shapes3d", str(mine), str(root)) == [
      "3dshapes/3dshapes.h5"]
  assert (root / "3dshapes" / "3dshapes.h5").read_bytes() == data
  assert mine.exists()
  download.fetch(["shapes3d"], str(root), progress=False)
  assert server.requests == []


def test_local_file_with_the_wrong_checksum_is_refused(tmp_path, monkeypatch):
  use_resource(monkeypatch, "shapes3d", download.RemoteFile(
      path="3dshapes/3dshapes.h5", urls=(), sha256=_sha256(b"right")))
  mine = tmp_path / "3dshapes.h5"
  mine.write_bytes(b"wrong")
  root = tmp_path / "data"
  with pytest.raises(errors.UserError, match="is not the file"):
    download.register_local_file("shapes3d", str(mine), str(root))
  assert not root.exists() or _listing(root) == []


def test_local_files_are_matched_by_name_and_unpacked(tmp_path, monkeypatch):
  raw_a, raw_b = _blob(100), _blob(200, seed=1)
  gz_a = gzip.compress(raw_a)
  use_resource(monkeypatch, "smallnorb",
       download.RemoteFile(path="small_norb/a.mat.gz", urls=(), sha256=_sha256(gz_a), gunzip=True),
       download.RemoteFile(path="small_norb/b.mat.gz", urls=(), gunzip=True))
  mine = tmp_path / "mine"
  mine.mkdir()
  (mine / "a.mat.gz").write_bytes(gz_a)
  (mine / "b.mat").write_bytes(raw_b)  # Already gunzipped.
  (mine / "notes.txt").write_text("unrelated")
  root = tmp_path / "data"
  installed = download.register_local_file("smallnorb", str(mine), str(root))
  assert sorted(installed) == ["small_norb/a.mat", "small_norb/b.mat"]
  assert (root / "small_norb" / "a.mat").read_bytes() == raw_a
  assert (root / "small_norb" / "b.mat").read_bytes() == raw_b
  assert download.status("smallnorb", str(root)) == "present"
  with pytest.raises(errors.UserError, match="expected one of: a.mat, a.mat.gz"):
    download.register_local_file("smallnorb", str(mine / "notes.txt"), str(root))


def test_a_folder_of_extracted_files_is_registered_for_an_archive(server, tmp_path, monkeypatch):
  use_resource(monkeypatch, "cars3d", download.RemoteFile(
      path="nips.tar.gz", urls=(server.url("/cars.tgz"),), md5="0" * 32,
      extract=download.Extract("data/cars/", ".mat", "cars")))
  mine = tmp_path / "old" / "cars"
  mine.mkdir(parents=True)
  for i in range(3):
    (mine / "car_{:03d}_mesh.mat".format(i)).write_bytes(_blob(50, seed=i))
  (mine / "list.txt").write_text("car_000_mesh")
  root = tmp_path / "data"
  installed = download.register_local_file("cars3d", str(mine), str(root))
  assert installed == ["cars/car_{:03d}_mesh.mat".format(i) for i in range(3)]
  assert sorted(os.listdir(root / "cars")) == ["car_{:03d}_mesh.mat".format(i) for i in range(3)]
  download.fetch(["cars3d"], str(root), progress=False)
  assert server.requests == []


# --------------------------------------------------------------------------
# The table


def test_every_registered_data_set_is_fetched_or_needs_no_file():
  for name in named_data.known_names():
    assert name in download.DATASETS or name == "dummy_data" or name.startswith("procedural_"), name
  for name, needed in download.DATASETS.items():
    assert name in named_data.known_names(), name
    assert all(n in download.RESOURCES for n in needed), name


def test_files_land_where_the_loaders_read_them():
  paths = {name: [f.path for f in r.files] for name, r in download.RESOURCES.items()}
  assert paths["dsprites"] == ["dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"]
  assert paths["scream"] == ["scream/scream.jpg"]
  assert paths["shapes3d"] == ["3dshapes/3dshapes.h5"]
  for mode in ("mpi3d_toy", "mpi3d_realistic", "mpi3d_real"):
    assert paths[mode] == ["{0}/{0}.npz".format(mode)]
  assert paths["smallnorb"][0] == (
      "small_norb/smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat.gz")
  assert len(paths["smallnorb"]) == 6 and all(
      f.gunzip and f.sha256 for f in download.RESOURCES["smallnorb"].files)
  cars = download.RESOURCES["cars3d"].files[0]
  assert cars.extract == download.Extract("data/cars/", ".mat", "cars")
  assert download.resolve(["scream_dsprites", "dsprites_full"]) == ["dsprites", "scream"]
