"""Weakly-supervised VAEs (Locatello et al. 2020): group-VAE and ML-VAE on pairs.

Both images of a pair are encoded with the same encoder. The posteriors of
the latent dimensions the pair shares are replaced by an aggregate of the
two (group-VAE: the average of the two Gaussians' moments; ML-VAE: their
product of experts); the other dimensions keep each image's own posterior.
Which dimensions are shared is known from the label (`*_labels`: all but
the changed factor's index) or estimated adaptively (`*_argmax`, Ada-GVAE /
Ada-ML-VAE: dimensions whose divergence between the two posteriors falls in
the lower of two equal-width bins). The loss is the beta-VAE loss averaged
over the two images.
"""
import gin
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import vae
from dlib_torch.methods.weak import train_weak_lib


def compute_kl(z_1, z_2, logvar_1, logvar_2):
  """2 * KL(N(z_1, e^logvar_1) || N(z_2, e^logvar_2)) per dimension."""
  var_1, var_2 = torch.exp(logvar_1), torch.exp(logvar_2)
  return var_1 / var_2 + torch.square(z_2 - z_1) / var_2 - 1 + logvar_2 - logvar_1


def discretize_in_bins(x):
  """Per row of x [B, L]: bin 0 or 1 of two equal-width bins between its min and max.

  A row whose values are all equal (no width) goes to bin 0, as the
  original's TF op ends up doing with its NaN.
  """
  low = torch.min(x, dim=1, keepdim=True).values
  high = torch.max(x, dim=1, keepdim=True).values
  scaled = (x - low) / (high - low)
  bins = torch.clamp(torch.floor(2 * scaled), 0, 1)
  return torch.where(high > low, bins, torch.zeros_like(bins)).to(torch.int64)


