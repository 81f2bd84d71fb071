"""abstract_dsprites: dSprites in colour for the abstract-reasoning study.

van Steenkiste et al. 2019 drop orientation (a nuisance factor, drawn when
rendering) and colour the sprite and the background from fixed palettes.
Factors: background colour (5), object colour (6), shape (3), scale (6),
position x (32), position y (32); 64x64x3.
"""
import numpy as np

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import procedural_dsprites

# The original's palettes (dsprites.py there), value for value.
OBJECT_COLORS = np.array(
    [[0.9096231780824386, 0.5883403686424795, 0.3657680693481871],
     [0.6350181801577739, 0.6927729880940552, 0.3626904230371999],
     [0.3764832455369271, 0.7283900430001952, 0.5963114605342514],
     [0.39548987063404156, 0.7073922557810771, 0.7874577552076919],
     [0.6963644829189117, 0.6220697032672371, 0.899716387820763],
     [0.90815966835861, 0.5511103319168646, 0.7494337214212151]])
BACKGROUND_COLORS = np.array([[0., 0., 0.], [.25, .25, .25], [.5, .5, .5],
                              [.75, .75, .75], [1., 1., 1.]])


class AbstractDSprites(dsprites.DSprites):
  """Two colour factors in front of dSprites' shape, scale and position; float64."""

  def __init__(self, sprites=None):
    dsprites.DSprites.__init__(self, [1, 2, 4, 5], sprites)
    self.data_shape = [64, 64, 3]

  @property
  def num_factors(self):
    return 2 + self.state_space.num_latent_factors

  @property
  def factors_num_values(self):
    return [len(BACKGROUND_COLORS), len(OBJECT_COLORS)] + dsprites.DSprites.factors_num_values.fget(
        self)

  def sample_factors(self, num, random_state):
    # Draw order as the original: background colours, object colours, then the sprite.
    background = random_state.randint(len(BACKGROUND_COLORS), size=num)
    foreground = random_state.randint(len(OBJECT_COLORS), size=num)
    sprite = self.state_space.sample_latent_factors(num, random_state)
    return np.concatenate([np.stack([background, foreground], axis=1).astype(np.int64), sprite],
                          axis=-1)

  def sample_observations_from_factors(self, factors, random_state):
    factors = np.asarray(factors)
    mask = self.sample_observations_from_factors_no_color(factors[:, 2:], random_state)
    background = BACKGROUND_COLORS[factors[:, 0]][:, None, None, :]
    foreground = OBJECT_COLORS[factors[:, 1]][:, None, None, :]
    return mask * foreground + (1. - mask) * background


@named_data.register("abstract_dsprites",
                     "dSprites with coloured sprite and background (abstract reasoning), 64x64x3")
def abstract_dsprites():
  return AbstractDSprites()


@named_data.register("procedural_abstract_dsprites",
                     "abstract_dsprites on procedural sprites (no file)")
def procedural_abstract_dsprites():
  return AbstractDSprites(sprites=procedural_dsprites.SpriteRenderer())
