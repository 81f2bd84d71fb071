"""The random draws of training: from one model's torch.Generator, or from a pack's.

Models draw their noise (the reparameterisation's eps, FactorVAE's shuffles)
through these functions. A solo run passes its torch.Generator; a packed run
(methods.unsupervised.batched_pack), which computes K models in one
vmapped step, passes PackedNoise or Predrawn, so that every model still draws
from its own generator the same numbers, in the same order, as its solo run
would.
"""
import torch


class PackedNoise:
  """The generators of a pack's models, read inside its vmapped step.

  `index` is the vmapped model index (a 0-d tensor per model): each draw is
  made once per generator, stacked, and each model takes its own row. Given
  a list `plan`, each draw's (sampler, shape, dtype) is appended to it: the
  plan by which later steps draw their noise before the step (Predrawn).
  """

  def __init__(self, generators, index, plan=None):
    self.generators, self.index, self.plan = generators, index, plan

  def draw(self, sample, like, dtype):
    if self.plan is not None:
      self.plan.append((sample, tuple(like.shape), dtype))
    rows = torch.stack([sample(like.shape, generator=g, device=like.device, dtype=dtype)
                        for g in self.generators])
    return torch.index_select(rows, 0, self.index.reshape(1))[0]


def draw_plan(plan, generators, device):
  """A step's draws by the plan (PackedNoise's), one [K, ...] tensor per draw; each
  generator makes the draws in the plan's order, as PackedNoise would in the step."""
  return tuple(torch.stack([sample(shape, generator=g, device=device, dtype=dtype)
                            for g in generators])
               for sample, shape, dtype in plan)


class Predrawn:
  """One model's draws of a step, made before it (draw_plan's rows, vmapped), handed out
  in the plan's order: the step draws nothing itself, so torch.compile can trace it."""

  def __init__(self, plan, draws):
    self.plan, self.draws, self.position = plan, draws, 0

  def draw(self, sample, like, dtype):
    found = (sample.__name__, tuple(like.shape), dtype)
    if self.position == len(self.plan):
      raise RuntimeError("The step's draw {} is beyond its plan's {} draws.".format(
          found, len(self.plan)))
    expected = self.plan[self.position]
    if expected != (sample, found[1], dtype):
      raise RuntimeError("The step's draw {} differs from its plan's {}: a step's draws must "
                         "not depend on its values.".format(
                             found, (expected[0].__name__,) + expected[1:]))
    self.position += 1
    return self.draws[self.position - 1]

  def check_all_drawn(self):
    if self.position != len(self.plan):
      raise RuntimeError("The step made {} of its plan's {} draws.".format(
          self.position, len(self.plan)))


def standard_normal(like, generator, dtype=None):
  """N(0, 1) noise shaped like the tensor `like` (and of its dtype unless given)."""
  return _draw(torch.randn, like, generator, dtype or like.dtype)


def uniform(like, generator, dtype=None):
  """U[0, 1) noise shaped like the tensor `like` (and of its dtype unless given)."""
  return _draw(torch.rand, like, generator, dtype or like.dtype)


def _draw(sample, like, generator, dtype):
  if isinstance(generator, (PackedNoise, Predrawn)):
    return generator.draw(sample, like, dtype)
  return sample(like.shape, generator=generator, device=like.device, dtype=dtype)
