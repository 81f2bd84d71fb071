"""The gin files of configs/concept_metrics parse and drive their metrics."""
import os

import gin
import numpy as np
import pytest

from dlib_torch import gin_registry
from dlib_torch.config import resources
from ...data import test_dsprites_leakage

EXPECTED_FUNCTIONS = {
    "aam": "aam",
    "aam_discrete": "aam",
    "concept_analytics": "concept_analytics",
    "glancenets_alignment": "glancenets_alignment",
    "glancenets_alignment_linear": "glancenets_alignment",
    "glancenets_leakage": "glancenets_leakage",
    "latent_response": "latent_response",
}


def _parse(name, bindings=()):
  gin_registry.register_for("evaluation")
  gin.parse_config_files_and_bindings(
      [resources.config_path("concept_metrics/{}.gin".format(name))], list(bindings))


def test_every_config_is_listed():
  names = [os.path.basename(p)[:-len(".gin")] for p in resources.list_configs("concept_metrics")]
  assert names == sorted(EXPECTED_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_config_parses_with_study_conventions(name):
  _parse(name)
  assert gin.query_parameter("evaluation.evaluation_fn").selector == EXPECTED_FUNCTIONS[name]
  assert gin.query_parameter("dataset.name") == "auto"
  assert gin.query_parameter("evaluation.random_seed") == 0


def test_leakage_config_drives_the_metric():
  _parse("glancenets_leakage", ["glancenets_leakage.num_test_points = 400"])
  evaluation_fn = gin.query_parameter("evaluation.evaluation_fn").scoped_configurable_fn
  results = evaluation_fn(test_dsprites_leakage.FactorImagesDSprites(),
                          lambda x: x.reshape(len(x), 5), np.random.RandomState(0))
  assert results["leakage_accuracy"] == 1.
