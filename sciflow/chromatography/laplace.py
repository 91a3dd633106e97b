"""Laplace-domain solution of the column model: transfer function and numerical inversion.

Transfer function
-----------------
With ``C(x, s)`` the Laplace transform of the gas concentration, the model of
:mod:`sciflow.chromatography.model` becomes, for an empty column at t = 0::

    D C'' - (u C)' - f(s) C = 0,        f(s) = s + alpha k_a s / (s + k_d),
    u_in C - D C' = u_in C_in(s)  at x = 0,        C' = 0  at x = L,

so the transfer function ``G(s) = C(L, s) / C_in(s)`` (outlet concentration per unit inlet
concentration) is ``G(s) = G0(f(s))`` with ``G0`` that of an unretained solute: adsorption only
replaces the Laplace variable (subordination: the time spent adsorbed is a compound
Poisson-exponential variable with A = alpha k_a t_g, t_g the time spent in the gas). ``G0``:

* D = 0, any velocity: ``G0(z) = (u_in/u_out) exp(-z t_M)``, ``t_M = int_0^L dx/u``.
* D > 0, constant velocity (Danckwerts 1953, closed-closed vessel): with ``Pe = u L / D``,
  ``eps = 4 z D / u^2`` and ``q = sqrt(1 + eps)``::

      G0 = 4 q exp(Pe (1 - q) / 2) / [(1 + q)^2 - (1 - q)^2 exp(-q Pe)],

  evaluated as ``ln G0 = -z t_M + z t_M eps/(1+q)^2 - log1p(-(q-1)^2 expm1(-q Pe)/(4q))`` with
  ``q - 1 = eps/(1+q)``: no overflow or cancellation for any Pe (tested to 1e9) and |z|.
* D > 0, compressible (``u = u_in p_in / p(x)``): no closed form. The log-derivative
  ``w = C'/C`` obeys the Riccati equation ``D (w' + w^2) = u w + u' + z`` with ``w(L) = 0``,
  which is stable when integrated from the outlet to the inlet. We split ``w = r2 + eta`` with
  ``r2(x)`` the local decaying root of ``D r^2 - u r - (z + u') = 0`` (a Liouville-Green / WKB
  factor whose integral, ``-z t_M + ln(u_in/u_out) + int 4D(z+u')^2/(u (u+R)^2) dx``, is done
  by Gauss-Legendre quadrature in the pressure variable) and integrate the remainder,
  ``eta' = (r1 - r2) eta - eta^2 - r2'``, exactly on segments with coefficients frozen at the
  mid-point: with constant coefficients the Riccati equation is solved in closed form (the
  cross-ratio ``(eta - e2)/(eta - e1)`` decays from outlet to inlet, so the outlet boundary
  layer of width D/u needs no resolution); equivalently ``v = exp(int eta)`` has bounded
  backward 2x2 propagators, multiplied by a pairwise tree. The segments are uniform in
  ``1 - (1 - xi)^2`` of the pressure drop (graded towards the outlet); the number of segments
  is doubled, with Richardson extrapolation, until the estimated error of ``ln G`` is below the
  tolerance. Then ``ln G0 = ln(u_in/(u_in - D w(0))) + int_0^L w dx``. To first order in D
  the mean gas residence time is ``t_M - (D/2)(1/u_in^2 - 1/u_out^2)`` (not t_M) and its
  variance ``2 D int dx/u^3``; :func:`transfer_moments` gives them exactly.

Inversion
---------
The outlet response to the rectangular pulse, ``Y(s) = G(s) (1 - exp(-s t_inj)) / s``, is
inverted as a Fourier series on a window that holds the whole peak: with period ``P`` larger
than the support of y (located from the moments and the tail bounds of the Thomas
distribution, then checked), Poisson summation on the Bromwich line Re s = 0 gives
``sum_n y(t + nP) = (1/P) sum_k Y(i w_k) exp(i w_k t)``, ``w_k = 2 pi k / P`` (the Durbin /
Crump series without damping, as y is negligible outside the window), and with the
phase of the mean factored out the coefficients decay like a Gaussian, so a few tens to a few
thousand transform values suffice even at A = 1e5, where inversions along a Bromwich contour
of the whole time axis fail (the transform spans exp(-A) to 1). The terms are added in
doubling blocks until the tail is below tolerance; the aliasing error is measured on the guard
part of the period, where y must vanish; the transfer-function error is propagated. For D = 0
and small A the non-adsorbed atom ``exp(-A)`` (a jump in the step response at t_M) and the
next Poisson terms ``exp(-A) A^n/n! P(n, k_d tau)`` (n <= 6) are inverted analytically so the
remainder is smooth.

References
----------
P. V. Danckwerts, Chem. Eng. Sci. 2, 1 (1953) (closed-vessel boundary conditions).
F. R. de Hoog, J. H. Knight, A. N. Stokes, SIAM J. Sci. Stat. Comput. 3, 357 (1982), and
F. Durbin, Comput. J. 17, 371 (1974) (Fourier-series inversion).
A. Cabrera-Codony, A. Valverde, K. Born, O. A. I. Noreldin, T. G. Myers, "Mathematical modelling
of flow and adsorption in a gas chromatograph", arXiv:2501.00001 (2024).
"""

from __future__ import annotations

import math
import time as _time
import warnings

import numpy as np
from scipy import special

from .. import ConvergenceError
from .._validate import (
    check_choice,
    check_in_range,
    check_increasing,
    check_int,
    check_nonnegative,
    check_positive,
)
from .model import Analyte, Column, Moments, _check_analyte, _check_column, _check_compressible

