"""scikit-learn's GradientBoostingClassifier, fitted with presorted features.

The metrics fit `GradientBoostingClassifier()` with every default, K x 100
depth-3 regression trees on the same X. scikit-learn sorts the samples of
every node by every feature for every tree; here each feature is sorted once
per fit, and a node's samples stay sorted by every feature as the tree grows
(a stable partition per split), so a tree level costs O(features x samples).

The trees are the ones scikit-learn 1.9 builds: the same xorshift feature
order (each tree's splitter seeded by one `randint(0, 2**31 - 1)` from the
estimator's RandomState, so numpy's global state after `fit` is sklearn's),
the same split positions (consecutive float32 values more than sklearn's
float32 1e-7 apart, in float32 arithmetic), the same
criterion sums and threshold midpoints, the same depth-first order and leaf
rules, the same Newton leaf values and gradients.

Only the order of additions can differ: sklearn sums a node's samples in
the order its introsort and partitions leave them, which is the presorted
order except among equal values of a feature (and, for a node's total, the
order the samples arrive in). Those sums then differ by rounding, which can
only change a decision that is a tie up to rounding: two candidate splits,
or an impurity or improvement against sklearn's EPSILON. Nodes are split
with the presorted orders, checking these decisions against a bound on that
rounding; a tie between candidates in a node of a few samples is
settled by trying every total sklearn's order could give. A node with any
other such tie is split again in sklearn's own order of its samples, found
by replaying sklearn's sorts (its introsort where values tie) and partitions
along the path from the root: its sums are then sklearn's exactly.

The fitted estimator is a `GradientBoostingClassifier` whose `estimators_`
hold sklearn `DecisionTreeRegressor`s, so prediction, `feature_importances_`
and pickling are sklearn's own. Any other configuration (other parameters,
sample weights, sparse X, another sklearn version) is fitted by sklearn.
"""
import functools
import math

from absl import logging

import numba
import numpy as np
import sklearn
from scipy import sparse
from sklearn import ensemble
from sklearn import tree as sk_tree
from sklearn.ensemble._gb import _init_raw_predictions
from sklearn.tree._tree import NODE_DTYPE
from sklearn.utils import validation

# The behaviour replicated here was read in, and is tested against, this
# sklearn release line; others are fitted by sklearn itself.
_VERIFIED_SKLEARN = "1.9."
# Parameters that may differ from sklearn's defaults (all others must not).
_FREE_PARAMS = ("n_estimators", "learning_rate", "max_depth", "random_state")
_RAND_R_MAX = 2**31 - 1
# A float32 in sklearn, added to float32 values in float32 arithmetic.
_FEATURE_THRESHOLD = np.float32(1e-7)
# sklearn's tolerance for a zero impurity or improvement.
_EPSILON = float(np.finfo(np.float64).eps)
_TREE_LEAF = -1
_TREE_UNDEFINED = -2
# Lists shorter than this are sorted by insertion in sklearn's introsort.
_INSERTION_SORT_MAX = 15
# How `_node_split` orders a node's samples (see there).
_PRESORTED = 0
_SKLEARN_ORDER = 1
# Nodes up to this size check the possible orders of sklearn's sum_total.
_TINY_NODE = 7


@functools.cache
def _warn_unverified_sklearn():
  logging.warning(
      "scikit-learn %s: the presorted gradient boosting is verified against %sx only; "
      "falling back to sklearn's own (same results, about 13x slower).",
      sklearn.__version__, _VERIFIED_SKLEARN)


