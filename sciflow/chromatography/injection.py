r"""Inlet concentration profiles ``c_in(t)`` for the column solvers.

The inlet condition of the model (:mod:`sciflow.chromatography.model`) is the flux condition
``u c - D c_x = u_in c0 c_in(t)`` at x = 0, with ``c_in`` dimensionless (relative to the inlet
concentration ``c0`` of :func:`~sciflow.chromatography.simulate.simulate`) and zero for t < 0 (the
column is empty at t = 0). The solvers accept, as ``injection=``:

* ``None``: the rectangular pulse of length ``injection_time`` (``c_in = 1`` on ``[0, t_inj)``),
  the classical case; results are unchanged bit for bit;
* a profile of this module: :class:`RectangularPulse`, :class:`GaussianPulse`,
  :class:`ExponentiallyModifiedGaussian` (splitless tailing), :class:`SampledInjection`;
* a pair ``(t_grid, values)``: a :class:`SampledInjection` (linear interpolation, zero outside);
* a callable ``c_in(t)`` (s -> dimensionless, vectorised over a float array or elementwise),
  finite and >= 0; it is used on ``[0, t[-1]]`` (later values cannot reach the outlet before
  the last output time).

Area convention
---------------
Each profile is a unit-area shape times ``area`` (s): ``int_0^inf c_in dt = area``, so the
injected amount per unit cross-section is ``u_in c0 area``. A rectangular pulse of length
``t_inj`` and height 1 has ``area = t_inj``; any profile with ``area = t_inj`` therefore injects
the same amount as that pulse (and gives the same outlet peak area). ``RectangularPulse(width)``
defaults to height 1 (``area = width``); the other profiles default to ``area = 1`` s.

Truncation at t = 0
-------------------
The Gaussian and the exponentially modified Gaussian are restricted to t >= 0 and
renormalised, exactly: ``c_in(t) = area phi_sigma(t - center) / Phi(center/sigma)`` for t >= 0.
Their Laplace transforms include the truncation exactly (through the Faddeeva function, no
overflow for any s with Re s >= 0); for ``center > 6 sigma`` the truncation changes the profile
by less than 1e-9 of its peak and the familiar forms ``area exp(-s center + s^2 sigma^2/2)``
(Gaussian) and that divided by ``1 + s tau`` (EMG) are recovered.

Laplace transforms
------------------
``C_in(s) = int_0^inf c_in(t) exp(-s t) dt`` (s): closed forms for the named profiles; for
:class:`SampledInjection` the transform of the piecewise-linear interpolant, exact, segment by
segment with the functions ``phi_1(z) = (e^z - 1)/z`` and ``psi(z) = (e^z (z - 1) + 1)/z^2``
(series for small ``|z|``). A plain callable is transformed by composite 16-point
Gauss-Legendre quadrature on panels no wider than ``3/|s|`` (so ``exp(-s t)`` is resolved to
rounding on each panel), the panel count doubled until the injected area agrees to 1e-12
(an a-posteriori check of the callable's own resolution; smooth profiles pass at once,
kinked or discontinuous ones converge slowly and the remaining difference is reported).
Quadrature of the transform, rather than a time-domain convolution with the impulse response,
is used because the outlet error it causes is bounded by ``(u_in/u_out) max|c_in - c_h|``
(the transfer function's gain is at most ``G(0)``) whatever the column, and the impulse
response has an atom and no closed form with dispersion.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from scipy import special

from .._validate import check_array, check_increasing, check_nonnegative, check_positive

__all__ = [
    "RectangularPulse",
    "GaussianPulse",
    "ExponentiallyModifiedGaussian",
    "SampledInjection",
]

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_GL16 = np.polynomial.legendre.leggauss(16)
_CHUNK = 2**21  # complex numbers per work array


def _check_s(s):
    try:
        s = np.asarray(s, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"s must be array-like of (complex) numbers: {exc}") from None
    if not np.all(np.isfinite(s)):
        raise ValueError("s must be finite")
    return s


def _check_t(t):
    return check_array("t", t)


class _Profile:
    """Shared interface of the inlet profiles (all times in s, c_in dimensionless).

    Subclasses define ``area``, ``mean``, ``variance``, ``__call__``, ``laplace``,
    ``support(eps)``; ``_breakpoints`` (times where c_in or a derivative jumps) and
    ``_time_scale`` (the time on which c_in varies: sigma, or the standard deviation) guide
    the finite-volume time steps; ``_left``/``_right`` give one-sided limits at jumps.
    """

    _breakpoints: tuple = ()

    @property
    def _time_scale(self):
        return self.std

    def _left(self, t):
        """Left limits ``c_in(t-)`` (stage values of steps ending at a jump)."""
        return self(t)

    def _right(self, t):
        """Right limits ``c_in(t+)``."""
        return self(t)

    @property
    def variance(self) -> float:
        """Variance of the profile (s^2); each subclass defines it."""
        raise NotImplementedError

    @property
    def std(self) -> float:
        """Standard deviation of the profile (s)."""
        return math.sqrt(self.variance)


# ---------------------------------------------------------------------------------------------
# rectangular pulse
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RectangularPulse(_Profile):
    """Rectangular inlet pulse ``c_in = area / width`` on ``[0, width)``, 0 elsewhere.

    Parameters
    ----------
    width : float
        Pulse length t_inj (s), > 0.
    area : float, optional
        ``int c_in dt`` (s), > 0; default ``width`` (height 1: the classical pulse of
        ``injection_time = width``, with which every solver agrees bit for bit).
    """

    width: float
    area: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "width", check_positive("width", self.width))
        area = self.width if self.area is None else check_positive("area", self.area)
        object.__setattr__(self, "area", area)

    @property
    def height(self) -> float:
        """``area / width`` (dimensionless); exactly 1.0 for the default area."""
        return 1.0 if self.area == self.width else cast(float, self.area) / self.width

    @property
    def mean(self) -> float:
        return 0.5 * self.width

    @property
    def variance(self) -> float:
        return self.width**2 / 12.0

    @property
    def _breakpoints(self):
        return (0.0, self.width)

    @property
    def _time_scale(self):
        return self.width

    def __call__(self, t):
        """``c_in(t)`` (right-continuous: ``height`` on ``[0, width)``)."""
        t = _check_t(t)
        return np.where((t >= 0.0) & (t < self.width), self.height, 0.0)

    def _left(self, t):
        t = np.asarray(t, float)
        return np.where((t > 0.0) & (t <= self.width), self.height, 0.0)

    def laplace(self, s):
        """``C_in(s) = height (1 - exp(-s width)) / s`` (s); ``area`` at s = 0."""
        s = _check_s(s)
        z = -s * self.width
        small = np.abs(z) < 1e-8
        zz = np.where(small, 1.0, z)
        phi1 = np.where(small, 1.0 + 0.5 * z, np.expm1(zz) / zz)
        return self.area * phi1

    def support(self, eps: float = 1e-16):
        """``(0, width)``: where c_in is nonzero."""
        return 0.0, self.width


# ---------------------------------------------------------------------------------------------
# Gaussian and exponentially modified Gaussian, truncated at t = 0
# ---------------------------------------------------------------------------------------------
def _phi_upper(a):
    """Phi(a), the standard normal distribution function."""
    return 0.5 * special.erfc(-a / _SQRT2)


def _trunc_gauss_laplace(s, mu, sigma):
    """``int_0^inf phi_sigma(t - mu) exp(-s t) dt / Phi(mu/sigma)``, overflow free.

    With ``z = (mu - s sigma^2)/sigma`` the integral is ``E(s) Phi(z)``,
    ``E = exp(-s mu + s^2 sigma^2 / 2)``; through the Faddeeva function w,
    ``E Phi(z) = exp(-mu^2/2sigma^2) w(-i z/sqrt2) / 2`` for Re z < 0 and
    ``E - exp(-mu^2/2sigma^2) w(i z/sqrt2) / 2`` for Re z >= 0, both with |w| <= 1.
    """
    z = (mu - s * sigma**2) / sigma
    g = math.exp(-0.5 * (mu / sigma) ** 2)
    out = np.empty(np.shape(s), complex)
    pos = z.real >= 0.0
    with np.errstate(under="ignore", over="ignore"):
        sp = s[pos]
        out[pos] = (np.exp(-sp * mu + 0.5 * (sp * sigma) ** 2)
                    - 0.5 * g * special.wofz(1j * z[pos] / _SQRT2))
        out[~pos] = 0.5 * g * special.wofz(-1j * z[~pos] / _SQRT2)
    return out / _phi_upper(mu / sigma)


def _trunc_gauss_moments(mu, sigma):
    """Mean and variance of N(mu, sigma^2) truncated to [0, inf)."""
    a = mu / sigma
    lam = math.exp(-0.5 * a * a) / _SQRT2PI / _phi_upper(a)
    return mu + sigma * lam, sigma**2 * max(1.0 - a * lam - lam * lam, 0.0)


def _gauss_half_width(eps):
    """W with P(|Z| > W) <= eps for a standard normal Z."""
    return _SQRT2 * float(special.erfcinv(max(min(eps, 1.0), 1e-300)))


@dataclass(frozen=True)
class GaussianPulse(_Profile):
    """Gaussian inlet profile ``c_in(t) = area phi_sigma(t - center) / Phi(center/sigma)`` for
    t >= 0 (0 before), with ``phi_sigma`` the normal density of standard deviation sigma.

    Parameters
    ----------
    center : float
        Centre of the Gaussian (s), >= 0. The profile is restricted to t >= 0 exactly (see the
        module docstring); for ``center > 6 sigma`` the truncation is below 1e-9 of the peak.
    sigma : float
        Standard deviation (s), > 0.
    area : float
        ``int_0^inf c_in dt`` (s), > 0; ``area = t_inj`` injects what a rectangular pulse of
        length ``t_inj`` does.

    Notes
    -----
    ``laplace(s) = area exp(-s center + s^2 sigma^2/2) Phi(center/sigma - s sigma)
    / Phi(center/sigma)``.
    """

    center: float
    sigma: float
    area: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "center", check_nonnegative("center", self.center))
        object.__setattr__(self, "sigma", check_positive("sigma", self.sigma))
        object.__setattr__(self, "area", check_positive("area", self.area))

    @property
    def mean(self) -> float:
        return _trunc_gauss_moments(self.center, self.sigma)[0]

    @property
    def variance(self) -> float:
        return _trunc_gauss_moments(self.center, self.sigma)[1]

    @property
    def _breakpoints(self):
        return (0.0,)

    @property
    def _time_scale(self):
        return self.sigma

    def __call__(self, t):
        """``c_in(t)``, t in s (any shape)."""
        t = _check_t(t)
        x = (t - self.center) / self.sigma
        norm = self.area / (self.sigma * _SQRT2PI * _phi_upper(self.center / self.sigma))
        with np.errstate(under="ignore"):
            return np.where(t >= 0.0, norm * np.exp(-0.5 * x * x), 0.0)

    def _left(self, t):
        t = np.asarray(t, float)
        return np.where(t > 0.0, self(t), 0.0)

    def laplace(self, s):
        """Laplace transform ``C_in(s)`` (s), exact including the truncation at 0."""
        s = _check_s(s)
        return self.area * _trunc_gauss_laplace(s, self.center, self.sigma)

    def support(self, eps: float = 1e-16):
        """``(lo, hi)`` outside which at most ``eps area`` is injected."""
        w = _gauss_half_width(eps)
        return max(self.center - w * self.sigma, 0.0), self.center + w * self.sigma


def _emg_density(t, mu, sigma, tau):
    """Density of X + E, X ~ N(mu, sigma^2) truncated to [0, inf), E ~ Exp(mean tau), at t.

    ``[f(t) - r(t)] / Phi(mu/sigma)`` with f the (untruncated) EMG density,
    ``f = exp(-(t-mu)^2/2sigma^2) erfcx(x) / (2 tau)``, ``x = (sigma/tau - (t-mu)/sigma)/sqrt2``
    (x > 0; ``exp(sigma^2/2tau^2 - (t-mu)/tau) erfc(x) / (2 tau)`` otherwise), and
    ``r = exp(-t/tau) exp(-mu^2/2sigma^2) erfcx((mu/sigma + sigma/tau)/sqrt2) / (2 tau)`` the
    part that came from t' < 0. No overflow for any parameters.
    """
    t = np.asarray(t, float)
    out = np.zeros_like(t)
    pos = t >= 0.0
    tp = t[pos]
    d = tp - mu
    x = (sigma / tau - d / sigma) / _SQRT2
    with np.errstate(under="ignore", over="ignore"):
        f = np.where(x > 0.0,
                     np.exp(-0.5 * (d / sigma) ** 2) * special.erfcx(np.maximum(x, 0.0)),
                     np.exp(np.minimum(0.5 * (sigma / tau) ** 2 - d / tau, 0.0))
                     * special.erfc(np.minimum(x, 0.0)))
        r = (np.exp(-tp / tau) * math.exp(-0.5 * (mu / sigma) ** 2)
             * special.erfcx((mu / sigma + sigma / tau) / _SQRT2))
    out[pos] = np.maximum(f - r, 0.0) / (2.0 * tau * _phi_upper(mu / sigma))
    return out


@dataclass(frozen=True)
class ExponentiallyModifiedGaussian(_Profile):
    """Exponentially modified Gaussian (EMG) inlet profile: splitless injection with tailing.

    The Gaussian of :class:`GaussianPulse` (``center``, ``sigma``, truncated to t >= 0)
    convolved with the exponential density ``exp(-t/tau)/tau``; unit area times ``area``::

        c_in(t) = area [f(t) - r(t)] / Phi(center/sigma),   t >= 0,

    with f the EMG density and r the exact truncation correction (see ``_emg_density``).
    ``laplace(s)`` is the Gaussian transform times ``1 / (1 + s tau)``.

    Parameters
    ----------
    center : float
        Centre of the Gaussian part (s), >= 0 (the profile's mean is about center + tau).
    sigma : float
        Its standard deviation (s), > 0.
    tau : float
        Time constant of the exponential tail (s), > 0.
    area : float
        ``int_0^inf c_in dt`` (s), > 0.
    """

    center: float
    sigma: float
    tau: float
    area: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "center", check_nonnegative("center", self.center))
        object.__setattr__(self, "sigma", check_positive("sigma", self.sigma))
        object.__setattr__(self, "tau", check_positive("tau", self.tau))
        object.__setattr__(self, "area", check_positive("area", self.area))

    @property
    def mean(self) -> float:
        return _trunc_gauss_moments(self.center, self.sigma)[0] + self.tau

    @property
    def variance(self) -> float:
        return _trunc_gauss_moments(self.center, self.sigma)[1] + self.tau**2

    @property
    def _breakpoints(self):
        return (0.0,)

    @property
    def _time_scale(self):
        return self.sigma

    def __call__(self, t):
        """``c_in(t)``, t in s (any shape); continuous, 0 at t = 0."""
        t = _check_t(t)
        return self.area * _emg_density(t, self.center, self.sigma, self.tau)

    def laplace(self, s):
        """``C_in(s)`` = Gaussian transform / (1 + s tau) (s), exact including truncation."""
        s = _check_s(s)
        return self.area * _trunc_gauss_laplace(s, self.center, self.sigma) / (1.0 + s * self.tau)

    def support(self, eps: float = 1e-16):
        """``(lo, hi)`` outside which at most ``eps area`` is injected."""
        w = _gauss_half_width(0.5 * eps)
        lo = max(self.center - w * self.sigma, 0.0)
        return lo, self.center + w * self.sigma + self.tau * math.log(2.0 / max(eps, 1e-300))


# ---------------------------------------------------------------------------------------------
# sampled profile: linear interpolation, zero outside
# ---------------------------------------------------------------------------------------------
def _phi1(z):
    """(e^z - 1)/z, 1 at z = 0."""
    small = np.abs(z) < 1e-8
    zz = np.where(small, 1.0, z)
    return np.where(small, 1.0 + 0.5 * z, np.expm1(zz) / zz)


def _psi(z):
    """int_0^1 u e^{z u} du = (e^z (z - 1) + 1)/z^2 (series for |z| < 0.5)."""
    small = np.abs(z) < 0.5
    zz = np.where(small, 1.0, z)
    closed = (np.exp(zz) * (zz - 1.0) + 1.0) / (zz * zz)
    ser = np.zeros_like(z)
    term = np.ones_like(z)
    for k in range(18):  # sum z^k / (k! (k + 2)); 0.5^18/18! < 1e-21
        ser = ser + term / (k + 2)
        term = term * z / (k + 1)
    return np.where(small, ser, closed)


@dataclass(frozen=True, eq=False)
class SampledInjection(_Profile):
    """Inlet profile sampled on a time grid: linear interpolation on ``[t[0], t[-1]]``, 0 outside.

    Parameters
    ----------
    t : array_like, shape (n,)
        Strictly increasing sample times (s), n >= 2, ``t[0] >= 0``.
    values : array_like, shape (n,)
        ``c_in`` at those times (dimensionless, relative to c0), finite and >= 0, not all 0.

    Notes
    -----
    ``area`` is the trapezoidal integral (exact for the interpolant); ``laplace(s)`` is the
    exact transform of the interpolant. If ``values[0]`` or ``values[-1]`` is nonzero, c_in
    jumps there. The finite-volume solver ends a step at every sample time (the interpolant
    has a kink at each), so very densely sampled profiles mean short steps during the
    injection.
    """

    t: np.ndarray
    values: np.ndarray
    area: float = field(init=False)

    def __post_init__(self):
        t = check_increasing("t", self.t, min_size=2)
        if t[0] < 0.0:
            raise ValueError(f"t must start at t[0] >= 0 (the column is empty before the "
                             f"injection starts at 0), got t[0] = {t[0]}")
        v = check_array("values", self.values, ndim=1)
        if v.shape != t.shape:
            raise ValueError(f"values must have the shape of t {t.shape}, got {v.shape}")
        if np.any(v < 0.0):
            i = int(np.argmax(v < 0.0))
            raise ValueError(f"values must be >= 0 (a concentration), got values[{i}] = {v[i]}")
        area = float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(t)))
        if not area > 0.0:
            raise ValueError("values must not all be 0 (nothing would be injected)")
        t = t.copy()
        v = v.copy()
        t.flags.writeable = False
        v.flags.writeable = False
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "area", area)

    def _moment(self, k):
        # Simpson's rule is exact for t^k times a linear function, k <= 2
        a, b = self.t[:-1], self.t[1:]
        m = 0.5 * (a + b)
        va, vb = self.values[:-1], self.values[1:]
        return float(np.sum((b - a) / 6.0 * (a**k * va + 4.0 * m**k * 0.5 * (va + vb)
                                             + b**k * vb)))

    @property
    def mean(self) -> float:
        return self._moment(1) / self.area

    @property
    def variance(self) -> float:
        m = self.mean
        return max(self._moment(2) / self.area - m * m, 0.0)

    @property
    def _breakpoints(self):
        # every node: c_in is linear between them, so fd's steps (which end at every node)
        # integrate the inlet exactly; dense samples mean at least one step per interval
        return tuple(self.t.tolist())

    @property
    def _time_scale(self):
        return self.std

    def __call__(self, t):
        """``c_in(t)``: linear interpolation on the closed interval ``[t[0], t[-1]]``."""
        t = _check_t(t)
        inside = (t >= self.t[0]) & (t <= self.t[-1])
        return np.where(inside, np.interp(t, self.t, self.values), 0.0)

    def _left(self, t):
        t = np.asarray(t, float)
        inside = (t > self.t[0]) & (t <= self.t[-1])
        return np.where(inside, np.interp(t, self.t, self.values), 0.0)

    def _right(self, t):
        t = np.asarray(t, float)
        inside = (t >= self.t[0]) & (t < self.t[-1])
        return np.where(inside, np.interp(t, self.t, self.values), 0.0)

    def laplace(self, s):
        """Exact transform of the interpolant (s): per segment ``[t_j, t_j + h_j]``,
        ``exp(-s t_j) h_j [v_j phi_1(-s h_j) + (v_{j+1} - v_j) psi(-s h_j)]``."""
        s = _check_s(s)
        shape = s.shape
        s = s.ravel()
        h = np.diff(self.t)
        t0 = self.t[:-1]
        v0 = self.values[:-1]
        dv = np.diff(self.values)
        out = np.empty(s.size, complex)
        step = max(1, _CHUNK // h.size)
        for i in range(0, s.size, step):
            sc = s[i:i + step, None]
            z = -sc * h
            with np.errstate(under="ignore"):
                seg = np.exp(-sc * t0) * h * (v0 * _phi1(z) + dv * _psi(z))
            out[i:i + step] = seg.sum(axis=1)
        return out.reshape(shape)

    def support(self, eps: float = 1e-16):
        """``(t[0], t[-1])``."""
        return float(self.t[0]), float(self.t[-1])


# ---------------------------------------------------------------------------------------------
# a plain callable
# ---------------------------------------------------------------------------------------------
class _FunctionInjection(_Profile):
    """A user callable ``c_in(t)`` used on ``[0, end]`` (zero afterwards: later values cannot
    reach the outlet before the last output time ``end``)."""

    def __init__(self, func, end):
        self.func = func
        self.end = float(end)
        self._panels_cache = {}
        self.transform_error = 0.0
        self.area = self._quadrature(1.0, 0)[0].real if self.end > 0 else 0.0
        if self.end > 0 and not self.area > 0.0:
            raise ValueError(f"injection: the callable is 0 on [0, {self.end:g}] s (nothing "
                             "would be injected before the last output time)")

    def __call__(self, t):
        t = _check_t(t)
        flat = t.ravel()
        out = np.zeros(flat.size)
        inside = (flat >= 0.0) & (flat <= self.end)
        if np.any(inside):
            out[inside] = self._eval(flat[inside])
        return out.reshape(t.shape)

    def _eval(self, x):
        """The callable at times x (1-D), vectorised if it can be, validated."""
        try:
            with np.errstate(all="ignore"):
                v = self.func(x)
            v = np.asarray(v, dtype=float)
            if v.shape != x.shape:
                v = np.broadcast_to(v, x.shape).astype(float)
        except (TypeError, ValueError):
            try:
                v = np.array([float(self.func(float(xi))) for xi in x])
            except (TypeError, ValueError) as exc:
                raise TypeError(f"injection: the callable c_in(t) must return real numbers: "
                                f"{exc}") from None
        if not np.all(np.isfinite(v)):
            i = int(np.argmax(~np.isfinite(v)))
            raise ValueError(f"injection: c_in(t) must be finite, got {v[i]} at t = {x[i]:g} s")
        if np.any(v < 0.0):
            i = int(np.argmax(v < 0.0))
            raise ValueError(f"injection: c_in(t) must be >= 0 (a concentration), got {v[i]:g} "
                             f"at t = {x[i]:g} s")
        return v

    def _panels(self, n):
        if n not in self._panels_cache:
            edges = np.linspace(0.0, self.end, n + 1)
            x, w = _GL16
            h = np.diff(edges)
            nodes = (edges[:-1, None] + 0.5 * h[:, None] * (x[None, :] + 1.0)).ravel()
            weights = (0.5 * h[:, None] * w[None, :]).ravel()
            self._panels_cache[n] = (nodes, weights, self._eval(nodes))
        return self._panels_cache[n]

    def _quadrature(self, smax, _k):
        """Nodes, weights and values on panels resolving exp(-s t) for |s| <= smax, doubled
        until the area converges to 1e-12; returns (area, nodes, weights, values)."""
        n = max(8, int(math.ceil(smax * self.end / 3.0)))
        n = 1 << (n - 1).bit_length()
        prev = None
        while True:
            nodes, weights, vals = self._panels(n)
            area = float(weights @ vals)
            if prev is not None:
                err = abs(area - prev)
                if err <= 1e-12 * abs(area) or n >= 2**16:
                    self.transform_error = max(self.transform_error, err / max(abs(area), 1e-300))
                    return area, nodes, weights, vals
            prev = area
            n *= 2

    @property
    def mean(self):
        _, x, w, v = self._quadrature(1.0, 0)
        return float((w * v) @ x) / self.area

    @property
    def variance(self):
        _, x, w, v = self._quadrature(1.0, 0)
        m = self.mean
        return max(float((w * v) @ (x - m) ** 2) / self.area, 0.0)

    def laplace(self, s):
        s = _check_s(s)
        shape = s.shape
        s = s.ravel()
        if s.size == 0:
            return s.reshape(shape)
        _, x, w, v = self._quadrature(float(np.max(np.abs(s))), 0)
        wv = w * v
        out = np.empty(s.size, complex)
        step = max(1, _CHUNK // x.size)
        for i in range(0, s.size, step):
            with np.errstate(under="ignore"):
                out[i:i + step] = np.exp(-s[i:i + step, None] * x[None, :]) @ wv
        return out.reshape(shape)

    def support(self, eps: float = 1e-16):
        return 0.0, self.end


def _resolve(injection_time, injection, *, t_end):
    """The inlet profile of a solver call: ``injection_time`` (rectangular pulse of height 1)
    or ``injection`` (see the module docstring), exactly one of them; ``t_end`` (s) is the last
    output time (the window of a plain callable). Returns a profile object."""
    if injection is None:
        if injection_time is None:
            raise TypeError("injection_time (the rectangular pulse length, s) or injection "
                            "(an inlet profile) is required")
        return RectangularPulse(check_positive("injection_time", injection_time))
    if injection_time is not None:
        raise ValueError("give one of injection_time and injection, not both (a rectangular "
                         "pulse is injection=RectangularPulse(width))")
    if isinstance(injection, _Profile):
        return injection
    if isinstance(injection, tuple | list) and len(injection) == 2 and not callable(injection[0]):
        tt, vv = injection
        return SampledInjection(tt, vv)
    if callable(injection) and not isinstance(injection, type | numbers.Number):
        if not math.isfinite(t_end):
            raise TypeError("injection: a plain callable is used on [0, t[-1]] and needs output "
                            "times; here pass a named profile or SampledInjection instead")
        return _FunctionInjection(injection, max(float(t_end), 0.0))
    raise TypeError("injection must be None, a callable c_in(t), a (t, values) pair or one of "
                    "RectangularPulse, GaussianPulse, ExponentiallyModifiedGaussian, "
                    f"SampledInjection; got {type(injection).__name__}")
