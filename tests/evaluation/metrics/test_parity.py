"""Replays every parity case computed with the original disentanglement_lib."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from . import parity

_DATA = parity.load()
_INPUTS = _DATA["inputs"]


# With 100 training points LogisticRegressionCV picks C = 1e4 and lbfgs stops
# unconverged after 100 iterations, where the last bits of the BLAS kernel
# decide some predictions. The original's numbers come from OpenBLAS's AVX2
# (Haswell) kernels; on AVX-512 machines these cases are replayed with them.
_BLAS_SENSITIVE = "downstream_task_logistic_regression/"
_REPLAY = ("import json, sys; from dlib_torch.tests.evaluation.metrics import parity; "
           "data = parity.load(); case = [c for c in data['cases'] if c['case_id'] == sys.argv[1]][0]; "
           "print(json.dumps(parity.run_case(case, data['inputs'])))")


def _run_with_haswell_kernels(case):
  env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
  completed = subprocess.run([sys.executable, "-c", _REPLAY, case["case_id"]], env=env,
                             capture_output=True, text=True, check=True, timeout=900)
  return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", _DATA["cases"], ids=lambda c: c["case_id"])
def test_case(case):
  if case["case_id"].startswith(_BLAS_SENSITIVE):
    results = _run_with_haswell_kernels(case)
  else:
    results = parity.run_case(case, _INPUTS)
  parity.assert_matches(case, results)


class TestInputs:
  """The data set and representations are the ones the cases were computed on."""

  def test_sampling_fingerprint(self):
    fingerprints = _INPUTS["fingerprints"]
    rs = np.random.RandomState(0)
    data = parity.ParityData(_INPUTS["factor_sizes"])
    np.testing.assert_array_equal(data.sample_factors(8, rs),
                                  fingerprints["sample_factors_8_RandomState0"])
    assert rs.randint(10) == fingerprints["then_next_randint_10_after_that"]

  def test_observations(self):
    factors = parity.all_factor_combinations(_INPUTS["factor_sizes"])
    assert factors.shape == (11520, 5)
    observations = parity.ParityData(_INPUTS["factor_sizes"]).sample_observations_from_factors(
        factors, None)
    assert (hashlib.sha256(observations.tobytes()).hexdigest() ==
            _INPUTS["fingerprints"]["observations_sha256"])

  @pytest.mark.parametrize("name", ["identity_plus_noise", "rotated"])
  def test_representation(self, name):
    expected = _INPUTS["fingerprints"]["representations"][name]
    factors = parity.all_factor_combinations(_INPUTS["factor_sizes"])
    codes = parity.make_representation(name, _INPUTS)(factors.astype(np.float32))
    assert list(codes.shape) == expected["shape"] and codes.dtype == np.float64
    np.testing.assert_array_equal(codes[:3], expected["first_3_rows"])
    np.testing.assert_array_equal(codes[1234], expected["row_1234"])
    assert (hashlib.sha256(codes.astype("<f8").tobytes()).hexdigest() ==
            expected["sha256_float64_le_rowmajor"])
