"""Pictures of a trained model: reconstructions, samples, latent traversals.

`visualize(model_dir, output_dir)` writes, as disentanglement_lib does:
  reconstructions/reconstructions.jpg     64 (real | reconstruction) pairs
  sampled/samples.jpg                     64 decodings of N(0, I) codes
  traversals/traversals<i>.jpg            one column per latent, 11 values in [-1, 1]
  animated_traversals/<kind>_cycle<i>.gif one panel per latent, 5 kinds of cycle
  interventional_effects/interventional_effect.png   (needs matplotlib)
plus model_card/ (training curves, the KL of each latent), index.html, the
model card (visualize.model_card: every picture, the configuration, the
curves, the KL, and the metrics found beside the folder), and results/ (the
model's results and a "visualize" step) so that every pipeline folder can be
aggregated alike. The folder is built under a temporary name and renamed, so it is
either complete or absent.
"""
import numbers
import os
import time

from absl import logging
import gin
import numpy as np
from scipy import special

from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import atomic_io
from dlib_torch.utils import devices
from dlib_torch.utils import errors
from dlib_torch.utils import results
from dlib_torch.utils import torchscript_io
from dlib_torch.visualize import model_card
from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_irs
from dlib_torch.visualize import visualize_util

_NUM_PICS = 64
# Reconstructions decode a sampled code. The original drew that noise from
# TensorFlow's seed; we draw it from its own seeded stream so that the shared
# random state keeps the original's order of draws.
_RECONSTRUCTION_NOISE_SEED = 0


def visualize(model_dir,
              output_dir,
              overwrite=False,
              num_animations=5,
              num_frames=20,
              fps=10,
              num_points_irs=10000,
              device="auto"):
  """Visualizes the trained model in model_dir into output_dir.

  Args:
    model_dir: folder of a trained model (torchscript/ and results/gin/train.gin).
    output_dir: folder to create.
    overwrite: whether to replace an existing output_dir.
    num_animations: number of base codes animated per kind of cycle.
    num_frames: frames per animation.
    fps: frame rate of the animations.
    num_points_irs: number of samples behind the interventional-effects plot.
    device: where the encoder and decoder run ("auto": CUDA if present);
      recorded in the results.
  """
  start = time.time()
  random_state = np.random.RandomState(0)
  if os.path.isdir(output_dir) and not overwrite:
    raise errors.UserError(
        "Directory already exists and overwrite is False: {}".format(output_dir))
  if os.path.exists(output_dir) and not os.path.isdir(output_dir):
    raise errors.UserError("{} exists and is not a directory.".format(output_dir))

  train_gin = os.path.join(model_dir, "results", "gin", "train.gin")
  if not os.path.isfile(train_gin):
    raise errors.UserError("Missing {}: {} is not a trained model folder.".format(
        train_gin, model_dir))
  config = results.gin_dict(train_gin)
  activation = _activation(config, train_gin)
  num_latent = int(_required(config, "encoder.num_latent", train_gin))
  device = devices.resolve_device(device)
  encoder = torchscript_io.load_gaussian_encoder(model_dir, device)
  decoder = torchscript_io.load_decoder(model_dir, device)

  try:
    # Bound through gin as the original does, so the "visualize" step's
    # operative config records the data set.
    with gin.unlock_config():
      gin.bind_parameter("dataset.name",
                         _required(config, "dataset.name", train_gin).replace("'", ""))
    dataset = named_data.get_named_ground_truth_data()
    with atomic_io.staged_directory(output_dir) as staging:
      _save_reconstructions(dataset, encoder, decoder, activation, random_state, staging)
      _save_samples(decoder, activation, num_latent, random_state, staging)
      means, logvars = encoder(dataset.sample_observations(_NUM_PICS, random_state))
      _save_traversals(decoder, activation, means, staging)
      _save_animations(decoder, activation, means, logvars, num_animations, num_frames, fps,
                       os.path.join(staging, "animated_traversals"))
      _save_interventional_effects(dataset, encoder, num_points_irs, random_state,
                                   os.path.join(staging, "interventional_effects"))
      model_card.prepare(model_dir, encoder, dataset, staging)
      results.update_result_directory(
          os.path.join(staging, "results"), "visualize",
          dict(devices.describe(device), elapsed_time=time.time() - start),
          old_result_dir=os.path.join(model_dir, "results"))
      # The metrics of the card are looked for beside the final folder.
      model_card.write(staging, os.path.dirname(os.path.abspath(output_dir)))
    logging.info("Visualizations of %s written to %s.", model_dir, output_dir)
  finally:
    gin.clear_config()


def _save_reconstructions(dataset, encoder, decoder, activation, random_state, output_dir):
  real = dataset.sample_observations(_NUM_PICS, random_state)
  means, logvars = encoder(real)
  noise = np.random.RandomState(_RECONSTRUCTION_NOISE_SEED).normal(size=means.shape)
  codes = means + np.exp(logvars / 2) * noise
  recon = activation(decoder(codes))
  pairs = np.concatenate((real, recon), axis=2)  # side by side
  visualize_util.grid_save_images(
      list(pairs), os.path.join(_makedirs(output_dir, "reconstructions"),
                                "reconstructions.jpg"))


def _save_samples(decoder, activation, num_latent, random_state, output_dir):
  codes = random_state.normal(0, 1, [_NUM_PICS, num_latent])
  pics = activation(decoder(codes))
  visualize_util.grid_save_images(
      pics, os.path.join(_makedirs(output_dir, "sampled"), "samples.jpg"))


