"""Fit the kinetic constants (k_a, k_d) of each peak of a measured chromatogram.

The model signal is ::

    s(t) = b(t) + sum_i a_i y_i(t; k_a_i, k_d_i),

with ``y_i`` the outlet concentration of analyte i for a unit rectangular inlet pulse
(:func:`sciflow.chromatography.simulate.outlet_response_exact` or another method of
:mod:`~sciflow.chromatography.simulate`), ``a_i`` its amplitude (the inlet concentration in signal
units) and ``b`` a baseline (constant, linear or none) local to each fitting window.

Parametrisation
---------------
The fit does not search (k_a, k_d) directly: their scales differ by orders of magnitude and
they are strongly correlated. It searches the first two moments of each peak, which the data
pin down, and the peak area (CC24 moments, see :func:`sciflow.chromatography.moments`)::

    t_R = t_M (1 + k') + t_inj/2,     sigma_c^2 = sigma^2 - t_inj^2/12 = 2 k' t_M / k_d,
    area = a t_inj (u_in/u_out),      k' = alpha k_a / k_d,

with parameters ``(t_R, ln sigma_c, area)`` per peak; the map back is ::

    k' = (t_R - t_inj/2)/t_M - 1,   k_d = 2 k' t_M / sigma_c^2,   k_a = k' k_d / alpha.

Each peak has a window ``t_R +- w sigma``; peaks whose windows overlap are fitted jointly on the
union of their windows, isolated peaks on their own window (so a 20-peak chromatogram is 20 small
problems, mapped over ``workers``). The least-squares problem (:func:`scipy.optimize.least_squares`,
trust-region reflective with bounds ``k' > 0``, ``area >= 0``) has an analytic Jacobian for the
area and baseline columns and one-sided differences, peak by peak, for ``t_R`` and
``sigma_c``. Standard errors come from ``cov = s^2 (J^T J)^-1`` (``s^2`` the residual variance)
mapped to (k_a, k_d, a) by the Jacobian of the map above.
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from .._validate import (
    check_array,
    check_choice,
    check_increasing,
    check_int,
    check_nonnegative,
    check_positive,
)
from ..parallel import map_tasks
from ._surface import check_progress
from .model import Analyte, Column, _check_axes, _check_column, _check_compressible

__all__ = ["fit", "fit_many", "FitResult", "FitWarning", "find_peaks"]

_BASELINES = ("constant", "linear", "none")
_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))  # FWHM / sigma of a Gaussian
_DEFAULT_WINDOW = 6.0  # half-width of a peak's window, in units of its standard deviation


class FitWarning(UserWarning):
    """A fit (or part of one) did not converge, or a parameter ended on a bound."""


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FitResult:
    """Fitted peaks of one chromatogram.

    Per-analyte arrays have shape (n_peaks,) in order of retention time; ``covariance`` is the
    (3 n, 3 n) covariance of ``(k_a_0, k_d_0, amplitude_0, k_a_1, ...)`` (zero between peaks
    fitted in different groups).

    Attributes
    ----------
    names : tuple of str
    k_a, k_d : ndarray
        Adsorption and desorption rate constants (1/s).
    amplitude : ndarray
        Inlet concentration in signal units: the component of peak i is ``amplitude_i y_i(t)``.
    k_a_stderr, k_d_stderr, amplitude_stderr : ndarray
        Standard errors (from ``s^2 (J^T J)^-1``).
    retention_time, retention_time_stderr, peak_std, peak_std_stderr : ndarray
        First moment t_R (s) and standard deviation sigma (s) of each fitted peak.
    area : ndarray
        Peak area (signal x s).
    r2 : ndarray
        Coefficient of determination of the full model on each peak's window
        ``t_R +- w sigma`` (clipped to the data).
    r2_total : float
        R^2 on all fitted points (the union of the windows).
    peak_success : ndarray of bool
        Whether the group holding each peak converged.
    groups : tuple of tuple of int
        Peaks fitted jointly.
    windows : ndarray, shape (n_groups, 2)
        Time range of each group (s).
    baseline : tuple of ndarray
        Baseline coefficients of each group: ``b0`` (constant) or ``(b0, b1)`` for
        ``b0 + b1 (t - t_c) / h`` with ``t_c``, ``h`` the window's centre and half-width.
    t, signal, model_signal, baseline_signal : ndarray
        Data, fitted curve and baseline on the data's time grid (between windows the baseline
        is interpolated linearly; outside them it is held constant).
    components : ndarray, shape (n_peaks, n_t)
        ``amplitude_i y_i(t)`` of each peak (no baseline).
    success : bool
    message : str
    nfev : int
        Model evaluations of all groups (the least-squares residual calls; Jacobian differences
        not counted).
    wall_time : float
        Seconds.
    """

    names: tuple
    k_a: np.ndarray
    k_d: np.ndarray
    amplitude: np.ndarray
    k_a_stderr: np.ndarray
    k_d_stderr: np.ndarray
    amplitude_stderr: np.ndarray
    covariance: np.ndarray
    retention_time: np.ndarray
    retention_time_stderr: np.ndarray
    peak_std: np.ndarray
    peak_std_stderr: np.ndarray
    area: np.ndarray
    r2: np.ndarray
    r2_total: float
    peak_success: np.ndarray
    groups: tuple
    windows: np.ndarray
    baseline: tuple
    baseline_kind: str
    t: np.ndarray
    signal: np.ndarray
    model_signal: np.ndarray
    baseline_signal: np.ndarray
    components: np.ndarray
    success: bool
    message: str
    nfev: int
    wall_time: float
    column: Column
    injection_time: float
    compressible: bool
    method: str
    window: float
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        names = self.names
        if isinstance(names, str) or not all(isinstance(x, str) for x in names):
            raise TypeError(f"names must be a sequence of strings, got {names!r}")
        n = len(names)
        if n < 1:
            raise ValueError("names must name at least one peak")
        object.__setattr__(self, "names", tuple(names))
        set_ = object.__setattr__
        for name in ("k_a", "k_d", "amplitude", "k_a_stderr", "k_d_stderr", "amplitude_stderr",
                     "retention_time", "retention_time_stderr", "peak_std", "peak_std_stderr",
                     "area", "r2"):
            arr = check_array(name, getattr(self, name), ndim=1, finite=False)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have shape (n_peaks,) = ({n},), got {arr.shape}")
            set_(self, name, arr)
        ok = np.asarray(self.peak_success)
        if ok.shape != (n,) or ok.dtype != bool:
            raise ValueError(f"peak_success must be a bool array of shape ({n},), got "
                             f"{ok.dtype} {ok.shape}")
        set_(self, "peak_success", ok)
        cov = check_array("covariance", self.covariance, ndim=2, finite=False)
        if cov.shape != (3 * n, 3 * n):
            raise ValueError(f"covariance must have shape (3 n_peaks, 3 n_peaks) = "
                             f"({3 * n}, {3 * n}), got {cov.shape}")
        set_(self, "covariance", cov)
        t = check_increasing("t", self.t, min_size=3)
        set_(self, "t", t)
        for name in ("signal", "model_signal", "baseline_signal"):
            arr = check_array(name, getattr(self, name), ndim=1, finite=name == "signal")
            if arr.shape != t.shape:
                raise ValueError(f"{name} must have the shape of t {t.shape}, got {arr.shape}")
            set_(self, name, arr)
        comps = check_array("components", self.components, ndim=2, finite=False)
        if comps.shape != (n, t.size):
            raise ValueError(f"components must have shape (n_peaks, len(t)) = ({n}, {t.size}), "
                             f"got {comps.shape}")
        set_(self, "components", comps)
        windows = check_array("windows", self.windows, ndim=2)
        if windows.shape[1:] != (2,) or np.any(windows[:, 1] < windows[:, 0]):
            raise ValueError(f"windows must have shape (n_groups, 2) with start <= end, got "
                             f"{windows.shape}")
        set_(self, "windows", windows)
        if len(self.groups) != windows.shape[0] or len(self.baseline) != windows.shape[0]:
            raise ValueError(f"groups and baseline must have one entry per window "
                             f"({windows.shape[0]}), got {len(self.groups)} and "
                             f"{len(self.baseline)}")
        peaks = sorted(int(i) for g in self.groups for i in g)
        if peaks != list(range(n)):
            raise ValueError(f"groups must hold each peak index 0..{n - 1} once, got "
                             f"{self.groups!r}")
        check_choice("baseline_kind", self.baseline_kind, _BASELINES)
        _check_column(self.column)
        set_(self, "injection_time", check_positive("injection_time", self.injection_time))
        set_(self, "compressible", _check_compressible(self.compressible))
        from .simulate import METHODS

        check_choice("method", self.method, METHODS)
        set_(self, "window", check_positive("window", self.window))

    @property
    def n_peaks(self) -> int:
        return len(self.names)

    @property
    def analytes(self) -> list[Analyte]:
        """The fitted analytes."""
        return [Analyte(n, float(ka), float(kd))
                for n, ka, kd in zip(self.names, self.k_a, self.k_d, strict=True)]

    @property
    def residuals(self) -> np.ndarray:
        """``signal - model_signal`` on the full time grid."""
        return self.signal - self.model_signal

    def analyte_covariance(self, i: int) -> np.ndarray:
        """3 x 3 covariance of (k_a, k_d, amplitude) of peak ``i`` (0 <= i < n_peaks)."""
        i = check_int("i", i, low=0, high=self.n_peaks - 1)
        s = slice(3 * i, 3 * i + 3)
        return self.covariance[s, s]

    def fitted_mask(self) -> np.ndarray:
        """Boolean mask of the time points inside a fitting window."""
        m = np.zeros(self.t.size, dtype=bool)
        for lo, hi in self.windows:
            m |= (self.t >= lo) & (self.t <= hi)
        return m

    def plot(self, ax=None, *, residuals: bool = True, xlim=None, components: bool = True,
             title: str | None = None, **kwargs):
        """Data, fit, components and (below) residuals; returns the main Axes.

        ``xlim`` defaults to the span of the fitting windows; components are drawn (on the
        baseline) where they reach 0.1 % of the signal range. With ``residuals`` an axes for the
        residuals (fitted points only) is added below, available as ``ax.residual_ax``.
        ``kwargs`` go to the line of the fit.
        """
        import matplotlib.pyplot as plt

        if ax is not None:
            _check_axes(ax)
        if xlim is not None:
            lim = check_array("xlim", xlim, ndim=1)
            if lim.shape != (2,) or not lim[0] < lim[1]:
                raise ValueError(f"xlim must be a pair (t_min, t_max) with t_min < t_max, "
                                 f"got {xlim!r}")
            xlim = (float(lim[0]), float(lim[1]))
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a string or None, got {type(title).__name__}")
        rax = None
        if ax is None:
            if residuals:
                _, (ax, rax) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True,
                                            gridspec_kw={"height_ratios": [3, 1]})
            else:
                _, ax = plt.subplots(figsize=(9, 3.5))
        elif residuals:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            rax = make_axes_locatable(ax).append_axes("bottom", size="30%", pad=0.08,
                                                       sharex=ax)
        if xlim is None:
            xlim = (float(self.windows[:, 0].min()), float(self.windows[:, 1].max()))
        m = (self.t >= xlim[0]) & (self.t <= xlim[1])
        tt = self.t[m]
        ax.plot(tt, self.signal[m], ".", ms=2, color="0.5", label="data")
        if components and tt.size:
            span = float(np.ptp(self.signal[m])) or 1.0
            shown = [i for i in range(self.n_peaks)
                     if np.max(np.abs(self.components[i, m])) > 1e-3 * span]
            for i in shown:
                ax.plot(tt, self.components[i, m] + self.baseline_signal[m], lw=0.8, alpha=0.8,
                        label=self.names[i] if len(shown) <= 8 else None)
        ax.plot(tt, self.model_signal[m], **{"color": "k", "lw": 1.0, "label": "fit", **kwargs})
        ax.set_xlim(*xlim)
        ax.set_ylabel("signal")
        ax.legend(fontsize="x-small", ncol=2, loc="upper right")
        if title is None:
            title = f"fit ({self.method}), R² = {self.r2_total:.4f}"
        ax.set_title(title, fontsize="small")
        if rax is not None:
            fm = self.fitted_mask()[m]
            res = np.where(fm, self.signal[m] - self.model_signal[m], np.nan)
            rax.plot(tt, res, lw=0.7, color="C3")
            rax.axhline(0.0, color="k", lw=0.5)
            rax.set_ylabel("residual")
            rax.set_xlabel("time (s)")
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel("time (s)")
        ax.residual_ax = rax
        return ax

    def to_xarray(self):
        """An xarray Dataset: the per-peak estimates over ``peak``, the data, fit, baseline and
        components over ``t`` (s), the covariance over (``parameter``, ``parameter_2``) labelled
        ``"<peak>:<k_a|k_d|amplitude>"`` and the windows over (``group``, ``bound``); scalar
        diagnostics as attributes (xarray imported lazily)."""
        from ._surface import plain_attrs, xarray

        xr = xarray()
        s = {"units": "signal"}
        labels = [f"{n}:{q}" for n in self.names for q in ("k_a", "k_d", "amplitude")]
        data = {
            "k_a": ("peak", self.k_a, {"units": "1/s"}),
            "k_a_stderr": ("peak", self.k_a_stderr, {"units": "1/s"}),
            "k_d": ("peak", self.k_d, {"units": "1/s"}),
            "k_d_stderr": ("peak", self.k_d_stderr, {"units": "1/s"}),
            "amplitude": ("peak", self.amplitude, s),
            "amplitude_stderr": ("peak", self.amplitude_stderr, s),
            "retention_time": ("peak", self.retention_time, {"units": "s"}),
            "retention_time_stderr": ("peak", self.retention_time_stderr, {"units": "s"}),
            "peak_std": ("peak", self.peak_std, {"units": "s"}),
            "peak_std_stderr": ("peak", self.peak_std_stderr, {"units": "s"}),
            "area": ("peak", self.area, {"units": "signal s"}),
            "r2": ("peak", self.r2, {"units": "1"}),
            "peak_success": ("peak", self.peak_success),
            "signal": ("t", self.signal, s),
            "model_signal": ("t", self.model_signal, s),
            "baseline_signal": ("t", self.baseline_signal, s),
            "components": (("peak", "t"), self.components, s),
            "covariance": (("parameter", "parameter_2"), self.covariance),
            "windows": (("group", "bound"), self.windows, {"units": "s"}),
        }
        return xr.Dataset(
            data, coords={"peak": list(self.names), "t": ("t", self.t, {"units": "s"}),
                          "parameter": labels, "parameter_2": labels,
                          "bound": ["start", "end"]},
            attrs=plain_attrs(r2_total=float(self.r2_total), success=bool(self.success),
                              message=self.message, nfev=int(self.nfev),
                              wall_time=float(self.wall_time), method=self.method,
                              baseline_kind=self.baseline_kind,
                              injection_time=float(self.injection_time),
                              compressible=bool(self.compressible), window=float(self.window)))

    def to_dataframe(self):
        """One row per peak (pandas imported lazily)."""
        import pandas as pd

        return pd.DataFrame({
            "name": list(self.names),
            "k_a": self.k_a, "k_a_stderr": self.k_a_stderr,
            "k_d": self.k_d, "k_d_stderr": self.k_d_stderr,
            "amplitude": self.amplitude, "amplitude_stderr": self.amplitude_stderr,
            "retention_time": self.retention_time,
            "retention_time_stderr": self.retention_time_stderr,
            "peak_std": self.peak_std, "peak_std_stderr": self.peak_std_stderr,
            "area": self.area, "r2": self.r2, "success": self.peak_success,
        })


# --------------------------------------------------------------------------------------------
# peak detection and moment estimates
# --------------------------------------------------------------------------------------------
def _local_baseline(t, y, lo, hi):
    """Straight line through the medians of the first and last few points of [lo, hi]."""
    i0, i1 = np.searchsorted(t, [lo, hi])
    i1 = max(i1, i0 + 2)
    seg_t, seg_y = t[i0:i1], y[i0:i1]
    k = max(3, seg_t.size // 20)
    ta, ya = seg_t[:k].mean(), np.median(seg_y[:k])
    tb, yb = seg_t[-k:].mean(), np.median(seg_y[-k:])
    if tb <= ta:
        return lambda x: np.full_like(np.asarray(x, float), ya)
    slope = (yb - ya) / (tb - ta)
    return lambda x: ya + slope * (np.asarray(x, float) - ta)


def _rough_baseline(y, width):
    """Rolling minimum of ``y`` over ``width`` samples, smoothed by a moving average."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    w = int(max(3, min(width, y.size)))
    return uniform_filter1d(minimum_filter1d(y, w, mode="nearest"), w, mode="nearest")


