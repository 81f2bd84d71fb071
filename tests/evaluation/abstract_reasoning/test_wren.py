"""WReN: forward pass and loss against values worked out by hand on a tiny fixed case."""
import math

import gin
import numpy as np
import pytest
import torch

from dlib_torch.evaluation.abstract_reasoning import models
from dlib_torch.evaluation.abstract_reasoning import relational_layers


@pytest.fixture(autouse=True)
def _clear_gin():
  yield
  gin.clear_config()


def _tiny_wren():
  """One context panel and two answers with 1-d embeddings; every layer 1 unit wide.

  Edge input per pair (i, j): [x_i, p_i0, p_i1, x_j, p_j0, p_j1] (p: one-hot position).
  """
  net = models.OptimizedWildRelNet(edge_mlp=[1], graph_mlp=[1], dropout_in_last_graph_layer=0.5,
                                   embedding_dim=1, num_nodes=2)
  with torch.no_grad():
    edge = net.relational.edge_layer[0]
    edge.weight.copy_(torch.tensor([[1., 0., 1., -1., 2., 0.]]))
    edge.bias.fill_(-1.)
    graph = net.graph_mlp[0]
    graph.weight.fill_(.5)
    graph.bias.fill_(1.)
    net.output_layer.weight.fill_(2.)
    net.output_layer.bias.fill_(-3.)
  return net


def test_forward_and_loss_equal_the_hand_computed_values():
  net = _tiny_wren().eval()
  context = torch.tensor([[[1.]]])        # [B=1, 1 panel, 1]
  answers = torch.tensor([[[2.], [0.]]])  # [B=1, 2 answers, 1]
  # Answer 0: nodes x = (1, 2) at positions 0, 1. Edge (i, j) = relu(x_i + p_i1 - x_j + 2 p_j0 - 1):
  #   (0,0): relu(1+0-1+2-1) = 1;  (0,1): relu(1+0-2+0-1) = 0
  #   (1,0): relu(2+1-1+2-1) = 3;  (1,1): relu(2+1-2+0-1) = 0   -> sum 4
  # graph: relu(.5 * 4 + 1) = 3; score 2 * 3 - 3 = 3.
  # Answer 1: x = (1, 0). (0,0): 1; (0,1): relu(1-0-1) = 0; (1,0): relu(0+1-1+2-1) = 1;
  #   (1,1): relu(0+1-0-1) = 0 -> sum 2; graph relu(2) = 2; score 1.
  logits = net(context, answers)
  np.testing.assert_allclose(logits.detach().numpy(), [[3., 1.]], rtol=1e-6)
  loss, right = models.loss_and_accuracy(logits, torch.tensor([1]))
  # -log softmax_1 = log(e^3 + e^1) - 1.
  np.testing.assert_allclose(loss.item(), math.log(math.exp(3) + math.exp(1)) - 1., rtol=1e-6)
  assert right.item() == 0


def test_dropout_keeps_or_drops_a_unit_for_the_whole_batch():
  torch.manual_seed(0)
  net = _tiny_wren().train()
  context = torch.tensor([[[1.]], [[1.]]])
  answers = torch.tensor([[[2.], [0.]], [[2.], [0.]]])
  seen = {tuple(net(context, answers).detach().numpy().ravel()) for _ in range(40)}
  # Kept: the graph unit doubled (1 / keep), scores 2*6-3, 2*4-3; dropped: both -3.
  assert seen == {(9., 5., 9., 5.), (-3., -3., -3., -3.)}


def test_two_stage_model_on_factor_values():
  gin.parse_config(["OptimizedWildRelNet.edge_mlp = [4]", "OptimizedWildRelNet.graph_mlp = [3]",
                    "OptimizedWildRelNet.dropout_in_last_graph_layer = 0.5"])
  model = models.TwoStageModel(embedding_model_class="values",
                               reasoning_model_class=models.OptimizedWildRelNet)
  features = {"context_factor_values": torch.zeros(2, 8, 6),
              "answers_factor_values": torch.ones(2, 6, 6)}
  model.build(features | {"context": torch.zeros(2, 8, 64, 64, 3)})
  assert model(features).shape == (2, 6)
  assert model.reasoning_model.relational.edge_layer[0].in_features == 2 * (6 + 9)


def test_cnn_embedder_keeps_tf_same_padding_sizes():
  embedder = models.BaselineCNNEmbedder(num_latent=10, observation_shape=[64, 64, 3])
  assert embedder.embedding_dim == 4 * 4 * 64
  assert embedder(torch.rand(2, 5, 64, 64, 3)).shape == (2, 5, 1024)


def test_lecun_normal_initialisation():
  layer = models.OptimizedWildRelNet(edge_mlp=[512], graph_mlp=[2], dropout_in_last_graph_layer=0,
                                     embedding_dim=200, num_nodes=9).relational.edge_layer[0]
  weights = layer.weight.detach().numpy()
  np.testing.assert_allclose(weights.std(), math.sqrt(1. / 418), rtol=.05)
  assert np.abs(weights).max() <= 2 * math.sqrt(1. / 418) / .87962566103423978
  assert not layer.bias.detach().numpy().any()


def test_cheap_relational_sums_equal_the_edge_layer_on_every_stacked_pair():
  torch.manual_seed(0)
  net = models.OptimizedWildRelNet(edge_mlp=[16, 8], graph_mlp=[4], dropout_in_last_graph_layer=0,
                                   embedding_dim=5, num_nodes=9).double().eval()
  context, answers = torch.randn(3, 8, 5).double(), torch.randn(3, 6, 5).double()
  # The plain computation, as the original's layers: every answer's graph, every ordered pair.
  stacked = relational_layers.AddPositionalEncoding()(
      relational_layers.StackAnswers()(context, answers))
  edges = net.relational.edge_layer(relational_layers.PairwiseEdgeEmbeddings()(stacked))
  np.testing.assert_allclose(net.relational(stacked).detach().numpy(),
                             edges.sum(dim=-2).detach().numpy(), rtol=1e-12)
  reference = net.output_layer(net.graph_mlp(edges.sum(dim=(-3, -2)))).sum(dim=-1)
  assert reference.shape == (3, 6) and reference.detach().abs().min() > 1e-6
  np.testing.assert_allclose(net(context, answers).detach().numpy(),
                             reference.detach().numpy(), rtol=1e-12)


def test_pairwise_edges_and_positions():
  nodes = torch.tensor([[[1.], [2.]]])
  np.testing.assert_array_equal(relational_layers.PairwiseEdgeEmbeddings()(nodes).numpy(),
                                [[[[1, 1], [1, 2]], [[2, 1], [2, 2]]]])
  np.testing.assert_array_equal(relational_layers.AddPositionalEncoding()(nodes).numpy(),
                                [[[1, 1, 0], [2, 0, 1]]])
