"""One model of a study end to end (dreproduce): train, visualise, postprocess, evaluate.

Seeds of postprocessing and evaluation follow the original's plan
(dlib_torch.config.plan), so a metric's result does not depend on which
others run.
"""
import os

from dlib_torch.config import plan
from dlib_torch.methods.unsupervised import packed_training
from dlib_torch.methods.unsupervised import train
from dlib_torch.pipeline import reasoning_stage
from dlib_torch.pipeline import stages
from dlib_torch.utils import errors
from dlib_torch.visualize import model_card
from dlib_torch.visualize import model_scores


def study_plan(study, metric_names=None):
  """The study's postprocessing and evaluation steps, only `metric_names` if given."""
  post_steps, eval_steps = plan.make_plan(study.get_postprocess_config_files(),
                                          study.get_eval_config_files())
  if metric_names is not None:
    known = {step.metric_name for step in eval_steps}
    unknown = sorted(set(metric_names) - known)
    if unknown:
      raise errors.UserError("Unknown metric(s) {}; the study has {}.".format(
          ", ".join(unknown), ", ".join(sorted(known))))
    eval_steps = [step for step in eval_steps if step.metric_name in metric_names]
  return post_steps, eval_steps


def incomplete_stages(study, output_directory, metric_names=None):
  """The stage folders under a model's output_directory without results yet.

  Empty when `reproduce_model` (with the same metrics) has finished there.
  """
  return (stages.incomplete(output_directory, *study_plan(study, metric_names)) +
          reasoning_stage.incomplete(output_directory, study.get_reasoning_steps()))


def reproduce_model(study, model_num, output_directory, model_dir=None, gin_bindings=(),
                    overwrite=False, runtime=None, metric_names=None):
  """Runs every stage for model `model_num` of `study` into output_directory.

  Args:
    study: a dlib_torch.config.study.Study.
    model_num: the model's number in the study.
    output_directory: where model/, visualizations/, postprocessed/ and metrics/ go.
    model_dir: an existing trained model folder; training is then skipped.
    gin_bindings: extra bindings applied after the study's model bindings.
    overwrite: redo finished stages instead of skipping them.
    runtime: train.Runtime for the training stage; every stage runs on its device.
    metric_names: only these metric configs (by name) are evaluated; None means all.
      Seeds are those of the whole plan.

  Returns:
    The path of the model card, rebuilt with the scores.
  """
  post_steps, eval_steps = study_plan(study, metric_names)
  model_config = None if model_dir is not None else _model_config(study, model_num, gin_bindings)
  stages.check_configs(model_config, post_steps, eval_steps)
  if model_config is not None:
    model_dir = os.path.join(output_directory, "model")
    stages.run_training(train.train_with_gin, model_dir, *model_config, overwrite, runtime)
  device = stages.device_of(runtime)
  stages.run_visualization(model_dir, output_directory, overwrite, device)
  stages.run_postprocessing(model_dir, output_directory, post_steps, overwrite, device)
  stages.run_evaluation(output_directory, eval_steps, overwrite, device)
  reasoning_stage.run_reasoning(output_directory, study.get_reasoning_steps(), overwrite,
                                device)
  return model_card.write(os.path.join(output_directory, "visualizations"), output_directory)


def check_model_configs(study, model_num, gin_bindings=(), metric_names=None):
  """Parses every stage's configuration of a model: a UserError for a bad one, before any job."""
  stages.check_configs(_model_config(study, model_num, gin_bindings),
                       *study_plan(study, metric_names))


def summary_lines(output_directory, card_path):
  """What a finished model's run ends with: its main scores and where its card is."""
  scores = model_scores.read_scores(output_directory)
  lines = ["Scores of {}:".format(output_directory)]
  lines += (["  " + line for line in model_scores.text_table(scores, model_scores.headline(scores))]
            if scores else ["  (no metrics)"])
  lines.append("Model card (every score, curves, pictures): {}".format(card_path))
  return lines


def _model_config(study, model_num, gin_bindings):
  """(model config file, training bindings) of a model of the study."""
  model_bindings, model_config_file = study.get_model_config(model_num)
  return (model_config_file, ["model.model_num = {}".format(model_num)] +
          list(model_bindings) + list(gin_bindings))


def pack_groups(study, model_nums, pack_size, gin_bindings=()):
  """The models in lists of at most pack_size that can be trained as one pack, in order.

  Models pack when their training configurations differ only in the
  per-model bindings and the hyper-parameters their method lets packs vary
  (packed_training); a method that does not pack gets a list per model.
  """
  if pack_size == 1:
    return [[model_num] for model_num in model_nums]
  groups = {}
  for model_num in model_nums:
    config_file, bindings = _model_config(study, model_num, gin_bindings)
    key = packed_training.pack_key([config_file],
                                   stages.training_bindings(config_file, bindings))
    groups.setdefault(key, []).append(model_num)
  packs = []
  for key, members in groups.items():
    size = pack_size if key is not None else 1
    packs += [members[i:i + size] for i in range(0, len(members), size)]
  return sorted(packs)


def reproduce_pack(study, model_nums, output_directories, gin_bindings=(), overwrite=False,
                   runtime=None, metric_names=None):
  """Trains the models as one pack, then runs their other stages model by model.

  Args:
    study, gin_bindings, overwrite, runtime, metric_names: as reproduce_model's.
    model_nums: models that pack_groups put in one pack.
    output_directories: {model_num: its output folder}.

  Returns:
    {model_num: train.TrainingDiverged} of the models whose training diverged; their
    other stages are not run.
  """
  post_steps, eval_steps = study_plan(study, metric_names)
  configs = {n: _model_config(study, n, gin_bindings) for n in model_nums}
  stages.check_configs(None, post_steps, eval_steps)
  for n in model_nums:
    stages.check_configs(configs[n])
  model_dirs = {n: os.path.join(output_directories[n], "model") for n in model_nums}
  members = [(model_dirs[n], [configs[n][0]], stages.training_bindings(*configs[n]))
             for n in model_nums
             if overwrite or not stages.stage_complete(model_dirs[n], "train")]
  failed = packed_training.train_pack(members, runtime, overwrite) if members else {}
  diverged = {n: failed[model_dirs[n]] for n in model_nums if model_dirs[n] in failed}
  for n in model_nums:
    if n not in diverged:
      reproduce_model(study, n, output_directories[n], model_dirs[n], gin_bindings, overwrite,
                      runtime, metric_names)
  return diverged