def _half_widths(ys, base, i):
    """Distances (in samples, fractional) from apex ``i`` to the half-height crossing on each
    side, or NaN where a valley comes first."""
    h = ys[i] - base[i]
    out = []
    for step in (-1, 1):
        j = i
        d = np.nan
        while 0 <= j + step < ys.size:
            v_next = ys[j + step] - base[j + step]
            if v_next <= 0.5 * h:
                v_here = ys[j] - base[j]
                frac = (v_here - 0.5 * h) / (v_here - v_next) if v_here > v_next else 0.0
                d = abs(j - i) + frac
                break
            if ys[j + step] > ys[j]:  # a valley before half height: overlapped side
                break
            j += step
        out.append(d)
    return out


def _typical_width(t, signal, n_peaks: int, smooth: float = 2.0) -> float:
    """Median standard deviation (s) of the ``n_peaks`` most prominent local maxima of the
    lightly smoothed signal (half width at half height / 1.1774, from the sides that reach
    half height before a valley): the first pass of :func:`find_peaks`."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks as _fp

    ys = gaussian_filter1d(signal, smooth)
    idx, props = _fp(ys, prominence=0.0)
    if idx.size == 0:
        raise ValueError("signal: no peak (local maximum) found")
    idx = idx[np.argsort(props["prominences"])[::-1][:n_peaks]]
    base = _rough_baseline(ys, t.size // 10)
    dt = np.gradient(t)
    sig = []
    for i in idx:
        sides = [d for d in _half_widths(ys, base, i) if np.isfinite(d)]
        if sides:
            hw = float(np.mean(sides))
            s_samples = math.sqrt(max((hw / (0.5 * _FWHM)) ** 2 - smooth**2, (0.5 * hw) ** 2))
            sig.append(max(s_samples, 1.0) * dt[i])
    return float(np.median(sig)) if sig else float(2.0 * np.median(dt))


def _inflections(c, i):
    """Distances (samples) from the maximum ``i`` of the curvature ``c = -y''`` to its zero
    crossings (the inflection points, at +-sigma for a Gaussian); NaN on a side where ``c``
    rises again (a neighbouring peak) before crossing zero."""
    out = []
    for step in (-1, 1):
        j, d = i, np.nan
        while 0 <= j + step < c.size:
            if c[j + step] <= 0.0:
                frac = c[j] / (c[j] - c[j + step]) if c[j] > c[j + step] else 0.0
                d = abs(j - i) + frac
                break
            if c[j + step] > c[j]:
                break
            j += step
        out.append(d)
    return out


def find_peaks(t, signal, n_peaks: int, *, smooth: float | None = None):
    """The ``n_peaks`` largest peaks, shoulders included: times, standard deviations, heights.

    Peaks are the maxima of the curvature ``-y''`` of the signal smoothed by a Gaussian of
    ``smooth`` samples (default: half the median standard deviation of the most prominent
    local maxima of the lightly smoothed signal), which separates overlapping peaks that share
    one maximum and ignores a drifting baseline. For a Gaussian peak of height h and standard
    deviation s the curvature vanishes at t_R +- s and peaks at h/s^2, so each candidate gets
    a width (the wider of its two inflection distances; a side that runs into a neighbour is not
    used) and a height ``-y'' s^2``; candidates are ranked by that height, and one closer to a
    larger one than their widths is dropped. Widths are corrected for the smoothing.

    ``t`` strictly increasing (at least 3 samples), ``signal`` finite with the length of
    ``t``, ``n_peaks >= 1``, ``smooth > 0`` (samples) when given.

    Returns
    -------
    t_R, sigma, height : ndarray, shape (n_peaks,), sorted by time (s, s, signal units).
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks as _fp

    t = check_increasing("t", t, min_size=3)
    y = check_array("signal", signal, ndim=1)
    if y.shape != t.shape:
        raise ValueError(f"signal must have the same length as t ({t.size}), got {y.size}")
    n_peaks = check_int("n_peaks", n_peaks, low=1)
    if smooth is not None:
        smooth = check_positive("smooth", smooth)
    dt = np.gradient(t)
    if smooth is None:
        smooth = float(np.clip(0.5 * _typical_width(t, y, n_peaks) / np.median(dt), 1.0,
                               t.size / 20.0))
    c = -gaussian_filter1d(y, smooth, order=2)
    idx, _ = _fp(c)
    cand = []
    for i in idx:
        sides = [d for d in _inflections(c, i) if np.isfinite(d)]
        if sides:
            se = max(sides)
            cand.append((float(c[i] * se * se), int(i), se))
    cand.sort(reverse=True)
    chosen: list[tuple[float, int, float]] = []
    for hs, i, se in cand:
        if all(abs(i - j) > max(se, sj) for _, j, sj in chosen):
            chosen.append((hs, i, se))
            if len(chosen) == n_peaks:
                break
    if len(chosen) < n_peaks:
        raise ValueError(f"n_peaks: asked for {n_peaks} peaks but the signal has only "
                         f"{len(chosen)}")
    chosen.sort(key=lambda v: v[1])
    t_R = np.empty(n_peaks)
    sig = np.empty(n_peaks)
    height = np.empty(n_peaks)
    for k, (hs, i, se) in enumerate(chosen):
        # sub-sample apex of the curvature (parabola through three points)
        off = 0.0
        if 0 < i < c.size - 1:
            den = c[i - 1] - 2.0 * c[i] + c[i + 1]
            if den < 0:
                off = float(np.clip(0.5 * (c[i - 1] - c[i + 1]) / den, -0.5, 0.5))
        t_R[k] = float(np.interp(i + off, np.arange(t.size), t))
        s_samples = math.sqrt(max(se * se - smooth * smooth, (0.3 * se) ** 2))
        sig[k] = s_samples * dt[i]
        height[k] = hs * se / s_samples  # the smoothing keeps the area h s
    return t_R, sig, height


