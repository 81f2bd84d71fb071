"""Image helpers shared by the visualisations: grids, padding, files, animations.

Images are numpy arrays [height, width, channels] with values in [0, 1].
Layouts, file formats and pixel conversions are disentanglement_lib's: stills
truncate `value * 255` to uint8, GIF frames are rounded by imageio. Unlike the
original, `save_image` leaves the caller's array untouched, and every file is
written under a temporary name and renamed.
"""
import functools
import math
import os

from imageio import v3 as iio
import numpy as np
from PIL import Image
from scipy import stats

from dlib_torch.utils import atomic_io

_LOGO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logo.png")


def save_image(image, image_path):
  """Saves an image [height, width, {1, 3}] in [0, 1]; the format follows the extension."""
  image = np.asarray(image)
  if image.shape[2] == 1:
    image = np.repeat(image, 3, axis=2)
  pixels = (image * 255.).astype(np.uint8)
  image_format = Image.registered_extensions().get(
      os.path.splitext(image_path)[1].lower())
  atomic_io.write_with(
      image_path, lambda tmp: Image.fromarray(pixels).save(tmp, format=image_format))


def grid_save_images(images, image_path):
  """Saves the first s*s images (s = floor(sqrt(n))) as an s x s grid.

  Image k goes to column k // s and row k % s.
  """
  side_length = int(math.floor(math.sqrt(len(images))))
  columns = [np.concatenate(images[side_length * i:side_length * (i + 1)], axis=0)
             for i in range(side_length)]
  save_image(np.concatenate(columns, axis=1), image_path)


def padded_grid(images, num_rows=None, padding_px=10, value=None):
  """A grid of images, filled row by row, with padding between cells.

  Missing cells at the end are white.
  """
  images = list(images)
  num_images = len(images)
  if num_rows is None:
    num_rows = best_num_rows(num_images)
  num_cols = int(np.ceil(float(num_images) / num_rows))
  all_images = images + [np.ones_like(images[0])] * (num_rows * num_cols - num_images)
  rows = [padded_stack(all_images[i * num_cols:(i + 1) * num_cols], padding_px, 1,
                       value=value) for i in range(num_rows)]
  return padded_stack(rows, padding_px, axis=0, value=value)


def padded_stack(images, padding_px=10, axis=0, value=None):
  """Concatenates images along `axis` with padding between neighbours."""
  padding = padding_array(images[0], padding_px, axis, value=value)
  parts = [images[0]]
  for image in images[1:]:
    parts.extend([padding, image])
  return np.concatenate(parts, axis=axis)


def padding_array(image, padding_px, axis, value=None):
  """A padding block matching `image` with `padding_px` along `axis`.

  White (ones) by default, else `value` given per channel.
  """
  shape = list(image.shape)
  shape[axis] = padding_px
  if value is None:
    return np.ones(shape, dtype=image.dtype)
  if len(value) != shape[-1]:
    raise ValueError("Padding value needs one entry per channel ({}), got {}.".format(
        shape[-1], len(value)))
  shape[-1] = 1
  return np.tile(value, shape)


def best_num_rows(num_elements, max_ratio=4):
  """Number of rows that fills a grid best without being too elongated.

  From floor(sqrt(n)) down: a divisor of n wins at once; otherwise the row
  count leaving the fewest empty cells, until rows get too few (n > ratio * i^2).
  """
  best_remainder = num_elements
  best_i = None
  i = int(np.sqrt(num_elements))
  while True:
    if num_elements > max_ratio * i * i:
      return best_i
    remainder = (i - num_elements % i) % i
    if remainder == 0:
      return i
    if remainder < best_remainder:
      best_remainder = remainder
      best_i = i
    i -= 1


def pad_around(image, padding_px=10, axis=None, value=None):
  """Pads on both sides of `axis` (of both image axes when None)."""
  if axis is None:
    image = pad_around(image, padding_px, axis=0, value=value)
    axis = 1
  padding = padding_array(image, padding_px, axis, value=value)
  return np.concatenate([padding, image, padding], axis=axis)


@functools.lru_cache(maxsize=1)
def _footer():
  with Image.open(_LOGO) as logo:
    return np.array(logo.convert("RGB")) * 1.0 / 255.


def add_below(image, padding_px=10, value=None):
  """Converts to RGB and adds the logo footer, right-aligned, below the image.

  Images narrower than the logo get no footer.
  """
  if len(image.shape) == 2:
    image = np.expand_dims(image, -1)
  if image.shape[2] == 1:
    image = np.repeat(image, 3, 2)
  if image.shape[2] != 3:
    raise ValueError("Could not convert image to have three channels.")
  footer = _footer()
  missing_px = image.shape[1] - footer.shape[1]
  if missing_px < 0:
    return image
  if missing_px > 0:
    footer = np.concatenate(
        [padding_array(footer, missing_px, axis=1, value=value), footer], axis=1)
  return padded_stack([image, footer], padding_px, axis=0, value=value)


def save_animation(list_of_animated_images, image_path, fps):
  """Saves an animation (GIF) of panels laid out on a padded grid.

  `list_of_animated_images` is indexed [panel][frame]; frame t shows frame t
  of every panel.
  """
  frames = [pad_around(add_below(padded_grid(list(panels))))
            for panels in zip(*list_of_animated_images)]
  frames = [np.round(np.clip(frame, 0., 1.) * 255.).astype(np.uint8) for frame in frames]
  if all((frame == frame[..., :1]).all() for frame in frames):
    # Gray frames written as one channel: the same pixels, without the palette search
    # of RGB frames (8x faster).
    frames = [frame[..., 0] for frame in frames]
  extension = os.path.splitext(image_path)[1] or ".gif"
  atomic_io.write_with(
      image_path,
      lambda tmp: iio.imwrite(tmp, frames, extension=extension, duration=1000. / fps, loop=0))


def cycle_factor(starting_index, num_indices, num_frames):
  """Integer indices that go once up and down through 0..num_indices-1.

  Starts at `starting_index`; the end values are repeated at the turns,
  e.g. cycle_factor(1, 3, 4) == [1, 2, 1, 0].
  """
  grid = np.linspace(starting_index, starting_index + 2 * num_indices, num=num_frames,
                     endpoint=False)
  grid = np.array(np.ceil(grid), dtype=np.int64)
  grid -= np.maximum(0, 2 * grid - 2 * num_indices + 1)
  grid += np.maximum(0, -2 * grid - 1)
  return grid


def _triangle_wave(start, num_frames):
  """One cycle from `start` through [0, 1] and back, num_frames samples."""
  grid = np.linspace(start, start + 2., num=num_frames, endpoint=False)
  grid -= np.maximum(0, 2 * grid - 2)
  grid += np.maximum(0, -2 * grid)
  return grid


def cycle_gaussian(starting_value, num_frames, loc=0., scale=1.):
  """One cycle through the quantiles (0.001..0.999) of N(loc, scale^2)."""
  starting_prob = stats.norm.cdf(starting_value, loc=loc, scale=scale)
  grid = np.clip(_triangle_wave(starting_prob, num_frames), 0.001, 0.999)
  return stats.norm.ppf(grid, loc=loc, scale=scale)


def cycle_interval(starting_value, num_frames, min_val, max_val):
  """One cycle through [min_val, max_val], starting at `starting_value`."""
  starting_in_01 = (starting_value - min_val) / (max_val - min_val)
  grid = _triangle_wave(starting_in_01, num_frames)
  return grid * (max_val - min_val) + min_val
