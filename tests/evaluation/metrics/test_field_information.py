"""Tests for the review's information-based metrics and IRS (Zaidi et al., 2020).

mig_review, mig_sup, jemmig, dcimig, modularity_review and irs_review against
the authors' reference code (field_metrics_cases.json), their bounds on clean
and on uninformative codes, their refusal of bad input, and their gin entry
points.
"""
import logging

import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import dcimig
from dlib_torch.evaluation.metrics import irs_review
from dlib_torch.evaluation.metrics import jemmig
from dlib_torch.evaluation.metrics import mig_review
from dlib_torch.evaluation.metrics import mig_sup
from dlib_torch.evaluation.metrics import modularity_review
from dlib_torch.evaluation.metrics import review_information
from dlib_torch.utils import errors
from dlib_torch.tests.evaluation.metrics import field_cases

# Reference metric of the cases -> our function.
_METRICS = {
    "ubisoft.mig": mig_review.mig_review,
    "ubisoft.mig_sup": mig_sup.mig_sup,
    "ubisoft.jemmig": jemmig.jemmig,
    "ubisoft.dcimig": dcimig.dcimig,
    "ubisoft.modularity": modularity_review.modularity_review,
    "ubisoft.irs": irs_review.irs_review,
}
_FUNCTIONS = list(_METRICS.values())
_CASES = [case for metric in _METRICS for case in field_cases.load_cases(metric)]

# Gin entry point -> its result key.
_ENTRY_POINTS = {
    mig_review.compute_mig_review: "mig_review",
    mig_sup.compute_mig_sup: "mig_sup",
    jemmig.compute_jemmig: "jemmig",
    dcimig.compute_dcimig: "dcimig",
    modularity_review.compute_modularity_review: "modularity_review",
    irs_review.compute_irs_review: "irs_review",
}


def _ids(functions):
  return [fn.__name__ for fn in functions]


# Values against the reference.


def test_every_metric_has_cases():
  assert {case["metric"] for case in _CASES} == set(_METRICS)


@pytest.mark.parametrize("case", _CASES, ids=field_cases.case_ids(_CASES))
def test_matches_reference(case):
  factors, codes = field_cases.case_inputs(case)
  field_cases.assert_matches(case, _METRICS[case["metric"]](factors, codes, **case["params"]))


# Bounds: codes that copy the factors score near the top, uninformative codes
# near the bottom.


def _discrete_factors(num_points=2000):
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, [4, 6, 8], size=(num_points, 3))
  return factors, random_state


@pytest.mark.parametrize("metric", _FUNCTIONS, ids=_ids(_FUNCTIONS))
def test_codes_equal_to_discrete_factors_score_high(metric):
  factors, random_state = _discrete_factors()
  codes = factors / np.array([3., 5., 7.]) + 0.01 * random_state.normal(size=factors.shape)
  assert 0.9 < metric(factors, codes, continuous_factors=False)["score"] <= 1.0


@pytest.mark.parametrize("metric", _FUNCTIONS, ids=_ids(_FUNCTIONS))
def test_codes_equal_to_continuous_factors_score_high(metric):
  random_state = np.random.RandomState(0)
  factors = random_state.uniform(size=(2000, 3))
  codes = factors + 0.001 * random_state.normal(size=factors.shape)
  # IRS: a bin of a continuous factor spans a tenth of its range, so the code
  # still moves within it.
  assert 0.85 < metric(factors, codes, continuous_factors=True)["score"] <= 1.0


@pytest.mark.parametrize("metric", [fn for fn in _FUNCTIONS if fn is not
                                    modularity_review.modularity_review],
                         ids=_ids([fn for fn in _FUNCTIONS
                                   if fn is not modularity_review.modularity_review]))
def test_noise_codes_score_low(metric):
  factors, random_state = _discrete_factors()
  codes = random_state.uniform(size=factors.shape)
  assert -0.1 < metric(factors, codes, continuous_factors=False)["score"] < 0.1


def test_modularity_of_codes_that_mix_every_factor_is_low():
  # Pure noise shares (little) information with all factors at random, so
  # Modularity is about 0.6 there; its minimum is a code that holds every
  # factor equally.
  random_state = np.random.RandomState(0)
  factors = random_state.randint(0, 4, size=(2000, 2))
  codes = (np.repeat(factors.sum(axis=1, keepdims=True), 2, axis=1) / 6. +
           0.01 * random_state.normal(size=factors.shape))
  assert 0.0 <= modularity_review.modularity_review(factors, codes, False)["score"] < 0.1


# The paper's normalisation and the reference's.


def _code_with_two_bits_and_noise_code():
  # v is one bit; code 0 holds v and an independent bit (2 bits), code 1 an
  # independent bit: I(v; z0) = 1, H(z0) = 2, I(v; z1) = 0, H(z1) = 1, exactly.
  v = np.array([0, 0, 0, 0, 1, 1, 1, 1])
  u = np.array([0, 0, 1, 1, 0, 0, 1, 1])
  w = np.array([0, 1, 0, 1, 0, 1, 0, 1])
  return v[:, np.newaxis], np.stack([2 * v + u, w], axis=1).astype(float)


def test_mig_normalises_by_the_code_entropy_or_the_factor_entropy():
  factors, codes = _code_with_two_bits_and_noise_code()
  assert mig_review.mig_review(factors, codes, False)["score"] == pytest.approx(0.5)
  assert mig_review.mig_review(factors, codes, False,
                               normalize_by="factor")["score"] == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [mig_review.mig_review, mig_sup.mig_sup],
                         ids=["mig_review", "mig_sup"])
