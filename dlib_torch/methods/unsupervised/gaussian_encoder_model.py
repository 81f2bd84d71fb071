"""The interface of models with a Gaussian encoder, and what the training loop asks of them."""
import torch
from torch import nn

from dlib_torch.data import training_stream


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
    """z = mean + exp(logvar / 2) * eps with eps ~ N(0, I)."""
    eps = torch.randn(z_mean.shape, generator=generator, device=z_mean.device,
                      dtype=z_mean.dtype)
    return z_mean + torch.exp(z_logvar / 2) * eps

  def export_modules(self):
    """The networks saved as TorchScript: {"gaussian_encoder": images -> (mean, logvar),
    "decoder": latents -> logits}, both on NHWC images."""
    return {"gaussian_encoder": self.encoder, "decoder": self.decoder}

  def input_stream(self, data, seed):
    """The endless stream of batches this model trains and is evaluated on.

    An object with next_batch(batch_size) -> numpy array (or tuple of arrays),
    get_state() and set_state(state) (stored in checkpoints). By default the
    observations in the original's order; weakly-supervised models read
    pairs, concept models observations with their factors. The loop asks
    for the training and evaluation streams before `build`, so a model may
    read the data set's factor sizes here.
    """
    return training_stream.ObservationStream(data, seed)

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
