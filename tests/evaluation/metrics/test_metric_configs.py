"""The study and test metric configs bind what the original's did."""
import ast
import os

import gin
import pytest

from dlib_torch import gin_registry
from dlib_torch.config import resources


def _configs_dir():
  return resources.configs_root()


_HIST = {"discretizer.discretizer_fn": "@histogram_discretizer",
         "discretizer.num_bins": 20}

# File -> (evaluation function, bindings of this area's configurables).
_STUDY = {
    "beta_vae_sklearn.gin": ("beta_vae_sklearn", {
        "beta_vae_sklearn.batch_size": 64, "beta_vae_sklearn.num_train": 10000,
        "beta_vae_sklearn.num_eval": 5000}),
    "dci.gin": ("dci", {"dci.num_train": 10000, "dci.num_test": 5000}),
    "factor_vae_metric.gin": ("factor_vae_score", {
        "factor_vae_score.num_variance_estimate": 10000,
        "factor_vae_score.num_train": 10000, "factor_vae_score.num_eval": 5000,
        "factor_vae_score.batch_size": 64, "prune_dims.threshold": 0.05}),
    "mig.gin": ("mig", dict(_HIST, **{"mig.num_train": 10000})),
    "modularity_explicitness.gin": ("modularity_explicitness", dict(_HIST, **{
        "modularity_explicitness.num_train": 10000,
        "modularity_explicitness.num_test": 5000})),
    "sap_score.gin": ("sap_score", {
        "sap_score.num_train": 10000, "sap_score.num_test": 5000,
        "sap_score.continuous_factors": False}),
    "unsupervised.gin": ("unsupervised_metrics", dict(_HIST, **{
        "unsupervised_metrics.num_train": 10000})),
}

_STUDY_FILES = ["beta_vae_sklearn.gin", "dci.gin", "downstream_task_boosted_trees.gin",
                "downstream_task_logistic_regression.gin", "factor_vae_metric.gin",
                "mig.gin", "modularity_explicitness.gin", "sap_score.gin",
                "unsupervised.gin"]


def _bindings(path):
  """{"scope.param": value} of a gin file, with references as "@name"."""
  result = {}
  with open(path) as f:
    for line in f:
      line = line.split("#")[0].strip()
      if line:
        key, value = (part.strip() for part in line.split("=", 1))
        result[key] = value if value.startswith("@") else ast.literal_eval(value)
  return result


@pytest.mark.parametrize("name", sorted(_STUDY))
@pytest.mark.parametrize("study", ["unsupervised_study_v1", "fairness_study_v1"])
def test_study_config(study, name):
  evaluation_fn, expected = _STUDY[name]
  bindings = _bindings(os.path.join(_configs_dir(), study, "metric_configs", name))
  assert bindings.pop("evaluation.evaluation_fn") == "@" + evaluation_fn
  assert bindings.pop("dataset.name") == "auto"
  assert bindings.pop("evaluation.random_seed") == 0
  assert bindings == expected


def test_study_folders():
  for study in ["unsupervised_study_v1", "fairness_study_v1"]:
    folder = os.path.join(_configs_dir(), study, "metric_configs")
    extra = ["fairness.gin"] if study == "fairness_study_v1" else []
    assert sorted(os.listdir(folder)) == sorted(_STUDY_FILES + extra)


_CONFIG_FOLDERS = ["unsupervised_study_v1/metric_configs", "fairness_study_v1/metric_configs",
                   "tests/evaluation/evaluate_test_configs", "sample/irs", "field_metrics"]


@pytest.mark.parametrize("path", [path for folder in _CONFIG_FOLDERS
                                  for path in resources.list_configs(folder)],
                         ids=os.path.basename)
def test_configs_parse_and_bind_the_metrics(path):
  """Gin knows every configurable and parameter a config names, and binds its values."""
  gin_registry.register_for("evaluation")
  gin.parse_config_file(path)  # An unknown configurable or parameter raises here.
  bindings = _bindings(path)
  assert "evaluation.evaluation_fn" in bindings
  for key, value in bindings.items():
    bound = gin.query_parameter(key)
    if isinstance(value, str) and value.startswith("@"):
      assert isinstance(bound, gin.config.ConfigurableReference), key
      assert bound.configurable.name == value[1:], key
      assert callable(bound.scoped_configurable_fn)
    else:
      assert bound == value, key


def test_irs_sample_config():
  bindings = _bindings(os.path.join(_configs_dir(), "sample", "irs", "irs.gin"))
  assert bindings == dict(_HIST, **{
      "evaluation.evaluation_fn": "@irs", "dataset.name": "auto",
      "evaluation.random_seed": 0, "irs.num_train": 10000, "irs.batch_size": 16})
