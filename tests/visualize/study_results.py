"""Result folders of a small study, written as dreproduce writes them, with synthetic scores.

Training 12 models for a report test would take minutes; the report only
reads results, so these folders hold the results layout of each step
(results/{gin,json,aggregate}, built by dlib_torch.utils.results from gin
text) with plausible scores: quickstart-size β-VAE and β-TCVAE models of
procedural dSprites, 2 hyper-parameter values x 3 seeds each.
"""
import os

import numpy as np

from dlib_torch.utils import atomic_io
from dlib_torch.utils import results

# method: (model.model binding, hyper-parameter, its two values)
METHODS = {"beta_vae": ("@vae()", "vae.beta", (1.0, 4.0)),
           "beta_tc_vae": ("@beta_tc_vae()", "beta_tc_vae.beta", (2.0, 6.0))}
SEEDS = (0, 1, 2)
REPRESENTATIONS = ("mean", "sampled")
# metric: {result key: (score of the weakest model, gain per unit of log hyper-parameter)}
METRICS = {"mig": {"discrete_mig": (0.05, 0.06)},
           "sap_score": {"SAP_score": (0.02, 0.03)},
           "dci": {"disentanglement": (0.10, 0.08), "completeness": (0.15, 0.05),
                   "informativeness_test": (0.6, -0.05)}}

_TRAIN_GIN = """# Parameters for dataset:
dataset.name = '{dataset}'
encoder.num_latent = 10
model.batch_size = 64
model.model = {model}
model.model_num = {model_num}
model.name = '{method}'
model.random_seed = {seed}
model.training_steps = 300
{hyper_parameter} = {value}
"""


def model_configs(dataset="procedural_dsprites", first_model_num=0):
  """[(model_num, method, value, seed)] of the 12 models, in the sweep's order."""
  configs = []
  for method, (_, _, values) in METHODS.items():
    for value in values:
      for seed in SEEDS:
        configs.append((first_model_num + len(configs), method, value, seed))
  return configs


def write_study(root, dataset="procedural_dsprites", first_model_num=0, skip=()):
  """Writes the results of the 12 models to root/<model_num>/; returns the model folders.

  skip: (model_num, representation, metric) evaluations left out.
  """
  folders = []
  noise = np.random.RandomState(first_model_num)
  for model_num, method, value, seed in model_configs(dataset, first_model_num):
    folder = os.path.join(root, str(model_num))
    model, hyper_parameter, values = METHODS[method]
    train = _write_step(
        os.path.join(folder, "model", "results"), "train",
        _TRAIN_GIN.format(dataset=dataset, model=model, model_num=model_num, method=method,
                          seed=seed, hyper_parameter=hyper_parameter, value=value),
        {"loss": 2800. - 10 * value, "elbo": -2800. + 10 * value})
    strength = np.log(value / values[0]) + (0.3 if method == "beta_tc_vae" else 0.)
    for representation in REPRESENTATIONS:
      post = _write_step(
          os.path.join(folder, "postprocessed", representation, "results"), "postprocess",
          "postprocess.name = '{}'\npostprocess.postprocess_fn = @{}_representation\n".format(
              representation, representation), {}, train)
      for metric, keys in METRICS.items():
        if (model_num, representation, metric) in skip:
          continue
        scores = {key: float(np.clip(base + gain * strength + noise.normal(0, 0.02), 0, 1))
                  for key, (base, gain) in keys.items()}
        _write_step(os.path.join(folder, "metrics", representation, metric, "results"),
                    "evaluation",
                    "evaluation.evaluation_fn = @{0}\nevaluation.name = '{0}'\n"
                    "evaluation.random_seed = {1}\n".format(metric, noise.randint(2**31)),
                    scores, post)
    folders.append(folder)
  return folders


def _write_step(result_dir, step, gin_text, step_results, previous=None):
  """One step's results folder, as results.update_result_directory writes it."""
  if previous is not None:
    results.copydir(previous, result_dir)
  gin_path = os.path.join(result_dir, "gin", step + ".gin")
  atomic_io.write_text(gin_path, gin_text)
  atomic_io.write_json(os.path.join(result_dir, "json", step + "_config.json"),
                       results.gin_dict(gin_path))
  atomic_io.write_json(os.path.join(result_dir, "json", step + "_results.json"),
                       dict(step_results, elapsed_time=1.0, uuid="{}-{}".format(step, result_dir),
                            device="cpu", num_threads=1))
  atomic_io.write_json(os.path.join(result_dir, "aggregate", step + ".json"),
                       results.aggregate_json_results(os.path.join(result_dir, "json")))
  return result_dir
