"""The model card (visualizations/index.html) of a tiny trained model: every section, real content."""
import html
import os
import re

import imageio.v3 as iio
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import atomic_io
from dlib_torch.utils import torchscript_io
from dlib_torch.visualize import model_card
from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_model

# Training logs its scalars every 100 steps: one point of each curve (more steps cost
# seconds of the test's time).
STEPS = 100
# Scores as devaluate writes them, with the bookkeeping and a list the card leaves out.
SCORES = {"mean": {"discrete_mig": 0.125, "elapsed_time": 3.5, "uuid": "x", "num_threads": 2},
          "sampled": {"discrete_mig": 0.0625, "per_factor": [0.1, 0.2]}}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("card"))
  gin = helpers.write_gin(root, "train.gin", helpers.FAST_TRAIN_GIN)
  model = os.path.join(root, "model")
  completed = commands.run("dtrain", "--model_dir=" + model, "--gin_config=" + gin,
                           "--gin_bindings=model.training_steps={}".format(STEPS))
  assert completed.returncode == 0, completed.stderr
  return model


def _page(out):
  with open(os.path.join(out, "index.html")) as f:
    return f.read()


@pytest.fixture(scope="module")
def card(model_dir, tmp_path_factory):
  """dvisualize's card of the model, with scores beside it as devaluate writes them."""
  output_folder = str(tmp_path_factory.mktemp("output"))
  for representation, values in SCORES.items():
    atomic_io.write_json(os.path.join(output_folder, "metrics", representation, "mig",
                                      "results", "json", "evaluation_results.json"), values)
  out = os.path.join(output_folder, "visualizations")
  completed = commands.run("dvisualize", "--model_dir=" + model_dir, "--output_dir=" + out,
                           "--num_animations=1", "--num_frames=3")
  assert completed.returncode == 0, completed.stderr
  assert completed.stdout.splitlines()[-1] == "Model card: " + os.path.join(out, "index.html")
  return out, _page(out)


def _section(page, title):
  """The HTML between the <h2> of `title` and the next <h2>."""
  start = page.index("<h2>{}</h2>".format(title))
  end = page.find("<h2>", start + 1)
  return page[start:end if end > 0 else len(page)]


