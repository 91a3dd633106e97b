"""Finite-volume solver of the full column PDEs (method="fd"): kernel against its NumPy
reference, operator properties (conservation, stability), accuracy and convergence order against
the closed form, mass balance and moments with dispersion."""

import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.linalg import solve_banded

from sciflow.chromatography import Analyte, Column, _kernels, fd, moments, simulate
from sciflow.chromatography.simulate import outlet_response_exact


def peak_error(y, ref):
    return float(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))


def fitted_order(h, err):
    """Slope of log(err) against log(h) (least squares)."""
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


@pytest.fixture(scope="module")
def short_case(btex):
    """A 2 m version of the BTEX column with toluene (t_R ~ 23 s): fast convergence studies."""
    col, an = btex
    return col.replace(length=2.0), an[3]


def _march_args(col, an, compressible, order, scheme, n_cells, dts, cins):
    op = fd._assemble(col, n_cells, compressible, order)
    return op, (op.band, op.ml, op.mu, op.B, col.phase_ratio, an.k_a, an.k_d,
                fd.TIME_SCHEMES[scheme].matrix, dts, cins, op.out_start, op.out_w,
                col.u_out(compressible), op.h, int(np.count_nonzero(cins)), 0.0)


# ---------------------------------------------------------------------------------------------
# kernels against the NumPy/SciPy reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible,D,order,scheme", [
    (True, 0.0, 5, "sdirk4"), (False, 0.0, 5, "sdirk4"), (True, 1e-3, 5, "sdirk4"),
    (False, 0.05, 3, "sdirk3"), (True, 0.0, 1, "sdirk2"), (True, 1e-4, 7, "euler"),
])
def test_march_kernel_matches_numpy_reference(btex, compressible, D, order, scheme):
    col, an = btex
    col = col.replace(dispersion=D)
    dts = np.array([0.5] * 8 + [0.9] * 30)
    cins = np.array([1.0] * 8 + [0.0] * 30)
    _, args = _march_args(col, an[0], compressible, order, scheme, 40, dts, cins)
    ys, dys = np.zeros(dts.size + 1), np.zeros(dts.size + 1)
    n, out, inv, c, q = _kernels.dirk_march(*args, ys, dys)
    n_r, out_r, inv_r, c_r, q_r, ys_r, dys_r = fd._march_reference(*args)
    assert n == n_r == dts.size
    assert abs(out - out_r) <= 1e-13 * abs(out_r)
    assert abs(inv - inv_r) <= 1e-13 * (abs(inv_r) + abs(out_r))
    for a, b in ((c, c_r), (q, q_r), (ys, ys_r), (dys, dys_r)):
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


def test_band_lu_and_solve_match_scipy(btex, rng):
    col, an = btex
    op = fd._assemble(col.replace(dispersion=1e-3), 50, True, 5)
    for gd in (1e-3, 0.3, 30.0):  # from nearly I to strongly transport-dominated
        M = -gd * op.band
        M[:, op.ml] += 1.0 + gd * 2.0
        b = rng.standard_normal(M.shape[0])
        ref = solve_banded((op.ml, op.mu), fd._band_to_lapack(M, op.ml, op.mu), b)
        LU = M.copy()
        _kernels.band_lu(LU, op.ml, op.mu)
        x = np.empty_like(b)
        _kernels.band_solve(LU, op.ml, op.mu, b, x)
        assert np.max(np.abs(x - ref)) <= 1e-13 * np.max(np.abs(ref))
        dense = fd._band_to_dense(M, op.ml, op.mu)
        assert np.allclose(dense @ x, b, rtol=0, atol=1e-12 * np.max(np.abs(b)))


def test_early_stop_reference_agrees(btex):
    col, an = btex
    dts = np.array([1.0] * 4 + [2.0] * 200)
    cins = np.array([1.0] * 4 + [0.0] * 200)
    _, args = _march_args(col.replace(length=0.5), an[4], True, 5, "sdirk4", 30, dts, cins)
    args = args[:-1] + (1e-12 * 4 * col.u_in,)
    ys, dys = np.zeros(dts.size + 1), np.zeros(dts.size + 1)
    n = _kernels.dirk_march(*args, ys, dys)[0]
    assert 4 < n < dts.size
    assert fd._march_reference(*args)[0] == n