# --------------------------------------------------------------------------------------------
# the model of one group
# --------------------------------------------------------------------------------------------
def _backend(method):
    """``outlet_response_<method>`` of the simulate contract (imported on use)."""
    from .simulate import METHODS
    from .simulate import _backend as simulate_backend

    check_choice("method", method, METHODS)
    return simulate_backend(method)


def _regular_grid(t):
    """The same grid as an exact arange when it is uniform to 1e-6 of a step (lets the exact
    pulse response reuse one evaluation of H for both pulse edges)."""
    n = t.size
    if n < 3:
        return t
    dt = (t[-1] - t[0]) / (n - 1)
    if np.max(np.abs(np.diff(t) - dt)) <= 1e-6 * dt:
        return t[0] + dt * np.arange(n)
    return t


@dataclass
class _Spec:
    """Everything a group fit needs (picklable: goes to worker processes)."""

    t: np.ndarray
    y: np.ndarray
    names: tuple
    column: Column
    compressible: bool
    injection_time: float
    method: str
    options: dict
    baseline: str
    x0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    area_scale: np.ndarray
    scale: float
    t_c: float
    half: float
    max_nfev: int | None
    ftol: float
    xtol: float
    gtol: float


class _GroupModel:
    def __init__(self, spec: _Spec):
        self.s = spec
        self.n = len(spec.names)
        self.tM = spec.column.holdup_time(spec.compressible)
        self.alpha = spec.column.phase_ratio
        self.dil = spec.column.u_in / spec.column.u_out(spec.compressible)
        self.backend = _backend(spec.method)
        self.tg = _regular_grid(spec.t)
        nb = {"constant": 1, "linear": 2, "none": 0}[spec.baseline]
        self.nb = nb
        cols = []
        if nb >= 1:
            cols.append(np.ones_like(spec.t))
        if nb == 2:
            cols.append((spec.t - spec.t_c) / spec.half)
        self.B = np.array(cols).reshape(nb, spec.t.size)
        self._cache_key = None
        self._cache = None
        self.nfev = 0

    def kinetics(self, tR, lsc):
        """(k_a, k_d) from (t_R, ln sigma_c)."""
        kp = (tR - 0.5 * self.s.injection_time) / self.tM - 1.0
        kd = 2.0 * kp * self.tM * math.exp(-2.0 * lsc)
        return kp * kd / self.alpha, kd

    def unit_component(self, tR, lsc, name="peak"):
        """Component of unit area on the window."""
        ka, kd = self.kinetics(tR, lsc)
        y, _ = self.backend(self.s.column, Analyte(name, ka, kd), self.tg,
                            injection_time=self.s.injection_time,
                            compressible=self.s.compressible, **self.s.options)
        return y / (self.s.injection_time * self.dil)

    def components(self, x):
        key = x.tobytes()
        if key != self._cache_key:
            g = np.empty((self.n, self.s.t.size))
            for i in range(self.n):
                g[i] = self.unit_component(x[3 * i], x[3 * i + 1], self.s.names[i])
            self._cache_key, self._cache = key, g
        return self._cache

    def model(self, x):
        g = self.components(x)
        areas = x[2:3 * self.n:3] * self.s.area_scale
        out = areas @ g
        if self.nb:
            out = out + self.s.scale * (x[3 * self.n:] @ self.B)
        return out

    def residual(self, x):
        self.nfev += 1
        return (self.model(x) - self.s.y) / self.s.scale

    def jacobian(self, x):
        g = self.components(x)
        n, sc = self.n, self.s.scale
        J = np.empty((self.s.t.size, x.size))
        for i in range(n):
            tR, lsc, an = x[3 * i:3 * i + 3]
            area = an * self.s.area_scale[i]
            sig = math.exp(lsc)
            h_t = 1e-6 * sig
            h_l = 1e-6
            # step away from the t_R bound
            J[:, 3 * i] = area * (self.unit_component(tR + h_t, lsc) - g[i]) / (h_t * sc)
            hl = -h_l if lsc + h_l > self.s.upper[3 * i + 1] else h_l
            J[:, 3 * i + 1] = area * (self.unit_component(tR, lsc + hl) - g[i]) / (hl * sc)
            J[:, 3 * i + 2] = self.s.area_scale[i] * g[i] / sc
        if self.nb:
            J[:, 3 * n:] = self.B.T
        return J


