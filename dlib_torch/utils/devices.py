"""Choosing the torch device and numeric precision of a run."""
import contextlib

import torch

from dlib_torch.utils import errors

PRECISIONS = ("float32", "bf16")


def resolve_device(name="auto"):
  """"auto" picks CUDA when present, else CPU; anything else is used as given."""
  if name in (None, "", "auto"):
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
  try:
    device = torch.device(name)
  except RuntimeError as e:
    raise errors.UserError("Unknown device {!r}.".format(name)) from e
  if device.type == "cuda" and not torch.cuda.is_available():
    raise errors.UserError("Device {!r} requested but CUDA is not available.".format(name))
  return device


def autocast(device, precision):
  """A context that runs the forward pass in bf16 when asked; float32 otherwise."""
  if precision not in PRECISIONS:
    raise errors.UserError("Unknown precision {!r}; use one of {}.".format(
        precision, ", ".join(PRECISIONS)))
  if precision == "bf16":
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
  return contextlib.nullcontext()
