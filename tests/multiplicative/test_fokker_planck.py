"""GBM Fokker–Planck solvers: conservation, positivity, accuracy and order against the exact
log-normal laws, and the numba kernel against its NumPy/SciPy reference.

Measured values (numba 0.68, this machine) are written beside each tolerance; tolerances carry
at most a 10x margin.
"""

import math

import numpy as np
import pytest

from sciflow.multiplicative import _kernels
from sciflow.multiplicative import fokker_planck as fp
from sciflow.multiplicative.fokker_planck import (
    FokkerPlanck2DResult,
    FokkerPlanckResult,
    solve_fokker_planck,
    solve_fokker_planck_2d,
)
from sciflow.multiplicative.gbm import GBM

GBM_CONST = GBM(0.32, 0.8)
GBM_TDEP = GBM(lambda t: 0.2 * math.cos(3.0 * t), lambda t: 0.4 + 0.6 * t)
B0 = 0.15  # sd of log X_0 (a narrow log-normal start)


def lognormal(gbm, t, a=0.0, b=B0):
    """Exact density of X_t when log X_0 ~ N(a, b^2): log X_t ~ N(a + m(t), b^2 + v(t))."""
    m = float(gbm.log_mean(t))
    s2 = b * b + float(gbm.log_variance(t))
    return lambda x: (np.exp(-((np.log(x) - a - m) ** 2) / (2 * s2))
                      / (np.sqrt(2 * np.pi * s2) * x))


def grid(n):
    return np.exp(np.linspace(-5.0, 4.0, n))


def slope(errors):
    """Observed orders log2(e_k / e_{k+1}) for a halving sequence."""
    e = np.asarray(errors)
    return np.log2(e[:-1] / e[1:])


def l1(res, ref_p):
    return float(np.sum(np.abs(res.p[-1] - ref_p) * res.widths))


# --------------------------------------------------------------------------- 1-D accuracy
def test_l1_error_below_1e4_on_moderate_grid():
    # 600 log-uniform cells on log x in [-5, 4] (spacing 0.015), TR-BDF2 with dt = 0.01
    x = grid(600)
    res = solve_fokker_planck(GBM_CONST, x, lognormal(GBM_CONST, 0.0)(x), [0.0, 0.25, 1.0],
                              dt=0.01)
    assert isinstance(res, FokkerPlanckResult)
    assert res.p.shape == (3, 600) and res.n_steps == 100 and res.n_fallback == 0
    np.testing.assert_array_equal(res.p[0], lognormal(GBM_CONST, 0.0)(x))
    assert res.l1_error(lognormal(GBM_CONST, 1.0)) < 1e-4         # measured 3.7e-5
    assert res.l1_error(lognormal(GBM_CONST, 0.25), k=1) < 1e-4   # measured 7.8e-5
    assert res.wall_time >= 0.0


def test_spatial_order_two():
    # dt = 1e-3 makes the time error negligible; L1 at t = 1 for 100, 200, 400 cells:
    # measured 1.52e-3, 3.76e-4, 9.39e-5 -> orders 2.02, 2.00
    errs = []
    for n in (100, 200, 400):
        x = grid(n)
        res = solve_fokker_planck(GBM_CONST, x, lognormal(GBM_CONST, 0.0)(x), 1.0, dt=1e-3)
        errs.append(res.l1_error(lognormal(GBM_CONST, 1.0)))
    assert np.all(np.abs(slope(errs) - 2.0) < 0.3), errs
    assert errs[-1] < 3e-4  # measured 9.4e-5


@pytest.mark.parametrize(("gbm", "method", "order", "measured"), [
    (GBM_CONST, "trbdf2", 2.0, (6.48e-4, 1.60e-4, 3.96e-5)),   # orders 2.02, 2.01
    (GBM_CONST, "euler", 1.0, (3.19e-2, 1.61e-2, 8.12e-3)),    # orders 0.98, 0.99
    (GBM_TDEP, "trbdf2", 2.0, (9.36e-4, 2.33e-4, 5.80e-5)),    # orders 2.01, 2.00
])
def test_time_order(gbm, method, order, measured):
    # time error alone: against a dt = 1e-4 TR-BDF2 solution on the same 200-cell grid
    x = grid(200)
    p0 = lognormal(gbm, 0.0)(x)
    ref = solve_fokker_planck(gbm, x, p0, 1.0, dt=1e-4).p[-1]
    errs = [l1(solve_fokker_planck(gbm, x, p0, 1.0, dt=dt, method=method), ref)
            for dt in (0.1, 0.05, 0.025)]
    assert np.all(np.abs(slope(errs) - order) < 0.3), errs
    assert errs[-1] < 10 * measured[-1]


