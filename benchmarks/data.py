"""Data speed: observations per second at batch 64, against the training step rate.

Measures, in one run: sample_observations_from_factors at batch 64 (and the
training stream's next_batch(64), its factor draws in one call against the
one-sample loop, and next_factors(64) alone: the host's work per batch for a
GPU pack that looks its observations up in a table on the device) on
procedural_dsprites and on dsprites_full
read from a temporary npz in the real format, the process's peak memory, and
the conv beta-VAE training step rate (benchmarks/train_step.py). Prints the
ratio of data rate to training rate in images per second; target >= 20x.
The temporary npz has the real layout with fewer positions (8 x 8 instead of
32 x 32, 184 MB) unless --full is given (3 GB, all 737280 images).

  python benchmarks/data.py [--seconds 5] [--full] [--device cpu]
"""
import argparse
import os
import resource
import tempfile
import time

import numpy as np
import torch

import train_step  # benchmarks/train_step.py, beside this script
from dlib_torch.data import factor_batches
from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import devices


def peak_memory_mb():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


def rate(fn, seconds):
  """Calls fn() (which returns a batch of 64) for `seconds`; images per second."""
  fn()
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    fn()
    count += 1
  return 64 * count / (time.perf_counter() - start)


def measure(name, seconds):
  data = named_data.get_named_ground_truth_data(name)
  rs = np.random.RandomState(0)
  factors = data.sample_factors(64, rs)
  render = rate(lambda: data.sample_observations_from_factors(factors, rs), seconds)
  stream = training_stream.ObservationStream(data, seed=0)
  streamed = rate(lambda: stream.next_batch(64), seconds)
  # The stream's factors: the original's one-sample-at-a-time draws, made in one call.
  batches = factor_batches.FactorBatches(data)
  one_call = rate(lambda: batches.draw(64, rs), seconds)
  loop = rate(lambda: np.concatenate([data.sample_factors(1, rs) for _ in range(64)]), seconds)
  # A GPU pack looking its batches up in the observation table: the host only draws factors.
  drawn = rate(lambda: stream.next_factors(64), seconds)
  print("{:22s} render {:9.0f} obs/s   training stream {:9.0f} obs/s   peak memory {:6.0f} MB"
        "   factors drawn in one call {:.1f}x the loop's rate   a table pack's host work {:.0f} "
        "us per batch, {:.1f}x the stream's rate"
        .format(name, render, streamed, peak_memory_mb(), one_call / loop, 64e6 / drawn,
                drawn / streamed))
  return min(render, streamed)


def write_dsprites(root, full):
  sizes = [1, 3, 6, 40, 32, 32] if full else [1, 3, 6, 40, 8, 8]
  folder = os.path.join(root, "dsprites")
  os.makedirs(folder)
  images = np.lib.format.open_memmap(os.path.join(root, "imgs.npy"), mode="w+", dtype=np.uint8,
                                     shape=(int(np.prod(sizes)), 64, 64))
  images[:, 16:48, 16:48] = 1
  metadata = np.array({"latents_sizes": np.array(sizes)}, dtype=object)
  # np.savez stores members uncompressed, so the loader maps them in place.
  np.savez(os.path.join(folder, "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"),
           imgs=images, metadata=metadata)
  del images
  os.remove(os.path.join(root, "imgs.npy"))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seconds", type=float, default=5.0)
  parser.add_argument("--full", action="store_true")
  parser.add_argument("--device", default="auto")
  args = parser.parse_args()
  print("peak memory at start: {:.0f} MB".format(peak_memory_mb()))
  data_rates = {"procedural_dsprites": measure("procedural_dsprites", args.seconds)}
  with tempfile.TemporaryDirectory() as root:
    write_dsprites(root, args.full)
    os.environ["DISENTANGLEMENT_LIB_DATA"] = root
    data_rates["dsprites_full (npz)"] = measure("dsprites_full", args.seconds)

  device = devices.resolve_device(args.device)
  model, optimizers = train_step.build("vae", device)
  steps = train_step.StepTimer(model, optimizers, device, "float32").steps_per_second(
      args.seconds)
  print("conv beta-VAE training on {} ({} threads): {:.2f} steps/s = {:.0f} obs/s".format(
      device, torch.get_num_threads(), steps, 64 * steps))
  for name, data_rate in data_rates.items():
    print("{:22s} data / training rate: {:6.1f}x (target >= 20x)".format(
        name, data_rate / (64 * steps)))


if __name__ == "__main__":
  main()
