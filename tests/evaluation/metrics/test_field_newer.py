"""Tests for the field's newer metrics: InfoMEC, MED and DCI-ES.

Each against the authors' reference code (field_metrics_cases.json), their
bounds on clean and on uninformative codes, the reference's departures and
the keywords that undo them, their refusal of bad input, and their gin entry
points.
"""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import dci_es
from dlib_torch.evaluation.metrics import infomec
from dlib_torch.evaluation.metrics import med
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors
from dlib_torch.tests.evaluation.metrics import field_cases

_INFOMEC_CASES = field_cases.load_cases("lq.infomec")
_MED_CASES = field_cases.load_cases("med.med")
_PIPELINE_CASES = field_cases.load_cases("dcies.rf_probe_pipeline")
_EXPLICITNESS_CASES = field_cases.load_cases("dcies.explicitness")
_IMPORTANCE_CASES = field_cases.load_cases("dcies.dci_from_importance")

# A replayed run must give the reference's numbers, not merely fall within
# the spread of its runs.
_EXACT = {"kind": "deterministic", "abs": 1e-12, "rel": 1e-9}


def _replayed(case, run):
  """The case with one run's outputs as the expected values, checked to 1e-9."""
  return dict(case, expected=run["outputs"], tolerance=_EXACT)


def _runs_differ(case):
  return any(np.any(np.asarray(spread, dtype=np.float64) != 0)
             for spread in case["tolerance"]["spread"].values())


def test_every_metric_has_cases():
  for cases in (_INFOMEC_CASES, _MED_CASES, _PIPELINE_CASES, _EXPLICITNESS_CASES,
                _IMPORTANCE_CASES):
    assert cases


# Values against the reference.


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", _INFOMEC_CASES, ids=field_cases.case_ids(_INFOMEC_CASES))
def test_infomec_matches_reference(case):
  factors, codes = field_cases.case_inputs(case)
  # The reference's k-NN jitter came from numpy's global generator seeded with
  # s; here it comes from random_state=s in the same order, so each run is
  # replayed exactly. Where the runs agree, one of them is enough.
  runs = case["runs"] if _runs_differ(case) else case["runs"][:1]
  for run in runs:
    result = infomec.infomec(factors, codes, random_state=run["seed"], **case["params"])
    field_cases.assert_matches(_replayed(case, run), result)
    field_cases.assert_matches(case, result)


@pytest.mark.parametrize("case", _MED_CASES, ids=field_cases.case_ids(_MED_CASES))
def test_med_matches_reference(case):
  params = case["params"]
  assert params["discretizer"] == "histogram"
  factors, codes = field_cases.case_inputs(case)
  field_cases.assert_matches(
      case, med.med(factors, codes, topk=params["topk"], num_bins=params["num_bins"]))


@pytest.mark.parametrize("case", _PIPELINE_CASES, ids=field_cases.case_ids(_PIPELINE_CASES))
def test_dci_es_pipeline_replays_reference_run(case):
  # About 10 s a run: one run per case, replayed exactly (the forests get the
  # reference's seed), and within the spread of the three runs.
  params = case["params"]
  factors, codes = field_cases.case_inputs(case)
  run = case["runs"][0]
  result = dci_es.dci_es(factors, codes, capacities=params["capacities_max_depth"],
                         n_estimators=params["n_estimators"],
                         classification_factors=params["classification_factors"],
                         random_state=run["seed"])
  field_cases.assert_matches(_replayed(case, run), result)
  field_cases.assert_matches(case, result)


@pytest.mark.parametrize("case", _EXPLICITNESS_CASES,
                         ids=field_cases.case_ids(_EXPLICITNESS_CASES))
def test_explicitness_matches_reference(case):
  inline = case["inputs"]["inline"]
  if "curves_one_object_per_factor" in inline:
    results = {"E_per_factor": [
        dci_es.explicitness(curve["x"], curve["y"], curve["baseline_loss"])
        for curve in inline["curves_one_object_per_factor"]]}
  else:
    curves = inline["curves"]
    results = {
        "E_per_curve": dci_es.explicitness([curve["x"] for curve in curves],
                                           [curve["y"] for curve in curves],
                                           [curve["baseline_loss"] for curve in curves]),
        "compute_explitcitness_raw_first_curve": dci_es.explicitness(
            curves[0]["x"], curves[0]["y"], curves[0]["baseline_loss"]),
    }
  field_cases.assert_matches(case, results)


