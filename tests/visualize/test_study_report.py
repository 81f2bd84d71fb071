"""dreport: the study report of daggregate's output, from result folders of 12 (or 24) models.

The models' results are written as dreproduce writes them (study_results), then
aggregated by the installed daggregate and reported by the installed dreport.
"""
import html.parser
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from dlib_torch.tests import commands
from dlib_torch.tests.visualize import study_results
from dlib_torch.utils import atomic_io
from dlib_torch.visualize import study_scores

DSPRITES, SHAPES = "procedural_dsprites", "procedural_shapes3d"
# The headline score of each metric, per representation: what the report draws.
SCORES = ["{}: {} ({})".format(metric, key, representation)
          for representation in study_results.REPRESENTATIONS
          for metric, key in (("dci", "disentanglement"), ("mig", "discrete_mig"),
                              ("sap_score", "SAP_score"))]
LEFT_OUT = (7, "mean", "sap_score")  # An evaluation model 7 does not have.
NO_CARD = 11  # The model whose visualizations were not made.


class _Page(html.parser.HTMLParser):
  """The images (alt -> src), model links and missing-list items of a report page."""

  def __init__(self, path):
    super().__init__()
    self.images, self.links, self.missing, self.rows, self.text = {}, [], [], 0, []
    self._tags = []
    with open(path) as f:
      self.feed(f.read())

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    self._tags.append(tag)
    if tag == "img":
      self.images[attrs["alt"]] = attrs["src"]
    elif tag == "a" and "tbody" in self._tags:
      self.links.append(attrs["href"])
    elif tag == "tr" and "tbody" in self._tags:
      self.rows += 1

  def handle_endtag(self, tag):
    while self._tags and self._tags.pop() != tag:
      pass

  def handle_data(self, data):
    self.text.append(data)
    if self._tags and self._tags[-1] == "li":
      self.missing.append(data)


def _aggregate(root, output):
  completed = commands.run("daggregate", "--result_file_pattern=" + os.path.join(
      root, "*", "metrics", "*", "*", "results", "aggregate", "evaluation.json"),
                           "--output_path=" + output)
  assert completed.returncode == 0, completed.stderr
  return output


def _report(*flags):
  completed = commands.run("dreport", *flags)
  assert completed.returncode == 0, completed.stderr
  return completed


def _write_cards(folders, without):
  for folder in folders:
    if not folder.endswith(os.sep + str(without)):
      atomic_io.write_text(os.path.join(folder, "visualizations", "index.html"), "<html></html>")


def _assert_png(path):
  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", path


@pytest.fixture(scope="module")
def twelve_models(tmp_path_factory):
  """12 models (2 methods x 2 values x 3 seeds), aggregated: (root, results.json)."""
  root = str(tmp_path_factory.mktemp("study"))
  folders = study_results.write_study(os.path.join(root, "runs"), skip={LEFT_OUT})
  _write_cards(folders, NO_CARD)
  return root, _aggregate(os.path.join(root, "runs"), os.path.join(root, "results.json"))


def test_report_of_twelve_models_has_every_figure_table_row_and_gap(twelve_models):
  root, results_json = twelve_models
  report = os.path.join(root, "report")
  _report("--input=" + results_json, "--output=" + report)
  page = _Page(os.path.join(report, "index.html"))
  expected = ["{}: {} by method".format(DSPRITES, s) for s in SCORES]
  expected += ["{}: {} by hyper-parameter value".format(DSPRITES, s) for s in SCORES]
  expected.append("{}: rank correlation between scores".format(DSPRITES))
  assert sorted(page.images) == sorted(expected)
  for src in page.images.values():
    _assert_png(os.path.join(report, src))
  assert "One data set ({}): nothing to correlate.".format(DSPRITES) in page.text

  # Every model, each linking to its model card by a relative path.
  assert page.rows == 12
  cards = sorted(os.path.normpath(os.path.join(report, link)) for link in page.links)
  assert cards == sorted(os.path.join(root, "runs", str(n), "visualizations", "index.html")
                         for n in range(12))
  assert not any(os.path.isabs(link) for link in page.links)

  runs = os.path.join(root, "runs")
  assert page.missing == [
      "{}/7 ({}): mean/sap_score".format(runs, DSPRITES), "{}/{}".format(runs, NO_CARD)]


def test_report_draws_the_scores_written(twelve_models):
  """The values behind the figures are the results files' scores, grouped by hyper-parameter."""
  root, results_json = twelve_models
  study = study_scores.load(results_json)
  assert study.hyper_parameters == {"beta_vae": ["vae.beta"],
                                    "beta_tc_vae": ["beta_tc_vae.beta"]}
  assert study.configs("beta_vae") == ["vae.beta = 1.0", "vae.beta = 4.0"]
  assert [study_scores.score_label(s) for s in study.scores] == SCORES
  folder = os.path.join(root, "runs", "0")
  written = atomic_io.read_json(os.path.join(
      folder, "metrics", "sampled", "mig", "results", "json", "evaluation_results.json"))
  # daggregate keeps 10 decimals (pandas' to_json default).
  assert study.models.loc[folder, "mig: discrete_mig (sampled)"] == pytest.approx(
      written["discrete_mig"], abs=1e-10)
  assert np.isnan(study.models.loc[os.path.join(root, "runs", "7"), "sap_score: SAP_score (mean)"])

  every = study_scores.load(results_json, all_scores=True)
  assert {s.key for s in every.scores if s.metric == "dci"} == {
      "completeness", "disentanglement", "informativeness_test"}


