"""k-eigenvalue of a multiplying slab by power iteration.

``L psi = (1/k) F psi``: each outer (power) iteration solves the fixed-source problem with the
fission source ``chi_g sum_g' nu sigma_f,g' phi_g' / k`` (one Gauss-Seidel pass over groups,
each within-group solve accelerated by DSA or GMRES), then updates
``k <- k * int F phi_new / int F phi_old``. Upscatter converges together with the fission source.
Stopping: |k change| < tol and the estimated fission-source error (change times
rho/(1 - rho), rho the measured dominance ratio) below sqrt(tol)... capped at tol * 100.

Reference: E. E. Lewis & W. F. Miller, Computational Methods of Neutron Transport (1984), ch. 4.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from .. import ConvergenceError
from .._validate import check_array, check_int, check_nonnegative, check_positive
from ._surface import check_progress, new_axes, plain_attrs, progress_bar, xarray
from .iterate import Discretisation, _check_common, _multigroup
from .problem import Slab

__all__ = ["k_eigenvalue", "EigenSolution"]


@dataclass(frozen=True)
class EigenSolution:
    """k, the fundamental-mode scalar flux ``phi`` (G, N) normalised to unit fission source,
    outer iterations, the history of k and the measured dominance ratio."""

    k: float
    phi: np.ndarray
    iterations: int
    k_history: np.ndarray | None = field(repr=False, default=None)
    dominance_ratio: float = 0.0
    inner_iterations: int = 0
    x_edges: np.ndarray | None = field(repr=False, default=None)
    x_centres: np.ndarray | None = field(repr=False, default=None)
    wall_time: float = 0.0
    converged: bool = True

    def __post_init__(self):
        object.__setattr__(self, "k", check_positive("k", self.k))
        phi = check_array("phi", self.phi, ndim=2, finite=False)
        if phi.shape[0] < 1 or phi.shape[1] < 1:
            raise ValueError(f"phi must have shape (G, N) with G, N >= 1, got {phi.shape}")
        N = phi.shape[1]
        object.__setattr__(self, "iterations", check_int("iterations", self.iterations, low=0))
        object.__setattr__(self, "inner_iterations",
                           check_int("inner_iterations", self.inner_iterations, low=0))
        object.__setattr__(self, "dominance_ratio",
                           check_nonnegative("dominance_ratio", self.dominance_ratio))
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if self.k_history is not None:
            check_array("k_history", self.k_history, ndim=1)
        if self.x_edges is not None:
            edges = check_array("x_edges", self.x_edges, ndim=1)
            if edges.shape != (N + 1,) or np.any(np.diff(edges) <= 0):
                raise ValueError(f"x_edges must be increasing with shape ({N + 1},) (cells of "
                                 f"phi), got shape {edges.shape}")
        if self.x_centres is not None:
            centres = check_array("x_centres", self.x_centres, ndim=1)
            if centres.shape != (N,):
                raise ValueError(f"x_centres must have shape ({N},), got {centres.shape}")
        if not isinstance(self.converged, bool | np.bool_):
            raise TypeError(f"converged must be a bool, got {type(self.converged).__name__}")

    def plot(self, ax=None, **kwargs):
        """The fundamental-mode scalar flux vs x (cm), cell averages as steps, one line per
        group; ``kwargs`` go to ``Axes.stairs``. Returns the Axes."""
        if self.x_edges is None:
            raise ValueError("x_edges is None: plot needs the cell edges")
        ax = new_axes(ax, figsize=(7, 3.5))
        for g in range(self.phi.shape[0]):
            ax.stairs(self.phi[g], self.x_edges, label=f"group {g + 1}", **kwargs)
        ax.set(xlabel="x (cm)", ylabel="scalar flux", title=f"k = {self.k:.6f}")
        return ax

    def to_xarray(self):
        """An xarray Dataset: ``phi`` over (``group``, ``x``) (``x`` the cell centres in cm, or
        the cell index without them; ``x_edge`` the edges), ``k_history`` over ``outer``
        (k after each outer iteration, the first entry k0); k and the diagnostics as
        attributes (xarray imported lazily)."""
        xr = xarray()
        G, N = self.phi.shape
        coords = {"group": np.arange(G),
                  "x": ("x", np.arange(N) if self.x_centres is None else self.x_centres,
                        {"units": "cm" if self.x_centres is not None else "cell index"})}
        data = {"phi": (("group", "x"), self.phi,
                        {"normalisation": "sum over groups and cells of nu_sigma_f phi h = 1",
                         "long_name": "fundamental-mode scalar flux"})}
        if self.x_edges is not None:
            coords["x_edge"] = ("x_edge", self.x_edges, {"units": "cm"})
        if self.k_history is not None:
            coords["outer"] = np.arange(self.k_history.size)
            data["k_history"] = ("outer", self.k_history)
        attrs = plain_attrs(k=self.k, iterations=self.iterations,
                            dominance_ratio=self.dominance_ratio,
                            inner_iterations=self.inner_iterations, wall_time=self.wall_time,
                            converged=self.converged)
        return xr.Dataset(data, coords=coords, attrs=attrs)


def k_eigenvalue(slab: Slab, *, order: int = 16, scheme: str = "diamond", accel: str = "dsa",
                 tol: float = 1e-8, max_iter: int = 2000, inner_tol: float | None = None,
                 k0: float = 1.0, raise_on_fail: bool = True, progress: bool = False
                 ) -> EigenSolution:
    """Fundamental k-eigenvalue and flux of ``slab`` (power iteration).

    Raises ``ConvergenceError`` (with the last iterate) if ``max_iter`` outer iterations do
    not reach ``tol`` on k; ``ValueError`` if nothing is fissile, or if the slab has a fixed
    ``source`` or an ``incident`` flux (the k-eigenvalue problem is homogeneous: they would
    be added to the fission source and change k without notice). ``progress=True`` shows a
    tqdm bar over the outer iterations.
    """
    tol, max_iter = _check_common(slab, accel, tol, max_iter, raise_on_fail)
    k0 = check_positive("k0", k0)
    progress = check_progress(progress)
    if not any(m.fissile for m in slab.materials):
        raise ValueError("k_eigenvalue needs fissile material (nu_sigma_f > 0 somewhere)")
    # L psi = (1/k) F psi is homogeneous: a fixed source or an incident flux would be added
    # to the fission source of every outer iteration and silently change k
    for i, r in enumerate(slab.regions):
        if np.any(r.source != 0):
            raise ValueError(f"regions[{i}].source must be 0 for k_eigenvalue (a k-eigenvalue "
                             f"problem has no fixed source), got {r.source}; use solve() for "
                             "a subcritical system with a source")
    if slab.incident:
        raise ValueError(f"incident must be None for k_eigenvalue (a k-eigenvalue problem has "
                         f"no incoming flux), got incident on {sorted(slab.incident)}")
    inner_tol = min(tol * 1e-2, 1e-10) if inner_tol is None else check_positive("inner_tol",
                                                                                   inner_tol)
    t0 = time.perf_counter()
    disc = Discretisation(slab, order, scheme)
    d = disc.data
    G, N, L1 = disc.G, disc.N, disc.L + 1
    h = disc.h

    def fission_rate(mom):
        return np.sum(d["nu_sigma_f"] * mom[0], axis=0)  # (N,)

    mom = np.zeros((L1, G, N))
    mom[0] = 1.0
    F = fission_rate(mom)
    F /= np.sum(F * h)
    k = k0
    ks, changes = [k], []
    inner = 0
    rho = 0.0
    converged = False
    it = 0
    bar = progress_bar(progress, "k_eigenvalue", "outer")
    with contextlib.nullcontext() if bar is None else bar:
        for it in range(1, max_iter + 1):
            external = np.zeros((L1, G, N))
            external[0] = d["chi"] * F[None, :] / k
            mom, _, nin, _, _, ok = _multigroup(disc, accel, inner_tol, 10_000, external,
                                                moments0=mom, max_outer=1)
            inner += nin
            Fn = fission_rate(mom)
            total = np.sum(Fn * h)
            k_new = k * total
            Fn /= total
            change = float(np.max(np.abs(Fn - F)) / np.max(np.abs(Fn)))
            changes.append(change)
            if len(changes) >= 3 and changes[-2] > 0:
                rho = min(max(changes[-1] / changes[-2], changes[-2] / max(changes[-3], 1e-300)),
                          0.999999)
            dk = abs(k_new - k)
            k, F = k_new, Fn
            ks.append(k)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(k=f"{k:.8f}", refresh=False)
            src_err = change * rho / (1 - rho) if len(changes) >= 3 else np.inf
            if it >= 3 and dk < tol * k and src_err < max(np.sqrt(tol), 100 * tol):
                converged = True
                break
    mom[0] /= np.sum(fission_rate(mom) * h)
    sol = EigenSolution(k=float(k), phi=mom[0].copy(), iterations=it, k_history=np.array(ks),
                        dominance_ratio=rho, inner_iterations=inner, x_edges=slab.x_edges,
                        x_centres=slab.x_centres, wall_time=time.perf_counter() - t0,
                        converged=converged)
    if not converged and raise_on_fail:
        raise ConvergenceError(f"k_eigenvalue did not converge to tol={tol} in {max_iter} "
                               f"outer iterations (k = {k:.8f}, dominance ratio {rho:.4f})",
                               result=sol)
    return sol
