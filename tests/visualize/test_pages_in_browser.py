"""The HTML pages people look at, opened in a real headless Chromium (tests/browser.py).

A model card (dvisualize's visualizations/index.html) and a study report
(dreport) must load every image, video and object on them and log no error;
a screenshot of each is kept (in $DLIB_TEST_ARTIFACTS if set, else the test's
tmp folder; the path is printed). Skipped where Chromium cannot start (the
reason says why), except under CI=true, where .ci/run installs it and a skip
would hide a broken page.
"""
import os

import pytest

from dlib_torch.tests import browser
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers
from dlib_torch.tests.visualize import study_results


@pytest.fixture(scope="module")
def chromium():
  try:
    with browser.chromium() as driver:
      yield driver
  except browser.Unavailable as e:
    message = "no headless Chromium: {}".format(e)
    if os.environ.get("CI") == "true":
      pytest.fail(message)
    pytest.skip(message)


def _check(chromium, root, page, screenshot):
  check = browser.check_page(chromium, root, page, screenshot)
  print("screenshot of {}: {}".format(page, screenshot))
  assert check.resources, "nothing to load on " + page
  assert not check.broken, check.broken
  assert not check.errors, check.errors
  with open(screenshot, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  return check


def test_checker_reports_a_broken_image_and_a_script_error(chromium, tmp_path):
  """What the page tests rely on: a missing file and a script error do not pass unseen."""
  (tmp_path / "page.html").write_text(
      '<!DOCTYPE html><html><body><img src="absent.png"><object data="absent.svg"></object>'
      "<script>notAFunction();</script></body></html>")
  check = browser.check_page(chromium, str(tmp_path), "page.html", str(tmp_path / "shot.png"))
  assert [(tag, os.path.basename(url)) for tag, url, _ in check.broken] == [
      ("img", "absent.png"), ("object", "absent.svg")]
  assert any("absent.png" in e for e in check.errors)
  assert any("notAFunction" in e for e in check.errors)


@pytest.mark.slow
def test_model_card_loads_in_chromium(chromium, tmp_path):
  paths = helpers.train_and_postprocess(str(tmp_path))
  visualizations = str(tmp_path / "visualizations")
  completed = commands.run("dvisualize", "--model_dir=" + paths["model"],
                           "--output_dir=" + visualizations, "--device=cpu")
  assert completed.returncode == 0, completed.stderr
  check = _check(chromium, visualizations, "index.html",
                 browser.artifact_path(tmp_path, "model_card.png"))
  assert any(url.endswith(".gif") for _, url in check.resources)


def test_study_report_loads_and_sorts_in_chromium(chromium, tmp_path):
  runs = str(tmp_path / "runs")
  study_results.write_study(runs)
  results_json = str(tmp_path / "results.json")
  report = str(tmp_path / "report")
  for command, flags in (
      ("daggregate", ["--result_file_pattern=" + os.path.join(
          runs, "*", "metrics", "*", "*", "results", "aggregate", "evaluation.json"),
                      "--output_path=" + results_json]),
      ("dreport", ["--input=" + results_json, "--output=" + report])):
    completed = commands.run(command, *flags)
    assert completed.returncode == 0, completed.stderr
  check = _check(chromium, str(tmp_path), "report/index.html",
                 browser.artifact_path(tmp_path, "study_report.png"))
  assert len(check.resources) == 13  # 6 scores x 2 distributions, and the correlations.

  # A click on a score's header sorts the models by it, a second click the other way.
  column = chromium.execute_script(
      "return Array.from(document.querySelectorAll('th')).findIndex("
      "th => th.textContent === 'mig: discrete_mig (mean)');")
  assert column > 0
  values = ("return Array.from(document.querySelectorAll('tbody tr')).map("
            "row => Number(row.cells[arguments[0]].getAttribute('data-value')));")
  header = chromium.find_elements("css selector", "th")[column]
  header.click()
  ascending = chromium.execute_script(values, column)
  assert len(ascending) == 12 and ascending == sorted(ascending)
  header.click()
  assert chromium.execute_script(values, column) == sorted(ascending, reverse=True)
