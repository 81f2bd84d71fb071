"""Training: results keys and values, TorchScript export, resume, overwrite and divergence."""
import json
import os
import sys

import numpy as np
import pytest
import torch

from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.unsupervised import vae
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import errors
from dlib_torch.utils import summaries


def _train(tmp_path, model_dir, bindings=(), runtime=None):
  config = helpers.write_gin(str(tmp_path), "train.gin", helpers.FAST_TRAIN_GIN)
  train.train_with_gin(str(model_dir), False, [config], list(bindings), runtime=runtime)
  with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
    return json.load(f)


def _comparable(results):
  return {k: v for k, v in results.items() if k not in ("elapsed_time", "uuid")}


def test_results_have_the_original_keys_and_consistent_values(tmp_path):
  results = _train(tmp_path, tmp_path / "model")
  for key in ("loss", "global_step", "reconstruction_loss", "elbo", "regularizer", "kl_loss",
              "elapsed_time", "uuid"):
    assert key in results
  assert results["global_step"] == 12
  # elbo is reported as minus (reconstruction + KL); loss = reconstruction + beta * KL.
  assert results["elbo"] == pytest.approx(-(results["reconstruction_loss"] + results["kl_loss"]))
  assert results["regularizer"] == pytest.approx(2. * results["kl_loss"])
  assert results["loss"] == pytest.approx(results["reconstruction_loss"] + results["regularizer"])
  for name in ("train.gin",):
    assert os.path.exists(tmp_path / "model" / "results" / "gin" / name)
  with open(tmp_path / "model" / "results" / "aggregate" / "train.json") as f:
    aggregate = json.load(f)
  assert aggregate["train_config.dataset.name"] == "'dummy_data'"
  assert aggregate["train_config.vae.beta"] == "2.0"
  assert aggregate["train_results.global_step"] == 12


def test_torchscript_export_matches_the_model(tmp_path):
  model_dir = tmp_path / "model"
  _train(tmp_path, model_dir)
  encoder = torch.jit.load(str(model_dir / "torchscript" / "gaussian_encoder.pt"))
  decoder = torch.jit.load(str(model_dir / "torchscript" / "decoder.pt"))
  images = torch.rand(5, 64, 64, 1)
  mean, logvar = encoder(images)
  assert mean.shape == (5, 4) and logvar.shape == (5, 4)
  assert decoder(mean).shape == (5, 64, 64, 1)
  # The exported weights are the checkpoint's final weights.
  state = torch.load(str(model_dir / "checkpoint" / "checkpoint.pt"), weights_only=False)
  weight = state["model"]["encoder.means.weight"]
  bias = state["model"]["encoder.means.bias"]
  np.testing.assert_allclose(mean.detach().numpy(),
                             (images.reshape(5, -1) @ weight.T + bias).numpy(), atol=1e-5)


def test_a_killed_run_resumes_to_the_same_results(tmp_path):
  uninterrupted = _train(tmp_path, tmp_path / "a")

  def kill_at_step_7(step):
    if step == 7:
      raise KeyboardInterrupt()

  runtime = train.Runtime(checkpoint_every_steps=3, after_step=kill_at_step_7)
  with pytest.raises(KeyboardInterrupt):
    _train(tmp_path, tmp_path / "b", runtime=runtime)
  assert not os.path.exists(tmp_path / "b" / "results")
  state = torch.load(str(tmp_path / "b" / "checkpoint" / "checkpoint.pt"), weights_only=False)
  assert state["global_step"] == 6
  resumed = _train(tmp_path, tmp_path / "b", runtime=train.Runtime(checkpoint_every_steps=3))
  assert _comparable(resumed) == _comparable(uninterrupted)


