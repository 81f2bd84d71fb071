"""dreproduce --launcher=slurm on a real single-node SLURM cluster (slurm_cluster).

Skipped where the cluster cannot start (the reason says why), except under
CI=true, where .ci/run installs SLURM and a skip would hide a broken launcher.
"""
import json
import os
import shutil

import pytest

from dlib_torch.config import reproduce as studies
from dlib_torch.pipeline import study_model
from dlib_torch.tests import commands
from dlib_torch.tests.pipeline import slurm_cluster

# Short models (a few training steps, one cheap metric) on one core each, no GPU.
_FLAGS = ["--study=quickstart", "--metrics=mig", "--device=cpu", "--launcher=slurm",
          "--slurm_partition=" + slurm_cluster.PARTITION, "--slurm_gpus_per_job=0",
          "--slurm_cpus_per_job=1", "--slurm_timeout_min=15",
          "--gin_bindings=model.training_steps = 5", "--gin_bindings=model.eval_steps = 2"]
_JOBS_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
  try:
    running = slurm_cluster.start(str(tmp_path_factory.mktemp("slurm")))
  except slurm_cluster.Unavailable as e:
    message = "no SLURM test cluster: {}".format(e)
    if os.environ.get("CI") == "true":
      pytest.fail(message)
    pytest.skip(message)
  yield running
  slurm_cluster.stop(running)


def _dreproduce(cluster, pattern, *flags):
  # The jobs inherit this environment (sbatch --export=ALL): the cluster's
  # SLURM_CONF, and one thread each, as the jobs get one core each.
  env = dict(cluster.env, OMP_NUM_THREADS="1")
  completed = commands.run("dreproduce", "--output_directory=" + pattern, *(_FLAGS + list(flags)),
                           env=env, timeout=300)
  assert completed.returncode == 0, completed.stderr
  return completed.stdout


def _wait_for_jobs(cluster, log_directory):
  if not cluster.wait_for_jobs(_JOBS_TIMEOUT_S):
    pytest.fail("jobs {} still queued or running after {} s\n{}".format(
        cluster.job_ids(), _JOBS_TIMEOUT_S, _job_logs(log_directory)))


def _job_logs(log_directory):
  """The submitit logs of the jobs, for failure messages."""
  parts = []
  for name in sorted(os.listdir(log_directory)):
    if name.endswith((".out", ".err")):
      with open(os.path.join(log_directory, name), errors="replace") as f:
        parts.append("--- {} ---\n{}".format(name, "\n".join(f.read().splitlines()[-20:])))
  return "\n".join(parts)


def _check_finished(model_out, log_directory):
  missing = study_model.incomplete_stages(studies.get_study("quickstart"), str(model_out),
                                          ["mig"])
  assert not missing, "{} not finished: {}\n{}".format(model_out, missing,
                                                        _job_logs(log_directory))
  for path in (("model", "results", "aggregate", "train.json"),
               ("postprocessed", "mean", "results", "aggregate", "postprocess.json"),
               ("metrics", "mean", "mig", "results", "aggregate", "evaluation.json"),
               ("metrics", "sampled", "mig", "results", "aggregate", "evaluation.json")):
    assert os.path.isfile(os.path.join(model_out, *path))


def _uuid(model_out):
  with open(os.path.join(model_out, "metrics", "mean", "mig", "results", "aggregate",
                         "evaluation.json")) as f:
    return json.load(f)["evaluation_results.uuid"]


@pytest.mark.slow
def test_job_array_runs_reports_and_relaunches_on_a_slurm_cluster(cluster, tmp_path):
  pattern = str(tmp_path / "{model_num}")
  logs = str(tmp_path / "logs")
  # Models 0 and 1 (two seeds of one beta) train as one pack, in one job.
  out = _dreproduce(cluster, pattern, "--model_nums=0-2", "--pack=2")
  assert "0 of 3 models finished; not finished: 0-2" in out
  assert "2 jobs for 3 models (packs of up to 2)." in out
  assert "Submitted 2 jobs (SLURM job " in out
  _wait_for_jobs(cluster, logs)
  for n in range(3):
    _check_finished(str(tmp_path / str(n)), logs)

  out = _dreproduce(cluster, pattern, "--model_nums=0-2", "--only_report")
  assert out.strip() == "3 of 3 models finished; not finished: none"

  # A model whose folder is gone is submitted again, alone; the others are left alone.
  uuids = {n: _uuid(str(tmp_path / str(n))) for n in (0, 2)}
  shutil.rmtree(tmp_path / "1")
  out = _dreproduce(cluster, pattern, "--model_nums=0-2", "--pack=2")
  assert "2 of 3 models finished; not finished: 1" in out
  assert "Submitted 1 jobs (SLURM job " in out
  _wait_for_jobs(cluster, logs)
  _check_finished(str(tmp_path / "1"), logs)
  assert {n: _uuid(str(tmp_path / str(n))) for n in (0, 2)} == uuids
  out = _dreproduce(cluster, pattern, "--model_nums=0-2", "--only_report")
  assert out.strip() == "3 of 3 models finished; not finished: none"


def test_missing_slurm_is_named_in_the_reason(monkeypatch, tmp_path):
  monkeypatch.setattr(slurm_cluster, "_find",
                      lambda name: None if name == "slurmd" else "/usr/bin/" + name)
  monkeypatch.setattr(slurm_cluster.os, "geteuid", lambda: 0)
  with pytest.raises(slurm_cluster.Unavailable, match="slurmd not found"):
    slurm_cluster.start(str(tmp_path))


def test_a_daemon_that_fails_is_named_with_its_output_and_the_rest_stopped(
    monkeypatch, tmp_path):
  if os.geteuid() != 0 or not all(map(slurm_cluster._find, ("munged", "slurmctld", "slurmd"))):
    pytest.skip("needs root and Debian's munge, slurmctld and slurmd")
  write_conf = slurm_cluster._write_conf

  def broken_conf(cluster, *args):
    write_conf(cluster, *args)
    with open(cluster.conf, "a") as f:
      f.write("NoSuchOption=1\n")

  monkeypatch.setattr(slurm_cluster, "_write_conf", broken_conf)
  with pytest.raises(slurm_cluster.Unavailable) as raised:
    slurm_cluster.start(str(tmp_path))
  message = str(raised.value)
  assert message.startswith("slurmctld exited with status 1")
  assert "NoSuchOption" in message
  # munged was started, and stopped: no process carries this cluster's SLURM_CONF.
  assert not slurm_cluster._processes_of(slurm_cluster.Cluster(str(tmp_path), "unused"))
