"""Tests for the downstream task and its order-preserving parallel fits."""
import gin
import numpy as np
import pytest
from sklearn import ensemble

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import utils


@pytest.fixture(autouse=True)
def _gin():
  gin.clear_config()
  gin.bind_parameter("predictor.predictor_fn", utils.gradient_boosting_classifier)
  yield
  gin.clear_config()


def _scores(representation_function, num_train=(200,), num_test=200):
  np.random.seed(0)
  return downstream_task.compute_downstream_task(
      dummy_data.IdentityObservationsData(), representation_function,
      np.random.RandomState(0), None, list(num_train), num_test)


def test_result_keys_per_size():
  scores = _scores(lambda x: np.array(x, dtype=np.float64), num_train=(20, 50), num_test=30)
  for n in ("20", "50"):
    for key in ("mean_train_accuracy", "mean_test_accuracy", "min_train_accuracy",
                "min_test_accuracy"):
      assert n + ":" + key in scores
    for i in range(10):
      assert n + ":train_accuracy_factor_{}".format(i) in scores
      assert n + ":test_accuracy_factor_{}".format(i) in scores
  assert len(scores) == 2 * (4 + 2 * 10)
  accuracies = [scores["50:test_accuracy_factor_{}".format(i)] for i in range(10)]
  assert scores["50:mean_test_accuracy"] == pytest.approx(np.mean(accuracies))
  assert scores["50:min_test_accuracy"] == min(accuracies)


def test_identity_representation_predicts_every_factor():
  scores = _scores(lambda x: np.array(x, dtype=np.float64))
  assert scores["200:min_test_accuracy"] >= 0.95
  assert scores["200:mean_train_accuracy"] == 1.


def test_constant_representation_is_at_chance():
  scores = _scores(lambda x: np.zeros_like(x, dtype=np.float64))
  # Ten values per factor: a constant input predicts the majority class.
  assert scores["200:mean_test_accuracy"] <= 0.2


def test_parallel_fits_equal_the_original_sequential_loop():
  rs = np.random.RandomState(1)
  x = rs.normal(size=(300, 3))
  ys = np.stack([(x[:, 0] > 0).astype(int), rs.randint(3, size=300),
                 np.digitize(x[:, 1], [-1, 0, 1])])
  np.random.seed(7)
  sequential = [ensemble.GradientBoostingClassifier(n_estimators=20).fit(x, y)
                for y in ys]
  after_sequential = np.random.randint(1 << 30)
  factory = lambda: ensemble.GradientBoostingClassifier(n_estimators=20)
  for n_jobs in (1, 2):
    np.random.seed(7)
    parallel = downstream_task.fit_predictors(factory, x, ys, n_jobs=n_jobs)
    assert np.random.randint(1 << 30) == after_sequential
    for a, b in zip(sequential, parallel):
      np.testing.assert_array_equal(a.feature_importances_, b.feature_importances_)
      np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))


def test_estimators_with_unknown_draws_still_fit():
  x = np.random.RandomState(0).normal(size=(50, 2))
  ys = np.stack([(x[:, 0] > 0).astype(int), (x[:, 1] > 0).astype(int)])
  factory = lambda: ensemble.RandomForestClassifier(n_estimators=5)
  models = downstream_task.fit_predictors(factory, x, ys)
  assert [np.mean(m.predict(x) == y) for m, y in zip(models, ys)] == [1., 1.]


@pytest.mark.parametrize("relative", [
    "unsupervised_study_v1/metric_configs/downstream_task_boosted_trees.gin",
    "unsupervised_study_v1/metric_configs/downstream_task_logistic_regression.gin",
    "fairness_study_v1/metric_configs/fairness.gin",
    "tests/evaluation/evaluate_test_configs/downstream_task_boosted_trees.gin",
    "tests/evaluation/evaluate_test_configs/downstream_task_logistic_regression.gin",
    "tests/evaluation/evaluate_test_configs/fairness.gin",
    "tests/evaluation/evaluate_test_configs/reduced_downstream_task.gin",
])
def test_the_original_configs_bind_these_metrics(relative):
  from dlib_torch import gin_registry  # pylint: disable=g-import-not-at-top
  from dlib_torch.config import resources  # pylint: disable=g-import-not-at-top
  gin_registry.register_for("evaluation")
  gin.clear_config()
  gin.parse_config_file(resources.config_path(relative))
  metric = gin.get_bindings("evaluation")["evaluation_fn"]
  assert metric.__module__.startswith("dlib_torch.evaluation.metrics.")
  assert gin.get_bindings(metric)  # e.g. downstream_task.num_train is bound
