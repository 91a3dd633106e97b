"""GaussianMixture: exact noised density and predictions; the exact probability-flow ODE."""


import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sciflow.sampling import EDMSchedule, FlowSchedule, GaussianMixture, VPSchedule

SCHEDULES = [VPSchedule(), VPSchedule("cosine"), EDMSchedule(), FlowSchedule(shift=2.0)]
IDS = ["vp", "cosine", "edm", "flow"]


@pytest.fixture(scope="module")
def gmm():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 2, 2)) * 0.3
    covs = a @ a.transpose(0, 2, 1) + 0.04 * np.eye(2)
    return GaussianMixture([0.5, 0.3, 0.2], [[1.0, 0.5], [-1.0, 0.0], [0.2, -1.2]], covs)


def _mid_times(s):
    return [0.5 * s.t_end + 0.5 * s.t_start, 0.3 * s.t_start, 0.05 * s.t_start + 0.01]


def test_validation():
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture([-1.0, 2.0], np.zeros((2, 2)), np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="means"):
        GaussianMixture([1.0, 1.0], np.zeros((3, 2)), np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="covs"):
        GaussianMixture([1.0], np.zeros((1, 2)), np.eye(3)[None])
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture([1.0], np.zeros((1, 2)), np.array([[[1.0, 2.0], [2.0, 1.0]]]))
    with pytest.raises(ValueError, match="symmetric"):
        GaussianMixture([1.0], np.zeros((1, 2)), np.array([[[1.0, 0.1], [0.0, 1.0]]]))
    g = GaussianMixture([2.0, 2.0], np.zeros((2, 3)), np.stack([np.eye(3)] * 2))
    np.testing.assert_array_equal(g.weights, 0.5)  # 2/4, exact
    assert g.dim == 3 and g.n_components == 2
    with pytest.raises(ValueError, match="kind"):
        g.predict(np.zeros((1, 3)), 0.5, "noise", VPSchedule())
    with pytest.raises(ValueError, match="x must have shape"):
        g.predict(np.zeros((1, 2)), 0.5, "eps", VPSchedule())
    with pytest.raises(ValueError, match="t must lie"):
        g.predict(np.zeros((1, 3)), 1.5, "eps", VPSchedule())


def test_sample_matches_moments(gmm):
    x = gmm.sample(40000, np.random.default_rng(0))
    assert x.shape == (40000, 2)
    # Monte Carlo, 40000 draws: standard errors 0.005 (mean), 0.004-0.006 (covariance); the
    # bounds are ~4-5 of them (measured 0.0047 and 0.0048)
    np.testing.assert_allclose(x.mean(0), gmm.mean(), atol=0.02)
    np.testing.assert_allclose(np.cov(x.T), gmm.covariance(), atol=0.03)
    np.testing.assert_array_equal(gmm.sample(5, 3), gmm.sample(5, 3))


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
def test_log_density_against_scipy(gmm, s):
    x = np.random.default_rng(2).normal(size=(50, 2)) * 2
    for t in _mid_times(s):
        a, sg = float(s.alpha(t)), float(s.sigma(t))
        ref = sum(w * multivariate_normal(a * m, a * a * c + sg * sg * np.eye(2)).pdf(x)
                  for w, m, c in zip(gmm.weights, gmm.means, gmm.covs, strict=True))
        # measured: relative 6.9e-14 (density), 8.6e-16 (log density)
        np.testing.assert_allclose(gmm.density(x, t, s), ref, rtol=5e-13)
        np.testing.assert_allclose(gmm.log_density(x, t, s), np.log(ref), rtol=8e-15)


