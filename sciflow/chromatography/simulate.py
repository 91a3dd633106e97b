"""``simulate``: outlet chromatogram of a column by the exact, Laplace or finite-volume method.

Every method implements one contract, ``outlet_response(column, analyte, t, *, injection_time,
compressible, **options) -> (y, info)`` with ``y`` the outlet concentration for a unit inlet
concentration (so the detector signal of an analyte is ``c0 * y``) and ``info`` a dict of
diagnostics; ``laplace`` and ``fd`` also take ``injection=`` (an inlet profile ``c_in(t)``,
see :mod:`sciflow.chromatography.injection`) in place of ``injection_time``. Analytes do not
compete (CC24 §3), so each is solved on its own and the detector sees the sum; competitive
(Langmuir) exchange is in :mod:`sciflow.chromatography.overload`.
"""

from __future__ import annotations

import time as _time

import numpy as np

from .._validate import check_array, check_choice, check_increasing, check_positive
from . import exact as _exact
from .model import (
    Analyte,
    Chromatogram,
    Column,
    _check_analyte,
    _check_column,
    _check_compressible,
)

__all__ = ["simulate", "outlet_response_exact", "METHODS"]


def _check_times(t):
    """Detector times: a non-empty, finite, strictly increasing 1-D array (s)."""
    return check_increasing("t", t, min_size=1)


def outlet_response_exact(column: Column, analyte: Analyte, t, *, injection_time: float,
                          compressible: bool = True, algorithm: str = "quadrature"):
    """Diffusion-free outlet concentration per unit inlet concentration (closed form).

    ``y(t) = (u_in/u_out) [H(t - t_M) - H(t - t_M - t_inj)]`` with H the Thomas step response
    (see :mod:`sciflow.chromatography.exact`). ``t``: strictly increasing times (s).
    """
    _check_column(column)
    _check_analyte(analyte)
    compressible = _check_compressible(compressible)
    t = _check_times(t)
    injection_time = check_positive("injection_time", injection_time)
    if column.dispersion > 0:
        raise ValueError(
            f"method='exact' solves the diffusion-free model but column.dispersion = "
            f"{column.dispersion} m^2/s; use method='laplace' or method='fd'"
        )
    tM = column.holdup_time(compressible)
    A = analyte.A(column, compressible)
    y, info = _exact.pulse_response(t, tM, A, analyte.k_d, injection_time,
                                    algorithm=algorithm, return_info=True)
    dilution = column.u_in / column.u_out(compressible)
    return y * dilution, info


def _backend(method):
    if method == "exact":
        return outlet_response_exact
    if method == "laplace":
        from .laplace import outlet_response_laplace

        return outlet_response_laplace
    if method == "fd":
        from .fd import outlet_response_fd

        return outlet_response_fd
    raise AssertionError(method)


METHODS = ("exact", "laplace", "fd")


def simulate(column: Column, analytes, t, *, injection_time: float | None = None, c0=1.0,
             method: str = "exact", compressible: bool = True, injection=None,
             **options) -> Chromatogram:
    """Outlet chromatogram of ``analytes`` on ``column`` at times ``t``.

    Parameters
    ----------
    column : Column
    analytes : Analyte or sequence of Analyte
    t : array_like, shape (n_t,)
        Strictly increasing detector times (s), measured from the start of the injection.
    injection_time : float
        Length t_inj (s) of the rectangular injection pulse. Give this or ``injection``.
    c0 : float or array_like, shape (n_analytes,)
        Inlet concentration during the pulse (>= 0), per analyte or shared (any unit; the
        output has the same unit); with ``injection`` the inlet is ``c0 c_in(t)``.
    method : {"exact", "laplace", "fd"}
        ``exact``: closed form (D = 0 only); ``laplace``: numerical inversion of the general
        transfer function (dispersion, Danckwerts boundaries, compressible flow); ``fd``: the
        full PDEs by a finite-volume scheme.
    compressible : bool
        Compressible carrier gas (velocity ``u_in p_in/p(x)``) or constant velocity ``u_in``;
        a Python or NumPy bool (anything else raises ``TypeError``).
    injection : profile, (t, values) pair or callable, optional
        Inlet profile ``c_in(t)`` (dimensionless): ``RectangularPulse``, ``GaussianPulse``,
        ``ExponentiallyModifiedGaussian``, ``SampledInjection`` (or a ``(t, values)`` pair), or a
        callable (see :mod:`sciflow.chromatography.injection`). ``method="exact"`` takes a
        ``RectangularPulse`` only; ``laplace`` and ``fd`` take any.
    **options
        Passed to the method (e.g. ``tol`` for laplace, ``n_cells`` for fd).

    Returns
    -------
    Chromatogram
        ``c`` the summed outlet concentration, ``components`` one row per analyte.
    """
    _check_column(column)
    if isinstance(analytes, Analyte):
        analytes = [analytes]
    try:
        analytes = list(analytes)
    except TypeError:
        raise TypeError("analytes must be an Analyte or a non-empty sequence of Analyte, got "
                        f"{type(analytes).__name__}") from None
    if not analytes or not all(isinstance(a, Analyte) for a in analytes):
        raise TypeError("analytes must be an Analyte or a non-empty sequence of Analyte")
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, one of {list(METHODS)}, got "
                        f"{type(method).__name__}")
    check_choice("method", method, METHODS)
    compressible = _check_compressible(compressible)
    t = _check_times(t)
    from .injection import RectangularPulse, _resolve

    profile = _resolve(injection_time, injection, t_end=float(t[-1]))
    scale = 1.0
    if injection is None:
        inj = {"injection_time": profile.width}
    elif method == "exact":
        if not isinstance(profile, RectangularPulse):
            raise ValueError(f"injection: method='exact' takes a RectangularPulse only, got "
                             f"{type(profile).__name__.lstrip('_')}; use method='laplace' or "
                             "method='fd'")
        inj, scale = {"injection_time": profile.width}, profile.height
    else:
        inj = {"injection": profile}
    c0 = check_array("c0", c0)
    if c0.ndim == 0:
        c0 = np.full(len(analytes), float(c0))
    elif c0.shape != (len(analytes),):
        raise ValueError(f"c0 must be a scalar or have shape ({len(analytes)},), got {c0.shape}")
    if np.any(c0 < 0):
        raise ValueError(f"c0 must be >= 0 (an inlet concentration), got {c0.min()}")
    backend = _backend(method)
    comps = np.empty((len(analytes), t.size))
    infos = []
    t_start = _time.perf_counter()
    for i, a in enumerate(analytes):
        y, info = backend(column, a, t, compressible=compressible, **inj, **options)
        comps[i] = c0[i] * y if scale == 1.0 else (c0[i] * scale) * y
        infos.append(info)
    wall = _time.perf_counter() - t_start
    return Chromatogram(t=t, c=comps.sum(axis=0), components=comps,
                        names=tuple(a.name for a in analytes), method=method,
                        info={"per_analyte": infos, "wall_time": wall,
                              "compressible": compressible})
