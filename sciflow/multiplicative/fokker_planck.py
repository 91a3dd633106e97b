"""Finite-volume solvers of the GBM Fokker–Planck equation, in one and two dimensions.

One dimension (:func:`solve_fokker_planck`) — ``X`` follows ``dX = mu(t) X dt + sigma(t) X dW``
(a :class:`~sciflow.multiplicative.GBM`) and its density solves

    p_t = -(mu x p)_x + 1/2 (sigma^2 x^2 p)_xx,   x > 0.

The equation is discretised on cells around given centres ``x_i`` (log-spaced, or any increasing
positive grid). Faces sit at the geometric midpoints ``sqrt(x_i x_{i+1})`` (default; the outer
faces mirror the first and last spacing in ``log x``) or at the arithmetic midpoints (the outer
faces mirror the first and last spacing in ``x`` and must stay > 0). The probability current
through a face is the Scharfetter–Gummel (exponentially fitted) flux of the same equation
written for ``q = x p``, the density of ``log X``, which is constant-coefficient in
``z = log x``:

    J = (d / l) [B(-Pe) q_i - B(Pe) q_{i+1}],   a = mu - sigma^2/2,  d = sigma^2/2,
    l = log(x_{i+1}/x_i),  Pe = a l / d,  B(z) = z / (e^z - 1).

The flux is exact for the steady states of the constant-coefficient log-space equation and is
second order in the log spacing; ``B > 0`` makes the discrete operator a Metzler matrix with
zero column sums, so with no current through the outer faces the total mass ``sum_i p_i dx_i``
is conserved to round-off and every implicit step matrix is an M-matrix (a backward-Euler step
maps ``p >= 0`` to ``p >= 0``). Time stepping: ``method="trbdf2"`` (default; TR-BDF2 with
``gamma = 2 - sqrt 2``, second order and L-stable; a step that would produce a negative value is
redone by backward Euler and counted in ``n_fallback``), or ``method="euler"`` (backward Euler,
first order). ``mu`` and ``sigma`` may depend on ``t``; they are evaluated at the stage times.
The time loop and the tridiagonal solves run in :mod:`sciflow.multiplicative._kernels`;
:func:`_march_reference` is the plain NumPy/SciPy version used by the tests.

Two dimensions (:func:`solve_fokker_planck_2d`) — ``dX_i = mu_i X_i dt + X_i sum_j Sigma_ij
dW_j`` with constant ``mu``, ``Sigma`` and correlated noise, ``D = Sigma Sigma^T``. In
``y = log x`` the density ``q = x_1 x_2 p`` solves ``q_t = -a . grad q + 1/2 div(D grad q)``,
``a_i = mu_i - D_ii / 2``, solved on the log-uniform tensor grid given by ``x1``, ``x2``
(geometric faces). Exchanges between neighbouring cells: the Scharfetter–Gummel flux along each
axis, and the cross term ``D_12 q_{y1 y2}`` split (with ``s = sign D_12``, ``h`` the log spacings)
as

    2 D_12 d1 d2 = |D_12| / (h_1 h_2) [delta^2 - h_1^2 d1^2 - h_2^2 d2^2],
    delta = h_1 d1 + s h_2 d2,

i.e. an exchange of rate ``e = |D_12| / (2 h_1 h_2)`` between diagonal neighbours ``(i, j)``,
``(i + 1, j + s)``, minus the same rate on the axis exchanges. Every term is a pairwise exchange,
so the scheme is conservative (zero flux through the boundary); its off-diagonal entries are
``>= 0`` (an M-matrix, positivity of backward Euler) when the axis rates stay above ``e``, i.e.
roughly ``D_11 / h_1^2 >= |D_12| / (h_1 h_2)`` and ``D_22 / h_2^2 >= |D_12| / (h_1 h_2)`` — always
when ``h_1 / h_2 = sqrt(D_11 / D_22)`` — reported as ``m_matrix``. The step matrices are sparse
and factorised (``scipy.sparse.linalg.splu``) once per step size; TR-BDF2 uses one matrix for
both stages.

References
----------
Scharfetter & Gummel, IEEE Trans. Electron Devices 16 (1969) 64; Chang & Cooper, J. Comput.
Phys. 6 (1970) 1; Bank et al., IEEE Trans. CAD 4 (1985) 436 (TR-BDF2); Shetty, Prasath &
Seelamantula, arXiv:2510.02730 (2025).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_array, check_axes, check_choice, check_positive, check_real
from . import _kernels
from .gbm import GBM

__all__ = ["FokkerPlanckResult", "FokkerPlanck2DResult", "solve_fokker_planck",
           "solve_fokker_planck_2d"]

_METHODS = ("trbdf2", "euler")
_FACES = ("geometric", "arithmetic")
_DEFAULT_STEPS = 200


# --------------------------------------------------------------------------- results
_check_axes = check_axes  # one check for every .plot(ax=...)


@dataclass(frozen=True)
class FokkerPlanckResult:
    """Density of a 1-D GBM on cells, at the output times.

    Attributes
    ----------
    x : ndarray (n,)
        Cell centres.
    t : ndarray (m,)
        Output times.
    p : ndarray (m, n)
        Density (per unit ``x``) at the centres, ``p[k]`` at ``t[k]``.
    mass : ndarray (m,)
        ``sum_i p[k, i] widths[i]`` (constant up to round-off).
    faces : ndarray (n + 1,)
        Cell faces; ``widths = diff(faces)``.
    widths : ndarray (n,)
    method : str
        ``"trbdf2"`` or ``"euler"``.
    n_steps : int
        Time steps taken (TR-BDF2: two implicit stages each).
    n_fallback : int
        TR-BDF2 steps redone by backward Euler to keep ``p >= 0``.
    wall_time : float
        Seconds spent in the time loop.
    """

    x: np.ndarray
    t: np.ndarray
    p: np.ndarray
    mass: np.ndarray
    faces: np.ndarray
    widths: np.ndarray
    method: str = "trbdf2"
    n_steps: int = 0
    n_fallback: int = 0
    wall_time: float = field(default=0.0, compare=False)

    def __post_init__(self):
        if self.p.shape != (self.t.size, self.x.size):
            raise ValueError(f"p must have shape (len(t), len(x)) = ({self.t.size}, "
                             f"{self.x.size}), got {self.p.shape}")

    def l1_error(self, density, k=-1):
        """``sum_i |p[k, i] - density(x_i)| widths_i`` for a callable ``density(x)``."""
        ref = np.asarray(density(self.x), dtype=float)
        return float(np.sum(np.abs(self.p[k] - ref) * self.widths))

    def plot(self, ax=None, *, logx=True, **kwargs):
        """Plot ``p(x)`` at every output time; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        else:
            _check_axes(ax)
        for tk, pk in zip(self.t, self.p, strict=True):
            ax.plot(self.x, pk, **{"lw": 1.0, "label": f"t = {tk:g}", **kwargs})
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel("x")
        ax.set_ylabel("p(x, t)")
        ax.legend(fontsize="small")
        return ax

    def to_xarray(self):
        """``p`` (t, x) (density per unit x), ``mass`` (t), ``widths`` (x) and ``faces``
        (face); method and step counts in attrs."""
        from ..sampling._surface import xarray

        xr = xarray()
        return xr.Dataset(
            {"p": (("t", "x"), self.p, {"long_name": "density p(x, t)", "units": "1/[x]"}),
             "mass": ("t", self.mass, {"long_name": "sum p widths", "units": "1"}),
             "widths": ("x", self.widths, {"units": "[x]"}),
             "faces": ("face", self.faces, {"units": "[x]"})},
            coords={"t": ("t", self.t, {"long_name": "time", "units": "1/[mu]"}),
                    "x": ("x", self.x, {"long_name": "cell centre", "units": "[x]"})},
            attrs={"method": self.method, "n_steps": self.n_steps,
                   "n_fallback": self.n_fallback, "wall_time": self.wall_time,
                   "wall_time_units": "s"})


