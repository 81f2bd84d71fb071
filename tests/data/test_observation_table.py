"""A GPU pack's input: every observation on the device, looked up by the drawn factors."""
import logging

import numpy as np
import pytest
import torch

from dlib_torch.data import observation_table
from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.shared import checkpoint
from dlib_torch.methods.unsupervised import packed_training
from dlib_torch.methods.unsupervised import train
from dlib_torch.tests.methods import helpers
from dlib_torch.utils import errors


class SquaresData(ground_truth_data.GroundTruthData):
  """A square whose grey level, column and row are the 3 factors (3x4x5 values); the grey
  levels are k/255 unless `levels` says otherwise."""

  observations_draw_random = False

  def __init__(self, levels=(40 / 255, 120 / 255, 1.)):
    self.levels = np.asarray(levels, dtype=np.float32)

  @property
  def num_factors(self):
    return 3

  @property
  def factors_num_values(self):
    return [3, 4, 5]

  @property
  def observation_shape(self):
    return [64, 64, 1]

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values],
                    axis=1)

  def sample_observations_from_factors(self, factors, random_state):
    images = np.zeros((len(factors), 64, 64, 1), dtype=np.float32)
    for image, (level, column, row) in zip(images, factors):
      image[8 * row:8 * row + 12, 10 * column:10 * column + 12] = self.levels[level]
    return images


@pytest.fixture
def squares_data(monkeypatch):
  """`dataset.name = 'squares'` for this test."""
  monkeypatch.setitem(named_data._FACTORIES, "squares", SquaresData)  # pylint: disable=protected-access


@pytest.mark.parametrize("levels, dtype", [((40 / 255, 120 / 255, 1.), torch.uint8),
                                           ((0.1, 0.2, 0.3), torch.float32)])
def test_looked_up_observations_are_the_streams_to_the_bit(levels, dtype):
  data = SquaresData(levels)
  table = observation_table.ObservationTable(data, torch.device("cpu"))
  assert table.table.dtype == dtype and table.table.shape == (60, 64, 64, 1)
  stream, other = (training_stream.ObservationStream(data, 7) for _ in range(2))
  for _ in range(3):
    batch = stream.next_batch(16)
    looked_up = table.lookup(np.stack([other.next_factors(16), other.next_factors(16)]))
    assert looked_up.dtype == torch.float32 and looked_up.shape == (2, 16, 64, 64, 1)
    assert np.array_equal(looked_up[0].numpy(), batch)
    assert np.array_equal(looked_up[1].numpy(), stream.next_batch(16))
  assert stream.get_state()[1].tolist() == other.get_state()[1].tolist()


def test_a_table_only_where_observations_follow_from_factors_and_fit_the_budget():
  cpu = torch.device("cpu")
  assert observation_table.device_budget(cpu) == 0
  assert observation_table.for_device(SquaresData(), cpu, 60 * 4096) is not None
  assert observation_table.for_device(SquaresData(), cpu, 60 * 4096 - 1) is None
  # Float32 values need 4 bytes each: found while filling, the table is given up.
  assert observation_table.for_device(SquaresData((0.1, 0.2, 0.3)), cpu, 60 * 4096) is None
  assert observation_table.for_device(SquaresData((0.1, 0.2, 0.3)), cpu,
                                      60 * 4096 * 4) is not None
  assert observation_table.for_device(dummy_data.DummyData(), cpu, 10**12) is None


def test_a_device_out_of_memory_leaves_the_streams(monkeypatch):
  def out_of_memory(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

  monkeypatch.setattr(torch, "empty", out_of_memory)
  monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
  assert observation_table.for_device(SquaresData(), torch.device("cpu"), 10**9) is None


def test_factors_outside_the_data_sets_values_are_refused():
  table = observation_table.ObservationTable(SquaresData(), torch.device("cpu"))
  with pytest.raises(ValueError, match=r"outside the data set's factors_num_values \[3, 4, 5\]"):
    table.lookup(np.array([[2, 3, 5]]))
  with pytest.raises(ValueError, match="outside"):
    table.lookup(np.array([[-1, 0, 0]]))


def _members(tmp_path, kind):
  """Quickstart beta-VAEs 0 and 51 (two seeds, two betas) on the squares, short."""
  return [helpers.quickstart_member(tmp_path, kind, model_num, ["dataset.name = 'squares'"])
          for model_num in (0, 51)]


def test_a_pack_looking_up_its_batches_trains_and_resumes_as_with_streams(tmp_path,
                                                                          squares_data,
                                                                          caplog):
  del squares_data
  caplog.set_level(logging.INFO)
  runs = {}
  for inputs in ("table", "streams"):
    members = runs[inputs] = _members(tmp_path, inputs)
    steps = []

    def kill_in_step_4(step):
      steps.append(step)
      if step == 4 and steps.count(4) == 1:
        raise KeyboardInterrupt()  # The first model has checkpointed step 4, the second not.

    with pytest.raises(KeyboardInterrupt):
      packed_training.train_pack(members, train.Runtime(
          pack_step="batched", pack_inputs=inputs, checkpoint_every_steps=2,
          after_step=kill_in_step_4))
  assert ("The pack's batches come from a table of every observation on cpu: 60 images, "
          "uint8, 0.00 GB.") in caplog.text
  # A table pack's checkpoint holds its stream after the batches trained on, as a
  # prefetching stream's does.
  for table_member, streams_member in zip(runs["table"], runs["streams"]):
    table_state = checkpoint.load(table_member[0])
    streams_state = checkpoint.load(streams_member[0])
    assert table_state["global_step"] == streams_state["global_step"] > 0
    assert np.array_equal(table_state["stream"][1], streams_state["stream"][1])
    assert table_state["stream"][2:] == streams_state["stream"][2:]
  for inputs, members in runs.items():
    assert packed_training.train_pack(members, train.Runtime(
        pack_step="batched", pack_inputs=inputs)) == {}
  for table_member, streams_member in zip(runs["table"], runs["streams"]):
    assert helpers.train_results(table_member[0]) == helpers.train_results(streams_member[0])


def test_unknown_pack_inputs_are_refused(tmp_path, squares_data):
  del squares_data
  with pytest.raises(errors.UserError, match="Unknown pack inputs 'disk': auto, table, streams"):
    packed_training.train_pack(_members(tmp_path, "bad"), train.Runtime(
        pack_step="batched", pack_inputs="disk"))
