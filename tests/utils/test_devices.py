"""dlib_torch.utils.devices: device choice, bf16's refusal on CPUs without it, what results record."""
import pytest
import torch

from dlib_torch.utils import devices
from dlib_torch.utils import errors

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
  monkeypatch.delenv(devices.CPU_BF16_ENVIRONMENT_VARIABLE, raising=False)


@pytest.mark.parametrize("flags, native", [
    ({"avx2", "fma"}, False),                 # An AVX2 machine.
    ({"avx2", "avx512f", "avx512bw"}, False),  # AVX-512 without its bf16 instructions.
    ({"avx512f", "avx512_bf16"}, True),
    ({"avx512f", "amx_tile", "amx_bf16"}, True),
    ({"fp", "asimd", "bf16"}, True),          # Arm with the BF16 extension.
])
def test_native_bf16_from_the_cpu_flags(flags, native):
  assert devices.cpu_has_native_bf16(flags) is native


@pytest.mark.parametrize("value, native", [("0", False), ("1", True)])
def test_the_environment_overrides_the_detection(monkeypatch, value, native):
  monkeypatch.setenv(devices.CPU_BF16_ENVIRONMENT_VARIABLE, value)
  assert devices.cpu_has_native_bf16({"avx512_bf16"} if value == "0" else set()) is native


def test_this_cpus_flags_are_read():
  flags = devices.cpu_flags()
  assert isinstance(flags, frozenset)
  if torch.cpu._is_avx512_bf16_supported():  # pylint: disable=protected-access
    assert "avx512_bf16" in flags


def test_bf16_on_a_cpu_without_native_bf16_is_refused_in_one_line():
  with pytest.raises(errors.UserError) as raised:
    devices.check_precision(CPU, "bf16", native_cpu_bf16=False)
  message = str(raised.value)
  assert "\n" not in message and "0.1x the float32 step" in message
  devices.check_precision(CPU, "bf16", native_cpu_bf16=True)
  devices.check_precision(CPU, "float32", native_cpu_bf16=False)


def test_bf16_is_fine_on_cuda_whatever_the_cpu(monkeypatch):
  monkeypatch.setenv(devices.CPU_BF16_ENVIRONMENT_VARIABLE, "0")
  devices.check_precision(torch.device("cuda"), "bf16")
  with pytest.raises(errors.UserError, match="native bf16"):
    devices.autocast(CPU, "bf16")


def test_unknown_precision():
  with pytest.raises(errors.UserError, match="Unknown precision"):
    devices.autocast(CPU, "fp8")


def test_describe_records_device_threads_and_visible_gpus(monkeypatch):
  monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
  assert devices.describe(CPU) == {"device": "cpu", "num_threads": torch.get_num_threads()}
  assert devices.describe(torch.device("cuda:0"))["cuda_visible_devices"] == "3"


@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_a_cuda_device_that_is_not_there(monkeypatch, name):
  monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
  monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
  if name == "cuda":
    assert devices.resolve_device(name) == torch.device("cuda")
  else:
    with pytest.raises(errors.UserError, match="only 1 CUDA device"):
      devices.resolve_device(name)
