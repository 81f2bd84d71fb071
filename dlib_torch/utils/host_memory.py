"""Keeps freed host memory in the process, so a CPU training step stops page-faulting.

glibc's malloc serves blocks above its mmap threshold with fresh mappings and
returns freed memory at the top of the heap to the OS. A CPU training step
frees and re-allocates the same activations (about 8 MB in float32 for the
conv VAE) every step, so with the defaults each step pays ~10 000 minor page
faults for memory it had a moment ago: a fifth to a third of a float32 step
(benchmarks/train_step.py prints the faults per step).
"""
import ctypes
import sys

# mallopt parameter numbers from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's largest accepted mmap threshold on 64-bit systems (32 MB): blocks up
# to this size come from the heap and are reused.
_MMAP_THRESHOLD = 32 * 2**20
# Freed memory at the top of the heap is kept up to this size.
_TRIM_THRESHOLD = 2**30


def keep_freed_memory():
  """Raises glibc's mmap and trim thresholds for this process.

  Returns whether both were set (False on other C libraries and platforms,
  where nothing changes).
  """
  if not sys.platform.startswith("linux"):
    return False
  try:
    libc = ctypes.CDLL("libc.so.6")
    mallopt = libc.mallopt
  except (OSError, AttributeError):
    return False
  mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
  return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
      mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
