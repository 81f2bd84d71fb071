"""Running many models of a study: several dreproduce jobs at once, or a SLURM job array.

A model is one `dreproduce --model_num=N` job, which skips the stages it has
already finished, so launching is only choosing where jobs run and how many
at a time. The local launcher packs `jobs_per_device` jobs onto each device
(every visible GPU, or the CPU with its cores shared out between the jobs);
the SLURM launcher submits one job array through submitit (the "cluster"
extra). Both run the same command line per model.
"""
import os
import signal
import subprocess
import sys
import time

from absl import logging
import torch

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
  """The devices the local launcher fills: every visible GPU for auto or cuda, else `device`."""
  if device in ("auto", "cuda") and torch.cuda.is_available():
    return ["cuda:{}".format(i) for i in range(torch.cuda.device_count())]
  return ["cpu" if device == "auto" else device]


def run_local(commands, devices, jobs_per_device, log_directory):
  """Runs {model_num: command}, at most `jobs_per_device` at once on each device.

  Each job gets `--device=<its device>` and an equal share of the CPU cores
  (OMP_NUM_THREADS), and writes its output to <log_directory>/model_<n>.log.
  Returns {model_num: exit status}. Jobs still running when this is
  interrupted (Ctrl-C or SIGTERM) are terminated; started again, they resume.
  """
  os.makedirs(log_directory, exist_ok=True)
  # SIGTERM would end this process without the cleanup below, orphaning the jobs.
  previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
  slots = [device for device in devices for _ in range(jobs_per_device)]
  env = dict(os.environ, OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 1) // len(slots))))
  pending = sorted(commands.items())
  running, status = {}, {}  # running: slot -> (model_num, process, log file)
  try:
    while pending or running:
      for slot, device in enumerate(slots):
        if slot not in running and pending:
          model_num, command = pending.pop(0)
          log = open(os.path.join(log_directory, "model_{}.log".format(model_num)), "w")
          process = subprocess.Popen(command + ["--device=" + device], stdout=log,
                                     stderr=subprocess.STDOUT, env=env)
          running[slot] = (model_num, process, log)
          logging.info("Model %d started on %s.", model_num, device)
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
