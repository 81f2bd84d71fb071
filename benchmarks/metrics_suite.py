"""Metric suite speed: the unsupervised study's nine metric configs, one representation.

Times every config of configs/unsupervised_study_v1/metric_configs/ (study
sizes; --quick divides the sample sizes by 10) on one TorchScript
representation (a small fixed random encoder) of a procedural data set, and
prints the seconds per metric and in total. Target (issue 3): the full suite
in <= 90 s on 2 cores.

When disentanglement_lib is importable, the original's metric functions run
on the same data, representation, bindings and seeds in a subprocess of the
same run; the script then prints its times, the speed-up and the largest
difference between the two results of each metric.

  python benchmarks/metrics_suite.py [--quick] [--data procedural_dsprites] [--only mig,dci]
"""
import argparse
import glob
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import gin
import numpy as np
import torch

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIGS = os.path.join(_REPO, "configs", "unsupervised_study_v1", "metric_configs")
# gin name of each study metric -> (module under evaluation/metrics, function).
_FUNCTIONS = {
    "beta_vae_sklearn": ("beta_vae", "compute_beta_vae_sklearn"),
    "dci": ("dci", "compute_dci"),
    "downstream_task": ("downstream_task", "compute_downstream_task"),
    "factor_vae_score": ("factor_vae", "compute_factor_vae"),
    "mig": ("mig", "compute_mig"),
    "modularity_explicitness": ("modularity_explicitness", "compute_modularity_explicitness"),
    "sap_score": ("sap_score", "compute_sap"),
    "unsupervised_metrics": ("unsupervised_metrics", "unsupervised_metrics"),
}
# --quick: every sample size divided by 10.
_QUICK_DIVISOR = 10
_SIZE_PARAMETERS = ("num_train", "num_test", "num_eval", "num_variance_estimate")


class _Encoder(torch.nn.Module):
  """(N, 64, 64, C) -> (N, 10): 8x8 average pooling, then a fixed random linear map."""

  def __init__(self, channels: int):
    super().__init__()
    generator = torch.Generator().manual_seed(0)
    self.weight = torch.nn.Parameter(
        torch.randn(channels * 64, 10, generator=generator) / 8., requires_grad=False)

  def forward(self, x):
    n, channels = x.shape[0], x.shape[3]
    # The pooling as a reshaped mean: avg_pool2d on NHWC input is ~3x slower on
    # CPU, and the stand-in should not dominate what the suite's own code costs.
    pooled = x.reshape(n, 8, 8, 8, 8, channels).mean(dim=(2, 4))
    return torch.tanh(pooled.permute(0, 3, 1, 2).reshape(n, -1) @ self.weight)


class _SquaresData:
  """Fallback data set with dSprites' factor sizes: a bright square per image.

  Factors [3, 6, 40, 32, 32] set the brightness, size, a background level and
  the position; rendering draws nothing. Same interface as GroundTruthData.
  """

  factors_num_values = [3, 6, 40, 32, 32]
  num_factors = 5
  observation_shape = [64, 64, 1]
  observations_draw_random = False

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(k, size=num) for k in self.factors_num_values],
                    axis=1)

  def sample_observations_from_factors(self, factors, random_state):
    del random_state
    grid = np.arange(64)
    brightness, size, background, x, y = [factors[:, k] for k in range(5)]
    half = (3 + size)[:, None]
    in_x = np.abs(grid[None, :] - (2 * x[:, None])) <= half
    in_y = np.abs(grid[None, :] - (2 * y[:, None])) <= half
    square = (in_y[:, :, None] & in_x[:, None, :]) * (0.5 + 0.25 * brightness)[:, None, None]
    images = np.maximum(square, (background / 80.)[:, None, None])
    return images[..., None].astype(np.float32)

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]


def make_data(name):
  try:
    from dlib_torch.data.ground_truth import named_data  # pylint: disable=g-import-not-at-top
    return named_data.get_named_ground_truth_data(name)
  except Exception as e:  # pylint: disable=broad-except
    print("Data set {!r} unavailable ({}); using the in-script squares.".format(name, e))
    return _SquaresData()


