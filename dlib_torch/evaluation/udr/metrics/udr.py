"""Unsupervised Disentanglement Ranking (Duan et al., 2020).

Models trained with different seeds should agree, up to permutation and sign,
on a disentangled representation. For every ordered pair of models a matrix
relates the latents of one to the latents of the other (Lasso weights or
absolute Spearman correlations); its "relative strength" is high when every
latent relates strongly to one latent of the other model only. A model's
score is the median over the other models. Uninformative latents (low KL to
the prior) are zeroed and filtered out.
"""
from absl import logging
import gin
import numpy as np
import scipy.stats
from sklearn import linear_model
from sklearn import preprocessing

from dlib_torch.utils import batching

# Observations are sampled batch by batch; representation functions that take
# any batch size (utils.batching) encode chunks of whole batches of about this
# many bytes: the models run much faster on large inputs.
_CHUNK_BYTES = 64 * 2**20
# Latents with a mean KL at or below this are zeroed, whatever
# kl_filter_threshold is (hard-coded in the original).
_ZERO_KL_THRESHOLD = 0.01


def relative_strength_disentanglement(corr_matrix):
  """Mean over both axes of (largest entry)^2 / (sum of entries).

  NaN ratios (all-zero rows or columns) count as 0 and infinite ones as the
  largest float, as in the original. An empty matrix (every latent filtered
  out) scores 0.
  """
  if corr_matrix.size == 0:
    return 0.
  with np.errstate(divide="ignore", invalid="ignore"):
    score_x = np.nanmean(np.nan_to_num(
        np.power(np.max(corr_matrix, axis=0), 2) / np.sum(corr_matrix, axis=0)))
    score_y = np.nanmean(np.nan_to_num(
        np.power(np.max(corr_matrix, axis=1), 2) / np.sum(corr_matrix, axis=1)))
  return (score_x + score_y) / 2


def spearman_correlation_conv(vec1, vec2):
  """|Spearman correlation| [L1, L2] of every latent of vec1 [N, L1] with every latent of vec2 [N, L2].

  A constant latent gives NaN entries.
  """
  # Pearson correlation of the ranks (ties share their mean rank), as
  # scipy.stats.spearmanr computes it for one pair at a time.
  ranks1 = _centered_ranks(vec1)
  ranks2 = _centered_ranks(vec2)
  norms = np.outer(np.linalg.norm(ranks1, axis=0), np.linalg.norm(ranks2, axis=0))
  with np.errstate(divide="ignore", invalid="ignore"):
    correlation = np.clip((ranks1.T @ ranks2) / norms, -1., 1.)
  return np.absolute(correlation)


def _centered_ranks(vec):
  ranks = scipy.stats.rankdata(vec, axis=0)
  return ranks - np.mean(ranks, axis=0)


def lasso_correlation_matrix(vec1, vec2, random_state=None):
  """|Lasso weights| [L1, L2] of the latents of vec1 predicting each latent of vec2.

  Multi-output Lasso with alpha=0.1 (scikit-learn's cyclic coordinate descent).
  """
  model = linear_model.Lasso(random_state=random_state, alpha=0.1)
  model.fit(vec1, vec2)
  return np.transpose(np.absolute(model.coef_))


