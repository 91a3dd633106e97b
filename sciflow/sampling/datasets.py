"""Two-dimensional toy data sets for training and testing score / flow models (NumPy only).

:func:`make_dataset` draws ``n`` points, float64, shape ``(n, 2)``:

``"gaussian_mixture"``  ``n_components`` (8) isotropic Gaussians of standard deviation ``std``
                        (0.1) with equal weights, centred on a circle of radius ``radius``
                        (2.0), the first at angle 0. :func:`gaussian_mixture_model` returns the
                        same distribution as an exact :class:`~sciflow.sampling.models.
                        GaussianMixture`, so a model trained on these samples can be compared
                        with the exact score.
``"two_moons"``         scikit-learn's two interleaving half circles (outer: ``(cos a, sin a)``,
                        inner: ``(1 - cos a, 1/2 - sin a)``, ``a ~ U(0, pi)``), shifted by
                        ``(-1/2, -1/4)`` so the mean is zero and multiplied by ``scale`` (1.0),
                        plus Gaussian noise of standard deviation ``noise`` (0.05).
``"spirals"``           two interleaved arms (the second is the first rotated by pi): angle
                        ``a = turns * 2 pi * sqrt(u)``, ``u ~ U(0, 1)`` (uniform density along
                        the area), radius ``scale * a / (turns * 2 pi)`` (so the arms end at
                        radius ``scale``, default 2.0), ``turns = 1.5``, plus Gaussian noise
                        ``noise`` (0.05).
``"checkerboard"``      uniform on the dark squares of a ``size`` x ``size`` (4) board covering
                        ``[-scale, scale]^2`` (``scale`` 2.0); the square at the lower left
                        corner is dark (label: the index of the dark square).
``"rings"``             ``n_rings`` (2) concentric circles of radii ``scale * k / n_rings``,
                        ``k = 1..n_rings``, points spread proportionally to the circumference,
                        plus Gaussian noise ``noise`` (0.05).

``rng`` is a ``numpy.random.Generator``, an integer seed or ``None``; the same seed gives the
same points. With ``return_labels=True`` an integer array of the component / moon / arm /
dark-square / ring index of every point is returned as well.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_rng, check_choice, check_int, check_nonnegative, check_positive

__all__ = ["DATASETS", "make_dataset", "gaussian_mixture_model"]

DATASETS = ("gaussian_mixture", "two_moons", "spirals", "checkerboard", "rings")

_DEFAULTS = {
    "gaussian_mixture": {"n_components": 8, "radius": 2.0, "std": 0.1},
    "two_moons": {"noise": 0.05, "scale": 1.0},
    "spirals": {"noise": 0.05, "scale": 2.0, "turns": 1.5},
    "checkerboard": {"size": 4, "scale": 2.0},
    "rings": {"n_rings": 2, "noise": 0.05, "scale": 2.0},
}


def _options(name, kw):
    defaults = _DEFAULTS[name]
    unknown = set(kw) - set(defaults)
    if unknown:
        raise TypeError(f"unexpected option(s) for data set {name!r}: {sorted(unknown)}; "
                        f"allowed: {sorted(defaults)}")
    return {**defaults, **kw}


def make_dataset(name, n, rng=None, *, return_labels=False, **kw):
    """Draw ``n`` points of the 2-D toy data set ``name`` (see the module docstring).

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    n : int
        Number of points (>= 0).
    rng : numpy.random.Generator, int or None
        Random source (an integer is a seed).
    return_labels : bool
        Also return an ``int64`` array of shape ``(n,)`` with each point's component label.
    **kw
        Data-set options (``n_components``, ``radius``, ``std``, ``noise``, ``scale``,
        ``turns``, ``size``, ``n_rings``; see the module docstring). Unknown options raise
        ``TypeError``.

    Returns
    -------
    x : ndarray, float64, shape (n, 2)
    labels : ndarray, int64, shape (n,)  (only with ``return_labels=True``)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__} {name!r}")
    check_choice("name", name, DATASETS)
    n = check_int("n", n, low=0)
    if not isinstance(return_labels, bool | np.bool_):
        raise TypeError(f"return_labels must be a bool, got {return_labels!r}")
    opts = _options(name, kw)
    rng = as_rng(rng)
    x, labels = _MAKERS[name](n, rng, **opts)
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(n, 2)
    labels = np.asarray(labels, dtype=np.int64).reshape(n)
    return (x, labels) if return_labels else x