def test_time_dependent_sigma_matches_exact_law():
    # mu(t) = 0.2 cos 3t, sigma(t) = 0.4 + 0.6 t; exact law from gbm.log_mean / log_variance
    x = grid(600)
    res = solve_fokker_planck(GBM_TDEP, x, lognormal(GBM_TDEP, 0.0)(x), [0.5, 1.0], dt=0.01)
    assert res.l1_error(lognormal(GBM_TDEP, 0.5), k=0) < 1e-3  # measured 1.4e-4
    assert res.l1_error(lognormal(GBM_TDEP, 1.0)) < 5e-4        # measured 6.2e-5
    # a start at t0 > 0 uses the coefficients from t0 on: log X_t - log X_t0 ~ N(m(t) - m(t0), ..)
    t0, t1 = 0.4, 1.0
    dm = float(GBM_TDEP.log_mean(t1) - GBM_TDEP.log_mean(t0))
    s2 = B0**2 + float(GBM_TDEP.log_variance(t1) - GBM_TDEP.log_variance(t0))
    r2 = solve_fokker_planck(GBM_TDEP, x, lognormal(GBM_TDEP, 0.0)(x), t1, t0=t0, dt=0.01)
    exact = np.exp(-((np.log(x) - dm) ** 2) / (2 * s2)) / (np.sqrt(2 * np.pi * s2) * x)
    assert l1(r2, exact) < 5e-4  # measured 7.9e-5


def test_arithmetic_faces_and_nonuniform_grid():
    # a linear grid with arithmetic faces, and a log grid with random jitter (geometric faces)
    g = GBM(0.1, 0.3)
    x = np.linspace(0.2, 6.0, 800)
    res = solve_fokker_planck(g, x, lognormal(g, 0.0, b=0.2)(x), 1.0, dt=0.01,
                              faces="arithmetic")
    np.testing.assert_allclose(res.faces[1:-1], 0.5 * (x[1:] + x[:-1]))
    assert res.l1_error(lognormal(g, 1.0, b=0.2)) < 2e-4  # measured 3.9e-5
    rng = np.random.default_rng(3)
    z = np.linspace(-3.0, 3.0, 600)
    z[1:-1] += rng.uniform(-0.3, 0.3, 598) * (z[1] - z[0])
    x = np.exp(z)
    res = solve_fokker_planck(g, x, lognormal(g, 0.0, b=0.2)(x), 1.0, dt=0.01)
    np.testing.assert_allclose(res.faces[1:-1], np.sqrt(x[1:] * x[:-1]))
    assert res.l1_error(lognormal(g, 1.0, b=0.2)) < 3e-4  # measured 8.7e-5


# --------------------------------------------------------------------------- conservation
@pytest.mark.parametrize("method", ["trbdf2", "euler"])
@pytest.mark.parametrize("gbm", [GBM_CONST, GBM_TDEP, GBM(3.0, 0.1)],
                         ids=["const", "tdep", "advective"])
def test_mass_conserved_to_round_off(gbm, method):
    x = grid(500)
    p0 = lognormal(GBM_CONST, 0.0)(x)
    p0[100:140] += 0.3  # a discontinuous bump as well
    res = solve_fokker_planck(gbm, x, p0, np.linspace(0.0, 2.0, 5), dt=2e-3, method=method)
    rel = np.max(np.abs(res.mass / res.mass[0] - 1.0))
    assert rel < 1e-12  # measured <= 1.7e-13 (1000 steps)
    np.testing.assert_allclose(res.mass, res.p @ res.widths, rtol=0, atol=0)


# --------------------------------------------------------------------------- positivity
@pytest.mark.parametrize("method", ["trbdf2", "euler"])
@pytest.mark.parametrize("gbm", [GBM_CONST, GBM(3.0, 0.1), GBM(-2.0, 0.3)],
                         ids=["diffusive", "advective+", "advective-"])