def _inside(x, lower, upper):
    """``x`` moved strictly inside finite bounds."""
    x = np.array(x, float)
    pad = 1e-10 * np.maximum(np.abs(x), 1.0)
    lo = np.isfinite(lower)
    hi = np.isfinite(upper)
    x[lo] = np.maximum(x[lo], lower[lo] + pad[lo])
    x[hi] = np.minimum(x[hi], upper[hi] - pad[hi])
    return x


def _fit_group(spec: _Spec) -> dict:
    """Least-squares fit of one group of peaks (module level: runs in worker processes)."""
    from scipy.optimize import least_squares

    t0 = _time.perf_counter()
    gm = _GroupModel(spec)
    x0 = _inside(spec.x0, spec.lower, spec.upper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            res = least_squares(gm.residual, x0, jac=gm.jacobian, bounds=(spec.lower, spec.upper),
                                method="trf", x_scale="jac", max_nfev=spec.max_nfev,
                                ftol=spec.ftol, xtol=spec.xtol, gtol=spec.gtol)
    x = res.x
    J = gm.jacobian(x)
    r = gm.residual(x)
    m, p = J.shape
    dof = max(m - p, 1)
    s2 = float(r @ r) / dof
    JTJ = J.T @ J
    try:
        cov = s2 * np.linalg.inv(JTJ)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = s2 * np.linalg.pinv(JTJ, rcond=1e-12, hermitian=True)
    active = np.flatnonzero(res.active_mask) if res.active_mask is not None else np.zeros(0, int)
    return {"x": x, "cov": cov, "status": int(res.status), "message": str(res.message),
            "success": bool(res.status > 0), "nfev": int(res.nfev),
            "njev": int(res.njev or 0), "cost": float(res.cost), "active": list(active),
            "model": gm.model(x), "wall_time": _time.perf_counter() - t0}


# --------------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------------
def _check_inputs(t, signal, column):
    _check_column(column)
    t = check_increasing("t", t, min_size=3)
    signal = check_array("signal", signal, ndim=1)
    if signal.shape != t.shape:
        raise ValueError(f"signal must have the same length as t ({t.size}), "
                         f"got {signal.size}")
    return t, signal


def _parse_window(window):
    if window is None:
        return _DEFAULT_WINDOW
    if isinstance(window, str):
        if window != "full":
            raise ValueError(f"window must be None, a positive number or 'full', got {window!r}")
        return "full"
    return check_positive("window", window)


def _initial_peaks(t, signal, column, peaks, injection_time, compressible):
    """Names, initial t_R, sigma and area of each peak, sorted by t_R."""
    from scipy.ndimage import gaussian_filter1d

    from .model import moments

    if isinstance(peaks, Integral) and not isinstance(peaks, bool):
        n = check_int("peaks", peaks, low=1)
        tR, sig, height = find_peaks(t, signal, n)
        names = tuple(f"peak{i + 1}" for i in range(n))
    else:
        try:
            peaks = list(peaks)
        except TypeError:
            raise TypeError("peaks must be an int (number of peaks) or a sequence of Analyte, "
                            f"got {type(peaks).__name__}") from None
        if not peaks or not all(isinstance(a, Analyte) for a in peaks):
            raise TypeError("peaks must be an int (number of peaks) or a non-empty sequence "
                            "of Analyte")
        mom = [moments(column, a, injection_time=injection_time, compressible=compressible)
               for a in peaks]
        tR = np.array([m.retention_time for m in mom])
        sig = np.array([m.std for m in mom])
        ys = gaussian_filter1d(signal, 2.0)
        height = np.empty(len(peaks))
        for k, (tr, s) in enumerate(zip(tR, sig, strict=True)):
            base = _local_baseline(t, ys, tr - 6 * s, tr + 6 * s)
            mm = (t >= tr - s) & (t <= tr + s)
            hmax = ys[mm].max() if mm.any() else np.interp(tr, t, ys)
            height[k] = max(float(hmax - base(tr)), 0.0)
        names = tuple(a.name for a in peaks)
    order = np.argsort(tR, kind="stable")
    tR, sig, height = tR[order], sig[order], height[order]
    names = tuple(names[i] for i in order)
    area = height * sig * math.sqrt(2.0 * math.pi)
    return names, tR, sig, area


def _groups(lo, hi):
    """Indices of windows (sorted by start) whose intervals overlap, chained."""
    order = np.argsort(lo, kind="stable")
    groups, cur, end = [], [order[0]], hi[order[0]]
    for i in order[1:]:
        if lo[i] <= end:
            cur.append(i)
            end = max(end, hi[i])
        else:
            groups.append(sorted(cur))
            cur, end = [i], hi[i]
    groups.append(sorted(cur))
    return groups


def _make_specs(t, signal, column, names, tR, sig, area, *, injection_time, compressible,
                baseline, method, options, window, max_nfev, ftol, xtol, gtol):
    tM = column.holdup_time(compressible)
    t_first = tM + 0.5 * injection_time
    bad = np.flatnonzero(tR <= t_first * (1 + 1e-9))
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"peaks: peak {names[i]!r} at t = {tR[i]:.4g} s elutes before the gas hold-up time "
            f"plus half the injection (t_M + t_inj/2 = {t_first:.4g} s), which the model "
            "cannot produce; check the column's pressures/viscosity or crop the data")
    outside = np.flatnonzero((tR < t[0]) | (tR > t[-1]))
    if outside.size:
        i = outside[0]
        raise ValueError(f"peaks: the initial peak {names[i]!r} at t = {tR[i]:.4g} s lies "
                         f"outside the data ({t[0]:.4g}-{t[-1]:.4g} s)")
    sig_c_min = injection_time / math.sqrt(12.0)
    sig_c = np.sqrt(np.maximum(sig**2 - injection_time**2 / 12.0, (0.2 * sig) ** 2))
    if window == "full":
        groups = [list(range(len(names)))]
        wins = [(t[0], t[-1])]
    else:
        s_eff = np.sqrt(sig_c**2 + sig_c_min**2)
        lo = np.maximum(tR - window * s_eff, t[0])
        hi = np.minimum(tR + window * s_eff, t[-1])
        groups = _groups(lo, hi)
        wins = [(lo[g].min(), hi[g].max()) for g in groups]
    specs = []
    nb = {"constant": 1, "linear": 2, "none": 0}[baseline]
    for g, (wlo, whi) in zip(groups, wins, strict=True):
        m = (t >= wlo) & (t <= whi)
        tw, yw = t[m], signal[m]
        n_par = 3 * len(g) + nb
        if tw.size < n_par + 2:
            raise ValueError(
                f"t: the window {wlo:.4g}-{whi:.4g} s of peak(s) "
                f"{[names[i] for i in g]} holds only {tw.size} samples for {n_par} parameters; "
                "use a wider window or a finer time grid")
        scale = float(np.ptp(yw)) or 1.0
        t_c, half = 0.5 * (tw[0] + tw[-1]), max(0.5 * (tw[-1] - tw[0]), 1e-300)
        x0, lower, upper, ascale = [], [], [], []
        for i in g:
            a_s = max(area[i], scale * sig[i] * 1e-3)
            x0 += [tR[i], math.log(sig_c[i]), area[i] / a_s]
            lower += [t_first + 1e-9 * max(tM, 1.0), math.log(1e-6 * sig_c[i]), 0.0]
            upper += [np.inf, math.log(max(whi - wlo, 10 * sig_c[i])), np.inf]
            ascale.append(a_s)
        if nb:
            base = _local_baseline(tw, yw, tw[0], tw[-1])
            b0 = float(base(t_c))
            x0.append(b0 / scale)
            lower.append(-np.inf)
            upper.append(np.inf)
            if nb == 2:
                x0.append(float(base(t_c + half) - b0) / scale)
                lower.append(-np.inf)
                upper.append(np.inf)
        specs.append(_Spec(
            t=tw, y=yw, names=tuple(names[i] for i in g), column=column,
            compressible=compressible, injection_time=injection_time, method=method,
            options=dict(options), baseline=baseline, x0=np.array(x0, float),
            lower=np.array(lower, float), upper=np.array(upper, float),
            area_scale=np.array(ascale, float), scale=scale, t_c=t_c, half=half,
            max_nfev=max_nfev, ftol=ftol, xtol=xtol, gtol=gtol))
    return groups, wins, specs


