"""The study report: the figures of Locatello et al. (2019) from any aggregated results.

From daggregate's JSON, OUTPUT/index.html shows, per data set, each score's
distribution per method and per hyper-parameter value of each method and the
Spearman rank correlations between the scores; the rank correlation of each
score between data sets (the same method, hyper-parameters and seed trained
on each); a sortable table of every model linking to its model card
(MODEL/visualizations/index.html, as dreproduce writes it); and what is
missing. The page needs nothing but its folder: figures are PNG files in
OUTPUT/figures, the table sorts with a few lines of inline JavaScript.
"""
import html
import os
import re

import numpy as np

from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.visualize import study_figures
from dlib_torch.visualize import study_scores

_MIN_COMMON_MODELS = 3  # A rank correlation over fewer models is left blank.


def write_report(input_path, output_dir, overwrite=False, all_scores=False):
  """Writes the report of daggregate's JSON input_path to output_dir (index.html, figures/).

  Raises:
    UserError: without matplotlib, if output_dir exists and overwrite is False,
      or if input_path holds no evaluation results.
  """
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise errors.UserError("dreport draws its figures with matplotlib, which is not installed "
                           "(pip install \"dlib_torch[plots]\").") from e
  if os.path.exists(output_dir) and not overwrite:
    raise errors.UserError(
        "Directory already exists and overwrite is False: {}".format(output_dir))
  study = study_scores.load(input_path, all_scores=all_scores)
  if not study.scores:
    raise errors.UserError("{} holds no numeric scores.".format(input_path))
  with atomic_io.staged_directory(output_dir) as staging:
    body = [_summary(study, input_path)]
    body += [_dataset_section(study, dataset, staging) for dataset in study.datasets()]
    body.append(_between_datasets_section(study, staging))
    body.append(_models_section(study, output_dir))
    body.append(_missing_section(study))
    atomic_io.write_text(os.path.join(staging, "index.html"), _page("\n".join(body)))


def _summary(study, input_path):
  models = study.models
  links = " · ".join('<a href="#{}">{}</a>'.format(_anchor("dataset", d), html.escape(d))
                     for d in study.datasets())
  return ("<h1>Study report</h1>\n<p>{} models ({} data sets, methods {}) and {} scores, from "
          "<code>{}</code>.</p>\n<p>Data sets: {} · <a href=\"#between-datasets\">between data "
          "sets</a> · <a href=\"#models\">models</a> · <a href=\"#missing\">missing</a></p>"
          ).format(len(models), len(study.datasets()), html.escape(", ".join(study.methods())),
                   len(study.scores), html.escape(input_path), links)


def _dataset_section(study, dataset, report_dir):
  models = study.models[study.models["dataset"] == dataset]
  methods = [m for m in study.methods() if (models["method"] == m).any()]
  scores = [s for s in study.scores if models[study_scores.score_label(s)].notna().any()]
  by_method, by_config = [], []
  for score in scores:
    label = study_scores.score_label(score)
    values = {m: _finite(models.loc[models["method"] == m, label]) for m in methods}
    by_method.append(_figure(
        report_dir, ["figures", dataset, "by_method", _slug(label) + ".png"],
        "{}: {} by method".format(dataset, label),
        lambda path, label=label, values=values: study_figures.distributions(
            [(label, list(values.items()))], "score", path)))
    panels = []
    for method in methods:
      rows = models[models["method"] == method]
      keys = study.hyper_parameters[method]
      groups = [(_short_config(c, keys), _finite(rows.loc[rows["config"] == c, label]))
                for c in study.configs(method) if (rows["config"] == c).any()]
      panels.append(("{}: {}".format(method, keys[0]) if len(keys) == 1 else method, groups))
    by_config.append(_figure(
        report_dir, ["figures", dataset, "by_hyper_parameter", _slug(label) + ".png"],
        "{}: {} by hyper-parameter value".format(dataset, label),
        lambda path, label=label, panels=panels: study_figures.distributions(
            panels, label, path)))
  correlation = _spearman(models[[study_scores.score_label(s) for s in scores]])
  matrix = _figure(report_dir, ["figures", dataset, "score_correlation.png"],
                   "{}: rank correlation between scores".format(dataset),
                   lambda path: study_figures.correlation_matrix(
                       correlation, "{}: Spearman x 100".format(dataset), path))
  return ("<h2 id=\"{}\">Data set {}</h2>\n<p>{} models.</p>\n<h3>Scores by method</h3>\n{}\n"
          "<h3>Scores by hyper-parameter value</h3>\n{}\n"
          "<h3>Rank correlation between scores</h3>\n<p>Spearman's rank correlation x 100 over "
          "the models of this data set.</p>\n{}").format(
              _anchor("dataset", dataset), html.escape(dataset), len(models),
              "\n".join(by_method), "\n".join(by_config), matrix)


def _between_datasets_section(study, report_dir):
  head = "<h2 id=\"between-datasets\">Rank correlation between data sets</h2>\n"
  datasets = study.datasets()
  if len(datasets) < 2:
    return head + "<p>One data set ({}): nothing to correlate.</p>".format(
        html.escape(datasets[0]))
  figures = []
  for score in study.scores:
    label = study_scores.score_label(score)
    correlation = _spearman(study_scores.matched_across_datasets(study, score))
    figures.append(_figure(
        report_dir, ["figures", "between_datasets", _slug(label) + ".png"],
        "{}: rank correlation between data sets".format(label),
        lambda path, label=label, correlation=correlation: study_figures.correlation_matrix(
            correlation, label, path)))
  return head + ("<p>Spearman's rank correlation x 100 of each score between data sets, over "
                 "the models of the same method, hyper-parameters and seed.</p>\n{}"
                 ).format("\n".join(figures))


