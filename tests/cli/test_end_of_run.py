"""What dreproduce ends with: the model's scores and its card; for --model_nums, what finished."""
import os

import pytest

from dlib_torch.tests import commands
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import atomic_io
from dlib_torch.visualize import model_scores

METRICS = "--metrics=mig,sap_score"


def _score(out, representation, metric, key):
  return atomic_io.read_json(os.path.join(out, "metrics", representation, metric, "results",
                                          "json", "evaluation_results.json"))[key]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """Model 0 of the test study, run by dreproduce into ROOT/0."""
  root = str(tmp_path_factory.mktemp("runs"))
  out = os.path.join(root, "0")
  completed = commands.run("dreproduce", "--study=test", "--output_directory=" + out, METRICS)
  assert completed.returncode == 0, completed.stderr
  return root, out, completed.stdout


def test_dreproduce_ends_with_the_scores_and_the_card(finished):
  _, out, stdout = finished
  lines = stdout.rstrip().splitlines()
  card = os.path.join(out, "visualizations", "index.html")
  assert lines[-1] == "Model card (every score, curves, pictures): " + card
  table = lines[-4:-1]
  assert table[0].split() == ["score", "mean", "sampled"]
  for row, (metric, key) in zip(table[1:], [("mig", "discrete_mig"), ("sap_score", "SAP_score")]):
    assert row.split() == ["{}.{}".format(metric, key)] + [
        model_scores.format_value(_score(out, r, metric, key)) for r in ("mean", "sampled")]
  assert lines[-5] == "Scores of {}:".format(out)
  # The card, rebuilt after the evaluations, holds every score of both representations.
  with open(card) as f:
    page = f.read()
  for metric, key in [("mig", "discrete_mig"), ("sap_score", "SAP_score")]:
    for representation in ("mean", "sampled"):
      value = model_scores.format_value(_score(out, representation, metric, key))
      assert '<td class="num">{}</td>'.format(value) in page


def test_model_nums_end_with_what_finished_and_the_report(finished):
  root, _, _ = finished
  with open(os.path.join(root, "1"), "w") as f:
    f.write("a file where model 1's folder would go: its job fails")
  completed = commands.run("dreproduce", "--study=test", "--model_nums=0-1", METRICS,
                           "--output_directory=" + os.path.join(root, "{model_num}"))
  assert completed.returncode == 1
  aggregate = os.path.join(root, "results.json")
  assert completed.stdout.rstrip().splitlines()[-3:] == [
      "1 of 2 models finished; did not finish: 1",
      "Every evaluation of the study's models: " + aggregate,
      "Study report: dreport --input={} --output={}".format(aggregate,
                                                            os.path.join(root, "report"))]
  assert completed.stderr.strip().splitlines()[-1].startswith("Error: models 1 did not finish")
  rows = aggregate_results.load_aggregated_json_results(aggregate)
  assert sorted(rows["evaluation_results.discrete_mig"].dropna()) == pytest.approx(sorted(
      _score(os.path.join(root, "0"), r, "mig", "discrete_mig") for r in ("mean", "sampled")),
      rel=1e-8)  # pandas writes 10 digits.
