"""Angular quadrature for slab geometry: Gauss-Legendre S_N.

The N-point Gauss-Legendre rule integrates polynomials of degree 2N-1 in mu on [-1, 1]
exactly; its weights sum to 2, so the scalar flux is ``phi = sum_n w_n psi_n``.

Reference: E. E. Lewis & W. F. Miller, Computational Methods of Neutron Transport (1984), §2-2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .._validate import check_array, check_int
from ._surface import new_axes, xarray

__all__ = ["Quadrature", "gauss_legendre"]


@dataclass(frozen=True)
class Quadrature:
    """Directions ``mu`` (sorted ascending, first half negative) and weights ``w`` (sum 2).

    The sweeps use the half ``mu[N/2:]`` and mirror it, so the set must be symmetric
    (``mu = -mu[::-1]``, ``w = w[::-1]``), of even size N >= 2, with |mu| in (0, 1] and
    positive weights summing to 2 (checked on construction).
    """

    mu: np.ndarray
    w: np.ndarray

    def __post_init__(self):
        mu = check_array("mu", self.mu, ndim=1, min_size=2)
        w = check_array("w", self.w, ndim=1)
        if w.shape != mu.shape:
            raise ValueError(f"w must have the shape of mu {mu.shape}, got {w.shape}")
        if mu.size % 2:
            raise ValueError(f"mu must hold an even number of directions, got {mu.size}")
        if np.any(np.diff(mu) <= 0):
            raise ValueError("mu must be sorted strictly ascending")
        if np.any(np.abs(mu) > 1.0) or np.any(mu == 0.0):
            raise ValueError("mu must lie in [-1, 1] without mu = 0")
        if not np.allclose(mu, -mu[::-1], rtol=0.0, atol=1e-13):
            raise ValueError("mu must be symmetric about 0 (mu = -mu[::-1])")
        if np.any(w <= 0):
            raise ValueError("w must be > 0")
        if not np.allclose(w, w[::-1], rtol=1e-12, atol=0.0):
            raise ValueError("w must be symmetric (w = w[::-1])")
        if abs(w.sum() - 2.0) > 1e-10:
            raise ValueError(f"w must sum to 2 (phi = sum_n w_n psi_n), got {w.sum()!r}")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "w", w)

    @property
    def order(self) -> int:
        return self.mu.size

    def plot(self, ax=None, **kwargs):
        """The weights ``w`` against the directions ``mu`` as markers (``kwargs`` go to
        ``Axes.plot``); returns the Axes."""
        ax = new_axes(ax, figsize=(5, 3))
        kwargs.setdefault("marker", "o")
        kwargs.setdefault("ls", "none")
        ax.plot(self.mu, self.w, **kwargs)
        ax.set(xlabel="mu (direction cosine)", ylabel="weight w",
               title=f"S{self.order} Gauss-Legendre")
        return ax

    def to_xarray(self):
        """An xarray Dataset: the weights ``w`` over ``mu`` (xarray imported lazily)."""
        return xarray().Dataset({"w": ("mu", self.w, {"long_name": "quadrature weight"})},
                                coords={"mu": ("mu", self.mu,
                                               {"long_name": "direction cosine"})},
                                attrs={"order": self.order, "weights_sum": 2.0})

    def legendre(self, L: int) -> np.ndarray:
        """P_l(mu_n) for l = 0..L, shape (L+1, N)."""
        L = check_int("L", L, low=0)
        return np.array([special.eval_legendre(l, self.mu) for l in range(L + 1)])


def gauss_legendre(N: int) -> Quadrature:
    """S_N Gauss-Legendre quadrature for even N >= 2 (symmetric, no mu = 0 direction)."""
    N = check_int("order", N, low=2)
    if N % 2:
        raise ValueError(f"order must be even (S_N with N even has no mu = 0 direction), got {N}")
    mu, w = np.polynomial.legendre.leggauss(N)
    return Quadrature(mu=mu, w=w)
