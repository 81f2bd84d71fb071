"""Running many models of a study: several dreproduce jobs at once, or a SLURM job array.

A model is one `dreproduce --model_num=N` job, which skips the stages it has
already finished, so launching is only choosing where jobs run and how many
at a time. The local launcher packs `jobs_per_device` jobs onto each device
(every visible GPU, each job seeing its own alone, or the CPU) and shares the
CPU cores out between the jobs; the SLURM launcher submits one job array
through submitit (the "cluster" extra). Both run the same command line per
model.
"""
import collections
import os
import signal
import subprocess
import sys
import time

from absl import logging
import torch

from dlib_torch.utils import cpu_shares
from dlib_torch.utils import devices as device_utils
from dlib_torch.utils import errors


def parse_model_nums(text):
  """'0-9,42' -> [0, 1, ..., 9, 42] (sorted, without repeats); a UserError if malformed."""
  numbers = set()
  for part in text.split(","):
    first, dash, last = part.strip().partition("-")
    try:
      first, last = int(first), int(last if dash else first)
    except ValueError:
      raise errors.UserError("--model_nums: expected numbers and ranges such as 0-9,42; "
                             "got {!r}".format(text)) from None
    if first < 0 or last < first:
      raise errors.UserError("--model_nums: {!r} is not a range of model numbers".format(part))
    numbers.update(range(first, last + 1))
  return sorted(numbers)


def job_command(model_num, output_directory, flags):
  """The dreproduce command line that runs one model; `flags` are passed on as they are."""
  return [sys.executable, "-m", "dlib_torch.cli.reproduce", "--model_num={}".format(model_num),
          "--output_directory=" + output_directory] + list(flags)


def pack_job_command(model_nums, output_pattern, flags):
  """The dreproduce command line that trains models as one pack, then runs their stages."""
  return [sys.executable, "-m", "dlib_torch.cli.reproduce",
          "--packed_models=" + ",".join(str(n) for n in model_nums),
          "--output_directory=" + output_pattern] + list(flags)


def local_devices(device):
  """The devices the local launcher fills: every visible GPU for auto or cuda, else `device`.

  A UserError if `device` is not on this machine.
  """
  device_utils.resolve_device(device)
  if device in ("auto", "cuda") and torch.cuda.is_available():
    return ["cuda:{}".format(i) for i in range(torch.cuda.device_count())]
  return ["cpu" if device == "auto" else device]


class Placement(collections.namedtuple("Placement", ["device", "environment", "cpus"])):
  """Where a local job runs: its --device, its environment additions, its CPU cores.

  device: the job's --device ("cuda" for a GPU job: its GPU is the only one it sees).
  environment: CUDA_VISIBLE_DEVICES for a GPU job; OMP_NUM_THREADS (torch's CPU
    threads) for every job.
  cpus: the cores the job is pinned to, or None (more jobs than cores).
  """

  def __str__(self):
    where = self.device
    if "CUDA_VISIBLE_DEVICES" in self.environment:
      where += " (CUDA_VISIBLE_DEVICES={})".format(self.environment["CUDA_VISIBLE_DEVICES"])
    cores = "" if self.cpus is None else ", cores {}".format(
        ",".join(str(cpu) for cpu in self.cpus))
    return "{}, {} CPU threads{}".format(where, self.environment["OMP_NUM_THREADS"], cores)


def placements(devices, jobs_per_device, cpus=None, visible_gpus=None):
  """One Placement per job slot: `jobs_per_device` slots on each device, in order.

  A job on "cuda:i" sees GPU i alone (CUDA_VISIBLE_DEVICES: the i-th of
  `visible_gpus`, the launcher's own CUDA_VISIBLE_DEVICES list, else i) and runs
  on "cuda". Every slot gets an equal share of the `cpus` (default: the cores
  this process may run on): pinned to them, with as many torch threads, so
  that jobs do not compete for cores (scikit-learn's worker processes follow
  the pinning too).
  """
  if cpus is None:
    cpus = cpu_shares.available_cpus()
  if visible_gpus is None and os.environ.get("CUDA_VISIBLE_DEVICES", "").strip():
    visible_gpus = [gpu.strip() for gpu in os.environ["CUDA_VISIBLE_DEVICES"].split(",")]
  slots = [device for device in devices for _ in range(jobs_per_device)]
  result = []
  for device, (threads, pinned) in zip(slots, cpu_shares.shares(len(slots), cpus)):
    environment = {"OMP_NUM_THREADS": str(threads)}
    if device.startswith("cuda"):
      index = int(device.partition(":")[2] or 0)
      environment["CUDA_VISIBLE_DEVICES"] = (
          visible_gpus[index] if visible_gpus else str(index))
      device = "cuda"
    result.append(Placement(device, environment, pinned))
  return result


