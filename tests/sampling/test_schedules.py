"""Noise schedules: closed forms, round trips, derivatives, spacings, validation."""

import dataclasses
import math

import numpy as np
import pytest

from sciflow.sampling import SPACINGS, EDMSchedule, FlowSchedule, VPSchedule

SCHEDULES = [
    VPSchedule(),
    VPSchedule(beta_min=0.5, beta_max=0.5),
    VPSchedule("cosine"),
    EDMSchedule(),
    FlowSchedule(),
    FlowSchedule(shift=3.0),
]
IDS = ["vp-linear", "vp-const", "vp-cosine", "edm", "flow", "flow-shift3"]


def _interior_times(s):
    hi = 79.0 if isinstance(s, EDMSchedule) else 0.999
    return np.concatenate([np.geomspace(1e-6, 1e-2, 9), np.linspace(0.02, hi, 40)])


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
def test_lambda_round_trips(s):
    t = _interior_times(s)
    lam = s.lambda_(t)
    # measured: relative 1.6e-15 (t), absolute 1.1e-13 (lambda up to ~14)
    np.testing.assert_allclose(s.t_from_lambda(lam), t, rtol=1.5e-14, atol=0)
    np.testing.assert_allclose(s.lambda_(s.t_from_lambda(lam)), lam, rtol=0, atol=1e-12)
    assert np.all(np.diff(lam) < 0)  # decreasing in t


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
def test_alpha_sigma_lambda_consistent(s):
    t = _interior_times(s)
    a, sg = s.alpha(t), s.sigma(t)
    np.testing.assert_allclose(s.lambda_(t), np.log(a / sg), rtol=0, atol=8e-15)  # 8.9e-16
    np.testing.assert_array_equal(np.exp(s.log_alpha(t)), a)  # alpha is exp(log alpha)
    np.testing.assert_array_equal(np.exp(s.log_sigma(t)), sg)
    if isinstance(s, VPSchedule):
        np.testing.assert_allclose(a**2 + sg**2, 1.0, rtol=2e-15)  # measured 2.2e-16
    elif isinstance(s, EDMSchedule):
        np.testing.assert_array_equal(a, 1.0)
        np.testing.assert_allclose(sg, t, rtol=1e-15)
    else:
        np.testing.assert_allclose(a, 1.0 - t, rtol=1e-15)
        np.testing.assert_allclose(sg, t, rtol=1e-15)


def test_closed_forms():
    s = VPSchedule()
    t = 0.3
    la = -0.1 * t / 2 - (20.0 - 0.1) * t * t / 4
    assert s.log_alpha(t) == pytest.approx(la, rel=1e-15)
    assert s.sigma(t) == pytest.approx(math.sqrt(1 - math.exp(2 * la)), rel=1e-14)
    c = VPSchedule("cosine")
    f = lambda u: math.cos(math.pi / 2 * (u + 0.008) / 1.008)  # noqa: E731
    assert c.alpha(0.4) == pytest.approx(f(0.4) / f(0.0), rel=1e-14)
    assert isinstance(s.alpha(0.5), np.float64)  # scalars in, scalars out


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
def test_derivatives_match_finite_differences(s):
    t = np.linspace(0.05, 0.9, 12) * (50.0 if isinstance(s, EDMSchedule) else 1.0)
    d = 1e-6 * np.maximum(t, 1.0)
    fd = lambda f: (f(t + d) - f(t - d)) / (2 * d)  # noqa: E731
    # central differences with d = 1e-6 max(t, 1): round-off ~eps |f| / d ~ 2e-10 |f|
    # (measured: 1.5e-10, 1.7e-10 and 2.9e-9 absolute; relative at most 4.4e-9)
    np.testing.assert_allclose(s.dalpha(t), fd(s.alpha), rtol=0, atol=1.4e-9)
    np.testing.assert_allclose(s.dsigma(t), fd(s.sigma), rtol=0, atol=1.5e-9)
    np.testing.assert_allclose(s.dlambda(t), fd(s.lambda_), rtol=0, atol=2e-8)
    np.testing.assert_allclose(s.sigma_dsigma(t), s.sigma(t) * s.dsigma(t), rtol=1.5e-15)


def test_ends_of_the_domain():
    for s in (VPSchedule(), VPSchedule("cosine"), EDMSchedule(), FlowSchedule()):
        assert s.sigma(0.0) == 0.0 and s.alpha(0.0) == 1.0 and s.lambda_(0.0) == np.inf
        assert s.t_from_lambda(np.inf) == 0.0
        assert np.isfinite(s.sigma_dsigma(0.0))
    for s in (VPSchedule("cosine"), FlowSchedule()):
        assert s.alpha(1.0) == 0.0 and s.lambda_(1.0) == -np.inf
        assert s.t_from_lambda(-np.inf) == 1.0
        assert np.isfinite(s.sigma_dsigma(1.0))
    assert VPSchedule().dsigma(0.0) == np.inf


