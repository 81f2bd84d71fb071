"""The PGM generator draws the original's matrices, answers and positions for fixed seeds.

pgm_reference.json was made by make_pgm_reference.py, which runs the original
disentanglement_lib's generator source (numpy) for these seeds.
"""
import json
import os

import gin
import numpy as np
import pytest

from dlib_torch.evaluation.abstract_reasoning import pgm_data
from dlib_torch.evaluation.abstract_reasoning import pgm_utils
from dlib_torch.utils import errors

with open(os.path.join(os.path.dirname(__file__), "pgm_reference.json")) as f:
  REFERENCE = json.load(f)

# The reference's abstract_dsprites ran on the file's data set with blank masks:
# the draws do not depend on the pixels, so the procedural sprites stand in.
_DATASET_NAMES = {"dummy_data": "dummy_data", "abstract_dsprites": "procedural_abstract_dsprites"}


@pytest.mark.parametrize("case", REFERENCE["pgm"], ids=lambda c: "{sampling_strategy}-{num_relations}-{seed}-{atom_counts[1]}".format(**c))
def test_pgm_matches_the_original(case):
  random_state = np.random.RandomState(case["seed"])
  pgm = pgm_utils.PGM(random_state, case["num_relations"], case["atom_counts"],
                      sampling_strategy=case["sampling_strategy"])
  assert pgm.design.active_relations == case["active_relations"]
  np.testing.assert_array_equal(pgm.matrix, case["matrix"])
  np.testing.assert_array_equal(pgm.other_solutions, case["other_solutions"])
  assert random_state.randint(2**31) == case["next_int"]


def _dataset(name, pgm_type):
  gin.parse_config(["dataset.name = '{}'".format(_DATASET_NAMES[name]),
                    "pgm.pgm_type = '{}'".format(pgm_type)])
  try:
    return pgm_data.get_pgm_dataset()
  finally:
    gin.clear_config()


@pytest.mark.parametrize("case", REFERENCE["dataset"], ids=lambda c: "{dataset}-{pgm_type}-{seed}-{draw}".format(**c))
def test_dataset_sample_matches_the_original(case):
  dataset = _dataset(case["dataset"], case["pgm_type"])
  random_state = np.random.RandomState(case["seed"])
  for _ in range(case["draw"]):
    dataset.sample(random_state)
    random_state.randint(2**31)  # the reference drew its check integer after each draw
  instance = dataset.sample(random_state)
  np.testing.assert_array_equal(instance.solution_factors, case["solution_factors"])
  np.testing.assert_array_equal(instance.alternatives_factors, case["alternatives_factors"])
  assert instance.position == case["position"]
  assert random_state.randint(2**31) == case["next_int"]


def test_training_sample_inserts_the_answer_at_its_position():
  instance = _dataset("abstract_dsprites", "easy2").sample(np.random.RandomState(3))
  features, position = instance.training_sample()
  assert features["context"].shape == (8, 64, 64, 3)
  assert features["answers"].shape == (6, 64, 64, 3)
  np.testing.assert_array_equal(features["answers"][position],
                                instance.solution[-1, -1].astype(np.float32))
  factors = instance.get_answers_factor_values()
  np.testing.assert_array_equal(factors[position], instance.solution_factors[-1, -1])
  # Values in [-0.5, 0.5]; one-hot blocks of the quantized sizes (5+6+3+3+4+4).
  assert features["answers_factor_values"].min() >= -.5
  assert features["answers_factor_values"].max() <= .5
  assert features["answers_factors_onehot"].shape == (6, 25)
  np.testing.assert_array_equal(features["answers_factors_onehot"].sum(axis=1), 6)


def test_quantizer_maps_onto_the_true_values():
  quantizer = _dataset("abstract_dsprites", "easy1").ground_truth_data
  assert quantizer.factors_num_values == [5, 6, 3, 3, 4, 4]
  rendered = quantizer.sample_observations_from_factors(np.array([[1, 2, 0, 2, 3, 1]]),
                                                        np.random.RandomState(0))
  direct = quantizer.wrapped_ground_truth_data.sample_observations_from_factors(
      np.array([[1, 2, 0, 4, 24, 8]]), np.random.RandomState(0))
  np.testing.assert_array_equal(rendered, direct)


@pytest.mark.parametrize("pgm_type", ["medium1", "easy4", "hard"])
def test_bad_pgm_type_is_a_user_error(pgm_type):
  with pytest.raises(errors.UserError, match="pgm_type"):
    _dataset("dummy_data", pgm_type)