def _save_traversals(decoder, activation, means, output_dir):
  directory = _makedirs(output_dir, "traversals")
  # As the original, traversals<i> starts from the code of sample i for i
  # below the number of latents; it has no sample i beyond the 64 encoded.
  for i in range(min(means.shape[1], means.shape[0])):
    pics = activation(latent_traversal_1d_multi_dim(decoder, means[i, :]))
    visualize_util.grid_save_images(
        [pics], os.path.join(directory, "traversals{}.jpg".format(i)))


def _save_animations(decoder, activation, means, logvars, num_animations, num_frames, fps,
                     output_dir):
  """Writes one GIF per base code and kind of cycle; a panel per latent."""
  os.makedirs(output_dir, exist_ok=True)
  loc = np.mean(means, axis=0)
  scale = np.sqrt(np.mean(np.exp(logvars), axis=0) + np.var(means, axis=0))
  low, high = np.min(means, axis=0), np.max(means, axis=0)
  cycles = (
      ("std_gaussian", lambda v, j: visualize_util.cycle_gaussian(v, num_frames)),
      ("fitted_gaussian", lambda v, j: visualize_util.cycle_gaussian(
          v, num_frames, loc=loc[j], scale=scale[j])),
      ("fixed_interval", lambda v, j: _cycle_interval(v, num_frames, -2., 2.)),
      ("conf_interval", lambda v, j: _cycle_interval(
          v, num_frames, loc[j] - 2. * scale[j], loc[j] + 2. * scale[j])),
      ("minmax_interval", lambda v, j: _cycle_interval(v, num_frames, low[j], high[j])),
  )
  for kind, cycle in cycles:
    for i, base_code in enumerate(means[:num_animations]):
      panels = []
      for j in range(base_code.shape[0]):
        codes = np.repeat(base_code[np.newaxis], num_frames, axis=0)
        codes[:, j] = cycle(base_code[j], j)
        panels.append(activation(decoder(codes)))
      visualize_util.save_animation(
          np.array(panels), os.path.join(output_dir, "{}_cycle{}.gif".format(kind, i)), fps)


def _cycle_interval(value, num_frames, low, high):
  # A latent whose codes never vary has an empty interval; the original then
  # divided by zero and decoded NaN codes. Hold it at its value instead.
  if high == low:
    return np.full(num_frames, value)
  return visualize_util.cycle_interval(value, num_frames, low, high)


def _save_interventional_effects(dataset, encoder, num_points, random_state, output_dir):
  if not plotting.available_or_log("the interventional-effects plot"):
    return
  factors = dataset.sample_factors(num_points, random_state)
  observations = dataset.sample_observations_from_factors(factors, random_state)
  latents, _ = encoder(observations)
  visualize_irs.vis_all_interventional_effects(factors, latents, output_dir)


def latent_traversal_1d_multi_dim(generator_fn,
                                  latent_vector,
                                  dimensions=None,
                                  values=None,
                                  transpose=False):
  """An image of generator_fn's outputs as latent dimensions are varied one at a time.

  Args:
    generator_fn: maps a (n, num_latent) array to n images (n, H, W, C).
    latent_vector: 1-D base code.
    dimensions: 1-D array of the dimensions to vary; an int k means 0..k-1;
      None means all.
    values: 1-D array of values each varied dimension takes in turn; an int n
      means linspace(-1, 1, n); None means linspace(-1, 1, 11).
    transpose: one row per dimension instead of one column.

  Returns:
    One image: for each dimension a strip of its images (a column stacked top
    to bottom; a row if transpose), strips placed left to right (top to
    bottom if transpose).
  """
  if latent_vector.ndim != 1:
    raise ValueError("Latent vector needs to be 1-dimensional.")
  if dimensions is None:
    dimensions = np.arange(latent_vector.shape[0])
  elif isinstance(dimensions, numbers.Integral):
    if dimensions > latent_vector.shape[0]:
      raise ValueError("The number of dimensions of latent_vector is less than"
                       " the number of dimensions requested in the arguments.")
    if dimensions < 1:
      raise ValueError("The number of dimensions has to be at least 1.")
    dimensions = np.arange(dimensions)
  if dimensions.ndim != 1:
    raise ValueError("Dimensions vector needs to be 1-dimensional.")
  if values is None:
    values = np.linspace(-1., 1., num=11)
  elif isinstance(values, numbers.Integral):
    if values <= 1:
      raise ValueError("If an int is passed for values, it has to be >1.")
    values = np.linspace(-1., 1., num=values)
  if values.ndim != 1:
    raise ValueError("Values vector needs to be 1-dimensional.")

  strip_axis, stack_axis = (1, 0) if transpose else (0, 1)
  strips = []
  for dimension in dimensions:
    codes = np.tile(latent_vector, [len(values), 1])
    codes[:, dimension] = values
    strips.append(np.concatenate(list(generator_fn(codes)), axis=strip_axis))
  return np.concatenate(strips, axis=stack_axis)


def sigmoid(x):
  return special.expit(x)


def tanh(x):
  return np.tanh(x) / 2. + .5


def _activation(config, train_gin):
  """The decoder's output activation, as training recorded it."""
  name = _required(config, "reconstruction_loss.activation", train_gin)
  if name == "'logits'":
    return sigmoid
  if name == "'tanh'":
    return tanh
  raise errors.UserError(
      "Activation function {} in {} could not be inferred; expected 'logits' or 'tanh'.".format(
          name, train_gin))


def _required(config, key, path):
  if key not in config:
    raise errors.UserError("{} has no binding for {}.".format(path, key))
  return config[key]


def _makedirs(parent, name):
  path = os.path.join(parent, name)
  os.makedirs(path, exist_ok=True)
  return path
