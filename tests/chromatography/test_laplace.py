"""Laplace-domain solution: transfer function against closed forms and an independent
Chebyshev collocation of the boundary-value problem, inversion against the Thomas solution,
moments, mass balance, limits, and the failure path."""

import warnings

import numpy as np
import pytest

from sciflow import ConvergenceError
from sciflow.chromatography import Analyte, moments, simulate
from sciflow.chromatography import laplace as lp
from sciflow.chromatography.simulate import outlet_response_exact

T_INJ = 4.0


def peak_error(y, ref):
    return float(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))


def analyte_with_A(column, A, kd, compressible=True, name="x"):
    """An analyte with a given number of transfer units A on ``column``."""
    ka = A / (column.phase_ratio * column.holdup_time(compressible))
    return Analyte(name, ka, kd)


def chromatogram_moments(t, y):
    """Area, mean and variance of a sampled peak (trapezoid rule; y ~ 0 at both ends)."""
    m0 = np.trapezoid(y, t)
    m1 = np.trapezoid(t * y, t) / m0
    var = np.trapezoid((t - m1) ** 2 * y, t) / m0
    return m0, m1, var


# --------------------------------------------------------------------------------------------
# independent references (written from the equations, not from laplace.py)
# --------------------------------------------------------------------------------------------
def danckwerts_textbook(z, t_M, Pe):
    """Danckwerts (1953) closed-closed transfer function in its textbook form (moderate Pe)."""
    q = np.sqrt(1.0 + 4.0 * z * t_M / Pe)
    num = 4.0 * q * np.exp(Pe / 2.0)
    den = (1.0 + q) ** 2 * np.exp(q * Pe / 2.0) - (1.0 - q) ** 2 * np.exp(-q * Pe / 2.0)
    return num / den


def cheb(n):
    """Chebyshev points cos(pi j/n) and differentiation matrix (Trefethen, Spectral Methods)."""
    x = np.cos(np.pi * np.arange(n + 1) / n)
    c = np.hstack([2.0, np.ones(n - 1), 2.0]) * (-1.0) ** np.arange(n + 1)
    X = np.tile(x, (n + 1, 1)).T
    dX = X - X.T
    Dm = np.outer(c, 1.0 / c) / (dX + np.eye(n + 1))
    return Dm - np.diag(Dm.sum(axis=1)), x


def transfer_chebyshev(column, analyte, s, n=200):
    """G(s) of the compressible dispersive column by Chebyshev collocation of
    D C'' - u C' - (u' + f) C = 0, u C - D C' = u at x = 0, C' = 0 at x = L."""
    Dm, xi = cheb(n)
    L = column.length
    x = L * (1.0 - xi) / 2.0  # first row: inlet
    D1 = -2.0 / L * Dm
    D2 = D1 @ D1
    u = column.velocity(x, True)
    ur = column.pressure(x) / column.inlet_pressure
    up = column.u_in * (1.0 - column.pressure_ratio**2) / (2.0 * L * ur**3)
    D = column.dispersion
    out = []
    for sv in np.atleast_1d(s):
        f = sv + column.phase_ratio * analyte.k_a * sv / (sv + analyte.k_d)
        M = (D * D2 - u[:, None] * D1 - np.diag(up + f)).astype(complex)
        rhs = np.zeros(n + 1, complex)
        M[0, :] = -D * D1[0, :]
        M[0, 0] += u[0]
        rhs[0] = u[0]
        M[-1, :] = D1[-1, :]
        out.append(np.linalg.solve(M, rhs)[-1])
    return np.array(out)


