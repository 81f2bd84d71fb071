"""Evaluation: scoring a postprocessed representation with one metric (gin `evaluation`)."""
import inspect
import os
import time
import warnings

import gin
import numpy as np

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import pipeline_step
from dlib_torch.utils import results
from dlib_torch.utils import seeding
from dlib_torch.utils import torchscript_io


def evaluate_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None,
                      gin_bindings=None, device="auto"):
  """Parses the gin files and bindings, evaluates, and clears gin."""
  gin_registry.run_with_config("evaluation", gin_config_files, gin_bindings,
                               evaluate, model_dir, output_dir, overwrite, device=device)


def _takes(fn, name):
  parameters = inspect.signature(fn).parameters
  return name in parameters or any(
      p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values())


@gin.configurable("evaluation", denylist=["model_dir", "output_dir", "overwrite", "device"])
def evaluate(model_dir, output_dir, overwrite=False, evaluation_fn=gin.REQUIRED,
             random_seed=gin.REQUIRED, name="", device="auto"):
  """Scores the representation in model_dir and writes output_dir/results.

  A metric that takes an `acceptance_function` gets the folder's open-set
  rejection (numpy images -> bool [N]), or None where the model has none.

  Args:
    model_dir: a postprocessed folder (dpostprocess's output).
    output_dir: the output folder.
    overwrite: whether an existing output folder may be replaced.
    evaluation_fn: the metric (e.g. `@mig`).
    random_seed: seed of the metric's RandomState (and of sampled representations).
    name: the metric's name; artifacts go to model_dir/artifacts/<name>.
    device: where the representation runs ("auto": CUDA if present); recorded
      in the results.
  """
  errors.check_seed("evaluation.random_seed", random_seed)
  pipeline_step.check_output_dir(output_dir, overwrite)
  pipeline_step.require_input_dir(model_dir, "a postprocessed representation folder")
  start = time.time()
  pipeline_step.resolve_auto_dataset(
      os.path.join(model_dir, "results", "gin", "postprocess.gin"))
  dataset = named_data.get_named_ground_truth_data()
  device = devices.resolve_device(device)
  representation_function = torchscript_io.load_representation(model_dir, device=device)
  # Sampled representations draw from torch's global generator, the fits of
  # several metrics from numpy's: seeded, a score depends only on its config.
  seeding.seed_global_generators(random_seed)
  with atomic_io.staged_directory(output_dir) as staging:
    kwargs = {}
    if _takes(evaluation_fn, "artifact_dir"):
      kwargs["artifact_dir"] = os.path.join(model_dir, "artifacts", name)
    else:
      warnings.warn("Evaluation function does not accept an `artifact_dir` argument; it "
                    "is called without one.", DeprecationWarning)
    if _takes(evaluation_fn, "acceptance_function"):
      kwargs["acceptance_function"] = torchscript_io.load_open_set(model_dir, device=device)
    metric_results = evaluation_fn(dataset, representation_function,
                                   random_state=np.random.RandomState(random_seed), **kwargs)
    metric_results = dict(metric_results)
    metric_results.update(devices.describe(device))
    metric_results["elapsed_time"] = time.time() - start
    results.update_result_directory(os.path.join(staging, "results"), "evaluation",
                                    metric_results,
                                    old_result_dir=os.path.join(model_dir, "results"))
