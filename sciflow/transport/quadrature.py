"""Angular quadrature for slab geometry: Gauss-Legendre S_N.

The N-point Gauss-Legendre rule integrates polynomials of degree 2N-1 in mu on [-1, 1]
exactly; its weights sum to 2, so the scalar flux is ``phi = sum_n w_n psi_n``.

Reference: E. E. Lewis & W. F. Miller, Computational Methods of Neutron Transport (1984), §2-2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .._validate import check_int

__all__ = ["Quadrature", "gauss_legendre"]


@dataclass(frozen=True)
class Quadrature:
    """Directions ``mu`` (sorted ascending, first half negative) and weights ``w`` (sum 2)."""

    mu: np.ndarray
    w: np.ndarray

    @property
    def order(self) -> int:
        return self.mu.size

    def legendre(self, L: int) -> np.ndarray:
        """P_l(mu_n) for l = 0..L, shape (L+1, N)."""
        return np.array([special.eval_legendre(l, self.mu) for l in range(L + 1)])


def gauss_legendre(N: int) -> Quadrature:
    """S_N Gauss-Legendre quadrature for even N >= 2 (symmetric, no mu = 0 direction)."""
    N = check_int("order", N, low=2)
    if N % 2:
        raise ValueError(f"order must be even (S_N with N even has no mu = 0 direction), got {N}")
    mu, w = np.polynomial.legendre.leggauss(N)
    return Quadrature(mu=mu, w=w)
