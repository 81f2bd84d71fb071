"""GlanceNet's open-set rejection through the installed commands: dtrain fits and exports it,
dpostprocess carries it, devaluate hands it to glancenets_leakage as its acceptance_function."""
import json
import math
import os

import numpy as np
import pytest
import torch

from dlib_torch.config import resources
from dlib_torch.data.ground_truth import dsprites_leakage
from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation.metrics import glancenets_leakage
from dlib_torch.tests import commands
from dlib_torch.utils import errors
from ...data import test_dsprites_leakage

# A tiny GlanceNet on the procedural dSprites (no files): the class is the shape, the
# concepts shape (one-hot), scale and orientation. Trained on every position (not the
# leakage split's centre), it accepts some of the metric's corner sprites, not all.
DATASET = "procedural_dsprites"
TRAIN_GIN = """
dataset.name = "{}"
model.model = @glancenet()
glancenet.class_fn = @factor_class
factor_class.factor_index = 0
glancenet.concept_factors = [0, 1, 2]
glancenet.one_hot_factors = [0]
glancenet.open_set_num_images = 1000
model.batch_size = 16
model.training_steps = 30
model.eval_steps = 2
model.random_seed = 0
encoder.num_latent = 6
encoder.encoder_fn = @test_encoder
decoder.decoder_fn = @test_decoder
reconstruction_loss.loss_fn = @bernoulli_loss
vae_optimizer.optimizer_fn = @AdamOptimizer
AdamOptimizer.learning_rate = 0.01
""".format(DATASET)
NUM_TEST_POINTS = 400
SEED = 0  # concept_metrics/glancenets_leakage.gin's evaluation.random_seed


def _pipeline(root, *train_bindings):
  """dtrain, dpostprocess (mean), devaluate (glancenets_leakage) into root."""
  paths = {name: os.path.join(root, name) for name in ("model", "post", "leakage")}
  train_gin = os.path.join(root, "train.gin")
  with open(train_gin, "w") as f:
    f.write(TRAIN_GIN)
  for completed in (
      commands.run("dtrain", "--model_dir=" + paths["model"], "--gin_config=" + train_gin,
                   *["--gin_bindings=" + b for b in train_bindings]),
      commands.run("dpostprocess", "--model_dir=" + paths["model"],
                   "--output_dir=" + paths["post"], "--gin_config=" + resources.config_path(
                       "tests/postprocessing/postprocess_test_configs/mean.gin")),
      commands.run("devaluate", "--input_dir=" + paths["post"],
                   "--output_dir=" + paths["leakage"],
                   "--gin_config=" + resources.config_path(
                       "concept_metrics/glancenets_leakage.gin"),
                   "--gin_bindings=glancenets_leakage.num_test_points = {}".format(
                       NUM_TEST_POINTS))):
    assert completed.returncode == 0, completed.stderr
  with open(os.path.join(paths["leakage"], "results", "json", "evaluation_results.json")) as f:
    paths["results"] = json.load(f)
  return paths


@pytest.fixture(scope="module")
def glancenet(tmp_path_factory):
  return _pipeline(str(tmp_path_factory.mktemp("glancenet")))


def _torchscript(directory, name):
  return os.path.join(directory, "torchscript", name)


def _accepted(path, images):
  module = torch.jit.load(path)  # Runs without dlib_torch.
  with torch.no_grad():
    accepted = module(torch.as_tensor(images))
  assert accepted.dtype == torch.bool and accepted.shape == (len(images),)
  return accepted.numpy()


@pytest.mark.slow  # dtrain, dpostprocess, devaluate: 10 to 45 s on 2 cores.
def test_the_open_set_is_exported_with_its_thresholds_and_carried(glancenet):
  with open(_torchscript(glancenet["model"], "open_set.json")) as f:
    description = json.load(f)
  assert description["quantile"] == 0.95 and description["num_images"] == 1000
  assert description["model"] == "GlanceNet"
  assert description["reconstruction_threshold"] > 0
  distances = description["class_distance_thresholds"]
  assert len(distances) == 3 and all(d > 0 for d in distances)  # One per shape.
  with open(_torchscript(glancenet["post"], "open_set.json")) as f:
    carried = json.load(f)
  assert carried == dict(description, model_dir=os.path.abspath(glancenet["model"]))
  with open(_torchscript(glancenet["model"], "open_set.pt"), "rb") as f, \
      open(_torchscript(glancenet["post"], "open_set.pt"), "rb") as g:
    assert f.read() == g.read()


@pytest.mark.slow  # dtrain, dpostprocess, devaluate: 10 to 45 s on 2 cores.
def test_the_open_set_accepts_about_95_percent_of_the_training_distribution(glancenet):
  data = named_data.get_named_ground_truth_data(DATASET)
  rs = np.random.RandomState(1)
  images = data.sample_observations_from_factors(data.sample_factors(2000, rs), rs)
  # Both tests pass at 0.95 each on the fitting images; on fresh ones a little less.
  assert 0.85 < _accepted(_torchscript(glancenet["post"], "open_set.pt"), images).mean() < 0.97


@pytest.mark.slow  # dtrain, dpostprocess, devaluate: 10 to 45 s on 2 cores.
def test_the_leakage_acceptance_rate_is_the_open_sets_on_the_metrics_test_images(glancenet):
  # The metric's draws replayed: test-pool factors, rendering (which draws nothing here),
  # then the split.
  data = dsprites_leakage.DSpritesLeakage(named_data.get_named_ground_truth_data(DATASET))
  rs = np.random.RandomState(SEED)
  factors, _ = data.sample_test_factors(NUM_TEST_POINTS, rs)
  images = data.base.sample_observations_from_factors(factors, rs)
  test = rs.permutation(NUM_TEST_POINTS)[:math.ceil(NUM_TEST_POINTS * 0.25)]
  expected = _accepted(_torchscript(glancenet["post"], "open_set.pt"), images[test]).mean()
  rate = glancenet["results"]["acceptance_rate"]
  assert 0. < rate < 1.
  assert rate == pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_a_model_without_a_conditional_prior_exports_no_open_set(tmp_path):
  paths = _pipeline(str(tmp_path), "glancenet.conditional_prior = False",
                    "model.training_steps = 2")
  for name in ("model", "post"):
    assert not os.path.exists(_torchscript(paths[name], "open_set.pt"))
    assert not os.path.exists(_torchscript(paths[name], "open_set.json"))
  assert paths["results"]["acceptance_rate"] == 1.


def _leakage(**kwargs):
  return glancenets_leakage.compute_glancenets_leakage(
      test_dsprites_leakage.FactorImagesDSprites(), lambda x: x.reshape(len(x), 5)[:, :3],
      np.random.RandomState(0), num_test_points=200, **kwargs)


def test_an_acceptance_function_changes_only_the_rejected_points():
  assert _leakage(acceptance_function=lambda x: np.ones(len(x), bool)) == _leakage()
  results = _leakage(acceptance_function=lambda x: x.reshape(len(x), 5)[:, 0] > 0)
  assert 0. < results["acceptance_rate"] < 1.


def test_an_acceptance_function_of_the_wrong_shape_is_a_user_error():
  with pytest.raises(errors.UserError, match="one flag per image"):
    _leakage(acceptance_function=lambda x: np.ones((len(x), 2), bool))
