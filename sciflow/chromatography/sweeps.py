"""Task functions for ``sciflow sweep`` (:mod:`sciflow.sweep`): plain keyword parameters in,
a dict of named scalars and fixed-shape arrays out; module-level, so they pickle by reference to
process pools and Dask workers.

``fit_synthetic`` simulates a chromatogram with the exact (Thomas) model, adds seeded Gaussian
noise and fits it with :func:`~sciflow.chromatography.fit`, so a sweep over ``rng`` (integer
seeds) is a Monte Carlo check of the fit: the true (k_a, k_d) are returned beside the fitted ones.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .._validate import as_rng, check_array, check_nonnegative, check_positive
from .fit import fit
from .model import Analyte, Column
from .simulate import simulate

__all__ = ["fit_synthetic"]


def _check_sequence(name: str, value, n: int | None = None) -> np.ndarray:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of floats (one per peak), got "
                        f"{type(value).__name__} {value!r}")
    arr = check_array(name, value, ndim=1, min_size=1)
    if n is not None and arr.size != n:
        raise ValueError(f"{name} must have one value per peak ({n}), got {arr.size}")
    return arr


def fit_synthetic(*, rng: int | np.random.Generator | None = 0, noise: float = 0.01,
                  retention_time: Sequence[float] = (100.0, 108.0),
                  peak_std: Sequence[float] = (2.5, 2.8), amplitude: float = 1000.0,
                  baseline: float = 5.0, injection_time: float = 1.0, dt: float = 0.2,
                  t_end: float | None = None, length: float = 20.0, radius: float = 90e-6,
                  film_thickness: float = 1e-6, temperature: float = 353.15,
                  inlet_pressure: float = 4.01e5, outlet_pressure: float = 1.013e5,
                  viscosity: float = 2.3e-5, inlet_velocity: float = 0.41) -> dict:
    """Simulate a noisy chromatogram with known peaks, fit it, return fitted and true values.

    The peaks are given by their moments: ``retention_time`` t_R (s, first moment) and
    ``peak_std`` sigma (s) per peak, with sigma^2 > t_inj^2/12; (k_a, k_d) follow from the moment
    relations of :mod:`~sciflow.chromatography.fit`. The signal is
    ``baseline + amplitude * sum_i y_i(t)`` on ``t = 0, dt, ..., t_end`` (default: the last
    peak's t_R + 10 sigma) plus white noise of standard deviation ``noise`` times the highest
    point of the noise-free signal above the baseline, from ``rng`` (a
    ``numpy.random.Generator`` or an integer seed; a sweep grids over integer seeds);
    the fit searches as many peaks as given, with a constant baseline. The column is
    :class:`~sciflow.chromatography.Column` from the keyword arguments (SI units: m, K, Pa,
    Pa s, m/s), compressible flow.

    Returns
    -------
    dict
        ``k_a``, ``k_d`` (1/s), ``amplitude``, their standard errors ``k_a_stderr``,
        ``k_d_stderr``, ``amplitude_stderr``, ``retention_time`` (s), ``peak_std`` (s), ``r2``
        — each shape (n_peaks,) — and ``k_a_true``, ``k_d_true`` (n_peaks,), ``r2_total``,
        ``success`` (bool), ``nfev`` (int).
    """
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng < 0:
        raise ValueError(f"rng must be a Generator or an integer seed >= 0, got {rng}")
    gen = as_rng(rng)
    noise = check_nonnegative("noise", noise)
    t_r = _check_sequence("retention_time", retention_time)
    sd = _check_sequence("peak_std", peak_std, t_r.size)
    amplitude = check_positive("amplitude", amplitude)
    baseline = float(check_array("baseline", baseline, ndim=0))
    injection_time = check_positive("injection_time", injection_time)
    dt = check_positive("dt", dt)
    column = Column(length=length, radius=radius, film_thickness=film_thickness,
                    temperature=temperature, inlet_pressure=inlet_pressure,
                    outlet_pressure=outlet_pressure, viscosity=viscosity,
                    inlet_velocity=inlet_velocity)
    t_m = column.holdup_time(True)
    k_prime = (t_r - injection_time / 2.0) / t_m - 1.0
    if np.any(k_prime <= 0):
        raise ValueError(f"retention_time must exceed the hold-up time + injection_time/2 = "
                         f"{t_m + injection_time / 2:.6g} s, got {t_r.tolist()}")
    var_c = sd**2 - injection_time**2 / 12.0
    if np.any(var_c <= 0):
        raise ValueError(f"peak_std must exceed injection_time/sqrt(12) = "
                         f"{injection_time / 12**0.5:.6g} s, got {sd.tolist()}")
    k_d = 2.0 * k_prime * t_m / var_c
    k_a = k_prime * k_d / column.phase_ratio
    if t_end is None:
        t_end = float(np.max(t_r + 10.0 * sd))
    t_end = check_positive("t_end", t_end)
    if t_end <= float(np.max(t_r)):
        raise ValueError(f"t_end must exceed the last retention time {np.max(t_r)} s, "
                         f"got {t_end}")
    t = np.arange(0.0, t_end, dt)
    analytes = [Analyte(f"peak{i + 1}", float(a), float(d))
                for i, (a, d) in enumerate(zip(k_a, k_d, strict=True))]
    clean = simulate(column, analytes, t, injection_time=injection_time, c0=amplitude).c
    signal = baseline + clean + noise * clean.max() * gen.standard_normal(t.size)
    r = fit(t, signal, column, len(analytes), injection_time=injection_time, progress=False)
    return {"k_a": r.k_a, "k_d": r.k_d, "amplitude": r.amplitude, "k_a_stderr": r.k_a_stderr,
            "k_d_stderr": r.k_d_stderr, "amplitude_stderr": r.amplitude_stderr,
            "retention_time": r.retention_time, "peak_std": r.peak_std, "r2": r.r2,
            "k_a_true": k_a, "k_d_true": k_d, "r2_total": float(r.r2_total),
            "success": bool(r.success), "nfev": int(r.nfev)}
