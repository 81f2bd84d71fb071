"""dreproduce: trains and evaluates one model of a study (the original's dlib_reproduce).

Beyond the original: repeatable --gin_bindings are applied on top of the
study's model bindings (e.g. a shorter run or a procedural data set),
finished stages are skipped when the command is run again, and
--model_nums runs many models as separate jobs, here or on SLURM
(dlib_torch.pipeline.launch), skipping the models already finished.
"""
import dataclasses
import os
import sys

from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.config import reproduce as studies
from dlib_torch.methods.unsupervised import packed_training
from dlib_torch.pipeline import launch
from dlib_torch.pipeline import study_model
from dlib_torch.utils import aggregate_results
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("study", "unsupervised_study_v1", "Name of the study.")
flags.DEFINE_string("output_directory", None,
                    "Output folder; may contain {model_num} and {study}. Default: "
                    "output/{study}/{model_num} when training, else output.")
flags.DEFINE_string("model_dir", None, "A trained model folder; training is then skipped.")
flags.DEFINE_integer("model_num", 0, "Number of the model of the study to train.")
flags.DEFINE_boolean("only_print", False, "Only print the configuration of the model.")
flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings for training, applied after "
                          "the study's")
flags.DEFINE_boolean("overwrite", False, "Redo finished stages instead of skipping them.")
flags.DEFINE_list("metrics", None, "Evaluate only these metric configs (comma-separated names, "
                  "e.g. mig,dci); their seeds are the same as in a full run.")
flags.DEFINE_string("model_nums", None, "Several models, e.g. 0-99,120, each run as its own "
                    "job by --launcher (models already finished are skipped); "
                    "--output_directory must then contain {model_num}.")
flags.DEFINE_integer("pack", 1, "With --model_nums: train up to this many models in one job "
                     "as one batched computation per step, where they differ only in seed and "
                     "their method's hyper-parameters (same architecture, data set and "
                     "method); their other stages then run model by model.", lower_bound=1)
flags.DEFINE_enum("pack_step", "auto", ("auto",) + packed_training.STEP_MODES,
                  "With --pack: how a pack steps its models: batched (one vmapped "
                  "computation), compiled (the batched step through torch.compile; CUDA graphs "
                  "on a GPU), sequential (each model's solo step in turn), parallel "
                  "(sequential shares in worker processes sharing the CPU); auto: batched on a "
                  "GPU, parallel on a CPU with several threads.")
flags.DEFINE_list("packed_models", None, "The models of one pack job (what --pack launches): "
                  "trained as one pack, into --output_directory with {model_num}.")
flags.DEFINE_boolean("only_report", False, "With --model_nums: only print which of the models "
                     "are not finished.")
flags.DEFINE_enum("launcher", "local", ["local", "slurm"], "How --model_nums runs: local "
                  "processes, or a SLURM job array (needs the 'cluster' extra).")
flags.DEFINE_integer("jobs_per_device", 1, "Local launcher: jobs run at once on each device "
                     "(each GPU, or the CPU).", lower_bound=1)
flags.DEFINE_string("log_directory", None, "Job logs of --model_nums. Default: "
                    "--output_directory with {model_num} replaced by 'logs'.")
flags.DEFINE_string("slurm_partition", None, "SLURM launcher: partition.")
flags.DEFINE_integer("slurm_timeout_min", 1440, "SLURM launcher: time limit of each job.",
                     lower_bound=1)
flags.DEFINE_integer("slurm_array_parallelism", 256, "SLURM launcher: jobs of the array "
                     "running at once.", lower_bound=1)
flags.DEFINE_integer("slurm_gpus_per_job", 1, "SLURM launcher: GPUs of each job.",
                     lower_bound=0)
flags.DEFINE_integer("slurm_cpus_per_job", 4, "SLURM launcher: CPU cores of each job.",
                     lower_bound=1)
common.define_runtime_flags()


# Flags that only a run of several models (--model_nums) reads.
_MODEL_NUMS_FLAGS = ("pack", "only_report", "launcher", "jobs_per_device", "log_directory",
                     "slurm_partition", "slurm_timeout_min", "slurm_array_parallelism",
                     "slurm_gpus_per_job", "slurm_cpus_per_job")