def _circle_means(n_components, radius):
    ang = 2.0 * math.pi * np.arange(n_components) / n_components
    return radius * np.stack([np.cos(ang), np.sin(ang)], axis=1)


def _gaussian_mixture(n, rng, *, n_components, radius, std):
    k = check_int("n_components", n_components, low=1)
    radius = check_nonnegative("radius", radius)
    std = check_positive("std", std)
    means = _circle_means(k, radius)
    labels = rng.integers(0, k, size=n)
    return means[labels] + std * rng.standard_normal((n, 2)), labels


def _two_moons(n, rng, *, noise, scale):
    noise = check_nonnegative("noise", noise)
    scale = check_positive("scale", scale)
    labels = rng.integers(0, 2, size=n)
    a = rng.uniform(0.0, math.pi, size=n)
    outer = np.stack([np.cos(a), np.sin(a)], axis=1)
    inner = np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)], axis=1)
    x = np.where(labels[:, None] == 0, outer, inner) - np.array([0.5, 0.25])
    x = scale * x + noise * rng.standard_normal((n, 2))
    return x, labels


def _spirals(n, rng, *, noise, scale, turns):
    noise = check_nonnegative("noise", noise)
    scale = check_positive("scale", scale)
    turns = check_positive("turns", turns)
    labels = rng.integers(0, 2, size=n)
    a_max = 2.0 * math.pi * turns
    a = a_max * np.sqrt(rng.uniform(0.0, 1.0, size=n))
    r = scale * a / a_max
    sign = np.where(labels == 0, 1.0, -1.0)[:, None]
    x = sign * np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    return x + noise * rng.standard_normal((n, 2)), labels


def _checkerboard(n, rng, *, size, scale):
    size = check_int("size", size, low=1)
    scale = check_positive("scale", scale)
    # dark squares: (i + j) even, i, j in 0..size-1; pick one uniformly, then a point in it
    cells = np.array([(i, j) for i in range(size) for j in range(size) if (i + j) % 2 == 0],
                     dtype=float).reshape(-1, 2)
    pick = rng.integers(0, cells.shape[0], size=n)
    u = rng.uniform(0.0, 1.0, size=(n, 2))
    width = 2.0 * scale / size
    x = -scale + width * (cells[pick] + u)
    return x, pick


def _rings(n, rng, *, n_rings, noise, scale):
    k = check_int("n_rings", n_rings, low=1)
    noise = check_nonnegative("noise", noise)
    scale = check_positive("scale", scale)
    radii = scale * np.arange(1, k + 1) / k
    labels = rng.choice(k, size=n, p=radii / radii.sum())
    a = rng.uniform(0.0, 2.0 * math.pi, size=n)
    r = radii[labels]
    x = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    return x + noise * rng.standard_normal((n, 2)), labels


_MAKERS = {
    "gaussian_mixture": _gaussian_mixture,
    "two_moons": _two_moons,
    "spirals": _spirals,
    "checkerboard": _checkerboard,
    "rings": _rings,
}


def gaussian_mixture_model(n_components=8, radius=2.0, std=0.1):
    """The exact :class:`~sciflow.sampling.models.GaussianMixture` that
    ``make_dataset("gaussian_mixture", n, rng, n_components=..., radius=..., std=...)`` samples
    (equal weights, means on the circle, covariances ``std^2 I``)."""
    from .models import GaussianMixture

    k = check_int("n_components", n_components, low=1)
    radius = check_nonnegative("radius", radius)
    std = check_positive("std", std)
    covs = np.broadcast_to(std * std * np.eye(2), (k, 2, 2)).copy()
    return GaussianMixture(np.full(k, 1.0 / k), _circle_means(k, radius), covs)
