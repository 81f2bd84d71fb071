"""The figures of a study report (after Locatello et al. 2019), as PNG files.

Score distributions are violins (where a group has two distinct values or
more) with every model drawn as a point over them: a study of few seeds
still shows what it has. Rank correlations are Spearman's, drawn as
annotated heat maps from -1 to 1.
"""
import numpy as np

from dlib_torch.visualize import plotting

_STYLE = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
          "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True,
          "axes.axisbelow": True, "grid.color": ".85"}
_DPI = 100


def distributions(panels, ylabel, path):
  """One panel per (title, [(label, values)]), side by side, sharing the y axis; to path."""
  plt = plotting.pyplot()
  with plt.rc_context(_STYLE):
    widths = [max(1.5, 0.7 * len(groups) + 0.8) for _, groups in panels]
    fig, axes = plt.subplots(1, len(panels), sharey=True, squeeze=False,
                             figsize=(sum(widths) + 0.8, 3.4),
                             gridspec_kw={"width_ratios": widths})
    for ax, (title, groups) in zip(axes[0], panels):
      _violins(ax, groups)
      ax.set_title(title)
    axes[0][0].set_ylabel(ylabel)
    fig.tight_layout()
    plotting.save_figure(fig, path, dpi=_DPI)


def _violins(ax, groups):
  positions = np.arange(len(groups))
  spread = [(p, v) for p, (_, v) in zip(positions, groups) if len(np.unique(v)) > 1]
  if spread:
    parts = ax.violinplot([v for _, v in spread], positions=[p for p, _ in spread],
                          showextrema=False, widths=0.8)
    for body in parts["bodies"]:
      body.set_alpha(0.35)
  jitter = np.random.RandomState(0)
  for position, (_, values) in zip(positions, groups):
    ax.scatter(position + jitter.uniform(-0.12, 0.12, len(values)), values, s=12,
               color="C0", zorder=3)
  ax.set_xticks(positions, [label for label, _ in groups], rotation=30, ha="right")
  ax.set_xlim(-0.6, len(groups) - 0.4)


def correlation_matrix(matrix, title, path):
  """A square DataFrame of Spearman correlations as a heat map with values x 100; to path.

  NaN entries (a constant score, too few common models) stay blank.
  """
  plt = plotting.pyplot()
  size = len(matrix)
  with plt.rc_context(dict(_STYLE, **{"axes.grid": False})):
    edge = 2.2 + 0.45 * size
    fig, ax = plt.subplots(figsize=(edge + 1.2, edge))
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
      if np.isfinite(value):
        ax.text(j, i, "{:.0f}".format(100 * value), ha="center", va="center", fontsize=8,
                color="white" if abs(value) > 0.6 else "black")
    ax.set_xticks(range(size), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(size), matrix.index)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    plotting.save_figure(fig, path, dpi=_DPI)