def test_two_datasets_are_correlated_and_a_missing_model_is_named(tmp_path):
  runs = str(tmp_path / "runs")
  study_results.write_study(runs)
  folders = study_results.write_study(runs, dataset=SHAPES, first_model_num=12)
  shutil.rmtree(folders[1])  # Model 13: beta_vae, vae.beta = 1.0, seed 1.
  results_json = _aggregate(runs, str(tmp_path / "results.json"))
  report = str(tmp_path / "report")
  _report("--input=" + results_json, "--output=" + report)
  page = _Page(os.path.join(report, "index.html"))
  for score in SCORES:
    _assert_png(os.path.join(report, page.images[
        "{}: rank correlation between data sets".format(score)]))
    for dataset in (DSPRITES, SHAPES):
      assert "{}: {} by method".format(dataset, score) in page.images
  assert page.rows == 23
  assert "{}, beta_vae, vae.beta = 1.0, 1".format(SHAPES) in page.missing

  study = study_scores.load(results_json)
  matched = study_scores.matched_across_datasets(study, study.scores[0])
  assert list(matched.columns) == [DSPRITES, SHAPES]
  assert len(matched) == 12 and matched[SHAPES].isna().sum() == 1
  assert matched.loc[("beta_vae", "vae.beta = 4.0", "2"), SHAPES] == \
      study.models.loc[os.path.join(runs, "17"), study_scores.score_label(study.scores[0])]


def test_missing_scores_and_unknown_folders_from_rows():
  """Rows without the study layout's paths: models by their training uuid, NaN scores named."""
  rows = pd.DataFrame({
      "train_config.dataset.name": ["'d'"] * 3,
      "train_config.model.model": ["@vae()"] * 3,
      "train_config.vae.beta": ["1.0", "2.0", "3.0"],
      "train_config.model.random_seed": ["0"] * 3,
      "train_results.uuid": ["a", "b", "c"],
      "evaluation_config.evaluation.evaluation_fn": ["@mig"] * 3,
      "postprocess_config.postprocess.postprocess_fn": ["@mean_representation"] * 3,
      "evaluation_results.discrete_mig": [0.1, float("nan"), 0.3],
      "path": ["x.json", "y.json", "z.json"],
  })
  study = study_scores.from_rows(rows)
  assert list(study.models.index) == ["a", "b", "c"]
  assert study.models["folder"].isna().all()
  assert list(study.models["method"]) == ["vae"] * 3
  assert [(m, study_scores.score_label(s)) for m, s in study_scores.missing_values(study)] == [
      ("b", "mig: discrete_mig (mean_representation)")]
  assert study_scores.missing_models(study) == []


@pytest.mark.parametrize("case", ["no_flags", "no_input", "train_only", "output_exists",
                                  "no_matplotlib"])
def test_bad_input_is_one_line_and_writes_nothing(twelve_models, tmp_path, case):
  root, results_json = twelve_models
  report = str(tmp_path / "report")
  flags = ["--input=" + results_json, "--output=" + report]
  env = None
  if case == "no_flags":
    flags = ["--output=" + report]
  elif case == "no_input":
    flags[0] = "--input=" + str(tmp_path / "absent.json")
  elif case == "train_only":  # daggregate's output of training results: no evaluation.
    flags[0] = "--input=" + _aggregate_train(root, str(tmp_path / "train.json"))
  elif case == "output_exists":
    atomic_io.write_text(os.path.join(report, "notes.txt"), "mine")
  else:
    # A sitecustomize that makes matplotlib unimportable in the command's interpreter.
    atomic_io.write_text(str(tmp_path / "hide" / "sitecustomize.py"),
                         "import sys\nsys.modules['matplotlib'] = None\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "hide"))
  completed = commands.run("dreport", *flags, env=env)
  assert completed.returncode == 2, completed.stderr
  lines = completed.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("Error: "), completed.stderr
  assert ("matplotlib" in lines[0]) == (case == "no_matplotlib")
  if case == "output_exists":
    assert os.listdir(report) == ["notes.txt"]
  else:
    assert not os.path.exists(report)


def _aggregate_train(root, output):
  completed = commands.run("daggregate", "--result_file_pattern=" + os.path.join(
      root, "runs", "*", "model", "results", "aggregate", "train.json"), "--output_path=" + output)
  assert completed.returncode == 0, completed.stderr
  return output


def test_overwrite_replaces_the_report(twelve_models, tmp_path):
  _, results_json = twelve_models
  report = str(tmp_path / "report")
  atomic_io.write_text(os.path.join(report, "old.txt"), "old")
  _report("--input=" + results_json, "--output=" + report, "--overwrite")
  assert "old.txt" not in os.listdir(report) and "index.html" in os.listdir(report)
