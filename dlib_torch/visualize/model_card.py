"""The model card: one self-contained HTML page about a trained model (visualizations/index.html).

Two halves. `prepare` runs when the model is visualised (it needs the model):
it reads the training curves from the TensorBoard summaries training wrote,
computes the KL divergence of each latent dimension on data set samples, and
draws both with matplotlib, into visualizations/model_card/. `write` builds
the page from that folder, the results folder and the metrics beside it, so
dreproduce can rebuild the page once the metrics are computed. The page
references only files inside the visualizations folder, by relative paths:
it opens from disk, offline.
"""
import html
import os
import re

import numpy as np

from dlib_torch.methods.shared import checkpoint
from dlib_torch.utils import atomic_io
from dlib_torch.utils import results
from dlib_torch.visualize import model_scores
from dlib_torch.visualize import plotting

FOLDER = "model_card"
_FACTS = "model_card.json"
_CURVES_PNG = "training_curves.png"
_KL_PNG = "kl_per_latent.png"
# Images of the data set the KL of each latent is averaged over (own seed, so the
# other pictures keep the original's draws).
_KL_SAMPLES = 1000
_KL_SEED = 1
# A latent whose mean KL exceeds this (nats) carries information: "active".
ACTIVE_KL = 0.1


def kl_per_latent(means, logvars):
  """Mean over samples of KL(N(mean, exp(logvar)) || N(0, 1)) of each latent, in nats."""
  return np.mean(0.5 * (np.square(means) + np.exp(logvars) - logvars - 1.), axis=0)


def read_training_curves(model_dir):
  """{tag: [[step, value], ...]} of the training summaries, or a reason why there are none."""
  folder = os.path.dirname(checkpoint.checkpoint_path(model_dir))
  try:
    from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  except ImportError:
    return ("the tensorboard package, which training writes its summaries with, is not "
            "installed (pip install \"dlib_torch[tensorboard]\")")
  if not os.path.isdir(folder) or not any(
      name.startswith("events.") for name in os.listdir(folder)):
    return "training wrote no TensorBoard summaries into {}".format(folder)
  accumulator = event_accumulator.EventAccumulator(
      folder, size_guidance={event_accumulator.SCALARS: 0})
  accumulator.Reload()
  curves = {tag: [[event.step, event.value] for event in accumulator.Scalars(tag)]
            for tag in sorted(accumulator.Tags()["scalars"])}
  if not curves:
    return "training logged no scalars (it logs every 100 steps)"
  return _with_kl(curves)


_DERIVED_KL = "KL (-elbo - reconstruction_loss)"


def _with_kl(curves):
  """Adds the KL term where training logged the ELBO and the reconstruction but not the KL
  (the VAE family logs elbo = -(reconstruction_loss + KL))."""
  if "kl_loss" in curves or not {"elbo", "reconstruction_loss"} <= set(curves):
    return curves
  reconstruction = dict(map(tuple, curves["reconstruction_loss"]))
  kl = [[step, -value - reconstruction[step]] for step, value in curves["elbo"]
        if step in reconstruction]
  return dict(curves, **{_DERIVED_KL: kl})


def prepare(model_dir, encoder, dataset, output_dir):
  """Writes output_dir/model_card/: the curves and each latent's KL, as JSON and plots."""
  folder = os.path.join(output_dir, FOLDER)
  os.makedirs(folder, exist_ok=True)
  observations = dataset.sample_observations(_KL_SAMPLES, np.random.RandomState(_KL_SEED))
  kl = kl_per_latent(*encoder(observations))
  curves = read_training_curves(model_dir)
  atomic_io.write_json(os.path.join(folder, _FACTS), {
      "kl_per_latent": [float(v) for v in kl], "kl_samples": _KL_SAMPLES,
      "training_curves": curves})
  if plotting.available_or_log("the model card's plots"):
    if isinstance(curves, dict):
      _plot_curves(curves, os.path.join(folder, _CURVES_PNG))
    _plot_kl(kl, os.path.join(folder, _KL_PNG))


def _plot_curves(curves, path):
  plt = plotting.pyplot()
  fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 2.8), squeeze=False)
  for ax, (tag, points) in zip(axes[0], curves.items()):
    steps, values = zip(*points)
    ax.plot(steps, values, marker="o" if len(points) < 20 else None)
    ax.set_title(tag, fontsize=10)
    ax.set_xlabel("step")
  fig.tight_layout()
  plotting.save_figure(fig, path, dpi=80)


def _plot_kl(kl, path):
  plt = plotting.pyplot()
  fig, ax = plt.subplots(figsize=(max(3., 0.45 * len(kl) + 1.), 2.8))
  ax.bar(np.arange(len(kl)), kl, color=["C0" if v > ACTIVE_KL else "0.7" for v in kl])
  ax.axhline(ACTIVE_KL, color="C3", linewidth=0.8, linestyle="--")
  ax.set_xticks(np.arange(len(kl)))
  ax.set_xlabel("latent")
  ax.set_ylabel("KL (nats)")
  fig.tight_layout()
  plotting.save_figure(fig, path, dpi=80)


