"""Samplers: convergence orders against the exact PF-ODE solution, NFE accounting, options,
robustness (no NaN/inf anywhere); bad input is in test_bad_input.py."""


import numpy as np
import pytest

from sciflow.sampling import (
    SOLVERS,
    SPACINGS,
    EDMSchedule,
    FlowSchedule,
    GaussianMixture,
    SampleResult,
    VPSchedule,
    sample,
)


@pytest.fixture(scope="module")
def vp_case(mixture):
    s = VPSchedule()
    x_T = np.random.default_rng(1).standard_normal((64, 2))
    exact = mixture.exact_ode_solution(x_T, s, s.t_start, s.t_end)
    return mixture.bind(s), s, x_T, exact


def _observed_order(case, solver, nfes, **kw):
    model, s, x_T, exact = case
    errs = [np.mean(np.linalg.norm(sample(model, x_T, s, solver=solver, nfe=n,
                                          lower_order_final=False, **kw) - exact, axis=1))
            for n in nfes]
    return -np.polyfit(np.log(nfes), np.log(errs), 1)[0], errs


# Observed on this mixture (VP linear, uniform log-SNR steps, 1 -> 1e-3), asymptotic range.
ORDERS = [
    ("ddim", [20, 40, 80, 160], {}, 1),
    ("dpm_solver_1", [20, 40, 80, 160], {}, 1),
    ("dpm_solver_2", [48, 96, 192], {}, 2),
    ("dpm_solver_3", [96, 192, 384], {}, 3),
    ("dpmpp_2m", [24, 48, 96, 192], {}, 2),
    ("dpmpp_2m", [24, 48, 96, 192], {"solver_type": "taylor"}, 2),
    ("dpmpp_3m", [48, 96, 192, 384], {}, 3),
    ("unipc_2", [48, 96, 192], {"disable_corrector": True}, 2),  # UniP-2 alone
    ("unipc_2", [48, 96, 192], {}, 3),  # the corrector raises the order by one
    ("heun", [48, 96, 192], {}, 2),
    ("euler", [24, 48, 96, 192], {}, 1),
]


@pytest.mark.parametrize("solver, nfes, kw, order", ORDERS,
                         ids=[f"{o[0]}{'-' + '-'.join(map(str, o[2].values())) if o[2] else ''}"
                              for o in ORDERS])
def test_convergence_order(vp_case, solver, nfes, kw, order):
    p, errs = _observed_order(vp_case, solver, nfes, **kw)
    assert abs(p - order) < 0.3, (p, errs)
    assert errs[-1] < errs[0]


def test_paper_third_order_weight_is_second_order(vp_case):
    """The D_2 weight of the DPM-Solver++ paper / diffusers (half the Taylor weight) makes 3M
    a second-order method; the default (Taylor) weight gives third order."""
    p, _ = _observed_order(vp_case, "dpmpp_3m", [48, 96, 192, 384], third_order_weight="paper")
    assert abs(p - 2) < 0.3


def test_accuracy_at_small_nfe(vp_case):
    model, s, x_T, exact = vp_case
    err = {sv: np.mean(np.linalg.norm(sample(model, x_T, s, solver=sv, nfe=10) - exact, axis=1))
           for sv in ("ddim", "dpmpp_2m", "dpmpp_3m", "unipc_2")}
    # measured: ddim 0.219, dpmpp_2m 0.070, dpmpp_3m 0.099, unipc_2 0.059
    assert err["dpmpp_2m"] < err["ddim"] and err["unipc_2"] < err["ddim"]
    assert err["unipc_2"] < err["dpmpp_2m"]  # the corrector's extra order
    assert err["ddim"] < 0.3 and max(err["dpmpp_2m"], err["dpmpp_3m"], err["unipc_2"]) < 0.15


# ------------------------------------------------------------------ NFE accounting, plans
@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("nfe", [1, 2, 3, 4, 7, 10, 16])
def test_nfe_is_exact(vp_case, solver, nfe):
    model, s, x_T, _ = vp_case
    for t_end in (None, 0.0):
        r = sample(model, x_T[:4], s, solver=solver, nfe=nfe, t_end=t_end, rng=0,
                   return_info=True)
        assert r.nfe == nfe
        assert len(r.trajectory) == len(r.times) == len(r.orders) + 1
        cost = sum(r.orders) if SOLVERS[solver].singlestep and SOLVERS[solver].order > 1 \
            else len(r.orders)
        assert cost == nfe
        assert np.array_equal(r.trajectory[0], x_T[:4])


