"""PresortedGradientBoostingClassifier builds the trees sklearn's estimator builds."""
import pickle

import numpy as np
import pytest
from sklearn import ensemble
from sklearn.utils import _sorting

from dlib_torch.evaluation.metrics import presorted_boosting


def _gaussian(rs, n, d):
  return rs.normal(size=(n, d)).astype(np.float32)


def _duplicated(rs, n, d):
  x = rs.normal(size=(n, d // 2 + 1)).astype(np.float32)
  return np.hstack([x, x])[:, :d]


def _constant_columns(rs, n, d):
  x = _gaussian(rs, n, d)
  x[:, 1] = 3.
  x[:, -1] = 0.
  return x


def _quantised(rs, n, d):
  return np.round(rs.normal(size=(n, d)) * 2.) / 2.


def _near_ties(rs, n, d):
  # Values 1e-8 apart are one value for the splitter; 1e-6 apart are not.
  x = rs.randint(4, size=(n, d)).astype(np.float64)
  x += rs.randint(2, size=(n, d)) * 1e-8 + rs.randint(2, size=(n, d)) * (x == 2) * 1e-6
  return x


def _float32_neighbours(rs, n, d):
  # Neighbouring float32 values near 1 are 1.19e-7 apart, more than 1e-7, but
  # sklearn adds its float32 1e-7 in float32: not split points.
  base = rs.randint(1, 4, size=(n, d)).astype(np.float32)
  return base + rs.randint(3, size=(n, d)).astype(np.float32) * np.spacing(base)


def _mixed(rs, n, d):
  x = _duplicated(rs, n, d)
  x[:, 0] = np.round(x[:, 0])
  x[:, 2] = 1.
  return x


_DATA = {"gaussian": _gaussian, "duplicated": _duplicated,
         "constant_columns": _constant_columns, "quantised": _quantised,
         "near_ties": _near_ties, "float32_neighbours": _float32_neighbours,
         "mixed": _mixed}


def _labels(rs, x, num_classes):
  """Labels that depend on x (so that trees grow), with label noise."""
  signal = x[:, 0] + np.asarray(x[:, 1:]).sum(axis=1) * .3 + rs.normal(size=len(x)) * .3
  edges = np.quantile(signal, np.linspace(0, 1, num_classes + 1)[1:-1])
  y = np.digitize(signal, edges)
  y[:num_classes] = np.arange(num_classes)  # Every class present, even for tiny n.
  return y


def _assert_same_model(ours, theirs, x):
  assert ours.estimators_.shape == theirs.estimators_.shape
  for tree, expected in zip(ours.estimators_.ravel(), theirs.estimators_.ravel()):
    a, b = tree.tree_, expected.tree_
    np.testing.assert_array_equal(a.children_left, b.children_left)
    np.testing.assert_array_equal(a.children_right, b.children_right)
    np.testing.assert_array_equal(a.feature, b.feature)
    np.testing.assert_array_equal(a.threshold, b.threshold)
    np.testing.assert_array_equal(a.n_node_samples, b.n_node_samples)
    # Internal node values and impurities are sums in another order (pure
    # nodes: rounding noise); leaf values are the same.
    scale = np.abs(b.impurity).max() + np.abs(b.value).max()
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(a.impurity, b.impurity, rtol=1e-9, atol=1e-12 * scale)
    leaves = b.children_left == -1
    np.testing.assert_array_equal(a.value[leaves], b.value[leaves])
    assert a.max_depth == b.max_depth
  np.testing.assert_array_equal(ours.classes_, theirs.classes_)
  np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
  np.testing.assert_allclose(ours.decision_function(x), theirs.decision_function(x),
                             rtol=1e-9, atol=1e-12)
  np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x),
                             rtol=1e-9, atol=1e-12)
  np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_,
                             rtol=1e-9, atol=1e-15)
  np.testing.assert_allclose(ours.train_score_, theirs.train_score_, rtol=1e-9)
  assert ours.score(x, ours.predict(x)) == 1.
  assert ours.n_estimators_ == theirs.n_estimators_


