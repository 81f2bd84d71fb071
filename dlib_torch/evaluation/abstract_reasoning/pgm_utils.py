"""Procedurally Generated Matrices (PGMs) in the space of integer factor values.

A PGM is a num_rows x num_cols grid of factor vectors. `num_relations`
factors, picked at random, are constant along every row (the rules); every
other factor is random, except that its first rows must not all be constant
nor all distinct (so it cannot be mistaken for a rule). The task is to pick
the bottom-right cell among it and `num_solutions - 1` wrong answers.

Every draw from the `random_state` happens in the original's order
(disentanglement_lib's pgm_utils), so a seed gives the original's PGMs.
"""
import numpy as np

from dlib_torch.utils import errors


class PGM:
  """A PGM and its wrong answers: `matrix` [rows, cols, factors], `other_solutions`."""

  def __init__(self, random_state, num_relations, atom_counts, sampling_strategy="easy",
               num_rows=3, num_cols=3, num_solutions=6):
    samplers = {"easy": sample_easy_alternative, "hard": sample_hard_alternative}
    if sampling_strategy not in samplers:
      raise errors.UserError("Unknown PGM sampling strategy {!r}; known: easy, hard.".format(
          sampling_strategy))
    self.design = PGMDesign(random_state, num_relations, atom_counts, num_rows, num_cols)
    self.matrix = self.design.sample()
    alternatives = []
    for _ in range(num_solutions - 1):
      alternatives.append(samplers[sampling_strategy](self.design, self.matrix, alternatives))
    self.other_solutions = np.array(alternatives)


class PGMDesign:
  """The rules of a PGM: which factors are constant along rows."""

  def __init__(self, random_state, num_relations, atom_counts, num_rows=3, num_cols=3):
    self.random_state = random_state
    self.num_relations = num_relations
    self.atom_counts = atom_counts
    self.num_rows = num_rows
    self.num_cols = num_cols
    self.num_factors = len(atom_counts)
    if num_relations > self.num_factors:
      raise errors.UserError("A PGM cannot have more relations ({}) than factors ({}).".format(
          num_relations, self.num_factors))
    remaining = list(range(self.num_factors))
    self.active_relations = [remaining.pop(random_state.choice(len(remaining)))
                             for _ in range(num_relations)]
    self.relations = [
        (ConstantRelation if i in self.active_relations else NonActiveRelation)(
            num_atoms, num_rows, num_cols) for i, num_atoms in enumerate(atom_counts)]

  def sample(self):
    """Factor values int64 [num_rows, num_cols, num_factors] obeying the rules."""
    return np.stack([relation.sample(self.random_state) for relation in self.relations],
                    axis=-1).astype(np.int64)

  def randomly_modify_solution(self, initial_solution):
    """Redraws one ruled factor and every unruled factor of a cell's factor vector."""
    solution = np.copy(initial_solution)
    ruled = self.random_state.choice(self.active_relations)
    solution[ruled] = self.random_state.choice(self.relations[ruled].num_atoms)
    for i, relation in enumerate(self.relations):
      if i not in self.active_relations:
        solution[i] = self.random_state.choice(relation.num_atoms)
    return solution

  def is_consistent(self, matrix):
    """Whether every factor's slice of `matrix` satisfies its relation."""
    return all(relation.is_consistent(matrix[:, :, i])
               for i, relation in enumerate(self.relations))

  def resample_design(self):
    """A new design with as many relations (draws from the same random state)."""
    return PGMDesign(self.random_state, self.num_relations, self.atom_counts, self.num_rows,
                     self.num_cols)


def _with_last_cell(matrix, cell):
  completed = np.copy(matrix)
  completed[-1, -1, :] = cell
  return completed


# The original also meant to skip answers drawn before, but its check never
# rejected one; answers may repeat there and so they may here.
def sample_easy_alternative(design, matrix, already_sampled_alternatives):
  """The last cell of a PGM of a fresh design, unless it happens to fit `matrix`."""
  del already_sampled_alternatives
  for _ in range(100):
    cell = design.resample_design().sample()[-1, -1, :]
    if not design.is_consistent(_with_last_cell(matrix, cell)):
      return cell
  raise ValueError("Could not sample alternative solutions.")


def sample_hard_alternative(design, matrix, already_sampled_alternatives):
  """The right answer, modified step by step until it no longer fits `matrix`."""
  del already_sampled_alternatives
  cell = matrix[-1, -1]
  for _ in range(100):
    cell = design.randomly_modify_solution(cell)
    if not design.is_consistent(_with_last_cell(matrix, cell)):
      return cell
  raise ValueError("Could not sample hard alternative solutions.")


class Relation:
  """A constraint on one factor's [num_rows, num_cols] slice of a PGM."""

  def __init__(self, num_atoms, num_rows=3, num_cols=3):
    if num_atoms < num_cols:
      raise errors.UserError("A factor needs at least as many values as a PGM has columns "
                             "({} < {}).".format(num_atoms, num_cols))
    if num_atoms == 1:
      raise errors.UserError("A PGM factor needs more than one value.")
    self.num_atoms = num_atoms
    self.num_rows = num_rows
    self.num_cols = num_cols

  @staticmethod
  def is_consistent(matrix):
    raise NotImplementedError()

  def sample(self, random_state):
    raise NotImplementedError()


# A set of the row's few values: np.unique costs more than the PGM draws themselves.
def is_constant_row(row):
  return len(set(np.asarray(row).tolist())) == 1


def is_distinct_row(row):
  return len(set(np.asarray(row).tolist())) == len(row)


class ConstantRelation(Relation):
  """Every row holds a single value."""

  @staticmethod
  def is_consistent(matrix):
    return all(is_constant_row(row) for row in matrix)

  def sample(self, random_state):
    return np.array([[random_state.choice(self.num_atoms)] * self.num_cols
                     for _ in range(self.num_rows)])


class DistinctRelation(Relation):
  """Every row holds distinct values."""

  @staticmethod
  def is_consistent(matrix):
    return all(is_distinct_row(row) for row in matrix)

  def sample(self, random_state):
    return np.array([random_state.permutation(self.num_atoms)[:self.num_cols]
                     for _ in range(self.num_rows)])


class NonActiveRelation(Relation):
  """Random values whose rows, but the last, show neither of the other relations."""

  @staticmethod
  def is_consistent(matrix):
    above_last = matrix[:-1, :]
    return not (ConstantRelation.is_consistent(above_last) or
                DistinctRelation.is_consistent(above_last))

  def sample(self, random_state):
    for _ in range(1000):
      matrix = random_state.choice(self.num_atoms, size=(self.num_rows, self.num_cols))
      if self.is_consistent(matrix):
        return matrix
    raise ValueError("Could not sample non-relational matrix.")