@pytest.mark.parametrize("s", SCHEDULES, ids=IDS)
def test_predictions_consistent(gmm, s):
    x = np.random.default_rng(3).normal(size=(40, 2)) * 1.5
    for t in _mid_times(s):
        a, sg = float(s.alpha(t)), float(s.sigma(t))
        eps, x0 = gmm.predict(x, t, "eps", s), gmm.predict(x, t, "x0", s)
        score, vel = gmm.predict(x, t, "score", s), gmm.predict(x, t, "velocity", s)
        # float64 identities (measured: 2.2e-15, 2.6e-16 relative, 3.6e-15, 1.8e-15)
        np.testing.assert_allclose(a * x0 + sg * eps, x, rtol=0, atol=2e-14)
        np.testing.assert_allclose(score, -eps / sg, rtol=2e-15, atol=0)
        np.testing.assert_allclose(x0, (x + sg * sg * score) / a, rtol=0, atol=3e-14)  # Tweedie
        np.testing.assert_allclose(vel, float(s.dalpha(t)) * x0 + float(s.dsigma(t)) * eps,
                                   rtol=0, atol=1.5e-14)
        # score = gradient of the log density (central differences)
        d = 1e-5
        fd = np.stack([(gmm.log_density(x + d * e, t, s) - gmm.log_density(x - d * e, t, s))
                       / (2 * d) for e in np.eye(2)], axis=1)
        # central differences, d = 1e-5: round-off eps |log p| / d ~ 1e-10, truncation
        # d^2 |f'| / 6 (measured 1.7e-8)
        np.testing.assert_allclose(score, fd, rtol=0, atol=1.5e-7)


def test_flow_velocity_is_eps_minus_x0(gmm):
    s = FlowSchedule()
    x = np.random.default_rng(4).normal(size=(10, 2))
    v = gmm.predict(x, 0.4, "velocity", s)
    # measured: bit-identical; allowed: a few ulps
    np.testing.assert_allclose(v, gmm.predict(x, 0.4, "eps", s) - gmm.predict(x, 0.4, "x0", s),
                               rtol=0, atol=1e-15)


def test_predictions_at_the_ends(gmm):
    x = np.random.default_rng(5).normal(size=(10, 2))
    for s in (FlowSchedule(), VPSchedule("cosine")):  # alpha = 0: no information in x
        x0 = gmm.predict(x, 1.0, "x0", s)
        # measured 2.6e-16 and 2.0e-16 (relative)
        np.testing.assert_allclose(x0, np.broadcast_to(gmm.mean(), x0.shape), rtol=0, atol=2e-15)
        np.testing.assert_allclose(gmm.predict(x, 1.0, "eps", s), x, rtol=2e-15)
    for s in SCHEDULES:  # sigma = 0: x is the data
        np.testing.assert_allclose(gmm.predict(x, 0.0, "x0", s), x, rtol=0, atol=4e-15)  # 4.4e-16
        np.testing.assert_array_equal(gmm.predict(x, 0.0, "eps", s), 0.0)
        assert np.all(np.isfinite(gmm.predict(x, 0.0, "velocity", s)))
        assert np.all(np.isfinite(gmm.predict(x, 0.0, "score", s)))


def test_shapes_and_float32(gmm):
    s = VPSchedule()
    x = np.random.default_rng(6).normal(size=(4, 5, 2))
    out = gmm.predict(x, 0.5, "eps", s)
    assert out.shape == (4, 5, 2)
    # the same flattened computation (measured: bit-identical)
    np.testing.assert_allclose(out.reshape(-1, 2), gmm.predict(x.reshape(-1, 2), 0.5, "eps", s),
                               rtol=0, atol=1e-15)
    o32 = gmm.predict(x.astype(np.float32), 0.5, "x0", s)
    assert o32.dtype == np.float32
    np.testing.assert_allclose(o32, gmm.predict(x, 0.5, "x0", s), rtol=0, atol=2e-6)  # 2.1e-7
    m = gmm.bind(s)
    np.testing.assert_array_equal(m.predict(x, 0.5), out)
    assert m.dim == 2 and m.schedule == s


def test_torch_predictions_match_numpy(gmm):
    torch = pytest.importorskip("torch")
    s = VPSchedule()
    x = np.random.default_rng(7).normal(size=(30, 2))
    for kind in ("eps", "x0", "score", "velocity"):
        out = gmm.predict(torch.from_numpy(x), 0.37, kind, s)
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
        np.testing.assert_allclose(out.numpy(), gmm.predict(x, 0.37, kind, s), rtol=0,
                                   atol=6e-15)  # measured 6.7e-16
    out32 = gmm.predict(torch.from_numpy(x).float(), 0.37, "eps", s)
    assert out32.dtype == torch.float32


