"""Unsupervised VAEs: the original's helper values, each loss by hand, training steps."""
import math

import numpy as np
import pytest
import torch

from dlib_torch.data import training_stream
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import vae
from dlib_torch.tests.methods import helpers


@pytest.mark.parametrize("mean, logvar, expected", [(0., 0., 0.), (1., 0., 5.),
                                                    (1., 1., 5. * (math.e - 1))])
def test_compute_gaussian_kl(mean, logvar, expected):
  value = vae.compute_gaussian_kl(torch.full((10, 10), mean), torch.full((10, 10), logvar))
  assert float(value) == pytest.approx(expected, abs=1e-5)  # 8.5914 for the third


@pytest.mark.parametrize("step, expected", [(0, 0.), (10, 10.), (100, 100.), (101, 100.)])
def test_anneal(step, expected):
  assert vae.anneal(100., step, 100) == pytest.approx(expected)


def test_covariance_of_z_mean_matches_the_sample_covariance():
  rs = np.random.RandomState(0)
  covariance = np.eye(10) * 10 + 0.5 * (lambda a: a + a.T)(rs.random_sample((10, 10)))
  samples = rs.multivariate_normal(np.zeros(10), covariance, size=200000)
  estimate = vae.compute_covariance_z_mean(torch.as_tensor(samples, dtype=torch.float32))
  assert np.sum((estimate.numpy() - covariance)**2) < 0.1
  np.testing.assert_allclose(estimate.numpy(), np.cov(samples.T, bias=True), atol=1e-3)


@pytest.mark.parametrize("matrix, expected", [(np.ones((10, 10)), 90.), (np.zeros((10, 10)), 10.),
                                              (np.eye(10), 0.), (2 * np.eye(10), 10.)])
def test_regularize_diag_off_diag_dip(matrix, expected):
  value = vae.regularize_diag_off_diag_dip(torch.as_tensor(matrix, dtype=torch.float32), 1, 1)
  assert float(value) == pytest.approx(expected)


def test_dip_weights_and_the_type_ii_covariance():
  z_mean = torch.tensor([[1., 0.], [-1., 2.], [0., 1.]])
  z_logvar = torch.log(torch.tensor([[1., 4.], [1., 4.], [1., 4.]]))
  # Cov[mu] by hand: means (0, 1); E[mu mu^T] = [[2/3, -2/3], [-2/3, 5/3]].
  cov = np.array([[2 / 3, -2 / 3], [-2 / 3, 2 / 3]])
  off, diag = 2 * (2 / 3)**2, (2 / 3 - 1)**2 + (2 / 3 - 1)**2
  value_i = vae.dip_regularizer(z_mean, z_logvar, 3., 10., "i")
  assert float(value_i) == pytest.approx(3 * off + 30 * diag, rel=1e-5)
  # Type ii adds E[sigma^2] = (1, 4) to the diagonal.
  cov_ii = cov + np.diag([1., 4.])
  expected_ii = 3 * off + 30 * np.sum((np.diag(cov_ii) - 1)**2)
  value_ii = vae.dip_regularizer(z_mean, z_logvar, 3., 10., "ii")
  assert float(value_ii) == pytest.approx(expected_ii, rel=1e-5)
  with pytest.raises(NotImplementedError):
    vae.dip_regularizer(z_mean, z_logvar, 3., 10., "iii")


@pytest.mark.parametrize("mean, expected", [(0., -1.4189385), (1., -0.9189385)])
def test_gaussian_log_density(mean, expected):
  assert float(vae.gaussian_log_density(torch.ones(1), mean, 0.)[0]) == pytest.approx(expected)


@pytest.mark.parametrize("num_samples, num_dim, low, high", [(1000, 1, 0., 0.1),
                                                             (10000, 10, -82.9, -82.89)])
def test_total_correlation_of_independent_samples(num_samples, num_dim, low, high):
  # Without the log(N) constants the estimate is -(num_dim - 1) * ln(N) (-82.893 for 10^4).
  torch.manual_seed(0)
  z = torch.randn(num_samples, num_dim)
  zeros = torch.zeros(num_samples, num_dim)
  assert low <= float(vae.total_correlation(z, zeros, zeros)) <= high


