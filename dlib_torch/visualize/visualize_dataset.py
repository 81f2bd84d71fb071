"""Pictures of a data set: each factor varied alone, and animations of every factor.

`visualize_dataset(name, output_path)` writes into `<output_path>/<name>/`,
as disentanglement_lib does:
  variations_of_factor<i>.png   4x4 grid: 16 draws of factor i, the others fixed
  animation<k>.gif              one panel per factor, each cycling through its
                                values while the others keep a random base
Random draws come from RandomState(0) in the original's order.
"""
import os

import numpy as np

from dlib_torch.data.ground_truth import named_data
from dlib_torch.visualize import visualize_util


def visualize_dataset(dataset_name, output_path, num_animations=5, num_frames=20, fps=10):
  """Saves the still grids and animations of a named data set.

  Args:
    dataset_name: name of the data set (see named_data).
    output_path: folder in which the data set's folder is created.
    num_animations: number of animations (random base factors).
    num_frames: frames per animation.
    fps: frame rate of the animations.
  """
  data = named_data.get_named_ground_truth_data(dataset_name)
  random_state = np.random.RandomState(0)
  path = os.path.join(output_path, dataset_name)
  os.makedirs(path, exist_ok=True)

  for i in range(data.num_factors):
    factors = data.sample_factors(16, random_state)
    others = [j for j in range(data.num_factors) if j != i]
    factors[:, others] = factors[0, others]
    images = data.sample_observations_from_factors(factors, random_state)
    visualize_util.grid_save_images(images, os.path.join(path, "variations_of_factor%s.png" % i))

  for i in range(num_animations):
    base_factor = data.sample_factors(1, random_state)
    images = []
    for j, num_atoms in enumerate(data.factors_num_values):
      factors = np.repeat(base_factor, num_frames, axis=0)
      factors[:, j] = visualize_util.cycle_factor(base_factor[0, j], num_atoms, num_frames)
      images.append(data.sample_observations_from_factors(factors, random_state))
    visualize_util.save_animation(np.array(images), os.path.join(path, "animation%d.gif" % i),
                                  fps)
