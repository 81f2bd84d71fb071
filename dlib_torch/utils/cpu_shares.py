"""Sharing a machine's CPU cores between jobs or worker processes that run at once."""
import os


def available_cpus():
  """The cores this process may run on, in order."""
  if hasattr(os, "sched_getaffinity"):
    return sorted(os.sched_getaffinity(0))
  return list(range(os.cpu_count() or 1))


def shares(count, cpus):
  """[(threads, pinned cores or None)] for `count` slots sharing the `cpus`.

  Each slot gets an equal share (at least one thread) and, when there are at
  least as many cores as slots, is pinned to its own cores so that the slots
  do not compete for them; with more slots than cores, or where the system
  cannot pin a process (macOS, Windows), none is pinned.
  """
  share = max(1, len(cpus) // count)
  if len(cpus) < count or not hasattr(os, "sched_setaffinity"):
    return [(share, None)] * count
  return [(share, cpus[slot * share:(slot + 1) * share]) for slot in range(count)]
