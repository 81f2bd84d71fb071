"""Running one model of a study end to end: train, visualise, postprocess, evaluate.

Each stage is skipped when its output folder is already complete, so a job
can simply be started again after an interruption (training itself resumes
from its checkpoint). Seeds of postprocessing and evaluation follow the
original's plan (dlib_torch.config.plan).
"""
import os

from absl import logging

from dlib_torch.config import plan
from dlib_torch.evaluation import evaluate
from dlib_torch.methods.unsupervised import train
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import errors
from dlib_torch.visualize import visualize_model
from dlib_torch.utils import results


def stage_complete(step_dir, step_name):
  return os.path.exists(os.path.join(step_dir, "results", "aggregate", step_name + ".json"))


def _unknown_configurable(exc):
  return "No configurable matching" in str(exc)


def _plan(study, metric_names):
  """The study's postprocessing and evaluation steps, only `metric_names` if given."""
  post_steps, eval_steps = plan.make_plan(study.get_postprocess_config_files(),
                                          study.get_eval_config_files())
  if metric_names is not None:
    known = {step.metric_name for step in eval_steps}
    unknown = sorted(set(metric_names) - known)
    if unknown:
      raise errors.UserError("Unknown metric(s) {}; the study has {}.".format(
          ", ".join(unknown), ", ".join(sorted(known))))
    eval_steps = [step for step in eval_steps if step.metric_name in metric_names]
  return post_steps, eval_steps


def incomplete_stages(study, output_directory, metric_names=None):
  """The stage folders under a model's output_directory without results yet.

  Empty when `reproduce_model` (with the same metrics) has finished there.
  """
  post_steps, eval_steps = _plan(study, metric_names)
  stages = [("model", "train"), ("visualizations", "visualize")]
  stages += [(os.path.join("postprocessed", step.name), "postprocess") for step in post_steps]
  stages += [(os.path.join("metrics", step.post_name, step.metric_name), "evaluation")
             for step in eval_steps]
  return [os.path.join(output_directory, folder) for folder, name in stages
          if not stage_complete(os.path.join(output_directory, folder), name)]


def reproduce_model(study, model_num, output_directory, model_dir=None, gin_bindings=(),
                    overwrite=False, runtime=None, metric_names=None):
  """Runs every stage for model `model_num` of `study` into output_directory.

  Args:
    study: a dlib_torch.config.study.Study.
    model_num: the model's number in the study.
    output_directory: where model/, visualizations/, postprocessed/ and metrics/ go.
    model_dir: an existing trained model folder; training is then skipped.
    gin_bindings: extra bindings applied after the study's model bindings.
    overwrite: redo finished stages instead of skipping them.
    runtime: train.Runtime for the training stage.
    metric_names: only these metric configs (by name) are evaluated; None means all.
      Seeds are those of the whole plan, so a metric's result does not depend on
      which others are run.

  Returns:
    The list of metric folders that were skipped because the metric is not available.
  """
  post_steps, eval_steps = _plan(study, metric_names)
  if model_dir is None:
    model_bindings, model_config_file = study.get_model_config(model_num)
    name = os.path.basename(model_config_file).replace(".gin", "")
    bindings = (["model.name = '{}'".format(name), "model.model_num = {}".format(model_num)] +
                list(model_bindings) + list(gin_bindings))
    model_dir = os.path.join(output_directory, "model")
    if overwrite or not stage_complete(model_dir, "train"):
      logging.info("Training model %d into %s.", model_num, model_dir)
      train.train_with_gin(model_dir, overwrite, [model_config_file], bindings, runtime=runtime)

  visualize_dir = os.path.join(output_directory, "visualizations")
  if overwrite or not stage_complete(visualize_dir, "visualize"):
    visualize_model.visualize(model_dir, visualize_dir, overwrite=True)

  for step in post_steps:
    post_dir = os.path.join(output_directory, "postprocessed", step.name)
    if overwrite or not stage_complete(post_dir, "postprocess"):
      logging.info("Postprocessing %s into %s.", step.name, post_dir)
      postprocess.postprocess_with_gin(model_dir, post_dir, True, [step.config_file],
                                       step.bindings())

  skipped = []
  for step in eval_steps:
    post_dir = os.path.join(output_directory, "postprocessed", step.post_name)
    metric_dir = os.path.join(output_directory, "metrics", step.post_name, step.metric_name)
    if not overwrite and stage_complete(metric_dir, "evaluation"):
      continue
    logging.info("Evaluating %s on %s into %s.", step.metric_name, step.post_name, metric_dir)
    try:
      evaluate.evaluate_with_gin(post_dir, metric_dir, True, [step.config_file], step.bindings())
    except ValueError as e:
      if not _unknown_configurable(e):
        raise
      logging.warning("Skipping metric %s: not available in this version (%s).",
                      step.metric_name, str(e).splitlines()[0])
      skipped.append(metric_dir)
  return skipped


def results_of(output_directory):
  """The aggregated evaluation results found under an output folder (for summaries)."""
  found = {}
  metrics_root = os.path.join(output_directory, "metrics")
  for root, _, files in os.walk(metrics_root):
    if "evaluation.json" in files and root.endswith(os.path.join("results", "aggregate")):
      found[os.path.relpath(os.path.dirname(os.path.dirname(root)), metrics_root)] = (
          results.aggregate_json_results(os.path.dirname(root) + "/json"))
  return found