def _cells(fragment):
  return [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", fragment)]


def _is_image(path):
  with open(path, "rb") as f:
    head = f.read(8)
  return os.path.getsize(path) > 100 and (head.startswith(b"\x89PNG") or
                                          head.startswith(b"GIF8") or head[:2] == b"\xff\xd8")


def test_configuration_at_a_glance(card):
  _, page = card
  cells = _cells(_section(page, "Configuration"))
  rows = dict(zip(cells[::2], cells[1::2]))
  assert rows["method"] == "vae" and rows["hyper-parameters"] == "beta = 2.0"
  assert rows["data set"] == "dummy_data" and rows["latents"] == "4"
  assert rows["seed"] == "3" and rows["steps"] == str(STEPS) and rows["batch size"] == "4"
  assert rows["optimiser"] == "AdamOptimizer, learning rate 0.001"
  assert rows["device"].startswith("cpu (") and rows["precision"] == "float32"
  assert rows["training time"].endswith(" s")


def test_scores_of_both_representations_from_the_results(card):
  _, page = card
  section = _section(page, "Scores")
  main, every = section.split("<details>")
  row = ["metric", "value", "mean", "sampled", "mig", "discrete_mig", "0.125", "0.0625"]
  assert _cells(main) == row
  assert _cells(every) == row  # No bookkeeping, no list.


def test_training_curves_from_the_summaries(card):
  out, page = card
  section = _section(page, "Training curves")
  assert _is_image(os.path.join(out, "model_card", "training_curves.png"))
  assert 'src="model_card/training_curves.png"' in section
  curves = atomic_io.read_json(os.path.join(out, "model_card", "model_card.json"))[
      "training_curves"]
  assert {"loss", "reconstruction_loss", "elbo", "KL (-elbo - reconstruction_loss)"} <= set(curves)
  assert [step for step, _ in curves["loss"]] == [STEPS]
  (_, elbo), (_, reconstruction), (_, kl) = (curves[k][-1] for k in (
      "elbo", "reconstruction_loss", "KL (-elbo - reconstruction_loss)"))
  assert kl == pytest.approx(-elbo - reconstruction) and kl > 0
  cells = _cells(section)
  assert cells[cells.index(str(STEPS)) + 1:][:1] == ["{:.4g}".format(curves["elbo"][-1][1])]
  # The evaluation at the end of training, as its results recorded it.
  final = atomic_io.read_json(os.path.join(out, "results", "json", "train_results.json"))
  assert "{:.4g}".format(final["loss"]) in cells


def test_kl_of_each_latent(card, model_dir):
  out, page = card
  section = _section(page, "KL divergence of each latent")
  encoder = torchscript_io.load_gaussian_encoder(model_dir)
  means, logvars = encoder(dummy_data.DummyData().sample_observations(
      1000, np.random.RandomState(1)))
  expected = np.mean(0.5 * (means**2 + np.exp(logvars) - logvars - 1.), axis=0)
  kl = atomic_io.read_json(os.path.join(out, "model_card", "model_card.json"))["kl_per_latent"]
  np.testing.assert_allclose(kl, expected, rtol=1e-5)
  cells = _cells(section)
  for latent, value in enumerate(kl):
    row = cells.index(str(latent), 3)
    assert cells[row + 1:row + 3] == ["{:.4f}".format(value),
                                      "yes" if value > model_card.ACTIVE_KL else "no"]
  active = sum(value > model_card.ACTIVE_KL for value in kl)
  assert "{} of 4 latents are active".format(active) in section
  assert _is_image(os.path.join(out, "model_card", "kl_per_latent.png"))


def test_pictures_and_animations_are_local_files(card):
  out, page = card
  for title in ("Reconstructions", "Samples from the prior", "Latent traversals",
                "Animated traversals"):
    assert "<img" in _section(page, title), title
  sources = re.findall(r'src="([^"]+)"', page)
  assert "animated_traversals/std_gaussian_cycle0.gif" in sources
  for source in sources:
    assert _is_image(os.path.join(out, html.unescape(source))), source
  # Self-contained: opens from disk with no network.
  assert not re.search(r"https?://|//[a-z]", page, re.IGNORECASE)
  assert not any(source.startswith("/") for source in sources)


def test_fewer_animations_and_frames_on_the_command_line(card, tmp_path, model_dir):
  out, _ = card
  gifs = sorted(os.listdir(os.path.join(out, "animated_traversals")))
  assert gifs == sorted("{}_cycle0.gif".format(kind) for kind in (
      "std_gaussian", "fitted_gaussian", "fixed_interval", "conf_interval", "minmax_interval"))
  assert len(iio.imread(os.path.join(out, "animated_traversals", gifs[0]), index=None)) == 3
  refused = commands.run("dvisualize", "--model_dir=" + model_dir,
                         "--output_dir=" + str(tmp_path / "out"), "--num_frames=0")
  assert refused.returncode == 2
  assert refused.stderr.strip().splitlines() == [
      "Error: --num_frames must be a positive integer, not 0."]
  assert not (tmp_path / "out").exists()


def test_without_matplotlib_the_card_says_what_is_missing(model_dir, tmp_path, monkeypatch):
  monkeypatch.setattr(plotting, "available", lambda: False)
  out = str(tmp_path / "visualizations")
  visualize_model.visualize(model_dir, out, num_animations=1, num_frames=3, num_points_irs=100)
  page = _page(out)
  assert "Missing: matplotlib is not installed" in page
  assert 'pip install "dlib_torch[plots]"' in html.unescape(page)
  assert not os.path.exists(os.path.join(out, "model_card", "training_curves.png"))
  assert not os.path.exists(os.path.join(out, "interventional_effects"))
  # The numbers are still there.
  assert "100" in _cells(_section(page, "Training curves"))
  assert "latents are active" in _section(page, "KL divergence of each latent")
  assert "No metrics computed yet" in _section(page, "Scores")
