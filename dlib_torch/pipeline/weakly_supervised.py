"""The weakly-supervised pipeline (the original's dlib_reproduce_weakly_supervised).

Trains a weakly-supervised model (or takes the one of an earlier run),
visualises it, extracts each representation and scores it with each metric.
Seeds come from RandomState(pipeline_seed) in the original's order: the
model's seed, one per postprocessing config, then one per (representation,
metric) pair, configs sorted by path. As in the original, the model's seed is
drawn only when the model is trained, so re-evaluating an earlier run's model
uses other postprocessing and evaluation seeds than that run did. Metrics
whose name contains "unsupervised" are not computed; metric folders are named
<metric>_0. Beyond the original, finished stages are skipped on a rerun
(pipeline.stages).
"""
import os

from absl import logging
import numpy as np

from dlib_torch.config import plan
from dlib_torch.methods.weak import train_weak_lib
from dlib_torch.pipeline import stages

STUDY_DIR = "weakly_supervised_study"
# The metrics of the weakly-supervised paper are the unsupervised study's.
METRIC_CONFIG_DIR = "unsupervised_study_v1/metric_configs"


def evaluation_steps(post_steps, metric_config_files, random_state, suffix):
  """A plan.EvaluationStep <metric>_<suffix> per (representation, metric); seeds drawn in order."""
  return [plan.EvaluationStep(post.name, "{}_{}".format(plan.config_name(path), suffix), path,
                              plan.draw_seed(random_state))
          for post in post_steps for path in sorted(metric_config_files)]


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
    runtime: train.Runtime for the training stage; every stage runs on its device.

  Returns:
    The model folder used.
  """
  random_state = np.random.RandomState(pipeline_seed)
  model_config = None
  if model_dir is None:
    model_config = (model_config_file_path,
                    ["model.random_seed = {}".format(plan.draw_seed(random_state))] +
                    list(gin_bindings))
  post_steps, _ = plan.make_plan(postprocess_config_files, [], random_state)
  metric_files = [path for path in evaluation_config_files
                  if "unsupervised" not in plan.config_name(path)]
  eval_steps = evaluation_steps(post_steps, metric_files, random_state, 0)
  stages.check_configs(model_config, post_steps, eval_steps)
  if model_config is not None:
    model_dir = os.path.join(output_directory, "model")
    stages.run_training(train_weak_lib.train_with_gin, model_dir, *model_config, overwrite,
                        runtime)
  else:
    logging.info("Skipped training: using the model of %s.", model_dir)
    model_dir = os.path.join(model_dir, "model")
  device = stages.device_of(runtime)
  stages.run_visualization(model_dir, output_directory, overwrite, device)
  stages.run_postprocessing(model_dir, output_directory, post_steps, overwrite, device)
  stages.run_evaluation(output_directory, eval_steps, overwrite, device)
  return model_dir
