"""Semi-supervised VAEs (Locatello et al. 2020, "Disentangling Factors of Variation
Using Few Labels"): an unsupervised VAE loss on unlabelled images plus
gamma_sup(step) * a supervised loss tying the first latent means of labelled
images to their labels.

The supervised losses with trainable variables (`l2`'s scale, `embed`'s
embeddings) get them from a `VariableStore`, the counterpart of the
original's `tf.get_variable`: the model creates them once, at build time,
so that its optimizer updates them.
"""
import math

import gin
import torch
from torch import nn
import torch.nn.functional as F

from dlib_torch.methods.shared import losses
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
from dlib_torch.methods.shared import optimizers
from dlib_torch.methods.unsupervised import vae


class VariableStore(nn.Module):
  """Named trainable variables, created on first request (TF's get_variable)."""

  def __init__(self):
    super().__init__()
    self.variables = nn.ParameterDict()

  def get(self, name, shape, initial_value=None):
    if name not in self.variables:
      if initial_value is not None:
        value = torch.full(shape, float(initial_value))
      else:
        # TF's default initialiser, Glorot-uniform; for a vector of n
        # entries fan-in = fan-out = n (1 for a scalar).
        size = max(1, math.prod(shape))
        limit = math.sqrt(3. / size)
        value = torch.empty(shape).uniform_(-limit, limit)
      self.variables[name] = nn.Parameter(value)
    return self.variables[name]


def _store(variables):
  return variables if variables is not None else VariableStore()


@gin.configurable("annealer", denylist=["gamma", "step"])
def make_annealer(gamma, step, iteration_threshold=gin.REQUIRED, anneal_fn=gin.REQUIRED):
  """The weight of the supervised loss at this global step."""
  return anneal_fn(gamma, step, iteration_threshold)


@gin.configurable("fixed", denylist=["gamma", "step"])
def fixed_annealer(gamma, step, iteration_threshold):
  """gamma at every step."""
  del step, iteration_threshold
  return gamma


@gin.configurable("anneal", denylist=["gamma", "step"])
def annealed_annealer(gamma, step, iteration_threshold):
  """gamma rising linearly from 0 over iteration_threshold steps."""
  return min(gamma * 1., gamma * 1. * float(step) / iteration_threshold)


@gin.configurable("fine_tune", denylist=["gamma", "step"])
def fine_tune_annealer(gamma, step, iteration_threshold):
  """0 until the step exceeds iteration_threshold, gamma after."""
  return gamma * min(1., max(0., float(step - iteration_threshold)))


@gin.configurable("supervised_loss", denylist=["representation", "labels"])
def make_supervised_loss(representation, labels, factor_sizes=None, loss_fn=gin.REQUIRED,
                         variables=None):
  """The configured supervised loss of latent means [B, L] against labels [B, F].

  Loss functions take (representation, labels, factor_sizes, variables): the
  original's arguments and the VariableStore of their trainable variables.
  """
  return loss_fn(representation, labels, factor_sizes, variables=variables)


def normalize_labels(labels, factors_num_values):
  """labels / number of values of each factor."""
  return labels / torch.as_tensor(factors_num_values, dtype=labels.dtype,
                                  device=labels.device)


def _first_latents(representation, labels):
  number_factors = labels.shape[1]
  if representation.shape[1] < number_factors:
    raise ValueError("Not enough latents.")
  return representation[:, :number_factors]


@gin.configurable("l2", denylist=["representation", "labels", "variables"])
def supervised_regularizer_l2(representation, labels, factor_sizes=None, learn_scale=True,
                              variables=None):
  """Squared error between the (scaled) first latents and the labels, summed.

  With learn_scale the latents are multiplied by a learned scalar `b`
  (initially 1). Without it, the original compares sigmoid(latents) with the
  normalised labels but, through an extra axis, every sample's latents with
  every sample's labels ([B, B, F]); that is reproduced here.
  """
  latents = _first_latents(representation, labels)
  if learn_scale:
    b = _store(variables).get("b", [], initial_value=1.)
    return torch.sum(torch.square(latents * b - labels))
  return torch.sum(torch.square(
      torch.sigmoid(latents[:, None, :]) - normalize_labels(labels, factor_sizes)))


@gin.configurable("xent", denylist=["representation", "labels", "variables"])
def supervised_regularizer_xent(representation, labels, factor_sizes=None, variables=None):
  """Sigmoid cross-entropy of the first latents (logits) with the normalised labels, summed."""
  del variables
  latents = _first_latents(representation, labels)
  return torch.sum(F.binary_cross_entropy_with_logits(
      latents, normalize_labels(labels, factor_sizes), reduction="none"))


