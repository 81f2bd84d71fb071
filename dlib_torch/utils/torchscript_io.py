"""Saving and loading the TorchScript artefacts of a trained model or representation.

Layout, replacing the original's TF-Hub modules:
  MODEL_DIR/torchscript/gaussian_encoder.pt  (N, H, W, C) float32 in [0, 1] -> (mean, logvar)
  MODEL_DIR/torchscript/decoder.pt           (N, num_latent) -> logits (N, H, W, C)
  POST_DIR/torchscript/representation.pt     (N, H, W, C) -> (N, num_latent)
  MODEL_DIR and POST_DIR/torchscript/open_set.pt  (N, H, W, C) -> bool (N,), accepted
                                             (models with open-set rejection: GlanceNet)
each with a JSON sidecar of the same stem describing shapes and provenance.
The modules load with `torch.jit.load` alone; dlib_torch is not needed.
"""
import contextlib
import os
import warnings

import numpy as np
import torch

from dlib_torch.utils import atomic_io
from dlib_torch.utils import batching
from dlib_torch.utils import errors
from dlib_torch.utils import inference

TORCHSCRIPT_DIR = "torchscript"


@contextlib.contextmanager
def _quiet_deprecation():
  # torch marks TorchScript deprecated in favour of torch.export; it is still
  # the format that loads anywhere without our code, which is what we promise.
  with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
    yield


def artefact_path(directory, name):
  return os.path.join(directory, TORCHSCRIPT_DIR, name + ".pt")


def save_module(module, directory, name, description):
  """Scripts `module` and writes it and its JSON sidecar atomically."""
  path = artefact_path(directory, name)
  with _quiet_deprecation():
    scripted = torch.jit.script(module)
    atomic_io.write_torch(path, torch.jit.save, scripted)
  atomic_io.write_json(_sidecar_path(directory, name), description)
  return path


def load_module(directory, name, device="cpu"):
  """Loads a TorchScript artefact; a missing or non-TorchScript file is a UserError."""
  path = artefact_path(directory, name)
  if not os.path.exists(path):
    raise errors.UserError("Missing TorchScript file {}.".format(path))
  try:
    with _quiet_deprecation():
      module = torch.jit.load(path, map_location=device)
  except (RuntimeError, ValueError) as e:
    raise errors.UserError("{} is not a TorchScript module: {}".format(
        path, " ".join(str(e).split())[:200])) from e
  module.eval()
  return module


def _sidecar_path(directory, name):
  return artefact_path(directory, name)[:-len(".pt")] + ".json"


def load_description(directory, name):
  return atomic_io.read_json(_sidecar_path(directory, name))


def has_artefact(directory, name):
  return os.path.exists(artefact_path(directory, name))


def copy_artefact(source_dir, target_dir, name, **description):
  """Copies an artefact and its sidecar (with `description` added) to target_dir."""
  with open(artefact_path(source_dir, name), "rb") as f:
    atomic_io.write_bytes(artefact_path(target_dir, name), f.read())
  atomic_io.write_json(_sidecar_path(target_dir, name),
                       dict(load_description(source_dir, name), **description))


