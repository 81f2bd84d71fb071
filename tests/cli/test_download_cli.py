"""ddownload on the command line: names, --list, --from_file and the exit-status-2 errors."""
import hashlib
import json
import os
import re

from dlib_torch.cli import download as download_cli
from dlib_torch.data import download
from dlib_torch.tests import commands
from dlib_torch.tests.data import test_download as helpers


def _ddownload(*args, data_dir):
  env = dict(os.environ, DISENTANGLEMENT_LIB_DATA=str(data_dir))
  return commands.run("ddownload", *args, timeout=120, env=env)


def _assert_user_error(completed, fragment):
  assert completed.returncode == 2, completed.stderr
  assert "Traceback" not in completed.stderr
  last_line = completed.stderr.strip().splitlines()[-1]
  assert last_line.startswith("Error: ") and fragment in last_line, completed.stderr


def test_unknown_name_exits_2_with_one_line(tmp_path):
  _assert_user_error(_ddownload("dsprites_ful", data_dir=tmp_path), "Unknown data set")
  assert os.listdir(tmp_path) == []


def test_from_file_needs_exactly_one_name(tmp_path):
  mine = tmp_path / "x.npz"
  mine.write_bytes(b"x")
  _assert_user_error(_ddownload("dsprites_full", "cars3d", "--from_file=" + str(mine),
                                data_dir=tmp_path), "exactly one data set name")


def test_from_file_with_the_wrong_bytes_exits_2_and_installs_nothing(tmp_path):
  mine = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
  mine.write_bytes(b"not the dSprites file")
  data = tmp_path / "data"
  _assert_user_error(_ddownload("dsprites_full", "--from_file=" + str(mine), data_dir=data),
                     "MD5")
  assert not (data / "dsprites").exists() or os.listdir(data / "dsprites") == []


def test_from_file_registers_a_file_without_published_checksum_and_list_shows_it(tmp_path):
  picture = tmp_path / "The_Scream.jpg"
  picture.write_bytes(b"\xff\xd8 a jpeg")
  data = tmp_path / "data"
  completed = _ddownload("scream", "--from_file=" + str(picture), "--data_dir=" + str(data),
                         data_dir=tmp_path / "elsewhere")
  assert completed.returncode == 0, completed.stderr
  assert (data / "scream" / "scream.jpg").read_bytes() == picture.read_bytes()
  manifest = json.loads((data / download.MANIFEST_NAME).read_text())
  assert manifest["files"]["scream/scream.jpg"]["sha256"] == hashlib.sha256(
      picture.read_bytes()).hexdigest()
  listing = _ddownload("--list", data_dir=data)
  assert listing.returncode == 0, listing.stderr
  # Names are padded to the longest one: the spacing is not the point.
  assert re.search(r"scream_dsprites +dsprites \(missing\), scream \(present\)",
                   listing.stdout)
  assert "need no download: dummy_data, procedural_" in listing.stdout


def test_names_fetch_every_file_their_data_sets_need(tmp_path, monkeypatch):
  server = helpers.FileServer()
  try:
    npz, jpg = b"sprites" * 100, b"scream" * 100
    server.files.update({"/d.npz": npz, "/s.jpg": jpg})
    helpers.use_resource(monkeypatch, "dsprites", download.RemoteFile(
        path="dsprites/d.npz", urls=(server.url("/d.npz"),), md5=hashlib.md5(npz).hexdigest()))
    helpers.use_resource(monkeypatch, "scream", download.RemoteFile(
        path="scream/scream.jpg", urls=(server.url("/s.jpg"),)))
    assert download_cli.ddownload(["scream_dsprites", "dsprites_noshape"], str(tmp_path)) is None
    assert (tmp_path / "dsprites" / "d.npz").read_bytes() == npz
    assert (tmp_path / "scream" / "scream.jpg").read_bytes() == jpg
    assert sorted(r[0] for r in server.requests) == ["/d.npz", "/s.jpg"]
    text = download_cli.ddownload([], str(tmp_path))
    assert re.search(r"dsprites_full +dsprites \(present\)", text)
  finally:
    server.close()
