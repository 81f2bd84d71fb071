"""Tests for the metric helpers in dlib_torch.evaluation.metrics.utils."""
import gin
import numpy as np
import pytest
from sklearn import ensemble
from sklearn import metrics as sk_metrics

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import batching


def _sample_in_original_order(data, rep_fn, num_points, seed, batch_size):
  """The original's loop: sample a batch, represent it, repeat."""
  rs = np.random.RandomState(seed)
  reps, factors = [], []
  for start in range(0, num_points, batch_size):
    f, obs = data.sample(min(num_points - start, batch_size), rs)
    factors.append(f)
    reps.append(rep_fn(obs))
  return np.vstack(reps).T, np.vstack(factors).T, rs


class TestGenerateBatchFactorCode:

  @pytest.mark.parametrize("any_batch_size, expected_calls", [
      (False, [16, 16, 16, 2]),  # The original's batches.
      (True, [50]),  # One chunk instead of four batches.
  ])
  def test_same_draws_and_codes_as_one_batch_at_a_time(self, any_batch_size, expected_calls):
    data = dummy_data.DummyData()  # Rendering draws from the random state.
    calls = []

    def rep_fn(x):
      calls.append(len(x))
      return np.mean(x, axis=(1, 2)).astype(np.float32)

    expected_codes, expected_factors, expected_rs = _sample_in_original_order(
        data, rep_fn, 50, 3, 16)
    calls.clear()
    if any_batch_size:
      batching.declare_any_batch_size(rep_fn)
    rs = np.random.RandomState(3)
    codes, factors = utils.generate_batch_factor_code(data, rep_fn, 50, rs, 16)
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(factors, expected_factors)
    assert codes.dtype == np.float32 and codes.shape == (1, 50)
    assert factors.shape == (10, 50)
    assert rs.randint(1000) == expected_rs.randint(1000)
    assert calls == expected_calls

  def test_chunks_follow_memory_size(self):
    batches = [np.full((3, 2), i, dtype=np.float64) for i in range(5)]
    calls = []

    @batching.declare_any_batch_size
    def rep_fn(x):
      calls.append(len(x))
      return x[:, :1] * 2

    codes = utils.represent_batches(iter(batches), rep_fn, chunk_bytes=96)
    assert calls == [6, 6, 3]
    for i, c in enumerate(codes):
      np.testing.assert_array_equal(c, np.full((3, 1), 2. * i))

  def test_a_plain_function_gets_each_batch_in_pieces_of_batch_size(self):
    batches = [np.full((5, 2), i, dtype=np.float64) for i in range(3)]
    calls = []

    def rep_fn(x):
      calls.append(len(x))
      return x[:, :1] * 2

    codes = utils.represent_batches(iter(batches), rep_fn, 2, chunk_bytes=96)
    assert calls == [2, 2, 1] * 3
    for i, c in enumerate(codes):
      np.testing.assert_array_equal(c, np.full((5, 1), 2. * i))
    calls.clear()
    utils.represent_batches(iter(batches), rep_fn)
    assert calls == [5, 5, 5]


class TestRepresentFactorBatches:
  """Observations rendered per chunk where rendering draws nothing and the function
  takes any batch size, else per batch."""

  @pytest.mark.parametrize("any_batch_size", [False, True])
  @pytest.mark.parametrize("name", ["procedural_dsprites", "procedural_noisy_dsprites"])
  def test_same_draws_and_codes_as_rendering_each_batch(self, name, any_batch_size):
    data = named_data.get_named_ground_truth_data(name)
    calls = []

    def rep_fn(x):
      calls.append(len(x))
      return x.reshape(len(x), -1)[:, ::997].astype(np.float32)

    def factor_batches(rs):
      for size in (5, 7, 5, 3):  # Drawing factors uses the random state too.
        yield data.sample_factors(size, rs)

    rs = np.random.RandomState(4)
    expected = [rep_fn(data.sample_observations_from_factors(f, rs))
                for f in factor_batches(rs)]
    expected_next = rs.randint(1000)
    if any_batch_size:
      batching.declare_any_batch_size(rep_fn)
    calls.clear()
    renders = []
    render = data.sample_observations_from_factors
    data.sample_observations_from_factors = lambda f, rs: renders.append(len(f)) or render(f, rs)
    rs = np.random.RandomState(4)
    codes = utils.represent_factor_batches(factor_batches(rs), data, rep_fn, rs,
                                           chunk_bytes=12 * 64 * 64 * 4)
    for code, expected_code in zip(codes, expected):
      np.testing.assert_array_equal(code, expected_code)
    assert len(codes) == 4 and rs.randint(1000) == expected_next
    # Noise draws from the random state, and a plain function is called per
    # batch: each batch is rendered after its factors; otherwise a chunk (12
    # float32 images here) at a time.
    chunked = any_batch_size and not data.observations_draw_random
    assert renders == ([12, 8] if chunked else [5, 7, 5, 3])
    if not any_batch_size:
      assert calls == [5, 7, 5, 3]
    elif chunked:
      assert calls == [12, 8]


@pytest.mark.parametrize("any_batch_size, expected_calls", [(False, [3, 3, 3, 1]),
                                                            (True, [10])])
def test_obtain_representation(any_batch_size, expected_calls):
  obs = np.arange(20.).reshape(10, 2)
  calls = []

  def rep_fn(x):
    calls.append(len(x))
    return x[:, ::-1]

  if any_batch_size:
    batching.declare_any_batch_size(rep_fn)
  np.testing.assert_array_equal(utils.obtain_representation(obs, rep_fn, 3), obs[:, ::-1].T)
  assert calls == expected_calls


