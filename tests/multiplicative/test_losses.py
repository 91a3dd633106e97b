"""Multiplicative score-matching losses: targets, the M-DSM/M-ESM equivalence, non-negative SM,
and the bias of the authors' one-step-late target."""

import math

import numpy as np
import pytest

from sciflow.multiplicative import GBM, LogNormalMixture
from sciflow.multiplicative.losses import (
    dsm_minimizer,
    dsm_target,
    m_dsm,
    m_esm,
    nonnegative_score_matching,
)

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def gbm():
    return GBM(0.32, 0.8)


@pytest.fixture(scope="module")
def mix2():
    covs = np.array([[[0.05, 0.01], [0.01, 0.04]], [[0.03, -0.005], [-0.005, 0.06]]])
    return LogNormalMixture([0.4, 0.6], [[-0.3, 0.2], [0.5, -0.1]], covs)


def _noised(mix, gbm, n, t, rng):
    x0 = mix.sample(n, rng)
    return x0, gbm.sample(x0, t, rng)


# ---------------------------------------------------------------------------- M-DSM target
@pytest.mark.parametrize("t", [1e-3, 0.3, 1.0])
def test_dsm_residual_zero_at_conditional_score(gbm, mix2, rng, t):
    x0, xt = _noised(mix2, gbm, 500, t, rng)
    h = gbm.hyvarinen_score(xt, t, x0)
    for weight in ("v2", "v", "none", lambda s: 1.0 + s):
        per = m_dsm(h, xt, x0, t, gbm, weight=weight, reduction="none")
        assert per.shape == (500,)
        assert np.max(np.abs(per)) < 1e-20
    # the authors' form: (v h + log x - log x0 - m + v)^2 with v = sigma^2 t, m = (mu - s^2/2) t
    v, m = 0.64 * t, 0.0 * t
    h_bad = h + 0.1
    direct = np.sum((v * h_bad + np.log(xt) - np.log(x0) - m + v) ** 2, axis=1).mean()
    assert m_dsm(h_bad, xt, x0, t, gbm) == pytest.approx(direct, rel=1e-12)
    np.testing.assert_allclose(dsm_target(xt, x0, t, gbm), h, rtol=1e-12, atol=1e-12)


def test_dsm_per_sample_times_and_torch(gbm, mix2, rng):
    n = 400
    t = rng.uniform(1e-3, 1.0, n)
    x0 = mix2.sample(n, rng)
    xt = np.stack([gbm.sample(x0[i], t[i], rng) for i in range(n)])
    h = np.stack([gbm.hyvarinen_score(xt[i], t[i], x0[i]) for i in range(n)])
    assert m_dsm(h, xt, x0, t, gbm, reduction="sum") < 1e-20
    np.testing.assert_allclose(dsm_target(xt, x0, t, gbm), h, atol=1e-10)
    # torch: same value, differentiable in the prediction
    pred = torch.tensor(h + 0.05 * rng.standard_normal(h.shape), requires_grad=True)
    loss = m_dsm(pred, torch.tensor(xt), torch.tensor(x0), torch.tensor(t), gbm)
    assert isinstance(loss, torch.Tensor) and loss.requires_grad
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    ref = m_dsm(pred.detach().numpy(), xt, x0, t, gbm)
    assert float(loss.detach()) == pytest.approx(ref, rel=1e-12)
    # time-dependent coefficients use GBM.log_mean / log_variance
    g2 = GBM(lambda s: 0.1 + s, lambda s: 0.5 + 0.5 * s)
    x0b = mix2.sample(50, rng)
    xtb = g2.sample(x0b, 0.4, rng)
    assert m_dsm(g2.hyvarinen_score(xtb, 0.4, x0b), xtb, x0b, 0.4, g2) < 1e-20


def test_dsm_equals_esm_plus_model_independent_constant(gbm, mix2, rng):
    """M-DSM(f) - M-ESM(f) = E w |h(X_t|X_0) - h(X_t)|^2 for every model f. The per-sample
    difference of this quantity between two models has mean zero; its MC standard error sets
    the tolerance."""
    t, n = 0.2, 40_000
    bound = mix2.bind(gbm)
    x0, xt = _noised(mix2, gbm, n, t, rng)
    h_true = bound.hyvarinen_score(xt, t)

    def f1(x, s):
        return bound.hyvarinen_score(x, s) + 0.3 * np.sin(np.log(x))

    def f2(x, s):
        return -0.5 * np.log(x)

    consts = []
    for f in (f1, f2, bound):
        dsm = m_dsm(f, xt, x0, t, gbm, reduction="none")
        esm = m_esm(f, xt, t, gbm, true_score=h_true, reduction="none")
        consts.append(dsm - esm)
    for c in consts[:2]:
        diff = c - consts[2]
        sem = diff.std() / math.sqrt(n)
        assert abs(diff.mean()) < 4 * sem + 1e-12, (diff.mean(), sem)
    # and the constant is E w |h(x|x0) - h(x)|^2 (> 0), the same for all three models
    c = consts[2].mean()
    assert c > 0
    assert abs(consts[0].mean() - c) / c < 0.05


