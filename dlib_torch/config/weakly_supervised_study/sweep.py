"""The study "weakly_supervised_study": 2 400 weakly-supervised models.

Locatello et al. 2020, "Weakly-Supervised Disentanglement Without
Compromises": group-VAE and ML-VAE, each adaptive (Ada-GVAE, Ada-ML-VAE:
`*_argmax`) and told the changed factor (`*_labels`), beta in
{1, 2, 4, 6, 8, 16}, pairs differing in one factor (k = 1) or a random
number of them (k = -1), 10 seeds, on five data sets. disentanglement_lib
ships the methods and `dlib_reproduce_weakly_supervised` but no sweep; this
one follows the paper's grid. model_num indexes the product with the data
set slowest and the seed fastest. Metrics: the unsupervised study's, except
the unsupervised scores (the original's weak pipeline skips them).
"""
from dlib_torch.config import resources
from dlib_torch.config import study
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep
from dlib_torch.utils import hyperparams as h

BETAS = [1., 2., 4., 6., 8., 16.]


def get_datasets():
  return h.sweep("dataset.name", h.categorical(
      ["dsprites_full", "smallnorb", "cars3d", "shapes3d", "mpi3d_real"]))


def get_dynamics():
  return h.sweep("dynamics.k", h.discrete([1, -1]))


def get_models():
  """Group-VAE and ML-VAE, adaptive and with labels, six betas each (24)."""
  families = []
  for name, beta_name in (("group_vae_argmax", "group_vae"), ("mlvae_argmax", "mlvae"),
                          ("group_vae_labels", "group_vae"), ("mlvae_labels", "mlvae")):
    families.append(h.zipit([
        h.fixed("model.name", name),
        h.fixed("model.model", "@{}()".format(name)),
        h.sweep(beta_name + ".beta", h.discrete(BETAS)),
    ]))
  return h.chainit(families)


def get_config():
  return h.product([get_datasets(), study.conv_architecture(), get_dynamics(), get_models(),
                    unsupervised_sweep.get_seeds(10)])


class WeaklySupervisedStudy(study.SweepStudy):
  """Trains model_configs/shared.gin plus the model's sweep bindings."""

  config_dir = "weakly_supervised_study"

  def configs(self):
    return get_config()

  def get_eval_config_files(self):
    return [path for path in resources.list_configs("unsupervised_study_v1/metric_configs")
            if "unsupervised" not in path.rsplit("/", 1)[-1]]
