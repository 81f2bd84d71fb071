"""A batch of factors drawn in one call is the original's one-sample-at-a-time draw."""
import numpy as np
import pytest

from dlib_torch.data import factor_batches
from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import named_data

# The data sets that need no files; between them every sample_factors of the file sets
# (state spaces, the leakage train pool, abstract dSprites' colours).
OFFLINE = ["dummy_data", "procedural_dsprites", "procedural_shapes3d",
           "procedural_dsprites_leakage", "procedural_abstract_dsprites"]


def _loop(data, batch_size, random_state):
  return np.concatenate([data.sample_factors(1, random_state) for _ in range(batch_size)])


def _assert_same_draws(data, batch_sizes, seed=3):
  batches = factor_batches.FactorBatches(data)
  found_state, expected_state = np.random.RandomState(seed), np.random.RandomState(seed)
  for batch_size in batch_sizes:
    found = batches.draw(batch_size, found_state)
    expected = _loop(data, batch_size, expected_state)
    assert found.dtype == expected.dtype
    np.testing.assert_array_equal(found, expected)
    assert found_state.randint(2**31) == expected_state.randint(2**31)  # Same state after.
  return batches


@pytest.mark.parametrize("name", OFFLINE)
def test_one_call_draws_the_original_loops_factors(name):
  data = named_data.get_named_ground_truth_data(name)
  batches = _assert_same_draws(data, [64, 64, 1, 7, 64, 7])
  assert all(plan is not None for plan in batches._plan.values())  # Drawn in one call.


class _Uniform:
  """Draws its factor with something else than randint."""

  def sample_factors(self, num, random_state):
    return np.floor(random_state.uniform(0, 4, size=(num, 1))).astype(np.int64)


class _Rejecting:
  """Draws a second factor only where the first is 1: its calls depend on the values."""

  def sample_factors(self, num, random_state):
    first = random_state.randint(2, size=num)
    second = np.zeros(num, dtype=np.int64)
    for k in np.flatnonzero(first == 1):
      second[k] = random_state.randint(5, size=1)[0]
    return np.stack([first, second], axis=1)


@pytest.mark.parametrize("data", [_Uniform(), _Rejecting()], ids=["uniform", "rejecting"])
def test_other_draws_keep_the_loop(data):
  # With seed 3 the first three samples all draw alike (a plan is kept): a later batch whose
  # calls differ falls back to the loop, the state restored.
  batches = _assert_same_draws(data, [64, 64] + [3] * 20)
  assert batches._plan[64] is None and batches._plan[3] is None


def test_the_training_stream_keeps_the_original_order():
  data = named_data.get_named_ground_truth_data("procedural_dsprites")
  stream = training_stream.ObservationStream(data, 0)
  random_state = np.random.RandomState(0)
  for _ in range(3):
    expected = data.sample_observations_from_factors(_loop(data, 16, random_state),
                                                     random_state)
    np.testing.assert_array_equal(stream.next_batch(16), expected.astype(np.float32))
  assert stream.random_state.randint(2**31) == random_state.randint(2**31)


def test_a_replayed_draw_saves_the_state_as_bytes_that_restore_it():
  # get_state() would take half of a replayed draw's time.
  assert factor_batches._copying_bytes_restores()  # pylint: disable=protected-access
  random_state = np.random.RandomState(5)
  restore = factor_batches._saved_state(random_state)  # pylint: disable=protected-access
  expected = random_state.randint(100, size=50)
  random_state.randint(3, size=999)
  restore()
  assert np.array_equal(random_state.randint(100, size=50), expected)
