"""VAE-family models whose only difference is the regulariser added to the reconstruction loss."""
import math

import gin
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.shared import noise
from dlib_torch.methods.shared import optimizers
from dlib_torch.methods.unsupervised import gaussian_encoder_model


def compute_gaussian_kl(z_mean, z_logvar):
  """KL(q(z|x) || N(0, I)) summed over latents, averaged over the batch."""
  return torch.mean(0.5 * torch.sum(
      torch.square(z_mean) + torch.exp(z_logvar) - z_logvar - 1, dim=1))


class BaseVAE(gaussian_encoder_model.GaussianEncoderModel):
  """A VAE trained on reconstruction_loss + regularizer(kl_loss, ...)."""
  # The quantities train_step returns for logging (the original's logging hook).
  logged_scalars = ("loss", "reconstruction_loss", "elbo")
  # What each optimizer of make_optimizers minimises: {name: (key of losses(), sign)}.
  objectives = {"vae": ("loss", 1.)}
  # Global steps an iteration counts for (the original's FactorVAE counts 2).
  steps_per_iteration = 1
  # The hyper-parameters (attributes) in which the models of a pack may differ; the
  # methods that can be trained in packs (packed_training) declare theirs.
  pack_hyperparameters = None

  def __init__(self):
    super().__init__()
    # The global step of the current iteration, for step-dependent regularisers.
    self.global_step = 0

  def build(self, observation_shape):
    self.observation_shape = list(observation_shape)
    self.encoder = architectures.make_gaussian_encoder(self.observation_shape)
    self.num_latent = self.encoder.means.out_features
    self.decoder = architectures.make_decoder(self.num_latent, self.observation_shape)

  def gaussian_encoder(self, input_tensor):
    return self.encoder(input_tensor)

  def decode(self, latent_tensor):
    return self.decoder(latent_tensor)

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    raise NotImplementedError()

  def reconstruction_loss(self, true_images, reconstructions):
    """The configured reconstruction loss per sample [B]; a pack's step replaces it with
    the same loss bound once (losses.bound_reconstruction_loss)."""
    return losses.make_reconstruction_loss(true_images, reconstructions)

  def losses(self, features, generator):
    """The original's model_fn quantities for a batch."""
    z_mean, z_logvar = self.gaussian_encoder(features)
    return self.losses_from_codes(features, z_mean, z_logvar, generator)

  def losses_from_codes(self, features, z_mean, z_logvar, generator):
    """The same, given the batch's encoding (models that encode more share one pass)."""
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    reconstructions = self.decode(z_sampled)
    reconstruction_loss = torch.mean(
        self.reconstruction_loss(features, reconstructions))
    kl_loss = compute_gaussian_kl(z_mean, z_logvar)
    regularizer = self.regularizer(kl_loss, z_mean, z_logvar, z_sampled)
    elbo = reconstruction_loss + kl_loss
    return {
        "loss": reconstruction_loss + regularizer,
        "reconstruction_loss": reconstruction_loss,
        "elbo": -elbo,  # The original reports the ELBO, i.e. minus this sum.
        "regularizer": regularizer,
        "kl_loss": kl_loss,
    }

  def make_optimizers(self):
    spec = optimizers.make_vae_optimizer()
    return {"vae": (spec.build(self.parameters()), spec)}

  def train_step(self, features, global_step, optimizers_by_name, generator):
    """Every optimizer steps on the gradient of its objective, all from one forward pass."""
    self.global_step = global_step
    for optimizer, spec in optimizers_by_name.values():
      optimizers.set_learning_rate(optimizer, spec, global_step)
      optimizer.zero_grad(set_to_none=True)
    values = self.losses(features, generator)
    last = len(self.objectives) - 1
    for i, (name, (key, sign)) in enumerate(self.objectives.items()):
      parameters = [p for group in optimizers_by_name[name][0].param_groups
                    for p in group["params"]]
      (sign * values[key]).backward(inputs=parameters, retain_graph=i < last)
    for optimizer, _ in optimizers_by_name.values():
      optimizer.step()
    return {k: values[k].detach() for k in self.step_scalars()}, self.steps_per_iteration

  def step_scalars(self):
    """What train_step returns: the logged scalars and every optimizer's objective,
    which the loop checks are finite (it logs only logged_scalars)."""
    return tuple(dict.fromkeys(self.logged_scalars +
                               tuple(key for key, _ in self.objectives.values())))

  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    return self.losses(features, generator)


@gin.configurable("vae")
class BetaVAE(BaseVAE):
  """beta-VAE (Higgins et al. 2017): the KL term weighted by beta."""

  pack_hyperparameters = ("beta",)

  def __init__(self, beta=gin.REQUIRED):
    super().__init__()
    self.beta = beta

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_mean, z_logvar, z_sampled
    return self.beta * kl_loss


