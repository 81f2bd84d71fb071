"""Training speed of the conv beta-VAE (batch 64), as a fraction of this machine's matmul rate.

Prints steps per second in float32 and with bf16 autocast, the float32
matrix-multiply rate measured in the same run, and the training step's
achieved FLOP rate as a fraction of it. Reference figures for 2-core CPU
machines (issue 2): the original on TensorFlow 23.8 steps/s (0.70 of the
matmul rate), plain PyTorch eager 13.4 (0.40), channels-last 17.6.
Targets: float32 >= 0.85 of the matmul rate; bf16 >= 2x the float32 rate
(printed both as a ratio of steps/s and as the bf16 step's FLOP rate over the
float32 matmul rate, for the two readings of the target).
convolution_kernels.py shows what bounds the bf16 figure on CPU: oneDNN's
convolution kernels and their bf16 speed-up.

The matmul rate, float32 and bf16 steps are timed in interleaved windows over
several rounds and the ratios are medians of per-round ratios, so a machine
whose load changes during the run (shared CPUs) still gives comparable
figures; the load average is printed before and after.

--layers times, instead, each convolution of the networks (forward and
backward at the input it gets in a step), dlib_torch's layer against its
torch.nn class, in interleaved windows; --versus-native adds to each method
the step of a copy of the model whose convolutions are the torch.nn classes.

  python benchmarks/train_step.py [--seconds 10] [--rounds 5] [--threads N]
      [--device cpu] [--method vae ...] [--layers] [--versus-native] [--malloc-defaults]
"""
import argparse
import copy
import os
import resource
import statistics
import time

import gin
import numpy as np
import torch
from torch import nn
from torch.utils import flop_counter

import method_steps  # benchmarks/, the script's own folder

from dlib_torch import gin_registry
from dlib_torch.methods.shared import cpu_convolutions
from dlib_torch.methods.unsupervised import gaussian_encoder_model  # pylint: disable=unused-import
from dlib_torch.utils import devices
from dlib_torch.utils import host_memory

# The methods whose model trains on plain observation batches (see method_steps.py).
UNSUPERVISED = ("vae", "annealed_vae", "factor_vae", "dip_vae_i", "dip_vae_ii", "beta_tc_vae")


def matmul_rate(device, seconds, dtype=torch.float32):
  """GEMM rate (FLOP/s) on 1024x1024 matrices, float32 unless `dtype` says."""
  n = 1024
  a = torch.randn(n, n, device=device, dtype=dtype)
  b = torch.randn(n, n, device=device, dtype=dtype)
  synchronize(device)
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    torch.mm(a, b)
    count += 1
    if device.type != "cpu" and count % 20 == 0:
      synchronize(device)
  synchronize(device)
  return 2 * n**3 * count / (time.perf_counter() - start)


def synchronize(device):
  if device.type == "cuda":
    torch.cuda.synchronize()


def build(method, device):
  gin.clear_config()
  gin_registry.register_for("train")
  gin.parse_config(method_steps.ARCHITECTURE + method_steps.METHODS[method][0])
  model = gin.query_parameter("model.model").scoped_configurable_fn()
  model.build([64, 64, 1])
  model.to(device=device, memory_format=torch.channels_last)
  return model, model.make_optimizers()


def step_flops(model, optimizers, device):
  """FLOPs of one training step (forward and backward), counted by torch."""
  batch = torch.rand(64, 64, 64, 1, device=device)
  generator = torch.Generator(device=device).manual_seed(0)
  with flop_counter.FlopCounterMode(display=False) as counter:
    model.train_step(batch, 0, optimizers, generator)
  return counter.get_total_flops()


class StepTimer:
  """Times training steps of one model at one precision, window by window."""

  def __init__(self, model, optimizers, device, precision):
    self.model, self.optimizers = model, optimizers
    self.device, self.precision = device, precision
    rs = np.random.RandomState(0)
    self.batch = torch.from_numpy(
        (rs.rand(64, 64, 64, 1) > 0.5).astype(np.float32)).to(device)
    self.generator = torch.Generator(device=device).manual_seed(0)
    self.count = self.timed_steps = self.page_faults = 0
    self.steps_per_second(0.0)  # Warm-up (allocator, oneDNN primitive caches).
    self.timed_steps = self.page_faults = 0

  def step(self):
    with devices.autocast(self.device, self.precision):
      self.model.train_step(self.batch, self.count, self.optimizers, self.generator)
    self.count += 1

  def steps_per_second(self, seconds):
    """Steps/s over a window of about `seconds` (at least 3 steps)."""
    steps, start, faults = 0, time.perf_counter(), _minor_page_faults()
    while steps < 3 or time.perf_counter() - start < seconds:
      self.step()
      steps += 1
    synchronize(self.device)
    rate = steps / (time.perf_counter() - start)
    self.timed_steps += steps
    self.page_faults += _minor_page_faults() - faults
    return rate


def _minor_page_faults():
  """The process's minor page faults so far: fresh pages the allocator got from the OS.

  With glibc's default thresholds (--malloc-defaults) the float32 step's
  activations come back as fresh pages at every step (30 to 50 MB, a fifth
  to a third of the step time on a 2-core machine); training raises them
  (`host_memory.keep_freed_memory`), which should leave about none.
  """
  return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def convolution_inputs(model, optimizers, device):
  """{name: (layer, input, input needs grad)} for each convolution, as called in a step."""
  inputs = {}

  def record(name):
    def hook(module, args, unused_output):
      inputs.setdefault(name, (module, args[0].detach().clone(), args[0].requires_grad))
    return hook

  hooks = [module.register_forward_hook(record(name)) for name, module in model.named_modules()
           if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))]
  StepTimer(model, optimizers, device, "float32")
  for hook in hooks:
    hook.remove()
  return inputs


