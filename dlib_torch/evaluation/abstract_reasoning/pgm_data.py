"""Data sets of PGMs rendered from a ground-truth data set (gin `pgm`).

`pgm.pgm_type` is `<sampling>_<relations>` as in the original: `easy...` or
`hard...`, ending in 1, 2, 3 (relations per PGM) or `mixed` (1, 2 or 3, each
with probability 1/3). As in the original, the sampling of the wrong answers
is always `easy`: its PGMDataset keeps the strategy but never passes it on,
and the study's results were made that way.

Factors with many values are quantized (abstract_dsprites to [5, 6, 3, 3, 4,
4], shapes3d to [10, 10, 10, 4, 4, 4]), so that rules stay visible.
"""
import gin
import numpy as np

from dlib_torch.data.ground_truth import abstract_dsprites
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.data.ground_truth import ground_truth_data as gtd
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import procedural_shapes3d
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.evaluation.abstract_reasoning import pgm_utils
from dlib_torch.utils import errors

_QUANTIZATION = (
    ((abstract_dsprites.AbstractDSprites,), [5, 6, 3, 3, 4, 4]),
    ((shapes3d.Shapes3D, procedural_shapes3d.ProceduralShapes3D), [10, 10, 10, 4, 4, 4]),
)
_RELATIONS = {"1": [1., 0., 0.], "2": [0., 1., 0.], "3": [0., 0., 1.],
              "mixed": [1. / 3., 1. / 3., 1. / 3.]}


@gin.configurable("pgm")
def get_pgm_dataset(pgm_type=gin.REQUIRED):
  """The PGM data set of `dataset.name` for `pgm_type` (e.g. 'easy1', 'hard_mixed')."""
  data = named_data.get_named_ground_truth_data()
  wrapped = _quantized(data)
  sampling = next((s for s in ("easy", "hard") if str(pgm_type).startswith(s)), None)
  relations = next((d for suffix, d in _RELATIONS.items() if str(pgm_type).endswith(suffix)),
                   None)
  if sampling is None or relations is None:
    raise errors.UserError(
        "Invalid pgm.pgm_type {!r}: it starts with easy or hard and ends in 1, 2, 3 or "
        "mixed.".format(pgm_type))
  return PGMDataset(wrapped, sampling_strategy=sampling, relations_dist=relations)


def _quantized(data):
  if isinstance(data, dummy_data.DummyData):
    return data
  for classes, max_values in _QUANTIZATION:
    if isinstance(data, classes):
      return Quantizer(data, max_values)
  raise errors.UserError(
      "PGMs are defined for abstract_dsprites, shapes3d and dummy_data (and their "
      "procedural versions), not for {}.".format(type(data).__name__))


class PGMDataset:
  """Draws PGM instances (images and factors) from a GroundTruthData."""

  def __init__(self, ground_truth_data, sampling_strategy, relations_dist):
    self.ground_truth_data = ground_truth_data
    self.sampling_strategy = sampling_strategy  # kept, not used: see the module doc
    self.relations_dist = relations_dist

  def sample(self, random_state):
    """One PGMInstance; draws in the original's order (rules, images, answer position)."""
    num_relations = 1 + random_state.choice(len(self.relations_dist), p=self.relations_dist)
    pgm = pgm_utils.PGM(random_state, num_relations, self.ground_truth_data.factors_num_values)
    render = self.ground_truth_data.sample_observations_from_factors
    solution = np.array([render(row, random_state) for row in pgm.matrix])
    alternatives = render(pgm.other_solutions, random_state)
    position = random_state.choice(len(alternatives) + 1)
    return PGMInstance(solution, alternatives, position, pgm.matrix, pgm.other_solutions,
                       self.ground_truth_data.factors_num_values)

  def batches(self, seed, batch_size, num_batches=None):
    """Yields (features, labels) batches of training samples, as the original's input_fn.

    The stream restarts from RandomState(seed); features is a dict of stacked
    arrays (the keys of PGMInstance.training_sample), labels int64 [batch_size].
    """
    random_state = np.random.RandomState(seed)
    done = 0
    while num_batches is None or done < num_batches:
      samples = [self.sample(random_state).training_sample() for _ in range(batch_size)]
      features = {key: np.stack([f[key] for f, _ in samples]) for key in samples[0][0]}
      yield features, np.array([label for _, label in samples], dtype=np.int64)
      done += 1


