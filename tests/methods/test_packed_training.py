"""Packed training: a pack's models end as their solo runs end, survive kills and divergence."""
import os
import subprocess
import sys
import time

import pytest
import torch
from torch._dynamo.utils import counters

from dlib_torch.config import reproduce as studies
from dlib_torch.methods.shared import optimizers
from dlib_torch.methods.unsupervised import batched_pack
from dlib_torch.methods.unsupervised import packed_training
from dlib_torch.methods.unsupervised import train
from dlib_torch.tests.methods import helpers
from dlib_torch.utils import cpu_shares
from dlib_torch.utils import errors


def _train_solo(member, runtime=None):
  train.train_with_gin(member[0], False, member[1], member[2], runtime=runtime)


def _assert_close(found, expected, rel):
  """Equal keys and non-float values; floats within `rel` (approx refuses strings)."""
  assert found.keys() == expected.keys()
  for key, value in expected.items():
    assert found[key] == (pytest.approx(value, rel=rel) if isinstance(value, float)
                          else value), key


def _gin(model_dir):
  with open(os.path.join(model_dir, "results", "gin", "train.gin")) as f:
    return f.read()


def _solo_and_packed(tmp_path, model_nums, pack_step, extra=()):
  """[(solo model_dir, packed model_dir)] of the models, trained solo and as one pack."""
  solo = [helpers.quickstart_member(tmp_path, "solo", n, extra) for n in model_nums]
  for member in solo:
    _train_solo(member)
  packed = [helpers.quickstart_member(tmp_path, "pack", n, extra) for n in model_nums]
  assert packed_training.train_pack(packed, train.Runtime(pack_step=pack_step)) == {}
  return [(s[0], p[0]) for s, p in zip(solo, packed)]


@pytest.mark.parametrize("model_nums", [
    [0, 1, 50, 51],  # beta-VAE: 2 seeds x beta 1 and 2
    [300, 351],  # FactorVAE: 2 seeds, gamma 10 and 20, with its discriminator
])
def test_a_sequential_pack_writes_its_models_solo_folders(tmp_path, model_nums):
  # On a CPU a pack steps its models by their solo step: the same numbers to the bit.
  for solo_dir, pack_dir in _solo_and_packed(tmp_path, model_nums, "sequential"):
    assert helpers.train_results(pack_dir) == helpers.train_results(solo_dir)
    assert _gin(pack_dir) == _gin(solo_dir)
    assert sorted(os.listdir(os.path.join(pack_dir, "torchscript"))) == sorted(
        os.listdir(os.path.join(solo_dir, "torchscript")))


@pytest.fixture
def two_threads():
  """This process on two torch threads (a parallel pack's two workers), whatever the
  machine has."""
  threads = torch.get_num_threads()
  torch.set_num_threads(2)
  yield
  torch.set_num_threads(threads)


def test_a_cpu_pack_runs_its_models_in_worker_processes_with_the_solo_numbers(
    tmp_path, two_threads):
  # Four models on two threads: two workers of one thread each, two models each.
  packed = [helpers.quickstart_member(tmp_path, "pack", n) for n in (0, 1, 50, 51)]
  assert [(share, threads) for share, threads, _ in packed_training.worker_shares(packed)] == [
      (packed[0::2], 1), (packed[1::2], 1)]
  assert packed_training.train_pack(packed, train.Runtime(pack_step="auto")) == {}
  torch.set_num_threads(1)  # The thread count each model had in its worker.
  for n, (pack_dir, _, _) in zip((0, 1, 50, 51), packed):
    solo = helpers.quickstart_member(tmp_path, "solo", n)
    _train_solo(solo)
    assert helpers.train_results(pack_dir) == helpers.train_results(solo[0])
    assert helpers.train_results(pack_dir)["num_threads"] == 1
    assert _gin(pack_dir) == _gin(solo[0])


def test_parallel_workers_split_a_pinned_jobs_cores_and_otherwise_its_threads(monkeypatch):
  monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
  monkeypatch.setattr(cpu_shares, "available_cpus", lambda: [2, 3, 4, 5])  # A pinned job.
  assert packed_training.worker_shares(["a", "b", "c"]) == [
      (["a"], 1, [2]), (["b"], 1, [3]), (["c"], 1, [4])]
  assert packed_training.worker_shares(["a", "b"]) == [(["a"], 2, [2, 3]), (["b"], 2, [4, 5])]
  monkeypatch.setattr(cpu_shares, "available_cpus", lambda: list(range(16)))
  assert packed_training.worker_shares(list("abcdef")) == [
      (["a", "e"], 1, None), (["b", "f"], 1, None), (["c"], 1, None), (["d"], 1, None)]


