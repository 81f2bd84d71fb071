"""The semi-supervised training protocol: a labelled set drawn once, unlabelled data forever.

The generic loop (`dlib_torch.methods.unsupervised.train`) runs it when
`model.num_labelled_samples` is bound (the original's
`train_semi_supervised_lib.train` parameters: `unsupervised_data_seed`,
`supervised_data_seed`, `model_seed`, `num_labelled_samples`,
`train_percentage`); `prepare` supplies what differs from unsupervised
training. Batches are (unlabelled images, (labelled images, labels)):
unlabelled images in the order of RandomState(unsupervised_data_seed) as
in unsupervised training, paired with the training split of the labelled
set repeated. Evaluation reads the same unlabelled stream with the
validation split, `num_labelled_samples` batches, as the original.
"""
import numpy as np

from dlib_torch.data import training_stream
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.methods.semi_supervised import semi_supervised_vae
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


def prepare(model, dataset, unsupervised_data_seed, supervised_data_seed,
            num_labelled_samples, train_percentage):
  """Samples the labelled set and instantiates the model class with its factor sizes.

  Args:
    model: the model class (`model.model = @s2_vae`); a BaseS2VAE subclass
      is instantiated with the labeller's factor sizes, another class without
      arguments.
    dataset: the ground-truth data.
    unsupervised_data_seed: seed of the unlabelled stream.
    supervised_data_seed: seed of the labelled set and the labeller.
    num_labelled_samples: size of the labelled set.
    train_percentage: share of the labelled set used for training.

  Returns:
    (model instance, training stream, evaluation stream, evaluation batches).
  """
  for name, value in (("unsupervised_data_seed", unsupervised_data_seed),
                      ("supervised_data_seed", supervised_data_seed),
                      ("train_percentage", train_percentage)):
    if value is None:
      raise errors.UserError("Semi-supervised training needs model.{}.".format(name))
  if not isinstance(model, type):
    raise errors.UserError(
        "Semi-supervised training takes the model class, e.g. `model.model = @s2_vae` "
        "(no parentheses).")
  observations, labels, factor_sizes = semi_supervised_utils.sample_supervised_data(
      supervised_data_seed, dataset, num_labelled_samples)
  if issubclass(model, semi_supervised_vae.BaseS2VAE):
    model = model(factor_sizes)
  else:
    model = model()
  streams = [semi_supervised_dataset_from_ground_truth_data(
      dataset, num_labelled_samples, unsupervised_data_seed, observations, labels,
      train_percentage, validation=validation) for validation in (False, True)]
  return model, streams[0], streams[1], num_labelled_samples


def train_with_gin(model_dir, overwrite=False, gin_config_files=None, gin_bindings=None,
                   runtime=None):
  """Trains a semi-supervised model from gin (the generic loop with `model.num_labelled_samples`)."""
  # Imported here: the loop imports this module.
  from dlib_torch.methods.unsupervised import train as unsupervised_train  # pylint: disable=g-import-not-at-top
  unsupervised_train.train_with_gin(model_dir, overwrite, gin_config_files, gin_bindings,
                                    runtime=runtime)
