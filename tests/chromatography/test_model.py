import math

import numpy as np
import pytest
from scipy import integrate

from sciflow.chromatography import Analyte, Column, moments


def make_column(**kw):
    base = dict(length=20.0, radius=90e-6, film_thickness=1e-6, temperature=353.15,
                inlet_pressure=4.01e5, outlet_pressure=1.013e5, viscosity=2.3e-5)
    base.update(kw)
    return Column(**base)


@pytest.mark.parametrize("field,value,match", [
    ("length", -1.0, "length must be > 0"),
    ("radius", 0.0, "radius must be > 0"),
    ("film_thickness", 1e-3, "film_thickness must be smaller than radius"),
    ("temperature", float("nan"), "temperature must be finite"),
    ("outlet_pressure", 5e5, "outlet_pressure .* must not exceed inlet_pressure"),
    ("viscosity", -2e-5, "viscosity must be > 0"),
    ("inlet_velocity", -0.1, "inlet_velocity must be > 0"),
    ("dispersion", -1e-5, "dispersion must be >= 0"),
])
def test_column_rejects_bad_input(field, value, match):
    with pytest.raises(ValueError, match=match):
        make_column(**{field: value})


def test_column_type_errors():
    with pytest.raises(TypeError, match="length must be a real number"):
        make_column(length="20")
    with pytest.raises(TypeError, match="name must be a string"):
        Analyte(3, 1.0, 1.0)
    with pytest.raises(ValueError, match="k_d must be > 0"):
        Analyte("x", 1.0, 0.0)
    with pytest.raises(ValueError, match="k_a must be >= 0"):
        Analyte("x", -1.0, 1.0)


def test_no_pressure_drop_needs_velocity():
    with pytest.raises(ValueError, match="inlet_velocity is required"):
        make_column(outlet_pressure=4.01e5)
    col = make_column(outlet_pressure=4.01e5, inlet_velocity=0.3)
    assert col.constant_velocity
    assert col.holdup_time(True) == pytest.approx(20.0 / 0.3, rel=1e-15)


def test_poiseuille_inlet_velocity_matches_btex_table():
    # CC24 Table 1 lists u_in = 0.41 m/s for these conditions
    col = make_column()
    assert col.u_in == pytest.approx(0.41, rel=0.02)


@pytest.mark.parametrize("ratio", [1.01, 1.5, 2.0, 4.0])
def test_holdup_time_is_integral_of_inverse_velocity(ratio):
    col = make_column(outlet_pressure=4.01e5 / ratio, inlet_velocity=0.4)
    tm_quad, _ = integrate.quad(lambda x: 1.0 / col.velocity(x), 0.0, col.length,
                                epsabs=0, epsrel=1e-13)
    assert col.holdup_time(True) == pytest.approx(tm_quad, rel=1e-11)
    # u p is constant along the column and u_out = u_in p_in / p_out
    x = np.linspace(0, col.length, 11)
    up = col.velocity(x) * col.pressure(x)
    np.testing.assert_allclose(up, up[0], rtol=1e-14)
    assert col.velocity(col.length) == pytest.approx(col.u_out(), rel=1e-12)


def test_moments_formulae():
    col = make_column(inlet_velocity=0.41)
    a = Analyte("o-xylene", 1.0168e4, 14.291)
    m = moments(col, a, injection_time=4.0)
    tM = col.holdup_time()
    kp = col.phase_ratio * a.K
    assert m.retention_time == pytest.approx(tM * (1 + kp) + 2.0, rel=1e-15)
    A = a.A(col)
    assert m.variance == pytest.approx(2 * A / a.k_d**2 + 16 / 12, rel=1e-15)
    assert m.plate_number == pytest.approx(m.retention_time**2 / m.variance)
    assert m.skewness > 0
    # dispersion adds the Danckwerts closed-closed term, constant velocity only
    colD = make_column(inlet_velocity=0.41, dispersion=1e-4)
    mD = moments(colD, a, injection_time=4.0, compressible=False)
    m0 = moments(col, a, injection_time=4.0, compressible=False)
    Pe = 0.41 * 20.0 / 1e-4
    tR0 = col.holdup_time(False) * (1 + kp)
    assert mD.variance - m0.variance == pytest.approx(
        tR0**2 * (2 / Pe - 2 * (1 - math.exp(-Pe)) / Pe**2), rel=1e-12)
    assert mD.retention_time == m0.retention_time