def _fit_both(x, y, global_seed=None, **params):
  """Fits both estimators from the same global random state; returns them and
  whether numpy's global state ended the same."""
  models, states = [], []
  for cls in (presorted_boosting.PresortedGradientBoostingClassifier,
              ensemble.GradientBoostingClassifier):
    if global_seed is not None:
      np.random.seed(global_seed)
    models.append(cls(**params).fit(x, y))
    states.append(np.random.get_state())
  same_state = all(np.array_equal(a, b) for a, b in zip(states[0], states[1]))
  return models[0], models[1], same_state


@pytest.mark.parametrize("data", sorted(_DATA))
@pytest.mark.parametrize("num_classes", [2, 3, 6])
def test_same_trees_with_int_seed(data, num_classes):
  for seed in range(3):
    rs = np.random.RandomState(100 * seed + num_classes)
    x = _DATA[data](rs, 300, 6)
    y = _labels(rs, x, num_classes)
    ours, theirs, _ = _fit_both(x, y, random_state=seed)
    _assert_same_model(ours, theirs, x)
    x_new = _DATA[data](rs, 200, 6)
    np.testing.assert_array_equal(ours.predict(x_new), theirs.predict(x_new))


@pytest.mark.parametrize("data", ["gaussian", "duplicated", "quantised"])
def test_global_random_state_as_sklearn(data):
  """random_state=None draws the trees' seeds from numpy's global generator."""
  for seed in range(3):
    rs = np.random.RandomState(seed)
    x = _DATA[data](rs, 200, 5)
    y = _labels(rs, x, 3 + seed)
    ours, theirs, same_state = _fit_both(x, y, global_seed=seed, n_estimators=30)
    assert same_state
    _assert_same_model(ours, theirs, x)


def test_random_state_instance():
  rs = np.random.RandomState(0)
  x = _duplicated(rs, 200, 6)
  y = _labels(rs, x, 4)
  ours = presorted_boosting.PresortedGradientBoostingClassifier(
      n_estimators=20, random_state=np.random.RandomState(5)).fit(x, y)
  theirs = ensemble.GradientBoostingClassifier(
      n_estimators=20, random_state=np.random.RandomState(5)).fit(x, y)
  _assert_same_model(ours, theirs, x)


@pytest.mark.parametrize("params", [
    {"max_depth": 1}, {"max_depth": 5}, {"learning_rate": .5, "n_estimators": 40}])
def test_other_depths_and_rates(params):
  rs = np.random.RandomState(2)
  x = _mixed(rs, 300, 6)
  y = _labels(rs, x, 3)
  ours, theirs, _ = _fit_both(x, y, random_state=1, **params)
  _assert_same_model(ours, theirs, x)


def test_many_classes():
  rs = np.random.RandomState(1)
  x = _mixed(rs, 400, 5)
  y = _labels(rs, x, 40)
  ours, theirs, _ = _fit_both(x, y, random_state=3, n_estimators=20)
  _assert_same_model(ours, theirs, x)


@pytest.mark.parametrize("num_points", [5, 20, 100])
def test_tiny_inputs(num_points):
  for seed in range(4):
    rs = np.random.RandomState(seed)
    x = _DATA[["gaussian", "quantised", "duplicated", "near_ties"][seed]](rs, num_points, 4)
    y = _labels(rs, x, 2 + seed % 3)
    ours, theirs, _ = _fit_both(x, y, random_state=seed)
    _assert_same_model(ours, theirs, x)


def test_pure_classes_and_separable_data():
  """Perfectly separable labels: pure nodes, zero gradients, early leaves."""
  rs = np.random.RandomState(0)
  x = _gaussian(rs, 300, 4)
  y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > .5)
  ours, theirs, _ = _fit_both(x, y, random_state=0)
  _assert_same_model(ours, theirs, x)


