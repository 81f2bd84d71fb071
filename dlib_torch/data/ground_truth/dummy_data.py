"""Data sets for tests: pure noise with random factors, and factors as observations."""

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data


class IdentityObservationsData(ground_truth_data.GroundTruthData):
  """The observations are the factors themselves (10 factors, values 1..10)."""

  observations_draw_random = False

  @property
  def num_factors(self):
    return 10

  @property
  def observation_shape(self):
    return 10

  @property
  def factors_num_values(self):
    # As the original: inconsistent with the sampled values, kept for parity.
    return [1] * 10

  @property
  def factor_names(self):
    return ["Factor {}".format(i) for i in range(10)]

  def sample_factors(self, num, random_state):
    # randint(1, 11) draws exactly what the original's random_integers(10) drew.
    return random_state.randint(1, 11, size=(num, self.num_factors))

  def sample_observations_from_factors(self, factors, random_state):
    return factors


@named_data.register("dummy_data", "10 factors of 5 values; observations are 64x64x1 noise")
class DummyData(ground_truth_data.GroundTruthData):
  """10 factors with 5 values each; observations are noise independent of them."""

  @property
  def num_factors(self):
    return 10

  @property
  def factors_num_values(self):
    return [5] * 10

  @property
  def observation_shape(self):
    return [64, 64, 1]

  def sample_factors(self, num, random_state):
    return random_state.randint(5, size=(num, self.num_factors))

  def sample_observations_from_factors(self, factors, random_state):
    return random_state.random_sample(size=(factors.shape[0], 64, 64, 1))
