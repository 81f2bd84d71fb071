"""The stages every pipeline runs: train, visualise, postprocess, evaluate, validate.

Each runner applies the same two rules: a stage whose output folder is
complete (results/aggregate/<step>.json exists) is skipped, and `overwrite`
redoes it. An interrupted pipeline is therefore simply started again
(training itself resumes from its checkpoint). Every stage runs on the
pipeline's device (`device_of(runtime)`), which its results record.
Folders are the original's:
OUT/model, OUT/visualizations, OUT/postprocessed/<post>,
OUT/metrics/<post>/<metric>, OUT/validation/<post>/<metric>.
"""
import os

from absl import logging

from dlib_torch import gin_registry
from dlib_torch.config import plan
from dlib_torch.evaluation import evaluate
from dlib_torch.postprocessing import postprocess
from dlib_torch.validation import validate
from dlib_torch.visualize import visualize_model


def stage_complete(step_dir, step_name):
  return os.path.exists(os.path.join(step_dir, "results", "aggregate", step_name + ".json"))


def device_of(runtime):
  """The device name of a train.Runtime, or "auto" without one."""
  return getattr(runtime, "device", None) or "auto"


def _needed(step_dir, step_name, overwrite):
  return overwrite or not stage_complete(step_dir, step_name)


def post_dir(output_directory, post_name):
  return os.path.join(output_directory, "postprocessed", post_name)


def metric_dir(output_directory, step, kind="metrics"):
  """The folder of an evaluation (kind "metrics") or validation step."""
  return os.path.join(output_directory, kind, step.post_name, step.metric_name)


def check_configs(model_config=None, post_steps=(), eval_steps=(), validation_steps=()):
  """Parses every stage's gin configuration, so that a bad one fails before any stage runs.

  model_config: (config file, bindings) of training, or None.
  """
  if model_config is not None:
    gin_registry.check_config("train", [model_config[0]], training_bindings(*model_config))
  for step_name, steps in (("postprocess", post_steps), ("evaluation", eval_steps),
                           ("validation", validation_steps)):
    for step in steps:
      gin_registry.check_config(step_name, [step.config_file], step.bindings())


def training_bindings(config_file, bindings):
  return ["model.name = '{}'".format(plan.config_name(config_file))] + list(bindings)


def run_training(train_with_gin, model_dir, config_file, bindings, overwrite, runtime):
  """Trains into model_dir from config_file and bindings (model.name: the file's name)."""
  if _needed(model_dir, "train", overwrite):
    logging.info("Training model into %s.", model_dir)
    train_with_gin(model_dir, overwrite, [config_file],
                   training_bindings(config_file, bindings), runtime=runtime)


def run_visualization(model_dir, output_directory, overwrite, device="auto"):
  visualize_dir = os.path.join(output_directory, "visualizations")
  if _needed(visualize_dir, "visualize", overwrite):
    visualize_model.visualize(model_dir, visualize_dir, overwrite=True, device=device)


def run_postprocessing(model_dir, output_directory, post_steps, overwrite, device="auto"):
  """Runs each plan.PostprocessStep into postprocessed/<name>."""
  for step in post_steps:
    folder = post_dir(output_directory, step.name)
    if _needed(folder, "postprocess", overwrite):
      logging.info("Extracting representation %s into %s.", step.name, folder)
      postprocess.postprocess_with_gin(model_dir, folder, True, [step.config_file],
                                       step.bindings(), device=device)


def run_evaluation(output_directory, eval_steps, overwrite, device="auto"):
  """Runs each plan.EvaluationStep into metrics/<post>/<metric>."""
  for step in eval_steps:
    folder = metric_dir(output_directory, step)
    if _needed(folder, "evaluation", overwrite):
      logging.info("Computing metric %s on %s.", step.metric_name, step.post_name)
      evaluate.evaluate_with_gin(post_dir(output_directory, step.post_name), folder, True,
                                 [step.config_file], step.bindings(), device=device)


def run_validation(output_directory, validation_steps, overwrite, device="auto"):
  """Runs each validation step (post_name, metric_name, config_file, bindings())."""
  for step in validation_steps:
    folder = metric_dir(output_directory, step, "validation")
    if _needed(folder, "validation", overwrite):
      logging.info("Computing metric %s on %s.", step.metric_name, step.post_name)
      validate.validate_with_gin(post_dir(output_directory, step.post_name), folder, True,
                                 [step.config_file], step.bindings(), device=device)


def incomplete(output_directory, post_steps, eval_steps):
  """The stage folders of a trained, visualised, postprocessed and evaluated model
  that have no results yet."""
  stages = [(os.path.join(output_directory, "model"), "train"),
            (os.path.join(output_directory, "visualizations"), "visualize")]
  stages += [(post_dir(output_directory, step.name), "postprocess") for step in post_steps]
  stages += [(metric_dir(output_directory, step), "evaluation") for step in eval_steps]
  return [folder for folder, name in stages if not stage_complete(folder, name)]
