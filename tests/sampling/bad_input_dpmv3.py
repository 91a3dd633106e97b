"""Bad-input rows of ``sciflow.sampling.dpmv3`` and the ``dpm_solver_v3`` options of
:func:`sample` (merged into the sampling table)."""

import math

import numpy as np

from sciflow.sampling import VPSchedule, sample
from sciflow.sampling.dpmv3 import EmpiricalModelStatistics, empirical_model_statistics
from sciflow.sampling.mixtures import eight_gaussians, mixture_3d
from tests._bad_input import Row

_VP = VPSchedule()
_LAM = np.linspace(-5.0, 5.0, 5)
_ONE = np.ones((5, 2))


def _ems(**kw):
    args = {"lam": _LAM, "l": _ONE, "s": 0 * _ONE, "b": 0 * _ONE, **kw}
    return EmpiricalModelStatistics(**args)


def _stats(**kw):
    gm = eight_gaussians()
    args = {"model": gm.bind(_VP), "schedule": _VP, "x_data": gm.sample(8, 0), "n_lambda": 2,
            **kw}
    return empirical_model_statistics(args.pop("model"), args.pop("schedule"),
                                      args.pop("x_data"), **args)


def _sample(**kw):
    gm = mixture_3d()
    return sample(gm.bind(_VP), np.zeros((2, 3)), _VP, solver="dpm_solver_v3", nfe=3, **kw)


ROWS = [
    Row(EmpiricalModelStatistics, "decreasing lam", lambda: _ems(lam=_LAM[::-1]), ValueError,
        r"lam must be strictly increasing"),
    Row(EmpiricalModelStatistics, "l of the wrong length", lambda: _ems(l=np.ones((4, 2))),
        ValueError, r"l must have shape \(len\(lam\), d\)"),
    Row(EmpiricalModelStatistics, "NaN in s", lambda: _ems(s=np.full((5, 2), math.nan)),
        ValueError, r"s must be finite"),
    Row(EmpiricalModelStatistics, "b of another dimension", lambda: _ems(b=np.zeros((5, 3))),
        ValueError, r"l, s and b must have the same shape"),
    Row(EmpiricalModelStatistics, "negative n_samples", lambda: _ems(n_samples=-1), ValueError,
        r"n_samples"),
    Row(EmpiricalModelStatistics, "step_coefficients with NaN",
        lambda: _ems().step_coefficients(math.nan, 1.0), ValueError, r"lam_s must be finite"),
    Row(EmpiricalModelStatistics, "at() with a string", lambda: _ems().at("1"), TypeError,
        r"lam must be a real number"),
    Row(empirical_model_statistics, "model without predict", lambda: _stats(model=object()),
        TypeError, r"model must have a predict"),
    Row(empirical_model_statistics, "schedule of the wrong type", lambda: _stats(schedule="vp"),
        TypeError, r"schedule must be a VPSchedule"),
    Row(empirical_model_statistics, "1-D x_data", lambda: _stats(x_data=np.zeros(8)),
        ValueError, r"x_data must have shape \(n, d\)"),
    Row(empirical_model_statistics, "x_data of another dimension",
        lambda: _stats(x_data=np.zeros((8, 3))), ValueError, r"x_data must have shape \(n, 2\)"),
    Row(empirical_model_statistics, "n_lambda = 1", lambda: _stats(n_lambda=1), ValueError,
        r"n_lambda"),
    Row(empirical_model_statistics, "zero fd_step", lambda: _stats(fd_step=0.0), ValueError,
        r"fd_step must be > 0"),
    Row(empirical_model_statistics, "negative s_max", lambda: _stats(s_max=-1.0), ValueError,
        r"s_max must be > 0"),
    Row(empirical_model_statistics, "t_end after t_start",
        lambda: _stats(t_start=0.1, t_end=0.5), ValueError, r"t_start must be > t_end"),
    Row(sample, "dpm_solver_v3 with ems of the wrong type", lambda: _sample(ems="stats"),
        TypeError, r"ems must be an EmpiricalModelStatistics"),
    Row(sample, "dpm_solver_v3 with ems of another dimension", lambda: _sample(ems=_ems()),
        ValueError, r"ems has dimension 2"),
    Row(sample, "dpm_solver_v3 with a non-bool pseudo_predictor",
        lambda: _sample(pseudo_predictor=1), TypeError, r"pseudo_predictor must be a bool"),
]
