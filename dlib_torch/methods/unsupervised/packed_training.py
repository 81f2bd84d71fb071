"""Packed training: K models of one method and architecture trained in one batched step.

The models of a study that share their architecture, data set and method
family and differ only in seed and the method's hyper-parameters (beta,
gamma, c_max, lambda, ...) are trained together: torch.func.vmap maps one
model's loss over the K models' stacked weights, so each layer runs as one
batched call (vmap turns a convolution with per-model weights into one
grouped convolution) and the GPU gets K times the work per kernel. vmap was
chosen over hand-written grouped layers because it packs every architecture
and method unchanged, with each model's own loss code.

That batched step is chosen on GPUs, where one 64x64 model leaves most of
the device idle. A CPU's cores are already busy with one model's
convolutions, so there batching buys nothing (vmap's grouped convolutions run
at about 0.55x of solo jobs on the same cores) and what costs is the threads:
one model's step on two threads runs at about 0.8 of two single-threaded
steps, and threads stepping different models in one process wait for each
other's Python (the GIL). So on a CPU with more than one thread the pack
deals its models out to worker processes ("parallel", worker_shares), each
with its share of the threads and cores, as the local launcher shares them
between solo jobs, stepping its models one after another through the solo
step ("sequential"): a pack of K then trains as fast as K solo jobs, in one
job. The solo step's numbers are the pack's to the last bit (at the thread
count the model gets), where vmap's kernels sum in another order (about 1e-7
relative per step, which training can amplify to 1e-3 over a few hundred
steps). On request ("compiled") the batched step runs through torch.compile
(on a GPU replayed as CUDA graphs); the step is pure for that (batched_pack).
benchmarks/study_throughput.py measures them all against solo jobs. The
choice depends on the device and the thread count only, never on a timing,
so a result depends only on its configuration, seed and threads. On a GPU
the batched step's batches are looked up in a table of every observation on
the device (data/observation_table) by the factors each model's stream
draws, where the data set allows and the table fits: the same batches,
without rendering and copying them on the host.

Each model keeps everything a solo run has: its data stream, its torch
generator (noise through methods.shared.noise), its optimizers (stepped on
its own rows of the pack's gradients), its hyper-parameters and its model
folder, checkpointed as a solo run checkpoints it. When the pack has trained,
each model is finished by the solo code path (training resumes at its last
step: export, evaluation, results), so its folder is a solo run's. A model
whose loss turns non-finite stops with its own error and keeps its last good
checkpoint; the others go on.
"""
import dataclasses
import os
import re

from absl import logging
import gin
import torch

from dlib_torch import gin_registry
from dlib_torch.data import observation_table
from dlib_torch.data import training_stream
from dlib_torch.methods.unsupervised import batched_pack
from dlib_torch.methods.unsupervised import train
from dlib_torch.utils import cpu_shares
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import folder_lock
from dlib_torch.utils import worker_processes

# `model.*` bindings in which the models of a pack may differ, besides the method's
# hyper-parameters.
_PER_MODEL_BINDINGS = ("random_seed", "model_num", "name")
# How a pack can step its models (train.Runtime.pack_step besides "auto"); "compiled" is the
# batched step through torch.compile, chosen only on request until it is measured faster.
STEP_MODES = ("batched", "compiled", "sequential", "parallel")
_PACK_INPUTS = ("auto", "table", "streams")  # train.Runtime.pack_inputs


def train_pack(members, runtime=None, overwrite=False):
  """Trains the members together, then finishes each as its solo run would.

  Args:
    members: [(model_dir, gin_config_files, gin_bindings)]; an unfinished run
      in a folder resumes, as in a solo run.
    runtime: the train.Runtime of every member.
    overwrite: whether finished model folders are replaced (else they are an error).

  Returns:
    {model_dir: train.TrainingDiverged} of the members that diverged.
  """
  runtime = runtime or train.Runtime()
  if runtime.pack_inputs not in _PACK_INPUTS:
    raise errors.UserError("Unknown pack inputs {!r}: {}.".format(runtime.pack_inputs,
                                                                   ", ".join(_PACK_INPUTS)))
  check_compatible(members)
  mode = step_mode(devices.resolve_device(runtime.device), runtime.pack_step, len(members))
  logging.info("Training %d models as one pack, %s step.", len(members), mode)
  if mode == "parallel":
    return _train_in_workers(members, runtime, overwrite)
  return _train_in_process(members, runtime, overwrite)