class PresortedGradientBoostingClassifier(ensemble.GradientBoostingClassifier):
  """GradientBoostingClassifier whose default configuration fits much faster.

  Same parameters, attributes and results as sklearn's estimator (see the
  module docstring); `resplit_nodes_` counts the nodes that were split again
  in sklearn's order of their samples.
  """

  def fit(self, X, y, sample_weight=None, monitor=None):  # pylint: disable=invalid-name
    if not self._presorted_fit_applies(X, sample_weight, monitor):
      return super().fit(X, y, sample_weight=sample_weight, monitor=monitor)
    self._validate_params()
    self._clear_state()
    # The same checks and encodings as sklearn's fit, so errors are its own.
    X, y = validation.validate_data(  # pylint: disable=invalid-name
        self, X, y, accept_sparse=["csr", "csc", "coo"], dtype=np.float32,
        multi_output=True)
    y = validation.column_or_1d(self._encode_y(y=y, sample_weight=None), warn=True)
    self._set_max_features()
    self._loss = self._get_loss(sample_weight=None)
    self._init_state()
    self.init_.fit(X, y)
    raw_predictions = np.ascontiguousarray(
        _init_raw_predictions(X, self.init_, self._loss, True))
    self._rng = validation.check_random_state(self.random_state)
    n_trees = self.n_trees_per_iteration_
    # Each tree's splitter draws its seed when the tree is fitted; no other
    # draw happens in between, so they can all be drawn first.
    seeds = np.array([self._rng.randint(0, _RAND_R_MAX)
                      for _ in range(self.n_estimators * n_trees)], dtype=np.int64)
    x_t = np.ascontiguousarray(X.T)
    presorted = np.ascontiguousarray(np.argsort(x_t, axis=1, kind="stable"))
    max_nodes = 2**(self.max_depth + 1) - 1
    nodes = _empty_nodes(len(seeds), max_nodes)
    self.resplit_nodes_ = _fit_stages(
        x_t, presorted, y, raw_predictions, seeds, self.n_estimators,
        float(self.learning_rate), self.max_depth, n_trees > 1, self.train_score_,
        *nodes)
    self._store_trees(nodes, X.shape[1])
    self.n_estimators_ = self.n_estimators
    return self

  def _presorted_fit_applies(self, X, sample_weight, monitor):  # pylint: disable=invalid-name
    if not sklearn.__version__.startswith(_VERIFIED_SKLEARN):
      _warn_unverified_sklearn()
      return False
    if sample_weight is not None or monitor is not None or sparse.issparse(X):
      return False
    defaults = ensemble.GradientBoostingClassifier().get_params()
    params = self.get_params()
    if any(params[k] is not defaults[k] and params[k] != defaults[k]
           for k in defaults if k not in _FREE_PARAMS):
      return False
    # Node arrays are allocated for full trees of this depth.
    if not (isinstance(self.max_depth, (int, np.integer)) and 1 <= self.max_depth <= 6):
      return False
    # NaN or infinite X, or X that is not numbers: sklearn raises; let it.
    try:
      return bool(np.isfinite(np.asarray(X, dtype=np.float32)).all())
    except (TypeError, ValueError):
      return False

  def _store_trees(self, nodes, n_features):
    """Wraps the node arrays into fitted sklearn DecisionTreeRegressors."""
    (left, right, feature, threshold, impurity, n_samples, value, missing_left,
     node_count, depth) = nodes
    n_trees = self.n_trees_per_iteration_
    # The records of every tree at once (a tree's are the first node_count of its row, which
    # Tree.__setstate__ copies): field by field per tree cost over half of a small fit's time.
    records = np.zeros(left.shape, dtype=NODE_DTYPE)
    for field, column in (("left_child", left), ("right_child", right), ("feature", feature),
                          ("threshold", threshold), ("impurity", impurity),
                          ("n_node_samples", n_samples), ("weighted_n_node_samples", n_samples),
                          ("missing_go_to_left", missing_left)):
      records[field] = column
    tree_params = dict(
        criterion="squared_error", splitter="best", max_depth=self.max_depth,
        min_samples_split=self.min_samples_split, min_samples_leaf=self.min_samples_leaf,
        min_weight_fraction_leaf=self.min_weight_fraction_leaf,
        min_impurity_decrease=self.min_impurity_decrease, max_features=self.max_features,
        max_leaf_nodes=self.max_leaf_nodes, random_state=self._rng, ccp_alpha=self.ccp_alpha)
    one_class = np.ones(1, dtype=np.intp)  # A regression tree's: one output, one "class".
    for t in range(len(node_count)):
      count = node_count[t]
      tree_ = sk_tree._tree.Tree(n_features, one_class, 1)  # pylint: disable=protected-access
      tree_.__setstate__({
          "max_depth": int(depth[t]), "node_count": int(count),
          "nodes": records[t, :count],
          "values": value[t, :count].reshape(count, 1, 1).copy()})
      estimator = sk_tree.DecisionTreeRegressor(**tree_params)
      estimator.n_features_in_ = n_features
      estimator.n_outputs_ = 1
      estimator.max_features_ = n_features
      estimator.tree_ = tree_
      self.estimators_[t // n_trees, t % n_trees] = estimator


def _empty_nodes(n_trees, max_nodes):
  """Node arrays [tree, node] filled by `_fit_stages`, then node and depth counts."""
  return (np.full((n_trees, max_nodes), _TREE_LEAF, dtype=np.intp),
          np.full((n_trees, max_nodes), _TREE_LEAF, dtype=np.intp),
          np.full((n_trees, max_nodes), _TREE_UNDEFINED, dtype=np.intp),
          np.full((n_trees, max_nodes), _TREE_UNDEFINED, dtype=np.float64),
          np.zeros((n_trees, max_nodes), dtype=np.float64),
          np.zeros((n_trees, max_nodes), dtype=np.intp),
          np.zeros((n_trees, max_nodes), dtype=np.float64),
          np.zeros((n_trees, max_nodes), dtype=np.uint8),
          np.zeros(n_trees, dtype=np.intp),
          np.zeros(n_trees, dtype=np.intp))


@numba.njit(cache=True)
def _rand_int(low, high, rand_state):
  """sklearn's rand_int: its xorshift `our_rand_r` step, state in rand_state[0]."""
  s = rand_state[0]
  if s == 0:
    s = 1
  s ^= (s << 13) & 0xFFFFFFFF
  s ^= s >> 17
  s ^= (s << 5) & 0xFFFFFFFF
  rand_state[0] = s
  return low + (s % (_RAND_R_MAX + 1)) % (high - low)


@numba.njit(cache=True)
def _pairwise_sum(a, lo, n):
  """numpy's pairwise summation of a[lo:lo + n] (what np.mean sums with)."""
  if n < 8:
    res = -0.0
    for i in range(lo, lo + n):
      res += a[i]
    return res
  if n <= 128:
    r = np.empty(8)
    for j in range(8):
      r[j] = a[lo + j]
    i = 8
    while i < n - n % 8:
      for j in range(8):
        r[j] += a[lo + i + j]
      i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
      res += a[lo + i]
      i += 1
    return res
  half = n // 2
  half -= half % 8
  return _pairwise_sum(a, lo, half) + _pairwise_sum(a, lo + half, n - half)


@numba.njit(cache=True)
def _swap(values, indices, i, j):
  values[i], values[j] = values[j], values[i]
  indices[i], indices[j] = indices[j], indices[i]


@numba.njit(cache=True)
def _sift_down(values, indices, lo, start, end):
  root = start
  while True:
    child = root * 2 + 1
    maxind = root
    if child < end and values[lo + maxind] < values[lo + child]:
      maxind = child
    if child + 1 < end and values[lo + maxind] < values[lo + child + 1]:
      maxind = child + 1
    if maxind == root:
      break
    _swap(values, indices, lo + root, lo + maxind)
    root = maxind


@numba.njit(cache=True)
def _heapsort(values, indices, lo, n):
  start = (n - 2) // 2
  end = n
  while True:
    _sift_down(values, indices, lo, start, end)
    if start == 0:
      break
    start -= 1
  end = n - 1
  while end > 0:
    _swap(values, indices, lo, lo + end)
    _sift_down(values, indices, lo, 0, end)
    end -= 1


@numba.njit(cache=True)
def _median3(values, lo, n):
  a = values[lo]
  b = values[lo + n // 2]
  c = values[lo + n - 1]
  if a < b:
    if b < c:
      return b
    elif a < c:
      return c
    return a
  elif b < c:
    if a < c:
      return a
    return c
  return b


@numba.njit(cache=True)
def _insertion_sort(values, indices, lo, n):
  for i in range(1, n):
    temp_val = values[lo + i]
    temp_idx = indices[lo + i]
    j = i
    while j > 0 and values[lo + j - 1] > temp_val:
      values[lo + j] = values[lo + j - 1]
      indices[lo + j] = indices[lo + j - 1]
      j -= 1
    values[lo + j] = temp_val
    indices[lo + j] = temp_idx


@numba.njit(cache=True)
def _introsort(values, indices, lo, n):
  """sklearn's simultaneous_sort with 3-way partitioning, step for step.

  The order it leaves equal values in is what sklearn's sums run over.
  Disjoint parts are sorted independently, so an explicit stack in any order
  gives its recursion's result.
  """
  if n == 0:
    return
  stack = np.empty((64 + 2 * int(math.log2(n)), 3), dtype=np.int64)
  stack[0, 0], stack[0, 1], stack[0, 2] = lo, n, 2 * int(math.log2(n))
  top = 1
  while top > 0:
    top -= 1
    lo, n, maxd = stack[top, 0], stack[top, 1], stack[top, 2]
    heap_sorted = False
    while n > _INSERTION_SORT_MAX:
      if maxd <= 0:
        _heapsort(values, indices, lo, n)
        heap_sorted = True
        break
      maxd -= 1
      pivot = _median3(values, lo, n)
      i = 0
      left = 0
      right = n
      while i < right:
        if values[lo + i] < pivot:
          _swap(values, indices, lo + i, lo + left)
          i += 1
          left += 1
        elif values[lo + i] > pivot:
          right -= 1
          _swap(values, indices, lo + i, lo + right)
        else:
          i += 1
      stack[top, 0], stack[top, 1], stack[top, 2] = lo, left, maxd
      top += 1
      lo += right
      n -= right
    if not heap_sorted:
      _insertion_sort(values, indices, lo, n)


@numba.njit(cache=True)
def _move_left(order, g, start, end, pos, new_pos, sum_left, sum_total):
  """sklearn's RegressionCriterion.update: sum_left after moving to new_pos,
  added from pos or subtracted from the end, whichever is fewer samples."""
  if new_pos - pos <= end - new_pos:
    for q in range(pos, new_pos):
      sum_left += g[order[q]]
  else:
    sum_left = sum_total
    for q in range(end - 1, new_pos - 1, -1):
      sum_left -= g[order[q]]
  return sum_left


@numba.njit(cache=True)
def _children_impurities(order, g, start, pos, end, sum_total, sq_sum_total, node_impurity,
                         w_total):
  """The children's impurities and the split's weighted improvement, as sklearn
  computes them, for the node's samples [start, end) in `order` split at pos."""
  sum_left = _move_left(order, g, start, end, start, pos, 0., sum_total)
  sq_sum_left = 0.
  for p in range(start, pos):
    v = g[order[p]]
    sq_sum_left += v * v
  weight = float(end - start)
  weight_left = float(pos - start)
  weight_right = weight - weight_left
  sum_right = sum_total - sum_left
  impurity_left = sq_sum_left / weight_left - (sum_left / weight_left)**2
  impurity_right = ((sq_sum_total - sq_sum_left) / weight_right
                    - (sum_right / weight_right)**2)
  improvement = (weight / w_total) * (
      node_impurity - (weight_right / weight * impurity_right)
      - (weight_left / weight * impurity_left))
  return impurity_left, impurity_right, improvement


@numba.njit(cache=True)
def _scan_feature(order, x_row, g, inverse, start, end, sum_total, weight, tolerance):
  """sklearn's best-split search over one feature, samples sorted in `order`.

  sum_left follows sklearn's updates exactly (added sample by sample from the
  last split position, or recomputed from the end when that is shorter). The
  proxy improvement is first estimated with the reciprocals `inverse` (within
  a few ulps); only candidates that could be within `tolerance` of the best
  get sklearn's exact proxy. Returns the best proxy (first of equals), the
  largest other proxy within reach of it, the best position and threshold.
  """
  best = -np.inf
  second = -np.inf
  best_pos = end
  threshold = 0.
  pos = start
  sum_left = 0.
  previous = x_row[order[start]]
  for p in range(start + 1, end):
    sum_left += g[order[p - 1]]
    current = x_row[order[p]]
    if current <= previous + _FEATURE_THRESHOLD:
      previous = current
      continue
    if p - pos > end - p:
      sum_left = sum_total
      for q in range(end - 1, p - 1, -1):
        sum_left -= g[order[q]]
    n_left = p - start
    n_right = end - p
    sum_right = sum_total - sum_left
    estimate = (sum_left * sum_left * inverse[n_left]
                + sum_right * sum_right * inverse[n_right])
    if estimate >= best - tolerance - 1e-14 * abs(estimate):
      weight_left = float(n_left)
      proxy = (sum_left * sum_left / weight_left
               + sum_right * sum_right / (weight - weight_left))
      if proxy > best:
        second = best
        best = proxy
        best_pos = p
        threshold = np.float64(previous) / 2.0 + np.float64(current) / 2.0
      elif proxy > second:
        second = proxy
    pos = p
    previous = current
  return best, second, best_pos, threshold


@numba.njit(cache=True)
def _has_ties(x_row, order, start, end):
  """Whether two of the node's samples have equal values in this feature."""
  for p in range(start + 1, end):
    if x_row[order[p]] == x_row[order[p - 1]]:
      return True
  return False


@numba.njit(cache=True)
def _sklearn_sort(x_row, rows_f, samples, values, start, end, tied):
  """Sorts samples[start:end] by a feature as sklearn's splitter does."""
  if tied:
    for p in range(start, end):
      values[p] = x_row[samples[p]]
    _introsort(values, samples, start, end - start)
  else:
    # Distinct values have one sorted order, whatever sklearn starts from.
    samples[start:end] = rows_f[start:end]


@numba.njit(cache=True)
def _node_split(mode, x_t, rows, samples, values, g, inverse, start, end,
                sum_total, weight, tolerance, n_known_constants, features,
                constant_features, rand_state, sorted_features):
  """sklearn's node_split_best (dense, no missing values, all features).

  Modes: _PRESORTED scans rows[feature]; _SKLEARN_ORDER first sorts `samples`
  (sklearn's order of the node's samples) as sklearn does, and scans that:
  sklearn's sums exactly. Both record the features sklearn sorts, in order,
  in sorted_features.
  Returns best feature, position, threshold, proxy, the second best proxy
  within `tolerance`, the number of constant features now known and the
  number of sorted features.
  """
  n_features = features.shape[0]
  f_i = n_features
  n_visited = 0
  n_found_constants = 0
  n_drawn_constants = 0
  n_total_constants = n_known_constants
  n_sorted = 0
  best = -np.inf
  second = -np.inf
  best_pos = end
  best_threshold = 0.
  best_feature = 0
  while f_i > n_total_constants and (
      n_visited < n_features or n_visited <= n_found_constants + n_drawn_constants):
    n_visited += 1
    f_j = _rand_int(n_drawn_constants, f_i - n_found_constants, rand_state)
    if f_j < n_known_constants:
      features[n_drawn_constants], features[f_j] = features[f_j], features[n_drawn_constants]
      n_drawn_constants += 1
      continue
    f_j += n_found_constants
    feature = features[f_j]
    order = rows[feature]
    sorted_features[n_sorted] = feature
    n_sorted += 1
    if mode == _SKLEARN_ORDER:
      _sklearn_sort(x_t[feature], order, samples, values, start, end,
                    _has_ties(x_t[feature], order, start, end))
      order = samples
    if x_t[feature, order[end - 1]] <= x_t[feature, order[start]] + _FEATURE_THRESHOLD:
      features[f_j], features[n_total_constants] = features[n_total_constants], features[f_j]
      n_found_constants += 1
      n_total_constants += 1
      continue
    f_i -= 1
    features[f_i], features[f_j] = features[f_j], features[f_i]
    proxy, proxy_second, pos, threshold = _scan_feature(
        order, x_t[feature], g, inverse, start, end, sum_total, weight, tolerance)
    second = max(second, proxy_second, min(best, proxy))
    if proxy > best:
      best = proxy
      best_pos = pos
      best_threshold = threshold
      best_feature = feature
  # sklearn restores the known constants' order and records the new ones.
  features[:n_known_constants] = constant_features[:n_known_constants]
  constant_features[n_known_constants:n_total_constants] = (
      features[n_known_constants:n_total_constants])
  return (best_feature, best_pos, best_threshold, best, second, n_total_constants,
          n_sorted)


@numba.njit(cache=True)
def _possible_sums(g, order, start, end, out):
  """The distinct values of a sum from zero of g[order[start:end]] in any
  order of addition (Heap's permutations); their number, or -1 when more
  than fit in `out`."""
  m = end - start
  items = np.empty(m)
  for q in range(m):
    items[q] = g[order[start + q]]
  counters = np.zeros(m, dtype=np.int64)
  n_out = 0
  i = 0
  while True:
    total = 0.
    for q in range(m):
      total += items[q]
    known = False
    for q in range(n_out):
      if out[q] == total:
        known = True
        break
    if not known:
      if n_out == out.shape[0]:
        return -1
      out[n_out] = total
      n_out += 1
    # Next permutation (Heap's algorithm, iterative).
    while i < m and counters[i] >= i:
      counters[i] = 0
      i += 1
    if i >= m:
      return n_out
    if i % 2 == 0:
      items[0], items[i] = items[i], items[0]
    else:
      items[counters[i]], items[i] = items[i], items[counters[i]]
    counters[i] += 1
    i = 1


@numba.njit(cache=True)
def _tiny_node_split_is_sklearns(x_t, rows, g, start, end, weight, best_feature,
                                 best_pos, sorted_features, n_sorted):
  """Whether sklearn picks this split in a node of a few samples whose
  candidate splits tie up to rounding.

  With no ties in the scanned features, sklearn scans them in our orders
  and only its sum_total (added in an order we do not track) can differ from
  ours: the split is sklearn's if every possible sum_total gives it.
  """
  for j in range(n_sorted):
    f = sorted_features[j]
    order = rows[f]
    # (Features found constant are not scanned: their ties do not matter.)
    if (x_t[f, order[end - 1]] > x_t[f, order[start]] + _FEATURE_THRESHOLD
        and _has_ties(x_t[f], order, start, end)):
      return False
  totals = np.empty(16)
  n_totals = _possible_sums(g, rows[0], start, end, totals)
  if n_totals < 0:
    return False
  for t in range(n_totals):
    sum_total = totals[t]
    best = -np.inf
    winner_feature = -1
    winner_pos = -1
    for j in range(n_sorted):
      f = sorted_features[j]
      order = rows[f]
      x_row = x_t[f]
      if x_row[order[end - 1]] <= x_row[order[start]] + _FEATURE_THRESHOLD:
        continue
      pos = start
      sum_left = 0.
      previous = x_row[order[start]]
      for p in range(start + 1, end):
        current = x_row[order[p]]
        if current <= previous + _FEATURE_THRESHOLD:
          previous = current
          continue
        sum_left = _move_left(order, g, start, end, pos, p, sum_left, sum_total)
        weight_left = float(p - start)
        sum_right = sum_total - sum_left
        proxy = (sum_left * sum_left / weight_left
                 + sum_right * sum_right / (weight - weight_left))
        if proxy > best:
          best = proxy
          winner_feature = f
          winner_pos = p
        pos = p
        previous = current
    if winner_feature != best_feature or winner_pos != best_pos:
      return False
  return True


@numba.njit(cache=True)
def _sklearn_entry_order(x_t, presorted, g, samples, values, buffer, mark, depth,
                         path_start, path_end, path_feature, path_threshold,
                         path_sorted, path_n_sorted, start, end):
  """Puts in samples[start:end] the order in which sklearn's splitter holds the
  samples of the node at `depth` when it reaches it, replaying its sorts and
  partitions along the path from the root (path_*[a]: the ancestor at depth
  a); returns sklearn's impurity of the node.

  At each ancestor only the sorts after the last feature without ties
  matter: that feature's order is its presorted order.
  """
  n = g.shape[0]
  for i in range(n):
    samples[i] = i
    mark[i] = 0
  sum_total = 0.
  sq_sum_total = 0.
  for i in range(n):
    sum_total += g[i]
    sq_sum_total += g[i] * g[i]
  impurity = sq_sum_total / n - (sum_total / n)**2
  for a in range(depth):
    a_start, a_end = path_start[a], path_end[a]
    sum_total = 0.
    sq_sum_total = 0.
    for p in range(a_start, a_end):
      v = g[samples[p]]
      sum_total += v
      sq_sum_total += v * v
      mark[samples[p]] = a + 1
    first = 0
    for j in range(path_n_sorted[a] - 1, -1, -1):
      f = path_sorted[a, j]
      m = 0
      for q in range(n):
        i = presorted[f, q]
        if mark[i] == a + 1:
          buffer[m] = i
          m += 1
      if not _has_ties(x_t[f], buffer, 0, m):
        samples[a_start:a_end] = buffer[:m]
        first = j + 1
        break
    for j in range(first, path_n_sorted[a]):
      f = path_sorted[a, j]
      _sklearn_sort(x_t[f], buffer, samples, values, a_start, a_end, True)
    _partition_final(x_t, samples, a_start, a_end, path_feature[a], path_threshold[a])
    # The child on the path, and sklearn's impurity of it after the partition.
    child_start = path_start[a + 1] if a + 1 < depth else start
    child_end = path_end[a + 1] if a + 1 < depth else end
    pos = child_end if child_start == a_start else child_start
    sum_left = _move_left(samples, g, a_start, a_end, a_start, pos, 0., sum_total)
    sq_sum_left = 0.
    for p in range(a_start, pos):
      v = g[samples[p]]
      sq_sum_left += v * v
    weight_left = float(pos - a_start)
    weight_right = float(a_end - pos)
    if child_start == a_start:
      impurity = sq_sum_left / weight_left - (sum_left / weight_left)**2
    else:
      impurity = ((sq_sum_total - sq_sum_left) / weight_right
                  - ((sum_total - sum_left) / weight_right)**2)
  return impurity


@numba.njit(cache=True)
def _partition_final(x_t, samples, start, end, feature, threshold):
  """sklearn's partition_samples_final (swaps, not stable)."""
  lo = start
  hi = end
  while lo < hi:
    if np.float64(x_t[feature, samples[lo]]) <= threshold:
      lo += 1
    else:
      hi -= 1
      samples[lo], samples[hi] = samples[hi], samples[lo]


@numba.njit(cache=True)
def _stable_partition(rows, goes_left, start, end, buffer):
  """Splits every feature's sorted samples in [start, end) into left then
  right, each still sorted."""
  for f in range(rows.shape[0]):
    row = rows[f]
    n_left = start
    n_right = 0
    for p in range(start, end):
      # Branch-free: which side a sample goes is unpredictable.
      i = row[p]
      left = goes_left[i]
      row[n_left] = i
      buffer[n_right] = i
      n_left += left
      n_right += 1 - left
    row[n_left:end] = buffer[:n_right]


@numba.njit(cache=True)
def _build_tree(x_t, presorted, g, inverse, seed, max_depth, rows, samples, values,
                goes_left, buffer, mark, features, constant_features, leaf_of, left,
                right, feature, threshold, impurity, n_samples, value, missing_left):
  """Builds one tree as sklearn's DepthFirstTreeBuilder does.

  Splits nodes with sums over the presorted orders; a node where such a sum
  could decide differently from sklearn's (see the module docstring) is split
  again in sklearn's own order of its samples. Fills the node arrays and
  leaf_of (each sample's leaf); returns the node count, the depth and the
  number of nodes split again.
  """
  n = g.shape[0]
  n_features = features.shape[0]
  eps = _EPSILON
  rand_state = np.array([seed], dtype=np.int64)
  for f in range(n_features):
    features[f] = f
  rows[:, :] = presorted
  saved_features = np.empty(n_features, dtype=np.int64)
  # The split nodes on the current path, by depth.
  path_start = np.empty(max_depth + 1, dtype=np.int64)
  path_end = np.empty(max_depth + 1, dtype=np.int64)
  path_feature = np.empty(max_depth + 1, dtype=np.int64)
  path_threshold = np.empty(max_depth + 1)
  path_sorted = np.empty((max_depth + 1, n_features), dtype=np.int64)
  path_n_sorted = np.empty(max_depth + 1, dtype=np.int64)
  stack_size = 2 * max_depth + 2
  st_start = np.empty(stack_size, dtype=np.int64)
  st_end = np.empty(stack_size, dtype=np.int64)
  st_depth = np.empty(stack_size, dtype=np.int64)
  st_parent = np.empty(stack_size, dtype=np.int64)
  st_is_left = np.empty(stack_size, dtype=np.bool_)
  st_impurity = np.empty(stack_size)
  # How far the impurity can be from sklearn's (the root's is sklearn's).
  st_impurity_error = np.zeros(stack_size)
  st_constants = np.empty(stack_size, dtype=np.int64)
  st_start[0], st_end[0], st_depth[0], st_parent[0] = 0, n, 0, -1
  st_is_left[0], st_impurity[0], st_constants[0] = False, np.inf, 0
  top = 1
  node_count = 0
  max_depth_seen = -1
  resplits = 0
  left_error = right_error = 0.
  best_feature, pos, best_threshold = 0, n, 0.
  impurity_left = impurity_right = improvement = 0.
  while top > 0:
    top -= 1
    start, end, depth = st_start[top], st_end[top], st_depth[top]
    parent, is_left = st_parent[top], st_is_left[top]
    node_impurity, n_constants = st_impurity[top], st_constants[top]
    impurity_error = st_impurity_error[top]
    order = rows[0]
    sum_total = 0.
    sq_sum_total = 0.
    abs_sum = 0.
    abs_max = 0.
    for p in range(start, end):
      # The root's sums in index order are sklearn's.
      v = g[p] if depth == 0 else g[order[p]]
      sum_total += v
      sq_sum_total += v * v
      abs_sum += abs(v)
      abs_max = max(abs_max, abs(v))
    n_node = end - start
    weight = float(n_node)
    w_total = float(n)
    # Bound on how far sums over the same samples in another order can be
    # from these (first order, with margin).
    sum_error = 4. * n_node * eps * abs_sum
    splittable = depth < max_depth and n_node >= 2
    if node_count == 0:
      node_impurity = sq_sum_total / weight - (sum_total / weight)**2
    is_leaf = not splittable or node_impurity <= eps
    if not is_leaf:
      tolerance = 8. * abs_max * sum_error
      saved_features[:] = features
      saved_rand_state = rand_state[0]
      best_feature, pos, best_threshold, best, second, n_found, n_sorted = _node_split(
          _PRESORTED, x_t, rows, samples, values, g, inverse, start, end, sum_total,
          weight, tolerance, n_constants, features, constant_features, rand_state,
          path_sorted[depth])
      # A tie up to rounding between candidate splits, unless settled.
      resplit = best - second <= tolerance and (
          n_node > _TINY_NODE or not _tiny_node_split_is_sklearns(
              x_t, rows, g, start, end, weight, best_feature, pos,
              path_sorted[depth], n_sorted))
      if pos < end and not resplit:
        impurity_left, impurity_right, improvement = _children_impurities(
            rows[best_feature], g, start, pos, end, sum_total, sq_sum_total, node_impurity,
            w_total)
        weight_left = float(pos - start)
        weight_right = weight - weight_left
        # A child's impurity or the improvement against EPSILON up to rounding.
        child_tolerance = 8. * abs_max * sum_error
        left_error = child_tolerance / weight_left
        right_error = child_tolerance / weight_right
        resplit = ((depth + 1 < max_depth and pos - start >= 2 and
                    abs(impurity_left - eps) <= left_error) or
                   (depth + 1 < max_depth and end - pos >= 2 and
                    abs(impurity_right - eps) <= right_error) or
                   abs(improvement + eps) <= (weight * impurity_error
                                              + 3. * child_tolerance) / w_total)
      if resplit:
        resplits += 1
        node_impurity = _sklearn_entry_order(
            x_t, presorted, g, samples, values, buffer, goes_left, depth, path_start,
            path_end, path_feature, path_threshold, path_sorted, path_n_sorted,
            start, end)
        features[:] = saved_features
        rand_state[0] = saved_rand_state
        sum_total = 0.
        sq_sum_total = 0.
        for p in range(start, end):
          v = g[samples[p]]
          sum_total += v
          sq_sum_total += v * v
        best_feature, pos, best_threshold, best, second, n_found, n_sorted = (
            _node_split(_SKLEARN_ORDER, x_t, rows, samples, values, g, inverse,
                        start, end, sum_total, weight, 0., n_constants, features,
                        constant_features, rand_state, path_sorted[depth]))
        if pos < end:
          _partition_final(x_t, samples, start, end, best_feature, best_threshold)
          impurity_left, impurity_right, improvement = _children_impurities(
              samples, g, start, pos, end, sum_total, sq_sum_total, node_impurity, w_total)
          left_error = right_error = 0.
      n_constants = n_found
      is_leaf = pos >= end or improvement + eps < 0.
    node_id = node_count
    node_count += 1
    if parent >= 0:
      if is_left:
        left[parent] = node_id
      else:
        right[parent] = node_id
    impurity[node_id] = node_impurity
    n_samples[node_id] = n_node
    value[node_id] = sum_total / weight
    if is_leaf:
      for p in range(start, end):
        leaf_of[rows[0, p]] = node_id
    else:
      feature[node_id] = best_feature
      threshold[node_id] = best_threshold
      missing_left[node_id] = (pos - start) > (end - pos)
      path_start[depth], path_end[depth] = start, end
      path_feature[depth], path_threshold[depth] = best_feature, best_threshold
      path_n_sorted[depth] = n_sorted
      if depth + 1 < max_depth:
        for p in range(start, end):
          goes_left[rows[best_feature, p]] = p < pos
        _stable_partition(rows, goes_left, start, end, buffer)
      else:
        # The children are leaves: only their samples are needed.
        rows[0, start:end] = rows[best_feature, start:end]
      st_start[top], st_end[top], st_depth[top], st_parent[top] = pos, end, depth + 1, node_id
      st_is_left[top], st_impurity[top], st_constants[top] = False, impurity_right, n_constants
      st_impurity_error[top] = right_error
      top += 1
      st_start[top], st_end[top], st_depth[top], st_parent[top] = start, pos, depth + 1, node_id
      st_is_left[top], st_impurity[top], st_constants[top] = True, impurity_left, n_constants
      st_impurity_error[top] = left_error
      top += 1
    max_depth_seen = max(max_depth_seen, depth)
  return node_count, max_depth_seen, resplits


@numba.njit(cache=True)
def _log1pexp(r):
  """log(1 + exp(r)), piecewise as sklearn's losses compute it."""
  if r <= -37:
    return math.exp(r)
  if r <= -2:
    return math.log1p(math.exp(r))
  if r <= 18:
    return math.log(1. + math.exp(r))
  if r <= 33.3:
    return r + math.exp(-r)
  return r


@numba.njit(cache=True)
def _loss_and_neg_gradient(y, raw, out, with_gradient):
  """The train score sklearn records for raw predictions (to rounding) and,
  `with_gradient`, minus sklearn's log-loss gradient into out (exactly as
  HalfBinomialLoss / HalfMultinomialLoss compute it)."""
  n, n_trees = raw.shape
  total = 0.
  if n_trees == 1:
    for i in range(n):
      r = raw[i, 0]
      # sklearn's binomial train score is twice the half loss.
      total += 2. * (_log1pexp(r) - y[i] * r)
      if not with_gradient:
        continue
      if r > -37:
        e = math.exp(-r)
        out[i, 0] = -(((1 - y[i]) - y[i] * e) / (1 + e))
      else:
        out[i, 0] = -(math.exp(r) - y[i])
    return total / n
  p = np.empty(n_trees)
  for i in range(n):
    max_value = raw[i, 0]
    for k in range(1, n_trees):
      if max_value < raw[i, k]:
        max_value = raw[i, k]
    sum_exps = 0.
    for k in range(n_trees):
      p[k] = math.exp(raw[i, k] - max_value)
      sum_exps += p[k]
    total += math.log(sum_exps) + max_value - raw[i, int(y[i])]
    if with_gradient:
      for k in range(n_trees):
        out[i, k] = -(p[k] / sum_exps - (1. if y[i] == k else 0.))
  return total / n


@numba.njit(cache=True)
def _update_leaves(leaf_of, left, value, g, target, scale, n_nodes, by_leaf, prob_terms,
                   neg_g):
  """sklearn's _update_terminal_regions for the log losses: one Newton step
  per leaf, with np.mean's summation over the leaf's samples in index order."""
  n = leaf_of.shape[0]
  counts = np.zeros(n_nodes + 1, dtype=np.int64)
  for i in range(n):
    counts[leaf_of[i] + 1] += 1
  for node in range(n_nodes):
    counts[node + 1] += counts[node]
  fill = counts[:n_nodes].copy()
  for i in range(n):
    node = leaf_of[i]
    by_leaf[fill[node]] = i
    fill[node] += 1
  for node in range(n_nodes):
    if left[node] != _TREE_LEAF:
      continue
    lo = counts[node]
    m = counts[node + 1] - lo
    for q in range(lo, lo + m):
      i = by_leaf[q]
      neg_g[q] = g[i]
      prob = target[i] - g[i]
      prob_terms[q] = prob * (1 - prob)
    numerator = _pairwise_sum(neg_g, lo, m) / m
    numerator *= scale
    denominator = _pairwise_sum(prob_terms, lo, m) / m
    value[node] = 0. if abs(denominator) < 1e-150 else numerator / denominator


@numba.njit(cache=True)
def _fit_stages(x_t, presorted, y, raw, seeds, n_stages, learning_rate, max_depth,
                multiclass, train_score, left, right, feature, threshold, impurity,
                n_samples, value, missing_left, node_count, depth):
  """sklearn's boosting loop; returns how many nodes were split again in
  sklearn's order."""
  n_features, n = x_t.shape
  n_trees = raw.shape[1]
  neg_gradient = np.empty((n, n_trees))
  g = np.empty(n)
  target = np.empty(n)
  rows = np.empty((n_features, n), dtype=np.int64)
  samples = np.empty(n, dtype=np.int64)
  values = np.empty(n, dtype=np.float32)
  goes_left = np.empty(n, dtype=np.int64)
  mark = np.empty(n, dtype=np.int64)
  buffer = np.empty(n, dtype=np.int64)
  features = np.empty(n_features, dtype=np.int64)
  constant_features = np.empty(n_features, dtype=np.int64)
  leaf_of = np.empty(n, dtype=np.int64)
  by_leaf = np.empty(n, dtype=np.int64)
  prob_terms = np.empty(n)
  neg_g = np.empty(n)
  inverse = 1. / np.arange(n + 1)
  # The multinomial leaf step carries sklearn's (K - 1) / K factor.
  scale = (n_trees - 1) / n_trees if multiclass else 1.
  resplits = 0
  for stage in range(n_stages):
    # The loss at the stage's start is the previous stage's train score.
    loss = _loss_and_neg_gradient(y, raw, neg_gradient, True)
    if stage > 0:
      train_score[stage - 1] = loss
    for k in range(n_trees):
      t = stage * n_trees + k
      for i in range(n):
        g[i] = neg_gradient[i, k]
        target[i] = (1. if y[i] == k else 0.) if multiclass else y[i]
      count, tree_depth, n_resplit = _build_tree(
          x_t, presorted, g, inverse, seeds[t], max_depth, rows, samples, values,
          goes_left, buffer, mark, features, constant_features, leaf_of, left[t],
          right[t], feature[t], threshold[t], impurity[t], n_samples[t], value[t],
          missing_left[t])
      resplits += n_resplit
      node_count[t] = count
      depth[t] = tree_depth
      _update_leaves(leaf_of, left[t], value[t], g, target, scale, count, by_leaf,
                     prob_terms, neg_g)
      for i in range(n):
        raw[i, k] += learning_rate * value[t, leaf_of[i]]
  if n_stages > 0:
    train_score[n_stages - 1] = _loss_and_neg_gradient(y, raw, neg_gradient, False)
  return resplits