def main(unused_argv):
  _check_flag_combination()
  study = studies.get_study(FLAGS.study)
  if FLAGS.model_nums is not None:
    launch_models(study)
    return
  if FLAGS.packed_models is not None:
    run_pack(study)
    return
  if FLAGS.model_dir is None:
    study.print_model_config(FLAGS.model_num)
    for binding in FLAGS.gin_bindings:
      print(binding)
  else:
    print("Model directory (skipped training):")
    print("--")
    print(FLAGS.model_dir)
  print()
  study.print_postprocess_config()
  print()
  study.print_eval_config()
  if FLAGS.only_print:
    return

  output_directory = FLAGS.output_directory
  if output_directory is None:
    output_directory = "output/{study}/{model_num}" if FLAGS.model_dir is None else "output"
  output_directory = output_directory.format(model_num=str(FLAGS.model_num), study=FLAGS.study)
  card = study_model.reproduce_model(study, FLAGS.model_num, output_directory, FLAGS.model_dir,
                                     FLAGS.gin_bindings, FLAGS.overwrite,
                                     common.runtime_from_flags(), FLAGS.metrics)
  logging.info("Done: %s", output_directory)
  print()
  print("\n".join(study_model.summary_lines(output_directory, card)))


def _check_flag_combination():
  """A UserError for flags that the run they are given to would ignore."""
  if FLAGS.model_nums is not None:
    if FLAGS["model_num"].present or FLAGS.packed_models is not None:
      raise errors.UserError("Give either --model_num or --model_nums, not both.")
    return
  ignored = [name for name in _MODEL_NUMS_FLAGS if FLAGS[name].present]
  if FLAGS.pack_step != "auto" and FLAGS.packed_models is None:
    ignored.append("pack_step")
  if ignored:
    raise errors.UserError("--{} only applies to several models (--model_nums).".format(
        ignored[0]))


def launch_models(study):
  """--model_nums: runs the unfinished models of the list through --launcher."""
  if FLAGS.model_dir is not None:
    raise errors.UserError("--model_nums trains its models; it cannot take --model_dir.")
  pattern = FLAGS.output_directory or "output/{study}/{model_num}"
  if "{model_num}" not in pattern:
    raise errors.UserError("With --model_nums, --output_directory must contain {{model_num}} "
                           "(got {}).".format(pattern))
  model_nums = launch.parse_model_nums(FLAGS.model_nums)
  for model_num in (model_nums[0], model_nums[-1]):
    study.get_model_config(model_num)  # A UserError for numbers outside the study.
  outputs = {n: pattern.format(model_num=n, study=FLAGS.study) for n in model_nums}
  todo = [n for n in model_nums
          if FLAGS.overwrite or study_model.incomplete_stages(study, outputs[n], FLAGS.metrics)]
  if todo and not FLAGS.only_report:
    # What would fail in every job fails here, once: a misspelled binding, a missing device.
    study_model.check_model_configs(study, todo[0], FLAGS.gin_bindings, FLAGS.metrics)
    if FLAGS.launcher == "local":
      devices = launch.local_devices(FLAGS.device)
  print("{} of {} models finished; not finished: {}".format(
      len(model_nums) - len(todo), len(model_nums), _ranges(todo) or "none"))
  if FLAGS.only_report:
    return
  if not todo:
    _print_report(pattern)
    return
  passed_on = (["--study=" + FLAGS.study, "--precision=" + FLAGS.precision,
                "--checkpoint_every={}".format(FLAGS.checkpoint_every)] +
               ["--gin_bindings=" + binding for binding in FLAGS.gin_bindings] +
               (["--overwrite"] if FLAGS.overwrite else []) +
               (["--metrics=" + ",".join(FLAGS.metrics)] if FLAGS.metrics else []))
  commands = {}  # Keyed by the first model of each job.
  for pack in study_model.pack_groups(study, todo, FLAGS.pack, FLAGS.gin_bindings):
    commands[pack[0]] = (launch.job_command(pack[0], outputs[pack[0]], passed_on)
                         if len(pack) == 1 else
                         launch.pack_job_command(pack, pattern.replace("{study}", FLAGS.study),
                                                 passed_on + ["--pack_step=" + FLAGS.pack_step]))
  if FLAGS.pack > 1:
    print("{} jobs for {} models (packs of up to {}).".format(len(commands), len(todo),
                                                               FLAGS.pack))
  log_directory = FLAGS.log_directory or pattern.format(model_num="logs", study=FLAGS.study)
  if FLAGS.launcher == "slurm":
    jobs = launch.submit_slurm(
        {n: command + ["--device=" + FLAGS.device] for n, command in commands.items()},
        log_directory, FLAGS.slurm_partition, FLAGS.slurm_timeout_min,
        FLAGS.slurm_array_parallelism, FLAGS.slurm_gpus_per_job, FLAGS.slurm_cpus_per_job)
    print("Submitted {} jobs (SLURM job {}); logs in {}. Run again with --only_report to see "
          "which models are not finished.".format(len(jobs), jobs[todo[0]].job_id.split("_")[0],
                                                  log_directory))
    aggregate, report = _report_paths(pattern)
    print("When they have finished, the study report: daggregate --result_file_pattern='{}' "
          "--output_path={} && dreport --input={} --output={}".format(
              _evaluations(pattern), aggregate, aggregate, report))
    return
  launch.run_local(commands, devices, FLAGS.jobs_per_device, log_directory)
  failed = [n for n in todo if study_model.incomplete_stages(study, outputs[n], FLAGS.metrics)]
  print()
  print("{} of {} models finished; did not finish: {}".format(
      len(model_nums) - len(failed), len(model_nums), _ranges(failed) or "none"))
  if len(failed) < len(model_nums):
    _print_report(pattern)
  if failed:
    sys.stderr.write("Error: models {} did not finish; see their logs in {}\n".format(
        _ranges(failed), log_directory))
    sys.exit(1)


