r"""Finite-volume solver of the column PDEs with coefficients that vary in space and time
(temperature- and pressure-programmed GC).

Model, for one solute (linear: solutes are independent, run them one by one)::

    c_t + (u c)_x = (D c_x)_x - alpha q_t,     q_t = k_a c - k_d q,          0 < x < L,
    u c - D c_x = u(0, t) c_in(t)  at x = 0,   c_x = 0  at x = L,            c = q = 0 at t = 0,

with ``u(x, t) > 0``, ``D(x, t) >= 0``, ``k_a(x, t) >= 0``, ``k_d(x, t) >= 0`` supplied by a
*coefficient object* (see "Coefficient protocol") and ``c_in`` relative to the injected
concentration ``c0``. The result is the outlet concentration ``c(L, t) / c0`` and the outlet
molar flux ``u(L, t) c(L, t) / c0`` (what a flame-ionisation detector sees).

Space
-----
As in :mod:`sciflow.chromatography.fd`: cell averages ``c_i``, ``q_i`` on faces ``x_0 = 0 <
... < x_N = L`` (by default the transit-time mesh of the coefficient object, else uniform), and
conservative face fluxes ``F_f = u_f c_f - D_f (c_x)_f``, ``F_0 = u(0, t) c_in(t)``::

    dc_i/dt = (F_i - F_{i+1}) / h_i - alpha (k_a,i c_i - k_d,i q_i),
    dq_i/dt = k_a,i c_i - k_d,i q_i.

``c_f`` is the upwind-biased reconstruction of order ``p`` (1, 3, 5, 7) from the cell averages,
``(c_x)_f`` the centred slope of order ``p`` (``p + 1`` cells), with fd.py's weights
(:func:`sciflow.chromatography.fd._poly_weights`); they depend on the mesh only, so the operator
at time ``t`` is a sum over faces of ``u_f(t)`` and ``D_f(t)`` times fixed stencils. Inlet
closure: the faces whose stencil would reach past ``x = 0`` use the boundary condition as a datum,
``p(0) - delta p'(0) = c_in`` with ``delta = D(0, t) / u(0, t)``; the weights are rational in
``delta`` (a rank-one update, evaluated at every stage). Outlet: the stencils are shifted upwind
and the outflow flux is ``u_N p(L) - D_N p'(L)``, the total flux of the outer solution -- the
thin-boundary-layer limit of fd.py's Danckwerts closure (its layer weights differ by
``O((D/u)^2 / h)``, far below the truncation error for GC: ``D/u_out`` is tens of micrometres).
The outlet concentration is reported as ``F_N / u_N`` (``c_x(L) = 0``). The sum
``sum_i h_i (c_i + alpha q_i)`` changes exactly by ``F_0 - F_N``: the exchange conserves
``c + alpha q`` in every cell, whatever the coefficients.

Time: L-stable ESDIRK with the exchange eliminated locally
---------------------------------------------------------
Default: ESDIRK5(4)7L[2]SA of Kennedy & Carpenter (2016) -- order 5, six implicit stages with
``gamma = 0.184`` after an explicit first stage (first same as last), stage order 2, L-stable,
stiffly accurate, embedded order 4; alternative ``time_scheme="sdirk4"``: Hairer & Wanner's
5-stage order-4 SDIRK (``gamma = 1/4``, embedded order 3). Every implicit stage evaluates the
coefficients at its own time ``t_n + c_j dt``, eliminates the sorbed phase cell by cell,
``q = (R_q + gamma dt k_a c) / (1 + gamma dt k_d)`` (exact for any ``k_a``, ``k_d``: exchange as
stiff as ``k_a ~ 1e12 /s`` is harmless, nothing overflows), and factorises the banded matrix
``(1 + gamma dt alpha k_a / (1 + gamma dt k_d)) I - gamma dt A(t)`` -- LU without pivoting that
visits only each row's envelope (O(N); 3 x 3 updates per row for the order-5 operator). Measured
orders with fixed steps: 5.0 and 4.0, also with time-varying, stiff coefficients (no order
reduction). The outlet signal between steps is a Hermite interpolant of the outlet flux and its
derivative: quintic through three step ends (O(dt^6)), cubic on the first step of a chunk.

Step sizes come from the embedded estimate, filtered by the last stage matrix
(``(I - gamma dt J)^{-1} e``, which removes the stiff components the non-L-stable embedded
method would overestimate), measured as ``max_i (|e_c| + alpha |e_q|)`` relative to the band's
height (the largest ``|c| + alpha |q|`` in the column, never below the largest value seen in the
last cell, so that an eluting peak's tail is not resolved relative to itself). A retained band
that hardly moves while the oven is cold gives tiny estimates, hence long steps; they shrink as
the band accelerates. The global error of the band's phase grows with the number of its own
widths it travels, ``ratio = t_M (1 + k_e) / sigma_t`` (about 300 on an 11-m column), so the
local tolerance is ``kappa (tol / 2) / ratio``; ``kappa`` (5 for ESDIRK5, 10 for SDIRK4) is
calibrated so that the time error is about ``tol / 3`` on the programmed benchmark (the error
measured against a fine run was ``tol_loc * ratio / 7`` for ESDIRK5 and ``/ 22`` for SDIRK4, on
the isothermal BTEX case too). Steps land on the program breakpoints and on the end of a
rectangular injection. Inflow and outflow (and the outflow's moments) are integrated with the
method's own quadrature, so ``in - out - inventory`` closes to rounding.

Active window
-------------
A band occupies a few hundred of the column's thousands of cells. Only the cells where
``|c| + alpha |q|`` exceeds ``1e-11`` of its maximum, plus ``6 + p`` cells on each side, are
stepped (outside, the state is exactly zero): a step whose solution comes within half a buffer
of an edge is redone on a larger window, and the window follows the band. The fluxes through its
edges and what it drops when it shrinks are accounted for (``info["window_loss"]``, about 1e-13
of the injected amount), so the mass balance still closes to ~1e-13. While ``c_in`` may be
nonzero the window starts at the inlet.

Coefficients in time: chunks of Chebyshev series
------------------------------------------------
The coefficient object is called once per *chunk* ``[t_a, t_b]`` at ``m = 10`` Chebyshev points
(first kind: never at the ends, where a program may have a kink), for the cells that the band
can reach in the chunk (the active window and a margin; the kernel returns for a larger table
if the window outgrows it); the kernel evaluates the series at every stage time (``k_a``,
``k_d`` once per stage when they are the same in every cell, i.e. without a thermal gradient).
The chunk is halved until the
last two Chebyshev coefficients of every coefficient (per face and cell) are below ``1e-10`` of
its size, so the interpolation error is far below the discretisation error; chunks end at the
breakpoints, where derivatives jump, and are about a minute long for ``ln k`` linear in
``1/T`` and a 10 degC/min ramp. (Stages may evaluate a series slightly past ``t_b``: ESDIRK5's
``c_6 = 1.04``; that is the smooth continuation of the current piece.)

Default resolution
------------------
A travelling band's spatial error accumulates with the number of cells it crosses relative to
its width. In the gas transit-time coordinate ``tau`` every part of a band moves at the same
speed ``1 / (1 + k)`` (without a thermal gradient), so its width there at the outlet,
``sigma_tau = sigma_t / (1 + k_e)`` (``k_e`` the retention factor at elution, ``sigma_t`` the
outlet peak's standard deviation), sets the resolution whatever the band did while the oven was
cold (narrower modes are damped physically before they reach the outlet). Transferring fd.py's
model::

    space:  C_p E|Z|^{p+1} sum_i (dtau_i / sigma_tau)^{p+1},      dtau_i = h_i / u_i(t_R),

with ``C_p = (r-1)! r! / (2r)!``. With ``n_cells=None`` a pilot run on 64 cells (local time
tolerance 1e-4) gives ``t_R``, ``sigma_t`` and ``k_e``: the scheme's dissipation is of order
``p + 1 >= 4``, so it leaves the second moment alone and the pilot's ``sigma_t`` is right even
when its mesh does not resolve the band -- but only once the pilot's oscillatory tail has left
the column, so the pilot runs until the column is empty (up to ``2 t[-1]``: the coefficient
object must accept such times). ``N`` is chosen for ``tol / 2`` and rounded up to three
significant bits (solutes then share meshes, whose stencils are cached). If the run's own
moments predict a larger spatial error than ``tol`` (a band far narrower than the pilot could
tell, e.g. ``D = 0``), the run is refined once. The pilot also gives ``ratio`` for the time
tolerance (with ``n_cells`` or ``x_faces`` given it is still made, unless ``dt`` is fixed).

Measured (ESDIRK5, p = 5): against the closed form on the 2-m BTEX column errors 6.9e-3, 1.0e-3,
1.7e-4 at ``tol`` = 1e-2, 1e-3, 1e-4; on the 11-m programmed benchmark (``sigma_t`` = 0.5 s,
``t_R`` = 668 s) 6.4e-3 and 8.7e-4 at ``tol`` = 1e-2, 1e-3 against a 12,288-cell run; space order
4.9 and time order 5.0 (constant and time-varying coefficients); mass balance ~1e-13. Cost on
that benchmark (one core of a shared 2-core Xeon, numba 0.68): ~0.11 s per solute at
``tol = 1e-2`` (2,300 cells, a window of ~150, ~850 steps), ~0.2 s at ``1e-3``; 17 solutes
1.7-2.2 s and 3.3 s. ``order=7`` needs far fewer cells (e.g. 96 instead of 208) at about the
same cost per solute.

Coefficient protocol
--------------------
An object with

* ``at(t, x_faces, x_centres) -> (u_faces, D_faces, k_a, k_d)``: arrays of shapes
  ``(m, len(x_faces))``, ``(m, len(x_faces))``, ``(m, len(x_centres))``, ``(m, len(x_centres))``
  for a 1-D array ``t`` of ``m`` times, evaluated pointwise (vectorised over times and
  positions); ``u > 0``, the others ``>= 0``, all finite (checked: a violation raises
  ``ValueError`` naming ``coefficients``). The solver passes increasing *subsets* of the mesh's
  faces and cell centres (the cells around the band, plus the faces ``x = 0`` and ``x = L``,
  which are always included), so ``at`` must not assume the whole mesh. ``k_a`` and ``k_d`` are
  the values at the cell centres (for coefficients that vary along the column this is an
  ``O(h^2)`` approximation in the exchange term, see "Limitations"; without a thermal gradient
  they are uniform and exact);
* optionally ``breakpoints``: the times at which derivatives of the coefficients jump (ends of
  ramps and holds, pressure-program kinks); steps and chunks end there;
* optionally ``transit_time_mesh(n_cells) -> x_faces`` (or ``None``): the default mesh.

``at`` may be called at times beyond ``t[-1]`` (the pilot, up to ``2 t[-1]``).

:class:`ConstantCoefficients` is the isothermal model of :mod:`sciflow.chromatography.model`.

Limitations
-----------
* ``k_a``, ``k_d`` are used at cell centres in the exchange term, a second-order approximation
  of the cell average of ``k_a c - k_d q`` when they vary along the column (a thermal
  gradient): the scheme is then second order in space, with a small constant (measured 1.7e-4
  peak-scaled between 640 and 1280 cells on a 2-m column with 10 K/m; the first moment drifts by
  -1.9e-4 s of 238 s at 400 cells). Without a gradient they are uniform and exact. (The
  remedy, a product rule with ``k' c'`` and ``k' q'``, couples neighbouring ``q`` and costs the
  local elimination.) The default resolution does not include this term.
* Sharp-edged outlet signals (an unretained marker) ring, as in fd.py; no limiter.
* The outlet closure is the thin-layer limit (``D / u_out`` far below a cell), as for GC.
* The default resolution needs the peak to leave the column by ``2 t[-1]``; otherwise it falls
  back to 256 cells (``info["resolution"]`` says which).
* Cost: the band crosses ~300 of its own widths, so SDIRK-type schemes need ~5-7 steps per width
  (ESDIRK5 about 750 steps for ``tol = 1e-2``, 1300 for ``1e-3`` on the benchmark) -- the time
  error, not stability, sets the step. A mesh moving with the band (ALE) would remove most of
  it; not done.

References
----------
C. A. Kennedy, M. H. Carpenter, "Diagonally implicit Runge-Kutta methods for ordinary
differential equations. A review", NASA/TM-2016-219173 (2016) (ESDIRK5(4)7L[2]SA, Table 25).
E. Hairer, G. Wanner, *Solving Ordinary Differential Equations II*, 2nd ed., Springer (1996)
(SDIRK4 and its embedded method; error-estimate filtering, sec. IV.8).
W. Hundsdorfer, J. Verwer, *Numerical Solution of Time-Dependent Advection-Diffusion-Reaction
Equations*, Springer (2003).
L. N. Trefethen, *Approximation Theory and Approximation Practice*, SIAM (2013) (Chebyshev
interpolation, coefficient decay as the accuracy test).
"""

