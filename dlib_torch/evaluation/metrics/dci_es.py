"""DCI-ES: disentanglement, completeness, informativeness and explicitness.

Eastwood et al., "DCI-ES: An Extended Disentanglement Framework with
Connections to Identifiability" (ICLR 2023); the authors' reference is
andreinicolicioiu/DCI-ES: metrics/explitcitness.py (`Explitcitness`,
`compute_explitcitness`) for E, metrics/dci.py for D and C (copies of
disentanglement_lib's, reused here from dci.py), and the random-forest probes
of src/loss_capacity/train_model_random_forest.py gathered as
src/simple_gather.py does.

Explicitness asks how much probe capacity a factor needs: one probe per
factor and capacity (here a random forest of `max_depth` = capacity) is
trained on the first half of the rows and scored on the second; its loss
(1 - accuracy for classified factors, 1 - R^2 for regressed ones) against
capacity is the loss-capacity curve. The curve is replaced by its running
minimum and E = 1 - 2 * (area between the curve and its lowest loss) /
((largest - smallest capacity) * baseline loss), with the baseline loss
1 - 1/#classes (classified) or 1 (regressed): the loss of a probe that knows
nothing. E is the mean over factors. D, C and I are DCI's
(Eastwood & Williams 2018) at the capacity with the best mean test score,
from the forests' feature importances [codes, factors]; I is that score.

Where the reference departs from its paper, and its quirks:
* The area is measured above the curve's OWN lowest loss, while the
  normaliser takes the lowest achievable loss l* to be 0 ("we assume l* = 0").
  So a curve that is flat at any level, even at the baseline, gets E = 1 (pure
  noise codes score E = 1), and a curve that stays near the baseline until the
  last capacity gets E < 0. `loss_floor=l*` measures the area above a fixed l*
  (the paper's lowest achievable loss: 0 for noiseless synthetic factors) and
  normalises by (baseline - l*); then a flat curve at the baseline gets -1.
  The factor 2 (E = 0 for a straight line from the baseline down to 0) is
  the reference's, kept in both.
* Curves scored together (one `Explitcitness` object) are extended to the
  largest capacity of any of them with their last loss, and share the
  smallest capacity in the normaliser.
* D and C of an all-zero importance matrix are 2.2e-16, not 0 (the 1e-11
  added before the entropies).
* The repository has no code for the paper's "S" (size); it is not computed.

The probe pipeline is re-created from the repository's scripts (which need
torch data loaders, sage, xgboost and tensorboard) with the same
scikit-learn calls: `RandomForest{Classifier,Regressor}(n_estimators,
max_depth=capacity, max_leaf_nodes=None, random_state=seed)`, the same seed
for every forest, everything else scikit-learn's defaults. A classifier thus
looks at sqrt(#codes) random codes per split, which spreads its importances
over codes: with few codes, D and C of classified factors stay well below 1
even for clean codes (regressors see every code). The reference's data sets
hand factors out scaled to [0, 1] (value / (size - 1)); an integer factor
that is regressed is scaled to [0, 1] the same way here (min-max over all
rows: the same numbers for factors 0..size-1).
"""
import numbers

import gin
import numpy as np
from sklearn import ensemble

from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import infomec
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import errors

# Random-forest max_depth values of the reference's configs/random_forest.
CAPACITIES = (1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)

# D and C of an importance matrix [codes, factors]: the reference's
# metrics/dci.py is a copy of disentanglement_lib's, so these are DCI's.
disentanglement = dci.disentanglement
completeness = dci.completeness
disentanglement_per_code = dci.disentanglement_per_code
completeness_per_factor = dci.completeness_per_factor


def dci_es(factors, codes, capacities=CAPACITIES, n_estimators=100,
           classification_factors=None, random_state=0, n_jobs=None, loss_floor=None):
  """DCI-ES of factors [N, K] and codes [N, D] with random-forest probes.

  The first N // 2 rows train the probes, the rest test them.

  Args:
    factors: factor values, one row per sample (integers for discrete
      factors, floats for continuous ones).
    codes: code values, one row per sample.
    capacities: increasing max_depth values of the probes.
    n_estimators: trees per forest.
    classification_factors: indices of the factors predicted by classifiers;
      the others are regressed. None: all factors if they are integers, none
      if they are floats.
    random_state: int seed given to every forest, as the reference does (so
      seed s replays its run s), or an np.random.RandomState the forests
      draw from in turn.
    n_jobs: threads fitting each forest (the numbers do not depend on it); None:
      one per core this process may use (measured 1.5x faster than one on 2 cores).
    loss_floor: None for the reference's E; a number l* for the area above
      l* (see the module docstring).

  Returns:
    Dict with "E_per_factor" [K], "E", "D", "C", "I", "best_capacity",
    "test_loss_curves" [K, len(capacities)] and "importance_at_best" [D, K].
  """
  factors, codes = infomec.check_samples(factors, codes, discrete_factors=False,
                                         min_samples=4)
  num_train = len(codes) // 2
  return dci_es_from_split(codes[:num_train], factors[:num_train], codes[num_train:],
                           factors[num_train:], capacities, n_estimators,
                           classification_factors, random_state, n_jobs, loss_floor)