# ---------------------------------------------------------------------------------------------
# operator: mesh, conservation, free stream, stability
# ---------------------------------------------------------------------------------------------
def test_mesh_has_equal_transit_times(btex):
    col, _ = btex
    xf = fd._transit_time_mesh(col, 64, True)
    assert xf[0] == 0.0 and xf[-1] == col.length and np.all(np.diff(xf) > 0)
    tau = [integrate.quad(lambda x: 1.0 / col.velocity(x), a, b, epsrel=1e-12)[0]
           for a, b in zip(xf[:-1], xf[1:], strict=True)]
    assert np.allclose(tau, col.holdup_time(True) / 64, rtol=1e-9)
    # nearly no pressure drop: stable formula, tends to the uniform mesh
    col1 = col.replace(outlet_pressure=col.inlet_pressure * (1 - 1e-13))
    assert np.allclose(fd._transit_time_mesh(col1, 10, True), np.linspace(0, col.length, 11),
                       rtol=0, atol=1e-9)


@pytest.mark.parametrize("order", fd.ORDERS)
@pytest.mark.parametrize("compressible", [True, False])
@pytest.mark.parametrize("D", [0.0, 1e-3, 0.2, 5.0])
def test_operator_conserves_mass_and_is_stable(btex, order, compressible, D):
    col, _ = btex
    col = col.replace(dispersion=D)
    for n in (2 * order + 2, 60):
        op = fd._assemble(col, n, compressible, order)
        A = op.dense()
        # d/dt sum h c = F_in - F_out: column sums of h A are minus the outflow functional,
        # and the inlet forcing puts in exactly u_in c_in
        outflow = np.zeros(n)
        outflow[op.out_start:op.out_start + op.out_w.size] = col.u_out(compressible) * op.out_w
        assert np.allclose(op.h @ A, -outflow, rtol=0, atol=1e-12 * np.abs(outflow).max())
        assert math.isclose(op.h @ op.B, col.u_in, rel_tol=1e-12)
        if not compressible:  # uniform concentration is the steady state of a unit inlet
            assert np.max(np.abs(A @ np.ones(n) + op.B)) < 1e-10 * np.abs(op.B).max()
        # all eigenvalues in the left half plane (shifted inlet stencils fail this for p >= 5)
        assert np.linalg.eigvals(A).real.max() < 0


def test_reconstruction_is_exact_for_polynomials():
    xf = np.cumsum(np.r_[0.0, np.random.default_rng(3).uniform(0.5, 1.5, 9)])
    for m in (3, 5, 7):
        edges = xf[: m + 1]
        xe = edges[2]
        for k in range(m):
            avg = (edges[1:] ** (k + 1) - edges[:-1] ** (k + 1)) / ((k + 1) * np.diff(edges))
            w0 = fd._poly_weights(edges[None, :], np.array([xe]), 0)[0]
            w1 = fd._poly_weights(edges[None, :], np.array([xe]), 1)[0]
            assert math.isclose(w0 @ avg, xe**k, rel_tol=1e-10, abs_tol=1e-10)
            assert math.isclose(w1 @ avg, k * xe ** (k - 1) if k else 0.0, rel_tol=1e-9,
                                abs_tol=1e-9)


