"""Every observation of a data set on the device, looked up by factors: a GPU pack's input.

A pack of K models on a GPU needs K batches a step. Rendered on the host and
copied as float32, a batch of 64 dSprites images is 1 MB: at the study's
target of 44,000 model-steps/s that is 44 GB/s over PCIe, besides the
rendering (one thread per model's stream, all in one interpreter). Where a
data set's observations are a function of its factors
(`observations_draw_random` False), every observation is rendered once into a
table on the device; each step then draws each model's factors on the host,
exactly as its stream would, and the table gives the batch. The table holds
uint8 where every value is k/255 (dSprites, Shapes3D from files) and the
division on the device gives the stream's float32 values to the bit, else
float32.
"""
import numpy as np
import torch

_CHUNK = 8192  # Observations rendered per call while filling the table.


class TooLarge(Exception):
  """The table needs float32 and would take more than its budget."""


def for_device(data, device, budget_bytes):
  """The data set's ObservationTable on `device`, or None where its observations are
  random given the factors or the table would need more than budget_bytes."""
  if data.observations_draw_random:
    return None
  count = int(np.prod(data.factors_num_values))
  image_bytes = int(np.prod(data.observation_shape))
  if count * image_bytes > budget_bytes:  # Not even as uint8.
    return None
  try:
    return ObservationTable(data, device, budget_bytes)
  except TooLarge:
    return None
  except torch.cuda.OutOfMemoryError:  # Other jobs on the GPU took the memory meanwhile.
    torch.cuda.empty_cache()
    return None


def device_budget(device):
  """The bytes a table may take on the device: a quarter of what is free on a GPU, none
  elsewhere (a CPU's step is bound by its arithmetic, not by its inputs)."""
  if device.type != "cuda":
    return 0
  free, _ = torch.cuda.mem_get_info(device)
  return free // 4


class ObservationTable:
  """The observations of every factor combination (row-major over factors_num_values)."""

  def __init__(self, data, device, budget_bytes=None):
    self.sizes = np.asarray(data.factors_num_values, dtype=np.int64)
    self.strides = np.cumprod(np.concatenate([self.sizes[1:], [1]])[::-1])[::-1].copy()
    self.shape = tuple(np.atleast_1d(data.observation_shape))
    self.device = device
    count = int(np.prod(self.sizes))
    rendering = np.random.RandomState(0)  # Unread: the data set draws nothing to render.
    table = torch.empty((count,) + self.shape, dtype=torch.uint8, device=device)
    for start in range(0, count, _CHUNK):
      factors = np.stack(np.unravel_index(np.arange(start, min(count, start + _CHUNK)),
                                          self.sizes), axis=1)
      chunk = np.asarray(data.sample_observations_from_factors(factors, rendering),
                         dtype=np.float32)
      table = self._fill(table, start, chunk, budget_bytes)
    self.table = table

  def __str__(self):
    return "{} images, {}, {:.2f} GB".format(
        len(self.table), str(self.table.dtype).replace("torch.", ""),
        self.table.element_size() * self.table.numel() / 1e9)

  @staticmethod
  def _fill(table, start, chunk, budget_bytes):
    """Writes the chunk at row `start` and returns the table, turned float32 at the first
    value that is not k/255 (TooLarge if as float32 it would exceed budget_bytes)."""
    rows = slice(start, start + len(chunk))
    if table.dtype == torch.uint8:
      as_bytes = np.rint(chunk * 255)
      if ((as_bytes >= 0) & (as_bytes <= 255) &
          (as_bytes.astype(np.float32) / np.float32(255) == chunk)).all():
        table[rows] = torch.from_numpy(as_bytes.astype(np.uint8)).to(table.device)
        return table
      if budget_bytes is not None and table.numel() * 4 > budget_bytes:
        raise TooLarge()
      table = table.float() / 255
    table[rows] = torch.from_numpy(chunk).to(table.device)
    return table

  def lookup(self, factors):
    """The observations [..., *shape] (float32, on the device) of factors [..., F]."""
    factors = np.asarray(factors)
    if (factors < 0).any() or (factors >= self.sizes).any():
      raise ValueError("Factors outside the data set's factors_num_values {}.".format(
          self.sizes.tolist()))
    index = torch.from_numpy(factors @ self.strides)
    if self.device.type == "cuda":  # From pinned memory the copy runs beside the step.
      index = index.pin_memory().to(self.device, non_blocking=True)
    rows = self.table[index]
    return rows.float() / 255 if rows.dtype == torch.uint8 else rows
