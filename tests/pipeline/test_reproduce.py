"""dreproduce: the printed configuration, the full layout, skipping finished stages, aggregation."""
import json
import os

import pytest

from dlib_torch.config import resources
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import aggregate_results

MODEL_42_BINDINGS = [
    "dataset.name = 'dsprites_full'",
    "encoder.encoder_fn = @conv_encoder",
    "decoder.decoder_fn = @deconv_decoder",
    "model.name = 'beta_vae'",
    "vae.beta = 1.0",
    "model.model = @vae()",
    "model.random_seed = 42",
]

STUDY_METRICS = ["beta_vae_sklearn", "dci", "downstream_task_boosted_trees",
                 "downstream_task_logistic_regression", "factor_vae_metric", "mig",
                 "modularity_explicitness", "sap_score", "unsupervised"]


def test_only_print_model_42():
  completed = helpers.run_command("reproduce", "--model_num=42", "--only_print")
  assert completed.returncode == 0, completed.stderr
  lines = completed.stdout.splitlines()
  assert lines[0] == "Gin base config for model training:"
  assert lines[2].endswith(os.path.join("unsupervised_study_v1", "model_configs", "shared.gin"))
  start = lines.index("Gin bindings for model training:") + 2
  assert lines[start:start + len(MODEL_42_BINDINGS)] == MODEL_42_BINDINGS
  post = lines.index("Gin config files for postprocessing (random seeds may be set later):")
  assert [os.path.basename(l) for l in lines[post + 2:post + 4]] == ["mean.gin", "sampled.gin"]
  evaluation = lines.index("Gin config files for evaluation (random seeds may be set later):")
  assert [os.path.basename(l)[:-4] for l in lines[evaluation + 2:]] == STUDY_METRICS
  with open(lines[2]) as f:
    shared = f.read()
  assert "model.training_steps = 300000" in shared and "model.batch_size = 64" in shared


def _layout_and_rows(out, metric_names):
  for step_dir, step in [("model", "train"), ("visualizations", "visualize"),
                         ("postprocessed/mean", "postprocess"),
                         ("postprocessed/sampled", "postprocess")]:
    assert os.path.exists(os.path.join(out, step_dir, "results", "aggregate", step + ".json"))
  for post in ("mean", "sampled"):
    for metric in metric_names:
      assert os.path.exists(os.path.join(out, "metrics", post, metric, "results", "aggregate",
                                         "evaluation.json")), (post, metric)
  output = os.path.join(out, "results.json")
  completed = helpers.run_command(
      "aggregate", "--output_path=" + output,
      "--result_file_pattern=" + os.path.join(out, "metrics", "*", "*", "results", "aggregate",
                                              "evaluation.json"))
  assert completed.returncode == 0, completed.stderr
  return aggregate_results.load_aggregated_json_results(output)


@pytest.mark.slow
def test_test_study_end_to_end_and_rerun_skips_finished_stages(tmp_path):
  out = str(tmp_path / "{study}_{model_num}")
  completed = helpers.run_command("reproduce", "--study=test", "--output_directory=" + out)
  assert completed.returncode == 0, completed.stderr
  out = str(tmp_path / "test_0")
  metric_names = [os.path.basename(p)[:-4] for p in
                  resources.list_configs("tests/evaluation/evaluate_test_configs")]
  df = _layout_and_rows(out, metric_names)
  assert len(df) == 2 * len(metric_names)
  # Seeds are the original's plan: the first postprocessing seed of RandomState(0).
  with open(os.path.join(out, "postprocessed", "mean", "results", "json",
                         "postprocess_config.json")) as f:
    assert json.load(f)["postprocess.random_seed"] == "2357136044"
  uuid_before = df.set_index("path")["evaluation_results.uuid"].to_dict()
  completed = helpers.run_command("reproduce", "--study=test", "--output_directory=" + out)
  assert completed.returncode == 0, completed.stderr
  df_again = _layout_and_rows(out, metric_names)
  assert df_again.set_index("path")["evaluation_results.uuid"].to_dict() == uuid_before


@pytest.mark.slow
def test_quickstart_model_42_with_two_metrics(tmp_path):
  """The README's main job, shortened: procedural dSprites, every stage, MIG and DCI."""
  out = str(tmp_path / "out")
  completed = helpers.run_command(
      "reproduce", "--study=quickstart", "--model_num=42", "--output_directory=" + out,
      "--metrics=mig,dci", "--gin_bindings=model.training_steps = 4",
      "--gin_bindings=model.eval_steps = 2")
  assert completed.returncode == 0, completed.stderr
  df = _layout_and_rows(out, ["dci", "mig"])
  assert len(df) == 4
  assert not os.path.exists(os.path.join(out, "metrics", "mean", "sap_score"))
  assert set(df["train_config.dataset.name"]) == {"'procedural_dsprites'"}
  assert set(df["train_config.model.random_seed"]) == {"42"}
  assert set(df["train_config.vae.beta"]) == {"1.0"}
  # The seeds of the full plan (the original's table), not of a two-metric plan.
  seeds = {(p.split(os.sep)[-5], n): s for p, n, s in zip(
      df["path"], df["evaluation_config.evaluation.name"],
      df["evaluation_config.evaluation.random_seed"])}
  assert seeds == {("mean", "'dci'"): "3626093760", ("mean", "'mig'"): "3638918503",
                   ("sampled", "'dci'"): "1879422756", ("sampled", "'mig'"): "4138900056"}


def test_unknown_metric_name_is_a_user_error(tmp_path):
  completed = helpers.run_command("reproduce", "--study=test", "--metrics=nope",
                                  "--output_directory=" + str(tmp_path / "o"))
  assert completed.returncode == 2
  assert "Unknown metric(s) nope" in completed.stderr.strip().splitlines()[-1]
