"""Evaluation throughput: encoding rate and the nine metrics on a trained conv model.

Trains (or takes, --model_dir) a conv beta-VAE of the study on
procedural_dsprites, extracts its mean and sampled representations as
dpostprocess does, and prints for each:

- the encoding rate of its TorchScript representation, in images/s and as a
  FLOP rate over the float32 matmul rate measured in the same rounds
  (train_step.matmul_rate), both as loaded (calls of 256 rows, as before)
  and as dlib_torch runs it (utils.inference: the way chosen by measurement
  on this machine). Target on CPU (issue 12): >= 0.6 of the matmul rate.
- the time of the unsupervised study's nine metric configs at full size
  (--quick: a tenth) through dlib_torch's representation function, and how
  many images they encoded.

--compare also runs the nine metrics with the module as loaded and prints
the largest difference between the two results of each metric: 0, since the
way chosen gives the module's codes and random draws to the bit.
Images for the encoding rate are procedural dSprites; rates are medians over
interleaved rounds, the load average is printed before and after.

  python benchmarks/evaluation_throughput.py [--model_dir DIR] [--steps 300] [--quick]
      [--compare] [--rounds 5] [--seconds 2] [--threads N] [--only mig,dci]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import logging
import numpy as np
import torch
from torch.utils import flop_counter

import metrics_suite  # benchmarks/, the script's own folder
import train_step

from dlib_torch.config import resources
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import inference
from dlib_torch.utils import torchscript_io

_SHARED_GIN = "unsupervised_study_v1/model_configs/shared.gin"
_POSTPROCESS = "unsupervised_study_v1/postprocess_configs/{}.gin"
_REPRESENTATIONS = ("mean", "sampled")
_IMAGES = 4096  # Encoded per timing window (repeatedly).


def train_model(model_dir, steps):
  """dtrain of the study's conv beta-VAE on procedural_dsprites, `steps` steps."""
  command = [sys.executable, "-m", "dlib_torch.cli.train", "--model_dir=" + model_dir,
             "--gin_config=" + resources.config_path(_SHARED_GIN), "--device=cpu",
             "--gin_bindings=dataset.name = 'procedural_dsprites'",
             "--gin_bindings=model.training_steps = {}".format(steps)]
  start = time.perf_counter()
  subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  print("trained {} steps in {:.0f} s".format(steps, time.perf_counter() - start))


def extract(model_dir, root):
  """{name: postprocessed folder} of the mean and sampled representations."""
  folders = {}
  for name in _REPRESENTATIONS:
    folders[name] = os.path.join(root, name)
    postprocess.postprocess_with_gin(model_dir, folders[name], True,
                                     [resources.config_path(_POSTPROCESS.format(name))],
                                     device="cpu")
  return folders


def flops_per_image(module, image):
  with flop_counter.FlopCounterMode(display=False) as counter, torch.inference_mode():
    module(torch.as_tensor(image[None]))
  return counter.get_total_flops()


def images_per_second(function, images, seconds):
  count, start = 0, time.perf_counter()
  while count == 0 or time.perf_counter() - start < seconds:
    function(images)
    count += len(images)
  return count / (time.perf_counter() - start)


