"""Helpers shared by the metrics: sampling codes, discretising, mutual information, predictors.

Layouts follow disentanglement_lib: codes are [num_codes, num_points] and
factors [num_factors, num_points] (one row per variable), except where a
function feeds scikit-learn, which wants [num_points, num_features].
"""
import math

import gin
import joblib
import numpy as np
from sklearn import linear_model
from sklearn import model_selection
import threadpoolctl

from dlib_torch.evaluation.metrics import presorted_boosting
from dlib_torch.utils import batching
from dlib_torch.utils import progress

# A representation function that takes any batch size (utils.batching) is
# handed observations in chunks of about this many bytes rather than one
# sampling batch at a time: a model evaluates a few large batches much faster
# than hundreds of batches of 16. Other functions get the original's batches.
_CHUNK_BYTES = 64 * 2**20

# Below this many training points per factor, starting worker processes costs
# more than the fits themselves (used when `fit_per_factor` picks n_jobs).
_MIN_POINTS_FOR_PROCESSES = 2000


def _apply_in_chunks(batches, batch_bytes, chunk_bytes, fn):
  """fn applied to concatenations of consecutive batches of about `chunk_bytes`
  (by `batch_bytes(batch)`); returns fn's output split back into one part per
  batch, in order. The batches are consumed in order."""
  results = []
  pending, pending_bytes = [], 0

  def flush():
    chunk = pending[0] if len(pending) == 1 else np.concatenate(pending)
    bounds = np.cumsum([len(batch) for batch in pending])[:-1]
    results.extend(np.split(fn(chunk), bounds))
    pending.clear()

  for batch in batches:
    pending.append(batch)
    pending_bytes += batch_bytes(batch)
    if pending_bytes >= chunk_bytes:
      flush()
      pending_bytes = 0
  if pending:
    flush()
  return results


def represent_batches(observation_batches, representation_function, batch_size=None,
                      chunk_bytes=_CHUNK_BYTES, num_points=None):
  """Applies a representation function to a stream of observation batches.

  The batches are consumed in order (so a generator that samples them draws
  from its random state in the original order). A function that takes any
  batch size (utils.batching) sees concatenations of consecutive batches of
  about `chunk_bytes`; any other function is called as the original calls it:
  on each batch, in pieces of at most `batch_size` observations if given.

  Args:
    observation_batches: iterable of observation arrays [n_b, ...].
    representation_function: maps observations [n, ...] to codes [n, d].
    batch_size: most observations per call of a plain function (None: a batch).
    chunk_bytes: size of the chunks handed to a function of any batch size.
    num_points: the observations of all batches, if known, for the progress report.

  Returns:
    List with the codes [n_b, d] of each batch, in order.
  """
  observation_batches = progress.tracked(observation_batches, num_points, "encoding",
                                         "observations")
  if not batching.takes_any_batch_size(representation_function):
    return [_represent_in_batches(np.asarray(batch), representation_function,
                                  batch_size or max(1, len(batch)))
            for batch in observation_batches]
  return _apply_in_chunks(observation_batches, lambda batch: np.asarray(batch).nbytes,
                          chunk_bytes, representation_function)


def _represent_in_batches(observations, representation_function, batch_size):
  """Codes [n, d] of observations [n, ...], `batch_size` at a time (the original's calls)."""
  codes = [representation_function(observations[start:start + batch_size])
           for start in range(0, len(observations), batch_size)]
  return codes[0] if len(codes) == 1 else np.vstack(codes)


def represent_factor_batches(factor_batches, ground_truth_data, representation_function,
                             random_state, chunk_bytes=_CHUNK_BYTES, num_points=None):
  """Codes of the observations of a stream of factor batches, in order.

  Each batch's observations are rendered after its factors are drawn, as
  `ground_truth_data.sample` does. For a representation function of any
  batch size, where rendering draws nothing from `random_state`
  (`observations_draw_random` False), the batches of a whole chunk are
  rendered in one call instead: the same draws and observations, without a
  render call and a copy per small batch.

  Args:
    factor_batches: iterable of factor arrays [n_b, num_factors]; drawing
      them may use `random_state`.
    ground_truth_data: GroundTruthData that renders them.
    representation_function: maps observations [n, ...] to codes [n, d]; a
      plain function is called once per batch, as in the original.
    random_state: np.random.RandomState the rendering draws from.
    chunk_bytes: size of the observation chunks a function of any batch size sees.
    num_points: the points of all batches, if known, for the progress report.

  Returns:
    List with the codes [n_b, d] of each batch.
  """
  # Data sets that do not say (duck-typed ones) are rendered batch by batch.
  if (getattr(ground_truth_data, "observations_draw_random", True) or
      not batching.takes_any_batch_size(representation_function)):
    return represent_batches(
        (ground_truth_data.sample_observations_from_factors(factors, random_state)
         for factors in factor_batches), representation_function, chunk_bytes=chunk_bytes,
        num_points=num_points)
  # float32 observations: the size the representation function is fed.
  row_bytes = 4 * int(np.prod(ground_truth_data.observation_shape))
  return _apply_in_chunks(
      progress.tracked(factor_batches, num_points, "sampling and encoding", "points"),
      lambda factors: len(factors) * row_bytes, chunk_bytes,
      lambda factors: representation_function(
          ground_truth_data.sample_observations_from_factors(factors, random_state)))


