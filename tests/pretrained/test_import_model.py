"""dimport on fixture models written by TensorFlow (tests/fixtures/original_models, see
make_fixtures.py there): conversions equal TensorFlow's outputs, bad inputs are one line."""
import glob
import json
import os
import zipfile

import numpy as np
import pytest
import torch

from dlib_torch.pretrained import tf_checkpoint
from dlib_torch.tests import commands
from dlib_torch.utils import torchscript_io

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "fixtures", "original_models")
CHECKPOINT = os.path.join("0", "model", "tf_checkpoint", "model.ckpt-300000")


def _fixture(name):
  return os.path.join(FIXTURES, name + ".zip"), np.load(os.path.join(FIXTURES, name + ".npz"))


def _unzipped(name, tmp_path):
  folder = str(tmp_path / name)
  with zipfile.ZipFile(_fixture(name)[0]) as archive:
    archive.extractall(folder)
  return folder


@pytest.mark.parametrize("name", ["conv_1ch", "conv_3ch", "fc_1ch", "fc_3ch"])
def test_conversion_equals_tensorflow(name, tmp_path):
  zip_path, expected = _fixture(name)
  out = str(tmp_path / "model")
  completed = commands.run("dimport", "--input=" + zip_path, "--output_dir=" + out)
  assert completed.returncode == 0, completed.stderr
  encoder = torchscript_io.load_module(out, "gaussian_encoder")
  decoder = torchscript_io.load_module(out, "decoder")
  with torch.no_grad():
    means, logvars = encoder(torch.from_numpy(expected["images"]))
    logits = decoder(torch.from_numpy(expected["latents"]))
  np.testing.assert_allclose(means.numpy(), expected["means"], rtol=0, atol=1e-5)
  np.testing.assert_allclose(logvars.numpy(), expected["logvars"], rtol=0, atol=1e-5)
  np.testing.assert_allclose(logits.numpy(), expected["logits"], rtol=0, atol=1e-5)
  description = torchscript_io.load_description(out, "gaussian_encoder")
  assert description["observation_shape"] == list(expected["images"].shape[1:])
  assert description["global_step"] == 300000
  # The original's results are carried over unchanged.
  with open(os.path.join(out, "results", "json", "train_results.json")) as f:
    assert json.load(f)["global_step"] == 300000
  assert os.path.isfile(os.path.join(out, "original", "metrics", "mean", "mig", "results",
                                     "json", "evaluation_results.json"))


def test_crc32c_known_values():
  assert tf_checkpoint.crc32c(b"123456789") == 0xe3069283
  data = np.random.RandomState(0).bytes(300001)
  assert tf_checkpoint.crc32c(data) == tf_checkpoint._update_bytes(0xffffffff, data) ^ 0xffffffff


def _assert_refused(completed, out, text):
  assert completed.returncode == 2, completed.stderr
  lines = completed.stderr.strip().splitlines()
  assert len(lines) == 1 and text in lines[0], completed.stderr
  assert not os.path.exists(out)


def _rewrite_gin(folder, old, new):
  for root, _, files in os.walk(folder):
    for file_name in files:
      if file_name == "train.gin":
        path = os.path.join(root, file_name)
        text = open(path).read()
        assert old in text
        open(path, "w").write(text.replace(old, new))


def _break_checkpoint(folder, kind):
  prefix = os.path.join(folder, CHECKPOINT)
  if kind == "truncated_data":
    data = prefix + ".data-00000-of-00001"
    with open(data, "r+b") as f:
      f.truncate(os.path.getsize(data) // 2)
    return "truncated"
  if kind == "corrupt_data":
    data = prefix + ".data-00000-of-00001"
    with open(data, "r+b") as f:
      f.seek(os.path.getsize(data) - 100)
      byte = f.read(1)
      f.seek(-1, 1)
      f.write(bytes([byte[0] ^ 0xff]))
    return "corrupt"
  if kind == "corrupt_index":
    index = prefix + ".index"
    content = bytearray(open(index, "rb").read())
    content[40] ^= 0x55
    open(index, "wb").write(bytes(content))
    return "not a readable TensorFlow checkpoint index"
  raise ValueError(kind)


@pytest.mark.parametrize("kind", ["truncated_data", "corrupt_data", "corrupt_index"])
def test_damaged_checkpoint_is_one_line(kind, tmp_path):
  folder = _unzipped("conv_1ch", tmp_path)
  text = _break_checkpoint(folder, kind)
  out = str(tmp_path / "out")
  _assert_refused(commands.run("dimport", "--input=" + folder, "--output_dir=" + out), out, text)


@pytest.mark.parametrize("old,new,text", [
    # conv checkpoint said to be fc: its variables have other names (missing variable).
    ("@deconv_decoder", "@fc_decoder", "has no variable decoder/dense_3/bias"),
    # 10 latents in the checkpoint, 12 in the gin: wrong shapes.
    ("encoder.num_latent = 10", "encoder.num_latent = 12", "has shape"),
    ("@conv_encoder", "@resnet_encoder", "Unknown architecture"),
])
def test_inconsistent_model_is_one_line(old, new, text, tmp_path):
  folder = _unzipped("conv_1ch", tmp_path)
  _rewrite_gin(folder, old, new)
  out = str(tmp_path / "out")
  _assert_refused(commands.run("dimport", "--input=" + folder, "--output_dir=" + out), out, text)


def test_not_a_model_is_one_line(tmp_path):
  os.makedirs(str(tmp_path / "some" / "folder"))
  out = str(tmp_path / "out")
  _assert_refused(commands.run("dimport", "--input=" + str(tmp_path / "some"),
                               "--output_dir=" + out), out, "not a model of the original")
  not_zip = str(tmp_path / "model.zip")
  open(not_zip, "w").write("not a zip")
  _assert_refused(commands.run("dimport", "--input=" + not_zip, "--output_dir=" + out), out,
                  "neither a model folder nor a readable zip")


@pytest.mark.slow
def test_imported_model_reproduces_mig(tmp_path):
  model = str(tmp_path / "model")
  completed = commands.run("dimport", "--input=" + _fixture("conv_1ch")[0],
                           "--output_dir=" + model)
  assert completed.returncode == 0, completed.stderr
  out = str(tmp_path / "out")
  completed = commands.run("dreproduce", "--model_dir=" + model, "--output_directory=" + out,
                           "--metrics=mig")
  assert completed.returncode == 0, completed.stderr
  rows = []
  for path in glob.glob(os.path.join(out, "metrics", "*", "*", "results", "aggregate",
                                     "evaluation.json")):
    with open(path) as f:
      rows.append(json.load(f))
  assert len(rows) == 2  # the mean and the sampled representation
  for row in rows:
    assert row["train_config.dataset.name"] == "'procedural_dsprites'"
    assert 0 <= row["evaluation_results.discrete_mig"] <= 1
