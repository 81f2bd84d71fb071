"""validate: the labelled set, the shipped test configs, results folders and the overwrite rule."""
import json
import os

import numpy as np
import pytest

from dlib_torch.config import resources
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import utils
from dlib_torch.methods.unsupervised import train
from dlib_torch.postprocessing import postprocess
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import torchscript_io
from dlib_torch.validation import validate

CONFIG_DIR = "tests/validation/validation_test_configs"


@pytest.fixture(scope="module")
def post_dir(tmp_path_factory):
  """A tiny trained model's mean representation."""
  directory = str(tmp_path_factory.mktemp("validate"))
  model_dir = os.path.join(directory, "model")
  train.train_with_gin(model_dir, False, [helpers.write_gin(directory, "model.gin",
                                                             helpers.FAST_TRAIN_GIN)])
  post = os.path.join(directory, "mean")
  postprocess.postprocess_with_gin(
      model_dir, post, False,
      [resources.config_path("tests/postprocessing/postprocess_test_configs/mean.gin")])
  return post


def _read(output_dir, name):
  with open(os.path.join(output_dir, "results", "json", name)) as f:
    return json.load(f)


def test_mig_on_the_labelled_set_of_the_supervised_seed(post_dir, tmp_path):
  output_dir = str(tmp_path / "mig")
  validate.validate_with_gin(post_dir, output_dir, False,
                             [resources.config_path(CONFIG_DIR + "/mig.gin")],
                             ["validation.random_seed = 7",
                              "validation.num_labelled_samples = 300"])
  # By hand: factors then observations from RandomState(7), the factors as labels, 20 bins.
  data, random_state = dummy_data.DummyData(), np.random.RandomState(7)
  factors = data.sample_factors(300, random_state)
  observations = data.sample_observations_from_factors(factors, random_state)
  codes = utils.obtain_representation(observations,
                                      torchscript_io.load_representation(post_dir), 100)
  expected = mig.compute_mig_from_codes(
      codes, factors.T, discretize=lambda x: utils.histogram_discretizer(x, 20))
  scores = _read(output_dir, "validation_results.json")
  assert scores["discrete_mig"] == pytest.approx(expected["discrete_mig"], abs=1e-12)
  assert set(scores) == {"discrete_mig", "elapsed_time", "uuid", "device", "num_threads"}
  assert scores["device"] == str(devices.resolve_device("auto"))
  # The earlier steps' results are carried over; "auto" became the model's data set.
  config = _read(output_dir, "validation_config.json")
  assert config["dataset.name"] == "'dummy_data'"
  assert config["validation.random_seed"] == "7"
  assert config["labeller.labeller_fn"] == "@perfect_labeller"
  with open(os.path.join(output_dir, "results", "aggregate", "validation.json")) as f:
    aggregate = json.load(f)
  assert aggregate["train_config.model.random_seed"] == "3"
  assert aggregate["postprocess_config.postprocess.postprocess_fn"] == "@mean_representation"
  assert aggregate["validation_results.discrete_mig"] == scores["discrete_mig"]


@pytest.mark.parametrize("name,keys", [
    ("dci", {"informativeness_train", "informativeness_test", "disentanglement",
             "completeness"}),
    ("sap_score", {"SAP_score"}),
])
def test_shipped_test_configs(post_dir, tmp_path, name, keys):
  output_dir = str(tmp_path / name)
  # DCI fits a boosted-trees classifier per factor: fewer labels keep it fast.
  validate.validate_with_gin(post_dir, output_dir, False,
                             [resources.config_path(CONFIG_DIR + "/" + name + ".gin")],
                             ["validation.num_labelled_samples = 100"])
  scores = _read(output_dir, "validation_results.json")
  assert set(scores) == keys | {"elapsed_time", "uuid", "device", "num_threads"}
  assert all(0. <= scores[key] <= 1. for key in keys)
  config = _read(output_dir, "validation_config.json")
  assert config[name + "_validation.train_percentage"] == "0.9"
  assert config["validation.validation_fn"] == "@{}_validation".format(name)


def test_existing_output_needs_overwrite(post_dir, tmp_path):
  output_dir = str(tmp_path / "mig")
  config = [resources.config_path(CONFIG_DIR + "/mig.gin")]
  bindings = ["validation.num_labelled_samples = 100"]
  validate.validate_with_gin(post_dir, output_dir, False, config, bindings)
  uuid = _read(output_dir, "validation_results.json")["uuid"]
  with pytest.raises(errors.UserError, match="overwrite is False"):
    validate.validate_with_gin(post_dir, output_dir, False, config, bindings)
  assert _read(output_dir, "validation_results.json")["uuid"] == uuid
  validate.validate_with_gin(post_dir, output_dir, True, config, bindings)
  assert _read(output_dir, "validation_results.json")["uuid"] != uuid
  assert not [name for name in os.listdir(str(tmp_path)) if "partial" in name]


def test_missing_input_folder_is_a_user_error(tmp_path):
  with pytest.raises(errors.UserError, match="does not exist"):
    validate.validate_with_gin(str(tmp_path / "nothing"), str(tmp_path / "out"), False,
                               [resources.config_path(CONFIG_DIR + "/mig.gin")])
