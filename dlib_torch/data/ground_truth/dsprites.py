"""dSprites and its variants (color, noisy, scream), as in disentanglement_lib.

The six factors of the file are color (1 value), shape (3), scale (6),
orientation (40), position x (32) and position y (32). Factors not listed in
`latent_factor_indices` are nuisance factors, drawn at random when rendering.

Each class takes an optional `sprites` source of binary masks; by default the
masks are the images of `<data>/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`,
whose factor sizes are read from its metadata (`latents_sizes`) as the original
does. `procedural_dsprites` passes a renderer instead, so the variants'
processing and draw order are shared.
"""
import numpy as np
from PIL import Image

from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import util

DSPRITES_FILE = ("dsprites", "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz")
SCREAM_FILE = ("scream", "scream.jpg")
FULL_FACTOR_SIZES = [1, 3, 6, 40, 32, 32]
# Names that `ddownload` takes for these files.
DSPRITES_DOWNLOAD_NAME = "dsprites"
SCREAM_DOWNLOAD_NAME = "scream"


class DSpritesFile:
  """The binary sprite masks of the dSprites npz, bit-packed and memory-mapped.

  The first use packs `imgs` (3 GB as uint8) to one bit per pixel (377 MB),
  saved beside the npz as `<npz>.imgs_bits.npy` (or in the user cache if
  that folder is read-only); later runs map that file.
  """

  download_name = DSPRITES_DOWNLOAD_NAME

  def __init__(self):
    path = files.data_path(*DSPRITES_FILE)
    data = files.load_npz(path, self.download_name, ["imgs", "metadata"],
                          encoding="latin1", allow_pickle=True)
    with data:
      metadata = files.read_npz_member(path, self.download_name, data, "metadata")
    try:
      sizes = np.array(metadata[()]["latents_sizes"], dtype=np.int64)
    except Exception as e:  # pylint: disable=broad-except
      raise files.bad_file(path, self.download_name,
                           "has no metadata['latents_sizes']") from e
    files.check_array(path, self.download_name, "latents_sizes", sizes, shape=[6])
    self.factor_sizes = sizes
    shape, dtype = files.npz_member_header(path, self.download_name, "imgs")
    files.check_layout(path, self.download_name, "imgs", shape, dtype,
                       shape=[int(np.prod(sizes)), 64, 64], dtype=np.uint8)
    self.bits = files.cached_array(
        files.extraction_path(path, "imgs_bits"), [path],
        lambda: files.transform_npz_member(path, self.download_name, "imgs",
                                           lambda rows: np.packbits(rows, axis=-1)))
    self.factor_bases = np.prod(sizes) / np.cumprod(sizes)

  def masks(self, all_factors):
    """Sprite masks uint8 [n, 64, 64] (values 0 and 1) for full factor rows."""
    indices = np.array(np.dot(all_factors, self.factor_bases), dtype=np.int64)
    return np.unpackbits(self.bits[indices], axis=-1)


class DSprites(ground_truth_data.StateSpaceData):
  """dSprites: a white sprite on black, 64x64x1, float32.

  Exposed factors (dsprites_full): shape (3), scale (6), orientation (40),
  position x (32), position y (32).
  """

  def __init__(self, latent_factor_indices=None, sprites=None):
    if latent_factor_indices is None:
      latent_factor_indices = list(range(6))
    self.latent_factor_indices = latent_factor_indices
    self.data_shape = [64, 64, 1]
    self.sprites = DSpritesFile() if sprites is None else sprites
    self.factor_sizes = self.sprites.factor_sizes
    self.full_factor_sizes = FULL_FACTOR_SIZES
    self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes,
                                                    self.latent_factor_indices)

  @property
  def factors_num_values(self):
    # As the original: the nominal sizes, even if the file's differ.
    return [self.full_factor_sizes[i] for i in self.latent_factor_indices]

  def sample_observations_from_factors(self, factors, random_state):
    return self.sample_observations_from_factors_no_color(factors, random_state)

  def sample_observations_from_factors_no_color(self, factors, random_state):
    """Binary sprites [n, 64, 64, 1] float32; draws the nuisance factors."""
    all_factors = self.state_space.sample_all_factors(factors, random_state)
    return np.expand_dims(self.sprites.masks(all_factors).astype(np.float32), axis=3)


