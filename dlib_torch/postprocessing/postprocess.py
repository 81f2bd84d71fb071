"""Postprocessing: turning a trained model into a representation (TorchScript)."""
import os
import time

import gin
import numpy as np
import torch
from torch import nn

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import pipeline_step
from dlib_torch.utils import results
from dlib_torch.utils import torchscript_io


class Representation(nn.Module):
  """Images (N, H, W, C) in [0, 1] -> representation, via the encoder and a transform."""

  def __init__(self, gaussian_encoder, transform):
    super().__init__()
    self.gaussian_encoder = gaussian_encoder
    self.transform = transform

  def forward(self, images: torch.Tensor) -> torch.Tensor:
    mean, logvar = self.gaussian_encoder(images)
    return self.transform(mean, logvar)


def postprocess_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None,
                         gin_bindings=None, device="auto"):
  """Parses the gin files and bindings, postprocesses, and clears gin."""
  gin_registry.run_with_config("postprocess", gin_config_files, gin_bindings,
                               postprocess, model_dir, output_dir, overwrite, device=device)


@gin.configurable("postprocess", denylist=["model_dir", "output_dir", "overwrite", "device"])
def postprocess(model_dir, output_dir, overwrite=False, postprocess_fn=gin.REQUIRED,
                random_seed=gin.REQUIRED, name="", device="auto"):
  """Writes output_dir/torchscript/representation.pt and the results folder.

  A model's open-set rejection (torchscript/open_set.pt, GlanceNet's) is copied beside the
  representation, for the metrics that take an acceptance_function.

  Args:
    model_dir: a trained model folder (dtrain's output).
    output_dir: the output folder.
    overwrite: whether an existing output folder may be replaced.
    postprocess_fn: a representation function (e.g. `@mean_representation`).
    random_seed: seed passed to postprocess_fn as a RandomState.
    name: unused; recorded in the configuration.
    device: where the encoder runs for postprocess_fn ("auto": CUDA if
      present); recorded in the results. The representation is saved on the CPU.
  """
  del name
  errors.check_seed("postprocess.random_seed", random_seed)
  pipeline_step.check_output_dir(output_dir, overwrite)
  pipeline_step.require_input_dir(model_dir, "a trained model folder")
  start = time.time()
  device = devices.resolve_device(device)
  pipeline_step.resolve_auto_dataset(os.path.join(model_dir, "results", "gin", "train.gin"))
  dataset = named_data.get_named_ground_truth_data()
  encoder = torchscript_io.load_module(model_dir, "gaussian_encoder", device)
  encoder_info = torchscript_io.load_description(model_dir, "gaussian_encoder")
  with atomic_io.staged_directory(output_dir) as staging:
    transform = postprocess_fn(dataset, encoder, np.random.RandomState(random_seed),
                               os.path.join(staging, "transform"))
    # Saved on the CPU: the artefact loads on any machine without map_location.
    representation = Representation(encoder, transform).to("cpu")
    torchscript_io.save_module(representation, staging, "representation", {
        "observation_shape": list(dataset.observation_shape),
        "representation_size": encoder_info["num_latent"],
        "input": "float32 [N, H, W, C] in [0, 1]",
        "output": "float32 [N, representation_size]",
        "postprocess_fn": gin.query_parameter("postprocess.postprocess_fn").selector,
        "model_dir": os.path.abspath(model_dir),
    })
    if torchscript_io.has_artefact(model_dir, "open_set"):
      torchscript_io.copy_artefact(model_dir, staging, "open_set",
                                   model_dir=os.path.abspath(model_dir))
    results.update_result_directory(
        os.path.join(staging, "results"), "postprocess",
        dict(devices.describe(device), elapsed_time=time.time() - start),
        old_result_dir=os.path.join(model_dir, "results"))
