"""The semi-supervised training protocol: a labelled set drawn once, unlabelled data forever.

The generic loop (`dlib_torch.methods.unsupervised.train`) runs it for the
semi-supervised models (BaseS2VAE.training_inputs), which take the
original's `train_semi_supervised_lib.train` parameters as `model.*`
bindings: `unsupervised_data_seed`, `supervised_data_seed`, `model_seed`,
`num_labelled_samples`, `train_percentage`. Batches are (unlabelled images, (labelled images, labels)):
unlabelled images in the order of RandomState(unsupervised_data_seed) as
in unsupervised training, paired with the training split of the labelled
set repeated. Evaluation reads the same unlabelled stream with the
validation split, `num_labelled_samples` batches, as the original.
"""
import numpy as np

from dlib_torch.data import training_stream
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import train as unsupervised_train
from dlib_torch.utils import errors


class SemiSupervisedStream:
  """Batches of (unlabelled [B, H, W, C], (labelled [B, H, W, C], labels [B, F]))."""

  def __init__(self, data, unsupervised_data_seed, observations, labels):
    if observations.shape[0] == 0:
      raise errors.UserError(
          "No labelled samples in this split; check model.num_labelled_samples and "
          "model.train_percentage.")
    self.unlabelled = training_stream.ObservationStream(data, unsupervised_data_seed)
    self.observations = np.asarray(observations, dtype=np.float32)
    self.labels = np.asarray(labels, dtype=np.float32)
    self.position = 0

  def get_state(self):
    return self.unlabelled.get_state(), self.position

  def set_state(self, state):
    unlabelled_state, self.position = state
    self.unlabelled.set_state(unlabelled_state)

  def next_batch(self, batch_size):
    unlabelled = self.unlabelled.next_batch(batch_size)
    indices = (self.position + np.arange(batch_size)) % self.labels.shape[0]
    self.position = int((self.position + batch_size) % self.labels.shape[0])
    return unlabelled, (self.observations[indices], self.labels[indices])


def semi_supervised_dataset_from_ground_truth_data(ground_truth_data, num_labelled_samples,
                                                   unsupervised_data_seed,
                                                   sampled_observations, sampled_factors,
                                                   train_percentage=1., validation=False):
  """The stream of one split (the original's function of this name)."""
  train_x, train_y, test_x, test_y = semi_supervised_utils.train_test_split(
      sampled_observations, sampled_factors, num_labelled_samples, train_percentage)
  if validation:
    return SemiSupervisedStream(ground_truth_data, unsupervised_data_seed, test_x, test_y)
  return SemiSupervisedStream(ground_truth_data, unsupervised_data_seed, train_x, train_y)


_PARAMETERS = ("unsupervised_data_seed", "supervised_data_seed", "model_seed",
               "num_labelled_samples", "train_percentage")


def training_inputs(model, data, random_seed, protocol_params):
  """The semi-supervised protocol's inputs and the labelled factors' sizes.

  Args:
    model: the model being trained (named in errors).
    data: the ground-truth data.
    random_seed: `model.random_seed`, which this protocol does not take (the
      original's has model_seed and two data seeds instead).
    protocol_params: the `model.*` bindings of the protocol: unsupervised_data_seed
      (the unlabelled stream), supervised_data_seed (the labelled set and its
      labeller), model_seed (torch: weights and noise; default 0),
      num_labelled_samples, train_percentage (share of the labelled set used
      for training).

  Returns:
    (gaussian_encoder_model.TrainingInputs, factor sizes of the labels).
  """
  gaussian_encoder_model.reject_protocol_params(
      {k: v for k, v in protocol_params.items() if k not in _PARAMETERS}, model)
  if random_seed is not None:
    raise errors.UserError("Semi-supervised training takes model.model_seed and the data "
                           "seeds, not model.random_seed.")
  params = dict({name: None for name in _PARAMETERS}, **protocol_params)
  for name in _PARAMETERS:
    if params[name] is None and name != "model_seed":
      raise errors.UserError("Semi-supervised training needs model.{}.".format(name))
  for name in ("unsupervised_data_seed", "supervised_data_seed", "model_seed"):
    errors.check_seed("model." + name, params[name], optional=True)
  observations, labels, factor_sizes = semi_supervised_utils.sample_supervised_data(
      params["supervised_data_seed"], data, params["num_labelled_samples"])
  streams = [semi_supervised_dataset_from_ground_truth_data(
      data, params["num_labelled_samples"], params["unsupervised_data_seed"], observations,
      labels, params["train_percentage"], validation=validation)
             for validation in (False, True)]
  model_seed = params["model_seed"] if params["model_seed"] is not None else 0
  return gaussian_encoder_model.TrainingInputs(
      streams[0], streams[1], params["num_labelled_samples"], model_seed), factor_sizes


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None,
                   runtime=None):
  """Trains a semi-supervised model from gin: the generic loop, the model's protocol."""
  unsupervised_train.train_with_gin(model_dir, overwrite, gin_config_files, gin_bindings,
                                    runtime=runtime)
