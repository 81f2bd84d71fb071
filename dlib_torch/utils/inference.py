"""Applying an exported TorchScript module to many inputs fast, with the same results.

The metrics hand a representation thousands of observations at once (about
6 million images per model in the study). How fast a CPU runs them depends on
the machine, the module and the load in ways not worth predicting, so on the
CPU a call of at least `SUPER_ROWS` rows, once the rows run (that call
included) reach `ROWS_WORTH_CHOOSING`, measures a few ways of running the
module on that input and keeps the fastest of those that give the module's
own codes, bit for bit:

- the module as loaded; frozen (torch.jit.freeze: parameters become
  constants, which drops the attribute look-ups and lets the profiling
  executor specialise); frozen and optimised for inference
  (torch.jit.optimize_for_inference: the convolutions keep oneDNN's blocked
  layout from one to the next).
- calls of 32 to 256 rows: the conv encoder's first convolution writes 32
  channels per pixel from 1, so at 256 rows its output (33 MB) leaves the
  cache and the layer runs at the memory's speed; smaller calls keep it in
  cache, at the price of more calls.

Each way is checked against the module as loaded on the measured input, with
the same random draws, and dropped unless equal to the bit: a result is a
function of its configuration and seed, whatever ran faster on the day. On
the 2-core AVX-512 machine of the figures below, the frozen module is
bit-identical at every call size, while the optimised one differs by float
rounding (about 1e-6 relative; among other changes it adds the dense layers'
biases after their matmuls) and is therefore not used there, although with
one thread it ran 10-25% faster than the frozen one at the same call size.

Measured with benchmarks/evaluation_throughput.py (the study's conv encoder
trained 300 steps on procedural dSprites, 2 threads, fractions of the float32
matmul rate measured in the same rounds, load average 1.2 to 1.8): as loaded
in calls of 256 rows 0.57 to 0.59, as chosen here (frozen, 64 rows a call)
1.26 to 1.33, 2.2x faster. Under a load average of 4 to 7 (other jobs on the
two cores) the best call size moved between 32 and 128 rows from run to run,
and calls of 256 rows were at times the fastest (every call ends waiting for
a thread that other work may have taken away): hence a measurement, the
median of interleaved rounds, rather than an assumption.

Random draws (the sampled representation draws its noise with randn_like
from torch's global generator) stay those of calls of 256 rows: inputs are
cut into pieces of 256 rows as before, and only pieces of a multiple of 16
rows are cut further. torch draws normals in blocks of 16, so calls of a
multiple of 16 values draw, together, what one call of their total draws.
The measurement itself leaves the global generator as it found it.
"""
import dataclasses
import statistics
import time
import warnings

from absl import logging
import numpy as np
import torch

# Rows per call of the module as loaded; other call sizes divide it.
SUPER_ROWS = 256
CALL_ROWS = (32, 64, 128, 256)
# torch's CPU normal sampler works in blocks of this many values.
_ALIGNED_ROWS = 16
# Rows a function must have run (this call included) before a choice can pay: on the
# machine below a choice took 0.4-0.7 s, what 4,000-7,500 rows take as loaded, and saves at
# most about half of each later row's time (2.2x at best), so it pays back only over some
# 8,000-15,000 rows. Smaller jobs (the quickstart's 1,000-row metrics, dvisualize's 10,000
# points) run the module as loaded.
ROWS_WORTH_CHOOSING = 16384
# Measuring rounds (each: one SUPER_ROWS input through every way) and the time
# after which no further round starts once the minimum is done.
_MIN_ROUNDS, _MAX_ROUNDS, _BUDGET_SECONDS = 3, 6, 1.0


@dataclasses.dataclass
class Way:
  """One way of running a module: its name, the module, the rows per call."""
  name: str
  module: torch.jit.ScriptModule
  rows: int

  def __str__(self):
    return "{}, {} rows a call".format(self.name, self.rows)


