"""Tests for VisCoIN-style concept analytics."""
import importlib.util
import json
import os

import numpy as np
import pytest

from dlib_torch.evaluation.metrics import concept_analytics
from dlib_torch.utils import errors

ACTIVATIONS = np.array([[1., 0.], [0., 2.], [3., 1.]])
LABELS = np.array([0, 1, 0])


def _entropy(p):
  return -np.sum(p * np.log(p + 1e-6))


def _softmax(v):
  e = np.exp(np.asarray(v, float) - np.max(v))
  return e / e.sum()


def test_normalizations():
  np.testing.assert_allclose(concept_analytics.normalize([2., 4., 6.]), [0., .5, 1.])
  np.testing.assert_allclose(concept_analytics.normalize([1., 3.], "sum"), [.25, .75])
  np.testing.assert_allclose(concept_analytics.normalize([[1., 3.], [2., 2.]], axis=1),
                             [[0., 1.], [0., 0.]])  # a constant row maps to zeros
  with pytest.raises(errors.UserError):
    concept_analytics.normalize([1.], "zscore")


def test_hand_computed_analytics():
  results = concept_analytics.compute_concept_analytics(ACTIVATIONS, LABELS)
  # Sorted rows [0,1], [0,2], [1,3] sum to [1, 6].
  np.testing.assert_allclose(results["concept_activation_per_image"], [0., 1.])
  # Concept totals [4, 3].
  np.testing.assert_allclose(results["raw_concept_mean_activation"], [1., 0.])
  np.testing.assert_allclose(results["concept_activation_per_concept"], [0., 1.])
  # a^T a = [[10, 3], [3, 5]], min-max over all entries.
  np.testing.assert_allclose(results["concept_correlations"], [[1., 0.], [0., 2. / 7.]])
  # Class sums [[4, 1], [0, 2]], min-max per class.
  np.testing.assert_allclose(results["class_concept_correlations"], [[1., 0.], [0., 1.]])
  # Balanced by counts [2, 1]: [[4, 1], [0, 4]], min-max per concept, transposed.
  np.testing.assert_allclose(results["concept_class_correlations"], [[1., 0.], [0., 1.]])
  assert "class_concept_importance" not in results


def test_hand_computed_entropy_without_normalization():
  results = concept_analytics.compute_concept_analytics(ACTIVATIONS, LABELS,
                                                        normalization="none")
  expected = [_entropy(_softmax([4., 0.])), _entropy(_softmax([1., 4.]))]
  np.testing.assert_allclose(results["concept_entropy"], expected)


def test_entropy_of_uniform_and_one_hot_activations():
  labels = np.repeat(np.arange(3), 20)
  uniform = concept_analytics.concept_entropy(np.ones((60, 4)), labels, 3)
  np.testing.assert_allclose(uniform, np.log(3.), rtol=1e-5)
  one_hot = concept_analytics.concept_entropy(np.eye(3)[labels], labels, 3)
  np.testing.assert_allclose(one_hot, 0., atol=1e-5)


def test_class_concept_importance_by_hand():
  weights = np.array([[1., -1.], [0., 1.]])
  # Predicted classes [0, 1, 0]; relevances [1, 0], [0, 1], [3, -1] / 3.
  importance = concept_analytics.class_concept_importance(ACTIVATIONS, weights)
  np.testing.assert_allclose(importance, [[1., -1. / 6.], [0., 1.]])
  # Given predictions instead: every image as class 1; relevances [0, 0], [0, 1], [0, 1].
  importance = concept_analytics.class_concept_importance(ACTIVATIONS, weights, np.ones(3, int))
  np.testing.assert_allclose(importance, [[0., 0.], [0., 2. / 3.]])


def test_bad_shapes_are_user_errors():
  with pytest.raises(errors.UserError):
    concept_analytics.compute_concept_analytics(ACTIVATIONS, LABELS[:2])


def test_save_writes_json_and_plot_when_matplotlib_is_there(tmp_path):
  results = concept_analytics.compute_concept_analytics(ACTIVATIONS, LABELS,
                                                        weights=np.eye(2))
  concept_analytics.save_concept_analytics(results, str(tmp_path))
  with open(tmp_path / "concept_analytics.json") as f:
    assert json.load(f) == results
  has_matplotlib = importlib.util.find_spec("matplotlib") is not None
  assert os.path.exists(tmp_path / "concept_analytics.png") == has_matplotlib


def test_entry_point_on_concept_codes(tmp_path):
  from . import test_latent_response  # pylint: disable=g-import-not-at-top
  data = test_latent_response.GridImages([3, 4])
  # Concept k is on (code +3) exactly for class k = factor 0; the last concept is dead.
  representation = lambda x: 6. * np.eye(4)[x.reshape(len(x), 2)[:, 0].astype(int)] - 3.
  results = concept_analytics.compute_concept_analytics_metric(
      data, representation, np.random.RandomState(0), artifact_dir=str(tmp_path),
      num_points=300, label_factor=0)
  importance = np.array(results["class_concept_importance"])
  assert importance.shape == (3, 4)
  np.testing.assert_array_equal(np.argmax(importance, axis=1), [0, 1, 2])
  # Class-specific concepts have low entropy, the dead one the highest.
  assert np.argmax(results["concept_entropy"]) == 3
  assert results["concept_activation_per_concept"][0] == 0.
  assert os.path.exists(tmp_path / "concept_analytics.json")