def test_outlet_weights_closed_boundary_layer():
    edges = np.linspace(0.0, 1.0, 6)
    L = edges[-1]
    # thin layer: c = p + beta exp((x-L)/delta) with p'(L) + beta/delta = 0 is reproduced
    delta, p = 0.01, np.poly1d([0.3, -0.2, 0.5, 1.0, 2.0])
    beta = -delta * p.deriv()(L)
    P = p.integ()
    avg = ((P(edges[1:]) - P(edges[:-1])) + beta * delta * np.diff(np.exp((edges - L) / delta)))
    avg /= np.diff(edges)
    w = fd._layer_weights(edges, delta, L, 0)
    assert math.isclose(w @ avg, p(L) + beta, rel_tol=1e-10)
    xe = edges[3]
    assert math.isclose(fd._layer_weights(edges, delta, xe, 0) @ avg,
                        p(xe) + beta * np.exp((xe - L) / delta), rel_tol=1e-10)
    assert math.isclose(fd._layer_weights(edges, delta, xe, 1) @ avg,
                        p.deriv()(xe) + beta / delta * np.exp((xe - L) / delta), rel_tol=1e-9)
    # resolved layer: polynomial of degree 5 with zero slope at L
    q = np.poly1d([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])  # q(x) shifted so that q'(L) = 0 below
    q = q - np.poly1d([q.deriv()(L), 0.0])
    Q = q.integ()
    avg = (Q(edges[1:]) - Q(edges[:-1])) / np.diff(edges)
    assert math.isclose(fd._layer_weights(edges, 10.0, L, 0) @ avg, q(L), rel_tol=1e-9)
    assert math.isclose(fd._layer_weights(edges, 10.0, xe, 1) @ avg, q.deriv()(xe),
                        rel_tol=1e-9)


def test_time_scheme_constants_and_l_stability():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    for name, sch in fd.TIME_SCHEMES.items():
        A = sch.matrix
        s = A.shape[0]
        assert np.allclose(np.diag(A), A[0, 0]) and np.allclose(np.triu(A, 1), 0)

        def R(z, A=A, s=s):
            return 1 + z * A[-1] @ np.linalg.solve(np.eye(s) - z * A, np.ones(s))

        # order and error constant: R(z) - e^z = C z^(q+1) + O(z^(q+2)), in 40 digits and
        # Richardson-extrapolated (the float tableau satisfies the order conditions to 1e-16)
        Am = mp.matrix(A.tolist())

        def scaled_error(z, Am=Am, s=s, q=sch.order):
            x = mp.lu_solve(mp.eye(s) - z * Am, mp.matrix([1] * s))
            Rz = 1 + z * sum(Am[s - 1, j] * x[j] for j in range(s))
            return (Rz - mp.e**z) / z ** (q + 1)

        z = mp.mpf("0.01")
        C = float(2 * scaled_error(z / 2) - scaled_error(z))
        assert math.isclose(C, sch.error_constant, rel_tol=2e-3), (name, C)
        assert abs(R(-1e9)) < 1e-6, name  # L-stable
        assert all(abs(R(complex(-x, y))) <= 1 + 1e-12 for x in (0.0, 1.0, 50.0)
                   for y in (0.0, 0.5, 3.0, 40.0)), name


# ---------------------------------------------------------------------------------------------
# accuracy on the BTEX case (Cabrera-Codony et al. 2024) at the default resolution
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible", [True, False])
def test_btex_default_resolution_within_1e3_of_exact(btex, compressible):
    col, an = btex
    t = np.linspace(0.0, 1000.0, 20000)
    fd.outlet_response_fd(col, an[4], t[:50], injection_time=4.0)  # compile / load cache
    ref = simulate(col, an, t, injection_time=4.0, compressible=compressible)
    ch = simulate(col, an, t, injection_time=4.0, compressible=compressible, method="fd")
    assert ch.method == "fd" and ch.components.shape == (5, t.size)
    errs = [peak_error(y, r) for y, r in zip(ch.components, ref.components, strict=True)]
    assert max(errs) < 1e-3, errs
    assert max(errs) < 3e-4, errs  # the default tol=1e-4 is met with margin
    for info in ch.info["per_analyte"]:
        assert info["mass_balance_error"] < 1e-11
        assert not info["resolution_limited"]
        assert sum(info["predicted_error"].values()) <= 1.01e-4
    # speed (target: < 2 s for the five analytes) is measured by
    # benchmarks/bench_chromatography_fd.py, not asserted here


def test_simulate_passes_options_to_fd(btex):
    col, an = btex
    t = np.linspace(0.0, 300.0, 3001)
    ch = simulate(col, an[4], t, injection_time=4.0, method="fd", n_cells=150, dt=0.5,
                  order=3, time_scheme="sdirk3")
    info = ch.info["per_analyte"][0]
    assert (info["n_cells"], info["order"], info["time_scheme"]) == (150, 3, "sdirk3")
    assert math.isclose(info["dt"], 0.5, rel_tol=1e-2)