def test_singlestep_plans(vp_case):
    model, s, x_T, _ = vp_case
    plan = lambda sv, n, **kw: sample(model, x_T[:2], s, solver=sv, nfe=n,  # noqa: E731
                                      return_info=True, **kw).orders
    assert plan("dpm_solver_3", 9) == (3, 3, 2, 1)  # DPM-Solver's recipe, nfe % 3 == 0
    assert plan("dpm_solver_3", 10) == (3, 3, 3, 1)
    assert plan("dpm_solver_3", 11) == (3, 3, 3, 2)
    assert plan("dpm_solver_3", 9, lower_order_final=False) == (3, 3, 3)
    assert plan("dpm_solver_2", 7) == (2, 2, 2, 1)
    assert plan("heun", 6) == (2, 2, 2)
    # the step to sigma = 0 is a one-evaluation Euler step: Karras Alg. 1, 2N - 1 NFE
    e = EDMSchedule()
    r = sample(_bind(e), x_T[:2] * 80, e, solver="heun", nfe=7, t_end=0.0, return_info=True)
    assert r.orders == (2, 2, 2, 1) and r.times[-1] == 0.0
    assert plan("dpm_solver_3", 7, t_end=0.0) == (3, 3, 1)


_MIX = None


def _bind(schedule):
    global _MIX
    if _MIX is None:
        _MIX = GaussianMixture([0.5, 0.5], [[1.0, 1.0], [-1.0, 0.5]],
                               np.stack([0.1 * np.eye(2), 0.05 * np.eye(2)]))
    return _MIX.bind(schedule)


def test_multistep_plans(vp_case):
    model, s, x_T, _ = vp_case
    r = sample(model, x_T[:2], s, solver="dpmpp_3m", nfe=10, return_info=True)
    assert r.orders == (1, 2, 3, 3, 3, 3, 3, 3, 2, 1)
    r = sample(model, x_T[:2], s, solver="dpmpp_3m", nfe=20, return_info=True)
    assert r.orders == (1, 2) + (3,) * 18  # lower_order_final only below 15 steps
    r = sample(model, x_T[:2], s, solver="unipc_2", nfe=5, t_end=0.0, return_info=True,
               lower_order_final=False)
    assert r.orders == (1, 2, 2, 2, 1)  # the step to sigma = 0 is first order
    f = FlowSchedule()
    r = sample(_bind(f), x_T[:2], f, solver="dpmpp_3m", nfe=6, spacing="uniform_lambda",
               return_info=True, lower_order_final=False)
    assert r.orders == (1, 1, 2, 3, 3, 1)  # no history across the alpha = 0 start


def test_denoise_to_zero(vp_case):
    model, s, x_T, _ = vp_case
    r = sample(model, x_T, s, solver="dpmpp_2m", nfe=8, denoise_to_zero=True, return_info=True)
    assert r.nfe == 8 and len(r.orders) == 7 and r.times[-1] == 0.0
    np.testing.assert_array_equal(r.x, model.predict(r.trajectory[-2], r.times[-2], "x0"))
    # already at sigma = 0: nothing to do, no evaluation reserved
    r0 = sample(model, x_T, s, solver="dpmpp_2m", nfe=8, t_end=0.0, denoise_to_zero=True,
                return_info=True)
    assert len(r0.orders) == 8


def test_zero_sigma_final_step_is_the_data_prediction(vp_case):
    model, s, x_T, _ = vp_case
    # (UniPC is left out: its last step reuses the evaluation at the uncorrected state)
    for solver in ("ddim", "dpm_solver_3", "dpmpp_3m", "heun", "dpmpp_2m_sde"):
        r = sample(model, x_T, s, solver=solver, nfe=12, t_end=0.0, rng=0, return_info=True)
        assert r.times[-1] == 0.0
        x0 = model.predict(r.trajectory[-2], r.times[-2], "x0")
        # exact in floating point: sigma' = 0 and expm1(-inf) = -1 make the step 0*x + 1*x0
        np.testing.assert_array_equal(r.x, x0)


