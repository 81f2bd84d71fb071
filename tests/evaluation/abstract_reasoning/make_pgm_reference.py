"""Regenerates pgm_reference.json by running the ORIGINAL disentanglement_lib's source.

Usage: python make_pgm_reference.py PATH_TO_ORIGINAL_CHECKOUT [OUTPUT_JSON]

It imports the original's pgm_utils.py, pgm_data.py, dsprites.py, dummy_data.py
and util.py from the checkout, with empty stand-ins for the TensorFlow, TF-Hub
and rendering modules they import but the generator never calls (the generator
is numpy only). The dSprites masks are replaced by zeros: the draws of the
random state do not depend on the pixels. For fixed seeds it records what
the original draws: the PGM's active relations, factor matrix and wrong
answers (pgm_utils.PGM, easy and hard), and PGMDataset.sample's number of
relations, matrices and answer position (dummy_data and the quantized
abstract_dsprites), each followed by the next integer of the random state, so
that the number of draws is checked too.
"""
import importlib.util
import json
import os
import sys
import types

import numpy as np


def _stub(name, **attributes):
  module = types.ModuleType(name)
  module.__path__ = []
  module.__dict__.update(attributes)
  sys.modules[name] = module
  return module


def _load(root, dotted):
  path = os.path.join(root, *dotted.split(".")) + ".py"
  spec = importlib.util.spec_from_file_location(dotted, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[dotted] = module
  spec.loader.exec_module(module)
  return module


def load_original(root):
  """The original's generator modules, imported from `root` with TF stubbed out."""
  tf = _stub("tensorflow.compat.v1", gfile=types.SimpleNamespace(), logging=None)
  _stub("tensorflow", compat=_stub("tensorflow.compat", v1=tf))
  for name in ("disentanglement_lib", "disentanglement_lib.data",
               "disentanglement_lib.data.ground_truth", "disentanglement_lib.utils",
               "disentanglement_lib.visualize", "disentanglement_lib.evaluation",
               "disentanglement_lib.evaluation.abstract_reasoning"):
    _stub(name)
  _stub("disentanglement_lib.utils.resources", get_file=lambda path: path)
  _stub("disentanglement_lib.visualize.visualize_util")
  gt = "disentanglement_lib.data.ground_truth."
  for name in ("ground_truth_data", "util", "dsprites", "dummy_data"):
    setattr(sys.modules[gt[:-1]], name, _load(root, gt + name))
  for name in ("named_data", "shapes3d"):
    setattr(sys.modules[gt[:-1]], name,
            _stub(gt + name, Shapes3D=type("Shapes3D", (), {})))
  ar = "disentanglement_lib.evaluation.abstract_reasoning."
  pgm_utils = _load(root, ar + "pgm_utils")
  sys.modules[ar[:-1]].pgm_utils = pgm_utils
  pgm_data = _load(root, ar + "pgm_data")
  return pgm_utils, pgm_data, sys.modules[gt + "dsprites"], sys.modules[gt + "dummy_data"]


class _ZeroImages:
  """Stands in for dSprites' images array: zero masks for any indices."""

  def __getitem__(self, indices):
    return np.zeros((len(indices), 64, 64), dtype=np.uint8)


def abstract_dsprites(dsprites, util):
  data = dsprites.AbstractDSprites.__new__(dsprites.AbstractDSprites)
  data.latent_factor_indices = [1, 2, 4, 5]
  data.data_shape = [64, 64, 3]
  data.images = _ZeroImages()
  data.factor_sizes = np.array([1, 3, 6, 40, 32, 32], dtype=np.int64)
  data.full_factor_sizes = [1, 3, 6, 40, 32, 32]
  data.factor_bases = np.prod(data.factor_sizes) / np.cumprod(data.factor_sizes)
  data.state_space = util.SplitDiscreteStateSpace(data.factor_sizes,
                                                  data.latent_factor_indices)
  return data


def main(root, output):
  pgm_utils, pgm_data, dsprites, dummy_data = load_original(root)
  util = sys.modules["disentanglement_lib.data.ground_truth.util"]
  reference = {"pgm": [], "dataset": []}
  for strategy in ("easy", "hard"):
    for atom_counts in ([5] * 10, [5, 6, 3, 3, 4, 4]):
      for num_relations in (1, 2, 3):
        for seed in range(4):
          random_state = np.random.RandomState(seed)
          pgm = pgm_utils.PGM(random_state, num_relations, atom_counts,
                              sampling_strategy=strategy)
          reference["pgm"].append({
              "seed": seed, "sampling_strategy": strategy, "atom_counts": atom_counts,
              "num_relations": num_relations,
              "active_relations": [int(i) for i in pgm.design.active_relations],
              "matrix": pgm.matrix.tolist(),
              "other_solutions": pgm.other_solutions.tolist(),
              "next_int": int(random_state.randint(2**31))})
  datasets = {
      "dummy_data": dummy_data.DummyData(),
      "abstract_dsprites": pgm_data.Quantizer(abstract_dsprites(dsprites, util),
                                              [5, 6, 3, 3, 4, 4]),
  }
  for name, data in datasets.items():
    for pgm_type, relations_dist in (("easy1", [1., 0., 0.]), ("easy3", [0., 0., 1.]),
                                     ("easy_mixed", [1. / 3., 1. / 3., 1. / 3.])):
      for seed in range(3):
        random_state = np.random.RandomState(seed)
        dataset = pgm_data.PGMDataset(data, "easy", relations_dist)
        for draw in range(2):
          instance = dataset.sample(random_state)
          reference["dataset"].append({
              "dataset": name, "pgm_type": pgm_type, "seed": seed, "draw": draw,
              "solution_factors": instance.solution_factors.tolist(),
              "alternatives_factors": instance.alternatives_factors.tolist(),
              "position": int(instance.position),
              "next_int": int(random_state.randint(2**31))})
  with open(output, "w") as f:
    json.dump(reference, f, separators=(",", ":"))


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else os.path.join(
      os.path.dirname(os.path.abspath(__file__)), "pgm_reference.json"))
