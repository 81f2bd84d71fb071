"""dreproduce --model_nums: many models as local jobs or a job array, skipping finished ones."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dlib_torch.config import reproduce as studies
from dlib_torch.pipeline import launch
from dlib_torch.pipeline import study_model
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import helpers
from dlib_torch.utils import errors


def _uuid(model_out):
  with open(os.path.join(model_out, "metrics", "mean", "mig", "results", "aggregate",
                         "evaluation.json")) as f:
    return json.load(f)["evaluation_results.uuid"]


def _finished(model_out):
  return not study_model.incomplete_stages(studies.get_study("test"), str(model_out), ["mig"])


@pytest.mark.parametrize("text, expected", [
    ("3", [3]), ("0-2,5", [0, 1, 2, 5]), ("4-5, 1,5", [1, 4, 5])])
def test_model_nums_are_numbers_and_ranges(text, expected):
  assert launch.parse_model_nums(text) == expected


@pytest.mark.parametrize("text", ["", "a", "5-3", "1-", "-2", "1,,2"])
def test_malformed_model_nums_are_user_errors(text):
  with pytest.raises(errors.UserError):
    launch.parse_model_nums(text)


@pytest.mark.slow
def test_local_launcher_runs_packs_reports_and_skips_finished_models(tmp_path):
  pattern = str(tmp_path / "{model_num}")
  flags = ["--study=test", "--metrics=mig", "--pack=2", "--output_directory=" + pattern]
  completed = helpers.run_command("reproduce", "--model_nums=0-2", "--jobs_per_device=2",
                                  *flags)
  assert completed.returncode == 0, completed.stderr
  assert "0 of 3 models finished; not finished: 0-2" in completed.stdout
  # Models 0 and 1 train as one pack, in one job; model 2 alone.
  assert "2 jobs for 3 models (packs of up to 2)." in completed.stdout
  for log_name, done in (("model_0.log", "Done: models 0-1"),
                         ("model_2.log", "Done: {}".format(tmp_path / "2"))):
    with open(tmp_path / "logs" / log_name) as log:
      assert done in log.read()
  # Each of the 2 jobs got half the cores, as torch threads, and its results say so.
  threads = max(1, len(os.sched_getaffinity(0)) // 2)
  for n in (0, 1, 2):
    assert _finished(tmp_path / str(n))
    for step in ("postprocessed/mean/results/json/postprocess",
                 "metrics/mean/mig/results/json/evaluation",
                 "visualizations/results/json/visualize"):
      with open(tmp_path / str(n) / (step + "_results.json")) as f:
        results = json.load(f)
      assert (results["device"], results["num_threads"]) == ("cpu", threads), (n, step)

  completed = helpers.run_command("reproduce", "--model_nums=0-3", "--only_report", *flags)
  assert completed.returncode == 0, completed.stderr
  assert completed.stdout.strip() == "3 of 4 models finished; not finished: 3"
  assert not (tmp_path / "3").exists()

  # An interrupted model of the pack is launched again and finishes; the others are left
  # alone.
  uuids = {n: _uuid(str(tmp_path / str(n))) for n in (0, 2)}
  os.remove(tmp_path / "1" / "metrics" / "sampled" / "mig" / "results" / "aggregate" /
            "evaluation.json")
  completed = helpers.run_command("reproduce", "--model_nums=0-2", *flags)
  assert completed.returncode == 0, completed.stderr
  assert "2 of 3 models finished; not finished: 1" in completed.stdout
  assert "1 jobs for 1 models (packs of up to 2)." in completed.stdout
  assert _finished(tmp_path / "1")
  assert {n: _uuid(str(tmp_path / str(n))) for n in (0, 2)} == uuids


@pytest.mark.slow
def test_a_pack_job_steps_its_models_as_pack_step_says(tmp_path):
  pattern = str(tmp_path / "{model_num}")
  completed = helpers.run_command("reproduce", "--study=test", "--metrics=mig",
                                  "--model_nums=0-1", "--pack=2", "--pack_step=compiled",
                                  "--output_directory=" + pattern)
  assert completed.returncode == 0, completed.stderr
  with open(tmp_path / "logs" / "model_0.log") as log:
    assert "Training 2 models as one pack, compiled step." in log.read()
  assert _finished(tmp_path / "0") and _finished(tmp_path / "1")


def test_a_pack_job_trains_each_model_once(tmp_path):
  # Two members on one folder would wait on each other's lock.
  completed = helpers.run_command("reproduce", "--study=test", "--metrics=mig",
                                  "--packed_models=1,0,1", "--gin_bindings=model.training_steps = 2",
                                  "--output_directory=" + str(tmp_path / "{model_num}"))
  assert completed.returncode == 0, completed.stderr
  assert "Training 2 models as one pack" in completed.stderr
  assert _finished(tmp_path / "0") and _finished(tmp_path / "1")


def test_failed_jobs_are_named_with_exit_status_1(tmp_path):
  completed = helpers.run_command("reproduce", "--study=test", "--model_nums=0,3",
                                  "--gin_bindings=model.no_such_parameter = 1",
                                  "--output_directory=" + str(tmp_path / "{model_num}"))
  assert completed.returncode == 1
  assert completed.stderr.strip().splitlines()[-1] == (
      "Error: models 0,3 did not finish; see their logs in {}".format(tmp_path / "logs"))
  with open(tmp_path / "logs" / "model_3.log") as log:
    assert "no_such_parameter" in log.read()


@pytest.mark.parametrize("flags, message", [
    (["--output_directory={tmp}/fixed"], "must contain {model_num}"),
    (["--model_dir={tmp}"], "cannot take --model_dir"),
    (["--study=quickstart", "--model_nums=12599-12600"], "The study has models 0 to 12599"),
    (["--model_nums=2-1"], "not a range"),
    (["--pack=2", "--pack_step=grouped"], "flag --pack_step=grouped"),
    (["--device=cuda:x"], "Unknown device 'cuda:x'"),
    (["--device=tpu", "--launcher=slurm"], "Unknown device 'tpu'"),
    (["--model_num=0"], "either --model_num or --model_nums"),
    (["--gin_bindings=modle.training_steps = 1"], "No configurable matching 'modle'"),
    (["--gin_bindings=modle.training_steps = 1", "--launcher=slurm"], "matching 'modle'"),
    (["--pack=0"], "flag --pack=0: 0 is not a positive integer"),
    (["--jobs_per_device=-1"], "flag --jobs_per_device=-1"),
    (["--launcher=slurm", "--slurm_gpus_per_job=-1"], "flag --slurm_gpus_per_job=-1"),
    (["--launcher=slurm", "--slurm_array_parallelism=0"], "flag --slurm_array_parallelism=0"),
])
def test_bad_launch_flags_exit_2(tmp_path, flags, message):
  flags = [f.format(tmp=tmp_path) for f in flags]
  if not any(f.startswith("--model_nums") for f in flags):
    flags.append("--model_nums=0-1")
  if not any(f.startswith("--study") for f in flags):
    flags.append("--study=test")
  completed = helpers.run_command("reproduce", *flags)
  assert completed.returncode == 2
  assert message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
  assert not (tmp_path / "fixed").exists() and not (tmp_path / "logs").exists()


@pytest.mark.parametrize("flag", ["--only_report", "--pack=2", "--pack_step=compiled",
                                  "--launcher=slurm", "--jobs_per_device=2"])
def test_flags_of_several_models_are_refused_for_one(tmp_path, flag):
  out = tmp_path / "model"
  completed = helpers.run_command("reproduce", "--study=test", "--model_num=0",
                                  "--output_directory={}".format(out), flag)
  assert completed.returncode == 2
  assert completed.stderr.strip().splitlines() == [
      "Error: {} only applies to several models (--model_nums).".format(flag.split("=")[0])]
  assert not out.exists()


@pytest.mark.slow
def test_job_array_runs_the_job_commands(tmp_path):
  pytest.importorskip("submitit")
  out = str(tmp_path / "model_5")
  command = launch.job_command(5, out, ["--study=test", "--metrics=mig", "--device=cpu"])
  jobs = launch.submit_slurm({5: command}, str(tmp_path / "logs"), cluster="local")
  # The job's standard output: the configuration dreproduce prints first.
  assert jobs[5].result().startswith("Gin base config for model training:")
  assert _finished(out)


def test_job_array_is_one_sbatch_array_with_the_slurm_flags(monkeypatch, tmp_path):
  pytest.importorskip("submitit")
  # Stand-ins for SLURM's commands: sbatch keeps the script it is given.
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
  (bin_dir / "sbatch").write_text('#!/bin/sh\ncp "$1" {}\necho "Submitted batch job 4242"\n'.format(
      tmp_path / "script.sh"))
  for command in ("srun", "sbatch"):
    os.chmod(bin_dir / command, 0o755)
  monkeypatch.setenv("PATH", "{}:{}".format(bin_dir, os.environ["PATH"]))
  commands = {n: launch.job_command(n, str(tmp_path / str(n)), ["--study=test"]) for n in (3, 7)}
  jobs = launch.submit_slurm(commands, str(tmp_path / "logs"), partition="gpu", timeout_min=90,
                             array_parallelism=1, gpus_per_job=2, cpus_per_job=6)
  assert {n: job.job_id for n, job in jobs.items()} == {3: "4242_0", 7: "4242_1"}
  script = (tmp_path / "script.sh").read_text().splitlines()
  for line in ("#SBATCH --array=0-1%1", "#SBATCH --partition=gpu", "#SBATCH --time=90",
               "#SBATCH --gpus-per-node=2", "#SBATCH --cpus-per-task=6",
               "#SBATCH --job-name=dreproduce"):
    assert line in script


def test_job_array_off_a_slurm_cluster_exits_2(monkeypatch, tmp_path):
  pytest.importorskip("submitit")
  monkeypatch.setenv("PATH", str(tmp_path))  # no srun
  completed = commands.run("dreproduce", "--study=test", "--model_nums=0", "--launcher=slurm",
                           "--output_directory=" + str(tmp_path / "{model_num}"), timeout=300)
  assert completed.returncode == 2
  assert completed.stderr.strip().splitlines()[-1].startswith("Error: --launcher=slurm: ")
  assert "srun" in completed.stderr


def test_job_array_without_submitit_is_a_user_error(monkeypatch, tmp_path):
  monkeypatch.setitem(sys.modules, "submitit", None)
  with pytest.raises(errors.UserError, match="cluster"):
    launch.submit_slurm({0: ["true"]}, str(tmp_path))


@pytest.mark.parametrize("gpus, device, expected", [
    (0, "auto", ["cpu"]), (2, "auto", ["cuda:0", "cuda:1"]), (2, "cuda", ["cuda:0", "cuda:1"]),
    (2, "cuda:1", ["cuda:1"]), (2, "cpu", ["cpu"])])
def test_local_launcher_fills_every_visible_gpu(monkeypatch, gpus, device, expected):
  monkeypatch.setattr(launch.torch.cuda, "is_available", lambda: gpus > 0)
  monkeypatch.setattr(launch.torch.cuda, "device_count", lambda: gpus)
  assert launch.local_devices(device) == expected


def test_each_gpu_job_sees_its_own_gpu_and_a_share_of_the_cores():
  slots = launch.placements(["cuda:0", "cuda:1"], 2, cpus=list(range(8)))
  assert [p.device for p in slots] == ["cuda"] * 4
  assert [p.environment for p in slots] == [
      {"OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": gpu} for gpu in "0011"]
  assert [p.cpus for p in slots] == [[0, 1], [2, 3], [4, 5], [6, 7]]
  assert str(slots[2]) == "cuda (CUDA_VISIBLE_DEVICES=1), 2 CPU threads, cores 4,5"


def test_gpu_jobs_keep_the_launchers_own_gpu_numbering():
  slots = launch.placements(["cuda:0", "cuda:1"], 1, cpus=[0, 1], visible_gpus=["5", "7"])
  assert [p.environment["CUDA_VISIBLE_DEVICES"] for p in slots] == ["5", "7"]


def test_cpu_jobs_share_the_cores_and_more_jobs_than_cores_are_not_pinned():
  slots = launch.placements(["cpu"], 3, cpus=[0, 1, 2, 3, 4, 5, 6])
  assert [(p.device, p.environment, p.cpus) for p in slots] == [
      ("cpu", {"OMP_NUM_THREADS": "2"}, cpus) for cpus in ([0, 1], [2, 3], [4, 5])]
  slots = launch.placements(["cpu"], 3, cpus=[0, 1])
  assert [(p.environment["OMP_NUM_THREADS"], p.cpus) for p in slots] == [("1", None)] * 3


def test_terminated_launcher_terminates_its_jobs(tmp_path):
  pattern = str(tmp_path / "{model_num}")
  launcher = subprocess.Popen(
      [commands.command_path("dreproduce"), "--study=test", "--model_nums=0",
       "--gin_bindings=model.training_steps = 1000000", "--output_directory=" + pattern],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  job_marker = "--output_directory=" + str(tmp_path / "0")
  deadline = time.time() + 120
  while not _processes_with(job_marker) and time.time() < deadline:
    time.sleep(0.2)
  assert _processes_with(job_marker), "the job did not start"
  launcher.terminate()
  assert launcher.wait(timeout=60) == 128 + signal.SIGTERM
  assert not _processes_with(job_marker)


def _processes_with(argument):
  """PIDs of the processes whose command line has `argument` (Linux /proc)."""
  pids = []
  for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
      with open("/proc/{}/cmdline".format(pid), "rb") as f:
        if argument.encode() in f.read().split(b"\0"):
          pids.append(pid)
    except OSError:
      continue
  return pids
