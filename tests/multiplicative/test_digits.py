"""Digit data, the reference classifier and the sample-quality metrics.

Closed forms: the Fréchet distance of a set with itself is 0, of a shifted copy the squared
shift, of two Gaussians with commuting covariances ``sum (sqrt(a) - sqrt(b))^2`` plus the mean
term; coverage of balanced labels is ``log 10``. One small classifier (a few seconds on one
thread) is trained per module on the 8x8 training split and must classify > 90 % of the
held-out digits; the trivial class-mean baseline must be far from the real held-out digits
compared with the real training digits (the floor).
"""

import math

import numpy as np
import pytest

from sciflow.multiplicative import digits as D


# ============================================================================ data
def test_load_digits_8x8_range_and_shape():
    x, y = D.load_digits(8)
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert x.min() == 1.0 and x.max() == 2.0
    assert set(np.unique(y)) == set(range(10))
    x2, _ = D.load_digits(8, low=0.5, high=1.5)
    np.testing.assert_allclose(x2, x - 0.5)


def test_load_digits_mnist_28x28():
    x, y = D.load_digits(28)
    assert x.shape == (5000, 28, 28) and y.shape == (5000,)
    assert x.min() == 1.0 and x.max() == 2.0
    assert np.all(np.bincount(y, minlength=10) > 0)


def test_split_is_stratified_and_disjoint():
    sp = D.load_split(8, test_fraction=0.2, rng=3)
    assert len(sp.x_train) + len(sp.x_test) == 1797
    assert sp.image_shape == (8, 8)
    counts_tr = np.bincount(sp.y_train, minlength=10)
    counts_te = np.bincount(sp.y_test, minlength=10)
    np.testing.assert_allclose(counts_te / (counts_tr + counts_te), 0.2, atol=0.01)
    # no held-out image is a training image (the data set has no duplicates)
    tr = {a.tobytes() for a in sp.x_train}
    assert not any(a.tobytes() in tr for a in sp.x_test)
    sp2 = D.load_split(8, test_fraction=0.2, rng=3)
    np.testing.assert_array_equal(sp.y_test, sp2.y_test)


def test_signed_round_trip():
    x, _ = D.load_digits(8)
    s = D.to_signed(x[:10])
    assert s.min() == -1.0 and s.max() == 1.0
    np.testing.assert_allclose(D.from_signed(s), x[:10])


# ============================================================================ metrics
def test_frechet_distance_of_a_set_with_itself_is_zero(rng):
    f = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6))
    assert D.frechet_distance(f, f) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_shifted_features_is_the_squared_shift(rng):
    f = rng.standard_normal((500, 5)) @ rng.standard_normal((5, 5))
    d = np.array([0.3, -1.0, 2.0, 0.0, 0.5])
    assert D.frechet_distance(f, f + d) == pytest.approx(d @ d, rel=1e-8, abs=1e-8)


def test_frechet_distance_gaussian_closed_form(rng):
    k = 7
    a, b = rng.uniform(0.5, 3.0, k), rng.uniform(0.5, 3.0, k)
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    c1, c2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T  # commuting covariances
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    expect = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert D.frechet_distance_gaussian(mu1, c1, mu2, c2) == pytest.approx(expect, rel=1e-9)
    # N(0, I) vs N(0, 4 I) in k dimensions: k (1 + 4 - 2*2) = k
    assert D.frechet_distance_gaussian(np.zeros(k), np.eye(k), np.zeros(k), 4 * np.eye(k)) \
        == pytest.approx(k, rel=1e-12)


def test_frechet_distance_of_samples_approaches_the_gaussian_value(rng):
    k = 4
    f1 = rng.standard_normal((40000, k))
    f2 = 2.0 * rng.standard_normal((40000, k)) + 1.0
    exact = D.frechet_distance_gaussian(np.zeros(k), np.eye(k), np.ones(k), 4 * np.eye(k))
    assert exact == pytest.approx(2 * k)
    assert D.frechet_distance(f1, f2) == pytest.approx(exact, rel=0.03)


def test_frechet_distance_singular_covariance_is_finite(rng):
    f = np.zeros((50, 3))
    f[:, 0] = rng.standard_normal(50)  # rank-1 covariance
    val = D.frechet_distance(f, f + np.array([0.0, 1.0, 0.0]))
    assert math.isfinite(val) and val == pytest.approx(1.0, abs=1e-3)


def test_coverage_and_confidence():
    assert D.class_coverage(np.repeat(np.arange(10), 7)) == pytest.approx(math.log(10))
    assert D.class_coverage(np.full(30, 4)) == 0.0
    assert D.class_coverage(np.array([0, 1])) == pytest.approx(math.log(2))
    p = np.array([[0.9, 0.1], [0.3, 0.7]])
    assert D.mean_confidence(p) == pytest.approx(0.8)


def test_baseline_draws_class_means_plus_noise(rng):
    sp = D.load_split(8, rng=0)
    b = D.class_mean_baseline(sp.x_train, sp.y_train, 500, noise_scale=0.0, rng=rng)
    means = {tuple(sp.x_train[sp.y_train == c].mean(0).ravel()) for c in range(10)}
    assert all(tuple(im.ravel()) in means for im in b)
    b = D.class_mean_baseline(sp.x_train, sp.y_train, 500, rng=rng)
    assert b.shape == (500, 8, 8) and b.min() >= 1.0 and b.max() <= 2.0


