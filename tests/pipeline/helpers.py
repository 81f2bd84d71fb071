"""Shared set-up of the pipeline tests: a tiny, fast training configuration."""
import os

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


def write_gin(directory, name, text):
  path = os.path.join(directory, name)
  with open(path, "w") as f:
    f.write(text)
  return path


def run_command(module, *args):
  """Runs the installed command d<module> (e.g. dreproduce) with args; the CompletedProcess."""
  return commands.run("d" + module, *args)
