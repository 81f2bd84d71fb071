"""Training throughput of a study on this device: K models packed against K solo jobs.

For each K, prints the model-steps per second of
  - K solo jobs running at once, each a process with its share of the device
    (cores split between them on a CPU, as the local launcher splits them),
    measured in the same run as the reference;
  - one job training the K models as a pack, with each pack step
    (packed_training): "batched" (one vmapped computation for all K),
    "compiled" (that step through torch.compile: fused kernels, and on a GPU
    replayed as CUDA graphs; compiled while warming up), "sequential" (each
    model's solo step in turn, in one process) and "parallel" (sequential
    shares of the pack in worker processes that share the job's cores);
and each pack's rate as a ratio to the K solo jobs'; then, for K > 1, the rate
of several such pack jobs at once (--jobs_per_device, by default 4 on a GPU:
one process's host work bounds a pack, see README). On a GPU only the
batched and compiled steps are timed, and they also print their host share:
the time the host takes to get one step's batches and issue the step (timed
after the device has caught up) over the step's time in the run (near 1 the
host bounds the step, not the GPU), and how often a step makes the host wait
for the GPU (CUDA's sync debug mode; 0 lets the host run ahead). The models
are the study's conv beta-VAE on procedural dSprites at batch 64 (quickstart
models 0, 50, 100, ...: different seeds and betas). Targets (issue 12): on one
H100/H200-class GPU >= 44,000 model-steps/s (the 12,600-model study's
training in 24 hours); on a CPU a pack of 4 at least as fast as 4 solo jobs.

  python benchmarks/study_throughput.py [--sizes 1,4,16,64] [--seconds 5] [--device auto]
      [--precision float32] [--jobs_per_device 4]
"""
import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import warnings

import torch

from dlib_torch import gin_registry
from dlib_torch.config import reproduce as studies
from dlib_torch.methods.unsupervised import packed_training
from dlib_torch.methods.unsupervised import train
from dlib_torch.pipeline import stages
from dlib_torch.utils import devices
from dlib_torch.utils import worker_processes

import train_step  # benchmarks/, the script's own folder

_WARMUP_STEPS = 2
_READY = "warmed up"
_START_TIMEOUT_S = 600  # How long a parallel pack's worker waits for the others to warm up.


