"""TensorBoard summaries of a training run, where the original wrote them (the "tensorboard" extra).

disentanglement_lib's estimator wrote event files of the training scalars
every 100 steps beside its checkpoints, and those of the final evaluation in
an eval/ subfolder: `tensorboard --logdir MODEL_DIR` showed the run. Training
here writes the same into MODEL_DIR/checkpoint and MODEL_DIR/checkpoint/eval
when the tensorboard package is installed, and otherwise says once that it
writes none. A resumed run's summaries supersede the earlier ones from its
resume step on (TensorBoard's purge step), so the curves have no repeats.
"""
import os
import time

from absl import logging

from dlib_torch.utils import write_errors


class Summaries:
  """Scalar summaries of one run, written on first use (the import costs about a second)."""

  def __init__(self, log_dir, resumed_step=None):
    self._log_dir = log_dir
    self._resumed_step = resumed_step
    self._writers = {}
    self._available = True

  def _writer(self, subfolder):
    if subfolder not in self._writers and self._available:
      try:
        from torch.utils import tensorboard  # pylint: disable=g-import-not-at-top
      except ImportError:
        self._available = False
        logging.info("No TensorBoard summaries: pip install 'dlib_torch[tensorboard]' for them.")
        return None
      _wait_past_event_files(os.path.join(self._log_dir, subfolder))
      self._writers[subfolder] = tensorboard.SummaryWriter(
          os.path.join(self._log_dir, subfolder),
          purge_step=self._resumed_step if subfolder == "" else None)
    return self._writers.get(subfolder)

  def add_scalars(self, step, values, subfolder=""):
    """Writes {tag: float} at `step`, into the run's folder or a subfolder of it."""
    with write_errors.translated(os.path.join(self._log_dir, subfolder)):
      writer = self._writer(subfolder)
      if writer is not None:
        for tag, value in values.items():
          writer.add_scalar(tag, value, step)

  def close(self):
    with write_errors.translated(self._log_dir):
      for writer in self._writers.values():
        writer.close()


def _wait_past_event_files(folder):
  """Waits, if need be, until the clock is past the second in the names of the folder's
  event files, so that a new file's name sorts after theirs.

  TensorBoard reads a folder's event files in name order, and a resumed run's
  purge must come after the run it resumes. Names start with the creation
  second; within one second (a pack's model resumed in the same process)
  they end in a counter that sorts as text, 10 before 9.
  """
  seconds = []
  for name in os.listdir(folder) if os.path.isdir(folder) else []:
    parts = name.split(".")
    if name.startswith("events.out.tfevents.") and len(parts) > 3 and parts[3].isdigit():
      seconds.append(int(parts[3]))
  past = max(seconds, default=0) + 1
  while time.time() < past:
    time.sleep(past - time.time())