def _summaries(folder):
  """{tag: [(step, value), ...]} of the TensorBoard event files in a folder."""
  event_accumulator = pytest.importorskip(
      "tensorboard.backend.event_processing.event_accumulator")
  accumulator = event_accumulator.EventAccumulator(str(folder))
  accumulator.Reload()
  return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
          for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_summaries_where_the_original_wrote_them(tmp_path):
  results = _train(tmp_path, tmp_path / "m", runtime=train.Runtime(log_every_steps=4))
  logged = _summaries(tmp_path / "m" / "checkpoint")
  assert sorted(logged) == sorted(vae.BetaVAE.logged_scalars)
  assert all([step for step, _ in series] == [4, 8, 12] for series in logged.values())
  for (_, loss), (_, reconstruction), (_, elbo) in zip(
      logged["loss"], logged["reconstruction_loss"], logged["elbo"]):
    # FAST_TRAIN_GIN's beta is 2: loss = reconstruction + 2 KL, elbo = -(reconstruction + KL).
    assert loss == pytest.approx(reconstruction + 2 * (-elbo - reconstruction), rel=1e-5)
  evaluation = _summaries(tmp_path / "m" / "checkpoint" / "eval")
  assert sorted(evaluation) == ["elbo", "kl_loss", "loss", "reconstruction_loss", "regularizer"]
  for tag, series in evaluation.items():
    assert series == [(12, pytest.approx(results[tag], rel=1e-6))]


def test_resumed_summaries_replace_those_after_the_checkpoint(tmp_path):
  _train(tmp_path, tmp_path / "a", runtime=train.Runtime(log_every_steps=2))

  def kill_at_step_11(step):
    if step == 11:
      raise KeyboardInterrupt()

  with pytest.raises(KeyboardInterrupt):
    _train(tmp_path, tmp_path / "b", runtime=train.Runtime(
        log_every_steps=2, checkpoint_every_steps=3, after_step=kill_at_step_11))
  # Step 10 was summarised after the last checkpoint (step 9); the resumed run redoes it.
  assert _summaries(tmp_path / "b" / "checkpoint")["loss"][-1][0] == 10
  _train(tmp_path, tmp_path / "b", runtime=train.Runtime(log_every_steps=2,
                                                         checkpoint_every_steps=3))
  assert _summaries(tmp_path / "b" / "checkpoint") == _summaries(tmp_path / "a" / "checkpoint")


def test_a_run_resumed_in_the_same_second_supersedes_the_earlier_summaries(tmp_path,
                                                                         monkeypatch):
  # Event files are named by second, then by a counter that sorts as text: the earlier
  # run's file ends in .9 and the resumed one's in .10, which would sort first.
  event_file_writer = pytest.importorskip("tensorboard.summary.writer.event_file_writer")
  monkeypatch.setattr(event_file_writer, "_global_uid", event_file_writer.AtomicCounter(9))
  earlier = summaries.Summaries(str(tmp_path))
  for step in (1, 2, 3, 4):
    earlier.add_scalars(step, {"loss": float(step)})
  earlier.close()
  resumed = summaries.Summaries(str(tmp_path), resumed_step=3)
  for step in (3, 4, 5):
    resumed.add_scalars(step, {"loss": 10. * step})
  resumed.close()
  assert _summaries(tmp_path)["loss"] == [(1, 1.), (2, 2.), (3, 30.), (4, 40.), (5, 50.)]


def test_training_without_tensorboard_writes_no_summaries(tmp_path, monkeypatch):
  monkeypatch.delattr(torch.utils, "tensorboard", raising=False)
  monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
  results = _train(tmp_path, tmp_path / "m", runtime=train.Runtime(log_every_steps=4))
  assert results["global_step"] == 12
  assert sorted(os.listdir(tmp_path / "m" / "checkpoint")) == ["checkpoint.pt"]


def test_resuming_with_another_configuration_is_refused(tmp_path):
  def stop(step):
    if step == 4:
      raise KeyboardInterrupt()

  with pytest.raises(KeyboardInterrupt):
    _train(tmp_path, tmp_path / "m", runtime=train.Runtime(checkpoint_every_steps=2,
                                                          after_step=stop))
  with pytest.raises(errors.UserError, match="another configuration"):
    _train(tmp_path, tmp_path / "m", bindings=["vae.beta = 5."])


