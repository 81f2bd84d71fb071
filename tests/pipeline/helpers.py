"""Shared set-up of the pipeline tests: a tiny, fast training configuration."""
import os
import subprocess
import sys

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
  """Runs `python -m dlib_torch.cli.<module> args`; returns the CompletedProcess."""
  return subprocess.run([sys.executable, "-m", "dlib_torch.cli." + module] + list(args),
                        capture_output=True, text=True, timeout=600, check=False)
