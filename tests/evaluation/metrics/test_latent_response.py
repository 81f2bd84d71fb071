"""Tests for latent responses (Leeb et al.)."""
import os
from typing import List

import numpy as np
import pytest
import torch

from dlib_torch.evaluation.metrics import latent_response
from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.utils import torchscript_io


class GridImages:
  """Factors of the given sizes; the observation is a 1x1xF image of the factors."""

  observations_draw_random = False

  def __init__(self, sizes):
    self.factors_num_values = list(sizes)
    self.num_factors = len(sizes)
    self.observation_shape = [1, 1, len(sizes)]

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values], axis=1)

  def sample_observations_from_factors(self, factors, random_state):
    return np.asarray(factors, np.float32).reshape(-1, 1, 1, self.num_factors)

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)


class LinearEncoder(torch.nn.Module):
  """(mean, logvar): mean = (logit of) the flattened image times a matrix."""

  def __init__(self, matrix, logvar: float, invert_sigmoid: bool):
    super().__init__()
    self.register_buffer("matrix", torch.tensor(np.asarray(matrix), dtype=torch.float32))
    self.logvar = logvar
    self.invert_sigmoid = invert_sigmoid

  def forward(self, x):
    flat = x.reshape(x.shape[0], -1)
    if self.invert_sigmoid:
      flat = torch.logit(flat)
    mean = flat @ self.matrix
    return mean, torch.full_like(mean, self.logvar)


class LinearDecoder(torch.nn.Module):
  """Logits = latents times a matrix, as an image of the given shape."""

  def __init__(self, matrix, shape: List[int]):
    super().__init__()
    self.register_buffer("matrix", torch.tensor(np.asarray(matrix), dtype=torch.float32))
    self.shape = shape

  def forward(self, z):
    return (z @ self.matrix).reshape([z.shape[0]] + self.shape)


def save_linear_model(model_dir, encoder_matrix, decoder_matrix, image_shape, logvar=-9.,
                      invert_sigmoid=True):
  torchscript_io.save_module(LinearEncoder(encoder_matrix, logvar, invert_sigmoid), model_dir,
                             "gaussian_encoder", {})
  torchscript_io.save_module(LinearDecoder(decoder_matrix, list(image_shape)), model_dir,
                             "decoder", {})


def _linear_pair(num_latents=3, num_pixels=4, seed=0):
  rs = np.random.RandomState(seed)
  decoder_matrix = rs.uniform(-0.5, 0.5, size=(num_latents, num_pixels))
  encoder_matrix = rs.uniform(-0.5, 0.5, size=(num_pixels, num_latents))
  return decoder_matrix, encoder_matrix


def test_latent_response_of_a_linear_autoencoder_is_the_known_matrix():
  decoder_matrix, encoder_matrix = _linear_pair()
  decoder_fn = lambda z: (z @ decoder_matrix).reshape(-1, 2, 2, 1)
  # The encoder undoes the sigmoid, so R(z) = z W with W = A B.
  encoder_fn = lambda x: (np.log(x / (1 - x)).reshape(len(x), -1) @ encoder_matrix,
                          np.zeros((len(x), 3)))
  response_fn = latent_response.make_response_function(encoder_fn, decoder_fn)
  matrix = latent_response.compute_latent_response_matrix(
      response_fn, 3, np.random.RandomState(5), num_samples=64)
  # Intervening on z_j moves R by W[j, :] (v - z_j): row j is |W[j, :]| rms(v - z_j).
  rs = np.random.RandomState(5)
  rms = []
  for j in range(3):
    bases = rs.normal(size=(64, 3))
    rms.append(np.sqrt(np.mean((rs.normal(size=64) - bases[:, j])**2)))
  expected = np.array(rms)[:, None] * np.abs(decoder_matrix @ encoder_matrix)
  np.testing.assert_allclose(matrix, expected, rtol=1e-4, atol=1e-6)


def test_latent_response_marks_an_unused_latent():
  decoder_matrix = np.array([[1., 0.], [0., 1.], [0., 0.]])  # latent 2 is ignored
  response_fn = latent_response.make_response_function(
      lambda x: x.reshape(len(x), 2) @ decoder_matrix.T, lambda z: z @ decoder_matrix,
      decoder_activation="identity")
  matrix = latent_response.compute_latent_response_matrix(
      response_fn, 3, np.random.RandomState(0), num_samples=32,
      base_latents=np.random.RandomState(1).normal(size=(10, 3)))
  np.testing.assert_allclose(matrix[2], 0.)
  np.testing.assert_allclose(matrix[:2, 2], 0.)
  assert np.all(np.diag(matrix)[:2] > 0.5)


