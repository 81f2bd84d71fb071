"""Weakly-supervised VAEs: aggregation masks, group averaging by hand, training steps."""
import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import vae
from dlib_torch.methods.weak import train_weak_lib
from dlib_torch.methods.weak import weak_vae
from dlib_torch.tests.methods import helpers


@pytest.mark.parametrize("z_mean, z_logvar, new_mean, new_log_var, kl_per_point, target", [
    (np.zeros([64, 10]), np.zeros([64, 10]), np.ones([64, 10]), np.ones([64, 10]),
     np.concatenate((np.zeros([64, 5]), np.ones([64, 5])), axis=1),
     np.concatenate((np.ones([64, 5]), np.zeros([64, 5])), axis=1)),
    (np.array([[1, 1]]), np.array([[1, 1]]), np.array([[0, 0]]), np.array([[0, 0]]),
     np.array([[0, 0.1]]), np.array([[0, 1]])),
])
def test_aggregate_argmax(z_mean, z_logvar, new_mean, new_log_var, kl_per_point, target):
  args = [torch.as_tensor(a, dtype=torch.float32)
          for a in (z_mean, z_logvar, new_mean, new_log_var)]
  mean, logvar = weak_vae.aggregate_argmax(
      *args, None, torch.as_tensor(kl_per_point, dtype=torch.float32))
  np.testing.assert_array_equal(mean.numpy(), target)
  np.testing.assert_array_equal(logvar.numpy(), target)


def test_discretize_in_bins_equal_width_and_constant_rows():
  x = torch.tensor([[0., 0.49, 0.5, 1.], [3., 3., 3., 3.]])
  np.testing.assert_array_equal(weak_vae.discretize_in_bins(x).numpy(),
                                [[0, 0, 1, 1], [0, 0, 0, 0]])


def test_aggregate_labels_keeps_the_changed_dimension():
  z_mean, z_logvar = torch.full((2, 3), 5.), torch.full((2, 3), 6.)
  new_mean, new_log_var = torch.zeros(2, 3), torch.ones(2, 3)
  labels = torch.tensor([[0., 1., 0.], [0., 0., 0.]])  # The second: index beyond the latents.
  mean, logvar = weak_vae.aggregate_labels(z_mean, z_logvar, new_mean, new_log_var, labels, None)
  np.testing.assert_array_equal(mean.numpy(), [[0, 5, 0], [5, 5, 5]])
  np.testing.assert_array_equal(logvar.numpy(), [[1, 6, 1], [6, 6, 6]])


def test_compute_kl_is_twice_the_gaussian_kl():
  z_1, z_2 = torch.tensor([0.3, -1.]), torch.tensor([1., 0.5])
  logvar_1, logvar_2 = torch.tensor([0.2, -0.4]), torch.tensor([-0.1, 0.7])
  q = torch.distributions.Normal(z_1, torch.exp(logvar_1 / 2))
  p = torch.distributions.Normal(z_2, torch.exp(logvar_2 / 2))
  np.testing.assert_allclose(weak_vae.compute_kl(z_1, z_2, logvar_1, logvar_2).numpy(),
                             2 * torch.distributions.kl_divergence(q, p).numpy(), rtol=1e-5)


def _pair_batch(batch_size=6):
  with_bindings = train_weak_lib.WeakStream(helpers.Squares(), 0)
  pairs, labels = with_bindings.next_batch(batch_size)
  return torch.as_tensor(pairs), torch.as_tensor(labels)


@pytest.mark.parametrize("factory, name, product", [
    (weak_vae.GroupVAELabels, "group_vae", False), (weak_vae.GroupVAEArgmax, "group_vae", False),
    (weak_vae.MLVaeLabels, "mlvae", True), (weak_vae.MLVaeArgmax, "mlvae", True)])
def test_loss_by_hand(factory, name, product):
  model = helpers.make_model(factory, ["{}.beta = 3.".format(name), "dynamics.k = 1"],
                             num_latent=4)
  pairs, labels = _pair_batch()
  values = model.losses((pairs, labels), torch.Generator().manual_seed(5))
  x1, x2 = pairs[:, :16], pairs[:, 16:]
  m1, l1 = model.gaussian_encoder(x1)
  m2, l2 = model.gaussian_encoder(x2)
  v1, v2 = torch.exp(l1), torch.exp(l2)
  if product:
    var = 2 * v1 * v2 / (v1 + v2)
    mean = (m1 * v2 + m2 * v1) / (v1 + v2)
  else:
    var = (v1 + v2) / 2
    mean = (m1 + m2) / 2
  if "labels" in factory.__name__.lower():
    own = torch.nn.functional.one_hot(labels[:, 0], 4).bool()
  else:
    kl = v1 / v2 + (m2 - m1)**2 / v2 - 1 + l2 - l1
    low, high = kl.min(1, keepdim=True).values, kl.max(1, keepdim=True).values
    own = (kl - low) / (high - low) >= 0.5
  a_mean1, a_lv1 = torch.where(own, m1, mean), torch.where(own, l1, torch.log(var))
  a_mean2, a_lv2 = torch.where(own, m2, mean), torch.where(own, l2, torch.log(var))
  eps = torch.randn((12, 4), generator=torch.Generator().manual_seed(5))
  z1 = a_mean1 + torch.exp(a_lv1 / 2) * eps[:6]
  z2 = a_mean2 + torch.exp(a_lv2 / 2) * eps[6:]
  reconstruction = 0.5 * torch.mean(losses.bernoulli_loss(x1, model.decode(z1), "logits")) + (
      0.5 * torch.mean(losses.bernoulli_loss(x2, model.decode(z2), "logits")))
  kl_loss = 0.5 * vae.compute_gaussian_kl(a_mean1, a_lv1) + 0.5 * vae.compute_gaussian_kl(
      a_mean2, a_lv2)
  assert float(values["kl_loss"]) == pytest.approx(float(kl_loss), rel=1e-5)
  assert float(values["loss"]) == pytest.approx(float(reconstruction + 3 * kl_loss), rel=1e-5)
  assert float(values["elbo"]) == pytest.approx(-float(reconstruction + kl_loss), rel=1e-5)


@pytest.mark.parametrize("factory, name", [(weak_vae.GroupVAEArgmax, "group_vae"),
                                           (weak_vae.MLVaeLabels, "mlvae")])
def test_training_decreases_the_loss(factory, name):
  model = helpers.make_model(factory, ["{}.beta = 1.".format(name), "dynamics.k = 1"])
  history = helpers.fit(model, model.training_inputs(helpers.Squares(), 0, 1).stream, steps=40)
  assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])
