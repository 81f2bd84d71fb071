"""Plots of a codes x factors score matrix, and the graph counts behind them.

The matrix (an importance, mutual-information or accuracy matrix of the
unified scores) is read as a bipartite graph between its rows and columns,
with an edge wherever the entry reaches a threshold. `precision` counts the
connected groups at a threshold and `recall` the rows still connected; the
plots need matplotlib and are skipped, with a log line, without it.
"""
import os

import numpy as np

from dlib_torch.visualize import plotting

_PALETTE_SIZE = 256
# The original's seaborn "notebook" context at font scale 1.5 and white grid,
# in plain matplotlib settings.
_STYLE = {
    "font.size": 18, "axes.labelsize": 18, "axes.titlesize": 18, "xtick.labelsize": 16.5,
    "ytick.labelsize": 16.5, "legend.fontsize": 16.5, "lines.linewidth": 2,
    "axes.grid": True, "axes.facecolor": "white", "grid.color": ".8",
    "axes.edgecolor": ".8",
}


def heat_square(matrix, output_dir, name, xlabel, ylabel, max_val=None, factor_names=None):
  """Draws each entry as a square sized and coloured by value/max_val, to <name>.png.

  Args:
    matrix: (rows, columns) values in [0, max_val]; rows on the x axis.
    output_dir: folder of the plot.
    name: file name without extension.
    xlabel: x axis label.
    ylabel: y axis label.
    max_val: the value of a full square; defaults to the matrix maximum (1 if that is 0).
    factor_names: tick labels of the columns (y axis).

  Raises:
    ValueError: if max_val is below the matrix maximum.
  """
  if max_val is None:
    max_val = np.max(matrix)
    if max_val == 0:
      max_val = 1.
  elif max_val < np.max(matrix):
    raise ValueError("The matrix has maximum value larger than max_val")
  if not plotting.available_or_log("the plot " + name):
    return
  plt = plotting.pyplot()
  with plt.rc_context(_STYLE):
    fig = plt.figure()
    grid = fig.add_gridspec(1, 15, hspace=0.2, wspace=1.2)
    ax = fig.add_subplot(grid[:, :-1])
    palette = _blues()
    # The squares' full edge is about the axes' width in points, less room for
    # the labels, shared by the rows; scatter sizes are areas.
    axes_width = (ax.get_position().xmax - ax.get_position().xmin) * fig.get_size_inches()[0]
    size_scale = (((axes_width * fig.get_dpi() - 40) * 14 / 15 * 0.8) / matrix.shape[0])**2
    plot_matrix_squares(matrix, max_val, palette, size_scale, ax)
    ax.set_xticks(range(matrix.shape[0]))
    if factor_names is not None:
      ax.set_yticks(range(matrix.shape[1]), factor_names)
    else:
      ax.set_yticks(range(matrix.shape[1]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    plot_bar_palette(palette, max_val, fig.add_subplot(grid[:, -1]))
    plotting.save_figure(fig, os.path.join(output_dir, name + ".png"), bbox_inches="tight")


def plot_matrix_squares(matrix, max_val, palette, size_scale, ax):
  """Scatter of squares, one per entry, area and colour proportional to value/max_val."""
  rows, columns = np.meshgrid(np.arange(matrix.shape[0]), np.arange(matrix.shape[1]),
                              indexing="ij")
  fractions = (matrix / max_val).ravel()
  colors = palette[(fractions * (_PALETTE_SIZE - 1)).astype(int)]
  ax.scatter(x=rows.ravel(), y=columns.ravel(), s=size_scale * fractions, marker="s", c=colors)
  ax.set_xticks([v + 0.5 for v in range(matrix.shape[0])], minor=True)
  ax.set_yticks([v + 0.5 for v in range(matrix.shape[1])], minor=True)
  ax.grid(False, "major")
  ax.grid(True, "minor")
  ax.set_xlim([-0.5, matrix.shape[0] - 0.5])
  ax.set_ylim([-0.5, matrix.shape[1] - 0.5])
  ax.tick_params(right=False, top=False, left=False, bottom=False)
  ax.set_aspect(aspect=1.)


def plot_bar_palette(palette, max_val, ax):
  """A vertical colour bar from 0 to max_val, ticks on the right."""
  bar_y = np.linspace(0, max_val, len(palette))
  ax.barh(bar_y, np.full(len(palette), 5), height=bar_y[1] - bar_y[0], left=0,
          align="center", color=palette, linewidth=0)
  ax.set_xlim(1, 2)
  ax.set_ylim(0, max_val)
  ax.grid(False)
  ax.set_xticks([])
  ax.set_yticks(np.linspace(0, max_val, 3))
  ax.yaxis.tick_right()


def plot_recovery_vs_independent(matrix, output_dir, name):
  """Plots, per threshold, the independent groups (precision) and the rows found (recall).

  Thresholds are the matrix entries from the largest down; saved to <name>.png.
  """
  thresholds = np.sort(matrix.flatten())[::-1]
  precisions = [precision(matrix, t) for t in thresholds]
  recalls = [recall(matrix, t) for t in thresholds]
  if not plotting.available_or_log("the plot " + name):
    return
  plt = plotting.pyplot()
  with plt.rc_context(_STYLE):
    fig, ax = plt.subplots()
    steps = range(thresholds.shape[0])
    ax.plot(steps, precisions, label="Independent groups", color="C0", linewidth=3)
    ax.plot(steps, recalls, "--", label="Discovered", color="C1", linewidth=3)
    tick_ids = np.arange(0, thresholds.shape[0], 10)
    ax.set_xticks(tick_ids, np.around(thresholds[tick_ids], 2))
    ax.set_ylim([0, matrix.shape[0] * 1.1])
    ax.tick_params(right=False, top=False, left=False, bottom=False)
    ax.set_yticks(np.linspace(0, matrix.shape[0], matrix.shape[0] + 1))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.25), ncol=2)
    ax.set_xlabel("Threshold")
    ax.set_ylabel("Number of Factors")
    plotting.save_figure(fig, os.path.join(output_dir, name + ".png"), bbox_inches="tight")