@pytest.mark.parametrize("dt", [1.0, 0.1, 0.01])
def test_positivity_discontinuous_initial_condition(gbm, method, dt):
    x = np.exp(np.linspace(-3.0, 3.0, 300))
    for p0 in (np.where((x > 1.0) & (x < 2.0), 1.0, 0.0), np.eye(300)[150]):
        res = solve_fokker_planck(gbm, x, p0, [0.0, 0.01, 0.3, 1.0], dt=dt, method=method)
        assert np.all(res.p >= 0.0)
        assert np.max(np.abs(res.mass / res.mass[0] - 1.0)) < 1e-12


def test_positivity_fallback_is_used_and_counted():
    # a one-cell spike with a 1.0 step: the raw TR-BDF2 step undershoots to -0.55 max(q)
    x = np.exp(np.linspace(-3.0, 3.0, 300))
    res = solve_fokker_planck(GBM_CONST, x, np.eye(300)[150], [1.0, 2.0], dt=1.0)
    assert res.n_fallback >= 1 and np.all(res.p >= 0)
    # smooth data at moderate steps never needs it
    x = grid(200)
    assert solve_fokker_planck(GBM_CONST, x, lognormal(GBM_CONST, 0.0)(x), 1.0,
                               dt=0.1).n_fallback == 0


# --------------------------------------------------------------------------- kernel vs NumPy
GBM_KERNEL = GBM(lambda t: 0.3 * math.cos(3.0 * t), lambda t: 0.8 - 0.3 * t)


def _kernel_case(scheme, spike):
    """A jittered log grid, time-dependent coefficients, uneven steps, repeated outputs."""
    rng = np.random.default_rng(7)
    z = np.sort(rng.uniform(-3.0, 3.0, 160))
    x = np.exp(z)
    w = np.diff(fp._faces(x, "geometric")) / x
    ell = np.diff(z)
    q0 = x * (np.eye(160)[80] * 50 if spike else lognormal(GBM_CONST, 0.0)(x))
    dts = np.concatenate((np.full(5, 0.3), rng.uniform(0.005, 0.05, 40)))
    starts = np.concatenate(([0.0], np.cumsum(dts)[:-1]))
    times = np.stack((starts, starts + _kernels.GAMMA * dts, starts + dts), -1).reshape(-1)
    coef = fp._coefficients(GBM_KERNEL, times).reshape(dts.size, 3, 2).copy()
    out_after = np.array([0, 3, 3, 20, 45], dtype=np.int64)
    return w, ell, q0, dts, coef, scheme, out_after


@pytest.mark.parametrize("scheme", [_kernels.SCHEME_TRBDF2, _kernels.SCHEME_EULER])
@pytest.mark.parametrize("spike", [False, True])
def test_kernel_matches_numpy_reference(scheme, spike):
    args = _kernel_case(scheme, spike)
    q_out = np.empty((args[-1].size, args[2].size))
    nfb = _kernels.march(*args, q_out)
    nfb_ref, q_ref = fp._march_reference(*args)
    assert nfb == nfb_ref
    if spike and scheme == _kernels.SCHEME_TRBDF2:
        assert nfb > 0  # the fallback path is exercised too
    scale = np.max(np.abs(q_ref), axis=1, keepdims=True)
    assert np.max(np.abs(q_out - q_ref) / scale) < 1e-12  # measured <= 3.6e-14


def test_tridiagonal_kernels_match_solve_banded():
    from scipy.linalg import solve_banded

    rng = np.random.default_rng(11)
    n = 50
    sub, sup = -rng.uniform(0, 1, n), -rng.uniform(0, 1, n)
    diag = 2.5 + rng.uniform(0, 1, n)
    rhs = rng.standard_normal(n)
    ib, ratio, out = np.empty(n), np.empty(n), np.empty(n)
    _kernels.tridiag_factor(sub, diag, sup, ib, ratio)
    _kernels.tridiag_solve(sub, ib, ratio, rhs, out)
    band = np.zeros((3, n))
    band[0, 1:], band[1], band[2, :-1] = sup[:-1], diag, sub[1:]
    np.testing.assert_allclose(out, solve_banded((1, 1), band, rhs), rtol=1e-13, atol=1e-14)
    # the operator: zero column sums (conservation), non-negative off-diagonals (M-matrix)
    ell = np.diff(np.sort(rng.uniform(-2, 2, n)))
    lo, di, up = np.empty(n), np.empty(n), np.empty(n)
    _kernels.assemble(ell, 0.7, 0.05, lo, di, up)
    ref = fp._operator_reference(ell, 0.7, 0.05)
    np.testing.assert_allclose(np.c_[up[:-1], lo[1:]], np.c_[ref[0, 1:], ref[2, :-1]],
                               rtol=1e-14)
    np.testing.assert_allclose(di, ref[1], rtol=1e-14)
    assert np.all(lo[1:] > 0) and np.all(up[:-1] > 0)
    np.testing.assert_allclose(di + np.r_[lo[1:], 0.0] + np.r_[0.0, up[:-1]], 0.0, atol=1e-13)