def test_equivalences(vp_case):
    model, s, x_T, _ = vp_case
    a = sample(model, x_T, s, solver="ddim", nfe=12)
    np.testing.assert_array_equal(a, sample(model, x_T, s, solver="dpm_solver_1", nfe=12))
    # UniP-2 (bh2) without corrector is DPM-Solver++(2M): the same formula evaluated by two
    # classes (measured: bit-identical; allowed: a few ulps per step, 12 steps, |x| ~ 1)
    np.testing.assert_allclose(
        sample(model, x_T, s, solver="unipc_2", nfe=12, disable_corrector=True),
        sample(model, x_T, s, solver="dpmpp_2m", nfe=12), rtol=0, atol=1e-14)
    # DDIM (noise prediction) equals the first-order data-prediction step; the eps <-> x0
    # conversion divides by alpha(1) = 0.0066 (measured 8.8e-14)
    r1 = sample(model, x_T, s, solver="dpmpp_3m", steps=[1.0, 0.5], return_info=True)
    r2 = sample(model, x_T, s, solver="ddim", steps=[1.0, 0.5])
    np.testing.assert_allclose(r1.x, r2, rtol=0, atol=5e-13)


def test_heun_is_karras_algorithm_1_on_edm():
    e = EDMSchedule()
    model = _bind(e)
    x = np.random.default_rng(2).standard_normal((8, 2)) * 80
    steps = np.array([80.0, 10.0, 1.0, 0.0])
    got = sample(model, x, e, solver="heun", steps=steps)
    for i in range(3):  # Karras et al. (2022), Algorithm 1
        s, s_n = steps[i], steps[i + 1]
        d = (x - model.predict(x, s, "x0")) / s
        x_e = x + (s_n - s) * d
        if s_n > 0:
            d2 = (x_e - model.predict(x_e, s_n, "x0")) / s_n
            x = x + (s_n - s) * 0.5 * (d + d2)
        else:
            x = x_e
    np.testing.assert_allclose(got, x, rtol=0, atol=1e-14)  # measured 1.5e-15


def test_flow_euler_step():
    f = FlowSchedule(shift=3.0)
    model = _bind(f)
    x = np.random.default_rng(3).standard_normal((8, 2))
    r = sample(model, x, f, solver="euler", nfe=4, return_info=True)
    np.testing.assert_array_equal(r.times, f.timesteps(4, "uniform_t"))  # the same call
    y = x
    for t, t_n in zip(r.times[:-1], r.times[1:], strict=True):
        y = y + (t_n - t) * (model.predict(y, t, "eps") - model.predict(y, t, "x0"))
    # measured: bit-identical; allowed: a few ulps per step (4 steps, |x| ~ 1)
    np.testing.assert_allclose(r.x, y, rtol=0, atol=1e-14)


def test_explicit_steps_and_repeated_levels(vp_case):
    model, s, x_T, _ = vp_case
    steps = s.timesteps(6, "karras")
    a = sample(model, x_T, s, solver="dpmpp_3m", steps=steps, return_info=True)
    b = sample(model, x_T, s, solver="dpmpp_3m", steps=np.append(steps, steps[-1]),
               return_info=True)
    np.testing.assert_array_equal(a.x, b.x)
    assert b.nfe == 6 and np.array_equal(a.times, b.times)
    c = sample(model, x_T, s, solver="dpm_solver_3", steps=steps, nfe=10, return_info=True)
    assert c.nfe == 10 and c.orders == (3, 3, 1, 1, 1, 1)


def test_sde_solvers(mixture):
    s = VPSchedule()
    model = mixture.bind(s)
    x_T = np.random.default_rng(4).standard_normal((3000, 2))
    for solver in ("dpmpp_2m_sde", "dpmpp_3m_sde"):
        a = sample(model, x_T, s, solver=solver, nfe=60, rng=5, t_end=0.0)
        np.testing.assert_array_equal(a, sample(model, x_T, s, solver=solver, nfe=60, rng=5,
                                                t_end=0.0))
        assert not np.array_equal(a, sample(model, x_T, s, solver=solver, nfe=60, rng=6,
                                            t_end=0.0))
        # Monte Carlo, 3000 samples: standard errors 0.017 (mean) and 0.017-0.023
        # (covariance entries); the bounds are ~3.5 of them (measured at most 0.006 and 0.022)
        np.testing.assert_allclose(a.mean(0), mixture.mean(), atol=0.06)
        np.testing.assert_allclose(np.cov(a.T), mixture.covariance(), atol=0.08)


