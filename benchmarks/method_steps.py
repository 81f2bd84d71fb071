"""Training-step cost of every method, as a ratio to the beta-VAE step measured in the same run.

Each method trains with the studies' conv architecture, batch 64 and its own
input stream (pairs for the weakly-supervised models, unlabelled plus labelled
batches for the semi-supervised ones, observations with factors for the
concept models) on procedural dSprites. Methods are timed in interleaved
windows over several rounds, each against the beta-VAE timed in the same
round, and the ratio is the median of the per-round ratios (robust to a
shared machine's changing load). Cost is per global step: the original's
FactorVAE counts two global steps per iteration. Issue 5's target on CPU:
every method <= 1.5x the beta-VAE step.

"per image pass" divides the cost by the images the method runs through the
encoder and decoder per step, relative to the beta-VAE's 64 + 64: the pair
models encode and decode both images of each pair, the semi-supervised
models also encode the labelled batch.

  python benchmarks/method_steps.py [--seconds 4] [--rounds 3] [--device cpu]
      [--method s2_vae ...]
"""
import argparse
import inspect
import os
import statistics
import time

import gin
import torch

from dlib_torch import gin_registry
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.unsupervised import train
from dlib_torch.utils import devices
from dlib_torch.utils import host_memory

ARCHITECTURE = """
dataset.name = "procedural_dsprites"
model.batch_size = 64
encoder.num_latent = 10
encoder.encoder_fn = @conv_encoder
decoder.decoder_fn = @deconv_decoder
reconstruction_loss.loss_fn = @bernoulli_loss
vae_optimizer.optimizer_fn = @vae/AdamOptimizer
vae/AdamOptimizer.learning_rate = 0.0001
discriminator.discriminator_fn = @fc_discriminator
discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer
discriminator/AdamOptimizer.learning_rate = 0.0001
discriminator/AdamOptimizer.beta1 = 0.5
discriminator/AdamOptimizer.beta2 = 0.9
"""

_SEMI = """
model.num_labelled_samples = 1000
model.train_percentage = 0.9
model.unsupervised_data_seed = 0
model.supervised_data_seed = 0
model.model_seed = 0
labeller.labeller_fn = @perfect_labeller
supervised_loss.loss_fn = @xent
annealer.anneal_fn = @fixed
annealer.iteration_threshold = 1
"""

_CONCEPTS = """
factor_class.factor_index = 0
glancenet.class_fn = @factor_class
glancenet.concept_factors = [0, 1, 2]
glancenet.masking_fact = 50.
glancenet.beta = 1.
glancenet.label_weight = 5.
cbm.class_fn = @factor_class
cbm.concept_factors = [0, 1, 2]
cbm.masking_fact = 50.
cbm.label_weight = 5.
"""

# Method -> (bindings that select it, images through encoder and decoder per
# step relative to the beta-VAE's).
METHODS = {
    "vae": ("model.model = @vae()\nvae.beta = 1.", 1.),
    "annealed_vae": ("model.model = @annealed_vae()\nannealed_vae.c_max = 5.\n"
                     "annealed_vae.iteration_threshold = 100000\nannealed_vae.gamma = 1000", 1.),
    "factor_vae": ("model.model = @factor_vae()\nfactor_vae.gamma = 10.", 1.),
    "dip_vae_i": ("model.model = @dip_vae()\ndip_vae.lambda_od = 1.\n"
                  "dip_vae.lambda_d_factor = 10.\ndip_vae.dip_type = 'i'", 1.),
    "dip_vae_ii": ("model.model = @dip_vae()\ndip_vae.lambda_od = 1.\n"
                   "dip_vae.lambda_d_factor = 1.\ndip_vae.dip_type = 'ii'", 1.),
    "beta_tc_vae": ("model.model = @beta_tc_vae()\nbeta_tc_vae.beta = 1.", 1.),
    "group_vae_argmax": ("model.model = @group_vae_argmax()\ngroup_vae.beta = 1.\n"
                         "dynamics.k = 1", 2.),
    "group_vae_labels": ("model.model = @group_vae_labels()\ngroup_vae.beta = 1.\n"
                         "dynamics.k = 1", 2.),
    "mlvae_argmax": ("model.model = @mlvae_argmax()\nmlvae.beta = 1.\ndynamics.k = 1", 2.),
    "mlvae_labels": ("model.model = @mlvae_labels()\nmlvae.beta = 1.\ndynamics.k = 1", 2.),
    "s2_vae": (_SEMI + "model.model = @s2_vae\ns2_vae.beta = 1.\ns2_vae.gamma_sup = 1.", 1.5),
    "s2_dip_vae": (_SEMI + "model.model = @s2_dip_vae\ns2_dip_vae.lambda_od = 1.\n"
                   "s2_dip_vae.lambda_d_factor = 10.\ns2_dip_vae.gamma_sup = 1.", 1.5),
    "s2_beta_tc_vae": (_SEMI + "model.model = @s2_beta_tc_vae\ns2_beta_tc_vae.beta = 1.\n"
                       "s2_beta_tc_vae.gamma_sup = 1.", 1.5),
    "s2_factor_vae": (_SEMI + "model.model = @s2_factor_vae\ns2_factor_vae.gamma = 10.\n"
                      "s2_factor_vae.gamma_sup = 1.", 1.5),
    "supervised": (_SEMI + "model.model = @supervised", 1.5),
    "glancenet": (_CONCEPTS + "model.model = @glancenet()", 1.),
    "cbm": (_CONCEPTS + "model.model = @cbm()", 1.),
}


