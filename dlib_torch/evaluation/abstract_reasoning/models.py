"""The two-stage reasoning model: panel embeddings, then the Wild Relation Network.

As the original (a variation of WReN, Barrett et al. 2018): every panel is
embedded on its own (a CNN learned from scratch, a frozen representation,
or the true factors as values or one-hot), each answer is appended to the
eight context panels with one-hot positions, a relational network scores
each of the six candidate matrices, and a softmax cross-entropy over those
scores is the loss. Keras' initialisers are kept: lecun_normal kernels,
zero biases.

Modules are built on the first batch (`TwoStageModel.build`), when the
embedding sizes are known, as Keras builds its layers.
"""
import math

import gin
import torch
from torch import nn
from torch.nn import functional as F

from dlib_torch.evaluation.abstract_reasoning import relational_layers
from dlib_torch.methods.shared import optimizers
from dlib_torch.utils import errors
from dlib_torch.utils import torchscript_io

# Features holding the true factors, for embedding_model_class "values" and "onehot".
_FACTOR_FEATURES = {"values": ("context_factor_values", "answers_factor_values"),
                    "onehot": ("context_factors_onehot", "answers_factors_onehot")}


@gin.configurable("TwoStageModel")
class TwoStageModel(nn.Module):
  """Embedding of each panel, then reasoning on the embeddings; logits [B, answers]."""

  def __init__(self, embedding_model_class=gin.REQUIRED, reasoning_model_class=gin.REQUIRED,
               optimizer_fn=None):
    super().__init__()
    if isinstance(embedding_model_class, str) and embedding_model_class not in _FACTOR_FEATURES:
      raise errors.UserError("TwoStageModel.embedding_model_class is 'values', 'onehot' or a "
                             "class, not {!r}.".format(embedding_model_class))
    self.optimizer_fn = optimizer_fn or optimizers.adam_optimizer
    self.embedding_model_class = embedding_model_class
    self.reasoning_model_class = reasoning_model_class
    self.embedding_model = None
    self.reasoning_model = None

  def build(self, features):
    """Instantiates the embedding and reasoning models for the shapes of a feature batch."""
    if self.embedding_model_class in _FACTOR_FEATURES:
      embedding_dim = features[_FACTOR_FEATURES[self.embedding_model_class][0]].shape[-1]
    else:
      self.embedding_model = self.embedding_model_class(
          observation_shape=list(features["context"].shape[2:]))
      embedding_dim = self.embedding_model.embedding_dim
    self.reasoning_model = self.reasoning_model_class(
        embedding_dim=embedding_dim, num_nodes=features["context"].shape[1] + 1)

  def embed(self, features):
    if self.embedding_model is None:
      context_key, answers_key = _FACTOR_FEATURES[self.embedding_model_class]
      return features[context_key], features[answers_key]
    return self.embedding_model(features["context"]), self.embedding_model(features["answers"])

  def forward(self, features):
    """features: tensors as PGMInstance.training_sample's, batched; returns logits [B, answers]."""
    return self.reasoning_model(*self.embed(features))

  def make_optimizer(self):
    return self.optimizer_fn().build([p for p in self.parameters() if p.requires_grad])


def loss_and_accuracy(logits, labels):
  """Mean softmax cross-entropy, and the number of right argmax answers."""
  return F.cross_entropy(logits, labels), (logits.argmax(dim=1) == labels).sum()


@gin.configurable("BaselineCNNEmbedder")
class BaselineCNNEmbedder(nn.Module):
  """Four 4x4 stride-2 convolutions (32, 32, 64, 64 channels), flattened per panel.

  num_latent is accepted and unused, as in the original (the flattened
  feature map is the embedding).
  """

  def __init__(self, num_latent=gin.REQUIRED, observation_shape=None):
    super().__init__()
    del num_latent
    height, width, channels = observation_shape
    layers = []
    for out_channels in (32, 32, 64, 64):
      layers += [_init(nn.Conv2d(channels, out_channels, 4, stride=2)), _Activation()]
      channels, height, width = out_channels, math.ceil(height / 2), math.ceil(width / 2)
    self.cnn = nn.Sequential(*layers)
    self.embedding_dim = channels * height * width
    self.apply_each = relational_layers.MultiDimBatchApply(self._embed_images)

  def _embed_images(self, images):
    x = images.permute(0, 3, 1, 2)
    for layer in self.cnn:
      x = layer(_same_padding(x, 4, 2) if isinstance(layer, nn.Conv2d) else x)
    # Keras flattens NHWC.
    return x.permute(0, 2, 3, 1).flatten(1)

  def forward(self, panels):
    return self.apply_each(panels)


