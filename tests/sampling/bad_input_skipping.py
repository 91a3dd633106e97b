"""Bad-input rows of ``sciflow.sampling.skipping`` (merged into the sampling table)."""

import functools

import numpy as np

from sciflow.sampling import EDMSchedule, GaussianMixture, VPSchedule
from sciflow.sampling.skipping import SkipResult, sample_skipping
from tests._bad_input import Row

VP = VPSchedule()
X = np.random.default_rng(0).standard_normal((4, 2))


@functools.cache
def model():
    return GaussianMixture([0.5, 0.5], [[1.0, 0.0], [-1.0, 0.5]],
                           np.stack([0.1 * np.eye(2), 0.05 * np.eye(2)])).bind(VP)


def skip(**kw):
    args = {"threshold": 1e-4, "n_steps": 10}
    args.update(kw)
    return sample_skipping(args.pop("model", model()), args.pop("x_T", X),
                           args.pop("schedule", VP), **args)


def result(**kw):
    fields = {"x": X, "times": VP.timesteps(3), "skipped": np.array([False, True, False]),
              "indicator": np.array([np.nan, 1e-5, np.nan]), "nfe": 2, "solver": "dpmpp_2m",
              "criterion": "lte", "threshold": 1e-4}
    fields.update(kw)
    return SkipResult(**fields)


ROWS = [
    Row(sample_skipping, "negative threshold", lambda: skip(threshold=-1.0), ValueError,
        r"threshold must be >= 0"),
    Row(sample_skipping, "unknown solver", lambda: skip(solver="heun"), ValueError,
        r"solver must be one of"),
    Row(sample_skipping, "unknown criterion", lambda: skip(criterion="norm"), ValueError,
        r"criterion must be one of"),
    Row(sample_skipping, "unknown extrapolation", lambda: skip(extrapolation="cubic"),
        ValueError, r"extrapolation must be one of"),
    Row(sample_skipping, "n_steps zero", lambda: skip(n_steps=0), ValueError,
        r"n_steps must be >= 1"),
    Row(sample_skipping, "max_consecutive zero", lambda: skip(max_consecutive=0), ValueError,
        r"max_consecutive must be >= 1"),
    Row(sample_skipping, "t_end = 0 (sigma = 0)", lambda: skip(t_end=0.0), ValueError,
        r"t_start and t_end must have finite log-SNR"),
    Row(sample_skipping, "schedule not the model's", lambda: skip(schedule=EDMSchedule()),
        ValueError, r"differs from the model's schedule"),
    Row(sample_skipping, "x_T of the wrong dimension", lambda: skip(x_T=np.zeros((4, 3))),
        ValueError, r"x_T must have shape \(\.\.\., 2\)"),
    Row(SkipResult, "nfe not the evaluated steps", lambda: result(nfe=3), ValueError,
        r"nfe must equal the number of evaluated steps \(2\)"),
    Row(SkipResult, "skipped of the wrong length", lambda: result(skipped=np.array([True])),
        ValueError, r"skipped must be a bool array with one entry per step \(3\)"),
    Row(SkipResult, "unknown criterion", lambda: result(criterion="norm"), ValueError,
        r"criterion must be one of"),
    Row(SkipResult, "times increasing", lambda: result(times=np.array([0.1, 0.5, 0.7, 1.0])),
        ValueError, r"times must be strictly decreasing"),
]