# ---------------------------------------------------------------------------------------------
# observed orders of convergence against the closed form
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order,cells", [(3, [60, 120, 240]), (5, [40, 60, 90, 135])])
@pytest.mark.parametrize("compressible", [True, False])
def test_spatial_order_of_convergence(short_case, order, cells, compressible):
    col, an = short_case
    t = np.linspace(0.0, 60.0, 3001)
    ref, _ = outlet_response_exact(col, an, t, injection_time=1.0, compressible=compressible)
    errs = []
    for n in cells:
        y, _ = fd.outlet_response_fd(col, an, t, injection_time=1.0, compressible=compressible,
                                     n_cells=n, dt=0.02, order=order)
        errs.append(peak_error(y, ref))
    p = fitted_order(1.0 / np.array(cells), errs)
    assert abs(p - order) < 0.4, (p, errs)


@pytest.mark.parametrize("scheme,dts", [("sdirk4", [0.4, 0.28, 0.2, 0.14]),
                                        ("sdirk3", [0.2, 0.1, 0.05]),
                                        ("sdirk2", [0.1, 0.05, 0.025]),
                                        ("euler", [0.02, 0.01, 0.005])])
def test_time_order_of_convergence(short_case, scheme, dts):
    col, an = short_case
    t = np.linspace(0.0, 60.0, 3001)
    ref, _ = outlet_response_exact(col, an, t, injection_time=1.0)
    errs = []
    for dt in dts:
        y, _ = fd.outlet_response_fd(col, an, t, injection_time=1.0, n_cells=400, dt=dt,
                                     time_scheme=scheme)
        errs.append(peak_error(y, ref))
    p = fitted_order(np.array(dts), errs)
    assert abs(p - fd.TIME_SCHEMES[scheme].order) < 0.3, (p, errs)


def test_cfl_sets_the_retained_courant_number(short_case):
    col, an = short_case
    t = np.linspace(0.0, 60.0, 601)
    _, info = fd.outlet_response_fd(col, an, t, injection_time=1.0, n_cells=100, cfl=0.5)
    tR = col.holdup_time(True) * (1 + an.retention_factor(col))
    assert math.isclose(info["cfl"], 0.5, rel_tol=0.02)
    assert math.isclose(info["dt"], 0.5 * tR / 100, rel_tol=0.02)
    assert math.isclose(info["courant_gas"], info["cfl"] * (1 + an.retention_factor(col)))


# ---------------------------------------------------------------------------------------------
# mass balance and moments
# ---------------------------------------------------------------------------------------------
def _moments_of(t, y):
    m0 = integrate.trapezoid(y, t)
    m1 = integrate.trapezoid(t * y, t) / m0
    var = integrate.trapezoid((t - m1) ** 2 * y, t) / m0
    return m0, m1, var


@pytest.mark.parametrize("compressible", [True, False])
@pytest.mark.parametrize("D", [0.0, 1e-3])
def test_mass_balance(btex, compressible, D):
    col, an = btex
    col = col.replace(dispersion=D)
    t = np.linspace(0.0, 400.0, 40001)
    y, info = fd.outlet_response_fd(col, an[4], t, injection_time=4.0,
                                    compressible=compressible)
    m0 = col.u_out(compressible) * integrate.trapezoid(y, t)
    assert math.isclose(m0, col.u_in * 4.0, rel_tol=1e-8)
    assert info["mass_balance_error"] < 1e-12
    assert info["stopped_at"] is not None and info["mass_remaining"] < 1e-12


@pytest.mark.parametrize("D", [1e-3, 0.05, 0.5])
def test_first_moment_and_variance_with_dispersion(btex, D):
    """Constant velocity: mean t_M (1+k') + t_inj/2 and the closed-closed Danckwerts variance
    (moments() is exact for this case)."""
    col, an = btex
    col = col.replace(dispersion=D)
    t = np.linspace(0.0, 2500.0, 125001)
    y, _ = fd.outlet_response_fd(col, an[4], t, injection_time=4.0, compressible=False)
    m0, m1, var = _moments_of(t, y)
    mo = moments(col, an[4], injection_time=4.0, compressible=False)
    assert math.isclose(m0 * col.u_in, 4.0 * col.u_in, rel_tol=1e-8)
    assert math.isclose(m1, mo.retention_time, rel_tol=1e-8)
    assert math.isclose(var, mo.variance, rel_tol=1e-4)


