"""The closed-form (Thomas) solution against an independent quadrature of its kernel and
against its exact moments."""

import numpy as np
import pytest
from scipy import integrate, special

from sciflow.chromatography import Analyte, Column, exact, moments, simulate


def thomas_kernel(tau, A, kd):
    """Written independently of sciflow: log-space Bessel I_1 kernel."""
    if tau <= 0:
        return 0.0
    z = 2.0 * np.sqrt(A * kd * tau)
    return float(np.exp(np.log(special.ive(1, z)) + z - A - kd * tau
                        + 0.5 * np.log(A * kd / tau)))


def pulse_by_quadrature(tau, A, kd, tinj):
    lo, hi = max(tau - tinj, 0.0), max(tau, 0.0)
    val = np.exp(-A) if (tau >= 0 and tau - tinj < 0) else 0.0
    if hi > lo:
        mean, sd = A / kd, np.sqrt(2 * A) / kd
        pts = [p for p in (mean - 3 * sd, mean, mean + 3 * sd) if lo < p < hi]
        v, _ = integrate.quad(thomas_kernel, lo, hi, args=(A, kd), points=pts or None,
                              epsabs=1e-15, epsrel=1e-12, limit=500)
        val += v
    return val


# tolerance: 5-8x the measured peak-scaled error (1.6e-15, 7.6e-15, 5.0e-14, 5.1e-13, 8.6e-12;
# it grows with A as the rounding of t_M + tau in the Bessel kernel's exponent does)
@pytest.mark.parametrize("A,kd,tinj,tol", [(1.0, 2.0, 0.5, 1e-14), (20.0, 3.0, 1.0, 5e-14),
                                           (1e3, 10.0, 4.0, 3e-13), (1e4, 14.0, 4.0, 3e-12),
                                           (1e5, 14.0, 4.0, 5e-11)])
def test_exact_matches_independent_quadrature(A, kd, tinj, tol):
    mean, sd = A / kd, np.sqrt(2 * A) / kd
    tau = np.linspace(max(mean - 8 * sd, 0.0) - 1.0, mean + 10 * sd + tinj, 4001)
    y = exact.pulse_response(tau, 0.0, A, kd, tinj)
    idx = np.linspace(0, tau.size - 1, 120).astype(int)
    ref = np.array([pulse_by_quadrature(tau[i], A, kd, tinj) for i in idx])
    peak = np.max(np.abs(y))
    assert np.max(np.abs(y[idx] - ref)) / peak < tol


@pytest.mark.parametrize("A", [1.0, 50.0, 3e3, 1e5])
def test_quadrature_and_marcum_algorithms_agree(A):
    kd = 7.0
    mean, sd = A / kd, np.sqrt(2 * A) / kd
    tau = np.sort(np.random.default_rng(1).uniform(-1, mean + 12 * sd + 40 / kd, 5000))
    H1 = exact.step_response(tau, A, kd)
    H2 = exact.step_response(tau, A, kd, algorithm="marcum")
    # measured max |H1 - H2|: 2.1e-15 (A = 1) to 5.5e-14 (A = 1e5)
    np.testing.assert_allclose(H1, H2, rtol=0, atol=5e-13)
    # a distribution function (measured: never decreasing; -1e-15 allows for rounding where
    # the window's anchor value meets the atom)
    assert np.all(np.diff(H1) >= -1e-15)
    # measured 1 - H1[-1] <= 2.1e-15
    assert H1[0] == 0.0 and H1[-1] == pytest.approx(1.0, abs=1e-14)


def test_step_response_any_order_and_coarse_grid():
    A, kd = 2e3, 9.0
    tau = np.array([400.0, 0.0, 150.0, 222.2, 10.0, 223.0, -5.0])  # unsorted, coarse
    # measured max difference 2.7e-15
    np.testing.assert_allclose(exact.step_response(tau, A, kd),
                               exact.step_response(tau, A, kd, algorithm="marcum"), rtol=0,
                               atol=2e-14)
    with pytest.raises(ValueError, match="algorithm"):
        exact.step_response(tau, A, kd, algorithm="talbot")


def test_unretained_marker_is_the_delayed_pulse():
    col = Column(20.0, 90e-6, 1e-6, 353.15, 4.01e5, 1.013e5, 2.3e-5, inlet_velocity=0.41)
    t = np.linspace(0, 100, 1001)
    ch = simulate(col, Analyte("methane", 0.0, 1.0), t, injection_time=4.0, compressible=False)
    tM = col.holdup_time(False)
    expected = ((t >= tM) & (t < tM + 4.0)).astype(float)
    np.testing.assert_array_equal(ch.c, expected)


@pytest.mark.parametrize("ratio", [1.01, 1.5, 2.5, 4.0])
def test_compressible_mass_balance_and_first_moment(ratio):
    col = Column(20.0, 90e-6, 1e-6, 353.15, 4.0e5, 4.0e5 / ratio, 2.3e-5, inlet_velocity=0.41)
    an = [Analyte("a", 1.0168e4, 14.291), Analyte("b", 579.0, 5.299)]
    t = np.linspace(0, 1400, 70001)
    ch = simulate(col, an, t, injection_time=4.0, c0=[1.0, 2.0])
    for i, a in enumerate(an):
        y = ch.components[i]
        # measured relative errors: amount <= 2.2e-16, mean <= 2.0e-15 (Simpson on 70001
        # points of a smooth peak is exact to rounding)
        out = integrate.simpson(col.u_out() * y, x=t)
        assert out == pytest.approx(col.u_in * [1.0, 2.0][i] * 4.0, rel=2e-15)
        mean = integrate.simpson(t * y, x=t) / integrate.simpson(y, x=t)
        assert mean == pytest.approx(moments(col, a, injection_time=4.0).retention_time,
                                     rel=1e-14)


