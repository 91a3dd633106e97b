"""Classifier / classifier-free guidance on a Gaussian mixture vs the tilted density."""

import importlib.util
import math

import numpy as np
import pytest

from sciflow.sampling import GaussianMixture, VPSchedule, sample
from sciflow.sampling.guidance import (
    ClassifierFreeGuidance,
    ClassifierGuidance,
    class_probabilities,
    guidance_gap,
    tilted_density,
)
from sciflow.sampling.mixtures import eight_gaussians

VP = VPSchedule()
KINDS = ("eps", "x0", "score", "velocity")
MIX = eight_gaussians(std=0.5)  # overlapping components: the tilt matters
X = np.random.default_rng(0).standard_normal((16, 2)) * 1.5


def test_class_probabilities_are_bayes_rule():
    for t in (0.9, 0.3, 1e-3):
        p = class_probabilities(MIX, X, t, VP)
        comps = [GaussianMixture([1.0], MIX.means[k], MIX.covs[k]) for k in range(8)]
        logk = np.stack([np.log(MIX.weights[k]) + comps[k].log_density(X, t, VP)
                         for k in range(8)], axis=1)
        ref = np.exp(logk - MIX.log_density(X, t, VP)[:, None])
        np.testing.assert_allclose(p, ref, rtol=1e-10, atol=1e-14)  # measured ~1e-15
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


def test_cfg_weight_w_is_classifier_guidance_scale_one_plus_w():
    for w in (0.0, 0.7, 3.0):
        cf = ClassifierFreeGuidance(MIX, VP, 2, w)
        cg = ClassifierGuidance(MIX, VP, 2, 1.0 + w)
        for t in (0.95, 0.4, 1e-3):
            for kind in KINDS:
                a, b = cf.predict(X, t, kind), cg.predict(X, t, kind)
                # measured max 1.7e-14
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * (1 + np.abs(a).max()))


def test_guidance_end_points():
    comp = GaussianMixture([1.0], MIX.means[3], MIX.covs[3])
    for kind in KINDS:
        np.testing.assert_allclose(ClassifierFreeGuidance(MIX, VP, 3, 0.0).predict(X, 0.5, kind),
                                   comp.predict(X, 0.5, kind, VP), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(ClassifierGuidance(MIX, VP, 3, 0.0).predict(X, 0.5, kind),
                                   MIX.predict(X, 0.5, kind, VP), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(ClassifierGuidance(MIX, VP, 3, 1.0).predict(X, 0.5, kind),
                                   comp.predict(X, 0.5, kind, VP), rtol=1e-12, atol=1e-12)


def test_guided_kinds_are_consistent():
    m = ClassifierGuidance(MIX, VP, 1, 2.5)
    for t in (0.8, 0.2):
        a, s = float(VP.alpha(t)), float(VP.sigma(t))
        sc = m.predict(X, t, "score")
        np.testing.assert_allclose(m.predict(X, t, "eps"), -s * sc, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m.predict(X, t, "x0"), (X + s * s * sc) / a, rtol=1e-11,
                                   atol=1e-11)
        v = float(VP.dalpha(t)) * m.predict(X, t, "x0") + float(VP.dsigma(t)) * m.predict(
            X, t, "eps")
        np.testing.assert_allclose(m.predict(X, t, "velocity"), v, rtol=1e-11, atol=1e-11)


def test_tilted_density_quadrature():
    q0 = tilted_density(MIX, 0, 0.0, n_grid=300)
    np.testing.assert_allclose(q0.mean, MIX.mean(), atol=1e-8)  # measured 1e-15
    np.testing.assert_allclose(q0.cov, MIX.covariance(), atol=1e-6)  # measured 3e-12
    assert abs(q0.log_normaliser) < 1e-8  # measured 1e-15
    q1 = tilted_density(MIX, 0, 1.0, n_grid=300)  # p(x) p(c|x) = w_c N_c(x)
    np.testing.assert_allclose(q1.log_normaliser, math.log(1 / 8), atol=1e-8)
    np.testing.assert_allclose(q1.mean, MIX.means[0], atol=1e-8)
    np.testing.assert_allclose(q1.cov, MIX.covs[0], atol=1e-6)
    q3 = tilted_density(MIX, 0, 3.0, n_grid=300)
    assert q3.log_normaliser < q1.log_normaliser  # p(c|x)^3 <= p(c|x)
    assert 0.05 < np.linalg.norm(q3.mean - MIX.means[0]) < 0.2  # measured 0.101 (outward)
    draws = q3.sample(20000, 0)
    np.testing.assert_allclose(draws.mean(axis=0), q3.mean, atol=0.03)  # 4.5 sigma


def test_cfg_misses_the_tilted_density():
    """w = 0 lands on the target (the gap is the sampling floor); w > 0 does not."""
    gaps = {w: guidance_gap(MIX, 0, w, VP, n=1500, nfe=40, rng=1, n_grid=200, kl_bins=16)
            for w in (0.0, 1.0)}
    g0, g1 = gaps[0.0], gaps[1.0]
    assert g0.nfe == 40 and g0.gamma == 1.0 and g1.gamma == 2.0
    assert g0.sw < 3 * g0.sw_floor + 0.01  # measured sw 0.016, floor 0.014
    # n = 4000, nfe = 100: sw 0.300 vs floor 0.008, mean shift 0.45
    assert g1.sw > 10 * g1.sw_floor and g1.sw > 0.2
    assert g1.mean_shift > 0.3


def test_guided_sampling_is_finite_and_counted():
    m = ClassifierFreeGuidance(MIX, VP, 5, 2.0)
    res = sample(m, np.random.default_rng(2).standard_normal((64, 2)), VP, solver="dpmpp_2m",
                 nfe=12, return_info=True)
    assert res.nfe == 12 and np.all(np.isfinite(res.x))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_torch_input_rejected():
    import torch

    with pytest.raises(TypeError, match="torch tensors are not supported"):
        ClassifierGuidance(MIX, VP, 0, 1.0).predict(torch.zeros(3, 2), 0.5)
    with pytest.raises(TypeError, match="torch tensors are not supported"):
        class_probabilities(MIX, torch.zeros(3, 2), 0.5, VP)


@pytest.mark.slow
def test_guidance_gap_grows_with_weight():
    sws = [guidance_gap(MIX, 0, w, VP, n=4000, nfe=100, rng=1).sw for w in (0.5, 1.0, 2.0)]
    assert sws[0] < sws[1] < sws[2]  # measured 0.175, 0.300, 0.487
    cg = guidance_gap(MIX, 0, 0.5, VP, method="classifier", n=4000, nfe=100, rng=1)
    assert cg.sw > 5 * cg.sw_floor
