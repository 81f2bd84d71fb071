"""The weakly-supervised pipeline (the original's dlib_reproduce_weakly_supervised).

Trains a weakly-supervised model (or takes the one of an earlier run),
visualises it, extracts each representation and scores it with each metric.
Seeds come from RandomState(pipeline_seed) in the original's order: the
model's seed, one per postprocessing config, then one per (representation,
metric) pair, configs sorted by path. As in the original, the model's seed is
drawn only when the model is trained, so re-evaluating an earlier run's model
uses other postprocessing and evaluation seeds than that run did. Metrics
whose name contains "unsupervised" are not computed; metric folders are named
<metric>_0.

Beyond the original, as in dreproduce: a stage whose output folder is
complete is skipped when the pipeline runs again (unless overwrite), so an
interrupted job can simply be restarted. The stage runners below are shared
with the semi-supervised pipeline.
"""
import glob
import os

from absl import logging
import numpy as np

from dlib_torch import reproduce
from dlib_torch.config import plan
from dlib_torch.config import resources
from dlib_torch.evaluation import evaluate
from dlib_torch.methods.weak import train_weak_lib
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import errors

STUDY_DIR = "weakly_supervised_study"
# The metrics of the weakly-supervised paper are the unsupervised study's.
METRIC_CONFIG_DIR = "unsupervised_study_v1/metric_configs"
# dreproduce's test of a finished stage (results/aggregate/<step>.json exists).


def config_files(pattern, default_dir):
  """The gin files matching a glob pattern, sorted; None means the shipped default_dir's."""
  if pattern is None:
    return resources.list_configs(default_dir)
  files = sorted(glob.glob(pattern))
  if not files:
    raise errors.UserError("No gin config file matches {}.".format(pattern))
  return files


def model_config_file(config_dir, config_name, default_dir):
  """config_dir/config_name; config_dir None means the shipped default_dir."""
  if config_dir is None:
    return resources.config_path(os.path.join(default_dir, config_name))
  path = os.path.join(config_dir, config_name)
  if not os.path.isfile(path):
    raise errors.UserError("Gin config file not found: {}".format(path))
  return path


def model_name_binding(config_file):
  return "model.name = '{}'".format(plan.config_name(config_file))


def train_stage(train_with_gin, model_dir, config_file, bindings, overwrite, runtime):
  """Trains into model_dir unless a finished model is there (training resumes otherwise)."""
  if overwrite or not reproduce.stage_complete(model_dir, "train"):
    logging.info("Training model into %s.", model_dir)
    train_with_gin(model_dir, overwrite, [config_file], bindings, runtime=runtime)


def visualize_stage(model_dir, output_directory, overwrite):
  visualize_dir = os.path.join(output_directory, "visualizations")
  if overwrite or not reproduce.stage_complete(visualize_dir, "visualize"):
    from dlib_torch.visualize import visualize_model  # pylint: disable=g-import-not-at-top
    visualize_model.visualize(model_dir, visualize_dir, overwrite=True)


def postprocess_stage(model_dir, output_directory, post_steps, overwrite):
  """Runs each plan.PostprocessStep into output_directory/postprocessed/<name>."""
  for step in post_steps:
    post_dir = os.path.join(output_directory, "postprocessed", step.name)
    if overwrite or not reproduce.stage_complete(post_dir, "postprocess"):
      logging.info("Extracting representation %s into %s.", step.name, post_dir)
      postprocess.postprocess_with_gin(model_dir, post_dir, True, [step.config_file],
                                       step.bindings())


def evaluation_steps(post_steps, metric_config_files, random_state, suffix):
  """A plan.EvaluationStep <metric>_<suffix> per (representation, metric); seeds drawn in order."""
  return [plan.EvaluationStep(post.name, "{}_{}".format(plan.config_name(path), suffix), path,
                              plan.draw_seed(random_state))
          for post in post_steps for path in sorted(metric_config_files)]


def evaluate_stage(output_directory, eval_steps, overwrite):
  """Runs each plan.EvaluationStep into output_directory/metrics/<post>/<metric>."""
  for step in eval_steps:
    post_dir = os.path.join(output_directory, "postprocessed", step.post_name)
    metric_dir = os.path.join(output_directory, "metrics", step.post_name, step.metric_name)
    if overwrite or not reproduce.stage_complete(metric_dir, "evaluation"):
      logging.info("Computing metric %s on %s.", step.metric_name, step.post_name)
      evaluate.evaluate_with_gin(post_dir, metric_dir, True, [step.config_file],
                                 step.bindings())


def reproduce_weakly_supervised(output_directory, model_config_file_path,
                                postprocess_config_files, evaluation_config_files,
                                model_dir=None, gin_bindings=(), pipeline_seed=None,
                                overwrite=False, runtime=None):
  """Runs the weakly-supervised pipeline into output_directory.

  Args:
    output_directory: where model/, visualizations/, postprocessed/ and metrics/ go.
    model_config_file_path: the gin file the model is trained with.
    postprocess_config_files: gin files of the representations.
    evaluation_config_files: gin files of the metrics.
    model_dir: the output folder of an earlier run; its model/ is used and
      training is skipped.
    gin_bindings: extra training bindings, after the pipeline's.
    pipeline_seed: seed of the RandomState all seeds are drawn from (None: random).
    overwrite: redo finished stages instead of skipping them.
    runtime: train.Runtime for the training stage.

  Returns:
    The model folder used.
  """
  random_state = np.random.RandomState(pipeline_seed)
  if model_dir is None:
    model_dir = os.path.join(output_directory, "model")
    bindings = ["model.random_seed = {}".format(plan.draw_seed(random_state)),
                model_name_binding(model_config_file_path)] + list(gin_bindings)
    train_stage(train_weak_lib.train_with_gin, model_dir, model_config_file_path, bindings,
                overwrite, runtime)
  else:
    logging.info("Skipped training: using the model of %s.", model_dir)
    model_dir = os.path.join(model_dir, "model")
  visualize_stage(model_dir, output_directory, overwrite)
  post_steps, _ = plan.make_plan(postprocess_config_files, [], random_state)
  postprocess_stage(model_dir, output_directory, post_steps, overwrite)
  metric_files = [path for path in evaluation_config_files
                  if "unsupervised" not in plan.config_name(path)]
  evaluate_stage(output_directory,
                 evaluation_steps(post_steps, metric_files, random_state, 0), overwrite)
  return model_dir
