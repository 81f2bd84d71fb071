"""Choosing the torch device and numeric precision of a run, and recording them."""
import contextlib
import functools
import os

import torch

from dlib_torch.utils import errors

PRECISIONS = ("float32", "bf16")

# Overrides the detection of native bf16 on this CPU: "1" (present) or "0" (absent).
CPU_BF16_ENVIRONMENT_VARIABLE = "DLIB_TORCH_CPU_BF16"
# CPU flags (/proc/cpuinfo) of native bf16 arithmetic: x86's AVX-512-BF16 and
# AMX, Arm's BF16 extension.
_NATIVE_BF16_FLAGS = frozenset(["avx512_bf16", "amx_bf16", "bf16"])


def parse_device_name(name):
  """The torch.device `name` names (None for auto); a UserError unless cpu, cuda or cuda:N.

  Whether the device is present is not checked: commands parse the name with
  their flags, and a job submitted to a cluster from a machine without a GPU
  may still ask for one.
  """
  if name in (None, "", "auto"):
    return None
  try:
    device = torch.device(name)
  except RuntimeError:
    device = None
  if device is None or device.type not in ("cpu", "cuda"):
    raise errors.UserError("Unknown device {!r}: use auto, cpu, cuda or cuda:N.".format(name))
  return device


def resolve_device(name="auto"):
  """"auto" picks CUDA when present, else CPU; anything else is used as given, if present."""
  device = parse_device_name(name)
  if device is None:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
  if device.type == "cuda" and not torch.cuda.is_available():
    raise errors.UserError("Device {!r} requested but CUDA is not available.".format(name))
  if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
    raise errors.UserError("Device {!r} requested but only {} CUDA device(s) are visible.".format(
        name, torch.cuda.device_count()))
  return device


def autocast(device, precision):
  """A context that runs the forward pass in bf16 when asked; float32 otherwise.

  Refuses (UserError) a precision this device cannot run at speed: see
  check_precision.
  """
  check_precision(device, precision)
  if precision == "bf16":
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
  return contextlib.nullcontext()


def check_precision(device, precision, native_cpu_bf16=None):
  """A UserError unless `precision` is known and runs natively on `device`.

  bf16 on a CPU without native bf16 arithmetic (no AVX-512-BF16, AMX or Arm
  BF16) is emulated by oneDNN: measured on an AVX2 machine, the bf16 training
  step ran at 0.1x the float32 one, so it is refused rather than silently slow.

  Args:
    device: a torch.device.
    precision: one of PRECISIONS.
    native_cpu_bf16: whether the CPU has native bf16; None detects it
      (cpu_has_native_bf16).
  """
  if precision not in PRECISIONS:
    raise errors.UserError("Unknown precision {!r}; use one of {}.".format(
        precision, ", ".join(PRECISIONS)))
  if precision != "bf16" or device.type != "cpu":
    return
  if native_cpu_bf16 is None:
    native_cpu_bf16 = cpu_has_native_bf16()
  if not native_cpu_bf16:
    raise errors.UserError(
        "--precision=bf16 needs a CPU with native bf16 (AVX-512-BF16 or AMX), which this one "
        "lacks: there the bf16 step runs at about 0.1x the float32 step (measured on an AVX2 "
        "machine). Use --precision=float32, or a GPU.")


def cpu_has_native_bf16(flags=None):
  """Whether this CPU computes bf16 natively.

  The environment variable DLIB_TORCH_CPU_BF16 ("1" or "0") overrides the
  detection; otherwise the answer comes from `flags` (a set of CPU flag names,
  as in /proc/cpuinfo), by default this CPU's flags as torch and
  /proc/cpuinfo report them.
  """
  override = os.environ.get(CPU_BF16_ENVIRONMENT_VARIABLE, "").strip()
  if override in ("0", "1"):
    return override == "1"
  if flags is None:
    flags = cpu_flags()
  return bool(_NATIVE_BF16_FLAGS & set(flags))


@functools.lru_cache(maxsize=None)
def cpu_flags():
  """This CPU's feature flags: /proc/cpuinfo's, plus avx512_bf16 if torch detects it."""
  flags = set()
  probe = getattr(getattr(torch, "cpu", None), "_is_avx512_bf16_supported", None)
  try:
    if probe is not None and probe():
      flags.add("avx512_bf16")
  except RuntimeError:
    pass
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, Arm
          flags.update(value.split())
  except OSError:
    pass
  return frozenset(flags)


def describe(device):
  """What a step's results record of where it ran.

  "device" (e.g. "cpu", "cuda:0"), "num_threads" (torch's CPU threads) and, on
  a GPU whose process was given CUDA_VISIBLE_DEVICES (the local launcher gives
  each job its own GPU that way), "cuda_visible_devices".
  """
  description = {"device": str(device), "num_threads": torch.get_num_threads()}
  visible = os.environ.get("CUDA_VISIBLE_DEVICES")
  if device.type == "cuda" and visible is not None:
    description["cuda_visible_devices"] = visible
  return description
