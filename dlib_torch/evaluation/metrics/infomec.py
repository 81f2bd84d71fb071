"""InfoMEC: InfoM (modularity), InfoE (explicitness), InfoC (compactness).

Hsu et al., "Disentanglement via Latent Quantization" (NeurIPS 2023); the
authors' standalone reference is kylehkhsu/latent_quantization
disentangle/metrics/infomec.py (`compute_infomec`).

Sources (factors) are label-encoded. NMI[i, j] = I(s_i; z_j) / H(s_i): the
mutual information of source i and latent j (scikit-learn's k-NN estimator,
`mutual_info_classif(n_neighbors=10)`, on standardised latents; plug-in
counts for discrete latents) over the source's entropy, both in nats.
Latents whose range is at most a twentieth of the largest range (any
constant latent, for discrete latents) are inactive and left out of InfoM
and InfoC.
* InfoM: per active latent, its largest NMI over its NMI summed over the
  sources; mean over latents, rescaled so that 1/K maps to 0 and 1 to 1.
* InfoC: per source, its largest NMI over its NMI summed over the active
  latents; mean over sources, rescaled likewise with 1/L_active.
* InfoE: per source, the drop in cross-entropy a multinomial logistic
  regression (unpenalised, balanced class weights) gains from the latents
  against the same regression on an all-zero input, fitted and scored on the
  same samples, as a fraction of the latter; mean over sources.

Where the reference departs from the paper or from the authors' own jax code
(mutual_information.py):
* InfoM is NaN when an active latent has zero estimated NMI with every
  source (the estimator clips negative estimates to 0, so a pure-noise latent
  can do this): 0/0 enters the mean. The default keeps the reference's NaN;
  `drop_uninformative_latents=True` averages over the latents whose ratio is
  defined, as the jax code does.
* InfoE fits on all latents, inactive ones included, and lbfgs stops at 100
  iterations whether or not it converged (a ConvergenceWarning).
* The estimator's 1e-10 jitter came from numpy's global generator; here it
  comes from `random_state`, drawn in the reference's order (source by
  source, latent by latent), so an int seed s gives the reference's numbers
  after `np.random.seed(s)`.
* With `discrete_latents=True` the reference fails on integer codes (its
  all-zero input keeps their integer dtype); here that input is float.
"""
from absl import logging
import gin
import numpy as np
from sklearn import feature_selection
from sklearn import linear_model
from sklearn import metrics
from sklearn import preprocessing
from sklearn.utils import check_random_state

from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors

# Fraction of the widest latent's range a continuous latent must exceed to count.
_ACTIVE_RANGE_FRACTION = 1. / 20


def infomec(factors, codes, discrete_latents=False, random_state=0,
            drop_uninformative_latents=False):
  """InfoM, InfoC and InfoE of discrete factors [N, K] and codes [N, L].

  Args:
    factors: discrete factor values (integer labels), one row per sample.
    codes: latent values, one row per sample.
    discrete_latents: treat each distinct code value as a category (plug-in
      mutual information, one-hot inputs for InfoE) instead of a continuous
      value.
    random_state: int seed or np.random.RandomState for the k-NN estimator's
      jitter.
    drop_uninformative_latents: average InfoM only over the active latents
      with some information (the jax code) instead of letting them make it NaN
      (the reference).

  Returns:
    Dict with "infom", "infoc", "infoe" (floats), "nmi" [K, L] and
    "active_latents" [L] (booleans).
  """
  factors, codes = check_samples(factors, codes, discrete_factors=True, min_samples=2)
  random_state = check_random_state(random_state)
  sources = np.stack([_labels(column) for column in factors.T], axis=1)
  for i, column in enumerate(sources.T):
    if column.max() == 0:
      raise errors.UserError("Factor {} takes a single value: it has no entropy to "
                             "normalise by.".format(i))
  nmi = normalised_mutual_information(sources, codes, discrete_latents, random_state)
  ranges = np.max(codes, axis=0) - np.min(codes, axis=0)
  if discrete_latents:
    active = ranges > 0
  else:
    active = ranges > np.max(ranges) * _ACTIVE_RANGE_FRACTION
  if not np.any(active):
    # The reference fails here (a maximum over no latents); a collapsed
    # representation is a result, not a mistake.
    logging.warning("Every code is constant: InfoM and InfoC are NaN.")
  pruned = nmi[:, active]
  with np.errstate(divide="ignore", invalid="ignore"):
    per_latent = np.max(pruned, axis=0, initial=0.) / np.sum(pruned, axis=0)
    per_source = np.max(pruned, axis=1, initial=0.) / np.sum(pruned, axis=1)
  if drop_uninformative_latents:
    per_latent = per_latent[np.isfinite(per_latent)]
  return {
      "infom": _rescaled_mean(per_latent, pruned.shape[0]),
      "infoc": _rescaled_mean(per_source, pruned.shape[1]),
      "infoe": infoe(sources, codes, discrete_latents),
      "nmi": nmi,
      "active_latents": active,
  }