# --------------------------------------------------------------------------------------------
# transfer function
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible", [True, False])
def test_transfer_diffusion_free_is_the_thomas_transform(btex, compressible):
    col, analytes = btex
    s = np.array([0.0, 0.01j, 0.2 + 0.5j, 3j, -0.5 + 1j])
    for a in analytes:
        t_M = col.holdup_time(compressible)
        f = s + col.phase_ratio * a.k_a * s / (s + a.k_d)
        ref = col.u_in / col.u_out(compressible) * np.exp(-f * t_M)
        G = lp.transfer_function(col, a, s, compressible=compressible)
        np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-300)
    assert G[0].real == pytest.approx(col.u_in / col.u_out(compressible), rel=1e-15)


@pytest.mark.parametrize("Pe", [0.3, 5.0, 80.0, 600.0])
def test_danckwerts_overflow_free_form_matches_textbook(btex, Pe):
    col, analytes = btex
    a = analytes[3]
    c = col.replace(dispersion=col.u_in * col.length / Pe)
    s = np.array([0.0, 0.003j, 0.02 + 0.05j, 0.2j, 1.0 + 1.0j])
    G = lp.transfer_function(c, a, s, compressible=False)
    t_M = c.holdup_time(False)
    f = s + c.phase_ratio * a.k_a * s / (s + a.k_d)
    ref = danckwerts_textbook(f, t_M, Pe)
    keep = np.abs(ref) > 1e-200
    np.testing.assert_allclose(G[keep], ref[keep], rtol=1e-11)


def test_danckwerts_large_peclet_is_finite_and_tends_to_plug_flow(btex):
    col, analytes = btex
    a = analytes[0]
    s = np.array([0.0, 1e-3j, 0.05j, 0.5 + 2j, 50j, 1e4j])
    G0 = lp.transfer_function(col, a, s, compressible=False)
    diffs = []
    for Pe in (1e5, 1e7, 1e9):
        c = col.replace(dispersion=col.u_in * col.length / Pe)
        G = lp.transfer_function(c, a, s, compressible=False)
        assert np.all(np.isfinite(G))
        diffs.append(np.max(np.abs(G - G0)))
    assert diffs[1] < diffs[0] / 50 and diffs[2] < diffs[1] / 50


@pytest.mark.parametrize("D", [0.5, 0.05, 0.005])
def test_compressible_dispersive_matches_chebyshev_collocation(btex, D):
    col, analytes = btex
    a = analytes[4]
    c = col.replace(dispersion=D)
    s = np.array([0.0, 0.02j, 0.05 + 0.1j, 0.3j])
    ref = transfer_chebyshev(c, a, s, n={0.5: 60, 0.05: 160, 0.005: 500}[D])
    G, info = lp.transfer_function(c, a, s, tol=1e-11, return_info=True)
    assert info["converged"]
    np.testing.assert_allclose(G, ref, rtol=2e-10)
    # the error estimate is honest (the reference is good to ~1e-12 here)
    assert np.all(np.abs(np.log(G / ref)) <= 10 * info["error_estimate"] + 1e-11)


def test_compressible_mass_balance_at_s0(btex):
    col, analytes = btex
    for D in (1e-6, 1e-3, 1.0):
        G = lp.transfer_function(col.replace(dispersion=D), analytes[1], np.array([0.0]))
        assert G[0].real == pytest.approx(col.pressure_ratio, rel=1e-10)
        assert abs(G[0].imag) < 1e-12


def test_compressible_dispersive_tends_to_constant_velocity_as_P_to_1(btex):
    """p_in -> p_out: the numerical (Riccati) route meets the Danckwerts closed form, and the
    difference shrinks like 1 - P."""
    col, analytes = btex
    a = analytes[4]
    s = np.array([0.0, 0.01j, 0.05 + 0.1j, 0.3j])
    for D in (1e-5, 1e-2, 1.0):
        d = []
        for P in (0.999, 0.9999):
            c = col.replace(dispersion=D, outlet_pressure=col.inlet_pressure * P)
            Gc = lp.transfer_function(c, a, s, compressible=True, tol=1e-11)
            Gu = lp.transfer_function(c, a, s, compressible=False)
            d.append(np.max(np.abs(Gc / Gu - 1.0)))
        assert d[1] < 5e-3
        assert d[1] == pytest.approx(d[0] / 10.0, rel=0.05)


