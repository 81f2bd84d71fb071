"""The reasoning step (gin `abstract_reasoning`): trains WReN on PGMs and scores it.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract
Visual Reasoning?", NeurIPS 2019. As the original: a RandomState(random_seed)
draws, for each of num_iterations, the seeds of a training stream, a
validation stream and a test stream; after each block of
training_steps_per_iteration steps the model is scored on
eval_steps_per_iteration batches of each. Results are
`step<N>.{val,test}.{accuracy,loss,global_step}` with N = iteration x
training_steps_per_iteration (the steps done before the block, as the
original labels them) and `best.*`, the iteration of the best validation
accuracy, in results/<...>/abstract_reasoning*.
"""
import os
import time

import gin
import numpy as np
import torch

from dlib_torch import gin_registry
from dlib_torch.evaluation.abstract_reasoning import models
from dlib_torch.evaluation.abstract_reasoning import pgm_data
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import pipeline_step
from dlib_torch.utils import results

STEP_NAME = "abstract_reasoning"


def reason_with_gin(input_dir, output_dir, overwrite=False, gin_config_files=None,
                    gin_bindings=None, device="auto"):
  """Parses the gin files and bindings, runs `reason`, and clears gin."""
  gin_registry.run_with_config("evaluation", gin_config_files, gin_bindings, reason, input_dir,
                               output_dir, overwrite, device=device)


@gin.configurable(STEP_NAME, denylist=["input_dir", "output_dir", "overwrite", "device"])
def reason(input_dir, output_dir, overwrite=False, model=gin.REQUIRED,
           num_iterations=gin.REQUIRED, training_steps_per_iteration=gin.REQUIRED,
           eval_steps_per_iteration=gin.REQUIRED, random_seed=gin.REQUIRED,
           batch_size=gin.REQUIRED, name="", device="auto"):
  """Trains `model` on the PGMs of `pgm.pgm_type` and writes output_dir/results.

  Args:
    input_dir: a postprocessed folder whose representation embeds the panels
      (HubEmbedding), or None to learn from pixels or factors.
    output_dir: the output folder.
    overwrite: whether an existing output folder may be replaced.
    model: a TwoStageModel.
    num_iterations, training_steps_per_iteration, eval_steps_per_iteration:
      the schedule (see the module doc).
    random_seed: seed of the streams' seeds and of torch.
    batch_size: PGMs per batch.
    name: recorded in the configuration only.
    device: where the model runs ("auto": CUDA if present).
  """
  del name
  for key, value in (("num_iterations", num_iterations),
                     ("training_steps_per_iteration", training_steps_per_iteration),
                     ("eval_steps_per_iteration", eval_steps_per_iteration),
                     ("batch_size", batch_size)):
    errors.check_positive_int("abstract_reasoning." + key, value)
  errors.check_seed("abstract_reasoning.random_seed", random_seed)
  pipeline_step.check_output_dir(output_dir, overwrite)
  start = time.time()
  random_state = np.random.RandomState(random_seed)
  _resolve_inputs(input_dir)
  dataset = pgm_data.get_pgm_dataset()
  device = devices.resolve_device(device)
  torch.manual_seed(random_seed)
  runs = []
  for iteration in range(num_iterations):
    _train(model, dataset.batches(random_state.randint(2**32), batch_size),
           training_steps_per_iteration, device)
    validation = _score(model, dataset.batches(random_state.randint(2**32), batch_size,
                                               eval_steps_per_iteration), device)
    test = _score(model, dataset.batches(random_state.randint(2**32), batch_size,
                                         eval_steps_per_iteration), device)
    runs.append(results.namespaced_dict(val=validation, test=test))
  scores = {"step{}".format(i * training_steps_per_iteration): run for i, run in enumerate(runs)}
  scores["best"] = runs[int(np.argmax([run["val.accuracy"] for run in runs]))]
  results_dict = results.namespaced_dict(**scores)
  results_dict.update(devices.describe(device))
  results_dict["elapsed_time"] = time.time() - start
  with atomic_io.staged_directory(output_dir) as staging:
    atomic_io.write_torch(os.path.join(staging, "checkpoint", "model.pt"), torch.save,
                          model.state_dict())
    results.update_result_directory(
        os.path.join(staging, "results"), STEP_NAME, results_dict,
        old_result_dir=None if input_dir is None else os.path.join(input_dir, "results"))


def _resolve_inputs(input_dir):
  """dataset.name 'auto' from the input's postprocess.gin; HubEmbedding reads input_dir."""
  if input_dir is None:
    if gin.query_parameter("dataset.name") == "auto":
      raise errors.UserError("Cannot automatically infer data set for methods with no prior "
                             "model directory (dataset.name = 'auto' needs --input_dir).")
    return
  pipeline_step.require_input_dir(input_dir, "a postprocessed representation folder")
  pipeline_step.resolve_auto_dataset(os.path.join(input_dir, "results", "gin", "postprocess.gin"))
  with gin.unlock_config():
    gin.bind_parameter("HubEmbedding.hub_path", input_dir)


def _to_device(features, labels, device):
  return ({k: torch.from_numpy(v).to(device) for k, v in features.items()},
          torch.from_numpy(labels).to(device))


def _train(model, batches, num_steps, device):
  """num_steps Adam steps on the stream; builds the model and its optimizer on first use."""
  for _ in range(num_steps):
    features, labels = _to_device(*next(batches), device)
    if model.reasoning_model is None:
      model.build(features)
      model.to(device)
      model.optimizer = model.make_optimizer()
      model.global_step = 0
    model.train()
    loss, _ = models.loss_and_accuracy(model(features), labels)
    model.optimizer.zero_grad()
    loss.backward()
    model.optimizer.step()
    model.global_step += 1
  if not np.isfinite(loss.item()):
    raise errors.UserError("The reasoning loss is not finite after {} steps; lower the "
                           "learning rate.".format(model.global_step))


def _score(model, batches, device):
  """Accuracy over every PGM of the stream, mean batch loss, and the global step (as TF's)."""
  model.eval()
  losses, right, total = [], 0, 0
  with torch.no_grad():
    for features, labels in batches:
      features, labels = _to_device(features, labels, device)
      loss, correct = models.loss_and_accuracy(model(features), labels)
      losses.append(loss.item())
      right += int(correct)
      total += len(labels)
  return {"accuracy": right / total, "loss": float(np.mean(losses)),
          "global_step": model.global_step}