@pytest.mark.parametrize("case", _IMPORTANCE_CASES,
                         ids=field_cases.case_ids(_IMPORTANCE_CASES))
def test_dci_es_disentanglement_and_completeness_match_reference(case):
  importance = np.array(case["inputs"]["inline"]["importance_matrix_codes_x_factors"],
                        dtype=np.float64)
  field_cases.assert_matches(case, {
      "D": dci_es.disentanglement(importance),
      "C": dci_es.completeness(importance),
      "D_per_code": dci_es.disentanglement_per_code(importance),
      "C_per_factor": dci_es.completeness_per_factor(importance),
  })


# Bounds: codes that copy the factors score near the top, uninformative codes
# near the bottom.


def _discrete(num_points=2000, noise=False):
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, [4, 6, 8], size=(num_points, 3))
  if noise:
    return factors, random_state.normal(size=factors.shape)
  return factors, factors / np.array([3., 5., 7.]) + 0.01 * random_state.normal(
      size=factors.shape)


def _continuous(num_points=1000, noise=False):
  random_state = np.random.RandomState(0)
  factors = random_state.uniform(size=(num_points, 3))
  if noise:
    return factors, random_state.normal(size=factors.shape)
  return factors, factors + 0.01 * random_state.normal(size=factors.shape)


# Few, shallow and small forests: enough to separate clean codes from noise.
_SMALL_PROBES = {"capacities": (1, 2, 4, 8, 16), "n_estimators": 10}


def test_infomec_of_clean_codes_is_high():
  result = infomec.infomec(*_discrete())
  for key in ("infom", "infoc", "infoe"):
    assert 0.95 < result[key] <= 1.0
  assert result["active_latents"].all()


def test_infomec_of_noise_codes_has_no_information():
  # InfoM and InfoC are ratios among the (tiny) NMI of noise, not small
  # themselves: the NMI and InfoE are what vanish.
  result = infomec.infomec(*_discrete(noise=True))
  assert 0.0 <= result["infoe"] < 0.05
  assert 0.0 <= result["nmi"].max() < 0.05


def test_infomec_nan_of_an_uninformative_latent_and_its_keyword():
  # Two clean codes and three pure-noise ones; the k-NN estimates of code 2
  # all clip to 0, so its ratio is 0/0: the reference's NaN.
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, [3, 4], size=(400, 2))
  codes = np.concatenate([factors / [2., 3.] + 0.01 * random_state.normal(size=(400, 2)),
                          random_state.normal(size=(400, 3))], axis=1)
  result = infomec.infomec(factors, codes)
  assert result["active_latents"][2] and not result["nmi"][:, 2].any()
  assert np.isnan(result["infom"])
  dropped = infomec.infomec(factors, codes, drop_uninformative_latents=True)
  assert 0.5 < dropped["infom"] <= 1.0
  assert dropped["infoc"] == result["infoc"]


def test_infomec_leaves_constant_codes_out():
  factors, codes = _discrete(300)
  with_constant = np.concatenate([codes, np.zeros((300, 1))], axis=1)
  result = infomec.infomec(factors, with_constant)
  assert list(result["active_latents"]) == [True, True, True, False]
  assert result["infom"] == infomec.infomec(factors, codes)["infom"]


def test_infomec_of_collapsed_codes_is_nan_not_an_error():
  factors, _ = _discrete(200)
  result = infomec.infomec(factors, np.ones((200, 2)))
  assert np.isnan(result["infom"]) and np.isnan(result["infoc"])
  assert not result["active_latents"].any()
  assert abs(result["infoe"]) < 1e-3


def test_infomec_of_discrete_latents():
  factors, _ = _discrete(500)
  result = infomec.infomec(factors, factors.astype(np.float64), discrete_latents=True)
  # Plug-in mutual information of unrelated 8-value columns on 500 rows is
  # not 0: InfoM and InfoC about 0.94.
  for key in ("infom", "infoc", "infoe"):
    assert 0.9 < result[key] <= 1.0 + 1e-9


def test_med_of_clean_codes_is_high():
  result = med.med(*_discrete())
  # The plug-in mutual information of 20 bins and 1000 rows is biased
  # upwards for unrelated pairs: clean codes stay below 0.9.
  for key in ("disentanglement", "completeness", "top1_disentanglement",
              "top1_completeness"):
    assert 0.8 < result[key] <= 1.0
  assert result["informativeness_test"] > 0.95


