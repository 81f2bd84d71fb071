"""Optimizers bound by the original's TF names, mapped onto torch.optim.

The original's gin files bind TF1 optimizer classes (`@vae/AdamOptimizer`
with `beta1`, `beta2`, `epsilon`, `learning_rate`) and TF decay functions
(`@exponential_decay`, `@piecewise_constant`). Here each name is a gin
configurable returning a `OptimizerSpec`; `vae_optimizer` and
`discriminator_optimizer` turn it into a torch optimizer for given
parameters. The learning rate may be a schedule: a function of the global
step, applied before every update by `set_learning_rate`.

Adam: TF adds epsilon to the uncorrected sqrt(v) where torch adds it to the
bias-corrected one; with the study's epsilon of 1e-8 the difference is
below float32 resolution of the updates, so torch.optim.Adam is used as is.
"""
import dataclasses
from typing import Any, Dict

import gin
import torch

from dlib_torch.utils import errors


@dataclasses.dataclass
class OptimizerSpec:
  """A torch optimizer class, its arguments, and a (possibly scheduled) rate."""
  optimizer_class: Any
  kwargs: Dict[str, Any]
  learning_rate: Any  # a float, or a function global_step -> float

  def __post_init__(self):
    if not callable(self.learning_rate):
      errors.check_positive_number("learning_rate", self.learning_rate)

  def build(self, params):
    return self.optimizer_class(params, lr=self.rate_at(0), **self.kwargs)

  def rate_at(self, global_step):
    rate = self.learning_rate
    return float(rate(global_step)) if callable(rate) else float(rate)


def set_learning_rate(optimizer, spec, global_step):
  """Applies the spec's learning rate for this global step (schedules only)."""
  if callable(spec.learning_rate):
    for group in optimizer.param_groups:
      group["lr"] = spec.rate_at(global_step)


@gin.configurable("AdamOptimizer")
def adam_optimizer(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                   use_locking=False, name="Adam"):
  del use_locking, name  # TF graph options without a torch meaning.
  # The fused kernel computes the same update in one pass (tens of times faster
  # than the per-tensor loop on CPU).
  return OptimizerSpec(torch.optim.Adam, {"betas": (beta1, beta2), "eps": epsilon,
                                          "fused": True}, learning_rate)


@gin.configurable("GradientDescentOptimizer")
def gradient_descent_optimizer(learning_rate=gin.REQUIRED, use_locking=False,
                               name="GradientDescent"):
  del use_locking, name
  return OptimizerSpec(torch.optim.SGD, {}, learning_rate)


@gin.configurable("MomentumOptimizer")
def momentum_optimizer(learning_rate=gin.REQUIRED, momentum=gin.REQUIRED, use_locking=False,
                       name="Momentum", use_nesterov=False):
  del use_locking, name
  return OptimizerSpec(torch.optim.SGD, {"momentum": momentum, "nesterov": use_nesterov},
                       learning_rate)


@gin.configurable("RMSPropOptimizer")
def rmsprop_optimizer(learning_rate=gin.REQUIRED, decay=0.9, momentum=0.0, epsilon=1e-10,
                      use_locking=False, centered=False, name="RMSProp"):
  del use_locking, name
  return OptimizerSpec(torch.optim.RMSprop, {"alpha": decay, "momentum": momentum,
                                             "eps": epsilon, "centered": centered},
                       learning_rate)


@gin.configurable("exponential_decay", denylist=["global_step"])
def exponential_decay(global_step, learning_rate=gin.REQUIRED, decay_steps=gin.REQUIRED,
                      decay_rate=gin.REQUIRED, staircase=False):
  exponent = global_step / decay_steps
  if staircase:
    exponent = global_step // decay_steps
  return learning_rate * decay_rate ** exponent


@gin.configurable("piecewise_constant", denylist=["x"])
def piecewise_constant(x, boundaries=gin.REQUIRED, values=gin.REQUIRED):
  """values[i] while x <= boundaries[i], as TF's piecewise_constant."""
  for boundary, value in zip(boundaries, values):
    if x <= boundary:
      return value
  return values[-1]


def _make_optimizer(optimizer_fn, learning_rate) -> OptimizerSpec:
  if learning_rate is None:
    return optimizer_fn()
  # A float, or a decay function of the global step applied before each update.
  return optimizer_fn(learning_rate=learning_rate)


@gin.configurable("vae_optimizer")
def make_vae_optimizer(optimizer_fn=gin.REQUIRED, learning_rate=None):
  """The spec of the optimizer of the VAE's encoder and decoder."""
  return _make_optimizer(optimizer_fn, learning_rate)


@gin.configurable("discriminator_optimizer")
def make_discriminator_optimizer(optimizer_fn=gin.REQUIRED, learning_rate=None):
  """The spec of the optimizer of the FactorVAE discriminator."""
  return _make_optimizer(optimizer_fn, learning_rate)