__all__ = [
    "transfer_function",
    "transfer_moments",
    "outlet_response_laplace",
    "LaplaceAccuracyWarning",
]

# D = 0 and A below this: atom and first Poisson terms inverted analytically
_SUB_A_MAX = 60.0
_SUB_TERMS = 6
# compressible Riccati: first and largest number of segments, Gauss-Legendre orders
_N0 = 32
_NMAX_DEFAULT = 2**16
_GL_ORDERS = (48, 96)
_CHUNK = 2**21  # complex numbers per work array


class LaplaceAccuracyWarning(RuntimeWarning):
    """The Laplace inversion did not reach the requested tolerance (``on_fail="warn"``)."""


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------
def _check_models(column, analyte=None):
    _check_column(column)
    if analyte is not None:
        _check_analyte(analyte)


def _constant_velocity(column, compressible):
    return (not compressible) or column.constant_velocity


# ---------------------------------------------------------------------------------------------
# unretained transfer function: corr(z) = ln G0(z) - [ln(u_in/u_out) - z t_M]
# ---------------------------------------------------------------------------------------------
def _corr_danckwerts(z, t_M, Pe):
    """Dispersion correction of ln G0 for constant velocity (closed form, overflow free)."""
    zt = z * t_M
    eps = 4.0 * zt / Pe
    q = np.sqrt(1.0 + eps)
    qm1 = eps / (1.0 + q)
    corr = zt * eps / (1.0 + q) ** 2
    corr -= np.log1p(-(qm1 * qm1) * np.expm1(-q * Pe) / (4.0 * q))
    return corr


