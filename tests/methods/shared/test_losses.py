"""The reconstruction losses added to the original's: disentangling-vae's Gaussian and Laplace."""
import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import losses


def _images():
  rs = np.random.RandomState(0)
  true = torch.as_tensor(rs.random_sample((3, 4, 4, 1)), dtype=torch.float32)
  logits = torch.as_tensor(rs.normal(size=(3, 4, 4, 1)), dtype=torch.float32)
  return true, logits


def test_gaussian_loss_is_the_255_scaled_squared_error():
  true, logits = _images()
  means = 1 / (1 + np.exp(-logits.numpy()))
  expected = np.sum((true.numpy() * 255 - means * 255)**2, axis=(1, 2, 3)) / 255
  np.testing.assert_allclose(losses.gaussian_loss(true, logits, "logits").numpy(), expected,
                             rtol=1e-5)


def test_laplace_loss_is_three_times_the_absolute_error():
  true, logits = _images()
  means = (np.tanh(logits.numpy()) + 1) / 2
  expected = 3 * np.sum(np.abs(true.numpy() - means), axis=(1, 2, 3))
  np.testing.assert_allclose(losses.laplace_loss(true, logits, "tanh").numpy(), expected,
                             rtol=1e-5)


@pytest.mark.parametrize("loss_fn", [losses.gaussian_loss, losses.laplace_loss])
def test_unknown_activation(loss_fn):
  true, logits = _images()
  with pytest.raises(NotImplementedError):
    loss_fn(true, logits, "relu")


@pytest.mark.parametrize("bindings", [
    ["reconstruction_loss.loss_fn = @bernoulli_loss",
     "bernoulli_loss.subtract_true_image_entropy = True"],
    ["reconstruction_loss.loss_fn = @l2_loss", "reconstruction_loss.activation = 'tanh'"],
    ["reconstruction_loss.loss_fn = @laplace_loss"],
])
def test_the_bound_loss_is_the_configured_loss_without_gin(bindings):
  gin.parse_config(bindings)
  true, logits = _images()
  expected = losses.make_reconstruction_loss(true, logits)
  bound = losses.bound_reconstruction_loss()
  gin.clear_config()  # Bound once: later configuration does not reach it.
  torch.testing.assert_close(bound(true, logits), expected, rtol=0, atol=0)
  with pytest.raises(RuntimeError, match="loss_fn"):
    losses.make_reconstruction_loss(true, logits)


def test_without_a_loss_the_bound_loss_raises_gins_error():
  true, logits = _images()
  with pytest.raises(RuntimeError, match="Required bindings .*loss_fn"):
    losses.bound_reconstruction_loss()(true, logits)