from __future__ import annotations

import math
import numbers
import time as _time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import (
    check_in_range,
    check_increasing,
    check_int,
    check_nonnegative,
    check_positive,
)
from .fd import ORDERS, _abs_normal_moment, _moment_rows, _poly_weights, _space_constant

__all__ = ["outlet_response_programmed", "ConstantCoefficients"]


@dataclass(frozen=True)
class _Scheme:
    """A stiffly accurate (E)SDIRK method with an embedded solution: Butcher matrix (``b`` is
    its last row), embedded weights, order and embedded order."""

    a: np.ndarray
    b_hat: np.ndarray
    order: int
    embedded_order: int
    kappa: float  # local tolerance = kappa * (tol / 2) / ratio (calibrated, module docstring)

    @property
    def c(self) -> np.ndarray:
        return self.a.sum(axis=1)

    @property
    def e(self) -> np.ndarray:
        return self.a[-1] - self.b_hat

    @property
    def implicit_stages(self) -> int:
        return self.a.shape[0] - (1 if self.a[0, 0] == 0.0 else 0)


TIME_SCHEMES = {
    # ESDIRK5(4)7L[2]SA, Kennedy & Carpenter (2016), Table 25: L-stable, stiffly accurate,
    # stage order 2, explicit first stage (first same as last), gamma = 0.184
    "esdirk5": _Scheme(
        np.array([
            [0, 0, 0, 0, 0, 0, 0],
            [0.184, 0.184, 0, 0, 0, 0, 0],
            [-0.038107647738324729, -0.038107647738324743, 0.184, 0, 0, 0, 0],
            [0.021677664958778542, 0.0216776649587785, 0.29264467008244299, 0.184, 0, 0, 0],
            [-0.85104626617351575, -0.85104626617351564, 1.7533038157326979,
             0.41794699347257747, 0.184, 0, 0],
            [-5.0356161217492197, -5.0356161217492197, 8.9713052937951279,
             0.31505839963851934, 1.6408685500647917, 0.184, 0],
            [-0.075998114543861517, -0.075998114543861378, 0.42427748359919076,
             0.27546898147535387, 0.32051077889797169, -0.052261014884793552, 0.184]]),
        np.array([-0.108049345454303, -0.10804934545430295, 0.48372757888653789,
                  0.23595105756244605, 0.37538336433425512, -0.032306662513724778,
                  0.15334335263909166]), 5, 4, 5.0),
    # SDIRK4 (Hairer & Wanner 1996, Table IV.6.5): L-stable, stiffly accurate, gamma = 1/4,
    # embedded order 3
    "sdirk4": _Scheme(
        np.array([[1 / 4, 0, 0, 0, 0],
                  [1 / 2, 1 / 4, 0, 0, 0],
                  [17 / 50, -1 / 25, 1 / 4, 0, 0],
                  [371 / 1360, -137 / 2720, 15 / 544, 1 / 4, 0],
                  [25 / 24, -49 / 48, 125 / 16, -85 / 12, 1 / 4]]),
        np.array([59 / 48, -17 / 96, 225 / 32, -85 / 12, 0.0]), 4, 3, 10.0),
}

