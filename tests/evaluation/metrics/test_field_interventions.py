"""Tests for the review's intervention-based metrics (Zaidi et al., 2020).

z_diff, z_min_var and z_max_var against the authors' reference code
(field_metrics_cases.json): Z-diff and Z-min-var replay the reference's numpy
draws, so every seeded run is reproduced exactly; Z-max-var's reference also
draws from Python's `random`, so one run is compared with the mean of the
reference's runs within the case's tolerance. Then their bounds on clean and
on uninformative codes, the row drawing they share, their NaN cases, their
refusal of bad input and their gin entry points.
"""
import functools
import logging

import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import intervention_sampling
from dlib_torch.evaluation.metrics import z_diff
from dlib_torch.evaluation.metrics import z_max_var
from dlib_torch.evaluation.metrics import z_min_var
from dlib_torch.utils import errors
from dlib_torch.tests.evaluation.metrics import field_cases

_METRICS = {
    "ubisoft.z_diff": z_diff.z_diff,
    "ubisoft.z_min_var": z_min_var.z_min_var,
    "ubisoft.z_max_var": z_max_var.z_max_var,
}
_REPLAYED = [case for metric in ("ubisoft.z_diff", "ubisoft.z_min_var")
             for case in field_cases.load_cases(metric)]
_NOT_REPLAYED = field_cases.load_cases("ubisoft.z_max_var")

# Z-diff's defaults (10 000 + 5 000 points) cost about a second; fewer points
# keep the bound tests fast.
_FAST_Z_DIFF = functools.partial(z_diff.z_diff, nb_training=2000, nb_eval=1000)
_FUNCTIONS = {
    "z_diff": _FAST_Z_DIFF,
    "z_diff_per_batch": functools.partial(_FAST_Z_DIFF, fixed_value_per="batch"),
    "z_min_var": z_min_var.z_min_var,
    "z_max_var": z_max_var.z_max_var,
}


# Values against the reference.


def test_every_metric_has_cases():
  assert {case["metric"] for case in _REPLAYED + _NOT_REPLAYED} == set(_METRICS)


@pytest.mark.parametrize("case", _REPLAYED, ids=field_cases.case_ids(_REPLAYED))
def test_replays_every_reference_run(case):
  # The reference ran after np.random.seed(s): a RandomState(s) draws the same.
  factors, codes = field_cases.case_inputs(case)
  for run in case["runs"]:
    result = _METRICS[case["metric"]](factors, codes, random_state=run["seed"],
                                      **case["params"])
    assert result["score"] == pytest.approx(run["outputs"]["score"], rel=0, abs=1e-9), run


@pytest.mark.parametrize("case", _NOT_REPLAYED, ids=field_cases.case_ids(_NOT_REPLAYED))
def test_matches_reference_within_its_spread(case):
  factors, codes = field_cases.case_inputs(case)
  field_cases.assert_matches(
      case, _METRICS[case["metric"]](factors, codes, random_state=0, **case["params"]))


# Bounds: codes that copy the factors score near the top, uninformative codes
# near the bottom.


def _discrete_factors(num_points=2000):
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, [4, 6, 8], size=(num_points, 3))
  return factors, random_state


def _clean_codes(factors, random_state):
  return factors / np.array([3., 5., 7.]) + 0.01 * random_state.normal(size=factors.shape)


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_codes_equal_to_discrete_factors_score_high(name):
  factors, random_state = _discrete_factors()
  codes = _clean_codes(factors, random_state)
  assert 0.9 < _FUNCTIONS[name](factors, codes, continuous_factors=False)["score"] <= 1.0


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_codes_equal_to_continuous_factors_score_high(name):
  random_state = np.random.RandomState(0)
  factors = random_state.uniform(size=(2000, 3))
  codes = factors + 0.001 * random_state.normal(size=factors.shape)
  assert 0.9 < _FUNCTIONS[name](factors, codes, continuous_factors=True)["score"] <= 1.0


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_noise_codes_score_low(name):
  # Points that fix the same value (or combination) reuse its rows, in
  # training and evaluation alike; with few rows per combination the
  # majority vote learns their noise (Z-max-var reaches 0.13 on 2000 rows).
  factors, random_state = _discrete_factors(10000)
  codes = random_state.uniform(size=factors.shape)
  assert -0.1 < _FUNCTIONS[name](factors, codes, continuous_factors=False)["score"] < 0.1


def test_z_diff_per_batch_differs_from_per_pair():
  # Noisy codes and small batches: the classifier is unsure, and the two ways
  # of fixing the value give different points.
  factors, random_state = _discrete_factors()
  codes = factors / np.array([3., 5., 7.]) + 0.6 * random_state.normal(size=factors.shape)
  per_pair = _FAST_Z_DIFF(factors, codes, False, batch_size=20)["score"]
  per_batch = _FAST_Z_DIFF(factors, codes, False, batch_size=20,
                           fixed_value_per="batch")["score"]
  assert 0.3 < per_pair < 0.9 and 0.3 < per_batch < 0.9
  assert per_pair != per_batch


@pytest.mark.parametrize("metric", [z_min_var.z_min_var, z_max_var.z_max_var],
                         ids=["z_min_var", "z_max_var"])
def test_pruned_dimension_leaves_the_score_unchanged(metric):
  # A vote is the position among active dimensions (as in the reference); a
  # constant dimension in front shifts every vote row, not the accuracy.
  factors, random_state = _discrete_factors()
  codes = _clean_codes(factors, random_state)
  codes[:, 1] *= 0.5 + random_state.uniform(size=len(codes))  # Not a perfect score.
  with_constant = np.concatenate([np.zeros((len(codes), 1)), codes], axis=1)
  assert metric(factors, with_constant, False)["score"] == metric(factors, codes, False)["score"]


