"""Faster CPU passes for the strided convolutions of the disentanglement_lib networks.

At their small channel counts (1 to 64 channels, 4x4 or 2x2 kernels, stride
2) some of oneDNN's passes are slow on CPU:

- bf16 convolutions whose kernel equals their stride: every pass is written
  as im2col / col2im around one GEMM, in NHWC (the channels-last memory of
  the networks' NCHW tensors), which runs at the matrix-multiply rate:

    Y = im2col(X) W        dW = im2col(X)^T dY        dX = col2im(dY W^T)

  Patch rows are ordered (kernel row, kernel column, channel), so that a row
  is a few contiguous runs of channels (`Conv2dFunction`).
- transposed convolutions: oneDNN's backward pass takes up to twice as long
  when it also computes the bias gradient, and its forward pass is slow
  with one output channel. `ConvTranspose2dFunction` sums the bias gradient
  itself and computes such a forward pass as a GEMM on planes of taps,
  folded into the output a phase at a time.

Only kernels that are a multiple of the stride are handled. The layers of
`cpu_convolutions` pick, per layer and precision, where these functions run.
"""
import torch
from torch.nn import functional as F


def compute_dtype(x):
  """The dtype a CPU layer computes in: autocast's when it is on, else x's."""
  return torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else x.dtype


def supported(layer, x):
  """Whether `layer` (a Conv2d or ConvTranspose2d) and input `x` fit these functions."""
  return (x.dim() == 4 and x.device.type == "cpu" and layer.weight.dtype == torch.float32 and
          compute_dtype(x) in (torch.float32, torch.bfloat16) and layer.bias is not None and
          layer.groups == 1 and tuple(layer.dilation) == (1, 1) and
          tuple(getattr(layer, "output_padding", (0, 0))) == (0, 0) and
          layer.padding_mode == "zeros" and isinstance(layer.padding, tuple) and
          all(k % s == 0 for k, s in zip(layer.kernel_size, layer.stride)))


def apply_without_autocast(function, x, weight, bias, *args):
  """Runs an autograd function in the dtype autocast would give the native layer."""
  if torch.is_autocast_enabled("cpu"):
    dtype = torch.get_autocast_dtype("cpu")
    x, weight, bias = x.to(dtype), weight.to(dtype), bias.to(dtype)
  with torch.autocast("cpu", enabled=False):
    return function.apply(x, weight, bias, *args)