def run_local(commands, devices, jobs_per_device, log_directory):
  """Runs {model_num: command}, at most `jobs_per_device` at once on each device.

  Each job runs in a slot of `placements(devices, jobs_per_device)`: it gets
  `--device=<its device>` (a GPU job sees its GPU alone, through
  CUDA_VISIBLE_DEVICES) and its share of the CPU cores, pinned, with as many
  torch threads (OMP_NUM_THREADS); every step records where it ran in its
  results. Its output goes to <log_directory>/model_<n>.log.
  Returns {model_num: exit status}. Jobs still running when this is
  interrupted (Ctrl-C or SIGTERM) are terminated; started again, they resume.
  """
  os.makedirs(log_directory, exist_ok=True)
  # SIGTERM would end this process without the cleanup below, orphaning the jobs.
  previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
  slots = placements(devices, jobs_per_device)
  pending = sorted(commands.items())
  running, status = {}, {}  # running: slot -> (model_num, process, log file)
  try:
    while pending or running:
      for slot, placement in enumerate(slots):
        if slot not in running and pending:
          model_num, command = pending.pop(0)
          running[slot] = (model_num,) + _start(command, placement, os.path.join(
              log_directory, "model_{}.log".format(model_num)))
          logging.info("Model %d started on %s.", model_num, placement)
      for slot, (model_num, process, log) in list(running.items()):
        if process.poll() is not None:
          log.close()
          del running[slot]
          status[model_num] = process.returncode
          logging.info("Model %d ended with exit status %d.", model_num, process.returncode)
      time.sleep(0.2)
  finally:
    for _, process, log in running.values():
      process.terminate()
      process.wait()
      log.close()
    signal.signal(signal.SIGTERM, previous_handler)
  return status


def _start(command, placement, log_path):
  """Starts a job in its placement; returns (process, open log file)."""
  log = open(log_path, "w")
  process = subprocess.Popen(command + ["--device=" + placement.device], stdout=log,
                             stderr=subprocess.STDOUT,
                             env=dict(os.environ, **placement.environment))
  if placement.cpus is not None:
    try:
      # Right after the start, before the job's interpreter has started any thread
      # (the threads it starts inherit the pinning).
      os.sched_setaffinity(process.pid, placement.cpus)
    except OSError:  # The job already ended.
      pass
  return process, log


def submit_slurm(commands, folder, partition=None, timeout_min=1440, array_parallelism=256,
                 gpus_per_job=1, cpus_per_job=4, cluster="slurm"):
  """Submits {model_num: command} as one job array; returns {model_num: submitit job}.

  `cluster` is submitit's: "slurm", or "local" to run the same submission on
  this machine (tests).
  """
  try:
    import submitit  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise errors.UserError("--launcher=slurm needs submitit: pip install "
                           "'dlib_torch[cluster]'") from None
  try:
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
  except RuntimeError as e:  # submitit's "Could not detect srun" off a SLURM cluster
    raise errors.UserError("--launcher=slurm: {}".format(e)) from None
  parameters = dict(name="dreproduce", timeout_min=timeout_min, gpus_per_node=gpus_per_job,
                    cpus_per_task=cpus_per_job, slurm_array_parallelism=array_parallelism)
  if partition:
    parameters["slurm_partition"] = partition
  executor.update_parameters(**parameters)
  with executor.batch():
    jobs = {model_num: executor.submit(submitit.helpers.CommandFunction(command))
            for model_num, command in sorted(commands.items())}
  return jobs