def members(count, folder):
  """(model_dir, config files, bindings) of `count` beta-VAE models of the quickstart study."""
  study = studies.get_study("quickstart")
  found = []
  for k in range(count):
    # Models 0-299 are beta-VAEs: 50 seeds of each of six betas.
    bindings, config_file = study.get_model_config((k * 50 + k // 6) % 300)
    found.append((os.path.join(folder, str(k), "model"), [config_file],
                  stages.training_bindings(config_file, bindings)))
  return found


def model_steps_per_second(pack_members, pack_step, seconds, runtime, ready=None):
  """Trains the members as one pack for about `seconds`: (model-steps per second, and for
  a batched or compiled pack on CUDA (the host's seconds to get a step's batches and issue
  it, the host's waits for the GPU per step), else None).
  `ready()`, if given, is called once warmed up, just before the timing starts."""
  if pack_step == "parallel":
    shares = packed_training.worker_shares(pack_members)
    # The workers time their shares over the same window, as jobs() time theirs.
    start_together = multiprocessing.get_context("spawn").Barrier(len(shares))
    return sum(rate for rate, _ in worker_processes.run(_time_share, [
        (share, seconds, runtime, threads, cpus, start_together)
        for share, threads, cpus in shares])), None
  sessions = packed_training.prepare(pack_members, runtime)
  # The step reads gin (the reconstruction loss, ...), as in train_pack.
  return gin_registry.run_with_config("train", pack_members[0][1], pack_members[0][2],
                                      _time_pack, sessions, pack_step, seconds, ready)


def _time_share(share, seconds, runtime, threads, cpus, start_together):
  packed_training.use_share(threads, cpus)
  try:
    return model_steps_per_second(share, "sequential", seconds, runtime,
                                  lambda: start_together.wait(_START_TIMEOUT_S))
  except BaseException:
    start_together.abort()  # The other workers stop waiting for this one.
    raise


def _time_pack(sessions, pack_step, seconds, ready=None):
  for session in sessions:
    session.runtime.pack_step = pack_step
  pack = packed_training.make_pack(sessions, packed_training.open_sessions(sessions))
  try:
    iterations, start = 0, None
    while start is None or time.perf_counter() - start < seconds:
      if iterations == _WARMUP_STEPS:
        train_step.synchronize(sessions[0].device)
        if ready is not None:
          ready()
        start = time.perf_counter()
      pack.step(pack.next_features())
      iterations += 1
    train_step.synchronize(sessions[0].device)
    rate = len(sessions) * (iterations - _WARMUP_STEPS) / (time.perf_counter() - start)
    probe = pack_step in ("batched", "compiled") and sessions[0].device.type == "cuda"
    return rate, (_host_seconds(sessions, pack), _synchronisations(pack)) if probe else None
  finally:
    for session in sessions:
      session.close()


def _host_seconds(sessions, pack, probes=5):
  """The median time the host takes to get a pack step's batches (from the streams'
  prefetch queues, or drawing the factors for the observation table) and issue the step,
  once the device has caught up (a step's kernels fit in CUDA's launch queue, so the host
  does not wait for them)."""
  times = []
  for _ in range(probes):
    train_step.synchronize(sessions[0].device)
    start = time.perf_counter()
    pack.step(pack.next_features())
    times.append(time.perf_counter() - start)
  train_step.synchronize(sessions[0].device)
  return sorted(times)[probes // 2]


def _synchronisations(pack, steps=3):
  """The host's waits for the GPU per pack step (CUDA's sync debug mode warns at each)."""
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    torch.cuda.set_sync_debug_mode("warn")
    try:
      for _ in range(steps):
        pack.step(pack.next_features())
    finally:
      torch.cuda.set_sync_debug_mode("default")
  return len(caught) / steps


def jobs(count, seconds, runtime, pack_size=1):
  """Model-steps per second of `count` jobs running at once (one process each), each
  training pack_size models: one solo model, or a pack with the device's auto step (what
  the local launcher's --jobs_per_device runs on one device).

  The jobs start their timing together, once all have started and warmed up
  (else the first would be timed while the others still load, on an idle device).
  """
  threads = max(1, (os.cpu_count() or 1) // count)
  env = dict(os.environ, OMP_NUM_THREADS=str(threads))
  workers = [subprocess.Popen([sys.executable, __file__, "--worker", str(k), "--pack_size",
                               str(pack_size), "--seconds", str(seconds), "--device",
                               runtime.device, "--precision", runtime.precision],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for k in range(count)]
  try:
    for w in workers:
      for line in w.stdout:
        if line.strip() == _READY:
          break
      else:
        raise RuntimeError("A job ended before its timing (exit status {}).".format(w.wait()))
    for w in workers:
      w.stdin.write("go\n")
      w.stdin.flush()
    return sum(json.loads(w.communicate()[0].strip().splitlines()[-1])[0] for w in workers)
  finally:
    for w in workers:
      w.kill()  # Those still waiting for the go after another failed; the others have ended.
      w.wait()


def worker(index, pack_size, seconds, runtime):
  """Job `index` of jobs(): its pack_size models of members(), trained for `seconds` from
  when jobs() says go."""
  torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

  def wait_for_go():
    print(_READY, flush=True)
    sys.stdin.readline()

  with tempfile.TemporaryDirectory() as folder:
    own = members((index + 1) * pack_size, folder)[index * pack_size:]
    print(json.dumps(model_steps_per_second(own, "sequential" if pack_size == 1 else "auto",
                                            seconds, runtime, wait_for_go)))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", default=None,
                      help="pack sizes K (default: 1,4,16,64 on a GPU, 1,4 on a CPU)")
  parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per figure")
  parser.add_argument("--device", default="auto")
  parser.add_argument("--precision", default="float32", choices=("float32", "bf16"))
  parser.add_argument("--jobs_per_device", default=None,
                      help="also time this many pack jobs of K models at once, for each K > 1 "
                      "(default: 4 on a GPU, none on a CPU)")
  parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
  parser.add_argument("--pack_size", type=int, default=1, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker is not None:
    worker(args.worker, args.pack_size, args.seconds,
           train.Runtime(device=args.device, precision=args.precision))
    return
  device = devices.resolve_device(args.device)
  on_gpu = device.type == "cuda"
  sizes = args.sizes or ("1,4,16,64" if on_gpu else "1,4")
  jobs_per_device = [int(n) for n in (args.jobs_per_device or ("4" if on_gpu else "")).split(",")
                     if n]
  # A GPU pack steps batched (sequential and parallel steps are for CPUs).
  pack_steps = ("batched", "compiled") if on_gpu else packed_training.STEP_MODES
  runtime = train.Runtime(device=str(device), precision=args.precision)
  print("device: {} ({} CPU threads), {}, load average {:.2f}".format(
      device, torch.get_num_threads(), args.precision, os.getloadavg()[0]))
  for count in (int(k) for k in sizes.split(",")):
    reference = jobs(count, args.seconds, runtime)
    line = "K={:<3d} {} solo jobs {:9.1f} model-steps/s".format(count, count, reference)
    for pack_step in pack_steps:
      try:
        with tempfile.TemporaryDirectory() as folder:
          rate, host = model_steps_per_second(members(count, folder), pack_step,
                                              args.seconds, runtime)
        line += " | {} pack {:9.1f} ({:.2f}x)".format(pack_step, rate, rate / reference)
        if host is not None:
          host_seconds, synchronisations = host
          line += " host share {:.2f}, {:.1f} host syncs/step".format(
              host_seconds * rate / count, synchronisations)
      except torch.cuda.OutOfMemoryError:
        line += " | {} pack: out of memory".format(pack_step)
      except Exception as e:  # pylint: disable=broad-except
        # One step kind failing (torch.compile on a new device) leaves the others' figures.
        line += " | {} pack failed: {}".format(pack_step, str(e).splitlines()[0][:200])
    print(line, flush=True)
    for job_count in jobs_per_device if count > 1 else ():
      try:
        rate = jobs(job_count, args.seconds, runtime, count)
        print("K={:<3d} {} jobs of a pack of {} at once {:9.1f} model-steps/s ({:.2f}x of {} "
              "solo jobs)".format(count, job_count, count, rate, rate / reference, count),
              flush=True)
      except RuntimeError as e:  # A job that ran out of memory, or failed otherwise.
        print("K={:<3d} {} jobs of a pack of {} at once: {}".format(count, job_count, count, e),
              flush=True)
  print("load average {:.2f}".format(os.getloadavg()[0]))


if __name__ == "__main__":
  main()