def aggregate_labels(z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
  """Keeps the own posterior at the labelled (changed) dimension, aggregate elsewhere."""
  del kl_per_point
  own = labels == torch.max(labels, dim=1, keepdim=True).values
  return torch.where(own, z_mean, new_mean), torch.where(own, z_logvar, new_log_var)


def aggregate_argmax(z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
  """Keeps the own posterior where the pair's divergence is in the upper bin."""
  del labels
  own = discretize_in_bins(kl_per_point) == 1
  return torch.where(own, z_mean, new_mean), torch.where(own, z_logvar, new_log_var)


def _one_hot(labels, num_latent):
  """[B, 1] factor indices -> [B, L] one-hot (all zeros for an index >= L, as tf.one_hot)."""
  positions = torch.arange(num_latent, device=labels.device)
  return (labels.reshape(-1, 1) == positions).to(torch.float32)


class _WeakVAE(vae.BaseVAE):
  """A beta-VAE on pairs; subclasses choose how shared posteriors are combined."""

  def __init__(self, beta):
    super().__init__()
    self.beta = beta

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_mean, z_logvar, z_sampled
    return self.beta * kl_loss

  def training_inputs(self, data, random_seed, eval_steps, **protocol_params):
    """The unsupervised protocol's seeds, on pairs (train_weak_lib.WeakStream)."""
    gaussian_encoder_model.reject_protocol_params(protocol_params, self)
    return gaussian_encoder_model.seeded_inputs(train_weak_lib.WeakStream, data, random_seed,
                                                eval_steps)

  def combine(self, z_mean, z_logvar, z_mean_2, z_logvar_2):
    """The shared posterior (mean, log variance) of a pair."""
    raise NotImplementedError()

  def aggregate(self, z_mean, z_logvar, new_mean, new_log_var, labels, kl_per_point):
    raise NotImplementedError()

  def losses(self, features, generator):
    pairs, labels = features
    height = pairs.shape[1] // 2
    features_1, features_2 = pairs[:, :height], pairs[:, height:]
    batch_size = pairs.shape[0]
    # Both images through the shared encoder in one pass.
    z_means, z_logvars = self.gaussian_encoder(torch.cat([features_1, features_2]))
    z_means, z_logvars = z_means.float(), z_logvars.float()
    z_mean, z_mean_2 = z_means[:batch_size], z_means[batch_size:]
    z_logvar, z_logvar_2 = z_logvars[:batch_size], z_logvars[batch_size:]
    labels = _one_hot(labels, z_mean.shape[1])
    kl_per_point = compute_kl(z_mean, z_mean_2, z_logvar, z_logvar_2)
    new_mean, new_log_var = self.combine(z_mean, z_logvar, z_mean_2, z_logvar_2)
    mean_1, log_var_1 = self.aggregate(z_mean, z_logvar, new_mean, new_log_var, labels,
                                       kl_per_point)
    mean_2, log_var_2 = self.aggregate(z_mean_2, z_logvar_2, new_mean, new_log_var, labels,
                                       kl_per_point)
    z_sampled = self.sample_from_latent_distribution(
        torch.cat([mean_1, mean_2]), torch.cat([log_var_1, log_var_2]), generator)
    reconstructions = self.decode(z_sampled)
    per_sample_loss = losses.make_reconstruction_loss(
        torch.cat([features_1, features_2]), reconstructions)
    # 0.5 * mean over the first images + 0.5 * mean over the second ones.
    reconstruction_loss = torch.mean(per_sample_loss)
    kl_loss = 0.5 * vae.compute_gaussian_kl(mean_1, log_var_1) + 0.5 * vae.compute_gaussian_kl(
        mean_2, log_var_2)
    regularizer = self.regularizer(kl_loss, None, None, None)
    return {
        "loss": reconstruction_loss + regularizer,
        "reconstruction_loss": reconstruction_loss,
        "elbo": -(reconstruction_loss + kl_loss),
        "regularizer": regularizer,
        "kl_loss": kl_loss,
    }


@gin.configurable("group_vae")
class GroupVAEBase(_WeakVAE):
  """Group-VAE (Hosoya 2019): shared dimensions take the average of the two posteriors."""

  def __init__(self, beta=gin.REQUIRED):
    super().__init__(beta)

  def combine(self, z_mean, z_logvar, z_mean_2, z_logvar_2):
    new_mean = 0.5 * z_mean + 0.5 * z_mean_2
    new_log_var = torch.log(0.5 * torch.exp(z_logvar) + 0.5 * torch.exp(z_logvar_2))
    return new_mean, new_log_var


@gin.configurable("group_vae_labels")
class GroupVAELabels(GroupVAEBase):
  """Group-VAE told which factor changed."""

  def aggregate(self, *args):
    return aggregate_labels(*args)


@gin.configurable("group_vae_argmax")
class GroupVAEArgmax(GroupVAEBase):
  """Ada-GVAE: the changed factors are estimated from the pair."""

  def aggregate(self, *args):
    return aggregate_argmax(*args)


@gin.configurable("mlvae")
class MLVae(_WeakVAE):
  """ML-VAE (Bouchacourt et al. 2018): shared dimensions take the product of experts."""

  def __init__(self, beta=gin.REQUIRED):
    super().__init__(beta)

  def combine(self, z_mean, z_logvar, z_mean_2, z_logvar_2):
    var_1, var_2 = torch.exp(z_logvar), torch.exp(z_logvar_2)
    # The original's product of the two Gaussians, doubled in variance.
    new_var = 2 * var_1 * var_2 / (var_1 + var_2)
    new_mean = (z_mean / var_1 + z_mean_2 / var_2) * new_var * 0.5
    return new_mean, torch.log(new_var)


@gin.configurable("mlvae_labels")
class MLVaeLabels(MLVae):
  """ML-VAE told which factor changed."""

  def aggregate(self, *args):
    return aggregate_labels(*args)


@gin.configurable("mlvae_argmax")
class MLVaeArgmax(MLVae):
  """Ada-ML-VAE: the changed factors are estimated from the pair."""

  def aggregate(self, *args):
    return aggregate_argmax(*args)
