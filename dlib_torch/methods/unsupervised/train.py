"""Training a model from gin: `model.*` bindings, as disentanglement_lib's train.py.

The run checkpoints regularly and resumes from the last checkpoint when it is
started again on the same folder with the same configuration. At the end it
exports the encoder and decoder as TorchScript, evaluates on `eval_steps`
batches of a second stream, and writes results/{gin,json,aggregate}.
"""
import dataclasses
import os
import time
from typing import Callable, Optional

from absl import logging
import gin
import numpy as np
import torch

from dlib_torch import gin_registry
from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.shared import checkpoint
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import host_memory
from dlib_torch.utils import progress
from dlib_torch.utils import results
from dlib_torch.utils import summaries
from dlib_torch.utils import torchscript_io
from dlib_torch.utils import write_errors


@dataclasses.dataclass
class Runtime:
  """How to run training; none of it changes what is computed (except precision)."""
  device: str = "auto"
  precision: str = "float32"
  checkpoint_every_steps: int = 1000
  checkpoint_every_secs: float = 300.0
  # Log lines and TensorBoard summaries, as the original's every 100 steps.
  log_every_steps: int = 100
  # Called after each iteration with the global step (tests use it to stop a run).
  after_step: Optional[Callable[[int], None]] = None
  # Given, the prepared run is handed to it instead of trained here: packed training
  # (packed_training) trains the runs of a pack together.
  hand_over: Optional[Callable[["TrainingSession"], None]] = None
  # How a pack steps its models: "batched" (one vmapped computation), "compiled" (that step
  # through torch.compile), "sequential" (each model's own step in turn), "parallel"
  # (sequential shares of the pack in worker processes that share the CPU) or "auto" (see
  # packed_training.step_mode).
  pack_step: str = "auto"
  # Where a batched pack's batches come from: "table" (every observation once on the
  # device, looked up by the factors each model's stream draws: data/observation_table),
  # "streams" (each model's stream renders and prefetches its batches) or "auto" (the
  # table on a GPU where it fits in a quarter of its free memory, else the streams).
  pack_inputs: str = "auto"


class TrainingDiverged(errors.UserError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None,
                   runtime=None):
  """Parses the gin files and bindings, trains, and clears gin."""
  gin_registry.run_with_config("train", gin_config_files, gin_bindings,
                               train, model_dir, overwrite, runtime=runtime)


def _results_complete(model_dir):
  return os.path.exists(os.path.join(model_dir, "results", "aggregate", "train.json"))


def prepare_model_dir(model_dir, overwrite):
  """Takes the model folder for this run and applies the overwrite rule.

  The folder's lock is held until the training step ends (a second process
  on it ends with folder_lock.FolderBusy) and what a killed run left there is
  removed (atomic_io.claim_folder); an unfinished run's folder is kept for
  resuming.
  """
  atomic_io.claim_folder(model_dir)
  if os.path.exists(model_dir):
    if overwrite:
      atomic_io.remove_folder(model_dir)
    elif _results_complete(model_dir):
      raise errors.UserError(
          "Directory already exists and overwrite is False: {}".format(model_dir))
  with write_errors.translated(model_dir):
    os.makedirs(model_dir, exist_ok=True)