def _steady_inventory(col, D):
    """int_0^L c* dx for u(x) c* - D c*' = u_in, c*'(L) = 0 (steady state of a unit inlet)."""
    u = col.velocity
    L, uin = col.length, col.u_in

    def rhs(x, yv):
        return [(u(x) * yv[0] - uin) / D, yv[0]]

    # integrate from the outlet (stable direction), c*(L) = u_in / u_out
    sol = integrate.solve_ivp(rhs, (L, 0.0), [uin / col.u_out(True), 0.0], method="Radau",
                              rtol=1e-12, atol=1e-15)
    return -sol.y[1, -1]


def test_first_moment_compressible_with_dispersion(btex):
    """Compressible flow with D > 0: the mean is the steady inventory over the flow,
    (1+k') int c* dx / u_in + t_inj/2, which is t_M (1+k') - (1+k') D (u_in^-2 - u_out^-2)/2
    + O(D^2), not exactly ``moments().retention_time``."""
    col, an = btex
    D = 1e-2
    col = col.replace(dispersion=D)
    a = an[4]
    kp = a.retention_factor(col)
    t = np.linspace(0.0, 800.0, 80001)
    y, _ = fd.outlet_response_fd(col, a, t, injection_time=4.0, compressible=True)
    _, m1, _ = _moments_of(t, y)
    mean = (1 + kp) * _steady_inventory(col, D) / col.u_in + 2.0
    assert math.isclose(m1, mean, rel_tol=1e-7)
    shift = -(1 + kp) * D * (col.u_in**-2 - col.u_out(True) ** -2) / 2
    mo = moments(col, a, injection_time=4.0, compressible=True)
    assert math.isclose(m1 - mo.retention_time, shift, rel_tol=2e-2)


def test_unretained_marker_with_dispersion(btex):
    """k_a = 0: a dispersed pulse, mean t_M + t_inj/2, Danckwerts variance."""
    col, _ = btex
    col = col.replace(dispersion=0.02)
    marker = Analyte("marker", 0.0, 1.0)
    t = np.linspace(0.0, 150.0, 30001)
    y, info = fd.outlet_response_fd(col, marker, t, injection_time=4.0, compressible=False)
    _, m1, var = _moments_of(t, y)
    mo = moments(col, marker, injection_time=4.0, compressible=False)
    assert math.isclose(m1, mo.retention_time, rel_tol=1e-9)
    assert math.isclose(var, mo.variance, rel_tol=1e-3)


# ---------------------------------------------------------------------------------------------
# output times, early stop, options, validation
# ---------------------------------------------------------------------------------------------
def test_output_times_any_increasing_array(short_case):
    col, an = short_case
    t = np.linspace(-5.0, 60.0, 1301)
    y, info = fd.outlet_response_fd(col, an, t, injection_time=1.0)
    assert np.all(y[t <= 0] == 0.0)
    ref, _ = outlet_response_exact(col, an, t, injection_time=1.0)
    assert peak_error(y, ref) < 1e-3
    # any subset with the same last time gives the same values (same steps, interpolation)
    idx = np.unique(np.r_[np.random.default_rng(0).choice(t.size, 200, replace=False),
                          t.size - 1])
    y2, _ = fd.outlet_response_fd(col, an, t[idx], injection_time=1.0, dt=info["dt"],
                                  n_cells=info["n_cells"])
    y1, _ = fd.outlet_response_fd(col, an, t, injection_time=1.0, dt=info["dt"],
                                  n_cells=info["n_cells"])
    assert np.max(np.abs(y2 - y1[idx])) <= 1e-14 * y1.max()
    # single time, before and during the injection
    assert fd.outlet_response_fd(col, an, [-1.0], injection_time=1.0)[0][0] == 0.0
    y3, info3 = fd.outlet_response_fd(col, an, [0.5], injection_time=1.0)
    assert y3.shape == (1,) and abs(y3[0]) < 1e-12 and info3["n_steps"] >= 1


