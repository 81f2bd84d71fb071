"""Labelled data: labellers, train/validation split, sampling and the paired stream."""
import gin
import numpy as np
import pytest

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.methods.semi_supervised import semi_supervised_utils as utils
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
from dlib_torch.utils import errors


class _TenValues:
  factors_num_values = [10]


@pytest.mark.parametrize("num_bins, expected", [(5, [0, 1, 2, 3, 4]), (3, [0, 0, 1, 1, 2]),
                                                (2, [0, 0, 0, 1, 1])])
def test_bin_labeller(num_bins, expected):
  labels, sizes = utils.bin_labeller(np.arange(0, 10, 2).reshape(5, 1), _TenValues(), None,
                                     num_bins=num_bins)
  np.testing.assert_array_equal(labels[:, 0], expected)
  assert list(sizes) == [min(10, num_bins)]


def test_noisy_labeller_draw_order():
  factors = np.random.RandomState(0).randint(10, size=(30, 1))
  labels, _ = utils.noisy_labeller(factors.copy(), _TenValues(), np.random.RandomState(1),
                                   prob_random=0.5)
  expected, rs = factors.copy(), np.random.RandomState(1)
  for j in range(30):
    if rs.rand() < 0.5:
      expected[j, 0] = rs.randint(10)
  np.testing.assert_array_equal(labels, np.float32(expected))
  assert labels.dtype == np.float32


def test_permuted_labeller_is_a_bijection():
  factors = np.tile(np.arange(10), 2).reshape(20, 1)
  labels, _ = utils.permuted_labeller(factors.copy(), _TenValues(), np.random.RandomState(0))
  permutation = np.random.RandomState(0).permutation(10)
  np.testing.assert_array_equal(labels[:, 0], permutation[factors[:, 0]])


def test_partial_labeller_keeps_chosen_columns():
  data = dummy_data.DummyData()
  factors = np.arange(30).reshape(3, 10)
  labels, sizes = utils.partial_labeller(factors, data, np.random.RandomState(0),
                                         num_observed_factors=3)
  kept = np.random.RandomState(0).choice(10, size=3, replace=False)
  np.testing.assert_array_equal(labels, factors[:, kept])
  assert sizes == [5, 5, 5]
  for bad in (0, 11):
    with pytest.raises(errors.UserError):
      utils.partial_labeller(factors, data, np.random.RandomState(0), num_observed_factors=bad)


def test_train_test_split_takes_the_ceiling():
  x, y = np.zeros((10, 2, 2, 1)), np.arange(20).reshape(10, 2)
  x_train, y_train, x_test, y_test = utils.train_test_split(x, y, 10, 0.75)
  assert x_train.shape[0] == 8 and x_test.shape[0] == 2
  np.testing.assert_array_equal(y_test, y[8:])
  with pytest.raises(errors.UserError):
    utils.train_test_split(x, y, 11, 0.75)


def _perfect_labeller():
  gin_registry.register_for("train")
  gin.parse_config(["labeller.labeller_fn = @perfect_labeller"])


def test_sample_supervised_data_shapes_and_draws():
  _perfect_labeller()
  data = dummy_data.DummyData()
  observations, labels, sizes = utils.sample_supervised_data(0, data, 4)
  assert observations.shape == (4, 64, 64, 1) and labels.shape == (4, 10)
  rs = np.random.RandomState(0)
  np.testing.assert_array_equal(labels, np.float32(data.sample_factors(4, rs)))
  assert sizes == [5] * 10


def test_stream_pairs_unlabelled_data_with_the_repeated_split():
  _perfect_labeller()
  data = dummy_data.DummyData()
  observations, labels, _ = utils.sample_supervised_data(0, data, 10)
  train_stream = train_semi_supervised_lib.semi_supervised_dataset_from_ground_truth_data(
      data, 10, 3, observations, labels, 0.7)
  unlabelled, (labelled, batch_labels) = train_stream.next_batch(5)
  assert unlabelled.shape == (5, 64, 64, 1) and labelled.shape == (5, 64, 64, 1)
  assert batch_labels.shape == (5, 10)
  _, (_, more_labels) = train_stream.next_batch(5)  # 7 training samples, repeated.
  np.testing.assert_array_equal(np.concatenate([batch_labels, more_labels]),
                                labels[[0, 1, 2, 3, 4, 5, 6, 0, 1, 2]])
  validation = train_semi_supervised_lib.semi_supervised_dataset_from_ground_truth_data(
      data, 10, 3, observations, labels, 0.7, validation=True)
  _, (_, validation_labels) = validation.next_batch(4)
  np.testing.assert_array_equal(validation_labels, labels[[7, 8, 9, 7]])
  with pytest.raises(errors.UserError):
    train_semi_supervised_lib.semi_supervised_dataset_from_ground_truth_data(
        data, 10, 3, observations, labels, 1., validation=True)
