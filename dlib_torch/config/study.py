"""Base class of a study: which models to train and how to evaluate them.

A study maps a model number to the gin file and bindings that train that
model, and lists the gin files of the representations (postprocessing) and
metrics every model is evaluated with. `dreproduce` prints and runs them.
"""


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

  def get_eval_config_files(self):
    """Returns the gin files of the evaluation steps."""
    raise NotImplementedError()

  def print_eval_config(self):
    """Prints the evaluation gin files."""
    print("Gin config files for evaluation (random seeds may be set later):")
    print("--")
    for path in self.get_eval_config_files():
      print(path)
