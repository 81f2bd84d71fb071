"""Strided convolutions and transposed convolutions as explicit matrix products.

On CPU, some of oneDNN's convolution passes are slow at the small channel
counts of the disentanglement_lib networks (1 to 64 channels, 4x4 or 2x2
kernels, stride 2): both passes of a transposed convolution with one output
channel, and in bf16 the weight gradients of transposed convolutions and
every pass of the convolutions whose kernel equals their stride. Written
as im2col / col2im around one GEMM per pass, in NHWC (the channels-last
memory of the networks' NCHW tensors), these run at the matrix-multiply rate:

  convolution:            Y = im2col(X) W            dW = im2col(X)^T dY
                          dX = col2im(dY W^T)
  transposed convolution: Y = col2im(X W)            dW = im2col(dY)^T X
                          dX = im2col(dY) W^T

Patch rows are ordered (kernel row, kernel column, channel), so that a row is
a few contiguous runs of channels. With one output channel, a transposed
convolution's patch rows would be a few values each; there the columns are
kept as planes instead, one per tap (`PlanarConvTranspose2dFunction`). Only
kernels that are a multiple of the stride are handled (col2im is then a few
non-overlapping strided adds). The layers in `architectures` pick, per layer
and precision, the passes measured faster here than oneDNN on a 2-core
AVX-512 machine (benchmarks/train_step.py --layers, and the whole step); the
others stay native. In float32 that is only the one-output-channel forward
pass: there oneDNN's convolutions (150 to 250 GFLOP/s per core) outrun the
float32 GEMM that torch.mm calls (MKL, about 100), so the GEMM forms lose.
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

  The forward pass is native; both gradients come from im2col of the output
  gradient, in buffers kept in `scratch` between calls (fresh multi-megabyte
  buffers at every step cost the allocator's page faults more than the
  GEMMs save).
  """

  @staticmethod
  def forward(ctx, x, weight, bias, stride, padding, scratch):  # pylint: disable=arguments-differ
    ctx.save_for_backward(x, weight)
    ctx.conv = (stride, padding, scratch)
    return F.conv_transpose2d(x, weight, bias, stride, padding)

  @staticmethod
  def backward(ctx, grad):  # pylint: disable=arguments-differ
    x, weight = ctx.saved_tensors
    stride, padding, scratch = ctx.conv
    in_channels, out_channels, kh, kw = weight.shape
    needs = list(ctx.needs_input_grad[:3])
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
    return grad_x, grad_weight, grad_bias, None, None, None


