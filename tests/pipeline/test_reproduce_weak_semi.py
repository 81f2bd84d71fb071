"""dreproduce_weak / dreproduce_semi: folder layout, the original's seed draws and names, re-use."""
import functools
import json
import os

import numpy as np
import pytest

from dlib_torch.pipeline import semi_supervised
from dlib_torch.pipeline import weakly_supervised
from dlib_torch.config import resources
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors
from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_model

POST = resources.list_configs("tests/postprocessing/postprocess_test_configs")  # mean, sampled
EVAL_DIR = "tests/evaluation/evaluate_test_configs/"
VALIDATION_DIR = "tests/validation/validation_test_configs/"
WEAK_MODEL = resources.config_path("tests/methods/weakly_supervised/train_test.gin")
SEMI_MODEL = resources.config_path("tests/methods/semi_supervised/train_test.gin")


@pytest.fixture(autouse=True)
def _small_visualizations(monkeypatch):
  # The default animations and the 100-panel interventional-effects figure take
  # ~30 s: one short animation per kind, and the pictures drawn without matplotlib.
  monkeypatch.setattr(visualize_model, "visualize",
                      functools.partial(visualize_model.visualize, num_animations=1,
                                        num_frames=2))
  monkeypatch.setattr(plotting, "available", lambda: False)


def _config(step_dir, step):
  with open(os.path.join(step_dir, "results", "json", step + "_config.json")) as f:
    return json.load(f)


def _uuid(step_dir, step):
  with open(os.path.join(step_dir, "results", "json", step + "_results.json")) as f:
    return json.load(f)["uuid"]


def _draws(seed, n):
  random_state = np.random.RandomState(seed)
  return [str(random_state.randint(2**32)) for _ in range(n)]


