"""At which threshold factors of variation come to share latent codes.

The factors x codes matrix is read as a bipartite graph. Adding its edges
from the strongest down (union-find), two factors merge when an edge joins
their trees; each such merge is one row of a scipy-style linkage matrix whose
"distance" is the rank of the edge that caused it. The merges are returned
as scores and, when matplotlib is installed, drawn as a dendrogram.
"""
import numpy as np
from scipy.cluster import hierarchy

from dlib_torch.visualize import plotting


def dendrogram_plot(matrix, output_dir, factor_names):
  """Computes the merges of factors and draws them to output_dir + ".png".

  Args:
    matrix: (num_factors, num_codes) statistical relation of factors and codes.
    output_dir: path of the plot without its ".png" extension (as the original).
    factor_names: labels of the factors; None labels them by index.

  Returns:
    {"merge_<a>_<b>": rank of the edge that joined factors a and b}.
  """
  z, discovered, thresholds = _merge_events(matrix)
  num_factors = matrix.shape[0]
  if (len(z) == num_factors - 1 and num_factors > 1 and
      plotting.available_or_log("the dendrogram " + output_dir)):
    names = (list(range(num_factors)) if factor_names is None else list(factor_names))
    _plot(z, discovered, thresholds, names, output_dir + ".png")
  return report_merges(z, num_factors)


def report_merges(z, num_factors):
  """{"merge_<a>_<b>": edge rank} for every pair of factors joined by a linkage row.

  Args:
    z: linkage rows [cluster_1, cluster_2, edge rank, number of factors];
      clusters 0..num_factors-1 are the factors, later ones the merges in order.
    num_factors: number of factors.
  """
  members = {i: [i] for i in range(num_factors)}
  scores = {}
  for new_cluster, (first, second, rank, _) in enumerate(z, start=num_factors):
    first_members, second_members = members.pop(int(first)), members.pop(int(second))
    for a in first_members:
      for b in second_members:
        scores["merge_{}_{}".format(a, b)] = float(rank)
    members[new_cluster] = first_members + second_members
  return scores


def _merge_events(matrix):
  """Union-find over the edges, strongest first.

  Returns:
    z: (merges, 4) linkage rows, in the order the merges happen.
    discovered: factor -> rank of its strongest edge.
    thresholds: the edge weights in rank order.
  """
  num_factors, num_codes = matrix.shape
  # Edge k joins factor k % F and code k // F (codes after the factors as
  # graph nodes). Ranking sorts the weights as Python objects, as the original
  # did through pandas: that fixes the order of tied weights.
  weights = matrix.T.reshape(-1)
  order = weights.astype(object).argsort()[::-1]
  parent = list(range(num_factors + num_codes))

  def find(node):
    root = node
    while parent[root] != root:
      root = parent[root]
    while parent[node] != root:
      parent[node], node = root, parent[node]
    return root

  cluster_of_root = list(range(num_factors))
  cluster_size = [1] * num_factors
  rows, discovered = [], {}
  for rank, edge in enumerate(order):
    factor, code = int(edge % num_factors), int(edge // num_factors) + num_factors
    discovered.setdefault(factor, rank)
    factor_root, code_root = find(factor), find(code)
    if factor_root == code_root:
      continue
    # The smaller id becomes the root, so trees stay rooted at a factor.
    parent[max(factor_root, code_root)] = min(factor_root, code_root)
    if code_root < num_factors:  # Both trees hold factors: record the merge.
      first, second = cluster_of_root[factor_root], cluster_of_root[code_root]
      cluster_size.append(cluster_size[first] + cluster_size[second])
      new_cluster = len(cluster_size) - 1
      rows.append([first, second, rank, cluster_size[new_cluster]])
      cluster_of_root[factor_root] = cluster_of_root[code_root] = new_cluster
  z = np.array(rows, dtype=np.float64).reshape(-1, 4)
  return z, discovered, weights[order]


def _plot(z, discovered, thresholds, factor_names, path):
  """A left-to-right dendrogram; a factor's line starts at the rank of its first edge."""
  tree = hierarchy.dendrogram(z, no_plot=True)
  # scipy places leaf k of the drawing at 5 + 10 k.
  leaf_at = {5 + 10 * k: leaf for k, leaf in enumerate(tree["leaves"])}
  plt = plotting.pyplot()
  fig, ax = plt.subplots()
  for xs, ds in zip(tree["icoord"], tree["dcoord"]):
    ds = list(ds)
    for end in (0, -1):
      if ds[end] == 0:  # a leaf
        ds[end] = discovered[leaf_at[xs[end]]]
    ax.plot(ds, xs, color="b")
  ax.set_yticks([5 + 10 * k for k in range(len(tree["leaves"]))],
                [str(factor_names[leaf]) for leaf in tree["leaves"]])
  ax.set_ylim(0, 10 * len(tree["leaves"]))
  tick_ids = np.arange(0, thresholds.shape[0], 10)
  ax.set_xticks(tick_ids, np.around(thresholds[tick_ids].astype(np.float32), 2))
  ax.set_xlabel("Threshold")
  ax.set_ylabel("Factor")
  plotting.save_figure(fig, path, bbox_inches="tight")