def test_total_correlation_matches_a_direct_computation():
  torch.manual_seed(1)
  z, z_mean, z_logvar = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3) * 0.3
  log_q = np.zeros((5, 5, 3))
  for j in range(5):
    for i in range(5):
      for l in range(3):
        var = math.exp(z_logvar[i, l])
        log_q[j, i, l] = -0.5 * ((z[j, l] - z_mean[i, l])**2 / var + math.log(2 * math.pi * var))
  log_qz = np.log(np.sum(np.exp(log_q.sum(axis=2)), axis=1))
  log_qz_product = np.sum(np.log(np.sum(np.exp(log_q), axis=1)), axis=1)
  expected = np.mean(log_qz - log_qz_product)
  assert float(vae.total_correlation(z, z_mean, z_logvar)) == pytest.approx(expected, rel=1e-5)
  # Chunked rows give the same value.
  old = vae._TC_CHUNK_ELEMENTS  # pylint: disable=protected-access
  try:
    vae._TC_CHUNK_ELEMENTS = 1  # pylint: disable=protected-access
    assert float(vae.total_correlation(z, z_mean, z_logvar)) == pytest.approx(expected, rel=1e-5)
  finally:
    vae._TC_CHUNK_ELEMENTS = old  # pylint: disable=protected-access


def test_shuffle_codes_permutes_each_column_independently():
  z = torch.arange(40.).reshape(10, 4)
  shuffled = vae.shuffle_codes(z, torch.Generator().manual_seed(0))
  for column in range(4):
    assert sorted(shuffled[:, column].tolist()) == z[:, column].tolist()
  # Columns are not moved together (row structure broken).
  assert not all(torch.equal(shuffled[:, 0] - z[0, 0], shuffled[:, c] - z[0, c])
                 for c in range(1, 4))


def _batch(seed=0, batch_size=6):
  return torch.as_tensor(
      training_stream.ObservationStream(helpers.Squares(), seed).next_batch(batch_size))


def _by_hand(model, features, seed):
  """Encoder, sample (same generator draws) and decoder outputs, and the reconstruction loss."""
  z_mean, z_logvar = model.gaussian_encoder(features)
  eps = torch.randn(z_mean.shape, generator=torch.Generator().manual_seed(seed))
  z = z_mean + torch.exp(z_logvar / 2) * eps
  reconstruction = torch.mean(losses.bernoulli_loss(features, model.decode(z), "logits"))
  kl = torch.mean(0.5 * torch.sum(z_mean**2 + torch.exp(z_logvar) - z_logvar - 1, dim=1))
  return z_mean, z_logvar, z, reconstruction, kl


def _losses(model, features, seed, global_step=0):
  model.global_step = global_step
  return model.losses(features, torch.Generator().manual_seed(seed))


def test_beta_vae_loss_by_hand():
  model = helpers.make_model(vae.BetaVAE, ["vae.beta = 4."])
  features = _batch()
  values = _losses(model, features, 3)
  _, _, _, reconstruction, kl = _by_hand(model, features, 3)
  assert float(values["loss"]) == pytest.approx(float(reconstruction + 4 * kl), rel=1e-5)
  assert float(values["elbo"]) == pytest.approx(-float(reconstruction + kl), rel=1e-5)


@pytest.mark.parametrize("step, capacity", [(0, 0.), (50, 12.5), (400, 25.)])
def test_annealed_vae_loss_by_hand(step, capacity):
  model = helpers.make_model(vae.AnnealedVAE, [
      "annealed_vae.gamma = 10.", "annealed_vae.c_max = 25.",
      "annealed_vae.iteration_threshold = 100"])
  features = _batch()
  values = _losses(model, features, 3, global_step=step)
  _, _, _, reconstruction, kl = _by_hand(model, features, 3)
  assert float(values["regularizer"]) == pytest.approx(10 * abs(float(kl) - capacity), rel=1e-5)
  assert float(values["loss"]) == pytest.approx(float(reconstruction) +
                                                10 * abs(float(kl) - capacity), rel=1e-5)


@pytest.mark.parametrize("dip_type, lambda_d_factor", [("i", 10.), ("ii", 1.)])
def test_dip_vae_loss_by_hand(dip_type, lambda_d_factor):
  model = helpers.make_model(vae.DIPVAE, [
      "dip_vae.lambda_od = 5.", "dip_vae.lambda_d_factor = {}".format(lambda_d_factor),
      "dip_vae.dip_type = '{}'".format(dip_type)])
  features = _batch()
  values = _losses(model, features, 3)
  z_mean, z_logvar, _, reconstruction, kl = _by_hand(model, features, 3)
  mu = z_mean.detach().numpy().astype(np.float64)
  cov = np.cov(mu.T, bias=True)
  if dip_type == "ii":
    cov = cov + np.diag(np.mean(np.exp(z_logvar.detach().numpy()), axis=0))
  off = np.sum(cov**2) - np.sum(np.diag(cov)**2)
  penalty = 5. * off + 5. * lambda_d_factor * np.sum((np.diag(cov) - 1)**2)
  assert float(values["regularizer"]) == pytest.approx(float(kl) + penalty, rel=1e-4)
  assert float(values["loss"]) == pytest.approx(float(reconstruction + kl) + penalty, rel=1e-4)


