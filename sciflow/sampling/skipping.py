"""Stability-guided step skipping: skip a model evaluation when the trajectory is stable.

In the spirit of SADA ("Stability-guided adaptive diffusion acceleration", 2025):
:func:`sample_skipping` runs a fixed grid (by default 50 uniform log-SNR steps) of DDIM or
DPM-Solver++(2M) and decides online, before each evaluation, whether to call the model or to
*reuse* the prediction: extrapolate it in log-SNR from the last two evaluated predictions
(``extrapolation="linear"``, the multistep history) or hold the last one (``"constant"``).
The step itself is unchanged (the same DDIM / 2M update with the substituted prediction).

Criteria (``indicator < threshold`` skips; computed from evaluated predictions only, batch-wide
because one evaluation serves the whole batch):

``"x0_change"``
    the relative change of the x0 prediction between the last two evaluations,
    ``mean_n |D_a - D_b| / mean_n |D_a|`` (``D`` the x0 prediction; for DDIM derived from the
    eps prediction) — SADA's "the denoised estimate has stopped moving";
``"lte"``
    a local-error estimate of the skip: the second divided difference (in lambda) of the last
    three evaluated predictions gives the error of the linear extrapolation to ``lambda_i``,
    ``|D[a,b,c]| |lambda_i - lambda_a| |lambda_i - lambda_b|`` (for ``"constant"``: the first
    divided difference times ``|lambda_i - lambda_a|``), times the weight of the prediction in
    the step (``alpha' (1 - e^{-h})`` for x0, ``sigma' (e^h - 1)`` for eps): the estimated
    error the skip adds to ``x_{i+1}``, in data units (mean over the batch of the norm).

``warmup`` first steps and the last step are always evaluated, and at most
``max_consecutive`` steps in a row are skipped. With ``threshold=0`` nothing is skipped and the
result equals :func:`~sciflow.sampling.sample` on the same grid (``solver="dpmpp_2m"``,
midpoint weight, or ``"ddim"``). The NFE actually spent is counted and returned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_array, check_choice, check_int, check_nonnegative
from ._surface import check_progress, progress_iter
from .backend import as_float_array, to_numpy
from .schedules import SPACINGS
from .solvers import LOWER_ORDER_FINAL_MAX_STEPS, NonFiniteError, check_model_and_schedule

__all__ = ["sample_skipping", "SkipResult", "CRITERIA", "SKIP_SOLVERS"]

CRITERIA = ("x0_change", "lte")
SKIP_SOLVERS = ("dpmpp_2m", "ddim")
EXTRAPOLATIONS = ("linear", "constant")


@dataclass(frozen=True)
class SkipResult:
    """Output of :func:`sample_skipping` with ``return_info=True``.

    ``x`` the samples (array type of ``x_T``); ``times`` the grid (``n_steps + 1``);
    ``skipped`` a bool per step (True: the prediction was extrapolated, no evaluation);
    ``indicator`` the criterion value per step (NaN where it was not computed: warm-up, the
    last step, after ``max_consecutive`` skips); ``nfe`` the evaluations spent
    (``n_steps - skipped.sum()``).
    """

    x: Any
    times: np.ndarray
    skipped: np.ndarray
    indicator: np.ndarray
    nfe: int
    solver: str
    criterion: str
    threshold: float
    wall_time: float = 0.0
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        times = check_array("times", self.times, ndim=1, min_size=2)
        if np.any(np.diff(times) >= 0):
            raise ValueError("times must be strictly decreasing")
        object.__setattr__(self, "times", times)
        sk = np.asarray(self.skipped)
        if sk.dtype != bool or sk.shape != (times.size - 1,):
            raise ValueError(f"skipped must be a bool array with one entry per step "
                             f"({times.size - 1}), got {sk.dtype} {sk.shape}")
        object.__setattr__(self, "skipped", sk)
        ind = check_array("indicator", self.indicator, ndim=1, finite=False)
        if ind.shape != sk.shape:
            raise ValueError(f"indicator must have one entry per step ({sk.size}), got "
                             f"{ind.size}")
        object.__setattr__(self, "indicator", ind)
        nfe = check_int("nfe", self.nfe, low=0)
        if nfe != int(sk.size - sk.sum()):
            raise ValueError(f"nfe must equal the number of evaluated steps "
                             f"({int(sk.size - sk.sum())}), got {nfe}")
        object.__setattr__(self, "nfe", nfe)
        check_choice("solver", self.solver, SKIP_SOLVERS)
        check_choice("criterion", self.criterion, CRITERIA)
        object.__setattr__(self, "threshold", check_nonnegative("threshold", self.threshold))
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if not isinstance(self.options, dict):
            raise TypeError(f"options must be a dict, got {type(self.options).__name__}")

    @property
    def n_steps(self) -> int:
        return int(self.skipped.size)

    @property
    def n_skipped(self) -> int:
        return int(self.skipped.sum())

    def plot(self, ax=None, **kwargs):
        """The criterion per step against the threshold (``kwargs`` to ``Axes.plot``), skipped
        steps marked; returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax)
        k = np.arange(self.n_steps)
        ind = np.where(np.isfinite(self.indicator) & (self.indicator > 0), self.indicator,
                       np.nan)
        ax.semilogy(k, ind, ".-", **{"lw": 0.8, "label": f"{self.criterion} indicator",
                                     **kwargs})
        if np.any(self.skipped):
            ax.semilogy(k[self.skipped], ind[self.skipped], "o", mfc="none", label="skipped")
        if self.threshold > 0:
            ax.axhline(self.threshold, color="k", ls="--", lw=0.8, label="threshold")
        ax.set_xlabel("step")
        ax.set_ylabel("indicator")
        ax.set_title(f"{self.solver}: NFE {self.nfe} of {self.n_steps}")
        ax.legend()
        return ax

    def to_xarray(self):
        """``x`` (sample, dim); ``skipped`` and ``indicator`` on ``step`` (with ``t_from``, the
        time each step starts at); ``times`` on ``node``; the settings in attrs."""
        from ._surface import numpy_samples, plain_attrs, sample_dims, xarray

        xr = xarray()
        x = numpy_samples(self.x)
        return xr.Dataset(
            {"x": (sample_dims(x), x, {"long_name": "final samples"}),
             "skipped": ("step", self.skipped, {"long_name": "prediction extrapolated"}),
             "indicator": ("step", self.indicator,
                           {"long_name": f"{self.criterion} indicator (NaN: not computed)"}),
             "times": ("node", self.times, {"long_name": "schedule time", "units": "1"})},
            coords={"step": np.arange(self.n_steps),
                    "t_from": ("step", self.times[:-1], {"units": "1"})},
            attrs=plain_attrs(solver=self.solver, criterion=self.criterion,
                              threshold=self.threshold, nfe=self.nfe,
                              wall_time=self.wall_time, wall_time_units="s"))


