"""Semi-supervised VAEs: annealers, supervised losses (the original's values), models."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlib_torch.data import training_stream
from dlib_torch.methods.semi_supervised import semi_supervised_vae as s2
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
from dlib_torch.tests.methods import helpers


@pytest.mark.parametrize("annealer, expected", [
    (s2.fixed_annealer, [100., 100., 100., 100.]),
    (s2.annealed_annealer, [0., 10., 100., 100.]),
    (s2.fine_tune_annealer, [0., 0., 0., 100.])])
def test_annealers(annealer, expected):
  values = [annealer(100., step, 100) for step in (0, 10, 100, 101)]
  np.testing.assert_allclose(values, expected)


@pytest.mark.parametrize("representation, labels, expected", [
    (np.zeros([64, 10]), np.zeros([64, 5]), 64 * 5 * math.log(2)),
    (np.zeros([64, 10]), np.zeros([64, 10]), 2 * 64 * 5 * math.log(2)),
    (np.ones([64, 10]), np.zeros([64, 10]), 64 * 10 * (1 + math.log(1 + math.exp(-1))))])
def test_xent(representation, labels, expected):
  value = s2.supervised_regularizer_xent(torch.as_tensor(representation, dtype=torch.float32),
                                         torch.as_tensor(labels, dtype=torch.float32),
                                         factor_sizes=[1] * labels.shape[1])
  assert float(value) == pytest.approx(expected, rel=1e-5)  # 221.807, 443.614, 840.48


@pytest.mark.parametrize("representation, labels, expected", [
    (np.zeros([64, 10]), np.zeros([64, 5]), 0.),
    (np.array([[1., 0.], [0., 1.]]), np.array([[0., 1.], [1., 0.]]), 0.125)])
def test_cov(representation, labels, expected):
  value = s2.supervised_regularizer_cov(torch.as_tensor(representation, dtype=torch.float32),
                                        torch.as_tensor(labels, dtype=torch.float32))
  assert float(value) == pytest.approx(expected, abs=1e-6)


def test_cov_of_independent_samples_is_small():
  samples = torch.randn(100000, 10, generator=torch.Generator().manual_seed(0))
  assert float(s2.supervised_regularizer_cov(samples, samples)) < 0.01


def test_l2_with_a_learned_scale_and_the_original_broadcast_without():
  representation = torch.tensor([[1., 2., 9.], [3., -1., 9.]])
  labels = torch.tensor([[0., 1.], [2., 4.]])
  store = s2.VariableStore()
  value = s2.supervised_regularizer_l2(representation, labels, [3, 5], variables=store)
  assert float(value) == pytest.approx(1 + 1 + 1 + 25)  # b starts at 1.
  store.variables["b"].data.fill_(2.)
  assert float(s2.supervised_regularizer_l2(representation, labels, [3, 5],
                                            variables=store)) == pytest.approx(4 + 9 + 16 + 36)
  # Without the scale every sample's latents meet every sample's labels.
  sig = torch.sigmoid(representation[:, :2]).numpy()
  normalised = labels.numpy() / np.array([3., 5.])
  expected = np.sum((sig[:, None, :] - normalised[None, :, :])**2)
  value = s2.supervised_regularizer_l2(representation, labels, [3, 5], learn_scale=False)
  assert float(value) == pytest.approx(expected, rel=1e-5)


def test_embed_by_hand():
  representation = torch.tensor([[0.5, -1.], [2., 0.]])
  labels = torch.tensor([[1., 0.], [2., 1.]])
  store = s2.VariableStore()
  value = s2.supervised_regularizer_embed(representation, labels, [3, 2], sigma=2.,
                                          variables=store)
  expected = 0.
  for i, size in enumerate([3, 2]):
    embedding = store.variables["{}/embedding".format(i)].detach()
    assert embedding.shape == (size,)
    assert float(embedding.abs().max()) <= math.sqrt(3. / size)  # Glorot-uniform range.
    logits = -((representation[:, i:i + 1] - embedding) * 2.)**2
    expected += float(F.cross_entropy(logits, labels[:, i].long()))
  assert float(value) == pytest.approx(expected, rel=1e-5)
  ordered = s2.VariableStore()
  s2.supervised_regularizer_embed(representation, labels, [3, 2], sigma="learn", use_order=True,
                                  variables=ordered)
  assert sorted(ordered.variables) == ["0/bias", "0/sigma", "0/slope", "1/bias", "1/sigma",
                                       "1/slope"]


def _s2_vae(loss="xent", extra=()):
  # The factor sizes are given: no labelled set is drawn (the protocol's part).
  return helpers.make_model(lambda: s2.S2BetaVAE([7, 7]), [
      "s2_vae.beta = 2.", "s2_vae.gamma_sup = 3.", "annealer.anneal_fn = @anneal",
      "annealer.iteration_threshold = 10", "supervised_loss.loss_fn = @{}".format(loss)] +
                            list(extra), ask_inputs=False)


def _semi_batch(batch_size=6):
  data = helpers.Squares()
  unlabelled = training_stream.ObservationStream(data, 0).next_batch(batch_size)
  labelled_stream = training_stream.ObservationStream(data, 1)
  labelled = labelled_stream.next_batch(batch_size)
  labels = np.float32(np.random.RandomState(2).randint(7, size=(batch_size, 2)))
  return torch.as_tensor(unlabelled), (torch.as_tensor(labelled), torch.as_tensor(labels))


def test_s2_vae_loss_by_hand():
  model = _s2_vae()
  features = _semi_batch()
  model.global_step = 5  # The annealed weight is 3 * 5 / 10.
  values = model.losses(features, torch.Generator().manual_seed(0))
  model.global_step = 0
  unsupervised = super(s2.BaseS2VAE, model).losses(features[0],  # pylint: disable=bad-super-call
                                                   torch.Generator().manual_seed(0))
  z_mean_labelled, _ = model.gaussian_encoder(features[1][0])
  supervised = s2.supervised_regularizer_xent(z_mean_labelled, features[1][1], [7, 7])
  assert float(values["supervised_loss"]) == pytest.approx(float(supervised), rel=1e-5)
  expected = unsupervised["reconstruction_loss"] + 2 * unsupervised["kl_loss"] + 1.5 * supervised
  assert float(values["loss"]) == pytest.approx(float(expected), rel=1e-5)
  assert float(values["regularizer"]) == pytest.approx(
      float(2 * unsupervised["kl_loss"] + 1.5 * supervised), rel=1e-5)


def test_the_learned_scale_is_trained():
  model = _s2_vae("l2")
  optimizer, _ = model.make_optimizers()["vae"]
  b = model.supervised_variables.variables["b"]
  assert any(p is b for group in optimizer.param_groups for p in group["params"])


def test_s2_vae_training_decreases_the_loss():
  model = _s2_vae()
  data = helpers.Squares()
  stream = train_semi_supervised_lib.SemiSupervisedStream(data, 0, *_labelled_set(data))
  history = helpers.fit(model, stream, steps=40)
  assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])


def _labelled_set(data):
  rs = np.random.RandomState(4)
  factors = data.sample_factors(20, rs)
  return data.sample_observations_from_factors(factors, rs), np.float32(factors)


def test_mine_estimates_the_mutual_information():
  # x = sign(N(0, 1)), y = x + N(0, 0.2): I(x; y) is about 0.659 (the original's test).
  rs = np.random.RandomState(0)
  torch.manual_seed(0)
  estimators = s2.MineEstimators(1)
  optimizer = torch.optim.Adam(estimators.parameters(), lr=0.01)
  generator = torch.Generator().manual_seed(0)
  for _ in range(200):
    x = np.sign(rs.normal(0., 1., [1, 5000]))
    y = x + rs.normal(0., np.sqrt(0.2), x.shape)
    estimate, loss = s2.mine(torch.as_tensor(x, dtype=torch.float32),
                             torch.as_tensor(y, dtype=torch.float32), estimators, generator)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
  assert 0.6 <= float(estimate) <= 0.7


def test_mine_estimators_are_independent():
  estimators = s2.MineEstimators(3)
  x, z = torch.randn(3, 50), torch.randn(3, 50)
  statistics = estimators(x, z)
  single = s2.MineEstimators(1)
  for name, parameter in single.named_parameters():
    parameter.data.copy_(getattr(estimators, name).data[1:2])
  np.testing.assert_allclose(single(x[1:2], z[1:2]).detach().numpy(),
                             statistics[1:2].detach().numpy(), rtol=1e-5)


def test_mine_vae_penalises_off_diagonal_pairs_and_trains_its_estimators_separately():
  model = helpers.make_model(lambda: s2.MineVAE([7, 7]), [
      "s2_mine_vae.beta = 1.", "s2_mine_vae.gamma_sup = 2.", "annealer.anneal_fn = @fixed",
      "annealer.iteration_threshold = 1"], ask_inputs=False)
  assert model.mine_estimators.x_weight.shape[0] == 2 * 4
  features = _semi_batch()
  values = model.losses(features, torch.Generator().manual_seed(0))
  x = model.gaussian_encoder(features[1][0])[0].T.repeat(2, 1)
  z = features[1][1].T.repeat_interleave(4, dim=0)
  estimates, _ = s2.mine(x, z, model.mine_estimators, torch.Generator().manual_seed(0))
  mask = torch.ones(2, 4)
  mask[0, 0] = mask[1, 1] = 0
  assert float(values["supervised_loss"]) == pytest.approx(
      float(torch.sum(estimates**2 * mask.flatten())), rel=1e-5)
  optimizers = model.make_optimizers()
  assert optimizers["mine"][0].param_groups[0]["lr"] == 0.01
  before = model.mine_estimators.out_bias.detach().clone()
  model.train_step(features, 0, optimizers, torch.Generator().manual_seed(0))
  assert not torch.equal(before, model.mine_estimators.out_bias)
