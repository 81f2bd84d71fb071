"""UDR evaluation: scores a group of trained models against each other.

The gin bindings are the original's (`evaluation.evaluation_fn = @udr_sklearn`,
`evaluation.random_seed`, `dataset.name`). They bind the `evaluation`
configurable of dlib_torch.evaluation.evaluate; a second configurable of that
name here would make every `evaluation.*` binding ambiguous for gin, so
`evaluate` reads those bindings itself and adds them to the recorded
evaluation.gin, where the original's operative config has them.
"""
import os
import time

from absl import logging
import gin
import numpy as np

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation import evaluate as single_model_evaluate  # pylint: disable=unused-import
from dlib_torch.utils import atomic_io
from dlib_torch.utils import batching
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import pipeline_step
from dlib_torch.utils import results
from dlib_torch.utils import seeding
from dlib_torch.utils import torchscript_io


def evaluate_with_gin(model_dirs, output_dir, gin_config_files=None,
                      gin_bindings=None, device="auto", overwrite=False):
  """Parses the gin files and bindings, runs `evaluate`, and clears gin."""
  gin_registry.run_with_config("evaluation", gin_config_files, gin_bindings,
                               evaluate, model_dirs, output_dir, device=device,
                               overwrite=overwrite)


def evaluate(model_dirs, output_dir, evaluation_fn=None, random_seed=None,
             name="", device="auto", overwrite=False):
  """Scores the models in model_dirs with a UDR metric; writes output_dir/results.

  An existing output_dir needs overwrite (the original replaced it
  silently), and is replaced only once the new results are complete; the
  results folder of the first model is copied into the output, as in the
  original.

  Args:
    model_dirs: trained model folders, each with torchscript/gaussian_encoder.pt
      and results/gin/train.gin.
    output_dir: the output folder.
    evaluation_fn: the metric, e.g. `udr.compute_udr_sklearn`; None takes the
      gin binding `evaluation.evaluation_fn`.
    random_seed: seed of the sampling; None takes `evaluation.random_seed`.
    name: unused (tags the gin config, as in the original).
    device: where the encoders run ("auto": CUDA if present); recorded in the
      results.
    overwrite: whether an existing output_dir may be replaced.
  """
  del name
  start = time.time()
  if not model_dirs:
    raise errors.UserError("No model directories given.")
  for model_dir in model_dirs:
    pipeline_step.require_input_dir(model_dir, "a trained model folder")
  pipeline_step.check_output_dir(output_dir, overwrite)
  bindings = gin.get_bindings("evaluation")
  if evaluation_fn is None:
    evaluation_fn = bindings.get("evaluation_fn")
  if random_seed is None:
    random_seed = bindings.get("random_seed")
  if evaluation_fn is None or random_seed is None:
    raise errors.UserError(
        "Bind evaluation.evaluation_fn (e.g. @udr_sklearn) and evaluation.random_seed.")
  errors.check_seed("evaluation.random_seed", random_seed)
  seeding.seed_global_generators(random_seed)
  device = devices.resolve_device(device)
  pipeline_step.resolve_auto_dataset(
      os.path.join(model_dirs[0], "results", "gin", "train.gin"))
  logging.info("Data set: %s", gin.query_parameter("dataset.name"))
  dataset = named_data.get_named_ground_truth_data()
  representation_functions = [
      _mean_and_kl_function(torchscript_io.load_gaussian_encoder(d, device=device))
      for d in model_dirs]
  with atomic_io.staged_directory(output_dir) as staging:
    results_dict = dict(evaluation_fn(
        dataset, representation_functions,
        random_state=np.random.RandomState(random_seed)))
    results_dict.update(devices.describe(device))
    results_dict["elapsed_time"] = time.time() - start
    results.update_result_directory(
        os.path.join(staging, "results"), "evaluation", results_dict,
        old_result_dir=os.path.join(model_dirs[0], "results"),
        extra_config=_evaluation_section())


def _evaluation_section():
  """The `evaluation.*` section of the parsed gin config, as operative-config text."""
  for section in gin.config_str().split("\n\n"):
    if section.startswith("# Parameters for evaluation:"):
      return "\n" + section.strip() + "\n"
  return ""


def _mean_and_kl_function(gaussian_encoder):
  """observations -> (means [n, L], mean KL to N(0, I) per latent over the batch [L]).

  It takes any batch size (utils.batching): the UDR weights the KL of a chunk
  of k batches by k.
  """

  def representation_function(x):
    mean, logvar = gaussian_encoder(x)
    kl = np.mean(0.5 * (np.square(mean) + np.exp(logvar) - logvar - 1), axis=0)
    return mean, kl

  return batching.declare_any_batch_size(representation_function)