def generate_batch_factor_code(ground_truth_data, representation_function,
                               num_points, random_state, batch_size):
  """Samples points and their codes, `batch_size` points per sampling call.

  Factors and observations are drawn batch by batch as in the original (so the
  draws from `random_state` are identical); only a representation function of
  any batch size (utils.batching) is called on larger chunks.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: maps observations [n, ...] to codes [n, d].
    num_points: number of points to sample.
    random_state: np.random.RandomState for all the draws.
    batch_size: number of points sampled per call to `ground_truth_data.sample`.

  Returns:
    codes [d, num_points] (the dtype of the representation function's output)
    and factors [num_factors, num_points].
  """
  factors = []

  def observation_batches():
    for start in range(0, num_points, batch_size):
      batch_factors, observations = ground_truth_data.sample(
          min(num_points - start, batch_size), random_state)
      factors.append(batch_factors)
      yield observations

  codes = represent_batches(observation_batches(), representation_function,
                            num_points=num_points)
  return np.transpose(np.concatenate(codes)), np.transpose(np.concatenate(factors))


def generate_train_test_codes(ground_truth_data, representation_function, num_train,
                              num_test, random_state, batch_size):
  """A training and then a test sample of codes and factors, as the metrics draw them.

  Returns:
    mus_train [d, num_train], ys_train [F, num_train], mus_test [d, num_test],
    ys_test [F, num_test] (see `generate_batch_factor_code`).
  """
  mus_train, ys_train = generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state, batch_size)
  mus_test, ys_test = generate_batch_factor_code(
      ground_truth_data, representation_function, num_test, random_state, batch_size)
  return mus_train, ys_train, mus_test, ys_test


def split_train_test(observations, train_percentage):
  """Splits [num_dims, num_points] into the first ceil(N * p) columns and the rest."""
  num_train = int(np.ceil(observations.shape[1] * train_percentage))
  return observations[:, :num_train], observations[:, num_train:]


