"""Fixed-source S_N solution: source iteration, diffusion synthetic acceleration, GMRES.

Within-group problem for the scalar flux (and its Legendre moments), written as a fixed point
``phi = K phi + b``: ``K`` is one transport sweep of the scattering source, ``b`` the sweep of
the fixed source and the incident flux.

* Source iteration (SI): ``phi <- K phi + b``; spectral radius c = sigma_s/sigma_t in an
  infinite medium, so it stalls as c -> 1.
* Diffusion synthetic acceleration (DSA): after each sweep, solve the P1 (diffusion) equations
  for the error with the scattering residual ``sigma_s0 (phi^{l+1/2} - phi^l)`` as source,
  discretised consistently with diamond differencing in the edge-based four-step form of
  Alcouffe (1977) and Larsen (1982): unknowns are the edge flux f and current j, for each cell
  ``j_{i+1} - j_i + sigma_a h (f_i + f_{i+1})/2 = h r_i`` and
  ``(f_{i+1} - f_i)/3 + sigma_tr h (j_i + j_{i+1})/2 = 0``; Marshak-type boundaries
  ``j = -/+ m1 f`` (vacuum, m1 = sum_{mu>0} w mu) or j = 0 (reflective). No 1/sigma_t appears,
  so voids (sigma_t = 0) work. The cell flux is corrected by the mean of its edge corrections.
  With linearly anisotropic scattering the current equation carries sigma_tr = sigma_t -
  sigma_s1 and the residual sigma_s1 (phi_1^{l+1/2} - phi_1^l), and phi_1 is corrected by the
  cell-mean current. The system is factorised once per group (sparse LU) and reused.
  Reflective boundaries on both sides are solved exactly inside each sweep (no lagged
  boundary flux), so the spectrum is that of the infinite medium.
* GMRES (scipy.sparse.linalg.gmres) on ``(I - K) phi = b`` with a matrix-free ``K``, with or
  without DSA as a left preconditioner ``M^{-1} = I + C sigma_s0`` (C the diffusion solve).

Stopping criterion (SI and DSA): the estimated error ``eps_l rho / (1 - rho)`` with
``eps_l = ||phi^{l+1} - phi^l|| / ||phi^{l+1}||`` and rho the measured spectral radius (largest
of the last three ratios of successive changes), not the bare change, which at c = 0.99 stops
far from the answer.

References: E. W. Larsen, Nucl. Sci. Eng. 82, 47 (1982); R. E. Alcouffe, Nucl. Sci. Eng. 64,
344 (1977); M. L. Adams & E. W. Larsen, Prog. Nucl. Energy 40, 3 (2002);
J. S. Warsa, T. A. Wareing, J. E. Morel, Nucl. Sci. Eng. 147, 218 (2004).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import ConvergenceError
from .._validate import check_array, check_increasing, check_int, check_nonnegative, check_positive
from ._kernels import sweep, sweep_coefficients
from ._surface import check_progress, new_axes, plain_attrs, progress_bar, xarray
from .problem import Slab, _check_str_choice
from .quadrature import Quadrature, gauss_legendre

__all__ = ["solve", "TransportSolution", "Discretisation"]

SCHEMES = ("diamond", "step_characteristic")
ACCELS = ("none", "dsa", "gmres", "gmres+dsa")


@dataclass(frozen=True)
class TransportSolution:
    """Result of a fixed-source solve.

    ``phi`` has shape (G, N) (groups, cells); ``moments`` (L+1, G, N); ``psi_out`` holds the
    angular flux leaving each side, shape (G, n) by increasing |mu|; leakages are net
    (outgoing minus incoming partial currents) per group; ``residuals`` the history of the
    estimated error (SI/DSA) or of the GMRES residual.
    """

    x_edges: np.ndarray
    x_centres: np.ndarray
    phi: np.ndarray
    psi_out: dict
    iterations: int
    residuals: np.ndarray
    spectral_radius: float
    leakage_left: np.ndarray
    leakage_right: np.ndarray
    absorption: np.ndarray
    moments: np.ndarray | None = field(repr=False, default=None)
    quadrature: Quadrature | None = field(repr=False, default=None)
    sweeps: int = 0
    wall_time: float = 0.0
    converged: bool = True

    def __post_init__(self):
        # consistency of the arrays (not finiteness: a diverged partial result is reported)
        edges = check_increasing("x_edges", self.x_edges)
        N = edges.size - 1
        centres = check_array("x_centres", self.x_centres, ndim=1)
        if centres.shape != (N,):
            raise ValueError(f"x_centres must have shape ({N},) (one per cell of x_edges), "
                             f"got {centres.shape}")
        phi = check_array("phi", self.phi, ndim=2, finite=False)
        if phi.shape[1] != N or phi.shape[0] < 1:
            raise ValueError(f"phi must have shape (G, {N}) (groups, cells of x_edges), got "
                             f"{phi.shape}")
        G = phi.shape[0]
        for name in ("leakage_left", "leakage_right", "absorption"):
            arr = np.atleast_1d(check_array(name, getattr(self, name), finite=False))
            if arr.shape != (G,):
                raise ValueError(f"{name} must have shape ({G},) (one per group of phi), got "
                                 f"{arr.shape}")
            object.__setattr__(self, name, arr)
        if not isinstance(self.psi_out, dict):
            raise TypeError(f"psi_out must be a dict {{'left': array, 'right': array}}, got "
                            f"{type(self.psi_out).__name__}")
        for side, arr in self.psi_out.items():
            if side not in ("left", "right"):
                raise ValueError(f"psi_out keys must be 'left' or 'right', got {side!r}")
            if np.ndim(arr) != 2 or np.shape(arr)[0] != G:
                raise ValueError(f"psi_out[{side!r}] must have shape ({G}, n), got "
                                 f"{np.shape(arr)}")
        residuals = check_array("residuals", self.residuals, finite=False)
        if residuals.ndim != 1:
            raise ValueError(f"residuals must be 1-D, got shape {residuals.shape}")
        if self.moments is not None:
            mom = check_array("moments", self.moments, ndim=3, finite=False)
            if mom.shape[1:] != (G, N) or mom.shape[0] < 1:
                raise ValueError(f"moments must have shape (L+1, {G}, {N}), got {mom.shape}")
        if self.quadrature is not None and not isinstance(self.quadrature, Quadrature):
            raise TypeError(f"quadrature must be a Quadrature, got "
                            f"{type(self.quadrature).__name__}")
        object.__setattr__(self, "iterations", check_int("iterations", self.iterations, low=0))
        object.__setattr__(self, "sweeps", check_int("sweeps", self.sweeps, low=0))
        object.__setattr__(self, "spectral_radius",
                           check_nonnegative("spectral_radius", self.spectral_radius))
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if not isinstance(self.converged, bool | np.bool_):
            raise TypeError(f"converged must be a bool, got {type(self.converged).__name__}")

    def plot(self, ax=None, group=None, **kwargs):
        """Scalar flux (particles/(cm^2 s)) vs x (cm), cell averages as steps, one line per
        group (or only ``group``); ``kwargs`` go to ``Axes.stairs``. Returns the Axes."""
        if group is not None:
            group = check_int("group", group, low=0, high=self.phi.shape[0] - 1)
        ax = new_axes(ax, figsize=(7, 3.5))
        groups = range(self.phi.shape[0]) if group is None else [group]
        for g in groups:
            ax.stairs(self.phi[g], self.x_edges, label=f"group {g + 1}", **kwargs)
        ax.set_xlabel("x (cm)")
        ax.set_ylabel("scalar flux")
        if self.phi.shape[0] > 1:
            ax.legend()
        return ax

    def to_xarray(self):
        """An xarray Dataset: ``phi`` over (``group``, ``x``) with ``x`` the cell centres (cm)
        and ``x_edge`` the cell edges; leakages and absorption over ``group``; the outgoing
        angular flux ``psi_out_left``/``psi_out_right`` over (``group``, ``mu``) (|mu|,
        increasing); ``moments`` over (``legendre``, ``group``, ``x``); ``residuals`` over
        ``iteration``; scalars as attributes (xarray imported lazily)."""
        xr = xarray()
        G = self.phi.shape[0]
        flux = "particles/(cm^2 s)"
        data = {
            "phi": (("group", "x"), self.phi, {"units": flux, "long_name": "scalar flux"}),
            "leakage_left": ("group", self.leakage_left, {"units": flux}),
            "leakage_right": ("group", self.leakage_right, {"units": flux}),
            "absorption": ("group", self.absorption, {"units": flux}),
            "residuals": ("iteration", self.residuals),
        }
        coords = {"x": ("x", self.x_centres, {"units": "cm"}),
                  "x_edge": ("x_edge", self.x_edges, {"units": "cm"}),
                  "group": np.arange(G), "iteration": np.arange(1, self.residuals.size + 1)}
        if self.moments is not None:
            data["moments"] = (("legendre", "group", "x"), self.moments, {"units": flux})
            coords["legendre"] = np.arange(self.moments.shape[0])
        if self.psi_out:
            n = np.shape(next(iter(self.psi_out.values())))[1]
            coords["mu"] = (self.quadrature.mu[-n:] if self.quadrature is not None
                            and self.quadrature.order == 2 * n else np.arange(n))
            for side, arr in self.psi_out.items():
                data[f"psi_out_{side}"] = (("group", "mu"), arr,
                                           {"units": "particles/(cm^2 s) per unit mu"})
        attrs = plain_attrs(iterations=self.iterations, spectral_radius=self.spectral_radius,
                            sweeps=self.sweeps, wall_time=self.wall_time,
                            converged=self.converged,
                            order=None if self.quadrature is None else self.quadrature.order)
        return xr.Dataset(data, coords=coords, attrs=attrs)


class Discretisation:
    """Everything a sweep needs, computed once per (slab, order, scheme)."""

    def __init__(self, slab: Slab, order: int, scheme: str):
        if not isinstance(slab, Slab):
            raise TypeError(f"slab must be a Slab, got {type(slab).__name__}")
        _check_str_choice("scheme", scheme, SCHEMES)
        self.slab, self.scheme = slab, scheme
        self.quad = gauss_legendre(order)
        self.n = self.quad.order // 2
        self.mu_pos = self.quad.mu[self.n:]
        self.w_pos = self.quad.w[self.n:]
        self.data = slab.cell_data()
        self.h = slab.widths
        self.N = slab.n_cells
        self.G = slab.n_groups
        self.L = slab.legendre_order
        self.Pl = self.quad.legendre(self.L)
        self.coef = [sweep_coefficients(self.data["sigma_t"][g], self.h, self.mu_pos, scheme)
                     for g in range(self.G)]
        self.inc_left = slab.incident_flux("left", self.mu_pos)
        self.inc_right = slab.incident_flux("right", self.mu_pos)
        self.refl_left = slab.left == "reflective"
        self.refl_right = slab.right == "reflective"
        self.both_reflective = self.refl_left and self.refl_right
        self.m1 = float(np.sum(self.w_pos * self.mu_pos))
        if self.both_reflective:
            # round-trip attenuation of each direction through the whole slab (no source)
            self.round_trip = [np.prod(c[0], axis=0) ** 2 for c in self.coef]
            if any(np.any(rt >= 1.0 - 1e-14) for rt in self.round_trip):
                raise ValueError("a slab with reflective boundaries on both sides must have "
                                 "some material (sigma_t > 0) in every group: a reflecting "
                                 "void has no steady state")
        self._dsa: dict[int, spla.SuperLU] = {}
        self.n_sweeps = 0
        self.bar = None  # a tqdm bar ticked once per sweep (``progress=True``)

    def scattering_source(self, g, moments_g):
        """Within-group scattering source moments sigma_s[l, g, g] phi_l (L+1, N)."""
        ss = self.data["sigma_s"][:, g, g, :]
        return ss * moments_g

    def sweep(self, g, S):
        """One sweep of group g with emission moments S (L+1, N).

        With reflective boundaries on both sides the reflected flux is solved exactly, not
        lagged: the sweep is affine in the incoming flux at the left, psi_b, and a round trip
        through the slab multiplies direction |mu_p| by A_p = prod_i a_ip^2 (no source), so
        a first sweep with psi_b = 0 gives the returning flux s_p and psi_b = s_p / (1 - A_p).
        Returns (phi moments, psi_left_out, psi_right_out, psi_left_in, psi_right_in).
        """
        a, b, cw = self.coef[g]
        S = np.ascontiguousarray(S)
        if self.bar is not None:
            self.bar.update(1)
        if self.both_reflective:
            zero = np.zeros(self.n)
            self.n_sweeps += 1
            _, s0, _, _, _ = sweep(a, b, cw, S, self.Pl, self.quad.w, zero, zero, True, True)
            lin = s0 / (1.0 - self.round_trip[g])
        else:
            lin = self.inc_left[g]
        self.n_sweeps += 1
        return sweep(a, b, cw, S, self.Pl, self.quad.w, np.ascontiguousarray(lin, dtype=float),
                     np.ascontiguousarray(self.inc_right[g], dtype=float), self.refl_left,
                     self.refl_right)

    # -- DSA ----------------------------------------------------------------------------------
    def dsa_solver(self, g):
        """Factorised consistent DD diffusion operator for group g (edge flux/current)."""
        if g in self._dsa:
            return self._dsa[g]
        N, h = self.N, self.h
        st = self.data["sigma_t"][g]
        ss = self.data["sigma_s"][:, g, g, :]
        sa = st - ss[0]
        str_ = st - (ss[1] if ss.shape[0] > 1 else 0.0)
        rows, cols, vals = [], [], []

        def add(r, c, v):
            rows.append(r)
            cols.append(c)
            vals.append(v)

        # unknown 2e: f_e, 2e+1: j_e (e = 0..N); row 0 left BC, rows 2i+1, 2i+2 cell i,
        # row 2N+1 right BC
        add(0, 1, 1.0)
        if not self.refl_left:
            add(0, 0, self.m1)
        for i in range(N):
            r = 2 * i + 1
            add(r, 2 * i + 3, 1.0)
            add(r, 2 * i + 1, -1.0)
            add(r, 2 * i, 0.5 * sa[i] * h[i])
            add(r, 2 * i + 2, 0.5 * sa[i] * h[i])
            add(r + 1, 2 * i + 2, 1.0 / 3.0)
            add(r + 1, 2 * i, -1.0 / 3.0)
            add(r + 1, 2 * i + 1, 0.5 * str_[i] * h[i])
            add(r + 1, 2 * i + 3, 0.5 * str_[i] * h[i])
        add(2 * N + 1, 2 * N + 1, 1.0)
        if not self.refl_right:
            add(2 * N + 1, 2 * N, -self.m1)
        A = sp.csc_matrix((vals, (rows, cols)), shape=(2 * N + 2, 2 * N + 2))
        try:
            lu = spla.splu(A)
        except RuntimeError as exc:  # singular: no absorption and no leakage anywhere
            raise ValueError(
                f"the DSA diffusion operator of group {g + 1} is singular (no absorption and "
                "reflective boundaries on both sides): the problem has no steady state"
            ) from exc
        self._dsa[g] = lu
        return lu

    def dsa_correction(self, g, residual, residual_1=None):
        """Corrections of the cell flux (N,) and current (N,) from the diffusion solve.

        ``residual`` is the isotropic scattering residual sigma_s0 (phi^{l+1/2} - phi^l) per
        cell; ``residual_1`` the linearly anisotropic one, sigma_s1 (phi_1^{l+1/2} - phi_1^l),
        which drives the current equation."""
        lu = self.dsa_solver(g)
        rhs = np.zeros(2 * self.N + 2)
        rhs[1:-1:2] = self.h * residual
        if residual_1 is not None:
            rhs[2:-1:2] = self.h * residual_1
        x = lu.solve(rhs)
        f, j = x[0::2], x[1::2]
        return 0.5 * (f[1:] + f[:-1]), 0.5 * (j[1:] + j[:-1])

    def apply_dsa(self, g, new, old):
        """Add the DSA correction to the swept moments ``new`` (in place), given the moments
        ``old`` the sweep started from."""
        ss = self.data["sigma_s"][:, g, g, :]
        r1 = ss[1] * (new[1] - old[1]) if self.L >= 1 else None
        df, dj = self.dsa_correction(g, ss[0] * (new[0] - old[0]), r1)
        new[0] += df
        if self.L >= 1:
            new[1] += dj
        return new


def _norm(x):
    return float(np.max(np.abs(x)))


def _within_group(disc: Discretisation, g, ext, accel, tol, max_iter, moments0, residuals):
    """Solve (I - K) phi = b for group g with external source moments ``ext`` (L+1, N).

    Returns moments (L+1, N), boundary data, iterations, spectral radius, converged."""
    if accel in ("none", "dsa"):
        mom = moments0.copy()
        changes = []
        rho = rho_raw = 0.0
        it = 0
        for it in range(1, max_iter + 1):
            new, *bnd = disc.sweep(g, ext + disc.scattering_source(g, mom))
            if accel == "dsa":
                disc.apply_dsa(g, new, mom)
            change = _norm(new[0] - mom[0])
            eps = change / (_norm(new[0]) or 1.0)
            changes.append(change)
            ratios = [changes[k + 1] / changes[k] for k in range(max(0, len(changes) - 4),
                                                                 len(changes) - 1)
                      if changes[k] > 0]
            rho_raw = max(ratios) if ratios else 0.0
            rho = min(rho_raw, 0.999999)
            mom = new
            # two ratios of successive changes are needed before rho can be trusted, unless
            # the second change is already far below tol and 1e-6 of the first (S2 + DSA)
            err = eps * rho / (1.0 - rho) if it >= 3 else np.inf
            if it == 2 and eps < 1e-2 * tol and rho < 1e-6:
                err = eps
            if eps <= 16 * np.finfo(float).eps:
                err = 0.0  # the change is round-off: iterating further cannot improve phi
            residuals.append(err if np.isfinite(err) else eps)
            if err < tol:
                return mom, bnd, it, rho, True
            if (it >= 20 and len(changes) > 10 and min(ratios) > 1.0
                    and change > 1e6 * min(changes)):
                hint = (" (DSA is inconsistent with step_characteristic transport: it diverges "
                        "for optically thick cells at c near 1; use scheme='diamond' or "
                        "accel='gmres+dsa')" if disc.scheme == "step_characteristic"
                        and accel == "dsa" else "")
                raise _Diverged(f"the iteration diverges (spectral radius {rho_raw:.4g})" + hint,
                                (mom, bnd, it, rho_raw))
        return mom, bnd, it, rho_raw, False

    # GMRES on (I - K) x = b with x the flux moments, K one sweep of the scattering source
    L1, N = disc.L + 1, disc.N
    size = L1 * N
    zero_inc = np.zeros((disc.G, disc.n))
    inc = (disc.inc_left, disc.inc_right)

    def K(x):
        disc.inc_left, disc.inc_right = zero_inc, zero_inc
        try:
            new, *_ = disc.sweep(g, disc.scattering_source(g, x.reshape(L1, N)))
        finally:
            disc.inc_left, disc.inc_right = inc
        return new.ravel()

    b = disc.sweep(g, ext)[0].ravel()
    A = spla.LinearOperator((size, size), matvec=lambda x: x - K(x), dtype=float)
    M = None
    if accel == "gmres+dsa":
        def prec(r):
            out = r.reshape(L1, N).copy()
            return disc.apply_dsa(g, out, np.zeros_like(out)).ravel()

        M = spla.LinearOperator((size, size), matvec=prec, dtype=float)
    hist = []
    cmax = float(np.max(disc.data["sigma_s"][0, g, g] /
                        np.maximum(disc.data["sigma_t"][g], 1e-300)))
    # error <= ||r|| / (1 - rho): rho <= c for the plain operator; the DSA-preconditioned
    # residual is within 1/(1 - 0.2247) of the error
    rtol = max(tol * (0.75 if M is not None else max(1.0 - min(cmax, 1.0), 1e-3)), 1e-12)
    x, info = spla.gmres(A, b, x0=moments0.ravel(), rtol=rtol, atol=0.0,
                         restart=min(size, 200), maxiter=max_iter, M=M,
                         callback=lambda r: hist.append(float(r)), callback_type="pr_norm")
    residuals.extend(hist)
    if info != 0 and _norm(b - A.matvec(x)) <= rtol * (_norm(b) or 1.0):
        info = 0  # the recursive residual stagnated above the true one, which is fine
    # one final sweep from the solution gives consistent boundary fluxes (and moments)
    new, *bnd = disc.sweep(g, ext + disc.scattering_source(g, x.reshape(L1, N)))
    rho = float(np.exp(np.mean(np.diff(np.log(np.maximum(hist, 1e-300)))))) if len(hist) > 1 \
        else 0.0
    return new, bnd, len(hist) + 1, rho, info == 0


class _Diverged(RuntimeError):
    def __init__(self, message, state):
        super().__init__(message)
        self.state = state


def _multigroup(disc, accel, tol, max_iter, external, moments0=None, max_outer=None):
    """Gauss-Seidel over groups (outer iterations while there is upscatter, at most
    ``max_outer``, default ``max_iter``)."""
    G, N, L1, _n = disc.G, disc.N, disc.L + 1, disc.n
    mom = np.zeros((L1, G, N)) if moments0 is None else moments0.copy()
    ss = disc.data["sigma_s"]
    upscatter = any(np.any(ss[0, g, gp] > 0) for g in range(G) for gp in range(g + 1, G))
    residuals = []
    iterations = 0
    rho_within = 0.0
    bnd = [None] * G
    converged = True
    for outer in range(1, ((max_outer or max_iter) if upscatter else 1) + 1):
        old = mom.copy()
        for g in range(G):
            # in-scatter from the other groups (latest iterates: Gauss-Seidel)
            ext = external[:, g, :].copy()
            for gp in range(G):
                if gp != g:
                    ext += ss[:, g, gp, :] * mom[:, gp, :]
            try:
                m, b, it, rho, ok = _within_group(disc, g, ext, accel, tol, max_iter,
                                                  mom[:, g, :], residuals)
            except _Diverged as exc:
                mom[:, g, :] = exc.state[0]
                exc.state = (mom, residuals, iterations + exc.state[2], exc.state[3])
                raise
            mom[:, g, :] = m
            bnd[g] = b
            iterations += it
            rho_within = max(rho_within, rho)
            if not ok:
                converged = False
        if not upscatter:
            break
        change = _norm(mom[0] - old[0]) / (_norm(mom[0]) or 1.0)
        if outer > 1 and change < tol:
            break
    else:
        converged = converged and max_outer is not None
    return mom, bnd, iterations, residuals, rho_within, converged


def _final_sweep(disc, external, mom):
    """One more Gauss-Seidel sweep over the groups from the converged moments, without
    acceleration: returns its moments and boundary fluxes.

    After SI/DSA the boundary fluxes are those of the last sweep, which started from the
    previous iterate; DSA then corrects the moments but not the angular flux, so when DSA
    converges in a few large steps the leakage (from the sweep) and the absorption (from the
    corrected moments) disagree by far more than the tolerance (a particle-balance error of
    1.4e-8 at tol = 1e-10 was measured for S2 step characteristic). A sweep from the converged
    moments makes flux and leakage consistent: the balance then holds to the change of the
    scattering source in that sweep, i.e. to the iteration tolerance."""
    ss = disc.data["sigma_s"]
    mom = mom.copy()
    bnd = []
    for g in range(disc.G):
        ext = external[:, g, :].copy()
        for gp in range(disc.G):
            if gp != g:
                ext += ss[:, g, gp, :] * mom[:, gp, :]
        new, *b = disc.sweep(g, ext + disc.scattering_source(g, mom[:, g, :]))
        mom[:, g, :] = new
        bnd.append(b)
    return mom, bnd


def _leakage(disc, bnd):
    G = disc.G
    wm = disc.w_pos * disc.mu_pos
    left = np.array([np.dot(wm, bnd[g][0]) - np.dot(wm, bnd[g][2]) for g in range(G)])
    right = np.array([np.dot(wm, bnd[g][1]) - np.dot(wm, bnd[g][3]) for g in range(G)])
    if disc.refl_left:
        left[:] = 0.0
    if disc.refl_right:
        right[:] = 0.0
    return left, right


def _check_common(slab, accel, tol, max_iter, raise_on_fail):
    """Arguments shared by ``solve`` and ``k_eigenvalue`` (order and scheme are checked by
    ``Discretisation``)."""
    if not isinstance(slab, Slab):
        raise TypeError(f"slab must be a Slab, got {type(slab).__name__}")
    _check_str_choice("accel", accel, ACCELS)
    tol = check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, low=1)
    if not isinstance(raise_on_fail, bool | np.bool_):
        raise TypeError(f"raise_on_fail must be a bool, got {type(raise_on_fail).__name__}")
    return tol, max_iter


def _check_fixed_source(slab):
    for m in slab.materials:
        c = m.scattering_ratio
        if np.any(c > 1.0 + 1e-12):
            raise ValueError(
                f"material {m.name or m} has sigma_s > sigma_t (scattering ratio {c.max():.4g}) "
                "in a fixed-source problem, which has no steady state; use k_eigenvalue for "
                "a multiplying system"
            )
        if m.fissile:
            raise ValueError("a fixed-source solve with fissile material (nu_sigma_f > 0) is "
                             "not supported; use k_eigenvalue")


def solve(slab: Slab, *, order: int = 8, scheme: str = "diamond", accel: str = "dsa",
          tol: float = 1e-10, max_iter: int = 10_000, raise_on_fail: bool = True,
          progress: bool = False) -> TransportSolution:
    """Fixed-source S_N solution of a slab.

    Parameters
    ----------
    slab : Slab
    order : int
        Even S_N order (Gauss-Legendre).
    scheme : {"diamond", "step_characteristic"}
    accel : {"none", "dsa", "gmres", "gmres+dsa"}
        Source iteration, DSA, GMRES, or GMRES preconditioned by DSA.
    tol : float
        Relative error target (estimated error for SI/DSA; scaled residual for GMRES).
    max_iter : int
        Iteration (or GMRES inner-iteration) limit per group.
    raise_on_fail : bool
        Raise ``ConvergenceError`` when the tolerance is not reached (else return the iterate
        with ``converged=False``).
    progress : bool
        A tqdm bar counting the transport sweeps (off by default).

    Raises
    ------
    ConvergenceError
        When the tolerance is not reached; ``.result`` holds the last iterate.
    """
    tol, max_iter = _check_common(slab, accel, tol, max_iter, raise_on_fail)
    progress = check_progress(progress)
    _check_fixed_source(slab)
    t0 = time.perf_counter()
    disc = Discretisation(slab, order, scheme)
    disc.bar = progress_bar(progress, "transport solve", "sweep")
    try:
        return _solve(slab, disc, accel, tol, max_iter, raise_on_fail, t0)
    finally:
        if disc.bar is not None:
            disc.bar.close()


def _solve(slab, disc, accel, tol, max_iter, raise_on_fail, t0):
    G, N, L1 = disc.G, disc.N, disc.L + 1
    external = np.zeros((L1, G, N))
    external[0] = disc.data["source"]
    try:
        mom, bnd, iterations, residuals, rho, converged = _multigroup(
            disc, accel, tol, max_iter, external)
    except _Diverged as exc:
        mom, residuals, iterations, rho = exc.state
        partial = TransportSolution(
            x_edges=slab.x_edges, x_centres=slab.x_centres, phi=mom[0].copy(), psi_out={},
            iterations=iterations, residuals=np.array(residuals), spectral_radius=rho,
            leakage_left=np.full(G, np.nan), leakage_right=np.full(G, np.nan),
            absorption=np.full(G, np.nan), moments=mom, quadrature=disc.quad,
            sweeps=disc.n_sweeps, wall_time=time.perf_counter() - t0, converged=False)
        raise ConvergenceError(f"transport solve ({accel}): {exc}", result=partial) from None
    if accel == "dsa":
        mom, bnd = _final_sweep(disc, external, mom)
    left, right = _leakage(disc, bnd)
    sa = disc.data["sigma_t"] - disc.data["sigma_s"][0].sum(axis=0)
    absorption = np.sum(sa * mom[0] * disc.h, axis=1)
    sol = TransportSolution(
        x_edges=slab.x_edges, x_centres=slab.x_centres, phi=mom[0].copy(),
        psi_out={"left": np.array([b[0] for b in bnd]), "right": np.array([b[1] for b in bnd])},
        iterations=iterations, residuals=np.array(residuals), spectral_radius=rho,
        leakage_left=left, leakage_right=right, absorption=absorption, moments=mom,
        quadrature=disc.quad, sweeps=disc.n_sweeps, wall_time=time.perf_counter() - t0,
        converged=converged)
    if not converged and raise_on_fail:
        raise ConvergenceError(
            f"transport solve ({accel}) did not reach tol={tol} in max_iter={max_iter} "
            f"iterations (estimated spectral radius {rho:.6f})", result=sol)
    return sol
