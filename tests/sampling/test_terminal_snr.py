"""DiscreteSchedule, rescale_zero_terminal_snr, One More Step and the exact sample-mean bias of
a leaking terminal SNR (mixture_3d, scaled-linear betas)."""

import importlib.util

import numpy as np
import pytest

from sciflow.sampling import sample
from sciflow.sampling.mixtures import mixture_3d
from sciflow.sampling.schedules import DiscreteSchedule, rescale_zero_terminal_snr
from sciflow.sampling.terminal_snr import TerminalSNRBias, one_more_step, terminal_snr_bias

HAS_TORCH = importlib.util.find_spec("torch") is not None
SL = DiscreteSchedule.scaled_linear()
ZS = rescale_zero_terminal_snr(SL)


def test_scaled_linear_and_rescaled_levels():
    assert SL.alpha_T == pytest.approx(0.0682649142171676, rel=1e-12)
    ab = np.cumprod(1 - SL.betas)
    assert np.allclose(SL.alpha(np.arange(1, 1001) / 1000), np.sqrt(ab), rtol=1e-12, atol=0)
    assert ZS.zero_terminal_snr and ZS.alpha(1.0) == 0.0 and ZS.sigma(1.0) == 1.0
    assert ZS.alpha(ZS.t_end) == pytest.approx(SL.alpha(SL.t_end), rel=1e-13)
    assert ZS.lambda_(1.0) == -np.inf and ZS.sigma_dsigma(1.0) == 0.0
    assert np.isfinite(ZS.dalpha(1.0))


@pytest.mark.parametrize("sch", [SL, ZS, DiscreteSchedule.linear()])
def test_lambda_inverse_and_derivatives(sch):
    t = np.linspace(0, 1, 2001)
    assert np.max(np.abs(sch.t_from_lambda(sch.lambda_(t)) - t)) < 1e-12  # measured 2.2e-16
    tm = np.linspace(0.0013, 0.9987, 50)  # off the knots
    h = 1e-7
    fd = (sch.alpha(tm + h) - sch.alpha(tm - h)) / (2 * h)
    assert np.max(np.abs(fd - sch.dalpha(tm))) < 1e-8  # measured 1.3e-9
    fd = (sch.sigma(tm + h) ** 2 - sch.sigma(tm - h) ** 2) / (4 * h)
    assert np.max(np.abs(fd - sch.sigma_dsigma(tm))) < 1e-8  # measured 7e-10


def test_equality_and_hash():
    assert DiscreteSchedule.scaled_linear() == SL and hash(DiscreteSchedule.scaled_linear()) == \
        hash(SL)
    assert SL != ZS


def test_sampling_from_pure_noise_on_rescaled_schedule():
    mix = mixture_3d()
    z = np.random.default_rng(0).standard_normal((100, 3))
    r = sample(mix.bind(ZS), z, ZS, solver="dpmpp_3m", nfe=20, return_info=True)
    assert r.nfe == 20 and np.all(np.isfinite(r.x)) and r.orders[0] == 1


def test_one_more_step_ddim_is_exact_mean_start():
    """One DDIM evaluation from alpha = 0: x_T = sigma_T z + alpha_T E[x0]."""
    mix = mixture_3d()
    z = np.random.default_rng(1).standard_normal((50, 3))
    r = one_more_step(mix.bind(ZS), z, SL, return_info=True)
    expect = float(SL.sigma(1.0)) * z + float(SL.alpha(1.0)) * mix.mean()
    assert r.nfe == 1 and np.max(np.abs(r.x - expect)) < 1e-12
    xe = one_more_step(mix.bind(ZS), z, SL, method="exact")
    assert np.all(np.isfinite(xe)) and xe.shape == z.shape


@pytest.mark.slow
def test_terminal_snr_bias_exact():
    """Exact biases (quad_points 16, quadrature change 1.2e-7): plain (-0.0165551, 0.0078334,
    -0.0175451), |b| = 0.025363; rescaled 3.8e-16; OMS by one DDIM step (3.32e-4, 3.76e-4,
    -1.98e-4), |b| = 5.40e-4 (47x smaller); exact OMS 0. Here quad_points 6 (change 2.9e-4):
    plain (-0.0165533, 0.0078349, -0.0175432), OMS |b| 5.4e-4."""
    r = terminal_snr_bias(mixture_3d(), quad_points=6)
    assert isinstance(r, TerminalSNRBias)
    assert np.allclose(r.plain, [-0.01655506, 0.00783335, -0.01754514], atol=2e-5)
    assert np.max(np.abs(r.rescaled)) < 1e-14
    assert np.allclose(r.oms, [3.3227e-4, 3.7614e-4, -1.9833e-4], atol=2e-5)
    red = r.reduction()
    assert red["rescaled"] > 1e10 and red["oms"] > 40 and red["oms_exact"] == np.inf
    assert r.quad_error < 3e-3


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_one_more_step_torch_equals_numpy():
    import torch

    mix = mixture_3d()
    z = np.random.default_rng(2).standard_normal((20, 3))
    for kw in ({"solver": "ddim", "nfe": 1}, {"solver": "dpmpp_2m", "nfe": 5}):
        a = one_more_step(mix.bind(ZS), z, SL, **kw)
        b = one_more_step(mix.bind(ZS), torch.tensor(z), SL, **kw)
        assert isinstance(b, torch.Tensor) and np.max(np.abs(b.numpy() - a)) < 1e-12


def test_terminal_snr_bias_fast():
    """quad_points 5, rtol 1e-8: the same biases to ~1e-4 (measured plain |b| 0.02536)."""
    r = terminal_snr_bias(mixture_3d(), quad_points=5, rtol=1e-8)
    assert abs(np.linalg.norm(r.plain) - 0.0253626) < 5e-4
    assert np.max(np.abs(r.rescaled)) < 1e-12
    assert abs(np.linalg.norm(r.oms) - 5.3965e-4) < 1e-4
    assert min(r.reduction().values()) > 10