def test_btex_peak_order_and_second_moment(btex):
    col, an = btex
    t = np.linspace(0, 1000, 20000)
    ch = simulate(col, an, t, injection_time=4.0)
    assert ch.components.shape == (5, t.size)
    np.testing.assert_allclose(ch.c, ch.components.sum(axis=0))
    for i, a in enumerate(an):
        y = ch.components[i]
        m = moments(col, a, injection_time=4.0)
        w = y / np.trapezoid(y, t)
        mu = np.trapezoid(t * w, t)
        var = np.trapezoid((t - mu) ** 2 * w, t)
        # measured relative errors: mean <= 4.4e-16, variance <= 3.1e-13
        assert mu == pytest.approx(m.retention_time, rel=4e-15)
        assert var == pytest.approx(m.variance, rel=2e-12)
    # elution order: benzene, toluene, ethylbenzene, p+m-xylene, o-xylene
    apex = {n: t[np.argmax(c)] for n, c in zip(ch.names, ch.components, strict=True)}
    assert sorted(apex, key=apex.get) == ["benzene", "toluene", "ethylbenzene", "p+m-xylene",
                                          "o-xylene"]
    assert ch.info["wall_time"] > 0.0 and len(ch.info["per_analyte"]) == 5


def test_chromatogram_plot_draws_its_data(btex):
    """``plot`` returns the Axes holding one line per component (labelled by analyte) and the
    total, with the chromatogram's own data."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    col, an = btex
    t = np.linspace(0, 1000, 2001)
    ch = simulate(col, an, t, injection_time=4.0)
    ax = ch.plot()
    assert isinstance(ax, Axes)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {*ch.names, "total"}
    for name, comp in zip(ch.names, ch.components, strict=True):
        np.testing.assert_array_equal(lines[name].get_xdata(), t)
        np.testing.assert_array_equal(lines[name].get_ydata(), comp)
    np.testing.assert_array_equal(lines["total"].get_ydata(), ch.c)
    assert ax.get_xlabel() == "time (s)"
    # into a given Axes, and a single analyte draws the total only
    _, ax2 = plt.subplots()
    one = simulate(col, an[0], t, injection_time=4.0)
    assert one.plot(ax=ax2) is ax2
    assert [ln.get_label() for ln in ax2.get_lines()] == ["total"]
    np.testing.assert_array_equal(ax2.get_lines()[0].get_ydata(), one.c)


def test_simulate_rejects_bad_input(btex):
    col, an = btex
    t = np.linspace(0, 10, 11)
    with pytest.raises(ValueError, match="t must be strictly increasing"):
        simulate(col, an, t[::-1], injection_time=4.0)
    with pytest.raises(ValueError, match="t must be finite"):
        simulate(col, an, np.r_[t, np.nan], injection_time=4.0)
    with pytest.raises(ValueError, match="injection_time must be > 0"):
        simulate(col, an, t, injection_time=0.0)
    with pytest.raises(ValueError, match="method must be one of"):
        simulate(col, an, t, injection_time=1.0, method="spectral")
    with pytest.raises(ValueError, match="c0 must be a scalar or have shape"):
        simulate(col, an, t, injection_time=1.0, c0=[1.0, 2.0])
    with pytest.raises(TypeError, match="analytes must be"):
        simulate(col, ["benzene"], t, injection_time=1.0)
    with pytest.raises(TypeError, match="column must be a Column"):
        simulate("col", an, t, injection_time=1.0)
    with pytest.raises(ValueError, match="method='exact' solves the diffusion-free"):
        simulate(col.replace(dispersion=1e-5), an, t, injection_time=1.0)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(logA=st.floats(-1.0, 5.0), kd=st.floats(0.1, 100.0), tinj_frac=st.floats(0.05, 3.0))
def test_pulse_response_properties(logA, kd, tinj_frac):
    """For any A in [0.1, 1e5] and k_d: H is a CDF, the pulse conserves mass (its integral is
    t_inj) and its mean is A/k_d + t_inj/2."""
    A = 10.0**logA
    sd = np.sqrt(2 * A) / kd + 1.0 / kd
    tinj = tinj_frac * sd
    tau = np.linspace(-tinj, A / kd + 14 * sd + 60 / kd + tinj, 40001)
    H = exact.step_response(tau, A, kd)
    # a CDF (measured: never decreasing over 400 examples; -1e-15 allows for rounding)
    assert np.all((H >= 0) & (H <= 1)) and np.all(np.diff(H) >= -1e-15)
    y = exact.pulse_response(tau, 0.0, A, kd, tinj)
    # the atom exp(-A) is a rectangle on [0, t_inj): integrate it exactly, the rest
    # (continuous) by the trapezoidal rule
    rect = np.exp(-A) * ((tau >= 0) & (tau < tinj))
    area = np.exp(-A) * tinj + np.trapezoid(y - rect, tau)
    first = np.exp(-A) * tinj**2 / 2.0 + np.trapezoid(tau * (y - rect), tau)
    # measured over 400 hypothesis examples: area and mean relative errors <= 7.0e-7 and
    # 6.6e-7, the trapezoidal rule's O(dtau^2) error at the kinks of the continuous part at
    # tau = 0 and t_inj (slope jump exp(-A) A k_d; largest for A ~ 1 and small k_d)
    assert area == pytest.approx(tinj, rel=5e-6)
    assert first / area == pytest.approx(A / kd + tinj / 2.0, rel=5e-6)
