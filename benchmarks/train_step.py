"""Training speed of the conv beta-VAE (batch 64), as a fraction of this machine's matmul rate.

Prints steps per second in float32 and with bf16 autocast, the float32
matrix-multiply rate measured in the same run, and the training step's
achieved FLOP rate as a fraction of it. Reference figures for 2-core CPU
machines (issue 2): the original on TensorFlow 23.8 steps/s (0.70 of the
matmul rate), plain PyTorch eager 13.4 (0.40), channels-last 17.6.
Targets: float32 >= 0.85 of the matmul rate; bf16 >= 2x the float32 rate.

The matmul rate, float32 and bf16 steps are timed in interleaved windows over
several rounds and the ratios are medians of per-round ratios, so a machine
whose load changes during the run (shared CPUs) still gives comparable
figures; the load average is printed before and after.

  python benchmarks/train_step.py [--seconds 10] [--rounds 5] [--threads N]
      [--device cpu] [--method vae ...]
"""
import argparse
import os
import statistics
import time

import gin
import numpy as np
import torch
from torch.utils import flop_counter

from dlib_torch import gin_registry
from dlib_torch.methods.unsupervised import gaussian_encoder_model  # pylint: disable=unused-import
from dlib_torch.utils import devices

_SHARED = """
encoder.num_latent = 10
encoder.encoder_fn = @conv_encoder
decoder.decoder_fn = @deconv_decoder
reconstruction_loss.loss_fn = @bernoulli_loss
vae_optimizer.optimizer_fn = @vae/AdamOptimizer
vae/AdamOptimizer.learning_rate = 0.0001
discriminator.discriminator_fn = @fc_discriminator
discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer
discriminator/AdamOptimizer.learning_rate = 0.0001
discriminator/AdamOptimizer.beta1 = 0.5
discriminator/AdamOptimizer.beta2 = 0.9
"""

# Method name -> the bindings that select it (the study's first value of each).
METHODS = {
    "vae": "model.model = @vae()\nvae.beta = 1.",
    "annealed_vae": ("model.model = @annealed_vae()\nannealed_vae.c_max = 5.\n"
                     "annealed_vae.iteration_threshold = 100000\nannealed_vae.gamma = 1000"),
    "factor_vae": "model.model = @factor_vae()\nfactor_vae.gamma = 10.",
    "dip_vae_i": ("model.model = @dip_vae()\ndip_vae.lambda_od = 1.\n"
                  "dip_vae.lambda_d_factor = 10.\ndip_vae.dip_type = 'i'"),
    "beta_tc_vae": "model.model = @beta_tc_vae()\nbeta_tc_vae.beta = 1.",
}


def matmul_rate(device, seconds):
  """float32 GEMM rate (FLOP/s) on 1024x1024 matrices."""
  n = 1024
  a = torch.randn(n, n, device=device)
  b = torch.randn(n, n, device=device)
  _sync(device)
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    torch.mm(a, b)
    count += 1
    if device.type != "cpu" and count % 20 == 0:
      _sync(device)
  _sync(device)
  return 2 * n**3 * count / (time.perf_counter() - start)


def _sync(device):
  if device.type == "cuda":
    torch.cuda.synchronize()


def build(method, device):
  gin.clear_config()
  gin_registry.register_for("train")
  gin.parse_config(_SHARED + METHODS[method])
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
    self.count = 0
    self.steps_per_second(0.0)  # Warm-up (allocator, oneDNN primitive caches).

  def steps_per_second(self, seconds):
    """Steps/s over a window of about `seconds` (at least 3 steps)."""
    steps, start = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - start < seconds:
      with devices.autocast(self.device, self.precision):
        self.model.train_step(self.batch, self.count, self.optimizers, self.generator)
      steps += 1
      self.count += 1
    _sync(self.device)
    return steps / (time.perf_counter() - start)


def _load():
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
  parser.add_argument("--method", nargs="*", default=["vae"], choices=sorted(METHODS))
  args = parser.parse_args()
  device = devices.resolve_device(args.device)
  if args.threads:
    torch.set_num_threads(args.threads)
  print("device: {} ({} threads), {}".format(device, torch.get_num_threads(), _load()))
  window = args.seconds / args.rounds
  reference = None
  for method in args.method:
    model, optimizers = build(method, device)
    flops = step_flops(model, optimizers, device)
    timers = [StepTimer(model, optimizers, device, p) for p in ("float32", "bf16")]
    rates, fp32, bf16 = [], [], []
    for _ in range(args.rounds):
      rates.append(matmul_rate(device, window / 2))
      fp32.append(timers[0].steps_per_second(window))
      bf16.append(timers[1].steps_per_second(window))
    fraction = statistics.median(f * flops / r for f, r in zip(fp32, rates))
    speedup = statistics.median(b / f for b, f in zip(bf16, fp32))
    reference = reference or statistics.median(fp32)
    print("{:14s} float32 {:7.2f} steps/s  ({:.2f} of matmul rate {:.1f} GFLOP/s, "
          "{:.2f} GFLOP/step)  bf16 {:7.2f} steps/s ({:.2f}x float32)  "
          "step cost vs vae {:.2f}x".format(
              method, statistics.median(fp32), fraction, statistics.median(rates) / 1e9,
              flops / 1e9, statistics.median(bf16), speedup,
              reference / statistics.median(fp32)))
  print(_load())


if __name__ == "__main__":
  main()
