"""The study "test": one tiny model on dummy data, for smoke tests."""
from dlib_torch.config import resources
from dlib_torch.config import study


class TestStudy(study.Study):
  """Trains train_test.gin (no bindings) and runs the test configs."""

  def get_model_config(self, model_num=0):
    del model_num  # The study has a single model.
    return [], resources.config_path(
        "tests/methods/unsupervised/train_test.gin")

  def get_postprocess_config_files(self):
    return resources.list_configs(
        "tests/postprocessing/postprocess_test_configs")

  def get_eval_config_files(self):
    return resources.list_configs("tests/evaluation/evaluate_test_configs")
