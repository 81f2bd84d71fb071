"""Imports one trained model of the original (its folder or its zip) as a dlib_torch model folder.

The original's model folder (`N/model/` inside the study's `N.zip`) holds
`tf_checkpoint/` (a TF1 estimator checkpoint), `tfhub/` and `results/`. The
import reads the checkpoint's encoder and decoder variables with
`tf_checkpoint` (no TensorFlow), builds dlib_torch's networks of the
architecture that `results/gin/train.gin` names (encoder.encoder_fn,
decoder.decoder_fn, encoder.num_latent), loads the weights into them and
writes what `dtrain` writes:

  OUTPUT/torchscript/{gaussian_encoder,decoder}.pt and their JSON sidecars
  OUTPUT/results/...       the original's training results, carried unchanged
  OUTPUT/original/...      the original's postprocessed/*/results and
                           metrics/*/*/results, for comparison (no tfhub/)

so that dpostprocess, devaluate, dvisualize, daggregate and dreproduce
--model_dir take it. Layouts: TF kernels are [kh, kw, in, out] for
convolutions and [kh, kw, out, in] for transposed ones (both become
torch's order by one transpose, no spatial flip); dense kernels are
[in, out]. dlib_torch's networks flatten and reshape in TF's (H, W, C) order,
so dense layers next to convolutions need no permutation. Anything missing,
damaged or of another shape is one errors.UserError and nothing is written.
"""
import os
import re
import shutil
import tempfile
import zipfile

import numpy as np
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.pretrained import tf_checkpoint
from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.utils import results
from dlib_torch.utils import torchscript_io

# The study's images are 64x64; the channels come from the checkpoint.
IMAGE_SIZE = 64

# gin name -> (builder, the original's tf.layers names in the order of the torch layers).
ENCODERS = {
    "conv_encoder": (architectures.conv_encoder, ["e1", "e2", "e3", "e4", "e5", "means",
                                                  "log_var"]),
    "fc_encoder": (architectures.fc_encoder, ["e1", "e2", "dense", "dense_1"]),
}
DECODERS = {
    "deconv_decoder": (architectures.deconv_decoder, ["dense", "dense_1", "conv2d_transpose",
                                                      "conv2d_transpose_1",
                                                      "conv2d_transpose_2",
                                                      "conv2d_transpose_3"]),
    "fc_decoder": (architectures.fc_decoder, ["dense", "dense_1", "dense_2", "dense_3"]),
}


def _layers(module):
  return [m for m in module.modules()
          if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d))]


def _torch_kernel(layer, kernel):
  if isinstance(layer, torch.nn.Linear):
    return kernel.T
  return kernel.transpose(3, 2, 0, 1)  # conv and transposed conv alike


def load_weights(module, reader, scope, names, what):
  """Copies the variables scope/NAME/{kernel,bias} into the module's layers, in order."""
  layers = _layers(module)
  assert len(layers) == len(names), (len(layers), names)
  with torch.no_grad():
    for layer, name in zip(layers, names):
      for part, parameter in (("kernel", layer.weight), ("bias", layer.bias)):
        variable = "{}/{}/{}".format(scope, name, part)
        value = reader.tensor(variable)
        if value.dtype != np.float32:
          raise errors.UserError("Variable {} is {}, not float32.".format(variable, value.dtype))
        if part == "kernel":
          value = _torch_kernel(layer, value) if value.ndim in (2, 4) else value
        if tuple(value.shape) != tuple(parameter.shape):
          raise errors.UserError("Variable {} has shape {}; {} needs {}.".format(
              variable, reader.entries[variable].shape, what,
              tuple(_torch_kernel(layer, np.empty(parameter.shape).transpose(
                  (1, 0) if parameter.ndim == 2 else (2, 3, 1, 0))).shape)
              if part == "kernel" else tuple(parameter.shape)))
        parameter.copy_(torch.from_numpy(np.ascontiguousarray(value)))
  return module


def find_model_folder(root):
  """The folder with tf_checkpoint/ and results/ in root, root/model or root/*/model."""
  candidates = [root, os.path.join(root, "model")]
  if os.path.isdir(root):
    candidates += [os.path.join(root, d, "model") for d in sorted(os.listdir(root))]
  for folder in candidates:
    if os.path.isdir(os.path.join(folder, "tf_checkpoint")):
      return folder
  raise errors.UserError("{} is not a model of the original: no tf_checkpoint/ in it, in "
                         "model/ or in */model/.".format(root))


def checkpoint_prefix(model_folder):
  """The latest checkpoint of tf_checkpoint/ (its `checkpoint` file, else the highest step)."""
  folder = os.path.join(model_folder, "tf_checkpoint")
  state = os.path.join(folder, "checkpoint")
  if os.path.isfile(state):
    with open(state, errors="replace") as f:
      match = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', f.read(), re.M)
    if match:  # the path the original wrote is of its own machine: keep the file name
      return os.path.join(folder, os.path.basename(match.group(1)))
  steps = [(int(m.group(1)), m.group(0)[:-len(".index")]) for m in
           (re.fullmatch(r"model\.ckpt-(\d+)\.index", n) for n in os.listdir(folder)) if m]
  if not steps:
    raise errors.UserError("No checkpoint (model.ckpt-N.index) in {}.".format(folder))
  return os.path.join(folder, max(steps)[1])