class MethodTimer:
  """One method's model, optimizers and a fixed batch from its own input stream."""

  def __init__(self, method, device):
    gin.clear_config()
    gin_registry.register_for("train")
    gin.parse_config(ARCHITECTURE + METHODS[method][0])
    # `@vae()` or the class `@s2_vae`: either way the loop has an instance made without
    # arguments, and the model.* bindings the loop does not take go to its protocol.
    model = gin.query_parameter("model.model").scoped_configurable_fn()
    bindings = gin.get_bindings("model")
    protocol = {k: v for k, v in bindings.items()
                if k not in inspect.signature(train.train).parameters}
    dataset = named_data.get_named_ground_truth_data()
    # Seed 0 for the protocols seeded by model.random_seed (the configs here leave it unbound).
    random_seed = bindings.get("random_seed", None if protocol else 0)
    stream = model.training_inputs(dataset, random_seed, 1, **protocol).stream
    torch.manual_seed(0)
    model.build(dataset.observation_shape)
    model.to(device=device, memory_format=torch.channels_last)
    model.train()
    self.model, self.optimizers = model, model.make_optimizers()
    self.batch = train._to_device(stream.next_batch(64), device)  # pylint: disable=protected-access
    self.generator = torch.Generator(device=device).manual_seed(0)
    self.device, self.count = device, 0
    self.seconds_per_step(0.0)  # Warm-up (allocator, oneDNN primitive caches).

  def seconds_per_step(self, seconds):
    """Seconds per global step over a window of about `seconds` (at least 3 iterations)."""
    steps, iterations, start = 0, 0, time.perf_counter()
    while iterations < 3 or time.perf_counter() - start < seconds:
      _, global_steps = self.model.train_step(
          self.batch, self.count, self.optimizers, self.generator)
      steps += global_steps
      iterations += 1
      self.count += global_steps
    if self.device.type == "cuda":
      torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seconds", type=float, default=4.0,
                      help="timed seconds per method, over all rounds")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--device", default="auto")
  parser.add_argument("--method", nargs="*", default=sorted(set(METHODS) - {"vae"}),
                      choices=sorted(METHODS))
  args = parser.parse_args()
  device = devices.resolve_device(args.device)
  if device.type == "cpu":
    host_memory.keep_freed_memory()  # As training does.
  print("device: {} ({} threads), load average {:.2f}".format(
      device, torch.get_num_threads(), os.getloadavg()[0]))
  reference = MethodTimer("vae", device)
  window = args.seconds / args.rounds
  for method in args.method:
    timer = MethodTimer(method, device)
    ratios, seconds = [], []
    for _ in range(args.rounds):
      vae_seconds = reference.seconds_per_step(window)
      seconds.append(timer.seconds_per_step(window))
      ratios.append(seconds[-1] / vae_seconds)
    ratio = statistics.median(ratios)
    print("{:16s} {:7.2f} steps/s  step cost vs vae {:.2f}x  per image pass {:.2f}x".format(
        method, 1. / statistics.median(seconds), ratio, ratio / METHODS[method][1]))
  print("load average {:.2f}".format(os.getloadavg()[0]))


if __name__ == "__main__":
  main()
