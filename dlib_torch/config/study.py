"""Base class of a study: which models to train and how to evaluate them.

A study maps a model number to the gin file and bindings that train that
model, and lists the gin files of the representations (postprocessing) and
metrics every model is evaluated with. `dreproduce` prints and runs them.
"""
from dlib_torch.config import resources
from dlib_torch.utils import errors
from dlib_torch.utils import hyperparams as h


class Study(object):
  """A reproducible set of models and evaluation protocols."""

  def get_model_config(self, model_num=0):
    """Returns (gin bindings, gin config file) that train model `model_num`."""
    raise NotImplementedError()

  def print_model_config(self, model_num=0):
    """Prints the training config file and bindings of model `model_num`."""
    model_bindings, model_config_file = self.get_model_config(model_num)
    print("Gin base config for model training:")
    print("--")
    print(model_config_file)
    print()
    print("Gin bindings for model training:")
    print("--")
    for binding in model_bindings:
      print(binding)

  def get_postprocess_config_files(self):
    """Returns the gin files of the postprocessing steps."""
    raise NotImplementedError()

  def print_postprocess_config(self):
    """Prints the postprocessing gin files."""
    print("Gin config files for postprocessing (random seeds may be set "
          "later):")
    print("--")
    for path in self.get_postprocess_config_files():
      print(path)

  def get_reasoning_steps(self):
    """Stage 2 runs on the model's representations (abstract reasoning); none by default."""
    return []

  def get_eval_config_files(self):
    """Returns the gin files of the evaluation steps."""
    raise NotImplementedError()

  def print_eval_config(self):
    """Prints the evaluation gin files."""
    print("Gin config files for evaluation (random seeds may be set later):")
    print("--")
    for path in self.get_eval_config_files():
      print(path)


def conv_architecture():
  """The studies' architecture: conv encoder and deconv decoder, as a one-element sweep."""
  return h.zipit([
      h.fixed("encoder.encoder_fn", "@conv_encoder", length=1),
      h.fixed("decoder.decoder_fn", "@deconv_decoder", length=1),
  ])


class SweepStudy(Study):
  """A study whose model n trains with `<config_dir>/model_configs/shared.gin` and the
  bindings of configuration n of `configs()` (a sweep)."""

  # Folder of the study's gin files inside dlib_torch.gin_configs (configs/ of the checkout).
  config_dir = None

  def configs(self):
    """All model configurations; the list index is the model number."""
    raise NotImplementedError()

  def get_model_config(self, model_num=0):
    configs = self.configs()
    if not 0 <= model_num < len(configs):
      # Not named: several studies (quickstart) share another's configurations.
      raise errors.UserError("The study has models 0 to {}; got model_num={}.".format(
          len(configs) - 1, model_num))
    return (h.to_bindings(configs[model_num]),
            resources.config_path(self.config_dir + "/model_configs/shared.gin"))

  def get_postprocess_config_files(self):
    return resources.list_configs(self.config_dir + "/postprocess_configs")
