"""matplotlib, loaded only when a plot is drawn: it is an optional dependency."""
import importlib.util


def available():
  """Whether matplotlib can be imported."""
  return importlib.util.find_spec("matplotlib") is not None


def pyplot():
  """matplotlib.pyplot on the headless Agg backend."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt
