"""VAE-family models whose only difference is the regulariser added to the reconstruction loss."""
import gin
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.shared import optimizers
from dlib_torch.methods.unsupervised import gaussian_encoder_model


def compute_gaussian_kl(z_mean, z_logvar):
  """KL(q(z|x) || N(0, I)) summed over latents, averaged over the batch."""
  return torch.mean(0.5 * torch.sum(
      torch.square(z_mean) + torch.exp(z_logvar) - z_logvar - 1, dim=1))


class BaseVAE(gaussian_encoder_model.GaussianEncoderModel):
  """A VAE trained on reconstruction_loss + regularizer(kl_loss, ...)."""

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

  def losses(self, features, generator):
    """The original's model_fn quantities for a batch."""
    z_mean, z_logvar = self.gaussian_encoder(features)
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    reconstructions = self.decode(z_sampled)
    reconstruction_loss = torch.mean(
        losses.make_reconstruction_loss(features, reconstructions))
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
    self.global_step = global_step
    optimizer, spec = optimizers_by_name["vae"]
    optimizers.set_learning_rate(optimizer, spec, global_step)
    optimizer.zero_grad(set_to_none=True)
    values = self.losses(features, generator)
    values["loss"].backward()
    optimizer.step()
    return {k: values[k].detach() for k in ("loss", "reconstruction_loss", "elbo")}, 1

  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    return self.losses(features, generator)


@gin.configurable("vae")
class BetaVAE(BaseVAE):
  """beta-VAE (Higgins et al. 2017): the KL term weighted by beta."""

  def __init__(self, beta=gin.REQUIRED):
    super().__init__()
    self.beta = beta

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_mean, z_logvar, z_sampled
    return self.beta * kl_loss
