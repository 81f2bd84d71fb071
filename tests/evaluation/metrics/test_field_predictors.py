"""Tests for the review's predictor-based metrics (Zaidi et al., 2020).

explicitness_review, sap_review and dci_review against the authors' reference
code (field_metrics_cases.json), their bounds on clean and on uninformative
codes, their refusal of bad input, and their gin entry points.
"""
import gin
import numpy as np
import pytest
from sklearn import tree

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import dci_review
from dlib_torch.evaluation.metrics import explicitness_review
from dlib_torch.evaluation.metrics import sap_review
from dlib_torch.utils import errors
from dlib_torch.tests.evaluation.metrics import field_cases

# Deterministic reference metrics of the cases -> our function.
_METRICS = {
    "ubisoft.explicitness": explicitness_review.explicitness_review,
    "ubisoft.sap": sap_review.sap_review,
    "ubisoft.sap_classification": sap_review.sap_review,
    "ubisoft.dci_lasso": dci_review.dci_review,
}
_CASES = [case for metric in _METRICS for case in field_cases.load_cases(metric)]
_FOREST_CASES = field_cases.load_cases("ubisoft.dci_rf")

# Gin entry point -> its result keys and the least score of codes equal to the
# factors (explicitness: a linear classifier on one code ranks the middle of
# ten ordered classes poorly, about 0.79 for IdentityObservationsData).
_ENTRY_POINTS = {
    explicitness_review.compute_explicitness_review: (["explicitness_review"], 0.7),
    sap_review.compute_sap_review: (["sap_review"], 0.9),
    dci_review.compute_dci_review: (["disentanglement", "completeness", "informativeness"], 0.9),
}

_DCI_KEYS = ("disentanglement", "completeness", "informativeness")


# Values against the reference.


def test_every_metric_has_cases():
  assert {case["metric"] for case in _CASES} == set(_METRICS)
  assert _FOREST_CASES


@pytest.mark.parametrize("case", _CASES, ids=field_cases.case_ids(_CASES))
def test_matches_reference(case):
  factors, codes = field_cases.case_inputs(case)
  field_cases.assert_matches(case, _METRICS[case["metric"]](factors, codes, **case["params"]))


@pytest.mark.slow
@pytest.mark.parametrize("case", _FOREST_CASES, ids=field_cases.case_ids(_FOREST_CASES))
def test_random_forest_replays_the_reference_run(case):
  # The reference ran after np.random.seed(s); RandomState(s) replays its
  # draws, so one run (the slow part: ~20 s) matches that run's numbers at
  # 1e-9 and the 3-run mean within the case's tolerance.
  factors, codes = field_cases.case_inputs(case)
  run = case["runs"][0]
  results = dci_review.dci_review(factors, codes, random_state=run["seed"], **case["params"])
  field_cases.assert_matches(case, results)
  field_cases.assert_matches(
      dict(case, expected=run["outputs"],
           tolerance={"kind": "deterministic", "rel": 1e-9, "abs": 1e-12}), results)
  # And its bounds: clean codes near the top, noise near the bottom.
  transform = case["inputs"]["recipe"]["transform"]
  if transform == "identity":
    assert min(results.values()) > 0.9
  elif transform == "noise":
    assert max(results.values()) < 0.1


# Bounds: codes that copy the factors score near the top, noise near the bottom.


def _factors_and_codes(num_points=1000, continuous=False):
  random_state = np.random.RandomState(0)
  if continuous:
    factors = random_state.uniform(size=(num_points, 3))
  else:
    factors = random_state.randint(0, [3, 4, 6], size=(num_points, 3))
  clean = factors + 0.01 * random_state.normal(size=factors.shape)
  noise = random_state.normal(size=factors.shape)
  return factors, clean, noise


def test_explicitness_bounds():
  factors, clean, noise = _factors_and_codes()
  assert explicitness_review.explicitness_review(factors, clean, False)["score"] > 0.95
  assert explicitness_review.explicitness_review(factors, noise, False)["score"] < 0.1


