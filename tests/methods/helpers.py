"""Shared set-up of the method tests: tiny models, fitting loops and gin runs."""
import json
import os

import gin
import numpy as np
import torch

from dlib_torch import gin_registry
from dlib_torch.config import reproduce as studies
from dlib_torch.config import resources
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.methods.unsupervised import train
from dlib_torch.pipeline import stages

class Squares(ground_truth_data.GroundTruthData):
  """A 4x4 white square on a black 16x16 image; factors: its row and column (7 each).

  Small and structured, so that a few steps of the test architectures
  visibly lower the reconstruction loss (dummy data is noise).
  """

  observations_draw_random = False

  @property
  def num_factors(self):
    return 2

  @property
  def factors_num_values(self):
    return [7, 7]

  @property
  def observation_shape(self):
    return [16, 16, 1]

  def sample_factors(self, num, random_state):
    return random_state.randint(7, size=(num, 2))

  def sample_observations_from_factors(self, factors, random_state):
    del random_state
    images = np.zeros((factors.shape[0], 16, 16, 1), np.float32)
    for i, (row, column) in enumerate(factors):
      images[i, 2 * row:2 * row + 4, 2 * column:2 * column + 4] = 1.
    return images


TEST_ARCHITECTURE = [
    "encoder.encoder_fn = @test_encoder",
    "decoder.decoder_fn = @test_decoder",
    "reconstruction_loss.loss_fn = @bernoulli_loss",
    "vae_optimizer.optimizer_fn = @AdamOptimizer",
    "AdamOptimizer.learning_rate = 0.01",
]


def make_model(factory, bindings=(), num_latent=4, data=None, ask_inputs=True):
  """factory() built for the data (dummy data by default), with the test architecture.

  Its training inputs are asked for before building, as the loop does (concept
  models read the factor sizes there), unless ask_inputs is False.
  """
  gin_registry.register_for("train")
  gin.parse_config(TEST_ARCHITECTURE + ["encoder.num_latent = {}".format(num_latent)] +
                   list(bindings))
  model = factory()
  data = data or Squares()
  if ask_inputs:
    model.training_inputs(data, 0, 1)
  torch.manual_seed(0)
  model.build(data.observation_shape)
  return model


def to_tensors(batch):
  """A batch of numpy arrays (possibly nested in tuples) as torch tensors."""
  if isinstance(batch, tuple):
    return tuple(to_tensors(part) for part in batch)
  return torch.from_numpy(batch)


def fit(model, stream, steps, batch_size=8, seed=0):
  """Trains with train_step on the stream; returns the logged losses."""
  optimizers = model.make_optimizers()
  generator = torch.Generator().manual_seed(seed)
  history, global_step = [], 0
  model.train()
  for _ in range(steps):
    features = to_tensors(stream.next_batch(batch_size))
    scalars, count = model.train_step(features, global_step, optimizers, generator)
    global_step += count
    history.append(float(scalars["loss"]))
  return history


def train_from_gin(model_dir, config, bindings=(), runtime=None):
  """Runs the training loop on a shipped gin file plus bindings."""
  train.train_with_gin(str(model_dir), False, [resources.config_path(config)],
                       list(bindings), runtime=runtime)
  return os.path.join(str(model_dir))


def quickstart_member(tmp_path, kind, model_num, extra=()):
  """(model_dir, config files, bindings) of quickstart model `model_num`, trained for 6 steps
  with 2 evaluation batches (a pack's member, or its solo run), in tmp_path/kind."""
  bindings, config_file = studies.get_study("quickstart").get_model_config(model_num)
  bindings = stages.training_bindings(config_file, bindings + [
      "model.training_steps = 6", "model.eval_steps = 2"] + list(extra))
  return str(tmp_path / kind / str(model_num) / "model"), [config_file], bindings


def train_results(model_dir):
  """A trained model's train_results.json without its timing and uuid."""
  with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
    results = json.load(f)
  return {k: v for k, v in results.items() if k not in ("elapsed_time", "uuid")}
