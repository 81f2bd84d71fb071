"""Reconstruction losses of disentanglement_lib; each returns a per-sample loss [B]."""
import functools
import inspect

import gin
import torch
import torch.nn.functional as F


def _flat(x):
  return x.reshape(x.shape[0], -1)


@gin.configurable("bernoulli_loss", allowlist=["subtract_true_image_entropy"])
def bernoulli_loss(true_images, reconstructed_images, activation,
                   subtract_true_image_entropy=False):
  """Bernoulli cross-entropy summed over pixels; targets may be non-binary."""
  reconstructions = _flat(reconstructed_images)
  targets = _flat(true_images).to(reconstructions.dtype)
  if activation == "logits":
    # max(x, 0) - x t + log(1 + exp(-|x|)), the stable form of the original.
    loss = F.binary_cross_entropy_with_logits(
        reconstructions, targets, reduction="none").sum(dim=1)
  elif activation == "tanh":
    p = torch.clamp((torch.tanh(reconstructions) + 1) / 2, 1e-6, 1 - 1e-6)
    loss = -torch.sum(targets * torch.log(p) + (1 - targets) * torch.log(1 - p), dim=1)
  else:
    raise NotImplementedError("Activation not supported.")
  if subtract_true_image_entropy:
    dist = torch.clamp(targets, 1e-6, 1 - 1e-6)
    entropy = -torch.sum(dist * torch.log(dist) + (1 - dist) * torch.log(1 - dist), dim=1)
    loss = loss - entropy
  return loss


def _decoded_means(reconstructed_images, activation):
  if activation == "logits":
    return torch.sigmoid(reconstructed_images)
  if activation == "tanh":
    return (torch.tanh(reconstructed_images) + 1) / 2
  raise NotImplementedError("Activation not supported.")


@gin.configurable("l2_loss", allowlist=[])
def l2_loss(true_images, reconstructed_images, activation):
  """Squared error between the images and the decoded means, summed over pixels."""
  means = _decoded_means(reconstructed_images, activation)
  return torch.sum(torch.square(true_images.to(means.dtype) - means), dim=[1, 2, 3])


# disentangling-vae's (Dubois et al.) other two decoder distributions, with
# its scalings, so that its hyper-parameters carry over.


@gin.configurable("gaussian_loss", allowlist=[])
def gaussian_loss(true_images, reconstructed_images, activation):
  """Squared error on the 0-255 scale divided by 255, i.e. 255 * sum (t - mean)^2."""
  means = _flat(_decoded_means(reconstructed_images, activation))
  return 255. * torch.sum(torch.square(_flat(true_images).to(means.dtype) - means), dim=1)


@gin.configurable("laplace_loss", allowlist=[])
def laplace_loss(true_images, reconstructed_images, activation):
  """Absolute error summed over pixels, times 3 (Bernoulli-like magnitudes)."""
  means = _flat(_decoded_means(reconstructed_images, activation))
  return 3. * torch.sum(torch.abs(_flat(true_images).to(means.dtype) - means), dim=1)


@gin.configurable("reconstruction_loss", denylist=["true_images", "reconstructed_images"])
def make_reconstruction_loss(true_images, reconstructed_images, loss_fn=gin.REQUIRED,
                             activation="logits"):
  """The configured reconstruction loss, per sample [B]."""
  return loss_fn(true_images, reconstructed_images, activation)


def bound_reconstruction_loss():
  """make_reconstruction_loss with gin's bindings of now applied: a plain function
  (true_images, reconstructed_images) -> [B] that torch.compile can trace (it cannot
  trace gin's call wrapper) and that costs no gin lookup per call."""
  bindings = gin.get_bindings(make_reconstruction_loss)
  if "loss_fn" not in bindings:
    return make_reconstruction_loss  # Its call raises gin's error for the missing binding.
  loss_fn = bindings["loss_fn"]
  activation = bindings.get("activation", inspect.signature(
      make_reconstruction_loss).parameters["activation"].default)
  # A gin configurable (@bernoulli_loss) is the function under gin's wrapper, bound here.
  return functools.partial(getattr(loss_fn, "__wrapped__", loss_fn), activation=activation,
                           **gin.get_bindings(loss_fn))