# ------------------------------------------------------------------ exact ODE solution
def _gaussian_pf_map(mean, cov, s, x_T, t_T, t_0):
    """Closed form for one Gaussian: x_0 = a0 mu + C0^(1/2) CT^(-1/2) (x_T - aT mu)."""
    w, v = np.linalg.eigh(cov)
    aT, sT = float(s.alpha(t_T)), float(s.sigma(t_T))
    a0, s0 = float(s.alpha(t_0)), float(s.sigma(t_0))
    gain = v @ np.diag(np.sqrt((a0 * a0 * w + s0 * s0) / (aT * aT * w + sT * sT))) @ v.T
    return a0 * mean + (x_T - aT * mean) @ gain.T


@pytest.mark.parametrize("s, t_T, t_0", [
    (VPSchedule(), 1.0, 1e-3), (VPSchedule(), 1.0, 0.0), (VPSchedule(), 0.05, 0.7),
    (VPSchedule("cosine"), 1.0, 1e-3), (EDMSchedule(), 80.0, 0.002),
    (EDMSchedule(), 0.3, 0.0), (FlowSchedule(), 1.0, 0.0), (FlowSchedule(), 0.2, 0.9),
])
def test_exact_ode_solution_single_gaussian(s, t_T, t_0):
    mean = np.array([0.7, -0.4])
    cov = np.array([[0.3, 0.12], [0.12, 0.08]])
    g = GaussianMixture([1.0], mean[None], cov[None])
    rng = np.random.default_rng(8)
    x_T = rng.normal(size=(40, 2)) * float(s.sigma(t_T)) + float(s.alpha(t_T)) * mean
    got = g.exact_ode_solution(x_T, s, t_T, t_0)
    ref = _gaussian_pf_map(mean, cov, s, x_T, t_T, t_0)
    err = np.max(np.abs(got - ref)) / max(1.0, np.max(np.abs(ref)))
    assert err < 1e-11  # measured at most 1.3e-12 over these cases


def test_exact_ode_solution_composes_and_inverts(gmm):
    s = VPSchedule()
    x_T = np.random.default_rng(9).normal(size=(30, 2))
    direct = gmm.exact_ode_solution(x_T, s, 1.0, 1e-3)
    mid = gmm.exact_ode_solution(x_T, s, 1.0, 0.4)
    two = gmm.exact_ode_solution(mid, s, 0.4, 1e-3)
    np.testing.assert_allclose(two, direct, rtol=0, atol=8e-13)  # measured 8.1e-14
    back = gmm.exact_ode_solution(direct, s, 1e-3, 1.0)
    np.testing.assert_allclose(back, x_T, rtol=0, atol=6e-12)  # measured 6.3e-13
    m = gmm.bind(s)
    np.testing.assert_array_equal(m.exact_ode_solution(x_T), direct)


def test_exact_ode_solution_transports_the_distribution(gmm):
    """PF-ODE samples from N(0, I)-ish noise reproduce the data moments."""
    s = VPSchedule()
    x_T = gmm.sample(3000, 10) * float(s.alpha(1.0)) + float(s.sigma(1.0)) * \
        np.random.default_rng(11).normal(size=(3000, 2))
    x0 = gmm.exact_ode_solution(x_T, s, 1.0, 0.0)
    # Monte Carlo, 3000 samples: standard errors 0.017 (mean), 0.013-0.022 (covariance); the
    # bounds are ~3.5 of them (measured 0.035 and 0.012)
    np.testing.assert_allclose(x0.mean(0), gmm.mean(), atol=0.06)
    np.testing.assert_allclose(np.cov(x0.T), gmm.covariance(), atol=0.08)


def test_exact_ode_solution_torch(gmm):
    torch = pytest.importorskip("torch")
    s = EDMSchedule()
    x = np.random.default_rng(12).normal(size=(5, 2)) * 80
    out = gmm.exact_ode_solution(torch.from_numpy(x), s, 80.0, 0.002)
    assert isinstance(out, torch.Tensor)
    # the tensor is converted and the same NumPy integration runs: bit-identical
    np.testing.assert_array_equal(out.numpy(), gmm.exact_ode_solution(x, s, 80.0, 0.002))
