"""The scores of a study as one table per model, read from daggregate's output.

daggregate writes one row per evaluation (a model, a representation, a metric)
with the namespaced configs and results of every step. A study report needs
one row per model: its data set, method, hyper-parameter values and seed, and
one column per score ("mig: discrete_mig (mean)"), plus what is missing: the
evaluations some models have and others lack, scores that are not numbers,
and configurations of the study's grid without any model.
"""
import collections
import itertools
import os
import re

import numpy as np
import pandas as pd

from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors

# The score of each of the original's metrics that Locatello et al. (2019) plot;
# a metric not listed here contributes all its numeric results.
HEADLINE_KEYS = {
    "beta_vae_sklearn": ("eval_accuracy",),
    "factor_vae_metric": ("eval_accuracy",),
    "mig": ("discrete_mig",),
    "dci": ("disentanglement",),
    "modularity_explicitness": ("modularity_score",),
    "sap_score": ("SAP_score",),
    "irs": ("IRS",),
    "unsupervised": ("gaussian_total_correlation", "mutual_info_score"),
}
_HEADLINE_SUFFIX = {"downstream_task": ":mean_test_accuracy"}
# What every step records beside its scores.
_BOOKKEEPING = ("elapsed_time", "uuid", "device", "num_threads", "cuda_visible_devices",
                "precision")
# Training settings that tell models apart without being hyper-parameters.
_NOT_HYPER_PARAMETERS = ("model.random_seed", "model.model_num", "dataset.name",
                         "model.name", "model.model")
_REQUIRED_COLUMNS = ("train_config.dataset.name", "evaluation_config.evaluation.evaluation_fn")

Score = collections.namedtuple("Score", ["representation", "metric", "key"])


def score_label(score):
  return "{}: {} ({})".format(score.metric, score.key, score.representation)


class Study(
    collections.namedtuple("Study", ["models", "scores", "hyper_parameters", "evaluations"])):
  """A study's scores, one row per model.

  models: DataFrame indexed by model id (its folder, else its training uuid)
    with columns folder (None if unknown), dataset, method, config (the
    hyper-parameter values as one label), seed, model_num, then one column per
    Score, named by score_label (NaN where missing).
  scores: the Score columns, in order.
  hyper_parameters: {method: [train_config keys that vary between its models]}.
  evaluations: {model id: set of (representation, metric) it has results for}.
  """

  def datasets(self):
    return sorted(self.models["dataset"].unique())

  def methods(self):
    return sorted(self.models["method"].unique())

  def configs(self, method):
    """The hyper-parameter labels of a method, in the order of their values."""
    rows = self.models[self.models["method"] == method]
    return sorted(rows["config"].unique(), key=_natural_key)


def load(path, all_scores=False, base_dir=None):
  """Reads daggregate's JSON at path into a Study.

  Args:
    path: the aggregated JSON (rows of evaluation results).
    all_scores: every numeric result of every metric, not only the headline ones.
    base_dir: where relative result paths are resolved (default: the current
      folder, else the JSON's folder, whichever holds them).

  Raises:
    UserError: if path is not daggregate's output of evaluation results.
  """
  if not os.path.isfile(path):
    raise errors.UserError("Input file not found: {}".format(path))
  try:
    rows = aggregate_results.load_aggregated_json_results(path)
  except ValueError as e:
    raise errors.UserError("{} is not daggregate's output ({}).".format(path, e)) from e
  missing = [c for c in _REQUIRED_COLUMNS if c not in rows.columns]
  if missing or rows.empty:
    raise errors.UserError("{} holds no evaluation results (daggregate's output of "
                           "metrics/*/*/results/aggregate/evaluation.json files; missing {})."
                           .format(path, ", ".join(missing) or "rows"))
  return from_rows(rows, all_scores, _base_dir(rows, path) if base_dir is None else base_dir)


def from_rows(rows, all_scores=False, base_dir="."):
  """A Study from the rows of an aggregated DataFrame (one per evaluation)."""
  rows = rows.reset_index(drop=True)
  paths = _column(rows, "path")
  folders = paths.map(_folder_in_path)
  evaluation = pd.DataFrame({
      "model": folders.where(folders.notna(), _column(rows, "train_results.uuid")).where(
          lambda ids: ids.notna(), paths.astype(str)),
      "folder": folders.map(
          lambda f: None if f is None else os.path.normpath(os.path.join(base_dir, f))),
      "dataset": _unquoted(rows["train_config.dataset.name"]),
      "method": _named(rows, "train_config.model.name", "train_config.model.model"),
      "seed": _unquoted(_column(rows, "train_config.model.random_seed")),
      "model_num": _unquoted(_column(rows, "train_config.model.model_num")),
      "representation": _named(rows, "postprocess_config.postprocess.name",
                               "postprocess_config.postprocess.postprocess_fn"),
      "metric": _named(rows, "evaluation_config.evaluation.name",
                       "evaluation_config.evaluation.evaluation_fn"),
      "config": None,
  })
  hyper_parameters = {}
  for method, indices in evaluation.groupby("method").groups.items():
    keys = _varying_keys(rows.loc[indices])
    hyper_parameters[method] = keys
    evaluation.loc[indices, "config"] = _config_labels(rows.loc[indices], keys)

  models = evaluation.drop_duplicates("model").set_index("model")[
      ["folder", "dataset", "method", "config", "seed", "model_num"]]
  scores = []
  for (representation, metric), group in evaluation.groupby(["representation", "metric"]):
    for key in _score_keys(rows.loc[group.index], metric, all_scores):
      score = Score(representation, metric, key)
      values = pd.to_numeric(rows.loc[group.index, "evaluation_results." + key],
                             errors="coerce")
      by_model = pd.Series(values.to_numpy(dtype=float), index=group["model"])
      models[score_label(score)] = by_model.groupby(level=0).last()
      scores.append(score)
  evaluations = collections.defaultdict(set)
  for model, representation, metric in zip(evaluation["model"], evaluation["representation"],
                                           evaluation["metric"]):
    evaluations[model].add((representation, metric))
  models = models.sort_values(["dataset", "method", "config", "seed"],
                              key=lambda column: column.map(_natural_key))
  return Study(models, sorted(scores), hyper_parameters, dict(evaluations))


