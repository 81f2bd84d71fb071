"""Shared set-up of the pipeline tests: a tiny, fast training configuration."""
import os

from dlib_torch.config import resources
from dlib_torch.tests import commands

FAST_TRAIN_GIN = """
dataset.name = "dummy_data"
model.batch_size = 4
model.model = @vae()
vae.beta = 2.
vae_optimizer.optimizer_fn = @AdamOptimizer
AdamOptimizer.learning_rate = 0.001
model.training_steps = 12
model.random_seed = 3
model.eval_steps = 3
encoder.num_latent = 4
encoder.encoder_fn = @test_encoder
decoder.decoder_fn = @test_decoder
reconstruction_loss.loss_fn = @bernoulli_loss
"""

# A mean representation and a small MIG, for the commands' tests.
MEAN_GIN = """
postprocess.postprocess_fn = @mean_representation
dataset.name = "auto"
postprocess.random_seed = 0
"""

MIG_GIN = """
evaluation.evaluation_fn = @mig
dataset.name = "auto"
evaluation.random_seed = 0
mig.num_train = 100
discretizer.discretizer_fn = @histogram_discretizer
discretizer.num_bins = 20
"""


def write_gin(directory, name, text):
  path = os.path.join(directory, name)
  with open(path, "w") as f:
    f.write(text)
  return path


def run_command(module, *args):
  """Runs the installed command d<module> (e.g. dreproduce) with args; the CompletedProcess."""
  return commands.run("d" + module, *args)


def train_and_postprocess(root, *train_args):
  """dtrain (FAST_TRAIN_GIN) and dpostprocess (mean) into root: {"gin", "model", "post"}."""
  gin = write_gin(root, "train.gin", FAST_TRAIN_GIN)
  paths = {"gin": gin, "model": os.path.join(root, "model"), "post": os.path.join(root, "post")}
  for completed in (
      commands.run("dtrain", "--model_dir=" + paths["model"], "--gin_config=" + gin,
                   *train_args),
      commands.run("dpostprocess", "--model_dir=" + paths["model"],
                   "--output_dir=" + paths["post"], "--gin_config=" + resources.config_path(
                       "tests/postprocessing/postprocess_test_configs/mean.gin"))):
    assert completed.returncode == 0, completed.stderr
  return paths
