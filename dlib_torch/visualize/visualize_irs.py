"""Plots of the interventional effects behind the IRS score (arXiv:1811.00007).

A grid with one row per latent and one column per ground-truth factor. The
cell of a latent's parent factor (the factor its IRS score is computed for)
shows the mean, median and one standard deviation of the latent against the
factor's values; every other cell shows how the latent's mean moves with that
factor while the parent factor is held at each of its values.

matplotlib is optional: it is imported when a plot is drawn, not before.
"""
import os

import numpy as np

from dlib_torch.evaluation.metrics import irs
from dlib_torch.visualize import plotting

_COLORS = ("b", "y", "g", "r", "c", "m", "k")


def vis_all_interventional_effects(gen_factors, latents, output_dir):
  """Draws the latents x factors grid to output_dir/interventional_effect.png."""
  plt = plotting.pyplot()
  scores = irs.scalable_disentanglement_score(gen_factors, latents)
  parents = scores["parents"]
  irs_scores = scores["disentanglement_scores"]
  num_latents, num_factors = latents.shape[1], gen_factors.shape[1]
  fig, axes = plt.subplots(num_latents, num_factors,
                           figsize=(3.0 * num_factors, 3.0 * num_latents),
                           sharex="col", sharey="row", squeeze=False)
  for j in range(num_factors):
    for l in range(num_latents):
      ax = axes[l, j]
      if parents[l] == j:
        _visualize_interventional_effect(gen_factors, latents, l, parents[l], j,
                                         no_conditioning=True, ax=ax)
        ax.set_title("Parent={}, IRS = {:1.2}".format(parents[l], irs_scores[l]))
      else:
        _visualize_interventional_effect(gen_factors, latents, l, parents[l], j, ax=ax,
                                         plot_legend=False)
        ax.set_title("")
  # Fixed margins for the labels of 3-inch cells: tight_layout measured every tick
  # label of every cell, a third of dvisualize's time for 10 latents.
  fig.subplots_adjust(left=0.8 / (3. * num_factors), right=1. - 0.1 / (3. * num_factors),
                      bottom=0.6 / (3. * num_latents), top=1. - 0.4 / (3. * num_latents),
                      wspace=0.4, hspace=0.4)
  plotting.save_figure(fig, os.path.join(output_dir, "interventional_effect.png"))


def _visualize_interventional_effect(gen_factors, latents, latent_dim, const_factor_idx,
                                     intervened_factor_idx, no_conditioning=False, ax=None,
                                     plot_legend=True, plot_scatter=False):
  """Draws one cell: E[z_latent_dim] against the intervened factor.

  Args:
    gen_factors: (N, F) ground-truth factors.
    latents: (N, L) codes.
    latent_dim: the latent plotted.
    const_factor_idx: the factor held fixed (the latent's parent).
    intervened_factor_idx: the factor on the x axis.
    no_conditioning: plot mean, median and +-1 std without holding anything fixed.
    ax: matplotlib axes; a new figure when None.
    plot_legend: whether to add a legend to a conditioned plot.
    plot_scatter: also scatter every point, coloured by the fixed factor's value.
  """
  if ax is None:
    plt = plotting.pyplot()
    plt.figure(figsize=(10, 7))
    ax = plt.axes()
  fixed_column = gen_factors[:, const_factor_idx]
  moved_column = gen_factors[:, intervened_factor_idx]
  z = latents[:, latent_dim]
  fixed_values = np.unique(fixed_column)
  moved_values = np.unique(moved_column)

  if plot_scatter:
    color_index = np.searchsorted(fixed_values, fixed_column)
    ax.scatter(moved_column, z, c=[_COLORS[k % len(_COLORS)] for k in color_index])

  if no_conditioning:
    groups = [z[moved_column == v] for v in moved_values]
    means = np.array([np.mean(g) for g in groups])
    medians = np.array([np.median(g) for g in groups])
    stds = np.array([np.std(g) for g in groups])
    ax.plot(moved_values, means, linewidth=2, markersize=12, label="mean")
    ax.plot(moved_values, medians, linewidth=2, markersize=12, label="median")
    for band in (means + stds, means - stds):
      ax.plot(moved_values, band, linestyle="--", c="b", linewidth=1)
    ax.set_ylabel("E[z_{}|g_{}]".format(latent_dim, intervened_factor_idx))
    ax.set_xlabel("g_{}".format(intervened_factor_idx))
    ax.legend()
    return

  conditional_means = _conditional_means(z, fixed_column, moved_column)
  for k, fixed in enumerate(fixed_values):
    ax.plot(moved_values, conditional_means[k], "o--", c=_COLORS[k % len(_COLORS)],
            label="g_{}=={}".format(const_factor_idx, fixed), linewidth=1.5, markersize=3)
  ax.set_xlabel("int. g_{}".format(intervened_factor_idx))
  ax.set_ylabel("E[z_{}|g_{}, g_{}]".format(latent_dim, const_factor_idx,
                                           intervened_factor_idx))
  ax.set_title("Interventional Effect (keeping parent fixed)")
  if plot_legend:
    ax.legend()


def _conditional_means(z, fixed_column, moved_column):
  """[fixed value, moved value] -> mean of z over the points with both, NaN where none.

  One pass of bincount instead of a mask per pair (a quarter of the plot's time with a
  40-valued factor held fixed). A pair absent from the sample leaves a gap in its line.
  """
  fixed_values, fixed_index = np.unique(fixed_column, return_inverse=True)
  moved_values, moved_index = np.unique(moved_column, return_inverse=True)
  shape = (len(fixed_values), len(moved_values))
  cells = np.ravel_multi_index((fixed_index.reshape(-1), moved_index.reshape(-1)), shape)
  sums = np.bincount(cells, weights=z, minlength=np.prod(shape))
  counts = np.bincount(cells, minlength=np.prod(shape))
  with np.errstate(invalid="ignore"):
    return (sums / counts).reshape(shape)
