"""Latent responses (Leeb, Bauer, Besserve, Schoelkopf 2022).

The response of an autoencoder to a latent vector z is R(z), the posterior mean
of the encoding of the decoded image. Intervening on one latent coordinate and
watching how R moves shows which latents the decoder uses and how they
interact, without any ground truth:

* latent response matrix M [D, D]: row j is the root-mean-square change of
  R (per responding coordinate) when coordinate j of a prior sample is
  replaced by a fresh prior draw; a near-zero row marks a latent the decoder
  ignores;
* factor-response matrix C [F, D]: for a ground-truth factor f, encode a
  traversal of all values of f (other factors fixed), swap coordinate j of one
  member's code for coordinate j of another member, and take the RMS change of
  R_j; averaged over traversals;
* causal disentanglement score: sum_j max_f C[f, j] / sum C, in [1/F, 1]:
  each latent's response should come from a single factor.

The metric needs the trained model's encoder and decoder, which the
evaluation protocol does not hand to metrics (it passes the representation
only), so the entry point loads the TorchScript artefacts of a trained model
directory: `model_dir` if bound, else the one found from the `artifact_dir` it
receives (see `resolve_model_dir`).
"""
import os

import gin
import numpy as np

from dlib_torch.utils import errors
from dlib_torch.utils import torchscript_io


def _has_model(directory):
  return all(os.path.exists(torchscript_io.artefact_path(directory, name))
             for name in ("gaussian_encoder", "decoder"))


def _recorded_model_dir(post_dir):
  """The trained-model folder dpostprocess recorded beside the representation, if any."""
  try:
    return torchscript_io.load_description(post_dir, "representation").get("model_dir")
  except (OSError, ValueError):
    return None


def resolve_model_dir(model_dir, artifact_dir):
  """The trained-model directory holding torchscript/gaussian_encoder.pt and decoder.pt.

  `model_dir` wins when given. Otherwise, from the `artifact_dir` the
  evaluation step passes (POST_DIR/artifacts/<name>): the model folder that
  dpostprocess recorded in POST_DIR/torchscript/representation.json, then
  POST_DIR itself, then OUT/model of the dreproduce layout
  (POST_DIR = OUT/postprocessed/<name>).
  """
  if model_dir:
    return model_dir
  if artifact_dir:
    path = os.path.normpath(artifact_dir)
    if os.path.basename(path) != "artifacts":
      path = os.path.dirname(path)
    post_dir = os.path.dirname(path)
    candidates = [_recorded_model_dir(post_dir), post_dir,
                  os.path.join(os.path.dirname(os.path.dirname(post_dir)), "model")]
    for candidate in candidates:
      if candidate and _has_model(candidate):
        return candidate
  raise errors.UserError(
      "This metric needs the trained model's encoder and decoder: bind its directory "
      "with the gin parameter model_dir (e.g. --gin_bindings=\"latent_response.model_dir="
      "'/path/to/model'\").")


def posterior_mean(encoded):
  """The mean of an encoder output that is either the mean or (mean, logvar)."""
  return encoded[0] if isinstance(encoded, tuple) else encoded


def make_response_function(encoder_fn, decoder_fn, decoder_activation="sigmoid"):
  """R(z): decode (logits -> images through `decoder_activation`), encode, take the mean."""
  if decoder_activation not in ("sigmoid", "identity"):
    raise errors.UserError("decoder_activation must be 'sigmoid' or 'identity'.")

  def respond(latents):
    images = np.asarray(decoder_fn(np.asarray(latents, np.float32)))
    if decoder_activation == "sigmoid":
      images = 1. / (1. + np.exp(-images))
    return np.asarray(posterior_mean(encoder_fn(images.astype(np.float32))), np.float64)

  return respond


def _rms_changes(response_fn, bases, intervened):
  """RMS over samples of R(intervened) - R(bases); both [D, n, D] -> [D, D]."""
  num_latents, num_samples = bases.shape[:2]
  responses = response_fn(np.concatenate([bases, intervened]).reshape(-1, num_latents))
  responses = responses.reshape(2, num_latents, num_samples, -1)
  return np.sqrt(np.mean((responses[1] - responses[0])**2, axis=1))


