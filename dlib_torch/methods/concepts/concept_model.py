"""What the concept models share: reading factors, concept targets, class labels, concept loss."""
import torch
import torch.nn.functional as F

from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.concepts import concept_data
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import vae
from dlib_torch.utils import errors


class ConceptModel(vae.BaseVAE):
  """A Gaussian-encoder model supervised by concepts and a class derived from the factors.

  The first G latent dimensions are tied, in order, to the G concepts; the
  concept of a code z is tanh(z / 2) = 2 sigmoid(z) - 1 in [-1, 1], compared
  with 2 g - 1 ("MSE") or sigmoid(z) with g ("BCE").
  """

  def __init__(self, label_weight, latent_weight, masking_fact, latent_loss, class_fn,
               concept_factors, one_hot_factors):
    super().__init__()
    if latent_loss not in ("MSE", "BCE"):
      raise errors.UserError("latent_loss must be 'MSE' or 'BCE', not {!r}.".format(latent_loss))
    self.label_weight = label_weight
    self.latent_weight = label_weight if latent_weight is None else latent_weight
    self.masking_fact = masking_fact
    self.latent_loss = latent_loss
    self.class_fn = class_fn
    self.concept_factors = None if concept_factors is None else list(concept_factors)
    self.one_hot_factors = tuple(one_hot_factors)
    self.factors_num_values = None

  def training_inputs(self, data, random_seed, eval_steps, **protocol_params):
    """The unsupervised protocol's seeds, on observations with their factors."""
    gaussian_encoder_model.reject_protocol_params(protocol_params, self)
    self.factors_num_values = [int(k) for k in data.factors_num_values]
    return gaussian_encoder_model.seeded_inputs(
        lambda d, seed: concept_data.ConceptStream(d, seed, self.masking_fact), data,
        random_seed, eval_steps)

  def build(self, observation_shape):
    super().build(observation_shape)
    if self.factors_num_values is None:  # Built before any stream was asked for.
      self.factors_num_values = [
          int(k) for k in named_data.get_named_ground_truth_data().factors_num_values]
    self.num_concepts = concept_data.num_concepts(
        self.factors_num_values, self.concept_factors, self.one_hot_factors)
    if self.num_concepts > self.num_latent:
      raise errors.UserError("{} concepts need at least as many latents (encoder.num_latent = "
                             "{}).".format(self.num_concepts, self.num_latent))
    probe = torch.zeros(1, len(self.factors_num_values), dtype=torch.int64)
    self.num_classes = self.class_fn(probe, self.factors_num_values)[1]

  def targets(self, factors):
    """(concepts g [B, G] in [0, 1], class labels y [B])."""
    g = concept_data.concept_targets(factors, self.factors_num_values, self.concept_factors,
                                     self.one_hot_factors)
    return g, self.class_fn(factors, self.factors_num_values)[0]

  def concept_loss(self, codes, g, flags):
    """Mean concept error over the supervised examples of the batch (0 if there are none)."""
    codes = codes[:, :g.shape[1]].float()
    if self.latent_loss == "MSE":
      per_entry = torch.square(torch.tanh(codes / 2) - (2 * g - 1))
    else:
      per_entry = F.binary_cross_entropy_with_logits(codes, g, reduction="none")
    per_example = torch.mean(per_entry, dim=1)
    return torch.sum(per_example * flags) / torch.clamp(torch.sum(flags), min=1.)
