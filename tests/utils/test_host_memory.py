"""keep_freed_memory: a CPU training step stops page-faulting for memory it just freed."""
import subprocess
import sys

import pytest

# Faults per conv beta-VAE training step (batch 64, float32) after warm-up.
_SCRIPT = """
import resource, sys
import gin, torch
from dlib_torch import gin_registry
from dlib_torch.utils import host_memory
if sys.argv[1] == "keep" and not host_memory.keep_freed_memory():
    print("unsupported"); sys.exit()
torch.set_num_threads(1)
gin_registry.register_for("train")
gin.parse_config('''
model.model = @vae()
vae.beta = 1.
encoder.num_latent = 10
encoder.encoder_fn = @conv_encoder
decoder.decoder_fn = @deconv_decoder
reconstruction_loss.loss_fn = @bernoulli_loss
vae_optimizer.optimizer_fn = @AdamOptimizer
''')
model = gin.query_parameter("model.model").scoped_configurable_fn()
model.build([64, 64, 1])
model.to(memory_format=torch.channels_last)
optimizers = model.make_optimizers()
batch = (torch.rand(64, 64, 64, 1) > 0.5).float()
generator = torch.Generator().manual_seed(0)
for step in range(8):
    if step == 3:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    model.train_step(batch, step, optimizers, generator)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def _faults_per_step(mode):
  # A fresh process each: the setting is process-wide and cannot be undone.
  out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], check=True,
                       capture_output=True, text=True).stdout.strip().splitlines()[-1]
  if out == "unsupported":
    pytest.skip("not glibc")
  return float(out)


def test_training_step_reuses_freed_memory():
  default = _faults_per_step("default")
  kept = _faults_per_step("keep")
  # With glibc's defaults the step's activations come back as fresh pages
  # (thousands per step); kept, almost none.
  assert default > 1000
  assert kept < default / 10
