"""The study "fairness_study_v1".

Locatello et al., "On the Fairness of Disentangled Representations",
NeurIPS 2019. The same 12 600 models as unsupervised_study_v1; its metric
configs add the fairness score.
"""
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep

get_config = unsupervised_sweep.get_config


class FairnessStudyV1(unsupervised_sweep.UnsupervisedStudyV1):
  """unsupervised_study_v1's sweep with this study's own gin files."""

  config_dir = "fairness_study_v1"
