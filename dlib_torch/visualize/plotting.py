"""matplotlib, loaded only when a plot is drawn: it is an optional dependency."""
import importlib.util

from absl import logging

from dlib_torch.utils import atomic_io


def available():
  """Whether matplotlib can be imported."""
  return importlib.util.find_spec("matplotlib") is not None


def available_or_log(what):
  """Whether matplotlib can be imported; logs that `what` is skipped if not."""
  if available():
    return True
  logging.info("matplotlib is not installed: skipping %s.", what)
  return False


def pyplot():
  """matplotlib.pyplot on the headless Agg backend."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def save_figure(fig, path, **savefig_kwargs):
  """Writes a figure as PNG atomically and closes it."""
  atomic_io.write_with(path, lambda tmp: fig.savefig(tmp, format="png", **savefig_kwargs))
  pyplot().close(fig)