def test_auto_pack_step_follows_the_device_and_the_threads(two_threads):
  cpu, cuda = torch.device("cpu"), torch.device("cuda")
  assert packed_training.step_mode(cuda, "auto", 4) == "batched"
  assert packed_training.step_mode(cpu, "auto", 4) == "parallel"
  assert packed_training.step_mode(cpu, "auto", 1) == "sequential"
  assert packed_training.step_mode(cpu, "auto") == "sequential"  # A worker's share.
  torch.set_num_threads(1)
  assert packed_training.step_mode(cpu, "auto", 4) == "sequential"
  assert packed_training.step_mode(cpu, "batched", 4) == "batched"
  with pytest.raises(errors.UserError, match="Unknown pack step 'grouped'"):
    packed_training.step_mode(cpu, "grouped", 4)


@pytest.mark.parametrize("model_nums,extra", [
    ([0, 51], []),
    # FactorVAE for one iteration (a step of the VAE and one of its discriminator): Adam
    # turns rounding-sized differences of the discriminator's near-zero gradients into
    # whole steps, so over more iterations the TC estimate (a small difference of logits)
    # drifts by more than 1e-3 of itself on some CPUs.
    ([300, 351], ["model.training_steps = 2"]),
])
def test_a_batched_pack_equals_the_solo_runs_within_float_rounding(tmp_path, model_nums,
                                                                    extra):
  # One vmapped step for all models: other kernels, the same sums in another order.
  for solo_dir, pack_dir in _solo_and_packed(tmp_path, model_nums, "batched", extra):
    _assert_close(helpers.train_results(pack_dir), helpers.train_results(solo_dir), rel=1e-3)
    assert _gin(pack_dir) == _gin(solo_dir)


@pytest.mark.parametrize("model_nums", [
    [600, 651],  # DIP-VAE-I, lambda_od 1 and 2
    [900, 951],  # DIP-VAE-II
    [1200, 1251],  # beta-TCVAE
    [1500, 1551],  # AnnealedVAE, c_max 5 and 10
])
def test_every_unsupervised_method_packs(tmp_path, model_nums):
  for solo_dir, pack_dir in _solo_and_packed(tmp_path, model_nums, "batched",
                                             ["model.training_steps = 2"]):
    _assert_close(helpers.train_results(pack_dir), helpers.train_results(solo_dir), rel=1e-4)


def test_a_compiled_pack_equals_the_solo_runs_and_compiles_its_step_once(tmp_path):
  # AnnealedVAE's capacity follows the global step: a step read as a number would make
  # torch.compile trace the step again at every step.
  counters.clear()
  for solo_dir, pack_dir in _solo_and_packed(tmp_path, [1500, 1551], "compiled"):
    _assert_close(helpers.train_results(pack_dir), helpers.train_results(solo_dir), rel=1e-3)
    assert _gin(pack_dir) == _gin(solo_dir)
  assert counters["stats"]["unique_graphs"] == 1


def test_a_compiled_factor_vae_pack_steps_as_the_batched_pack(tmp_path):
  # Two iterations: the first draws its noise inside the step, the second (compiled) before.
  extra = ["model.training_steps = 4"]
  batched = [helpers.quickstart_member(tmp_path, "batched", n, extra) for n in (300, 351)]
  compiled = [helpers.quickstart_member(tmp_path, "compiled", n, extra) for n in (300, 351)]
  assert packed_training.train_pack(batched, train.Runtime(pack_step="batched")) == {}
  assert packed_training.train_pack(compiled, train.Runtime(pack_step="compiled")) == {}
  for (batched_dir, _, _), (compiled_dir, _, _) in zip(batched, compiled):
    _assert_close(helpers.train_results(compiled_dir), helpers.train_results(batched_dir), rel=1e-3)


