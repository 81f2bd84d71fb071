"""worker_processes: calls in spawned workers, results in order, errors and deaths reported,
workers logging as their parent."""
import os
import signal

from absl import logging
import pytest

from dlib_torch.utils import errors
from dlib_torch.utils import worker_processes


def _double_and_log(value):
  logging.info("worker %d of pid %d", value, os.getpid())
  return 2 * value, os.getpid()


def _refuse(value):
  if value == 2:
    raise errors.UserError("value {} refused".format(value))
  return value


def _die(value):
  if value == 1:
    os.kill(os.getpid(), signal.SIGKILL)
  return value


@pytest.fixture
def info_logging():
  verbosity = logging.get_verbosity()
  logging.set_verbosity(logging.INFO)
  yield
  logging.set_verbosity(verbosity)


def test_results_come_back_in_order_from_other_processes_that_log_as_the_parent(
    capfd, info_logging):
  results = worker_processes.run(_double_and_log, [(1,), (2,), (3,)])
  assert [doubled for doubled, _ in results] == [2, 4, 6]
  pids = {pid for _, pid in results}
  assert len(pids) == 3 and os.getpid() not in pids
  logged = capfd.readouterr().err
  for value, pid in zip((1, 2, 3), (pid for _, pid in results)):
    assert "worker {} of pid {}".format(value, pid) in logged


def test_an_error_in_a_worker_is_raised_in_the_parent_after_all_have_ended():
  with pytest.raises(errors.UserError, match="^value 2 refused$"):
    worker_processes.run(_refuse, [(1,), (2,), (3,)])


def test_a_worker_that_dies_is_reported_with_its_exit_status():
  with pytest.raises(RuntimeError, match="exit status -9"):
    worker_processes.run(_die, [(0,), (1,)])
