"""The study "abstract_reasoning_study_v1", stage 1: the 360 representation models.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract
Visual Reasoning?", NeurIPS 2019. The unsupervised study's 36 model
configurations, 5 seeds, on shapes3d and abstract_dsprites; model_num indexes
the product in that nesting (data set slowest, seed fastest). Stage 2 trains
dreason on their representations (configs/abstract_reasoning_study_v1/
stage2/example.gin with --input_dir=<model>/postprocessed/mean).
"""
from dlib_torch.config import resources
from dlib_torch.config import study
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep
from dlib_torch.utils import hyperparams as h


def get_datasets():
  return h.sweep("dataset.name", h.categorical(["shapes3d", "abstract_dsprites"]))


def get_config():
  """All model configurations; the list index is the model number."""
  return h.product([
      get_datasets(),
      study.conv_architecture(),
      unsupervised_sweep.get_default_models(),
      unsupervised_sweep.get_seeds(5),
  ])


class AbstractReasoningStudyV1(study.SweepStudy):
  """Trains with stage1/model_configs/shared.gin plus the model's sweep bindings."""

  config_dir = "abstract_reasoning_study_v1/stage1"

  def configs(self):
    return get_config()

  def get_eval_config_files(self):
    return resources.list_configs(self.config_dir + "/metric_configs")