class ColorDSprites(DSprites):
  """The sprite in one random colour per image (each channel in [0.5, 1)); float64."""

  observations_draw_random = True

  def __init__(self, latent_factor_indices=None, sprites=None):
    DSprites.__init__(self, latent_factor_indices, sprites)
    self.data_shape = [64, 64, 3]

  def sample_observations_from_factors(self, factors, random_state):
    masks = self.sample_observations_from_factors_no_color(factors, random_state)
    color = random_state.uniform(0.5, 1, [masks.shape[0], 1, 1, 3])
    return np.repeat(masks, 3, axis=3) * color


class NoisyDSprites(DSprites):
  """A white sprite over uniform noise in every pixel and channel; float64."""

  observations_draw_random = True

  def __init__(self, latent_factor_indices=None, sprites=None):
    DSprites.__init__(self, latent_factor_indices, sprites)
    self.data_shape = [64, 64, 3]

  def sample_observations_from_factors(self, factors, random_state):
    masks = self.sample_observations_from_factors_no_color(factors, random_state)
    noise = random_state.uniform(0, 1, [masks.shape[0], 64, 64, 3])
    return np.minimum(np.repeat(masks, 3, axis=3) + noise, 1.)


class ScreamDSprites(DSprites):
  """The sprite inverts a random, colour-shifted crop of The Scream; float32.

  `scream` is the background image [H, W, 3] in [0, 1]; by default it is
  `<data>/scream/scream.jpg` shrunk to fit 350x274 as the original does.
  """

  observations_draw_random = True

  def __init__(self, latent_factor_indices=None, sprites=None, scream=None):
    DSprites.__init__(self, latent_factor_indices, sprites)
    self.data_shape = [64, 64, 3]
    self.scream = load_scream() if scream is None else scream

  def sample_observations_from_factors(self, factors, random_state):
    masks = self.sample_observations_from_factors_no_color(factors, random_state)
    observations = np.repeat(masks, 3, axis=3)
    height, width = self.scream.shape[:2]
    for i in range(observations.shape[0]):
      # Draw order per image as the original: row, column, colour shift.
      x_crop = random_state.randint(0, height - 64)
      y_crop = random_state.randint(0, width - 64)
      background = (self.scream[x_crop:x_crop + 64, y_crop:y_crop + 64] +
                    random_state.uniform(0, 1, size=3)) / 2.
      mask = observations[i] == 1
      background[mask] = 1 - background[mask]
      observations[i] = background
    return observations


def load_scream():
  """The Scream, shrunk to fit 350x274 (aspect kept), float64 in [0, 1]."""
  path = files.require_file(files.data_path(*SCREAM_FILE), SCREAM_DOWNLOAD_NAME)
  try:
    with Image.open(path) as image:
      image = image.convert("RGB")
      # The original passed (350, 274, 3); Pillow now takes only (w, h).
      image.thumbnail((350, 274))
      scream = np.array(image) * 1. / 255.
  except (OSError, ValueError) as e:
    raise files.bad_file(path, SCREAM_DOWNLOAD_NAME,
                         "is not a readable image ({})".format(e)) from e
  if scream.shape[0] <= 64 or scream.shape[1] <= 64:
    raise files.bad_file(path, SCREAM_DOWNLOAD_NAME,
                         "is too small ({}x{})".format(*scream.shape[:2]))
  return scream


@named_data.register("dsprites_full",
                     "dSprites: 5 factors (shape, scale, orientation, x, y), 64x64x1")
def dsprites_full():
  return DSprites([1, 2, 3, 4, 5])


@named_data.register("dsprites_noshape",
                     "dSprites without the shape factor (drawn at random), 64x64x1")
def dsprites_noshape():
  return DSprites([2, 3, 4, 5])


@named_data.register("color_dsprites", "dSprites in a random colour per image, 64x64x3")
def color_dsprites():
  return ColorDSprites([1, 2, 3, 4, 5])


@named_data.register("noisy_dsprites", "dSprites over uniform noise, 64x64x3")
def noisy_dsprites():
  return NoisyDSprites([1, 2, 3, 4, 5])


@named_data.register("scream_dsprites", "dSprites inverting a crop of The Scream, 64x64x3")
def scream_dsprites():
  return ScreamDSprites([1, 2, 3, 4, 5])

