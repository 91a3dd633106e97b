"""Conservation laws of the simulated chromatogram over random valid parameters (hypothesis).

For any column, analyte and rectangular injection the outlet flux carries out what went in,
``int u_out c dt = u_in c0 t_inj`` (the outlet concentration is diluted by the gas expansion
``u_in/u_out``), and the peak's mean and variance are the exact moments of the transfer
function, ``t_M (1 + k') + t_inj/2`` and ``2 A / k_d^2 + t_inj^2/12`` (plus the Danckwerts
dispersion term for a constant-velocity column with D > 0). These are checked for
``method="exact"`` and ``method="laplace"`` on a grid of 16 points per standard deviation of
the (smooth) Thomas kernel, where the trapezoidal rule is accurate to rounding.

A >= 30 keeps the non-adsorbed atom ``exp(-A) <= 1e-13`` (a rectangle with sharp edges that the
trapezoidal rule would integrate to O(dt) only); small A is covered in ``test_exact.py``.

Tolerances: 5-8x the measured maxima of the relative errors over 1000 hypothesis examples per
test (the values are in the comments at ``TOL``).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sciflow.chromatography import Analyte, Column, moments, simulate

PTS_PER_SIGMA = 16
# (mass, mean, variance) tolerances on |relative errors|: 5-8x the largest measured over 1000
# hypothesis examples per test (in the comments)
TOL = {
    # measured 3.8e-13, 2.8e-14, 7.8e-13 (rounding of the sums over ~500 points, and the
    # 1e-12 t_inj tolerance of the pulse edge when pulse_response reuses H on a uniform grid)
    "exact": (2e-12, 2e-13, 5e-12),
    # measured 2.5e-13, 1.5e-13, 6.2e-12
    "laplace": (2e-12, 1e-12, 5e-11),
    # dispersion, constant velocity, laplace at its default tol = 1e-8 (peak-scaled error of
    # the inversion, which the variance picks up ~7x): measured 6.2e-10, 1.3e-9, 6.6e-8
    "laplace+D": (5e-9, 1e-8, 5e-7),
}


def make_case(length, u_in, p_ratio, film, log_A, log_kd, log_tinj, log_c0, compressible):
    """Column, analyte, injection time and c0 from the drawn numbers (A and k_d drawn, k_a
    derived so that A = alpha k_a t_M; t_inj relative to the kernel's width)."""
    R = 90e-6
    col = Column(length=length, radius=R, film_thickness=film * R, temperature=350.0,
                 inlet_pressure=4e5, outlet_pressure=4e5 * p_ratio, viscosity=2.3e-5,
                 inlet_velocity=u_in)
    A, kd = 10.0**log_A, 10.0**log_kd
    ka = A / (col.phase_ratio * col.holdup_time(compressible))
    sig_c = math.sqrt(2.0 * A) / kd
    return col, Analyte("x", ka, kd), sig_c * 10.0**log_tinj, 10.0**log_c0


def relative_errors(col, an, t, t_inj, c0, compressible, method):
    """|relative error| of the outlet amount, the mean and the variance."""
    y = simulate(col, an, t, injection_time=t_inj, c0=c0, method=method,
                 compressible=compressible).c
    m0 = np.trapezoid(y, t)
    mu = np.trapezoid(t * y, t) / m0
    var = np.trapezoid((t - mu) ** 2 * y, t) / m0
    ref = moments(col, an, injection_time=t_inj, compressible=compressible)
    amount = col.u_out(compressible) * m0 / (col.u_in * c0 * t_inj)
    return (abs(amount - 1.0), abs(mu / ref.retention_time - 1.0),
            abs(var / ref.variance - 1.0))


def diffusion_free_grid(col, an, t_inj, compressible):
    """Covers the pulse response: the Thomas kernel is < exp(-81) of its peak outside
    ``(sqrt(A) -+ 9)^2 / k_d`` after t_M."""
    tM = col.holdup_time(compressible)
    A, kd = an.A(col, compressible), an.k_d
    sa = math.sqrt(A)
    dt = math.sqrt(2.0 * A) / kd / PTS_PER_SIGMA
    lo = tM + max(sa - 9.0, 0.0) ** 2 / kd - dt
    hi = tM + (sa + 9.0) ** 2 / kd + t_inj + 2.0 * dt
    return np.arange(lo, hi, dt)


case = dict(
    length=st.floats(1.0, 30.0), u_in=st.floats(0.1, 1.0), p_ratio=st.floats(0.25, 1.0),
    film=st.floats(0.005, 0.05), log_A=st.floats(math.log10(30.0), 4.5),
    log_kd=st.floats(math.log10(0.5), math.log10(50.0)), log_tinj=st.floats(-1.0, math.log10(5.0)),
    log_c0=st.floats(-1.0, 1.0), compressible=st.booleans(),
)


@settings(max_examples=30, deadline=None)
@given(**case)
def test_exact_conserves_mass_and_moments(**kw):
    col, an, t_inj, c0 = make_case(**kw)
    t = diffusion_free_grid(col, an, t_inj, kw["compressible"])
    errs = relative_errors(col, an, t, t_inj, c0, kw["compressible"], "exact")
    assert all(e <= tol for e, tol in zip(errs, TOL["exact"], strict=True)), errs


@settings(max_examples=25, deadline=None)
@given(**case)
def test_laplace_conserves_mass_and_moments(**kw):
    col, an, t_inj, c0 = make_case(**kw)
    t = diffusion_free_grid(col, an, t_inj, kw["compressible"])
    errs = relative_errors(col, an, t, t_inj, c0, kw["compressible"], "laplace")
    assert all(e <= tol for e, tol in zip(errs, TOL["laplace"], strict=True)), errs


@settings(max_examples=20, deadline=None)
@given(log_pe=st.floats(math.log10(30.0), 4.0), **{k: v for k, v in case.items()
                                                    if k != "compressible"})
def test_laplace_with_dispersion_conserves_mass_and_moments(log_pe, **kw):
    """Constant velocity with axial dispersion (Peclet number 30 to 1e4): the Danckwerts
    closed-closed column, whose exact variance :func:`moments` gives."""
    col, an, t_inj, c0 = make_case(compressible=False, **kw)
    col = col.replace(dispersion=col.u_in * col.length / 10.0**log_pe)
    ref = moments(col, an, injection_time=t_inj, compressible=False)
    smooth = math.sqrt(ref.variance - t_inj**2 / 12.0)  # width of the smoothing kernels
    t = np.arange(max(ref.retention_time - 20.0 * ref.std, 0.0),
                  ref.retention_time + 30.0 * ref.std, smooth / PTS_PER_SIGMA)
    errs = relative_errors(col, an, t, t_inj, c0, False, "laplace")
    assert all(e <= tol for e, tol in zip(errs, TOL["laplace+D"], strict=True)), errs
