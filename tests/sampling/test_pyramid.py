"""Laplacian pyramid of the 8x8 digits and decomposable vs plain flow matching
(sciflow.sampling.pyramid)."""

import functools
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from sciflow.sampling import pyramid as P

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch")


@functools.cache
def split():
    from sciflow.multiplicative.digits import load_split

    return load_split(8, low=-1.0, high=1.0, rng=0)


@functools.cache
def scorer():
    s = split()
    return P.DigitScorer(s.x_train, s.y_train, s.x_test, rng=0)


@pytest.fixture
def one_thread():
    """Train on one torch thread (faster on the shared 2-core machine); restored after."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_pyramid_reconstructs_exactly():
    x = split().x_train
    low, detail = P.decompose(x)
    assert low.shape == (len(x), 4, 4) and detail.shape == x.shape
    assert np.abs(P.reconstruct(low, detail) - x).max() <= 1e-12  # measured 0.0
    # the detail has zero 2x2 block means; projecting it changes nothing
    assert np.abs(detail.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))).max() < 1e-15
    assert np.abs(P.project_detail(detail) - detail).max() < 1e-15
    # a piecewise-constant image is all low-pass
    low2, det2 = P.decompose(np.repeat(np.repeat(low, 2, 1), 2, 2))
    assert np.abs(det2).max() < 1e-15 and np.abs(low2 - low).max() < 1e-15
    # flat (n, 64) input is accepted
    assert np.array_equal(P.decompose(x.reshape(-1, 64))[0], low)


def test_matched_width_gives_equal_size():
    for w in (64, 128, 192, 256):
        wp = P.matched_width("plain", "pyramid", w)
        a, b = P._n_params("pyramid", w, 3, 4), P._n_params("plain", wp, 3, 4)
        assert abs(a - b) / a < 0.01  # measured 0.2% at width 192 (219,920 vs 220,368)


def test_import_does_not_need_torch():
    code = ("import sys; import sciflow.sampling.pyramid, sciflow.sampling.bridges; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scorer_floor_and_trivial_baselines():
    """The floor (training digits) and two bad generators, scored like samples."""
    s, sc = split(), scorer()
    n = len(s.x_test)
    floor = sc.score(s.x_train[:n])
    # measured: sliced_w 0.0622, frechet 1.066, coverage 2.296, confidence 0.957
    assert floor["sliced_w"] < 0.08 and floor["frechet"] < 1.6 and floor["coverage"] > 2.25
    rng = np.random.default_rng(0)
    noise = np.clip(s.x_train.mean(0) + s.x_train.std(0) * rng.standard_normal((n, 8, 8)),
                    -1, 1)
    bad = sc.score(noise)  # independent pixels with the data's marginals
    assert bad["frechet"] > 5 * floor["frechet"]
    one_class = sc.score(s.x_train[s.y_train == 3][:50])
    assert one_class["coverage"] < 0.5


@needs_torch
@pytest.mark.usefixtures("one_thread")
def test_smoke_training_pyramid_and_plain():
    """150 steps each (a few seconds), width 64 / 67 (32,400 / 32,157 parameters), 16 Euler
    evaluations, 359 samples."""
    s, sc = split(), scorer()
    w = 64
    models = {"pyramid": P.train(s.x_train, kind="pyramid", steps=150, width=w, rng=0),
              "plain": P.train(s.x_train, kind="plain", steps=150,
                               width=P.matched_width("plain", "pyramid", w), rng=0)}
    assert abs(models["pyramid"].n_parameters - models["plain"].n_parameters) < 0.01 * (
        models["pyramid"].n_parameters)
    for kind, m in models.items():
        assert m.n_parameters == P._n_params(kind, m.info["width"], 3, 4)
        assert m.history[-1] < m.history[0]
        x = m.sample(len(s.x_test), nfe=16, rng=1)
        assert x.shape == (len(s.x_test), 8, 8) and np.all(np.isfinite(x))
        score = sc.score(x)
        # measured after 150 steps: see SMOKE below
        assert score["frechet"] < 3 * SMOKE[kind]["frechet"], (kind, score)
        assert score["coverage"] > SMOKE[kind]["coverage"] - 0.15, (kind, score)
        # deterministic given the seeds
        assert np.array_equal(x, m.sample(len(s.x_test), nfe=16, rng=1))
    y = models["pyramid"].sample(4, nfe=8, solver="heun", coarse_fraction=0.25, rng=2)
    assert y.shape == (4, 8, 8) and np.all(np.isfinite(y))


# measured (this machine, torch 2.13 CPU, one thread; scorer seed 0, sample seed 1)
SMOKE = {"pyramid": {"frechet": 3.77, "coverage": 2.265, "sliced_w": 0.106},
         "plain": {"frechet": 2.76, "coverage": 2.288, "sliced_w": 0.137}}


@pytest.mark.slow
@needs_torch
@pytest.mark.usefixtures("one_thread")
def test_pyramid_vs_plain_flow_matching():
    """3000 steps each (53-98 s each on one core of the loaded machine), width 192 / 196
    (219,920 / 220,368 parameters), 16 Euler evaluations. The plain model is better here
    (Frechet 4.36 vs 10.61); more numbers: benchmarks/bench_sampling_pyramid.py."""
    s, sc = split(), scorer()
    scores = {}
    for kind, w in (("pyramid", 192), ("plain", P.matched_width("plain", "pyramid", 192))):
        m = P.train(s.x_train, kind=kind, steps=3000, width=w, rng=0)
        scores[kind] = sc.score(m.sample(len(s.x_test), nfe=16, rng=100))
    for kind, ref in SLOW.items():
        assert scores[kind]["frechet"] < 2 * ref["frechet"], scores
        assert scores[kind]["coverage"] > ref["coverage"] - 0.1, scores


# measured (benchmark seed 0, Euler, nfe 16); floor (training digits): Frechet 1.07
SLOW = {"pyramid": {"frechet": 10.61, "coverage": 2.212, "sliced_w": 0.121},
        "plain": {"frechet": 4.36, "coverage": 2.284, "sliced_w": 0.085}}