@gin.configurable("model", denylist=["model_dir", "overwrite", "runtime"])
def train(model_dir, overwrite=False, runtime=None, model=gin.REQUIRED,
          training_steps=gin.REQUIRED, random_seed=None, batch_size=gin.REQUIRED,
          eval_steps=1000, name="", model_num=None, **protocol_params):
  """Trains `model` and writes the model folder.

  Args:
    model_dir: the output folder.
    overwrite: whether an existing finished folder may be replaced.
    runtime: a Runtime (device, precision, checkpointing, logging).
    model: a GaussianEncoderModel instance (e.g. `@vae()`), or its class (the
      original's semi-supervised configs name `@s2_vae`), made without arguments.
    training_steps: number of global steps to train for.
    random_seed: seed of the weights, the latent noise and the data streams.
    batch_size: batch size of training and evaluation.
    eval_steps: number of evaluation batches.
    name: unused; recorded in the configuration.
    model_num: unused; recorded in the configuration.
    **protocol_params: other `model.*` bindings, for the model's training
      protocol (model.training_inputs), e.g. the semi-supervised one's seeds.
  """
  del name, model_num
  for key, value in (("training_steps", training_steps), ("batch_size", batch_size),
                     ("eval_steps", eval_steps)):
    errors.check_positive_int("model." + key, value)
  errors.check_seed("model.random_seed", random_seed, optional=True)
  runtime = runtime or Runtime()
  # Everything that can fail on bad input comes before the folder is touched.
  device = devices.resolve_device(runtime.device)
  devices.autocast(device, runtime.precision)
  if device.type == "cpu":
    host_memory.keep_freed_memory()
  dataset = named_data.get_named_ground_truth_data()
  if isinstance(model, type):
    model = model()
  inputs = model.training_inputs(dataset, random_seed, eval_steps, **protocol_params)
  session = TrainingSession(model_dir, model, inputs, dataset, device, runtime,
                            training_steps, batch_size)
  prepare_model_dir(model_dir, overwrite)
  session.restore()
  if runtime.hand_over is not None:
    runtime.hand_over(session)
    return
  session.run()
  session.finish()


