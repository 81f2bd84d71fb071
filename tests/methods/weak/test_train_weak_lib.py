"""Pairs of the weakly-supervised stream and the dynamics that make them."""
import gin
import numpy as np
import pytest

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.methods.weak import train_weak_lib
from dlib_torch.tests.methods import helpers


def _bind_k(k):
  gin_registry.register_for("train")
  gin.parse_config(["dynamics.k = {}".format(k)])


def test_stream_element_shapes_on_dummy_data():
  _bind_k(-1)
  pairs, labels = train_weak_lib.weak_dataset_from_ground_truth_data(
      dummy_data.DummyData(), 0).next_batch(3)
  assert pairs.shape == (3, 128, 64, 1) and pairs.dtype == np.float32
  assert labels.shape == (3, 1) and labels.dtype == np.int64


@pytest.mark.parametrize("k", [1, 2, -1])
def test_simple_dynamics_draws_in_the_original_order(k):
  _bind_k(k)
  data = dummy_data.DummyData()
  rs, expected = np.random.RandomState(3), np.random.RandomState(3)
  for _ in range(20):
    z = data.sample_factors(1, rs)
    before = z.copy()
    z, index = train_weak_lib.simple_dynamics(z, data, rs, return_index=True)
    # The same draws by hand: factors, k, how many change, which, new values.
    factors = data.sample_factors(1, expected)
    k_observed = expected.randint(1, 10) if k == -1 else k
    changed = expected.choice(10, expected.choice([1, k_observed]), replace=False)
    for column in changed:
      factors[0, column] = expected.randint(5)
    np.testing.assert_array_equal(z, factors)
    assert index == changed[-1]
    unchanged = np.setdiff1d(np.arange(10), changed)
    np.testing.assert_array_equal(z[0, unchanged], before[0, unchanged])


def test_pairs_differ_only_in_the_labelled_factor_for_k_1():
  _bind_k(1)
  stream = train_weak_lib.WeakStream(helpers.Squares(), 0)
  pairs, labels = stream.next_batch(50)
  first, second = pairs[:, :16], pairs[:, 16:]
  for i in range(50):
    rows_1, columns_1 = np.nonzero(first[i, :, :, 0])
    rows_2, columns_2 = np.nonzero(second[i, :, :, 0])
    if labels[i, 0] == 0:  # The row factor changed (or was redrawn equal).
      np.testing.assert_array_equal(np.unique(columns_1), np.unique(columns_2))
    else:
      np.testing.assert_array_equal(np.unique(rows_1), np.unique(rows_2))


def test_stream_resumes_from_its_state():
  _bind_k(-1)
  stream = train_weak_lib.WeakStream(helpers.Squares(), 7)
  stream.next_batch(4)
  state = stream.get_state()
  expected = stream.next_batch(4)
  other = train_weak_lib.WeakStream(helpers.Squares(), 0)
  other.set_state(state)
  for a, b in zip(other.next_batch(4), expected):
    np.testing.assert_array_equal(a, b)


def test_vectorised_and_per_sample_rendering_agree():
  _bind_k(-1)

  class DrawingSquares(helpers.Squares):
    observations_draw_random = True

  fast = train_weak_lib.WeakStream(helpers.Squares(), 2).next_batch(6)
  slow = train_weak_lib.WeakStream(DrawingSquares(), 2).next_batch(6)
  for a, b in zip(fast, slow):
    np.testing.assert_array_equal(a, b)
