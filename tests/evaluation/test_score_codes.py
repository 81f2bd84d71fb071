"""score_codes: every sample-based metric on a user's own arrays, in one call."""
import numpy as np
import pytest

from dlib_torch.evaluation import code_scores
from dlib_torch.evaluation import score_codes
from dlib_torch.evaluation.metrics import irs
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.evaluation.metrics import utils
from dlib_torch.tests.evaluation.metrics import parity
from dlib_torch.utils import errors

_ORIGINAL = ["mig", "sap_score", "dci", "modularity_explicitness", "irs",
             "unsupervised_metrics"]


def _factors_and_codes(num=1000, noise=0.05, seed=0):
  rs = np.random.RandomState(seed)
  factors = np.stack([rs.randint(0, size, num) for size in (3, 5, 4)], axis=1)
  codes = factors / np.array([2., 4., 3.]) + noise * rs.randn(num, 3)
  return factors, codes


@pytest.mark.parametrize("case", [c for c in parity.load()["cases"] if c["case_id"].split("/")[0]
                                  in ("mig", "irs", "unsupervised_metrics")],
                         ids=lambda c: c["case_id"])
def test_the_original_metrics_on_arrays_reproduce_the_original(case):
  # The parity cases' points, sampled as the original metric samples them, scored as arrays.
  inputs = parity.load()["inputs"]
  bindings = dict(b.split(" = ") for b in case["gin_bindings"])
  name = case["case_id"].split("/")[0]
  np.random.seed(case["global_numpy_seed"])
  codes, factors = utils.generate_batch_factor_code(
      parity.ParityData(inputs["factor_sizes"]),
      parity.make_representation(case["representation"], inputs),
      int(bindings[name + ".num_train"]), np.random.RandomState(case["seed"]),
      int(bindings.get(name + ".batch_size", 16)))
  parity.assert_matches(case, score_codes(factors.T, codes.T, metrics=[name])[name])


def test_codes_equal_to_the_factors_score_near_the_top():
  factors, codes = _factors_and_codes()
  scores = score_codes(factors, codes, metrics=_ORIGINAL)
  assert scores["mig"]["discrete_mig"] > 0.9
  assert scores["dci"]["disentanglement"] > 0.9 and scores["dci"]["completeness"] > 0.9
  assert scores["dci"]["informativeness_test"] > 0.95
  assert scores["modularity_explicitness"]["modularity_score"] > 0.95
  assert scores["modularity_explicitness"]["explicitness_score_test"] > 0.95
  assert scores["irs"]["IRS"] > 0.8
  assert scores["unsupervised_metrics"]["gaussian_total_correlation"] < 0.01
  # Pure noise: no information about the factors.
  noise = np.random.RandomState(1).randn(*codes.shape)
  low = score_codes(factors, noise, metrics=["mig", "dci"])
  assert low["mig"]["discrete_mig"] < 0.05
  assert low["dci"]["informativeness_test"] < 0.5


def test_fitted_metrics_fit_on_the_first_half_and_score_the_second():
  factors, codes = _factors_and_codes(num=600)
  scores = score_codes(factors, codes, metrics=["sap_score"])["sap_score"]
  with code_scores.seeding.numpy_global_seed(0):
    expected = sap_score.compute_sap_from_codes(codes[:300].T, factors[:300].T,
                                                codes[300:].T, factors[300:].T, False)
  assert scores == {"SAP_score": expected["SAP_score"]}


def test_a_prefixed_parameter_reaches_its_metric_only_and_a_plain_one_every_taker():
  factors, codes = _factors_and_codes(num=400)
  default = score_codes(factors, codes, metrics=["irs", "mig"])
  routed = score_codes(factors, codes, metrics=["irs", "mig"], **{"irs.diff_quantile": 0.5})
  assert routed["mig"] == default["mig"]
  assert routed["irs"]["IRS"] == pytest.approx(irs.compute_irs_from_codes(
      codes.T, factors.T, 0.5, lambda t: utils.histogram_discretizer(t, 20))["IRS"], abs=0)
  assert routed["irs"] != default["irs"]
  coarse = score_codes(factors, codes, metrics=["irs", "mig"], num_bins=3)
  assert coarse["mig"] != default["mig"] and coarse["irs"] != default["irs"]


def test_a_metric_scores_the_same_alone_or_with_others_and_leaves_numpy_alone():
  factors, codes = _factors_and_codes(num=400)
  np.random.seed(5)
  before = np.random.get_state()[1].copy()
  alone = score_codes(factors, codes, metrics=["dci"], random_state=3)
  assert np.array_equal(np.random.get_state()[1], before)
  together = score_codes(factors, codes, metrics=["sap_score", "dci"], random_state=3)
  assert together["dci"] == alone["dci"]
  assert score_codes(factors, codes, metrics=["dci"],
                     random_state=np.random.RandomState(7))["dci"] == score_codes(
                         factors, codes, metrics=["dci"],
                         random_state=np.random.RandomState(7))["dci"]


def test_continuous_factors_leave_out_the_metrics_that_need_class_labels():
  rs = np.random.RandomState(0)
  factors = rs.uniform(size=(400, 2))
  codes = factors + 0.01 * rs.randn(400, 2)
  scores = score_codes(factors, codes, discrete_factors=False,
                       metrics=["mig", "sap_score", "irs"])
  assert scores["sap_score"]["SAP_score"] > 0.9  # Regression on continuous factors.
  assert scores["mig"]["discrete_mig"] > 0.5
  assert not set(code_scores._DISCRETE_FACTORS_ONLY) & set(
      code_scores._chosen_metrics(None, discrete_factors=False))
  with pytest.raises(errors.UserError, match="dci need"):
    score_codes(factors, codes, discrete_factors=False, metrics=["dci"])


@pytest.mark.parametrize("kwargs, message", [
    ({"metrics": ["mgi"]}, "Unknown metric"),
    ({"metrics": ["mig"], "no_such_parameter": 1}, "No metric scored takes"),
    ({"metrics": ["mig"], "irs.diff_quantile": 0.5}, "not among the metrics"),
    ({"metrics": ["mig"], "mig.batch": 3}, "mig takes no parameter 'batch'"),
    ({"metrics": ["mig"], "random_state": "seed"}, "random_state must be"),
])
def test_bad_requests_are_refused_with_one_clear_error(kwargs, message):
  factors, codes = _factors_and_codes(num=50)
  with pytest.raises(errors.UserError, match=message):
    score_codes(factors, codes, **kwargs)


@pytest.mark.parametrize("factors, codes, message", [
    (np.zeros((10, 2)), np.zeros((9, 2)), "one row per sample"),
    (np.zeros(10), np.zeros((10, 2)), "2-D"),
    (np.zeros((10, 2)), np.full((10, 2), np.nan), "finite"),
    (np.full((10, 2), 0.5), np.zeros((10, 2)), "integer class labels"),
    (np.zeros((2, 2)), np.zeros((2, 2)), "at least 4 samples"),
])
def test_bad_arrays_are_refused(factors, codes, message):
  with pytest.raises(errors.UserError, match=message):
    score_codes(factors, codes, metrics=["mig"])