def _print_report(pattern):
  """Aggregates the finished models' evaluations and says how to build the study report."""
  aggregate, report = _report_paths(pattern)
  aggregate_results.aggregate_results_to_json(_evaluations(pattern), aggregate)
  print("Every evaluation of the study's models: {}".format(aggregate))
  print("Study report: dreport --input={} --output={}".format(aggregate, report))


def _report_paths(pattern):
  """(aggregate JSON, report folder) of a --model_nums run: in the folder of the models'."""
  base = os.path.dirname(pattern.split("{model_num}")[0].replace("{study}", FLAGS.study))
  return (os.path.join(base, "results.json"), os.path.join(base, "report"))


def _evaluations(pattern):
  """The glob of the models' evaluation results, as daggregate takes it."""
  return os.path.join(pattern.format(model_num="*", study=FLAGS.study), "metrics", "*", "*",
                      "results", "aggregate", "evaluation.json")


def run_pack(study):
  """--packed_models: one pack job (dreproduce --model_nums --pack=K starts these)."""
  pattern = FLAGS.output_directory or ""
  if "{model_num}" not in pattern:
    raise errors.UserError("--packed_models needs --output_directory with {model_num}.")
  model_nums = launch.parse_model_nums(",".join(FLAGS.packed_models))  # Sorted, once each.
  outputs = {n: pattern.format(model_num=n, study=FLAGS.study) for n in model_nums}
  runtime = dataclasses.replace(common.runtime_from_flags(), pack_step=FLAGS.pack_step)
  diverged = study_model.reproduce_pack(study, model_nums, outputs, FLAGS.gin_bindings,
                                        FLAGS.overwrite, runtime, FLAGS.metrics)
  for model_num, error in sorted(diverged.items()):
    sys.stderr.write("Error: model {}: {}\n".format(model_num, error))
  if diverged:
    sys.exit(1)
  logging.info("Done: models %s", _ranges(model_nums))


def _ranges(numbers):
  """[0, 1, 2, 5] -> '0-2,5'."""
  parts = []
  for n in numbers:
    if parts and parts[-1][1] == n - 1:
      parts[-1][1] = n
    else:
      parts.append([n, n])
  return ",".join(str(a) if a == b else "{}-{}".format(a, b) for a, b in parts)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
