"""abstract_reasoning_study_v1: the original's 360 stage-1 models and their gin files.

abstract_reasoning_study_bindings.json holds the bindings that the original's
config/abstract_reasoning_study_v1/stage1/sweep.py (get_config, to_bindings)
gives for these model numbers, printed by running it.
"""
import json
import os

import pytest

from dlib_torch import gin_registry
from dlib_torch.config import reproduce
from dlib_torch.tests import commands

with open(os.path.join(os.path.dirname(__file__), "abstract_reasoning_study_bindings.json")) as f:
  ORIGINAL_BINDINGS = json.load(f)

STUDY = reproduce.get_study("abstract_reasoning_study_v1")


@pytest.mark.parametrize("model_num", sorted(ORIGINAL_BINDINGS, key=int))
def test_bindings_are_the_originals(model_num):
  bindings, config_file = STUDY.get_model_config(int(model_num))
  assert bindings == ORIGINAL_BINDINGS[model_num]
  assert config_file.endswith(os.path.join("abstract_reasoning_study_v1", "stage1",
                                           "model_configs", "shared.gin"))


def test_only_print_prints_the_originals_bindings():
  done = commands.run("dreproduce", "--study=abstract_reasoning_study_v1", "--model_num=359",
                      "--only_print")
  assert done.returncode == 0, done.stderr[-2000:]
  lines = done.stdout.splitlines()
  start = lines.index("Gin bindings for model training:") + 2
  assert lines[start:start + len(ORIGINAL_BINDINGS["359"])] == ORIGINAL_BINDINGS["359"]
  assert "postprocess_configs" in done.stdout and "metric_configs" in done.stdout
  # Stage 2, which dreproduce runs after the metrics: the original's example on the mean.
  stage2 = lines[lines.index("Gin config files for abstract reasoning (stage 2), each with its "
                             "input and bindings:") + 2:]
  assert stage2[0].endswith(os.path.join("stage2", "example.gin"))
  assert stage2[1] == "  on postprocessed/mean, into abstract_reasoning/mean/example"
  assert "  TwoStageModel.embedding_model_class = @HubEmbedding" in stage2
  bad = commands.run("dreproduce", "--study=abstract_reasoning_study_v1", "--model_num=360",
                     "--only_print")
  assert bad.returncode == 2 and "359" in bad.stderr


def test_every_gin_file_of_the_study_parses():
  bindings, config_file = STUDY.get_model_config(180)
  gin_registry.check_config("train", [config_file], bindings)
  for path in STUDY.get_postprocess_config_files():
    gin_registry.check_config("postprocess", [path])
  for path in STUDY.get_eval_config_files():
    gin_registry.check_config("evaluation", [path])
  assert len(STUDY.get_eval_config_files()) == 9
