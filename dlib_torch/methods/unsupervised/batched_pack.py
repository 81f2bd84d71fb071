"""The batched step of a pack: K models' weights stacked, one vmapped step for all.

packed_training chooses this step on GPUs (and on request); each model
keeps its own hyper-parameters, noise, optimizer state and numbers (to float
rounding) as in its solo run. The step is pure: each model's noise is drawn
before it (the first step draws inside and records the plan, noise.Predrawn),
its hyper-parameters and the global step come in as inputs, and gin's
reconstruction loss is bound once, so that torch.compile can trace it
("compiled": on a GPU replayed as CUDA graphs).
"""
import copy

import numpy as np
import torch
from torch import func
from torch import nn

from dlib_torch.methods.shared import cpu_convolutions
from dlib_torch.methods.shared import losses
from dlib_torch.methods.shared import noise
from dlib_torch.methods.shared import optimizers as optimizer_lib
from dlib_torch.utils import devices


class _Losses(nn.Module):
  """A model's losses() as the forward pass that functional_call runs."""

  def __init__(self, model):
    super().__init__()
    self.model = model

  def forward(self, features, generator):
    return self.model.losses(features, generator)


class BatchedPack:
  """The stacked weights of the sessions' models and the batched training step.

  Each model's parameters become views of its row of the stacked tensors, so
  the pack's optimizers update the models' weights in place. The step is
  pure (it reads its hyper-parameters, global step and noise as inputs and
  changes nothing), which lets `compiled` run it through torch.compile.
  `table` is packed_training.open_sessions' (None: the sessions' streams).
  """

  def __init__(self, sessions, table=None, compiled=False):
    self.sessions, self.table = sessions, table
    models = [s.model for s in sessions]
    first = sessions[0]
    self.device, self.precision = first.device, first.runtime.precision
    method = type(models[0])
    self.losses = _Losses(_step_copy(models[0], method.pack_hyperparameters))
    self.names = [name for name, _ in models[0].named_parameters()]
    member_parameters = [dict(m.named_parameters()) for m in models]
    self.stacked = {name: torch.stack([p[name].detach() for p in member_parameters])
                    for name in self.names}
    for k, parameters in enumerate(member_parameters):
      for name, parameter in parameters.items():
        parameter.data = self.stacked[name][k]
    self.hyperparameters = {
        name: torch.tensor([float(getattr(m, name)) for m in models], device=self.device)
        for name in method.pack_hyperparameters}
    names_by_id = {id(p): name for name, p in member_parameters[0].items()}
    self.objective_parameters = {
        optimizer_name: {names_by_id[id(p)] for group in optimizer.param_groups
                         for p in group["params"]}
        for optimizer_name, (optimizer, _) in first.optimizers.items()}
    # One optimizer per objective steps the K models' stacked weights. Its updates are
    # elementwise, so each row gets its model's own update (up to float rounding: a
    # kernel's vector and scalar paths fall on other elements of a longer tensor), and the
    # host makes one optimizer call a step instead of K: on CPU a call costs about 0.08 ms
    # of Python besides its kernels, which at K=64 would alone hold a GPU to about 12,000
    # model-steps/s.
    self.optimizers = {
        optimizer_name: StackedOptimizer([s.optimizers[optimizer_name][0] for s in sessions],
                                          spec, names_by_id, self.stacked)
        for optimizer_name, (_, spec) in first.optimizers.items()}
    self.generators = [s.generator for s in sessions]
    self.model_index = torch.arange(len(sessions), device=self.device)
    self.step_input = torch.zeros((), dtype=torch.float64, device=self.device)
    # The first step draws its noise inside (PackedNoise) and records what it draws; later
    # steps draw the same numbers before the step (noise.draw_plan) and take them as input.
    self.noise_plan = None
    self._first_step = func.vmap(self._drawing_step, in_dims=(0, 0, 0, None, 0),
                                 randomness="same")
    self._step = func.vmap(self._predrawn_step, in_dims=(0, 0, 0, None, 0),
                           randomness="error")  # Any draw inside would be an error.
    self.compiled = compiled
    if compiled:
      # On CUDA, "reduce-overhead" replays the step as CUDA graphs (one launch instead of
      # hundreds of kernel launches from Python); on a CPU it compiles the kernels only.
      self._step = torch.compile(self._step, fullgraph=True, dynamic=False,
                                 mode="reduce-overhead")

  def _drawing_step(self, weights, features, hyperparameters, global_step, index):
    return self._model_step(weights, features, hyperparameters, global_step,
                            noise.PackedNoise(self.generators, index, self.noise_plan))

  def _predrawn_step(self, weights, features, hyperparameters, global_step, draws):
    draws = noise.Predrawn(self.noise_plan, draws)
    gradients, logged = self._model_step(weights, features, hyperparameters, global_step,
                                         draws)
    draws.check_all_drawn()
    return gradients, logged

  def _model_step(self, weights, features, hyperparameters, global_step, model_noise):
    """One model's gradients and logged scalars (vmapped over the pack)."""
    model = self.losses.model
    objectives = list(model.objectives.items())
    # The hyper-parameters and the global step are the step copy's buffers (_step_copy).
    inputs = dict({"model." + name: value for name, value in hyperparameters.items()},
                  **{"model.global_step": global_step})

    def objective_values(weights):
      values = func.functional_call(
          self.losses, dict(inputs, **{"model." + name: w for name, w in weights.items()}),
          (features, model_noise))
      return (tuple(sign * values[key] for _, (key, sign) in objectives),
              {key: values[key].detach() for key in model.step_scalars()})

    outputs, vjp_fn, logged = func.vjp(objective_values, weights, has_aux=True)
    gradients = {}
    for i, (optimizer_name, _) in enumerate(objectives):
      seeds = tuple(torch.ones_like(o) if j == i else torch.zeros_like(o)
                    for j, o in enumerate(outputs))
      for name, gradient in vjp_fn(seeds)[0].items():
        if name in self.objective_parameters[optimizer_name]:
          gradients[name] = gradient
    return gradients, logged

  def next_features(self):
    """The models' next batches, stacked [K, B, ...] on the device."""
    if self.table is not None:
      return self.table.lookup(np.stack([session.next_factors() for session in self.sessions]))
    return torch.stack([session.next_features() for session in self.sessions])

  def step(self, features):
    """One iteration of every model: ([logged scalars per model], global steps it counts)."""
    global_step = self.sessions[0].global_step
    # Filled in place: a tensor made from a number on a GPU would wait for the GPU to finish
    # the steps queued so far (PyTorch synchronises after a copy from pageable memory).
    step_input = self.step_input.fill_(float(global_step))
    with devices.autocast(self.device, self.precision):
      if self.noise_plan is None:
        self.noise_plan = []
        gradients, logged = self._first_step(self.stacked, features, self.hyperparameters,
                                             step_input, self.model_index)
      else:
        draws = noise.draw_plan(self.noise_plan, self.generators, self.device)
        if self.compiled:
          torch.compiler.cudagraph_mark_step_begin()  # The last step's outputs are used up.
        gradients, logged = self._step(self.stacked, features, self.hyperparameters,
                                       step_input, draws)
        if self.compiled:
          # A CUDA graph's outputs are overwritten by its next replay: the logged values,
          # read only when a session logs, are kept as copies.
          logged = {key: value.clone() for key, value in logged.items()}
    for optimizer_name, optimizer in self.optimizers.items():
      for name in self.objective_parameters[optimizer_name]:
        self.stacked[name].grad = gradients[name]
      optimizer.step(global_step)
    # Tensors, read only when a session logs or saves (no host synchronisation each step).
    values = [dict(zip(logged, row)) for row in zip(*(v.unbind() for v in logged.values()))]
    return values, self.sessions[0].model.steps_per_iteration