@gin.configurable(
    "infomec",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_infomec(ground_truth_data, representation_function, random_state,
                    artifact_dir=None, num_train=gin.REQUIRED, batch_size=16,
                    discrete_latents=False, drop_uninformative_latents=False):
  """InfoMEC on `num_train` sampled points.

  Returns:
    Dict with "infom", "infoc" and "infoe".
  """
  del artifact_dir
  errors.check_positive_int("num_train", num_train)
  codes, factors = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_train, random_state, batch_size)
  result = infomec(factors.T, codes.T, discrete_latents=discrete_latents,
                   random_state=random_state,
                   drop_uninformative_latents=drop_uninformative_latents)
  return {key: result[key] for key in ("infom", "infoc", "infoe")}


def normalised_mutual_information(sources, codes, discrete_latents, random_state):
  """I(source_i; latent_j) / H(source_i) in nats of label-encoded sources [N, K]: [K, L]."""
  if discrete_latents:
    latents = [_labels(column) for column in codes.T]
  else:
    # One column at a time, as the reference scales them (a column alone is
    # summed in another order than within the matrix: the last bits differ).
    latents = [preprocessing.StandardScaler().fit_transform(column[:, np.newaxis])
               for column in codes.T]
  nmi = np.empty((sources.shape[1], codes.shape[1]))
  for i, source in enumerate(sources.T):
    for j, latent in enumerate(latents):
      if discrete_latents:
        nmi[i, j] = metrics.mutual_info_score(source, latent)
      else:
        nmi[i, j] = feature_selection.mutual_info_classif(
            latent, source, discrete_features=False, n_neighbors=10,
            random_state=random_state)[0]
    nmi[i, :] /= metrics.mutual_info_score(source, source)
  return nmi


def infoe(sources, codes, discrete_latents):
  """InfoE: mean over sources of the fraction of the null cross-entropy the latents remove."""
  if discrete_latents:
    inputs = preprocessing.OneHotEncoder().fit_transform(codes)
  else:
    inputs = preprocessing.StandardScaler().fit_transform(codes)
  null = np.zeros(codes.shape)
  gains = []
  for source in sources.T:
    cross_entropy = _fitted_cross_entropy(inputs, source)
    null_cross_entropy = _fitted_cross_entropy(null, source)
    gains.append((null_cross_entropy - cross_entropy) / null_cross_entropy)
  return float(np.mean(gains))


def _fitted_cross_entropy(inputs, labels):
  """Cross-entropy (nats) of an unpenalised balanced multinomial logistic
  regression on the data it was fitted to."""
  # C=inf is scikit-learn >= 1.8's spelling of the reference's penalty=None;
  # multinomial is the default for lbfgs.
  model = linear_model.LogisticRegression(C=np.inf, tol=1e-4, class_weight="balanced",
                                          solver="lbfgs", max_iter=100)
  model.fit(inputs, labels)
  return metrics.log_loss(labels, model.predict_proba(inputs))


def _labels(values):
  """Integer labels 0..n-1 of a column's distinct values, in sorted order."""
  return np.unique(values, return_inverse=True)[1].reshape(-1)


def _rescaled_mean(ratios, num_candidates):
  """(mean ratio - 1/n) / (1 - 1/n): 0 for spread-out, 1 for concentrated rows
  (NaN without ratios or with a single candidate, where the reference divides by 0)."""
  if len(ratios) == 0 or num_candidates < 2:
    return float("nan")
  chance = 1. / num_candidates
  return float((np.mean(ratios) - chance) / (1. - chance))


def check_samples(factors, codes, discrete_factors, min_samples):
  """Factors [N, K] and codes [N, D] as numeric arrays; a UserError if unusable.

  Shared by the metrics that score samples without binning them (InfoMEC,
  MED, DCI-ES).

  Args:
    factors: factor values, one row per sample.
    codes: code values, one row per sample.
    discrete_factors: whether every factor must hold integer labels.
    min_samples: fewest rows the metric can score.
  """
  arrays = []
  for name, values in (("factors", factors), ("codes", codes)):
    array = np.asarray(values)
    if array.ndim != 2 or array.dtype.kind not in "biuf" or array.shape[1] == 0:
      raise errors.UserError("{} must be a numeric array [num_samples, num_columns], not "
                             "shape {} of {}.".format(name, array.shape, array.dtype))
    if not np.isfinite(array).all():
      raise errors.UserError("The {} hold NaN or infinite values.".format(name))
    arrays.append(array)
  factors, codes = arrays
  if factors.shape[0] != codes.shape[0]:
    raise errors.UserError("factors ({} rows) and codes ({} rows) must have one row per "
                           "sample.".format(factors.shape[0], codes.shape[0]))
  if codes.shape[0] < min_samples:
    raise errors.UserError("This metric needs at least {} samples, not {}.".format(
        min_samples, codes.shape[0]))
  if discrete_factors and np.any(factors != np.round(factors)):
    raise errors.UserError("This metric needs discrete factors (integer labels); bin "
                           "continuous factors first.")
  return factors, codes
