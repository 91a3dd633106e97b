"""Task functions for ``sciflow sweep`` (:mod:`sciflow.sweep`): plain keyword parameters in,
a dict of named scalars and fixed-shape arrays out; module-level, so they pickle by reference to
process pools and Dask workers.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_in_range, check_int, check_positive
from .iterate import solve
from .problem import Material, Region, Slab

__all__ = ["slab_leakage"]


def slab_leakage(*, c: float, thickness: float, sigma_t: float = 1.0, source: float = 1.0,
                 cells: int = 100, order: int = 8, scheme: str = "diamond", accel: str = "dsa",
                 tol: float = 1e-10, max_iter: int = 100_000) -> dict:
    """One-group homogeneous slab with vacuum sides and a uniform isotropic source.

    Parameters
    ----------
    c : float
        Scattering ratio sigma_s/sigma_t, 0 <= c < 1.
    thickness : float
        Slab width (cm); the optical thickness is ``sigma_t * thickness`` (mean free paths).
    sigma_t : float
        Total cross section (1/cm).
    source : float
        Isotropic source density (particles/(cm^3 s)).
    cells, order, scheme, accel, tol, max_iter
        Mesh (equal cells) and the options of :func:`sciflow.transport.solve`.

    Returns
    -------
    dict
        ``leakage_left``, ``leakage_right``, ``absorption`` (particles/(cm^2 s), per unit
        area), ``balance`` (source * thickness - leakages - absorption, the particle balance
        residual), ``iterations`` (int), ``spectral_radius`` (estimated from the last
        iterations), ``phi`` (shape (cells,), the scalar flux at the cell centres).
    """
    c = check_in_range("c", c, 0.0, 1.0, high_open=True)
    thickness = check_positive("thickness", thickness)
    sigma_t = check_positive("sigma_t", sigma_t)
    source = check_positive("source", source)
    cells = check_int("cells", cells, low=1)
    slab = Slab([Region(Material(sigma_t, c * sigma_t), thickness, source=source, cells=cells)])
    sol = solve(slab, order=order, scheme=scheme, accel=accel, tol=tol, max_iter=max_iter)
    left, right = float(sol.leakage_left[0]), float(sol.leakage_right[0])
    absorption = float(sol.absorption[0])
    return {"leakage_left": left, "leakage_right": right, "absorption": absorption,
            "balance": source * thickness - left - right - absorption,
            "iterations": int(sol.iterations), "spectral_radius": float(sol.spectral_radius),
            "phi": np.asarray(sol.phi[0], dtype=float)}
