"""The postprocessing and evaluation steps of `dreproduce`, with their seeds.

The seeds come from one master RandomState (seed 0): first one draw per
postprocessing config, then one per (postprocessing config, metric config)
pair, configs sorted by path. They therefore do not depend on the model, and
every model of a study is evaluated on the same samples, as in
disentanglement_lib.
"""
import collections
import os

import numpy as np


class PostprocessStep(
    collections.namedtuple("PostprocessStep",
                           ["name", "config_file", "random_seed"])):
  """One representation to extract: output folder postprocessed/<name>."""

  def bindings(self):
    return ["postprocess.random_seed = {}".format(self.random_seed),
            "postprocess.name = '{}'".format(self.name)]


class EvaluationStep(
    collections.namedtuple(
        "EvaluationStep",
        ["post_name", "metric_name", "config_file", "random_seed"])):
  """One metric on one representation: metrics/<post_name>/<metric_name>."""

  def bindings(self):
    return ["evaluation.random_seed = {}".format(self.random_seed),
            "evaluation.name = '{}'".format(self.metric_name)]


def config_name(config_file):
  """The step name of a gin file: its base name without ".gin"."""
  return os.path.basename(config_file).replace(".gin", "")


def make_plan(postprocess_config_files, eval_config_files, random_state=None):
  """Returns ([PostprocessStep], [EvaluationStep]) in execution order.

  Args:
    postprocess_config_files: gin files of the representations (any order).
    eval_config_files: gin files of the metrics (any order).
    random_state: the RandomState the seeds are drawn from, in place;
      None means RandomState(0), the seeds of `dlib_reproduce`.
  """
  if random_state is None:
    random_state = np.random.RandomState(0)
  post_files = sorted(postprocess_config_files)
  eval_files = sorted(eval_config_files)
  post_steps = [
      PostprocessStep(config_name(path), path, draw_seed(random_state))
      for path in post_files
  ]
  eval_steps = [
      EvaluationStep(post.name, config_name(path), path,
                     draw_seed(random_state))
      for post in post_steps for path in eval_files
  ]
  return post_steps, eval_steps


def draw_seed(random_state):
  # int64 explicitly: the default integer type is 32 bits on some platforms.
  return int(random_state.randint(2**32, dtype=np.int64))