@gin.configurable("cov", denylist=["representation", "labels", "variables"])
def supervised_regularizer_cov(representation, labels, factor_sizes=None, variables=None):
  """Sum of squared off-diagonal entries of Cov[latents, labels] over the batch."""
  del factor_sizes, variables
  representation_centered = representation - torch.mean(representation, dim=0)
  labels_centered = labels - torch.mean(labels, dim=0)
  covariance = representation_centered.T @ labels_centered / representation.shape[0]
  num_diagonals = min(covariance.shape)
  diagonal = torch.arange(num_diagonals, device=covariance.device)
  mask = torch.ones_like(covariance)
  mask[diagonal, diagonal] = 0.
  return torch.sum(torch.square(covariance * mask))


@gin.configurable("embed", denylist=["representation", "labels", "factor_sizes",
                                      "variables"])
def supervised_regularizer_embed(representation, labels, factor_sizes, sigma=gin.REQUIRED,
                                 use_order=False, variables=None):
  """Softmax over each factor's value embeddings of -((latent - e_k) * sigma)^2.

  Each factor i's values get learned 1-d embeddings e (or slope * k + bias
  with use_order); the loss is the cross-entropy with the true value,
  averaged over the batch and summed over factors. sigma = "learn" learns it.
  """
  store = _store(variables)
  loss = 0.
  for i in range(labels.shape[1]):
    size = int(factor_sizes[i])
    if use_order:
      bias = store.get("{}/bias".format(i), [])
      slope = store.get("{}/slope".format(i), [])
      embedding = torch.arange(size, dtype=representation.dtype,
                               device=representation.device) * slope + bias
    else:
      embedding = store.get("{}/embedding".format(i), [size])
    sigma_value = store.get("{}/sigma".format(i), [1]) if sigma == "learn" else sigma
    logits = -torch.square((representation[:, i:i + 1] - embedding) * sigma_value)
    loss = loss + F.cross_entropy(logits, labels[:, i].to(torch.int64))
  return loss


class BaseS2VAE(vae.BaseVAE):
  """A VAE with a supervised loss on labelled images.

  Batches are (unlabelled images, (labelled images, labels)). The factor
  sizes of the labels are given, or set by the semi-supervised protocol
  (training_inputs), which the original's configs reach by naming the class
  (`model.model = @s2_vae`).
  """
  logged_scalars = ("loss", "reconstruction_loss", "elbo", "supervised_loss")
  # Whether the reported regularizer includes the weighted supervised loss.
  supervised_in_regularizer = True

  def __init__(self, factor_sizes=None):
    vae.BaseVAE.__init__(self)
    self.factor_sizes = None if factor_sizes is None else [int(size) for size in factor_sizes]

  def training_inputs(self, data, random_seed, eval_steps, **protocol_params):
    """The semi-supervised protocol (train_semi_supervised_lib); eval_steps is its own."""
    del eval_steps  # Evaluation reads num_labelled_samples batches, as the original.
    inputs, factor_sizes = train_semi_supervised_lib.training_inputs(
        self, data, random_seed, protocol_params)
    self.factor_sizes = [int(size) for size in factor_sizes]
    return inputs

  def build(self, observation_shape):
    super().build(observation_shape)
    self.supervised_variables = VariableStore()
    # A dry run creates the loss's variables now, so the optimizer sees them.
    num_factors = len(self.factor_sizes)
    make_supervised_loss(torch.zeros(2, self.num_latent), torch.zeros(2, num_factors),
                         self.factor_sizes, variables=self.supervised_variables)

  def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    return self.unsupervised_regularizer(kl_loss, z_mean, z_logvar, z_sampled)

  def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    raise NotImplementedError()

  def encode_both(self, unlabelled, labelled):
    """(mean, log variance) of the unlabelled images and mean of the labelled, in one pass."""
    z_mean, z_logvar = self.gaussian_encoder(torch.cat([unlabelled, labelled]))
    batch_size = unlabelled.shape[0]
    return z_mean[:batch_size], z_logvar[:batch_size], z_mean[batch_size:]

  def supervised_loss(self, z_mean_labelled, labels):
    return make_supervised_loss(z_mean_labelled.float(), labels.float(), self.factor_sizes,
                                variables=self.supervised_variables)

  def losses(self, features, generator):
    unlabelled, (labelled, labels) = features
    z_mean, z_logvar, z_mean_labelled = self.encode_both(unlabelled, labelled)
    values = self.losses_from_codes(unlabelled, z_mean, z_logvar, generator)
    supervised_loss = self.supervised_loss(z_mean_labelled, labels)
    weighted = make_annealer(self.gamma_sup, self.global_step) * supervised_loss
    values["loss"] = values["loss"] + weighted
    if self.supervised_in_regularizer:
      values["regularizer"] = values["regularizer"] + weighted
    values["supervised_loss"] = supervised_loss
    return values