def precision(matrix, th):
  """Number of connected groups of more than one node once entries below th are cut.

  Args:
    matrix: (rows, columns) weights of the bipartite graph rows <-> columns.
    th: entries below th are no edge.

  Returns:
    The number of connected components reached from the rows that hold an edge.
  """
  graph = np.where(matrix < th, 0, matrix)
  rows_seen = np.zeros(graph.shape[0])
  columns_seen = np.zeros(graph.shape[1])
  count = 0
  for i in range(graph.shape[0]):
    if rows_seen[i] == 0:
      rows_seen, columns_seen, size = bfs(graph, [(i, 0)], rows_seen, columns_seen, 1)
      if size > 1:
        count += 1
  return count


def recall(matrix, th):
  """Number of rows that keep an edge once entries below th are cut."""
  graph = np.where(matrix < th, 0, matrix)
  return int(np.sum(np.sum(graph, axis=1) != 0))


def bfs(matrix, to_visit, factors, codes, size):
  """Marks the connected component of the last node of to_visit.

  Args:
    matrix: adjacency (rows, columns); a non-zero entry is an edge.
    to_visit: list of (index, is_column) nodes; the last one is the start.
    factors: visited flags of the rows, updated in place.
    codes: visited flags of the columns, updated in place.
    size: count of nodes found so far (the start counts as found).

  Returns:
    (factors, codes, size) with the component marked and its new nodes counted.
  """
  stack = [to_visit.pop()]
  start, is_column = stack[0]
  (codes if is_column else factors)[start] = 1
  while stack:
    node, is_column = stack.pop()
    if is_column:
      for row in np.flatnonzero(matrix[:, node]):
        if factors[row] == 0:
          factors[row] = 1
          size += 1
          stack.append((row, 0))
    else:
      for column in np.flatnonzero(matrix[node, :]):
        if codes[column] == 0:
          codes[column] = 1
          size += 1
          stack.append((column, 1))
  return factors, codes, size


def _blues():
  """256 colours of matplotlib's "Blues", sampled as seaborn's palette of that name."""
  cmap = plotting.pyplot().get_cmap("Blues")
  return cmap(np.linspace(0, 1, _PALETTE_SIZE + 2)[1:-1])[:, :3]

