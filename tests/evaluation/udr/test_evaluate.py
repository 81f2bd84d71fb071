"""UDR evaluation of trained model folders, through the function and through dudr."""
import json
import os

import numpy as np
import pytest
import torch

from dlib_torch.config import resources
from dlib_torch.evaluation.udr import evaluate
from dlib_torch.tests import commands
from dlib_torch.utils import errors


class _TinyEncoder(torch.nn.Module):
  """(N, 64, 64, 1) in [0, 1] -> (mean, logvar), 4 latents; latent 3 matches the prior."""

  def __init__(self, seed: int):
    super().__init__()
    torch.manual_seed(seed)
    self.mean = torch.nn.Linear(64 * 64, 4)

  def forward(self, x):
    mean = self.mean(x.reshape(x.shape[0], -1))
    mean = torch.cat([mean[:, :3], torch.zeros_like(mean[:, 3:])], dim=1)
    logvar = torch.cat([torch.full_like(mean[:, :3], -2.), torch.zeros_like(mean[:, 3:])],
                       dim=1)
    return mean, logvar


def _model_dir(root, seed):
  model_dir = os.path.join(str(root), "model{}".format(seed))
  os.makedirs(os.path.join(model_dir, "torchscript"))
  torch.jit.save(torch.jit.script(_TinyEncoder(seed)),
                 os.path.join(model_dir, "torchscript", "gaussian_encoder.pt"))
  os.makedirs(os.path.join(model_dir, "results", "gin"))
  with open(os.path.join(model_dir, "results", "gin", "train.gin"), "w") as f:
    f.write("dataset.name = 'dummy_data'\n")
  return model_dir


def _read_scores(output_dir):
  with open(os.path.join(output_dir, "results", "aggregate", "evaluation.json")) as f:
    return json.load(f)


@pytest.mark.parametrize("config", ["udr.gin", "udr_spearman.gin"])
def test_evaluate_two_models(tmp_path, config):
  model_dirs = [_model_dir(tmp_path, 0), _model_dir(tmp_path, 1)]
  output_dir = str(tmp_path / "out")
  os.makedirs(output_dir)
  # Spearman correlations of a zeroed latent are NaN (as in the original),
  # which the results writer does not accept yet: leave the raw matrices out.
  spearman = config == "udr_spearman.gin"
  config_files = [resources.config_path("tests/udr/" + config)]
  bindings = ["udr_sklearn.include_raw_correlations = False"] if spearman else []
  # An existing output is replaced only with overwrite (the original replaced it always).
  with pytest.raises(errors.UserError, match="overwrite"):
    evaluate.evaluate_with_gin(model_dirs, output_dir, config_files, bindings)
  assert os.listdir(output_dir) == []
  evaluate.evaluate_with_gin(model_dirs, output_dir, config_files, bindings, overwrite=True)
  scores = _read_scores(output_dir)
  model_scores = scores["evaluation_results.model_scores"]
  assert len(model_scores) == 2 and all(0. <= s <= 1. for s in model_scores)
  if not spearman:
    # The prior-matching latent 3 is zeroed: no Lasso weight to or from it.
    raw = np.array(scores["evaluation_results.raw_correlations"])
    assert raw.shape == (2, 2, 4, 4)
    np.testing.assert_array_equal(raw[0, 1, 3, :], 0.)
    np.testing.assert_array_equal(raw[0, 1, :, 3], 0.)
  assert scores["evaluation_config.dataset.name"] == "'dummy_data'"
  # The evaluation.* bindings are recorded, as in the original's operative config.
  assert scores["evaluation_config.evaluation.evaluation_fn"] == "@udr_sklearn"
  assert scores["evaluation_config.evaluation.random_seed"] == "0"
  # The first model's results folder is carried over.
  assert os.path.exists(os.path.join(output_dir, "results", "gin", "train.gin"))


def test_kl_of_the_encoder(tmp_path):
  from dlib_torch.utils import torchscript_io  # pylint: disable=g-import-not-at-top
  fn = evaluate._mean_and_kl_function(
      torchscript_io.load_gaussian_encoder(_model_dir(tmp_path, 0)))
  x = np.random.RandomState(0).uniform(size=(5, 64, 64, 1)).astype(np.float32)
  mean, kl = fn(x)
  expected = np.mean(0.5 * (mean ** 2 + np.exp(-2.) + 2. - 1.), axis=0)
  np.testing.assert_allclose(kl[:3], expected[:3], rtol=1e-5)
  assert kl[3] == 0.


def _dudr(*args):
  return commands.run("dudr", *args, timeout=300)


def test_dudr_with_a_config_glob(tmp_path):
  model_dirs = [_model_dir(tmp_path, 0), _model_dir(tmp_path, 1), _model_dir(tmp_path, 2)]
  configs = tmp_path / "configs"
  configs.mkdir()
  for name in ("udr", "udr_spearman"):
    with open(resources.config_path("tests/udr/{}.gin".format(name))) as f:
      text = f.read()
    # See test_evaluate_two_models about NaN in the Spearman matrices.
    (configs / (name + ".gin")).write_text(
        text + "udr_sklearn.include_raw_correlations = False\n")
  glob_pattern = str(configs / "*.gin")
  completed = _dudr("--model_dirs=" + ",".join(model_dirs),
                    "--output_dir=" + str(tmp_path / "out"),
                    "--gin_evaluation_config_glob=" + glob_pattern)
  assert completed.returncode == 0, completed.stderr
  for name in ("udr", "udr_spearman"):
    scores = _read_scores(str(tmp_path / "out" / name))
    assert len(scores["evaluation_results.model_scores"]) == 3
    assert scores["evaluation_config.udr_sklearn.correlation_matrix"] == (
        "'spearman'" if name == "udr_spearman" else "'lasso'")


def test_dudr_missing_model_dir_is_a_one_line_error(tmp_path):
  completed = _dudr("--model_dirs=" + str(tmp_path / "nothing"),
                    "--output_dir=" + str(tmp_path / "out"),
                    "--gin_config=" + resources.config_path("tests/udr/udr.gin"))
  assert completed.returncode == 2, completed.stderr
  assert "Traceback" not in completed.stderr
  assert not os.path.exists(tmp_path / "out")
