"""The study "unsupervised_study_v1": 12 600 models.

Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning
of Disentangled Representations", ICML 2019. Six methods with six
hyper-parameter values each, 50 seeds, on seven data sets; model_num indexes
the product in that nesting (data set slowest, seed fastest).
"""
from dlib_torch.config import resources
from dlib_torch.config import study
from dlib_torch.utils import hyperparams as h


def get_datasets():
  """The seven data sets, in model-number order."""
  return h.sweep("dataset.name", h.categorical([
      "dsprites_full", "color_dsprites", "noisy_dsprites", "scream_dsprites",
      "smallnorb", "cars3d", "shapes3d"
  ]))


def get_seeds(num):
  """Model seeds 0 .. num - 1."""
  return h.sweep("model.random_seed", h.categorical(list(range(num))))


def get_default_models():
  """The 36 model configurations: 6 methods x 6 values of their parameter."""
  beta_vae = h.zipit([
      h.fixed("model.name", "beta_vae"),
      h.sweep("vae.beta", h.discrete([1., 2., 4., 6., 8., 16.])),
      h.fixed("model.model", "@vae()"),
  ])
  factor_vae = h.zipit([
      h.fixed("model.name", "factor_vae"),
      h.sweep("factor_vae.gamma", h.discrete([10., 20., 30., 40., 50., 100.])),
      h.fixed("model.model", "@factor_vae()"),
      h.fixed("discriminator.discriminator_fn", "@fc_discriminator"),
  ])
  dip_vae_i = _dip_vae("i", lambda_d_factor=10.)
  dip_vae_ii = _dip_vae("ii", lambda_d_factor=1.)
  beta_tc_vae = h.zipit([
      h.fixed("model.name", "beta_tc_vae"),
      h.fixed("model.model", "@beta_tc_vae()"),
      h.sweep("beta_tc_vae.beta", h.discrete([1., 2., 4., 6., 8., 10.])),
  ])
  annealed_vae = h.zipit([
      h.fixed("model.name", "annealed_vae"),
      h.sweep("annealed_vae.c_max", h.discrete([5., 10., 25., 50., 75., 100.])),
      h.fixed("annealed_vae.iteration_threshold", 100000),
      h.fixed("annealed_vae.gamma", 1000),
      h.fixed("model.model", "@annealed_vae()"),
  ])
  return h.chainit([beta_vae, factor_vae, dip_vae_i, dip_vae_ii, beta_tc_vae,
                    annealed_vae])


def _dip_vae(dip_type, lambda_d_factor):
  return h.zipit([
      h.fixed("model.name", "dip_vae_" + dip_type),
      h.fixed("model.model", "@dip_vae()"),
      h.sweep("dip_vae.lambda_od", h.discrete([1., 2., 5., 10., 20., 50.])),
      h.fixed("dip_vae.lambda_d_factor", lambda_d_factor),
      h.fixed("dip_vae.dip_type", dip_type),
  ])


def get_config():
  """All model configurations; the list index is the model number."""
  return h.product([
      get_datasets(),
      study.conv_architecture(),
      get_default_models(),
      get_seeds(50),
  ])


class UnsupervisedStudyV1(study.SweepStudy):
  """Trains with model_configs/shared.gin plus the model's sweep bindings."""

  config_dir = "unsupervised_study_v1"

  def configs(self):
    return get_config()

  def get_eval_config_files(self):
    return resources.list_configs(self.config_dir + "/metric_configs")