def test_explicitness_bounds_of_binned_continuous_factors():
  # A linear classifier on one code ranks the middle bins poorly, so the
  # maximum needs few bins (with 10 bins clean codes score about 0.8).
  factors, clean, noise = _factors_and_codes(continuous=True)
  assert explicitness_review.explicitness_review(factors, clean, True, nb_bins=3)["score"] > 0.95
  assert explicitness_review.explicitness_review(factors, noise, True, nb_bins=3)["score"] < 0.1


def test_explicitness_of_binary_classifiers_alone():
  # impl=2 scores each class by its own binary classifier: a middle class of
  # an ordered factor is not linearly separable, so the bounds use two values.
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, 2, size=(1000, 3))
  clean = factors + 0.01 * random_state.normal(size=factors.shape)
  noise = random_state.normal(size=factors.shape)
  assert explicitness_review.explicitness_review(factors, clean, False, impl=2)["score"] > 0.95
  assert explicitness_review.explicitness_review(factors, noise, False, impl=2)["score"] < 0.1


def test_explicitness_unscaled_is_the_mean_auc():
  factors, clean, _ = _factors_and_codes()
  scaled = explicitness_review.explicitness_review(factors, clean, False)["score"]
  auc = explicitness_review.explicitness_review(factors, clean, False, scale=False)["score"]
  assert auc == pytest.approx(0.5 + scaled / 2, abs=1e-12)


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_sap_regression_bounds(continuous):
  factors, clean, noise = _factors_and_codes(continuous=continuous)
  assert sap_review.sap_review(factors, clean, continuous)["score"] > 0.95
  assert sap_review.sap_review(factors, noise, continuous)["score"] < 0.05


def test_sap_classification_bounds():
  # The second-best code still guesses above chance in-sample, so the gap of
  # clean codes stays below 1 - 1/#values.
  factors, clean, noise = _factors_and_codes()
  assert sap_review.sap_review(factors, clean, False, regression=False)["score"] > 0.5
  assert sap_review.sap_review(factors, noise, False, regression=False)["score"] < 0.1


def test_tree_cut_at_each_depth_predicts_as_a_tree_grown_to_it():
  random_state = np.random.RandomState(3)
  # Rounded codes: many ties among values, as in the scaled codes.
  x = np.round(random_state.normal(size=(300, 1)), 1)
  y = (np.abs(x[:, 0]) * 3 + random_state.randint(0, 3, size=300)).astype(int) % 5
  # pylint: disable-next=protected-access
  by_depth = sap_review._predictions_by_depth(sap_review._deepest_tree(x, y), x)
  for depth in range(1, 10):
    grown = tree.DecisionTreeClassifier(max_depth=depth).fit(x, y)
    np.testing.assert_array_equal(by_depth[depth - 1], grown.predict(x))


@pytest.mark.parametrize("stop_at_unused_code", [True, False])
def test_dci_bounds(stop_at_unused_code):
  factors, clean, noise = _factors_and_codes()
  results = dci_review.dci_review(factors, clean, stop_at_unused_code=stop_at_unused_code)
  assert min(results.values()) > 0.95
  # Lasso's D and C on noise rest on tiny weights (oddity 3): only I is bounded.
  results = dci_review.dci_review(factors, noise, stop_at_unused_code=stop_at_unused_code)
  assert results["informativeness"] < 0.1


def test_dci_disentanglement_stops_at_the_first_unused_code_or_weights_every_code():
  # importance [factors, codes]: code 0 serves factor 0 only, code 1 nothing,
  # code 2 both factors equally (disentanglement 0) with twice the weight.
  importance = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
  assert dci_review.disentanglement(importance) == 1.0  # the reference: code 0 alone
  assert dci_review.disentanglement(importance, stop_at_unused_code=False) == pytest.approx(
      1.0 / 3.0, abs=1e-12)  # the paper: (1 * 1 + 2 * 0) / 3