def missing_evaluations(study):
  """[(model, dataset, [(representation, metric)])]: evaluations that other models of
  its data set have and this model lacks."""
  found = []
  for dataset, models in study.models.groupby("dataset"):
    expected = set().union(*(study.evaluations[m] for m in models.index))
    for model in models.index:
      lacking = sorted(expected - study.evaluations[model])
      if lacking:
        found.append((model, dataset, lacking))
  return found


def missing_values(study):
  """[(model, Score)]: evaluations whose score is missing or not a number."""
  found = []
  for number, score in enumerate(study.scores):
    evaluated = np.array([(score.representation, score.metric) in study.evaluations[model]
                          for model in study.models.index], dtype=bool)
    values = study.models[score_label(score)].to_numpy(dtype=float)
    found += [(position, number) for position in np.flatnonzero(evaluated & ~np.isfinite(values))]
  return [(study.models.index[position], study.scores[number])
          for position, number in sorted(found)]


def missing_models(study):
  """[(dataset, method, config, seed)]: cells of the study's grid (data sets x each
  method's hyper-parameter values x seeds) that no model fills."""
  present = set(study.models[["dataset", "method", "config", "seed"]].itertuples(
      index=False, name=None))
  method_configs = [(m, c) for m in study.methods() for c in study.configs(m)]
  seeds = sorted(study.models["seed"].unique(), key=_natural_key)
  return [(d, m, c, s) for d, (m, c), s in itertools.product(study.datasets(), method_configs,
                                                             seeds)
          if (d, m, c, s) not in present]


def matched_across_datasets(study, score):
  """DataFrame (method, config, seed) x dataset of a score: the same configuration
  trained on each data set, as Locatello et al. compare data sets."""
  table = study.models.groupby(["method", "config", "seed", "dataset"], dropna=False)[
      score_label(score)].mean().unstack("dataset")
  return table.reindex(columns=study.datasets())


def _score_keys(rows, metric, all_scores):
  """The result keys of a metric's rows to report: its headline ones, or every number."""
  reported = [c[len("evaluation_results."):] for c in rows.columns
              if c.startswith("evaluation_results.") and rows[c].map(_is_number).any()]
  reported = [k for k in reported if k not in _BOOKKEEPING]
  if metric in HEADLINE_KEYS:
    # A headline score that is null everywhere is still reported: as missing.
    headline = [k for k in HEADLINE_KEYS[metric] if "evaluation_results." + k in rows.columns]
  else:
    suffix = next((s for p, s in _HEADLINE_SUFFIX.items() if metric.startswith(p)), None)
    headline = None if suffix is None else [k for k in reported if k.endswith(suffix)]
  if all_scores or headline is None:
    return reported + [k for k in headline or () if k not in reported]
  return headline


def _varying_keys(rows):
  """The train_config keys (without the prefix) with more than one value in rows."""
  return [column[len("train_config."):] for column in rows.columns
          if column.startswith("train_config.") and
          column[len("train_config."):] not in _NOT_HYPER_PARAMETERS and
          rows[column].nunique(dropna=False) > 1]


def _config_labels(rows, keys):
  """"key = value, ..." of each row's hyper-parameters."""
  if not keys:
    return "(one configuration)"
  columns = [key + " = " + _unquoted(rows["train_config." + key]).fillna("None")
             for key in keys]
  return columns[0].str.cat(columns[1:], sep=", ") if len(columns) > 1 else columns[0]


def _folder_in_path(path):
  """The model folder of a result path in the study's layout (MODEL/metrics/REP/METRIC/...)."""
  if not isinstance(path, str):
    return None
  parts = path.split("/")
  if "metrics" not in parts[1:]:
    return None
  cut = len(parts) - 1 - parts[::-1].index("metrics")
  return "/".join(parts[:cut]) or None


def _base_dir(rows, path):
  """The folder the result paths are relative to: the current one, else the JSON's."""
  paths = [p for p in _column(rows, "path") if isinstance(p, str)]
  candidates = [os.getcwd(), os.path.dirname(os.path.abspath(path))]
  for candidate in candidates:
    if paths and os.path.exists(os.path.join(candidate, paths[0])):
      return candidate
  return candidates[0]


def _column(rows, name):
  return rows[name] if name in rows.columns else pd.Series([None] * len(rows), index=rows.index)


def _named(rows, name_column, fn_column):
  """A step's name (gin's `name` binding), else its configurable without '@' and '()'."""
  names = _unquoted(_column(rows, name_column))
  functions = _unquoted(_column(rows, fn_column)).str.lstrip("@").str.replace("()", "")
  return names.where(names.notna() & (names != ""), functions).fillna("?")


def _unquoted(column):
  """Gin value texts without their quotes; None where there is none."""
  text = column.astype(object).where(column.notna(), None)
  return text.map(lambda v: None if v is None else str(v).strip().strip("'\""))


def _is_number(value):
  """A numeric result (not NaN: rows hold NaN for the keys of other metrics)."""
  return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and \
      not np.isnan(value)


def _natural_key(value):
  """Sorts labels by the numbers in them ("beta = 2" before "beta = 10")."""
  parts = re.split(r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)", str(value))
  return tuple((0, float(p), "") if i % 2 else (1, 0., p) for i, p in enumerate(parts))