def test_defaults():
    assert (VPSchedule().t_start, VPSchedule().t_end) == (1.0, 1e-3)
    assert (EDMSchedule().t_start, EDMSchedule().t_end) == (80.0, 0.002)
    assert (FlowSchedule().t_start, FlowSchedule().t_end) == (1.0, 0.0)
    assert VPSchedule("cosine").t_start == 0.9946


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("n", [1, 2, 5, 8, 50])
def test_timesteps_shape_order_ends(s, spacing, n):
    for t_end in (None, 0.0):
        ts = s.timesteps(n, spacing, t_end=t_end)
        assert ts.shape == (n + 1,) and ts.dtype == np.float64
        assert ts[0] == s.t_start
        assert np.all(np.diff(ts) < 0)
        end = s.t_end if t_end is None else t_end
        if s.sigma(end) == 0.0 or spacing != "karras_truncated":
            assert ts[-1] == end
        else:
            assert ts[-1] > s.t_end  # the truncated schedule stops early


def test_spacings_are_what_they_say():
    s = VPSchedule()
    ts = s.timesteps(10, "uniform_lambda")
    # measured relative spreads: 1.0e-15, 2.9e-15, 1.2e-15
    np.testing.assert_allclose(np.diff(s.lambda_(ts)), np.diff(s.lambda_(ts))[0], rtol=1e-14)
    ts = s.timesteps(10, "karras", rho=5.0)
    q = np.exp(-s.lambda_(ts)) ** (1 / 5.0)
    np.testing.assert_allclose(np.diff(q), np.diff(q)[0], rtol=2.5e-14)
    ts = s.timesteps(10, "quadratic")
    np.testing.assert_allclose(np.diff(np.sqrt(ts)), np.diff(np.sqrt(ts))[0], rtol=1e-14)
    np.testing.assert_array_equal(s.timesteps(4, "uniform_t"), np.linspace(1.0, 1e-3, 5))
    e = EDMSchedule()
    ts = e.timesteps(6)  # EDM default: Karras with the schedule's rho
    expect = (80 ** (1 / 7) + np.linspace(0, 1, 7) * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    np.testing.assert_allclose(ts, expect, rtol=1.5e-14)  # measured 1.5e-15
    # sigma -> 0 convention: n Karras levels then 0 (the same computation: bit-identical)
    np.testing.assert_array_equal(e.timesteps(6, t_end=0.0)[:-1], e.timesteps(5))


def test_flow_shift():
    f = FlowSchedule(shift=3.0)
    ts = f.timesteps(8, "uniform_t")
    u = f.unshift_time(ts)
    np.testing.assert_allclose(u, np.linspace(1, 0, 9), rtol=0, atol=1e-15)  # 1.1e-16
    np.testing.assert_allclose(ts, 3 * u / (1 + 2 * u), rtol=0, atol=1e-15)  # 1.1e-16
    np.testing.assert_allclose(f.shift_time(f.unshift_time(0.3)), 0.3, rtol=1e-15)
    # in log-SNR the shift is a translation by -log(s)
    np.testing.assert_allclose(f.lambda_(f.shift_time(0.3)), f.lambda_(0.3) - math.log(3.0),
                               rtol=1.3e-14)  # measured 1.3e-15


def test_karras_truncated_follows_the_paper_recipe():
    """Li (2025) arXiv:2510.02390, authors' code: 5 steps -> Karras(8 levels, rho 5), stop at
    level 6, re-space 6 times between t(sigma_max) and that time with power 1.2 in time."""
    s = VPSchedule()
    st = lambda t: np.exp(-s.lambda_(t))  # noqa: E731  sigma/alpha
    smax, smin = st(1.0), st(1e-3)
    karras = (smax ** (1 / 5) + np.linspace(0, 1, 8) * (smin ** (1 / 5) - smax ** (1 / 5))) ** 5
    t_k = s.t_from_lambda(-np.log(karras[6]))
    expect = (1.0 + np.linspace(0, 1, 6) * (t_k ** (1 / 1.2) - 1.0)) ** 1.2
    np.testing.assert_allclose(s.timesteps(5, "karras_truncated"), expect, rtol=1e-15)  # 1.1e-16
    # 8 steps: Karras(12, rho 7), level 9
    karras = (smax ** (1 / 7) + np.linspace(0, 1, 12) * (smin ** (1 / 7) - smax ** (1 / 7))) ** 7
    t_k = s.t_from_lambda(-np.log(karras[9]))
    assert s.timesteps(8, "karras_truncated")[-1] == pytest.approx(t_k, rel=1e-15)  # measured 0
    ts = s.timesteps(5, "karras_truncated", karras_points=10, truncate_index=8, rho=7.0)
    assert ts.size == 6


def test_zero_end_and_infinite_start_conventions():
    s = VPSchedule()
    ts = s.timesteps(5, "uniform_lambda", t_end=0.0)
    assert ts[-1] == 0.0 and ts[-2] == s.t_eps
    f = FlowSchedule()
    ts = f.timesteps(5, "uniform_lambda")
    assert ts[0] == 1.0 and ts[1] == f.t_max_finite and ts[-2] == f.t_eps and ts[-1] == 0.0
    assert list(f.timesteps(1, "karras")) == [1.0, 0.0]
    assert f.timesteps(2, "uniform_lambda")[1] == pytest.approx(0.5)


def test_training_time_samplers():
    rng = np.random.default_rng(0)
    t = FlowSchedule().sample_training_t(20000, rng)
    assert np.all((t > 0) & (t < 1))
    assert np.median(t) == pytest.approx(0.5, abs=0.02)
    z = np.log(t / (1 - t))
    assert z.std() == pytest.approx(1.0, abs=0.03)
    assert np.mean(FlowSchedule(shift=3.0).sample_training_t(20000, 1, shifted=True)) > 0.6
    sig = EDMSchedule().sample_training_t(20000, rng)
    assert np.log(sig).mean() == pytest.approx(-1.2, abs=0.03)
    tv = VPSchedule().sample_training_t(1000, rng)
    assert tv.min() >= 1e-5 and tv.max() <= 1.0


def test_edm_preconditioning():
    c_skip, c_out, c_in, c_noise = EDMSchedule(sigma_data=0.5).preconditioning(0.5)
    assert c_skip == pytest.approx(0.5) and c_in == pytest.approx(1 / math.sqrt(0.5))
    assert c_out == pytest.approx(0.25 / math.sqrt(0.5)) and c_noise == pytest.approx(
        0.25 * math.log(0.5))


@pytest.mark.parametrize("s, bad", [
    (VPSchedule(), 1.5), (VPSchedule(), -0.1), (VPSchedule("cosine"), 1.01),
    (EDMSchedule(), -1.0), (EDMSchedule(), np.inf), (FlowSchedule(), 1.0 + 1e-9),
])
def test_time_outside_the_schedule(s, bad):
    with pytest.raises(ValueError, match="t must lie in"):
        s.alpha(bad)
    with pytest.raises(ValueError, match="t_start"):
        s.timesteps(4, t_start=bad)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="kind"):
        VPSchedule("quadratic")
    with pytest.raises(ValueError, match="beta_max"):
        VPSchedule(beta_min=5.0, beta_max=1.0)
    with pytest.raises(TypeError, match="beta_min"):
        VPSchedule(beta_min="0.1")
    with pytest.raises(ValueError, match="sigma_max"):
        EDMSchedule(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="shift"):
        FlowSchedule(shift=0.0)
    s = VPSchedule()
    with pytest.raises(ValueError, match="NaN"):
        s.sigma(np.nan)
    with pytest.raises(ValueError, match="lam"):
        s.t_from_lambda(-100.0)  # beyond t = 1
    with pytest.raises(ValueError, match="n_steps"):
        s.timesteps(0)
    with pytest.raises(TypeError, match="n_steps"):
        s.timesteps(2.5)
    with pytest.raises(ValueError, match="spacing"):
        s.timesteps(4, "linear")
    with pytest.raises(TypeError, match="option"):
        s.timesteps(4, "uniform_lambda", rho=7)
    with pytest.raises(ValueError, match="t_start must be > t_end"):
        s.timesteps(4, t_start=0.5, t_end=0.5)
    with pytest.raises(ValueError, match="truncate_index"):
        s.timesteps(4, "karras_truncated", karras_points=8, truncate_index=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.beta_max = 1.0


def test_t_from_lambda_accepts_float32_round_off_at_the_ends():
    from sciflow.sampling import VPSchedule

    sch = VPSchedule("linear")
    lo = float(sch.lambda_(sch.t_start))
    assert float(sch.t_from_lambda(lo - 3e-7)) == pytest.approx(sch.t_start, abs=1e-6)
    with pytest.raises(ValueError, match="lam must lie in"):
        sch.t_from_lambda(lo - 1e-3)
