"""Shared test set-up: seeded RNGs, floating-point errors raised, the `slow` marker."""

import os
import random
import sys

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed_and_fp_errors():
    random.seed(12345)
    np.random.seed(12345)  # noqa: NPY002 - seeds code that still uses the legacy global RNG
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(12345)
    old = np.seterr(all="raise", under="ignore")
    yield
    np.seterr(**old)


@pytest.fixture
def rng():
    return np.random.default_rng(20241007)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