@gin.configurable(
    "dci_es",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_dci_es(ground_truth_data, representation_function, random_state,
                   artifact_dir=None, num_train=gin.REQUIRED, num_test=gin.REQUIRED,
                   batch_size=16, capacities=CAPACITIES, n_estimators=100,
                   classification_factors=None, n_jobs=None, loss_floor=None):
  """DCI-ES on `num_train` training and `num_test` test points.

  The data set's factors are class indices, so by default every factor is
  classified. The forests draw their seeds from `random_state`.

  Returns:
    Dict with "E", "D", "C", "I" and "best_capacity".
  """
  del artifact_dir
  errors.check_positive_int("num_train", num_train)
  errors.check_positive_int("num_test", num_test)
  mus_train, ys_train, mus_test, ys_test = utils.generate_train_test_codes(
      ground_truth_data, representation_function, num_train, num_test, random_state,
      batch_size)
  result = dci_es_from_split(mus_train.T, ys_train.T, mus_test.T, ys_test.T, capacities,
                             n_estimators, classification_factors, random_state, n_jobs,
                             loss_floor)
  return {key: result[key] for key in ("E", "D", "C", "I", "best_capacity")}


def dci_es_from_split(codes_train, factors_train, codes_test, factors_test,
                      capacities=CAPACITIES, n_estimators=100, classification_factors=None,
                      random_state=0, n_jobs=None, loss_floor=None):
  """The results of `dci_es` from training and test rows [n, D] / [n, K]."""
  factors_train, codes_train = infomec.check_samples(factors_train, codes_train, False, 2)
  factors_test, codes_test = infomec.check_samples(factors_test, codes_test, False, 1)
  if (factors_train.shape[1] != factors_test.shape[1] or
      codes_train.shape[1] != codes_test.shape[1]):
    raise errors.UserError("The training and test rows must have the same columns.")
  capacities = _increasing_capacities(capacities)
  errors.check_positive_int("n_estimators", n_estimators)
  next_seed = _forest_seeds(random_state)
  # The trees of a forest grow independently from seeds drawn first: parallel
  # fits give the same trees.
  n_jobs = -1 if n_jobs is None else n_jobs
  classified = _classified_factors(classification_factors, factors_train)
  probes = [_probe_task(j in classified, factors_train[:, j], factors_test[:, j], j)
            for j in range(factors_train.shape[1])]

  scores = np.empty((len(capacities), len(probes)))
  importances = np.empty((len(capacities), codes_train.shape[1], len(probes)))
  for a, depth in enumerate(capacities):
    for j, (forest_class, target_train, target_test, _) in enumerate(probes):
      forest = forest_class(n_estimators=n_estimators, max_depth=depth, max_leaf_nodes=None,
                            random_state=next_seed(), n_jobs=n_jobs)
      forest.fit(codes_train, target_train)
      # Threads add the trees' predictions in whatever order they finish (last-bit
      # differences): predict in one thread so a result depends only on its seed.
      forest.n_jobs = 1
      # Accuracy for a classifier, R^2 for a regressor.
      scores[a, j] = forest.score(codes_test, target_test)
      importances[a, :, j] = np.abs(forest.feature_importances_)

  losses = 1. - scores.T
  per_factor = np.array([explicitness(capacities, curve, baseline, loss_floor)
                         for curve, (_, _, _, baseline) in zip(losses, probes)])
  best = int(np.argmax(scores.mean(axis=1)))
  return {
      "E_per_factor": per_factor,
      "E": float(np.mean(per_factor)),
      "D": float(disentanglement(importances[best])),
      "C": float(completeness(importances[best])),
      "I": float(scores[best].mean()),
      "best_capacity": int(capacities[best]),
      "test_loss_curves": losses,
      "importance_at_best": importances[best],
  }


def explicitness(capacities, losses, baseline_loss=1.0, loss_floor=None):
  """E of one loss-capacity curve, or of several curves scored together.

  Args:
    capacities: increasing capacities [n] of one curve; for several curves,
      one such array shared by all, or one per curve.
    losses: test losses [n] at those capacities; for several curves, one
      sequence per curve.
    baseline_loss: loss of an uninformed probe; for several curves, one
      number for all or one per curve.
    loss_floor: None (the reference: area above each curve's own lowest
      loss) or the lowest achievable loss l*.

  Returns:
    E (a float) for one curve, an array of E per curve for several.
  """
  if not _nonempty_sequence(losses) or not _nonempty_sequence(capacities):
    raise errors.UserError("explicitness needs capacities and losses of at least one "
                           "loss-capacity curve.")
  single = np.ndim(losses[0]) == 0
  curves_y = [losses] if single else list(losses)
  shared_x = single or np.ndim(capacities[0]) == 0
  curves_x = [capacities] * len(curves_y) if shared_x else list(capacities)
  baselines = np.asarray(baseline_loss, dtype=np.float64)
  if (len(curves_x) != len(curves_y) or baselines.ndim > 1 or
      baselines.ndim == 1 and len(baselines) != len(curves_y)):
    raise errors.UserError("Give one capacity array and one baseline loss per curve, or "
                           "one for all.")
  baselines = np.broadcast_to(baselines, (len(curves_y),))
  curves = [_checked_curve(x, y) for x, y in zip(curves_x, curves_y)]
  floor_shift = 0. if loss_floor is None else float(loss_floor)
  if np.any(baselines - floor_shift <= 0):
    raise errors.UserError("baseline_loss must exceed the loss floor ({}).".format(
        floor_shift))

  largest = max(x[-1] for x, _ in curves)
  smallest = min(x[0] for x, _ in curves)
  scores = []
  for (x, y), baseline in zip(curves, baselines):
    # A curve that stops early is taken to stay at its last loss.
    if x[-1] < largest:
      x, y = np.append(x, largest), np.append(y, y[-1])
    floor = y.min() if loss_floor is None else floor_shift
    max_area = (largest - smallest) * (baseline - floor_shift)
    heights = 0.5 * (y[:-1] - floor) + 0.5 * (y[1:] - floor)
    scores.append(1.0 - (2 * (heights * np.diff(x)) / max_area).sum())
  return float(scores[0]) if single else np.array(scores)


def _nonempty_sequence(values):
  try:
    return len(values) > 0
  except TypeError:  # a number, or a 0-d array
    return False


def _checked_curve(capacities, losses):
  """(capacities, running minimum of the losses) as float arrays; a UserError if unusable."""
  x = np.asarray(capacities, dtype=np.float64)
  y = np.asarray(losses, dtype=np.float64)
  if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
    raise errors.UserError("A loss-capacity curve needs as many losses as capacities, at "
                           "least 2; got {} and {}.".format(y.shape, x.shape))
  if not (np.isfinite(x).all() and np.isfinite(y).all()):
    raise errors.UserError("Capacities and losses must be finite numbers.")
  if np.any(np.diff(x) <= 0):
    raise errors.UserError("Capacities must increase, got {}.".format(list(x)))
  # The loss reached with at most this much capacity.
  return x, np.minimum.accumulate(y)


def _increasing_capacities(capacities):
  if isinstance(capacities, numbers.Number):
    capacities = [capacities]
  capacities = list(capacities)
  for capacity in capacities:
    errors.check_positive_int("Each capacity (max_depth)", capacity)
  if len(capacities) < 2 or np.any(np.diff(capacities) <= 0):
    raise errors.UserError("capacities must be at least 2 increasing max_depth values, "
                           "got {}.".format(capacities))
  return capacities


def _forest_seeds(random_state):
  """A function giving the random_state of each forest in turn."""
  if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
    # Every forest seeded alike: scikit-learn makes each a fresh
    # RandomState(seed), as the reference's random_state=seed.
    seed = int(random_state)
    return lambda: seed
  if isinstance(random_state, np.random.RandomState):
    return lambda: random_state
  raise errors.UserError("random_state must be an int seed or an np.random.RandomState, "
                         "not {!r}.".format(random_state))


def _classified_factors(classification_factors, factors):
  """The set of factor indices to classify."""
  num_factors = factors.shape[1]
  if classification_factors is None:
    return set(range(num_factors)) if factors.dtype.kind in "biu" else set()
  classified = set()
  for index in np.atleast_1d(classification_factors).tolist():
    if (isinstance(index, bool) or not isinstance(index, numbers.Integral) or
        not 0 <= index < num_factors):
      raise errors.UserError("classification_factors must be factor indices in [0, {}), "
                             "got {!r}.".format(num_factors, index))
    classified.add(int(index))
  return classified


def _probe_task(classify, train, test, index):
  """(forest class, training target, test target, baseline loss) of one factor."""
  if classify:
    if np.any(train != np.round(train)) or np.any(test != np.round(test)):
      raise errors.UserError("Factor {} is to be classified but holds non-integer "
                             "values.".format(index))
    num_classes = len(np.unique(np.concatenate([train, test])))
    if len(np.unique(train)) < 2:
      raise errors.UserError("Factor {} takes a single value in the training rows: "
                             "nothing to classify.".format(index))
    return ensemble.RandomForestClassifier, train, test, 1. - 1. / num_classes
  if train.dtype.kind in "biu":
    # Scaled to [0, 1] as the reference's data sets hand factors out.
    low = float(min(train.min(), test.min()))
    span = float(max(train.max(), test.max())) - low
    train, test = ((values.astype(np.float64) - low) / (span if span else 1.)
                   for values in (train, test))
  return ensemble.RandomForestRegressor, train, test, 1.