class LayerTimer:
  """Times forward and backward passes of one layer at one precision."""

  def __init__(self, layer, x, device, precision, needs_input_grad):
    self.layer, self.device, self.precision = layer, device, precision
    self.x = x.clone().requires_grad_(needs_input_grad)
    with devices.autocast(device, precision):
      self.grad = torch.randn_like(layer(self.x), dtype=torch.float32)
    self.seconds_per_pass(0.0)

  def seconds_per_pass(self, seconds):
    passes, start = 0, time.perf_counter()
    while passes < 3 or time.perf_counter() - start < seconds:
      with devices.autocast(self.device, self.precision):
        y = self.layer(self.x)
      y.backward(self.grad.to(y.dtype))
      passes += 1
    synchronize(self.device)
    return (time.perf_counter() - start) / passes


def time_layers(model, optimizers, device, args):
  """Prints each convolution's forward+backward time, dlib_torch's layer and torch.nn's."""
  window = args.seconds / args.rounds / 4
  for name, (layer, x, needs_input_grad) in convolution_inputs(
      model, optimizers, device).items():
    native = cpu_convolutions.use_cpu_kernels(copy.deepcopy(layer), enabled=False)
    figures = []
    for precision in ("float32", "bf16"):
      timers = [LayerTimer(net, x, device, precision, needs_input_grad)
                for net in (layer, native)]
      times = [[], []]
      for _ in range(args.rounds):
        for timer, record in zip(timers, times):
          record.append(timer.seconds_per_pass(window))
      speedup = statistics.median(n / t for t, n in zip(*times))
      figures.append("{} {:6.2f} ms (native {:6.2f}, {:.2f}x)".format(
          precision, 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1]),
          speedup))
    print("{:16s} {:34s} {}".format(name, "{} {}".format(
        type(layer).__name__, list(x.shape)), "   ".join(figures)))


def load():
  try:
    return "load average {:.2f}".format(os.getloadavg()[0])
  except OSError:
    return "load average unknown"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seconds", type=float, default=10.0,
                      help="timed seconds per method and precision, over all rounds")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
  parser.add_argument("--device", default="auto")
  parser.add_argument("--method", nargs="*", default=["vae"], choices=UNSUPERVISED)
  parser.add_argument("--layers", action="store_true",
                      help="time each convolution against its torch.nn class instead")
  parser.add_argument("--versus-native", action="store_true",
                      help="also time the step with the torch.nn convolution classes")
  parser.add_argument("--malloc-defaults", action="store_true",
                      help="keep glibc's allocator thresholds (dtrain raises them on CPU)")
  args = parser.parse_args()
  device = devices.resolve_device(args.device)
  if device.type == "cpu" and not args.malloc_defaults:
    host_memory.keep_freed_memory()  # As training does.
  if args.threads:
    torch.set_num_threads(args.threads)
  print("device: {} ({} threads), {}".format(device, torch.get_num_threads(), load()))
  if args.layers:
    time_layers(*build(args.method[0], device), device, args)
    return
  window = args.seconds / args.rounds
  reference = None
  for method in args.method:
    model, optimizers = build(method, device)
    flops = step_flops(model, optimizers, device)
    timers = [StepTimer(model, optimizers, device, p) for p in ("float32", "bf16")]
    if args.versus_native:
      native, native_optimizers = build(method, device)
      cpu_convolutions.use_cpu_kernels(native, enabled=False)
      timers += [StepTimer(native, native_optimizers, device, p) for p in ("float32", "bf16")]
    rates, fp32, bf16, native_fp32, native_bf16 = [], [], [], [], []
    for _ in range(args.rounds):
      rates.append(matmul_rate(device, window / 2))
      for timer, record in zip(timers, (fp32, bf16, native_fp32, native_bf16)):
        record.append(timer.steps_per_second(window))
    fraction = statistics.median(f * flops / r for f, r in zip(fp32, rates))
    bf16_fraction = statistics.median(b * flops / r for b, r in zip(bf16, rates))
    speedup = statistics.median(b / f for b, f in zip(bf16, fp32))
    reference = reference or statistics.median(fp32)
    print("{:14s} float32 {:7.2f} steps/s  ({:.2f} of matmul rate {:.1f} GFLOP/s, "
          "{:.2f} GFLOP/step)  bf16 {:7.2f} steps/s ({:.2f}x float32, {:.2f} of the float32 "
          "matmul rate)  step cost vs vae {:.2f}x".format(
              method, statistics.median(fp32), fraction, statistics.median(rates) / 1e9,
              flops / 1e9, statistics.median(bf16), speedup, bf16_fraction,
              reference / statistics.median(fp32)))
    print("{:14s} page faults per step: float32 {:.0f}, bf16 {:.0f}".format(
        "", *(t.page_faults / t.timed_steps for t in timers[:2])))
    if args.versus_native:
      print("{:14s} torch.nn convolutions: float32 {:7.2f} steps/s, bf16 {:7.2f} steps/s; "
            "speed-up of dlib_torch's: float32 {:.2f}x, bf16 {:.2f}x".format(
                "", statistics.median(native_fp32), statistics.median(native_bf16),
                statistics.median(f / n for f, n in zip(fp32, native_fp32)),
                statistics.median(b / n for b, n in zip(bf16, native_bf16))))
  print(load())


if __name__ == "__main__":
  main()
