"""Bad-input rows of ``sciflow.sampling.terminal_snr`` and of the discrete-beta schedule added
to ``sciflow.sampling.schedules`` (merged into the sampling table)."""

import numpy as np

from sciflow.sampling import VPSchedule
from sciflow.sampling.mixtures import mixture_3d
from sciflow.sampling.schedules import DiscreteSchedule, rescale_zero_terminal_snr
from sciflow.sampling.terminal_snr import TerminalSNRBias, one_more_step, terminal_snr_bias
from tests._bad_input import Row

SL = DiscreteSchedule.linear(n=20)
ZS = rescale_zero_terminal_snr(SL)
MIX = mixture_3d()
Z = np.zeros((2, 3))


def _bias(**kw):
    v = np.zeros(3)
    args = {"plain": v, "rescaled": v, "oms": v, "oms_exact": v, "target": v, "alpha_T": 0.1,
            "quad_points": 5, "quad_error": 0.0}
    args.update(kw)
    return TerminalSNRBias(**args)


ROWS = [
    Row(DiscreteSchedule, "beta above 1", lambda: DiscreteSchedule([0.1, 1.5]), ValueError,
        r"betas must lie in \(0, 1\]"),
    Row(DiscreteSchedule, "beta of 1 before the end", lambda: DiscreteSchedule([1.0, 0.5]),
        ValueError, r"betas: only the last beta may equal 1"),
    Row(DiscreteSchedule, "a single beta", lambda: DiscreteSchedule([0.1]), ValueError,
        r"betas must be a 1-D array of at least 2"),
    Row(DiscreteSchedule, "NaN beta", lambda: DiscreteSchedule([0.1, np.nan]), ValueError,
        r"betas must be finite"),
    Row(DiscreteSchedule, "string betas", lambda: DiscreteSchedule("abc"), TypeError,
        r"betas must be a 1-D array of numbers"),
    Row(DiscreteSchedule, "scaled_linear with n = 1", lambda: DiscreteSchedule.scaled_linear(1),
        ValueError, r"n must be >= 2"),
    Row(DiscreteSchedule, "t outside [0, 1]", lambda: SL.alpha(1.5), ValueError,
        r"t must lie in \[0.0, 1.0\]"),
    Row(rescale_zero_terminal_snr, "a VPSchedule", lambda: rescale_zero_terminal_snr(
        VPSchedule()), TypeError, r"schedule must be a DiscreteSchedule"),
    Row(rescale_zero_terminal_snr, "an array", lambda: rescale_zero_terminal_snr([0.1, 0.2]),
        TypeError, r"schedule must be a DiscreteSchedule"),
    Row(rescale_zero_terminal_snr, "None", lambda: rescale_zero_terminal_snr(None), TypeError,
        r"schedule must be a DiscreteSchedule"),
    Row(one_more_step, "unknown method", lambda: one_more_step(MIX.bind(ZS), Z, SL,
                                                              method="magic"),
        ValueError, r"method must be one of"),
    Row(one_more_step, "leaking oms_schedule", lambda: one_more_step(MIX.bind(SL), Z, SL),
        ValueError, r"oms_schedule must have zero terminal SNR"),
    Row(one_more_step, "schedule starting at pure noise",
        lambda: one_more_step(MIX.bind(ZS), Z, ZS), ValueError,
        r"schedule already starts from pure noise"),
    Row(one_more_step, "model without predict", lambda: one_more_step(object(), Z, SL),
        TypeError, r"oms_model must have a predict"),
    Row(terminal_snr_bias, "not a mixture", lambda: terminal_snr_bias("gmm"), TypeError,
        r"mixture must be a GaussianMixture"),
    Row(terminal_snr_bias, "zero-SNR schedule", lambda: terminal_snr_bias(MIX, ZS),
        ValueError, r"schedule already has zero terminal SNR"),
    Row(terminal_snr_bias, "too few quadrature points",
        lambda: terminal_snr_bias(MIX, SL, quad_points=2), ValueError,
        r"quad_points must be >= 5"),
    Row(TerminalSNRBias, "NaN bias", lambda: _bias(plain=np.full(3, np.nan)), ValueError,
        r"plain must be a finite 1-D array"),
    Row(TerminalSNRBias, "2-D target", lambda: _bias(target=np.zeros((2, 3))), ValueError,
        r"target must be a finite 1-D array"),
    Row(TerminalSNRBias, "zero quad_points", lambda: _bias(quad_points=0), ValueError,
        r"quad_points must be >= 1"),
]