def test_early_stop_zero_tail(short_case):
    col, an = short_case
    t = np.linspace(0.0, 5000.0, 50001)
    y, info = fd.outlet_response_fd(col, an, t, injection_time=1.0)
    assert info["stopped_at"] is not None and info["stopped_at"] < 200
    assert np.all(y[t > info["stopped_at"]] == 0.0)
    y0, info0 = fd.outlet_response_fd(col, an, t, injection_time=1.0, stop_tol=0.0)
    assert info0["stopped_at"] is None
    assert np.max(np.abs(y - y0)) < 1e-12 * y0.max()


def test_tighter_tol_is_more_accurate(short_case):
    col, an = short_case
    t = np.linspace(0.0, 60.0, 3001)
    ref, _ = outlet_response_exact(col, an, t, injection_time=1.0)
    errs, cells = [], []
    for tol in (1e-3, 1e-5):
        y, info = fd.outlet_response_fd(col, an, t, injection_time=1.0, tol=tol)
        errs.append(peak_error(y, ref))
        cells.append(info["n_cells"])
        assert errs[-1] < 3 * tol
    assert errs[1] < errs[0] / 10 and cells[1] > cells[0]


def test_work_limit_warns_for_unresolvable_pulse(btex, monkeypatch):
    col, _ = btex
    marker = Analyte("marker", 0.0, 1.0)  # no adsorption, no dispersion: a 1 ms box
    n, dt, _ = fd.default_resolution(col, marker, injection_time=1e-3, tol=1e-6)
    monkeypatch.setattr(fd, "_MAX_AUTO_WORK", 1e5)
    with pytest.warns(UserWarning, match="work limit"):
        _, info = fd.outlet_response_fd(col, marker, np.linspace(0, 60.0, 11),
                                        injection_time=1e-3, tol=1e-6)
    assert info["resolution_limited"]
    assert info["n_cells"] < n and info["dt"] > dt
    assert info["n_cells"] * info["n_steps"] < 2e5


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"n_cells": 5}, ValueError, "n_cells"),
    ({"n_cells": 50.0}, TypeError, "n_cells"),
    ({"dt": -1.0}, ValueError, "dt"),
    ({"cfl": 0.0}, ValueError, "cfl"),
    ({"dt": 0.1, "cfl": 1.0}, ValueError, "at most one of dt and cfl"),
    ({"order": 4}, ValueError, "order"),
    ({"time_scheme": "rk4"}, ValueError, "time_scheme"),
    ({"tol": 0.0}, ValueError, "tol"),
    ({"tol": 0.5}, ValueError, "tol"),
    ({"stop_tol": -1.0}, ValueError, "stop_tol"),
    ({"injection_time": 0.0}, ValueError, "injection_time"),
    ({"compressible": "yes"}, TypeError, "compressible"),
])
def test_invalid_options(short_case, kwargs, exc, match):
    col, an = short_case
    args = {"injection_time": 1.0, **kwargs}
    with pytest.raises(exc, match=match):
        fd.outlet_response_fd(col, an, np.linspace(0, 10, 11), **args)


def test_invalid_arguments(short_case):
    col, an = short_case
    with pytest.raises(ValueError, match="increasing"):
        fd.outlet_response_fd(col, an, [0.0, 2.0, 1.0], injection_time=1.0)
    with pytest.raises(ValueError, match="finite"):
        fd.outlet_response_fd(col, an, [0.0, np.nan], injection_time=1.0)
    with pytest.raises(TypeError, match="column"):
        fd.outlet_response_fd("column", an, [1.0], injection_time=1.0)
    with pytest.raises(TypeError, match="analyte"):
        fd.outlet_response_fd(col, "toluene", [1.0], injection_time=1.0)
    with pytest.raises(ValueError, match="n_cells"):
        simulate(col, an, [1.0, 2.0], injection_time=1.0, method="fd", n_cells=3)


# ---------------------------------------------------------------------------------------------
# the same results without numba
# ---------------------------------------------------------------------------------------------
_NOJIT_SCRIPT = """
import json, numpy as np
from sciflow import _jit
from sciflow.chromatography import Analyte, Column, fd
assert not _jit.JIT_ENABLED
col = Column(**json.loads({col!r}))
an = Analyte("a", 200.0, 8.0)
y, info = fd.outlet_response_fd(col, an, np.linspace(0, 40, 81), injection_time=1.0,
                                n_cells=16, dt=1.0, compressible=True)
print(json.dumps([y.tolist(), info["mass_balance_error"]]))
"""


