"""A batch of factors drawn as the original draws them one sample at a time, in one call.

The training stream draws factors with `sample_factors(1, rs)` per sample,
so the random state advances exactly as in the original. That Python loop
costs about 1.2 ms per batch of 64 (dSprites), which a pack of models
stepping in one process pays once per model and step. Most data sets draw a
sample's factors as a fixed sequence of `randint` calls with fixed bounds;
numpy's legacy RandomState.randint with an array of bounds draws the same
numbers, in the same order, as those calls made one after another. So the
sequence is recorded once, a batch's draws are made in one call, and
`sample_factors(batch, ...)` (the same calls with `size` batch) is fed its
columns. A data set whose draws are anything else keeps the loop; the first
batch is drawn both ways and compared, and every replayed call is checked
against the plan, so a data set whose calls depend on the values drawn keeps
the loop too.
"""
import copy
import ctypes
import functools

import numpy as np


class _Unsupported(Exception):
  """A draw that cannot be replayed."""


def _randint_call(low, high=None, size=None, dtype=int):
  """(low, high, size as a tuple) of a randint call that can be replayed."""
  if high is None:
    low, high = 0, low
  if dtype is not int or size is None or not (np.isscalar(low) and np.isscalar(high)):
    raise _Unsupported()
  return int(low), int(high), (size,) if np.isscalar(size) else tuple(size)


class _Recorder:
  """A RandomState stand-in that notes randint calls ((low, high, size)) and answers low."""

  def __init__(self):
    self.calls = []

  def randint(self, *args, **kwargs):
    call = _randint_call(*args, **kwargs)
    self.calls.append(call)
    return np.full(call[2], call[0], dtype=np.int64)

  def __getattr__(self, name):
    raise _Unsupported()


class _Replay:
  """A RandomState stand-in that answers the planned randint calls from drawn values, and
  refuses any other call."""

  def __init__(self, calls, columns):
    self._answers = iter(zip(calls, columns))

  def randint(self, *args, **kwargs):
    call, column = next(self._answers, (None, None))
    if _randint_call(*args, **kwargs) != call:
      raise _Unsupported()
    return column

  def __getattr__(self, name):
    raise _Unsupported()

  def finished(self):
    return next(self._answers, None) is None


class FactorBatches:
  """draw(batch_size, rs) == np.concatenate([data.sample_factors(1, rs) ...]) and leaves rs
  in the same state, in one draw where the data set allows it."""

  def __init__(self, data):
    self._data = data
    self._plan = {}  # batch size -> (lows, highs, its randint calls) or None (the loop)

  def draw(self, batch_size, random_state):
    if batch_size not in self._plan:
      return self._first_draw(batch_size, random_state)
    plan = self._plan[batch_size]
    if plan is not None:
      restore = _saved_state(random_state)
      try:
        return self._replay(plan, batch_size, random_state)
      except _Unsupported:  # Its calls changed with the values drawn: the loop from now on.
        restore()
        self._plan[batch_size] = None
    return self._loop(batch_size, random_state)

  def _loop(self, batch_size, random_state):
    return np.concatenate([self._data.sample_factors(1, random_state)
                           for _ in range(batch_size)])

  def _first_draw(self, batch_size, random_state):
    """Plans the batch size's draws, checked against the loop on a copy of the state."""
    self._plan[batch_size] = None
    plan = self._make_plan(batch_size)
    if plan is None:
      return self._loop(batch_size, random_state)
    expected_state = copy.deepcopy(random_state)
    expected = self._loop(batch_size, expected_state)
    found_state = copy.deepcopy(random_state)
    try:
      found = self._replay(plan, batch_size, found_state)
    except _Unsupported:
      found = None
    if (found is not None and np.array_equal(found, expected) and
        found.dtype == expected.dtype and _same_state(found_state, expected_state)):
      self._plan[batch_size] = plan
    random_state.set_state(expected_state.get_state())
    return expected

  def _make_plan(self, batch_size):
    one, batch = _Recorder(), _Recorder()
    try:
      self._data.sample_factors(1, one)
      self._data.sample_factors(batch_size, batch)
    except _Unsupported:
      return None
    if len(one.calls) != len(batch.calls) or not one.calls:
      return None
    for (low, high, size), (batch_low, batch_high, batch_size_seen) in zip(one.calls,
                                                                          batch.calls):
      if ((low, high) != (batch_low, batch_high) or size[:1] != (1,) or
          batch_size_seen != (batch_size,) + size[1:]):
        return None
    lows = np.concatenate([np.full(int(np.prod(size)), low) for low, _, size in one.calls])
    highs = np.concatenate([np.full(int(np.prod(size)), high) for _, high, size in one.calls])
    # The bounds of the whole batch: sample after sample, each in its calls' order.
    return np.tile(lows, batch_size), np.tile(highs, batch_size), batch.calls

  def _replay(self, plan, batch_size, random_state):
    lows, highs, calls = plan
    # Row s holds sample s's draws in the order its calls made them.
    values = random_state.randint(lows, highs).reshape(batch_size, -1)
    columns, start = [], 0
    for _, _, size in calls:
      count = int(np.prod(size[1:]))
      columns.append(values[:, start:start + count].reshape(size))
      start += count
    replay = _Replay(calls, columns)
    factors = self._data.sample_factors(batch_size, replay)
    if not replay.finished():
      raise _Unsupported()
    return factors


# numpy's MT19937 state in memory: uint32 key[624], then int pos.
_MT19937_STATE_BYTES = 624 * 4 + 4


def _saved_state(random_state):
  """A function that puts random_state back as it is now.

  get_state() takes about 34 us, half of a replayed draw (a GPU pack draws K
  batches a step on the host), so the state is copied as the bytes of
  numpy's MT19937 state (0.4 us) where _copying_bytes_restores() found that
  to restore it exactly.
  """
  bit_generator = getattr(random_state, "_bit_generator", None)
  if type(bit_generator) is np.random.MT19937 and _copying_bytes_restores():
    address = bit_generator.ctypes.state_address
    saved = ctypes.string_at(address, _MT19937_STATE_BYTES)
    return lambda: ctypes.memmove(address, saved, _MT19937_STATE_BYTES)
  state = random_state.get_state()
  return lambda: random_state.set_state(state)


@functools.lru_cache(maxsize=None)
def _copying_bytes_restores():
  """Whether copying an MT19937 RandomState's state bytes back restores its state."""
  random_state = np.random.RandomState(12345)
  random_state.randint(7, size=1000)  # Away from a fresh state's position.
  expected = copy.deepcopy(random_state)
  address = random_state._bit_generator.ctypes.state_address  # pylint: disable=protected-access
  saved = ctypes.string_at(address, _MT19937_STATE_BYTES)
  random_state.randint(7, size=2000)
  ctypes.memmove(address, saved, _MT19937_STATE_BYTES)
  return (_same_state(random_state, expected) and
          np.array_equal(random_state.randint(7, size=700), expected.randint(7, size=700)))


def _same_state(a, b):
  first, second = a.get_state(), b.get_state()
  return first[0] == second[0] and np.array_equal(first[1], second[1]) and first[2:] == second[2:]