def test_labels_need_not_be_integers():
  rs = np.random.RandomState(0)
  x = _quantised(rs, 200, 4)
  y = np.array(["cat", "dog", "emu"])[_labels(rs, x, 3)]
  ours, theirs, _ = _fit_both(x, y, random_state=0, n_estimators=30)
  _assert_same_model(ours, theirs, x)
  y = np.array([-7, 100])[_labels(rs, x, 2)]
  ours, theirs, _ = _fit_both(x, y, random_state=0, n_estimators=30)
  _assert_same_model(ours, theirs, x)


def test_other_parameters_and_inputs_go_to_sklearn():
  rs = np.random.RandomState(0)
  x = _gaussian(rs, 150, 4)
  y = _labels(rs, x, 3)
  weights = rs.uniform(size=150)
  ours = presorted_boosting.PresortedGradientBoostingClassifier(
      n_estimators=10, random_state=0).fit(x, y, sample_weight=weights)
  theirs = ensemble.GradientBoostingClassifier(
      n_estimators=10, random_state=0).fit(x, y, sample_weight=weights)
  _assert_same_model(ours, theirs, x)
  ours = presorted_boosting.PresortedGradientBoostingClassifier(
      n_estimators=10, subsample=.5, max_features=2, random_state=0).fit(x, y)
  theirs = ensemble.GradientBoostingClassifier(
      n_estimators=10, subsample=.5, max_features=2, random_state=0).fit(x, y)
  _assert_same_model(ours, theirs, x)


@pytest.mark.parametrize("x_fn, y_fn", [
    (lambda x: x, lambda y: np.zeros_like(y)),  # One class.
    (lambda x: np.where(x > 1, np.nan, x), lambda y: y),  # Missing values.
])
def test_errors_as_sklearn(x_fn, y_fn):
  rs = np.random.RandomState(0)
  x = _gaussian(rs, 50, 3)
  y = _labels(rs, x, 2)
  errors = []
  for cls in (presorted_boosting.PresortedGradientBoostingClassifier,
              ensemble.GradientBoostingClassifier):
    with pytest.raises(ValueError) as error:
      cls().fit(x_fn(x), y_fn(y))
    errors.append(str(error.value))
  # The same error, naming our class.
  assert errors[0].replace("PresortedGradient", "Gradient") == errors[1]


def test_parameters_and_pickling():
  assert (presorted_boosting.PresortedGradientBoostingClassifier().get_params()
          == ensemble.GradientBoostingClassifier().get_params())
  rs = np.random.RandomState(0)
  x = _gaussian(rs, 100, 3)
  y = _labels(rs, x, 3)
  model = presorted_boosting.PresortedGradientBoostingClassifier(
      n_estimators=5).fit(x, y)
  again = pickle.loads(pickle.dumps(model))
  np.testing.assert_array_equal(again.decision_function(x), model.decision_function(x))


def test_introsort_is_sklearns():
  """Equal values end in the order sklearn's simultaneous_sort leaves them."""
  rs = np.random.RandomState(0)
  for n in [1, 2, 15, 16, 17, 100, 1000, 5000]:
    for levels in [2, 5, 50, 10**6]:
      values = rs.randint(levels, size=n).astype(np.float32)
      indices = rs.permutation(n).astype(np.intp)
      expected_values, expected_indices = values.copy(), indices.copy()
      _sorting._py_simultaneous_sort(expected_values, expected_indices, n,  # pylint: disable=protected-access
                                     use_three_way_partition=True)
      presorted_boosting._introsort(values, indices, 0, n)  # pylint: disable=protected-access
      np.testing.assert_array_equal(indices, expected_indices)
      np.testing.assert_array_equal(values, expected_values)


def test_pairwise_sum_is_numpys():
  """np.mean sums by numpy's pairwise summation: the leaf values need its sums."""
  rs = np.random.RandomState(0)
  for n in list(range(1, 140)) + [1000, 4097, 10000]:
    a = rs.normal(size=n + 3) * 10.**rs.uniform(-8, 8, size=n + 3)
    assert presorted_boosting._pairwise_sum(a, 3, n) == np.add.reduce(a[3:])  # pylint: disable=protected-access