class _Compressible:
    """Geometry of the compressible column for the Riccati sweep (all lengths in m)."""

    def __init__(self, column: Column):
        self.L = column.length
        self.P = column.pressure_ratio
        self.b = (1.0 - self.P) * (1.0 + self.P)
        self.u_in = column.u_in
        self.D = column.dispersion
        self._grids: dict[int, tuple[np.ndarray, ...]] = {}

    def velocity(self, y):
        """u, du/dx, d2u/dx2 at reduced pressure y = p/p_in."""
        u = self.u_in / y
        up = self.u_in * self.b / (2.0 * self.L * y**3)
        upp = 3.0 * self.u_in * self.b**2 / (4.0 * self.L**2 * y**5)
        return u, up, upp

    def _x_of_y(self, y):
        # x = L (1 - y^2)/b written without the 0/0 of P -> 1
        return self.L * ((1.0 - y) / (1.0 - self.P)) * (1.0 + y) / (1.0 + self.P)

    def grid(self, n):
        """Segments uniform in xi with y = 1 - (1 - (1-xi)^2)(1 - P): widths and mid-points."""
        if n not in self._grids:
            xi = np.linspace(0.0, 1.0, n + 1)
            xm = 0.5 * (xi[1:] + xi[:-1])
            yn = 1.0 - (1.0 - (1.0 - xi) ** 2) * (1.0 - self.P)
            ym = 1.0 - (1.0 - (1.0 - xm) ** 2) * (1.0 - self.P)
            x = self._x_of_y(yn)
            self._grids[n] = (np.diff(x), *self.velocity(ym))
        return self._grids[n]

    def roots(self, z, u, up, upp):
        """Local roots: R, decaying root r2 and its x-derivative."""
        D = self.D
        zz = z + up
        R = np.sqrt(u * u + 4.0 * D * zz)
        r2 = -2.0 * zz / (u + R)
        Rp = (u * up + 2.0 * D * upp) / R
        r2p = -2.0 * upp / (u + R) + 2.0 * zz * (up + Rp) / (u + R) ** 2
        return R, r2, r2p

    def quadrature(self, z, n):
        """int_0^L 4 D (z+u')^2 / (u (u+R)^2) dx by n-point Gauss-Legendre in y."""
        xg, wg = np.polynomial.legendre.leggauss(n)
        y = self.P + 0.5 * (xg + 1.0) * (1.0 - self.P)
        w = wg * self.L * y / (1.0 + self.P)  # dx = 2 L y / b dy, dy = (1-P)/2 dxg
        u, up, _ = self.velocity(y)
        out = np.empty(z.shape, complex)
        step = max(1, _CHUNK // n)
        for i in range(0, z.size, step):
            zz = z[i:i + step, None] + up
            R = np.sqrt(u * u + 4.0 * self.D * zz)
            out[i:i + step] = (4.0 * self.D * zz**2 / (u * (u + R) ** 2)) @ w
        return out

    def segment_roots(self, z, h, u, up, upp):
        """Roots e1 (~ u/D) and e2 (small) of the frozen-coefficient segments, shape
        (len(z), n), and the decay ``E = exp(-(e1 - e2) h)`` of the fast mode across each."""
        R, _, r2p = self.roots(z[:, None], u, up, upp)
        kap = R / self.D
        e1 = 0.5 * kap * (1.0 + np.sqrt(1.0 - 4.0 * r2p / (kap * kap)))
        e2 = r2p / e1
        with np.errstate(under="ignore"):
            E = np.exp(-(e1 - e2) * h)
        return e1, e2, E

    def sweep(self, z, n):
        """int_0^L eta dx + ln(u_in/(u_in - D w(0))) with n frozen-coefficient segments.

        On a segment with frozen coefficients ``v = exp(int eta)`` obeys
        ``v'' - kappa v' + r2' v = 0`` with roots e1 (~ u/D) and e2 (small); the backward
        propagator of (v, v') scaled by exp(e2 h) has entries bounded by ~1 (the fast mode
        decays towards the inlet), so the n propagators are multiplied by a pairwise tree in
        log2(n) vectorised passes; ``sum e2 h`` carries the large phase exactly. Also returns
        the largest ``|e1 - e2| h`` per z (<~ 1: the outlet layer is resolved by the segments).
        """
        h, u, up, upp = self.grid(n)
        D = self.D
        out = np.empty(z.shape, complex)
        stiff = np.empty(z.shape)
        uL, upL, uppL = self.velocity(np.array(self.P))
        u0, up0, upp0 = self.velocity(np.array(1.0))
        step = max(1, _CHUNK // (4 * n))
        for i in range(0, z.size, step):
            zc = z[i:i + step]
            e1, e2, E = self.segment_roots(zc, h, u, up, upp)
            acc = e2 @ h
            d = e1 - e2
            stiff[i:i + step] = np.max(np.abs(d) * h, axis=1)
            m11 = (e1 - e2 * E) / d
            m12 = (E - 1.0) / d
            m21 = e1 * e2 * (1.0 - E) / d
            m22 = (e1 * E - e2) / d
            while m11.shape[1] > 1:  # X_0 = M_0 M_1 ... M_{n-1} X_n, adjacent pairs
                a11, a12, a21, a22 = m11[:, 0::2], m12[:, 0::2], m21[:, 0::2], m22[:, 0::2]
                b11, b12, b21, b22 = m11[:, 1::2], m12[:, 1::2], m21[:, 1::2], m22[:, 1::2]
                m11, m12 = a11 * b11 + a12 * b21, a11 * b12 + a12 * b22
                m21, m22 = a21 * b11 + a22 * b21, a21 * b12 + a22 * b22
            etaL = -self.roots(zc, uL, upL, uppL)[1]  # w(L) = r2(L) + eta(L) = 0
            v0 = m11[:, 0] + m12[:, 0] * etaL
            dv0 = m21[:, 0] + m22[:, 0] * etaL
            w0 = self.roots(zc, u0, up0, upp0)[1] + dv0 / v0
            out[i:i + step] = acc - np.log(v0) - np.log1p(-D * w0 / self.u_in)
        return out, stiff

    def sweep_loop(self, z, n):
        """Reference implementation of :meth:`sweep`: the Riccati cross-ratio, segment by
        segment (slow in Python; used in the tests)."""
        h, u, up, upp = self.grid(n)
        D = self.D
        uL, upL, uppL = self.velocity(np.array(self.P))
        u0, up0, upp0 = self.velocity(np.array(1.0))
        e1, e2, E = self.segment_roots(z, h, u, up, upp)
        eta = -self.roots(z, uL, upL, uppL)[1]
        prod = np.ones_like(z)
        for k in range(n - 1, -1, -1):
            Z1 = (eta - e2[:, k]) / (eta - e1[:, k])
            Z0 = Z1 * E[:, k]
            eta = (e2[:, k] - Z0 * e1[:, k]) / (1.0 - Z0)
            prod *= (1.0 - Z1) / (1.0 - Z0)
        w0 = self.roots(z, u0, up0, upp0)[1] + eta
        return e2 @ h + np.log(prod) - np.log1p(-D * w0 / self.u_in)


def _corr_compressible(column, z, tol, max_segments):
    """Dispersion correction of ln G0, compressible flow: (corr, err, segments, work)."""
    geo = _Compressible(column)
    q1, q2 = (geo.quadrature(z, n) for n in _GL_ORDERS)
    err_q = np.abs(q2 - q1)
    tol = np.broadcast_to(np.asarray(tol, float), z.shape)
    corr = np.empty(z.shape, complex)
    err = np.full(z.shape, np.inf)
    segs = np.zeros(z.shape, np.int64)
    active = np.arange(z.size)
    prev = prevR = prev_resolved = None
    n = _N0
    work = 0
    while active.size:
        cur, stiff = geo.sweep(z[active], n)
        work += active.size * n
        if prev is not None:
            rich = cur + (cur - prev) / 3.0
            # error of the extrapolant: h^4 once every segment resolves the layer (smooth
            # coefficients, symmetric scheme: even powers of h); otherwise that of the plain
            # value, whose expansion is not clean while the layer is unresolved
            e = np.abs(cur - prev) / 3.0
            if prevR is not None:
                resolved = (stiff <= 0.5) & prev_resolved
                e = np.where(resolved, np.abs(rich - prevR), np.maximum(e, np.abs(rich - prevR)))
            corr[active] = rich
            err[active] = e + 1e-16 * n * (1.0 + np.abs(rich))  # + rounding in n segments
            segs[active] = n
            done = err[active] + err_q[active] <= tol[active]
            if n >= max_segments:
                done[:] = True
            keep = ~done
            prevR = rich[keep]
            prev = cur[keep]
            prev_resolved = (stiff <= 0.5)[keep]
            active = active[keep]
        else:
            prev = cur
            prev_resolved = stiff <= 0.5
        n *= 2
    return corr + q2, err + err_q, segs, work


def _corr(column, z, compressible, tol=1e-13, max_segments=_NMAX_DEFAULT):
    """ln G0(z) - [ln(u_in/u_out) - z t_M] with its error estimate; (corr, err, info)."""
    z = np.asarray(z, complex)
    D = column.dispersion
    info = {"segments": 0, "segment_work": 0}
    if D == 0.0:
        return np.zeros(z.shape, complex), np.zeros(z.shape), info
    if _constant_velocity(column, compressible):
        t_M = column.holdup_time(compressible)
        Pe = column.u_in * column.length / D
        corr = _corr_danckwerts(z, t_M, Pe)
        return corr, 4e-16 * (1.0 + np.abs(corr) + np.abs(z) * t_M), info
    flat = z.ravel()
    corr, err, segs, work = _corr_compressible(column, flat, np.ravel(tol) if np.ndim(tol)
                                               else tol, max_segments)
    info.update(segments=int(segs.max(initial=0)), segment_work=int(work))
    return corr.reshape(z.shape), err.reshape(z.shape), info


def _log_transfer(column, analyte, s, compressible, tol=1e-13, max_segments=_NMAX_DEFAULT):
    """ln G(s) and the estimated absolute error of ln G; (logG, err, info)."""
    s = np.asarray(s, complex)
    t_M = column.holdup_time(compressible)
    A = analyte.A(column, compressible)
    dil = column.u_in / column.u_out(compressible)
    ratio = s / (s + analyte.k_d)  # f(s) t_M = s t_M + A s/(s + k_d)
    zt = s * t_M + A * ratio
    corr, err, info = _corr(column, zt / t_M, compressible, tol, max_segments)
    return math.log(dil) - zt + corr, err, info


def transfer_function(column: Column, analyte: Analyte, s, *, compressible: bool = True,
                      tol: float = 1e-10, max_segments: int = _NMAX_DEFAULT,
                      return_info: bool = False):
    """Transfer function G(s) = C(L, s) / C_in(s) of the column (dimensionless).

    Parameters
    ----------
    column : Column
    analyte : Analyte
    s : array_like of complex
        Laplace variable (1/s), any shape; ``Re f(s) > -u^2/(4D)`` (in particular Re s >= 0).
    compressible : bool
        Compressible carrier gas or constant velocity u_in.
    tol : float
        Target for the absolute error of ln G (relative error of G) in the compressible,
        dispersive case, which is numerical; the other cases are closed forms.
    max_segments : int
        Largest number of Riccati segments (compressible, D > 0).
    return_info : bool
        Also return a dict with ``error_estimate`` (array, absolute error of ln G),
        ``segments`` and ``converged``.

    Returns
    -------
    G : ndarray of complex, shape of ``s``
        Outlet concentration transform per unit inlet concentration transform;
        ``G(0) = u_in/u_out`` (mass balance of the molar flux).
    """
    _check_models(column, analyte)
    compressible = _check_compressible(compressible)
    tol = check_in_range("tol", tol, 0.0, 1.0, low_open=True)
    max_segments = check_int("max_segments", max_segments, low=2 * _N0)
    try:
        s = np.asarray(s, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"s must be array-like of (complex) numbers: {exc}") from None
    if not np.all(np.isfinite(s)):
        raise ValueError("s must be finite")
    logG, err, info = _log_transfer(column, analyte, s, compressible, tol, max_segments)
    with np.errstate(under="ignore"):
        G = np.exp(logG)
    if not return_info:
        return G
    info = dict(info, error_estimate=err, converged=bool(np.all(err <= tol)))
    return G, info


# ---------------------------------------------------------------------------------------------
# moments
# ---------------------------------------------------------------------------------------------
def _rtd_cumulants(column, compressible, rel=1e-11, n=48):
    """First three cumulants (s, s^2, s^3) of the gas residence time of an unretained solute.

    From the Taylor coefficients of ``corr(z)`` at z = 0 by trapezoidal Cauchy integrals on a
    circle inside the nearest singularity (the poles of G0 lie at ``z t_M <~ -max(1, Pe/4)``):
    radius ``r = max(0.5, Pe/16) / t_M`` with the smallest Peclet number ``u_in L / D``.
    ``ln G0`` is asked to an absolute ``rel * r t_M``, which gives the mean to a relative
    ``rel`` and the variance to ~``16 rel``. Returns the cumulants and the number of
    transform evaluations.
    """
    t_M = column.holdup_time(compressible)
    D = column.dispersion
    if D == 0.0:
        return (t_M, 0.0, 0.0), 0
    Pe = column.u_in * column.length / D
    rt = max(0.5, min(Pe / 16.0, 1e6))
    r = rt / t_M
    theta = 2.0 * np.pi * np.arange(n) / n
    zc = r * np.exp(1j * theta)
    corr, _, _ = _corr(column, zc, compressible, rel * rt)
    c = [np.mean(corr * np.exp(-1j * m * theta)).real / r**m for m in (1, 2, 3)]
    return (t_M - c[0], 2.0 * c[1], -6.0 * c[2]), n


def _compose_cumulants(kg, column, analyte):
    """Cumulants of t = t_g + tau from those of t_g, via ln G(s) = K0(f(s))."""
    k1, k2, k3 = kg
    ak = column.phase_ratio * analyte.k_a
    kd = analyte.k_d
    f1, f2, f3 = 1.0 + ak / kd, -ak / kd**2, ak / kd**3
    a1, a2, a3 = -k1, k2 / 2.0, -k3 / 6.0
    c1 = a1 * f1
    c2 = a1 * f2 + a2 * f1**2
    c3 = a1 * f3 + 2.0 * a2 * f1 * f2 + a3 * f1**3
    return -c1, 2.0 * c2, -6.0 * c3


def transfer_moments(column: Column, analyte: Analyte, compressible: bool = True,
                     injection_time: float = 0.0) -> Moments:
    """Mean, variance and skewness of the outlet peak from the transfer function (s, s^2).

    Valid in every case, in particular the compressible column with dispersion, where
    :func:`~sciflow.chromatography.model.moments` has no closed form for the variance. The gas
    residence time cumulants come from Cauchy integrals of ``ln G0`` around z = 0 and are
    composed with ``f(s)``; the rectangular pulse adds ``t_inj/2`` and ``t_inj^2/12``.
    """
    _check_models(column, analyte)
    compressible = _check_compressible(compressible)
    injection_time = check_nonnegative("injection_time", injection_time)
    kg, _ = _rtd_cumulants(column, compressible)
    m, v, k3 = _compose_cumulants(kg, column, analyte)
    v += injection_time**2 / 12.0
    return Moments(column.holdup_time(compressible), analyte.retention_factor(column),
                   m + injection_time / 2.0, v, k3 / v**1.5 if v > 0 else 0.0)


# ---------------------------------------------------------------------------------------------
# inversion
# ---------------------------------------------------------------------------------------------
def _pulse_factor(w, t_inj):
    """(1 - exp(-i w t_inj)) / (i w) = exp(-i w t_inj/2) * t_inj sinc(w t_inj / 2 pi)."""
    return t_inj * np.sinc(w * t_inj / (2.0 * np.pi))


def _poisson_part(t, t_M, A, kd, t_inj, dil, M):
    """Analytic response of the first M+1 Poisson terms (D = 0): atom and Gamma(n) laws."""
    tau = np.asarray(t, float) - t_M

    def H(x):
        out = np.zeros_like(x)
        pos = x >= 0.0
        xp = kd * x[pos]
        acc = np.ones_like(xp)  # n = 0: the atom (a step at tau = 0)
        for n in range(1, M + 1):
            acc += A**n / math.factorial(n) * special.gammainc(n, xp)
        out[pos] = acc
        return out

    return dil * math.exp(-A) * (H(tau) - H(tau - t_inj))


def _poisson_remainder(zeta, M):
    """exp(zeta) - sum_{n<=M} zeta^n/n!, accurate for small |zeta|."""
    out = np.empty_like(zeta)
    small = np.abs(zeta) < 1.0
    zs = zeta[small]
    term = zs**(M + 1) / math.factorial(M + 1)
    acc = term.copy()
    for n in range(M + 2, M + 40):
        term = term * zs / n
        acc += term
    out[small] = acc
    zb = zeta[~small]
    part = np.ones_like(zb)
    term = np.ones_like(zb)
    for n in range(1, M + 1):
        term = term * zb / n
        part += term
    out[~small] = np.exp(zb) - part
    return out


class _Problem:
    """One analyte on one column: transform coefficients of the (remainder) pulse response.

    ``profile`` None: the rectangular pulse of length ``t_inj``; otherwise an inlet profile
    whose transform multiplies G(s) (with D = 0 and small A only the atom is subtracted,
    ``M = 0``, and inverted as ``dil exp(-A) c_in(t - t_M)``)."""

    def __init__(self, column, analyte, compressible, t_inj, max_segments, profile=None):
        self.column, self.analyte = column, analyte
        self.compressible = compressible
        self.t_inj = t_inj
        self.profile = profile
        self.max_segments = max_segments
        self.t_M = column.holdup_time(compressible)
        self.A = analyte.A(column, compressible)
        self.kd = analyte.k_d
        self.dil = column.u_in / column.u_out(compressible)
        self.D = column.dispersion
        self.subtract = self.D == 0.0 and self.A < _SUB_A_MAX
        self.M = (_SUB_TERMS if profile is None else 0) if self.subtract else -1
        self.nfev = 0
        self.segments = 0
        self.segment_work = 0
        self._cin = (None, None)

    def inlet(self, w):
        """C_in(i w) of the profile (cached for the last w: proxy and coefficients share it)."""
        w0, c0 = self._cin
        if w0 is None or w0.shape != w.shape or not np.array_equal(w0, w):
            c0 = self.profile.laplace(1j * w)
            self._cin = (w.copy(), c0)
        return c0

    def coefficients(self, w, mu, tol):
        """Phi(w) = Y(i w) exp(i w mu) and its error estimate (absolute)."""
        s = 1j * w
        if self.profile is not None:
            return self._coefficients_profile(w, mu, tol)
        pf = _pulse_factor(w, self.t_inj)
        self.nfev += w.size
        if self.subtract:
            zeta = self.A * self.kd / (s + self.kd)
            rem = _poisson_remainder(zeta, self.M)
            phase = np.exp(1j * w * (mu - self.t_M - 0.5 * self.t_inj))
            phi = self.dil * math.exp(-self.A) * rem * phase * pf
            return phi, 1e-15 * np.abs(phi)
        logG, err, info = _log_transfer(self.column, self.analyte, s, self.compressible, tol,
                                        self.max_segments)
        self.segments = max(self.segments, info["segments"])
        self.segment_work += info["segment_work"]
        with np.errstate(under="ignore"):
            phi = np.exp(logG + 1j * w * (mu - 0.5 * self.t_inj)) * pf
        return phi, np.abs(phi) * (err + 1e-15)

    def _coefficients_profile(self, w, mu, tol):
        s = 1j * w
        cin = self.inlet(w)
        self.nfev += w.size
        if self.subtract:
            zeta = self.A * self.kd / (s + self.kd)
            rem = _poisson_remainder(zeta, self.M)
            with np.errstate(under="ignore"):
                phase = np.exp(1j * w * (mu - self.t_M))
            phi = self.dil * math.exp(-self.A) * rem * phase * cin
            return phi, 1e-15 * np.abs(phi)
        logG, err, info = _log_transfer(self.column, self.analyte, s, self.compressible, tol,
                                        self.max_segments)
        self.segments = max(self.segments, info["segments"])
        self.segment_work += info["segment_work"]
        with np.errstate(under="ignore"):
            phi = np.exp(logG + 1j * w * mu) * cin
        return phi, np.abs(phi) * (err + 1e-15)

    def subtracted(self, t):
        """The analytically inverted part at times t (D = 0, small A), else None."""
        if not self.subtract:
            return None
        if self.profile is None:
            return _poisson_part(t, self.t_M, self.A, self.kd, self.t_inj, self.dil, self.M)
        return self.dil * math.exp(-self.A) * self.profile(np.asarray(t, float) - self.t_M)

    def proxy(self, w):
        """|Phi| of the diffusion-free column: a cheap weight for the error budget."""
        s = 1j * w
        with np.errstate(under="ignore"):
            g = self.dil * np.exp(-(self.A * (s / (s + self.kd))).real)
        if self.profile is not None:
            return g * np.abs(self.inlet(w))
        return g * np.abs(_pulse_factor(w, self.t_inj))


def _evaluate(t, phi, w, mu, P, block=128):
    """(1/P)[Phi_0 + 2 Re sum_k Phi_k exp(i w_k (t - mu))] at the points t (w_k = k dw).

    Horner's scheme over blocks of ``block`` terms in ``exp(i block dw (t - mu))``, each block
    a matrix-vector product with the powers ``exp(i dw (t - mu))^j`` (j <= block) by
    cumulative products: no trigonometric function per term, and a round-off of order
    ``(block + K/block) eps sum|Phi_k| / P`` (the unit circle is Horner-stable).
    """
    out = np.empty(t.size)
    K = w.size
    if K == 1:
        out[:] = phi.real[0] / P
        return out
    dw = w[1] - w[0]
    block = min(block, K - 1)
    nb = -(-(K - 1) // block)
    coef = np.zeros(nb * block, complex)
    coef[:K - 1] = phi[1:]
    coef = coef.reshape(nb, block)
    step = max(1, _CHUNK // (2 * block))
    for i in range(0, t.size, step):
        x = t[i:i + step] - mu
        z1 = np.exp(1j * dw * x)
        E = np.cumprod(np.broadcast_to(z1[:, None], (x.size, block)), axis=1)  # z1^j
        zb = np.exp(1j * dw * block * x)
        acc = E @ coef[nb - 1]
        for b in range(nb - 2, -1, -1):
            acc = acc * zb + E @ coef[b]
        out[i:i + step] = (phi.real[0] + 2.0 * acc.real) / P
    return out


def _thomas_range(A, kd, W):
    """Range of the time adsorbed outside which its density is below ~exp(-W^2)."""
    sa = math.sqrt(A)
    return max(sa - W, 0.0) ** 2 / kd, (sa + W) ** 2 / kd


def outlet_response_laplace(column: Column, analyte: Analyte, t, *,
                            injection_time: float | None = None, compressible: bool = True,
                            tol: float = 1e-8, on_fail: str = "raise", max_terms: int = 2**17,
                            max_segments: int = _NMAX_DEFAULT, guard: float = 0.5,
                            injection=None):
    """Outlet concentration per unit inlet concentration by numerical Laplace inversion.

    Implements the :mod:`~sciflow.chromatography.simulate` contract for ``method="laplace"``:
    any dispersion D >= 0, constant or compressible velocity, rectangular injection or any
    inlet profile (``injection``): the outlet is the inverse transform of
    ``G(s) C_in(s)``, with ``C_in`` the profile's Laplace transform (closed forms for the
    named profiles, exact for sampled ones, quadrature for a callable; see
    :mod:`sciflow.chromatography.injection`).

    Parameters
    ----------
    column : Column
    analyte : Analyte
    t : array_like, shape (n_t,)
        Strictly increasing times (s) from the start of the injection (at least one).
    injection_time : float
        Pulse length t_inj (s), > 0 (rectangular pulse of height 1). Give this or
        ``injection``.
    compressible : bool
        Compressible carrier gas (default) or constant velocity.
    tol : float
        Target for ``max|y - y_true| / max|y|`` (peak-scaled error), in (0, 1).
    on_fail : {"raise", "warn"}
        When the error estimate exceeds ``tol``: raise :class:`sciflow.ConvergenceError`
        (its ``result`` holds ``(y, info)``) or emit :class:`LaplaceAccuracyWarning` and return.
    max_terms : int
        Largest number of Fourier terms (transform evaluations per window).
    max_segments : int
        Largest number of Riccati segments per transform value (compressible, D > 0).
    guard : float
        Part of the Fourier period, relative to the window, left as a guard band (> 0).
    injection : profile, (t, values) pair or callable, optional
        Inlet profile ``c_in(t)`` (dimensionless, relative to c0) instead of the rectangular
        pulse. The Fourier window is placed from the profile's mean, variance and support
        (a callable is taken on ``[0, t[-1]]``). With D = 0 and A < 60 the unadsorbed part
        ``(u_in/u_out) exp(-A) c_in(t - t_M)`` is evaluated directly (it carries any jump of
        c_in) and only the rest is inverted. Limitation: unlike the rectangular pulse, whose
        first Poisson terms are inverted analytically, a profile with jumps or kinks
        (sampled data, a Gaussian centred near 0) leaves on this path a remainder whose
        Fourier coefficients decay only algebraically, so tolerances below about 1e-5 may
        not be reached within ``max_terms`` (reported as usual); smooth profiles, D > 0 or
        A >= 60 are not affected.

    Returns
    -------
    y : ndarray, shape (n_t,)
        Outlet concentration for a unit inlet concentration (dimensionless, <= u_in/u_out).
    info : dict
        ``error_estimate`` (absolute, on y), ``relative_error_estimate`` (peak-scaled),
        its parts ``truncation_error``, ``aliasing_error``, ``transfer_error``,
        ``roundoff_error``; ``nfev`` (transform evaluations), ``terms``, ``period``,
        ``window``, ``segments``, ``peak``, ``converged``, ``wall_time`` (s); with
        ``injection``: ``injected_area`` (s) and ``injection_transform_error`` (relative
        quadrature error of a callable's transform, 0 for the closed forms).
    """
    from .injection import RectangularPulse, _resolve

    start = _time.perf_counter()
    _check_models(column, analyte)
    compressible = _check_compressible(compressible)
    t = check_increasing("t", t, min_size=1)
    profile = _resolve(injection_time, injection, t_end=float(t[-1]))
    tol = check_in_range("tol", tol, 0.0, 1.0, low_open=True, high_open=True)
    check_choice("on_fail", on_fail, ("raise", "warn"))
    max_terms = check_int("max_terms", max_terms, low=4)
    max_segments = check_int("max_segments", max_segments, low=2 * _N0)
    guard = check_positive("guard", guard)
    if isinstance(profile, RectangularPulse):
        y, info = _invert(column, analyte, t, profile.width, None, compressible, tol, on_fail,
                          max_terms, max_segments, guard, start)
        h = profile.height
        if h != 1.0:
            y = y * h
            for key in ("peak", "error_estimate", "truncation_error", "aliasing_error",
                        "transfer_error", "roundoff_error"):
                if key in info:
                    info[key] = info[key] * h
        return _finish(y, info, analyte, on_fail)
    if profile.area == 0.0:  # a callable and t[-1] <= 0: nothing has been injected yet
        return np.zeros(t.size), {"method": "fourier-series", "tol": tol, "converged": True,
                                  "error_estimate": 0.0, "relative_error_estimate": 0.0,
                                  "injected_area": 0.0, "wall_time": 0.0}
    y, info = _invert(column, analyte, t, None, profile, compressible, tol, on_fail,
                      max_terms, max_segments, guard, start)
    info["injected_area"] = float(profile.area)
    info["injection_transform_error"] = float(getattr(profile, "transform_error", 0.0))
    return _finish(y, info, analyte, on_fail)


def _invert(column, analyte, t, t_inj, profile, compressible, tol, on_fail, max_terms,
            max_segments, guard, start):
    """The Fourier-series inversion for the rectangular pulse (``profile`` None) or a profile;
    returns ``(y, info)`` with ``info["message"]`` set when the tolerance was missed."""
    pb = _Problem(column, analyte, compressible, t_inj, max_segments, profile)
    y = np.zeros(t.size)
    info = {"method": "fourier-series", "tol": tol, "nfev": 0, "terms": 0,
            "subtracted_terms": pb.M + 1, "truncation_error": 0.0, "aliasing_error": 0.0,
            "transfer_error": 0.0, "roundoff_error": 0.0}
    y_sub = None
    if pb.subtract:
        y_sub = pb.subtracted(t)
        y += y_sub

    # moments: mean and spread of the gas residence time, then of the whole peak
    kg, n_mom = _rtd_cumulants(column, compressible, rel=1e-8)  # enough to place the window
    pb.nfev += n_mom
    mean_g, var_g = kg[0], max(kg[1], 0.0)
    skew_g = kg[2] / var_g**1.5 if var_g > 0 else 0.0
    m1, v1, _ = _compose_cumulants(kg, column, analyte)
    if profile is None:
        in_lo, in_hi = 0.0, t_inj
        mu = m1 + 0.5 * t_inj
        var_p = max(v1, 0.0) + t_inj**2 / 12.0
        area = pb.dil * t_inj
        peak_guess = min(pb.dil, area / math.sqrt(2.0 * math.pi * var_p))
    else:
        # the window must hold the response to all but ~1e-3 tol of the injected amount
        in_lo, in_hi = (float(v) for v in profile.support(1e-3 * tol))
        mu = m1 + profile.mean
        var_p = max(v1, 0.0) + profile.variance
        area = pb.dil * profile.area
        peak_guess = area / math.sqrt(2.0 * math.pi * var_p)
    if pb.subtract:
        tf = np.linspace(pb.t_M + in_lo,
                         pb.t_M + in_hi + _thomas_range(pb.A, pb.kd, 8.0)[1], 2001)
        peak_guess = max(peak_guess, float(np.max(np.abs(pb.subtracted(tf)))))

    if pb.subtract and pb.A == 0.0:  # nothing adsorbs: the analytic part is the answer
        info.update(peak=float(peak_guess), error_estimate=0.0, relative_error_estimate=0.0,
                    converged=True, window=(pb.t_M + in_lo, pb.t_M + in_hi), period=0.0,
                    segments=0, wall_time=_time.perf_counter() - start)
        return y, info

    # support window [t_lo, t_hi] of the (remainder) response
    W = math.sqrt(math.log(100.0 / tol)) + 2.0
    sg = math.sqrt(var_g)
    g_lo = max(mean_g - W * sg, 0.0)
    g_hi = mean_g + W * sg * (1.0 + max(skew_g, 0.0))
    ak = column.phase_ratio * analyte.k_a
    tau_lo = _thomas_range(ak * g_lo, pb.kd, W)[0]
    tau_hi = _thomas_range(ak * g_hi, pb.kd, W)[1]
    t_lo = g_lo + tau_lo
    t_hi = g_hi + tau_hi + in_hi
    if profile is not None:
        t_lo += in_lo
    t_first = pb.t_M + in_lo if profile is not None else pb.t_M
    if pb.D == 0.0:
        t_lo = max(t_lo, t_first)  # nothing arrives before t_M (plus the inlet's start)

    peak = peak_guess
    budget_scale = 1.0
    attempts = 0
    while True:
        attempts += 1
        width = t_hi - t_lo
        P = width * (1.0 + guard)
        dw = 2.0 * np.pi / P
        bud = 0.2 * tol * peak * budget_scale
        sig_min = math.sqrt(max(v1, 0.0))  # the edges of a long pulse are this sharp
        if pb.subtract:
            sig_min = max(sig_min, 0.5 / pb.kd)
        if pb.D > 0.0 and math.exp(-pb.A) > 1e-3 * tol:
            sig_min = min(sig_min, max(sg, 1e-300))  # the sharp non-adsorbed part
        w_est = math.sqrt(2.0 * math.log(10.0 / tol)) / max(sig_min, 1e-300)
        K = int(min(max(32, 2 ** math.ceil(math.log2(w_est / dw + 1.0))), max_terms))
        # transfer tolerance per coefficient: uniform relative share, looser where |Phi| is tiny
        phi = np.empty(0, complex)
        perr = np.empty(0)
        k_done = 0
        trunc = np.inf
        while True:
            w = dw * np.arange(k_done, K)
            prox = pb.proxy(w)
            tol_k = np.maximum(0.25 * bud * P / max(area, 1e-300),
                               0.5 * bud * P / (K * np.maximum(prox, 1e-300)))
            tol_k = np.minimum(np.maximum(tol_k, 1e-14), 1e-2)
            ph, pe = pb.coefficients(w, mu, tol_k)
            phi = np.concatenate((phi, ph))
            perr = np.concatenate((perr, pe))
            k_done = K
            half = phi[K // 2:]
            trunc = 2.0 * np.sum(np.abs(half)) / P
            if trunc <= bud or K >= max_terms:
                break
            K = min(2 * K, max_terms)
        w = dw * np.arange(K)
        transfer_err = (perr[0] + 2.0 * np.sum(perr[1:])) / P
        roundoff = 4e-16 * (np.abs(phi[0]) + 2.0 * np.sum(np.abs(phi[1:]))) / P * (K / 128 + 128)
        # guard band: values there are aliasing (the wrapped tails) plus the true tails
        tg = np.linspace(t_hi, t_lo + P, 257)
        yg = _evaluate(tg, phi, w, mu, P)
        alias = float(np.max(np.abs(yg)))
        # the peak on a fine grid of the window
        tf = np.linspace(t_lo, t_hi, 2049)
        yf = _evaluate(tf, phi, w, mu, P)
        if y_sub is not None:
            yf = yf + pb.subtracted(tf)
        peak = max(float(np.max(np.abs(yf))), 1e-300)
        err = trunc + alias + transfer_err + roundoff
        ok = err <= tol * peak
        if ok or attempts >= 6:
            break
        # what failed: widen the window, or tighten the budget on a smaller peak
        if alias > 0.25 * tol * peak:
            t_lo = max(t_lo - 0.5 * width, 0.0 if pb.D > 0 else t_first)
            t_hi = t_hi + 0.5 * width
        elif K >= max_terms and trunc > 0.25 * tol * peak:
            break
        else:
            budget_scale *= 0.25

    inside = (t >= t_lo) & (t <= t_hi)
    if np.any(inside):
        y[inside] += _evaluate(t[inside], phi, w, mu, P)
    info.update(nfev=pb.nfev, terms=int(K), period=float(P), window=(float(t_lo), float(t_hi)),
                truncation_error=float(trunc), aliasing_error=alias,
                transfer_error=float(transfer_err), roundoff_error=float(roundoff),
                error_estimate=float(err), relative_error_estimate=float(err / peak),
                peak=peak, converged=bool(ok), segments=pb.segments,
                segment_work=pb.segment_work, attempts=attempts,
                wall_time=_time.perf_counter() - start)
    if not ok:
        info["message"] = (
            f"Laplace inversion for {analyte.name!r} reached an estimated peak-scaled error "
            f"{err / peak:.3g} > tol = {tol:.3g} (truncation {trunc:.2g}, aliasing "
            f"{alias:.2g}, transfer {transfer_err:.2g}, round-off {roundoff:.2g}; "
            f"{K} terms, {pb.segments} segments)")
    return y, info


def _finish(y, info, analyte, on_fail):
    """Raise or warn (``on_fail``) when the inversion missed its tolerance; else return."""
    msg = info.pop("message", None)
    if msg is not None:
        if on_fail == "raise":
            raise ConvergenceError(msg, result=(y, info))
        warnings.warn(msg, LaplaceAccuracyWarning, stacklevel=3)
    return y, info