def test_kernel_runs_as_plain_python():
    # what SCIFLOW_DISABLE_JIT=1 runs: the undecorated function gives the same numbers
    args = _kernel_case(_kernels.SCHEME_TRBDF2, True)
    args = (args[0], args[1], args[2], args[3][:8], args[4][:8], args[5],
            np.array([0, 8], dtype=np.int64))
    a, b = np.empty((2, 160)), np.empty((2, 160))
    pyfunc = getattr(_kernels.march, "py_func", _kernels.march)
    assert _kernels.march(*args, a) == pyfunc(*args, b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14 * np.abs(b).max())


def test_bernoulli_function():
    z = np.array([-800.0, -30.0, -1e-9, 0.0, 1e-9, 1.0, 30.0, 800.0])
    got = np.array([_kernels.bernoulli(v) for v in z])
    with np.errstate(over="ignore"):
        ref = np.where(z == 0, 1.0, z / np.expm1(np.where(z == 0, 1.0, z)))
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    assert np.all(got >= 0) and got[0] == 800.0


# --------------------------------------------------------------------------- 2-D
MU2 = np.array([0.5, -0.2])
SIGMA2 = np.array([[0.5, 0.2], [-0.4, 0.3]])  # D = [[0.29, -0.14], [-0.14, 0.25]], rho = -0.52
A0 = np.array([0.1, -0.3])
C0 = np.array([[0.04, -0.01], [-0.01, 0.02]])


def bivariate(mu, Sigma, t, a0=A0, c0=C0):
    D = Sigma @ Sigma.T
    m = a0 + (mu - 0.5 * np.diag(D)) * t
    C = c0 + D * t
    Ci = np.linalg.inv(C)

    def p(x1, x2):
        y1, y2 = np.log(x1) - m[0], np.log(x2) - m[1]
        Q = Ci[0, 0] * y1 * y1 + 2 * Ci[0, 1] * y1 * y2 + Ci[1, 1] * y2 * y2
        return np.exp(-0.5 * Q) / (2 * np.pi * np.sqrt(np.linalg.det(C)) * x1 * x2)

    return p


def grid2(n):
    return np.exp(np.linspace(-2.3, 2.7, n)), np.exp(np.linspace(-2.6, 2.0, int(0.8 * n)))


@pytest.mark.parametrize(("Sigma", "measured"), [
    (SIGMA2, (8.86e-2, 2.06e-2, 4.93e-3)),                               # orders 2.11, 2.06
    (np.array([[0.6, 0.0], [0.35, 0.5]]), (7.06e-2, 1.62e-2, 3.85e-3)),  # rho = +0.57
])
def test_2d_against_bivariate_lognormal(Sigma, measured):
    # 24x19, 48x38, 96x76 log-uniform cells, TR-BDF2 with dt = 0.025, t = 0.5
    errs = []
    for n in (24, 48, 96):
        x1, x2 = grid2(n)
        res = solve_fokker_planck_2d(MU2, Sigma, x1, x2, bivariate(MU2, Sigma, 0.0)(
            x1[:, None], x2[None, :]), [0.0, 0.5], dt=0.025)
        errs.append(res.l1_error(bivariate(MU2, Sigma, 0.5)))
        assert res.m_matrix and res.n_factorisations == 1 and res.n_fallback == 0
        assert np.max(np.abs(res.mass / res.mass[0] - 1)) < 1e-12  # measured <= 1.6e-14
        assert np.all(res.p >= 0)
    assert isinstance(res, FokkerPlanck2DResult) and res.p.shape == (2, 96, 76)
    assert np.all(np.abs(slope(errs) - 2.0) < 0.3), errs
    assert errs[-1] < 2 * measured[-1]


