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
  """Edge embeddings, the edge layer on each, then their sum over the second node.

  edge_layer is a Sequential whose first module is a Linear. It is applied
  without forming the pairs: on a pair [a, b], the Linear is W_a a + W_b b + bias,
  so both terms are computed once per node and added per pair, which equals
  the edge layer on PairwiseEdgeEmbeddings up to float rounding.
  """

  def __init__(self, edge_layer):
    super().__init__()
    self.edge_layer = edge_layer

  def forward(self, inputs):
    return self.edge_sums(inputs, inputs).sum(dim=-2)

  def edge_sums(self, first, second):
    """[..., n1, d], [..., n2, d] -> [..., n1, n2, out]: the edge layer on each [first_i, second_j].

    Leading axes broadcast, so a node set may be shared across a batch axis.
    """
    linear = self.edge_layer[0]
    dims = first.shape[-1]
    first = nn.functional.linear(first, linear.weight[:, :dims], linear.bias)
    second = nn.functional.linear(second, linear.weight[:, dims:])
    return self.edge_layer[1:](first.unsqueeze(-2) + second.unsqueeze(-3))

  def graph_sums(self, context, answers):
    """Sum of the edge layer over every edge of each answer's graph: [B, a, out].

    context [B, n, d] and answers [B, a, d] carry their positions already. Equals
    forward(StackAnswers()(context, answers)).sum(-2); the context's edges, the
    same for every answer, are computed once.
    """
    context_edges = self.edge_sums(context, context).sum(dim=(-3, -2))
    context, answers = context.unsqueeze(-3), answers.unsqueeze(-2)
    answer_edges = (self.edge_sums(context, answers).sum(dim=(-3, -2)) +
                    self.edge_sums(answers, context).sum(dim=(-3, -2)) +
                    self.edge_sums(answers, answers).sum(dim=(-3, -2)))
    return context_edges.unsqueeze(-2) + answer_edges


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
