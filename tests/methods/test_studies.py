"""The weakly- and semi-supervised studies: size, model numbering, and their configs train."""
import os

import pytest

from dlib_torch.config.semi_supervised_study import sweep as semi_sweep
from dlib_torch.config.weakly_supervised_study import sweep as weak_sweep
from dlib_torch.methods.unsupervised import train
from dlib_torch.utils import errors


def test_weak_study_grid():
  configs = weak_sweep.get_config()
  assert len(configs) == 5 * 2 * 24 * 10
  # Data set slowest, then dynamics, method and beta, seed fastest.
  assert configs[0] == {
      "dataset.name": "dsprites_full", "encoder.encoder_fn": "@conv_encoder",
      "decoder.decoder_fn": "@deconv_decoder", "dynamics.k": 1,
      "model.name": "group_vae_argmax", "model.model": "@group_vae_argmax()",
      "group_vae.beta": 1., "model.random_seed": 0}
  model = configs[480 + 240 + 6 * 10 + 3]
  assert (model["dataset.name"], model["dynamics.k"], model["model.name"], model["mlvae.beta"],
          model["model.random_seed"]) == ("smallnorb", -1, "mlvae_argmax", 1., 3)
  study = weak_sweep.WeaklySupervisedStudy()
  bindings, config_file = study.get_model_config(2399)
  assert bindings[-1] == "model.random_seed = 9" and "mlvae.beta = 16.0" in bindings
  assert os.path.basename(config_file) == "shared.gin"
  with pytest.raises(errors.UserError):
    study.get_model_config(2400)


def test_semi_study_grid():
  configs = semi_sweep.get_config()
  assert len(configs) == 5 * 2 * 4 * 6 * 5 * 3
  model = configs[360 + 3 * 6 * 5 * 3 + 5 * 5 * 3 + 4 * 3 + 2]
  assert (model["dataset.name"], model["model.num_labelled_samples"], model["model.name"],
          model["s2_dip_vae.lambda_od"], model["s2_dip_vae.gamma_sup"],
          model["model.model_seed"], model["model.supervised_data_seed"]) == (
              "dsprites_full", 1000, "s2_dip_vae_i", 50., 16., 2, 2)
  bindings, _ = semi_sweep.SemiSupervisedStudy().get_model_config(0)
  assert "model.model = @s2_vae" in bindings and "s2_vae.gamma_sup = 1.0" in bindings


_TINY = ["dataset.name = 'dummy_data'", "encoder.encoder_fn = @test_encoder",
         "decoder.decoder_fn = @test_decoder", "model.batch_size = 2",
         "model.training_steps = 1"]


@pytest.mark.parametrize("study, model_num, extra", [
    (weak_sweep.WeaklySupervisedStudy(), 1234, ["model.eval_steps = 1"]),
    (semi_sweep.SemiSupervisedStudy(), 200, ["model.num_labelled_samples = 10"])])
def test_study_configs_train(tmp_path, study, model_num, extra):
  bindings, config_file = study.get_model_config(model_num)
  train.train_with_gin(str(tmp_path / "model"), False, [config_file],
                       bindings + _TINY + extra)
  assert (tmp_path / "model" / "results" / "aggregate" / "train.json").exists()