def test_compressible_dispersive_tends_to_plug_flow_as_D_to_0(btex):
    col, analytes = btex
    a = analytes[2]
    s = np.array([0.0, 0.01j, 0.1 + 0.2j, 0.5j])
    G0 = lp.transfer_function(col, a, s)
    d = [np.max(np.abs(lp.transfer_function(col.replace(dispersion=D), a, s) / G0 - 1.0))
         for D in (1e-6, 1e-8, 1e-10)]
    assert d[0] < 1e-2
    assert d[1] == pytest.approx(d[0] / 100.0, rel=0.02)
    assert d[2] == pytest.approx(d[1] / 100.0, rel=0.02)


def test_tree_product_matches_segment_by_segment_reference(btex):
    col, _ = btex
    for D in (1e-6, 1e-3, 1.0):
        geo = lp._Compressible(col.replace(dispersion=D))
        t_M = col.holdup_time(True)
        z = np.array([0.0, 10j / t_M, (10 + 500j) / t_M, (300 + 2000j) / t_M])
        fast, _ = geo.sweep(z, 1024)
        np.testing.assert_allclose(fast, geo.sweep_loop(z, 1024), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# moments
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible", [True, False])
def test_transfer_moments_match_closed_form_moments(btex, compressible):
    col, analytes = btex
    for D in (0.0, 1e-4, 0.1):
        c = col.replace(dispersion=D)
        if compressible and D > 0:
            # model.moments has no dispersion variance here, and its mean misses the
            # O(D) shift -(D/2)(1/u_in^2 - 1/u_out^2)(1 + k') (see the next test)
            continue
        for a in analytes[::2]:
            m = lp.transfer_moments(c, a, compressible, T_INJ)
            ref = moments(c, a, injection_time=T_INJ, compressible=compressible)
            assert m.retention_time == pytest.approx(ref.retention_time, rel=1e-12)
            assert m.variance == pytest.approx(ref.variance, rel=1e-9)
            if D == 0:
                assert m.skewness == pytest.approx(ref.skewness, rel=1e-9)


def test_transfer_moments_compressible_dispersion_asymptotics(btex):
    """Small D: mean t_M(1+k') - (D/2)(1/u_in^2 - 1/u_out^2)(1+k'), gas variance
    2 D int dx/u^3 = (4 L D / (5 b u_in^3)) (1 - P^5): both to O(D^2)."""
    col, analytes = btex
    a = analytes[0]
    P, b = col.pressure_ratio, 1.0 - col.pressure_ratio**2
    kp = a.retention_factor(col)
    base = moments(col, a, injection_time=T_INJ)
    for D in (1e-6, 1e-5):
        c = col.replace(dispersion=D)
        m = lp.transfer_moments(c, a, True, T_INJ)
        shift = -(D / 2.0) * (1.0 / c.u_in**2 - 1.0 / c.u_out(True) ** 2) * (1.0 + kp)
        assert m.retention_time - base.retention_time == pytest.approx(shift, rel=1e-3)
        var_g = 4.0 * col.length * D / (5.0 * b * col.u_in**3) * (1.0 - P**5)
        assert m.variance - base.variance == pytest.approx(var_g * (1.0 + kp) ** 2, rel=1e-3)


# --------------------------------------------------------------------------------------------
# inversion against the closed form
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible", [True, False])
def test_btex_laplace_matches_exact(btex, compressible):
    col, analytes = btex
    t = np.linspace(0.0, 1000.0, 20000)
    chrom_l = simulate(col, analytes, t, injection_time=T_INJ, method="laplace",
                       compressible=compressible)
    chrom_e = simulate(col, analytes, t, injection_time=T_INJ, method="exact",
                       compressible=compressible)
    for yl, ye, info in zip(chrom_l.components, chrom_e.components,
                            chrom_l.info["per_analyte"], strict=True):
        assert peak_error(yl, ye) < 1e-6
        assert info["converged"] and info["relative_error_estimate"] < 1e-8
        assert info["nfev"] < 500
    assert peak_error(chrom_l.c, chrom_e.c) < 1e-6


@pytest.mark.parametrize("A,kd", [(0.0, 5.0), (0.3, 5.0), (1.0, 14.0), (3.0, 1.0),
                                  (10.0, 50.0), (30.0, 5.0), (1e5, 14.0), (1e5, 0.5)])
def test_laplace_matches_exact_small_and_huge_A(btex, A, kd):
    col, _ = btex
    a = analyte_with_A(col, A, kd)
    mo = moments(col, a, injection_time=T_INJ)
    t = np.linspace(0.0, mo.retention_time + 12 * mo.std + 40.0, 8000)
    ye, _ = outlet_response_exact(col, a, t, injection_time=T_INJ)
    yl, info = lp.outlet_response_laplace(col, a, t, injection_time=T_INJ)
    assert peak_error(yl, ye) < 1e-8
    assert info["converged"]


def test_tolerance_controls_the_error(btex):
    col, analytes = btex
    a = analytes[4]
    t = np.linspace(0.0, 400.0, 4000)
    ye, _ = outlet_response_exact(col, a, t, injection_time=T_INJ)
    for tol in (1e-4, 1e-7, 1e-10):
        yl, info = lp.outlet_response_laplace(col, a, t, injection_time=T_INJ, tol=tol)
        assert info["relative_error_estimate"] <= tol
        assert peak_error(yl, ye) <= tol


# --------------------------------------------------------------------------------------------
# dispersion
# --------------------------------------------------------------------------------------------
def test_constant_velocity_dispersion_moments_and_plug_flow_limit(btex):
    col, analytes = btex
    a = analytes[4]  # benzene
    t = np.linspace(0.0, 600.0, 24001)
    ye, _ = outlet_response_exact(col, a, t, injection_time=T_INJ, compressible=False)
    errs = []
    for D in (1e-3, 1e-4, 1e-5):
        c = col.replace(dispersion=D)
        y, info = lp.outlet_response_laplace(c, a, t, injection_time=T_INJ, compressible=False)
        assert info["converged"]
        m0, m1, var = chromatogram_moments(t, y)
        ref = moments(c, a, injection_time=T_INJ, compressible=False)  # Danckwerts variance
        assert m0 == pytest.approx(T_INJ, rel=1e-9)
        assert m1 == pytest.approx(ref.retention_time, rel=1e-9)
        assert var == pytest.approx(ref.variance, rel=1e-7)
        errs.append(peak_error(y, ye))
    # dispersion matters at D = 1e-3 and fades linearly in D
    assert errs[0] > 1e-2
    assert errs[1] == pytest.approx(errs[0] / 10.0, rel=0.25)
    assert errs[2] == pytest.approx(errs[1] / 10.0, rel=0.1)


def test_compressible_dispersion_mass_balance_and_moments(btex):
    col, analytes = btex
    a = analytes[3]  # toluene
    t = np.linspace(0.0, 500.0, 20001)
    for D in (1e-5, 1e-3):
        c = col.replace(dispersion=D)
        y, info = lp.outlet_response_laplace(c, a, t, injection_time=T_INJ)
        assert info["converged"] and info["segments"] > 0
        m0, m1, var = chromatogram_moments(t, y)
        assert m0 * c.u_out(True) == pytest.approx(c.u_in * T_INJ, rel=1e-6)
        # first moment: t_M (1 + k') + t_inj/2 up to the O(D) compressibility shift
        kp = a.retention_factor(c)
        base = c.holdup_time(True) * (1.0 + kp) + T_INJ / 2.0
        shift = -(D / 2.0) * (1.0 / c.u_in**2 - 1.0 / c.u_out(True) ** 2) * (1.0 + kp)
        assert m1 == pytest.approx(base, rel=2e-6 if D < 1e-4 else 1e-3)
        assert m1 - base == pytest.approx(shift, rel=0.05)
        ref = lp.transfer_moments(c, a, True, T_INJ)
        assert m1 == pytest.approx(ref.retention_time, rel=1e-9)
        assert var == pytest.approx(ref.variance, rel=1e-7)


def test_compressible_dispersion_tends_to_exact(btex):
    col, analytes = btex
    a = analytes[3]
    t = np.linspace(0.0, 500.0, 5001)
    ye, _ = outlet_response_exact(col, a, t, injection_time=T_INJ)
    errs = []
    for D in (1e-5, 1e-6, 1e-7):
        y, _ = lp.outlet_response_laplace(col.replace(dispersion=D), a, t,
                                          injection_time=T_INJ)
        errs.append(peak_error(y, ye))
    assert errs[0] < 1e-2
    assert errs[1] == pytest.approx(errs[0] / 10.0, rel=0.1)
    assert errs[2] == pytest.approx(errs[1] / 10.0, rel=0.1)


# --------------------------------------------------------------------------------------------
# failure path and arguments
# --------------------------------------------------------------------------------------------
def test_impossible_tolerance_raises_with_partial_result(btex):
    col, analytes = btex
    t = np.linspace(0.0, 400.0, 2000)
    with pytest.raises(ConvergenceError) as exc:
        lp.outlet_response_laplace(col, analytes[4], t, injection_time=T_INJ, tol=1e-17)
    y, info = exc.value.result
    assert y.shape == t.shape and not info["converged"]
    assert info["relative_error_estimate"] > 1e-17
    ye, _ = outlet_response_exact(col, analytes[4], t, injection_time=T_INJ)
    assert peak_error(y, ye) < 1e-9  # the partial result is still good


def test_on_fail_warn_returns(btex):
    col, analytes = btex
    t = np.linspace(0.0, 400.0, 2000)
    with pytest.warns(lp.LaplaceAccuracyWarning, match="tol"):
        y, info = lp.outlet_response_laplace(col, analytes[4], t, injection_time=T_INJ,
                                             max_terms=8, on_fail="warn")
    assert issubclass(lp.LaplaceAccuracyWarning, RuntimeWarning)
    assert not info["converged"] and y.shape == t.shape
    with pytest.raises(ConvergenceError):
        simulate(col, analytes[4], t, injection_time=T_INJ, method="laplace", max_terms=8)


def test_default_run_does_not_warn(btex):
    col, analytes = btex
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lp.outlet_response_laplace(col, analytes[0], np.linspace(0, 900, 500),
                                   injection_time=T_INJ)


def test_argument_validation(btex):
    col, analytes = btex
    a = analytes[0]
    t = np.linspace(0.0, 10.0, 5)
    with pytest.raises(ValueError, match="tol"):
        lp.outlet_response_laplace(col, a, t, injection_time=T_INJ, tol=0.0)
    with pytest.raises(ValueError, match="injection_time"):
        lp.outlet_response_laplace(col, a, t, injection_time=-1.0)
    with pytest.raises(ValueError, match="on_fail"):
        lp.outlet_response_laplace(col, a, t, injection_time=T_INJ, on_fail="ignore")
    with pytest.raises(ValueError, match="t must be finite"):
        lp.outlet_response_laplace(col, a, [0.0, np.nan], injection_time=T_INJ)
    with pytest.raises(TypeError, match="column"):
        lp.outlet_response_laplace("col", a, t, injection_time=T_INJ)
    with pytest.raises(TypeError, match="analyte"):
        lp.transfer_function(col, "a", [0.0])
    with pytest.raises(TypeError, match="compressible"):
        lp.transfer_function(col, a, [0.0], compressible="yes")
    with pytest.raises(ValueError, match="s must be finite"):
        lp.transfer_function(col, a, [np.inf])
    with pytest.raises(ValueError, match="injection_time"):
        lp.transfer_moments(col, a, True, -2.0)


# --------------------------------------------------------------------------------------------
# slow: stress cases
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("compressible", [True, False])
def test_btex_with_realistic_dispersion(btex, compressible):
    """D ~ 1e-5 m^2/s (molecular + Taylor-Aris in a 90 um capillary): converged, and within
    the expected O(1/Pe) of the diffusion-free peaks."""
    col, analytes = btex
    c = col.replace(dispersion=1e-5)
    t = np.linspace(0.0, 1000.0, 20000)
    chrom = simulate(c, analytes, t, injection_time=T_INJ, method="laplace",
                     compressible=compressible)
    ref = simulate(col, analytes, t, injection_time=T_INJ, method="exact",
                   compressible=compressible)
    for y, ye, info in zip(chrom.components, ref.components, chrom.info["per_analyte"],
                           strict=True):
        assert info["converged"]
        assert 1e-5 < peak_error(y, ye) < 1e-2
        m0 = np.trapezoid(y, t)
        assert m0 * c.u_out(compressible) == pytest.approx(c.u_in * T_INJ, rel=1e-8)


@pytest.mark.slow
def test_small_A_with_sharp_dispersed_front(btex):
    """A = 1 with Pe ~ 1e4: the non-adsorbed fraction exp(-A) arrives as a rectangle with
    edges smeared over ~t_M sqrt(2/Pe) = 0.5 s; many Fourier terms are needed. Checked by
    mass, moments, self-consistency across tolerances, and the plateau of the rectangle."""
    col, _ = btex
    c = col.replace(dispersion=1e-4)
    a = analyte_with_A(c, 1.0, 5.0)
    t = np.linspace(0.0, 100.0, 20001)
    y, info = lp.outlet_response_laplace(c, a, t, injection_time=T_INJ, tol=1e-10)
    assert info["converged"] and info["terms"] >= 256
    m0, m1, var = chromatogram_moments(t, y)
    mo = lp.transfer_moments(c, a, True, T_INJ)
    assert m0 * c.u_out(True) == pytest.approx(c.u_in * T_INJ, rel=1e-9)
    assert m1 == pytest.approx(mo.retention_time, rel=1e-9)
    assert var == pytest.approx(mo.variance, rel=1e-8)
    y6, _ = lp.outlet_response_laplace(c, a, t, injection_time=T_INJ, tol=1e-6)
    assert peak_error(y6, y) < 1e-6
    # mid-plateau, 3 dispersion widths from both edges, the diffusion-free solution holds
    ye, _ = outlet_response_exact(col, a, t, injection_time=T_INJ)
    t_M = c.holdup_time(True)
    mid = np.abs(t - (t_M + T_INJ / 2)) < 0.3
    assert np.max(np.abs(y[mid] - ye[mid])) < 2e-3 * np.max(ye)


@pytest.mark.slow
def test_huge_A_compressible_dispersion(btex):
    col, _ = btex
    c = col.replace(dispersion=1e-5)
    a = analyte_with_A(c, 1e5, 10.0)
    mo = lp.transfer_moments(c, a, True, T_INJ)
    t = np.linspace(mo.retention_time - 12 * mo.std, mo.retention_time + 12 * mo.std, 4001)
    y, info = lp.outlet_response_laplace(c, a, t, injection_time=T_INJ)
    assert info["converged"]
    m0, m1, var = chromatogram_moments(t, y)
    assert m0 * c.u_out(True) == pytest.approx(c.u_in * T_INJ, rel=1e-8)
    assert m1 == pytest.approx(mo.retention_time, rel=1e-10)
    assert var == pytest.approx(mo.variance, rel=1e-7)
