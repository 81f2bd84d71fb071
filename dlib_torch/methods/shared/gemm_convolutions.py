"""Strided convolutions and transposed convolutions as explicit matrix products.

On CPU, some of oneDNN's convolution passes are slow at the small channel
counts of the disentanglement_lib networks (1 to 64 channels, 4x4 or 2x2
kernels, stride 2): the forward pass of a transposed convolution with one
output channel, and in bf16 the weight gradients of transposed convolutions
and every pass of the convolutions whose kernel equals their stride. Written
as im2col / col2im around one GEMM per pass, in NHWC (the channels-last
memory of the networks' NCHW tensors), these run at the matrix-multiply rate:

  convolution:            Y = im2col(X) W            dW = im2col(X)^T dY
                          dX = col2im(dY W^T)
  transposed convolution: Y = col2im(X W)            dW = im2col(dY)^T X
                          dX = im2col(dY) W^T

Patch rows are ordered (kernel row, kernel column, channel), so that a row is
a few contiguous runs of channels. Only kernels that are a multiple of the
stride are handled (col2im is then a few non-overlapping strided adds). The
layers in `architectures` pick, per layer and precision, the passes measured
faster here than oneDNN on a 2-core AVX-512 machine
(benchmarks/train_step.py --layers); the others stay native. In float32
that is only the one-output-channel forward pass: there oneDNN's
convolutions (150 to 250 GFLOP/s per core) outrun the float32 GEMM that
torch.mm calls (MKL, about 100), so the GEMM forms lose.
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


def _scratch(store, name, shape, dtype):
  """A zero-initialised buffer kept in `store`, new only when the shape or dtype changes."""
  buffer = store.get(name)
  if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
    buffer = store[name] = torch.zeros(shape, dtype=dtype)
  return buffer


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


class ConvTranspose2dFunction(torch.autograd.Function):
  """F.conv_transpose2d (with bias; no dilation or output padding, one group).

  Each direction is either native or matrix products: `columns_forward`
  computes the forward pass as a GEMM and col2im (F.fold); with a `scratch`
  dict (else None: native backward) both gradients come from im2col of the
  output gradient, in buffers kept in `scratch` between calls (fresh
  multi-megabyte buffers at every step cost the allocator's page faults more
  than the GEMMs save).
  """

  @staticmethod
  def forward(ctx, x, weight, bias, stride, padding, columns_forward, scratch):  # pylint: disable=arguments-differ
    ctx.save_for_backward(x, weight)
    ctx.conv = (stride, padding, scratch)
    if not columns_forward:
      return F.conv_transpose2d(x, weight, bias, stride, padding)
    n, in_channels, height, width = x.shape
    kernel = weight.shape[2:]
    # [N*H*W, C_in] (free for channels-last input) x [C_in, C_out*kh*kw].
    columns = _nhwc(x).reshape(-1, in_channels) @ weight.reshape(in_channels, -1)
    columns = columns.view(n, height * width, -1).transpose(1, 2)
    output_size = [(size - 1) * s - 2 * p + k
                   for size, s, p, k in zip((height, width), stride, padding, kernel)]
    return F.fold(columns, output_size, kernel, stride=stride, padding=padding) + bias.view(
        1, -1, 1, 1)

  @staticmethod
  def backward(ctx, grad):  # pylint: disable=arguments-differ
    x, weight = ctx.saved_tensors
    stride, padding, scratch = ctx.conv
    in_channels, out_channels, kh, kw = weight.shape
    needs = list(ctx.needs_input_grad[:3])
    if scratch is None:
      grads = torch.ops.aten.convolution_backward(
          grad, x, weight, [out_channels], stride, padding, [1, 1], True, [0, 0], 1, needs)
      return (*grads, None, None, None, None)
    (sh, sw), (ph, pw) = stride, padding
    grad = _nhwc(grad)
    grad_bias = grad.sum((0, 1, 2)) if needs[2] else None
    n, height, width, _ = _nhwc(x).shape
    rows = _nhwc(x).reshape(-1, in_channels)
    padded = grad
    if ph or pw:
      # The border stays zero: only the inside is ever written.
      padded = _scratch(scratch, "padded", (n, height * sh + kh - sh, width * sw + kw - sw,
                                            out_channels), grad.dtype)
      padded[:, ph:ph + grad.shape[1], pw:pw + grad.shape[2]] = grad
    columns = _scratch(scratch, "columns", (n, height, width, sh, sw, out_channels), grad.dtype)
    grad_x = grad_weight = None
    if needs[1]:
      grad_weight = torch.empty_like(weight)
    # im2col of the output gradient (the patch each input pixel contributed
    # to), one block of stride-sized taps at a time, each used by both GEMMs
    # at once: a quarter of the memory for 4x4 kernels with stride 2.
    for a in range(kh // sh):
      for b in range(kw // sw):
        block = padded[:, a * sh:a * sh + height * sh, b * sw:b * sw + width * sw]
        columns.copy_(block.unflatten(1, (height, sh)).unflatten(3, (width, sw)).permute(
            0, 1, 3, 2, 4, 5))
        matrix_rows = columns.view(-1, sh * sw * out_channels)
        taps = (slice(a * sh, (a + 1) * sh), slice(b * sw, (b + 1) * sw))
        if needs[0]:
          matrix = weight[:, :, taps[0], taps[1]].permute(2, 3, 1, 0).reshape(-1, in_channels)
          grad_x = matrix_rows @ matrix if grad_x is None else grad_x.addmm_(matrix_rows, matrix)
        if needs[1]:
          grad_weight[:, :, taps[0], taps[1]] = (matrix_rows.t() @ rows).view(
              sh, sw, out_channels, in_channels).permute(3, 2, 0, 1)
    if grad_x is not None:
      grad_x = _nchw(grad_x.view(n, height, width, in_channels))
    return grad_x, grad_weight, grad_bias, None, None, None, None
