"""Tests of sciflow.sampling.skipping: no skipping = sample(); exact NFE; skipping vs a
shorter uniform grid at equal NFE (measured values in the comments)."""

import importlib.util

import numpy as np
import pytest

from sciflow.sampling import NonFiniteError, VPSchedule, sample
from sciflow.sampling.mixtures import mixture_3d
from sciflow.sampling.optimize import _mean_error
from sciflow.sampling.skipping import SkipResult, sample_skipping

HAS_TORCH = importlib.util.find_spec("torch") is not None
VP = VPSchedule()


class Counting:
    def __init__(self, m):
        self.m, self.n, self.dim, self.schedule = m, 0, m.dim, m.schedule

    def predict(self, x, t, kind="eps"):
        self.n += 1
        return self.m.predict(x, t, kind)


@pytest.fixture(scope="module")
def m3():
    return mixture_3d().bind(VP)


@pytest.fixture(scope="module")
def data(m3):
    r = np.random.default_rng(1)
    x = VP.alpha(1.0) * m3.mixture.sample(256, r) + VP.sigma(1.0) * r.standard_normal((256, 3))
    return x, m3.exact_ode_solution(x)


@pytest.mark.parametrize("solver", ["dpmpp_2m", "ddim"])
@pytest.mark.parametrize("n", [50, 10])
def test_threshold_zero_is_the_plain_solver(m3, data, solver, n):
    a = sample(m3, data[0], VP, solver=solver, nfe=n)
    r = sample_skipping(m3, data[0], VP, threshold=0.0, n_steps=n, solver=solver,
                        return_info=True)
    assert r.nfe == n and not r.skipped.any()
    np.testing.assert_allclose(r.x, a, rtol=0, atol=1e-12)  # measured 2.2e-15


@pytest.mark.parametrize("criterion, extrapolation, thr", [("lte", "linear", 1e-4),
                                                           ("x0_change", "linear", 1e-2),
                                                           ("lte", "constant", 1e-3)])
def test_nfe_is_the_counted_evaluations(m3, data, criterion, extrapolation, thr):
    c = Counting(m3)
    r = sample_skipping(c, data[0], VP, threshold=thr, criterion=criterion,
                        extrapolation=extrapolation, return_info=True)
    assert isinstance(r, SkipResult)
    assert r.nfe == c.n == 50 - r.n_skipped and 0 < r.n_skipped < 50
    assert np.all(np.isfinite(r.x))
    assert not r.skipped[:3].any() and not r.skipped[-1]
    assert not np.any(r.skipped[1:] & r.skipped[:-1])  # max_consecutive=1


def test_lte_skipping_beats_a_shorter_uniform_grid(m3, data):
    """mixture_3d, 256 points, DPM-Solver++(2M), 50 uniform-lambda steps: 3.177e-3 at NFE 50;
    lte/linear threshold 1e-4 skips 8 evaluations (NFE 42) at 3.190e-3, while 42 uniform steps
    give 4.486e-3."""
    x, ref = data
    plain = _mean_error(sample(m3, x, VP, solver="dpmpp_2m", nfe=50), ref)
    r = sample_skipping(m3, x, VP, threshold=1e-4, return_info=True)
    e = _mean_error(r.x, ref)
    short = _mean_error(sample(m3, x, VP, solver="dpmpp_2m", nfe=r.nfe), ref)
    assert r.nfe <= 45
    assert e < 1.05 * plain
    assert e < 0.85 * short


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_numpy_and_torch_float64_agree(m3, data):
    import torch

    a = sample_skipping(m3, data[0][:32], VP, threshold=1e-4, return_info=True)
    b = sample_skipping(m3, torch.from_numpy(data[0][:32]), VP, threshold=1e-4,
                        return_info=True)
    assert isinstance(b.x, torch.Tensor) and b.nfe == a.nfe
    assert np.array_equal(a.skipped, b.skipped)
    np.testing.assert_allclose(b.x.numpy(), a.x, rtol=0, atol=1e-12)


def test_nan_model_raises(m3, data):
    class Bad:
        dim = 3

        def predict(self, x, t, kind="eps"):
            return x * np.nan if t < 0.5 else m3.predict(x, t, kind)

    with pytest.raises(NonFiniteError, match=r"NaN/inf at step"):
        with np.errstate(invalid="ignore"):
            sample_skipping(Bad(), data[0][:4], VP, threshold=1e-4)


def test_plot(m3, data):
    r = sample_skipping(m3, data[0][:16], VP, threshold=1e-4, return_info=True)
    assert r.plot() is not None
