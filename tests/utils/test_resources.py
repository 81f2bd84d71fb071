"""dlib_torch.utils.resources: the original's package-relative paths of shipped files."""
import os

import gin

from dlib_torch.config import resources as config_resources
from dlib_torch.utils import resources


def test_config_paths_are_the_shipped_gin_files():
  path = resources.get_file("config/unsupervised_study_v1/metric_configs/mig.gin")
  assert path == config_resources.config_path("unsupervised_study_v1/metric_configs/mig.gin")
  gin.clear_config()
  try:
    gin.parse_config_file(path, skip_unknown=True)
  finally:
    gin.clear_config()


def test_files_in_a_config_folder():
  files = list(resources.get_files_in_folder("config/unsupervised_study_v1/metric_configs"))
  assert files == config_resources.list_configs("unsupervised_study_v1/metric_configs")
  assert len(files) == 9


def test_the_originals_test_folders():
  # The original's tests read config/tests/...; its UDR configs are in tests/udr here.
  assert os.path.isfile(resources.get_file("config/tests/methods/unsupervised/train_test.gin"))
  names = [os.path.basename(p) for p in resources.get_files_in_folder("config/tests/methods/udr")]
  assert names == ["udr.gin", "udr_spearman.gin"]


def test_python_files_of_config_and_other_package_paths():
  assert resources.get_file("config/tests/sweep.py").endswith(
      os.path.join("dlib_torch", "config", "tests", "sweep.py"))
  assert os.path.isfile(resources.get_file("config/tests/sweep.py"))
  assert os.path.isfile(resources.get_file("visualize/logo.png"))


def test_a_missing_file_is_a_path_as_in_the_original():
  assert resources.get_file("config/no_such.gin").endswith("no_such.gin")
