"""The random draws of training: from one model's torch.Generator, or from a pack's.

Models draw their noise (the reparameterisation's eps, FactorVAE's shuffles)
through these functions. A solo run passes its torch.Generator; a packed run
(methods.unsupervised.packed_training), which computes K models in one
vmapped step, passes PackedNoise, so that every model still draws from its own
generator the same numbers, in the same order, as its solo run would.
"""
import torch


class PackedNoise:
  """The generators of a pack's models, read inside its vmapped step.

  `index` is the vmapped model index (a 0-d tensor per model): each draw is
  made once per generator, stacked, and each model takes its own row.
  """

  def __init__(self, generators, index):
    self.generators, self.index = generators, index

  def draw(self, sample, like, dtype):
    rows = torch.stack([sample(like.shape, generator=g, device=like.device, dtype=dtype)
                        for g in self.generators])
    return torch.index_select(rows, 0, self.index.reshape(1))[0]


def standard_normal(like, generator, dtype=None):
  """N(0, 1) noise shaped like the tensor `like` (and of its dtype unless given)."""
  return _draw(torch.randn, like, generator, dtype or like.dtype)


def uniform(like, generator, dtype=None):
  """U[0, 1) noise shaped like the tensor `like` (and of its dtype unless given)."""
  return _draw(torch.rand, like, generator, dtype or like.dtype)


def _draw(sample, like, generator, dtype):
  if isinstance(generator, PackedNoise):
    return generator.draw(sample, like, dtype)
  return sample(like.shape, generator=generator, device=like.device, dtype=dtype)
