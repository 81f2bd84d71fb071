"""disentangling-vae's axis alignment metric (AAM) and its MIG (Dubois et al.).

Both read a mutual-information matrix I [F, D] between ground-truth factors and
latent dimensions. With I_(1) >= I_(2) >= ... a factor's row sorted in
decreasing order (and clamped at 0):

* AAM = mean_k max(0, I_(1) - sum_{d>=2} I_(d)) / I_(1) (0 when I_(1) = 0):
  1 when every factor lives in a single latent, however much of it is kept;
* MIG = mean_k (I_(1) - I_(2)) / log |V_k|, normalised by the entropy of a
  uniform factor rather than disentanglement_lib's empirical entropy.

disentangling-vae estimates I from the Gaussian posteriors, as H(z_j) -
H(z_j | v_k), each entropy a Monte Carlo average of -log q(z_j) over samples,
where q(z_j) = 1/N sum_n N(z_j; mu_nj, sigma_nj^2) is the aggregate posterior
(the samples are the means, since its encoder is in eval mode). Its code
reshapes the [samples, D] matrix to [D, samples] instead of transposing it
(issues #64 and #78), which pairs samples with the wrong dimensions and gives
MIG near 1e-3; here every sample is evaluated in its own dimension.
Differences from disentangling-vae: it encodes the whole factorial data set in
order; here `num_train` points are drawn at random, conditional entropies are
weighted by the empirical value frequencies (uniform on a full grid) and
|V_k| is the number of values observed. The `discrete` estimator (histogram
codes and discrete MI, as disentanglement_lib's MIG) needs no model.
"""
import gin
import numpy as np
from scipy import special

from dlib_torch.evaluation.metrics import latent_response
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors
from dlib_torch.utils import torchscript_io

_LOG_2PI = np.log(2. * np.pi)
# Entries of the [samples, points, D] density block evaluated at a time.
_BLOCK_ENTRIES = 1 << 22


def _sorted_mutual_information(mutual_information):
  return np.maximum(-np.sort(-np.asarray(mutual_information, np.float64), axis=1), 0.)


def axis_alignment(mutual_information):
  """AAM of a mutual-information matrix [F, D] (factors x latents)."""
  sorted_mi = _sorted_mutual_information(mutual_information)
  first, rest = sorted_mi[:, 0], sorted_mi[:, 1:].sum(axis=1)
  with np.errstate(divide="ignore", invalid="ignore"):
    per_factor = np.where(first > 0, np.maximum(first - rest, 0.) / first, 0.)
  return float(np.mean(per_factor))


def mutual_information_gap(mutual_information, normalizers):
  """MIG of a mutual-information matrix [F, D] with per-factor normalisers [F]."""
  sorted_mi = _sorted_mutual_information(mutual_information)
  second = sorted_mi[:, 1] if sorted_mi.shape[1] > 1 else 0.
  return float(np.mean((sorted_mi[:, 0] - second) / np.asarray(normalizers, np.float64)))


def estimate_latent_entropies(samples, means, logvars, num_samples, random_state):
  """H(z_j) for each dimension j [D], under the aggregate posterior of (means, logvars).

  Args:
    samples: candidate points z [N, D] (the means, as disentangling-vae).
    means: posterior means [N, D].
    logvars: posterior log-variances [N, D].
    num_samples: points averaged over (at most N, drawn without replacement).
    random_state: np.random.RandomState for choosing them.
  """
  num_points = means.shape[0]
  chosen = samples[random_state.permutation(num_points)[:min(num_samples, num_points)]]
  inverse_variances = np.exp(-logvars)[None]
  log_norms = -0.5 * (_LOG_2PI + logvars)[None]
  step = max(1, _BLOCK_ENTRIES // (num_points * means.shape[1]))
  total = np.zeros(means.shape[1])
  for start in range(0, len(chosen), step):
    z = chosen[start:start + step, None, :]  # [s, 1, D], each sample in its own dimension
    log_densities = log_norms - 0.5 * (z - means[None])**2 * inverse_variances  # [s, N, D]
    total -= np.sum(special.logsumexp(log_densities, axis=1) - np.log(num_points), axis=0)
  return total / len(chosen)


def estimate_gaussian_mutual_information(means, logvars, factors, random_state,
                                         num_samples=10000):
  """I [F, D] = H(z_j) - H(z_j | v_k), from posteriors [N, D] and factors [N, F]."""
  means = np.asarray(means, np.float64)
  logvars = np.asarray(logvars, np.float64)
  factors = np.asarray(factors)
  marginal = estimate_latent_entropies(means, means, logvars, num_samples, random_state)
  conditional = np.zeros([factors.shape[1], means.shape[1]])
  for k in range(factors.shape[1]):
    values, counts = np.unique(factors[:, k], return_counts=True)
    for value, count in zip(values, counts):
      rows = factors[:, k] == value
      conditional[k] += count / len(factors) * estimate_latent_entropies(
          means[rows], means[rows], logvars[rows], num_samples, random_state)
  return marginal[None] - conditional


@gin.configurable(
    "aam",
    denylist=["ground_truth_data", "representation_function", "random_state",
               "artifact_dir"])
def compute_aam(ground_truth_data, representation_function, random_state, artifact_dir=None,
                num_train=gin.REQUIRED, batch_size=16, estimator="gaussian",
                num_entropy_samples=10000, model_dir=None):
  """AAM and disentangling-vae's MIG.

  Args:
    ground_truth_data: GroundTruthData to sample factors and observations from.
    representation_function: numpy observations -> codes (used by "discrete").
    random_state: np.random.RandomState: points, then entropy samples.
    artifact_dir: used to find the trained model when model_dir is None.
    num_train: points drawn to estimate mutual information.
    batch_size: points per encoder call.
    estimator: "gaussian" (disentangling-vae, needs the trained model's
      encoder) or "discrete" (histogram codes; gin `discretizer` bindings).
    num_entropy_samples: Monte Carlo samples per entropy ("gaussian").
    model_dir: trained model directory ("gaussian"; see latent_response).

  Returns:
    Dict with aam, mig and the mutual-information matrix [F][D].
  """
  if estimator == "gaussian":
    encoder_fn = torchscript_io.load_gaussian_encoder(
        latent_response.resolve_model_dir(model_dir, artifact_dir))
    posteriors, factors = utils.generate_batch_factor_code(
        ground_truth_data, lambda x: np.concatenate(encoder_fn(x), axis=1), num_train,
        random_state, batch_size)
    means, logvars = np.split(posteriors.T, 2, axis=1)
    mutual_information = estimate_gaussian_mutual_information(
        means, logvars, factors.T, random_state, num_entropy_samples)
  elif estimator == "discrete":
    codes, factors = utils.generate_batch_factor_code(
        ground_truth_data, representation_function, num_train, random_state, batch_size)
    mutual_information = utils.discrete_mutual_info(utils.make_discretizer(codes), factors).T
  else:
    raise errors.UserError(
        "Unknown estimator {!r}; use 'gaussian' or 'discrete'.".format(estimator))
  # log |V_k| over the values seen; a constant factor (MI 0) gets log 2, not 0.
  num_values = np.array([np.unique(row).size for row in factors])
  return {
      "aam": axis_alignment(mutual_information),
      "mig": mutual_information_gap(mutual_information, np.log(np.maximum(num_values, 2))),
      "mutual_information": np.asarray(mutual_information).tolist(),
  }