def shuffle_codes(z, generator=None):
  """Permutes each latent column independently across the batch (q(z) -> prod_j q(z_j))."""
  order = torch.argsort(noise.uniform(z, generator, torch.float32), dim=0)
  return torch.gather(z, 0, order)


def anneal(c_max, step, iteration_threshold):
  """Capacity rising linearly from 0 to c_max over iteration_threshold steps.

  c_max may be a tensor (a pack's per-model values) and step a float64 tensor (a pack's
  step, which torch.compile traces without reading its value); the threshold is a number.
  """
  if torch.is_tensor(step):  # The same value as for a number, in c_max's dtype.
    return c_max * torch.clamp(step / iteration_threshold, max=1.).to(c_max.dtype)
  return c_max * min(1., float(step) / iteration_threshold)


@gin.configurable("annealed_vae")
class AnnealedVAE(BaseVAE):
  """AnnealedVAE (Burgess et al. 2018): gamma * |KL - C(step)|, capacity C annealed."""
  pack_hyperparameters = ("gamma", "c_max")

  def __init__(self, gamma=gin.REQUIRED, c_max=gin.REQUIRED,
               iteration_threshold=gin.REQUIRED):
    super().__init__()
    self.gamma = gamma
    self.c_max = c_max
    self.iteration_threshold = iteration_threshold

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_mean, z_logvar, z_sampled
    # The step of the current update, before it is counted (0 at the first).
    c = anneal(self.c_max, self.global_step, self.iteration_threshold)
    return self.gamma * torch.abs(kl_loss - c)


def compute_covariance_z_mean(z_mean):
  """Biased covariance of the encoder means over the batch, [L, L]."""
  z_mean = z_mean.float()
  expectation = torch.mean(z_mean, dim=0)
  outer = z_mean.T @ z_mean / z_mean.shape[0]
  return outer - torch.outer(expectation, expectation)


def regularize_diag_off_diag_dip(covariance_matrix, lambda_od, lambda_d):
  """lambda_od * sum of squared off-diagonal entries + lambda_d * sum (diag - 1)^2."""
  diagonal = torch.diagonal(covariance_matrix)
  off_diagonal = covariance_matrix - torch.diag(diagonal)
  return (lambda_od * torch.sum(off_diagonal**2) +
          lambda_d * torch.sum((diagonal - 1)**2))


def dip_regularizer(z_mean, z_logvar, lambda_od, lambda_d_factor, dip_type):
  """The DIP-VAE covariance penalty (Kumar et al. 2018, Eq. 6 for "i", Eq. 7 for "ii")."""
  cov_z_mean = compute_covariance_z_mean(z_mean)
  lambda_d = lambda_d_factor * lambda_od
  if dip_type == "i":
    matrix = cov_z_mean
  elif dip_type == "ii":
    # Cov[z] = E[diag(sigma^2)] + Cov[mu]: only the diagonal gains a term.
    matrix = cov_z_mean + torch.diag(torch.mean(torch.exp(z_logvar.float()), dim=0))
  else:
    raise NotImplementedError("DIP variant not supported.")
  return regularize_diag_off_diag_dip(matrix, lambda_od, lambda_d)


@gin.configurable("dip_vae")
class DIPVAE(BaseVAE):
  """DIP-VAE (Kumar et al. 2018): KL plus a penalty on Cov[mu] (i) or Cov[z] (ii)."""
  pack_hyperparameters = ("lambda_od", "lambda_d_factor")

  def __init__(self, lambda_od=gin.REQUIRED, lambda_d_factor=gin.REQUIRED, dip_type="i"):
    super().__init__()
    self.lambda_od = lambda_od
    self.lambda_d_factor = lambda_d_factor
    self.dip_type = dip_type

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_sampled
    return kl_loss + dip_regularizer(z_mean, z_logvar, self.lambda_od,
                                     self.lambda_d_factor, self.dip_type)


def gaussian_log_density(samples, mean, log_var):
  """Elementwise log N(samples; mean, exp(log_var))."""
  samples, mean, log_var = (torch.as_tensor(t, dtype=torch.float32)
                            for t in (samples, mean, log_var))
  normalization = math.log(2. * math.pi)
  diff = samples - mean
  return -0.5 * (diff * diff * torch.exp(-log_var) + log_var + normalization)


# Rows of the [B, B, L] density tensor handled at once: bounds memory for
# large batches (the original's test uses 10 000 samples) at no cost for small.
_TC_CHUNK_ELEMENTS = 2**22


