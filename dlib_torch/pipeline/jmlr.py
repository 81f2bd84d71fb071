"""The pipeline of Locatello et al.'s JMLR paper (the original's dlib_reproduce_jmlr).

Trains a model (or takes an earlier run's), visualises it, extracts each
representation and computes every metric num_eval times. Seeds come from
RandomState(random_seed) in the original's order: the model's seed (drawn
even when training is skipped, so that later seeds do not change), one per
postprocessing config, then, for each iteration, representation and metric
in turn, one per sample size of the metrics in scores_list. Folders are
metrics/<post>/<metric>_<iteration>, or <metric>_<num_train>_<iteration> for
those metrics, whose other evaluations keep their gin file's seed. The
evaluations are aggregated into metrics/aggregated_results.json. Beyond the
original, finished stages are skipped on a rerun (pipeline.stages).
"""
import collections
import os

from absl import logging
import numpy as np

from dlib_torch.config import plan
from dlib_torch.methods.unsupervised import train
from dlib_torch.pipeline import stages
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors


class EvaluationStep(collections.namedtuple(
    "EvaluationStep", ["post_name", "metric_name", "config_file", "extra_bindings"])):
  """One metric on one representation, with the bindings the pipeline gives it."""

  def bindings(self):
    return list(self.extra_bindings)


def evaluation_steps(post_steps, metric_config_files, num_eval, scores_list, num_samples_list,
                     random_state):
  """The EvaluationSteps in the original's order, seeds drawn from random_state in place.

  num_samples_list holds the sample sizes as given (strings of whole numbers):
  folder names keep them as written, as the original's.
  """
  steps = []
  for iteration in range(num_eval):
    for post in post_steps:
      for path in sorted(metric_config_files):
        metric = plan.config_name(path)
        if metric not in scores_list:
          name = "{}_{}".format(metric, iteration)
          steps.append(EvaluationStep(post.name, name, path, ["evaluation.name = '{}'".format(
              name)]))
          continue
        for num_samples in num_samples_list:
          name = "{}_{}_{}".format(metric, num_samples, iteration)
          steps.append(EvaluationStep(post.name, name, path, [
              "{}.num_train = {}".format(metric, int(num_samples)),
              "evaluation.name = '{}'".format(name),
              "evaluation.random_seed = {}".format(plan.draw_seed(random_state))]))
  return steps


def reproduce_jmlr(output_directory, model_config_file, postprocess_config_files,
                   evaluation_config_files, model_dir=None, gin_bindings=(), num_eval=1,
                   scores_list=(), evaluation_num_samples_train=(), random_seed=None,
                   overwrite=False, runtime=None):
  """Runs the pipeline into output_directory; returns the aggregated results' path.

  Args:
    output_directory: where model/, visualizations/, postprocessed/ and metrics/ go.
    model_config_file: the gin file the model is trained with (None with model_dir).
    postprocess_config_files, evaluation_config_files: gin files of the
      representations and of the metrics.
    model_dir: the output folder of an earlier run; its model/ is used and
      training is skipped.
    gin_bindings: extra training bindings, after the pipeline's.
    num_eval: how many times every metric is computed.
    scores_list: names of the metrics computed once per entry of
      evaluation_num_samples_train, with their own seeds.
    evaluation_num_samples_train: sample sizes (num_train) of those metrics.
    random_seed: seed of the RandomState all seeds are drawn from (None: random).
    overwrite: redo finished stages instead of skipping them.
    runtime: train.Runtime for the training stage; every stage runs on its device.
  """
  if scores_list and not evaluation_num_samples_train:
    raise errors.UserError("--scores_list needs --evaluation_num_samples_train: the sample "
                           "sizes to compute those scores with.")
  bad = [n for n in evaluation_num_samples_train if not str(n).strip().isdigit()]
  if bad:
    raise errors.UserError("--evaluation_num_samples_train takes whole numbers, not {}.".format(
        ", ".join(bad)))
  random_state = np.random.RandomState(random_seed)
  model_seed = plan.draw_seed(random_state)
  model_config = None
  if model_dir is None:
    model_config = (model_config_file, ["model.random_seed = {}".format(model_seed)] +
                    list(gin_bindings))
  post_steps, _ = plan.make_plan(postprocess_config_files, [], random_state)
  eval_steps = evaluation_steps(post_steps, evaluation_config_files, num_eval, scores_list,
                                evaluation_num_samples_train, random_state)
  stages.check_configs(model_config, post_steps, eval_steps)
  if model_config is not None:
    model_dir = os.path.join(output_directory, "model")
    stages.run_training(train.train_with_gin, model_dir, *model_config, overwrite, runtime)
  else:
    logging.info("Skipped training: using the model of %s.", model_dir)
    model_dir = os.path.join(model_dir, "model")
  device = stages.device_of(runtime)
  stages.run_visualization(model_dir, output_directory, overwrite, device)
  stages.run_postprocessing(model_dir, output_directory, post_steps, overwrite, device)
  stages.run_evaluation(output_directory, eval_steps, overwrite, device)
  aggregated = os.path.join(output_directory, "metrics", "aggregated_results.json")
  aggregate_results.aggregate_results_to_json(
      os.path.join(output_directory, "metrics", "*", "*", "results", "aggregate",
                   "evaluation.json"), aggregated)
  return aggregated