def obtain_representation(observations, representation_function, batch_size):
  """Codes [d, num_points] of fixed observations [num_points, ...].

  A plain representation function is called on `batch_size` observations at a
  time, as in the original; one of any batch size (utils.batching) on chunks
  of about `_CHUNK_BYTES` (the same codes, faster).
  """
  rows = batch_size
  if batching.takes_any_batch_size(representation_function):
    rows = max(1, _CHUNK_BYTES // max(1, observations[:1].nbytes))
  slices = (observations[start:start + rows] for start in range(0, len(observations), rows))
  return np.transpose(np.concatenate(represent_batches(
      slices, representation_function, batch_size, num_points=len(observations))))


def _label_codes(labels):
  """Integer codes 0..K-1 of a label vector (sorted distinct values) and K."""
  values, codes = np.unique(labels, return_inverse=True)
  return codes.reshape(-1), len(values)


def _mutual_info_from_codes(a, num_a, b, num_b):
  """Mutual information (nats) of two integer-coded label vectors.

  Same formula and summation order as sklearn.metrics.mutual_info_score
  (contingency counts of the non-empty cells in row-major order), so the values
  agree to float rounding.
  """
  if num_a == 1 or num_b == 1:
    return 0.0
  joint = a.astype(np.int64) * num_b + b
  if num_a * num_b <= 4 * len(joint):
    counts = np.bincount(joint, minlength=num_a * num_b)
    cells = np.flatnonzero(counts)
    counts = counts[cells]
  else:
    cells, counts = np.unique(joint, return_counts=True)
  n = len(joint)
  a_counts = np.bincount(a, minlength=num_a)
  b_counts = np.bincount(b, minlength=num_b)
  outer = a_counts[cells // num_b] * b_counts[cells % num_b]
  p = counts / n
  log_outer = -np.log(outer) + math.log(n) + math.log(n)
  mi = p * (np.log(counts) - math.log(n)) + p * log_outer
  mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
  return float(max(mi.sum(), 0.0))


def discrete_mutual_info(mus, ys):
  """Mutual information (nats) between each code row and each factor row: [C, F]."""
  coded_mus = [_label_codes(row) for row in mus]
  coded_ys = [_label_codes(row) for row in ys]
  m = np.zeros([len(coded_mus), len(coded_ys)])
  for i, (mu, num_mu) in enumerate(coded_mus):
    for j, (y, num_y) in enumerate(coded_ys):
      m[i, j] = _mutual_info_from_codes(y, num_y, mu, num_mu)
  return m


def discrete_entropy(ys):
  """Entropy (nats) of each row of [F, N] discrete labels: [F]."""
  h = np.zeros(len(ys))
  for j, row in enumerate(ys):
    y, num_y = _label_codes(row)
    h[j] = _mutual_info_from_codes(y, num_y, y, num_y)
  return h


@gin.configurable("discretizer", denylist=["target"])
def make_discretizer(target, num_bins=gin.REQUIRED, discretizer_fn=gin.REQUIRED):
  """Discretises each row of `target` [C, N] with the configured function."""
  return discretizer_fn(target, num_bins)


@gin.configurable("histogram_discretizer", denylist=["target"])
def histogram_discretizer(target, num_bins=gin.REQUIRED):
  """Bins each row into `num_bins` equal-width bins between its min and max.

  Returns bin numbers 1..num_bins in an array of the input's dtype (floats
  holding integers for float codes), as the original does; the edges are
  numpy's histogram edges, computed in the row's dtype.
  """
  discretized = np.zeros_like(target)
  for i, row in enumerate(target):
    edges = np.histogram_bin_edges(row, num_bins)
    discretized[i, :] = np.digitize(row, edges[:-1])
  return discretized


def normalize_data(data, mean=None, stddev=None):
  """Z-scores each row of [C, N] (population std); returns (normalized, mean, stddev)."""
  if mean is None:
    mean = np.mean(data, axis=1)
  if stddev is None:
    stddev = np.std(data, axis=1)
  return (data - mean[:, np.newaxis]) / stddev[:, np.newaxis], mean, stddev


@gin.configurable("predictor")
def make_predictor_fn(predictor_fn=gin.REQUIRED):
  """Returns the configured estimator factory (a zero-argument callable)."""
  return predictor_fn


@gin.configurable("logistic_regression_cv")
def logistic_regression_cv():
  """Logistic regression choosing C among 10 values by 5-fold (unshuffled) cross-validation."""
  return linear_model.LogisticRegressionCV(
      Cs=10, cv=model_selection.KFold(n_splits=5))


@gin.configurable("gradient_boosting_classifier")
def gradient_boosting_classifier():
  """scikit-learn's GradientBoostingClassifier with every default (unseeded),
  fitted with presorted features (the same trees, much faster)."""
  return presorted_boosting.PresortedGradientBoostingClassifier()


def _fit_with_global_seed(estimator, x, y, seed):
  """Fits with numpy's global generator seeded: unseeded estimators draw from it."""
  np.random.seed(seed)
  return estimator.fit(x, y)


def _fit_in_worker(estimator, x, y, seed):
  with threadpoolctl.threadpool_limits(limits=1):
    return _fit_with_global_seed(estimator, x, y, seed)


def fit_per_factor(make_estimator, x_train, ys_train, n_jobs=None):
  """Fits a new estimator per factor, in parallel processes when worthwhile.

  Estimator j is `make_estimator()` fitted on (x_train, ys_train[j]). The
  factor fits are independent, so they run in worker processes. Estimators
  without a seed (e.g. the original's GradientBoostingClassifier) draw from
  numpy's global generator; to keep results reproducible and independent of
  the number of processes, each fit runs with the global generator seeded by
  a number drawn, in factor order, from the caller's global generator. The
  caller's generator is left advanced by those draws only.

  Args:
    make_estimator: zero-argument callable returning an unfitted scikit-learn
      estimator (called here, in this process, once per factor).
    x_train: features [num_points, num_features].
    ys_train: labels [num_factors, num_points].
    n_jobs: number of processes; None picks one per core when there is
      enough data to pay for starting them; 1 fits in this process.

  Returns:
    List of the fitted estimators, one per factor.
  """
  estimators = [make_estimator() for _ in range(len(ys_train))]
  seeds = np.random.randint(2**31 - 1, size=len(estimators))
  if n_jobs is None:
    n_jobs = (joblib.cpu_count()
              if len(x_train) >= _MIN_POINTS_FOR_PROCESSES else 1)
  n_jobs = max(1, min(n_jobs, len(estimators)))
  with progress.Progress(len(estimators), "fitting {} per factor".format(
      getattr(make_estimator, "__name__", "an estimator")), "factors") as report:
    if n_jobs == 1:
      state = np.random.get_state()
      try:
        fitted = []
        for estimator, y, seed in zip(estimators, ys_train, seeds):
          fitted.append(_fit_with_global_seed(estimator, x_train, y, seed))
          report.update()
        return fitted
      finally:
        np.random.set_state(state)
    # Longest first (multi-class fits grow with the number of classes), so the
    # processes finish together; the results go back into factor order.
    order = sorted(range(len(estimators)), key=lambda j: -len(np.unique(ys_train[j])))
    fitted = joblib.Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        joblib.delayed(_fit_in_worker)(estimators[j], x_train, ys_train[j], seeds[j])
        for j in order)
    result = [None] * len(estimators)
    for j, estimator in zip(order, fitted):
      result[j] = estimator
      report.update()
  return result
