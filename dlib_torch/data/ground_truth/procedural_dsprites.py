"""dSprites rendered by our own code: no files needed.

`procedural_dsprites` has the factors, sizes, draw order and output format of
`dsprites_full`: shape (3: square, ellipse, heart), scale (6, 0.5..1),
orientation (40, linspace(0, 2*pi, 40) as the real set, so the first and last
coincide), position x (32) and position y (32); 64x64x1 binary float32 images.
The same seed draws the same factors as `dsprites_full`, and rendering draws
nothing. The colour, noisy and scream variants apply the original's
processing (and draws) to these masks.

How it differs from the real dSprites:
* The sprites are drawn here (binary, sampled at pixel centres), so pixels
  differ from the real images; the shapes' proportions are close, not equal.
  At scale 1 the square's side is 17.7 px, the ellipse 25 x 11.5 px and the
  heart about 21 px wide; all fit a 25 px circle, scaled down to half at 0.5.
* Centres run from 12.6 to 51.4 px in steps of 1.25 px in both directions
  (position x moves right, position y moves down), spanning the image as in
  the real set, so that every sprite stays inside the image.
* Orientation rotates every shape by the same angle (counter-clockwise); the
  real set does too, so the square and ellipse repeat with their symmetry.
* `procedural_scream_dsprites` uses a smooth procedural colour texture of
  the size the original gets from The Scream (274 x 213 px) instead of the
  painting; crops, colour shift and inversion are the original's.
"""
import numpy as np

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import named_data

_PATCH = 32  # Side of the square patch a sprite is drawn in.
_RADIUS = 12.5  # Pixels: every shape at scale 1 fits a circle of this radius.
_STEP = 1.25  # Pixels between neighbouring positions.
_SCREAM_SHAPE = (274, 213)


def _inside(shape, u, v):
  """Whether points (u right, v up, unit disk) lie inside a unit-size shape."""
  if shape == 0:  # Square.
    return np.maximum(np.abs(u), np.abs(v)) <= 0.5 ** 0.5
  if shape == 1:  # Ellipse, long axis horizontal.
    return (u / 1.0) ** 2 + (v / 0.46) ** 2 <= 1.
  # Heart: (x^2 + y^2 - 1)^3 <= x^2 y^3, lobes up, centred on the unit disk.
  x, y = 1.33 * u, 1.33 * v + 0.12
  return (x * x + y * y - 1.) ** 3 <= x * x * y ** 3


def _centres():
  """Sprite centres in pixels per position index, and their fractional parts."""
  centres = 32. + _STEP * (np.arange(32) - 15.5)
  phases, phase_index = np.unique(centres % 1., return_inverse=True)
  return centres, phases, phase_index


def _render_patches(phases):
  """All sprites, uint8 [shape, scale, orientation, y phase, x phase, P, P].

  A patch's pixel centres lie at k + 0.5 - P/2 - phase from the sprite centre,
  `phase` being the fractional part of the centre's coordinate.
  """
  scales = np.linspace(0.5, 1., 6)
  angles = np.linspace(0., 2. * np.pi, 40)
  k = np.arange(_PATCH) + 0.5 - _PATCH / 2
  offsets = k[None, :] - phases[:, None]
  # dy, dx: [y phase, x phase, P, P], pixel offsets (down, right) from the centre.
  dy = offsets[:, None, :, None]
  dx = offsets[None, :, None, :]
  patches = np.zeros((3, 6, 40, len(phases), len(phases), _PATCH, _PATCH), dtype=np.uint8)
  for a, angle in enumerate(angles):
    cos, sin = np.cos(angle), np.sin(angle)
    # Rotate the pixel grid by -angle to rotate the shape by +angle.
    u = cos * dx - sin * dy
    v = -sin * dx - cos * dy
    for s, scale in enumerate(scales):
      size = _RADIUS * scale
      for shape in range(3):
        patches[shape, s, a] = _inside(shape, u / size, v / size)
  return patches


class SpriteRenderer:
  """Draws dSprites masks for full factor rows (the six file factors)."""

  factor_sizes = np.array(dsprites.FULL_FACTOR_SIZES, dtype=np.int64)

  def __init__(self):
    centres, phases, self._phase = _centres()
    self._patches = _render_patches(phases)
    # Patch origin per position index on a canvas padded by P/2 on each side.
    self._origin = np.floor(centres).astype(np.int64)
    self._rows = np.arange(_PATCH)

  def masks(self, all_factors):
    """Binary masks uint8 [n, 64, 64]."""
    all_factors = np.asarray(all_factors)
    n = all_factors.shape[0]
    pos_x, pos_y = all_factors[:, 4], all_factors[:, 5]
    patches = self._patches[all_factors[:, 1], all_factors[:, 2], all_factors[:, 3],
                            self._phase[pos_y], self._phase[pos_x]]
    pad = _PATCH // 2
    canvas = np.zeros((n, 64 + 2 * pad, 64 + 2 * pad), dtype=np.uint8)
    rows = self._origin[pos_y][:, None, None] + self._rows[None, :, None]
    cols = self._origin[pos_x][:, None, None] + self._rows[None, None, :]
    canvas[np.arange(n)[:, None, None], rows, cols] = patches
    return canvas[:, pad:pad + 64, pad:pad + 64]


def scream_texture():
  """A smooth, swirling colour texture [274, 213, 3] in [0, 1] (float64)."""
  rows, cols = np.meshgrid(np.arange(_SCREAM_SHAPE[0]) / 274.,
                           np.arange(_SCREAM_SHAPE[1]) / 274., indexing="ij")
  swirl = np.sin(9. * rows + 4. * np.sin(6. * cols)) + np.cos(7. * cols - 3. * np.cos(5. * rows))
  channels = [0.5 + 0.5 * np.sin(swirl * 1.7 + phase + 2. * rows) for phase in (0., 2.1, 4.2)]
  return np.stack(channels, axis=-1)


@named_data.register("procedural_dsprites", "dSprites drawn by dlib_torch (no file), 64x64x1")
def procedural_dsprites():
  return dsprites.DSprites([1, 2, 3, 4, 5], sprites=SpriteRenderer())


@named_data.register("procedural_color_dsprites", "color_dsprites on procedural sprites (no file)")
def procedural_color_dsprites():
  return dsprites.ColorDSprites([1, 2, 3, 4, 5], sprites=SpriteRenderer())


@named_data.register("procedural_noisy_dsprites", "noisy_dsprites on procedural sprites (no file)")
def procedural_noisy_dsprites():
  return dsprites.NoisyDSprites([1, 2, 3, 4, 5], sprites=SpriteRenderer())


@named_data.register("procedural_scream_dsprites",
                     "scream_dsprites on procedural sprites and texture (no file)")
def procedural_scream_dsprites():
  return dsprites.ScreamDSprites([1, 2, 3, 4, 5], sprites=SpriteRenderer(),
                                 scream=scream_texture())
