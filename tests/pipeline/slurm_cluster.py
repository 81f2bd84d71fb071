"""A single-node SLURM cluster on this machine, for the tests of --launcher=slurm.

start() runs Debian's munged, slurmctld and slurmd (packages munge, slurmctld,
slurmd, slurm-client) in the foreground as children of the test process, with
a private munge key and socket, free ports and every state, spool and log file
in one folder; nothing under /etc or /run is read or written. The client
commands (sbatch, squeue, ... and so submitit) find the cluster through
SLURM_CONF, which `Cluster.env` sets. stop() cancels the jobs, ends the daemons
and kills any process still carrying this cluster's SLURM_CONF (job steps).
Where the cluster cannot start, start() raises Unavailable saying why.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

PARTITION = "dlibtest"
_DAEMONS = ("munged", "slurmctld", "slurmd")
_CLIENTS = ("sinfo", "squeue", "sbatch", "srun", "scancel")
_START_TIMEOUT_S = 60


class Unavailable(Exception):
  """SLURM cannot run here; the message says why."""


class Cluster:
  """A running cluster: its folder, its slurm.conf and the daemons' processes."""

  def __init__(self, directory, host):
    self.directory = directory
    self.host = host
    self.conf = os.path.join(directory, "slurm.conf")
    self.env = dict(os.environ, SLURM_CONF=self.conf)
    self.processes = {}  # daemon name -> Popen

  def command(self, *args, timeout=30):
    """Runs a SLURM client command against this cluster; its CompletedProcess."""
    return subprocess.run(list(args), capture_output=True, text=True, env=self.env,
                          timeout=timeout, check=False)

  def job_ids(self):
    """Ids of the jobs SLURM still knows as pending or running (array tasks one by one)."""
    completed = self.command("squeue", "--noheader", "--array", "--format=%i")
    if completed.returncode != 0:
      raise RuntimeError("squeue failed: " + completed.stderr)
    return completed.stdout.split()

  def wait_for_jobs(self, timeout_s):
    """Waits until no job is pending or running; False if some still are after timeout_s."""
    deadline = time.time() + timeout_s
    while self.job_ids():
      if time.time() > deadline:
        return False
      time.sleep(1)
    return True

  def log_tails(self, lines=15):
    """The last lines of each daemon's log file and output, for messages."""
    parts = []
    for name in _DAEMONS:
      for path in (os.path.join(self.directory, name + suffix) for suffix in (".log", ".out")):
        try:
          with open(path, errors="replace") as f:
            tail = f.read().splitlines()[-lines:]
        except OSError:
          continue
        if tail:
          parts.append("--- {} ---\n{}".format(path, "\n".join(tail)))
    return "\n".join(parts) or "(the daemons wrote nothing)"


