"""The study "field_metrics_study": unsupervised_study_v1 scored with the field's newer metrics.

The same 12 600 models, postprocessing and original metrics as
unsupervised_study_v1, plus every metric of configs/field_metrics (the review
of Zaidi et al. 2020, InfoMEC, MED, DCI-ES), so one aggregate compares them all.
"""
from dlib_torch.config import resources
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep


class FieldMetricsStudy(unsupervised_sweep.UnsupervisedStudyV1):
  """unsupervised_study_v1's models and metrics, and the field metrics."""

  def get_eval_config_files(self):
    return super().get_eval_config_files() + resources.list_configs("field_metrics")