def representation_function(path):
  module = torch.jit.load(path)

  def run(x):
    with torch.inference_mode():
      return module(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy()

  # Any batch size: dlib_torch's metrics hand it large chunks, as they do
  # dlib_torch's own TorchScript representations (the original ignores this).
  run.takes_any_batch_size = True
  return run


def config_bindings(path, quick):
  """The config's metric gin name, seed and bindings (without evaluation.* and dataset.*)."""
  metric, seed, bindings = None, 0, []
  with open(path) as f:
    for line in f:
      line = line.split("#")[0].strip()
      if not line:
        continue
      key, value = [part.strip() for part in line.split("=", 1)]
      if key == "evaluation.evaluation_fn":
        metric = value.lstrip("@").rstrip("()")
      elif key == "evaluation.random_seed":
        seed = int(value)
      elif not key.startswith(("evaluation.", "dataset.")):
        if quick and key.split(".")[-1] in _SIZE_PARAMETERS:
          sizes = json.loads(value)
          shrink = lambda n: max(10, n // _QUICK_DIVISOR)
          value = json.dumps([shrink(n) for n in sizes] if isinstance(sizes, list)
                             else shrink(sizes))
        bindings.append("{} = {}".format(key, value))
  return metric, seed, bindings


def run_suite(package, data_name, rep_path, quick, only, rep=None):
  """Times each config with `package`'s metrics; {config: {"seconds", "results"}}.

  `rep`: a representation function to use instead of the module at rep_path.
  """
  data = make_data(data_name)
  rep = rep or representation_function(rep_path)
  timings = {}
  for path in sorted(glob.glob(os.path.join(_CONFIGS, "*.gin"))):
    name = os.path.basename(path)[:-len(".gin")]
    if only and name not in only:
      continue
    metric, seed, bindings = config_bindings(path, quick)
    module_name, function_name = _FUNCTIONS[metric]
    module = importlib.import_module(package + ".evaluation.metrics." + module_name)
    importlib.import_module(package + ".evaluation.metrics.utils")
    gin.clear_config()
    gin.parse_config(bindings)
    np.random.seed(0)
    torch.manual_seed(seed)  # As devaluate does, for sampled representations.
    start = time.perf_counter()
    results = getattr(module, function_name)(data, rep, np.random.RandomState(seed),
                                             artifact_dir=None)
    seconds = time.perf_counter() - start
    gin.clear_config()
    timings[name] = {"seconds": seconds,
                     "results": {k: float(v) for k, v in results.items()}}
    print("  {:40s} {:8.1f} s".format(name, seconds), flush=True)
  return timings


def largest_difference(ours, theirs):
  diffs = [abs(ours[k] - theirs[k]) for k in ours if k in theirs and
           np.isfinite(ours[k]) and np.isfinite(theirs[k])]
  return max(diffs) if diffs else float("nan")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="sample sizes divided by 10")
  parser.add_argument("--data", default="procedural_dsprites", help="named data set")
  parser.add_argument("--only", default="", help="comma-separated config names")
  parser.add_argument("--implementation", default="dlib_torch", help=argparse.SUPPRESS)
  parser.add_argument("--representation", default=None, help=argparse.SUPPRESS)
  parser.add_argument("--json", default=None, help=argparse.SUPPRESS)
  args = parser.parse_args()
  only = set(filter(None, args.only.split(",")))

  if args.implementation == "disentanglement_lib":  # The subprocess below.
    timings = run_suite("disentanglement_lib", args.data, args.representation, args.quick, only)
    with open(args.json, "w") as f:
      json.dump(timings, f)
    return

  with tempfile.TemporaryDirectory() as tmp:
    data = make_data(args.data)
    rep_path = os.path.join(tmp, "representation.pt")
    torch.jit.save(torch.jit.script(_Encoder(data.observation_shape[-1])), rep_path)
    print("dlib_torch ({}{}, {} CPU threads):".format(
        args.data, ", quick" if args.quick else "", torch.get_num_threads()))
    ours = run_suite("dlib_torch", args.data, rep_path, args.quick, only)
    total = sum(t["seconds"] for t in ours.values())
    print("  {:40s} {:8.1f} s".format("total", total))
    if importlib.util.find_spec("disentanglement_lib") is None:
      print("disentanglement_lib is not importable: no comparison with the original.")
      return
    print("disentanglement_lib (same inputs):", flush=True)
    out = os.path.join(tmp, "original.json")
    command = [sys.executable, os.path.abspath(__file__), "--implementation",
               "disentanglement_lib", "--representation", rep_path, "--json", out,
               "--data", args.data, "--only", args.only] + (["--quick"] if args.quick else [])
    subprocess.run(command, check=True)
    with open(out) as f:
      theirs = json.load(f)
  print("{:40s} {:>9s} {:>9s} {:>8s} {:>14s}".format(
      "config", "ours s", "orig. s", "speed-up", "max |diff|"))
  for name, timing in ours.items():
    if name not in theirs:
      continue
    print("{:40s} {:9.1f} {:9.1f} {:7.1f}x {:14.3g}".format(
        name, timing["seconds"], theirs[name]["seconds"],
        theirs[name]["seconds"] / timing["seconds"],
        largest_difference(timing["results"], theirs[name]["results"])))
  their_total = sum(theirs[name]["seconds"] for name in ours if name in theirs)
  print("{:40s} {:9.1f} {:9.1f} {:7.1f}x".format("total", total, their_total,
                                                 their_total / total))


if __name__ == "__main__":
  main()
