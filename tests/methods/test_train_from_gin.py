"""Every method trained from gin by the training loop on the test configs (dummy data,
test architectures, two steps): results, TorchScript export and postprocessing."""
import json
import os

import gin
import pytest
import torch

from dlib_torch import gin_registry
from dlib_torch.config import resources
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.methods.semi_supervised import semi_supervised_vae
from dlib_torch.postprocessing import postprocess
from dlib_torch.tests.methods import helpers
from dlib_torch.utils import errors

UNSUPERVISED = "tests/methods/unsupervised/train_test.gin"
WEAK = "tests/methods/weakly_supervised/train_test.gin"
SEMI = "tests/methods/semi_supervised/train_test.gin"
GLANCENET = "tests/methods/concepts/glancenet_test.gin"
CBM = "tests/methods/concepts/cbm_test.gin"
FEW_EVAL_STEPS = ["model.eval_steps = 2"]
# Semi-supervised evaluation reads num_labelled_samples batches.
FEW_LABELS = ["model.num_labelled_samples = 20"]

CASES = {
    "annealed_vae": (UNSUPERVISED, FEW_EVAL_STEPS + [
        "model.model = @annealed_vae()", "annealed_vae.c_max = 25.",
        "annealed_vae.iteration_threshold = 100000", "annealed_vae.gamma = 1000"]),
    "factor_vae": (UNSUPERVISED, FEW_EVAL_STEPS + [
        "model.model = @factor_vae()", "factor_vae.gamma = 10.",
        "discriminator.discriminator_fn = @fc_discriminator",
        "discriminator_optimizer.optimizer_fn = @AdamOptimizer"]),
    "dip_vae_i": (UNSUPERVISED, FEW_EVAL_STEPS + [
        "model.model = @dip_vae()", "dip_vae.lambda_od = 10.", "dip_vae.lambda_d_factor = 10.",
        "dip_vae.dip_type = 'i'"]),
    "dip_vae_ii": (UNSUPERVISED, FEW_EVAL_STEPS + [
        "model.model = @dip_vae()", "dip_vae.lambda_od = 10.", "dip_vae.lambda_d_factor = 1.",
        "dip_vae.dip_type = 'ii'"]),
    "beta_tc_vae": (UNSUPERVISED, FEW_EVAL_STEPS + [
        "model.model = @beta_tc_vae()", "beta_tc_vae.beta = 10."]),
    "laplace": (UNSUPERVISED, FEW_EVAL_STEPS + ["reconstruction_loss.loss_fn = @laplace_loss"]),
    "group_vae_argmax": (WEAK, FEW_EVAL_STEPS),
    "group_vae_labels_k1": (WEAK, FEW_EVAL_STEPS + [
        "model.model = @group_vae_labels()", "dynamics.k = 1"]),
    "mlvae_argmax_k2": (WEAK, FEW_EVAL_STEPS + [
        "model.model = @mlvae_argmax()", "mlvae.beta = 1.", "dynamics.k = 2"]),
    "mlvae_labels": (WEAK, FEW_EVAL_STEPS + ["model.model = @mlvae_labels()", "mlvae.beta = 1."]),
    "s2_vae": (SEMI, []),
    "s2_vae_l2_anneal_bins": (SEMI, FEW_LABELS + [
        "supervised_loss.loss_fn = @l2", "annealer.anneal_fn = @anneal",
        "labeller.labeller_fn = @bin_labeller"]),
    "s2_vae_embed_fine_tune_noisy": (SEMI, FEW_LABELS + [
        "supervised_loss.loss_fn = @embed", "embed.sigma = 'learn'",
        "annealer.anneal_fn = @fine_tune", "labeller.labeller_fn = @noisy_labeller"]),
    "s2_vae_cov_partial": (SEMI, FEW_LABELS + [
        "supervised_loss.loss_fn = @cov", "labeller.labeller_fn = @partial_labeller"]),
    "s2_factor_vae": (SEMI, FEW_LABELS + [
        "model.model = @s2_factor_vae", "s2_factor_vae.gamma = 10.",
        "s2_factor_vae.gamma_sup = 4.", "discriminator.discriminator_fn = @fc_discriminator",
        "discriminator_optimizer.optimizer_fn = @AdamOptimizer"]),
    "s2_dip_vae": (SEMI, FEW_LABELS + [
        "model.model = @s2_dip_vae", "s2_dip_vae.lambda_od = 10.",
        "s2_dip_vae.lambda_d_factor = 1.", "s2_dip_vae.gamma_sup = 4.",
        "s2_dip_vae.dip_type = 'ii'"]),
    "s2_beta_tc_vae": (SEMI, FEW_LABELS + [
        "model.model = @s2_beta_tc_vae", "s2_beta_tc_vae.beta = 6.",
        "s2_beta_tc_vae.gamma_sup = 4."]),
    "supervised": (SEMI, FEW_LABELS + ["model.model = @supervised"]),
    "s2_mine_vae": (SEMI, FEW_LABELS + [
        "model.model = @s2_mine_vae", "s2_mine_vae.beta = 1.", "s2_mine_vae.gamma_sup = 4."]),
    "glancenet": (GLANCENET, FEW_EVAL_STEPS),
    "glancenet_terms": (GLANCENET, FEW_EVAL_STEPS + [
        "glancenet.beta_tc = 6.", "glancenet.dip_lambda_od = 1.", "glancenet.factor_gamma = 10.",
        "discriminator.discriminator_fn = @fc_discriminator",
        "discriminator_optimizer.optimizer_fn = @AdamOptimizer",
        "glancenet.latent_loss = 'BCE'", "glancenet.conditional_prior = False"]),
    "cbm": (CBM, FEW_EVAL_STEPS),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trains_exports_and_postprocesses(tmp_path, name):
  config, bindings = CASES[name]
  model_dir = tmp_path / "model"
  helpers.train_from_gin(model_dir, config, bindings)
  with open(model_dir / "results" / "json" / "train_results.json") as f:
    results = json.load(f)
  # FactorVAE's single iteration counts as two steps, as in the original.
  assert results["global_step"] == 2
  for key in ("loss", "reconstruction_loss"):
    assert key in results
  # The original reports no regularizer for its MINE model.
  assert ("regularizer" in results) == (name != "s2_mine_vae")
  if config == SEMI:
    assert "supervised_loss" in results
  encoder = torch.jit.load(str(model_dir / "torchscript" / "gaussian_encoder.pt"))
  mean, logvar = encoder(torch.rand(3, 64, 64, 1))
  assert mean.shape == (3, 10) and logvar.shape == (3, 10)
  postprocess.postprocess_with_gin(
      str(model_dir), str(tmp_path / "mean"), False,
      [resources.config_path("tests/postprocessing/postprocess_test_configs/mean.gin")])
  assert os.path.isdir(tmp_path / "mean" / "results")


@pytest.mark.parametrize("config, binding, message", [
    (UNSUPERVISED, "model.num_labelled_samples = 10", "model.num_labelled_samples"),
    (WEAK, "model.model_seed = 1", "model.model_seed"),
    (GLANCENET, "model.train_percentage = 0.5", "model.train_percentage"),
    (SEMI, "model.random_seed = 3", "model.random_seed"),
    (SEMI, "model.supervised_data_sed = 3", "model.supervised_data_sed")])
def test_a_binding_no_protocol_takes_is_refused_before_the_folder_is_made(
    tmp_path, config, binding, message):
  with pytest.raises(errors.UserError, match=message):
    helpers.train_from_gin(tmp_path / "model", config, FEW_EVAL_STEPS + [binding])
  assert not (tmp_path / "model").exists()


def test_the_semi_supervised_protocol_sets_the_labels_factor_sizes():
  # `@s2_vae` without parentheses names the class, as the original's configs do; the loop
  # makes it without arguments, and its protocol gives it the labeller's factor sizes.
  gin_registry.register_for("train")
  gin.parse_config(["labeller.labeller_fn = @perfect_labeller", "s2_vae.beta = 1.",
                    "s2_vae.gamma_sup = 1."])
  model = semi_supervised_vae.S2BetaVAE()
  inputs = model.training_inputs(
      dummy_data.DummyData(), None, 1000, unsupervised_data_seed=1, supervised_data_seed=2,
      model_seed=7, num_labelled_samples=12, train_percentage=0.5)
  assert model.factor_sizes == dummy_data.DummyData().factors_num_values
  assert (inputs.eval_steps, inputs.torch_seed) == (12, 7)
  unlabelled, (labelled, labels) = inputs.stream.next_batch(4)
  assert unlabelled.shape == labelled.shape == (4, 64, 64, 1) and labels.shape == (4, 10)
