"""Training checkpoints: everything needed to resume a run as if it never stopped.

One file, MODEL_DIR/checkpoint/checkpoint.pt, replaced atomically, holds the
model and optimizer states, the global step, the torch generator and the
data stream's random state, the elapsed time and the gin configuration the
run was started with (a resumed run must have the same one).
"""
import os

import torch

from dlib_torch.utils import atomic_io

CHECKPOINT_DIR = "checkpoint"


def checkpoint_path(model_dir):
  return os.path.join(model_dir, CHECKPOINT_DIR, "checkpoint.pt")


def save(model_dir, state):
  """Replaces the checkpoint atomically; on a full disk the previous one is kept (WriteError)."""
  atomic_io.write_torch(checkpoint_path(model_dir), torch.save, state)


def load(model_dir):
  """The saved state, or None when the folder has no checkpoint."""
  path = checkpoint_path(model_dir)
  if not os.path.exists(path):
    return None
  # The data stream's random state is a numpy tuple, hence weights_only=False;
  # the file is our own, written by `save`.
  return torch.load(path, map_location="cpu", weights_only=False)
