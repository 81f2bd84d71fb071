"""The joint concept-bottleneck model of GlanceNets (CBNM): concepts then a linear classifier.

Deterministic: the concepts are tanh(mean / 2) of the encoder mean; a
bias-free linear layer on all of them predicts the class. The loss is
label_weight * cross-entropy + latent_weight * concept loss on the
supervised examples. So that the model offers the same artefacts as the
others, a decoder is trained on the (gradient-stopped) means; it does not
influence the encoder. The exported encoder gives the mean and a constant
log variance of -30, so sampled representations equal the mean ones.
"""
import gin
import torch
from torch import nn
import torch.nn.functional as F

from dlib_torch.methods.concepts import concept_model
from dlib_torch.methods.shared import losses

DETERMINISTIC_LOGVAR = -30.


class MeanEncoder(nn.Module):
  """An encoder returning (mean, a constant tiny log variance)."""

  def __init__(self, encoder):
    super().__init__()
    self.encoder = encoder
    self.logvar = DETERMINISTIC_LOGVAR

  def forward(self, x):
    mean, _ = self.encoder(x)
    return mean, torch.full_like(mean, self.logvar)


@gin.configurable("cbm")
class ConceptBottleneckModel(concept_model.ConceptModel):
  """Joint CBM: encoder means -> concepts -> class."""
  logged_scalars = ("loss", "concept_loss", "classification_loss")

  def __init__(self, label_weight=1., latent_weight=None, masking_fact=100., latent_loss="MSE",
               class_fn=gin.REQUIRED, concept_factors=None, one_hot_factors=()):
    super().__init__(label_weight, latent_weight, masking_fact, latent_loss, class_fn,
                     concept_factors, one_hot_factors)

  def build(self, observation_shape):
    super().build(observation_shape)
    self.classifier = nn.Linear(self.num_latent, self.num_classes, bias=False)
    nn.init.xavier_uniform_(self.classifier.weight)

  def gaussian_encoder(self, input_tensor):
    mean, _ = self.encoder(input_tensor)
    return mean, torch.full_like(mean, DETERMINISTIC_LOGVAR)

  def losses(self, features, generator):
    del generator
    images, factors, flags = features
    g, labels = self.targets(factors)
    z_mean, _ = self.encoder(images)
    concept_loss = self.concept_loss(z_mean, g, flags)
    logits = self.classifier(torch.tanh(z_mean.float() / 2))
    classification_loss = F.cross_entropy(logits, labels)
    reconstruction_loss = torch.mean(
        losses.make_reconstruction_loss(images, self.decode(z_mean.detach())))
    regularizer = self.latent_weight * concept_loss + self.label_weight * classification_loss
    accuracy = torch.mean((torch.argmax(logits, dim=1) == labels).to(torch.float32))
    return {
        "loss": regularizer + reconstruction_loss,
        "reconstruction_loss": reconstruction_loss,
        "regularizer": regularizer,
        "concept_loss": concept_loss,
        "classification_loss": classification_loss,
        "classification_accuracy": accuracy,
    }

  def export_modules(self):
    return {"gaussian_encoder": MeanEncoder(self.encoder), "decoder": self.decoder}