def compute_latent_response_matrix(response_fn, num_latents, random_state, num_samples=128,
                                   base_latents=None):
  """Latent response matrix M [D, D]: row = intervened latent, column = responding latent.

  Args:
    response_fn: numpy latents [n, D] -> responses [n, D].
    num_latents: D.
    random_state: np.random.RandomState.
    num_samples: base latents per intervened coordinate.
    base_latents: optional pool [m, D] to draw base latents from (a
      permutation, or with replacement when m < num_samples); default: N(0, I).

  Returns:
    M [D, D], M[j, i] = sqrt(mean_n (R(z~_n) - R(z_n))_i^2) with z~ = z except
    z~_j drawn from N(0, 1).
  """
  bases = np.zeros([num_latents, num_samples, num_latents])
  intervened = np.zeros_like(bases)
  for j in range(num_latents):
    if base_latents is None:
      bases[j] = random_state.normal(size=(num_samples, num_latents))
    else:
      pool = len(base_latents)
      picks = (random_state.permutation(pool)[:num_samples] if pool >= num_samples else
               random_state.randint(pool, size=num_samples))
      bases[j] = base_latents[picks]
    intervened[j] = bases[j]
    intervened[j, :, j] = random_state.normal(size=num_samples)
  return _rms_changes(response_fn, bases, intervened)


def compute_factor_response_matrix(ground_truth_data, encoder_fn, response_fn, random_state,
                                   num_traversals=50, batch_size=32):
  """Factor-response matrix C [F, D] over traversals of each ground-truth factor.

  For each factor f and traversal: draw base factors, render all values of f,
  encode them (posterior means); for each latent j, `batch_size` times pick a
  member and a different member of the traversal (a random non-zero cyclic
  shift), set coordinate j of the first member's code to the second's, and
  record the RMS change of R_j. Factors with a single value give zeros.
  """
  sizes = [int(n) for n in ground_truth_data.factors_num_values]
  rows = []
  for f, size in enumerate(sizes):
    total = 0.
    for _ in range(num_traversals):
      factors = np.repeat(ground_truth_data.sample_factors(1, random_state), size, axis=0)
      factors[:, f] = np.arange(size)
      observations = ground_truth_data.sample_observations_from_factors(factors, random_state)
      codes = np.asarray(posterior_mean(encoder_fn(observations)), np.float64)
      num_latents = codes.shape[1]
      if size < 2:
        total = total + np.zeros(num_latents)
        continue
      picks = random_state.randint(size, size=(num_latents, batch_size))
      others = (picks + random_state.randint(1, size, size=(num_latents, batch_size))) % size
      bases = codes[picks]
      intervened = bases.copy()
      for j in range(num_latents):
        intervened[j, :, j] = codes[others[j], j]
      total = total + np.diag(_rms_changes(response_fn, bases, intervened))
    rows.append(total / num_traversals)
  return np.stack(rows)


def causal_disentanglement(factor_response):
  """sum_j max_f C[f, j] / sum C (0 when nothing responds)."""
  factor_response = np.asarray(factor_response)
  total = factor_response.sum()
  return float(factor_response.max(axis=0).sum() / total) if total > 0 else 0.


@gin.configurable(
    "latent_response",
    denylist=["ground_truth_data", "representation_function", "random_state",
               "artifact_dir"])
def compute_latent_response(ground_truth_data, representation_function, random_state,
                            artifact_dir=None, model_dir=None, num_samples=128,
                            num_traversals=50, batch_size=32, decoder_activation="sigmoid"):
  """Latent response matrix, factor-response matrix and causal disentanglement.

  Args:
    ground_truth_data: GroundTruthData for the factor traversals.
    representation_function: unused (responses need the encoder's posterior
      and the decoder, loaded from the trained model).
    random_state: np.random.RandomState: latent responses first, then traversals.
    artifact_dir: used to find the trained model when model_dir is None.
    model_dir: trained model directory (with torchscript/gaussian_encoder.pt, decoder.pt).
    num_samples: base latents per intervened coordinate (latent response matrix).
    num_traversals: traversals per factor.
    batch_size: interventions per latent and traversal.
    decoder_activation: map from decoder logits to images ("sigmoid" or "identity").

  Returns:
    Dict with latent_response_matrix [D][D], factor_response_matrix [F][D] and
    causal_disentanglement.
  """
  del representation_function
  model_dir = resolve_model_dir(model_dir, artifact_dir)
  encoder_fn = torchscript_io.load_gaussian_encoder(model_dir)
  response_fn = make_response_function(encoder_fn, torchscript_io.load_decoder(model_dir),
                                       decoder_activation)
  # The code size, from one blank image (drawing nothing from random_state).
  blank = np.zeros([1] + list(np.atleast_1d(ground_truth_data.observation_shape)), np.float32)
  num_latents = posterior_mean(encoder_fn(blank)).shape[1]
  latent_matrix = compute_latent_response_matrix(response_fn, num_latents, random_state,
                                                 num_samples)
  factor_matrix = compute_factor_response_matrix(ground_truth_data, encoder_fn, response_fn,
                                                 random_state, num_traversals, batch_size)
  return {
      "latent_response_matrix": latent_matrix.tolist(),
      "factor_response_matrix": factor_matrix.tolist(),
      "causal_disentanglement": causal_disentanglement(factor_matrix),
  }
