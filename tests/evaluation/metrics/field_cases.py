"""Builds the inputs of the field-metric cases (field_metrics_cases.json) and checks results.

The cases were computed with the authors' reference code of each metric
(../shared/parity/field_metrics/README.md). Inputs follow that README's recipe:
numpy's legacy RandomState and float64 elementwise arithmetic in the order
written, so they are bit-identical on every machine (checked against the
SHA-256 fingerprints each case carries).
"""
import hashlib
import json
import os

import numpy as np

CASES_PATH = os.path.join(os.path.dirname(__file__), "field_metrics_cases.json")
SIGMA = 0.05


def load_cases(metric=None):
  """The cases, all or those of one reference metric (e.g. "ubisoft.mig")."""
  with open(CASES_PATH) as f:
    cases = json.load(f)["cases"]
  return [c for c in cases if metric is None or c["metric"] == metric]


def case_ids(cases):
  return [c["id"] for c in cases]


def _lin(x, w):
  """x @ w accumulated left to right, as the recipe writes it."""
  out = np.empty((x.shape[0], w.shape[1]))
  for i in range(w.shape[1]):
    acc = x[:, 0] * w[0, i]
    for j in range(1, w.shape[0]):
      acc = acc + x[:, j] * w[j, i]
    out[:, i] = acc
  return out


def _rotation(rs1, k):
  """Product of Householder reflections (an even number: det +1), plain float loops."""
  r = np.eye(k)
  for _ in range(k if k % 2 == 0 else k + 1):
    v = rs1.normal(0.0, 1.0, size=k)
    vv = 0.0
    for t in v:
      vv = vv + t * t
    c = 2.0 / vv
    h = np.array([[(1.0 if a == b else 0.0) - (c * v[a]) * v[b] for b in range(k)]
                  for a in range(k)])
    new = np.empty((k, k))
    for a in range(k):
      for b in range(k):
        acc = 0.0
        for m in range(k):
          acc = acc + r[a][m] * h[m][b]
        new[a][b] = acc
    r = new
  return r


def build_inputs(recipe):
  """(factors [n, K], codes [n, D]) of a case's recipe."""
  sizes, n, seed = recipe["factor_sizes"], recipe["n"], recipe["seed"]
  k, d = recipe["num_factors"], recipe["num_codes"]
  rs = np.random.RandomState(seed)
  if recipe["factors"] == "discrete":
    factors = np.stack([rs.randint(0, s, size=n, dtype=np.int64) for s in sizes], axis=1)
    fn = np.stack([factors[:, j].astype(np.float64) / float(sizes[j] - 1)
                   for j in range(k)], axis=1)
  else:
    factors = np.stack([rs.uniform(0.0, 1.0, size=n) for _ in range(k)], axis=1)
    fn = factors
  noise = rs.normal(0.0, 1.0, size=(n, d))
  rs1 = np.random.RandomState(seed + 1)
  transform = recipe["transform"]
  if transform == "identity":
    codes = fn + SIGMA * noise
  elif transform == "permuted_scaled":
    perm = rs1.permutation(k)
    scale = rs1.uniform(0.5, 5.0, size=k)
    sign = rs1.randint(0, 2, size=k, dtype=np.int64) * 2 - 1
    offset = rs1.uniform(-3.0, 3.0, size=k)
    codes = (fn[:, perm] + SIGMA * noise) * (scale * sign) + offset
  elif transform == "entangled":
    codes = _lin(fn - 0.5, _rotation(rs1, k)) + SIGMA * noise
  elif transform == "nonlinear":
    gain = rs1.uniform(2.0, 6.0, size=k)
    bias = rs1.uniform(-1.0, 1.0, size=k)
    u = (fn - 0.5) * gain + bias
    codes = u / (1.0 + np.abs(u)) + SIGMA * noise
  elif transform == "collapsed":
    codes = fn + SIGMA * noise
    codes[:, 1] = 0.0
    codes[:, 3] = 0.0
  elif transform == "noise":
    codes = noise
  elif transform == "redundant":
    codes = np.empty((n, d))
    codes[:, :k] = fn + SIGMA * noise[:, :k]
    codes[:, k] = fn[:, 0] + SIGMA * noise[:, k]
  elif transform == "overcomplete":
    codes = np.empty((n, d))
    codes[:, :k] = fn + SIGMA * noise[:, :k]
    codes[:, k:] = noise[:, k:]
  else:
    raise ValueError("Unknown transform: " + transform)
  return factors, codes


