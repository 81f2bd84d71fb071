"""Tests for GlanceNets' dSprites concept leakage."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dsprites_leakage
from dlib_torch.evaluation.metrics import glancenets_leakage
from dlib_torch.utils import errors
from ...data import test_dsprites_leakage


def _leakage(representation, data=None, **kwargs):
  data = data or test_dsprites_leakage.FactorImagesDSprites()
  return glancenets_leakage.compute_glancenets_leakage(
      data, representation, np.random.RandomState(0), num_test_points=2000, **kwargs)


def test_concepts_only_representation_does_not_leak():
  # Codes = shape, scale, orientation: nothing about the corner.
  results = _leakage(lambda x: x.reshape(len(x), 5)[:, :3])
  assert results["leakage_accuracy"] == pytest.approx(0.5, abs=0.07)
  assert results["leakage"] == pytest.approx(results["leakage_accuracy"] - 0.5)
  assert results["acceptance_rate"] == 1.


def test_position_in_the_representation_leaks_fully():
  results = _leakage(lambda x: x.reshape(len(x), 5), code_transform="none")
  assert results["leakage_accuracy"] == 1.
  # Through the default sigmoid as well, and from the wrapped split.
  wrapped = dsprites_leakage.DSpritesLeakage(test_dsprites_leakage.FactorImagesDSprites())
  assert _leakage(lambda x: x.reshape(len(x), 5)[:, 3:], data=wrapped)["leakage_accuracy"] == 1.


def test_split_sizes_and_rejection():
  rs = np.random.RandomState(0)
  codes = np.repeat([[0.], [1.]], 50, axis=0)
  labels = np.repeat([0, 1], 50)
  # Everything rejected: a fair coin on 25 points.
  results = glancenets_leakage.compute_leakage(codes, labels, rs, accepted=np.zeros(100, bool))
  assert results["acceptance_rate"] == 0.
  assert 0.1 < results["leakage_accuracy"] < 0.9
  assert results["leakage_accuracy"] * 25 == pytest.approx(round(results["leakage_accuracy"] * 25))
  # Everything accepted: perfectly separable codes.
  results = glancenets_leakage.compute_leakage(codes, labels, rs)
  assert results["leakage_accuracy"] == 1. and results["acceptance_rate"] == 1.


def test_seeded():
  representation = lambda x: x.reshape(len(x), 5)[:, [0, 3]] + 0.3 * x.reshape(len(x), 5)[:, [1, 2]]
  assert _leakage(representation) == _leakage(representation)


def test_single_label_is_a_user_error():
  with pytest.raises(errors.UserError):
    glancenets_leakage.compute_leakage(np.zeros((10, 1)), np.zeros(10, int),
                                       np.random.RandomState(0))