# Chebyshev chunks of the coefficients
_M_NODES = 10
_CHEB_TOL = 1e-10
_CHEB_X = np.cos(np.pi * (np.arange(_M_NODES) + 0.5) / _M_NODES)  # first kind, descending
_CHEB_FWD = (2.0 / _M_NODES) * np.cos(
    np.pi * np.arange(_M_NODES)[:, None] * (np.arange(_M_NODES)[None, :] + 0.5) / _M_NODES)
_CHEB_FWD[0] *= 0.5

# controller: local tolerance = kappa * (tol / 2) / ratio (band widths travelled); pilot
_FALLBACK_RATIO = 300.0
_PILOT_TOL = 1e-4
_PILOT_CHEB_TOL = 1e-7  # the pilot needs moments to a few per cent: longer chunks
# active window: cells with |c| + alpha |q| above _WIN_EPS of the maximum, plus a buffer
_WIN_EPS = 1e-11
_WIN_BUF = 6
_PILOT_CELLS = 64
_FALLBACK_CELLS = 256
_MAX_AUTO_CELLS = 20000


# ----------------------------------------------------------------------------------------------
# coefficients
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConstantCoefficients:
    """Time-independent coefficients of the isothermal model (a coefficient object).

    Compressible Poiseuille flow of an ideal gas at constant temperature,
    ``u(x) = u_in / sqrt(1 - (1 - P^2) x / L)`` (``P = 1``: constant velocity), and constant
    ``D``, ``k_a``, ``k_d``.

    Parameters
    ----------
    u_in : float
        Inlet velocity (m/s), > 0.
    P : float
        Pressure ratio ``p_out / p_in`` in (0, 1].
    D : float
        Dispersion coefficient (m^2/s), >= 0.
    k_a, k_d : float
        Adsorption and desorption rate constants (1/s), >= 0.
    length : float, optional
        Column length (m); needed only for :meth:`transit_time_mesh` (the profile itself takes
        ``L = x_faces[-1]``).
    """

    u_in: float
    P: float
    D: float
    k_a: float
    k_d: float
    length: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "u_in", check_positive("u_in", self.u_in))
        object.__setattr__(self, "P", check_in_range("P", self.P, 0.0, 1.0, low_open=True))
        object.__setattr__(self, "D", check_nonnegative("D", self.D))
        object.__setattr__(self, "k_a", check_nonnegative("k_a", self.k_a))
        object.__setattr__(self, "k_d", check_nonnegative("k_d", self.k_d))
        if self.length is not None:
            object.__setattr__(self, "length", check_positive("length", self.length))

    @classmethod
    def from_column(cls, column, analyte, compressible: bool = True) -> ConstantCoefficients:
        """The coefficients of a :class:`~sciflow.chromatography.Column` and
        :class:`~sciflow.chromatography.Analyte` (``compressible=False``: ``u = u_in``)."""
        from .model import _check_analyte, _check_column, _check_compressible

        _check_column(column)
        _check_analyte(analyte)
        compressible = _check_compressible(compressible)
        P = column.pressure_ratio if compressible and not column.constant_velocity else 1.0
        return cls(column.u_in, P, column.dispersion, analyte.k_a, analyte.k_d,
                   length=column.length)

    breakpoints = ()

    def velocity(self, x, L):
        """u(x) (m/s) on a column of length L."""
        x = np.asarray(x, dtype=float)
        if self.P == 1.0:
            return np.full(x.shape, self.u_in)
        b = (1.0 - self.P) * (1.0 + self.P)
        return self.u_in / np.sqrt(np.maximum(1.0 - b * x / L, 0.0))

    def at(self, t, x_faces, x_centres):
        """(u_faces, D_faces, k_a, k_d) at the times ``t`` (the same for every time)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        x_faces = np.asarray(x_faces, dtype=float)
        x_centres = np.asarray(x_centres, dtype=float)
        m, nf, nc = t.size, x_faces.size, x_centres.size
        u = np.broadcast_to(self.velocity(x_faces, x_faces[-1]), (m, nf))
        return (u, np.full((m, nf), self.D), np.full((m, nc), self.k_a),
                np.full((m, nc), self.k_d))

    def transit_time_mesh(self, n_cells):
        """Faces at equal gas transit time (fd.py's mesh), or None without ``length``."""
        if self.length is None:
            return None
        n_cells = check_int("n_cells", n_cells, low=1)
        L = self.length
        frac = np.arange(n_cells + 1) / n_cells
        if self.P == 1.0:
            xf = L * frac
        else:
            P = self.P
            b = (1.0 - P) * (1.0 + P)
            w = frac * (1.0 - P**3)  # 3 b u_in tau / (2 L) with tau = frac t_M
            xf = (L / b) * -np.expm1((2.0 / 3.0) * np.log1p(-w))
        xf[0], xf[-1] = 0.0, L
        return xf


def _check_coefficients(coefficients):
    if not callable(getattr(coefficients, "at", None)):
        raise TypeError("coefficients must have a method at(t, x_faces, x_centres) returning "
                        "(u_faces, D_faces, k_a, k_d); got "
                        f"{type(coefficients).__name__}")
    return coefficients


def _evaluate(coefficients, times, xf, xc):
    """Call ``coefficients.at`` and check what it returns."""
    n = xc.size
    nf = xf.size
    try:
        out = coefficients.at(times, xf, xc)
        u, D, ka, kd = out
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and "coefficients" in str(exc):
            raise
        raise TypeError(f"coefficients.at(t, x_faces, x_centres) must return four arrays "
                        f"(u_faces, D_faces, k_a, k_d): {exc}") from None
    m = times.size
    res = []
    for name, arr, shape, low in (("u_faces", u, (m, nf), "> 0"),
                                  ("D_faces", D, (m, nf), ">= 0"),
                                  ("k_a", ka, (m, n), ">= 0"), ("k_d", kd, (m, n), ">= 0")):
        try:
            a = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"coefficients.at returned a {name} that is not an array of "
                            "numbers") from None
        if a.shape != shape:
            raise ValueError(f"coefficients.at returned {name} of shape {a.shape}; expected "
                             f"{shape} (times x {'faces' if 'faces' in name else 'cells'})")
        bad = ~np.isfinite(a) | ((a <= 0.0) if low == "> 0" else (a < 0.0))
        if bad.any():
            j, i = np.argwhere(bad)[0]
            raise ValueError(f"coefficients: {name} must be finite and {low}; got {a[j, i]} at "
                             f"t = {times[j]:.6g} s, index {i}")
        res.append(a)
    return res