def test_causal_disentanglement_of_hand_matrices():
  assert latent_response.causal_disentanglement([[2., 0.], [1., 1.]]) == pytest.approx(0.75)
  assert latent_response.causal_disentanglement(np.eye(3)) == 1.
  assert latent_response.causal_disentanglement(np.ones((2, 4))) == pytest.approx(0.5)
  assert latent_response.causal_disentanglement(np.zeros((2, 2))) == 0.


def _factor_response(mix, seed=0):
  data = GridImages([5, 5])
  encoder_fn = lambda x: x.reshape(len(x), 2) @ mix
  # Decoder = inverse of the encoder: R is the identity.
  response_fn = latent_response.make_response_function(
      encoder_fn, lambda z: (z @ np.linalg.inv(mix)).reshape(-1, 1, 1, 2), "identity")
  return latent_response.compute_factor_response_matrix(
      data, encoder_fn, response_fn, np.random.RandomState(seed), num_traversals=10,
      batch_size=16)


def test_factor_response_of_an_aligned_encoder_is_diagonal():
  matrix = _factor_response(np.diag([1., 2.]))
  np.testing.assert_allclose(matrix[[0, 1], [1, 0]], 0., atol=1e-6)
  # Swapping a code for another value of a 5-value factor moves it by 1..4 steps.
  assert 1. < matrix[0, 0] < 4. and 2. < matrix[1, 1] < 8.
  assert latent_response.causal_disentanglement(matrix) == pytest.approx(1.)


def test_factor_response_of_a_rotated_encoder_is_not_disentangled():
  matrix = _factor_response(np.array([[1., 1.], [1., -1.]]))
  assert np.all(matrix > 0.5)
  assert latent_response.causal_disentanglement(matrix) < 0.7


def test_entry_point_loads_the_trained_model(tmp_path):
  model_dir = str(tmp_path / "out" / "model")
  # Aligned: code j = 0.5 * factor j; decoder logits = 2 * z, encoder reads the logits back.
  save_linear_model(model_dir, 0.5 * np.eye(2), 2. * np.eye(2), [1, 1, 2],
                    invert_sigmoid=False)
  results = latent_response.compute_latent_response(
      GridImages([4, 3]), None, np.random.RandomState(0), model_dir=model_dir, num_samples=8,
      num_traversals=2, batch_size=4, decoder_activation="identity")
  assert np.array(results["latent_response_matrix"]).shape == (2, 2)
  np.testing.assert_allclose(np.array(results["latent_response_matrix"])[[0, 1], [1, 0]], 0.,
                             atol=1e-6)
  assert np.array(results["factor_response_matrix"]).shape == (2, 2)
  assert results["causal_disentanglement"] == pytest.approx(1.)
  # Found from the artifact dir of the dreproduce layout as well (any metric name).
  post_dir = tmp_path / "out" / "postprocessed" / "mean"
  for name in ("latent", ""):
    artifact_dir = os.path.join(str(post_dir), "artifacts", name)
    assert latent_response.resolve_model_dir(None, artifact_dir) == os.path.normpath(model_dir)


def test_model_dir_recorded_by_postprocessing_is_found(tmp_path):
  model_dir = str(tmp_path / "elsewhere")
  save_linear_model(model_dir, np.eye(2), np.eye(2), [1, 1, 2])
  post_dir = str(tmp_path / "post")
  atomic_io.write_json(os.path.join(post_dir, "torchscript", "representation.json"),
                       {"model_dir": model_dir})
  assert latent_response.resolve_model_dir(
      None, os.path.join(post_dir, "artifacts", "latent_response")) == model_dir
  assert latent_response.resolve_model_dir("given", None) == "given"


def test_missing_model_dir_is_a_user_error(tmp_path):
  with pytest.raises(errors.UserError, match="model_dir"):
    latent_response.resolve_model_dir(None, str(tmp_path / "post" / "artifacts" / "x"))
  with pytest.raises(errors.UserError):
    latent_response.compute_latent_response(GridImages([2]), None, np.random.RandomState(0),
                                            model_dir=str(tmp_path))