def _generate_representation_dataset(ground_truth_data,
                                     representation_functions, batch_size,
                                     num_data_points, random_state):
  """Encodes the same sampled observations with every model.

  `batch_size` observations are sampled at a time, as the original. Each
  representation function maps observations to (means [n, L], mean KL per
  latent [L]). As in the original, every function is called on each batch in
  turn, unless all of them take any batch size (utils.batching): then whole
  batches are encoded together, and the KL of a chunk of k batches counts k
  times in the mean over batches.

  Returns:
    List of the means [num_data_points, L_m] and list of the mean KL per
    latent [L_m] of each model.
  """
  if num_data_points % batch_size != 0:
    raise ValueError("num_data_points must be a multiple of batch_size")
  num_batches = num_data_points // batch_size
  chunked = all(batching.takes_any_batch_size(fn) for fn in representation_functions)
  means = [[] for _ in representation_functions]
  kl_sums = [0. for _ in representation_functions]
  batch = 0
  while batch < num_batches:
    observations = [ground_truth_data.sample_observations(batch_size, random_state)]
    batches_per_chunk = max(1, _CHUNK_BYTES // max(1, observations[0].nbytes)) if chunked else 1
    while len(observations) < min(batches_per_chunk, num_batches - batch):
      observations.append(
          ground_truth_data.sample_observations(batch_size, random_state))
    chunk = observations[0] if len(observations) == 1 else np.concatenate(observations)
    for j, fn in enumerate(representation_functions):
      mean, kl = fn(chunk)
      means[j].append(np.asarray(mean))
      kl_sums[j] = kl_sums[j] + np.asarray(kl, dtype=np.float64) * len(observations)
    batch += len(observations)
  return ([np.concatenate(m).astype(np.float64) for m in means],
          [kl_sum / num_batches for kl_sum in kl_sums])


@gin.configurable(
    "udr_sklearn",
    denylist=["ground_truth_data", "representation_functions", "random_state"])
def compute_udr_sklearn(ground_truth_data,
                        representation_functions,
                        random_state,
                        batch_size=gin.REQUIRED,
                        num_data_points=gin.REQUIRED,
                        correlation_matrix="lasso",
                        filter_low_kl=True,
                        include_raw_correlations=True,
                        kl_filter_threshold=0.01):
  """Computes the UDR scores of a group of models.

  Args:
    ground_truth_data: GroundTruthData to sample observations from.
    representation_functions: one function per model mapping observations
      [n, ...] to (means [n, L], mean KL to the prior per latent [L]).
    random_state: np.random.RandomState for the sampling.
    batch_size: observations sampled at a time.
    num_data_points: observations in total (a multiple of batch_size).
    correlation_matrix: "lasso" or "spearman" (anything else means spearman).
    filter_low_kl: whether latents with mean KL <= kl_filter_threshold are
      left out of the pairwise scores.
    include_raw_correlations: whether to return the unfiltered matrices.
    kl_filter_threshold: KL threshold of the filter.

  Returns:
    Dict with "raw_correlations" [M, M, L, L] (L of the first model; only if
    include_raw_correlations), "pairwise_disentanglement_scores" [M, M, 1]
    and "model_scores" [M] (median over the other models), as lists.
  """
  logging.info("Generating the representations.")
  reps, kl = _generate_representation_dataset(
      ground_truth_data, representation_functions, batch_size, num_data_points,
      random_state)
  num_models = len(reps)
  latent_dim = reps[0].shape[1]
  kl_mask = []
  for i in range(num_models):
    reps[i] = preprocessing.StandardScaler().fit_transform(reps[i])
    reps[i] = reps[i] * np.greater(kl[i], _ZERO_KL_THRESHOLD)
    kl_mask.append(kl[i] > kl_filter_threshold)

  logging.info("Relating the latents of %d models.", num_models)
  corr_matrix_all = np.zeros((num_models, num_models, latent_dim, latent_dim))
  disentanglement = np.zeros((num_models, num_models, 1))
  for i in range(num_models):
    for j in range(num_models):
      if i == j:
        continue
      if correlation_matrix == "lasso":
        corr_matrix = lasso_correlation_matrix(reps[i], reps[j], random_state)
      else:
        corr_matrix = spearman_correlation_conv(reps[i], reps[j])
      corr_matrix_all[i, j, :, :] = corr_matrix
      if filter_low_kl:
        corr_matrix = corr_matrix[kl_mask[i], :][:, kl_mask[j]]
      disentanglement[i, j] = relative_strength_disentanglement(corr_matrix)

  scores = {}
  if include_raw_correlations:
    scores["raw_correlations"] = corr_matrix_all.tolist()
  scores["pairwise_disentanglement_scores"] = disentanglement.tolist()
  scores["model_scores"] = [
      float(np.median(np.delete(disentanglement[:, i], i)))
      for i in range(num_models)]
  return scores