class PGMInstance:
  """A PGM's images, its wrong answers and where the right answer goes among them."""

  def __init__(self, solution, alternatives, position, solution_factors=None,
               alternatives_factors=None, num_factor_values=None):
    self.solution = solution
    self.alternatives = alternatives
    self.position = position
    self.solution_factors = solution_factors
    self.alternatives_factors = alternatives_factors
    self.num_factor_values = num_factor_values

  def get_context(self):
    """The panels but the last, row by row: float32 [rows * cols - 1, H, W, C]."""
    return _context(self.solution).astype(np.float32)

  def get_answers(self):
    """The wrong answers with the right one inserted at `position`: float32."""
    return np.insert(np.asarray(self.alternatives, dtype=np.float32), self.position,
                     self.solution[-1, -1], axis=0)

  def get_context_factor_values(self):
    return _context(self.solution_factors)

  def get_answers_factor_values(self):
    return np.insert(np.asarray(self.alternatives_factors), self.position,
                     self.solution_factors[-1, -1], axis=0)

  def range_embed_factors(self, factors):
    """Factor values mapped linearly onto [-0.5, 0.5]: float32."""
    max_values = np.array(self.num_factor_values, dtype=np.float32) - 1.
    return np.array(factors, dtype=np.float32) / max_values[None, :] - .5

  def onehot_embed_factors(self, factors):
    """Factors one-hot, concatenated: float32 [n, sum(num_factor_values)]."""
    return np.concatenate([onehot(factors[:, i], num)
                           for i, num in enumerate(self.num_factor_values)],
                          axis=-1).astype(np.float32)

  def training_sample(self):
    """(features, position): panels, and the factors as values and one-hot if known."""
    sample = {"context": self.get_context(), "answers": self.get_answers()}
    if self.solution_factors is not None:
      context_factors = self.get_context_factor_values()
      answers_factors = self.get_answers_factor_values()
      sample["context_factor_values"] = self.range_embed_factors(context_factors)
      sample["answers_factor_values"] = self.range_embed_factors(answers_factors)
      sample["context_factors_onehot"] = self.onehot_embed_factors(context_factors)
      sample["answers_factors_onehot"] = self.onehot_embed_factors(answers_factors)
    return sample, self.position


def _context(grid):
  grid = np.asarray(grid)
  return grid.reshape((-1,) + grid.shape[2:])[:-1]


def onehot(indices, num_atoms):
  return np.eye(num_atoms)[indices]


class Quantizer(gtd.GroundTruthData):
  """Shows a data set with at most `max_factors[i]` values per factor.

  Quantized value v of a factor with n true values stands for the true value
  floor(v * n / max); rendering draws from the wrapped data set as it would.
  """

  def __init__(self, wrapped_ground_truth_data, max_factors):
    self.wrapped_ground_truth_data = wrapped_ground_truth_data
    self.true_num_factors = list(wrapped_ground_truth_data.factors_num_values)
    self.fake_num_factors = list(np.minimum(self.true_num_factors, max_factors))

  @property
  def observations_draw_random(self):
    return self.wrapped_ground_truth_data.observations_draw_random

  @property
  def num_factors(self):
    return self.wrapped_ground_truth_data.num_factors

  @property
  def factors_num_values(self):
    return self.fake_num_factors

  @property
  def observation_shape(self):
    return self.wrapped_ground_truth_data.observation_shape

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(size, size=num) for size in self.fake_num_factors],
                    axis=1).astype(np.int64)

  def sample_observations_from_factors(self, factors, random_state):
    translated = np.copy(factors)
    for i, (true, fake) in enumerate(zip(self.true_num_factors, self.fake_num_factors)):
      if true != fake:
        translated[:, i] = np.floor(factors[:, i] * (float(true) / float(fake)))
    return self.wrapped_ground_truth_data.sample_observations_from_factors(translated,
                                                                           random_state)
