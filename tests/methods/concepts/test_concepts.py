"""Concept models: targets and classes from factors, the stream, GlanceNet and CBM losses
by hand, open-set rejection, training."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlib_torch.data import training_stream
from dlib_torch.methods.concepts import cbm
from dlib_torch.methods.concepts import concept_data
from dlib_torch.methods.concepts import glancenet
from dlib_torch.methods.concepts import open_set
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.unsupervised import vae
from dlib_torch.tests.methods import helpers


def test_concept_targets_scale_and_one_hot():
  factors = torch.tensor([[0, 2, 6], [2, 0, 3]])
  g = concept_data.concept_targets(factors, [3, 3, 7], one_hot_factors=(0,))
  np.testing.assert_allclose(g.numpy(), [[1, 0, 0, 1., 1.], [0, 0, 1, 0., 0.5]])
  assert concept_data.num_concepts([3, 3, 7], one_hot_factors=(0,)) == 5
  g = concept_data.concept_targets(factors, [3, 3, 7], concept_factors=[2])
  np.testing.assert_allclose(g.numpy(), [[1.], [0.5]])


def test_class_functions():
  factors = torch.tensor([[0, 6], [2, 0], [1, 3]])
  labels, num_classes = concept_data.factor_class(factors, [3, 7], factor_index=0)
  assert labels.tolist() == [0, 2, 1] and num_classes == 3
  # Projections of (f / (K - 1) - 1/2) on (1, -1): -1, 1, 0.
  labels, num_classes = concept_data.hyperplane_class(factors, [3, 7], weights=[1., -1.])
  assert labels.tolist() == [1, 0, 0] and num_classes == 2


def test_stream_keeps_the_unsupervised_order_and_flags_a_share():
  data = helpers.Squares()
  observations, factors, flags = concept_data.ConceptStream(data, 3, 30.).next_batch(2000)
  np.testing.assert_array_equal(
      observations, training_stream.ObservationStream(data, 3).next_batch(2000))
  rs = np.random.RandomState(3)
  np.testing.assert_array_equal(factors, np.concatenate(
      [data.sample_factors(1, rs) for _ in range(2000)]))
  assert 0.27 < flags.mean() < 0.33
  assert concept_data.ConceptStream(data, 3, 100.).next_batch(50)[2].min() == 1.


def _glancenet(bindings=()):
  return helpers.make_model(glancenet.GlanceNet, [
      "glancenet.class_fn = @factor_class", "factor_class.factor_index = 0",
      "glancenet.label_weight = 5.", "glancenet.latent_weight = 2.", "glancenet.beta = 3.",
      "glancenet.prototype_weight = 7.", "glancenet.z_class = 2"] + list(bindings))


def _batch(batch_size=8):
  images, factors, _ = concept_data.ConceptStream(helpers.Squares(), 0).next_batch(batch_size)
  flags = np.zeros(batch_size, np.float32)
  flags[::2] = 1.
  return torch.as_tensor(images), torch.as_tensor(factors), torch.as_tensor(flags)


def test_glancenet_loss_by_hand():
  model = _glancenet()
  images, factors, flags = _batch()
  values = model.losses((images, factors, flags), torch.Generator().manual_seed(1))
  z_mean, z_logvar = model.gaussian_encoder(images)
  z = z_mean + torch.exp(z_logvar / 2) * torch.randn(
      z_mean.shape, generator=torch.Generator().manual_seed(1))
  reconstruction = torch.mean(losses.bernoulli_loss(images, model.decode(z), "logits"))
  g = factors.float() / 6
  supervised = flags.bool()
  concept = torch.mean((torch.tanh(z[supervised, :2] / 2) - (2 * g[supervised] - 1))**2)
  labels = factors[:, 0]
  ce = F.cross_entropy(model.classifier(torch.tanh(z[:, :2] / 2)), labels)
  prototypes = model.prior_means.weight.T[labels] + model.prior_means.bias
  kl = torch.mean(0.5 * torch.sum((z_mean - prototypes)**2 + torch.exp(z_logvar) - z_logvar - 1,
                                  dim=1))
  prototype = torch.mean((torch.tanh(prototypes[supervised, :2] / 2) -
                          (2 * g[supervised] - 1))**2)
  expected = reconstruction + 3 * kl + 2 * concept + 7 * prototype + 5 * ce
  for key, value in (("concept_loss", concept), ("classification_loss", ce), ("kl_loss", kl),
                     ("loss", expected)):
    assert float(values[key]) == pytest.approx(float(value), rel=1e-5), key


def test_glancenet_adds_the_unsupervised_terms():
  plain = _glancenet()
  features = _batch()
  base = plain.losses(features, torch.Generator().manual_seed(1))
  model = _glancenet(["glancenet.beta_tc = 4.", "glancenet.dip_lambda_od = 2."])
  model.load_state_dict(plain.state_dict())
  values = model.losses(features, torch.Generator().manual_seed(1))
  z_mean, z_logvar = model.gaussian_encoder(features[0])
  z = z_mean + torch.exp(z_logvar / 2) * torch.randn(
      z_mean.shape, generator=torch.Generator().manual_seed(1))
  extra = 3 * vae.total_correlation(z, z_mean, z_logvar) + vae.dip_regularizer(
      z_mean, z_logvar, 2., 10., "i")
  assert float(values["loss"]) == pytest.approx(float(base["loss"] + extra), rel=1e-5)


def test_glancenet_with_the_factor_vae_term_has_two_optimizers():
  model = _glancenet(["glancenet.factor_gamma = 5.",
                      "discriminator.discriminator_fn = @fc_discriminator",
                      "discriminator_optimizer.optimizer_fn = @AdamOptimizer"])
  optimizers = model.make_optimizers()
  assert set(optimizers) == {"vae", "discriminator"}
  classifier_ids = {id(p) for p in model.classifier.parameters()}
  vae_ids = {id(p) for group in optimizers["vae"][0].param_groups for p in group["params"]}
  assert classifier_ids <= vae_ids
  scalars, steps = model.train_step(_batch(), 0, optimizers, torch.Generator().manual_seed(0))
  assert steps == 2 and np.isfinite(float(scalars["loss"]))


def test_cbm_loss_by_hand_and_deterministic_export():
  model = helpers.make_model(cbm.ConceptBottleneckModel, [
      "cbm.class_fn = @factor_class", "cbm.label_weight = 5.", "cbm.latent_weight = 2."])
  images, factors, flags = _batch()
  values = model.losses((images, factors, flags), None)
  mean, _ = model.encoder(images)
  g = factors.float() / 6
  supervised = flags.bool()
  concept = torch.mean((torch.tanh(mean[supervised, :2] / 2) - (2 * g[supervised] - 1))**2)
  ce = F.cross_entropy(torch.tanh(mean / 2) @ model.classifier.weight.T, factors[:, 0])
  reconstruction = torch.mean(losses.bernoulli_loss(images, model.decode(mean), "logits"))
  assert float(values["loss"]) == pytest.approx(float(2 * concept + 5 * ce + reconstruction),
                                                rel=1e-5)
  scripted = torch.jit.script(model.export_modules()["gaussian_encoder"])
  exported_mean, logvar = scripted(images)
  np.testing.assert_allclose(exported_mean.detach().numpy(), mean.detach().numpy(), rtol=1e-6)
  assert float(logvar.max()) == cbm.DETERMINISTIC_LOGVAR


def test_glancenet_training_learns_the_class_and_rejects_unseen_inputs():
  model = helpers.make_model(glancenet.GlanceNet, [
      "glancenet.class_fn = @factor_class", "glancenet.label_weight = 5."])
  stream = concept_data.ConceptStream(helpers.Squares(), 0)
  history = helpers.fit(model, stream, steps=60)
  assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])
  images, factors, _ = (torch.as_tensor(a) for a in stream.next_batch(400))
  thresholds = open_set.fit_thresholds(model, images, factors[:, 0].numpy())
  assert thresholds.class_distance.shape == (7,)
  assert 0.85 < open_set.accept(model, images, thresholds).mean() <= 0.95
  inverted = 1. - images  # Large white images, nothing like the training squares.
  assert open_set.accept(model, inverted, thresholds).mean() < 0.05
  # The classifier learned the class (chance is 1/7).
  with torch.no_grad():
    probabilities = model.predict(images[:100], num_samples=10)
  assert float(torch.mean((probabilities.argmax(1) == factors[:100, 0]).float())) > 0.5


def test_glancenet_fits_its_open_set_on_the_evaluation_stream_and_exports_it():
  data = helpers.Squares()
  model = helpers.make_model(glancenet.GlanceNet, [
      "glancenet.class_fn = @factor_class", "glancenet.open_set_num_images = 300"], data=data)
  assert "open_set" not in model.export_modules()  # Nothing fitted yet.
  inputs = model.training_inputs(data, 0, 1)
  descriptions = model.prepare_export(inputs, 64)
  # Fitted on the stream's first 300 images, which the evaluation still sees.
  images, factors, _ = inputs.eval_stream.next_batch(300)
  expected = open_set.fit_thresholds(model, images, factors[:, 0], batch_size=64)
  assert model.open_set_thresholds.reconstruction == expected.reconstruction
  np.testing.assert_array_equal(model.open_set_thresholds.class_distance,
                                expected.class_distance)
  assert descriptions["open_set"]["reconstruction_threshold"] == expected.reconstruction
  assert descriptions["open_set"]["quantile"] == 0.95
  exported = torch.jit.script(train._cpu_copy(model.export_modules()["open_set"]))
  accepted = exported(torch.as_tensor(images)).numpy()
  np.testing.assert_array_equal(accepted, open_set.accept(model, images, expected))
  assert 0.85 < accepted.mean() <= 0.95


def test_a_class_absent_from_the_fitting_images_accepts_nothing():
  model = helpers.make_model(glancenet.GlanceNet, ["glancenet.class_fn = @factor_class"])
  images = concept_data.ConceptStream(helpers.Squares(), 0).next_batch(100)[0]
  thresholds = open_set.fit_thresholds(model, images, np.zeros(100, int))
  assert np.all(thresholds.class_distance[1:] == -np.inf)
  assert thresholds.description()["class_distance_thresholds"][1:] == [None] * 6
  # No reconstruction threshold: what is accepted is what lies near class 0's prototype.
  scorer = open_set.make_open_set(model, open_set.Thresholds(np.inf, thresholds.class_distance))
  with torch.no_grad():
    _, distances = scorer.scores(torch.as_tensor(images))
    near_0 = distances[:, 0] < scorer.class_distance[0]
    np.testing.assert_array_equal(scorer(torch.as_tensor(images)).numpy(), near_0.numpy())
  assert 0.85 < near_0.float().mean() <= 0.95


def test_a_glancenet_without_a_conditional_prior_exports_no_open_set():
  data = helpers.Squares()
  model = helpers.make_model(glancenet.GlanceNet, [
      "glancenet.class_fn = @factor_class", "glancenet.conditional_prior = False"], data=data)
  assert model.prepare_export(model.training_inputs(data, 0, 1), 64) == {}
  assert set(model.export_modules()) == {"gaussian_encoder", "decoder"}


def test_cbm_training_decreases_the_loss_and_learns_the_class():
  model = helpers.make_model(cbm.ConceptBottleneckModel, [
      "cbm.class_fn = @factor_class", "cbm.label_weight = 5."])
  stream = concept_data.ConceptStream(helpers.Squares(), 0)
  history = helpers.fit(model, stream, steps=60)
  assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])
  features = tuple(torch.as_tensor(a) for a in stream.next_batch(200))
  with torch.no_grad():
    accuracy = float(model.losses(features, None)["classification_accuracy"])
  assert accuracy > 0.5  # Chance is 1/7.
