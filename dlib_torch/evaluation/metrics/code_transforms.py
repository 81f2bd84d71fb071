"""Elementwise maps from a representation's codes to concept values.

GlanceNet's concepts are tanh(z / 2) of its latents and its leakage and
CelebA analyses read sigmoid(z); the concept metrics can apply either to the
codes a representation function returns. Monotone per-code maps leave
tree-based importances unchanged, but not linear fits.
"""
import numpy as np

from dlib_torch.utils import errors

CODE_TRANSFORMS = {
    "none": lambda codes: codes,
    "sigmoid": lambda codes: 1. / (1. + np.exp(-codes)),
    # tanh(z / 2) = 2 * sigmoid(z) - 1.
    "tanh_half": lambda codes: np.tanh(codes / 2.),
}


def transform_codes(codes, name):
  """Applies the named map to codes (float64 result)."""
  if name not in CODE_TRANSFORMS:
    raise errors.UserError("Unknown code transform {!r}; known: {}.".format(
        name, ", ".join(sorted(CODE_TRANSFORMS))))
  return CODE_TRANSFORMS[name](np.asarray(codes, dtype=np.float64))