def _check_breakpoints(name, value):
    try:
        arr = np.asarray(list(value) if not isinstance(value, np.ndarray) else value,
                         dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of times (s)") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


# ----------------------------------------------------------------------------------------------
# stencils
# ----------------------------------------------------------------------------------------------
def _robin_weights(edges, xe, deriv):
    """Inlet-closure weights: value (deriv=0) or slope at ``xe`` of the polynomial matching the
    averages over ``edges`` and ``p(x0) - delta p'(x0) = c_in`` (``x0 = edges[0]``).

    Returns ``(w0, g)``: weights at ``delta = 0`` and the rank-one direction, both of length
    ``ncell + 1`` (datum last); ``w(delta) = w0 + delta w0[-1] / (1 - delta g[-1]) g``
    (Sherman-Morrison on the datum row ``a - delta b``).
    """
    ncell = edges.size - 1
    nm = ncell + 1
    sc = edges[-1] - edges[0]
    z = (edges - xe) / sc
    M = np.zeros((nm, nm))
    M[:ncell] = _moment_rows(z[:-1], z[1:], nm)
    z0 = z[0]
    j = np.arange(nm)
    M[ncell] = z0**j
    b = np.zeros(nm)
    b[1:] = j[1:] * z0 ** (j[1:] - 1) / sc
    e = np.zeros(nm)
    e[deriv] = 1.0 if deriv == 0 else 1.0 / sc
    w0 = np.linalg.solve(M.T, e)
    g = np.linalg.solve(M.T, b)
    return w0, g


@dataclass(frozen=True)
class _Structure:
    """Mesh and face stencils (see ``_kernels_programmed.face_coefficients``): face ``f``'s
    value and slope weights on the cells ``SU[f-1] + k``, the inlet-closure parts, and the
    envelope of the stage matrix with (``lo_D``, ``hi_D``) and without (``lo``, ``hi``)
    dispersion."""

    xf: np.ndarray
    xc: np.ndarray
    h: np.ndarray
    order: int
    SU: np.ndarray
    WV: np.ndarray
    GV: np.ndarray
    WS: np.ndarray
    GS: np.ndarray
    dV: np.ndarray
    gV: np.ndarray
    dS: np.ndarray
    gS: np.ndarray
    nin: int
    ml: int
    mu: int
    lo: np.ndarray
    hi: np.ndarray
    lo_D: np.ndarray
    hi_D: np.ndarray
    RP: np.ndarray
    RQ: np.ndarray
    RR: np.ndarray
    RS: np.ndarray

    @property
    def n(self) -> int:
        return self.h.size

    def kernel_args(self):
        return (self.SU, self.WV, self.GV, self.WS, self.GS, self.dV, self.gV, self.dS,
                self.gS, int(self.nin), self.RP, self.RQ, self.RR, self.RS)


def _stencils(xf, order, deriv):
    N = xf.size - 1
    r = (order + 1) // 2
    m = order if deriv == 0 else 2 * r
    faces = np.arange(1, N + 1)
    starts = np.minimum(faces - r, N - m)
    W = np.zeros((N, m))
    G = np.zeros((N, m))
    d = np.zeros(N)
    gd = np.zeros(N)
    reg = np.flatnonzero(starts >= 0)
    edges = xf[starts[reg][:, None] + np.arange(m + 1)[None, :]]
    W[reg] = _poly_weights(edges, xf[faces[reg]], deriv)
    inlet = np.flatnonzero(starts < 0)
    for i in inlet:  # faces 1 .. nin (contiguous)
        f = faces[i]
        ncell = f + r - 1 if deriv == 0 else f + r
        w0, g = _robin_weights(xf[: ncell + 1], xf[f], deriv)
        W[i, :ncell] = w0[:-1]
        G[i, :ncell] = g[:-1]
        d[i] = w0[-1]
        gd[i] = g[-1]
    return np.maximum(starts, 0), W, G, d, gd, int(inlet.size)


def _envelope(N, SU, masks):
    """Rows' first column (``lo``) and last column after fill-in (``hi``) of the operator whose
    face stencils are nonzero where ``masks`` say (face ``f`` couples rows ``f - 1`` and
    ``f``)."""
    w = masks.shape[1]
    any_ = masks.any(axis=1)
    first = np.where(any_, SU + np.argmax(masks, axis=1), N)
    last = np.where(any_, SU + w - 1 - np.argmax(masks[:, ::-1], axis=1), -1)
    rows = np.arange(N)
    lo = np.minimum(rows, first)
    hi = np.maximum(rows, last)
    lo[1:] = np.minimum(lo[1:], first[:-1])
    hi[1:] = np.maximum(hi[1:], last[:-1])
    # fill-in of LU without pivoting: row i inherits the upper extent of the rows lo[i]..i-1
    reach = int(np.max(rows - lo))
    hi_orig = hi.copy()
    for _ in range(N):
        new = hi_orig.copy()
        for k in range(1, reach + 1):
            ok = lo[k:] <= rows[k:] - k
            new[k:] = np.maximum(new[k:], np.where(ok, hi[:-k], -1))
        if np.array_equal(new, hi):
            break
        hi = new
    return lo.astype(np.int64), hi.astype(np.int64)


_STRUCTURES: dict = {}
_STRUCTURE_CACHE_SIZE = 32


def _structure(xf, order) -> _Structure:
    """The stencils of a mesh (cached: solutes of one chromatogram share meshes)."""
    xf = np.ascontiguousarray(xf, dtype=float)
    key = (int(order), xf.tobytes())
    st = _STRUCTURES.get(key)
    if st is None:
        st = _build_structure(xf, order)
        if len(_STRUCTURES) >= _STRUCTURE_CACHE_SIZE:
            _STRUCTURES.pop(next(iter(_STRUCTURES)))
        _STRUCTURES[key] = st
    return st


def _round_cells(n):
    """``n`` rounded up to three significant bits (within 12.5 %), so that solutes share
    meshes."""
    step = max(1, 2 ** (int(n).bit_length() - 4))
    return int(-(-int(n) // step) * step)


def _build_structure(xf, order) -> _Structure:
    N = xf.size - 1
    h = np.diff(xf)
    S0, W0, G0, d0, gd0, nin0 = _stencils(xf, order, 0)
    S1, W1, G1, d1, gd1, nin1 = _stencils(xf, order, 1)
    SU = np.minimum(S0, S1)
    w = int(np.max(np.maximum(S0 + W0.shape[1], S1 + W1.shape[1]) - SU))
    mats = []
    for S, W, G in ((S0, W0, G0), (S1, W1, G1)):
        WU = np.zeros((N, w))
        GU = np.zeros((N, w))
        off = S - SU
        for k in range(W.shape[1]):
            WU[np.arange(N), off + k] = W[:, k]
            GU[np.arange(N), off + k] = G[:, k]
        mats.append((WU, GU))
    (WV, GV), (WS, GS) = mats
    nz_v = (WV != 0) | (GV != 0)
    nz_d = nz_v | (WS != 0) | (GS != 0)
    lo, hi = _envelope(N, SU, nz_v)
    lo_D, hi_D = _envelope(N, SU, nz_d)
    ml = int(np.max(np.arange(N) - lo_D))
    mu = int(np.max(hi_D - np.arange(N)))
    # row coefficients of u_i, u_{i+1}, D_i, D_{i+1} (faces i and i + 1 of cell i), over h_i
    bw = ml + mu + 1
    R = [np.zeros((N, bw)) for _ in range(4)]
    cols = SU[:, None] + np.arange(w)[None, :]  # cells of face f = il + 1
    faces = np.arange(N)
    for row_of, sign, (tv, ts) in ((faces, -1.0, (1, 3)), (faces + 1, 1.0, (0, 2))):
        # face il + 1 leaves cell il (the u_{i+1}, D_{i+1} terms of row il) and enters cell
        # il + 1 (the u_i, D_i terms of row il + 1)
        rows = np.broadcast_to(row_of[:, None], cols.shape)
        k = cols - rows + ml
        ok = (rows < N) & (nz_d) & (k >= 0) & (k < bw)
        hr = h[np.minimum(rows, N - 1)]
        np.add.at(R[tv], (rows[ok], k[ok]), (sign * WV / hr)[ok])
        np.add.at(R[ts], (rows[ok], k[ok]), (sign * WS / hr)[ok])
    return _Structure(xf, 0.5 * (xf[1:] + xf[:-1]), h, order, SU.astype(np.int64), WV, GV,
                      WS, GS, d0, gd0, d1, gd1, max(nin0, nin1), ml, mu, lo, hi, lo_D, hi_D,
                      *R)


# ----------------------------------------------------------------------------------------------
# NumPy references of the kernels (tests compare the two)
# ----------------------------------------------------------------------------------------------
def _assemble_reference(st: _Structure, u, D, cin):
    """Dense operator ``A`` and forcing ``f`` (``dc/dt = A c + f``) at one time; ``u``, ``D`` at
    the faces. Returns ``(A, f, F0)``."""
    n = st.n
    delta = D[0] / u[0]
    inl = np.arange(n) < st.nin
    with np.errstate(divide="ignore", invalid="ignore"):
        sV = np.where(inl, delta * st.dV / (1.0 - delta * st.gV), 0.0)
        sS = np.where(inl, delta * st.dS / (1.0 - delta * st.gS), 0.0)
    phi = (u[1:, None] * (st.WV + sV[:, None] * st.GV)
           - D[1:, None] * (st.WS + sS[:, None] * st.GS))
    datum = np.where(inl, u[1:] * (st.dV + sV * st.gV) - D[1:] * (st.dS + sS * st.gS), 0.0)
    R = np.zeros((n, n))  # R[f-1, j]: coefficient of c_j in the flux through face f
    cols = st.SU[:, None] + np.arange(st.WV.shape[1])[None, :]
    np.add.at(R, (np.repeat(np.arange(n), cols.shape[1]), cols.ravel()), phi.ravel())
    A = -R / st.h[:, None]
    A[1:] += R[:-1] / st.h[1:, None]
    F0 = u[0] * cin
    frc = -datum * cin / st.h
    frc[1:] += datum[:-1] * cin / st.h[1:]
    frc[0] += F0 / st.h[0]
    return A, frc, F0


def _hermite_reference(nodes, values, slopes, t):
    """The Hermite polynomial through the values and slopes at the nodes, at ``t`` (SciPy)."""
    from scipy.interpolate import KroghInterpolator

    x = np.repeat(nodes, 2)
    y = np.ravel(np.column_stack((values, slopes)))
    return float(KroghInterpolator(x, y)(t))


def _march_chunk_reference(ta, tb, C, alpha, st: _Structure, scheme: _Scheme, c, q, dt, dt_max,
                           dt_fixed, tol, stop_mass, w_out, t_out, io, y_c, y_f, acc, cnt):
    """Plain NumPy/SciPy version of :func:`sciflow.chromatography._kernels_programmed.march_chunk`
    (same control logic on the whole column -- no active window; dense matrices and
    ``scipy.linalg.solve_banded``). Returns ``(t, dt, io, stopped, c, q)``."""
    from numpy.polynomial import chebyshev as cheb
    from scipy.linalg import solve_banded

    from .fd import _band_to_lapack

    n = st.n
    span = tb - ta
    A_rk, c_rk, e_rk = scheme.a, scheme.c, scheme.e
    s_st = A_rk.shape[0]
    gam = A_rk[-1, -1]
    explicit = A_rk[0, 0] == 0.0
    expo = -1.0 / (scheme.embedded_order + 1.0)
    ml, mu = st.ml, st.mu
    dC = cheb.chebder(C.T).T * 2.0 / span  # d/dt of every series

    def coeffs(tt):
        s = 2.0 * (tt - ta) / span - 1.0
        v = cheb.chebval(s, C.T)
        dv = cheb.chebval(s, dC.T)
        return (v[: n + 1], np.maximum(v[n + 1: 2 * n + 2], 0.0),
                np.maximum(v[2 * n + 2: 3 * n + 2], 0.0),
                np.maximum(v[3 * n + 2: 4 * n + 2], 0.0), v[4 * n + 2], dv[n], dv[2 * n + 1])

    def band_rows(M):
        out = np.zeros((n, ml + mu + 1))
        for k in range(ml + mu + 1):
            off = k - ml
            i = np.arange(max(0, -off), min(n, n - off))
            out[i, k] = M[i, i + off]
        return out

    def outlet(cv):
        cells = cv[st.SU[-1]: st.SU[-1] + st.WV.shape[1]]
        return st.WV[-1] @ cells, st.WS[-1] @ cells

    def rate(tt, cv, qv):
        u, D, ka, kd, cin, du, dD = coeffs(tt)
        A, frc, F0 = _assemble_reference(st, u, D, cin)
        ex = ka * cv - kd * qv
        v, g = outlet(cv)
        return A @ cv + frc - alpha * ex, ex, F0, u[-1] * v - D[-1] * g

    Fc0, Fq0, F00, FN0 = rate(ta, c, q)
    u, D, ka, kd, cin, du, dD = coeffs(ta)
    v, g = outlet(c)
    dv, dg = outlet(Fc0)
    edge = [u[-1] * v - D[-1] * g, du * v + u[-1] * dv - dD * g - D[-1] * dg, u[-1], du]
    prev = None
    t = ta
    stopped = False
    while t < tb:
        rem = tb - t
        hs = dt_fixed if dt_fixed > 0.0 else min(dt, dt_max)
        truncated = False
        if hs >= rem:
            hs, truncated = rem, True
        elif hs > 0.75 * rem and dt_fixed <= 0.0:
            hs, truncated = 0.5 * rem, True
        elif dt_fixed > 0.0 and rem - hs < 1e-9 * rem:
            hs = rem
        gd = gam * hs
        Fc, Fq, F0s, FNs = [Fc0], [Fq0], [F00], [FN0]
        if not explicit:
            Fc, Fq, F0s, FNs = [], [], [], []
        for j in range(1 if explicit else 0, s_st):
            ts = t + c_rk[j] * hs
            u, D, ka, kd, cin, du, dD = coeffs(ts)
            A, frc, F0 = _assemble_reference(st, u, D, cin)
            den = 1.0 / (1.0 + gd * kd)
            M = -gd * A
            M[np.diag_indices(n)] += 1.0 + gd * alpha * ka * den
            ab = _band_to_lapack(band_rows(M), ml, mu)
            rc = c + hs * sum((A_rk[j, i] * Fc[i] for i in range(j)), np.zeros(n))
            rq = q + hs * sum((A_rk[j, i] * Fq[i] for i in range(j)), np.zeros(n))
            cs = solve_banded((ml, mu), ab, rc + gd * (alpha * kd * den * rq + frc))
            qs = (rq + gd * ka * cs) * den
            Fc.append((cs - rc) / gd)
            Fq.append((qs - rq) / gd)
            v, g = outlet(cs)
            F0s.append(F0)
            FNs.append(u[-1] * v - D[-1] * g)
            cnt[2] += 1
        err = 0.0
        if dt_fixed <= 0.0:
            ec = hs * sum(e_rk[i] * Fc[i] for i in range(s_st))
            eq = hs * sum(e_rk[i] * Fq[i] for i in range(s_st))
            xc = solve_banded((ml, mu), ab, ec + gd * alpha * kd * den * eq)
            xq = (eq + gd * ka * xc) * den
            scale = max(w_out[0], np.max(np.abs(c) + alpha * np.abs(q)),
                        np.max(np.abs(cs) + alpha * np.abs(qs)))
            e = np.max(np.abs(xc) + alpha * np.abs(xq))
            err = e / (tol * scale) if scale > 0.0 else 0.0
            if not err <= 1.0:
                cnt[1] += 1
                fac = 0.9 * err**expo if err < 1e300 else 0.1
                dt = hs * max(0.1, min(0.9, fac))
                continue
        t_new = tb if hs == rem else t + hs
        c, q = cs, qs
        ts = t + c_rk * hs
        wgt = hs * A_rk[-1]
        FNa = np.array(FNs)
        acc[0] += np.sum(wgt * np.array(F0s))
        acc[1] += np.sum(wgt * FNa)
        acc[2] += np.sum(wgt * ts * FNa)
        acc[3] += np.sum(wgt * ts * ts * FNa)
        v, g = outlet(c)
        dv, dg = outlet(Fc[-1])
        f1 = FNs[-1]
        df1 = du * v + u[-1] * dv - dD * g - D[-1] * dg
        u1 = u[-1]
        f0, df0, u0, du0 = edge
        y0, y1 = f0 / u0, f1 / u1
        dy0, dy1 = (df0 - y0 * du0) / u0, (df1 - y1 * du) / u1
        while io < t_out.size and t_out[io] <= t_new:
            to = max(t_out[io], t)
            for out_arr, k, a0, a1, b0, b1 in ((y_f, 0, f0, df0, f1, df1),
                                               (y_c, 1, y0, dy0, y1, dy1)):
                nodes = ([prev[0], t, t_new] if prev is not None else [t, t_new])
                vals_ = ([prev[1 + 2 * k], a0, b0] if prev is not None else [a0, b0])
                ders = ([prev[2 + 2 * k], a1, b1] if prev is not None else [a1, b1])
                out_arr[io] = _hermite_reference(nodes, vals_, ders, to)
            io += 1
        prev = (t, f0, df0, y0, dy0)
        edge = [f1, df1, u1, du]
        acc[4], acc[5] = f1, df1
        w_out[0] = max(w_out[0], abs(c[-1]) + alpha * abs(q[-1]))
        cnt[0] += 1
        t = t_new
        Fc0, Fq0, F00, FN0 = Fc[-1], Fq[-1], F0s[-1], FNs[-1]
        if dt_fixed <= 0.0:
            fac = 5.0 if err <= 1e-30 else min(5.0, max(0.2, 0.9 * err**expo))
            dt_new = hs * fac
            if truncated and dt_new < dt:
                dt_new = dt
            dt = dt_new
        if stop_mass > 0.0 and np.sum(st.h * (np.abs(c) + alpha * np.abs(q))) < stop_mass:
            stopped = True
            break
    return t, dt, io, stopped, c, q


# ----------------------------------------------------------------------------------------------
# chunks of Chebyshev series
# ----------------------------------------------------------------------------------------------
def _chunk_table(coefficients, cin_fn, ta, tb, st: _Structure, cin_scale, j0, j1, CT,
                 reference=False):
    """Chebyshev coefficients in time on ``[ta, tb]`` of u, D at the faces ``j0..j1`` and at the
    inlet and outlet faces, k_a, k_d in the cells ``[j0, j1)`` and c_in, written to their rows
    of ``CT`` (4N + 3, m) (the other rows are left alone).

    Returns the largest relative size of the last two coefficients, the largest c_in, whether D
    is nonzero anywhere there and the bit mask of uniform k_a (1) and k_d (2) (the kernel then
    evaluates one series). ``reference``: NumPy instead of the compiled transform."""
    from . import _kernels_programmed as _k

    n = st.n
    nodes = ta + 0.5 * (tb - ta) * (1.0 + _CHEB_X)
    faces = np.arange(j0, j1 + 1)
    if j0 > 0:
        faces = np.r_[0, faces]
    if j1 < n:
        faces = np.r_[faces, n]
    u, D, ka, kd = _evaluate(coefficients, nodes, st.xf[faces], st.xc[j0:j1])
    cin = cin_fn(nodes)
    vals = np.concatenate((u, D, ka, kd, cin[:, None]), axis=1)
    cells = np.arange(j0, j1)
    rows = np.concatenate((faces, n + 1 + faces, 2 * n + 2 + cells, 3 * n + 2 + cells,
                           [4 * n + 2]))
    cmax = float(np.max(np.abs(cin)))
    has_D = bool(np.any(D != 0.0))
    uniform = int(np.all(ka == ka[:, :1])) + 2 * int(np.all(kd == kd[:, :1]))
    if not reference:
        rel = _k.cheb_table(np.ascontiguousarray(vals), _CHEB_FWD, rows.astype(np.int64),
                            float(cin_scale), CT)
        return float(rel), cmax, has_D, uniform
    sub = vals.T @ _CHEB_FWD.T
    CT[rows] = sub
    size = np.max(np.abs(vals), axis=0)
    size[-1] = max(size[-1], cin_scale)
    tail = np.max(np.abs(sub[:, -2:]), axis=1)
    return float(np.max(tail / np.where(size > 0.0, size, 1.0))), cmax, has_D, uniform


def _inlet_function(c_in, breakpoints):
    """(callable of an array of times, pulse length or None, breakpoints of c_in)."""
    if callable(c_in):
        def fn(tt):
            try:
                v = np.asarray(c_in(tt), dtype=float)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"c_in(t) must return numbers: {exc}") from None
            v = np.broadcast_to(v, tt.shape) if v.ndim == 0 else v
            if v.shape != tt.shape:
                raise ValueError(f"c_in(t) must return an array of the shape of t {tt.shape}, "
                                 f"got {v.shape}")
            if not np.all(np.isfinite(v)) or np.any(v < 0.0):
                raise ValueError("c_in(t) must be finite and >= 0 (an inlet concentration "
                                 "relative to c0)")
            return v
        return fn, None, breakpoints
    if isinstance(c_in, bool) or not isinstance(c_in, numbers.Real):
        raise TypeError("c_in must be a callable of t or the length of a rectangular pulse "
                        f"(s), got {type(c_in).__name__}")
    t_inj = check_positive("c_in", c_in)
    return (lambda tt: (tt < t_inj).astype(float)), t_inj, np.append(breakpoints, t_inj)


# ----------------------------------------------------------------------------------------------
# one run on a given mesh
# ----------------------------------------------------------------------------------------------
def _run(st: _Structure, scheme: _Scheme, coefficients, t, cin_fn, pulse, breaks, alpha,
         tol_loc, dt_max, dt_fixed, stop_tol, progress, use_reference=False, cheb_tol=None):
    """March one run; returns ``(y_c, y_f, acc, cnt, c, q, out)`` (see ``march_chunk``)."""
    from . import _kernels_programmed as _k

    n = st.n
    t_end = float(t[-1])
    y_c = np.zeros(t.size)
    y_f = np.zeros(t.size)
    acc = np.zeros(8)
    cnt = np.zeros(5, dtype=np.int64)
    w_out = np.zeros(1)
    c = np.zeros(n)
    q = np.zeros(n)
    inv_h = 1.0 / st.h
    buf = _WIN_BUF + st.order
    win = np.array([0, min(n, 3 * buf)], dtype=np.int64)
    io = int(np.searchsorted(t, 0.0, side="right"))
    out: dict[str, Any] = {"n_chunks": 0, "chunk_rejections": 0, "stopped_at": None,
           "coefficient_tail": 0.0, "window_max": 0, "table_extensions": 0}
    if t_end <= 0.0:
        return y_c, y_f, acc, cnt, c, q, out
    cheb_tol = _CHEB_TOL if cheb_tol is None else cheb_tol
    br = np.unique(breaks[(breaks > 0.0) & (breaks < t_end)])
    stops = np.append(br, t_end)
    chunk = t_end
    cin_scale = 0.0
    ta = 0.0
    dt = dt_fixed if dt_fixed > 0 else min(dt_max, 1e-3 * stops[0])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=t_end, desc="programmed fd", unit="s", leave=False)
    ka_args = st.kernel_args()
    CT = np.zeros((4 * n + 3, _M_NODES))
    dstate = np.zeros(6)
    grow = 4 * buf

    def table_range(inlet_open, lo=None, hi=None):
        j0 = 0 if inlet_open else max(0, int(win[0]) - grow)
        j1 = min(n, int(win[1]) + max(grow, int(win[1] - win[0])))
        if lo is not None:  # an enlargement: at least double the downstream reach
            j0 = min(j0, lo)
            j1 = max(j1, min(n, hi + max(grow, hi - lo)))
        return j0, j1

    try:
        while ta < t_end:
            nxt = stops[np.searchsorted(stops, ta, side="right")]
            tb = min(nxt, ta + chunk)
            if nxt - tb < 0.25 * chunk:
                tb = nxt
            while True:
                nodes = ta + 0.5 * (tb - ta) * (1.0 + _CHEB_X)
                inlet_open = bool(np.any(cin_fn(nodes) != 0.0))
                j0, j1 = (0, n) if use_reference else table_range(inlet_open)
                rel, cmax, has_D, uniform = _chunk_table(coefficients, cin_fn, ta, tb, st,
                                                         cin_scale, j0, j1, CT, use_reference)
                if rel <= cheb_tol or (tb - ta) <= 1e-9 * t_end:
                    break
                out["chunk_rejections"] += 1
                tb = ta + 0.5 * (tb - ta)
            out["coefficient_tail"] = max(out["coefficient_tail"], rel)
            cin_scale = max(cin_scale, cmax)
            chunk = (tb - ta) * (2.0 if rel < 1e-3 * cheb_tol else 1.0)
            # stop only once the inlet is shut for good (pulse over, or c_in = 0 on the chunk)
            inlet_off = (ta >= pulse) if pulse is not None else not inlet_open
            stop_mass = stop_tol * acc[0] if (stop_tol > 0 and inlet_off and acc[0] > 0) else 0.0
            out["n_chunks"] += 1
            t_cur = ta
            dstate[5] = 0.0
            status = 0
            if use_reference:
                t_cur, dt, io, stopped, c, q = _march_chunk_reference(
                    ta, tb, CT, alpha, st, scheme, c, q, dt, dt_max, dt_fixed, tol_loc,
                    stop_mass, w_out, t, io, y_c, y_f, acc, cnt)
                status = 1 if stopped else 0
            while not use_reference:
                lo, hi = (st.lo_D, st.hi_D) if has_D else (st.lo, st.hi)
                # plain Python scalars throughout: one compiled signature
                t_cur, dt, io, status = _k.march_chunk(
                    float(ta), float(tb), CT, float(alpha), inv_h, st.h, int(st.ml), int(st.mu),
                    lo, hi, *ka_args, scheme.a, scheme.c, scheme.e, int(scheme.embedded_order),
                    c, q, float(dt), float(dt_max), float(dt_fixed), float(tol_loc),
                    float(stop_mass), w_out, t, int(io), y_c, y_f, acc, cnt, win,
                    float(_WIN_EPS), int(buf), bool(inlet_open), int(uniform), bool(has_D),
                    float(t_cur), int(j0), int(j1), dstate)
                t_cur, dt, io, status = float(t_cur), float(dt), int(io), int(status)
                out["window_max"] = max(out["window_max"], int(win[1] - win[0]))
                if status != 2:
                    break
                # the window outgrew the table: extend it on the same chunk
                out["table_extensions"] += 1
                j0, j1 = table_range(inlet_open, min(j0, int(win[0])), max(j1, int(win[1])))
                rel, _, has_D, uniform = _chunk_table(coefficients, cin_fn, ta, tb, st,
                                                      cin_scale, j0, j1, CT)  # a superset
                out["coefficient_tail"] = max(out["coefficient_tail"], rel)
            if bar is not None:
                bar.update(t_cur - ta)
            if status == 1:
                out["stopped_at"] = float(t_cur)
                break
            ta = tb
    finally:
        if bar is not None:
            bar.close()
    return y_c, y_f, acc, cnt, c, q, out


def _error_model(st: _Structure, coefficients, alpha, tR, sigma):
    """The module docstring's a-priori model at the band's exit ``(t_R, sigma)``: predicted
    spatial error, the retention factor at elution and the number of band widths travelled,
    ``ratio = t_M (1 + k_e) / sigma`` (``t_M`` the gas hold-up time at ``t_R``)."""
    u, _, ka, kd = _evaluate(coefficients, np.array([tR]), st.xf, st.xc)
    uc = 0.5 * (u[0, 1:] + u[0, :-1])
    k_e = alpha * ka[0, -1] / kd[0, -1] if kd[0, -1] > 0 else 1e300
    sig_tau = max(sigma / (1.0 + k_e), 1e-300)
    p = st.order
    Ks = _space_constant(p) * _abs_normal_moment(p + 1)
    dtau = st.h / uc
    return (float(Ks * np.sum((dtau / sig_tau) ** (p + 1))), float(k_e),
            float(np.sum(dtau) / sig_tau))


# ----------------------------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------------------------
def _mesh(length, coefficients, n_cells, order):
    xf = None
    if callable(getattr(coefficients, "transit_time_mesh", None)):
        xf = coefficients.transit_time_mesh(n_cells)
    if xf is None:
        return length * np.arange(n_cells + 1) / n_cells
    xf = check_increasing("coefficients.transit_time_mesh(n_cells)", xf)
    if xf.size != n_cells + 1 or abs(xf[0]) > 1e-12 * length or \
            abs(xf[-1] - length) > 1e-9 * length:
        raise ValueError(f"coefficients.transit_time_mesh({n_cells}) must return {n_cells + 1} "
                         f"increasing faces from 0 to length = {length} m")
    xf = xf.copy()
    xf[0], xf[-1] = 0.0, length
    return xf


def outlet_response_programmed(length, coefficients, t, *, c_in, alpha, x_faces=None,
                               n_cells=None, order: int = 5, time_scheme: str = "esdirk5",
                               tol: float = 1e-3, dt_max=None, dt=None, breakpoints=(),
                               stop_tol: float = 1e-10, progress: bool = False):
    """Outlet concentration and flux of one solute on a column with programmed coefficients.

    Parameters
    ----------
    length : float
        Column length L (m).
    coefficients : object
        ``at(t, x_faces, x_centres) -> (u_faces, D_faces, k_a, k_d)`` (pointwise; called with
        subsets of the mesh and at times up to ``2 t[-1]``) and optionally ``breakpoints`` and
        ``transit_time_mesh(n_cells)`` (module docstring, "Coefficient protocol"); e.g.
        :class:`ConstantCoefficients`.
    t : array_like, shape (n_t,)
        Strictly increasing output times (s); the outlet values are 0 for ``t <= 0``.
    c_in : float or callable
        Inlet concentration relative to c0: the length (s) of a rectangular pulse starting at
        ``t = 0``, or a function of an array of times returning an array (>= 0) -- smooth
        between ``breakpoints``.
    alpha : float
        Phase ratio (>= 0).
    x_faces : array_like, optional
        Faces ``0 = x_0 < ... < x_N = length`` (at least ``2 order + 3`` of them).
    n_cells : int, optional
        Number of cells (``>= 2 order + 2``) of the coefficient object's transit-time mesh (or
        a uniform one). Default: from a pilot run and the error model for ``tol / 2``.
    order : {1, 3, 5, 7}
        Order of the upwind-biased reconstruction.
    time_scheme : {"esdirk5", "sdirk4"}
        ESDIRK5(4)7L[2]SA (order 5, 6 implicit stages) or SDIRK4 (order 4, 5 stages); both
        L-stable and stiffly accurate, with embedded error estimates.
    tol : float
        Target peak-scaled error, in (0, 0.1]: half for space (default ``n_cells``), half for
        time (the step-size controller).
    dt_max : float, optional
        Largest time step (s).
    dt : float, optional
        Fixed time step (s) instead of the controller (steps shortened to land on breakpoints);
        for convergence studies.
    breakpoints : sequence of float
        Extra times where steps must end (discontinuities of a callable ``c_in``).
    stop_tol : float
        Stop once the inlet is shut and the column holds less than ``stop_tol`` of what entered
        (outlet 0 afterwards); 0 marches to ``t[-1]``.
    progress : bool
        tqdm progress bar over simulated time.

    Returns
    -------
    c_out : ndarray, shape (n_t,)
        ``c(L, t) / c0``.
    flux_out : ndarray, shape (n_t,)
        ``u(L, t) c(L, t) / c0`` (m/s): the outlet molar flux per unit area and unit c0.
    info : dict
        ``n_cells``, ``order``, ``time_scheme``, ``tol``, ``n_steps``, ``n_rejected``, ``nfe``
        (implicit stage solves), ``n_chunks`` (coefficient tables used), ``chunk_rejections``,
        ``table_extensions``, ``coefficient_tail`` (largest relative Chebyshev tail),
        ``mass_in`` (``int u(0,t) c_in dt``), ``mass_balance_error`` (``|in - out - inventory|
        / in`` with the scheme's own quadrature: rounding level, ~1e-13), ``mass_remaining``
        (fraction still in the column), ``window_max``, ``window_mean`` (active cells),
        ``window_retries``, ``window_loss`` (net amount through the window's edges and dropped
        with it, per amount injected; included in the mass balance), ``moments`` (``area``,
        ``mean`` and ``std`` of the outlet flux, by the scheme's quadrature), ``stopped_at``,
        ``resolution`` (``how`` -- "pilot" or "given"; the pilot's ``t_R``, ``sigma``,
        ``k_elution``, ``ratio``; ``predicted_space_error`` from the run's own moments;
        ``local_time_tol``; ``refined_from`` if the safety net refined the mesh),
        ``wall_time``.
    """
    start = _time.perf_counter()
    length = check_positive("length", length)
    coefficients = _check_coefficients(coefficients)
    t = np.array(check_increasing("t", t, min_size=1), dtype=float)  # contiguous, writeable
    alpha = check_nonnegative("alpha", alpha)
    order = check_int("order", order)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if not isinstance(time_scheme, str) or time_scheme not in TIME_SCHEMES:
        raise ValueError(f"time_scheme must be one of {sorted(TIME_SCHEMES)}, got "
                         f"{time_scheme!r}")
    scheme = TIME_SCHEMES[time_scheme]
    tol = check_in_range("tol", tol, 0.0, 0.1, low_open=True)
    stop_tol = check_in_range("stop_tol", stop_tol, 0.0, 1.0)
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    dt_max = math.inf if dt_max is None else check_positive("dt_max", dt_max)
    dt_fixed = 0.0 if dt is None else check_positive("dt", dt)
    breaks = _check_breakpoints("breakpoints", breakpoints)
    cbreaks = getattr(coefficients, "breakpoints", ())
    cbreaks = _check_breakpoints("coefficients.breakpoints", () if cbreaks is None else cbreaks)
    cin_fn, pulse, breaks = _inlet_function(c_in, breaks)
    breaks = np.concatenate((breaks, cbreaks))
    if x_faces is not None:
        if n_cells is not None:
            raise ValueError("give at most one of x_faces and n_cells")
        x_faces = check_increasing("x_faces", x_faces, min_size=2 * order + 3)
        if abs(x_faces[0]) > 1e-12 * length or abs(x_faces[-1] - length) > 1e-9 * length:
            raise ValueError(f"x_faces must run from 0 to length = {length} m, got "
                             f"[{x_faces[0]}, {x_faces[-1]}]")
        x_faces = x_faces.copy()
        x_faces[0], x_faces[-1] = 0.0, length
    elif n_cells is not None:
        n_cells = check_int("n_cells", n_cells, low=2 * order + 2)

    # pilot: a coarse run gives the peak's exit (t_R, sigma, k_e): cells and time tolerance
    resolution: dict[str, Any] = {
        "how": "given" if n_cells is not None or x_faces is not None else "pilot"}
    ratio = None
    if dt_fixed == 0.0 or resolution["how"] == "pilot":
        n_pilot = max(_PILOT_CELLS, 2 * order + 2)
        st = _structure(_mesh(length, coefficients, n_pilot, order), order)
        # the pilot runs until the column is empty (up to 2 t[-1]): on a coarse mesh the
        # second moment of the outlet peak is right only once its oscillatory tail has left
        _, _, acc, cnt, _, _, _ = _run(st, scheme, coefficients, np.array([2.0 * t[-1]]),
                                       cin_fn, pulse, breaks, alpha, _PILOT_TOL, dt_max, 0.0,
                                       1e-6, False, cheb_tol=_PILOT_CHEB_TOL)
        resolution.update(pilot_cells=n_pilot, pilot_steps=int(cnt[0]))
        area = acc[1]
        if acc[0] > 0 and area > 0.5 * acc[0]:
            tR = acc[2] / area
            var = acc[3] / area - tR * tR
            if var > 0 and tR > 0:
                sigma = math.sqrt(var)
                err, k_e, ratio = _error_model(st, coefficients, alpha, tR, sigma)
                resolution.update(t_R=tR, sigma=sigma, k_elution=k_e, ratio=ratio)
                if resolution["how"] == "pilot":
                    need = n_pilot * (err / (0.5 * tol)) ** (1.0 / order)
                    n_cells = _round_cells(min(max(math.ceil(need), 2 * order + 2),
                                               _MAX_AUTO_CELLS))
        if ratio is None:
            resolution["how"] += " (no peak in the pilot: fallback)"
            if n_cells is None and x_faces is None:
                n_cells = _FALLBACK_CELLS
    # time: the global error is about tol_loc * ratio / 7 (ESDIRK5; / 22 for SDIRK4, measured);
    # kappa puts it near tol / 3
    tol_loc = scheme.kappa * 0.5 * tol / max(ratio if ratio is not None else _FALLBACK_RATIO,
                                              1.0)
    auto = resolution["how"] == "pilot"
    for attempt in range(2):
        st = _structure(x_faces if x_faces is not None else
                        _mesh(length, coefficients, n_cells, order), order)
        y_c, y_f, acc, cnt, c, q, out = _run(st, scheme, coefficients, t, cin_fn, pulse,
                                             breaks, alpha, tol_loc, dt_max, dt_fixed, stop_tol,
                                             progress)
        inflow, outflow = acc[0], acc[1]
        inventory = float(np.sum(st.h * (c + alpha * q)))
        mom = {"area": float(outflow), "mean": math.nan, "std": math.nan}
        if outflow > 0:
            mean = acc[2] / outflow
            mom["mean"] = float(mean)
            mom["std"] = float(math.sqrt(max(acc[3] / outflow - mean * mean, 0.0)))
        pred = None
        if outflow > 0.5 * inflow and mom["std"] > 0:
            pred, _, ratio_run = _error_model(st, coefficients, alpha, mom["mean"], mom["std"])
            resolution["predicted_space_error"] = pred
        # safety net: the run's own peak is narrower than the pilot said (an unresolved band on
        # the pilot mesh, e.g. D = 0): refine once
        if not (auto and attempt == 0 and pred is not None and pred > tol):
            break
        need = st.n * (pred / (0.5 * tol)) ** (1.0 / order)
        n_new = _round_cells(min(max(math.ceil(need), st.n + 1), 4 * st.n, _MAX_AUTO_CELLS))
        if n_new <= st.n:
            break
        resolution["refined_from"] = st.n
        n_cells = n_new
        tol_loc = scheme.kappa * 0.5 * tol / max(ratio_run, 1.0)
    resolution["local_time_tol"] = tol_loc
    info = {
        "n_cells": st.n, "order": order, "time_scheme": time_scheme, "tol": tol,
        "n_steps": int(cnt[0]),
        "n_rejected": int(cnt[1]), "nfe": int(cnt[2]), "n_chunks": out["n_chunks"],
        "chunk_rejections": out["chunk_rejections"],
        "coefficient_tail": out["coefficient_tail"],
        "mass_in": float(inflow),
        "window_max": out["window_max"], "window_retries": int(cnt[3]),
        "table_extensions": out["table_extensions"],
        "window_mean": float(cnt[4] / cnt[0]) if cnt[0] else 0.0,
        "window_loss": float((acc[6] + acc[7]) / inflow) if inflow > 0 else 0.0,
        "mass_balance_error": float(abs(inflow - outflow - inventory) / inflow)
        if inflow > 0 else 0.0,
        "mass_remaining": float(inventory / inflow) if inflow > 0 else 0.0,
        "moments": mom, "stopped_at": out["stopped_at"], "resolution": resolution,
        "wall_time": _time.perf_counter() - start,
    }
    return y_c, y_f, info

