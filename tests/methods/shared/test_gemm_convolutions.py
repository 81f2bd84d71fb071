"""The matrix-product convolutions and the CPU layers compute what the native layers do."""
import copy
import io
from unittest import mock

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import cpu_convolutions
from dlib_torch.methods.shared import gemm_convolutions

# Largest difference allowed, relative to the largest magnitude of the native
# result. float32: the same sums in another order. bf16: both sides round
# their operands and results to bf16 (8 bits), summing in another order.
TOLERANCE = {"float32": 2e-5, "bf16": 3e-2}

# (batch, in channels, out channels, kernel, stride, padding, height, width):
# the encoder's and decoder's layers, then odd batches, other channel
# counts, sizes that the stride does not divide, a stride-1 kernel.
CONV_SHAPES = [
    (64, 1, 32, 4, 2, 1, 64, 64),
    (64, 32, 32, 4, 2, 1, 32, 32),
    (64, 32, 64, 2, 2, 0, 16, 16),
    (64, 64, 64, 2, 2, 0, 8, 8),
    (3, 5, 7, 4, 2, 1, 10, 6),
    (5, 6, 3, 2, 2, 0, 7, 9),
    (2, 3, 4, 3, 1, 1, 6, 5),
]
TRANSPOSED_SHAPES = [
    (64, 64, 64, 4, 2, 1, 4, 4),
    (64, 64, 32, 4, 2, 1, 8, 8),
    (64, 32, 32, 4, 2, 1, 16, 16),
    (64, 32, 1, 4, 2, 1, 32, 32),
    (3, 5, 7, 4, 2, 1, 5, 3),
    (5, 6, 1, 2, 2, 0, 4, 7),
    (2, 3, 4, 3, 1, 1, 6, 5),
    (3, 5, 2, 4, 2, 2, 6, 5),
]


def _inputs(shape, transposed, seed=0):
  batch, cin, cout, kernel, _, _, height, width = shape
  generator = torch.Generator().manual_seed(seed)
  x = torch.randn(batch, cin, height, width, generator=generator).to(
      memory_format=torch.channels_last).requires_grad_()
  weight_shape = (cin, cout, kernel, kernel) if transposed else (cout, cin, kernel, kernel)
  weight = torch.randn(weight_shape, generator=generator).requires_grad_()
  bias = torch.randn(cout, generator=generator).requires_grad_()
  return x, weight, bias


def _run(function, tensors, precision, seed=1):
  """Output and gradients (input, weight, bias) of `function` for a random output gradient."""
  with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
    y = function(*tensors)
  grad = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed))
  grads = torch.autograd.grad(y, tensors, grad.to(y.dtype))
  return [y.detach().float()] + [g.float() for g in grads]


def _assert_close(results, references, precision):
  for result, reference in zip(results, references):
    assert result.shape == reference.shape
    scale = float(reference.abs().max())
    assert float((result - reference).abs().max()) <= TOLERANCE[precision] * scale


@pytest.mark.parametrize("precision", ["float32", "bf16"])
@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_conv2d_function_matches_conv2d(shape, precision):
  stride, padding = shape[4], shape[5]
  tensors = _inputs(shape, transposed=False)

  def gemm(x, weight, bias):
    return gemm_convolutions.apply_without_autocast(
        gemm_convolutions.Conv2dFunction, x, weight, bias, [stride] * 2, [padding] * 2)

  def native(x, weight, bias):
    return F.conv2d(x, weight, bias, stride, padding)

  _assert_close(_run(gemm, tensors, precision), _run(native, tensors, precision), precision)


@pytest.mark.parametrize("precision", ["float32", "bf16"])
@pytest.mark.parametrize("planar", [False, True])
@pytest.mark.parametrize("shape", TRANSPOSED_SHAPES)
def test_conv_transpose2d_function_matches_conv_transpose2d(shape, planar, precision):
  stride, padding = shape[4], shape[5]
  tensors = _inputs(shape, transposed=True)

  def function(x, weight, bias):
    return gemm_convolutions.apply_without_autocast(
        gemm_convolutions.ConvTranspose2dFunction, x, weight, bias, [stride] * 2,
        [padding] * 2, planar)

  def native(x, weight, bias):
    return F.conv_transpose2d(x, weight, bias, stride, padding)

  _assert_close(_run(function, tensors, precision), _run(native, tensors, precision), precision)


