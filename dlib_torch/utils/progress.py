"""Progress of long work: a tqdm bar on a terminal, periodic log lines otherwise.

One helper for training, downloads and the metrics' sampling, encoding and
fitting. On a terminal (stderr a tty) the bar shows the count, the rate and
the time left; in a log file (a job's log, a pipe) a bar would write a line
per refresh, so an INFO line is logged at most every `log_every_s` seconds
instead, plus a last one when the work ends if any was logged.
"""
import sys
import time

from absl import logging

# Log lines of work off a terminal: at most one per this many seconds.
LOG_EVERY_S = 10.0


class Progress:
  """Counts units of work done towards a total (None: unknown)."""

  def __init__(self, total, desc, unit="it", initial=0, enabled=True, log_every_s=None,
               format_count=None, **bar_options):
    """Starts the report.

    Args:
      total: units of the whole work, or None.
      desc: what the work is, leading the bar and every log line.
      unit: name of a unit ("step", "points", "B").
      initial: units already done (a resumed run).
      enabled: False reports nothing.
      log_every_s: seconds between log lines off a terminal (None: LOG_EVERY_S);
        0 logs only when `update` is asked to.
      format_count: how a log line writes a count with its unit (e.g. bytes as
        "1.5 MB"); None: the number and `unit`.
      **bar_options: passed to tqdm (e.g. unit_scale).
    """
    self._desc, self._total = desc, total
    self._done, self._enabled = initial, enabled
    self._unit, self._format = unit, format_count
    self._every = LOG_EVERY_S if log_every_s is None else log_every_s
    self._last_log = time.monotonic()
    self._logged = False
    self._bar = None
    if enabled and sys.stderr.isatty():
      import tqdm  # pylint: disable=g-import-not-at-top
      self._bar = tqdm.tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False,
                            **bar_options)

  def update(self, n=1, values=None, log_now=False):
    """Adds n units done; `values` ({name: float}) go on the bar or the log line.

    Off a terminal a line is logged if `log_now` or the last was long enough ago.
    """
    self._done += n
    if self._bar is not None:
      self._bar.update(n)
      if values:
        self._bar.set_postfix({k: "{:.4g}".format(v) for k, v in values.items()},
                              refresh=False)
      return
    due = self._every > 0 and time.monotonic() - self._last_log >= self._every
    if self._enabled and (log_now or due):
      self._log(values)

  def _log(self, values=None):
    self._last_log = time.monotonic()
    self._logged = True
    if self._format is not None:
      count = self._format(self._done) + (
          "" if self._total is None else " of " + self._format(self._total))
    else:
      count = "{}{} {}".format(self._done, "" if self._total is None else
                               " of {}".format(self._total), self._unit)
    detail = "" if not values else ": " + ", ".join(
        "{} = {:.6g}".format(k, v) for k, v in values.items())
    logging.info("%s: %s%s", self._desc, count, detail)

  def close(self):
    """Ends the bar, or logs the final count if lines were logged."""
    if self._bar is not None:
      self._bar.close()
    elif self._logged and self._every > 0 and self._enabled:
      self._log()

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc):
    self.close()


def tracked(batches, total, desc, unit="points"):
  """Yields the sized batches of an iterable, counting their lengths as progress."""
  with Progress(total, desc, unit) as progress:
    for batch in batches:
      yield batch
      progress.update(len(batch))