def _train_in_process(members, runtime, overwrite):
  """train_pack's work in this process, for members already checked to be one pack."""
  # The members' folders stay locked (folder_lock) until the pack is done.
  with folder_lock.step():
    sessions = prepare(members, runtime, overwrite)
    failed = {}
    # The step calls configurables (the reconstruction loss, ...) that read gin: the
    # members share those bindings, so the first member's configuration serves all.
    gin_registry.run_with_config("train", members[0][1], members[0][2], _train_together,
                                 sessions, failed)
    for model_dir, config_files, bindings in members:
      if model_dir not in failed:
        train.train_with_gin(model_dir, False, config_files, bindings, runtime=runtime)
  return failed


def prepare(members, runtime, overwrite=False):
  """The members' prepared training sessions (restored from their checkpoints);
  `members` (check_compatible) and `overwrite` as train_pack's."""
  sessions = []
  for model_dir, config_files, bindings in members:
    handed = []
    gin_registry.run_with_config("train", config_files, bindings, train.train, model_dir,
                                 overwrite, runtime=dataclasses.replace(
                                     runtime, hand_over=handed.append))
    sessions.append(handed[0])
  return sessions


def pack_key(config_files, bindings):
  """What the training configurations of a pack's models share, or None if the method
  does not pack: models with equal keys can be trained as one pack."""
  method, _, shared = _signature(config_files, bindings)
  return None if shared is None else (method,) + tuple(shared)


def _signature(config_files, bindings):
  """(method name, its pack hyper-parameters and the configuration that a pack's models
  share; both None if the method does not pack)."""
  return gin_registry.run_with_config("train", config_files, bindings, _parsed_signature)


def _parsed_signature():
  method = gin.query_parameter("model.model").scoped_configurable_fn
  hyperparameters = vars(method).get("pack_hyperparameters")
  if hyperparameters is None:
    return method.__name__, None, None
  return (method.__name__, hyperparameters,
          _shared_config(gin.config_str(), hyperparameters))


def check_compatible(members):
  """A UserError unless the members (as train_pack's) can be trained as one pack."""
  signatures = [_signature(config_files, bindings) for _, config_files, bindings in members]
  method, hyperparameters, shared = signatures[0]
  if shared is None:
    raise errors.UserError("{} models cannot be trained in packs.".format(method))
  for (model_dir, _, _), (other_method, _, other_shared) in zip(members[1:], signatures[1:]):
    if other_method != method:
      raise errors.UserError("A pack trains one method: {} and {} differ.".format(
          members[0][0], model_dir))
    if other_shared != shared:
      raise errors.UserError(
          "{} and {} differ in more than seed and {}: they cannot be packed.".format(
              members[0][0], model_dir, ", ".join(hyperparameters)))


def _shared_config(config_text, hyperparameters):
  """The gin config without the bindings in which the models of a pack may differ."""
  per_model = re.compile(r"^(model\.({})|[\w./]+\.({})) =".format(
      "|".join(_PER_MODEL_BINDINGS), "|".join(hyperparameters)))
  return [line for line in config_text.splitlines()
          if line.strip() and not line.startswith("#") and not per_model.match(line)]


def _train_together(sessions, failed):
  """Trains the unfinished sessions, a pack per global step they are at."""
  pending = opened = [s for s in sessions if not s.done]
  table = open_sessions(opened)
  try:
    while pending:
      # A run killed while its pack was checkpointing leaves members a step apart: the
      # members behind train first, until they are level with the others.
      step = min(s.global_step for s in pending)
      level = min([s.global_step for s in pending if s.global_step > step], default=None)
      _train_level([s for s in pending if s.global_step == step], level, failed, table)
      pending = [s for s in pending if not s.done and s.model_dir not in failed]
  finally:
    for session in opened:
      session.close()


def open_sessions(sessions):
  """Opens a pack's sessions; returns the observation table its batched step looks their
  batches up in (Runtime.pack_inputs), or None where each session's stream prefetches them."""
  table = _observation_table(sessions)
  if table is not None:
    logging.info("The pack's batches come from a table of every observation on %s: %s.",
                 table.device, table)
  for session in sessions:
    session.open(label=os.path.basename(os.path.dirname(session.model_dir.rstrip(os.sep))) or
                 session.model_dir, prefetch=table is None)
  return table


