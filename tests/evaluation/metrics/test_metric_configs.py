"""The study and test metric configs bind what the original's did."""
import ast
import os

import gin
import pytest

import dlib_torch
from dlib_torch.evaluation.metrics import beta_vae  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import dci  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import factor_vae  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import irs  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import mig  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import modularity_explicitness  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import sap_score  # pylint: disable=unused-import
from dlib_torch.evaluation.metrics import unsupervised_metrics  # pylint: disable=unused-import


def _configs_dir():
  installed = os.path.join(os.path.dirname(dlib_torch.__file__), "configs")
  if os.path.isdir(installed):
    return installed
  return os.path.join(os.path.dirname(os.path.dirname(dlib_torch.__file__)), "configs")


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


def test_configs_parse_and_bind_the_metrics():
  """Gin accepts every binding of this area's configurables."""
  folders = [os.path.join(_configs_dir(), "unsupervised_study_v1", "metric_configs"),
             os.path.join(_configs_dir(), "tests", "evaluation",
                          "evaluate_test_configs"),
             os.path.join(_configs_dir(), "sample", "irs")]
  for folder in folders:
    for name in sorted(os.listdir(folder)):
      gin.clear_config()
      try:
        gin.parse_config_file(os.path.join(folder, name), skip_unknown=True)
      finally:
        gin.clear_config()


def test_irs_sample_config():
  bindings = _bindings(os.path.join(_configs_dir(), "sample", "irs", "irs.gin"))
  assert bindings == dict(_HIST, **{
      "evaluation.evaluation_fn": "@irs", "dataset.name": "auto",
      "evaluation.random_seed": 0, "irs.num_train": 10000, "irs.batch_size": 16})