@pytest.mark.parametrize("planar", [False, True])
def test_transposed_input_gradient_is_channels_last_like_the_input(planar):
  # The in-place ReLU before the layer saves a channels-last output; an NCHW
  # gradient (oneDNN's for one output channel) makes its backward several
  # times slower.
  x, weight, bias = _inputs((64, 32, 1, 4, 2, 1, 32, 32), transposed=True)
  y = gemm_convolutions.ConvTranspose2dFunction.apply(x, weight, bias, [2, 2], [1, 1], planar)
  assert y.is_contiguous(memory_format=torch.channels_last)
  grad_x, = torch.autograd.grad(y, x, torch.ones_like(y))
  assert grad_x.is_contiguous(memory_format=torch.channels_last)
  assert not grad_x.is_contiguous()


def _networks():
  """The conv encoder and decoder as their builders give them (with the CPU layers)."""
  torch.manual_seed(0)
  encoder = architectures.make_gaussian_encoder([64, 64, 1], num_latent=10,
                                                encoder_fn=architectures.conv_encoder)
  decoder = architectures.make_decoder(10, [64, 64, 1], decoder_fn=architectures.deconv_decoder)
  return [(net.to(memory_format=torch.channels_last), shape)
          for net, shape in ((encoder, (64, 64, 64, 1)), (decoder, (64, 10)))]


@pytest.mark.parametrize("precision", ["float32", "bf16"])
def test_networks_match_native_layers(precision):
  for network, input_shape in _networks():
    plain = cpu_convolutions.use_cpu_kernels(copy.deepcopy(network), enabled=False)
    x = torch.rand(input_shape, generator=torch.Generator().manual_seed(0))

    def outputs_and_grads(net):
      with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        outputs = net(x)
      outputs = outputs if isinstance(outputs, tuple) else (outputs,)
      # Random weights: an antisymmetric weighting would make the bias
      # gradients sums that cancel to rounding noise.
      generator = torch.Generator().manual_seed(1)
      total = sum((o.float() * torch.randn(o.shape, generator=generator)).sum()
                  for o in outputs)
      return [o.float() for o in outputs] + list(torch.autograd.grad(total, net.parameters()))

    results, references = outputs_and_grads(network), outputs_and_grads(plain)
    assert all(r.dtype == torch.float32 for r in results)
    _assert_close(results, references, precision)


def test_builders_give_the_cpu_layers_and_enabled_false_the_torch_nn_ones():
  torch_nn = (nn.Conv2d, nn.ConvTranspose2d)
  for network, _ in _networks():
    layers = [m for m in network.modules() if isinstance(m, torch_nn)]
    assert len(layers) == 4
    assert all(type(m).__module__ == cpu_convolutions.__name__ for m in layers)
    cpu_convolutions.use_cpu_kernels(network, enabled=False)
    assert all(type(m) in torch_nn for m in layers)


def test_paths_are_chosen_per_layer_and_precision():
  encoder, decoder = [net for net, _ in _networks()]
  convolutions = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
  inputs = [torch.zeros(2, m.in_channels, 8, 8) for m in convolutions]
  uses_gemm = lambda: [m._use_gemm(x) for m, x in zip(convolutions, inputs)]  # pylint: disable=protected-access
  # float32: oneDNN everywhere; bf16: the GEMM path where kernel == stride.
  assert uses_gemm() == [False] * 4
  with torch.autocast("cpu", dtype=torch.bfloat16):
    assert uses_gemm() == [False, False, True, True]
  transposed = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
  inputs = [torch.zeros(2, m.in_channels, 8, 8) for m in transposed]
  uses_function = lambda: [m._use_function(x) for m, x in zip(transposed, inputs)]  # pylint: disable=protected-access
  assert uses_function() == [True] * 4
  with torch.autocast("cpu", dtype=torch.bfloat16):
    assert uses_function() == [True] * 4
  # The forward pass on planes of taps is for the one-output-channel layer only.
  with mock.patch.object(gemm_convolutions, "apply_without_autocast",
                         wraps=gemm_convolutions.apply_without_autocast) as apply:
    for module, x in zip(transposed, inputs):
      module(x)
  assert [call.args[-1] for call in apply.call_args_list] == [False, False, False, True]
  # Other devices keep the native layers.
  assert not convolutions[2]._use_gemm(torch.zeros(2, 32, 8, 8, device="meta"))  # pylint: disable=protected-access
  assert not transposed[0]._use_function(torch.zeros(2, 64, 8, 8, device="meta"))  # pylint: disable=protected-access


def test_scripted_networks_use_the_native_layers():
  for network, input_shape in _networks():
    plain = cpu_convolutions.use_cpu_kernels(copy.deepcopy(network), enabled=False).eval()
    scripted = torch.jit.script(copy.deepcopy(network).eval())
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer)
    x = torch.rand(input_shape[:1] and (4,) + tuple(input_shape[1:]))
    with torch.no_grad():
      expected = plain(x)
      got = loaded(x)
    for g, e in zip(got if isinstance(got, tuple) else (got,),
                    expected if isinstance(expected, tuple) else (expected,)):
      assert torch.equal(g, e)
