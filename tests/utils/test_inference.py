"""How a TorchScript representation runs on the CPU: chosen by measurement, same codes and draws."""
import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.postprocessing import methods
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import inference
from dlib_torch.utils import torchscript_io


def _representation(tmp_path, transform):
  """The study's conv encoder (random weights) with a representation transform, saved and loaded."""
  torch.manual_seed(0)
  encoder = architectures.conv_encoder([64, 64, 1], 10).eval()
  torchscript_io.save_module(postprocess.Representation(encoder, transform), str(tmp_path),
                             "representation", {})
  return torchscript_io.load_module(str(tmp_path), "representation")


def _images(num, seed=0):
  return (np.random.RandomState(seed).rand(num, 64, 64, 1) > 0.7).astype(np.float32)


@pytest.mark.parametrize("num_rows, rows, expected", [
    (600, 64, [(0, 64), (64, 128), (128, 192), (192, 256), (256, 320), (320, 384),
               (384, 448), (448, 512), (512, 600)]),  # 88 rows: not cut.
    (600, 256, [(0, 256), (256, 512), (512, 600)]),
    (300, 128, [(0, 128), (128, 256), (256, 300)]),
    (10, 32, [(0, 10)]),
    (48, 32, [(0, 32), (32, 48)]),
])
def test_pieces_cut_only_aligned_super_pieces(num_rows, rows, expected):
  assert inference.pieces(num_rows, rows) == expected


def test_random_draws_of_the_pieces_are_those_of_256_row_calls():
  def draws(num_rows, rows):
    torch.manual_seed(0)
    return torch.cat([torch.randn(stop - start, 10)
                      for start, stop in inference.pieces(num_rows, rows)])
  for num_rows in (600, 1000, 250, 77):
    for rows in inference.CALL_ROWS:
      assert torch.equal(draws(num_rows, rows), draws(num_rows, inference.SUPER_ROWS))


@pytest.fixture
def choose_early(monkeypatch):
  """Choosing from 256 rows on, so that small inputs exercise it."""
  monkeypatch.setattr(inference, "ROWS_WORTH_CHOOSING", inference.SUPER_ROWS)


@pytest.mark.parametrize("transform", [methods.MeanRepresentation(),
                                       methods.SampledRepresentation()])
def test_codes_and_draws_are_the_module_as_loaded_ones(tmp_path, transform, choose_early):
  module = _representation(tmp_path, transform)
  x = _images(700)
  torch.manual_seed(3)
  expected = torchscript_io.numpy_function(module, tune=False)(x)
  tuned = torchscript_io.numpy_function(module)
  torch.manual_seed(3)
  codes = tuned(x)  # Chooses on this call; leaves the generator to the codes' draws.
  np.testing.assert_array_equal(codes, expected)
  torch.manual_seed(3)
  np.testing.assert_array_equal(tuned(x), expected)


def test_the_choice_leaves_the_global_generator_alone(tmp_path):
  module = _representation(tmp_path, methods.SampledRepresentation())
  torch.manual_seed(5)
  inference.choose(module, inference.example_input(_images(256)))
  after = torch.randn(3)
  torch.manual_seed(5)
  assert torch.equal(after, torch.randn(3))


class _Scale(torch.nn.Module):
  """Elementwise, so that every way and call size gives its codes to the bit on any CPU."""

  def __init__(self):
    super().__init__()
    self.scale = torch.nn.Parameter(torch.tensor(2.))

  def forward(self, x):
    return x.flatten(1)[:, :10] * self.scale


def test_the_fastest_way_with_the_same_codes_is_chosen(monkeypatch):
  # (Which call sizes of the conv encoder are bit-identical depends on the CPU and its
  # threads: the choice among equal ways is what is tested here.)
  module = torch.jit.script(_Scale()).eval()
  real_variants = inference.variants
  monkeypatch.setattr(inference, "variants", lambda m: real_variants(m) + [
      ("wrong", torch.jit.script(torch.nn.Identity()))])
  monkeypatch.setattr(inference, "_measure", lambda ways, example: {
      (way.name, way.rows): {"wrong": 0.01, "frozen": 0.5}.get(way.name, 1.) + 0.001 * way.rows
      for way in ways})
  way = inference.choose(module, inference.example_input(_images(256)))
  assert (way.name, way.rows) == ("frozen", 32)


def test_the_choice_is_made_once_per_file(tmp_path, monkeypatch, choose_early):
  _representation(tmp_path, methods.MeanRepresentation())
  calls = []
  real_choose = inference.choose
  monkeypatch.setattr(inference, "choose", lambda *a: calls.append(1) or real_choose(*a))
  x = _images(300)
  first = torchscript_io.load_representation(str(tmp_path))(x)
  np.testing.assert_array_equal(torchscript_io.load_representation(str(tmp_path))(x), first)
  assert len(calls) == 1


def test_small_inputs_run_the_module_as_loaded(tmp_path, monkeypatch, choose_early):
  module = _representation(tmp_path, methods.MeanRepresentation())
  monkeypatch.setattr(inference, "choose", lambda *a: pytest.fail("measured a small input"))
  fn = torchscript_io.numpy_function(module)
  assert fn(_images(10)).shape == (10, 10)


class _Zeros(torch.nn.Module):
  """Codes unlike any encoder's: a stand-in way that shows where it was used."""

  def forward(self, x):
    return x.flatten(1)[:, :10] * 0.


def _choose_zeros(chosen):
  return lambda module, example: chosen.append(len(example)) or inference.Way(
      "zeros", torch.jit.script(_Zeros()), inference.SUPER_ROWS)


def test_the_choice_waits_for_enough_rows_to_pay_for_it(tmp_path, monkeypatch):
  module = _representation(tmp_path, methods.MeanRepresentation())
  monkeypatch.setattr(inference, "ROWS_WORTH_CHOOSING", 1000)
  chosen = []
  monkeypatch.setattr(inference, "choose", _choose_zeros(chosen))
  fn = torchscript_io.numpy_function(module)
  x = _images(300)
  assert np.abs(fn(x)).sum() > 0
  fn(x)
  fn(x[:100])
  fn(x[:299])  # 999 rows so far: short of 1000
  assert not chosen
  assert not fn(x).any()  # 1299: chosen on this call, and used
  assert chosen == [inference.SUPER_ROWS]
  assert not fn(x[:10]).any()
  assert chosen == [inference.SUPER_ROWS]


def test_a_choice_made_for_the_file_is_used_from_the_first_call(tmp_path, monkeypatch):
  _representation(tmp_path, methods.MeanRepresentation())
  monkeypatch.setattr(inference, "ROWS_WORTH_CHOOSING", 1000)
  chosen = []
  monkeypatch.setattr(inference, "choose", _choose_zeros(chosen))
  x = _images(1000)
  assert not torchscript_io.load_representation(str(tmp_path))(x).any()
  assert not torchscript_io.load_representation(str(tmp_path))(x[:256]).any()
  assert chosen == [inference.SUPER_ROWS]
