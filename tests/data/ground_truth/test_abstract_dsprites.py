"""abstract_dsprites: the original's factors, palettes and draw order, on procedural sprites."""
import numpy as np

from dlib_torch.data.ground_truth import abstract_dsprites
from dlib_torch.data.ground_truth import named_data


def test_factors_and_colours():
  data = named_data.get_named_ground_truth_data("procedural_abstract_dsprites")
  assert data.factors_num_values == [5, 6, 3, 6, 32, 32]
  assert data.observation_shape == [64, 64, 3]
  factors, images = data.sample(20, np.random.RandomState(0))
  assert factors.shape == (20, 6)
  for factor, image in zip(factors, images):
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert colours == {tuple(abstract_dsprites.BACKGROUND_COLORS[factor[0]]),
                       tuple(abstract_dsprites.OBJECT_COLORS[factor[1]])}


def test_draw_order_is_colours_then_sprite():
  data = named_data.get_named_ground_truth_data("procedural_abstract_dsprites")
  factors = data.sample_factors(4, np.random.RandomState(1))
  expected = np.random.RandomState(1)
  np.testing.assert_array_equal(factors[:, 0], expected.randint(5, size=4))
  np.testing.assert_array_equal(factors[:, 1], expected.randint(6, size=4))
  np.testing.assert_array_equal(factors[:, 2:],
                                data.state_space.sample_latent_factors(4, expected))
