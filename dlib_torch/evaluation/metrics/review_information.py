"""Shared pieces of the review's information-based metrics (Zaidi et al., 2020).

The review (arXiv 2012.09276; the authors' code is
ubisoft/ubisoft-laforge-disentanglement-metrics) scores MIG, MIG-sup, JEMMIG,
DCIMIG, Modularity and IRS on arrays of samples, one row per sample. Codes,
and factors declared continuous, are binned per column: scaled to [0, 1] with
scikit-learn's `minmax_scale`, then cut into `nb_bins` equal-width bins
numbered 1..nb_bins. Entropies and mutual information are plug-in
(empirical-frequency) estimates in bits, computed with pyitlib's arithmetic:
each entropy is `-sum p log2 p` over the histogram's cells in ascending order
(for a joint histogram: by code value, then factor value), and
`I(v; z) = H(v) - (H(v, z) - H(z))`. utils.discrete_mutual_info (nats, the
scikit-learn formula) agrees to about 1e-16, but that is not enough: when a
factor is held equally well by two codes (a redundant representation), the
last bit decides which one JEMMIG takes as the best, and the score moves by
0.004. Same arithmetic, same choice.

Not reproduced: pyitlib treats the value -1 as "missing" and leaves such
samples out; a discrete factor that takes the value -1 is an ordinary label
here.
"""
import numpy as np
from sklearn import preprocessing

from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors


def check_inputs(factors, codes, continuous_factors, nb_bins, min_factors=1, min_codes=1):
  """The factors [N, K] and codes [N, D] as arrays; a UserError if they cannot be scored.

  The arguments are those of `prepare`.
  """
  factors = _numeric_matrix("factors", factors)
  codes = _numeric_matrix("codes", codes)
  if len(factors) != len(codes):
    raise errors.UserError("factors and codes must have one row per sample; got {} and {} "
                           "rows.".format(len(factors), len(codes)))
  if len(codes) < 2:
    raise errors.UserError("At least 2 samples are needed, got {}.".format(len(codes)))
  if factors.shape[1] < min_factors or codes.shape[1] < min_codes:
    raise errors.UserError(
        "This metric needs at least {} factor and {} code columns; got {} and {}.".format(
            min_factors, min_codes, factors.shape[1], codes.shape[1]))
  if not isinstance(continuous_factors, (bool, np.bool_)):
    raise errors.UserError(
        "continuous_factors must be True or False, not {!r}.".format(continuous_factors))
  errors.check_positive_int("nb_bins", nb_bins)
  if not continuous_factors and np.any(factors != np.round(factors)):
    raise errors.UserError(
        "The factors hold non-integer values: pass continuous_factors=True to bin them, "
        "or give discrete factors as integer labels.")
  return factors, codes


def _numeric_matrix(name, values):
  array = np.asarray(values)
  if array.ndim != 2 or array.dtype.kind not in "biuf":
    raise errors.UserError("{} must be a numeric array [num_samples, num_columns], got "
                           "shape {} of {}.".format(name, array.shape, array.dtype))
  if not np.all(np.isfinite(array)):
    raise errors.UserError("{} hold NaN or infinite values.".format(name))
  return array


def get_bin_index(x, nb_bins):
  """Bin numbers 1..nb_bins of values in [0, 1] (1.0 falls in the last bin)."""
  return np.digitize(x, np.linspace(0, 1, nb_bins + 1)[:-1]).astype(int)


def bin_columns(x, nb_bins):
  """Each column scaled to [0, 1] and binned: bins 1..nb_bins (a constant column: all 1)."""
  return get_bin_index(preprocessing.minmax_scale(x), nb_bins)


def prepare(factors, codes, continuous_factors, nb_bins, min_factors=1, min_codes=1):
  """Checked, discrete factor and code labels, as the information metrics score them.

  Args:
    factors: factor values [N, K], one row per sample; integer labels unless
      `continuous_factors`.
    codes: code values [N, D], one row per sample; always binned.
    continuous_factors: bin the factors as the codes are (True) or take them
      as labels (False).
    nb_bins: number of equal-width bins per binned column.
    min_factors: fewest factor columns the metric can score.
    min_codes: fewest code columns the metric can score.

  Returns:
    Factor labels [N, K] and code bins [N, D].
  """
  factors, codes = check_inputs(factors, codes, continuous_factors, nb_bins, min_factors,
                                min_codes)
  if continuous_factors:
    factors = bin_columns(factors, nb_bins)
  return factors, bin_columns(codes, nb_bins)


def entropy(labels):
  """Entropy in bits of each column of discrete labels [N, K]: [K]."""
  return np.array([_entropy_of_counts(np.unique(column, return_counts=True)[1])
                   for column in np.transpose(labels)])


def joint_entropy(factors, codes):
  """Joint entropy H(v_f, z_c) in bits of discrete factors [N, K] and codes [N, D]: [K, D]."""
  factors = [_ranks(column) for column in np.transpose(factors)]
  codes = [_ranks(column) for column in np.transpose(codes)]
  joint = np.zeros([len(factors), len(codes)])
  for f, (factor, num_factor) in enumerate(factors):
    for c, (code, _) in enumerate(codes):
      # Cells ordered by code value, then factor value: the order pyitlib
      # sums them in (see the module docstring).
      counts = np.bincount(code * num_factor + factor)
      joint[f, c] = _entropy_of_counts(counts[counts > 0])
  return joint


def mutual_information(factors, codes):
  """I(v_f; z_c) in bits of discrete factors [N, K] and codes [N, D]: [K, D].

  Computed as the reference does, H(v) - (H(v, z) - H(z)), not clipped at 0.
  """
  conditional = joint_entropy(factors, codes) - entropy(codes)[np.newaxis, :]
  return entropy(factors)[:, np.newaxis] - conditional


def _ranks(labels):
  """Labels as integers 0..n-1 in the order of their values, and n."""
  values, ranks = np.unique(labels, return_inverse=True)
  return ranks.reshape(-1), len(values)


def _entropy_of_counts(counts):
  """Plug-in entropy in bits of a histogram, with pyitlib's arithmetic."""
  p = counts / (1.0 * np.sum(counts))
  return float(-np.sum(p * np.log2(p + np.spacing(0))))


def score_on_samples(metric_fn, name, ground_truth_data, representation_function,
                     random_state, num_train, batch_size, **params):
  """{name: score} of `metric_fn` on `num_train` sampled points of a data set.

  The data set's factors are class indices, so they are scored as discrete
  (`continuous_factors=False`).
  """
  errors.check_positive_int("num_train", num_train)
  codes, factors = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state, batch_size)
  result = metric_fn(factors.T, codes.T, continuous_factors=False, **params)
  return {name: result["score"]}


def normalised_mutual_information(factors, codes, normalize_by):
  """I(factor; code) [K, D] of discrete labels, divided by H(code) or H(factor).

  A constant column has zero entropy: its entries are 0/0 = NaN (and the
  metrics that use them NaN), as in the reference.
  """
  if normalize_by not in ("code", "factor"):
    raise errors.UserError(
        "normalize_by must be 'code' or 'factor', not {!r}.".format(normalize_by))
  mi = mutual_information(factors, codes)
  with np.errstate(divide="ignore", invalid="ignore"):
    if normalize_by == "code":
      return mi / entropy(codes)[np.newaxis, :]
    return mi / entropy(factors)[:, np.newaxis]