def _find(name):
  """The path of a SLURM or munge program (the daemons are in /usr/sbin), else None."""
  return shutil.which(name, path=os.pathsep.join(
      [os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"]))


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _node_hardware(slurmd):
  """This machine as slurmd sees it: 'CPUs=.. Boards=.. ... RealMemory=..'."""
  completed = subprocess.run([slurmd, "-C"], capture_output=True, text=True, timeout=30,
                             check=False)
  for line in completed.stdout.splitlines():
    if line.startswith("NodeName="):
      return " ".join(line.split()[1:])
  raise Unavailable("`slurmd -C` did not describe this machine (exit status {}): {}".format(
      completed.returncode, completed.stderr.strip()))


def _write_conf(cluster, munge_socket, hardware):
  d = cluster.directory
  lines = [
      "ClusterName=dlibtest",
      "SlurmctldHost={}(127.0.0.1)".format(cluster.host),
      "SlurmctldPort={}".format(_free_port()),
      "SlurmdPort={}".format(_free_port()),
      # The tests run as root, so the daemons and the jobs do too.
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      "AuthInfo=socket=" + munge_socket,
      "StateSaveLocation=" + os.path.join(d, "state"),
      "SlurmdSpoolDir=" + os.path.join(d, "spool"),
      "SlurmctldPidFile=" + os.path.join(d, "slurmctld.pid"),
      "SlurmdPidFile=" + os.path.join(d, "slurmd.pid"),
      "SlurmctldLogFile=" + os.path.join(d, "slurmctld.log"),
      "SlurmdLogFile=" + os.path.join(d, "slurmd.log"),
      # No cgroups (containers rarely allow them), no accounting database.
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "JobCompType=jobcomp/none",
      "MpiDefault=none",
      # Cores are allocated one by one, so jobs of one CPU share the node.
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "NodeName={} NodeAddr=127.0.0.1 {} State=UNKNOWN".format(cluster.host, hardware),
      "PartitionName={} Nodes={} Default=YES MaxTime=INFINITE State=UP".format(
          PARTITION, cluster.host),
  ]
  with open(cluster.conf, "w") as f:
    f.write("\n".join(lines) + "\n")


def _start_daemon(cluster, name, args):
  output = open(os.path.join(cluster.directory, name + ".out"), "w")
  cluster.processes[name] = subprocess.Popen(
      args, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=cluster.env,
      start_new_session=True)
  output.close()


def _check_alive(cluster):
  for name, process in cluster.processes.items():
    if process.poll() is not None:
      raise Unavailable("{} exited with status {}\n{}".format(
          name, process.returncode, cluster.log_tails()))


def _wait(cluster, what, ready):
  deadline = time.time() + _START_TIMEOUT_S
  while not ready():
    _check_alive(cluster)
    if time.time() > deadline:
      raise Unavailable("{} not ready after {} s\n{}".format(
          what, _START_TIMEOUT_S, cluster.log_tails()))
    time.sleep(0.5)


def _node_state(cluster):
  completed = cluster.command("sinfo", "--noheader", "--Node", "--format=%t")
  return completed.stdout.strip() if completed.returncode == 0 else None


def start(directory):
  """Starts a cluster with its files in `directory` (a fresh folder); the Cluster.

  Raises Unavailable (after stopping whatever it started) where SLURM cannot run.
  """
  if os.geteuid() != 0:
    raise Unavailable("not root: slurmd starts jobs as their user, so the test cluster "
                      "runs as root (SlurmUser=root)")
  programs = {name: _find(name) for name in _DAEMONS + _CLIENTS}
  missing = sorted(name for name, path in programs.items() if path is None)
  if missing:
    raise Unavailable("SLURM is not installed: {} not found (apt-get install slurmctld slurmd "
                      "slurm-client munge)".format(", ".join(missing)))
  cluster = Cluster(directory, socket.gethostname().split(".")[0])
  try:
    _start(cluster, programs)
  except BaseException:
    stop(cluster)
    raise
  return cluster


def _start(cluster, programs):
  d = cluster.directory
  for folder in ("state", "spool", "munge"):
    os.makedirs(os.path.join(d, folder), mode=0o700, exist_ok=True)
  munge_key = os.path.join(d, "munge", "munge.key")
  with open(os.open(munge_key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
    f.write(os.urandom(1024))
  munge_socket = os.path.join(d, "munge", "munge.socket")
  _write_conf(cluster, munge_socket, _node_hardware(programs["slurmd"]))
  _start_daemon(cluster, "munged", [
      programs["munged"], "--foreground", "--force", "--key-file=" + munge_key,
      "--socket=" + munge_socket, "--pid-file=" + os.path.join(d, "munge", "munged.pid"),
      "--seed-file=" + os.path.join(d, "munge", "munged.seed"),
      "--log-file=" + os.path.join(d, "munged.log")])
  _wait(cluster, "munged", lambda: os.path.exists(munge_socket))
  _start_daemon(cluster, "slurmctld", [programs["slurmctld"], "-D", "-f", cluster.conf])
  _wait(cluster, "slurmctld", lambda: _node_state(cluster) is not None)
  _start_daemon(cluster, "slurmd", [programs["slurmd"], "-D", "-f", cluster.conf,
                                    "-N", cluster.host])
  _wait(cluster, "the node (sinfo state idle)", lambda: _node_state(cluster) == "idle")


def stop(cluster):
  """Cancels the cluster's jobs, ends its daemons and any process left from its jobs."""
  slurmctld = cluster.processes.get("slurmctld")
  if slurmctld is not None and slurmctld.poll() is None:
    try:
      cluster.command("scancel", "--partition=" + PARTITION)
      cluster.wait_for_jobs(30)
    except (RuntimeError, subprocess.TimeoutExpired):
      pass
  for name in reversed(_DAEMONS):
    process = cluster.processes.get(name)
    if process is not None and process.poll() is None:
      process.terminate()
      try:
        process.wait(timeout=20)
      except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
  for pid in _processes_of(cluster):
    try:
      os.kill(pid, signal.SIGKILL)
    except OSError:
      pass


def _processes_of(cluster):
  """PIDs of the processes whose environment has this cluster's SLURM_CONF (job steps)."""
  marker = ("SLURM_CONF=" + cluster.conf).encode()
  pids = []
  for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
      with open("/proc/{}/environ".format(pid), "rb") as f:
        if marker in f.read().split(b"\0") and int(pid) != os.getpid():
          pids.append(int(pid))
    except OSError:
      continue
  return pids
