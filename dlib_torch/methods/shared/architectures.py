"""Encoder, decoder and discriminator networks of disentanglement_lib, in PyTorch.

Layer sizes, activations and initialisation (Glorot-uniform kernels, zero
biases) are the original's. Networks take and return NHWC tensors like the
original; inside, convolutions run on the NCHW view of the same memory
(channels-last), so no copy is made at the boundary. Flattening and the
decoder's reshape use the original's (H, W, C) order. ReLUs work in place
(the layers before them do not need their outputs for the backward pass),
which saves a large allocation and a memory pass per activation.

The networks are built from torch.nn layers; the encoder and decoder
builders then give their convolutions the CPU layers of `cpu_convolutions`
(same parameters and results, faster on CPU).
"""
import math

import gin
import torch
from torch import nn

from dlib_torch.methods.shared import cpu_convolutions
from dlib_torch.utils import errors


def _glorot(module):
  """TF1's default initialisation: Glorot-uniform weights, zero biases."""
  for m in module.modules():
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      nn.init.xavier_uniform_(m.weight)
      nn.init.zeros_(m.bias)
  return module


def _num_pixels(shape):
  return int(math.prod(shape))


@gin.configurable("encoder", allowlist=["num_latent", "encoder_fn"])
def make_gaussian_encoder(input_shape, num_latent=gin.REQUIRED, encoder_fn=gin.REQUIRED):
  """Builds the encoder network: NHWC images -> (means, log_vars)."""
  errors.check_positive_int("encoder.num_latent", num_latent)
  return cpu_convolutions.use_cpu_kernels(
      encoder_fn(input_shape=list(input_shape), num_latent=num_latent))


@gin.configurable("decoder", allowlist=["decoder_fn"])
def make_decoder(num_latent, output_shape, decoder_fn=gin.REQUIRED):
  """Builds the decoder network: latents -> NHWC logits."""
  return cpu_convolutions.use_cpu_kernels(
      decoder_fn(num_latent=num_latent, output_shape=list(output_shape)))


@gin.configurable("discriminator", allowlist=["discriminator_fn"])
def make_discriminator(num_latent, discriminator_fn=gin.REQUIRED):
  """Builds the FactorVAE discriminator: latents -> (logits, clipped probs)."""
  return discriminator_fn(num_latent=num_latent)


class _ToNCHW(nn.Module):

  def forward(self, x):
    return x.permute(0, 3, 1, 2)


class _FlattenHWC(nn.Module):
  """Flattens an NCHW tensor in (H, W, C) order, as TF flattens NHWC."""

  def forward(self, x):
    return x.permute(0, 2, 3, 1).flatten(1)


class _UnflattenHWC(nn.Module):
  """Reshapes [B, H*W*C] in (H, W, C) order to an NCHW tensor."""

  def __init__(self, height, width, channels):
    super().__init__()
    self.height, self.width, self.channels = height, width, channels

  def forward(self, x):
    return x.reshape(-1, self.height, self.width, self.channels).permute(0, 3, 1, 2)


class _ToNHWC(nn.Module):

  def __init__(self, output_shape):
    super().__init__()
    self.output_shape = list(output_shape)

  def forward(self, x):
    return x.permute(0, 2, 3, 1).reshape([-1] + self.output_shape)


class GaussianHeads(nn.Module):
  """A trunk followed by two linear heads: means and log variances."""

  def __init__(self, trunk, features, num_latent):
    super().__init__()
    self.trunk = trunk
    self.means = nn.Linear(features, num_latent)
    self.log_var = nn.Linear(features, num_latent)

  def forward(self, x):
    h = self.trunk(x)
    return self.means(h), self.log_var(h)


@gin.configurable("conv_encoder", allowlist=[])
def conv_encoder(input_shape, num_latent):
  """Four strided convolutions and a dense layer (Locatello et al. 2019)."""
  channels = input_shape[2]
  trunk = nn.Sequential(
      _ToNCHW(),
      nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(inplace=True),
      nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),
      nn.Conv2d(32, 64, 2, 2, 0), nn.ReLU(inplace=True),
      nn.Conv2d(64, 64, 2, 2, 0), nn.ReLU(inplace=True),
      _FlattenHWC(),
      nn.Linear(64 * (input_shape[0] // 16) * (input_shape[1] // 16), 256), nn.ReLU(inplace=True))
  return _glorot(GaussianHeads(trunk, 256, num_latent))


@gin.configurable("deconv_decoder", allowlist=[])
def deconv_decoder(num_latent, output_shape):
  """Two dense layers and four transposed convolutions; returns logits."""
  return _glorot(nn.Sequential(
      nn.Linear(num_latent, 256), nn.ReLU(inplace=True),
      nn.Linear(256, 1024), nn.ReLU(inplace=True),
      _UnflattenHWC(4, 4, 64),
      nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(inplace=True),
      nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(inplace=True),
      nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),
      nn.ConvTranspose2d(32, output_shape[2], 4, 2, 1),
      _ToNHWC(output_shape)))


@gin.configurable("fc_encoder", allowlist=[])
def fc_encoder(input_shape, num_latent):
  """Two dense layers of 1200 units (Higgins et al. 2017)."""
  trunk = nn.Sequential(
      nn.Flatten(),
      nn.Linear(_num_pixels(input_shape), 1200), nn.ReLU(inplace=True),
      nn.Linear(1200, 1200), nn.ReLU(inplace=True))
  return _glorot(GaussianHeads(trunk, 1200, num_latent))


@gin.configurable("fc_decoder", allowlist=[])
def fc_decoder(num_latent, output_shape):
  """Three tanh layers of 1200 units; returns logits."""
  return _glorot(nn.Sequential(
      nn.Linear(num_latent, 1200), nn.Tanh(),
      nn.Linear(1200, 1200), nn.Tanh(),
      nn.Linear(1200, 1200), nn.Tanh(),
      nn.Linear(1200, _num_pixels(output_shape)),
      nn.Unflatten(1, list(output_shape))))


class _FlatGaussianHeads(GaussianHeads):
  """Both heads read the flattened input directly (the test architecture)."""

  def __init__(self, input_shape, num_latent):
    super().__init__(nn.Flatten(), _num_pixels(input_shape), num_latent)


@gin.configurable("test_encoder", allowlist=[])
def test_encoder(input_shape, num_latent):
  """A single linear layer per head, for fast tests."""
  return _glorot(_FlatGaussianHeads(input_shape, num_latent))


@gin.configurable("test_decoder", allowlist=[])
def test_decoder(num_latent, output_shape):
  """A single linear layer, for fast tests."""
  return _glorot(nn.Sequential(
      nn.Linear(num_latent, _num_pixels(output_shape)),
      nn.Unflatten(1, list(output_shape))))


class Discriminator(nn.Module):
  """Six leaky-ReLU layers of 1000 units; returns (logits, clipped probabilities)."""

  def __init__(self, num_latent):
    super().__init__()
    layers = []
    width = num_latent
    for _ in range(6):
      layers += [nn.Linear(width, 1000), nn.LeakyReLU(0.2)]
      width = 1000
    self.body = nn.Sequential(nn.Flatten(), *layers)
    self.logits = nn.Linear(1000, 2)

  def forward(self, z):
    logits = self.logits(self.body(z))
    probs = torch.clamp(torch.softmax(logits, dim=1), 1e-6, 1 - 1e-6)
    return logits, probs


@gin.configurable("fc_discriminator", allowlist=[])
def fc_discriminator(num_latent):
  return _glorot(Discriminator(num_latent))