@gin.configurable("s2_vae")
class S2BetaVAE(BaseS2VAE):
  """Semi-supervised beta-VAE."""

  def __init__(self, factor_sizes=None, beta=gin.REQUIRED, gamma_sup=gin.REQUIRED):
    super().__init__(factor_sizes)
    self.beta = beta
    self.gamma_sup = gamma_sup

  def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_mean, z_logvar, z_sampled
    return self.beta * kl_loss


@gin.configurable("s2_dip_vae")
class S2DIPVAE(BaseS2VAE):
  """Semi-supervised DIP-VAE."""

  def __init__(self, factor_sizes=None, lambda_od=gin.REQUIRED, lambda_d_factor=gin.REQUIRED,
               gamma_sup=gin.REQUIRED, dip_type="i"):
    super().__init__(factor_sizes)
    self.lambda_od = lambda_od
    self.lambda_d_factor = lambda_d_factor
    self.dip_type = dip_type
    self.gamma_sup = gamma_sup

  def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    del z_sampled
    return kl_loss + vae.dip_regularizer(z_mean, z_logvar, self.lambda_od,
                                         self.lambda_d_factor, self.dip_type)


@gin.configurable("s2_beta_tc_vae")
class S2BetaTCVAE(BaseS2VAE):
  """Semi-supervised beta-TCVAE."""

  def __init__(self, factor_sizes=None, beta=gin.REQUIRED, gamma_sup=gin.REQUIRED):
    super().__init__(factor_sizes)
    self.beta = beta
    self.gamma_sup = gamma_sup

  def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
    return kl_loss + (self.beta - 1.) * vae.total_correlation(z_sampled, z_mean, z_logvar)


@gin.configurable("s2_factor_vae")
class S2FactorVAE(BaseS2VAE, vae.FactorVAE):
  """Semi-supervised FactorVAE: FactorVAE's two optimizers, plus the supervised term.

  As in the original, the VAE optimizer updates only the encoder and the
  decoder (not a supervised loss's own variables), and the reported
  regularizer leaves the supervised term out.
  """
  logged_scalars = ("loss", "reconstruction_loss", "supervised_loss")
  supervised_in_regularizer = False

  def __init__(self, factor_sizes=None, gamma=gin.REQUIRED, gamma_sup=gin.REQUIRED):
    BaseS2VAE.__init__(self, factor_sizes)
    self.gamma = gamma
    self.gamma_sup = gamma_sup

  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    values = self.losses(features, generator)
    return {k: values[k] for k in ("loss", "reconstruction_loss", "regularizer", "kl_loss",
                                   "supervised_loss")}


@gin.configurable("supervised")
class SupervisedVAE(BaseS2VAE):
  """Encoder trained on the supervised loss only; the decoder learns from frozen codes."""
  logged_scalars = ("loss", "reconstruction_loss", "supervised_loss")

  def losses(self, features, generator):
    unlabelled, (labelled, labels) = features
    z_mean, z_logvar, z_mean_labelled = self.encode_both(unlabelled, labelled)
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    reconstructions = self.decode(z_sampled.detach())
    reconstruction_loss = torch.mean(
        losses.make_reconstruction_loss(unlabelled, reconstructions))
    supervised_loss = self.supervised_loss(z_mean_labelled, labels)
    return {
        "loss": reconstruction_loss + supervised_loss,
        "reconstruction_loss": reconstruction_loss,
        "regularizer": supervised_loss,
        "supervised_loss": supervised_loss,
    }