def test_med_of_noise_codes_is_low():
  result = med.med(*_discrete(noise=True))
  for key in ("disentanglement", "completeness", "top1_disentanglement",
              "top1_completeness"):
    assert 0.0 <= result[key] < 0.1
  assert result["informativeness_test"] < 0.3


def test_med_topk_keys():
  factors, codes = _discrete(400)
  assert "top1_disentanglement" not in med.med(factors, codes, topk=0)
  result = med.med(factors, codes, topk=2)
  assert {"top2_disentanglement", "top2_completeness"} <= set(result)


def test_med_top1_keeps_one_code_per_factor():
  # Code 3 copies factor 0 with more noise: Top-1 keeps the cleaner copy only.
  factors, codes = _discrete()
  noisy_copy = codes[:, :1] + 0.2 * np.random.RandomState(1).normal(size=(len(codes), 1))
  result = med.med(factors, np.concatenate([codes, noisy_copy], axis=1))
  assert result["top1_completeness"] > result["completeness"] + 0.05


def test_dci_es_of_clean_continuous_codes_is_high():
  result = dci_es.dci_es(*_continuous(), **_SMALL_PROBES)
  for key in ("E", "D", "C", "I"):
    assert 0.9 < result[key] <= 1.0
  assert result["test_loss_curves"].shape == (3, 5)
  assert result["importance_at_best"].shape == (3, 3)


def test_dci_es_of_noise_codes_is_low():
  result = dci_es.dci_es(*_continuous(noise=True), **_SMALL_PROBES)
  assert result["D"] < 0.1 and result["C"] < 0.2 and result["I"] < 0.1
  # The reference's E measures the area above each curve's own minimum: the
  # flat curves of noise get the top score. Above l* = 0, they get about -1.
  assert result["E"] > 0.95
  floored = dci_es.dci_es(*_continuous(noise=True), loss_floor=0., **_SMALL_PROBES)
  assert floored["E"] < -0.9


def test_dci_es_classifies_discrete_factors_by_default():
  clean = dci_es.dci_es(*_discrete(1000), **_SMALL_PROBES)
  noise = dci_es.dci_es(*_discrete(1000, noise=True), **_SMALL_PROBES)
  assert clean["I"] > 0.9 and noise["I"] < 0.3
  # Classifier losses start near 1 - 1/#classes, the baseline: E is high
  # for clean codes; near 1 for noise as well (see above).
  assert clean["E"] > 0.75


def test_dci_es_random_state_object_is_reproducible():
  factors, codes = _continuous(200)
  small = {"capacities": (1, 2), "n_estimators": 3}
  first = dci_es.dci_es(factors, codes, random_state=np.random.RandomState(5), **small)
  second = dci_es.dci_es(factors, codes, random_state=np.random.RandomState(5), **small)
  np.testing.assert_array_equal(first["test_loss_curves"], second["test_loss_curves"])


def test_explicitness_of_special_curves():
  capacities = [1, 2, 4]
  # Flat at any level: 1 (the reference), unless measured above l* = 0.
  assert dci_es.explicitness(capacities, [0.4, 0.4, 0.4]) == 1.0
  assert dci_es.explicitness(capacities, [1.0, 1.0, 1.0], loss_floor=0.) == -1.0
  # Straight from the baseline to 0: the area is half the rectangle, E = 0.
  assert dci_es.explicitness([0, 1], [1.0, 0.0]) == 0.0
  # A loss that rises again counts at the lowest loss reached before it.
  assert (dci_es.explicitness(capacities, [0.5, 0.1, 0.3]) ==
          dci_es.explicitness(capacities, [0.5, 0.1, 0.1]))


def test_explicitness_extends_shorter_curves():
  # Scored together, a curve that stops at capacity 2 continues at its last
  # loss to the largest capacity, 4.
  together = dci_es.explicitness([[1, 2, 4], [1, 2]], [[0.9, 0.3, 0.1], [0.8, 0.2]],
                                 [1.0, 0.5])
  assert together.shape == (2,)
  assert together[1] == dci_es.explicitness([1, 2, 4], [0.8, 0.2, 0.2], 0.5)


# Bad input.


def _bad_common():
  factors, codes = _discrete(100)
  nan_codes = codes.copy()
  nan_codes[5, 1] = np.nan
  return {
      "rows_differ": (factors, codes[:50]),
      "one_dimensional": (factors[:, 0], codes),
      "nan_codes": (factors, nan_codes),
      "too_few_rows": (factors[:1], codes[:1]),
  }