def _r2(y, yhat):
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ss_res = float(np.sum((y - yhat) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def fit(t, signal, column: Column, peaks, *, injection_time: float, compressible: bool = True,
        baseline: str = "constant", method: str = "exact", window=None, workers=None,
        progress: bool = True, max_nfev: int | None = None, ftol: float = 1e-10,
        xtol: float = 1e-10, gtol: float = 1e-10, refine: bool = True, **kw) -> FitResult:
    """Fit (k_a, k_d, amplitude) of each peak of a chromatogram, and a baseline.

    Parameters
    ----------
    t : array_like, shape (n_t,)
        Strictly increasing detector times (s), from the start of the injection.
    signal : array_like, shape (n_t,)
        Detector signal (any unit).
    column : Column
    peaks : int or sequence of Analyte
        The number of peaks to find (the ``peaks`` most prominent maxima of the smoothed signal)
        or initial guesses (their moments give the starting retention times and widths).
    injection_time : float
        Length of the rectangular injection pulse (s), held fixed.
    compressible : bool
        Compressible carrier gas (True) or constant velocity.
    baseline : {"constant", "linear", "none"}
        Baseline in each fitting window.
    method : {"exact", "laplace", "fd"}
        How the outlet response is computed (see :func:`~sciflow.chromatography.simulate`).
    window : None, float or "full"
        Half-width of each peak's fitting window in units of its standard deviation (default
        6); peaks whose windows overlap are fitted together. ``"full"``: one joint fit of all
        peaks over the whole trace with one baseline.
    workers : None, int, map-like or dask Client
        Engine for fitting the groups (see :func:`sciflow.parallel.map_tasks`).
    progress : bool
        tqdm bar over the groups.
    max_nfev : int, optional
        Most residual evaluations per group (default: scipy's, 100 x parameters).
    ftol, xtol, gtol : float
        Tolerances of :func:`scipy.optimize.least_squares`.
    refine : bool
        Refit once, on windows recentred on the fitted peaks, when the first fit moved a peak
        by more than half its width or changed a width by more than 30 %.
    **kw
        Options of the simulation method (e.g. ``algorithm="marcum"`` for ``exact``).

    Returns
    -------
    FitResult
        ``success`` is False (and a :class:`FitWarning` names the peaks) when a group did not
        converge; the best estimate is returned all the same.
    """
    wall0 = _time.perf_counter()
    t, signal = _check_inputs(t, signal, column)
    progress = check_progress(progress)
    injection_time = check_positive("injection_time", injection_time)
    compressible = _check_compressible(compressible)
    ftol, xtol, gtol = (check_nonnegative(name, v)
                        for name, v in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)))
    check_choice("baseline", baseline, _BASELINES)
    from .simulate import METHODS

    check_choice("method", method, METHODS)
    window = _parse_window(window)
    if max_nfev is not None:
        max_nfev = check_int("max_nfev", max_nfev, low=1)
    if method == "exact" and column.dispersion > 0:
        raise ValueError("method='exact' needs column.dispersion == 0; use 'laplace' or 'fd'")
    names, tR, sig, area = _initial_peaks(t, signal, column, peaks, injection_time, compressible)
    opts = dict(injection_time=injection_time, compressible=compressible, baseline=baseline,
                method=method, options=kw, window=window, max_nfev=max_nfev, ftol=ftol,
                xtol=xtol, gtol=gtol)
    groups, wins, specs = _make_specs(t, signal, column, names, tR, sig, area, **opts)
    outs = map_tasks(_fit_group, specs, workers=workers, progress=progress,
                     desc="fitting peaks")
    n_rounds = 1
    if refine and window != "full":
        tR1, sig1, area1 = _collect_moments(groups, specs, outs, len(names))
        moved = np.abs(tR1 - tR) > 0.5 * sig
        widened = np.abs(sig1 / sig - 1.0) > 0.3
        if np.any(moved | widened):
            groups, wins, specs = _make_specs(t, signal, column, names, tR1, sig1, area1, **opts)
            outs = map_tasks(_fit_group, specs, workers=workers, progress=progress,
                             desc="refitting peaks")
            n_rounds = 2
    return _assemble(t, signal, column, names, groups, wins, specs, outs, opts, wall0,
                     n_rounds)


