"""Validation: scoring a representation on a fixed labelled set (gin `validation`).

Evaluation draws fresh samples with the metric's seed; validation instead
scores every model on the same labelled set, drawn with
`validation.random_seed` and the labeller exactly as semi-supervised training
draws its labelled set, so that models can be selected with the few labels
they were trained with (Locatello et al. 2020, "Disentangling Factors of
Variation Using Few Labels"). The metrics are the `*_validation` variants
(`@dci_validation`, `@mig_validation`, `@sap_score_validation`, ...), called
as validation_fn(observations, labels [F, N], representation_function).
"""
import os
import time

import gin
import numpy as np

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import pipeline_step
from dlib_torch.utils import results
from dlib_torch.utils import seeding
from dlib_torch.utils import torchscript_io


def validate_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None,
                      gin_bindings=None, device="auto"):
  """Parses the gin files and bindings, validates, and clears gin."""
  gin_registry.run_with_config("validation", gin_config_files, gin_bindings,
                               validate, model_dir, output_dir, overwrite, device=device)


@gin.configurable("validation", denylist=["model_dir", "output_dir", "overwrite", "device"])
def validate(model_dir, output_dir, overwrite=False, validation_fn=gin.REQUIRED,
             random_seed=gin.REQUIRED, num_labelled_samples=gin.REQUIRED, name="",
             device="auto"):
  """Scores the representation in model_dir on the labelled set; writes output_dir/results.

  Args:
    model_dir: a postprocessed folder (dpostprocess's output).
    output_dir: the output folder.
    overwrite: whether an existing output folder may be replaced.
    validation_fn: the metric on fixed data (e.g. `@mig_validation`).
    random_seed: seed of the labelled set and the labeller (the supervised seed).
    num_labelled_samples: size of the labelled set.
    name: unused; names the score in the recorded configuration.
    device: where the representation runs ("auto": CUDA if present); recorded
      in the results.
  """
  del name
  errors.check_seed("validation.random_seed", random_seed)
  errors.check_positive_int("validation.num_labelled_samples", num_labelled_samples)
  pipeline_step.check_output_dir(output_dir, overwrite)
  pipeline_step.require_input_dir(model_dir, "a postprocessed representation folder")
  start = time.time()
  device = devices.resolve_device(device)
  pipeline_step.resolve_auto_dataset(
      os.path.join(model_dir, "results", "gin", "postprocess.gin"))
  dataset = named_data.get_named_ground_truth_data()
  observations, labels, _ = semi_supervised_utils.sample_supervised_data(
      random_seed, dataset, num_labelled_samples)
  representation_function = torchscript_io.load_representation(model_dir, device=device)
  # As in evaluation: the fits and sampled representations draw from the global generators.
  seeding.seed_global_generators(random_seed)
  with atomic_io.staged_directory(output_dir) as staging:
    validation_results = dict(
        validation_fn(observations, np.transpose(labels), representation_function))
    validation_results.update(devices.describe(device))
    validation_results["elapsed_time"] = time.time() - start
    results.update_result_directory(os.path.join(staging, "results"), "validation",
                                    validation_results,
                                    old_result_dir=os.path.join(model_dir, "results"))
