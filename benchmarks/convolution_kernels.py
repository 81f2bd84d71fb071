"""How much of the conv beta-VAE's bf16 step is oneDNN's convolution kernels, and their bf16 speed-up.

Explains the bf16 figure of train_step.py. PyTorch runs CPU convolutions on
oneDNN; this script records, with oneDNN's own verbose timing, every
convolution and transposed-convolution kernel (forward, data gradient,
weight gradient) of a training step at batch 64, in float32 and with bf16
autocast, and prints each kernel's time per step in both precisions, the
1024x1024 GEMM rate in both precisions (how much faster bf16 can be on this
CPU where a kernel uses it fully), and the time the bf16 kernels leave to the
rest of a step that met issue 2's bf16 target (2x the float32 step; or 2x
the float32 goal of 0.85 of the GEMM rate).

Only kernels that run in both precisions are compared (in bf16, the
encoder's 2x2 convolutions run as GEMMs, see gemm_convolutions.py). Kernel
times are oneDNN's timing of each execution alone; steps and GEMMs are timed
in interleaved windows over several rounds, medians of per-round figures.

  python benchmarks/convolution_kernels.py [--steps 20] [--seconds 6] [--rounds 3]
"""
import argparse
import contextlib
import ctypes
import os
import statistics
import sys
import tempfile

import torch

import train_step  # benchmarks/, the script's own folder

from dlib_torch.utils import host_memory

_CONVOLUTIONS = ("convolution", "deconvolution")


@contextlib.contextmanager
def _stdout_to(file):
  """Sends the process's C-level standard output (oneDNN's verbose lines) to `file`."""
  sys.stdout.flush()
  saved = os.dup(1)
  os.dup2(file.fileno(), 1)
  try:
    yield
  finally:
    ctypes.CDLL(None).fflush(None)
    os.dup2(saved, 1)
    os.close(saved)


def kernel_times(timer, steps):
  """{(primitive, pass, problem): ms per step} of the convolution kernels over `steps` steps."""
  with tempfile.TemporaryFile(mode="w+") as log:
    with _stdout_to(log), torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
      for _ in range(steps):
        timer.step()
    log.seek(0)
    times = {}
    for line in log:
      # onednn_verbose,v1,primitive,exec,cpu,<primitive>,<implementation>,<pass>,...,
      # <problem>,<milliseconds>
      fields = line.strip().split(",")
      if fields[2:4] == ["primitive", "exec"] and fields[5] in _CONVOLUTIONS:
        key = (fields[5], fields[7], fields[-2])
        times[key] = times.get(key, 0.0) + float(fields[-1]) / steps
  return times


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=20, help="recorded steps per precision")
  parser.add_argument("--seconds", type=float, default=6.0,
                      help="timed seconds per precision for the steps, over all rounds")
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  if not torch.backends.mkldnn.is_available():
    sys.exit("convolution_kernels.py: this PyTorch build has no oneDNN")
  device = torch.device("cpu")
  host_memory.keep_freed_memory()  # As training does.
  print("device: cpu ({} threads), {}".format(torch.get_num_threads(), train_step.load()))
  model, optimizers = train_step.build("vae", device)
  timers = {p: train_step.StepTimer(model, optimizers, device, p) for p in ("float32", "bf16")}
  kernels = {p: kernel_times(timer, args.steps) for p, timer in timers.items()}

  window = args.seconds / args.rounds
  seconds = {"float32": [], "bf16": []}
  gemm = {torch.float32: [], torch.bfloat16: []}
  for _ in range(args.rounds):
    for precision, timer in timers.items():
      seconds[precision].append(1 / timer.steps_per_second(window))
    for dtype, record in gemm.items():
      record.append(train_step.matmul_rate(device, window / 4, dtype))
  step = {p: 1e3 * statistics.median(s) for p, s in seconds.items()}

  print("{:13s} {:16s} {:56s} {:>8s} {:>8s} {:>8s}".format(
      "kernel", "pass", "problem (oneDNN)", "float32", "bf16", "speed-up"))
  shared = sorted(set(kernels["float32"]) & set(kernels["bf16"]),
                  key=lambda key: -kernels["float32"][key])
  for key in shared:
    f32, b16 = kernels["float32"][key], kernels["bf16"][key]
    print("{:13s} {:16s} {:56s} {:5.2f} ms {:5.2f} ms {:7.2f}x".format(
        *key, f32, b16, f32 / b16))
  total = {p: sum(kernels[p][key] for key in shared) for p in kernels}
  print("{:13s} {:16s} {:56s} {:5.2f} ms {:5.2f} ms {:7.2f}x".format(
      "all", "", "", total["float32"], total["bf16"], total["float32"] / total["bf16"]))
  print("steps: float32 {:.2f} ms, bf16 {:.2f} ms ({:.2f}x)".format(
      step["float32"], step["bf16"], step["float32"] / step["bf16"]))
  rates = {dtype: statistics.median(r) / 1e9 for dtype, r in gemm.items()}
  print("GEMM 1024x1024: float32 {:.0f} GFLOP/s, bf16 {:.0f} GFLOP/s ({:.2f}x)".format(
      rates[torch.float32], rates[torch.bfloat16],
      rates[torch.bfloat16] / rates[torch.float32]))
  rest = {p: step[p] - total[p] for p in step}
  print("the rest of the step (dense layers, 2x2 convolutions, ReLUs, loss, Adam, casts): "
        "float32 {:.2f} ms, bf16 {:.2f} ms".format(rest["float32"], rest["bf16"]))
  # Issue 2's target, read as 2x the float32 step or as 2x its 0.85-of-the-matmul-rate goal.
  flops = train_step.step_flops(model, optimizers, device)
  for reading, budget in (("2x the float32 step", step["float32"] / 2),
                          ("1.7x the float32 GEMM rate",
                           1e3 * flops / (1.7e9 * rates[torch.float32]))):
    print("a bf16 step at {} has {:.2f} ms: these bf16 kernels take {:.0%} of it, leaving "
          "{:.2f} ms for the rest".format(reading, budget, total["bf16"] / budget,
                                          budget - total["bf16"]))
  print(train_step.load())


if __name__ == "__main__":
  main()
