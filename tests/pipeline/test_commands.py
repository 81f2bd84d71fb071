"""The console commands end to end, and their one-line, exit-status-2 answer to bad input."""
import json
import os

import pytest

from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import aggregate_results


def _assert_user_error(completed, fragment):
  assert completed.returncode == 2, completed.stderr
  assert "Traceback" not in completed.stderr
  last_line = completed.stderr.strip().splitlines()[-1]
  assert last_line.startswith("Error: ") and fragment in last_line, completed.stderr


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
  """dtrain -> dpostprocess -> devaluate, run once for the module's tests."""
  root = tmp_path_factory.mktemp("pipeline")
  train_gin = helpers.write_gin(str(root), "train.gin", helpers.FAST_TRAIN_GIN)
  mean_gin = helpers.write_gin(str(root), "mean.gin", helpers.MEAN_GIN)
  mig_gin = helpers.write_gin(str(root), "mig.gin", helpers.MIG_GIN)
  paths = {"root": root, "model": str(root / "model"), "post": str(root / "post"),
           "eval": str(root / "eval" / "mig"), "train_gin": train_gin, "mean_gin": mean_gin,
           "mig_gin": mig_gin}
  for completed in (
      helpers.run_command("train", "--model_dir=" + paths["model"], "--gin_config=" + train_gin,
                          "--gin_bindings=model.training_steps = 5"),
      helpers.run_command("postprocess", "--model_dir=" + paths["model"],
                          "--output_dir=" + paths["post"], "--gin_config=" + mean_gin),
      helpers.run_command("evaluate", "--input_dir=" + paths["post"],
                          "--output_dir=" + paths["eval"], "--gin_config=" + mig_gin)):
    assert completed.returncode == 0, completed.stderr
  return paths


def test_each_step_writes_the_original_results_layout(pipeline):
  expected = {
      pipeline["model"]: ["train"],
      pipeline["post"]: ["train", "postprocess"],
      pipeline["eval"]: ["train", "postprocess", "evaluation"],
  }
  for directory, steps in expected.items():
    for step in steps:
      assert os.path.exists(os.path.join(directory, "results", "gin", step + ".gin"))
      for suffix in ("config", "results"):
        assert os.path.exists(os.path.join(directory, "results", "json",
                                           "{}_{}.json".format(step, suffix)))
    assert os.path.exists(os.path.join(directory, "results", "aggregate", steps[-1] + ".json"))
  with open(os.path.join(pipeline["eval"], "results", "aggregate", "evaluation.json")) as f:
    aggregate = json.load(f)
  assert aggregate["train_config.model.training_steps"] == "5"
  assert aggregate["postprocess_config.postprocess.postprocess_fn"] == "@mean_representation"
  assert aggregate["postprocess_config.dataset.name"] == "'dummy_data'"
  assert aggregate["evaluation_config.evaluation.evaluation_fn"] == "@mig"
  assert 0.0 <= aggregate["evaluation_results.discrete_mig"] <= 1.0


def test_aggregate_loads_into_pandas_with_the_original_columns(pipeline):
  output = str(pipeline["root"] / "results.json")
  completed = helpers.run_command(
      "aggregate", "--output_path=" + output,
      "--result_file_pattern=" + str(pipeline["root"] / "eval" / "*" / "results" / "aggregate" /
                                     "evaluation.json"))
  assert completed.returncode == 0, completed.stderr
  df = aggregate_results.load_aggregated_json_results(output)
  assert len(df) == 1
  assert df.loc[0, "train_config.dataset.name"] == "'dummy_data'"
  assert df.loc[0, "evaluation_config.evaluation.name"] == "''"
  assert "evaluation_results.discrete_mig" in df.columns
  assert df.loc[0, "path"].endswith("evaluation.json")


def test_unknown_data_set(pipeline, tmp_path):
  completed = helpers.run_command("train", "--model_dir=" + str(tmp_path / "m"),
                                  "--gin_config=" + pipeline["train_gin"],
                                  "--gin_bindings=dataset.name = 'nonexistent'")
  _assert_user_error(completed, "Invalid data set name")
  assert not os.path.exists(tmp_path / "m")


def test_missing_data_file(pipeline, tmp_path):
  env_root = str(tmp_path / "empty_data_root")
  os.makedirs(env_root)
  os.environ["DISENTANGLEMENT_LIB_DATA"] = env_root
  try:
    completed = helpers.run_command("train", "--model_dir=" + str(tmp_path / "m"),
                                    "--gin_config=" + pipeline["train_gin"],
                                    "--gin_bindings=dataset.name = 'dsprites_full'")
  finally:
    del os.environ["DISENTANGLEMENT_LIB_DATA"]
  _assert_user_error(completed, "ddownload")
  assert not os.path.exists(tmp_path / "m")


