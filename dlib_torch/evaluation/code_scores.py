"""Every metric that works from samples alone, on a user's own factors and codes.

`score_codes(factors, codes)` runs the original's sample-based metrics (MIG,
SAP, DCI, modularity and explicitness, IRS, the unsupervised scores) and the
field's newer ones (the review of Zaidi et al. 2020, InfoMEC, MED, DCI-ES) on
arrays, one row per sample, with no data set or model: codes of any model,
continuous factors and factor grids with missing combinations.
"""
import importlib
import inspect
import numbers

from absl import logging
import numpy as np

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import irs
from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.evaluation.metrics import unsupervised_metrics
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors
from dlib_torch.utils import seeding

# name -> "module:function" under dlib_torch.evaluation; the newer metrics'
# modules are imported when scored.
_METRICS = {
    # The original's metrics, on the arrays (adapters below).
    "mig": "code_scores:_mig",
    "sap_score": "code_scores:_sap_score",
    "dci": "code_scores:_dci",
    "modularity_explicitness": "code_scores:_modularity_explicitness",
    "irs": "code_scores:_irs",
    "unsupervised_metrics": "code_scores:_unsupervised_metrics",
    # The review's versions (Zaidi et al. 2020, the Ubisoft reference code).
    "mig_review": "metrics.mig_review:mig_review",
    "mig_sup": "metrics.mig_sup:mig_sup",
    "jemmig": "metrics.jemmig:jemmig",
    "dcimig": "metrics.dcimig:dcimig",
    "modularity_review": "metrics.modularity_review:modularity_review",
    "irs_review": "metrics.irs_review:irs_review",
    "explicitness_review": "metrics.explicitness_review:explicitness_review",
    "sap_review": "metrics.sap_review:sap_review",
    "dci_review": "metrics.dci_review:dci_review",
    "z_diff": "metrics.z_diff:z_diff",
    "z_min_var": "metrics.z_min_var:z_min_var",
    "z_max_var": "metrics.z_max_var:z_max_var",
    # Newer metrics, each after its authors' code.
    "infomec": "metrics.infomec:infomec",
    "med": "metrics.med:med",
    "dci_es": "metrics.dci_es:dci_es",
}
METRIC_NAMES = tuple(_METRICS)

# Metrics whose factors must be class labels: a continuous factor would make
# every sample its own class. The others bin continuous factors or regress them.
_DISCRETE_FACTORS_ONLY = frozenset(["dci", "infomec", "med"])

# The original study's discretisation of codes (histogram, 20 bins).
_NUM_BINS = 20


def score_codes(factors, codes, metrics=None, discrete_factors=True, random_state=None,
                **params):
  """Scores codes against ground-truth factors with many metrics at once.

  Args:
    factors: [N, K] ground-truth factors, one row per sample: integer class labels
      (any values, any subset of the grid) or, with discrete_factors=False, reals.
    codes: [N, D] the representation of the same samples.
    metrics: names from METRIC_NAMES (default: all that apply to the factors; with
      continuous factors, those that need class labels are left out).
    discrete_factors: whether the factors are class labels.
    random_state: int seed or np.random.RandomState (None: seed 0). Each metric
      draws from its own generator seeded alike, so a metric's value does not
      depend on which other metrics are scored with it.
    **params: a metric's parameters: "<metric>.<name>" (e.g.
      **{"z_diff.batch_size": 200}) reaches that metric only; a plain name reaches
      every chosen metric that takes it.

  Returns:
    {metric: {output key: value}}. Metrics that fit on some samples and score
    others (the original's DCI, SAP and explicitness, MED, DCI-ES) fit on the
    first half of the rows and score the second; the review's metrics fit and
    score all rows, as their reference does.

  Raises:
    UserError: for arrays of the wrong shape or with non-finite values, unknown
      metrics or parameters, or a metric that needs discrete factors.
  """
  factors, codes = _checked_arrays(factors, codes, discrete_factors)
  names = _chosen_metrics(metrics, discrete_factors)
  functions = {name: _function(name) for name in names}
  routed = _route_params(params, functions)
  seed = _seed_of(random_state)
  scores = {}
  for name, function in functions.items():
    kwargs = dict(routed[name])
    accepted = inspect.signature(function).parameters
    if "continuous_factors" in accepted:
      kwargs.setdefault("continuous_factors", not discrete_factors)
    if "random_state" in accepted:
      kwargs["random_state"] = np.random.RandomState(seed)
    logging.info("Scoring %s.", name)
    # Estimators the original's metrics fit draw from numpy's global generator.
    with seeding.numpy_global_seed(seed):
      scores[name] = _plain(function(factors, codes, **kwargs))
  return scores


def _checked_arrays(factors, codes, discrete_factors):
  factors, codes = np.asarray(factors), np.asarray(codes)
  if factors.ndim != 2 or codes.ndim != 2:
    raise errors.UserError(
        "factors and codes must be 2-D arrays [samples, factors] and [samples, codes], not "
        "of shapes {} and {}.".format(factors.shape, codes.shape))
  if factors.shape[0] != codes.shape[0]:
    raise errors.UserError("factors and codes must have one row per sample: {} and {} rows."
                           .format(factors.shape[0], codes.shape[0]))
  if factors.shape[0] < 4 or factors.shape[1] < 1 or codes.shape[1] < 1:
    raise errors.UserError("Scoring needs at least 4 samples, 1 factor and 1 code; got "
                           "factors {} and codes {}.".format(factors.shape, codes.shape))
  for label, array in (("factors", factors), ("codes", codes)):
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
      raise errors.UserError("{} must be finite numbers.".format(label))
  if discrete_factors and not np.all(factors == np.round(factors)):
    raise errors.UserError("discrete_factors=True needs integer class labels as factors; "
                           "pass discrete_factors=False for continuous factors.")
  if discrete_factors:
    factors = factors.astype(np.int64)
  return factors, codes.astype(np.float64)


