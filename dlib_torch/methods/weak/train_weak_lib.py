"""Weakly-supervised data: pairs of observations that differ in a few factors.

As in Locatello et al. 2020 ("Weakly-Supervised Disentanglement Without
Compromises"), each training element is an observation and a second one whose
factors were changed by `simple_dynamics`, stacked along the height axis
([2H, W, C]), with the index of the last changed factor as label. Training
itself is the generic loop (`dlib_torch.methods.unsupervised.train`): the weak
models read this stream through their protocol hook (`training_inputs`).

Deviation from the original: the new factor values are drawn from the
stream's seeded random state, where the original drew them from the global,
unseeded numpy generator (so its stream could not be reproduced or resumed).
"""
import os

import gin
import numpy as np

from dlib_torch import gin_registry
from dlib_torch.data import training_stream
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.unsupervised import train as unsupervised_train


@gin.configurable("dynamics", denylist=["z", "ground_truth_data", "random_state",
                                         "return_index"])
def simple_dynamics(z, ground_truth_data, random_state, return_index=False, k=gin.REQUIRED):
  """Changes 1 or k factors of z [1, num_factors] in place to random values.

  Args:
    z: factors [1, num_factors], modified in place.
    ground_truth_data: the data set (number of factors and their sizes).
    random_state: np.random.RandomState.
    return_index: whether to return the last changed factor instead of k.
    k: number of factors changed with probability 1/2 (1 otherwise); -1 draws
      it uniformly in [1, num_factors) for every pair.

  Returns:
    (z, index of the last changed factor) if return_index else (z, k_observed).
  """
  if k == -1:
    k_observed = random_state.randint(1, ground_truth_data.num_factors)
  else:
    k_observed = k
  index_list = random_state.choice(z.shape[1], random_state.choice([1, k_observed]),
                                   replace=False)
  idx = -1
  for index in index_list:
    z[:, index] = random_state.randint(ground_truth_data.factors_num_values[index])
    idx = index
  if return_index:
    return z, idx
  return z, k_observed


class WeakStream(training_stream.ObservationStream):
  """Batches of (pairs [B, 2H, W, C] float32, labels [B, 1] int64), original draw order."""

  def next_batch(self, batch_size):
    rs, data = self.random_state, self.data
    if data.observations_draw_random:
      firsts, seconds, labels = [], [], []
      for _ in range(batch_size):
        factors = data.sample_factors(1, rs)
        firsts.append(data.sample_observations_from_factors(factors, rs)[0])
        factors, index = simple_dynamics(factors, data, rs, return_index=True)
        seconds.append(data.sample_observations_from_factors(factors, rs)[0])
        labels.append(index)
      firsts, seconds = np.stack(firsts), np.stack(seconds)
    else:
      # Rendering draws nothing: draw all factors in order, render in two calls.
      before, after, labels = [], [], []
      for _ in range(batch_size):
        factors = data.sample_factors(1, rs)
        before.append(factors.copy())
        factors, index = simple_dynamics(factors, data, rs, return_index=True)
        after.append(factors)
        labels.append(index)
      firsts = data.sample_observations_from_factors(np.concatenate(before), rs)
      seconds = data.sample_observations_from_factors(np.concatenate(after), rs)
    pairs = np.concatenate([firsts, seconds], axis=1).astype(np.float32, copy=False)
    return pairs, np.asarray(labels, dtype=np.int64).reshape(batch_size, 1)


def weak_dataset_from_ground_truth_data(ground_truth_data, random_seed):
  """The original's name for the weakly-supervised stream."""
  return WeakStream(ground_truth_data, random_seed)


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None,
                   runtime=None):
  """Trains a weakly-supervised model, then draws its pairs as the original does.

  Training is the generic loop (the model reads its pair stream); afterwards
  MODEL_DIR/visualizations/weak/animation.gif shows how the dynamics move
  through the data set.
  """
  gin_registry.run_with_config("train", gin_config_files, gin_bindings, _train_and_visualize,
                               model_dir, overwrite, runtime)


def _train_and_visualize(model_dir, overwrite, runtime):
  unsupervised_train.train(model_dir, overwrite, runtime=runtime)
  visualize_weakly_supervised_dataset(
      named_data.get_named_ground_truth_data(),
      os.path.join(model_dir, "visualizations", "weak"), num_frames=1)


def visualize_weakly_supervised_dataset(data, path, num_animations=10, num_frames=20, fps=10):
  """Saves path/animation.gif: num_animations sequences of 1 + num_frames dynamics steps."""
  # Imported here: visualisation is optional for training.
  from dlib_torch.visualize import visualize_util  # pylint: disable=g-import-not-at-top
  random_state = np.random.RandomState(0)
  os.makedirs(path, exist_ok=True)
  images = []
  for _ in range(num_animations):
    factors = data.sample_factors(1, random_state)
    frames = [data.sample_observations_from_factors(factors, random_state)[0]]
    for _ in range(num_frames):
      factors, _ = simple_dynamics(factors, data, random_state)
      frames.append(data.sample_observations_from_factors(factors, random_state)[0])
    images.append(frames)
  visualize_util.save_animation(np.array(images), os.path.join(path, "animation.gif"), fps)
