"""Weighted Helmholtz–Hodge decomposition of a vector field: conservative part + gauge part.

Horvat & Pfister (ICLR 2024, arXiv:2402.03845): a vector field ``s`` in L2(p) splits uniquely
and L2(p)-orthogonally as

    s = grad phi + r,    div(p r) = 0 in the domain,   p r . n = 0 on its boundary,

where ``phi`` solves the weighted Poisson (Neumann) problem ``div(p grad phi) = div(p s)`` with
``p grad phi . n = p s . n``. Hence ``E_p |s|^2 = E_p |grad phi|^2 + E_p |r|^2``. A score model
``s = grad log p + r`` has the exact marginals iff its "gauge" part ``r`` is of this kind.

Grids (:func:`decompose`, 1-, 2- and 3-D)
-----------------------------------------
Cell-centred finite volumes on a box of equal cells (``grid`` gives the cell centres, equally
spaced along each axis). With ``P`` the face densities (arithmetic mean of the two neighbouring
cells by default, harmonic on request), ``G`` the compact face gradient
``(phi_{i+1} - phi_i) / h`` on the interior faces and ``D`` the divergence of face fluxes with
zero flux through the boundary faces (``D = -G^T``), the field's face-normal components
``S = (s_i + s_{i+1}) / 2`` and

    A phi = b,    A = G^T P G  (symmetric, positive semi-definite, 2 ndim + 1 point stencil),
                  b = -D (P S),

so that the face gauge part ``R = S - G phi`` satisfies ``D (P R) = -(b - A phi)``: the discrete
gauge condition holds to the linear solver's relative residual ``tol``. The boundary condition
is built in (``R . n = 0`` on boundary faces: the no-flux condition). ``A`` is singular on a
connected grid only through constants; ``phi`` is fixed to have zero p-weighted mean.
The scheme is second order: ``grad phi``, ``phi`` and ``r`` converge as ``h^2``.

Only ``p / max p`` enters, so the density may have any normalisation and any dynamic range
(Gaussian tails at ``1e-76 max p`` need no floor). Two things make that work. (1) The singular
pure-Neumann system is made consistent without touching the low-density cells: the right-hand
side and the CG residuals are projected on ``sum = 0`` along the density (not by subtracting
their plain mean, which adds a round-off constant far larger than a tail cell's entries), and
the sparse factorisations pin the *densest* cell (pinning a cell of tiny density leaves a
reduced matrix whose smallest eigenvalue is that cell's coupling, ``1e-29`` and less). (2) A
solve is accepted only when both the global residual ``||D (P R)|| <= tol ||D (P S)||`` and the
*local* residual - in every cell ``|D (P R)|`` relative to the sum of that cell's absolute
face fluxes ``P |S|`` and ``P |G phi|`` - are small (``local_tol``, default ``sqrt(tol)``): the
global norm only sees the dense cells, the local one also the tails.

Solvers (``method``), all for the same discrete system, so they agree to ``tol``:

* ``"multigrid"`` — conjugate gradients (stopping at ``||b - A phi|| <= tol ||b||``)
  preconditioned by a geometric multigrid V-cycle (numba kernels, :class:`_Multigrid`); where
  cells of low density have not converged yet, CG rounds on their residual alone (whose scale
  is theirs) follow;
* ``"amg"`` — the same with one V-cycle of pyamg classical Ruge–Stüben (``amg="rs"``,
  default) or smoothed-aggregation (``amg="sa"``) AMG, built for the Jacobi-scaled matrix
  ``D^-1/2 A D^-1/2`` (scale-free, so steep tails do not spoil it);
* ``"direct"`` — SuperLU with the densest cell pinned, plus up to 3 steps of iterative
  refinement (measured local residuals 1e-15..1e-12 for densities spanning 1e-76..1);
* ``"auto"`` (default) — ``"multigrid"`` (``"amg"`` when numba is disabled,
  ``SCIFLOW_DISABLE_JIT=1``) if ``min p / max p >= 1e-20``; for steeper densities, where the
  geometric multigrid's linear interpolation needs hundreds of iterations or stalls,
  ``"direct"`` up to 250 000 cells in 1-/2-D, else (and in 3-D) ``"amg"``. If CG breaks down or
  reaches ``maxiter``, ``"auto"`` falls back to ``"direct"`` up to 250 000 cells in 1-/2-D
  and 10 000 in 3-D (``info["fallback"]`` says so); otherwise
  :class:`~sciflow.ConvergenceError` carries the partial result. Measured
  (``benchmarks/bench_gauge_decompose.py``, 2 shared cores, tol 1e-10): 1024^2 cells in 2.2 s
  (multigrid) vs 8.2 s (AMG), 128^3 in 3.4 s vs 29 s; both take 8-13 CG iterations whatever the
  grid size on densities within 1e-12 of their maximum; the direct solver takes 0.8 s at 256^2
  and 11 s at 32^3;
* ``"fft"`` — constant density only: ``A`` is diagonalised by the type-II discrete cosine
  transform (``scipy.fft.dctn``), eigenvalues ``sum_k (2 - 2 cos(pi j_k / n_k)) / h_k^2``.

CG uses a symmetric preconditioner ``Q^T M Q`` with ``Q`` the density-weighted projection on
the range of ``A`` (the constant is deflated); a non-positive curvature (an indefinite
preconditioner, or round-off) stops CG with a :class:`~sciflow.ConvergenceError` instead of an
answer.

Cell-centred output. The solver's gauge part lives on the faces: ``R_k`` on the interior faces
along axis ``k`` (``Decomposition.r_faces``), 0 on the boundary faces. At the cell centres,
``r_k`` is the mean of ``R_k`` on the cell's two faces along axis ``k`` and ``grad_phi = s -
r``: local (a cell sees only its own faces) and second order. In 1-D the no-flux condition
forces ``p R = const = 0``, so ``r`` is zero to the solver tolerance. (An earlier version
reconstructed ``grad phi`` at the centres so that its face averages reproduced ``G phi``
exactly; that inverse of face averaging carries an alternating mode ``(-1)^i`` along whole grid
lines, which tails and under-resolved regions excited, and then spread into the dense cells:
gauge fractions of 0.36 instead of 0.2 at the exact discrete solution, 2e10 with a poor one.)
:func:`gauge_residual` of the cell-centred ``r`` therefore equals the solver residual only up
to the discretisation error ``O(h^2)``; ``Decomposition.residual`` is ``D (P R)`` of the face
field.

Density. Finite and ``>= 0`` everywhere, not identically zero. Zeros are allowed as long as the
cells stay connected through faces of positive face density — with arithmetic means (default) a
zero cell next to a positive one is fine (even a one-cell-thick zero line), but a zero region
two or more cells thick isolates cells or splits the grid; with harmonic means every zero cell
is cut off. Otherwise the weighted problem is singular and a ``ValueError`` says so. Positive
values below ``1e-150 max p`` are raised to it (products of two of them underflow in the
elimination and the multigrid; their weight is nil either way).
``density_floor = eps > 0`` replaces ``p`` by ``max(p, eps * max(p))`` first (to lift such
zeros); the floored density is the one used everywhere (returned in
``Decomposition.density``). Its effect: the decomposition is the one for the floored weight,
so ``r`` changes where ``p < eps max p`` and, through the fluxes those cells now carry, a little
everywhere; the p-weighted energies change by ``O(eps)``. Measured on the 8-Gaussian circle
(64^2 cells on [-3, 3]^2, gauge part 0.5 J grad log p, t = 0.015 / 0.05 / 0.1): relative
change of the gauge fraction 2.5e-10 / 2.4e-11 / 0 for ``eps = 1e-12``, 2.9e-6 / 3.0e-7 /
1.3e-8 for ``1e-8``, 2.7e-2 / 3.9e-3 / 4.0e-4 for ``1e-4``.

Samples (:func:`decompose_samples`, any dimension)
--------------------------------------------------
``phi = sum_j c_j psi_j`` in a basis without constants — products of normalised probabilists'
Hermite polynomials of total degree ``1..degree`` (``basis="polynomial"``) or random Fourier
features ``sqrt(2/m) cos(w . z + b)`` (``basis="fourier"``), both in whitened coordinates
``z = L^{-1}(x - mean)`` — fitted by the weak form ``E_p[grad psi_i . (s - grad phi)] = 0`` for
all ``i`` with the expectation over the samples: the Galerkin system ``(G + lambda I) c = b``,
``G_ij = E[grad psi_i . grad psi_j]``, ``b_i = E[grad psi_i . s]``, ``lambda = ridge *
trace(G) / m``.

References
----------
C. Horvat, J.-P. Pfister, "On gauge freedom, conservativity and intrinsic dimensionality
estimation in diffusion models", ICLR 2024, arXiv:2402.03845. A. S. Almgren, J. B. Bell,
W. G. Szymczak, SIAM J. Sci. Comput. 17 (1996) 358 (approximate projections).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .. import ConvergenceError
from .._validate import (
    as_rng,
    check_array,
    check_choice,
    check_in_range,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)
from ._surface import (
    GRID_DIMS,
    check_progress,
    grid_coords,
    new_axes,
    plain_attrs,
    plot_cells,
    progress_bar,
    xarray,
)

__all__ = [
    "Decomposition",
    "GaugeEnergy",
    "GaugeResidual",
    "SampleDecomposition",
    "decompose",
    "decompose_samples",
    "gauge_residual",
]

METHODS = ("auto", "multigrid", "amg", "direct", "fft")
AMG_KINDS = ("sa", "rs")
FACE_DENSITIES = ("arithmetic", "harmonic")
BASES = ("polynomial", "fourier")
_SPACING_RTOL = 1e-6
MAX_BASIS = 5000
_CACHE_ELEMENTS = 2e7  # basis gradients kept between the two passes (160 MB)
_REFINE_STEPS = 3  # iterative refinement steps after a direct solve
_ROUND_TOL = 1e-6  # CG tolerance of a local-residual correction round
_MAX_ROUNDS = 6  # local-residual correction rounds
_ROUND_MAXITER = 100  # CG iterations per round
_FALLBACK_UNKNOWNS = 250_000  # method="auto": direct solve if CG fails, 1-/2-D
_FALLBACK_UNKNOWNS_3D = 10_000  # the same in 3-D (SuperLU fill: 32^3 takes 11 s)
_WIDE_RANGE = 1e-20  # method="auto": min p / max p below this -> direct (or AMG) solver
_EPS16 = 16.0 * float(np.finfo(float).eps)
_TINY = 1e-150  # positive p / max p below this are raised to it (their products underflow)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GaugeEnergy:
    """``E_p |s|^2``, ``E_p |grad phi|^2``, ``E_p |r|^2`` and ``2 E_p[grad phi . r]`` (p
    normalised). ``orthogonality_error = |field - grad_phi - r| / field`` (= ``|cross| /
    field``)."""

    field: float
    grad_phi: float
    r: float
    cross: float

    def __post_init__(self):
        for name in ("field", "grad_phi", "r"):
            object.__setattr__(self, name, check_nonnegative(name, getattr(self, name)))
        object.__setattr__(self, "cross", check_real("cross", self.cross))

    @property
    def orthogonality_error(self) -> float:
        if self.field == 0.0:
            return 0.0
        return abs(self.field - self.grad_phi - self.r) / self.field

    def plot(self, ax=None, **kwargs):
        """Bar chart of ``E|s|^2``, ``E|grad phi|^2``, ``E|r|^2`` (``kwargs`` go to
        ``Axes.bar``); returns the Axes."""
        return _energy_bars(new_axes(ax, figsize=(4.5, 3.5)),
                            [self.field, self.grad_phi, self.r], **kwargs)

    def to_xarray(self):
        """An xarray Dataset of the scalars ``field``, ``grad_phi``, ``r``, ``cross`` (units of
        the field squared) with ``orthogonality_error`` as an attribute (xarray imported
        lazily)."""
        units = {"units": "(field units)^2"}
        return xarray().Dataset(
            {name: ((), getattr(self, name), units) for name in ("field", "grad_phi", "r",
                                                                  "cross")},
            attrs={"orthogonality_error": self.orthogonality_error})


def _energy_bars(ax, values, **kwargs):
    kwargs.setdefault("color", ["0.4", "tab:blue", "tab:red"])
    ax.bar(["E|s|^2", "E|grad phi|^2", "E|r|^2"], values, **kwargs)
    ax.set(ylabel="energy (p-weighted mean)")
    return ax


@dataclass(frozen=True)
class GaugeResidual:
    """The discrete ``div(p r)`` at the cells and its norms.

    Attributes
    ----------
    divergence : ndarray (grid shape)
        ``D (P R) = sum_k T_k``: face averages ``R`` of ``r``, face densities ``P``, zero
        boundary flux; ``T_k`` is the flux difference along axis ``k`` (the discrete
        ``d_k(p r_k)``).
    norm : float
        ``sqrt(sum divergence^2 * cell volume)`` (the discrete L2 norm of ``div(p r)``).
    relative : float
        The cancellation ratio ``||sum_k T_k|| / ||sum_k |T_k|| ||`` (same norm): 0 for a
        gauge field, at most 1 (1 when nothing cancels, e.g. one non-zero term; always 1 in 1-D
        unless ``p r = 0``). A ratio of two discretisations of continuous quantities, so it
        converges under grid refinement (to ``||div(p r)|| / || sum_k |d_k(p r_k)| ||``).
    reference_norm, relative_to_reference : float
        With a reference field ``s`` (:func:`gauge_residual`'s ``reference``): ``||div(p s)||``
        and ``norm / reference_norm``; NaN without one.

    Unpacks as ``divergence, relative = gauge_residual(...)``.
    """

    divergence: np.ndarray
    norm: float
    relative: float
    reference_norm: float = float("nan")
    relative_to_reference: float = float("nan")

    def __post_init__(self):
        check_array("divergence", self.divergence)
        object.__setattr__(self, "norm", check_nonnegative("norm", self.norm))
        object.__setattr__(self, "relative",
                           check_in_range("relative", self.relative, 0.0, 1.0 + 1e-12))
        for name in ("reference_norm", "relative_to_reference"):
            v = getattr(self, name)
            if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isnan(v):
                object.__setattr__(self, name, float("nan"))
            else:
                object.__setattr__(self, name, check_nonnegative(name, v))

    def __iter__(self):
        return iter((self.divergence, self.relative))

    def plot(self, ax=None, *, grid=None, **kwargs):
        """``div(p r)`` per cell: a line (1-D) or a colour map (2-D; 3-D: the middle slice of
        the third axis) against the cell centres of ``grid`` (cell indices without it);
        ``kwargs`` go to ``Axes.plot`` / ``Axes.pcolormesh``. Returns the Axes."""
        ax = new_axes(ax)
        plot_cells(ax, np.asarray(self.divergence), grid, "div(p r)", **kwargs)
        ax.set_title(f"gauge residual: relative {self.relative:.2e}")
        return ax

    def to_xarray(self, grid=None):
        """An xarray Dataset: ``divergence`` over the grid dims ``x``, ``y``, ``z`` (cell centres
        of ``grid``, or cell indices without it); the norms as attributes (xarray imported
        lazily)."""
        div = np.asarray(self.divergence)
        return xarray().Dataset(
            {"divergence": (GRID_DIMS[:div.ndim], div, {"long_name": "discrete div(p r)"})},
            coords=grid_coords(div.shape, grid),
            attrs={"norm": self.norm, "relative": self.relative,
                   "reference_norm": self.reference_norm,
                   "relative_to_reference": self.relative_to_reference})


@dataclass(frozen=True)
class Decomposition:
    """``s = grad_phi + r`` on a grid, with ``div(density r) = 0`` and ``r . n = 0``.

    Attributes
    ----------
    grad_phi : ndarray (ndim, *shape)
        Conservative part at the cell centres.
    r : ndarray (ndim, *shape)
        Gauge part at the cell centres: component ``k`` is the mean of the face gauge parts
        ``r_faces[k]`` on the cell's two faces along axis ``k`` (0 on the boundary faces);
        ``grad_phi = s - r``.
    phi : ndarray (shape)
        Potential, zero density-weighted mean.
    residual : ndarray (shape)
        The discrete gauge residual ``D (P R)`` of the face gauge parts (the solver residual,
        in the units of ``density``). :func:`gauge_residual` of the cell-centred ``r``
        differs from it by the (second-order) discretisation error.
    residual_norm : float
        ``||D (P R)|| / ||div(p s)||`` (<= ``tol`` on success; 0 if ``div(p s) = 0``).
    iterations : int
        CG iterations (0 for "direct" and "fft").
    method : str
        "multigrid", "amg", "direct" or "fft" (``"auto"`` resolved).
    solver : str
        What solved the system, in words.
    residual_history : ndarray
        Linear-system residual norms per CG iteration, relative to ``||b||``.
    density : ndarray (shape)
        The density used (after ``density_floor``), not normalised.
    grid : tuple of ndarray
        The cell centres.
    face_density : str
    converged : bool
    setup_time, solve_time, wall_time : float
        Seconds (AMG hierarchy or factorisation; solve; whole call).
    info : dict
        Solver details (levels, operator complexity, unknowns, ...), ``local_residual`` (the
        largest cell flux imbalance relative to the cell's absolute fluxes) and
        ``quadrature_gap``: ``|E_face - E_cell| / E_cell`` for ``E_p |s|^2`` by the face
        (face densities, face averages) and the cell-centre quadratures - O(h^2), and of order
        1 on a grid that does not resolve ``p |s|^2`` (cells as wide as the density's modes).
    r_faces : tuple of ndarray
        The face gauge parts ``R_k = S_k - (G phi)_k`` on the interior faces along each axis
        (``n_k - 1`` along axis ``k``), ``S_k`` the face averages of ``s``: the discretely
        divergence-free field (``residual`` is its ``D (P R)``).
    """

    grad_phi: np.ndarray
    r: np.ndarray
    phi: np.ndarray
    residual: np.ndarray
    residual_norm: float = 0.0
    iterations: int = 0
    method: str = "multigrid"
    solver: str = ""
    residual_history: np.ndarray | None = field(default=None, repr=False)
    density: np.ndarray | None = field(default=None, repr=False)
    grid: tuple | None = field(default=None, repr=False)
    face_density: str = "arithmetic"
    converged: bool = True
    setup_time: float = field(default=0.0, compare=False)
    solve_time: float = field(default=0.0, compare=False)
    wall_time: float = field(default=0.0, compare=False)
    info: dict = field(default_factory=dict, compare=False, repr=False)
    r_faces: tuple | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        phi = check_array("phi", self.phi, finite=False)
        if not 1 <= phi.ndim <= 3:
            raise ValueError(f"phi must be 1-, 2- or 3-dimensional, got shape {phi.shape}")
        shape = phi.shape
        for name in ("grad_phi", "r"):
            arr = check_array(name, getattr(self, name), finite=False)
            if arr.shape != (phi.ndim, *shape):
                raise ValueError(f"{name} must have shape (ndim, *phi.shape) = "
                                 f"{(phi.ndim, *shape)}, got {arr.shape}")
        if check_array("residual", self.residual, finite=False).shape != shape:
            raise ValueError(f"residual must have phi's shape {shape}, got "
                             f"{np.shape(self.residual)}")
        if self.density is not None and np.shape(self.density) != shape:
            raise ValueError(f"density must have phi's shape {shape}, got "
                             f"{np.shape(self.density)}")
        if self.grid is not None:
            if not isinstance(self.grid, tuple) or tuple(np.size(g) for g in self.grid) != shape:
                raise ValueError(f"grid must be a tuple of {phi.ndim} axes of sizes {shape}")
        if self.r_faces is not None:
            want = [tuple(n - 1 if j == k else n for j, n in enumerate(shape))
                    for k in range(phi.ndim)]
            if not isinstance(self.r_faces, tuple) or \
                    [np.shape(f) for f in self.r_faces] != want:
                raise ValueError(f"r_faces must be a tuple of {phi.ndim} face arrays of shapes "
                                 f"{want}")
        if not (isinstance(self.residual_norm, numbers.Real) and self.residual_norm >= 0):
            raise ValueError(f"residual_norm must be >= 0, got {self.residual_norm!r}")
        check_int("iterations", self.iterations, low=0)
        check_choice("method", self.method, METHODS)
        check_choice("face_density", self.face_density, FACE_DENSITIES)
        if not isinstance(self.converged, bool | np.bool_):
            raise TypeError(f"converged must be a bool, got {type(self.converged).__name__}")
        for name in ("setup_time", "solve_time", "wall_time"):
            check_nonnegative(name, getattr(self, name))

    @property
    def ndim(self) -> int:
        return int(self.phi.ndim)

    @property
    def field(self) -> np.ndarray:
        """The decomposed field ``s = grad_phi + r``."""
        return self.grad_phi + self.r

    def energy(self) -> GaugeEnergy:
        """``E_p |s|^2 = E_p |grad phi|^2 + E_p |r|^2`` (cell-centre quadrature, p normalised);
        the two sides differ by the discretisation error ``O(h^2)`` (``cross``)."""
        if self.density is None:
            raise ValueError("density is None: energy() needs the density (p weights)")
        w = self.density / self.density.max()
        w = w / w.sum()
        g2 = float(np.sum(w * np.sum(self.grad_phi**2, axis=0)))
        r2 = float(np.sum(w * np.sum(self.r**2, axis=0)))
        gr = float(np.sum(w * np.sum(self.grad_phi * self.r, axis=0)))
        return GaugeEnergy(field=g2 + r2 + 2.0 * gr, grad_phi=g2, r=r2, cross=2.0 * gr)

    def plot(self, ax=None, *, every=None, **kwargs):
        """1-D: s, grad phi and r along the axis; 2-D: density (shaded) with arrows of grad phi
        (blue) and r (red) on about 24 x 24 cells (``every`` sets the stride); 3-D: the same in
        the middle slice of the third axis (first two components). ``kwargs`` go to
        ``Axes.plot`` (1-D) or ``Axes.quiver``. Without ``grid`` the axes are cell indices.
        Returns the Axes."""
        ax = new_axes(ax, figsize=(5.5, 4.5) if self.ndim > 1 else (6, 3.5))
        grid = self.grid if self.grid is not None else tuple(
            np.arange(n, dtype=float) for n in self.phi.shape)
        if self.ndim == 1:
            x = grid[0]
            ax.plot(x, self.field[0], "k-", lw=1.0, label="s", **kwargs)
            ax.plot(x, self.grad_phi[0], "b--", lw=1.2, label="grad phi", **kwargs)
            ax.plot(x, self.r[0], "r:", lw=1.2, label="r", **kwargs)
            ax.set(xlabel="x", ylabel="component")
            ax.legend(fontsize="small")
            return ax
        sl = (slice(None), slice(None)) + ((self.phi.shape[2] // 2,) if self.ndim == 3 else ())
        x, y = grid[0], grid[1]
        if self.density is not None:
            ax.contourf(x, y, self.density[sl].T, levels=12, cmap="Greys", alpha=0.5)
        if every is None:
            every = max(1, max(x.size, y.size) // 24)
        every = check_int("every", every, low=1)
        X, Y = np.meshgrid(x[::every], y[::every], indexing="ij")
        for vec, colour, label in ((self.grad_phi, "tab:blue", "grad phi"),
                                   (self.r, "tab:red", "r")):
            u = vec[(0,) + sl][::every, ::every]
            v = vec[(1,) + sl][::every, ::every]
            ax.quiver(X, Y, u, v, color=colour, label=label, angles="xy", alpha=0.8, **kwargs)
        ax.set(xlabel="x", ylabel="y", aspect="equal",
               title=f"{self.method}: residual {self.residual_norm:.1e}")
        ax.legend(fontsize="small", loc="upper right")
        return ax

    def to_xarray(self):
        """An xarray Dataset over the grid dims ``x``, ``y``, ``z`` (cell centres, or cell indices
        without ``grid``) and ``component`` (0..ndim-1): ``field``, ``grad_phi``, ``r``
        (component, *grid), ``phi``, ``residual`` and ``density`` (*grid), the CG history over
        ``cg_iteration``; scalars as attributes. The face values ``r_faces`` are left out
        (staggered grids). xarray is imported lazily."""
        xr = xarray()
        dims = GRID_DIMS[:self.ndim]
        vec = ("component", *dims)
        data = {"field": (vec, self.field, {"long_name": "s = grad_phi + r"}),
                "grad_phi": (vec, self.grad_phi, {"long_name": "conservative part"}),
                "r": (vec, self.r, {"long_name": "gauge part, div(p r) = 0"}),
                "phi": (dims, self.phi, {"long_name": "potential (p-weighted mean 0)"}),
                "residual": (dims, self.residual, {"long_name": "discrete div(p r) (faces)"})}
        coords = {**grid_coords(self.phi.shape, self.grid), "component": np.arange(self.ndim)}
        if self.density is not None:
            data["density"] = (dims, np.asarray(self.density), {"long_name": "p"})
        if self.residual_history is not None:
            hist = np.asarray(self.residual_history)
            data["residual_history"] = ("cg_iteration", hist)
            coords["cg_iteration"] = np.arange(1, hist.size + 1)
        attrs = plain_attrs(residual_norm=float(self.residual_norm), iterations=self.iterations,
                            method=self.method, solver=self.solver,
                            face_density=self.face_density, converged=self.converged,
                            setup_time=self.setup_time, solve_time=self.solve_time,
                            wall_time=self.wall_time)
        return xr.Dataset(data, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------- validation
def _check_grid(grid):
    if isinstance(grid, np.ndarray) and grid.ndim == 1:
        grid = (grid,)
    if not isinstance(grid, tuple | list):
        raise TypeError(f"grid must be a tuple of 1-D arrays of cell centres, got "
                        f"{type(grid).__name__}")
    ndim = len(grid)
    if not 1 <= ndim <= 3:
        raise ValueError(f"grid must have 1, 2 or 3 axes (a tuple of 1-D arrays), got {ndim}")
    axes, h = [], []
    for k, g in enumerate(grid):
        name = f"grid[{k}]"
        arr = check_array(name, g, ndim=1)
        if arr.size < 3:
            raise ValueError(f"{name} must have at least 3 cell centres, got {arr.size}")
        d = np.diff(arr)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            raise ValueError(f"{name} must be strictly increasing; {name}[{i + 1}] = "
                             f"{arr[i + 1]} follows {name}[{i}] = {arr[i]}")
        hk = (arr[-1] - arr[0]) / (arr.size - 1)
        if np.max(np.abs(d - hk)) > _SPACING_RTOL * hk:
            raise ValueError(f"{name} must be equally spaced (relative tolerance "
                             f"{_SPACING_RTOL:g}); spacings range over [{d.min():.6g}, "
                             f"{d.max():.6g}]")
        arr = arr.copy()
        arr.setflags(write=False)
        axes.append(arr)
        h.append(float(hk))
    return tuple(axes), tuple(h)


def _check_density(density, shape, density_floor, face_density, *, check_connected):
    p = check_array("density", density, finite=False)
    if p.shape != shape:
        raise ValueError(f"density must have the grid's shape {shape}, got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"density must be finite; it has {int(np.count_nonzero(~np.isfinite(p)))}"
                         f" NaN/inf value(s)")
    if np.any(p < 0):
        raise ValueError(f"density must be >= 0 everywhere; min is {p.min():.3g} at "
                         f"{np.unravel_index(int(np.argmin(p)), p.shape)}")
    pmax = float(p.max())
    if pmax <= 0:
        raise ValueError("density must be positive somewhere; it is identically 0")
    if density_floor > 0:
        p = np.maximum(p, density_floor * pmax)
    else:
        p = p.copy()
    if check_connected and (np.any(p == 0) or any(
            np.any(_face_density(p / pmax, k, face_density) == 0) for k in range(p.ndim))):
        n_comp = _n_components(p / pmax, face_density)
        if n_comp > 1:
            raise ValueError(
                f"density: the weighted problem is singular - its zeros split the cells into "
                f"{n_comp} groups with no positive face density between them ({face_density} "
                f"face means; a cell whose neighbours all have density 0 is such a group). "
                f"Use density > 0, or density_floor > 0 (e.g. 1e-12) to lift the zeros")
    return p


def _n_components(p, face_density):
    from scipy.sparse.csgraph import connected_components

    n = p.size
    idx = np.arange(n).reshape(p.shape)
    rows, cols = [], []
    for k in range(p.ndim):
        pf = _face_density(p, k, face_density)
        lo = np.take(idx, np.arange(p.shape[k] - 1), axis=k)
        hi = np.take(idx, np.arange(1, p.shape[k]), axis=k)
        keep = pf > 0
        rows.append(lo[keep])
        cols.append(hi[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    return int(connected_components(graph, directed=False)[0])


def _check_field(fld, shape, name="field"):
    s = check_array(name, fld)
    ndim = len(shape)
    if ndim == 1 and s.shape == shape:
        s = s[None]
    if s.shape != (ndim, *shape):
        raise ValueError(f"{name} must have shape (ndim, *grid shape) = {(ndim, *shape)}, got "
                         f"{s.shape}")
    return s


# --------------------------------------------------------------------------- discretisation
def _sl(ndim, k, s):
    out = [slice(None)] * ndim
    out[k] = s
    return tuple(out)


def _face_density(p, k, kind):
    a = p[_sl(p.ndim, k, slice(None, -1))]
    b = p[_sl(p.ndim, k, slice(1, None))]
    if kind == "arithmetic":
        return 0.5 * (a + b)
    s = a + b
    # 2 a b / (a + b) as 2 a (b / (a + b)): no underflow of a b for tiny densities
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0, 2.0 * a * (b / np.where(s > 0, s, 1.0)), 0.0)


def _face_average(v, k):
    nd = v.ndim
    return 0.5 * (v[_sl(nd, k, slice(None, -1))] + v[_sl(nd, k, slice(1, None))])


def _divergence(fluxes, h, shape):
    """``D F``: sum_k (F_{k, i+1/2} - F_{k, i-1/2}) / h_k with zero boundary flux; also
    ``sum_k |F_{k, i+1/2}| + |F_{k, i-1/2}|) / h_k`` for scaling."""
    div = np.zeros(shape)
    size = np.zeros(shape)
    nd = len(shape)
    for k, (fk, hk) in enumerate(zip(fluxes, h, strict=True)):
        div[_sl(nd, k, slice(None, -1))] += fk / hk
        div[_sl(nd, k, slice(1, None))] -= fk / hk
        a = np.abs(fk) / hk
        size[_sl(nd, k, slice(None, -1))] += a
        size[_sl(nd, k, slice(1, None))] += a
    return div, size


def _face_gradient(phi, k, hk):
    nd = phi.ndim
    return (phi[_sl(nd, k, slice(1, None))] - phi[_sl(nd, k, slice(None, -1))]) / hk


def _assemble(pf, h, shape):
    """CSR matrix ``A = G^T P G`` from the face densities ``pf[k]`` (C order)."""
    n = int(np.prod(shape))
    diag = np.zeros(shape)
    offsets, data = [0], []
    nd = len(shape)
    for k in range(nd):
        w = pf[k] / h[k] ** 2
        diag[_sl(nd, k, slice(None, -1))] += w
        diag[_sl(nd, k, slice(1, None))] += w
        stride = int(np.prod(shape[k + 1:]))
        # coupling of cell i and i + stride, stored at the lower index; zero across line ends
        off = np.zeros(shape)
        off[_sl(nd, k, slice(None, -1))] = -w
        off = off.ravel()[: n - stride]
        offsets.append(stride)
        data.append(off)
    diags = [diag.ravel()] + data + data
    offs = offsets + [-o for o in offsets[1:]]
    A = sp.diags(diags, offs, shape=(n, n), format="csr")
    A.eliminate_zeros()
    return A


# --------------------------------------------------------------------------- solvers
def _solve_fft(p0, b, h, shape):
    from scipy.fft import dctn, idctn

    bh = dctn(b.reshape(shape), type=2, norm="ortho")
    lam = np.zeros(shape)
    for k, (nk, hk) in enumerate(zip(shape, h, strict=True)):
        ev = (2.0 - 2.0 * np.cos(np.pi * np.arange(nk) / nk)) / hk**2
        lam = lam + ev.reshape([-1 if j == k else 1 for j in range(len(shape))])
    lam *= p0
    lam.flat[0] = 1.0
    bh = bh / lam
    bh.flat[0] = 0.0
    return idctn(bh, type=2, norm="ortho").ravel()



def _pin_index(A):
    """The unknown set to 0 in the pinned (pure Neumann) solves: the cell with the largest
    diagonal, i.e. the densest. Pinning a cell of tiny density (the corner ``0`` of a Gaussian
    tail, ``p / max p = 1e-29``) leaves a reduced matrix whose smallest eigenvalue is that tiny
    coupling: the solve then returns garbage potentials in the tails."""
    return int(np.argmax(A.diagonal()))


class _PinnedLU:
    """Sparse LU (SuperLU) of ``A`` with the densest cell pinned: a symmetric pseudo-inverse
    of the singular pure-Neumann matrix on its range."""

    def __init__(self, A):
        from scipy.sparse.linalg import splu

        A = sp.csr_matrix(A)
        self.pin = _pin_index(A)
        keep = np.ones(A.shape[0], dtype=bool)
        keep[self.pin] = False
        self.keep = keep
        self.lu = splu(A[keep][:, keep].tocsc())

    def solve(self, v):
        x = np.zeros_like(v)
        x[self.keep] = self.lu.solve(v[self.keep])
        return x


def _amg_hierarchy(A, kind):
    """pyamg hierarchy of the Jacobi-scaled ``D^-1/2 A D^-1/2`` (scale-free: densities spanning
    1e-70..1 give the same hierarchy as their logarithm would suggest, and the coarsest
    pseudo-inverse sees O(1) entries); returns the symmetric preconditioner for ``A``."""
    import pyamg

    ds = 1.0 / np.sqrt(A.diagonal())
    As = sp.csr_matrix(sp.diags(ds) @ A @ sp.diags(ds))
    if kind == "sa":
        # 'local' (Gershgorin) weighting of the prolongation smoother: no eigenvalue estimate
        ml = pyamg.smoothed_aggregation_solver(As, symmetry="symmetric", max_coarse=50,
                                               smooth=("jacobi", {"weighting": "local"}))
        name = "CG + pyamg smoothed aggregation V-cycle (Jacobi-scaled)"
    else:
        ml = pyamg.ruge_stuben_solver(As, max_coarse=50)
        name = "CG + pyamg Ruge-Stuben V-cycle (Jacobi-scaled)"
    info = {"levels": len(ml.levels), "operator_complexity": float(ml.operator_complexity()),
            "grid_complexity": float(ml.grid_complexity())}
    Ms = ml.aspreconditioner(cycle="V")

    def prec(v):
        return ds * (Ms @ (ds * v))

    return prec, name, info


class _Multigrid:
    """Geometric multigrid V-cycle for ``A = G^T P G`` (the preconditioner of
    ``method="multigrid"``; kernels in :mod:`sciflow.gauge._kernels`).

    Cells are coarsened 2:1 along every axis whose size is even and >= 4 and whose spacing is
    less than twice the smallest (semi-coarsening for stretched cells), while the grid has more
    than ``max_coarse`` cells. The coarse operators are rediscretised: the coarse face density is
    the mean of the fine face densities on that face. Smoothing: ``nu`` red-black Gauss–Seidel
    sweeps (red then black before, black then red after the coarse correction), cell-centred
    (bi/tri)linear prolongation ``P`` and restriction ``P^T / 2^m``, so the cycle is a symmetric
    operator. The coarsest problem is solved by a sparse LU factorisation with the densest cell
    pinned (<= ``max_direct`` cells) or by one Ruge–Stüben AMG V-cycle (grids that do not coarsen
    far, e.g. large odd sizes). Kernels see every grid as 3-D with the missing axes in front.
    """

    def __init__(self, pf, h, shape, *, nu=1, max_coarse=256, max_direct=20000):
        from . import _kernels

        self.k = _kernels
        self.nd = nd = len(shape)
        self.nu = nu
        off = 3 - nd  # missing axes in front: the innermost loops run along a real axis
        real = [k >= off for k in range(3)]
        shape3 = (1,) * off + tuple(shape)
        h3 = [1.0] * off + list(h)
        pf3 = [np.zeros([0 if j == k else s for j, s in enumerate(shape3)]) for k in range(off)]
        pf3 += [np.ascontiguousarray(pf[k].reshape(
            [s - 1 if j == k + off else s for j, s in enumerate(shape3)])) for k in range(nd)]
        self.levels = []
        while True:
            w = tuple(np.ascontiguousarray(pf3[k] / h3[k] ** 2) for k in range(3))
            level = {"shape": shape3, "w": w, "pf": pf3, "h": list(h3), "flags": (0, 0, 0)}
            self.levels.append(level)
            hmin = min(h3[k] for k in range(off, 3))
            flags = tuple(int(real[k] and shape3[k] % 2 == 0 and shape3[k] >= 4
                              and h3[k] < 2.0 * hmin * (1 - 1e-12)) for k in range(3))
            if int(np.prod(shape3)) <= max_coarse or not any(flags):
                break
            level["flags"] = flags
            pf3 = [self._coarse_faces(pf3[k], k, flags) for k in range(3)]
            shape3 = tuple(s // 2 if c else s for s, c in zip(shape3, flags, strict=True))
            h3 = [hk * 2.0 if c else hk for hk, c in zip(h3, flags, strict=True)]
        last = self.levels[-1]
        cshape = last["shape"][off:]
        cpf = [last["pf"][k + off].reshape([s - 1 if j == k else s for j, s in enumerate(cshape)])
               for k in range(nd)]
        A = _assemble(cpf, last["h"][off:], cshape)
        self.coarse_cells = A.shape[0]
        if A.shape[0] <= max_direct:
            lu = _PinnedLU(A)  # the densest cell pinned: a symmetric pseudo-inverse
            self.coarse = ("sparse LU", lu.solve)
        else:
            prec, _, _ = _amg_hierarchy(A, "rs")
            self.coarse = ("Ruge-Stuben AMG V-cycle (Jacobi-scaled)", prec)

    @staticmethod
    def _coarse_faces(pf, axis, flags):
        """Face densities of the coarse faces: the fine faces on the coarse face, averaged."""
        if pf.shape[axis] == 0:
            shape = [s // 2 if (c and j != axis) else s for j, (s, c)
                     in enumerate(zip(pf.shape, flags, strict=True))]
            return np.zeros(shape)
        if flags[axis]:
            pf = pf[tuple(slice(1, None, 2) if j == axis else slice(None) for j in range(3))]
        for j in range(3):
            if flags[j] and j != axis:
                s = list(pf.shape)
                pf = pf.reshape(s[:j] + [s[j] // 2, 2] + s[j + 1:]).mean(axis=j + 1)
        return np.ascontiguousarray(pf)

    def apply(self, x):
        lev = self.levels[0]
        out = np.empty(lev["shape"])
        self.k.apply(np.ascontiguousarray(x).reshape(lev["shape"]), *lev["w"], out)
        return out.ravel()

    def _cycle(self, i, b):
        lev = self.levels[i]
        if i == len(self.levels) - 1:
            return self.coarse[1](b.ravel()).reshape(b.shape)
        k, w = self.k, lev["w"]
        x = np.zeros_like(b)
        for _ in range(self.nu):
            k.rbgs(x, b, *w, 0)
            k.rbgs(x, b, *w, 1)
        r = np.empty_like(b)
        k.residual(x, b, *w, r)
        rc = np.empty(self.levels[i + 1]["shape"])
        k.restrict(r, rc, *lev["flags"])
        k.prolong_add(self._cycle(i + 1, rc), x, *lev["flags"])
        for _ in range(self.nu):
            k.rbgs(x, b, *w, 1)
            k.rbgs(x, b, *w, 0)
        return x

    def vcycle(self, b):
        b = np.ascontiguousarray(b, dtype=float).reshape(self.levels[0]["shape"])
        return self._cycle(0, b).ravel()

    def info(self):
        return {"levels": len(self.levels), "coarse_cells": int(self.coarse_cells),
                "coarse_solver": self.coarse[0],
                "shapes": [lev["shape"][3 - self.nd:] for lev in self.levels]}



def _deflate(v, w):
    """``v - (sum v / sum w) w``: the projection on ``sum v = 0`` (the range of the pure
    Neumann matrix) along ``w`` (the density). Subtracting the plain mean instead would add
    the same round-off-sized constant to every cell - far larger than the right-hand side or
    residual of a cell where ``p / max p = 1e-30`` - and destroy the solution there."""
    return v - (float(v.sum()) / float(w.sum())) * w


def _ticking(fn, bar):
    """``fn`` that ticks the tqdm ``bar`` once per call."""
    def ticked(v):
        bar.update(1)
        return fn(v)
    return ticked


def _pcg(matvec, b, prec, tol, maxiter, w):
    """Preconditioned conjugate gradients for the consistent singular system ``A x = b``
    (``sum b = 0``; ``A`` and ``prec`` symmetric; ``w >= 0`` the density, not all 0).

    The preconditioner is applied as ``Q^T M Q`` with the projection ``Q = I - w 1^T / 1^T w``
    on the range of ``A`` (:func:`_deflate`; ``Q^T`` only shifts the search direction by a
    constant, which ``A`` ignores), so CG stays on the consistent subspace whatever round-off
    adds along the constant, without touching the low-density cells. Stops when the true
    residual ``||b - A x|| <= tol ||b||`` (CG's recursive residual can drift below the true
    one: then CG restarts from its iterate while iterations remain). A non-positive curvature
    ``d^T A d`` or ``r^T M r`` (a preconditioner that is not positive on the range, or
    round-off that has destroyed the Krylov basis) or a non-finite value ends the iteration
    with ``status = "breakdown"`` instead of a silent answer. Returns x, the relative residual
    history, the iterations and the status ("converged", "maxiter" or "breakdown")."""
    bnorm = float(np.linalg.norm(b))
    wsum = float(w.sum())

    def M(v):
        z = prec(_deflate(v, w))
        return z - float(w @ z) / wsum

    x = np.zeros_like(b)
    r = b.copy()
    z = M(r)
    rz = float(r @ z)
    d = z.copy()
    history = [1.0]
    it = 0
    while True:
        if not (math.isfinite(rz) and rz > 0.0):
            return x, np.asarray(history), it, "breakdown"
        if it >= maxiter:
            return x, np.asarray(history), it, "maxiter"
        Ad = matvec(d)
        dAd = float(d @ Ad)
        if not (math.isfinite(dAd) and dAd > 0.0):
            return x, np.asarray(history), it, "breakdown"
        alpha = rz / dAd
        x += alpha * d
        r -= alpha * Ad
        it += 1
        rel = float(np.linalg.norm(r)) / bnorm
        if rel <= tol:
            r = _deflate(b - matvec(x), w)  # the true residual
            rel = float(np.linalg.norm(r)) / bnorm
            history.append(rel)
            if rel <= tol:
                return x, np.asarray(history), it, "converged"
            z = M(r)  # restart
            rz = float(r @ z)
            d = z.copy()
            continue
        history.append(rel)
        z = M(r)
        rz_new = float(r @ z)
        beta = rz_new / rz
        rz = rz_new
        d = z + beta * d


def _face_solution(phi, S, pf, h):
    """Face gauge parts ``R_k = S_k - G_k phi``, the discrete ``D(P R)`` and the local
    (componentwise) residual per cell,

        max(|D(P R)_c| - rho_c, 0) / sum_{faces f of c} P_f (|S_f| + |(G phi)_f|) / h,

    each cell's flux balance relative to the size of its own fluxes - a measure that does not
    care how small the density is there (the global ``||D(P R)||`` only sees the dense cells).
    ``rho_c = 16 eps sum_f P_f (|S_f| + (|phi_c| + |phi_n|) / h) / h`` is the round-off of the
    balance itself: ``phi`` stored in floating point cannot do better (e.g. a face of large
    density whose flux nearly vanishes, next to cells of tiny density)."""
    nd = phi.ndim
    shape = phi.shape
    R, div = [], np.zeros(shape)
    size, rho = np.zeros(shape), np.zeros(shape)
    for k in range(nd):
        g = _face_gradient(phi, k, h[k])
        Rk = S[k] - g
        R.append(Rk)
        F = pf[k] * Rk / h[k]
        Fa = pf[k] * (np.abs(S[k]) + np.abs(g)) / h[k]
        lo_phi = np.abs(phi[_sl(nd, k, slice(None, -1))])
        hi_phi = np.abs(phi[_sl(nd, k, slice(1, None))])
        Fr = _EPS16 * pf[k] * (np.abs(S[k]) + (lo_phi + hi_phi) / h[k]) / h[k]
        lo, hi = _sl(nd, k, slice(None, -1)), _sl(nd, k, slice(1, None))
        div[lo] += F
        div[hi] -= F
        size[lo] += Fa
        size[hi] += Fa
        rho[lo] += Fr
        rho[hi] += Fr
    excess = np.maximum(np.abs(div) - rho, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        loc = np.where(size > 0, excess / np.where(size > 0, size, 1.0),
                       np.where(excess > 0, np.inf, 0.0))
    loc[~np.isfinite(loc)] = np.inf
    return R, div, loc


def _centres_from_faces(R, k, shape):
    """Cell-centre values along axis ``k`` from face values ``R`` on the interior faces and 0
    on the two boundary faces (the no-flux condition ``r . n = 0``): the mean of each cell's two
    faces. Local (a cell sees only its own faces) and second order."""
    nd = len(shape)
    pad = [(0, 0)] * nd
    pad[k] = (1, 1)
    return _face_average(np.pad(R, pad), k)


def gauge_residual(r, density, grid, *, face_density="arithmetic", density_floor=0.0,
                   reference=None):
    """The discrete ``div(p r)`` of a cell-centred field ``r`` and its relative size.

    Same discretisation as :func:`decompose`: face averages of ``r``'s normal components,
    face densities (``"arithmetic"`` or ``"harmonic"`` means), zero flux through the boundary
    faces (so a field with ``p r . n != 0`` there counts as not divergence-free: take a box on
    which ``p`` is negligible at the edges).

    Parameters
    ----------
    r : array (ndim, *shape)
    density : array (shape)
        Finite, >= 0, not identically 0 (zeros are fine here).
    grid : tuple of 1-D arrays
        Equally spaced cell centres, 1 to 3 axes, at least 3 per axis.
    face_density : str
    density_floor : float
        As in :func:`decompose`: ``p -> max(p, density_floor * max p)`` first.
    reference : array (ndim, *shape), optional
        A reference field ``s`` (e.g. the field that was decomposed, or the exact score): then
        ``reference_norm = ||div(p s)||`` and ``relative_to_reference = norm /
        reference_norm``.

    Returns
    -------
    GaugeResidual
        ``divergence`` (shape), ``norm``, ``relative`` (the cancellation ratio) and, with a
        reference, ``reference_norm`` and ``relative_to_reference`` (see
        :class:`GaugeResidual`). All converge under grid refinement (to the continuous values,
        at second order) for a smooth field on a box where ``p r . n`` vanishes at the edges.
    """
    axes, h = _check_grid(grid)
    shape = tuple(a.size for a in axes)
    check_choice("face_density", face_density, FACE_DENSITIES)
    density_floor = check_in_range("density_floor", density_floor, 0.0, 1.0, high_open=True)
    p = _check_density(density, shape, density_floor, face_density, check_connected=False)
    rr = _check_field(r, shape, "r")
    ref = None if reference is None else _check_field(reference, shape, "reference")
    return _gauge_residual(rr, p, h, face_density, ref)


def _divergence_terms(v, p, h, face_density):
    """Per-axis flux differences ``T_k`` (``k = 0..ndim-1``) of ``P_k avg_k(v_k)`` with zero
    boundary flux; ``sum_k T_k`` is the discrete ``div(p v)``."""
    nd = p.ndim
    terms = []
    for k in range(nd):
        F = _face_density(p, k, face_density) * _face_average(v[k], k) / h[k]
        T = np.zeros(p.shape)
        T[_sl(nd, k, slice(None, -1))] += F
        T[_sl(nd, k, slice(1, None))] -= F
        terms.append(T)
    return terms


def _l2(v):
    """``sqrt(sum v^2)`` without underflow or overflow of the squares."""
    top = float(np.max(np.abs(v))) if v.size else 0.0
    if top == 0.0 or not math.isfinite(top):
        return top
    return top * float(np.sqrt(np.sum((v / top) ** 2)))


def _gauge_residual(r, p, h, face_density, reference=None):
    vol = math.sqrt(float(np.prod(h)))
    terms = _divergence_terms(r, p, h, face_density)
    div = np.sum(terms, axis=0)
    num, den = _l2(div), _l2(np.sum(np.abs(terms), axis=0))
    if not math.isfinite(den):
        raise ValueError("r: the fluxes density * r overflow; rescale r or density")
    rel = min(1.0, num / den) if den > 0 else 0.0
    ref_norm = rel_ref = float("nan")
    if reference is not None:
        rn = _l2(np.sum(_divergence_terms(reference, p, h, face_density), axis=0))
        if not math.isfinite(rn):
            raise ValueError("reference: the fluxes density * reference overflow")
        ref_norm = rn * vol
        rel_ref = num / rn if rn > 0 else float("nan")
    div.setflags(write=False)
    return GaugeResidual(divergence=div, norm=num * vol, relative=rel, reference_norm=ref_norm,
                         relative_to_reference=rel_ref)


def decompose(field, density, grid, *, tol=1e-10, method="auto", amg="rs",
              face_density="arithmetic", density_floor=0.0, maxiter=500, local_tol=None,
              progress=False):
    """Weighted Helmholtz–Hodge decomposition ``s = grad phi + r``, ``div(p r) = 0``, on a grid.

    Parameters
    ----------
    field : array (ndim, *shape)
        The vector field ``s`` at the cell centres (in 1-D also shape ``(n,)``).
    density : array (shape)
        The weight ``p`` at the cell centres, any normalisation (only ``p / max p`` enters).
        Finite and ``>= 0``; zeros only where they do not disconnect the cells (see the module
        notes), else ``ValueError``. Any dynamic range is fine (Gaussian tails down to
        ``1e-300 max p``); no floor is needed for accuracy.
    grid : tuple of 1-D arrays
        Equally spaced, strictly increasing cell centres per axis; 1, 2 or 3 axes, >= 3 cells
        each (spacings may differ between axes).
    tol : float in (0, 1)
        Relative residual of the linear system = ``||div(p r)|| / ||div(p s)||`` reached (on the
        faces: ``Decomposition.residual_norm``).
    method : {"auto", "multigrid", "amg", "direct", "fft"}
        Geometric-multigrid or AMG preconditioned CG, sparse direct solve, or a DCT solve
        (constant density only); ``"auto"``: multigrid (AMG when numba is disabled), or for
        densities spanning more than 1e20 the direct solver (1-/2-D, up to 250 000 cells) or
        AMG; falling back to the direct solver (up to 250 000 cells in 1-/2-D, 10 000 in 3-D)
        if CG breaks down or reaches ``maxiter``. The geometric multigrid is not robust for
        such steep densities (it may raise ``ConvergenceError``).
    amg : {"rs", "sa"}
        Classical Ruge–Stüben (default; about 8 CG iterations to 1e-10 on these problems) or
        smoothed-aggregation AMG for ``method="amg"``.
    face_density : {"arithmetic", "harmonic"}
        Mean of the two cells' densities used on each face.
    density_floor : float in [0, 1)
        If > 0, ``p`` is replaced by ``max(p, density_floor * max(p))`` (needed only to lift
        zeros that disconnect the cells; it changes the problem where ``p`` is below it).
    maxiter : int >= 1
        CG iteration limit.
    local_tol : float in (0, 1) or None
        Largest allowed local residual: in every cell, ``|div(p r)|`` relative to the sum of
        the absolute fluxes ``p |s . n|`` and ``p |grad phi . n|`` through its faces
        (``info["local_residual"]``). It makes the low-density cells converge too, which the
        global ``tol`` cannot see. Default ``sqrt(tol)``.
    progress : bool
        A tqdm bar counting the operator applications of CG (multigrid and AMG; off by
        default).

    Returns
    -------
    Decomposition

    Raises
    ------
    ConvergenceError
        The solve did not reach ``tol`` and ``local_tol`` (CG: in ``maxiter`` iterations, or it
        broke down; ``.result`` holds the partial :class:`Decomposition`, ``converged=False``).
    """
    t_start = time.perf_counter()
    axes, h = _check_grid(grid)
    shape = tuple(a.size for a in axes)
    nd = len(shape)
    tol = check_in_range("tol", tol, 0.0, 1.0, low_open=True, high_open=True)
    check_choice("method", method, METHODS)
    check_choice("amg", amg, AMG_KINDS)
    check_choice("face_density", face_density, FACE_DENSITIES)
    density_floor = check_in_range("density_floor", density_floor, 0.0, 1.0, high_open=True)
    maxiter = check_int("maxiter", maxiter, low=1)
    progress = check_progress(progress)
    local_tol = math.sqrt(tol) if local_tol is None else check_in_range(
        "local_tol", local_tol, 0.0, 1.0, low_open=True, high_open=True)
    s = _check_field(field, shape)
    p = _check_density(density, shape, density_floor, face_density, check_connected=True)
    if method == "fft" and np.ptp(p) > 1e-12 * p.max():
        raise ValueError(f"method='fft' needs a constant density; density varies over "
                         f"[{p.min():.6g}, {p.max():.6g}] - use method='auto', 'amg' or 'direct'")
    # The problem only depends on p / max p: O(1) numbers inside whatever the normalisation.
    pmax = float(p.max())
    q = p / pmax
    tiny = (q > 0) & (q < _TINY)
    if np.any(tiny):  # no weight, but they would underflow in products of two of them
        q[tiny] = _TINY
        p = q * pmax
    auto = method == "auto"
    if auto:
        from .._jit import JIT_ENABLED

        qmin = float(q[q > 0].min())
        small = q.size <= (_FALLBACK_UNKNOWNS_3D if nd == 3 else _FALLBACK_UNKNOWNS)
        if qmin < _WIDE_RANGE:
            # the geometric multigrid's linear interpolation does not follow p across tails
            # that steep: it needs hundreds of iterations, or stalls
            method = "direct" if (small and nd < 3) else "amg"
        else:
            method = "multigrid" if JIT_ENABLED else "amg"
    pf = [_face_density(q, k, face_density) for k in range(nd)]
    S = [_face_average(s[k], k) for k in range(nd)]
    div_qs, _ = _divergence([pf[k] * S[k] for k in range(nd)], h, shape)
    w = q.ravel()
    b = _deflate(-div_qs.ravel(), w)  # in the range of A (sum b = 0) up to round-off
    bnorm = float(np.linalg.norm(b))
    div_norm = float(np.linalg.norm(div_qs))

    history = [1.0]
    iterations, status = 0, "converged"
    info = {"unknowns": int(b.size)}
    t0 = time.perf_counter()
    setup_time = 0.0
    x = np.zeros_like(b)

    loc = None

    def check(x):
        nonlocal loc
        R, div_qr, loc = _face_solution(x.reshape(shape), S, pf, h)
        rel = float(np.linalg.norm(div_qr)) / div_norm if div_norm > 0 else 0.0
        return R, div_qr, float(loc.max()), rel

    def solve_direct(A):
        """Sparse LU with the densest cell pinned, then iterative refinement with the same
        factors while the global or the local residual is above its tolerance."""
        lu = _PinnedLU(A)
        x = lu.solve(b)
        R, div_qr, local, rel = check(x)
        steps = 0
        while (rel > tol or local > local_tol) and steps < _REFINE_STEPS:
            x = x + lu.solve(_deflate(-div_qr.ravel(), w))
            R, div_qr, local, rel = check(x)
            steps += 1
        info["refinement_steps"] = steps
        st = "converged" if (rel <= tol and local <= local_tol) else "inaccurate"
        return x, R, div_qr, local, rel, st

    if bnorm == 0.0:
        solver = "none (div(p s) = 0)"
        R, div_qr, local, rel = check(x)
    elif method == "fft":
        x = _solve_fft(float(q.flat[0]), b, h, shape)
        solver = "type-II DCT (scipy.fft.dctn)"
        R, div_qr, local, rel = check(x)
        history = [1.0, rel]
    else:
        A = _assemble(pf, h, shape)
        info["nnz"] = int(A.nnz)
        if method == "direct":
            x, R, div_qr, local, rel, status = solve_direct(A)
            solver = "scipy.sparse.linalg.splu (SuperLU), densest cell pinned"
            history = [1.0, rel]
        else:
            if method == "multigrid":
                mg = _Multigrid(pf, h, shape)
                info.update(mg.info())
                matvec, prec = mg.apply, mg.vcycle
                solver = "CG + geometric multigrid V-cycle (red-black Gauss-Seidel)"
            else:
                matvec = A.__matmul__
                prec, solver, amg_info = _amg_hierarchy(A, amg)
                info.update(amg_info)
            setup_time = time.perf_counter() - t0
            bar = progress_bar(progress, f"decompose ({method})", "matvec")
            if bar is not None:
                matvec = _ticking(matvec, bar)
            x, history, iterations, status = _pcg(matvec, b, prec, tol, maxiter, w)
            R, div_qr, local, rel = check(x)
            # The global residual only sees the dense cells. Where cells of low density are
            # still off (local residual), CG on the residual of just those cells: its scale is
            # theirs, so round-off from the dense cells no longer hides them.
            rounds = 0
            while status == "converged" and local > local_tol and iterations < maxiter:
                res = -div_qr.ravel()
                res[loc.ravel() <= 1e-2 * local_tol] = 0.0
                res = _deflate(res, w)
                rn = float(np.linalg.norm(res))
                if rn == 0.0:
                    break
                before = (local, int(np.count_nonzero(loc > local_tol)))
                dx, h2, it2, status = _pcg(matvec, res, prec, _ROUND_TOL,
                                           min(_ROUND_MAXITER, maxiter - iterations), w)
                x = x + dx
                iterations += it2
                rounds += 1
                history = np.concatenate([history, np.asarray(h2[1:]) * rn / bnorm])
                R, div_qr, local, rel = check(x)
                n_bad = int(np.count_nonzero(loc > local_tol))
                if status == "maxiter" and iterations < maxiter:
                    status = "stalled"  # this round hit its own cap
                if status == "converged" and local > local_tol and (
                        (local > 0.1 * before[0] and n_bad > 0.5 * before[1])
                        or rounds >= _MAX_ROUNDS):
                    status = "stalled"
            info["local_rounds"] = rounds
            if bar is not None:
                bar.close()
            if rel <= tol and local <= local_tol:
                status = "converged"  # (a last round may have ended on maxiter)
            elif status == "converged":
                status = "maxiter"
            info["cg_status"] = status
            if status != "converged" and auto and small:
                info["fallback"] = (f"CG ({method}) {status} after {iterations} iterations "
                                    f"(local residual {local:.1e}): direct solver used")
                method = "direct"
                x, R, div_qr, local, rel, status = solve_direct(A)
                solver = ("scipy.sparse.linalg.splu (SuperLU), densest cell pinned (fallback "
                          "from CG)")
    converged = status == "converged" and rel <= tol and local <= local_tol
    info["local_residual"] = local
    # resolution check: E_p|s|^2 by the cell-centre and by the face (P-weighted) quadrature
    e_cell = float(np.sum(q * np.sum(s * s, axis=0))) / float(q.sum())
    e_face = sum(float(np.sum(pf[k] * S[k] ** 2)) / float(np.sum(pf[k])) for k in range(nd)
                 if np.sum(pf[k]) > 0)
    info["quadrature_gap"] = abs(e_face - e_cell) / e_cell if e_cell > 0 else 0.0
    solve_time = time.perf_counter() - t0 - setup_time

    phi = x.reshape(shape)
    phi = phi - float(np.sum(q * phi)) / float(q.sum())
    r = np.stack([_centres_from_faces(R[k], k, shape) for k in range(nd)])
    grad = s - r
    residual = pmax * div_qr
    r_faces = tuple(R)
    for arr in (grad, r, phi, p, residual, *r_faces):
        arr.setflags(write=False)
    result = Decomposition(
        grad_phi=grad, r=r, phi=phi, residual=residual, residual_norm=rel,
        iterations=iterations, method=method, solver=solver,
        residual_history=np.asarray(history), density=p, grid=axes,
        face_density=face_density, converged=bool(converged), setup_time=setup_time,
        solve_time=solve_time, wall_time=time.perf_counter() - t_start, info=info,
        r_faces=r_faces)
    if not converged:
        what = {"maxiter": f"in {iterations} CG iterations (maxiter={maxiter})",
                "breakdown": f"- CG broke down after {iterations} iterations (non-positive "
                             f"curvature: round-off or an indefinite preconditioner)",
                "inaccurate": "with the sparse direct solver and iterative refinement",
                "stalled": f"- the local residual stopped decreasing after {iterations} CG "
                           f"iterations (the preconditioner does not resolve the low-density "
                           f"cells)",
                "converged": ""}[status]
        raise ConvergenceError(
            f"decompose ({method}) did not reach tol={tol:g} and local_tol={local_tol:g} "
            f"{what}: relative residual {rel:.2e}, local residual {local:.2e}"
            + ("; try method='direct'" if method != "direct" else ""), result=result)
    return result


# --------------------------------------------------------------------------- samples
def _multi_indices(d, degree):
    """All multi-indices of total degree 1..degree (graded lexicographic), shape (m, d)."""
    out = []

    def rec(prefix, left, k):
        if k == d - 1:
            out.append(prefix + [left])
            return
        for a in range(left, -1, -1):
            rec(prefix + [a], left - a, k + 1)

    for total in range(1, degree + 1):
        rec([], total, 0)
    return np.asarray(out, dtype=np.int64).reshape(-1, d)


def _n_multi_indices(d, degree):
    return math.comb(d + degree, degree) - 1


@dataclass(frozen=True)
class _Basis:
    """A basis without constants in whitened coordinates ``z = W (x - mean)``."""

    kind: str
    mean: np.ndarray
    W: np.ndarray  # (d, d): z = (x - mean) @ W.T
    index: np.ndarray | None = None  # polynomial multi-indices (m, d)
    freq: np.ndarray | None = None  # fourier: (m, d) frequencies in z
    phase: np.ndarray | None = None

    @property
    def size(self) -> int:
        table = self.index if self.kind == "polynomial" else self.freq
        assert table is not None, "a basis has index (polynomial) or freq (fourier)"
        return int(table.shape[0])

    def _z(self, x):
        return (x - self.mean) @ self.W.T

    def _hermite(self, z, degree):
        """Normalised He_n(z)/sqrt(n!) and derivatives for n = 0..degree: (deg+1, n, d)."""
        H = np.empty((degree + 1, *z.shape))
        dH = np.zeros_like(H)
        H[0] = 1.0
        if degree >= 1:
            H[1] = z
            dH[1] = 1.0
        for n in range(1, degree):
            # He_{n+1} = z He_n - n He_{n-1}, normalised by sqrt((n+1)!)
            H[n + 1] = (z * H[n] - math.sqrt(n) * H[n - 1]) / math.sqrt(n + 1)
            dH[n + 1] = math.sqrt(n + 1) * H[n]
        return H, dH

    def values_and_grads(self, x):
        """``psi`` (n, m) and ``grad_x psi`` (d, n, m)."""
        z = self._z(x)
        d = z.shape[1]
        if self.kind == "polynomial":
            deg = int(self.index.max())
            H, dH = self._hermite(z, deg)
            cols = np.arange(d)
            # fac[m, k, :] = H[index[m, k], :, k]: the factor of basis function m along axis k
            fac = H[self.index, :, cols[None, :]]  # (m, d, n)
            dfac = dH[self.index, :, cols[None, :]]
            # prefix/suffix products: d(prod_l f_l)/dz_k = f'_k prod_{l<k} f_l prod_{l>k} f_l
            pre = np.ones_like(fac)
            suf = np.ones_like(fac)
            for k in range(1, d):
                pre[:, k] = pre[:, k - 1] * fac[:, k - 1]
                suf[:, d - 1 - k] = suf[:, d - k] * fac[:, d - k]
            psi = (pre[:, d - 1] * fac[:, d - 1]).T  # (n, m)
            gz = (dfac * pre * suf).transpose(1, 2, 0)  # (d, n, m)
        else:
            m = self.size
            arg = z @ self.freq.T + self.phase
            amp = math.sqrt(2.0 / m)
            psi = amp * np.cos(arg)
            sin = -amp * np.sin(arg)
            gz = sin[None, :, :] * self.freq.T[:, None, :]
        gx = np.tensordot(self.W, gz, axes=([0], [0]))  # grad_x = W^T grad_z
        return psi, gx


def _chunks(n, size):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


@dataclass(frozen=True)
class SampleDecomposition:
    """``s = grad phi + r`` fitted from samples of ``p`` (:func:`decompose_samples`).

    Attributes
    ----------
    coefficients : ndarray (m,)
        ``phi = sum_j c_j psi_j``.
    basis : str
        "polynomial" or "fourier".
    degree : int or None
    n_features : int
        Number of basis functions ``m``.
    grad_phi_samples : ndarray (n, d)
        ``grad phi`` at the samples.
    r : ndarray (n, d)
        ``s - grad phi`` at the samples.
    energy_field, energy_grad_phi, energy_r : float
        Sample means of ``|s|^2``, ``|grad phi|^2``, ``|r|^2``.
    weak_residual : float
        ``||b - G c|| / ||b||`` (only the ridge makes it nonzero).
    condition_number : float
        Of the regularised Galerkin matrix ``G + lambda I`` that was solved: LAPACK's 1-norm
        estimate from its Cholesky factor (``inf`` if it is not numerically positive
        definite; then a least-squares solve is used).
    ridge : float
        The ``lambda`` added to G's diagonal.
    wall_time : float
    """

    coefficients: np.ndarray
    basis: str
    degree: int | None
    n_features: int
    grad_phi_samples: np.ndarray = field(repr=False)
    r: np.ndarray = field(repr=False)
    energy_field: float = 0.0
    energy_grad_phi: float = 0.0
    energy_r: float = 0.0
    weak_residual: float = 0.0
    condition_number: float = float("nan")
    ridge: float = 0.0
    wall_time: float = field(default=0.0, compare=False)
    _basis: _Basis | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        c = check_array("coefficients", self.coefficients, ndim=1, min_size=1)
        check_choice("basis", self.basis, BASES)
        check_int("n_features", self.n_features, low=1)
        if c.size != self.n_features:
            raise ValueError(f"coefficients must have n_features = {self.n_features} entries, "
                             f"got {c.size}")
        g = check_array("grad_phi_samples", self.grad_phi_samples, ndim=2)
        if check_array("r", self.r, ndim=2).shape != g.shape:
            raise ValueError(f"r must have the shape of grad_phi_samples {g.shape}, got "
                             f"{np.shape(self.r)}")
        for name in ("energy_field", "energy_grad_phi", "energy_r", "weak_residual", "ridge",
                     "wall_time"):
            check_nonnegative(name, getattr(self, name))

    def energy(self) -> GaugeEnergy:
        cross = 2.0 * float(np.mean(np.sum(self.grad_phi_samples * self.r, axis=1)))
        return GaugeEnergy(field=self.energy_field, grad_phi=self.energy_grad_phi,
                           r=self.energy_r, cross=cross)

    def _eval(self, x, what):
        d = self._basis.mean.size
        x = check_array("x", x)
        single = x.ndim == 1
        x2 = x.reshape(1, -1) if single else x
        if x2.ndim != 2 or x2.shape[1] != d:
            raise ValueError(f"x must have shape (n, {d}) or ({d},), got {x.shape}")
        out = np.empty((x2.shape[0], d)) if what == "grad" else np.empty(x2.shape[0])
        for sl in _chunks(x2.shape[0], _chunk_size(self.n_features, d)):
            psi, gx = self._basis.values_and_grads(x2[sl])
            out[sl] = (gx @ self.coefficients).T if what == "grad" else psi @ self.coefficients
        return out[0] if single else out

    def grad_phi(self, x):
        """``grad phi`` at points ``x`` (n, d) or (d,)."""
        return self._eval(x, "grad")

    def phi(self, x):
        """``phi`` at points ``x`` (up to the constant, which is not fitted)."""
        return self._eval(x, "value")

    def plot(self, ax=None, **kwargs):
        """Bar chart of ``E|s|^2``, ``E|grad phi|^2``, ``E|r|^2`` (``kwargs`` go to
        ``Axes.bar``); returns the Axes."""
        ax = _energy_bars(new_axes(ax, figsize=(4.5, 3.5)),
                          [self.energy_field, self.energy_grad_phi, self.energy_r], **kwargs)
        ax.set(ylabel="mean over samples", title=f"{self.basis} basis, m = {self.n_features}")
        return ax

    def to_xarray(self):
        """An xarray Dataset: ``grad_phi`` and ``r`` at the samples over (``sample``, ``dim``),
        the fitted ``coefficients`` over ``basis_function``; energies and diagnostics as
        attributes (xarray imported lazily)."""
        return xarray().Dataset(
            {"grad_phi": (("sample", "dim"), self.grad_phi_samples),
             "r": (("sample", "dim"), self.r),
             "coefficients": ("basis_function", self.coefficients)},
            coords={"sample": np.arange(self.r.shape[0]), "dim": np.arange(self.r.shape[1]),
                    "basis_function": np.arange(self.n_features)},
            attrs=plain_attrs(basis=self.basis, degree=self.degree, n_features=self.n_features,
                              energy_field=self.energy_field,
                              energy_grad_phi=self.energy_grad_phi, energy_r=self.energy_r,
                              weak_residual=self.weak_residual,
                              condition_number=self.condition_number, ridge=self.ridge,
                              wall_time=self.wall_time))


def _chunk_size(m, d):
    return max(64, int(4e6 // max(1, m * (d + 1))))


def _polynomial_gram(B, X, S):
    """``G = E[grad psi_i . grad psi_j]`` and ``b = E[grad psi_i . s]`` for the polynomial
    basis: per chunk of samples one BLAS product ``J^T J`` of the feature-gradient matrix ``J``
    (rows: sample x component). Returns G, b and ``c -> grad phi`` at the samples (reusing
    the gradients when they fit in memory)."""
    n, d = X.shape
    m = B.size
    G = np.zeros((m, m))
    bvec = np.zeros(m)
    keep = n * d * m <= _CACHE_ELEMENTS
    cache = []
    chunk = _chunk_size(m, d)
    for sl in _chunks(n, chunk):
        _, gx = B.values_and_grads(X[sl])
        J = gx.reshape(-1, m)  # rows (k, sample)
        G += J.T @ J
        bvec += J.T @ S[sl].T.ravel()
        if keep:
            cache.append(gx)
    G /= n
    bvec /= n
    G = 0.5 * (G + G.T)

    def second_pass(c):
        grad = np.empty((n, d))
        for i, sl in enumerate(_chunks(n, chunk)):
            gx = cache[i] if keep else B.values_and_grads(X[sl])[1]
            grad[sl] = (gx @ c).T
        return grad

    return G, bvec, second_pass


def _fourier_gram(B, X, S):
    """The same for random Fourier features ``psi_j = a cos(w_j . z + b_j)``, ``a =
    sqrt(2/m)``: ``grad_x psi_j = -a sin_j Omega_j`` with ``Omega = freq W`` (m, d), so

        G = a^2 (Sin^T Sin / n) * (Omega Omega^T)     (elementwise product),
        b_j = -a E[sin_j (Omega_j . s)],

    one (n, m) x (m, n) BLAS product (``d`` times fewer operations than the product of the
    (d n, m) gradient matrix, and no (d, n, m) array)."""
    n, d = X.shape
    m = B.size
    amp = math.sqrt(2.0 / m)
    Om = B.freq @ B.W  # (m, d): grad_x (w . z) = W^T w
    SS = np.zeros((m, m))
    bvec = np.zeros(m)
    chunk = max(64, int(4e6 // m))
    keep = n * m <= _CACHE_ELEMENTS
    cache = []
    for sl in _chunks(n, chunk):
        sn = np.sin((X[sl] - B.mean) @ Om.T + B.phase)
        SS += sn.T @ sn
        bvec -= np.einsum("ij,ij->j", sn, S[sl] @ Om.T)
        if keep:
            cache.append(sn)
    G = (amp * amp / n) * (0.5 * (SS + SS.T)) * (Om @ Om.T)
    bvec *= amp / n

    def second_pass(c):
        V = -amp * (c[:, None] * Om)  # (m, d)
        grad = np.empty((n, d))
        for i, sl in enumerate(_chunks(n, chunk)):
            sn = cache[i] if keep else np.sin((X[sl] - B.mean) @ Om.T + B.phase)
            grad[sl] = sn @ V
        return grad

    return G, bvec, second_pass


def decompose_samples(score_fn_or_values, samples, *, basis="polynomial", degree=4,
                      n_features=512, bandwidth=None, ridge=1e-8, rng=None):
    """Fit ``s = grad phi + r`` with ``E_p[grad psi . r] = 0`` for a basis, from samples of p.

    Parameters
    ----------
    score_fn_or_values : callable or array (n, d)
        The field ``s``: a function mapping an (n, d) array to (n, d), or its values at
        ``samples``.
    samples : array (n, d)
        Draws from ``p`` (n >= 2, d >= 1).
    basis : {"polynomial", "fourier"}
        Hermite products of total degree 1..``degree`` or ``n_features`` random Fourier
        features, in whitened coordinates (sample mean and covariance).
    degree : int >= 1
        Total degree of the polynomial basis (``C(d + degree, d) - 1`` functions, at most
        5000).
    n_features : int >= 1
        Number of random Fourier features.
    bandwidth : float > 0 or None
        Length scale of the Fourier features in whitened units (frequencies ~ N(0, 1/bw^2));
        None: the median distance between (up to 1000) whitened samples.
    ridge : float >= 0
        Relative Tikhonov term ``ridge * trace(G) / m`` on the Galerkin matrix.
    rng : Generator, int or None
        For the random features and the bandwidth's subsample.

    Returns
    -------
    SampleDecomposition
    """
    t0 = time.perf_counter()
    check_choice("basis", basis, BASES)
    X = check_array("samples", samples, ndim=2)
    n, d = X.shape
    if n < 2 or d < 1:
        raise ValueError(f"samples must have shape (n, d) with n >= 2 and d >= 1, got {X.shape}")
    if callable(score_fn_or_values):
        S = np.asarray(score_fn_or_values(X), dtype=float)
        name = "score_fn_or_values(samples)"
    else:
        S = score_fn_or_values
        name = "score_fn_or_values"
    S = check_array(name, S)
    if S.shape != (n, d):
        raise ValueError(f"{name} must have the shape of samples {(n, d)}, got {S.shape}")
    ridge = check_nonnegative("ridge", ridge)
    rng = as_rng(rng)
    if basis == "polynomial":
        if degree is None:
            raise TypeError("degree must be an integer >= 1 for basis='polynomial', got None")
        degree = check_int("degree", degree, low=1)
        m = _n_multi_indices(d, degree)
        if m > MAX_BASIS:
            raise ValueError(f"degree={degree} in d={d} dimensions gives {m} basis functions "
                             f"(more than {MAX_BASIS}); lower degree or use basis='fourier'")
    else:
        n_features = check_int("n_features", n_features, low=1, high=MAX_BASIS)
        if bandwidth is not None:
            bandwidth = check_positive("bandwidth", bandwidth)

    mean = X.mean(axis=0)
    cov = np.atleast_2d(np.cov(X, rowvar=False))
    try:
        L = np.linalg.cholesky(cov + 1e-12 * np.trace(cov) / d * np.eye(d))
    except np.linalg.LinAlgError:
        raise ValueError("samples: their covariance is not positive definite (degenerate "
                         "samples)") from None
    W = scipy.linalg.solve_triangular(L, np.eye(d), lower=True)
    if basis == "polynomial":
        B = _Basis("polynomial", mean, W, index=_multi_indices(d, degree))
        n_feat = B.size
    else:
        if bandwidth is None:
            zs = (X[rng.choice(n, size=min(n, 1000), replace=False)] - mean) @ W.T
            dist = np.sqrt(np.sum((zs[:, None, :] - zs[None, :, :]) ** 2, axis=-1))
            bandwidth = float(np.median(dist[np.triu_indices(zs.shape[0], 1)]))
        freq = rng.standard_normal((n_features, d)) / bandwidth
        phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
        B = _Basis("fourier", mean, W, freq=freq, phase=phase)
        n_feat = n_features
        degree = None

    if basis == "fourier":
        G, bvec, second_pass = _fourier_gram(B, X, S)
    else:
        G, bvec, second_pass = _polynomial_gram(B, X, S)
    lam = ridge * float(np.trace(G)) / n_feat
    Gl = G + lam * np.eye(n_feat)
    try:
        cf = scipy.linalg.cho_factor(Gl, lower=False, check_finite=False)
        c = scipy.linalg.cho_solve(cf, bvec, check_finite=False)
        rcond, _ = scipy.linalg.lapack.dpocon(np.triu(cf[0]), float(np.abs(Gl).sum(axis=0).max()))
        cond = 1.0 / rcond if rcond > 0 else float("inf")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        c = scipy.linalg.lstsq(Gl, bvec)[0]
        cond = float("inf")
    if not np.all(np.isfinite(c)):  # pragma: no cover - cho_solve of a factored SPD matrix
        c = scipy.linalg.lstsq(Gl, bvec)[0]
        cond = float("inf")
    bn = float(np.linalg.norm(bvec))
    weak = float(np.linalg.norm(bvec - G @ c)) / bn if bn > 0 else 0.0
    grad = second_pass(c)
    r = S - grad
    c.setflags(write=False)
    grad.setflags(write=False)
    r.setflags(write=False)
    return SampleDecomposition(
        coefficients=c, basis=basis, degree=degree, n_features=int(n_feat),
        grad_phi_samples=grad, r=r, energy_field=float(np.mean(np.sum(S * S, axis=1))),
        energy_grad_phi=float(np.mean(np.sum(grad * grad, axis=1))),
        energy_r=float(np.mean(np.sum(r * r, axis=1))), weak_residual=weak,
        condition_number=cond, ridge=lam, wall_time=time.perf_counter() - t0, _basis=B)

