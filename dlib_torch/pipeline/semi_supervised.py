"""The semi-supervised pipeline (the original's dlib_reproduce_semi_supervised).

Trains a semi-supervised model (or takes the one of an earlier run),
visualises it, extracts each representation, validates it on the labelled
set the model was trained with (model selection with few labels) and scores
it with each metric, then gathers the metric results in
metrics/aggregated_results.json.

Seeds, in the original's order: RandomState(pipeline_seed) gives the model
seed and the unlabelled-data seed (always drawn, also when the model is
re-used), then one seed per postprocessing config; the labelled set is drawn
with supervised_seed, in training as in validation (`validation.random_seed`);
RandomState(eval_seed) gives one seed per (representation, metric) pair.
Folders: validation/<post>/<metric>_validation_<supervised_seed>_<num_labelled_samples>
and metrics/<post>/<metric>_<supervised_seed>.

The supervision parameters (supervised seed, number of labelled samples,
train percentage, labeller) of a re-used model are read from its
results/gin/train.gin and must not be given. Beyond the original: when
training, a parameter left out keeps the model config's value (the original
bound None and failed), and finished stages are skipped on a rerun unless
overwrite (pipeline.stages).
"""
import collections
import os

from absl import logging
import numpy as np

from dlib_torch.config import plan
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
from dlib_torch.pipeline import stages
from dlib_torch.pipeline import weakly_supervised
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors
from dlib_torch.utils import results

STUDY_DIR = "semi_supervised_study"
VALIDATION_CONFIG_DIR = STUDY_DIR + "/validation_configs"

Supervision = collections.namedtuple(
    "Supervision", ["supervised_seed", "num_labelled_samples", "train_percentage",
                    "labeller_fn"])
# The gin parameter each supervision parameter is trained with.
_GIN_KEYS = Supervision("model.supervised_data_seed", "model.num_labelled_samples",
                        "model.train_percentage", "labeller.labeller_fn")


class ValidationStep(
    collections.namedtuple("ValidationStep",
                           ["post_name", "metric_name", "config_file", "gin_bindings"])):
  """One *_validation metric on one representation: validation/<post_name>/<metric_name>."""

  def bindings(self):
    return list(self.gin_bindings)


def validation_steps(post_steps, validation_config_files, supervision):
  """The (representation, validation config) steps, with the original's names and bindings."""
  steps = []
  for post in post_steps:
    for path in sorted(validation_config_files):
      metric = plan.config_name(path) + "_validation"
      bindings = []
      if metric != "mig_validation":
        bindings.append("{}.train_percentage = {}".format(metric, supervision.train_percentage))
      name = "{}_{}_{}".format(metric, supervision.supervised_seed,
                               supervision.num_labelled_samples)
      bindings += ["validation.random_seed = {}".format(supervision.supervised_seed),
                   "validation.name = '{}'".format(name),
                   "validation.num_labelled_samples = {}".format(
                       supervision.num_labelled_samples),
                   "labeller.labeller_fn = {}".format(supervision.labeller_fn)]
      steps.append(ValidationStep(post.name, name, path, bindings))
  return steps


def trained_supervision(model_dir, supervision):
  """The supervision parameters, those that are None read from the model's train.gin."""
  train_gin = os.path.join(model_dir, "results", "gin", "train.gin")
  if not os.path.isfile(train_gin):
    raise errors.UserError("Missing {}: {} is not a trained model folder.".format(
        train_gin, model_dir))
  config = results.gin_dict(train_gin)
  values = []
  for value, key in zip(supervision, _GIN_KEYS):
    if value is None:
      if key not in config:
        raise errors.UserError("{} has no {}: not a semi-supervised model.".format(
            train_gin, key))
      value = config[key]
    values.append(value)
  return Supervision(*values)


def reproduce_semi_supervised(output_directory, model_config_file_path,
                              postprocess_config_files, evaluation_config_files,
                              validation_config_files, model_dir=None, gin_bindings=(),
                              pipeline_seed=None, eval_seed=None,
                              supervision=Supervision(None, None, None, None),
                              overwrite=False, runtime=None):
  """Runs the semi-supervised pipeline into output_directory.

  Args:
    output_directory: where model/, visualizations/, postprocessed/,
      validation/ and metrics/ go.
    model_config_file_path: the gin file the model is trained with.
    postprocess_config_files: gin files of the representations.
    evaluation_config_files: gin files of the metrics.
    validation_config_files: gin files of the validation metrics.
    model_dir: the output folder of an earlier run; its model/ is used and
      training is skipped.
    gin_bindings: extra training bindings, after the pipeline's.
    pipeline_seed: seed of the model, data and postprocessing seeds (None: random).
    eval_seed: seed of the evaluation seeds (None: random).
    supervision: a Supervision; with model_dir, all of it must be None.
    overwrite: redo finished stages instead of skipping them.
    runtime: train.Runtime for the training stage; every stage runs on its device.

  Returns:
    The Supervision the model was trained and validated with.
  """
  random_state = np.random.RandomState(pipeline_seed)
  model_seed = plan.draw_seed(random_state)
  unsupervised_data_seed = plan.draw_seed(random_state)
  post_steps, _ = plan.make_plan(postprocess_config_files, [], random_state)
  model_config = None
  if model_dir is None:
    bindings = ["model.model_seed = {}".format(model_seed),
                "model.unsupervised_data_seed = {}".format(unsupervised_data_seed)]
    bindings += ["{} = {}".format(key, value) for key, value in zip(_GIN_KEYS, supervision)
                 if value is not None]
    model_config = (model_config_file_path, bindings + list(gin_bindings))
  else:
    for field, value in zip(Supervision._fields, supervision):
      if value is not None:
        raise errors.UserError(
            "The {} flag should not be specified when re-evaluating.".format(field))
  # The metric folders are named after the trained supervised seed; the configs are
  # checked before training all the same.
  stages.check_configs(model_config, post_steps, weakly_supervised.evaluation_steps(
      post_steps, evaluation_config_files, np.random.RandomState(0), "check"))
  if model_config is not None:
    model_dir = os.path.join(output_directory, "model")
    stages.run_training(train_semi_supervised_lib.train_with_gin, model_dir, *model_config,
                        overwrite, runtime)
  else:
    logging.info("Skipped training: using the model of %s.", model_dir)
    model_dir = os.path.join(model_dir, "model")
  supervision = trained_supervision(model_dir, supervision)
  validations = validation_steps(post_steps, validation_config_files, supervision)
  stages.check_configs(validation_steps=validations)

  device = stages.device_of(runtime)
  stages.run_visualization(model_dir, output_directory, overwrite, device)
  stages.run_postprocessing(model_dir, output_directory, post_steps, overwrite, device)
  stages.run_validation(output_directory, validations, overwrite, device)
  eval_steps = weakly_supervised.evaluation_steps(
      post_steps, evaluation_config_files, np.random.RandomState(eval_seed),
      supervision.supervised_seed)
  stages.run_evaluation(output_directory, eval_steps, overwrite, device)
  aggregate_results.aggregate_results_to_json(
      os.path.join(output_directory, "metrics", "*", "*", "results", "aggregate",
                   "evaluation.json"),
      os.path.join(output_directory, "metrics", "aggregated_results.json"))
  return supervision
