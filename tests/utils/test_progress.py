"""utils.progress: log lines off a terminal, a bar on one; the metrics' sampling, encoding, fitting."""
import logging
import sys

import numpy as np
import pytest
from sklearn import linear_model

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import batching
from dlib_torch.utils import progress


@pytest.fixture
def lines(caplog, monkeypatch):
  """The progress lines logged, with a line due at every update (no waiting)."""
  monkeypatch.setattr(progress, "LOG_EVERY_S", 1e-9)
  caplog.set_level(logging.INFO)
  return lambda: [r.getMessage() for r in caplog.records if r.pathname.endswith("progress.py")]


def test_log_lines_off_a_terminal(lines):
  assert not sys.stderr.isatty()
  with progress.Progress(10, "work", "items") as report:
    report.update(4)
    report.update(6, {"loss": 1.5})
  assert lines() == ["work: 4 of 10 items", "work: 10 of 10 items: loss = 1.5",
                     "work: 10 of 10 items"]


def test_only_asked_lines_when_not_by_the_clock(lines):
  report = progress.Progress(300, "training", "steps", initial=100, log_every_s=0)
  report.update(100)
  report.update(100, {"loss": 2.}, log_now=True)
  report.close()
  assert lines() == ["training: 300 of 300 steps: loss = 2"]


def test_a_bar_on_a_terminal_and_no_log_lines(lines, monkeypatch, capsys):
  monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
  with progress.Progress(4, "encoding", "observations") as report:
    report.update(4)
  assert "encoding:   0%|" in capsys.readouterr().err  # tqdm refreshes at most every 0.1 s.
  assert not lines()


def test_disabled_reports_nothing(lines):
  with progress.Progress(4, "download", enabled=False) as report:
    report.update(4)
  assert not lines()


def test_sampling_and_encoding_report_the_points(lines):
  data = dummy_data.DummyData()

  def representation(observations):
    return observations.reshape(len(observations), -1)[:, :3]

  codes, factors = utils.generate_batch_factor_code(
      data, representation, 50, np.random.RandomState(0), 16)
  assert codes.shape == (3, 50) and factors.shape[1] == 50
  assert lines() == ["encoding: {} of 50 observations".format(n) for n in (16, 32, 48, 50, 50)]
  codes = utils.obtain_representation(
      data.sample_observations(20, np.random.RandomState(0)),
      batching.declare_any_batch_size(representation), 8)
  assert codes.shape == (3, 20)
  assert lines()[-1] == "encoding: 20 of 20 observations"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_fitting_reports_each_factor(lines, n_jobs):
  x = np.random.RandomState(0).normal(size=(40, 2))
  ys = np.stack([x[:, 0] > 0, x[:, 1] > 0, x[:, 0] > x[:, 1]]).astype(int)
  fitted = utils.fit_per_factor(linear_model.LogisticRegression, x, ys, n_jobs=n_jobs)
  assert min(model.score(x, y) for model, y in zip(fitted, ys)) > 0.9
  assert lines() == ["fitting LogisticRegression per factor: {} of 3 factors".format(n)
                     for n in (1, 2, 3, 3)]