def test_factor_normalisation_scores_clean_codes_high(metric):
  factors, random_state = _discrete_factors()
  codes = factors / np.array([3., 5., 7.]) + 0.01 * random_state.normal(size=factors.shape)
  assert 0.9 < metric(factors, codes, False, normalize_by="factor")["score"] <= 1.0


@pytest.mark.parametrize("metric", [mig_review.mig_review, mig_sup.mig_sup,
                                    modularity_review.modularity_review],
                         ids=["mig_review", "mig_sup", "modularity_review"])
def test_constant_code_gives_nan(metric):
  factors, random_state = _discrete_factors(200)
  codes = factors + 0.01 * random_state.normal(size=factors.shape)
  codes[:, 1] = 3.0
  assert np.isnan(metric(factors, codes, False)["score"])


def test_entropies_and_mutual_information_are_in_bits():
  factors, codes = _code_with_two_bits_and_noise_code()
  labels = review_information.bin_columns(codes, 10)
  np.testing.assert_allclose(review_information.entropy(labels), [2.0, 1.0])
  np.testing.assert_allclose(review_information.mutual_information(factors, labels),
                             [[1.0, 0.0]], atol=1e-15)
  np.testing.assert_allclose(review_information.joint_entropy(factors, labels), [[2.0, 2.0]])


def test_binning_uses_bins_one_to_nb_bins():
  x = np.array([[0.0, 5.0], [0.5, 5.0], [0.99, 5.0], [1.0, 5.0]])
  np.testing.assert_array_equal(review_information.bin_columns(x, 10),
                                [[1, 1], [6, 1], [10, 1], [10, 1]])


# IRS specifics.


def test_irs_drops_constant_codes_and_logs_them(caplog):
  factors, random_state = _discrete_factors(500)
  codes = factors + 0.01 * random_state.normal(size=factors.shape)
  with_constant = np.concatenate([codes, np.zeros((500, 1))], axis=1)
  with caplog.at_level(logging.WARNING):
    score = irs_review.irs_review(factors, with_constant, False)["score"]
  assert score == irs_review.irs_review(factors, codes, False)["score"]
  assert "dropping constant code dimensions [3]" in caplog.text


def test_irs_of_constant_codes_is_zero():
  factors, _ = _discrete_factors(100)
  assert irs_review.irs_review(factors, np.ones((100, 2)), False)["score"] == 0.0


# Bad input.


def _bad_inputs():
  factors, random_state = _discrete_factors(100)
  codes = random_state.normal(size=(100, 3))
  return dict(field_cases.bad_inputs(factors, codes), **{
      "continuous_as_discrete": (random_state.uniform(size=(100, 3)), codes,
                                 {"continuous_factors": False}),
      "nb_bins": (factors, codes, {"nb_bins": 0}),
  })


@pytest.mark.parametrize("bad", sorted(_bad_inputs()))
@pytest.mark.parametrize("metric", _FUNCTIONS, ids=_ids(_FUNCTIONS))
def test_bad_input_is_a_user_error(metric, bad):
  factors, codes, params = _bad_inputs()[bad]
  with pytest.raises(errors.UserError):
    metric(factors, codes, **params)


@pytest.mark.parametrize("metric", [mig_review.mig_review, jemmig.jemmig],
                         ids=["mig_review", "jemmig"])
def test_a_gap_over_codes_needs_two_codes(metric):
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="at least"):
    metric(factors, random_state.normal(size=(100, 1)), False)


@pytest.mark.parametrize("metric", [mig_sup.mig_sup, dcimig.dcimig,
                                    modularity_review.modularity_review],
                         ids=["mig_sup", "dcimig", "modularity_review"])
def test_a_gap_over_factors_needs_two_factors(metric):
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="at least"):
    metric(factors[:, :1], random_state.normal(size=(100, 3)), False)


def test_unknown_normalisation_is_a_user_error():
  factors, random_state = _discrete_factors(100)
  for metric in (mig_review.mig_review, mig_sup.mig_sup):
    with pytest.raises(errors.UserError, match="normalize_by"):
      metric(factors, random_state.normal(size=(100, 3)), False, normalize_by="Y")


def test_irs_quantile_out_of_range_is_a_user_error():
  factors, random_state = _discrete_factors(100)
  with pytest.raises(errors.UserError, match="diff_quantile"):
    irs_review.irs_review(factors, random_state.normal(size=(100, 3)), False,
                          diff_quantile=99)


# Gin entry points.


@pytest.mark.parametrize("entry_point", list(_ENTRY_POINTS),
                         ids=list(_ENTRY_POINTS.values()))
def test_entry_point_scores_identity_representation_high(entry_point):
  # IdentityObservationsData: 10 factors with values 1..10, observed as they are.
  result = entry_point(dummy_data.IdentityObservationsData(),
                       lambda x: np.asarray(x, dtype=np.float64),
                       np.random.RandomState(0), None, num_train=1000)
  assert list(result) == [_ENTRY_POINTS[entry_point]]
  assert isinstance(result[_ENTRY_POINTS[entry_point]], float)
  assert 0.9 < result[_ENTRY_POINTS[entry_point]] <= 1.0
