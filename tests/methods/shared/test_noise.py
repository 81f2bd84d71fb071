"""A pack's noise: every model draws its solo run's numbers, inside the step or before it."""
import pytest
import torch
from torch import func

from dlib_torch.methods.shared import noise


def _generators(seeds):
  return [torch.Generator().manual_seed(seed) for seed in seeds]


def _draws(codes, generator):
  """A step's draws as a model makes them: eps like its codes, then a shuffle's uniforms."""
  return (noise.standard_normal(codes, generator),
          noise.uniform(codes[:, :2], generator, torch.float64))


def test_a_pack_draws_each_models_solo_numbers_inside_its_step_and_before_it():
  seeds, codes = (3, 7, 11), torch.zeros(5, 4)
  solo = []
  for generator in _generators(seeds):
    solo.append([_draws(codes, generator) for _ in range(2)])
  generators, plan = _generators(seeds), []
  first = func.vmap(lambda c, index: _draws(c, noise.PackedNoise(generators, index, plan)),
                    randomness="same")(torch.stack([codes] * 3), torch.arange(3))
  assert plan == [(torch.randn, (5, 4), torch.float32), (torch.rand, (5, 2), torch.float64)]

  def predrawn(c, draws):
    source = noise.Predrawn(plan, draws)
    drawn = _draws(c, source)
    source.check_all_drawn()
    return drawn

  second = func.vmap(predrawn, randomness="error")(torch.stack([codes] * 3),
                                                   noise.draw_plan(plan, generators, "cpu"))
  for step, pack_draws in enumerate((first, second)):
    for k in range(3):
      for solo_draw, pack_draw in zip(solo[k][step], pack_draws):
        assert torch.equal(pack_draw[k], solo_draw)


def test_a_step_that_draws_other_than_its_plan_is_refused():
  plan = [(torch.randn, (5, 4), torch.float32)]
  draws = (torch.zeros(5, 4),)
  with pytest.raises(RuntimeError, match=r"draw \('rand', \(5, 4\).* differs from its plan"):
    noise.uniform(torch.zeros(5, 4), noise.Predrawn(plan, draws))
  with pytest.raises(RuntimeError, match=r"draw \('randn', \(5, 3\)"):
    noise.standard_normal(torch.zeros(5, 3), noise.Predrawn(plan, draws))
  source = noise.Predrawn(plan, draws)
  assert noise.standard_normal(torch.ones(5, 4), source) is draws[0]
  source.check_all_drawn()
  with pytest.raises(RuntimeError, match="beyond its plan's 1 draws"):
    noise.standard_normal(torch.ones(5, 4), source)
  with pytest.raises(RuntimeError, match="made 0 of its plan's 1 draws"):
    noise.Predrawn(plan, draws).check_all_drawn()
