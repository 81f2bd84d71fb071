"""Test-wide settings: one BLAS/torch thread per xdist worker, clean gin state."""
import os

import gin
import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
  # Workers already use every core between them; more threads only thrash.
  torch.set_num_threads(1)


def pytest_configure(config):
  config.addinivalue_line("markers", "slow: end-to-end tests that take tens of seconds")


@pytest.fixture(autouse=True)
def _clear_gin():
  gin.clear_config()
  yield
  gin.clear_config()
