"""GlanceNet's open-set recognition: reject inputs unlike the training data.

An input is accepted when its reconstruction loss is below the training
set's q-quantile (0.95) AND its mean code lies, for some class c, closer to
the class prototype mu_c than the q-quantile of the training points of
class c. GlanceNets' code for this does not run as committed; this is its
stated intent, with exact quantiles instead of the repository's grid search
(concept-metrics.md §1.6, Q5). A class absent from the fitting images
accepts nothing (it has no quantile). Rejected inputs get a random
prediction in the leakage test.

A GlanceNet fits its thresholds when training ends and exports them as the
TorchScript module `open_set` (OpenSet: images -> accepted), which
postprocessing carries into the representation folder and evaluation hands
to the metrics that take an `acceptance_function` (glancenets_leakage).
"""
import dataclasses
from typing import Tuple
import warnings

import numpy as np
import torch
from torch import nn

from dlib_torch.methods.shared import losses
from dlib_torch.utils import errors


@dataclasses.dataclass
class Thresholds:
  reconstruction: float
  class_distance: np.ndarray  # [num_classes]; -inf for a class absent from the fit data

  def description(self):
    """The thresholds as JSON values (null for a class absent from the fit data)."""
    return {"reconstruction_threshold": self.reconstruction,
            "class_distance_thresholds": [float(d) if np.isfinite(d) else None
                                          for d in self.class_distance]}


class _ReconstructionLoss(nn.Module):
  """The configured per-sample reconstruction loss as a module, to be traced: the gin
  function is read once, so the exported module needs neither gin nor dlib_torch."""

  def forward(self, images, logits):
    return losses.make_reconstruction_loss(images, logits)


class OpenSet(nn.Module):
  """Images [N, H, W, C] float32 in [0, 1] -> bool [N]: the inputs the model accepts.

  Holds the encoder, the decoder, the class prototypes' first z_class
  dimensions and the thresholds; scriptable, and it runs without dlib_torch.
  """

  def __init__(self, gaussian_encoder, decoder, reconstruction_loss, prototypes,
               reconstruction_threshold, class_distance):
    super().__init__()
    self.gaussian_encoder = gaussian_encoder
    self.decoder = decoder
    self.reconstruction_loss = reconstruction_loss
    self.register_buffer("prototypes", prototypes)  # [num_classes, z_class]
    self.register_buffer("reconstruction_threshold",
                         torch.tensor(reconstruction_threshold, dtype=torch.float32))
    self.register_buffer("class_distance", torch.as_tensor(class_distance, dtype=torch.float32))

  def scores(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction loss of the mean code [N], and its distance to each prototype [N, C]."""
    z_mean, _ = self.gaussian_encoder(images)
    reconstruction = self.reconstruction_loss(images, self.decoder(z_mean)).float()
    z = z_mean[:, :self.prototypes.shape[1]].float()
    # Row by row (torch.cdist switches to a matmul form above 25 rows, whose
    # rounding would make a distance depend on the number of rows).
    distances = torch.sqrt(torch.sum(torch.square(z[:, None, :] - self.prototypes[None]), dim=2))
    return reconstruction, distances

  def forward(self, images: torch.Tensor) -> torch.Tensor:
    reconstruction, distances = self.scores(images)
    near_a_class = torch.any(distances < self.class_distance[None, :], dim=1)
    return (reconstruction < self.reconstruction_threshold) & near_a_class


def make_open_set(model, thresholds=None):
  """The OpenSet of a model with a conditional prior, sharing its networks.

  Without thresholds it accepts everything (its scores are what thresholds are fitted on).
  """
  if not getattr(model, "conditional_prior", False):
    raise errors.UserError("Open-set rejection needs a model with a conditional prior.")
  example = torch.zeros([2] + list(model.observation_shape))
  with warnings.catch_warnings():
    # TorchScript's deprecation, as in torchscript_io; the losses' shape checks, traced
    # as constants, hold for every image of the model's shape.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    loss = torch.jit.trace(_ReconstructionLoss(), (example, example))
  with torch.no_grad():
    prototypes = (model.prior_means.weight.T + model.prior_means.bias)[:, :model.z_class]
  if thresholds is None:
    thresholds = Thresholds(np.inf, np.full(model.num_classes, np.inf))
  return OpenSet(model.encoder, model.decoder, loss,
                 prototypes.detach().float().clone(), thresholds.reconstruction,
                 thresholds.class_distance).to(prototypes.device)


def _scores(model, images, batch_size):
  scorer = make_open_set(model)
  device = scorer.prototypes.device
  parts = []
  with torch.no_grad():
    for start in range(0, len(images), batch_size):
      batch = torch.as_tensor(images[start:start + batch_size]).to(device)
      parts.append([s.cpu().numpy() for s in scorer.scores(batch)])
  return tuple(np.concatenate(p) for p in zip(*parts))


def fit_thresholds(model, images, labels, quantile=0.95, batch_size=256):
  """Thresholds from training images [N, H, W, C] and their classes [N]."""
  reconstruction, distances = _scores(model, images, batch_size)
  labels = np.asarray(labels)
  class_distance = np.full(model.num_classes, -np.inf)
  for c in range(model.num_classes):
    if np.any(labels == c):
      class_distance[c] = np.quantile(distances[labels == c, c], quantile)
  return Thresholds(float(np.quantile(reconstruction, quantile)), class_distance)


def accept(model, images, thresholds):
  """Boolean [N]: the inputs the model does not reject."""
  open_set = make_open_set(model, thresholds)
  with torch.no_grad():
    return open_set(torch.as_tensor(images).to(open_set.prototypes.device)).cpu().numpy()