# ============================================================================ classifier
@pytest.fixture(scope="module")
def split():
    return D.load_split(8, test_fraction=0.2, rng=0)


@pytest.fixture(scope="module")
def classifier(split):
    pytest.importorskip("torch")
    return D.train_classifier(split.x_train, split.y_train, epochs=12, width=16, rng=0,
                              progress=False, num_threads=1)


def test_classifier_accuracy_on_held_out_8x8(classifier, split):
    acc = classifier.accuracy(split.x_test, split.y_test)
    assert acc > 0.9, acc
    p = classifier.predict_proba(split.x_test[:20])
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)
    f = classifier.features(split.x_test.reshape(len(split.x_test), -1))
    assert f.shape == (len(split.x_test), 64)
    assert np.all(f.std(0) > 0)  # no dead coordinate


def test_floor_and_baseline(classifier, split):
    ref = classifier.features(split.x_test)
    floor = D.evaluate(split.x_train, classifier, reference_features=ref)
    same = D.evaluate(split.x_test, classifier, split.x_test)
    assert same.frechet == pytest.approx(0.0, abs=1e-6)
    base = D.evaluate(D.class_mean_baseline(split.x_train, split.y_train, 2000, rng=1),
                      classifier, reference_features=ref)
    assert base.frechet > 4.0 * floor.frechet, (base, floor)
    assert floor.coverage > 2.25 and floor.confidence > 0.9
    assert floor.fraction_clipped == 0.0
    # clipping is reported
    shifted = D.evaluate(split.x_test + 0.5, classifier, reference_features=ref)
    assert shifted.fraction_clipped > 0.2 and shifted.n == len(split.x_test)


def test_plot_grid_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    x, _ = D.load_digits(8)
    ax = D.plot_grid(x[:20], ncol=10, title="digits")
    im = ax.get_images()[0].get_array()
    assert im.shape == (2 * 9 + 1, 10 * 9 + 1)
    assert ax.get_title() == "digits"
    ax2 = D.plot_grid(x[:3].reshape(3, 64), ncol=2)
    assert ax2.get_images()[0].get_array().shape == (19, 19)


# ============================================================================ bad input
@pytest.mark.parametrize("call, exc, match", [
    (lambda: D.load_digits(10), ValueError, "size"),
    (lambda: D.load_digits(8, low=2.0, high=1.0), ValueError, "high"),
    (lambda: D.load_split(8, test_fraction=1.0), ValueError, "test_fraction"),
    (lambda: D.load_split(8, test_fraction=0.0), ValueError, "test_fraction"),
    (lambda: D.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4))), ValueError, "features_b"),
    (lambda: D.frechet_distance(np.zeros(5), np.zeros((5, 4))), ValueError, "features_a"),
    (lambda: D.frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2))), ValueError,
     "features_a"),
    (lambda: D.frechet_distance_gaussian(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
     ValueError, "cov1"),
    (lambda: D.frechet_distance_gaussian(np.zeros(2), np.eye(2), np.zeros(2),
                                         np.array([[1.0, 1.0], [0.0, 1.0]])), ValueError, "cov2"),
    (lambda: D.class_coverage(np.array([0, 10])), ValueError, "labels"),
    (lambda: D.class_coverage(np.array([])), ValueError, "labels"),
    (lambda: D.mean_confidence(np.array([[0.5, 0.6]])), ValueError, "probs"),
    (lambda: D.class_mean_baseline(np.ones((4, 8, 8)), np.zeros(3, int), 5), ValueError,
     "y_train"),
    (lambda: D.class_mean_baseline(np.ones((4, 8, 8)), np.zeros(4, int), -1), ValueError, "n"),
    (lambda: D.plot_grid(np.ones((3, 5))), ValueError, "images"),
    (lambda: D.plot_grid(np.ones((3, 4, 4)), ncol=0), ValueError, "ncol"),
    (lambda: D.to_signed("abc"), TypeError, "x"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_input_classifier(classifier, split):
    with pytest.raises(ValueError, match="x must have shape"):
        classifier.predict(np.ones((3, 7, 7)))
    with pytest.raises(ValueError, match="images"):
        D.evaluate(np.ones((5, 9)), classifier, split.x_test)
    with pytest.raises(TypeError, match="reference"):
        D.evaluate(split.x_test, classifier)
    with pytest.raises(TypeError, match="classifier"):
        D.evaluate(split.x_test, object(), split.x_test)
    with pytest.raises(ValueError, match="reference_features"):
        D.evaluate(split.x_test, classifier, reference_features=np.ones((10, 3)))
    with pytest.raises(ValueError, match="y must"):
        D.train_classifier(split.x_train[:10], split.y_train[:9], progress=False)
    with pytest.raises(ValueError, match="epochs"):
        D.train_classifier(split.x_train[:10], split.y_train[:10], epochs=0, progress=False)
