"""The study "abstract_reasoning_study_v1", stage 1: the 360 representation models.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract
Visual Reasoning?", NeurIPS 2019. The unsupervised study's 36 model
configurations, 5 seeds, on shapes3d and abstract_dsprites; model_num indexes
the product in that nesting (data set slowest, seed fastest). Stage 2 trains
WReN on each model's mean representation with the original's stage2/*.gin
(example.gin), which dreproduce runs after stage 1 (reasoning_steps).
"""
import collections

from dlib_torch.config import plan
from dlib_torch.config import resources
from dlib_torch.config import study
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep
from dlib_torch.utils import hyperparams as h

# What the original's example.gin leaves to its dlib_reason command line: the
# frozen representation embeds the panels, whose data set is the model's. PGMs
# have 1, 2 or 3 relations; 'hard' or 'easy' draw the same wrong answers (pgm_data).
STAGE2_BINDINGS = ("TwoStageModel.embedding_model_class = @HubEmbedding",
                   "dataset.name = 'auto'", "pgm.pgm_type = 'hard_mixed'")


def get_datasets():
  return h.sweep("dataset.name", h.categorical(["shapes3d", "abstract_dsprites"]))


def get_config():
  """All model configurations; the list index is the model number."""
  return h.product([
      get_datasets(),
      study.conv_architecture(),
      unsupervised_sweep.get_default_models(),
      unsupervised_sweep.get_seeds(5),
  ])


class AbstractReasoningStudyV1(study.SweepStudy):
  """Trains with stage1/model_configs/shared.gin plus the model's sweep bindings."""

  config_dir = "abstract_reasoning_study_v1/stage1"

  def configs(self):
    return get_config()

  def get_eval_config_files(self):
    return resources.list_configs(self.config_dir + "/metric_configs")

  def get_reasoning_steps(self):
    """Stage 2: every stage2/*.gin on postprocessed/mean."""
    return [ReasoningStep("mean", path) for path in resources.list_configs(
        "abstract_reasoning_study_v1/stage2")]

  def print_eval_config(self):
    super().print_eval_config()
    print()
    print("Gin config files for abstract reasoning (stage 2), each with its input and bindings:")
    print("--")
    for step in self.get_reasoning_steps():
      print(step.config_file)
      print("  on postprocessed/{}, into abstract_reasoning/{}/{}".format(
          step.post_name, step.post_name, step.name))
      for binding in step.bindings():
        print("  " + binding)


class ReasoningStep(collections.namedtuple("ReasoningStep", ["post_name", "config_file"])):
  """One reasoning run: abstract_reasoning/<post_name>/<name>."""

  @property
  def name(self):
    return plan.config_name(self.config_file)

  def bindings(self):
    return list(STAGE2_BINDINGS) + ["abstract_reasoning.name = '{}'".format(self.name)]