def test_types_and_result(vp_case):
    model, s, x_T, _ = vp_case
    x32 = x_T.astype(np.float32)
    out = sample(model, x32, s, solver="unipc_2", nfe=10)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, sample(model, x_T, s, solver="unipc_2", nfe=10), rtol=0,
                               atol=4e-6)  # float32 round-off: measured 5.0e-7
    out = sample(model, x_T[:3].tolist(), s, solver="ddim", nfe=3)
    assert out.dtype == np.float64 and out.shape == (3, 2)
    r = sample(model, x_T, s, solver="dpmpp_2m", nfe=5, return_info=True)
    assert isinstance(r, SampleResult) and r.solver == "dpmpp_2m" and r.wall_time >= 0
    assert r.nfe == 5 and r.orders == (1, 2, 2, 2, 1) and len(r.trajectory) == 6
    np.testing.assert_array_equal(r.x, r.trajectory[-1])
    np.testing.assert_array_equal(r.times, s.timesteps(5, "uniform_lambda"))
    ax = r.plot(n_paths=7, dims=(1, 0))  # paths in the (x[1], x[0]) plane
    lines = ax.get_lines()
    assert len(lines) == 7
    traj = np.stack(r.trajectory)
    np.testing.assert_array_equal(lines[2].get_xdata(), traj[:, 2, 1])
    np.testing.assert_array_equal(lines[2].get_ydata(), traj[:, 2, 0])
    assert ax.get_xlabel() == "x[1]" and ax.get_ylabel() == "x[0]"


# ------------------------------------------------------------------ robustness
def _sweep(schedules, nfes, dtypes=("float32", "float64"), solvers=None, n=3):
    """Every solver x spacing x final noise (0, t_eps) x NFE x dtype: finite, exact NFE."""
    bad = []
    rng = np.random.default_rng(7)
    for s in schedules:
        model = _bind(s)
        for solver in solvers or SOLVERS:
            for spacing in SPACINGS:
                for t_end in (0.0, s.t_eps):
                    for dt in dtypes:
                        x_T = (rng.standard_normal((n, 2)) * float(s.sigma(s.t_start))).astype(dt)
                        for nfe in nfes:
                            r = sample(model, x_T, s, solver=solver, nfe=nfe, spacing=spacing,
                                       t_end=t_end, rng=0, return_info=True)
                            if not (np.all(np.isfinite(r.x)) and r.nfe == nfe
                                    and r.x.dtype == x_T.dtype):
                                bad.append((type(s).__name__, solver, spacing, t_end, dt, nfe))
    return bad


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_robustness_reduced(solver):
    nfes = [1, 2, 3, 4, 5, 6, 8, 11, 200]
    bad = _sweep([VPSchedule()], nfes, solvers=[solver])
    bad += _sweep([EDMSchedule(), FlowSchedule(shift=3.0), VPSchedule("cosine")], [1, 2, 3, 7],
                  solvers=[solver])
    assert not bad, bad[:10]


@pytest.mark.slow
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_robustness_full(solver):
    """NFE 1..200 on VP linear; cosine VP, EDM and flow on 1..40 and a few larger NFE."""
    bad = _sweep([VPSchedule()], range(1, 201), solvers=[solver])
    others = [VPSchedule("cosine"), EDMSchedule(), FlowSchedule(shift=3.0)]
    bad += _sweep(others, list(range(1, 41)) + [64, 100, 128, 200], solvers=[solver])
    assert not bad, bad[:10]


# ------------------------------------------------------------------ other models
# (bad input: the table in test_bad_input.py)
def test_generic_model_without_dim(vp_case):
    """Any object with predict works; float64 outputs for float32 input are cast back."""
    model, s, x_T, _ = vp_case

    class Wrapped:
        def predict(self, x, t, kind="eps"):
            return np.asarray(model.predict(np.asarray(x, dtype=np.float64), t, kind))

    out = sample(Wrapped(), x_T.astype(np.float32), s, solver="dpmpp_2m", nfe=6)
    assert out.dtype == np.float32
    ref = sample(model, x_T, s, solver="dpmpp_2m", nfe=6)
    np.testing.assert_allclose(out, ref, rtol=0, atol=3e-6)  # float32 state: measured 3.5e-7