def total_correlation(z, z_mean, z_logvar):
  """Minibatch estimate of TC(z) = E_j[log q(z_j) - sum_l log q(z_jl)] (Chen et al. 2018).

  q(z_j) and q(z_jl) are mixtures over the batch's posteriors. As in the
  original, the log(batch_size * dataset_size) constants are left out, so
  the value is offset by (num_latent - 1) * log(batch_size) (gradients are not).
  """
  z, z_mean, z_logvar = z.float(), z_mean.float(), z_logvar.float()
  batch_size, num_latent = z.shape
  rows = max(1, _TC_CHUNK_ELEMENTS // max(1, batch_size * num_latent))
  differences = []
  for start in range(0, batch_size, rows):
    # log q(z_j | x_i)_l for the rows j of this chunk and all i: [rows, B, L].
    log_qz_prob = gaussian_log_density(
        z[start:start + rows, None, :], z_mean[None], z_logvar[None])
    log_qz_product = torch.sum(torch.logsumexp(log_qz_prob, dim=1), dim=1)
    log_qz = torch.logsumexp(torch.sum(log_qz_prob, dim=2), dim=1)
    differences.append(log_qz - log_qz_product)
  return torch.mean(torch.cat(differences))


@gin.configurable("beta_tc_vae")
class BetaTCVAE(BaseVAE):
  """beta-TCVAE (Chen et al. 2018), alpha = gamma = 1: KL + (beta - 1) * TC."""
  pack_hyperparameters = ("beta",)

  def __init__(self, beta=gin.REQUIRED):
    super().__init__()
    self.beta = beta

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    return kl_loss + (self.beta - 1.) * total_correlation(z_sampled, z_mean, z_logvar)


@gin.configurable("factor_vae")
class FactorVAE(BaseVAE):
  """FactorVAE (Kim & Mnih 2018): a discriminator estimates TC(z) by density ratio.

  The discriminator tells codes z of the batch (class 0) from codes whose
  columns were shuffled across the batch (class 1); its logit difference
  estimates log q(z) / prod_j q(z_j). As in the original, the VAE and the
  discriminator are updated from the same minibatch and forward pass (both
  gradients are computed before either update), and an iteration counts as
  two global steps because the original's two optimizers both increment it:
  `training_steps = 300000` means 150 000 updates of each network, so our
  runs match the published study's.
  """

  logged_scalars = ("loss", "reconstruction_loss")
  # The VAE minimises its loss, the discriminator maximises its log-likelihood.
  objectives = {"vae": ("loss", 1.), "discriminator": ("discriminator_loss", -1.)}
  steps_per_iteration = 2
  pack_hyperparameters = ("gamma",)

  def __init__(self, gamma=gin.REQUIRED):
    super().__init__()
    self.gamma = gamma

  def build(self, observation_shape):
    super().build(observation_shape)
    self.discriminator = architectures.make_discriminator(self.num_latent)

  def losses_from_codes(self, features, z_mean, z_logvar, generator):
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    z_shuffle = shuffle_codes(z_sampled, generator)
    # One pass of the shared discriminator over both sets of codes.
    logits, probs = self.discriminator(torch.cat([z_sampled, z_shuffle]))
    batch_size = z_sampled.shape[0]
    logits_z, probs_z = logits[:batch_size].float(), probs[:batch_size].float()
    probs_z_shuffle = probs[batch_size:].float()
    reconstructions = self.decode(z_sampled)
    reconstruction_loss = torch.mean(
        self.reconstruction_loss(features, reconstructions))
    kl_loss = compute_gaussian_kl(z_mean, z_logvar)
    tc_loss = torch.mean(logits_z[:, 0] - logits_z[:, 1])
    regularizer = kl_loss + self.gamma * tc_loss
    discriminator_loss = (0.5 * torch.mean(torch.log(probs_z[:, 0])) +
                          0.5 * torch.mean(torch.log(probs_z_shuffle[:, 1])))
    return {
        "loss": reconstruction_loss + regularizer,
        "reconstruction_loss": reconstruction_loss,
        "regularizer": regularizer,
        "kl_loss": kl_loss,
        "discriminator_loss": discriminator_loss,
    }

  def vae_parameters(self):
    return list(self.encoder.parameters()) + list(self.decoder.parameters())

  def make_optimizers(self):
    vae_spec = optimizers.make_vae_optimizer()
    discriminator_spec = optimizers.make_discriminator_optimizer()
    return {
        "vae": (vae_spec.build(self.vae_parameters()), vae_spec),
        "discriminator": (discriminator_spec.build(self.discriminator.parameters()),
                          discriminator_spec),
    }

  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    values = self.losses(features, generator)
    return {k: values[k] for k in ("loss", "reconstruction_loss", "regularizer", "kl_loss")}