def _observation_table(sessions):
  """open_sessions' table: for a batched step over the plain observation stream (whose
  batches are a function of the drawn factors), as Runtime.pack_inputs asks."""
  if not sessions:
    return None
  first = sessions[0]
  requested = first.runtime.pack_inputs
  if (requested == "streams" or
      step_mode(first.device, first.runtime.pack_step) not in ("batched", "compiled") or
      any(type(s.inputs.stream) is not training_stream.ObservationStream for s in sessions)):
    return None
  if requested == "table":
    return (None if first.dataset.observations_draw_random
            else observation_table.ObservationTable(first.dataset, first.device))
  return observation_table.for_device(first.dataset, first.device,
                                      observation_table.device_budget(first.device))


def step_mode(device, requested="auto", pack_size=None):
  """One of STEP_MODES: the requested mode, or for "auto" batched on CUDA, parallel on a
  CPU with more than one thread for more than one model (pack_size; None: a worker's share
  of a pack), else sequential."""
  if requested not in ("auto",) + STEP_MODES:
    raise errors.UserError("Unknown pack step {!r}: auto, {}.".format(
        requested, ", ".join(STEP_MODES)))
  if requested != "auto":
    return requested
  if device.type == "cuda":
    return "batched"
  parallel = pack_size is not None and min(pack_size, torch.get_num_threads()) > 1
  return "parallel" if parallel else "sequential"


def worker_shares(members):
  """[(members, torch threads, pinned cores or None)] of a parallel pack's workers.

  As many worker processes as the pack has members, at most one per thread of
  this process, the members dealt out in turn; the workers share this
  process's threads, and its cores where it is pinned to as many cores as it
  has threads (as the local launcher pins a job).
  """
  threads, cpus = torch.get_num_threads(), cpu_shares.available_cpus()
  workers = max(1, min(len(members), threads))
  pinned = len(cpus) == threads
  return [(members[k::workers], share, cores if pinned else None)
          for k, (share, cores) in enumerate(
              cpu_shares.shares(workers, cpus if pinned else list(range(threads))))]


def use_share(threads, cpus):
  """Puts this worker process on its share of the CPU (as worker_shares gave it)."""
  if cpus is not None:
    os.sched_setaffinity(0, cpus)
  torch.set_num_threads(threads)


def _train_in_workers(members, runtime, overwrite):
  """train_pack's parallel mode: each worker_shares' share trained as a sequential pack."""
  runtime = dataclasses.replace(runtime, pack_step="sequential")
  failed = {}
  for share_failed in worker_processes.run(_train_share, [
      (share, runtime, overwrite, threads, cpus)
      for share, threads, cpus in worker_shares(members)]):
    failed.update(share_failed)
  return failed


def _train_share(members, runtime, overwrite, threads, cpus):
  use_share(threads, cpus)
  return _train_in_process(members, runtime, overwrite)  # train_pack checked the pack.


def make_pack(sessions, table=None):
  """The opened sessions' step as one pack: pack.step(pack.next_features()) -> (values, steps);
  `table` is open_sessions'."""
  first = sessions[0]
  mode = step_mode(first.device, first.runtime.pack_step)
  if mode in ("batched", "compiled"):
    return batched_pack.BatchedPack(sessions, table, compiled=mode == "compiled")
  return _Sequence(sessions)


def _train_level(group, until_step, failed, table):
  """Trains the sessions of `group` as one pack until they finish or reach until_step."""
  pack = make_pack(group, table)
  while group and (until_step is None or group[0].global_step < until_step):
    values, steps = pack.step(pack.next_features())
    survivors = []
    for session, session_values in zip(group, values):
      try:
        session.record(session_values, steps)
      except train.TrainingDiverged as e:
        logging.error("%s", e)
        failed[session.model_dir] = e
        continue
      if not session.done:
        survivors.append(session)
    if len(survivors) != len(group):
      group = survivors
      pack = make_pack(group, table) if group else None


class _Sequence:
  """The models of a pack stepped one after another, each by its solo training step."""

  def __init__(self, sessions):
    self.sessions = sessions

  def next_features(self):
    return [session.next_features() for session in self.sessions]

  def step(self, features):
    """One iteration of every model: ([logged scalars per model], global steps it counts)."""
    values = []
    for session, session_features in zip(self.sessions, features):
      with devices.autocast(session.device, session.runtime.precision):
        scalars, steps = session.model.train_step(session_features, session.global_step,
                                                  session.optimizers, session.generator)
      values.append(scalars)
    return values, steps