def _phase_size(size, kernel, stride):
  """Rows and columns of each phase of the padded output: n - 1 + k / s."""
  return [n - 1 + k // s for n, k, s in zip(size, kernel, stride)]


def _tap_planes(planes, stride):
  """((a, u), (b, v), plane) for the tap (a*sh + u, b*sw + v) of [C, kh, kw, ...] planes."""
  for i in range(planes.shape[1]):
    for j in range(planes.shape[2]):
      yield divmod(i, stride[0]), divmod(j, stride[1]), planes[:, i, j]


def _phases(size, stride, padding, phase_size):
  """Where the pixels of each phase lie in an image and in its padded image split by phase.

  Yields (u, v), image rows, phase rows, image columns, phase columns: the
  image pixels (s*i + u - p, ...) are the padded pixels (s*i + u, ...), row i
  of phase (u, v); pixels past `phase_size` rows or columns are left out.
  """
  for u in range(stride[0]):
    for v in range(stride[1]):
      spans = []
      for n, s, p, limit, phase in zip(size, stride, padding, phase_size, (u, v)):
        first = (phase - p) % s
        start = (first + p) // s
        count = min(len(range(first, n, s)), limit - start)
        spans += [slice(first, first + s * count, s), slice(start, start + count)]
      yield (u, v), spans


def _windows(image, kernel, stride, padding, count):
  """im2col as planes: [C, N, H, W] -> [C*kh*kw, N*count_h*count_w], rows (c, i, j).

  Row (c, i, j) holds, for each output position, the padded pixel that tap
  (i, j) meets. The padded image is first split by phase, so that each
  tap's plane is a block of whole rows of one phase.
  """
  channels, batch = image.shape[:2]
  phase_size = _phase_size(count, kernel, stride)
  phased = image.new_zeros(channels, *stride, batch, *phase_size)
  for (u, v), (rows, phase_rows, columns, phase_columns) in _phases(image.shape[2:], stride,
                                                                    padding, phase_size):
    phased[:, u, v, :, phase_rows, phase_columns] = image[:, :, rows, columns]
  windows = image.new_empty(channels, *kernel, batch, *count)
  for (a, u), (b, v), window in _tap_planes(windows, stride):
    window.copy_(phased[:, u, v, :, a:a + count[0], b:b + count[1]])
  return windows.view(channels * kernel[0] * kernel[1], -1)


def _fold(planes, size, stride, padding, bias):
  """col2im of planes [C, kh, kw, N, h, w] into a channels-last [N, C, size] image, plus bias.

  The padded image is built split by phase, so that each tap's plane is
  added to a block of whole rows of one phase.
  """
  channels, kh, kw, batch, *count = planes.shape
  phase_size = _phase_size(count, (kh, kw), stride)
  phased = planes.new_zeros(channels, *stride, batch, *phase_size)
  for (a, u), (b, v), plane in _tap_planes(planes, stride):
    phased[:, u, v, :, a:a + count[0], b:b + count[1]] += plane
  image = torch.empty(batch, channels, *size, dtype=planes.dtype,
                      memory_format=torch.channels_last)
  if any(m * s < n + p for m, s, n, p in zip(phase_size, stride, size, padding)):
    image.zero_()  # Pixels no tap reaches (the output size was rounded down).
  for (u, v), (rows, phase_rows, columns, phase_columns) in _phases(size, stride, padding,
                                                                    phase_size):
    torch.add(phased[:, u, v, :, phase_rows, phase_columns].transpose(0, 1),
              bias.view(1, -1, 1, 1), out=image[:, :, rows, columns])
  return image


class PlanarConvTranspose2dFunction(torch.autograd.Function):
  """F.conv_transpose2d for a few output channels, as GEMMs on planes of taps.

  With C_out * kh * kw small (the decoder's last layer on grey-scale images:
  16), the products of every input pixel with every tap are computed as
  [C_out*kh*kw, N*H*W] planes and folded into the output (`_fold`); the
  backward pass takes the windows of the output gradient (`_windows`) and
  needs two GEMMs. oneDNN's forward pass is slow for one output channel in
  both precisions; its backward is kept where it is faster (`gemm_backward`
  False: float32).
  """

  @staticmethod
  def forward(ctx, x, weight, bias, stride, padding, gemm_backward):  # pylint: disable=arguments-differ
    ctx.save_for_backward(x, weight)
    ctx.conv = (stride, padding, gemm_backward)
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
    stride, padding, gemm_backward = ctx.conv
    if not gemm_backward:
      grad_x, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
          grad, x, weight, [weight.shape[1]], stride, padding, [1, 1], True, [0, 0], 1,
          list(ctx.needs_input_grad[:3]))
      # oneDNN returns this input gradient in NCHW; the in-place ReLU's
      # backward before the layer runs several times slower on mismatched
      # layouts.
      return (grad_x.contiguous(memory_format=torch.channels_last) if grad_x is not None
              else None, grad_weight, grad_bias, None, None, None)
    batch, in_channels, height, width = x.shape
    windows = _windows(grad.transpose(0, 1), weight.shape[2:], stride, padding, (height, width))
    grad_x = grad_weight = grad_bias = None
    if ctx.needs_input_grad[0]:
      grad_x = torch.empty(batch, in_channels, height, width, dtype=x.dtype,
                           memory_format=torch.channels_last)
      torch.mm(windows.t(), weight.reshape(in_channels, -1).t(),
               out=_nhwc(grad_x).view(-1, in_channels))
    if ctx.needs_input_grad[1]:
      grad_weight = (windows @ _nhwc(x).reshape(-1, in_channels)).t().reshape(weight.shape)
    if ctx.needs_input_grad[2]:
      grad_bias = _nhwc(grad).sum((0, 1, 2))
    return grad_x, grad_weight, grad_bias, None, None, None