def _train_settings(model_folder):
  gin_path = os.path.join(model_folder, "results", "gin", "train.gin")
  if not os.path.isfile(gin_path):
    raise errors.UserError("{} is not a model of the original: missing {}.".format(
        model_folder, gin_path))
  values = results.gin_dict(gin_path)
  settings = {}
  for key in ("encoder.encoder_fn", "decoder.decoder_fn", "encoder.num_latent"):
    if key not in values:
      raise errors.UserError("{} has no {}.".format(gin_path, key))
    settings[key] = values[key].strip().lstrip("@")
  for key, table in (("encoder.encoder_fn", ENCODERS), ("decoder.decoder_fn", DECODERS)):
    if settings[key] not in table:
      raise errors.UserError("Unknown architecture {} = @{} in {}; the study's are {}.".format(
          key, settings[key], gin_path, ", ".join("@" + n for n in sorted(table))))
  try:
    settings["encoder.num_latent"] = int(settings["encoder.num_latent"])
  except ValueError as e:
    raise errors.UserError("encoder.num_latent in {} is not an integer.".format(gin_path)) from e
  settings["dataset.name"] = values.get("dataset.name", "").strip("'\"")
  return settings


def _channels(reader, decoder_name):
  """The images' channels, read off the decoder's last layer."""
  if decoder_name == "deconv_decoder":
    return int(reader.tensor("decoder/conv2d_transpose_3/bias").shape[0])
  outputs = reader.tensor("decoder/dense_3/bias").shape[0]
  if outputs % (IMAGE_SIZE * IMAGE_SIZE):
    raise errors.UserError("decoder/dense_3 has {} outputs, not 64x64xC images.".format(outputs))
  return outputs // (IMAGE_SIZE * IMAGE_SIZE)


def convert(model_folder):
  """(encoder, decoder, description) of the original's model folder, weights loaded."""
  settings = _train_settings(model_folder)
  prefix = checkpoint_prefix(model_folder)
  reader = tf_checkpoint.CheckpointReader(prefix)
  encoder_name, decoder_name = settings["encoder.encoder_fn"], settings["decoder.decoder_fn"]
  num_latent = settings["encoder.num_latent"]
  shape = [IMAGE_SIZE, IMAGE_SIZE, _channels(reader, decoder_name)]
  what = "{}/{} at {} with {} latents".format(encoder_name, decoder_name,
                                               "x".join(map(str, shape)), num_latent)
  builder, names = ENCODERS[encoder_name]
  encoder = architectures.make_gaussian_encoder(shape, num_latent=num_latent,
                                                encoder_fn=builder)
  load_weights(encoder, reader, "encoder", names, what)
  builder, names = DECODERS[decoder_name]
  decoder = architectures.make_decoder(num_latent, shape, decoder_fn=builder)
  load_weights(decoder, reader, "decoder", names, what)
  step = int(reader.tensor("global_step")) if "global_step" in reader.entries else None
  description = {
      "observation_shape": shape,
      "num_latent": num_latent,
      "input": "float32 [N, H, W, C] in [0, 1]",
      "global_step": step,
      "dataset": settings["dataset.name"],
      "model": "imported from disentanglement_lib ({})".format(what),
      "checkpoint": os.path.basename(prefix),
  }
  return encoder.eval(), decoder.eval(), description


def _unpacked(path, work):
  """A folder of the model: path itself, or the zip extracted into work."""
  if os.path.isdir(path):
    return path
  if not os.path.isfile(path):
    raise errors.UserError("No such model folder or zip: {}.".format(path))
  try:
    with zipfile.ZipFile(path) as archive:
      for member in archive.namelist():
        if member.startswith("/") or ".." in member.split("/"):
          raise errors.UserError("{} holds a path outside its folder: {}.".format(path, member))
      archive.extractall(work)
  except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
    raise errors.UserError("{} is neither a model folder nor a readable zip ({}).".format(
        path, " ".join(str(e).split())[:200])) from e
  return work


def _copy_results(source_root, target):
  """The original's results folders next to the model (postprocessed/, metrics/), no tfhub/."""
  for top in ("postprocessed", "metrics"):
    base = os.path.join(source_root, top)
    for folder, dirs, _ in os.walk(base):
      if "results" in dirs:
        relative = os.path.relpath(os.path.join(folder, "results"), source_root)
        shutil.copytree(os.path.join(source_root, relative), os.path.join(target, relative))
      dirs[:] = [d for d in dirs if d not in ("results", "tfhub")]


def import_model(input_path, output_dir, overwrite=False):
  """Converts the original's model at input_path (folder or zip) into output_dir."""
  if os.path.exists(output_dir) and not overwrite:
    raise errors.UserError(
        "Directory already exists and overwrite is False: {}".format(output_dir))
  work = tempfile.mkdtemp(prefix="dimport-")
  try:
    model_folder = find_model_folder(_unpacked(input_path, work))
    encoder, decoder, description = convert(model_folder)
    description["imported_from"] = os.path.abspath(input_path)
    with atomic_io.staged_directory(output_dir) as staged:
      torchscript_io.save_module(encoder, staged, "gaussian_encoder",
                                 dict(description, outputs=["mean", "logvar"]))
      torchscript_io.save_module(decoder, staged, "decoder",
                                 dict(description, input="float32 [N, num_latent]",
                                      outputs=["logits [N, H, W, C]"]))
      shutil.copytree(os.path.join(model_folder, "results"), os.path.join(staged, "results"))
      _copy_results(os.path.dirname(os.path.abspath(model_folder)),
                    os.path.join(staged, "original"))
  finally:
    shutil.rmtree(work, ignore_errors=True)