def test_split_train_test():
  train, test = utils.split_train_test(np.zeros([10, 100]), 0.9)
  assert train.shape == (10, 90) and test.shape == (10, 10)
  train, test = utils.split_train_test(np.arange(7)[None], 0.5)
  np.testing.assert_array_equal(train, [[0, 1, 2, 3]])
  np.testing.assert_array_equal(test, [[4, 5, 6]])


def test_histogram_discretizer():
  target = np.array([[.1, .2, .3, .4, .5, .6], [.6, .5, .4, .3, .2, .1]])
  result = utils.histogram_discretizer(target, num_bins=3)
  np.testing.assert_array_equal(result, [[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]])
  assert result.dtype == target.dtype


def test_histogram_discretizer_matches_numpy_histogram_per_row():
  rs = np.random.RandomState(0)
  target = rs.normal(size=(4, 300)).astype(np.float32)
  target[3] = 2.5  # A constant row: numpy's edges are [v - .5, v + .5].
  result = utils.histogram_discretizer(target, num_bins=20)
  for row, codes in zip(target, result):
    np.testing.assert_array_equal(
        codes, np.digitize(row, np.histogram(row, 20)[1][:-1]))
  assert result.dtype == np.float32 and result.min() >= 1 and result.max() <= 20


def test_discretizer_gin_wrapper():
  gin.clear_config()
  gin.parse_config_files_and_bindings([], [
      "discretizer.discretizer_fn = @histogram_discretizer",
      "discretizer.num_bins = 2"])
  try:
    np.testing.assert_array_equal(
        utils.make_discretizer(np.array([[0., 1., 2., 3.]])), [[1, 1, 2, 2]])
  finally:
    gin.clear_config()


def test_discrete_entropy():
  np.testing.assert_allclose(
      utils.discrete_entropy(np.array([[1, 1, 2, 2, 3, 3], [0, 0, 0, 0, 0, 0]])),
      [np.log(3), 0.])


def test_discrete_mutual_info():
  xs = np.array([[1, 2, 1, 2], [1, 1, 2, 2]])
  ys = np.array([[1, 2, 1, 2], [2, 2, 1, 1]])
  np.testing.assert_allclose(utils.discrete_mutual_info(xs, ys),
                             [[np.log(2), 0.], [0., np.log(2)]])


def test_discrete_mutual_info_equals_sklearn():
  rs = np.random.RandomState(1)
  mus = rs.randint(20, size=(4, 500)).astype(np.float32)
  mus[1] = np.floor(mus[0] / 3)  # Dependent on code 0.
  mus[3] = 7.  # Constant.
  ys = rs.randint(40, size=(3, 500))
  ys[2] = mus[0] + 1000 * rs.randint(600, size=500)  # Many distinct labels.
  expected = [[sk_metrics.mutual_info_score(y, mu) for y in ys] for mu in mus]
  np.testing.assert_allclose(utils.discrete_mutual_info(mus, ys), expected,
                             rtol=1e-12, atol=1e-14)


def test_normalize_data():
  data = np.array([[1., 2., 3.], [10., 10., 40.]])
  normalized, mean, stddev = utils.normalize_data(data)
  np.testing.assert_allclose(mean, [2., 20.])
  np.testing.assert_allclose(stddev, [np.sqrt(2. / 3.), np.sqrt(200.)])
  np.testing.assert_allclose(normalized.mean(axis=1), 0., atol=1e-12)
  np.testing.assert_allclose(normalized.std(axis=1), 1.)
  again, _, _ = utils.normalize_data(data[:, :1], mean, stddev)
  np.testing.assert_allclose(again, normalized[:, :1])


def test_predictors():
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [], ["predictor.predictor_fn = @logistic_regression_cv"])
  try:
    model = utils.make_predictor_fn()()
  finally:
    gin.clear_config()
  assert model.Cs == 10 and model.cv.n_splits == 5 and not model.cv.shuffle
  gbt = utils.gradient_boosting_classifier()
  assert gbt.get_params() == ensemble.GradientBoostingClassifier().get_params()


class TestFitPerFactor:

  def _data(self):
    rs = np.random.RandomState(0)
    x = rs.normal(size=(200, 3))
    # Duplicated features make split tie-breaking depend on the random draws.
    x = np.hstack([x, x])
    ys = np.stack([(x[:, 0] > 0).astype(int), np.digitize(x[:, 1], [-.5, .5])])
    return x, ys

  def _importances(self, n_jobs, global_seed):
    x, ys = self._data()
    np.random.seed(global_seed)
    models = utils.fit_per_factor(utils.gradient_boosting_classifier, x, ys,
                                  n_jobs=n_jobs)
    return np.stack([m.feature_importances_ for m in models]), np.random.rand()

  def test_reproducible_and_independent_of_process_count(self):
    sequential, next_draw = self._importances(1, 0)
    again, next_draw_again = self._importances(1, 0)
    parallel, next_draw_parallel = self._importances(2, 0)
    np.testing.assert_array_equal(sequential, again)
    np.testing.assert_array_equal(sequential, parallel)
    assert next_draw == next_draw_again == next_draw_parallel

  def test_fits_each_factor(self):
    x, ys = self._data()
    models = utils.fit_per_factor(utils.gradient_boosting_classifier, x, ys, n_jobs=1)
    assert [list(m.classes_) for m in models] == [[0, 1], [0, 1, 2]]
    for model, y in zip(models, ys):
      assert np.mean(model.predict(x) == y) == 1.

  def test_global_seed_changes_tie_breaking(self):
    first, _ = self._importances(1, 0)
    second, _ = self._importances(1, 1)
    assert not np.array_equal(first, second)