def _models_section(study, report_dir):
  labels = [study_scores.score_label(s) for s in study.scores]
  has_numbers = study.models["model_num"].notna().any()
  header = ["model"] + (["model_num"] if has_numbers else []) + [
      "data set", "method", "hyper-parameters", "seed"] + labels
  rows = []
  for model, row in study.models.iterrows():
    card = _card_link(row["folder"], report_dir)
    cells = ["<td>{}</td>".format(
        '<a href="{}">{}</a>'.format(html.escape(card, quote=True), html.escape(model))
        if card else html.escape(model))]
    if has_numbers:
      cells.append(_number_cell(row["model_num"]))
    cells += ["<td>{}</td>".format(html.escape(str(row[c]))) for c in ("dataset", "method",
                                                                       "config")]
    cells.append(_number_cell(row["seed"]))
    cells += [_number_cell(row[label]) for label in labels]
    rows.append("<tr>{}</tr>".format("".join(cells)))
  return ("<h2 id=\"models\">Models</h2>\n<p>Click a column's header to sort by it; each model "
          "links to its model card.</p>\n<table class=\"sortable\">\n<thead><tr>{}</tr></thead>\n"
          "<tbody>\n{}\n</tbody>\n</table>").format(
              "".join("<th>{}</th>".format(html.escape(h)) for h in header), "\n".join(rows))


def _missing_section(study):
  parts = []
  evaluations = study_scores.missing_evaluations(study)
  if evaluations:
    parts.append(_list("Models without some of the evaluations other models of their data set "
                       "have", ["{} ({}): {}".format(m, d, ", ".join(
                           "{}/{}".format(r, e) for r, e in lacking))
                                for m, d, lacking in evaluations]))
  values = study_scores.missing_values(study)
  if values:
    parts.append(_list("Scores that are missing or not a number", [
        "{}: {}".format(m, study_scores.score_label(s)) for m, s in values]))
  models = study_scores.missing_models(study)
  if models:
    parts.append(_list("Configurations of the study's grid without a model (data set, method, "
                       "hyper-parameters, seed)", [", ".join(str(v) for v in cell)
                                                   for cell in models]))
  cards = [model for model, folder in study.models["folder"].items()
           if folder is None or not os.path.isfile(_card_path(folder))]
  if cards:
    parts.append(_list("Models without a model card (visualizations/index.html)", cards))
  return "<h2 id=\"missing\">Missing</h2>\n" + ("\n".join(parts) or "<p>Nothing is missing.</p>")


def _list(title, items):
  return "<h3>{}</h3>\n<ul class=\"missing\">\n{}\n</ul>".format(
      html.escape(title), "\n".join("<li>{}</li>".format(html.escape(i)) for i in items))


def _figure(report_dir, parts, caption, draw):
  """Draws a figure to report_dir/parts; its <figure> element."""
  draw(os.path.join(report_dir, *parts))
  src = html.escape("/".join(parts), quote=True)
  return ('<figure><img src="{}" alt="{}" loading="lazy"><figcaption>{}</figcaption></figure>'
          ).format(src, html.escape(caption, quote=True), html.escape(caption))


def _spearman(table):
  return table.corr(method="spearman", min_periods=_MIN_COMMON_MODELS)


def _finite(values):
  values = values.to_numpy(dtype=float)
  return values[np.isfinite(values)]


def _short_config(config, keys):
  """A tick label: the value alone where one hyper-parameter varies (its name is the title)."""
  return config.split(" = ", 1)[1] if len(keys) == 1 else config


def _card_path(folder):
  return os.path.join(folder, "visualizations", "index.html")


def _card_link(folder, report_dir):
  if folder is None:
    return None
  path = os.path.abspath(_card_path(folder))
  try:
    return os.path.relpath(path, os.path.abspath(report_dir)).replace(os.sep, "/")
  except ValueError:  # Another drive (Windows): no relative path exists.
    return "file://" + path


def _number_cell(value):
  try:
    number = float(value)
  except (TypeError, ValueError):
    return "<td>{}</td>".format(html.escape(str(value)))
  if not np.isfinite(number):
    return "<td data-value=\"\"></td>"
  text = "{:d}".format(int(number)) if number.is_integer() and abs(number) >= 1 else (
      "{:.4g}".format(number))
  return "<td data-value=\"{!r}\">{}</td>".format(number, text)


def _slug(text):
  return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _anchor(kind, name):
  return "{}-{}".format(kind, _slug(name))


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
figure { display: inline-block; width: min-content; margin: 0.5em; vertical-align: top; }
figcaption { font-size: small; }
table { border-collapse: collapse; font-size: small; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
th { background: #eee; cursor: pointer; position: sticky; top: 0; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
td[data-value] { text-align: right; }
"""

# Sorts a table by the clicked column: numbers (data-value) by value, text naturally.
_SORT_SCRIPT = """
function sortKey(cell) {
  var value = cell.getAttribute("data-value");
  if (value === null) return cell.textContent;
  return value === "" ? -Infinity : Number(value);
}
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    Array.from(body.rows).sort(function (a, b) {
      var x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
      var order = typeof x === "number" && typeof y === "number" ? (x > y) - (x < y)
          : String(x).localeCompare(String(y), undefined, {numeric: true});
      return ascending ? order : -order;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""


def _page(body):
  # The empty icon keeps browsers from asking for a favicon.ico that is not there.
  return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Study report</title>"
          "<link rel=\"icon\" href=\"data:,\"><style>{}</style></head>\n<body>\n{}\n"
          "<script>{}</script>\n</body></html>\n").format(_STYLE, body, _SORT_SCRIPT)