def _im2col(x, kernel, stride, padding):
  """[N, H, W, C] -> [N*Ho*Wo, kh*kw*C] patch rows."""
  (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
  if ph or pw:
    x = F.pad(x, (0, 0, pw, pw, ph, ph))
  # unfold gives [N, Ho, Wo, C, kh, kw]; move the channels last in each patch.
  patches = x.unfold(1, kh, sh).unfold(2, kw, sw).permute(0, 1, 2, 4, 5, 3)
  return patches.reshape(-1, kh * kw * x.shape[3])


def _col2im(columns, batch, size, kernel, stride, padding):
  """Sums [N*Ho*Wo, kh*kw*C] patch rows back into a [N, H, W, C] image."""
  (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
  height, width = size[0] + 2 * ph, size[1] + 2 * pw
  ho, wo = (height - kh) // sh + 1, (width - kw) // sw + 1
  channels = columns.shape[1] // (kh * kw)
  patches = columns.view(batch, ho, wo, kh // sh, sh, kw // sw, sw, channels)
  if (kh, kw) == (sh, sw) and (ho * sh, wo * sw) == (height, width):
    # Patches tile the image: col2im is a permutation.
    return patches.permute(0, 1, 3, 4, 2, 5, 6, 7).reshape(batch, height, width, channels)
  image = columns.new_zeros(batch, height, width, channels)
  # Taps (a*sh + i, b*sw + j) for i < sh, j < sw land on disjoint pixels:
  # one strided add per (a, b) block instead of one per tap.
  for a in range(kh // sh):
    for b in range(kw // sw):
      block = image[:, a * sh:a * sh + ho * sh, b * sw:b * sw + wo * sw]
      block.view(batch, ho, sh, wo, sw, channels).add_(
          patches[:, :, :, a, :, b].permute(0, 1, 3, 2, 4, 5))
  return image[:, ph:ph + size[0], pw:pw + size[1]]


def _nhwc(x):
  """The NHWC view of an NCHW tensor (free when it is channels-last)."""
  return x.permute(0, 2, 3, 1)


def _nchw(x):
  return x.permute(0, 3, 1, 2)


class Conv2dFunction(torch.autograd.Function):
  """F.conv2d (with bias; no dilation, one group): every pass a matrix product."""

  @staticmethod
  def forward(ctx, x, weight, bias, stride, padding):  # pylint: disable=arguments-differ
    n, _, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    columns = _im2col(_nhwc(x), (kh, kw), stride, padding)
    ctx.save_for_backward(columns, weight)
    ctx.geometry = (n, (height, width), stride, padding)
    ho, wo = [(m + 2 * p - k) // s + 1
              for m, k, s, p in zip((height, width), (kh, kw), stride, padding)]
    # A channels-last tensor of its own, not a view: the in-place ReLU after
    # the layer may not modify a view made inside a custom Function.
    y = torch.empty(n, out_channels, ho, wo, dtype=x.dtype, memory_format=torch.channels_last)
    torch.addmm(bias, columns, weight.permute(2, 3, 1, 0).reshape(-1, out_channels),
                out=_nhwc(y).view(-1, out_channels))
    return y

  @staticmethod
  def backward(ctx, grad):  # pylint: disable=arguments-differ
    columns, weight = ctx.saved_tensors
    n, size, stride, padding = ctx.geometry
    out_channels, in_channels, kh, kw = weight.shape
    grad = _nhwc(grad).reshape(-1, out_channels)
    grad_x = grad_weight = grad_bias = None
    if ctx.needs_input_grad[0]:
      grad_columns = grad @ weight.permute(0, 2, 3, 1).reshape(out_channels, -1)
      grad_x = _nchw(_col2im(grad_columns, n, size, (kh, kw), stride, padding))
    if ctx.needs_input_grad[1]:
      grad_weight = (columns.t() @ grad).view(kh, kw, in_channels, out_channels).permute(
          3, 2, 0, 1)
    if ctx.needs_input_grad[2]:
      grad_bias = grad.sum(0)
    return grad_x, grad_weight, grad_bias, None, None


def _phases(size, stride, padding):
  """Where the pixels of each phase of an image lie in its padded image split by phase.

  Yields (u, v), image rows, phase rows, image columns, phase columns: the
  image pixels (s*i + u - p, ...) are the padded pixels (s*i + u, ...), row i
  of phase (u, v).
  """
  for u in range(stride[0]):
    for v in range(stride[1]):
      spans = []
      for n, s, p, phase in zip(size, stride, padding, (u, v)):
        first = (phase - p) % s
        count = len(range(first, n, s))
        spans += [slice(first, first + s * count, s),
                  slice((first + p) // s, (first + p) // s + count)]
      yield (u, v), spans


def _fold(planes, size, stride, padding, bias):
  """col2im of planes [C, kh, kw, N, h, w] into a channels-last [N, C, size] image, plus bias.

  The padded image is built split by phase, so that each tap's plane is
  added to a block of whole rows of one phase.
  """
  channels, kh, kw, batch, *count = planes.shape
  # Each phase of the padded output has count - 1 + k / s rows and columns.
  phased = planes.new_zeros(channels, *stride, batch, count[0] - 1 + kh // stride[0],
                            count[1] - 1 + kw // stride[1])
  for i in range(kh):
    for j in range(kw):
      # Tap (a*sh + u, b*sw + v) lands on phase (u, v), shifted by (a, b).
      (a, u), (b, v) = divmod(i, stride[0]), divmod(j, stride[1])
      phased[:, u, v, :, a:a + count[0], b:b + count[1]] += planes[:, i, j]
  image = torch.empty(batch, channels, *size, dtype=planes.dtype,
                      memory_format=torch.channels_last)
  # The transposed convolution's output is the padded image less its border:
  # the phases cover every pixel.
  for (u, v), (rows, phase_rows, columns, phase_columns) in _phases(size, stride, padding):
    torch.add(phased[:, u, v, :, phase_rows, phase_columns].transpose(0, 1),
              bias.view(1, -1, 1, 1), out=image[:, :, rows, columns])
  return image


class ConvTranspose2dFunction(torch.autograd.Function):
  """F.conv_transpose2d (with bias; no dilation or output padding, one group).

  The forward pass is native, or with `planar` (a few output channels) a
  GEMM on planes of taps: the products of every input pixel with every tap
  as [C_out*kh*kw, N*H*W] planes, folded into the output (`_fold`), where
  oneDNN's forward is slow. The backward pass is oneDNN's for the input and
  weight gradients; the bias gradient is a plain sum, since oneDNN's
  transposed-convolution backward takes up to twice as long when it also
  computes the bias gradient (bf16: 5.7 ms instead of 2.4 for the decoder's
  32-channel layer on a 2-core AVX-512 machine). The input gradient is made
  channels-last like the input: oneDNN returns it in NCHW with one output
  channel, and the in-place ReLU's backward before the layer runs several
  times slower on mismatched layouts.
  """

  @staticmethod
  def forward(ctx, x, weight, bias, stride, padding, planar):  # pylint: disable=arguments-differ
    ctx.save_for_backward(x, weight)
    ctx.conv = (stride, padding)
    if not planar:
      return F.conv_transpose2d(x, weight, bias, stride, padding)
    batch, in_channels, height, width = x.shape
    out_channels, kernel = weight.shape[1], weight.shape[2:]
    taps = weight.reshape(in_channels, -1).t()  # [C_out*kh*kw, C_in], rows (c, i, j)
    planes = taps @ _nhwc(x).reshape(-1, in_channels).t()
    size = [(n - 1) * s - 2 * p + k for n, s, p, k in zip((height, width), stride, padding,
                                                           kernel)]
    return _fold(planes.view(out_channels, *kernel, batch, height, width), size, stride,
                 padding, bias)

  @staticmethod
  def backward(ctx, grad):  # pylint: disable=arguments-differ
    x, weight = ctx.saved_tensors
    stride, padding = ctx.conv
    needs = ctx.needs_input_grad
    grad_x, grad_weight, _ = torch.ops.aten.convolution_backward(
        grad, x, weight, None, stride, padding, [1, 1], True, [0, 0], 1,
        [needs[0], needs[1], False])
    if grad_x is not None:
      grad_x = grad_x.contiguous(memory_format=torch.channels_last)
    grad_bias = grad.sum((0, 2, 3)) if needs[2] else None
    return grad_x, grad_weight, grad_bias, None, None, None
