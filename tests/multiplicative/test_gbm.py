"""GBM exact law, scores and log-space schedule; the exact noised log-normal mixture."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from sciflow.multiplicative import GBM, GBMSchedule, LogNormalMixture

GBM_AUTHORS = GBM(0.32, 0.8)  # the paper's per-pixel GBM: sigma = 0.8, mu = sigma^2 / 2


def test_conditional_law_is_scipys_lognormal():
    g = GBM(0.5, 0.7)
    x0, t = 1.6, 0.8
    x = np.linspace(0.05, 12.0, 400)
    m, v = 0.5 * t - 0.5 * 0.49 * t, 0.49 * t
    ref = stats.lognorm(s=math.sqrt(v), scale=x0 * math.exp(m)).logpdf(x)
    np.testing.assert_allclose(g.log_density(x, t, np.full_like(x, x0)), ref, rtol=1e-13,
                               atol=1e-13)


def test_conditional_law_solves_the_fokker_planck_equation():
    """p(x, t | x0) satisfies p_t = -(mu x p)_x + 1/2 (sigma^2 x^2 p)_xx; central differences
    with h = 1e-4 leave a residual of O(h^2) + O(eps/h^2) relative to the terms' size."""
    mu, sg = 0.3, 0.6
    g = GBM(mu, sg)
    x = np.linspace(0.4, 3.0, 27)
    t, h = 0.5, 1e-4

    def p(xx, tt):
        return np.exp(g.log_density(xx, tt, np.full_like(xx, 1.0)))

    p_t = (p(x, t + h) - p(x, t - h)) / (2 * h)
    f = lambda xx: mu * xx * p(xx, t)  # noqa: E731
    gq = lambda xx: 0.5 * sg**2 * xx**2 * p(xx, t)  # noqa: E731
    rhs = -(f(x + h) - f(x - h)) / (2 * h) + (gq(x + h) - 2 * gq(x) + gq(x - h)) / h**2
    scale = np.max(np.abs(p_t))
    assert np.max(np.abs(p_t - rhs)) / scale < 4e-7  # measured 4.0e-8 (round-off of p_xx)


def test_scores_are_derivatives_of_the_log_density():
    g = GBM_AUTHORS
    x0 = np.array([1.2, 1.9, 1.5])
    x = np.array([1.1, 2.4, 0.9])
    t, h = 0.3, 1e-6
    num = (g.log_density(x + h, t, x0) - g.log_density(x - h, t, x0)) / (2 * h)
    # central difference error ~ h^2 f''' ~ 1e-12 plus round-off eps/h ~ 1e-10
    np.testing.assert_allclose(g.stein_score(x, t, x0), num, rtol=1e-8)
    np.testing.assert_allclose(g.hyvarinen_score(x, t, x0), x * num, rtol=1e-8)


def test_exact_sampling_log_moments():
    g = GBM(0.1, 0.9)
    n, t = 400_000, 0.7
    x = g.sample(np.full(n, 2.0), t, rng=5)
    y = np.log(x) - math.log(2.0)
    m, v = float(g.log_mean(t)), float(g.log_variance(t))
    assert min(x) > 0
    assert abs(y.mean() - m) < 5 * math.sqrt(v / n)  # 5 standard errors
    assert abs(y.var() / v - 1) < 5 * math.sqrt(2 / n)
    assert stats.kstest(y, stats.norm(m, math.sqrt(v)).cdf).pvalue > 1e-3


def test_time_dependent_coefficients():
    """sigma(t) = 0.5 + t: v(t) = ((0.5 + t)^3 - 0.125)/3; mu(t) = t: m = t^2/2 - v/2."""
    g = GBM(lambda t: t, lambda t: 0.5 + t)
    t = np.array([0.0, 0.1, 0.5, 1.0, 2.0])
    v = ((0.5 + t) ** 3 - 0.125) / 3
    np.testing.assert_allclose(g.log_variance(t), v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.log_mean(t), t**2 / 2 - v / 2, rtol=1e-12, atol=1e-15)
    const = GBM(lambda t: 0.32, lambda t: 0.8)
    assert not const.constant and GBM_AUTHORS.constant
    np.testing.assert_allclose(const.log_variance(t), GBM_AUTHORS.log_variance(t), rtol=1e-13)


@pytest.mark.parametrize("g", [GBM_AUTHORS, GBM(0.0, lambda t: 0.3 + 0.5 * t)],
                         ids=["constant", "sigma(t)"])
