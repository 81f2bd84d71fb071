"""The catalogue of bad inputs: every one ends with exit 2, one `Error:` line, no traceback,
and leaves what was already written byte-identical.

Each case runs an installed command against a folder holding a finished
pipeline (a trained model, its mean representation, a metric, an aggregate),
which is fingerprinted before and after.
"""
import hashlib
import os
import shutil

import numpy as np
import pytest
import torch

from dlib_torch.config import resources
from dlib_torch.evaluation import evaluate
from dlib_torch.methods.unsupervised import train
from dlib_torch.postprocessing import postprocess
from dlib_torch.tests import commands
from dlib_torch.tests.data.ground_truth import test_dsprites
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import torchscript_io

_MIG = "tests/evaluation/evaluate_test_configs/mig.gin"
_MEAN = "tests/postprocessing/postprocess_test_configs/mean.gin"


class _WrongShape(torch.nn.Module):

  def forward(self, x):
    return x.reshape(x.shape[0], -1)[:, :3].sum(dim=1)  # [N], not [N, num_latent]


class _NaNCodes(torch.nn.Module):

  def forward(self, x):
    return torch.full((x.shape[0], 4), float("nan"))


def _broken_representation(root, name, module):
  folder = os.path.join(root, name)
  shutil.copytree(os.path.join(root, "post"), folder)
  torchscript_io.save_module(module, folder, "representation",
                             torchscript_io.load_description(os.path.join(root, "post"),
                                                             "representation"))
  return folder


@pytest.fixture(scope="module")
def done(tmp_path_factory):
  """A finished pipeline, and files made bad in every way the catalogue names."""
  root = str(tmp_path_factory.mktemp("done"))
  gin_file = helpers.write_gin(root, "train.gin", helpers.FAST_TRAIN_GIN)
  train.train_with_gin(os.path.join(root, "model"), False, [gin_file],
                       ["model.training_steps = 2"])
  postprocess.postprocess_with_gin(os.path.join(root, "model"), os.path.join(root, "post"),
                                   False, [resources.config_path(_MEAN)])
  evaluate.evaluate_with_gin(os.path.join(root, "post"), os.path.join(root, "mig"), False,
                             [resources.config_path(_MIG)])
  aggregate_results.aggregate_results_to_json(
      os.path.join(root, "mig", "results", "aggregate", "*.json"),
      os.path.join(root, "results.json"))
  _broken_representation(root, "wrong_shape", _WrongShape())
  _broken_representation(root, "nan_codes", _NaNCodes())
  not_torchscript = _broken_representation(root, "not_torchscript", _NaNCodes())
  with open(torchscript_io.artefact_path(not_torchscript, "representation"), "wb") as f:
    f.write(b"not a TorchScript archive")
  os.makedirs(os.path.join(root, "empty"))
  for name, text in (("corrupt", '{"a": '), ("empty", "")):
    os.makedirs(os.path.join(root, "bad_json", name, "results", "aggregate"))
    with open(os.path.join(root, "bad_json", name, "results", "aggregate", "e.json"), "w") as f:
      f.write(text)
  helpers.write_gin(root, "no_beta.gin", helpers.FAST_TRAIN_GIN.replace("vae.beta = 2.\n", ""))
  helpers.write_gin(root, "mgi.gin", "evaluation.evaluation_fn = @mgi\n"
                    "evaluation.random_seed = 0\ndataset.name = 'auto'\n")
  _bad_data_files(root)
  return root


