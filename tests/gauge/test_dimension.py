"""Intrinsic dimension from the score: the smoothed empirical score and its closed-form
Jacobian, the three estimators on manifolds of known dimension (analytic score, exact
Gaussian-mixture score, a small trained torch model), the result object, input checks, and
(slow) the scikit-dimension benchmark against scikit-dimension's own estimators.
"""

import numpy as np
import pytest
from scipy.special import logsumexp

from sciflow.gauge.dimension import (
    METHODS,
    DimensionResult,
    SmoothedEmpiricalScore,
    intrinsic_dimension,
    smoothed_empirical_score,
)


# ============================================================================ data sets
def _rotation(D, rng):
    q, r = np.linalg.qr(rng.standard_normal((D, D)))
    return q * np.sign(np.diag(r))


def circle_r3(n, rng):
    t = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([np.cos(t), np.sin(t), np.zeros(n)], 1)
    return x @ _rotation(3, rng).T + np.array([0.3, -1.0, 2.0])


def sphere_in(D, n, rng, d=2):
    v = rng.standard_normal((n, d + 1))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    x = np.hstack([v, np.zeros((n, D - d - 1))])
    return x @ _rotation(D, rng).T


def swiss_roll(n, rng):
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n))
    h = 21 * rng.uniform(size=n)
    return np.stack([t * np.cos(t), h, t * np.sin(t)], 1)


def linear_subspace(D, d, n, rng):
    basis = _rotation(D, rng)[:, :d]
    return rng.uniform(size=(n, d)) @ basis.T + rng.standard_normal(D)


# ============================================================================ analytic score
def _log_density(X, sigma, x):
    d2 = np.sum((x[:, None, :] - X[None]) ** 2, axis=-1)
    D = X.shape[1]
    return (logsumexp(-d2 / (2 * sigma**2), axis=1) - np.log(len(X))
            - 0.5 * D * np.log(2 * np.pi * sigma**2))


def test_smoothed_empirical_score_is_gradient_of_log_density(rng):
    X = rng.standard_normal((40, 3))
    sigma = 0.7
    f = smoothed_empirical_score(X, sigma)
    assert isinstance(f, SmoothedEmpiricalScore) and f.k == 40
    x = rng.standard_normal((5, 3))
    h = 1e-5
    num = np.stack([(_log_density(X, sigma, x + h * e) - _log_density(X, sigma, x - h * e))
                    / (2 * h) for e in np.eye(3)], 1)
    np.testing.assert_allclose(f(x), num, rtol=1e-6, atol=1e-7)
    # one point in, one point out; the denoiser is Tweedie's formula
    np.testing.assert_allclose(f(x[0]), f(x)[0])
    np.testing.assert_allclose(f.denoiser(x), x + sigma**2 * f(x), atol=1e-12)


@pytest.mark.parametrize("k", [None, 25])
def test_closed_form_jacobian_matches_finite_differences(rng, k):
    X = sphere_in(4, 300, rng)
    sigma = 0.3
    f = smoothed_empirical_score(X, sigma, k=k)
    x = X[:6] + 0.05 * rng.standard_normal((6, 4))
    J = f.jacobian(x)
    h = 1e-6
    num = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(4)], 2)
    # with k < n the truncation set may change between x +- h; not at these points
    np.testing.assert_allclose(J, num, rtol=1e-5, atol=1e-5 * np.abs(J).max())
    np.testing.assert_allclose(J, np.swapaxes(J, 1, 2), atol=1e-12)
    # grad s = Cov / sigma^4 - I / sigma^2 and the denoiser Jacobian Cov / sigma^2
    C = f.posterior_covariance(x)
    np.testing.assert_allclose(J, C / sigma**4 - np.eye(4) / sigma**2, atol=1e-9)
    np.testing.assert_allclose(f.denoiser_jacobian(x), C / sigma**2, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(C) > -1e-12)


def test_truncated_score_is_close_to_exact(rng):
    X = rng.uniform(size=(500, 2))
    exact = smoothed_empirical_score(X, 0.02)
    trunc = smoothed_empirical_score(X, 0.02, k=64)
    x = rng.uniform(0.2, 0.8, size=(20, 2))
    np.testing.assert_allclose(trunc(x), exact(x), rtol=1e-8, atol=1e-8)