def _same_padding(x, kernel, stride):
  """TF's 'same' padding: the extra row and column, if any, at the bottom and right."""
  pads = []
  for size in (x.shape[-1], x.shape[-2]):
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    pads += [total // 2, total - total // 2]
  return F.pad(x, pads)


@gin.configurable("HubEmbedding")
class HubEmbedding(nn.Module):
  """A frozen representation: the TorchScript module of a postprocessed folder.

  hub_path is the postprocessed folder (dreason binds it to --input_dir);
  the original's was its TF-Hub module.
  """

  def __init__(self, hub_path=gin.REQUIRED, observation_shape=None):
    super().__init__()
    self.representation = torchscript_io.load_module(hub_path, "representation")
    self.representation.eval()
    for parameter in self.representation.parameters():
      parameter.requires_grad_(False)
    with torch.no_grad():
      probe = self.representation(torch.zeros([1] + list(observation_shape)))
    self.embedding_dim = probe.shape[-1]

  def forward(self, panels):
    with torch.no_grad():
      codes = self.representation(panels.reshape((-1,) + panels.shape[2:]))
    return codes.reshape(panels.shape[:2] + codes.shape[1:])


@gin.configurable("OptimizedWildRelNet")
class OptimizedWildRelNet(nn.Module):
  """WReN's reasoning: relational network over each answer's 9 panels, a score per answer.

  The dropout before the last layer draws one mask per batch (Keras'
  noise_shape [1, 1, units]) and keeps units with probability
  dropout_in_last_graph_layer, as the original.
  """

  def __init__(self, edge_mlp=gin.REQUIRED, graph_mlp=gin.REQUIRED,
               dropout_in_last_graph_layer=gin.REQUIRED, embedding_dim=None, num_nodes=9):
    super().__init__()
    self.relational = relational_layers.RelationalLayer(
        _mlp(2 * (embedding_dim + num_nodes), edge_mlp))
    self.graph_mlp = _mlp(edge_mlp[-1], graph_mlp)
    self.keep_probability = dropout_in_last_graph_layer
    self.output_layer = _init(nn.Linear(graph_mlp[-1], 1))

  def forward(self, context_embeddings, answer_embeddings):
    # Positions as AddPositionalEncoding gives them to the stacked graph: the answer is last.
    positions = torch.eye(context_embeddings.shape[-2] + 1, dtype=context_embeddings.dtype,
                          device=context_embeddings.device)
    context = torch.cat([context_embeddings,
                         positions[:-1].expand(context_embeddings.shape[:-1] + (-1,))], dim=-1)
    answers = torch.cat([answer_embeddings,
                         positions[-1].expand(answer_embeddings.shape[:-1] + (-1,))], dim=-1)
    x = self.graph_mlp(self.relational.graph_sums(context, answers))
    if self.training and self.keep_probability:
      keep = torch.rand((1, 1, x.shape[-1]), device=x.device) < self.keep_probability
      x = x * keep / self.keep_probability
    return self.output_layer(x).sum(dim=-1)


def _mlp(in_features, sizes):
  layers = []
  for size in sizes:
    layers += [_init(nn.Linear(in_features, size)), _Activation()]
    in_features = size
  return nn.Sequential(*layers)


class _Activation(nn.Module):
  """The configured activation (gin `activation.activation`), looked up when built."""

  def __init__(self):
    super().__init__()
    self.negative_slope = 0.2 if get_activation() == "lrelu" else 0.

  def forward(self, x):
    return F.leaky_relu(x, self.negative_slope)


@gin.configurable("activation")
def get_activation(activation="relu"):
  """'relu' (the default) or 'lrelu' (slope 0.2), as the original's choices."""
  if activation not in ("relu", "lrelu"):
    raise errors.UserError("activation.activation is 'relu' or 'lrelu', not {!r}.".format(
        activation))
  return activation


@gin.configurable("kernel_initializer")
def get_kernel_initializer(kernel_initializer="lecun_normal"):
  """'lecun_normal' (the default) or 'glorot_uniform', Keras' kernel initialisers."""
  if kernel_initializer not in _INITIALIZERS:
    raise errors.UserError("kernel_initializer.kernel_initializer is one of {}, not {!r}.".format(
        ", ".join(sorted(_INITIALIZERS)), kernel_initializer))
  return kernel_initializer


def _lecun_normal(weight):
  fan_in = weight[0].numel()
  # Keras: a normal truncated at two deviations, scaled to keep variance 1 / fan_in.
  std = math.sqrt(1. / fan_in) / .87962566103423978
  nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


_INITIALIZERS = {"lecun_normal": _lecun_normal, "glorot_uniform": nn.init.xavier_uniform_}


def _init(layer):
  _INITIALIZERS[get_kernel_initializer()](layer.weight)
  nn.init.zeros_(layer.bias)
  return layer
