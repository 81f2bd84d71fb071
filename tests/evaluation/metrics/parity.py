"""Builds the inputs of the parity cases (parity_cases.json) and replays a case.

The cases were computed with the original disentanglement_lib on a small
discrete data set whose observations are the factors themselves and on two
fixed numpy representations; see the "inputs" entry of the JSON file.
"""
import importlib
import json
import os

import gin
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import util

CASES_PATH = os.path.join(os.path.dirname(__file__), "parity_cases.json")


def load():
  """The parsed JSON file: {"inputs": ..., "cases": [...]}."""
  with open(CASES_PATH) as f:
    return json.load(f)


class ParityData(ground_truth_data.GroundTruthData):
  """All factors latent; an observation is its factor vector as float32."""

  observations_draw_random = False

  def __init__(self, factor_sizes):
    self.factor_sizes = list(factor_sizes)
    self.state_space = util.SplitDiscreteStateSpace(
        self.factor_sizes, list(range(len(self.factor_sizes))))

  @property
  def num_factors(self):
    return len(self.factor_sizes)

  @property
  def factors_num_values(self):
    return self.factor_sizes

  @property
  def observation_shape(self):
    return [len(self.factor_sizes)]

  def sample_factors(self, num, random_state):
    return self.state_space.sample_latent_factors(num, random_state)

  def sample_observations_from_factors(self, factors, random_state):
    return np.asarray(factors, dtype=np.float32)


def _frac(a):
  return a - np.floor(a)


def _weighted_sum(f, weights):
  total = f[:, 0] * weights[0]
  for k in range(1, len(weights)):
    total = total + f[:, k] * weights[k]
  return total


def make_representation(name, inputs):
  """The named representation function (numpy float32 in, float64 out)."""
  spec = inputs["representations"][name]
  sizes = np.array(inputs["factor_sizes"], dtype=np.float64)

  def normalised(x):
    return np.asarray(x, dtype=np.float64) / (sizes - 1)

  if name == "identity_plus_noise":
    c = spec["constants"]

    def identity_plus_noise(x):
      f = np.asarray(x, dtype=np.float64)
      s1 = _weighted_sum(f, c["w1"])
      s2 = _weighted_sum(f, c["w2"])
      return np.column_stack([normalised(x), _frac(s1 * c["c1"]),
                              _frac(s2 * c["c2"]) * c["scale2"]])
    return identity_plus_noise
  if name == "rotated":
    q = np.array(spec["Q"], dtype=np.float64)

    def rotated(x):
      f = normalised(x)
      z = f[:, 0, None] * q[0]
      for k in range(1, len(q)):
        z = z + f[:, k, None] * q[k]
      return z
    return rotated
  raise ValueError("Unknown parity representation: " + name)


def all_factor_combinations(factor_sizes):
  """Every factor vector, row-major (last factor fastest): [prod(sizes), F]."""
  grids = np.meshgrid(*[np.arange(s) for s in factor_sizes], indexing="ij")
  return np.stack([g.reshape(-1) for g in grids], axis=1)


def library_function(case):
  """The function a case calls."""
  module_name, function_name = case["library_function"].rsplit(".", 1)
  return getattr(importlib.import_module(module_name), function_name)


def run_case(case, inputs):
  """Replays a case as the README describes; returns the metric's result dict."""
  fn = library_function(case)
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([], case["gin_bindings"])
    np.random.seed(case["global_numpy_seed"])
    data = ParityData(inputs["factor_sizes"])
    representation_function = make_representation(case["representation"], inputs)
    return fn(data, representation_function,
              random_state=np.random.RandomState(case["seed"]), artifact_dir=None)
  finally:
    gin.clear_config()


def assert_matches(case, results):
  """Every expected key is present and within the case's absolute tolerance."""
  mismatches = []
  for key, expected in case["results"].items():
    if key not in results:
      mismatches.append("{}: missing".format(key))
      continue
    actual = float(results[key])
    if expected == "NaN":
      ok = np.isnan(actual)
    else:
      ok = abs(actual - expected) <= case["tolerance"]
    if not ok:
      mismatches.append("{}: got {!r}, expected {!r} +- {}".format(
          key, actual, expected, case["tolerance"]))
  assert not mismatches, "{}:\n  {}".format(case["case_id"], "\n  ".join(mismatches))
