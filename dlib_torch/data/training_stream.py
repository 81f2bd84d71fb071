"""The training input stream: the original's order of samples, batched and prefetched.

The original feeds training with an endless stream in which element k is the
k-th call `data.sample_observations(1, rs)` on one RandomState. This stream
gives the same elements in the same order. When rendering draws nothing from
the random state (`observations_draw_random` is False), the factors are still
drawn as one sample at a time draws them (the draw order depends on it;
factor_batches makes those draws in one call) and a batch is rendered in
one vectorised call. A background thread prepares the next batches while
the model trains; each batch carries the random state after it, which is
what a checkpoint stores to resume exactly.
"""
import queue
import threading

import numpy as np

from dlib_torch.data import factor_batches


class ObservationStream:
  """Batches of observations from a data set, in the original's sample order."""

  def __init__(self, data, seed):
    self.data = data
    self.random_state = np.random.RandomState(seed)
    self._factor_batches = factor_batches.FactorBatches(data)

  def get_state(self):
    return self.random_state.get_state()

  def set_state(self, state):
    self.random_state.set_state(state)

  def next_batch(self, batch_size):
    """The next batch_size observations as float32 [B, H, W, C]."""
    rs = self.random_state
    if self.data.observations_draw_random:
      samples = [self.data.sample_observations(1, rs)[0] for _ in range(batch_size)]
      return np.stack(samples).astype(np.float32, copy=False)
    observations = self.data.sample_observations_from_factors(self.next_factors(batch_size),
                                                              rs)
    return np.asarray(observations, dtype=np.float32)

  def next_factors(self, batch_size):
    """The factors of the next batch_size observations, drawn as next_batch draws them (one
    sample at a time, in effect), for data sets whose rendering draws nothing
    (`observations_draw_random` False): their observations follow from the factors."""
    return self._factor_batches.draw(batch_size, self.random_state)


class Prefetcher:
  """Produces (batch, stream state after the batch) pairs in a background thread."""

  def __init__(self, stream, batch_size, depth=3):
    self._stream = stream
    self._batch_size = batch_size
    self._queue = queue.Queue(maxsize=depth)
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()

  def _run(self):
    try:
      while not self._stop.is_set():
        batch = self._stream.next_batch(self._batch_size)
        item = (batch, self._stream.get_state())
        while not self._stop.is_set():
          try:
            self._queue.put(item, timeout=0.1)
            break
          except queue.Full:
            continue
    except BaseException as e:  # pylint: disable=broad-except
      self._queue.put(e)  # Re-raised in the consumer's thread.

  def next(self):
    item = self._queue.get()
    if isinstance(item, BaseException):
      raise item
    return item

  def close(self):
    self._stop.set()
    self._thread.join()
