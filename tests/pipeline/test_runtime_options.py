"""The faster CPU implementations inside the networks compute what the plain layers do."""
import copy
import io

import torch
from torch import nn

from dlib_torch.methods.shared import architectures


def _decoder_and_plain_copy():
  torch.manual_seed(0)
  decoder = architectures.deconv_decoder(10, [64, 64, 1]).to(memory_format=torch.channels_last)
  plain = copy.deepcopy(decoder)
  for i, module in enumerate(plain):
    if isinstance(module, nn.ConvTranspose2d):
      replacement = nn.ConvTranspose2d(module.in_channels, module.out_channels,
                                       module.kernel_size, module.stride, module.padding)
      replacement.load_state_dict(module.state_dict())
      plain[i] = replacement.to(memory_format=torch.channels_last)
  return decoder, plain


def _forward_and_grads(network, z, grad, precision):
  with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
    output = network(z)
  grads = torch.autograd.grad(output.float(), list(network.parameters()), grad)
  return output.float(), grads


def test_single_channel_transposed_conv_uses_the_planar_path():
  decoder, _ = _decoder_and_plain_copy()
  last = decoder[-2]
  assert isinstance(last, nn.ConvTranspose2d) and last.out_channels == 1
  assert last._use_planes(torch.zeros(2, 32, 32, 32))  # pylint: disable=protected-access
  wider = architectures._ConvTranspose2d(32, 32, 4, 2, 1)  # pylint: disable=protected-access
  assert not wider._use_planes(torch.zeros(2, 32, 16, 16))  # pylint: disable=protected-access


def test_decoder_matches_plain_layers_float32_and_bf16():
  decoder, plain = _decoder_and_plain_copy()
  assert list(decoder.state_dict()) == list(plain.state_dict())
  z = torch.randn(64, 10)
  grad = torch.randn(64, 64, 64, 1)
  for precision, tolerance in (("float32", 1e-5), ("bf16", 2e-2)):
    out, grads = _forward_and_grads(decoder, z, grad, precision)
    ref_out, ref_grads = _forward_and_grads(plain, z, grad, precision)
    scale = ref_out.abs().max()
    assert float((out - ref_out).abs().max()) <= tolerance * float(scale)
    for g, ref_g in zip(grads, ref_grads):
      assert g.dtype == torch.float32
      if precision == "float32":
        # The float32 backward pass is the native one: gradients are identical.
        assert torch.equal(g, ref_g)
      else:
        # bf16 gradients come from matrix products: the same sums, rounded elsewhere.
        assert float((g - ref_g).abs().max()) <= tolerance * float(ref_g.abs().max())


def test_scripted_decoder_uses_the_native_layer():
  decoder, plain = _decoder_and_plain_copy()
  scripted = torch.jit.script(
      copy.deepcopy(decoder).to(memory_format=torch.contiguous_format).eval())
  buffer = io.BytesIO()
  torch.jit.save(scripted, buffer)
  buffer.seek(0)
  loaded = torch.jit.load(buffer)
  z = torch.randn(4, 10)
  with torch.no_grad():
    assert torch.equal(loaded(z), plain.eval()(z))
