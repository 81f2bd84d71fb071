"""Seeding the process-wide generators a step draws from without being handed one.

The original's metrics fit scikit-learn estimators that draw from numpy's
global generator, and sampled representations draw from torch's: their
values then depended on whatever ran earlier in the process (other metrics,
a resumed run). Each step seeds both from its own seed first, so a result
depends only on its configuration and seed.
"""
import contextlib

import numpy as np
import torch


def seed_global_generators(seed):
  """Seeds numpy's and torch's global generators from `seed` (any integer)."""
  np.random.seed(seed % 2**32)
  torch.manual_seed(seed)


@contextlib.contextmanager
def numpy_global_seed(seed):
  """Runs the body with numpy's global generator seeded, then restores the caller's state."""
  state = np.random.get_state()
  np.random.seed(seed % 2**32)
  try:
    yield
  finally:
    np.random.set_state(state)
