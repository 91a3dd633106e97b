"""Thermodynamics, carrier-gas flow and the retention predictor of programmed GC runs.

Independent references: the definitions of the K-centric parameters (Blumberg 2017), tabulated
gas viscosities, the worked Fuller example of Poling, Prausnitz & O'Connell, the isothermal
column model of ``sciflow.chromatography.model`` (Poiseuille flow, moments) and, for a
temperature ramp, the classical migration integral solved by scipy quadrature.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from sciflow.chromatography import moments
from sciflow.chromatography.programs import (
    FlowProgram,
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    ThermalGradient,
    celsius,
    retention,
)
from sciflow.chromatography.thermo import (
    CarrierGas,
    KCentric,
    Solute,
    carrier_gas,
    fuller_diffusivity,
    load_retention_database,
    molar_mass,
)

DB_PATH = "data/leppert2020b/Database_Leppert2020b.csv"


@pytest.fixture(scope="module")
def db():
    return load_retention_database(DB_PATH)


def column(oven, gas="H2", pin=411564.0, pout=101300.0, **kw):
    return ProgrammedColumn(kw.pop("length", 11.18), kw.pop("diameter", 0.104e-3),
                            kw.pop("film_thickness", 0.104e-6), gas, oven,
                            PressureProgram.constant(pin, pout))


# -- K-centric model -------------------------------------------------------------------------
def test_kcentric_definitions():
    """k(T_char) = phi/phi0 and d ln k / dT = -1/theta_char at T_char (Blumberg 2017)."""
    kc = KCentric(T_char=450.0, theta_char=35.0, dCp=120.0, phi0=1e-3)
    assert kc.retention_factor(450.0) == pytest.approx(1.0, abs=1e-15)
    assert kc.retention_factor(450.0, phi=2e-3) == pytest.approx(2.0, rel=1e-14)
    h = 1e-4
    slope = (kc.ln_retention_factor(450.0 + h) - kc.ln_retention_factor(450.0 - h)) / (2 * h)
    assert slope == pytest.approx(-1.0 / 35.0, rel=1e-8)  # central difference: O(h^2) ~ 1e-10
    # K = k beta with beta = 1/(4 phi0): independent of the column
    assert kc.distribution_constant(450.0) == pytest.approx(250.0, rel=1e-14)


def test_database_reader(db):
    assert list(db)[:3] == ["C9", "C10", "C11"] and len(db) == 22
    c10 = db["C10"]
    assert c10.retention.T_char == pytest.approx(118.09 + 273.15, abs=1e-12)
    assert c10.retention.theta_char == 32.24 and c10.retention.dCp == 112.49
    assert c10.formula == "C10H22" and c10.cas == "124-18-5"
    assert molar_mass("C10H22") == pytest.approx(142.29, abs=0.01)


# -- carrier gases ---------------------------------------------------------------------------
@pytest.mark.parametrize("gas, T, eta_ref", [
    # reference viscosities at 300 K and 1 bar (NIST webbook / Lemmon & Jacobsen): uPa s
    ("He", 300.0, 19.94), ("H2", 300.0, 8.95), ("N2", 300.0, 17.89), ("Ar", 300.0, 22.74),
    ("He", 500.0, 28.4), ("N2", 500.0, 25.8),
])
def test_viscosity_law_against_tables(gas, T, eta_ref):
    # Blumberg's fit reproduces tabulated values to about 1 % (measured: <= 0.9 %)
    assert carrier_gas(gas).viscosity(T) * 1e6 == pytest.approx(eta_ref, rel=0.015)


def test_fuller_worked_example():
    """Poling, Prausnitz & O'Connell, *Properties of Gases and Liquids* 5th ed., Example 11-3:
    allyl chloride (C3H5Cl) in air, 298 K, 1 bar: Fuller estimate 0.096 cm^2/s."""
    air = CarrierGas("air", 18.6e-6, 0.7, 0.0, 28.97, 19.7)
    D = fuller_diffusivity("C3H5Cl", air, T=298.0, p=1e5)
    assert D * 1e4 == pytest.approx(0.096, rel=0.01)  # the book rounds to 2 digits


# -- flow ------------------------------------------------------------------------------------
def test_isothermal_flow_equals_column_model(db):
    """No gradient, constant T and p: Poiseuille flow of model.Column to rounding."""
    T = celsius(120.0)
    pc = column(OvenProgram.isothermal(T))
    col, _ = pc.isothermal_equivalent(db["C12"], film_diffusivity=1e-9)
    x = np.linspace(0.0, pc.length, 7)
    np.testing.assert_allclose(pc.velocity(x, 0.0), col.velocity(x), rtol=1e-13)
    np.testing.assert_allclose(pc.pressure_at(x, 5.0), col.pressure(x), rtol=1e-14)
    assert pc.holdup_time(0.0) == pytest.approx(col.holdup_time(), rel=1e-13)


def test_constant_flow_mode_delivers_the_flow():
    F = 0.5e-6 / 60.0  # 0.5 mL/min
    oven = OvenProgram.from_segments(40, [(10, 300, 0)])
    pc = ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "He", oven, FlowProgram.constant(F))
    for t in (0.0, 600.0, 1560.0):
        assert pc.normal_flow(t) == pytest.approx(F, rel=1e-12)
    # the inlet pressure rises with the viscosity as the oven heats
    assert pc.pressure_at(0.0, 1560.0) > 1.4 * pc.pressure_at(0.0, 0.0)


def test_gradient_pressure_profile_against_quadrature():
    """With a thermal gradient, p(x)^2 = p_in^2 - kappa(x)/kappa(L) (p_in^2 - p_out^2) with
    kappa(x) = int_0^x eta(T) T dy: scipy quad of the same integrand."""
    grad = ThermalGradient(delta_T=[60.0, 60.0], alpha=-3.0, reference="outlet")
    oven = OvenProgram([0.0, 100.0], celsius([50.0, 150.0]), gradient=grad)
    pc = column(oven, gas="He", length=2.05, pin=250e3, pout=101e3)
    t = 37.0
    gas = carrier_gas("He")

    def f(y):
        T = pc.temperature(y, t)
        return gas.viscosity(T) * T

    kL = quad(f, 0, 2.05, epsabs=0, epsrel=1e-13)[0]
    for x in (0.3, 1.0, 1.9):
        kx = quad(f, 0, x, epsabs=0, epsrel=1e-13)[0]
        p_ref = math.sqrt(250e3**2 - kx / kL * (250e3**2 - 101e3**2))
        assert pc.pressure_at(x, t) == pytest.approx(p_ref, rel=1e-12)  # 24-point GL
    # the profile: outlet at the program temperature, inlet delta_T hotter
    assert pc.temperature(2.05, t) == pytest.approx(celsius(50.0 + 37.0), rel=1e-14)
    assert pc.temperature(0.0, t) == pytest.approx(celsius(50.0 + 37.0 + 60.0), rel=1e-14)


# -- the predictor reduces to the isothermal column model ------------------------------------
@pytest.mark.parametrize("name, T_C", [("C10", 100.0), ("C14", 160.0), ("C20", 250.0)])
def test_isothermal_prediction_equals_exact_moments(db, name, T_C):
    """Constant T and p, film term only: t_R = t_M (1 + k) and sigma^2 = 2 A / k_d^2, the
    exact moments of the isothermal model (model.moments), to 1e-9."""
    s = db[name]
    pc = column(OvenProgram.isothermal(celsius(T_C)))
    DS = 2e-10
    col, an = pc.isothermal_equivalent(s, film_diffusivity=DS)
    m = moments(col, an)
    tab = retention(pc, s, plate_height="film", film_diffusivity=DS, rtol=1e-12)
    assert tab.t_R[0] == pytest.approx(m.retention_time, rel=1e-9)
    assert tab.sigma[0] ** 2 == pytest.approx(m.variance, rel=1e-9)
    # an injection width adds its variance; a detector time constant its square and delay
    tab2 = retention(pc, s, plate_height="film", film_diffusivity=DS, rtol=1e-12,
                     injection_width=0.2, detector_time_constant=0.3, injection_time=1.5)
    assert tab2.t_R[0] == pytest.approx(m.retention_time + 1.5 + 0.3, rel=1e-9)
    assert tab2.sigma[0] ** 2 == pytest.approx(m.variance + 0.04 + 0.09, rel=1e-9)


def test_ramp_retention_against_migration_integral(db):
    """A linear ramp, constant pressures, no gradient: u(x, t) = f(x) / eta(T(t)), so the
    solute obeys int_0^tR dt / (t_M(t) (1 + k(t))) = 1 (Giddings 1960) -- solved by scipy
    quad + brentq, independent of the x-integration of the kernel."""
    oven = OvenProgram.from_segments(40, [(10, 300, 300)], hold=60)
    pc = column(oven)
    tM0 = pc.holdup_time(0.0)
    eta0 = pc.gas.viscosity(oven(0.0))
    knots = list(oven.times)

    def progress(tR, kc):
        def rate(t):
            T = oven(t)
            return 1.0 / (tM0 * pc.gas.viscosity(T) / eta0 * (1.0 + kc.retention_factor(T)))

        pts = [k for k in knots if k < tR]
        return quad(rate, 0.0, tR, points=pts or None, limit=400, epsabs=0,
                    epsrel=1e-12)[0] - 1.0

    for name in ("C9", "C14", "C22"):
        t_ref = brentq(progress, 1.0, 3000.0, args=(db[name].retention,), xtol=1e-10,
                       rtol=1e-14)
        tab = retention(pc, db[name], rtol=1e-11)
        assert tab.t_R[0] == pytest.approx(t_ref, rel=1e-8), name  # measured ~1e-10


def test_prediction_tolerance_convergence(db):
    """Halving the tolerance changes t_R and sigma by less than the tolerance."""
    pc = column(OvenProgram.from_segments(40, [(5, 180, 60), (20, 300, 60)], hold=60))
    sol = [db[f"C{i}"] for i in range(9, 26)]
    a = retention(pc, sol, rtol=1e-6)
    b = retention(pc, sol, rtol=1e-11)
    assert np.max(np.abs(a.t_R / b.t_R - 1)) < 1e-5
    assert np.max(np.abs(a.sigma / b.sigma - 1)) < 1e-4


def test_retention_table_outputs(db):
    pc = column(OvenProgram.from_segments(40, [(10, 300, 180)], hold=60))
    tab = retention(pc, [db["C12"], db["C10"], db["C11"]])
    # resolution in elution order: C10, C11, C12
    o = np.argsort(tab.t_R)
    assert [tab.names[i] for i in o] == ["C10", "C11", "C12"]
    R = tab.resolution()
    t, s = tab.t_R[o], tab.sigma[o]
    np.testing.assert_allclose(R, np.diff(t) / (2 * (s[1:] + s[:-1])), rtol=1e-15)
    np.testing.assert_allclose(tab.plate_numbers(), (tab.t_R / tab.sigma) ** 2, rtol=1e-15)
    # each Gaussian peak integrates to one
    tt = np.linspace(0, 2000, 400001)
    assert np.trapezoid(tab.chromatogram(tt), tt) == pytest.approx(3.0, rel=1e-9)
    # elution temperature is the oven temperature at t_R
    np.testing.assert_allclose(tab.elution_temperature, oven_T(pc, tab.t_R), rtol=1e-14)
    import matplotlib.pyplot as plt

    ax = tab.plot()
    assert ax.lines[0].get_ydata().max() == pytest.approx(tab.chromatogram(
        ax.lines[0].get_xdata()).max(), rel=1e-15)
    plt.close(ax.figure)
    ds = tab.to_xarray()
    assert float(ds["t_R"].sel(solute="C11")) == tab.t_R[2]


def oven_T(pc, t):
    return pc.oven(t)


def test_solute_requires_formula_or_diffusivity():
    kc = KCentric(400.0, 30.0, 100.0)
    with pytest.raises(ValueError, match="formula"):
        Solute("x", kc)
    s = Solute("x", kc, D_ag=1e-5)
    assert s.diffusivity_constant("He") == 1e-5


@pytest.mark.parametrize("case", ["ramp", "gradient", "flow", "pressure_program"])
def test_exact_time_derivative_of_the_residency(case):
    """dr/dt of the kernel (chain rule) against a central difference of r (h = 1e-3 s; the
    difference's truncation error is O(h^2) and its rounding ~1e-13 / 1e-3)."""
    from sciflow.chromatography import _kernels_retention as kr
    from sciflow.chromatography.programs import _solute_vector

    oven = OvenProgram.from_segments(40, [(10, 300, 180)], hold=60)
    press = PressureProgram.constant(411564.0, 101300.0)
    if case == "gradient":
        oven = OvenProgram([0.0, 100.0, 400.0], celsius([50.0, 60.0, 200.0]),
                           gradient=ThermalGradient([30.0, 50.0, 10.0], alpha=-3.0))
    if case == "flow":
        press = FlowProgram([0.0, 500.0], [0.3e-6 / 60, 0.6e-6 / 60])
    if case == "pressure_program":
        press = PressureProgram([0.0, 300.0], [300e3, 500e3], [101e3, 90e3])
    pc = ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "He", oven, press)
    sol = _solute_vector(pc, Solute("C14", KCentric(460.0, 36.8, 126.8), formula="C14H30"),
                         None)
    tabs = pc._tables()
    h = 1e-3
    for x in (0.0, 3.3, 11.18):
        for t in (70.0, 211.7, 333.3):
            r, rt = kr.residency_dt(x, t, *tabs, sol)[:2]
            rp = kr.residency(x, t + h, *tabs, sol)[0]
            rm = kr.residency(x, t - h, *tabs, sol)[0]
            assert r == pytest.approx(kr.residency(x, t, *tabs, sol)[0], rel=1e-14)
            assert rt == pytest.approx((rp - rm) / (2 * h), rel=1e-7, abs=1e-9 * abs(r))


def test_fields_kernel_equals_pointwise_state():
    """The vectorised field kernel (per-time quantities hoisted) equals flow_state point by
    point, with and without a thermal gradient."""
    from sciflow.chromatography import _kernels_retention as kr

    for grad in (None, ThermalGradient([30.0, 50.0], alpha=-2.0)):
        oven = OvenProgram([0.0, 400.0], celsius([50.0, 200.0]), gradient=grad)
        pc = ProgrammedColumn(2.05, 0.104e-3, 0.104e-6, "He", oven,
                              PressureProgram([0.0, 300.0], [250e3, 300e3], [101e3, 95e3]))
        ts = np.array([0.0, 123.4, 500.0])
        xs = np.linspace(0.0, 2.05, 9)
        T, p, u = pc.fields(xs, ts)
        for i, t in enumerate(ts):
            for j, x in enumerate(xs):
                ref = kr.flow_state(x, t, *pc._tables())
                np.testing.assert_allclose([T[i, j], p[i, j], u[i, j]], ref, rtol=1e-15)
