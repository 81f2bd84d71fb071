"""Concept supervision from a data set's factors: targets, class labels, the stream.

Concept models (GlanceNet, the joint CBM) read batches of
(observations, factors, supervised flags). The ground-truth concepts g are
factors scaled to [0, 1] (value / (K - 1)); factors listed in
`one_hot_factors` become K one-hot columns instead (GlanceNets one-hot
encodes the dSprites shape). The class label y is a function of the
factors (`class_fn`). Each example is concept-supervised with probability
masking_fact / 100 (GlanceNets' `masking_fact`); the flags come from their
own random state so the observations keep the unsupervised stream's order.
"""
import gin
import numpy as np
import torch

from dlib_torch.data import factor_batches
from dlib_torch.utils import errors


def concept_targets(factors, factors_num_values, concept_factors=None, one_hot_factors=()):
  """Ground-truth concepts g [B, G] in [0, 1] from integer factors [B, F]."""
  indices = range(len(factors_num_values)) if concept_factors is None else concept_factors
  columns = []
  for index in indices:
    size = int(factors_num_values[index])
    values = factors[:, index]
    if index in one_hot_factors:
      columns.append(torch.nn.functional.one_hot(values.long(), size).to(torch.float32))
    else:
      columns.append((values.to(torch.float32) / max(size - 1, 1))[:, None])
  return torch.cat(columns, dim=1)


def num_concepts(factors_num_values, concept_factors=None, one_hot_factors=()):
  indices = range(len(factors_num_values)) if concept_factors is None else concept_factors
  return sum(int(factors_num_values[i]) if i in one_hot_factors else 1 for i in indices)


@gin.configurable("factor_class", denylist=["factors", "factors_num_values"])
def factor_class(factors, factors_num_values, factor_index=0):
  """The class is one factor's value (e.g. the dSprites shape): (labels [B], num_classes)."""
  return factors[:, factor_index].long(), int(factors_num_values[factor_index])


@gin.configurable("hyperplane_class", denylist=["factors", "factors_num_values"])
def hyperplane_class(factors, factors_num_values, weights=gin.REQUIRED):
  """A binary class: 1 iff sum_k w_k (f_k / (K_k - 1) - 1/2) < 0 (GlanceNets' dSprites task)."""
  weights = torch.as_tensor(weights, dtype=torch.float32, device=factors.device)
  if weights.shape[0] != factors.shape[1]:
    raise errors.UserError("hyperplane_class.weights needs one weight per factor ({}).".format(
        factors.shape[1]))
  scale = torch.as_tensor([max(int(k) - 1, 1) for k in factors_num_values],
                          dtype=torch.float32, device=factors.device)
  projection = (factors.to(torch.float32) / scale - 0.5) @ weights
  return (projection < 0).long(), 2


class ConceptStream:
  """Batches of (observations [B, H, W, C], factors [B, F] int64, supervised flags [B] float32)."""

  def __init__(self, data, seed, masking_fact=100.):
    self.data = data
    self.random_state = np.random.RandomState(seed)
    # The flags' own random state, derived from the seed.
    self.flag_state = np.random.RandomState((seed + 1) % 2**32)
    self.masking_fact = masking_fact
    self._factor_batches = factor_batches.FactorBatches(data)

  def get_state(self):
    return self.random_state.get_state(), self.flag_state.get_state()

  def set_state(self, state):
    self.random_state.set_state(state[0])
    self.flag_state.set_state(state[1])

  def next_batch(self, batch_size):
    rs, data = self.random_state, self.data
    # The unsupervised stream's draws: factors and rendering one sample at a
    # time (rendering batched when it draws nothing).
    if data.observations_draw_random:
      factors, observations = [], []
      for _ in range(batch_size):
        factors.append(data.sample_factors(1, rs))
        observations.append(data.sample_observations_from_factors(factors[-1], rs))
      factors, observations = np.concatenate(factors), np.concatenate(observations)
    else:
      factors = self._factor_batches.draw(batch_size, rs)
      observations = data.sample_observations_from_factors(factors, rs)
    flags = self.flag_state.uniform(size=batch_size) < self.masking_fact / 100.
    return (np.asarray(observations, dtype=np.float32), factors.astype(np.int64),
            flags.astype(np.float32))