@pytest.mark.parametrize("pack_step", ["sequential", "batched", "compiled"])
def test_a_killed_pack_resumes_to_the_uninterrupted_packs_results(tmp_path, pack_step):
  whole = [helpers.quickstart_member(tmp_path, "whole", n) for n in (0, 50)]
  packed_training.train_pack(whole, train.Runtime(pack_step=pack_step))
  killed = [helpers.quickstart_member(tmp_path, "killed", n) for n in (0, 50)]
  recorded = []

  def kill_in_the_middle_of_step_4(step):
    recorded.append(step)
    if recorded.count(4) == 1 and step == 4:
      raise KeyboardInterrupt()  # The first model has checkpointed step 4, the second not.

  with pytest.raises(KeyboardInterrupt):
    packed_training.train_pack(killed, train.Runtime(
        pack_step=pack_step, checkpoint_every_steps=2, after_step=kill_in_the_middle_of_step_4))
  assert not os.path.exists(os.path.join(killed[0][0], "results"))
  packed_training.train_pack(killed, train.Runtime(pack_step=pack_step))
  for (whole_dir, _, _), (killed_dir, _, _) in zip(whole, killed):
    if pack_step == "sequential":
      assert helpers.train_results(killed_dir) == helpers.train_results(whole_dir)
    else:  # The model behind trained alone for a step: other kernels, float rounding.
      _assert_close(helpers.train_results(killed_dir), helpers.train_results(whole_dir), rel=1e-3)


@pytest.mark.parametrize("spec", [
    optimizers.OptimizerSpec(torch.optim.Adam, {"eps": 1e-8, "fused": True},
                             lambda step: 1e-3 * 0.9 ** step),
    optimizers.OptimizerSpec(torch.optim.SGD, {"momentum": 0.9}, 0.01),
    optimizers.OptimizerSpec(torch.optim.RMSprop, {"alpha": 0.9, "eps": 1e-10}, 1e-3),
], ids=["adam_schedule", "momentum", "rmsprop"])
def test_a_packs_optimizer_steps_each_model_as_its_own_optimizer_would(spec):
  shapes = {"w": (4, 3), "b": (5,)}
  generator = torch.Generator().manual_seed(0)
  weights = [{n: torch.randn(s, generator=generator) for n, s in shapes.items()}
             for _ in range(3)]
  alone = [{n: w.clone() for n, w in model.items()} for model in weights]
  alone_optimizers = [spec.build(list(model.values())) for model in alone]
  stacked = {n: torch.stack([model[n] for model in weights]) for n in shapes}
  for k, model in enumerate(weights):
    for n in shapes:
      model[n].data = stacked[n][k]
  members = [spec.build(list(model.values())) for model in weights]
  names_by_id = {id(w): n for n, w in weights[0].items()}

  def step(pack, global_step):
    gradients = {n: torch.randn((3,) + s, generator=generator) for n, s in shapes.items()}
    for n in shapes:
      stacked[n].grad = gradients[n]
    pack.step(global_step)
    for k, (model, optimizer) in enumerate(zip(alone, alone_optimizers)):
      for n in shapes:
        model[n].grad = gradients[n][k]
      optimizers.set_learning_rate(optimizer, spec, global_step)
      optimizer.step()

  for global_step in range(3):  # A fresh pack, then one that takes over the members' state.
    step(batched_pack.StackedOptimizer(members, spec, names_by_id, stacked), global_step)
  # Up to float rounding: the kernels' vector and scalar paths split a row and the stack
  # of rows differently.
  for model, own, member, optimizer in zip(weights, alone, members, alone_optimizers):
    for n in shapes:
      torch.testing.assert_close(model[n], own[n], rtol=1e-6, atol=0)
    expected, found = optimizer.state_dict(), member.state_dict()
    assert found["param_groups"] == expected["param_groups"]
    for index, state in expected["state"].items():
      assert found["state"][index].keys() == state.keys()
      for key, value in state.items():
        torch.testing.assert_close(torch.as_tensor(found["state"][index][key]),
                                   torch.as_tensor(value), rtol=1e-6, atol=0)


def test_a_batched_packs_checkpoints_hold_each_models_own_optimizer_state(tmp_path):
  members = [helpers.quickstart_member(tmp_path, "pack", n) for n in (0, 50)]
  packed_training.train_pack(members, train.Runtime(pack_step="batched"))
  for model_dir, _, _ in members:
    state = torch.load(os.path.join(model_dir, "checkpoint", "checkpoint.pt"),
                       weights_only=False)
    weights = list(state["model"].values())
    adam = state["optimizers"]["vae"]["state"]
    assert len(adam) == len(weights)
    for index, weight in enumerate(weights):
      assert int(adam[index]["step"]) == 6
      for key in ("exp_avg", "exp_avg_sq"):
        # A model's own tensor, not a view that would save the pack's storage.
        assert adam[index][key].shape == weight.shape
        assert adam[index][key].untyped_storage().nbytes() == weight.untyped_storage().nbytes()


