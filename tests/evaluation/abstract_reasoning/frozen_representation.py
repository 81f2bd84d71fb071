"""A postprocessed folder as dpostprocess writes it, with a stand-in representation."""
import os

import torch
from torch import nn

from dlib_torch.utils import atomic_io
from dlib_torch.utils import torchscript_io


class MeanColour(nn.Module):
  """A stand-in representation: each panel's mean and max intensity."""

  def forward(self, images):
    return torch.stack([images.mean(dim=(1, 2, 3)), images.amax(dim=(1, 2, 3))], dim=1)


def write_postprocessed_folder(folder):
  """The representation of dummy_data's 64x64x1 panels, its postprocess.gin and a result."""
  torchscript_io.save_module(MeanColour(), folder, "representation",
                             {"observation_shape": [64, 64, 1], "num_latent": 2})
  atomic_io.write_text(os.path.join(folder, "results", "gin", "postprocess.gin"),
                       "dataset.name = 'dummy_data'\n")
  atomic_io.write_json(os.path.join(folder, "results", "json", "postprocess_results.json"),
                       {"marker": 1})