def _chosen_metrics(metrics, discrete_factors):
  if metrics is None:
    if discrete_factors:
      return list(METRIC_NAMES)
    logging.info("Continuous factors: %s need class labels and are left out.",
                 ", ".join(sorted(_DISCRETE_FACTORS_ONLY)))
    return [m for m in METRIC_NAMES if m not in _DISCRETE_FACTORS_ONLY]
  metrics = [metrics] if isinstance(metrics, str) else list(metrics)
  unknown = [m for m in metrics if m not in _METRICS]
  if unknown:
    raise errors.UserError("Unknown metric(s) {}; known: {}.".format(
        ", ".join(map(repr, unknown)), ", ".join(METRIC_NAMES)))
  if not discrete_factors:
    refused = [m for m in metrics if m in _DISCRETE_FACTORS_ONLY]
    if refused:
      raise errors.UserError(
          "{} need(s) discrete factors (class labels); with continuous factors use the "
          "review's versions (e.g. dci_review) or bin the factors first.".format(
              ", ".join(refused)))
  return list(dict.fromkeys(metrics))


def _function(name):
  module_name, function_name = _METRICS[name].split(":")
  module = importlib.import_module("dlib_torch.evaluation." + module_name)
  return getattr(module, function_name)


def _route_params(params, functions):
  """{metric: {parameter: value}} of "<metric>.<parameter>" and plain parameters."""
  routed = {name: {} for name in functions}
  for key, value in params.items():
    metric, _, parameter = key.rpartition(".")
    targets = [metric] if metric else [
        name for name, function in functions.items()
        if parameter in inspect.signature(function).parameters]
    if metric and metric not in functions:
      raise errors.UserError("Parameter {!r} is for {!r}, which is not among the metrics "
                             "scored.".format(key, metric))
    for name in targets:
      accepted = inspect.signature(functions[name]).parameters
      if parameter not in accepted or parameter in ("factors", "codes", "random_state"):
        raise errors.UserError("{} takes no parameter {!r}.".format(name, parameter))
      routed[name][parameter] = value
    if not targets:
      raise errors.UserError("No metric scored takes a parameter {!r}.".format(key))
  return routed


def _seed_of(random_state):
  if random_state is None:
    return 0
  if isinstance(random_state, np.random.RandomState):
    return int(random_state.randint(2**31 - 1))
  if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
    return int(random_state)
  raise errors.UserError("random_state must be an integer seed or a numpy RandomState, not "
                         "{!r}.".format(random_state))


def _plain(results):
  """Python floats for numpy scalars, lists for arrays: the dict prints and saves as JSON."""
  plain = {}
  for key, value in dict(results).items():
    if isinstance(value, np.ndarray):
      value = value.tolist()
    elif isinstance(value, np.generic):
      value = value.item()
    plain[key] = value
  return plain


# The original's metrics on arrays. Its functions take codes [D, N] and factors
# [K, N]; with continuous factors, the information-based ones see the factors
# binned as the codes are (histogram, num_bins bins).


def _histogram(num_bins):
  return lambda target: utils.histogram_discretizer(target, num_bins)


def _labels(factors, continuous_factors, num_bins):
  return _histogram(num_bins)(factors.T) if continuous_factors else factors.T


def _halves(factors, codes):
  half = factors.shape[0] // 2
  return codes[:half].T, factors[:half].T, codes[half:].T, factors[half:].T


def _mig(factors, codes, continuous_factors=False, num_bins=_NUM_BINS):
  return mig.compute_mig_from_codes(codes.T, _labels(factors, continuous_factors, num_bins),
                                    _histogram(num_bins))


def _sap_score(factors, codes, continuous_factors=False):
  return sap_score.compute_sap_from_codes(*_halves(factors, codes), continuous_factors)


def _dci(factors, codes):
  return dci.compute_dci_from_codes(*_halves(factors, codes))


def _modularity_explicitness(factors, codes, continuous_factors=False, num_bins=_NUM_BINS):
  labels = _labels(factors, continuous_factors, num_bins)
  half = factors.shape[0] // 2
  return modularity_explicitness.compute_modularity_explicitness_from_codes(
      codes[:half].T, labels[:, :half], codes[half:].T, labels[:, half:],
      _histogram(num_bins))


def _irs(factors, codes, diff_quantile=0.99, num_bins=_NUM_BINS):
  return irs.compute_irs_from_codes(codes.T, factors.T, diff_quantile, _histogram(num_bins))


def _unsupervised_metrics(factors, codes, num_bins=_NUM_BINS):
  del factors  # Scores of the codes alone.
  return unsupervised_metrics.unsupervised_metrics_from_codes(codes.T, _histogram(num_bins))