def _step_copy(model, hyperparameters):
  """The copy of a pack's model whose losses the batched step computes.

  It has PyTorch's own layers (the CPU layers' kernels have no batching rules
  for vmap), its hyper-parameters and global step are buffers (functional_call
  passes each model's values in, where setting attributes inside the step
  would leak vmap's tensors out of it), and its reconstruction loss is bound
  to gin's configuration once (torch.compile cannot trace gin's call).
  """
  copied = cpu_convolutions.use_cpu_kernels(copy.deepcopy(model), enabled=False)
  for name in tuple(hyperparameters) + ("global_step",):
    delattr(copied, name)
    copied.register_buffer(name, torch.zeros(()), persistent=False)
  copied.reconstruction_loss = losses.bound_reconstruction_loss()
  return copied


class StackedOptimizer:
  """An optimizer (its OptimizerSpec) over the stacked weights of a pack's models.

  Its state is the members' optimizers' state stacked, and theirs becomes
  views of its rows (a step count is shared), so a member's checkpoint holds
  its own optimizer state as a solo run's would.
  """

  def __init__(self, member_optimizers, spec, names_by_id, stacked):
    self.members, self.spec = member_optimizers, spec
    self.names = [[names_by_id[id(p)] for p in group["params"]]
                  for group in member_optimizers[0].param_groups]
    self.optimizer = spec.build([{"params": [stacked[name] for name in names]}
                                 for names in self.names])
    for member_params, own in self._parameters():
      states = [m.state[p] for m, p in zip(self.members, member_params)]
      if states[0]:  # A resumed run's, or an earlier pack's.
        self.optimizer.state[own] = {
            key: torch.stack([s[key] for s in states]) if _per_weight(key, value, own[0])
            else value for key, value in states[0].items()}
    self._shared = False

  def _parameters(self):
    """(the members' parameters, the stacked tensor) for each of the optimizer's weights."""
    for g, names in enumerate(self.names):
      for j, own in enumerate(self.optimizer.param_groups[g]["params"]):
        yield [m.param_groups[g]["params"][j] for m in self.members], own

  def step(self, global_step):
    """Steps the pack's weights on the gradients set on the stacked tensors."""
    for optimizer in [self.optimizer] + self.members:  # Members' rates go to checkpoints.
      optimizer_lib.set_learning_rate(optimizer, self.spec, global_step)
    self.optimizer.step()
    if not self._shared:  # The state exists from the first step on, updated in place.
      for member_params, own in self._parameters():
        state = self.optimizer.state.get(own, {})
        for k, (member, param) in enumerate(zip(self.members, member_params)):
          member.state[param] = {key: value[k] if _per_weight(key, value, own) else value
                                 for key, value in state.items()}
      self._shared = True


def _per_weight(key, value, weight):
  """Whether an optimizer state entry holds a value per weight (else it is shared: step)."""
  return key != "step" and torch.is_tensor(value) and value.shape == weight.shape