@pytest.mark.parametrize("bad", sorted(_bad_common()))
@pytest.mark.parametrize("metric", [infomec.infomec, med.med, dci_es.dci_es],
                         ids=["infomec", "med", "dci_es"])
def test_bad_input_is_a_user_error(metric, bad):
  factors, codes = _bad_common()[bad]
  with pytest.raises(errors.UserError):
    metric(factors, codes)


@pytest.mark.parametrize("metric", [infomec.infomec, med.med], ids=["infomec", "med"])
def test_continuous_factors_are_refused_where_labels_are_needed(metric):
  factors, codes = _continuous(100)
  with pytest.raises(errors.UserError, match="discrete factors"):
    metric(factors, codes)


def test_constant_factor_is_a_user_error():
  factors, codes = _discrete(100)
  factors[:, 1] = 2
  for metric in (infomec.infomec, med.med):
    with pytest.raises(errors.UserError, match="single value"):
      metric(factors, codes)


@pytest.mark.parametrize("params", [
    {"classification_factors": [0]},  # continuous factor 0 cannot be classified
    {"classification_factors": [3]},
    {"random_state": None},
    {"capacities": (4, 2)},
    {"capacities": (1, 2.5)},
    {"n_estimators": 0},
], ids=["classify_continuous", "index_out_of_range", "global_generator",
        "decreasing_capacities", "fractional_depth", "no_trees"])
def test_dci_es_bad_parameters_are_user_errors(params):
  factors, codes = _continuous(100)
  with pytest.raises(errors.UserError):
    dci_es.dci_es(factors, codes, **params)


@pytest.mark.parametrize("capacities,losses,baseline", [
    ([1, 2, 3], [0.5, 0.4], 1.0),
    ([1, 3, 2], [0.5, 0.4, 0.3], 1.0),
    ([1], [0.5], 1.0),
    ([1, 2], [0.5, np.nan], 1.0),
    ([1, 2], [0.5, 0.4], 0.0),
    ([[1, 2], [1, 2]], [[0.5, 0.4]], 1.0),
    ([1, 2], [[0.5, 0.4], [0.3, 0.2]], [1.0, 1.0, 1.0]),
    ([1, 2], [], 1.0),
], ids=["lengths_differ", "not_increasing", "one_point", "nan_loss", "zero_baseline",
        "curve_count", "baseline_count", "no_curve"])
def test_explicitness_bad_curves_are_user_errors(capacities, losses, baseline):
  with pytest.raises(errors.UserError):
    dci_es.explicitness(capacities, losses, baseline)


# Gin entry points: IdentityObservationsData has 10 factors with values
# 1..10, observed as they are.


def _identity():
  return (dummy_data.IdentityObservationsData(),
          lambda x: np.asarray(x, dtype=np.float64), np.random.RandomState(0))


def test_infomec_entry_point():
  result = infomec.compute_infomec(*_identity(), None, num_train=300)
  assert sorted(result) == ["infoc", "infoe", "infom"]
  assert all(isinstance(value, float) and 0.9 < value <= 1.0 for value in result.values())


def test_med_entry_point_uses_the_gin_discretizer():
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([], [
        "discretizer.discretizer_fn = @histogram_discretizer",
        "discretizer.num_bins = 10"])
    result = med.compute_med(*_identity(), None, num_train=500, num_test=500)
  finally:
    gin.clear_config()
  data, representation_function, random_state = _identity()
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      data, representation_function, 500, 500, random_state, 16)
  assert result == med.med_from_split(
      mus_train.T, ys_train.T, mus_test.T, ys_test.T, 1,
      lambda codes: utils.histogram_discretizer(codes, 10))
  assert all(isinstance(value, float) for value in result.values())


def test_dci_es_entry_point():
  probes = {"capacities": (1, 4, 8), "n_estimators": 5}
  result = dci_es.compute_dci_es(*_identity(), None, num_train=200, num_test=200, **probes)
  assert sorted(result) == ["C", "D", "E", "I", "best_capacity"]
  # The forests draw from the random state after the samples did.
  data, representation_function, random_state = _identity()
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      data, representation_function, 200, 200, random_state, 16)
  expected = dci_es.dci_es_from_split(mus_train.T, ys_train.T, mus_test.T, ys_test.T,
                                      random_state=random_state, **probes)
  assert result == {key: expected[key] for key in result}
  assert isinstance(result["best_capacity"], int)
  # 10 classes per factor (chance 0.1); few small forests that see 3 of the
  # 10 codes per split.
  assert result["I"] > 0.4