def test_misspelled_gin_binding(pipeline, tmp_path):
  completed = helpers.run_command("train", "--model_dir=" + str(tmp_path / "m"),
                                  "--gin_config=" + pipeline["train_gin"],
                                  "--gin_bindings=vae.betta = 3.")
  _assert_user_error(completed, "betta")
  assert not os.path.exists(tmp_path / "m")


def test_existing_output_without_overwrite_is_kept(pipeline):
  before = open(os.path.join(pipeline["post"], "results", "json",
                             "postprocess_results.json")).read()
  completed = helpers.run_command("postprocess", "--model_dir=" + pipeline["model"],
                                  "--output_dir=" + pipeline["post"],
                                  "--gin_config=" + pipeline["mean_gin"])
  _assert_user_error(completed, "overwrite is False")
  after = open(os.path.join(pipeline["post"], "results", "json",
                            "postprocess_results.json")).read()
  assert before == after


def test_representation_that_is_not_torchscript(pipeline, tmp_path):
  import shutil  # pylint: disable=g-import-not-at-top
  broken = str(tmp_path / "broken_post")
  shutil.copytree(pipeline["post"], broken)
  with open(os.path.join(broken, "torchscript", "representation.pt"), "wb") as f:
    f.write(b"this is not a TorchScript archive")
  completed = helpers.run_command("evaluate", "--input_dir=" + broken,
                                  "--output_dir=" + str(tmp_path / "out"),
                                  "--gin_config=" + pipeline["mig_gin"])
  _assert_user_error(completed, "not a TorchScript module")
  assert not os.path.exists(tmp_path / "out")


def test_missing_required_flag():
  _assert_user_error(helpers.run_command("postprocess", "--output_dir=/tmp/x"), "model_dir")


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_checkpoint_interval_below_one_step(pipeline, tmp_path, value):
  completed = helpers.run_command("train", "--model_dir=" + str(tmp_path / "m"),
                                  "--gin_config=" + pipeline["train_gin"],
                                  "--checkpoint_every=" + value)
  _assert_user_error(completed, "flag --checkpoint_every={}: ".format(value))
  assert len(completed.stderr.strip().splitlines()) == 1
  assert not os.path.exists(tmp_path / "m")


@pytest.mark.parametrize("step, binding", [
    ("train", "model.random_seed = -1"),
    ("postprocess", "postprocess.random_seed = 4294967296"),
    ("evaluate", "evaluation.random_seed = None"),
    ("evaluate", "evaluation.random_seed = 0.5")])
def test_a_seed_numpy_cannot_take(pipeline, tmp_path, step, binding):
  out = str(tmp_path / "out")
  flags = {"train": ["--model_dir=" + out, "--gin_config=" + pipeline["train_gin"]],
           "postprocess": ["--model_dir=" + pipeline["model"], "--output_dir=" + out,
                           "--gin_config=" + pipeline["mean_gin"]],
           "evaluate": ["--input_dir=" + pipeline["post"], "--output_dir=" + out,
                        "--gin_config=" + pipeline["mig_gin"]]}[step]
  completed = helpers.run_command(step, *flags, "--gin_bindings=" + binding)
  name, value = binding.split(" = ")
  _assert_user_error(completed, "{} must be a seed, an integer from 0 to 2**32 - 1, not {}".format(
      name, value))
  assert len(completed.stderr.strip().splitlines()) == 1
  assert not os.path.exists(out)


def test_missing_required_binding(tmp_path):
  # gin raises it when the configurable is called, not when the file is parsed.
  config = helpers.write_gin(str(tmp_path), "train.gin",
                             helpers.FAST_TRAIN_GIN.replace("vae.beta = 2.\n", ""))
  completed = helpers.run_command("train", "--model_dir=" + str(tmp_path / "m"),
                                  "--gin_config=" + config)
  _assert_user_error(completed, "beta")
  assert len(completed.stderr.strip().splitlines()) == 1
  assert not os.path.exists(tmp_path / "m")


def test_a_metric_config_naming_an_unknown_configurable_stops_the_weak_pipeline(
    pipeline, tmp_path):
  bad = helpers.write_gin(str(tmp_path), "bad.gin", helpers.MIG_GIN.replace("@mig", "@mgi"))
  out = tmp_path / "out"
  completed = helpers.run_command(
      "reproduce_weak", "--output_directory=" + str(out), "--model_dir=" + str(pipeline["root"]),
      "--gin_evaluation_config_glob=" + bad)
  _assert_user_error(completed, "@mgi")
  assert len(completed.stderr.strip().splitlines()) == 1
  assert not os.path.exists(out)