def test_esm_inputs(gbm, mix2, rng):
    bound = mix2.bind(gbm)
    _, xt = _noised(mix2, gbm, 100, 0.5, rng)
    assert m_esm(bound, xt, 0.5, gbm, true_score=bound) == 0.0
    val = m_esm(np.zeros_like(xt), xt, 0.5, gbm, true_score=bound.hyvarinen_score, weight="none")
    assert val == pytest.approx(np.sum(bound.hyvarinen_score(xt, 0.5) ** 2, axis=1).mean())
    tt = m_esm(torch.zeros(100, 2, dtype=torch.float64), torch.tensor(xt), 0.5, gbm,
               true_score=bound, weight="none")
    assert float(tt) == pytest.approx(val, rel=1e-12)


# ---------------------------------------------------------------------------- non-negative SM
def test_nonnegative_sm_formula_equals_half_esm_minus_constant(gbm, mix2, rng):
    """J(h) = E sum [h + dh/dlog x + h^2/2] = M-ESM_none(h)/2 - E|h_true|^2/2 (Hyvärinen 2007 on
    R_+): checked for three models by Monte Carlo at a fixed t (FD derivatives)."""
    t, n = 0.3, 20_000
    bound = mix2.bind(gbm)
    xt = bound.sample(n, t, rng)
    h_true = bound.hyvarinen_score(xt, t)
    target = -0.5 * np.sum(h_true**2, axis=1)

    def f1(x, s):
        return 0.7 * (bound.hyvarinen_score(x, s) + 1.0) - 1.0

    def f2(x, s):
        return -np.log(x) * np.array([1.0, 2.0]) + 0.2

    for f in (bound, f1, f2):
        j = nonnegative_score_matching(f, xt, t=t, reduction="none")
        esm = m_esm(f, xt, t, gbm, true_score=h_true, weight="none", reduction="none")
        diff = j - 0.5 * esm - target
        sem = diff.std() / math.sqrt(n)
        assert abs(diff.mean()) < 4 * sem + 1e-9, (diff.mean(), sem)


def test_nonnegative_sm_stein_form_and_autograd_agree(rng):
    """The Stein form 2 x psi + x^2 psi' + x^2 psi^2 / 2 equals the Hyvärinen form; torch
    autograd equals central differences; the loss back-propagates."""
    mu0, s0 = 0.2, 0.3
    x = np.exp(mu0 + s0 * rng.standard_normal((1000, 1)))

    def psi(z):  # Stein score of the log-normal (generic xp code)
        return -((np.log(z) if isinstance(z, np.ndarray) else torch.log(z)) - mu0) / (s0**2 * z) \
            - 1.0 / z

    y = np.log(x)
    explicit = 2 * x * psi(x) + x**2 * (-(1 - (y - mu0)) / (s0**2 * x**2) + 1 / x**2) \
        + 0.5 * x**2 * psi(x) ** 2
    j_np = nonnegative_score_matching(psi, x, kind="stein", reduction="none")
    np.testing.assert_allclose(j_np, explicit[:, 0], rtol=1e-7, atol=1e-7)
    j_t = nonnegative_score_matching(psi, torch.tensor(x), kind="stein", reduction="none")
    np.testing.assert_allclose(j_t.detach().numpy(), explicit[:, 0], rtol=1e-10, atol=1e-10)
    a = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    loss = nonnegative_score_matching(lambda z: a * psi(z), torch.tensor(x), kind="stein")
    loss.backward()
    assert a.grad is not None and torch.isfinite(a.grad)


def test_nonnegative_sm_minimised_by_true_score(rng):
    """1-D log-normal: among h_a = a (h_true + 1) - 1 and h_b = h_true + b the objective is
    smallest at a = 1, b = 0 (to the Monte Carlo error of the minimiser)."""
    mu0, s0, n = -0.2, 0.4, 20_000
    x = np.exp(mu0 + s0 * rng.standard_normal((n, 1)))

    def h_true(z):
        return -(np.log(z) - mu0) / s0**2 - 1.0

    grid = np.linspace(0.6, 1.4, 81)
    ja = [nonnegative_score_matching(lambda z, a=a: a * (h_true(z) + 1.0) - 1.0, x)
          for a in grid]
    a_star = grid[int(np.argmin(ja))]
    # J(a) = a^2 E g^2 / 2 - a / s0^2 + const, g = h_true + 1: minimiser 1/(s0^2 E g^2)
    assert abs(a_star - 1.0) < 4 * math.sqrt(2.0 / n) + 0.01
    bgrid = np.linspace(-0.3, 0.3, 61)
    jb = [nonnegative_score_matching(lambda z, b=b: h_true(z) + b, x) for b in bgrid]
    b_star = bgrid[int(np.argmin(jb))]
    assert abs(b_star) < 4 / (s0 * math.sqrt(n)) + 0.01
    assert min(ja) == pytest.approx(nonnegative_score_matching(h_true, x), abs=1e-3)