def case_inputs(case):
  """(factors, codes) of a recipe case, checked against its fingerprints."""
  inputs = case["inputs"]
  factors, codes = build_inputs(inputs["recipe"])
  dtype = "<i8" if inputs["factors_dtype"] == "int64" else "<f8"
  assert hashlib.sha256(factors.astype(dtype).tobytes()).hexdigest() == inputs["factors_sha256"]
  assert hashlib.sha256(codes.astype("<f8").tobytes()).hexdigest() == inputs["codes_sha256"]
  return factors, codes


def _expected_array(value):
  return np.array([[_number(v) for v in row] if isinstance(row, list) else _number(row)
                   for row in value] if isinstance(value, list) else _number(value),
                  dtype=object)


def _number(v):
  if isinstance(v, str):  # JSON has no NaN or infinity
    return float(v.replace("Infinity", "inf"))
  return v


def _close(got, expected, tol):
  if isinstance(expected, bool) or isinstance(got, (bool, np.bool_)):
    return bool(got) == bool(expected)
  if expected is None or got is None:
    return got is expected
  got, expected = float(got), float(expected)
  if np.isnan(expected):
    return np.isnan(got)
  if np.isinf(expected):
    return got == expected
  return abs(got - expected) <= max(tol["abs"], tol["rel"] * abs(expected), tol["abs_floor"])


def tolerance_of(case, key):
  """{"abs", "rel", "abs_floor"} of one output key, as the README states it."""
  tol = case["tolerance"]
  if tol["kind"] == "deterministic":
    return {"abs": tol["abs"], "rel": tol["rel"], "abs_floor": tol["abs"]}
  spread = tol["abs"][key] if isinstance(tol["abs"], dict) else tol["abs"]
  return {"abs": spread, "rel": tol["rel"], "abs_floor": tol["abs_floor"]}


def mismatches(case, results, keys=None):
  """Lines naming every expected output (or `keys` of them) that `results` misses."""
  found = []
  for key in keys or case["expected"]:
    expected = case["expected"][key]
    if key not in results:
      found.append("{}: missing".format(key))
      continue
    got = np.asarray(results[key], dtype=object)
    want = _expected_array(expected)
    if got.shape != want.shape:
      found.append("{}: shape {} expected {}".format(key, got.shape, want.shape))
      continue
    spread = tolerance_of(case, key)
    spread_arr = np.broadcast_to(np.asarray(spread["abs"], dtype=object), want.shape)
    for idx in np.ndindex(want.shape):
      tol = dict(spread, abs=spread_arr[idx])
      if not _close(got[idx], want[idx], tol):
        found.append("{}{}: got {!r}, expected {!r} (tolerance {})".format(
            key, list(idx) if idx else "", got[idx], want[idx], tol["abs"]))
  return found


def assert_matches(case, results, keys=None):
  found = mismatches(case, results, keys)
  assert not found, "{}:\n  {}".format(case["id"], "\n  ".join(found))


def bad_inputs(factors, codes):
  """{case: (factors, codes, kwargs)} every field metric refuses: mismatched rows, 1-D
  factors, a NaN code, a single row."""
  nan_codes = np.array(codes, dtype=np.float64)
  nan_codes[min(5, len(codes) - 1), min(1, codes.shape[1] - 1)] = np.nan
  return {
      "rows_differ": (factors, codes[:len(codes) // 2], {}),
      "one_dimensional": (factors[:, 0], codes, {}),
      "nan_codes": (factors, nan_codes, {}),
      "one_row": (factors[:1], codes[:1], {}),
  }
