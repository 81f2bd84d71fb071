"""Results folders: gin flattening, namespacing and aggregation, as the original writes them."""
import json
import os

import gin
import numpy as np
import pytest

from dlib_torch.utils import aggregate_results
from dlib_torch.utils import atomic_io
from dlib_torch.utils import results


@gin.configurable("results_test_fn")
def _configurable(name="x", value=1.0, items=(1, 2), reference=None):
  return name, value, items, reference


def test_gin_dict_keeps_values_as_gin_wrote_them(tmp_path):
  gin.parse_config("results_test_fn.name = 'dsprites_full'\nresults_test_fn.value = 1e-8\n"
                   "results_test_fn.items = [10, 100]")
  _configurable()
  path = tmp_path / "step.gin"
  path.write_text(gin.operative_config_str())
  flat = results.gin_dict(str(path))
  assert flat == {"results_test_fn.name": "'dsprites_full'", "results_test_fn.value": "1e-08",
                  "results_test_fn.items": "[10, 100]", "results_test_fn.reference": "None"}


def test_namespaced_dict():
  base = {"a": 1}
  out = results.namespaced_dict(base, train={"x": 2}, evaluation={"y": 3})
  assert out == {"a": 1, "train.x": 2, "evaluation.y": 3}
  assert base == {"a": 1}


def test_update_result_directory_writes_every_file_and_chains(tmp_path):
  gin.parse_config("results_test_fn.name = 'first'")
  _configurable()
  first = str(tmp_path / "first")
  results.update_result_directory(first, "train", {"loss": np.float32(2.5), "steps": np.int64(3)})
  gin.clear_config()
  gin.parse_config("results_test_fn.name = 'second'")
  _configurable()
  second = str(tmp_path / "second")
  results.update_result_directory(second, "evaluation", {"score": 0.5}, old_result_dir=first)
  for name in ("gin/train.gin", "gin/evaluation.gin", "json/train_config.json",
               "json/train_results.json", "json/evaluation_config.json",
               "json/evaluation_results.json", "aggregate/train.json",
               "aggregate/evaluation.json"):
    assert os.path.exists(os.path.join(second, name)), name
  with open(os.path.join(second, "aggregate", "evaluation.json")) as f:
    aggregate = json.load(f)
  assert aggregate["train_config.results_test_fn.name"] == "'first'"
  assert aggregate["evaluation_config.results_test_fn.name"] == "'second'"
  assert aggregate["train_results.loss"] == 2.5
  assert aggregate["train_results.steps"] == 3
  assert aggregate["evaluation_results.score"] == 0.5
  assert len(aggregate["evaluation_results.uuid"]) == 36


def test_aggregation_gives_one_row_per_file_and_nan_for_missing(tmp_path):
  for i, payload in enumerate([{"a": 1.0, "b": "'x'"}, {"a": 2.0}]):
    atomic_io.write_json(str(tmp_path / str(i) / "aggregate" / "evaluation.json"), payload)
  out = str(tmp_path / "results.json")
  aggregate_results.aggregate_results_to_json(str(tmp_path / "*" / "aggregate" / "*.json"), out)
  df = aggregate_results.load_aggregated_json_results(out)
  assert list(df["a"]) == [1.0, 2.0]
  assert df.loc[0, "b"] == "'x'" and df["b"].isna()[1]
  assert df.loc[1, "path"].endswith(os.path.join("1", "aggregate", "evaluation.json"))


def test_failed_staged_directory_leaves_the_target_untouched(tmp_path):
  target = tmp_path / "out"
  with pytest.raises(RuntimeError):
    with atomic_io.staged_directory(str(target)) as staging:
      atomic_io.write_text(os.path.join(staging, "half.txt"), "x")
      raise RuntimeError("step failed")
  assert not target.exists()
  assert os.listdir(tmp_path) == []


def test_nan_and_infinity_are_written_as_the_original_wrote_them(tmp_path):
  path = str(tmp_path / "r.json")
  atomic_io.write_json(path, {"discrete_mig": float("nan"), "x": np.float64("inf")})
  text = open(path).read()
  assert "NaN" in text and "Infinity" in text
  loaded = atomic_io.read_json(path)
  assert np.isnan(loaded["discrete_mig"]) and loaded["x"] == float("inf")
