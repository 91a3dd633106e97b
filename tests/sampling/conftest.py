"""Shared fixtures of the sampling tests."""

import numpy as np
import pytest

from sciflow.sampling import GaussianMixture


@pytest.fixture(scope="session")
def mixture():
    """A 2-D, 4-component mixture with full covariances (smallest standard deviation ~0.22)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 2, 2)) * 0.2
    covs = a @ a.transpose(0, 2, 1) + 0.05 * np.eye(2)
    means = [[1.0, 1.0], [-1.0, 0.5], [0.5, -1.0], [-0.8, -0.9]]
    return GaussianMixture([0.3, 0.2, 0.25, 0.25], means, covs)


@pytest.fixture(scope="session")
def regression():
    """The recorded regression values (``regression_values.json``: sciflow's own output,
    with how each was produced and the margin its test allows)."""
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "regression_values.json").read_text())