# Randomness.


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_draws_only_from_random_state(name):
  factors, random_state = _discrete_factors(500)
  codes = random_state.normal(size=factors.shape)
  np.random.seed(123)
  before = np.random.get_state()[1].copy()
  by_seed = _FUNCTIONS[name](factors, codes, False, random_state=7)["score"]
  by_state = _FUNCTIONS[name](factors, codes, False,
                              random_state=np.random.RandomState(7))["score"]
  assert by_seed == by_state
  np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_draw_rows_uses_each_row_once_per_pass():
  groups = intervention_sampling.RowGroups(np.array([[0], [1], [0], [1], [0], [2], [0]]))
  np.testing.assert_array_equal(groups.eligible, [0, 1])
  random_state = np.random.RandomState(0)
  rows = intervention_sampling.draw_rows(groups, np.array([1, 0, 0, 1, 0, 0]), random_state)
  # Group 0 = rows {0, 2, 4, 6}, four items: one pass; group 1 = rows {1, 3}.
  assert sorted(rows[[1, 2, 4, 5]]) == [0, 2, 4, 6]
  assert sorted(rows[[0, 3]]) == [1, 3]
  pairs = intervention_sampling.draw_rows(groups, np.zeros(5, dtype=int), random_state,
                                          pairs=True)
  # Two pairs per pass from four rows, so three passes; a pair never repeats a row.
  assert np.all(np.isin(pairs, [0, 2, 4, 6])) and np.all(pairs[:, 0] != pairs[:, 1])
  assert len(set(pairs[:2].ravel())) == 4 and len(set(pairs[2:4].ravel())) == 4


# NaN where the score cannot be computed, as in the reference.


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_factor_without_repeated_value_gives_nan(name, caplog):
  factors, random_state = _discrete_factors(300)
  factors[:, 0] = np.arange(300)  # Every value once: no pair, no batch.
  codes = random_state.normal(size=factors.shape)
  with caplog.at_level(logging.WARNING):
    assert np.isnan(_FUNCTIONS[name](factors, codes, False)["score"])
  assert "score is NaN" in caplog.text


@pytest.mark.parametrize("metric", [z_min_var.z_min_var, z_max_var.z_max_var],
                         ids=["z_min_var", "z_max_var"])
def test_no_active_dimension_gives_nan(metric):
  factors, random_state = _discrete_factors(300)
  codes = 0.001 * random_state.normal(size=factors.shape)
  assert np.isnan(metric(factors, codes, False)["score"])


# Bad input.


def _bad_inputs():
  factors, random_state = _discrete_factors(100)
  codes = random_state.normal(size=(100, 3))
  return dict(field_cases.bad_inputs(factors, codes), **{
      "one_factor": (factors[:, :1], codes, {}),
      "continuous_as_discrete": (random_state.uniform(size=(100, 3)), codes,
                                 {"continuous_factors": False}),
      "nb_training": (factors, codes, {"nb_training": 0}),
      "batch_size": (factors, codes, {"batch_size": 2.5}),
  })


@pytest.mark.parametrize("bad", sorted(_bad_inputs()))
@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_bad_input_is_a_user_error(name, bad):
  factors, codes, params = _bad_inputs()[bad]
  with pytest.raises(errors.UserError):
    _FUNCTIONS[name](factors, codes, **params)


@pytest.mark.parametrize("metric", [z_min_var.z_min_var, z_max_var.z_max_var],
                         ids=["z_min_var", "z_max_var"])
def test_variance_of_one_sample_is_a_user_error(metric):
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="batch_size"):
    metric(factors, random_state.normal(size=(100, 3)), False, batch_size=1)


@pytest.mark.parametrize("params", [{"nb_variance_estimate": 1}, {"std_threshold": -0.1},
                                    {"std_threshold": "0.02"}], ids=str)
@pytest.mark.parametrize("metric", [z_min_var.z_min_var, z_max_var.z_max_var],
                         ids=["z_min_var", "z_max_var"])
def test_bad_variance_parameter_is_a_user_error(metric, params):
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match=list(params)[0]):
    metric(factors, random_state.normal(size=(100, 3)), False, **params)


def test_z_diff_with_training_points_of_one_factor_is_a_user_error():
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="nb_training"):
    z_diff.z_diff(factors, random_state.normal(size=(100, 3)), False, nb_training=1)


def test_unknown_fixed_value_per_is_a_user_error():
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="fixed_value_per"):
    z_diff.z_diff(factors, random_state.normal(size=(100, 3)), False, fixed_value_per="point")


# Gin entry points.


class _ThreeFactors(dummy_data.IdentityObservationsData):
  """3 factors with values 1..10, observed as they are: the other factors'
  combinations repeat in a sample of a thousand, as Z-max-var needs."""

  @property
  def num_factors(self):
    return 3

  @property
  def observation_shape(self):
    return 3


_ENTRY_POINTS = {
    "z_diff": functools.partial(z_diff.compute_z_diff, nb_training=1000, nb_eval=500),
    "z_min_var": z_min_var.compute_z_min_var,
    "z_max_var": z_max_var.compute_z_max_var,
}


@pytest.mark.parametrize("name", sorted(_ENTRY_POINTS))
def test_entry_point_scores_identity_representation_high(name):
  result = _ENTRY_POINTS[name](_ThreeFactors(), lambda x: np.asarray(x, dtype=np.float64),
                               np.random.RandomState(0), None, num_train=1000)
  assert list(result) == [name]
  assert isinstance(result[name], float)
  assert 0.9 < result[name] <= 1.0
