"""Layers of relational networks (Santoro et al. 2017) on node embeddings [..., nodes, dims]."""
import torch
from torch import nn


def positional_encoding_like(tensor):
  """One-hot of each node's position along axis -2: [..., nodes, nodes], tensor's dtype."""
  num_nodes = tensor.shape[-2]
  eye = torch.eye(num_nodes, dtype=tensor.dtype, device=tensor.device)
  return eye.expand(tensor.shape[:-2] + (num_nodes, num_nodes))


class AddPositionalEncoding(nn.Module):
  """[..., nodes, dims] -> [..., nodes, dims + nodes]: the embedding, then its position."""

  def forward(self, inputs):
    return torch.cat([inputs, positional_encoding_like(inputs)], dim=-1)


class PairwiseEdgeEmbeddings(nn.Module):
  """[..., nodes, dims] -> [..., nodes, nodes, 2 dims]: edge (i, j) is node i then node j."""

  def forward(self, inputs):
    num_nodes = inputs.shape[-2]
    first = inputs.unsqueeze(-2).expand(inputs.shape[:-1] + (num_nodes, inputs.shape[-1]))
    second = inputs.unsqueeze(-3).expand(inputs.shape[:-2] + (num_nodes,) + inputs.shape[-2:])
    return torch.cat([first, second], dim=-1)


class RelationalLayer(nn.Module):
  """Edge embeddings, the edge layer on each, then their sum over the second node."""

  def __init__(self, edge_layer):
    super().__init__()
    self.pairwise = PairwiseEdgeEmbeddings()
    self.edge_layer = edge_layer

  def forward(self, inputs):
    return self.edge_layer(self.pairwise(inputs)).sum(dim=-2)


class StackAnswers(nn.Module):
  """(context [B, n, d], answers [B, a, d]) -> [B, a, n + 1, d]: each answer after the context."""

  def forward(self, context, answers):
    num_answers = answers.shape[-2]
    context = context.unsqueeze(-3).expand(context.shape[:-2] + (num_answers,) +
                                           context.shape[-2:])
    return torch.cat([context, answers.unsqueeze(-2)], dim=-2)


class MultiDimBatchApply(nn.Module):
  """Applies `layer` to the last `num_dims_to_keep` axes of every element of a batch of batches."""

  def __init__(self, layer, num_dims_to_keep=3):
    super().__init__()
    self.layer = layer
    self.num_dims_to_keep = num_dims_to_keep

  def forward(self, inputs):
    batch_shape = inputs.shape[:-self.num_dims_to_keep]
    outputs = self.layer(inputs.reshape((-1,) + inputs.shape[-self.num_dims_to_keep:]))
    return outputs.reshape(batch_shape + outputs.shape[1:])