def test_dci_of_a_collapsed_code_follows_the_flag():
  factors, clean, _ = _factors_and_codes()
  clean[:, 1] = 0.0
  reference = dci_review.dci_review(factors, clean)
  paper = dci_review.dci_review(factors, clean, stop_at_unused_code=False)
  # The reference scores code 0 alone, the paper codes 0 and 2: both are clean.
  assert reference["disentanglement"] > 0.95 and paper["disentanglement"] > 0.95
  assert reference["disentanglement"] != paper["disentanglement"]
  assert reference["completeness"] == paper["completeness"]


# Bad input.


def _bad_inputs():
  factors, _, codes = _factors_and_codes(100)
  return dict(field_cases.bad_inputs(factors, codes), **{
      "one_code": (factors, codes[:, :1], {}),
  })


_FUNCTIONS = {
    "explicitness_review": explicitness_review.explicitness_review,
    "sap_review": sap_review.sap_review,
    "dci_review": dci_review.dci_review,
}


@pytest.mark.parametrize("bad", sorted(_bad_inputs()))
@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_bad_input_is_a_user_error(name, bad):
  factors, codes, params = _bad_inputs()[bad]
  if name == "explicitness_review" and bad == "one_code":
    explicitness_review.explicitness_review(factors, codes, False)  # one code is enough
    return
  with pytest.raises(errors.UserError):
    _FUNCTIONS[name](factors, codes, False, **params)


def test_explicitness_refuses_a_constant_factor_and_an_unknown_impl():
  factors, clean, _ = _factors_and_codes(100)
  factors[:, 1] = 2
  with pytest.raises(errors.UserError, match="single value"):
    explicitness_review.explicitness_review(factors, clean, False)
  with pytest.raises(errors.UserError, match="impl"):
    explicitness_review.explicitness_review(factors, clean, False, impl=3)


def test_sap_classification_refuses_continuous_factors_declared_discrete():
  factors, clean, _ = _factors_and_codes(100, continuous=True)
  with pytest.raises(errors.UserError, match="continuous_factors"):
    sap_review.sap_review(factors, clean, False, regression=False)


def test_cross_validated_metrics_need_ten_rows():
  factors, clean, _ = _factors_and_codes(9)
  with pytest.raises(errors.UserError, match="at least 10 samples"):
    sap_review.sap_review(factors, clean, False, regression=False)
  with pytest.raises(errors.UserError, match="at least 10 samples"):
    dci_review.dci_review(factors, clean, False)


def test_dci_refuses_one_factor_and_an_unknown_model():
  factors, clean, _ = _factors_and_codes(100)
  with pytest.raises(errors.UserError):
    dci_review.dci_review(factors[:, :1], clean, False)
  with pytest.raises(errors.UserError, match="model"):
    dci_review.dci_review(factors, clean, False, model="gbt")


# Gin entry points.


def test_configurables_are_registered_under_the_metric_names():
  try:
    gin.parse_config(["explicitness_review.impl = 1", "sap_review.regression = True",
                      "dci_review.model = 'lasso'"])
  finally:
    gin.clear_config()


@pytest.mark.parametrize("entry_point", list(_ENTRY_POINTS),
                         ids=[keys[0] for keys, _ in _ENTRY_POINTS.values()])
def test_entry_point_scores_identity_representation_high(entry_point):
  # IdentityObservationsData: 10 factors with values 1..10, observed as they are.
  keys, least = _ENTRY_POINTS[entry_point]
  result = entry_point(dummy_data.IdentityObservationsData(),
                       lambda x: np.asarray(x, dtype=np.float64),
                       np.random.RandomState(0), None, num_train=300)
  assert list(result) == keys
  for value in result.values():
    assert isinstance(value, float)
    assert least < value <= 1.0