def _norm_mean(xp_arr):
    a = np.asarray(to_numpy(xp_arr), dtype=float)
    a = a.reshape(-1, a.shape[-1])
    return float(np.mean(np.sqrt(np.sum(a * a, axis=1))))


def sample_skipping(model, x_T, schedule, *, threshold, n_steps=50, solver="dpmpp_2m",
                    criterion="lte", extrapolation="linear", warmup=3, max_consecutive=1,
                    t_start=None, t_end=None, spacing="uniform_lambda", return_info=False,
                    progress=False):
    """Sample on a fixed grid, skipping evaluations where the trajectory is stable.

    Parameters
    ----------
    model
        ``predict(x, t, kind)`` (``dim``/``schedule`` checked when present).
    x_T : NumPy array or torch tensor (..., d)
        Samples at ``t_start``; the result has the same type (float64 NumPy and torch agree).
    schedule : Schedule
        The grid's ends must have finite log-SNR (``0 < alpha``, ``0 < sigma``).
    threshold : float >= 0
        Skip when the criterion is below it (0: never skip).
    n_steps : int
        Steps of the grid (each evaluated unless skipped).
    solver : "dpmpp_2m" or "ddim"
    criterion : "lte" or "x0_change"
    extrapolation : "linear" or "constant"
    warmup : int
        Number of first steps always evaluated (>= 2 for "linear", >= 3 for "lte" with it).
    max_consecutive : int
        At most this many skips in a row.
    t_start, t_end, spacing
        The grid (:meth:`Schedule.timesteps`).
    return_info : bool
        Return a :class:`SkipResult` instead of the array.
    progress : bool
        tqdm bar over the steps (default off).
    """
    t_wall = time.perf_counter()
    check_model_and_schedule(model, schedule)
    threshold = check_nonnegative("threshold", threshold)
    n_steps = check_int("n_steps", n_steps, low=1)
    check_choice("solver", solver, SKIP_SOLVERS)
    check_choice("criterion", criterion, CRITERIA)
    check_choice("extrapolation", extrapolation, EXTRAPOLATIONS)
    need = (3 if criterion == "lte" else 2) if extrapolation == "linear" else 2
    warmup = check_int("warmup", warmup, low=need - 1)
    max_consecutive = check_int("max_consecutive", max_consecutive, low=1)
    check_choice("spacing", spacing, SPACINGS)
    if not isinstance(return_info, bool | np.bool_):
        raise TypeError(f"return_info must be a bool, got {return_info!r}")
    progress = check_progress(progress)
    x, xp = as_float_array("x_T", x_T)
    dim = getattr(model, "dim", None)
    if len(tuple(x.shape)) == 0 or (dim is not None and tuple(x.shape)[-1] != dim):
        raise ValueError(f"x_T must have shape (..., {dim if dim is not None else 'd'}), got "
                         f"{tuple(x.shape)}")
    ts, te = schedule._endpoints(t_start, t_end)
    times = np.asarray(schedule.timesteps(n_steps, spacing, ts, te), dtype=float)
    la = [float(v) for v in schedule.log_alpha(times)]
    ls = [float(v) for v in schedule.log_sigma(times)]
    lam = [a - s for a, s in zip(la, ls, strict=True)]
    if not all(math.isfinite(v) for v in lam):
        raise ValueError("t_start and t_end must have finite log-SNR (0 < alpha, 0 < sigma): a "
                         "step to sigma = 0 cannot reuse a prediction")
    if np.any(np.diff(lam) <= 0):
        raise ValueError("the grid has repeated noise levels; use fewer steps")
    a = [math.exp(v) for v in la]
    s = [math.exp(v) for v in ls]
    kind = "x0" if solver == "dpmpp_2m" else "eps"
    lof = n_steps < LOWER_ORDER_FINAL_MAX_STEPS

    nfe = 0
    evals = []  # [(lambda, prediction, x0 prediction)] of evaluated steps
    used = []  # the prediction used at every grid point so far (2M history)
    skipped = np.zeros(n_steps, dtype=bool)
    indicator = np.full(n_steps, np.nan)
    run = 0
    for i in progress_iter(range(n_steps), progress, f"skipping ({solver})"):
        h = lam[i + 1] - lam[i]
        w = a[i + 1] * -math.expm1(-h) if kind == "x0" else s[i + 1] * math.expm1(h)
        skip = False
        if i >= warmup and i < n_steps - 1 and run < max_consecutive and len(evals) >= need:
            (l_a, p_a, d_a), (l_b, p_b, d_b) = evals[-1], evals[-2]
            if criterion == "x0_change":
                ind = _norm_mean(d_a - d_b) / max(_norm_mean(d_a), 1e-300)
            elif extrapolation == "linear":
                l_c, p_c = evals[-3][0], evals[-3][1]
                dd = (1.0 / (l_a - l_c)) * ((1.0 / (l_a - l_b)) * (p_a - p_b)
                                            - (1.0 / (l_b - l_c)) * (p_b - p_c))
                ind = w * abs(lam[i] - l_a) * abs(lam[i] - l_b) * _norm_mean(dd)
            else:
                ind = w * abs(lam[i] - l_a) / (l_a - l_b) * _norm_mean(p_a - p_b)
            indicator[i] = ind
            skip = ind < threshold
        if skip:
            l_a, p_a, _ = evals[-1]
            if extrapolation == "linear":
                l_b, p_b, _ = evals[-2]
                pred = p_a + ((lam[i] - l_a) / (l_a - l_b)) * (p_a - p_b)
            else:
                pred = p_a
            skipped[i] = True
            run += 1
        else:
            nfe += 1
            pred = model.predict(x, float(times[i]), kind=kind)
            if tuple(getattr(pred, "shape", ())) != tuple(x.shape):
                raise ValueError(f"model.predict returned shape "
                                 f"{tuple(getattr(pred, 'shape', ()))} for {tuple(x.shape)}")
            if pred.dtype != x.dtype or type(pred) is not type(x):
                pred = xp.cast_like(pred, x)
            if not xp.all_finite(pred):
                raise NonFiniteError(f"model.predict returned NaN/inf at step {i} of {n_steps} "
                                     f"(t = {times[i]:.6g}, kind={kind!r}, evaluation {nfe})",
                                     step=i, t=float(times[i]), nfe=nfe)
            d0 = pred if kind == "x0" else (1.0 / a[i]) * (x - s[i] * pred)
            evals = (evals + [(lam[i], pred, d0)])[-3:]
            run = 0
        # the step (DDIM, or DPM-Solver++(2M) with the midpoint weight, as sample())
        if kind == "eps":
            x = math.exp(la[i + 1] - la[i]) * x - w * pred
        else:
            out = math.exp(ls[i + 1] - ls[i]) * x + w * pred
            order = min(2, len(used) + 1)
            if lof:
                order = min(order, n_steps - i)
            if order == 2:
                r0 = (lam[i] - lam[i - 1]) / h
                out = out + (0.5 * w / r0) * (pred - used[-1])
            x = out
        used = (used + [pred])[-2:]
    if not xp.all_finite(x):
        raise NonFiniteError("the state became NaN/inf with finite model outputs: a step "
                             "overflowed", step=n_steps - 1, t=float(times[-2]), nfe=nfe)
    if not return_info:
        return x
    return SkipResult(x=x, times=times, skipped=skipped, indicator=indicator, nfe=nfe,
                      solver=solver, criterion=criterion, threshold=threshold,
                      wall_time=time.perf_counter() - t_wall,
                      options={"extrapolation": extrapolation, "warmup": warmup,
                               "max_consecutive": max_consecutive, "spacing": spacing})
