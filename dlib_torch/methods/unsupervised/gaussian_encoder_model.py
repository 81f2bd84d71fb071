"""The interface of models with a Gaussian encoder, and what the training loop asks of them."""
import dataclasses
from typing import Any

import numpy as np
import torch
from torch import nn

from dlib_torch.data import training_stream
from dlib_torch.methods.shared import noise
from dlib_torch.utils import errors


@dataclasses.dataclass
class TrainingInputs:
  """What a training protocol gives the loop (see GaussianEncoderModel.training_inputs).

  The streams are objects with next_batch(batch_size) -> numpy array (or
  tuple of arrays), get_state() and set_state(state) (stored in checkpoints).
  """
  stream: Any
  eval_stream: Any
  eval_steps: int
  torch_seed: int


def reject_protocol_params(protocol_params, model):
  """A `model.*` binding that no parameter of the model's protocol takes is a user error."""
  if protocol_params:
    raise errors.UserError("Unknown parameter(s) {} for training {}.".format(
        ", ".join("model." + name for name in sorted(protocol_params)), type(model).__name__))


def seeded_inputs(make_stream, data, random_seed, eval_steps):
  """The unsupervised protocol: training and evaluation streams seeded from random_seed.

  As the original: RandomState(random_seed) draws the training stream's seed,
  then the evaluation stream's; torch (weights, noise) is seeded with
  random_seed itself. make_stream(data, seed) builds one stream.
  """
  if random_seed is None:
    raise errors.UserError("model.random_seed is required.")
  rs = np.random.RandomState(random_seed)
  train_seed, eval_seed = rs.randint(2**32), rs.randint(2**32)
  return TrainingInputs(make_stream(data, train_seed), make_stream(data, eval_seed),
                        eval_steps, random_seed)


class GaussianEncoderModel(nn.Module):
  """A model with a Gaussian encoder q(z|x) and a decoder p(x|z) giving logits.

  Models are created by gin (`model.model = @vae()`) before the data set is
  known, so networks are made by `build(observation_shape)`. The training
  loop then calls `make_optimizers()`, `train_step` once per iteration and
  `eval_losses` on evaluation batches. Images are NHWC float tensors.
  """

  def build(self, observation_shape):
    """Creates the networks for images of this shape."""
    raise NotImplementedError()

  def gaussian_encoder(self, input_tensor):
    """Returns (z_mean, z_logvar), each [B, num_latent]."""
    raise NotImplementedError()

  def decode(self, latent_tensor):
    """Returns the decoder's logits, [B] + observation_shape."""
    raise NotImplementedError()

  def sample_from_latent_distribution(self, z_mean, z_logvar, generator=None):
    """z = mean + exp(logvar / 2) * eps with eps ~ N(0, I) from `generator` (see noise)."""
    eps = noise.standard_normal(z_mean, generator)
    return z_mean + torch.exp(z_logvar / 2) * eps

  def export_modules(self):
    """The networks saved as TorchScript: {"gaussian_encoder": images -> (mean, logvar),
    "decoder": latents -> logits}, both on NHWC images."""
    return {"gaussian_encoder": self.encoder, "decoder": self.decoder}

  def prepare_export(self, inputs, batch_size):
    """Fits, once training has ended, what the model exports beside its networks.

    Args:
      inputs: the run's TrainingInputs (its streams; the evaluation stream is
        still unread).
      batch_size: the training batch size.

    Returns:
      {artefact name: what its JSON sidecar adds}, for the further modules
      export_modules() now returns (GlanceNet: its open-set rejection,
      `open_set`). Nothing by default.
    """
    del inputs, batch_size
    return {}

  def training_inputs(self, data, random_seed, eval_steps, **protocol_params):
    """The training protocol's hook: the model's input streams and its evaluation.

    Args:
      data: the ground-truth data set.
      random_seed, eval_steps: `model.random_seed` and `model.eval_steps`.
      **protocol_params: every other `model.*` binding, for protocols with
        parameters of their own (the semi-supervised one's labelled set).

    Returns:
      A TrainingInputs. By default the observations in the original's order
      (seeded_inputs); weakly-supervised models read pairs, concept models
      observations with their factors, semi-supervised models unlabelled
      images with a labelled set. The loop calls this before `build`, so a
      model may read the data set's factor sizes here.
    """
    reject_protocol_params(protocol_params, self)
    return seeded_inputs(training_stream.ObservationStream, data, random_seed, eval_steps)

  def make_optimizers(self):
    """Returns {name: (torch optimizer, optimizers.OptimizerSpec)}."""
    raise NotImplementedError()

  def train_step(self, features, global_step, optimizers, generator):
    """One training iteration on a batch.

    Returns (scalars, steps): a dict of float tensors to log and how many
    global steps the iteration counts for (the original's FactorVAE counts 2).
    """
    raise NotImplementedError()

  def eval_losses(self, features, global_step, generator):
    """The evaluation quantities of a batch (dict of scalar tensors), averaged by the loop."""
    raise NotImplementedError()
