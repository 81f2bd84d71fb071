"""GlanceNet (Marconato, Passerini & Teso 2022; the GrayVAE-style joint model).

A VAE whose first latents are concepts supervised on a masking_fact share of
the examples, with a linear classifier on the concepts tanh(z / 2), a
conditional prior N(mu_y, I) with class prototypes mu_y = Linear(onehot(y)),
and open-set rejection (see open_set.py), whose thresholds are fitted when
training ends and exported as the TorchScript module `open_set`. The VAE
regulariser can be extended with the beta-TCVAE, DIP-VAE and FactorVAE terms,
as the disentanglement-pytorch `loss_terms` that GlanceNets builds on.

Decisions where the authors' code is ambiguous (concept-metrics.md §1.6):
the prototype term ("push cluster") is applied as intended (the code drops
it); free dimensions keep the standard KL; training has no
classification-only phase after the first epoch (there are no epochs).
"""
import gin
import torch
from torch import nn
import torch.nn.functional as F

from dlib_torch.methods.concepts import concept_model
from dlib_torch.methods.concepts import open_set
from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import vae


@gin.configurable("glancenet")
class GlanceNet(concept_model.ConceptModel):
  """GlanceNet; the concepts, class and supervision share come from the data set's factors."""
  logged_scalars = ("loss", "reconstruction_loss", "elbo", "concept_loss", "classification_loss")

  def __init__(self, beta=1., label_weight=1., latent_weight=None, masking_fact=100.,
               z_class=None, conditional_prior=True, latent_loss="MSE", prototype_weight=100.,
               class_fn=gin.REQUIRED, concept_factors=None, one_hot_factors=(), beta_tc=1.,
               dip_lambda_od=0., dip_lambda_d_factor=10., dip_type="i", factor_gamma=0.,
               open_set_num_images=5000, open_set_quantile=0.95):
    """Creates a GlanceNet.

    Args:
      beta: weight of the KL term.
      label_weight: weight of the classification cross-entropy.
      latent_weight: weight of the concept loss (default: label_weight).
      masking_fact: percentage of examples whose concepts are supervised.
      z_class: number of leading concepts the classifier reads (default: all latents).
      conditional_prior: whether the prior is N(mu_y, I) with learned class prototypes.
      latent_loss: "MSE" (tanh(z/2) against 2g - 1) or "BCE" (sigmoid(z) against g).
      prototype_weight: weight pulling the prototypes' concepts to the examples' concepts.
      class_fn: factors -> (class labels, number of classes), e.g. @factor_class.
      concept_factors: factor indices that are concepts (default: all).
      one_hot_factors: concept factors encoded one-hot.
      beta_tc: adds (beta_tc - 1) * TC(z), the beta-TCVAE term (1: none).
      dip_lambda_od: adds the DIP-VAE covariance penalty when positive.
      dip_lambda_d_factor: DIP-VAE diagonal weight factor.
      dip_type: DIP-VAE "i" or "ii".
      factor_gamma: adds gamma * the FactorVAE discriminator's TC estimate when positive.
      open_set_num_images: images of the evaluation stream the open-set thresholds are
        fitted on when training ends (with a conditional prior).
      open_set_quantile: the quantile of their scores that the thresholds are.
    """
    super().__init__(label_weight, latent_weight, masking_fact, latent_loss, class_fn,
                     concept_factors, one_hot_factors)
    self.beta = beta
    self.z_class = z_class
    self.conditional_prior = conditional_prior
    self.prototype_weight = prototype_weight
    self.beta_tc = beta_tc
    self.dip_lambda_od = dip_lambda_od
    self.dip_lambda_d_factor = dip_lambda_d_factor
    self.dip_type = dip_type
    self.factor_gamma = factor_gamma
    self.discriminator = None
    self.open_set_num_images = open_set_num_images
    self.open_set_quantile = open_set_quantile
    self.open_set_thresholds = None

  def build(self, observation_shape):
    super().build(observation_shape)
    self.z_class = self.z_class or self.num_latent
    self.classifier = architectures._glorot(nn.Linear(self.z_class, self.num_classes))  # pylint: disable=protected-access
    if self.conditional_prior:
      self.prior_means = architectures._glorot(nn.Linear(self.num_classes, self.num_latent))  # pylint: disable=protected-access
    if self.factor_gamma > 0:
      self.discriminator = architectures.make_discriminator(self.num_latent)

  def class_prototypes(self, labels):
    """mu_y [B, L] of the conditional prior."""
    return self.prior_means(F.one_hot(labels, self.num_classes).to(torch.float32))

  def class_logits(self, z):
    return self.classifier(torch.tanh(z[:, :self.z_class].float() / 2))

  def losses(self, features, generator):
    images, factors, flags = features
    g, labels = self.targets(factors)
    z_mean, z_logvar = self.gaussian_encoder(images)
    z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
    reconstruction_loss = torch.mean(
        losses.make_reconstruction_loss(images, self.decode(z_sampled)))
    z_mean32, z_logvar32 = z_mean.float(), z_logvar.float()
    concept_loss = self.concept_loss(z_sampled, g, flags)
    logits = self.class_logits(z_sampled)
    classification_loss = F.cross_entropy(logits, labels)
    prototype_loss = z_mean32.new_zeros(())
    if self.conditional_prior:
      prototypes = self.class_prototypes(labels)
      kl_loss = torch.mean(0.5 * torch.sum(
          torch.square(z_mean32 - prototypes) + torch.exp(z_logvar32) - z_logvar32 - 1, dim=1))
      prototype_loss = self.concept_loss(prototypes, g, flags)
    else:
      kl_loss = vae.compute_gaussian_kl(z_mean32, z_logvar32)
    regularizer = self.beta * kl_loss
    if self.beta_tc != 1.:
      regularizer = regularizer + (self.beta_tc - 1.) * vae.total_correlation(
          z_sampled, z_mean, z_logvar)
    if self.dip_lambda_od > 0:
      regularizer = regularizer + vae.dip_regularizer(
          z_mean, z_logvar, self.dip_lambda_od, self.dip_lambda_d_factor, self.dip_type)
    values = {}
    if self.discriminator is not None:
      z_shuffle = vae.shuffle_codes(z_sampled, generator)
      d_logits, d_probs = self.discriminator(torch.cat([z_sampled, z_shuffle]))
      batch_size = z_sampled.shape[0]
      d_logits, d_probs = d_logits.float(), d_probs.float()
      regularizer = regularizer + self.factor_gamma * torch.mean(
          d_logits[:batch_size, 0] - d_logits[:batch_size, 1])
      values["discriminator_loss"] = (0.5 * torch.mean(torch.log(d_probs[:batch_size, 0])) +
                                      0.5 * torch.mean(torch.log(d_probs[batch_size:, 1])))
    supervision = (self.latent_weight * concept_loss + self.prototype_weight * prototype_loss +
                   self.label_weight * classification_loss)
    accuracy = torch.mean((torch.argmax(logits, dim=1) == labels).to(torch.float32))
    values.update({
        "loss": reconstruction_loss + regularizer + supervision,
        "reconstruction_loss": reconstruction_loss,
        "elbo": -(reconstruction_loss + kl_loss),
        "regularizer": regularizer,
        "kl_loss": kl_loss,
        "concept_loss": concept_loss,
        "classification_loss": classification_loss,
        "classification_accuracy": accuracy,
    })
    return values

  def vae_parameters(self):
    discriminator = set() if self.discriminator is None else {
        id(p) for p in self.discriminator.parameters()}
    return [p for p in self.parameters() if id(p) not in discriminator]

  def make_optimizers(self):
    if self.discriminator is None:
      return super().make_optimizers()
    return vae.FactorVAE.make_optimizers(self)

  @property
  def objectives(self):
    return (vae.BaseVAE if self.discriminator is None else vae.FactorVAE).objectives

  @property
  def steps_per_iteration(self):
    return (vae.BaseVAE if self.discriminator is None else vae.FactorVAE).steps_per_iteration

  def eval_losses(self, features, global_step, generator):
    self.global_step = global_step
    values = self.losses(features, generator)
    values.pop("discriminator_loss", None)
    return values

  def prepare_export(self, inputs, batch_size):
    """Fits the open-set thresholds on the first open_set_num_images of the evaluation stream.

    The stream is put back where it was, so the evaluation sees its usual batches; the
    thresholds depend only on the configuration and seed.
    """
    if not self.conditional_prior:
      return {}
    stream = inputs.eval_stream
    state = stream.get_state()
    images, factors, _ = stream.next_batch(self.open_set_num_images)
    stream.set_state(state)
    labels = self.targets(torch.as_tensor(factors))[1].numpy()
    was_training = self.training
    self.eval()
    self.open_set_thresholds = open_set.fit_thresholds(self, images, labels,
                                                       self.open_set_quantile, batch_size)
    self.train(was_training)
    return {"open_set": dict(
        self.open_set_thresholds.description(), quantile=self.open_set_quantile,
        num_images=self.open_set_num_images, input="float32 [N, H, W, C] in [0, 1]",
        outputs=["bool [N]: accepted"])}

  def export_modules(self):
    modules = super().export_modules()
    if self.open_set_thresholds is not None:
      modules["open_set"] = open_set.make_open_set(self, self.open_set_thresholds)
    return modules

  def predict(self, images, num_samples=100, generator=None):
    """Class probabilities averaged over num_samples latent samples (GlanceNets' test time)."""
    z_mean, z_logvar = self.gaussian_encoder(images)
    probabilities = 0.
    for _ in range(num_samples):
      z = self.sample_from_latent_distribution(z_mean, z_logvar, generator)
      probabilities = probabilities + torch.softmax(self.class_logits(z), dim=1)
    return probabilities / num_samples
