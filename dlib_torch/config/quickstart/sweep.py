"""The study "quickstart": the unsupervised study's models, offline and small.

Model N is model N of unsupervised_study_v1, with its data set replaced by the
procedural stand-in that needs no file (where one exists), 300 training steps
(evaluated on 100 batches instead of 1000) and the study's nine metrics at a tenth of their sample sizes. It finishes in
minutes on a laptop CPU; its scores are not comparable with the study's.
"""
from dlib_torch.config import resources
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised

_PROCEDURAL = {
    "'dsprites_full'": "'procedural_dsprites'",
    "'color_dsprites'": "'procedural_color_dsprites'",
    "'noisy_dsprites'": "'procedural_noisy_dsprites'",
    "'scream_dsprites'": "'procedural_scream_dsprites'",
    "'shapes3d'": "'procedural_shapes3d'",
}
EXTRA_BINDINGS = ["model.training_steps = 300", "model.eval_steps = 100"]


def _offline(binding):
  key, value = binding.split(" = ", 1)
  if key == "dataset.name":
    value = _PROCEDURAL.get(value, value)
  return "{} = {}".format(key, value)


class QuickstartStudy(unsupervised.UnsupervisedStudyV1):
  """unsupervised_study_v1's model configs, offline, short, with small metrics."""

  def get_model_config(self, model_num=0):
    bindings, config_file = super().get_model_config(model_num)
    return [_offline(b) for b in bindings] + EXTRA_BINDINGS, config_file

  def get_eval_config_files(self):
    return resources.list_configs("quickstart/metric_configs")