def pieces(num_rows, rows, super_rows=SUPER_ROWS):
  """[(start, stop)] of the calls over `num_rows` rows, `rows` at a time.

  Pieces of `super_rows`; one of a multiple of 16 rows is cut into calls of
  `rows` (a divisor of super_rows), so that the random draws of the calls
  together are those of one call per piece.
  """
  result = []
  for start in range(0, num_rows, super_rows):
    stop = min(start + super_rows, num_rows)
    step = rows if (stop - start) % _ALIGNED_ROWS == 0 else stop - start
    result.extend((begin, min(begin + step, stop)) for begin in range(start, stop, step))
  return result


def run(module, x, rows, super_rows=SUPER_ROWS):
  """The module's outputs on a tensor x, called on `pieces`: a list of tuples of tensors."""
  outputs = []
  for start, stop in pieces(len(x), rows, super_rows):
    out = module(x[start:stop])
    outputs.append(out if isinstance(out, tuple) else (out,))
  return outputs


def variants(module):
  """[(name, module)]: the module as loaded, frozen, frozen and optimised (those that build)."""
  result = [("as loaded", module)]
  for name, make in (
      ("frozen", lambda: torch.jit.freeze(module.eval())),
      ("frozen and optimised", lambda: torch.jit.optimize_for_inference(
          torch.jit.freeze(module.eval())))):
    try:
      with warnings.catch_warnings():  # TorchScript's deprecation, as in torchscript_io.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        result.append((name, make()))
    except Exception as e:  # pylint: disable=broad-except
      # torch refuses some modules (e.g. ones that change their attributes).
      logging.info("TorchScript module not %s: %s", name, " ".join(str(e).split())[:200])
  return result


def choose(module, example):
  """The fastest Way of running `module` on CPU inputs like `example` (SUPER_ROWS rows).

  Only ways whose outputs on the example equal, bit for bit and with the same
  random draws, those of the module as loaded in calls of SUPER_ROWS rows are
  candidates. Leaves torch's global random generator as it was.
  """
  with torch.random.fork_rng(devices=[]), torch.inference_mode():
    reference = _outputs(module, example, SUPER_ROWS)
    ways = [Way("as loaded", module, SUPER_ROWS)]
    for name, variant in variants(module)[1:]:
      differ = []
      for rows in CALL_ROWS:
        if _equal(_outputs(variant, example, rows), reference):
          ways.append(Way(name, variant, rows))
        else:
          differ.append(rows)
      if differ:
        logging.info("TorchScript module %s, in calls of %s rows: other codes (float "
                     "rounding), not used.", name, ", ".join(map(str, differ)))
    seconds = _measure(ways, example)
  best = min(ways, key=lambda way: seconds[way.name, way.rows])
  logging.info("TorchScript module runs %s: %.0f rows/s (as loaded, %d rows a call: %.0f).",
               best, len(example) / seconds[best.name, best.rows], SUPER_ROWS,
               len(example) / seconds["as loaded", SUPER_ROWS])
  return best


def _outputs(module, example, rows):
  torch.manual_seed(0)
  return [torch.cat(parts) for parts in zip(*run(module, example, rows))]


def _equal(outputs, reference):
  return len(outputs) == len(reference) and all(
      torch.equal(out, ref) for out, ref in zip(outputs, reference))


def _measure(ways, example):
  """{(name, rows): median seconds} of each way on the example, in interleaved rounds.

  The median, not the fastest run: on a machine whose other work takes cores
  away, more and smaller calls lose more time waiting for a thread at each
  call's end, and the fastest run would hide that.
  """
  for way in ways:  # Warm-up: the profiling executor specialises on the first call.
    run(way.module, example, way.rows)
  seconds = {(way.name, way.rows): [] for way in ways}
  start, rounds = time.perf_counter(), 0
  while rounds < _MIN_ROUNDS or (rounds < _MAX_ROUNDS and
                                 time.perf_counter() - start < _BUDGET_SECONDS):
    for way in ways:
      begin = time.perf_counter()
      run(way.module, example, way.rows)
      seconds[way.name, way.rows].append(time.perf_counter() - begin)
    rounds += 1
  return {key: statistics.median(times) for key, times in seconds.items()}


def example_input(x, rows=SUPER_ROWS):
  """`rows` rows of x (repeated if it has fewer) as a float32 CPU tensor."""
  x = np.asarray(x, dtype=np.float32)
  return torch.as_tensor(np.resize(x, (rows,) + x.shape[1:]))
