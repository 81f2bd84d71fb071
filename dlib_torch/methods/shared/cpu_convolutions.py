"""The networks' convolution layers on CPU: torch.nn's, with some passes on `gemm_convolutions`.

`use_cpu_kernels` gives a network's nn.Conv2d and nn.ConvTranspose2d layers
the classes below (same parameters, same sums in another order); the network
builders of `architectures` call it. Per layer and precision, these classes
run the functions of `gemm_convolutions` where they were measured faster than
oneDNN on a 2-core AVX-512 machine (benchmarks/train_step.py --layers, and
the whole step); the other cases stay native. Float32 convolutions stay
native: oneDNN's (150 to 250 GFLOP/s per core) outrun the float32 GEMM that
torch.mm calls (MKL, about 100). TorchScript and CUDA use the native layers.
"""
import torch
from torch import nn
from torch.nn import functional as F

from dlib_torch.methods.shared import gemm_convolutions


class _Conv2d(nn.Conv2d):
  """nn.Conv2d, faster on CPU in bf16 when the kernel equals the stride.

  Such patches tile the image, so im2col and col2im are permutations and
  each pass is one GEMM; in bf16 that beats oneDNN (the encoder's 2x2
  stride-2 layers: forward and backward in 0.7 to 0.8 of the time on a 2-core
  AVX-512 machine). Other cases (float32, where oneDNN beats the float32
  GEMM; TorchScript; CUDA) use the native layer.
  """

  @torch.jit.unused
  def _use_gemm(self, x: torch.Tensor) -> bool:
    return (gemm_convolutions.supported(self, x) and
            gemm_convolutions.compute_dtype(x) == torch.bfloat16 and
            tuple(self.kernel_size) == tuple(self.stride) and tuple(self.padding) == (0, 0))

  @torch.jit.unused
  def _gemm_forward(self, x: torch.Tensor) -> torch.Tensor:
    return gemm_convolutions.apply_without_autocast(
        gemm_convolutions.Conv2dFunction, x, self.weight, self.bias, list(self.stride),
        list(self.padding))

  def forward(self, x):
    if not torch.jit.is_scripting() and self._use_gemm(x):
      return self._gemm_forward(x)
    return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class _ConvTranspose2d(nn.ConvTranspose2d):
  """nn.ConvTranspose2d, faster on CPU (`gemm_convolutions.ConvTranspose2dFunction`).

  oneDNN's backward pass takes up to twice as long when it also computes the
  bias gradient, which is a plain sum here (the 32-channel layer's backward:
  bf16 2.4 ms instead of 5.7, float32 2.8 instead of 3.5); oneDNN's forward
  pass is slow with one output channel (the decoder's last layer on
  grey-scale images), which GEMMs on planes of taps compute instead (that
  layer's forward and backward: 0.6 of the time in both precisions, on a
  2-core AVX-512 machine). TorchScript and CUDA use the native layer.
  """

  @torch.jit.unused
  def _use_function(self, x: torch.Tensor) -> bool:
    return gemm_convolutions.supported(self, x)

  @torch.jit.unused
  def _function_forward(self, x: torch.Tensor) -> torch.Tensor:
    return gemm_convolutions.apply_without_autocast(
        gemm_convolutions.ConvTranspose2dFunction, x, self.weight, self.bias,
        list(self.stride), list(self.padding), self.out_channels == 1)

  def forward(self, x):
    if not torch.jit.is_scripting() and self._use_function(x):
      return self._function_forward(x)
    return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                              self.output_padding, self.groups, self.dilation)


_CPU_CLASSES = {nn.Conv2d: _Conv2d, nn.ConvTranspose2d: _ConvTranspose2d}


def use_cpu_kernels(network, enabled=True):
  """Gives the network's convolutions the classes above, or torch.nn's again; returns it.

  The parameters stay as they are. enabled=False is for comparing these
  layers with PyTorch's own (tests, benchmarks).
  """
  classes = (_CPU_CLASSES if enabled else
             {cpu: native for native, cpu in _CPU_CLASSES.items()})
  for module in network.modules():
    if type(module) in classes:  # pylint: disable=unidiomatic-typecheck
      module.__class__ = classes[type(module)]
  return network