def test_disable_jit_gives_the_same_result():
    colkw = dict(length=2.0, radius=90e-6, film_thickness=1e-6, temperature=353.15,
                 inlet_pressure=4.01e5, outlet_pressure=1.013e5, viscosity=2.3e-5,
                 inlet_velocity=0.41, dispersion=1e-4)
    env = {**os.environ, "SCIFLOW_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", _NOJIT_SCRIPT.format(col=json.dumps(colkw))],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    y_py, mb = json.loads(out.stdout.strip().splitlines()[-1])
    y, _ = fd.outlet_response_fd(Column(**colkw), Analyte("a", 200.0, 8.0),
                                 np.linspace(0, 40, 81), injection_time=1.0, n_cells=16,
                                 dt=1.0)
    assert np.max(np.abs(np.array(y_py) - y)) <= 1e-13 * np.max(np.abs(y))
    assert mb < 1e-12


# ---------------------------------------------------------------------------------------------
# the full BTEX column; heavier checks marked slow
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressible", [True, False])
def test_btex_spatial_order_full_column(btex, compressible):
    """Order 5 on the full 20 m column with o-xylene (the hardest analyte)."""
    col, an = btex
    t = np.linspace(0.0, 1000.0, 20000)
    ref, _ = outlet_response_exact(col, an[0], t, injection_time=4.0, compressible=compressible)
    cells = [300, 400, 550, 750]
    errs = []
    for n in cells:
        y, _ = fd.outlet_response_fd(col, an[0], t, injection_time=4.0,
                                     compressible=compressible, n_cells=n, dt=0.25)
        errs.append(peak_error(y, ref))
    p = fitted_order(1.0 / np.array(cells), errs)
    assert abs(p - 5) < 0.5, (p, errs)


@pytest.mark.parametrize("tol", [1e-3, 1e-5, pytest.param(1e-6, marks=pytest.mark.slow)])
def test_btex_error_model_tracks_tol(btex, tol):
    col, an = btex
    t = np.linspace(0.0, 1000.0, 20000)
    ref = simulate(col, an, t, injection_time=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch = simulate(col, an, t, injection_time=4.0, method="fd", tol=tol)
    errs = [peak_error(y, r) for y, r in zip(ch.components, ref.components, strict=True)]
    assert max(errs) < tol and min(errs) > tol / 10, errs


def test_resolved_dispersion_variance_converges(btex):
    """Large D (resolved outlet layer): the variance converges to the closed-closed value."""
    col, an = btex
    col = col.replace(dispersion=0.5)
    t = np.linspace(0.0, 6000.0, 300001)
    mo = moments(col, an[4], injection_time=4.0, compressible=False)
    errs = []
    for n in (25, 50, 100):
        y, _ = fd.outlet_response_fd(col, an[4], t, injection_time=4.0, compressible=False,
                                     n_cells=n, dt=0.25)
        errs.append(abs(_moments_of(t, y)[2] / mo.variance - 1))
    assert errs[-1] < 1e-6 and fitted_order(1.0 / np.array([25, 50, 100]), errs) > 3.5


@pytest.mark.slow
@pytest.mark.parametrize("compressible", [True, False])
def test_seventh_order_convergence(short_case, compressible):
    """Order 7 reaches its asymptotic rate only below 1e-8 (about 6.3-7.8 from 200 to 400
    cells, against 9-5 on coarser grids where the maximum error jumps between features)."""
    col, an = short_case
    t = np.linspace(0.0, 60.0, 3001)
    ref, _ = outlet_response_exact(col, an, t, injection_time=1.0, compressible=compressible)
    cells = [200, 280, 400]
    errs = []
    for n in cells:
        y, _ = fd.outlet_response_fd(col, an, t, injection_time=1.0, compressible=compressible,
                                     n_cells=n, dt=0.01, order=7)
        errs.append(peak_error(y, ref))
    assert abs(fitted_order(1.0 / np.array(cells), errs) - 7) < 1.0, errs