def test_2d_time_order_and_euler():
    x1, x2 = grid2(32)
    p0 = bivariate(MU2, SIGMA2, 0.0)(x1[:, None], x2[None, :])
    ref = solve_fokker_planck_2d(MU2, SIGMA2, x1, x2, p0, 0.5, dt=1e-3).p[-1]

    def err(method, dt):
        r = solve_fokker_planck_2d(MU2, SIGMA2, x1, x2, p0, 0.5, dt=dt, method=method)
        return float(np.sum(np.abs(r.p[-1] - ref) * r.areas))

    e2 = [err("trbdf2", dt) for dt in (0.1, 0.05, 0.025)]  # 3.5e-3, 8.5e-4, 2.1e-4: 2.04, 2.02
    e1 = [err("euler", dt) for dt in (0.1, 0.05, 0.025)]   # 8.7e-2, 4.5e-2, 2.3e-2: 0.93, 0.96
    assert np.all(np.abs(slope(e2) - 2.0) < 0.3), e2
    assert np.all(np.abs(slope(e1) - 1.0) < 0.3), e1


def test_2d_strong_correlation_is_conservative_but_flagged():
    # rho = 0.95 on an isotropic log grid with unequal variances: not an M-matrix
    Sigma = np.linalg.cholesky(np.array([[0.5, 0.95 * math.sqrt(0.5 * 0.05)],
                                         [0.95 * math.sqrt(0.5 * 0.05), 0.05]]))
    x = np.exp(np.linspace(-2.5, 2.5, 30))
    p0 = np.zeros((30, 30))
    p0[12:18, 12:18] = 1.0
    res = solve_fokker_planck_2d([0.1, 0.0], Sigma, x, x, p0, [0.0, 0.2, 0.5], dt=0.05)
    assert not res.m_matrix
    assert np.max(np.abs(res.mass / res.mass[0] - 1)) < 1e-12  # measured 3.4e-15
    assert res.p.min() < 0  # measured -0.045: positivity is not guaranteed here


def test_2d_positivity_discontinuous():
    x1, x2 = grid2(30)
    p0 = np.zeros((x1.size, x2.size))
    p0[10:14, 8:12] = 1.0
    for method in ("trbdf2", "euler"):
        res = solve_fokker_planck_2d(MU2, SIGMA2, x1, x2, p0, [0.01, 0.1, 1.0], dt=0.5,
                                     method=method)
        assert res.m_matrix and np.all(res.p >= 0)
        assert np.max(np.abs(res.mass / res.mass[0] - 1)) < 1e-12


# --------------------------------------------------------------------------- plots
def test_plots_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = grid(50)
    r1 = solve_fokker_planck(GBM_CONST, x, lognormal(GBM_CONST, 0.0)(x), [0.0, 1.0])
    ax = r1.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    _, ax2 = plt.subplots()
    assert r1.plot(ax=ax2) is ax2
    with pytest.raises(TypeError, match="ax"):
        r1.plot(ax="nope")
    x1, x2 = grid2(12)
    r2 = solve_fokker_planck_2d(MU2, SIGMA2, x1, x2,
                                bivariate(MU2, SIGMA2, 0.0)(x1[:, None], x2[None, :]), 0.2)
    assert r2.plot().get_yscale() == "log"


# --------------------------------------------------------------------------- bad input
X = grid(20)
P0 = lognormal(GBM_CONST, 0.0)(X)


def _bad_sigma(t):
    return 0.8 if (t < 0.3 or t > 0.6) else -0.1  # passes GBM's check at t = 0 and 1


