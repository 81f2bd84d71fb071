"""The interface every ground-truth data set implements."""


class GroundTruthData:
  """A data set whose observations are rendered from discrete ground-truth factors.

  Observations are numpy arrays, NHWC, values in [0, 1]. All randomness comes
  from the `random_state` (a `np.random.RandomState`) passed in, drawn in the
  same order as disentanglement_lib so that a seed gives the same samples.
  """

  # True when `sample_observations_from_factors` draws from the random state
  # (nuisance factors, noise). Training uses it to decide whether observations
  # may be rendered a batch at a time without changing the draw order.
  observations_draw_random = True

  @property
  def num_factors(self):
    raise NotImplementedError()

  @property
  def factors_num_values(self):
    raise NotImplementedError()

  @property
  def observation_shape(self):
    raise NotImplementedError()

  def sample_factors(self, num, random_state):
    """Samples a batch of factors: int array [num, num_factors]."""
    raise NotImplementedError()

  def sample_observations_from_factors(self, factors, random_state):
    """Renders a batch of observations [num, *observation_shape] from factors."""
    raise NotImplementedError()

  def sample(self, num, random_state):
    """Samples a batch of factors and their observations."""
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    """Samples a batch of observations (factors are drawn and discarded)."""
    return self.sample(num, random_state)[1]


class StateSpaceData(GroundTruthData):
  """A data set whose factors live in a `util.SplitDiscreteStateSpace`.

  Subclasses set `factor_sizes` (all factors, exposed or not), `data_shape`
  and `state_space`; the exposed factors are sampled from the state space
  and the others (nuisance factors) are drawn when rendering.
  """

  @property
  def observations_draw_random(self):
    # Drawing a nuisance factor with one value consumes nothing.
    return any(self.factor_sizes[i] > 1 for i in self.state_space.observation_factor_indices)

  @property
  def num_factors(self):
    return self.state_space.num_latent_factors

  @property
  def observation_shape(self):
    return self.data_shape

  def sample_factors(self, num, random_state):
    return self.state_space.sample_latent_factors(num, random_state)
