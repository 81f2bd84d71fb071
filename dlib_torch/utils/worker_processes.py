"""Calls run at once in worker processes that never outlive the process that started them.

Workers are spawned (not forked: a forked child of a process whose OpenMP
threads have run can hang in its first parallel region) and are not daemons,
so they may start processes of their own. However the starting process ends,
its workers end with it: interrupted, it terminates them; killed, the kernel
kills them (Linux's parent-death signal), so a killed job never leaves workers
writing into folders that its restart takes over. Workers log as the starting
process logs (absl's verbosity and handler), into the same output.
"""
import ctypes
import ctypes.util
import logging as std_logging
import multiprocessing
import os
import signal

from absl import flags
from absl import logging

_PR_SET_PDEATHSIG = 1


def run(function, argument_lists):
  """[function(*arguments) for arguments in argument_lists], each call in its own process.

  The calls run at once; the results come back in order. An exception raised
  by a call is raised here once every worker has ended (the first in order).
  `function` must be importable by name and its arguments and result picklable.
  """
  context = multiprocessing.get_context("spawn")
  logging_setup = _logging_setup()
  workers, outcomes = [], []
  try:
    for arguments in argument_lists:
      receiver, sender = context.Pipe(duplex=False)
      process = context.Process(target=_worker_main, args=(
          sender, os.getpid(), logging_setup, function, tuple(arguments)))
      process.start()
      sender.close()
      workers.append((process, receiver))
    for process, receiver in workers:
      try:
        outcomes.append(receiver.recv())
      except EOFError:  # It died without a word: killed, or out of memory.
        process.join()
        outcomes.append((False, RuntimeError(
            "A worker process ended with exit status {}.".format(process.exitcode))))
      process.join()
  finally:
    for process, _ in workers:
      if process.is_alive():
        process.terminate()
        process.join()
  for succeeded, value in outcomes:
    if not succeeded:
      raise value
  return [value for _, value in outcomes]


def _logging_setup():
  """(absl verbosity, whether absl's handler logs for the root logger) of this process."""
  return (logging.get_verbosity(),
          logging.get_absl_handler() in std_logging.getLogger().handlers)


def _worker_main(sender, parent_pid, logging_setup, function, arguments):
  _die_with(parent_pid)
  verbosity, absl_handler = logging_setup
  logging.set_verbosity(verbosity)
  if absl_handler:
    # The starting process parsed its flags (absl.app): the worker's absl handler would
    # otherwise warn that it logs before flag parsing. Workers read no flags.
    flags.FLAGS.mark_as_parsed()
    logging.use_absl_handler()
  try:
    outcome = (True, function(*arguments))
  except BaseException as e:  # pylint: disable=broad-except
    outcome = (False, e)
  try:
    sender.send(outcome)
  except Exception:  # pylint: disable=broad-except
    # The exception does not pickle: its text does.
    sender.send((False, RuntimeError("{}: {}".format(type(outcome[1]).__name__, outcome[1]))))
  sender.close()


def _die_with(parent_pid):
  """Asks the kernel to kill this process when its parent ends (Linux only)."""
  library = ctypes.util.find_library("c")
  if library is None:
    return
  prctl = getattr(ctypes.CDLL(library, use_errno=True), "prctl", None)
  if prctl is None:
    return
  prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
  if os.getppid() != parent_pid:  # The parent ended before the request took effect.
    os.kill(os.getpid(), signal.SIGKILL)