# ---------------------------------------------------------------------------- one step late
def test_target_one_step_late_biases_the_optimum(gbm, mix2, rng):
    """The authors' target at t + 1/N (noise at t): the M-DSM minimiser scales the log-space
    score h + 1 by v(t)/v(t + 1/N) = k/(k + 1) at t = k/N, as DSMMinimizer says. Checked by the
    exact minimiser of the MC loss over h_a = a (h_true + 1) - 1 (a quadratic in a)."""
    N, k, n = 1000, 5, 40_000
    t = k / N
    bound = mix2.bind(gbm)
    x0, xt = _noised(mix2, gbm, n, t, rng)
    g = bound.hyvarinen_score(xt, t) + 1.0

    def loss(a, idx):
        return m_dsm(a * g[idx] - 1.0, xt[idx], x0[idx], t, gbm, t_target=t + 1.0 / N)

    vertices = []
    for idx in np.array_split(np.arange(n), 10):
        l0, l1, l2 = loss(0.0, idx), loss(1.0, idx), loss(2.0, idx)
        vertices.append(1.0 - 0.5 * (l2 - l0) / (l2 - 2 * l1 + l0))
    vertices = np.array(vertices)
    sem = vertices.std(ddof=1) / math.sqrt(len(vertices))
    a_pred, b_pred = dsm_minimizer(bound, gbm, 1.0 / N).coefficients(t)
    assert a_pred == pytest.approx(k / (k + 1), rel=1e-9) and abs(b_pred) < 1e-12
    assert abs(vertices.mean() - a_pred) < 4 * sem + 1e-3
    assert abs(vertices.mean() - 1.0) > 10 * sem  # the consistent optimum (a = 1) is far off
    # consistent target: optimum a = 1
    l0 = m_dsm(-np.ones_like(g), xt, x0, t, gbm)
    l1 = m_dsm(g - 1.0, xt, x0, t, gbm)
    l2 = m_dsm(2 * g - 1.0, xt, x0, t, gbm)
    assert 1.0 - 0.5 * (l2 - l0) / (l2 - 2 * l1 + l0) == pytest.approx(1.0, abs=0.03)
    # DSMMinimizer evaluates
    h = dsm_minimizer(bound, gbm, lambda s: s + 1.0 / N).hyvarinen_score(xt[:5], t)
    np.testing.assert_allclose(h, a_pred * g[:5] - 1.0)


# ---------------------------------------------------------------------------- bad input
def test_loss_bad_input(gbm, rng):
    x = np.exp(rng.standard_normal((10, 2)))
    h = np.zeros((10, 2))
    with pytest.raises(ValueError, match="x_t"):
        m_dsm(h, -x, x, 0.5, gbm)
    with pytest.raises(ValueError, match="x0"):
        m_dsm(h, x, x[:5], 0.5, gbm)
    with pytest.raises(ValueError, match="t must be finite and > 0"):
        m_dsm(h, x, x, 0.0, gbm)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        m_dsm(h, x, x, np.ones(3), gbm)
    with pytest.raises(ValueError, match="weight"):
        m_dsm(h, x, x, 0.5, gbm, weight="sigma")
    with pytest.raises(ValueError, match="reduction"):
        m_dsm(h, x, x, 0.5, gbm, reduction="avg")
    with pytest.raises(TypeError, match="gbm"):
        m_dsm(h, x, x, 0.5, "gbm")
    with pytest.raises(ValueError, match="h_pred"):
        m_dsm(np.zeros((10, 3)), x, x, 0.5, gbm)
    with pytest.raises(ValueError, match="h_pred"):
        m_dsm(np.full((10, 2), np.nan), x, x, 0.5, gbm)
    with pytest.raises(ValueError, match="t_target"):
        m_dsm(h, x, x, 0.5, gbm, t_target=-1.0)
    with pytest.raises(ValueError, match="kind"):
        nonnegative_score_matching(lambda z: z, x, kind="fisher")
    with pytest.raises(ValueError, match="autograd"):
        nonnegative_score_matching(lambda z: z, x, derivative="autograd")
    with pytest.raises(TypeError, match="score_fn"):
        nonnegative_score_matching(3.0, x)
    with pytest.raises(TypeError, match="hyvarinen_score"):
        dsm_minimizer(object(), gbm, 1e-3)