def test_weak_pipeline_seeds_names_rerun_and_reuse(tmp_path):
  out = str(tmp_path / "weak")
  metrics = [resources.config_path(EVAL_DIR + name)
             for name in ("unsupervised.gin", "sap_score.gin", "mig.gin")]
  run = lambda: weakly_supervised.reproduce_weakly_supervised(
      out, WEAK_MODEL, POST, metrics, gin_bindings=["model.eval_steps = 2"], pipeline_seed=5)
  run()
  # model seed, then mean, sampled, then (mean, sampled) x (mig, sap_score); no draw for
  # the skipped "unsupervised" metric.
  seeds = _draws(5, 7)
  train_config = _config(os.path.join(out, "model"), "train")
  assert train_config["model.random_seed"] == seeds[0]
  assert train_config["model.name"] == "'train_test'"
  assert train_config["model.eval_steps"] == "2"
  assert os.path.isfile(os.path.join(out, "model", "visualizations", "weak", "animation.gif"))
  assert os.path.isfile(os.path.join(out, "visualizations", "results", "aggregate",
                                     "visualize.json"))
  assert _config(os.path.join(out, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == seeds[1]
  assert _config(os.path.join(out, "postprocessed", "sampled"), "postprocess")[
      "postprocess.random_seed"] == seeds[2]
  expected = {("mean", "mig_0"): seeds[3], ("mean", "sap_score_0"): seeds[4],
              ("sampled", "mig_0"): seeds[5], ("sampled", "sap_score_0"): seeds[6]}
  for post in ("mean", "sampled"):
    assert sorted(os.listdir(os.path.join(out, "metrics", post))) == ["mig_0", "sap_score_0"]
  uuids = {}
  for (post, metric), seed in expected.items():
    metric_dir = os.path.join(out, "metrics", post, metric)
    config = _config(metric_dir, "evaluation")
    assert config["evaluation.random_seed"] == seed
    assert config["evaluation.name"] == "'{}'".format(metric)
    uuids[metric_dir] = _uuid(metric_dir, "evaluation")
  # As the original, the weak pipeline writes no aggregated results.
  assert not os.path.exists(os.path.join(out, "metrics", "aggregated_results.json"))

  run()  # Everything is finished: nothing is recomputed.
  assert {d: _uuid(d, "evaluation") for d in uuids} == uuids

  # Re-using the model: no model seed is drawn, so the seeds shift (the original's quirk).
  again = str(tmp_path / "again")
  weakly_supervised.reproduce_weakly_supervised(again, None, POST[:1], metrics[2:],
                                             model_dir=out, pipeline_seed=5)
  assert not os.path.exists(os.path.join(again, "model"))
  assert _config(os.path.join(again, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == seeds[0]
  metric_dir = os.path.join(again, "metrics", "mean", "mig_0")
  assert _config(metric_dir, "evaluation")["evaluation.random_seed"] == seeds[1]
  with open(os.path.join(metric_dir, "results", "aggregate", "evaluation.json")) as f:
    assert json.load(f)["train_results.uuid"] == _uuid(os.path.join(out, "model"), "train")


def test_semi_pipeline_seeds_validation_metrics_aggregation_and_reuse(tmp_path):
  out = str(tmp_path / "semi")
  metrics = [resources.config_path(EVAL_DIR + name) for name in ("sap_score.gin", "mig.gin")]
  validations = [resources.config_path(VALIDATION_DIR + name)
                 for name in ("sap_score.gin", "mig.gin")]
  # train_percentage and labeller_fn left out: the model config's values (0.9, perfect).
  supervision = semi_supervised.reproduce_semi_supervised(
      out, SEMI_MODEL, POST, metrics, validations, pipeline_seed=3, eval_seed=4,
      supervision=semi_supervised.Supervision(2, 20, None, None))
  assert supervision == (2, 20, "0.9", "@perfect_labeller")
  model_seed, data_seed, mean_seed, sampled_seed = _draws(3, 4)
  train_config = _config(os.path.join(out, "model"), "train")
  assert train_config["model.model_seed"] == model_seed
  assert train_config["model.unsupervised_data_seed"] == data_seed
  assert train_config["model.supervised_data_seed"] == "2"
  assert train_config["model.num_labelled_samples"] == "20"
  assert train_config["model.name"] == "'train_test'"
  assert _config(os.path.join(out, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == mean_seed
  assert _config(os.path.join(out, "postprocessed", "sampled"), "postprocess")[
      "postprocess.random_seed"] == sampled_seed

  for post in ("mean", "sampled"):
    assert sorted(os.listdir(os.path.join(out, "validation", post))) == [
        "mig_validation_2_20", "sap_score_validation_2_20"]
    sap = _config(os.path.join(out, "validation", post, "sap_score_validation_2_20"),
                  "validation")
    assert sap["validation.random_seed"] == "2"
    assert sap["validation.num_labelled_samples"] == "20"
    assert sap["validation.name"] == "'sap_score_validation_2_20'"
    assert sap["sap_score_validation.train_percentage"] == "0.9"
    assert _config(os.path.join(out, "validation", post, "mig_validation_2_20"),
                   "validation")["validation.validation_fn"] == "@mig_validation"

  eval_seeds = _draws(4, 4)  # (mean, sampled) x (mig, sap_score), from eval_seed alone
  df = aggregate_results.load_aggregated_json_results(
      os.path.join(out, "metrics", "aggregated_results.json"))
  assert len(df) == 4
  metrics_root = os.path.join(out, "metrics")
  by_dir = {tuple(os.path.relpath(path, metrics_root).split(os.sep)[:2]): (name, seed)
            for path, name, seed in zip(df["path"], df["evaluation_config.evaluation.name"],
                                        df["evaluation_config.evaluation.random_seed"])}
  assert by_dir == {("mean", "mig_2"): ("'mig_2'", eval_seeds[0]),
                    ("mean", "sap_score_2"): ("'sap_score_2'", eval_seeds[1]),
                    ("sampled", "mig_2"): ("'mig_2'", eval_seeds[2]),
                    ("sampled", "sap_score_2"): ("'sap_score_2'", eval_seeds[3])}

  # Re-using the model: the supervision comes from its train.gin; seeds are drawn as before.
  again = str(tmp_path / "again")
  supervision = semi_supervised.reproduce_semi_supervised(
      again, None, POST[:1], metrics[1:], validations[1:], model_dir=out, pipeline_seed=3,
      eval_seed=4)
  assert supervision == ("2", "20", "0.9", "@perfect_labeller")
  assert _config(os.path.join(again, "postprocessed", "mean"), "postprocess")[
      "postprocess.random_seed"] == mean_seed
  assert os.listdir(os.path.join(again, "validation", "mean")) == ["mig_validation_2_20"]
  assert _config(os.path.join(again, "metrics", "mean", "mig_2"), "evaluation")[
      "evaluation.random_seed"] == eval_seeds[0]
  assert len(aggregate_results.load_aggregated_json_results(
      os.path.join(again, "metrics", "aggregated_results.json"))) == 1

  with pytest.raises(errors.UserError, match="num_labelled_samples flag should not be"):
    semi_supervised.reproduce_semi_supervised(
        str(tmp_path / "bad"), None, POST, metrics, validations, model_dir=out,
        supervision=semi_supervised.Supervision(None, 20, None, None))
  assert not os.path.exists(str(tmp_path / "bad"))


def test_commands_reject_bad_flags_in_one_line(tmp_path):
  completed = helpers.run_command(
      "reproduce_semi", "--output_directory=" + str(tmp_path / "out"),
      "--model_dir=" + str(tmp_path / "earlier"), "--supervised_seed=1")
  assert completed.returncode == 2
  assert "supervised_seed flag should not be specified" in completed.stderr
  completed = helpers.run_command(
      "reproduce_weak", "--output_directory=" + str(tmp_path / "out"),
      "--gin_evaluation_config_glob=" + str(tmp_path / "nothing" / "*.gin"))
  assert completed.returncode == 2
  assert "No gin config file matches" in completed.stderr
  assert not os.path.exists(str(tmp_path / "out"))


@pytest.mark.parametrize("command, flag, message", [
    ("reproduce_semi", "--train_percentage=-0.5", "-0.5 is not a number in the range [0.0, 1.0]"),
    ("reproduce_semi", "--train_percentage=1.5", "1.5 is not a number in the range [0.0, 1.0]"),
    ("reproduce_semi", "--num_labelled_samples=0", "0 is not a positive integer"),
    ("reproduce_semi", "--eval_seed=4294967296",
     "4294967296 is not an integer in the range [0, 4294967295]"),
    ("reproduce_weak", "--pipeline_seed=-1", "-1 is not an integer in the range [0, 4294967295]"),
    ("reproduce_jmlr", "--random_seed=-1", "-1 is not an integer in the range [0, 4294967295]"),
    ("reproduce_jmlr", "--num_eval=0", "0 is not a positive integer")])
def test_pipelines_reject_counts_and_seeds_out_of_range(tmp_path, command, flag, message):
  completed = helpers.run_command(command, "--output_directory=" + str(tmp_path / "out"), flag)
  assert completed.returncode == 2
  assert completed.stderr.strip().splitlines() == ["Error: flag {}: {}".format(flag, message)]
  assert not os.path.exists(str(tmp_path / "out"))