BAD_1D = [
    (TypeError, "gbm", lambda: solve_fokker_planck((0.3, 0.8), X, P0, 1.0)),
    (ValueError, "sigma", lambda: solve_fokker_planck(GBM(0.3, _bad_sigma), X, P0, 1.0)),
    (ValueError, "sigma", lambda: solve_fokker_planck(GBM(0.3, lambda t: 0.8 if t < 0.5
                                                          else math.nan), X, P0, 1.0)),
    (ValueError, "mu", lambda: solve_fokker_planck(GBM(lambda t: 0.0 if t in (0.0, 1.0)
                                                       else math.inf, 0.8), X, P0, 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, X[::-1], P0, 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, np.r_[X[:5], X[4:]],
                                                  np.ones(21), 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, np.linspace(-1, 1, 20), P0, 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, np.r_[X[:-1], np.nan], P0, 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, X[:2], P0[:2], 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, X.reshape(4, 5), P0, 1.0)),
    (ValueError, "x", lambda: solve_fokker_planck(GBM_CONST, np.linspace(0.1, 5, 20), P0, 1.0,
                                                  faces="arithmetic")),
    (TypeError, "x", lambda: solve_fokker_planck(GBM_CONST, ["a"] * 20, P0, 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, P0[:-1], 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, np.r_[P0[:-1], np.nan], 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, np.r_[P0[:-1], np.inf], 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, P0 - 0.01, 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, np.zeros(20), 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck(GBM_CONST, X, np.full(20, 1e308), 1.0)),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [1.0, 0.5])),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [0.5, 0.5])),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [0.1, 1.0], t0=0.2)),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [0.1, np.nan])),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [])),
    (ValueError, "t", lambda: solve_fokker_planck(GBM_CONST, X, P0, [[0.1, 1.0]])),
    (ValueError, "t0", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, t0=-1.0)),
    (TypeError, "t0", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, t0="0")),
    (ValueError, "dt", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, dt=0.0)),
    (ValueError, "dt", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, dt=math.nan)),
    (ValueError, "method", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, method="rk4")),
    (ValueError, "faces", lambda: solve_fokker_planck(GBM_CONST, X, P0, 1.0, faces="mid")),
]

X1, X2 = grid2(10)
P2 = bivariate(MU2, SIGMA2, 0.0)(X1[:, None], X2[None, :])

BAD_2D = [
    (ValueError, "mu", lambda: solve_fokker_planck_2d([0.1], SIGMA2, X1, X2, P2, 1.0)),
    (ValueError, "mu", lambda: solve_fokker_planck_2d([0.1, np.nan], SIGMA2, X1, X2, P2, 1.0)),
    (ValueError, "Sigma", lambda: solve_fokker_planck_2d(MU2, np.eye(3), X1, X2, P2, 1.0)),
    (ValueError, "Sigma", lambda: solve_fokker_planck_2d(MU2, [[1, 2], [2, 4]], X1, X2, P2,
                                                         1.0)),
    (ValueError, "Sigma", lambda: solve_fokker_planck_2d(MU2, np.zeros((2, 2)), X1, X2, P2,
                                                         1.0)),
    (ValueError, "Sigma", lambda: solve_fokker_planck_2d(MU2, [[np.inf, 0], [0, 1]], X1, X2,
                                                         P2, 1.0)),
    (ValueError, "x1", lambda: solve_fokker_planck_2d(MU2, SIGMA2, np.linspace(1, 2, 10), X2,
                                                      P2, 1.0)),
    (ValueError, "x1", lambda: solve_fokker_planck_2d(MU2, SIGMA2, -X1, X2, P2, 1.0)),
    (ValueError, "x2", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2[::-1], P2, 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2.T, 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, -P2, 1.0)),
    (ValueError, "p0", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, 0 * P2, 1.0)),
    (ValueError, "t", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2, [1.0, 1.0])),
    (ValueError, "dt", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2, 1.0, dt=-1)),
    (ValueError, "method", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2, 1.0,
                                                          method="bdf9")),
    (TypeError, "progress", lambda: solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2, 1.0,
                                                           progress="yes")),
]


@pytest.mark.parametrize(("exc", "name", "call"), BAD_1D + BAD_2D)
def test_bad_input_names_the_parameter(exc, name, call):
    with pytest.raises(exc, match=name):
        call()


def test_output_at_t0_only():
    res = solve_fokker_planck(GBM_CONST, X, P0, 0.0)
    assert res.n_steps == 0 and np.array_equal(res.p[0], P0)
    res2 = solve_fokker_planck_2d(MU2, SIGMA2, X1, X2, P2, [0.0])
    assert res2.n_steps == 0 and np.array_equal(res2.p[0], P2)


def test_scalar_time_and_default_steps():
    res = solve_fokker_planck(GBM_CONST, X, P0, 0.5)
    assert res.t.shape == (1,) and res.p.shape == (1, 20) and res.n_steps == 200
    res = solve_fokker_planck(GBM_CONST, X, P0, [0.0, 0.001, 0.5], dt=0.1)
    assert res.n_steps == 6  # 1 step to 0.001, 5 to 0.5
