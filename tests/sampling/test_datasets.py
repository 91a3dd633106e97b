"""2-D toy data sets: shapes, reproducibility, geometry of each set, argument checks."""

import math

import numpy as np
import pytest

from sciflow.sampling.datasets import DATASETS, gaussian_mixture_model, make_dataset


@pytest.mark.parametrize("name", DATASETS)
def test_shape_dtype_reproducible(name):
    x = make_dataset(name, 500, 7)
    assert x.shape == (500, 2) and x.dtype == np.float64 and np.all(np.isfinite(x))
    assert np.array_equal(x, make_dataset(name, 500, 7))
    assert not np.array_equal(x, make_dataset(name, 500, 8))
    y = make_dataset(name, 500, np.random.default_rng(7))
    assert np.array_equal(x, y)  # a Generator and its seed give the same points
    assert make_dataset(name, 0, 1).shape == (0, 2)
    x, lab = make_dataset(name, 300, 1, return_labels=True)
    assert lab.shape == (300,) and lab.dtype == np.int64 and lab.min() >= 0


def test_gaussian_mixture_matches_exact_model():
    x, lab = make_dataset("gaussian_mixture", 40000, 3, return_labels=True, n_components=6,
                          radius=3.0, std=0.2)
    gm = gaussian_mixture_model(n_components=6, radius=3.0, std=0.2)
    assert gm.n_components == 6 and gm.dim == 2
    np.testing.assert_allclose(np.linalg.norm(gm.means, axis=1), 3.0, rtol=1.4e-15)  # 1.5e-16
    # Monte Carlo, 40000 points: standard errors 0.011 (mean), ~0.02 (covariance); bounds ~4
    # and ~5 of them (measured 0.0037 and 0.022)
    np.testing.assert_allclose(x.mean(0), gm.mean(), atol=0.045)
    np.testing.assert_allclose(np.cov(x.T), gm.covariance(), atol=0.1)
    # each point lies near the mean of its own component; components are balanced
    r = np.linalg.norm(x - gm.means[lab], axis=1)
    assert np.sqrt(np.mean(r**2)) == pytest.approx(0.2 * math.sqrt(2), rel=0.02)
    np.testing.assert_allclose(np.bincount(lab, minlength=6) / x.shape[0], 1 / 6, atol=0.01)


def test_two_moons_geometry():
    x, lab = make_dataset("two_moons", 20000, 4, return_labels=True, noise=0.0, scale=2.0)
    u = x / 2.0 + np.array([0.5, 0.25])  # back to scikit-learn's coordinates
    outer, inner = u[lab == 0], u[lab == 1]
    # on the unit circles to round-off (measured 2.2e-16)
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, rtol=0, atol=2e-15)
    np.testing.assert_allclose(np.linalg.norm(inner - [1.0, 0.5], axis=1), 1.0, rtol=0,
                               atol=2e-15)
    assert outer[:, 1].min() >= -1e-12 and inner[:, 1].max() <= 0.5 + 1e-12
    np.testing.assert_allclose(x.mean(0), 0.0, atol=0.03)  # centred
    noisy = make_dataset("two_moons", 20000, 4, noise=0.1, scale=2.0)
    assert np.std(noisy - x) == pytest.approx(0.1, rel=0.03)  # same points plus noise


def test_spirals_geometry():
    x, lab = make_dataset("spirals", 5000, 5, return_labels=True, noise=0.0, scale=3.0,
                          turns=2.0)
    r = np.linalg.norm(x, axis=1)
    assert r.max() <= 3.0 + 1e-12
    a = r / 3.0 * 2.0 * math.pi * 2.0  # the arm angle from the radius
    sign = np.where(lab == 0, 1.0, -1.0)[:, None]
    np.testing.assert_allclose(x, sign * r[:, None] * np.stack([np.cos(a), np.sin(a)], 1),
                               rtol=0, atol=1e-13)  # measured 1.1e-14
    assert 0.45 < np.mean(lab) < 0.55


def test_checkerboard_geometry():
    x, lab = make_dataset("checkerboard", 20000, 6, return_labels=True, size=4, scale=2.0)
    assert np.all(np.abs(x) <= 2.0)
    ij = np.floor((x + 2.0) / 1.0).astype(int)
    assert np.all((ij.sum(1) % 2) == 0)  # only dark squares
    counts = np.bincount(lab, minlength=8)
    assert counts.size == 8 and np.all(np.abs(counts / x.shape[0] - 1 / 8) < 0.015)
    odd = make_dataset("checkerboard", 2000, 6, size=3, scale=1.5)
    ij = np.floor((odd + 1.5) / 1.0).astype(int)
    assert np.all((ij.sum(1) % 2) == 0) and np.all(np.abs(odd) <= 1.5)


def test_rings_geometry():
    x, lab = make_dataset("rings", 30000, 7, return_labels=True, n_rings=3, noise=0.0,
                          scale=3.0)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), lab + 1.0, rtol=0, atol=4e-15)  # 4.4e-16
    np.testing.assert_allclose(np.bincount(lab) / x.shape[0], np.array([1, 2, 3]) / 6,
                               atol=0.01)


@pytest.mark.parametrize(
    "args, kw, exc, match",
    [
        (("moons", 10), {}, ValueError, "name must be one of"),
        ((3, 10), {}, TypeError, "name must be a string"),
        (("spirals", -1), {}, ValueError, "n must be >= 0"),
        (("spirals", 2.5), {}, TypeError, "n must be an integer"),
        (("spirals", 10, "seed"), {}, TypeError, "rng must be"),
        (("spirals", 10), {"std": 0.1}, TypeError, "unexpected option"),
        (("spirals", 10), {"return_labels": 1}, TypeError, "return_labels must be a bool"),
        (("gaussian_mixture", 10), {"std": 0.0}, ValueError, "std must be > 0"),
        (("gaussian_mixture", 10), {"n_components": 0}, ValueError, "n_components"),
        (("gaussian_mixture", 10), {"radius": float("nan")}, ValueError, "radius"),
        (("two_moons", 10), {"noise": -0.1}, ValueError, "noise must be >= 0"),
        (("two_moons", 10), {"scale": 0}, ValueError, "scale must be > 0"),
        (("spirals", 10), {"turns": -1.0}, ValueError, "turns must be > 0"),
        (("checkerboard", 10), {"size": 0}, ValueError, "size must be >= 1"),
        (("checkerboard", 10), {"size": 2.0}, TypeError, "size must be an integer"),
        (("rings", 10), {"n_rings": 0}, ValueError, "n_rings must be >= 1"),
    ],
)
def test_bad_arguments(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        make_dataset(*args, **kw)


def test_gaussian_mixture_model_arguments():
    with pytest.raises(ValueError, match="std"):
        gaussian_mixture_model(std=-1.0)
    with pytest.raises(TypeError, match="n_components"):
        gaussian_mixture_model(n_components=2.5)