def numpy_function(module, batch_size=inference.SUPER_ROWS, device="cpu", tune=None,
                   cache_key=None):
  """Wraps a TorchScript module as numpy in -> numpy float32 out, in batches.

  The module's outputs may be a tensor or a tuple of tensors; the function
  returns an array or a tuple of arrays accordingly. It takes any number of
  observations at once (utils.batching), so the metrics hand it large chunks.
  The module sees pieces of `batch_size` rows. On the CPU (`tune` None or
  True, with the default batch_size) a call of at least batch_size rows that
  brings the rows run so far to inference.ROWS_WORTH_CHOOSING chooses by
  measurement how to run the module (utils.inference: frozen, optimised for
  inference, smaller calls) among the ways that give its codes and random
  draws to the bit; the choice is remembered for the process under
  `cache_key` (a loaded file's path, size and time), and a choice already
  made for that key is used from the first call.
  """
  device = torch.device(device)
  if tune is None:
    tune = device.type == "cpu"
  state = {"way": inference.Way("as loaded", module, batch_size),
           "to_choose": tune and batch_size == inference.SUPER_ROWS, "rows_run": 0}

  def run(x):
    if state["to_choose"] and len(x) >= batch_size:
      way = _chosen_way(module, x, cache_key,
                        measure=state["rows_run"] + len(x) >= inference.ROWS_WORTH_CHOOSING)
      if way is not None:
        state["way"], state["to_choose"] = way, False
    state["rows_run"] += len(x)
    way = state["way"]
    with torch.inference_mode():
      chunk = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
      outputs = [[o.float().cpu().numpy() for o in out]
                 for out in inference.run(way.module, chunk, way.rows, batch_size)]
    if not outputs:
      raise errors.UserError("Cannot apply a model to an empty batch.")
    stacked = tuple(np.concatenate(parts, axis=0) for parts in zip(*outputs))
    return stacked if len(stacked) > 1 else stacked[0]

  return batching.declare_any_batch_size(run)


# (cache key, torch threads, input row shape) -> inference.Way chosen in this process.
_CHOSEN_WAYS = {}


def _chosen_way(module, x, cache_key, measure):
  """The way chosen for this key in this process; else, if `measure`, chosen now; else None."""
  key = (cache_key, torch.get_num_threads(), tuple(np.shape(x)[1:]))
  if cache_key is not None and key in _CHOSEN_WAYS:
    return _CHOSEN_WAYS[key]
  if not measure:
    return None
  chosen = inference.choose(module, inference.example_input(x))
  if cache_key is not None:
    _CHOSEN_WAYS[key] = chosen
  return chosen


def _loaded_function(directory, name, device):
  """numpy_function of a saved artefact, its choice of how to run remembered per file."""
  path = artefact_path(directory, name)
  module = load_module(directory, name, device)
  stat = os.stat(path)
  return numpy_function(module, device=device, cache_key=(
      os.path.abspath(path), stat.st_size, stat.st_mtime_ns, str(device)))


def load_gaussian_encoder(model_dir, device="cpu"):
  """numpy images -> (mean, logvar) numpy arrays, from a trained model dir."""
  return _loaded_function(model_dir, "gaussian_encoder", device)


def load_decoder(model_dir, device="cpu"):
  """numpy latents -> numpy logits images, from a trained model dir."""
  return _loaded_function(model_dir, "decoder", device)


def load_representation(post_dir, device="cpu"):
  """numpy images -> numpy representation, from a postprocessed dir.

  Checked as it runs: images of another shape than the model's, and codes that
  are not one finite row per image, are a UserError naming the folder.
  """
  function = _loaded_function(post_dir, "representation", device)
  try:
    observation_shape = load_description(post_dir, "representation").get("observation_shape")
  except FileNotFoundError:
    observation_shape = None

  def checked(x):
    if observation_shape is not None and list(np.shape(x)[1:]) != list(observation_shape):
      raise errors.UserError(
          "The representation in {} takes images of shape {}, not {}: is the data set the "
          "model's?".format(post_dir, observation_shape, list(np.shape(x)[1:])))
    codes = function(x)
    if np.ndim(codes) != 2 or len(codes) != len(x):
      raise errors.UserError(
          "The representation in {} returned codes of shape {} for {} images, not "
          "(images, size).".format(post_dir, list(np.shape(codes)), len(x)))
    if not np.all(np.isfinite(codes)):
      raise errors.UserError("The representation in {} returned codes that are not finite "
                             "(NaN or infinite).".format(post_dir))
    return codes

  return batching.declare_any_batch_size(checked)


def load_open_set(post_dir, device="cpu"):
  """numpy images -> bool [N], the inputs the model accepts (its open-set rejection), from
  a postprocessed (or trained) folder; None where the model has none (only GlanceNet has)."""
  if not has_artefact(post_dir, "open_set"):
    return None
  function = _loaded_function(post_dir, "open_set", device)
  # numpy_function hands the module's outputs back as float32.
  return batching.declare_any_batch_size(lambda x: function(x) > 0.5)
