"""Representation functions: what a postprocessed model outputs, given its encoder.

Each gin configurable returns a TorchScript-able module mapping the encoder's
(mean, logvar) to the representation.
"""
import gin
import torch
from torch import nn


class MeanRepresentation(nn.Module):

  def forward(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mean


class SampledRepresentation(nn.Module):
  """A fresh sample per call, from torch's global generator.

  The original sampled from an unseeded TF op, so its sampled-representation
  scores were not reproducible; the evaluation step seeds torch's generator
  from `evaluation.random_seed`, which makes ours reproducible.
  """

  def forward(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mean + torch.exp(logvar / 2) * torch.randn_like(mean)


@gin.configurable("mean_representation",
                  denylist=["ground_truth_data", "gaussian_encoder", "random_state"])
def mean_representation(ground_truth_data, gaussian_encoder, random_state, save_path=None):
  """The representation is the encoder's mean."""
  del ground_truth_data, gaussian_encoder, random_state, save_path
  return MeanRepresentation()


@gin.configurable("sampled_representation",
                  denylist=["ground_truth_data", "gaussian_encoder", "random_state"])
def sampled_representation(ground_truth_data, gaussian_encoder, random_state, save_path=None):
  """The representation is a sample of the encoder's Gaussian."""
  del ground_truth_data, gaussian_encoder, random_state, save_path
  return SampledRepresentation()