def encoding_rates(folder, images, args):
  """Prints the encoding rates of a representation, as loaded and as dlib_torch runs it."""
  module = torchscript_io.load_module(folder, "representation")
  as_loaded = torchscript_io.numpy_function(module, tune=False)
  tuned = torchscript_io.load_representation(folder)
  # Chooses its way (logged) once it has run inference.ROWS_WORTH_CHOOSING rows.
  for _ in range(-(-inference.ROWS_WORTH_CHOOSING // len(images))):
    tuned(images)
  flops = flops_per_image(module, images[0])
  rates, loaded_rates, tuned_rates = [], [], []
  for _ in range(args.rounds):
    rates.append(train_step.matmul_rate(torch.device("cpu"), args.seconds / 2))
    loaded_rates.append(images_per_second(as_loaded, images, args.seconds))
    tuned_rates.append(images_per_second(tuned, images, args.seconds))
  for label, measured in (("as loaded (256 rows a call)", loaded_rates),
                          ("as dlib_torch runs it", tuned_rates)):
    print("  {:30s} {:8.0f} images/s  {:5.1f} GFLOP/s = {:.2f} of the matmul rate".format(
        label, statistics.median(measured), statistics.median(measured) * flops / 1e9,
        statistics.median(m * flops / r for m, r in zip(measured, rates))))
  print("  matmul rate {:.1f} GFLOP/s, {:.1f} MFLOP per image; speed-up {:.2f}x".format(
      statistics.median(rates) / 1e9, flops / 1e6,
      statistics.median(t / l for t, l in zip(tuned_rates, loaded_rates))))


class _Counted:
  """A representation function that counts the images it encodes and the time it takes."""

  def __init__(self, function):
    self.function, self.images, self.seconds = function, 0, 0.
    self.takes_any_batch_size = True

  def __call__(self, x):
    start = time.perf_counter()
    codes = self.function(x)
    self.seconds += time.perf_counter() - start
    self.images += len(x)
    return codes


def metric_times(folder, args, tune):
  """Runs the nine metric configs; returns {config: {"seconds", "results"}}, prints a summary."""
  module = torchscript_io.load_module(folder, "representation")
  function = _Counted(torchscript_io.numpy_function(module, tune=tune))
  timings = metrics_suite.run_suite("dlib_torch", "procedural_dsprites", None, args.quick,
                                    args.only, rep=function)
  total = sum(t["seconds"] for t in timings.values())
  print("  {:40s} {:8.1f} s  ({:.2f} M images encoded in {:.0f} s, {:.0f} images/s)".format(
      "total", total, function.images / 1e6, function.seconds,
      function.images / max(function.seconds, 1e-9)))
  return timings


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model_dir", default=None, help="a trained model folder to use")
  parser.add_argument("--steps", type=int, default=300, help="training steps of a new model")
  parser.add_argument("--quick", action="store_true", help="metric sample sizes divided by 10")
  parser.add_argument("--compare", action="store_true",
                      help="also run the metrics with the module as loaded, and compare")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--seconds", type=float, default=2.0, help="per window of a round")
  parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
  parser.add_argument("--only", default="", help="comma-separated metric config names")
  args = parser.parse_args()
  args.only = set(filter(None, args.only.split(",")))
  logging.set_verbosity(logging.INFO)  # The way chosen to run each representation.
  if args.threads:
    torch.set_num_threads(args.threads)
  print("CPU, {} threads, {}".format(torch.get_num_threads(), train_step.load()))
  with tempfile.TemporaryDirectory() as tmp:
    model_dir = args.model_dir
    if model_dir is None:
      model_dir = os.path.join(tmp, "model")
      train_model(model_dir, args.steps)
    folders = extract(model_dir, tmp)
    data = metrics_suite.make_data("procedural_dsprites")
    images = data.sample_observations(_IMAGES, np.random.RandomState(0))
    for name, folder in folders.items():
      print("{} representation: encoding".format(name))
      encoding_rates(folder, images, args)
    for name, folder in folders.items():
      print("{} representation: the nine metrics{}".format(name, ", quick" if args.quick else ""))
      ours = metric_times(folder, args, tune=True)
      if not args.compare:
        continue
      print("{} representation: the nine metrics, module as loaded".format(name))
      loaded = metric_times(folder, args, tune=False)
      print("  {:40s} {:>9s} {:>9s} {:>14s}".format("config", "dlib s", "loaded s", "max |diff|"))
      for config, timing in ours.items():
        print("  {:40s} {:9.1f} {:9.1f} {:14.3g}".format(
            config, timing["seconds"], loaded[config]["seconds"],
            metrics_suite.largest_difference(timing["results"], loaded[config]["results"])))
  print(train_step.load())


if __name__ == "__main__":
  main()