class MineEstimators(nn.Module):
  """num independent MINE statistics networks T(x, z) (Belghazi et al. 2018), batched.

  Each is the original's: dense(x) + dense(z) -> 20 units, ELU, dense -> 1.
  """

  def __init__(self, num, hidden=20):
    super().__init__()
    self.x_weight, self.x_bias = self._dense(num, hidden, 1)
    self.z_weight, self.z_bias = self._dense(num, hidden, 1)
    self.out_weight, self.out_bias = self._dense(num, 1, hidden)

  @staticmethod
  def _dense(num, width, fan_in):
    limit = math.sqrt(6. / (fan_in + width))  # Glorot-uniform kernels, zero biases.
    weight = torch.empty(num, fan_in, width).uniform_(-limit, limit)
    return nn.Parameter(weight), nn.Parameter(torch.zeros(num, width))

  def forward(self, x, z):
    """Statistics for x, z [num, N] (scalar samples per estimator): [num, N]."""
    hidden = F.elu(x[:, :, None] * self.x_weight + self.x_bias[:, None, :] +
                   z[:, :, None] * self.z_weight + self.z_bias[:, None, :])
    return (hidden @ self.out_weight)[:, :, 0] + self.out_bias


def mine(x, z, estimators, generator=None):
  """MINE lower bounds of I(x_p; z_p) for x, z [num, N]: (estimates [num], estimator loss).

  The joint samples are the pairs (x_i, z_i); the product of marginals pairs
  x_i with a shuffled z. As in the original, z is a constant for the
  encoder (stop-gradient) and the estimators minimise -estimate.
  """
  z = z.detach()
  order = torch.argsort(torch.rand(z.shape, generator=generator, device=z.device), dim=1)
  z_shuffled = torch.gather(z, 1, order)
  statistics = estimators(torch.cat([x, x], dim=1), torch.cat([z, z_shuffled], dim=1))
  batch_size = x.shape[1]
  joint, marginal = statistics[:, :batch_size], statistics[:, batch_size:]
  estimates = (torch.mean(joint, dim=1) + math.log(batch_size) -
               torch.logsumexp(marginal, dim=1))
  return estimates, -torch.sum(estimates)


@gin.configurable("s2_mine_vae")
class MineVAE(BaseS2VAE):
  """Semi-supervised VAE penalising I(mu_r; y_l)^2 for every latent r != factor l, by MINE.

  One estimator per (factor, latent) pair, all trained by their own Adam
  (learning rate 0.01, the original's) on the same batch. Deviation: the
  original gave each estimator an optimizer over all estimators' variables,
  so each got several momentum-only updates per step; here each is updated
  once.
  """
  logged_scalars = ("loss", "reconstruction_loss", "supervised_loss")
  # The estimators are trained on their own loss, from the same forward pass.
  objectives = {"vae": ("loss", 1.), "mine": ("mine_loss", 1.)}

  def __init__(self, factor_sizes=None, gamma_sup=gin.REQUIRED, beta=gin.REQUIRED):
    super().__init__(factor_sizes)
    self.gamma_sup = gamma_sup
    self.beta = beta

  def build(self, observation_shape):
    vae.BaseVAE.build(self, observation_shape)
    self.mine_estimators = MineEstimators(len(self.factor_sizes) * self.num_latent)

  def losses(self, features, generator):
    unlabelled, (labelled, labels) = features
    z_mean, z_logvar, z_mean_labelled = self.encode_both(unlabelled, labelled)
    num_factors, num_latent = labels.shape[1], self.num_latent
    # Pair p = l * num_latent + r: latent r against factor l.
    x = z_mean_labelled.float().T.repeat(num_factors, 1)
    z = labels.float().T.repeat_interleave(num_latent, dim=0)
    estimates, mine_loss = mine(x, z, self.mine_estimators, generator)
    off_diagonal = torch.ones(num_factors, num_latent, device=estimates.device)
    diagonal = torch.arange(min(num_factors, num_latent), device=estimates.device)
    off_diagonal[diagonal, diagonal] = 0.
    supervised_loss = torch.sum(torch.square(estimates) * off_diagonal.flatten())
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    reconstruction_loss = torch.mean(
        losses.make_reconstruction_loss(unlabelled, self.decode(z_sampled)))
    kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
    loss = (reconstruction_loss + self.beta * kl_loss +
            make_annealer(self.gamma_sup, self.global_step) * supervised_loss)
    return {"loss": loss, "reconstruction_loss": reconstruction_loss,
            "supervised_loss": supervised_loss, "kl_loss": kl_loss, "mine_loss": mine_loss}

  def make_optimizers(self):
    spec = optimizers.make_vae_optimizer()
    vae_parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
    mine_spec = optimizers.OptimizerSpec(torch.optim.Adam, {}, 0.01)
    return {"vae": (spec.build(vae_parameters), spec),
            "mine": (mine_spec.build(self.mine_estimators.parameters()), mine_spec)}


  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    values = self.losses(features, generator)
    values.pop("mine_loss")
    return values
