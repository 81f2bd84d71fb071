"""The study "semi_supervised_study": 3 600 semi-supervised models.

Locatello et al. 2020, "Disentangling Factors of Variation Using Few
Labels": the semi-supervised beta-VAE, beta-TCVAE, FactorVAE and DIP-VAE-I
(each with the unsupervised study's six values of its parameter), the
supervised cross-entropy weighted by gamma_sup in {1, 2, 4, 8, 16}, 100 or
1000 perfectly labelled samples (90 % for training), 3 seeds, on five data
sets. disentanglement_lib ships the methods and
`dlib_reproduce_semi_supervised` but no sweep; this grid is ours, after the
paper's. A seed sets the model, unlabelled-data and labelled-data seeds
alike. model_num indexes the product with the data set slowest and the seed
fastest. Metrics: the unsupervised study's.
"""
from dlib_torch.config import resources
from dlib_torch.config import study
from dlib_torch.utils import hyperparams as h

GAMMAS_SUP = [1., 2., 4., 8., 16.]


def get_datasets():
  return h.sweep("dataset.name", h.categorical(
      ["dsprites_full", "smallnorb", "cars3d", "shapes3d", "mpi3d_real"]))


def get_num_labelled_samples():
  return h.sweep("model.num_labelled_samples", h.discrete([100, 1000]))


def _method(name, model, parameter, values, extra=()):
  return h.zipit([
      h.fixed("model.name", name),
      h.fixed("model.model", model),
      h.sweep(parameter, h.discrete(values)),
  ] + list(extra))


def get_models():
  """Four methods x six values of their parameter (24), each with its gamma_sup binding name."""
  return [
      ("s2_vae", _method("s2_vae", "@s2_vae", "s2_vae.beta", [1., 2., 4., 6., 8., 16.])),
      ("s2_beta_tc_vae", _method("s2_beta_tc_vae", "@s2_beta_tc_vae", "s2_beta_tc_vae.beta",
                                 [1., 2., 4., 6., 8., 10.])),
      ("s2_factor_vae", _method("s2_factor_vae", "@s2_factor_vae", "s2_factor_vae.gamma",
                                [10., 20., 30., 40., 50., 100.], [
                                    h.fixed("discriminator.discriminator_fn",
                                            "@fc_discriminator")])),
      ("s2_dip_vae", _method("s2_dip_vae_i", "@s2_dip_vae", "s2_dip_vae.lambda_od",
                             [1., 2., 5., 10., 20., 50.], [
                                 h.fixed("s2_dip_vae.lambda_d_factor", 10.),
                                 h.fixed("s2_dip_vae.dip_type", "i")])),
  ]


def get_seeds(num):
  return h.zipit([h.sweep("model.model_seed", h.categorical(list(range(num)))),
                  h.sweep("model.unsupervised_data_seed", h.categorical(list(range(num)))),
                  h.sweep("model.supervised_data_seed", h.categorical(list(range(num))))])


def get_config():
  models = h.chainit([
      h.product([family, h.sweep(name + ".gamma_sup", h.discrete(GAMMAS_SUP))])
      for name, family in get_models()])
  return h.product([get_datasets(), study.conv_architecture(), get_num_labelled_samples(), models,
                    get_seeds(3)])


class SemiSupervisedStudy(study.SweepStudy):
  """Trains model_configs/shared.gin plus the model's sweep bindings."""

  config_dir = "semi_supervised_study"

  def configs(self):
    return get_config()

  def get_eval_config_files(self):
    return resources.list_configs("unsupervised_study_v1/metric_configs")