_KILLABLE_PACK = """
import sys, torch
from dlib_torch.methods.unsupervised import packed_training, train
torch.set_num_threads(2)
packed_training.train_pack({members!r}, train.Runtime(pack_step="parallel",
                                                     checkpoint_every_steps=2))
"""


def _children(pid):
  """The PIDs of the processes whose parent is `pid`."""
  found = []
  for entry in os.listdir("/proc"):
    try:
      with open(os.path.join("/proc", entry, "stat")) as f:
        if entry.isdigit() and int(f.read().rpartition(")")[2].split()[1]) == pid:
          found.append(int(entry))
    except OSError:
      pass
  return found


def _alive(pid):
  try:
    with open("/proc/{}/stat".format(pid)) as f:
      return f.read().rpartition(")")[2].split()[0] != "Z"
  except OSError:
    return False


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads processes from /proc (Linux)")
def test_a_killed_parallel_pack_takes_its_workers_with_it_and_resumes(tmp_path, two_threads):
  extra = ["model.training_steps = 16"]
  whole = [helpers.quickstart_member(tmp_path, "whole", n, extra) for n in (0, 50)]
  packed_training.train_pack(whole, train.Runtime(pack_step="parallel"))
  killed = [helpers.quickstart_member(tmp_path, "killed", n, extra) for n in (0, 50)]
  job = subprocess.Popen([sys.executable, "-c", _KILLABLE_PACK.format(members=killed)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  checkpoint = os.path.join(killed[0][0], "checkpoint", "checkpoint.pt")
  deadline = time.time() + 120
  while not os.path.exists(checkpoint) and job.poll() is None and time.time() < deadline:
    workers = _children(job.pid)
    time.sleep(0.05)
  assert job.poll() is None, "the pack ended before its first checkpoint"
  assert len(workers) >= 2  # The spawned workers (and Python's resource tracker).
  job.kill()
  job.wait()
  deadline = time.time() + 30
  while any(_alive(pid) for pid in workers) and time.time() < deadline:
    time.sleep(0.1)
  assert not any(_alive(pid) for pid in workers)
  assert not os.path.exists(os.path.join(killed[0][0], "results"))
  packed_training.train_pack(killed, train.Runtime(pack_step="parallel"))
  for (whole_dir, _, _), (killed_dir, _, _) in zip(whole, killed):
    assert helpers.train_results(killed_dir) == helpers.train_results(whole_dir)


@pytest.mark.parametrize("pack_step", ["batched", "parallel"])
def test_a_diverging_model_stops_alone(tmp_path, two_threads, pack_step):
  healthy = helpers.quickstart_member(tmp_path, "pack", 0)
  diverging = helpers.quickstart_member(tmp_path, "pack", 50, ["vae.beta = 1e400"])  # An infinite beta.
  failed = packed_training.train_pack([healthy, diverging],
                                      train.Runtime(pack_step=pack_step))
  assert list(failed) == [diverging[0]]
  assert isinstance(failed[diverging[0]], train.TrainingDiverged)
  assert not os.path.exists(os.path.join(diverging[0], "results"))
  if pack_step == "parallel":
    torch.set_num_threads(1)  # The healthy model's worker's threads.
  solo = helpers.quickstart_member(tmp_path, "solo", 0)
  _train_solo(solo)
  _assert_close(helpers.train_results(healthy[0]), helpers.train_results(solo[0]), rel=1e-3)


def test_models_that_differ_in_more_than_seed_and_hyperparameters_do_not_pack(tmp_path):
  with pytest.raises(errors.UserError, match="cannot be packed"):
    packed_training.train_pack([helpers.quickstart_member(tmp_path, "a", 0),
                                helpers.quickstart_member(tmp_path, "a", 1, ["model.batch_size = 32"])])
  with pytest.raises(errors.UserError, match="one method"):
    packed_training.train_pack([helpers.quickstart_member(tmp_path, "b", 0), helpers.quickstart_member(tmp_path, "b", 300)])


def test_pack_groups_follow_the_method_and_its_shared_configuration():
  from dlib_torch.pipeline import study_model  # pylint: disable=g-import-not-at-top
  quickstart = studies.get_study("quickstart")
  assert study_model.pack_groups(quickstart, [0, 1, 50, 300, 301, 600, 1500], 2) == [
      [0, 1], [50], [300, 301], [600], [1500]]
  # Weakly-supervised models train one per job.
  weak = studies.get_study("weakly_supervised_study")
  assert study_model.pack_groups(weak, [0, 1], 4) == [[0], [1]]