# Pictures of the visualisation, by section: (folder, title, caption of each file).
_PICTURES = (
    ("reconstructions", "Reconstructions", "left: input, right: its reconstruction"),
    ("sampled", "Samples from the prior", "decodings of codes drawn from N(0, I)"),
    ("traversals", "Latent traversals",
     "from the code of one image, one column per latent, values -1 to 1 downwards"),
    ("animated_traversals", "Animated traversals", "one panel per latent"),
    ("interventional_effects", "Interventional effects", ""),
)

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
td.num { text-align: right; font-family: monospace; }
figure { display: inline-block; margin: 4px; vertical-align: top; }
figcaption { font-size: 80%; color: #555; }
img { max-width: 100%; }
.missing { color: #a40; }
"""


def write(output_dir, output_folder=None):
  """Writes output_dir/index.html, the model card; returns its path.

  Args:
    output_dir: a visualizations folder (its results/ and model_card/).
    output_folder: the model's output folder, whose metrics/ the card shows;
      None: output_dir's parent.
  """
  if output_folder is None:
    output_folder = os.path.dirname(os.path.abspath(output_dir))
  result_dir = os.path.join(output_dir, "results")
  config = _read_config(result_dir)
  train = _read_json(os.path.join(result_dir, "json", "train_results.json")) or {}
  facts = _read_json(os.path.join(output_dir, FOLDER, _FACTS)) or {}
  scores = model_scores.read_scores(output_folder)
  title = "Model card: " + os.path.basename(os.path.abspath(output_folder))
  parts = ["<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>"
           "<style>{1}</style></head><body>\n<h1>{0}</h1>".format(html.escape(title), _STYLE)]
  missing = [] if plotting.available() else [
      "matplotlib is not installed, so the training curves, the KL plot and the "
      "interventional effects are not drawn (pip install \"dlib_torch[plots]\"); their "
      "numbers are in the tables"]
  if missing:
    parts.append('<p class="missing">Missing: {}.</p>'.format(html.escape(missing[0])))
  parts += _configuration(config, train)
  parts += _scores(scores, output_folder)
  parts += _curves(output_dir, facts, train)
  parts += _kl(output_dir, facts)
  parts += _pictures(output_dir)
  parts += _full_config(config)
  parts.append("</body></html>\n")
  path = os.path.join(output_dir, "index.html")
  atomic_io.write_text(path, "\n".join(parts))
  return path


def _read_json(path):
  return atomic_io.read_json(path) if os.path.isfile(path) else None


def _read_config(result_dir):
  path = os.path.join(result_dir, "gin", "train.gin")
  return results.gin_dict(path) if os.path.isfile(path) else {}


def _table(rows, header=None, numeric_from=1):
  """An HTML table of rows of cells (escaped); cells from column numeric_from right-aligned."""
  lines = ["<table>"]
  if header:
    lines.append("<tr>" + "".join("<th>{}</th>".format(html.escape(h)) for h in header) +
                 "</tr>")
  for row in rows:
    lines.append("<tr>" + "".join(
        '<td{}>{}</td>'.format(' class="num"' if i >= numeric_from else "",
                               html.escape(str(cell))) for i, cell in enumerate(row)) + "</tr>")
  lines.append("</table>")
  return "\n".join(lines)


def _unquote(value):
  return value.strip("'\"") if isinstance(value, str) else value


def _method(config):
  # "@vae()" -> "vae"
  return re.sub(r"^@|\(\)$", "", config.get("model.model", "?")).split("/")[-1]


def _configuration(config, train):
  method = _method(config)
  hyper = ", ".join("{} = {}".format(key.split(".", 1)[1], value)
                    for key, value in sorted(config.items()) if key.startswith(method + "."))
  optimizer = config.get("vae_optimizer.optimizer_fn", "").lstrip("@")
  # A schedule bound to vae_optimizer, else the optimizer's rate in its scope
  # (vae/AdamOptimizer) or for every use of it.
  rate = config.get("vae_optimizer.learning_rate")
  if rate in (None, "None"):
    rate = config.get(optimizer + ".learning_rate",
                      config.get(optimizer.split("/")[-1] + ".learning_rate"))
  rows = [
      ("method", method),
      ("hyper-parameters", hyper or "none bound"),
      ("data set", _unquote(config.get("dataset.name", "?"))),
      ("latents", config.get("encoder.num_latent", "?")),
      ("architecture", "{} / {}".format(config.get("encoder.encoder_fn", "?"),
                                        config.get("decoder.decoder_fn", "?"))),
      ("reconstruction loss", config.get("reconstruction_loss.loss_fn", "?")),
      ("optimiser", "{}, learning rate {}".format(optimizer or "?", rate or "its default")),
      ("batch size", config.get("model.batch_size", "?")),
      ("seed", config.get("model.random_seed", "?")),
      ("steps", train.get("global_step", config.get("model.training_steps", "?"))),
      ("device", "{} ({} threads)".format(train.get("device", "?"), train.get("num_threads", "?"))),
      ("precision", train.get("precision", "float32")),
      ("training time", _duration(train.get("elapsed_time"))),
  ]
  return ["<h2>Configuration</h2>", _table(rows, numeric_from=2)]


def _duration(seconds):
  if seconds is None:
    return "?"
  minutes, seconds = divmod(float(seconds), 60)
  hours, minutes = divmod(int(minutes), 60)
  if hours:
    return "{} h {} min".format(hours, minutes)
  return "{} min {:.0f} s".format(minutes, seconds) if minutes else "{:.1f} s".format(seconds)


def _scores(scores, output_folder):
  parts = ["<h2>Scores</h2>"]
  if not scores:
    parts.append("<p>No metrics computed yet (none under {}).</p>".format(
        html.escape(os.path.join(os.path.basename(os.path.abspath(output_folder)), "metrics"))))
    return parts
  columns = model_scores.representations(scores)

  def table(keys):
    rows = [[metric, key] + [model_scores.format_value(scores[metric][c][key])
                             if key in scores[metric].get(c, {}) else "-" for c in columns]
            for metric, key in keys]
    return _table(rows, ["metric", "value"] + columns, numeric_from=2)

  every = [(metric, key) for metric, by_representation in scores.items()
           for key in sorted({k for values in by_representation.values() for k in values})]
  parts.append("<p>The values each metric is reported by, per representation:</p>")
  parts.append(table(model_scores.headline(scores)))
  # Downstream tasks alone have dozens of values: folded, below the main ones.
  parts.append("<details><summary>every scalar value of every metric ({})</summary>{}"
               "</details>".format(len(every), table(every)))
  return parts


def _figure(path, caption):
  path = html.escape(path, quote=True)
  return ('<figure><img src="{0}" alt="{0}"><figcaption>{1}</figcaption></figure>'.format(
      path, html.escape(caption)))


def _curves(output_dir, facts, train):
  parts = ["<h2>Training curves</h2>"]
  curves = facts.get("training_curves")
  if isinstance(curves, dict):
    if os.path.isfile(os.path.join(output_dir, FOLDER, _CURVES_PNG)):
      parts.append(_figure(FOLDER + "/" + _CURVES_PNG, "scalars training logged, over the steps"))
    steps = sorted({step for points in curves.values() for step, _ in points})
    values = {tag: dict((step, value) for step, value in points) for tag, points in curves.items()}
    rows = [[step] + [model_scores.format_value(values[tag][step]) if step in values[tag]
                      else "-" for tag in curves] for step in steps]
    parts.append("<details><summary>values</summary>{}</details>".format(
        _table(rows, ["step"] + list(curves), numeric_from=0)))
  else:
    parts.append('<p class="missing">No training curves: {}.</p>'.format(
        html.escape(curves or "this visualisation recorded none")))
  final = [(key, model_scores.format_value(value)) for key, value in sorted(train.items())
           if key in ("loss", "reconstruction_loss", "regularizer", "kl_loss", "elbo")]
  if final:
    parts.append("<p>Evaluation at the end of training:</p>")
    parts.append(_table(final))
  return parts


def _kl(output_dir, facts):
  parts = ["<h2>KL divergence of each latent</h2>"]
  kl = facts.get("kl_per_latent")
  if kl is None:
    parts.append('<p class="missing">Not computed for this visualisation.</p>')
    return parts
  active = [i for i, value in enumerate(kl) if value > ACTIVE_KL]
  parts.append("<p>KL(q(z|x) || N(0, I)) per latent, averaged over {} images of the data set: "
               "{} of {} latents are active (KL above {} nats): {}.</p>".format(
                   facts.get("kl_samples"), len(active), len(kl), ACTIVE_KL,
                   ", ".join(map(str, active)) or "none"))
  if os.path.isfile(os.path.join(output_dir, FOLDER, _KL_PNG)):
    parts.append(_figure(FOLDER + "/" + _KL_PNG, "KL per latent (nats); dashed: the threshold"))
  parts.append(_table([(i, "{:.4f}".format(value), "yes" if i in active else "no")
                       for i, value in enumerate(kl)], ["latent", "KL (nats)", "active"]))
  return parts


def _pictures(output_dir):
  parts = []
  for section, title, caption in _PICTURES:
    directory = os.path.join(output_dir, section)
    if not os.path.isdir(directory):
      continue
    parts.append("<h2>{}</h2>".format(html.escape(title)))
    if caption:
      parts.append("<p>{}</p>".format(html.escape(caption)))
    for name in sorted(os.listdir(directory), key=natural_key):
      parts.append(_figure(section + "/" + name, name))
  return parts


def natural_key(name):
  """Sort key putting traversals2 before traversals10."""
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _full_config(config):
  if not config:
    return []
  return ["<h2>Training configuration (gin)</h2>",
          "<details><summary>{} bindings</summary>{}</details>".format(
              len(config), _table(sorted(config.items()), numeric_from=2))]
