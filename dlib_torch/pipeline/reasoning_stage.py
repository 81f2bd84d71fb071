"""Stage 2 of a study with abstract reasoning: dreason on the model's representations.

A study whose get_reasoning_steps() has steps (abstract_reasoning_study_v1) gets,
after stage 1 (train, visualise, postprocess, evaluate), one reasoning run per
step, on OUT/postprocessed/<post_name> into
OUT/abstract_reasoning/<post_name>/<config name>, the layout of metrics/. The
original chains nothing here: its stage 2 is dlib_reason, run by hand with
--input_dir=<model>/postprocessed/mean. Finished runs are skipped, as every
stage's.
"""
import os

from absl import logging

from dlib_torch import gin_registry
from dlib_torch.evaluation.abstract_reasoning import reason
from dlib_torch.pipeline import stages


def step_dir(output_directory, step):
  return os.path.join(output_directory, reason.STEP_NAME, step.post_name, step.name)


def incomplete(output_directory, steps):
  """The folders of the steps that have no results yet."""
  return [step_dir(output_directory, step) for step in steps
          if not stages.stage_complete(step_dir(output_directory, step), reason.STEP_NAME)]


def run_reasoning(output_directory, steps, overwrite, device="auto"):
  """Runs each reasoning step whose folder has no results yet (every one with overwrite)."""
  for step in steps:
    gin_registry.check_config("evaluation", [step.config_file], step.bindings())
  for step in steps:
    folder = step_dir(output_directory, step)
    if overwrite or not stages.stage_complete(folder, reason.STEP_NAME):
      logging.info("Abstract reasoning %s on %s.", step.name, step.post_name)
      reason.reason_with_gin(stages.post_dir(output_directory, step.post_name), folder, True,
                             [step.config_file], step.bindings(), device=device)