def test_per_row_noise_levels(rng):
    X = sphere_in(3, 200, rng)
    f = smoothed_empirical_score(X, 0.5)
    x = rng.standard_normal((4, 3))
    sig = np.array([0.2, 0.3, 0.5, 0.8])
    s = f(x, sig)
    J = f.jacobian(x, sig)
    for i in range(4):
        g = smoothed_empirical_score(X, sig[i])
        np.testing.assert_allclose(s[i], g(x[i]), rtol=1e-12)
        np.testing.assert_allclose(J[i], g.jacobian(x[i]), rtol=1e-10, atol=1e-12)


def test_empirical_score_object_as_score_model(rng):
    """A SmoothedEmpiricalScore of other samples is a score(x, sigma) callable whose own
    jacobian() is used: the dimension at held-out points."""
    train = swiss_roll(3000, rng)
    X = swiss_roll(600, rng)
    f = smoothed_empirical_score(train, 1.0, k=128)
    res = intrinsic_dimension(X, score=f, n_points=40, return_details=True, rng=0)
    assert res.dimension == 2, res


# ============================================================================ estimators
CASES = {
    "circle in R^3": (lambda rng: circle_r3(800, rng), 1),
    "2-sphere in R^5": (lambda rng: sphere_in(5, 1500, rng), 2),
    "Swiss roll": (lambda rng: swiss_roll(1500, rng), 2),
    "3-subspace of R^10": (lambda rng: linear_subspace(10, 3, 1500, rng), 3),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", list(CASES))
def test_known_dimension_with_empirical_score(case, method):
    rng = np.random.default_rng(7)
    make, d = CASES[case]
    X = make(rng)
    res = intrinsic_dimension(X, method, n_points=96, rng=1, return_details=True)
    assert res.dimension == d, repr(res)
    assert int(res) == d
    # most points agree with the global estimate (Stanczuk's tangent energies are not small
    # near the boundary of the cube, where the density drops: weaker there)
    assert np.mean(res.local_dimensions == d) > (0.4 if method == "stanczuk" else 0.9)


def test_returns_int_and_is_reproducible(rng):
    X = sphere_in(3, 800, rng)
    a = intrinsic_dimension(X, n_points=50, rng=3)
    assert isinstance(a, int) and a == 2
    r1 = intrinsic_dimension(X, "stanczuk", n_points=40, rng=3, return_details=True)
    r2 = intrinsic_dimension(X, "stanczuk", n_points=40, rng=3, return_details=True)
    np.testing.assert_array_equal(r1.spectra, r2.spectra)


def test_fixed_and_given_noise_levels(rng):
    X = circle_r3(600, rng)
    assert intrinsic_dimension(X, sigma=0.05, n_points=60, rng=0) == 1
    res = intrinsic_dimension(X, "horvat_pfister", sigma=[0.03, 0.05, 0.08], n_points=40,
                              return_details=True, rng=0)
    assert res.dimension == 1
    assert res.scale_sigma.shape == (40, 3)
    np.testing.assert_allclose(res.scale_sigma[0], [0.03, 0.05, 0.08])


def test_full_dimensional_data_gives_ambient_dimension(rng):
    X = rng.standard_normal((1500, 6))
    assert intrinsic_dimension(X, n_points=80, rng=0) == 6


def test_spectra_of_sphere_and_swiss_roll():
    """The spectra the notebook shows: two kept directions, one contracted."""
    rng = np.random.default_rng(11)
    for X in (sphere_in(3, 1500, rng), swiss_roll(1500, rng)):
        res = intrinsic_dimension(X, n_points=64, rng=0, return_details=True)
        assert isinstance(res, DimensionResult)
        assert res.spectra.shape == (64, 3) and res.singular_values.shape == (64, 3)
        assert np.all(np.diff(res.spectra, axis=1) <= 1e-12)  # descending
        med = np.median(res.spectra, axis=0)
        assert med[1] > 0.3 and med[2] < 0.05 * med[1]
        # the denoiser Jacobian of the empirical score: kept ~ 1, contracted ~ 0
        assert 0.3 < med[0] < 3.0
        assert res.scale_spectra.shape == (64, res.scale_sigma.shape[1], 3)
        assert np.all(res.sigma > 0) and np.all(res.n_eff >= 2 - 1e-9)
        assert len(np.unique(res.indices)) == 64
        ax = res.plot()
        assert ax.get_yscale() == "log" and len(ax.lines) == 60 + 2  # 60 points, median, d
        hp = intrinsic_dimension(X, "horvat_pfister", n_points=32, rng=0, return_details=True)
        assert hp.dimension == 2
        # flow-map singular values: tangent ~ 1, normal contracted
        assert np.median(hp.singular_values[:, 2]) < np.median(hp.singular_values[:, 1])
        st = intrinsic_dimension(X, "stanczuk", n_points=32, rng=0, return_details=True)
        assert st.dimension == 2
        ax = st.plot()  # codimension 1: the normal energy is the largest
        assert np.median(st.spectra[:, 0]) > 5 * np.median(st.spectra[:, 1])


# ============================================================================ model scores
def test_callable_score_with_finite_difference_jacobian(rng):
    """A flat 2-D Gaussian in R^4: s(x, sigma) = -P x / (1 + sigma^2) - (I - P) x / sigma^2."""
    Q = _rotation(4, rng)
    P = Q[:, :2] @ Q[:, :2].T
    X = rng.standard_normal((1200, 2)) @ Q[:, :2].T

    def score(x, sigma):
        s2 = np.asarray(sigma)[:, None] ** 2
        return -(x @ P) / (1 + s2) - (x - x @ P) / s2

    for method in METHODS:
        res = intrinsic_dimension(X, method, score=score, n_points=30, return_details=True,
                                  rng=0)
        assert res.dimension == 2, (method, res)
    # the denoiser Jacobian is exact here: P / (1 + sigma^2) + 0 (I - P)
    res = intrinsic_dimension(X, score=score, sigma=0.1, n_points=5, return_details=True)
    np.testing.assert_allclose(res.singular_values[:, :2], 1 / 1.01, rtol=1e-6)
    np.testing.assert_allclose(res.singular_values[:, 2:], 0.0, atol=1e-6)


def test_gaussian_mixture_model_exact_score(rng):
    """A thin Gaussian-mixture 'sheet' (thickness 1e-3) in R^3, exact VP score, autograd."""
    pytest.importorskip("torch")
    from sciflow.sampling import GaussianMixture, VPSchedule

    Q = _rotation(3, rng)
    cov = Q @ np.diag([1.0, 0.5, 1e-6]) @ Q.T
    gm = GaussianMixture([0.5, 0.5], [Q[:, 0], -Q[:, 0]], [cov, cov])
    model = gm.bind(VPSchedule())
    X = gm.sample(600, rng)
    # per-point adaptive scales: this model takes one time per call (grouped calls)
    res = intrinsic_dimension(X, score=model, n_points=12, return_details=True, rng=0)
    assert res.dimension == 2 and np.all(res.local_dimensions == 2), res
    # given scales: one call per scale
    for method in METHODS:
        res = intrinsic_dimension(X, method, score=model, sigma=[0.03, 0.1, 0.3], n_points=20,
                                  return_details=True, rng=0)
        assert res.dimension == 2, (method, res)


@pytest.fixture(scope="module")
def plane_model():
    """A small VP (eps) MLP trained for a few seconds on a uniform square in a tilted plane of
    R^3, with training times log-uniform where the estimator queries it."""
    pytest.importorskip("torch")
    from sciflow.sampling import VPSchedule
    from sciflow.sampling.nn import train

    rng = np.random.default_rng(5)
    data = 2.0 * linear_subspace(3, 2, 4000, rng)
    model = train(data, VPSchedule(), steps=500, batch_size=256, width=48, depth=3, lr=5e-3,
                  rng=0, progress=False, t_sampler=lambda n, r: 10 ** r.uniform(-3.5, -0.5, n))
    return model, data


def test_trained_torch_model_gives_dimension_two(plane_model):
    model, data = plane_model
    X = data[:300]  # the evaluation points set the noise scales (sigma ~ 0.04 - 0.2)
    for method in METHODS:
        res = intrinsic_dimension(X, method, score=model, n_points=40, rng=0,
                                  return_details=True)
        assert res.dimension == 2, (method, res)
        assert res.n_evaluations > 0
        if method != "stanczuk":
            assert np.mean(res.local_dimensions == 2) > 0.9
    # the learned denoiser keeps the plane and contracts its normal
    res = intrinsic_dimension(X, score=model, sigma=0.1, n_points=20, return_details=True)
    med = np.median(res.singular_values, axis=0)
    assert med[1] > 0.85 and med[2] < 0.3


def test_trained_model_jacobian_autograd_vs_finite_differences(plane_model):
    model, data = plane_model
    kw = dict(score=model, sigma=0.08, n_points=8, rng=0, return_details=True)
    a = intrinsic_dimension(data[:300], **kw)
    b = intrinsic_dimension(data[:300], jacobian="finite_difference", **kw)
    np.testing.assert_allclose(a.singular_values, b.singular_values, rtol=2e-3, atol=2e-3)


# ============================================================================ input checks
def test_bad_inputs(rng):
    X = sphere_in(3, 100, rng)
    with pytest.raises(ValueError, match="method"):
        intrinsic_dimension(X, "pca")
    with pytest.raises(ValueError, match="X"):
        intrinsic_dimension(X[:, 0])
    with pytest.raises(ValueError, match="X"):
        intrinsic_dimension(X[:2])
    with pytest.raises(ValueError, match="X"):
        intrinsic_dimension(np.vstack([X[:1]] * 5))
    with pytest.raises(ValueError, match="X"):
        intrinsic_dimension(np.where(X > 0.5, np.nan, X))
    with pytest.raises(TypeError, match="score"):
        intrinsic_dimension(X, score=3.0)
    with pytest.raises(ValueError, match="sigma"):
        intrinsic_dimension(X, sigma=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        intrinsic_dimension(X, sigma=[0.1, 0.0])
    with pytest.raises(ValueError, match="n_points"):
        intrinsic_dimension(X, n_points=0)
    with pytest.raises(TypeError, match="n_points"):
        intrinsic_dimension(X, n_points=2.5)
    with pytest.raises(ValueError, match="k"):
        intrinsic_dimension(X, k=100)
    with pytest.raises(ValueError, match="jacobian"):
        intrinsic_dimension(X, jacobian="exact")
    with pytest.raises(ValueError, match="jacobian"):
        intrinsic_dimension(X, jacobian="autograd")
    with pytest.raises(TypeError, match="return_details"):
        intrinsic_dimension(X, return_details=1)
    with pytest.raises(TypeError, match="rng"):
        intrinsic_dimension(X, rng="seed")
    with pytest.raises(ValueError, match="floor"):
        intrinsic_dimension(X, floor=0.0)
    with pytest.raises(TypeError, match="schedule"):
        intrinsic_dimension(X, score=lambda x, s: -x, schedule="vp")
    with pytest.raises(ValueError, match="sigma"):
        smoothed_empirical_score(X, 0.0)
    with pytest.raises(ValueError, match="k"):
        smoothed_empirical_score(X, 0.1, k=0)
    with pytest.raises(ValueError, match="x"):
        smoothed_empirical_score(X, 0.1)(np.zeros((2, 4)))


# ============================================================================ benchmark
@pytest.mark.slow
def test_benchmark_beats_scikit_dimension():
    """The full scikit-dimension benchmark (24 manifolds, 2 500 points, all estimators on the
    same arrays; 5-15 minutes, DANCo takes most of it): our denoiser and Horvat-Pfister MAEs
    are below those of all scikit-dimension estimators run here (DANCo, the best of them:
    1.17-1.29 in four runs, it is randomised; ours 0.92 and 0.96), and the denoiser takes less
    wall time than DANCo (12 s against 204 s in the last run)."""
    pytest.importorskip("skdim")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_gauge_dimension as bench

    ours = ("denoiser", "horvat_pfister")
    res = bench.run(ours=ours, theirs=bench.SKDIM_DEFAULT, progress=False)
    bench.print_table(res)
    mae = res["mae"]
    for m in ours:
        for name in bench.SKDIM_DEFAULT:
            assert mae[m] < mae[name], (m, name, mae)
    assert mae["denoiser"] <= 1.0
    assert res["time"]["denoiser"] < res["time"]["DANCo"]
