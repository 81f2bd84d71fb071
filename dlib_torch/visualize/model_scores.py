"""The metric values of one model's output folder, for its model card and dreproduce's last lines.

A model's folder holds metrics/<representation>/<metric>/results/json/
evaluation_results.json per evaluation (dreproduce's layout). `read_scores`
collects their scalar values; `headline` picks the few that each metric is
known by (the ones papers report), for a short table.
"""
import glob
import numbers
import os

from dlib_torch.utils import atomic_io

# What every step's results record beside the metric's own values.
_BOOKKEEPING = {"elapsed_time", "uuid", "device", "num_threads", "cuda_visible_devices"}

# The values each metric of the studies is reported by; other metrics show
# their first values that are not scored on training points.
_HEADLINE_KEYS = {
    "beta_vae_sklearn": ["eval_accuracy"],
    "factor_vae_metric": ["eval_accuracy"],
    "dci": ["disentanglement", "completeness", "informativeness_test"],
    "mig": ["discrete_mig"],
    "sap_score": ["SAP_score"],
    "modularity_explicitness": ["modularity_score", "explicitness_score_test"],
    "irs": ["IRS"],
    "unsupervised": ["gaussian_total_correlation", "mutual_info_score"],
}
_OTHER_METRICS_KEYS = 3


def read_scores(output_folder):
  """{metric: {representation: {key: number}}} of the finished evaluations in a model's folder.

  Only scalar values are kept (lists and matrices stay in the results files);
  metrics and representations are in name order.
  """
  pattern = os.path.join(glob.escape(output_folder), "metrics", "*", "*", "results", "json",
                         "evaluation_results.json")
  scores = {}
  for path in sorted(glob.glob(pattern)):
    parts = os.path.normpath(path).split(os.sep)
    representation, metric = parts[-5], parts[-4]
    values = atomic_io.read_json(path)
    scores.setdefault(metric, {})[representation] = {
        key: value for key, value in values.items()
        if key not in _BOOKKEEPING and isinstance(value, numbers.Number)
        and not isinstance(value, bool)}
  return dict(sorted(scores.items()))


def representations(scores):
  """The representations that have any score, in name order."""
  return sorted({name for by_representation in scores.values() for name in by_representation})


def headline(scores):
  """[(metric, key)] of the values a short table shows, in metric order."""
  rows = []
  for metric, by_representation in scores.items():
    keys = sorted({key for values in by_representation.values() for key in values})
    rows += [(metric, key) for key in _headline_keys(metric, keys)]
  return rows


def _headline_keys(metric, keys):
  if metric in _HEADLINE_KEYS:
    return [key for key in _HEADLINE_KEYS[metric] if key in keys]
  # Downstream tasks: the mean test accuracy with the most training points.
  test_accuracies = [key for key in keys if key.endswith(":mean_test_accuracy")]
  if test_accuracies:
    return [max(test_accuracies, key=lambda key: int(key.split(":")[0])
                if key.split(":")[0].isdigit() else -1)]
  return [key for key in keys if "train" not in key][:_OTHER_METRICS_KEYS]


def format_value(value):
  """A score as a table shows it: integers as they are, other numbers to 4 digits."""
  if isinstance(value, numbers.Integral):
    return str(value)
  return "{:.4g}".format(value)


def text_table(scores, rows):
  """Lines of a plain-text table: one row per (metric, key), a column per representation."""
  columns = representations(scores)
  body = [["{}.{}".format(metric, key)] +
          [format_value(scores[metric][column][key])
           if key in scores[metric].get(column, {}) else "-" for column in columns]
          for metric, key in rows]
  header = ["score"] + columns
  widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
  return ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                    for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
          for row in [header] + body]