def test_schedule_is_the_log_space_variance_exploding_diffusion(g):
    s = g.schedule()
    assert isinstance(s, GBMSchedule) and (s.t_start, s.t_end) == (1.0, 1e-3)
    t = np.array([1e-3, 0.05, 0.4, 1.0])
    np.testing.assert_allclose(s.sigma(t) ** 2, g.log_variance(t), rtol=1e-13)
    np.testing.assert_allclose(s.alpha(t), 1.0)
    np.testing.assert_allclose(s.t_from_lambda(s.lambda_(t)), t, rtol=1e-10)
    # sigma sigma' = (dv/dt)/2 = sigma(t)^2/2
    h = 1e-6
    dv = (np.asarray(g.log_variance(t + h)) - np.asarray(g.log_variance(t - h))) / (2 * h)
    np.testing.assert_allclose(s.sigma_dsigma(t), 0.5 * dv, rtol=1e-6)


MIX1 = LogNormalMixture([0.35, 0.65], [[0.15], [0.55]], [[[0.004]], [[0.01]]])
MIX2 = LogNormalMixture([0.5, 0.5], [[0.2, 0.5], [0.6, 0.3]],
                        [[[0.01, 0.004], [0.004, 0.02]], [[0.015, -0.005], [-0.005, 0.01]]])


def _mixture_cdf(mix, gbm, t):
    m, v = float(gbm.log_mean(t)), float(gbm.log_variance(t))
    w, mu, var = mix.weights, mix.log_means[:, 0], mix.log_covs[:, 0, 0]
    return lambda x: sum(wk * stats.norm.cdf((np.log(x) - mk - m) / math.sqrt(sk + v))
                         for wk, mk, sk in zip(w, mu, var, strict=True))


@pytest.mark.parametrize("t", [1e-3, 0.2, 1.0])
def test_bound_mixture_density_is_normalised_and_sampled(t):
    b = MIX1.bind(GBM_AUTHORS)
    # integrate p(x) dx = p(e^y) e^y dy over the log axis (tails below 1e-20 left out)
    total = quad(lambda y: math.exp(float(b.log_density(np.array([[math.exp(y)]]), t)[0]) + y),
                 -8.0, 9.0, limit=400, points=[0.15, 0.55])[0]
    assert abs(total - 1) < 1e-10
    xs = b.sample(20_000, t, rng=3)[:, 0]
    assert stats.kstest(xs, _mixture_cdf(MIX1, GBM_AUTHORS, t)).pvalue > 1e-3


def test_bound_mixture_scores_2d():
    b = MIX2.bind(GBM(0.1, 0.6))
    x = b.sample(7, 0.4, rng=1)
    h = 1e-6
    num = np.stack([(b.log_density(x + h * e, 0.4) - b.log_density(x - h * e, 0.4)) / (2 * h)
                    for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(b.stein_score(x, 0.4), num, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b.hyvarinen_score(x, 0.4), x * num, rtol=1e-6, atol=1e-7)


def test_bound_mixture_reduces_to_the_conditional_law():
    """A one-component mixture with a tiny log-variance is the GBM law from x0 = exp(mean)."""
    tiny = LogNormalMixture([1.0], [[math.log(1.4)]], [[[1e-14]]])
    b = tiny.bind(GBM_AUTHORS)
    x = np.linspace(0.5, 4.0, 9)[:, None]
    np.testing.assert_allclose(b.hyvarinen_score(x, 0.6)[:, 0],
                               GBM_AUTHORS.hyvarinen_score(x[:, 0], 0.6, np.full(9, 1.4)),
                               rtol=1e-9)


def test_exact_flow_map_transports_the_marginals():
    """The PF-ODE pushes p_1 to p_{1e-3}: exact samples at t = 1 mapped by exact_flow_map are
    distributed as the exact marginal at 1e-3 (KS test on 4,000 points)."""
    b = MIX1.bind(GBM_AUTHORS)
    x_T = b.sample(4000, 1.0, rng=11)
    x_0 = b.exact_flow_map(x_T)
    assert np.all(x_0 > 0)
    assert stats.kstest(x_0[:, 0], _mixture_cdf(MIX1, GBM_AUTHORS, 1e-3)).pvalue > 1e-3


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    b = MIX2.bind(GBM_AUTHORS)
    x = b.sample(5, 0.5, rng=2)
    out = b.hyvarinen_score(torch.from_numpy(x), 0.5)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), b.hyvarinen_score(x, 0.5), rtol=1e-12)
    g = GBM_AUTHORS.hyvarinen_score(torch.from_numpy(x), 0.5, torch.ones_like(torch.from_numpy(x)))
    np.testing.assert_allclose(g.numpy(), GBM_AUTHORS.hyvarinen_score(x, 0.5, np.ones_like(x)),
                               rtol=1e-12)