def test_finished_model_dir_needs_overwrite(tmp_path):
  first = _train(tmp_path, tmp_path / "m")
  with pytest.raises(errors.UserError, match="overwrite is False"):
    _train(tmp_path, tmp_path / "m")
  with open(tmp_path / "m" / "results" / "json" / "train_results.json") as f:
    assert json.load(f)["uuid"] == first["uuid"]


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
  calls = {"n": 0}
  original = vae.BetaVAE.regularizer

  def nan_after_five(self, kl_loss, *args):
    calls["n"] += 1
    value = original(self, kl_loss, *args)
    return value * float("nan") if calls["n"] > 5 else value

  monkeypatch.setattr(vae.BetaVAE, "regularizer", nan_after_five)
  with pytest.raises(train.TrainingDiverged, match="diverged at step 5"):
    _train(tmp_path, tmp_path / "m", runtime=train.Runtime(checkpoint_every_steps=2))
  state = torch.load(str(tmp_path / "m" / "checkpoint" / "checkpoint.pt"), weights_only=False)
  assert state["global_step"] == 4
  assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_unread_scalars_are_checked_before_a_checkpoint(tmp_path, monkeypatch):
  # As on CUDA: scalars are read only for a log line or a checkpoint, never per step.
  monkeypatch.setattr(train.TrainingSession, "reads_each_step", False)
  reads, calls = [], {"n": 0}
  read_values = train.TrainingSession._read_values
  monkeypatch.setattr(train.TrainingSession, "_read_values",
                      lambda self: reads.append(self.global_step) or read_values(self))
  original = vae.BetaVAE.regularizer

  def nan_after_five(self, kl_loss, *args):
    calls["n"] += 1
    value = original(self, kl_loss, *args)
    return value * float("nan") if calls["n"] > 5 else value

  monkeypatch.setattr(vae.BetaVAE, "regularizer", nan_after_five)
  with pytest.raises(train.TrainingDiverged, match="diverged at step 5"):
    _train(tmp_path, tmp_path / "m",
           runtime=train.Runtime(checkpoint_every_steps=4, log_every_steps=1000))
  assert reads == [4, 8]
  state = torch.load(str(tmp_path / "m" / "checkpoint" / "checkpoint.pt"), weights_only=False)
  assert state["global_step"] == 4
  assert all(torch.isfinite(v).all() for v in state["model"].values())


class _CountingData(dummy_data.IdentityObservationsData):
  """Observations that draw from the random state, to check the per-sample order."""
  observations_draw_random = True

  @property
  def observation_shape(self):
    return [10]

  def sample_observations_from_factors(self, factors, random_state):
    return factors + random_state.random_sample(factors.shape)


@pytest.mark.parametrize("data", [dummy_data.IdentityObservationsData(), _CountingData()])
def test_stream_gives_the_original_single_sample_order(data):
  stream = training_stream.ObservationStream(data, seed=7)
  batches = [stream.next_batch(5) for _ in range(3)]
  rs = np.random.RandomState(7)
  expected = np.stack([data.sample_observations(1, rs)[0] for _ in range(15)])
  np.testing.assert_allclose(np.concatenate(batches), expected.astype(np.float32))


def test_unknown_data_set_leaves_no_model_dir(tmp_path):
  with pytest.raises(errors.UserError, match="Invalid data set name"):
    _train(tmp_path, tmp_path / "m", bindings=["dataset.name = 'no_such_data'"])
  assert not os.path.exists(tmp_path / "m")



def test_a_non_finite_discriminator_loss_stops_factor_vae(tmp_path, monkeypatch):
  # The discriminator's loss is not logged, but its optimizer steps on it: it is checked too.
  original = vae.FactorVAE.losses_from_codes
  calls = {"n": 0}

  def nan_discriminator_after_three(self, *args):
    calls["n"] += 1
    values = original(self, *args)
    if calls["n"] > 3:
      values["discriminator_loss"] = values["discriminator_loss"] * float("nan")
    return values

  monkeypatch.setattr(vae.FactorVAE, "losses_from_codes", nan_discriminator_after_three)
  with pytest.raises(train.TrainingDiverged, match="discriminator_loss=nan"):
    _train(tmp_path, tmp_path / "m", ["model.model = @factor_vae()", "factor_vae.gamma = 10.",
                                      "discriminator.discriminator_fn = @fc_discriminator",
                                      "discriminator_optimizer.optimizer_fn = @AdamOptimizer"],
           runtime=train.Runtime(checkpoint_every_steps=2))
  state = torch.load(str(tmp_path / "m" / "checkpoint" / "checkpoint.pt"), weights_only=False)
  assert state["global_step"] == 6  # Two global steps per iteration; the 4th diverged.
  assert all(torch.isfinite(v).all() for v in state["model"].values())
