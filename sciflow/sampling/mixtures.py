"""Reference Gaussian mixtures for the exact sampler studies.

* :func:`eight_gaussians` — the 2-D "8-Gaussian" benchmark: eight isotropic components of
  standard deviation ``std`` on a circle of radius ``radius``, equal weights.
* :func:`mixture_3d` — a 3-D mixture with unequal weights, anisotropic correlated covariances
  and a nonzero mean (so that a leaking terminal SNR biases the sample mean).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_positive
from .models import GaussianMixture

__all__ = ["eight_gaussians", "mixture_3d"]


def eight_gaussians(radius: float = 2.0, std: float = 0.1, *, offset=(0.0, 0.0)):
    """The 8-Gaussian mixture: components at ``radius (cos 2 pi k/8, sin 2 pi k/8) + offset``,
    covariance ``std^2 I``, weights 1/8."""
    radius = check_positive("radius", radius)
    std = check_positive("std", std)
    off = np.asarray(offset, dtype=float)
    if off.shape != (2,) or not np.all(np.isfinite(off)):
        raise ValueError(f"offset must be two finite numbers, got {offset!r}")
    ang = 2 * np.pi * np.arange(8) / 8
    means = radius * np.stack((np.cos(ang), np.sin(ang)), axis=1) + off
    return GaussianMixture(np.full(8, 1 / 8), means, np.tile(std**2 * np.eye(2), (8, 1, 1)))


def mixture_3d():
    """A fixed 3-D, 4-component mixture with mean (0.45, -0.1, 0.7) (weights 0.4, 0.3, 0.2,
    0.1; correlated covariances)."""
    w = np.array([0.4, 0.3, 0.2, 0.1])
    means = np.array([[1.0, 0.0, 0.5], [-0.5, 1.0, 1.0], [1.5, -1.5, 0.0], [-1.0, -1.0, 2.0]])
    A = np.array([[[0.30, 0.10, 0.00], [0.10, 0.20, 0.05], [0.00, 0.05, 0.10]],
                  [[0.10, -0.05, 0.00], [-0.05, 0.15, 0.02], [0.00, 0.02, 0.25]],
                  [[0.05, 0.00, 0.00], [0.00, 0.05, 0.00], [0.00, 0.00, 0.05]],
                  [[0.20, 0.00, 0.10], [0.00, 0.10, 0.00], [0.10, 0.00, 0.20]]])
    return GaussianMixture(w, means, A)