def test_beta_tc_vae_loss_by_hand():
  model = helpers.make_model(vae.BetaTCVAE, ["beta_tc_vae.beta = 6."])
  features = _batch()
  values = _losses(model, features, 3)
  z_mean, z_logvar, z, reconstruction, kl = _by_hand(model, features, 3)
  tc = vae.total_correlation(z, z_mean, z_logvar)
  assert float(values["regularizer"]) == pytest.approx(float(kl + 5. * tc), rel=1e-5)
  assert float(values["loss"]) == pytest.approx(float(reconstruction + kl + 5. * tc), rel=1e-5)


def _factor_vae():
  return helpers.make_model(vae.FactorVAE, [
      "factor_vae.gamma = 7.", "discriminator.discriminator_fn = @fc_discriminator",
      "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer",
      "discriminator/AdamOptimizer.learning_rate = 0.001",
      "discriminator/AdamOptimizer.beta1 = 0.5", "discriminator/AdamOptimizer.beta2 = 0.9"])


def test_factor_vae_loss_is_the_discriminator_density_ratio():
  model = _factor_vae()
  features = _batch()
  values = _losses(model, features, 3)
  z_mean, z_logvar, z, reconstruction, kl = _by_hand(model, features, 3)
  generator = torch.Generator().manual_seed(3)
  torch.randn(z.shape, generator=generator)  # The reparameterisation's draw comes first.
  z_shuffle = vae.shuffle_codes(z, generator)
  logits, _ = model.discriminator(z)
  probs = torch.softmax(logits, dim=1)
  # log D(z) / (1 - D(z)) with D the probability of "not shuffled".
  tc = torch.mean(torch.log(probs[:, 0] / probs[:, 1]))
  assert float(values["regularizer"]) == pytest.approx(float(kl + 7. * tc), rel=1e-4)
  assert float(values["loss"]) == pytest.approx(float(reconstruction + kl + 7. * tc), rel=1e-4)
  _, probs_shuffle = model.discriminator(z_shuffle)
  expected = 0.5 * torch.mean(torch.log(probs[:, 0])) + 0.5 * torch.mean(
      torch.log(probs_shuffle[:, 1]))
  assert float(values["discriminator_loss"]) == pytest.approx(float(expected), rel=1e-4)


def test_factor_vae_step_updates_each_network_with_its_own_loss():
  model = _factor_vae()
  optimizers = model.make_optimizers()
  assert set(optimizers) == {"vae", "discriminator"}
  assert optimizers["discriminator"][0].param_groups[0]["betas"] == (0.5, 0.9)
  discriminator_before = [p.detach().clone() for p in model.discriminator.parameters()]
  encoder_before = [p.detach().clone() for p in model.encoder.parameters()]
  _, steps = model.train_step(_batch(), 0, optimizers, torch.Generator().manual_seed(0))
  assert steps == 2  # The original counts both optimizers' steps.
  assert all(not torch.equal(a, b) for a, b in zip(discriminator_before,
                                                  model.discriminator.parameters()))
  assert all(not torch.equal(a, b) for a, b in zip(encoder_before, model.encoder.parameters()))
  # The VAE optimizer holds no discriminator variable and vice versa.
  vae_ids = {id(p) for group in optimizers["vae"][0].param_groups for p in group["params"]}
  assert not vae_ids & {id(p) for p in model.discriminator.parameters()}


@pytest.mark.parametrize("factory, bindings", [
    (vae.BetaVAE, ["vae.beta = 1."]),
    (vae.AnnealedVAE, ["annealed_vae.gamma = 10.", "annealed_vae.c_max = 5.",
                       "annealed_vae.iteration_threshold = 20"]),
    (vae.DIPVAE, ["dip_vae.lambda_od = 2.", "dip_vae.lambda_d_factor = 10."]),
    (vae.DIPVAE, ["dip_vae.lambda_od = 2.", "dip_vae.lambda_d_factor = 1.",
                  "dip_vae.dip_type = 'ii'"]),
    (vae.BetaTCVAE, ["beta_tc_vae.beta = 4."]),
    (vae.FactorVAE, ["factor_vae.gamma = 10.",
                     "discriminator.discriminator_fn = @fc_discriminator",
                     "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer",
                     "discriminator/AdamOptimizer.learning_rate = 0.0001",
                     "discriminator/AdamOptimizer.beta1 = 0.5",
                     "discriminator/AdamOptimizer.beta2 = 0.9"]),
])
def test_training_decreases_the_loss(factory, bindings):
  model = helpers.make_model(factory, bindings)
  stream = training_stream.ObservationStream(helpers.Squares(), 0)
  history = helpers.fit(model, stream, steps=40)
  assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])
