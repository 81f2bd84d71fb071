"""Stage 2 of abstract_reasoning_study_v1 in dreproduce: its runs, folders and skip rule."""
import json
import os

from dlib_torch.config import reproduce
from dlib_torch.config.abstract_reasoning_study_v1 import sweep
from dlib_torch.pipeline import reasoning_stage
from dlib_torch.pipeline import study_model
from dlib_torch.tests.evaluation.abstract_reasoning import frozen_representation

STUDY = reproduce.get_study("abstract_reasoning_study_v1")


class _ShortStep(sweep.ReasoningStep):
  """The study's step with the schedule and network shrunk to seconds."""

  def bindings(self):
    return super().bindings() + [
        "abstract_reasoning.num_iterations = 2",
        "abstract_reasoning.training_steps_per_iteration = 2",
        "abstract_reasoning.eval_steps_per_iteration = 1", "abstract_reasoning.batch_size = 2",
        "OptimizedWildRelNet.edge_mlp = [4, 4]", "OptimizedWildRelNet.graph_mlp = [4]"]


def _results(folder):
  with open(os.path.join(folder, "results", "json", "abstract_reasoning_results.json")) as f:
    return json.load(f)


def test_the_study_runs_the_originals_stage2_config_on_the_mean_representation():
  steps = STUDY.get_reasoning_steps()
  assert [(s.post_name, s.name) for s in steps] == [("mean", "example")]
  assert steps[0].config_file.endswith(os.path.join("abstract_reasoning_study_v1", "stage2",
                                                    "example.gin"))
  assert "TwoStageModel.embedding_model_class = @HubEmbedding" in steps[0].bindings()
  assert reproduce.get_study("unsupervised_study_v1").get_reasoning_steps() == []


def test_stage2_on_a_postprocessed_model_writes_its_folder_and_is_skipped_when_done(tmp_path):
  output_directory = str(tmp_path / "model_7")
  frozen_representation.write_postprocessed_folder(
      os.path.join(output_directory, "postprocessed", "mean"))
  step = _ShortStep(*STUDY.get_reasoning_steps()[0])
  folder = os.path.join(output_directory, "abstract_reasoning", "mean", "example")
  # A model whose stage 2 has not run is unfinished (--model_nums relaunches it).
  assert folder in study_model.incomplete_stages(STUDY, output_directory)
  reasoning_stage.run_reasoning(output_directory, [step], overwrite=False, device="cpu")
  assert folder not in study_model.incomplete_stages(STUDY, output_directory)
  scores = _results(folder)
  assert scores["step2.test.global_step"] == 4 and "best.val.accuracy" in scores
  with open(os.path.join(folder, "results", "gin", "abstract_reasoning.gin")) as f:
    config = f.read()
  # The study's bindings over the original's example.gin; the data set is the model's.
  assert "pgm_type = 'hard_mixed'" in config and "dataset.name = 'dummy_data'" in config
  assert "edge_mlp = [4, 4]" in config and "beta2 = 0.999" in config
  # The representation's results are carried along, as every stage's.
  assert os.path.exists(os.path.join(folder, "results", "json", "postprocess_results.json"))
  reasoning_stage.run_reasoning(output_directory, [step], overwrite=False, device="cpu")
  assert _results(folder)["uuid"] == scores["uuid"]
  reasoning_stage.run_reasoning(output_directory, [step], overwrite=True, device="cpu")
  assert _results(folder)["uuid"] != scores["uuid"]