def _bad_data_files(root):
  """dSprites files in the real format, damaged: DISENTANGLEMENT_LIB_DATA=root/data_<kind>."""
  truncated = test_dsprites._write_dsprites(os.path.join(root, "data_truncated"))  # pylint: disable=protected-access
  with open(truncated, "r+b") as f:
    f.truncate(os.path.getsize(truncated) // 2)
  test_dsprites._write_dsprites(os.path.join(root, "data_wrong_key"), imgs=None,  # pylint: disable=protected-access
                                images=np.zeros((36, 64, 64), np.uint8))
  test_dsprites._write_dsprites(os.path.join(root, "data_wrong_shape"),  # pylint: disable=protected-access
                                imgs=np.zeros((36, 32, 32), np.uint8))


def _fingerprint(root):
  found = {}
  for folder, _, names in os.walk(root):
    for name in names:
      path = os.path.join(folder, name)
      with open(path, "rb") as f:
        found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
  return found


def _train(*bindings, config=None):
  return lambda r: (["--model_dir=" + os.path.join(r, "new_model"),
                     "--gin_config=" + os.path.join(r, config or "train.gin")] +
                    ["--gin_bindings=" + b for b in bindings])


def _evaluate(input_name, config=None, *extra):
  return lambda r: (["--input_dir=" + os.path.join(r, input_name),
                     "--output_dir=" + os.path.join(r, "new_metric"),
                     "--gin_config=" + (os.path.join(r, config) if config
                                        else resources.config_path(_MIG))] + list(extra))


def _postprocess(model_name, output="new_post", *extra):
  return lambda r: (["--model_dir=" + os.path.join(r, model_name),
                     "--output_dir=" + os.path.join(r, output),
                     "--gin_config=" + resources.config_path(_MEAN)] + list(extra))


def _reproduce(*flags):
  return lambda r: ["--output_directory=" + os.path.join(r, "runs", "{model_num}")] + list(flags)


def _data(kind):
  return lambda r: {"DISENTANGLEMENT_LIB_DATA": os.path.join(r, "data_" + kind)}


# (case, command, arguments given the pipeline's folder, expected fragment of the error line,
#  extra environment given the folder)
CASES = [
    # Invalid values.
    ("negative_training_steps", "dtrain", _train("model.training_steps = -5"), "training_steps"),
    ("zero_training_steps", "dtrain", _train("model.training_steps = 0"), "training_steps"),
    ("zero_batch_size", "dtrain", _train("model.batch_size = 0"), "batch_size"),
    ("negative_batch_size", "dtrain", _train("model.batch_size = -4"), "batch_size"),
    ("zero_latents", "dtrain", _train("encoder.num_latent = 0"), "num_latent"),
    ("negative_latents", "dtrain", _train("encoder.num_latent = -2"), "num_latent"),
    ("string_learning_rate", "dtrain", _train("AdamOptimizer.learning_rate = 'fast'"),
     "learning_rate"),
    ("negative_eval_steps", "dtrain", _train("model.eval_steps = -1"), "eval_steps"),
    ("string_training_steps", "dtrain", _train("model.training_steps = 'many'"),
     "training_steps"),
    # Gin configurations.
    ("missing_required_binding", "dtrain", _train(config="no_beta.gin"), "beta"),
    ("misspelled_binding", "dtrain", _train("vae.betta = 2."), "betta"),
    ("unknown_configurable_in_metric", "devaluate", _evaluate("post", "mgi.gin"), "mgi"),
    ("missing_gin_file", "dtrain", _train(config="no_such.gin"), "no_such.gin"),
    # Input folders missing or of the wrong kind.
    ("postprocess_missing_model", "dpostprocess", _postprocess("no_such_model"),
     "no_such_model"),
    ("postprocess_not_a_model", "dpostprocess", _postprocess("empty"), "empty"),
    ("postprocess_a_representation", "dpostprocess", _postprocess("post"), "post"),
    ("evaluate_missing_input", "devaluate", _evaluate("no_such_post"), "no_such_post"),
    ("evaluate_not_a_representation", "devaluate", _evaluate("model"), "model"),
    ("evaluate_empty_folder", "devaluate", _evaluate("empty"), "empty"),
    ("visualize_missing_model", "dvisualize", lambda r: [
        "--model_dir=" + os.path.join(r, "no_such_model"),
        "--output_dir=" + os.path.join(r, "new_vis")], "no_such_model"),
    ("visualize_not_a_model", "dvisualize", lambda r: [
        "--model_dir=" + os.path.join(r, "post"), "--output_dir=" + os.path.join(r, "new_vis")],
     "post"),
    ("udr_missing_models", "dudr", lambda r: [
        "--model_dirs=" + os.path.join(r, "no_a") + "," + os.path.join(r, "no_b"),
        "--output_dir=" + os.path.join(r, "new_udr"),
        "--gin_config=" + resources.config_path("tests/udr/udr.gin")], "no_a"),
    # Representations that are not what they should be.
    ("representation_not_torchscript", "devaluate", _evaluate("not_torchscript"),
     "TorchScript"),
    ("representation_wrong_shape", "devaluate", _evaluate("wrong_shape"), "shape"),
    ("representation_nan_codes", "devaluate", _evaluate("nan_codes"), "finite"),
    ("images_do_not_fit_the_model", "devaluate",
     _evaluate("post", None, "--gin_bindings=dataset.name = 'procedural_color_dsprites'"),
     "shape"),
    # Data files.
    ("truncated_data_file", "dtrain", _train("dataset.name = 'dsprites_full'"),
     "dsprites", _data("truncated")),
    ("wrong_key_data_file", "dtrain", _train("dataset.name = 'dsprites_full'"),
     "dsprites", _data("wrong_key")),
    ("wrong_shape_data_file", "dtrain", _train("dataset.name = 'dsprites_full'"),
     "dsprites", _data("wrong_shape")),
    # daggregate.
    ("aggregate_corrupt_json", "daggregate", lambda r: [
        "--result_file_pattern=" + os.path.join(r, "bad_json", "corrupt", "results",
                                                "aggregate", "*.json"),
        "--output_path=" + os.path.join(r, "new.json")], "e.json"),
    ("aggregate_empty_json", "daggregate", lambda r: [
        "--result_file_pattern=" + os.path.join(r, "bad_json", "empty", "results",
                                                "aggregate", "*.json"),
        "--output_path=" + os.path.join(r, "new.json")], "e.json"),
    ("aggregate_pattern_matches_nothing", "daggregate", lambda r: [
        "--result_file_pattern=" + os.path.join(r, "nothing", "*.json"),
        "--output_path=" + os.path.join(r, "new.json")], "nothing"),
    # Model numbers, studies, metrics, devices.
    ("malformed_model_nums", "dreproduce", _reproduce("--study=test", "--model_nums=1-x"),
     "model_nums"),
    ("reversed_model_range", "dreproduce", _reproduce("--study=test", "--model_nums=5-2"),
     "5-2"),
    ("model_nums_out_of_range", "dreproduce",
     _reproduce("--study=quickstart", "--model_nums=0-99999"), "99999"),
    ("model_num_out_of_range", "dreproduce", _reproduce("--study=quickstart",
                                                       "--model_num=12600"), "12600"),
    ("negative_model_num", "dreproduce", _reproduce("--study=quickstart", "--model_num=-1"),
     "-1"),
    ("unknown_study", "dreproduce", _reproduce("--study=no_such_study"), "no_such_study"),
    ("unknown_metric", "dreproduce", _reproduce("--study=test", "--metrics=no_such_metric"),
     "no_such_metric"),
    ("unknown_data_set", "dtrain", _train("dataset.name = 'no_such_data'"), "no_such_data"),
    ("unknown_device", "dtrain", lambda r: _train()(r) + ["--device=tpu"], "tpu"),
    ("cuda_without_a_gpu", "dtrain", lambda r: _train()(r) + ["--device=cuda"], "cuda"),
    ("unknown_data_set_to_download", "ddownload", lambda r: [
        "no_such_data", "--data_dir=" + os.path.join(r, "new_data")], "no_such_data"),
    # Existing output without --overwrite.
    ("postprocess_over_existing_output", "dpostprocess", _postprocess("model", "post"),
     "overwrite"),
    ("evaluate_over_existing_output", "devaluate", lambda r: _evaluate("post")(r)[:1] + [
        "--output_dir=" + os.path.join(r, "mig"),
        "--gin_config=" + resources.config_path(_MIG)], "overwrite"),
    ("udr_over_existing_output", "dudr", lambda r: [
        "--model_dirs=" + os.path.join(r, "model") + "," + os.path.join(r, "model"),
        "--output_dir=" + os.path.join(r, "mig"),
        "--gin_config=" + resources.config_path("tests/udr/udr.gin")], "overwrite"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_error_line_and_changes_nothing(done, case):
  if case[0] == "cuda_without_a_gpu" and torch.cuda.is_available():
    pytest.skip("this machine has a GPU")
  _, command, arguments, fragment = case[:4]
  env = dict(os.environ, **(case[4](done) if len(case) > 4 else {}))
  before = _fingerprint(done)
  completed = commands.run(command, *arguments(done), env=env, timeout=300)
  assert completed.returncode == 2, completed.stderr[-3000:]
  assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
  last_line = completed.stderr.strip().splitlines()[-1]
  assert last_line.startswith("Error: ") and fragment in last_line, completed.stderr[-3000:]
  assert "In call to configurable" not in last_line
  after = _fingerprint(done)
  assert after == before


def test_the_catalogue_has_at_least_40_cases():
  assert len({case[0] for case in CASES}) == len(CASES) >= 40