@dataclass(frozen=True)
class FokkerPlanck2DResult:
    """Density of a 2-D GBM on a log-uniform tensor grid, at the output times.

    Attributes
    ----------
    x1, x2 : ndarray (n1,), (n2,)
        Cell centres along each axis.
    t : ndarray (m,)
    p : ndarray (m, n1, n2)
        Density (per unit ``x1 x2``), ``p[k, i, j]`` at ``(x1[i], x2[j])`` and ``t[k]``.
    mass : ndarray (m,)
        ``sum p dA`` (constant up to round-off).
    areas : ndarray (n1, n2)
        Cell areas.
    method : str
    n_steps : int
    n_fallback : int
        TR-BDF2 steps redone by backward Euler because of a negative value (only when
        ``m_matrix``: otherwise backward Euler gives no guarantee either and none is redone).
    m_matrix : bool
        True when the step matrices are M-matrices (backward Euler preserves ``p >= 0``).
    n_factorisations : int
        Sparse LU factorisations done (one per distinct step size and stage coefficient).
    wall_time : float
    """

    x1: np.ndarray
    x2: np.ndarray
    t: np.ndarray
    p: np.ndarray
    mass: np.ndarray
    areas: np.ndarray
    method: str = "trbdf2"
    n_steps: int = 0
    n_fallback: int = 0
    m_matrix: bool = True
    n_factorisations: int = 0
    wall_time: float = field(default=0.0, compare=False)

    def __post_init__(self):
        if self.p.shape != (self.t.size, self.x1.size, self.x2.size):
            raise ValueError(f"p must have shape (len(t), len(x1), len(x2)), got {self.p.shape}")

    def l1_error(self, density, k=-1):
        """``sum |p[k] - density(X1, X2)| dA`` for a callable ``density(x1, x2)`` (broadcast)."""
        ref = np.asarray(density(self.x1[:, None], self.x2[None, :]), dtype=float)
        return float(np.sum(np.abs(self.p[k] - ref) * self.areas))

    def plot(self, ax=None, *, k=-1, levels=12, **kwargs):
        """Contours of ``p`` at output ``k`` (log axes); returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4))
        else:
            _check_axes(ax)
        ax.contour(self.x1, self.x2, self.p[k].T, levels=levels, **kwargs)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(f"t = {self.t[k]:g}")
        return ax

    def to_xarray(self):
        """``p`` (t, x1, x2) (density per unit x1 x2), ``mass`` (t) and ``areas`` (x1, x2);
        method, step and factorisation counts in attrs."""
        from ..sampling._surface import xarray

        xr = xarray()
        return xr.Dataset(
            {"p": (("t", "x1", "x2"), self.p,
                   {"long_name": "density p(x1, x2, t)", "units": "1/([x1][x2])"}),
             "mass": ("t", self.mass, {"long_name": "sum p dA", "units": "1"}),
             "areas": (("x1", "x2"), self.areas, {"units": "[x1][x2]"})},
            coords={"t": ("t", self.t, {"long_name": "time", "units": "1/[mu]"}),
                    "x1": ("x1", self.x1, {"long_name": "cell centre", "units": "[x1]"}),
                    "x2": ("x2", self.x2, {"long_name": "cell centre", "units": "[x2]"})},
            attrs={"method": self.method, "n_steps": self.n_steps,
                   "n_fallback": self.n_fallback, "m_matrix": int(self.m_matrix),
                   "n_factorisations": self.n_factorisations, "wall_time": self.wall_time,
                   "wall_time_units": "s"})


# --------------------------------------------------------------------------- validation
def _check_grid(name, x, min_size=3):
    x = check_array(name, x, ndim=1, min_size=min_size)
    if np.any(x <= 0):
        raise ValueError(f"{name} must be > 0 (GBM lives on x > 0), got min {float(x.min())}")
    d = np.diff(x)
    if np.any(d <= 0):
        i = int(np.argmax(d <= 0))
        raise ValueError(f"{name} must be strictly increasing; {name}[{i + 1}] = {x[i + 1]} "
                         f"follows {name}[{i}] = {x[i]}")
    return x


def _check_times_out(t, t0):
    t0 = check_real("t0", t0)
    if t0 < 0:
        raise ValueError(f"t0 must be >= 0, got {t0}")
    t = np.atleast_1d(check_array("t", t, min_size=1))
    if t.ndim != 1:
        raise ValueError(f"t must be a scalar or 1-dimensional, got shape {t.shape}")
    if np.any(np.diff(t) <= 0):
        i = int(np.argmax(np.diff(t) <= 0))
        raise ValueError(f"t must be strictly increasing; t[{i + 1}] = {t[i + 1]} follows "
                         f"t[{i}] = {t[i]}")
    if t[0] < t0:
        raise ValueError(f"t must be >= t0 = {t0}, got t[0] = {t[0]}")
    return t, t0


def _check_density(name, p0, shape, weights):
    p0 = check_array(name, p0)
    if p0.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the grid), got {p0.shape}")
    if np.any(p0 < 0):
        raise ValueError(f"{name} must be >= 0, got min {float(p0.min())}")
    with np.errstate(over="ignore", invalid="ignore"):
        mass = float(np.sum(p0 * weights))
    if not (mass > 0 and math.isfinite(mass)):
        raise ValueError(f"{name} must have a positive, finite total mass on the grid "
                         f"(sum p0 dx), got {mass}")
    return p0


def _step_plan(t, t0, dt):
    """Step lengths and, per output, the number of steps after which it is reached."""
    span = float(t[-1] - t0)
    if dt is None:
        dt = span / _DEFAULT_STEPS if span > 0 else 1.0
    else:
        dt = check_positive("dt", dt)
    dts, out_after = [], []
    prev, n = t0, 0
    for tk in t:
        gap = float(tk - prev)
        if gap > 0:
            k = max(1, math.ceil(gap / dt * (1.0 - 1e-12)))
            dts.extend([gap / k] * k)
            n += k
        out_after.append(n)
        prev = float(tk)
    return np.asarray(dts, dtype=float), np.asarray(out_after, dtype=np.int64)


def _faces(x, kind):
    if kind == "geometric":
        lx = np.log(x)
        mid = 0.5 * (lx[1:] + lx[:-1])
        f = np.concatenate(([lx[0] - (mid[0] - lx[0])], mid, [lx[-1] + (lx[-1] - mid[-1])]))
        return np.exp(f)
    mid = 0.5 * (x[1:] + x[:-1])
    f = np.concatenate(([x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]))
    if f[0] <= 0:
        raise ValueError(f"x: with faces='arithmetic' the first face x[0] - (x[1] - x[0])/2 = "
                         f"{f[0]} must be > 0 (use faces='geometric')")
    return f


def _log_spacings(x):
    """``log(x[i+1] / x[i])``; one common value when equal to 1e-12 (a log-uniform grid given
    as ``exp(linspace(...))`` then costs one exponential per operator, not one per face)."""
    ell = np.diff(np.log(x))
    mean = float(np.mean(ell))
    if np.max(np.abs(ell - mean)) <= 1e-12 * mean:
        ell = np.full_like(ell, mean)
    return ell


def _coefficients(gbm, times):
    """``(a, d) = (mu - sigma^2/2, sigma^2/2)`` at ``times`` (validated)."""
    mu = np.asarray(gbm.mu_at(times), dtype=float).reshape(times.shape)
    sg = np.asarray(gbm.sigma_at(times), dtype=float).reshape(times.shape)
    if not np.all(np.isfinite(mu)):
        raise ValueError("gbm.mu(t) must be finite on the time span")
    if not np.all(np.isfinite(sg)) or np.any(sg <= 0):
        bad = float(sg[~(np.isfinite(sg) & (sg > 0))].flat[0])
        raise ValueError(f"gbm.sigma(t) must be > 0 and finite on the time span, got {bad}")
    d = 0.5 * sg * sg
    return np.stack((mu - d, d), axis=-1)


# --------------------------------------------------------------------------- 1-D
def solve_fokker_planck(gbm, x, p0, t, *, t0=0.0, dt=None, method="trbdf2",
                        faces="geometric"):
    """Solve the 1-D GBM Fokker–Planck equation from ``p(x, t0) = p0`` (module doc for the scheme).

    Parameters
    ----------
    gbm : GBM
        ``dX = mu(t) X dt + sigma(t) X dW`` (constants or callables of ``t``).
    x : (n,) array_like
        Cell centres, ``n >= 3``, strictly increasing, > 0 (log-spaced is the natural choice).
    p0 : (n,) array_like
        Initial density at the centres: finite, >= 0, with positive mass ``sum p0 dx``. It is
        not renormalised.
    t : float or (m,) array_like
        Output times, strictly increasing, ``>= t0`` (``t[0] == t0`` returns ``p0`` first).
    t0 : float
        Initial time (>= 0), default 0.
    dt : float, optional
        Largest time step; each interval between outputs is split into equal steps. Default
        ``(t[-1] - t0) / 200``.
    method : {"trbdf2", "euler"}
        Second-order TR-BDF2 (default) or first-order backward Euler.
    faces : {"geometric", "arithmetic"}
        Cell faces at geometric (default) or arithmetic midpoints of the centres.

    Returns
    -------
    FokkerPlanckResult
    """
    if not isinstance(gbm, GBM):
        raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
    method = check_choice("method", method, _METHODS)
    faces = check_choice("faces", faces, _FACES)
    x = _check_grid("x", x)
    fc = _faces(x, faces)
    widths = np.diff(fc)
    p0 = _check_density("p0", p0, x.shape, widths)
    t, t0 = _check_times_out(t, t0)
    dts, out_after = _step_plan(t, t0, dt)
    starts = t0 + np.concatenate(([0.0], np.cumsum(dts)[:-1])) if dts.size else np.zeros(0)
    ends = t0 + np.cumsum(dts)
    stage = np.stack((starts, starts + _kernels.GAMMA * dts, ends), axis=-1)
    coef = np.ascontiguousarray(_coefficients(gbm, stage.reshape(-1)).reshape(dts.size, 3, 2))
    w = widths / x
    ell = _log_spacings(x)
    q0 = x * p0
    scheme = _kernels.SCHEME_TRBDF2 if method == "trbdf2" else _kernels.SCHEME_EULER
    q_out = np.empty((t.size, x.size))
    start = _time.perf_counter()
    n_fb = _kernels.march(w, ell, q0, dts, coef, scheme, out_after, q_out)
    wall = _time.perf_counter() - start
    p = q_out / x
    p[out_after == 0] = p0  # exactly the data given, not (x p0) / x
    return FokkerPlanckResult(x=x, t=t, p=p, mass=p @ widths, faces=fc, widths=widths,
                              method=method, n_steps=int(dts.size), n_fallback=int(n_fb),
                              wall_time=wall)


def _operator_reference(ell, a, d):
    """NumPy version of :func:`_kernels.assemble` in ``solve_banded`` storage (3, n)."""
    pe = a * ell / d
    g = d / ell

    def bern(z):
        out = np.ones_like(z)
        nz = z != 0
        with np.errstate(over="ignore"):
            out[nz] = z[nz] / np.expm1(z[nz])
        return out

    lo, up = g * bern(-pe), g * bern(pe)
    n = ell.size + 1
    band = np.zeros((3, n))
    band[0, 1:] = up           # super-diagonal: L[i, i+1]
    band[2, :-1] = lo          # sub-diagonal:   L[i+1, i]
    band[1, :-1] -= lo
    band[1, 1:] -= up
    return band


def _band_matvec(band, q):
    out = band[1] * q
    out[:-1] += band[0, 1:] * q[1:]
    out[1:] += band[2, :-1] * q[:-1]
    return out


def _march_reference(w, ell, q0, dts, coef, scheme, out_after):
    """Plain NumPy/SciPy version of :func:`_kernels.march` (returns ``(n_fallback, q_out)``)."""
    from scipy.linalg import solve_banded

    g = 0.5 * _kernels.GAMMA
    c1 = 1.0 / (_kernels.GAMMA * (2.0 - _kernels.GAMMA))
    c0 = (1.0 - _kernels.GAMMA) ** 2 / (_kernels.GAMMA * (2.0 - _kernels.GAMMA))

    def implicit(c, band, rhs):
        m = -c * band
        m[1] += w
        return solve_banded((1, 1), m, rhs)

    q = np.array(q0, dtype=float)
    q_out = np.empty((out_after.size, q.size))
    q_out[out_after == 0] = q
    n_fb = 0
    for step, h in enumerate(dts):
        ok = False
        if scheme == _kernels.SCHEME_TRBDF2:
            b0, b1, b2 = (_operator_reference(ell, *coef[step, s]) for s in range(3))
            qs = implicit(g * h, b1, w * q + g * h * _band_matvec(b0, q))
            qn = implicit(g * h, b2, w * (c1 * qs - c0 * q))
            ok = bool(np.all(qn >= 0))
            n_fb += not ok
        if not ok:
            qn = implicit(h, _operator_reference(ell, *coef[step, 2]), w * q)
        q = qn
        q_out[out_after == step + 1] = q
    return n_fb, q_out


# --------------------------------------------------------------------------- 2-D
def _check_log_uniform(name, x):
    x = _check_grid(name, x)
    h = np.diff(np.log(x))
    if np.max(np.abs(h - h.mean())) > 1e-6 * h.mean():
        raise ValueError(f"{name} must be log-uniform (geometric, x[i+1]/x[i] constant) for "
                         f"the 2-D solver; log spacings range {h.min():.6g}..{h.max():.6g}")
    return x, float(h.mean())


def _operator_2d(a, D, h1, h2, n1, n2):
    """Sparse ``L`` (csc) of the 2-D log-space scheme and whether it is Metzler (module doc)."""
    import scipy.sparse as sp

    idx = np.arange(n1 * n2).reshape(n1, n2)
    e = abs(D[0, 1]) / (2.0 * h1 * h2)
    s = 1 if D[0, 1] >= 0 else -1
    rows, cols, vals = [], [], []

    def exchange(P, Q, fwd, bwd):
        # fwd q_P flows P -> Q, bwd q_Q flows Q -> P
        P, Q = P.ravel(), Q.ravel()
        rows.extend((Q, P, P, Q))
        cols.extend((P, P, Q, Q))
        vals.extend((np.full(P.size, fwd), np.full(P.size, -fwd), np.full(P.size, bwd),
                     np.full(P.size, -bwd)))

    rates = []
    for k, h in ((0, h1), (1, h2)):
        d = 0.5 * D[k, k]
        pe = a[k] * h / d
        g = d / h**2
        rates.append((g * _kernels.bernoulli(-pe) - e, g * _kernels.bernoulli(pe) - e))
    exchange(idx[:-1, :], idx[1:, :], *rates[0])
    exchange(idx[:, :-1], idx[:, 1:], *rates[1])
    if e > 0:
        if s > 0:
            exchange(idx[:-1, :-1], idx[1:, 1:], e, e)
        else:
            exchange(idx[:-1, 1:], idx[1:, :-1], e, e)
    n = n1 * n2
    L = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n))
    metzler = min(min(r) for r in rates) >= 0
    return L, metzler


def solve_fokker_planck_2d(mu, Sigma, x1, x2, p0, t, *, t0=0.0, dt=None, method="trbdf2",
                           progress=False):
    """Solve the 2-D GBM Fokker–Planck equation with correlated noise (module doc for the scheme).

    Parameters
    ----------
    mu : (2,) array_like
        Drift rates: ``dX_i = mu_i X_i dt + X_i sum_j Sigma_ij dW_j``.
    Sigma : (2, 2) array_like
        Volatility matrix, nonsingular; the diffusion tensor is ``D = Sigma Sigma^T``.
    x1, x2 : array_like
        Cell centres along each axis: log-uniform (geometric), > 0, at least 3 each.
    p0 : (len(x1), len(x2)) array_like
        Initial density (per unit ``x1 x2``) at the centres: finite, >= 0, positive mass.
    t : float or (m,) array_like
        Output times, strictly increasing, ``>= t0``.
    t0 : float
        Initial time (>= 0).
    dt : float, optional
        Largest time step (default ``(t[-1] - t0) / 200``).
    method : {"trbdf2", "euler"}
    progress : bool
        Show a tqdm bar over the steps.

    Returns
    -------
    FokkerPlanck2DResult
    """
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    mu = check_array("mu", mu)
    if mu.shape != (2,):
        raise ValueError(f"mu must have shape (2,), got {mu.shape}")
    Sigma = check_array("Sigma", Sigma)
    if Sigma.shape != (2, 2):
        raise ValueError(f"Sigma must have shape (2, 2), got {Sigma.shape}")
    D = Sigma @ Sigma.T
    det = D[0, 0] * D[1, 1] - D[0, 1] ** 2
    if not det > 1e-14 * max(D[0, 0] * D[1, 1], np.finfo(float).tiny):
        raise ValueError(f"Sigma must be nonsingular (D = Sigma Sigma^T positive definite), "
                         f"got det(D) = {det:.3g}")
    method = check_choice("method", method, _METHODS)
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    x1, h1 = _check_log_uniform("x1", x1)
    x2, h2 = _check_log_uniform("x2", x2)
    n1, n2 = x1.size, x2.size
    w1, w2 = 2.0 * math.sinh(0.5 * h1), 2.0 * math.sinh(0.5 * h2)
    areas = np.outer(x1 * w1, x2 * w2)
    p0 = _check_density("p0", p0, (n1, n2), areas)
    t, t0 = _check_times_out(t, t0)
    dts, out_after = _step_plan(t, t0, dt)

    a = mu - 0.5 * np.diag(D)
    L, metzler = _operator_2d(a, D, h1, h2, n1, n2)
    eye = identity(n1 * n2, format="csc")
    lus = {}

    def solve(c, rhs):
        key = float(c)
        if key not in lus:
            lus[key] = splu((eye - c * L).tocsc())
        return lus[key].solve(rhs)

    g = 0.5 * _kernels.GAMMA
    c1 = 1.0 / (_kernels.GAMMA * (2.0 - _kernels.GAMMA))
    c0 = (1.0 - _kernels.GAMMA) ** 2 / (_kernels.GAMMA * (2.0 - _kernels.GAMMA))
    xx = np.outer(x1, x2).ravel()
    q = xx * p0.ravel()
    q_out = np.empty((t.size, n1 * n2))
    q_out[out_after == 0] = q
    n_fb = 0
    steps = range(dts.size)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="fokker_planck_2d", leave=False)
    start = _time.perf_counter()
    for step in steps:
        h = dts[step]
        ok = False
        if method == "trbdf2":
            qs = solve(g * h, q + g * h * (L @ q))
            qn = solve(g * h, c1 * qs - c0 * q)
            ok = bool(np.all(qn >= 0)) or not metzler
            n_fb += not ok
        if not ok:
            qn = solve(h, q)
        q = qn
        q_out[out_after == step + 1] = q
    wall = _time.perf_counter() - start
    p = (q_out / xx).reshape(t.size, n1, n2)
    p[out_after == 0] = p0
    return FokkerPlanck2DResult(x1=x1, x2=x2, t=t, p=p, mass=np.sum(p * areas, axis=(1, 2)),
                                areas=areas, method=method, n_steps=int(dts.size),
                                n_fallback=int(n_fb), m_matrix=bool(metzler),
                                n_factorisations=len(lus), wall_time=wall)