class TrainingSession:
  """One training run of a model folder: its state, checkpoints, bookkeeping and results.

  A solo run calls run() then finish(); packed training drives open(),
  next_features(), record() and close() of several sessions itself, with one
  batched step for all, so their folders are written as solo runs write them.
  """

  def __init__(self, model_dir, model, inputs, dataset, device, runtime, training_steps,
               batch_size):
    self.model_dir, self.model, self.inputs = model_dir, model, inputs
    self.dataset, self.device, self.runtime = dataset, device, runtime
    self.training_steps, self.batch_size = training_steps, batch_size
    self.config_text = gin.config_str()
    torch.manual_seed(inputs.torch_seed)
    model.build(dataset.observation_shape)
    model.to(device=device, memory_format=torch.channels_last)
    self.optimizers = model.make_optimizers()
    self.generator = torch.Generator(device=device).manual_seed(inputs.torch_seed)
    self.global_step, self.elapsed_before = 0, 0.0
    self.resumed = False
    self.start = time.time()

  def restore(self):
    """Loads the folder's checkpoint, if it has one (a run that stopped resumes)."""
    state = checkpoint.load(self.model_dir)
    if state is None:
      return
    if state["config"] != self.config_text:
      raise errors.UserError(
          "{} holds an unfinished run with another configuration; use --overwrite to "
          "start again.".format(self.model_dir))
    self.model.load_state_dict(state["model"])
    for key, (optimizer, _) in self.optimizers.items():
      optimizer.load_state_dict(state["optimizers"][key])
    self.generator.set_state(state["generator"].to(self.generator.get_state().device))
    self.inputs.stream.set_state(state["stream"])
    self.global_step, self.elapsed_before = state["global_step"], state["elapsed_time"]
    self.resumed = True
    logging.info("Resuming training at step %d.", self.global_step)

  @property
  def done(self):
    return self.global_step >= self.training_steps

  def _elapsed(self):
    return self.elapsed_before + time.time() - self.start

  def _save_checkpoint(self):
    if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
      raise TrainingDiverged(
          "Training diverged at step {}: the weights are not finite; the last good "
          "checkpoint is kept in {}.".format(self.global_step,
                                             checkpoint.checkpoint_path(self.model_dir)))
    checkpoint.save(self.model_dir, {
        "config": self.config_text,
        "global_step": self.global_step,
        # Copies: a packed run's weights and optimizer state are views into the pack's
        # stacked tensors (saving a view would save the whole pack's storage).
        "model": {k: v.clone() for k, v in self.model.state_dict().items()},
        "optimizers": {k: _own_copies(o.state_dict()) for k, (o, _) in self.optimizers.items()},
        "generator": self.generator.get_state(),
        # Without prefetching, the stream has drawn exactly the batches trained on.
        "stream": (self.inputs.stream.get_state() if self._prefetcher is None
                   else self._stream_state),
        "elapsed_time": self._elapsed(),
    })

  def open(self, label="", prefetch=True):
    """Starts the data stream (unless a pack draws its factors: next_factors), the progress
    report and the summaries."""
    self.model.train()
    self._prefetcher = (training_stream.Prefetcher(self.inputs.stream, self.batch_size)
                        if prefetch else None)
    # Off a terminal the scalars are logged every log_every_steps, not by the clock.
    self._progress = progress.Progress(self.training_steps, label or "training", "steps",
                                       self.global_step, log_every_s=0)
    self.summary_log = summaries.Summaries(
        os.path.dirname(checkpoint.checkpoint_path(self.model_dir)),
        resumed_step=self.global_step if self.resumed else None)
    self._last_save = (self.global_step, time.time())
    self._unread = []

  def next_features(self):
    """The next training batch, on the device."""
    batch, self._stream_state = self._prefetcher.next()
    return _to_device(batch, self.device)

  def next_factors(self):
    """The factors of the next training batch, drawn now from the stream, for a session
    opened without prefetching whose pack looks the observations up (observation_table)."""
    return self.inputs.stream.next_factors(self.batch_size)

  def record(self, values, steps):
    """Books an iteration's scalars (tensors or floats): log, summaries, checkpoint, steps.

    On CUDA the scalars stay on the device until a log line, a summary or a checkpoint
    needs them: reading a number makes the host wait for the GPU, which would idle it
    every step. Every booked value is checked to be finite before anything is written,
    so a diverged run never saves over its last good checkpoint.
    """
    runtime = self.runtime
    self._unread.append((self.global_step, values))
    self.global_step += steps
    # Whether the iteration passed a multiple of log_every_steps (FactorVAE counts 2).
    log_now = (self.global_step // runtime.log_every_steps !=
               (self.global_step - steps) // runtime.log_every_steps)
    last_step, last_time = self._last_save
    save_now = (self.global_step - last_step >= runtime.checkpoint_every_steps or
                time.time() - last_time >= runtime.checkpoint_every_secs or self.done)
    values = self._read_values() if log_now or save_now or self.reads_each_step else None
    self._progress.update(steps, values, log_now)
    if log_now:
      self.summary_log.add_scalars(self.global_step, values)
    if save_now:
      self._save_checkpoint()
      self._last_save = (self.global_step, time.time())
    if runtime.after_step is not None:
      runtime.after_step(self.global_step)

  @property
  def reads_each_step(self):
    """Whether every iteration's scalars are read at once (all but CUDA: reading is free)."""
    return self.device.type != "cuda"

  def _read_values(self):
    """The logged floats of the last iteration, after checking every unread one is finite."""
    logged = getattr(self.model, "logged_scalars", None)
    unread, self._unread = self._unread, []
    for step, values in unread:
      values = {k: float(v) for k, v in values.items()}
      if not all(np.isfinite(v) for v in values.values()):
        raise TrainingDiverged(
            "Training diverged at step {} ({}); the last good checkpoint is kept in {}.".format(
                step, ", ".join("{}={}".format(k, v) for k, v in values.items()),
                checkpoint.checkpoint_path(self.model_dir)))
    return {k: v for k, v in values.items() if logged is None or k in logged}

  def close(self):
    if self._prefetcher is not None:
      self._prefetcher.close()
    self._progress.close()
    self.summary_log.close()

  def run(self):
    """Trains up to training_steps, checkpointing as the Runtime says."""
    self.open()
    try:
      while not self.done:
        features = self.next_features()
        with devices.autocast(self.device, self.runtime.precision):
          scalars, steps = self.model.train_step(features, self.global_step, self.optimizers,
                                                 self.generator)
        self.record(scalars, steps)
    finally:
      self.close()

  def finish(self):
    """Exports the networks, evaluates, and writes the results folder."""
    descriptions = self.model.prepare_export(self.inputs, self.batch_size)
    export_model(self.model, self.model_dir, self.dataset, self.global_step, descriptions)
    eval_results = evaluate_losses(self.model, self.inputs.eval_stream, self.batch_size,
                                   self.inputs.eval_steps, self.global_step, self.generator,
                                   self.device, self.runtime.precision)
    self.summary_log.add_scalars(self.global_step, {k: v for k, v in eval_results.items()
                                                    if k != "global_step"}, "eval")
    self.summary_log.close()
    eval_results["elapsed_time"] = self._elapsed()
    eval_results.update(devices.describe(self.device))
    eval_results["precision"] = self.runtime.precision
    with atomic_io.staged_directory(os.path.join(self.model_dir, "results")) as result_dir:
      results.update_result_directory(result_dir, "train", eval_results)


def _own_copies(optimizer_state):
  """An optimizer's state_dict with its state tensors copied."""
  return dict(optimizer_state, state={
      index: {key: value.clone() if torch.is_tensor(value) else value
              for key, value in state.items()}
      for index, state in optimizer_state["state"].items()})


def _to_device(batch, device):
  if isinstance(batch, (tuple, list)):  # e.g. pairs and labels, images and factors
    return tuple(_to_device(part, device) for part in batch)
  tensor = torch.from_numpy(batch)
  if device.type == "cuda":  # From pinned memory the copy runs beside the computation.
    return tensor.pin_memory().to(device, non_blocking=True)
  return tensor.to(device) if device.type != "cpu" else tensor


def export_model(model, model_dir, dataset, global_step, descriptions=None):
  """Saves model.export_modules() as TorchScript (CPU, float32) with sidecars.

  The encoder's and decoder's sidecars describe their tensors; `descriptions`
  ({name: dict}, from model.prepare_export) adds to those of further modules.
  """
  description = {
      "observation_shape": list(dataset.observation_shape),
      "num_latent": model.num_latent,
      "input": "float32 [N, H, W, C] in [0, 1]",
      "global_step": global_step,
      "dataset": gin.query_parameter("dataset.name"),
      "model": type(model).__name__,
  }
  infos = {"gaussian_encoder": dict(description, outputs=["mean", "logvar"]),
           "decoder": dict(description, input="float32 [N, num_latent]",
                           outputs=["logits [N, H, W, C]"])}
  for name, extra in (descriptions or {}).items():
    infos[name] = dict(description, **extra)
  was_training = model.training
  model.eval()
  for name, module in model.export_modules().items():
    torchscript_io.save_module(_cpu_copy(module), model_dir, name, infos.get(name, description))
  model.train(was_training)


def _cpu_copy(module):
  import copy  # pylint: disable=g-import-not-at-top
  return copy.deepcopy(module).to("cpu", memory_format=torch.contiguous_format).float().eval()


def evaluate_losses(model, stream, batch_size, eval_steps, global_step,
                    generator, device, precision):
  """Means of the model's evaluation quantities over eval_steps batches of the stream."""
  sums = {}
  model.eval()
  with torch.no_grad():
    for _ in range(eval_steps):
      features = _to_device(stream.next_batch(batch_size), device)
      with devices.autocast(device, precision):
        values = model.eval_losses(features, global_step, generator)
      for key, value in values.items():
        sums[key] = sums.get(key, 0.0) + float(value)
  model.train()
  means = {key: value / eval_steps for key, value in sums.items()}
  means["global_step"] = global_step
  return means