def _collect_moments(groups, specs, outs, n):
    tR, sig, area = np.empty(n), np.empty(n), np.empty(n)
    for g, spec, out in zip(groups, specs, outs, strict=True):
        x = out["x"]
        for j, i in enumerate(g):
            tR[i] = x[3 * j]
            sig[i] = math.sqrt(math.exp(2 * x[3 * j + 1]) + spec.injection_time**2 / 12.0)
            area[i] = x[3 * j + 2] * spec.area_scale[j]
    return tR, sig, area


def _assemble(t, signal, column, names, groups, wins, specs, outs, opts, wall0, n_rounds):
    n = len(names)
    tinj = opts["injection_time"]
    comp = opts["compressible"]
    tM = column.holdup_time(comp)
    alpha = column.phase_ratio
    dil = column.u_in / column.u_out(comp)
    k_a, k_d, amp = np.empty(n), np.empty(n), np.empty(n)
    tR, sd, area = np.empty(n), np.empty(n), np.empty(n)
    se = {k: np.full(n, np.nan) for k in ("k_a", "k_d", "amp", "tR", "sd")}
    cov_all = np.zeros((3 * n, 3 * n))
    peak_ok = np.zeros(n, dtype=bool)
    baselines, messages, nfev = [], [], 0
    failed = []
    for g, spec, out in zip(groups, specs, outs, strict=True):
        x, cov = out["x"], out["cov"]
        G = np.zeros((3 * len(g), x.size))  # d(k_a, k_d, a)/d(params)
        for j, i in enumerate(g):
            tr, lsc, an = x[3 * j:3 * j + 3]
            sc2 = math.exp(2 * lsc)
            kp = (tr - 0.5 * tinj) / tM - 1.0
            kd = 2.0 * kp * tM / sc2
            ka = kp * kd / alpha
            a_s = spec.area_scale[j]
            k_a[i], k_d[i] = ka, kd
            area[i] = an * a_s
            amp[i] = area[i] / (tinj * dil)
            tR[i] = tr
            sd[i] = math.sqrt(sc2 + tinj**2 / 12.0)
            dkd_dt = 2.0 / sc2
            G[3 * j, 3 * j] = (kd / tM + kp * dkd_dt) / alpha
            G[3 * j, 3 * j + 1] = -2.0 * ka
            G[3 * j + 1, 3 * j] = dkd_dt
            G[3 * j + 1, 3 * j + 1] = -2.0 * kd
            G[3 * j + 2, 3 * j + 2] = a_s / (tinj * dil)
            v = np.diag(cov)
            se["tR"][i] = math.sqrt(max(v[3 * j], 0.0))
            # sigma = sqrt(sc2 + tinj^2/12): d sigma / d ln sigma_c = sc2 / sigma
            se["sd"][i] = math.sqrt(max(v[3 * j + 1], 0.0)) * sc2 / sd[i]
            peak_ok[i] = out["success"]
        C = G @ cov @ G.T
        idx = np.concatenate([np.arange(3 * i, 3 * i + 3) for i in g])
        cov_all[np.ix_(idx, idx)] = C
        for j, i in enumerate(g):
            d = np.diag(C)[3 * j:3 * j + 3]
            se["k_a"][i], se["k_d"][i], se["amp"][i] = np.sqrt(np.maximum(d, 0.0))
        nb = {"constant": 1, "linear": 2, "none": 0}[spec.baseline]
        baselines.append(x[3 * len(g):] * spec.scale if nb else np.zeros(0))
        nfev += out["nfev"]
        if not out["success"]:
            failed.append((spec.names, out["message"]))
        messages.append(out["message"])
        active = [k for k in out["active"] if k < 3 * len(g) and k % 3 != 2]
        if active:
            which = sorted({spec.names[k // 3] for k in active})
            warnings.warn(f"fit: peak(s) {which} ended on a parameter bound (k' -> 0 or "
                          "sigma at its limit); the estimate is unreliable",
                          FitWarning, stacklevel=3)
    # components and baseline on the full grid
    backend = _backend(opts["method"])
    tg = _regular_grid(t)
    components = np.empty((n, t.size))
    for i in range(n):
        y, _ = backend(column, Analyte(names[i], k_a[i], k_d[i]), tg, injection_time=tinj,
                       compressible=comp, **opts["options"])
        components[i] = amp[i] * y
    base_sig = _baseline_signal(t, wins, specs, baselines)
    model_signal = components.sum(axis=0) + base_sig
    # R^2 per peak on its window and overall on the fitted points
    w = opts["window"] if opts["window"] != "full" else _DEFAULT_WINDOW
    r2 = np.empty(n)
    for i in range(n):
        m = (t >= tR[i] - w * sd[i]) & (t <= tR[i] + w * sd[i])
        r2[i] = _r2(signal[m], model_signal[m]) if m.sum() > 2 else np.nan
    fm = np.zeros(t.size, dtype=bool)
    for lo, hi in wins:
        fm |= (t >= lo) & (t <= hi)
    r2_total = _r2(signal[fm], model_signal[fm])
    if failed:
        bad = [name for nm, _ in failed for name in nm]
        msgs = "; ".join(dict.fromkeys(msg for _, msg in failed))
        warnings.warn(f"fit: the fit of peak(s) {bad} did not converge ({msgs}); returning "
                      "the best estimate", FitWarning, stacklevel=3)
        message = "; ".join(f"{list(nm)}: {msg}" for nm, msg in failed)
    else:
        message = f"{len(groups)} group(s) converged"
    return FitResult(
        names=tuple(names), k_a=k_a, k_d=k_d, amplitude=amp, k_a_stderr=se["k_a"],
        k_d_stderr=se["k_d"], amplitude_stderr=se["amp"], covariance=cov_all,
        retention_time=tR, retention_time_stderr=se["tR"], peak_std=sd,
        peak_std_stderr=se["sd"], area=area, r2=r2, r2_total=r2_total,
        peak_success=peak_ok, groups=tuple(tuple(int(i) for i in g) for g in groups),
        windows=np.array(wins, float), baseline=tuple(baselines), baseline_kind=opts["baseline"],
        t=t, signal=signal, model_signal=model_signal, baseline_signal=base_sig,
        components=components, success=not failed, message=message, nfev=nfev,
        wall_time=_time.perf_counter() - wall0, column=column, injection_time=tinj,
        compressible=comp, method=opts["method"], window=float(w),
        info={"rounds": n_rounds, "group_messages": messages,
              "group_wall_times": [o["wall_time"] for o in outs],
              "njev": sum(o["njev"] for o in outs)})


def _baseline_signal(t, wins, specs, baselines):
    """Each group's polynomial inside its window, linear interpolation between windows."""
    out = np.zeros(t.size)
    if specs and specs[0].baseline == "none":
        return out
    knots_t, knots_b = [], []
    for (lo, hi), spec, b in zip(wins, specs, baselines, strict=True):
        m = (t >= lo) & (t <= hi)

        def poly(x, spec=spec, b=b):
            v = np.full_like(np.asarray(x, float), b[0])
            if b.size == 2:
                v = v + b[1] * (np.asarray(x, float) - spec.t_c) / spec.half
            return v

        out[m] = poly(t[m])
        knots_t += [lo, hi]
        knots_b += [float(poly(lo)), float(poly(hi))]
    fm = np.zeros(t.size, dtype=bool)
    for lo, hi in wins:
        fm |= (t >= lo) & (t <= hi)
    order = np.argsort(knots_t, kind="stable")
    out[~fm] = np.interp(t[~fm], np.asarray(knots_t)[order], np.asarray(knots_b)[order])
    return out


# --------------------------------------------------------------------------------------------
# many chromatograms
# --------------------------------------------------------------------------------------------
def _fit_task(task):
    t, signal, column, peaks, kwargs = task
    return fit(t, signal, column, peaks, **kwargs)


def fit_many(chromatograms, column: Column, peaks, *, workers=None, progress: bool = True,
             **kwargs) -> list[FitResult]:
    """Fit each ``(t, signal)`` of ``chromatograms`` (same column and peak specification).

    The chromatograms are mapped over ``workers`` (None: serial; an int: a process pool; a
    dask ``Client``: its cluster) by :func:`sciflow.parallel.map_tasks`; each fit runs serially
    in its worker. ``kwargs`` go to :func:`fit` (``injection_time`` is required).
    """
    _check_column(column)
    progress = check_progress(progress)
    if isinstance(chromatograms, str | bytes):
        raise TypeError("chromatograms must be a sequence of (t, signal) pairs, got "
                        f"{type(chromatograms).__name__}")
    try:
        items = list(chromatograms)
    except TypeError:
        raise TypeError("chromatograms must be a sequence of (t, signal) pairs, got "
                        f"{type(chromatograms).__name__}") from None
    tasks = []
    for k, item in enumerate(items):
        try:
            t, signal = item
        except (TypeError, ValueError):
            raise TypeError(f"chromatograms[{k}] must be a (t, signal) pair") from None
        try:
            t, signal = _check_inputs(t, signal, column)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"chromatograms[{k}]: {exc}") from None
        tasks.append((t, signal, column, peaks, {**kwargs, "workers": None, "progress": False}))
    return map_tasks(_fit_task, tasks, workers=workers, progress=progress,
                     desc="fitting chromatograms")
