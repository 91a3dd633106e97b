"""Reverse-time samplers for multiplicative (GBM) diffusion: Dale–Langevin, ambient, PF-ODE.

The forward process is ``dX = mu(t) X dt + sigma(t) X dW`` (:class:`~.gbm.GBM`). A model is
anything with ``hyvarinen_score(x, t)`` returning ``h = x ∘ grad_x log p_t(x)`` (for example
``LogNormalMixture(...).bind(gbm)``, the exact marginal). All samplers integrate from
``t_start`` down to ``t_end`` on a time grid ``t_0 = t_start > t_1 > ... > t_N = t_end`` and
return samples at ``t_end`` of the array type of ``x_T`` (NumPy, or torch on its device/dtype).

Reverse-time SDEs (Anderson 1982), stepping from ``t_i`` to ``t_{i+1}``:

* log space (Lamperti transform ``Y = log X``, additive noise): ``dY = (mu - sigma^2/2) dt +
  sigma dW`` reverses to the **Dale–Langevin** step

      X <- X ∘ exp( dv (h + 1) - dm + sqrt(dv) z ),

  with ``dv = v(t_i) - v(t_{i+1})`` and ``dm = m(t_i) - m(t_{i+1})`` the exact increments of
  ``v = int sigma^2`` and ``m = int (mu - sigma^2/2)`` over the step (``GBM.log_variance``,
  ``GBM.log_mean``). For constant coefficients and ``delta = t_i - t_{i+1}`` this is the
  authors' ``X ∘ exp(delta sigma^2 (X ∘ s) - delta (mu - 1.5 sigma^2) + sqrt(delta) sigma z)``.
  Multiplicative by construction: it never produces ``x <= 0``.
* ambient space: the reverse drift ``mu x - d(sigma^2 x^2)/dx - sigma^2 x^2 d log p/dx`` gives
  the sign-agnostic **ambient** step (Euler–Maruyama in ``x``)

      X <- X ∘ ( 1 - dM + dv (h + 2) + sqrt(dv) z ),     dM = int mu dt = dm + dv/2,

  the authors' ``X ∘ [(1 + 2 delta sigma^2) - delta mu + delta sigma^2 (X ∘ s) + sqrt(delta)
  sigma z]``; a large step can make entries ``<= 0`` (counted in :class:`LangevinResult`).

Both are Euler–Maruyama schemes of weak order 1; the model is evaluated at ``t_i`` (never at
``t_end``). ``coefficients="left"`` replaces the exact increments by ``sigma(t_i)^2 delta``
and ``(mu(t_i) - sigma(t_i)^2/2) delta`` (``GBM.sigma_at``/``mu_at``; identical for constant
coefficients).

The authors' code (Madhavaprasath23/Dale-Meets-Langevin, ``mnist_exps/sampling.py``) runs a
grid of ``N = 1000`` times ``k/N`` but steps with a ``delta`` that does not match ``1/N``
(MNIST: ``0.000617`` for the Dale–Langevin sampler, ``4 x 0.000144`` for the ambient one),
damps the noise by a factor ``0.995`` per step and starts from a log-normal fitted to noised
data. ``step_size``, ``repeats``, ``noise_anneal`` and ``prior="lognormal_fit"`` reproduce
these choices so that their cost can be measured (benchmarks/bench_multiplicative_samplers.py).

:func:`probability_flow` solves the probability-flow ODE instead, in ``z = log x - m(t)``,
where GBM noising is the variance-exploding diffusion ``z_t = z_0 + sqrt(v(t)) eps``
(:class:`~.gbm.GBMSchedule`): :class:`LogSpaceModel` turns a Hyvärinen-score model into a
:mod:`sciflow.sampling` model and :func:`sciflow.sampling.sample` does the rest (DPM-Solver++,
UniPC, ... at their usual orders).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import as_rng, check_array, check_choice, check_int, check_positive
from ..sampling.backend import as_float_array, get_namespace
from ..sampling.schedules import SPACINGS
from ..sampling.solvers import NonFiniteError
from ..sampling.solvers import sample as _pf_sample
from .gbm import GBM, _check_positive_data

__all__ = [
    "dale_langevin",
    "ambient_langevin",
    "probability_flow",
    "LogSpaceModel",
    "LangevinResult",
    "time_grid",
    "lognormal_prior",
]

PRIORS = ("exact", "lognormal_fit")
COEFFICIENTS = ("exact", "left")


# ============================================================================ results
@dataclass(frozen=True)
class LangevinResult:
    """Output of :func:`dale_langevin` / :func:`ambient_langevin` with ``return_info=True``.

    ``x`` the samples at ``times[-1]`` (array type of ``x_T``); ``times`` the grid (decreasing);
    ``dv``/``dm`` the per-step log-variance and log-mean increments actually used (with a
    mismatched ``step_size`` they no longer add up to ``v(t_start) - v(t_end)``); ``nfe`` model
    evaluations; ``n_nonpositive`` entries of ``x`` that are ``<= 0`` (always 0 for Dale–Langevin);
    ``first_nonpositive_step`` the first step that produced one (None if none did).
    """

    x: Any
    times: np.ndarray
    dv: np.ndarray
    dm: np.ndarray
    nfe: int
    sampler: str
    n_nonpositive: int = 0
    first_nonpositive_step: int | None = None
    wall_time: float = 0.0
    options: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return len(self.times) - 1

    @property
    def integrated_variance(self) -> float:
        """``sum(dv)``: the log-space variance the sampler removed (``v(t_start) - v(t_end)``
        for a consistent grid)."""
        return float(np.sum(self.dv))

    def plot(self, ax=None, dim=0, bins=100, **kwargs):
        """Density histogram of ``log x[..., dim]`` (positive entries; ``kwargs`` to
        ``Axes.hist``); returns the Axes."""
        from ..sampling._surface import new_axes, numpy_samples

        ax = new_axes(ax)
        x = numpy_samples(self.x)
        x = x.reshape(x.shape[0], -1)[:, check_int("dim", dim, low=0, high=x[0].size - 1)]
        ax.hist(np.log(x[x > 0]), **{"bins": check_int("bins", bins, low=1), "density": True,
                                     **kwargs})
        ax.set_xlabel(f"log x[{dim}]")
        ax.set_title(f"{self.sampler}, {self.n_steps} steps")
        return ax

    def to_xarray(self):
        """``x`` (sample, dim) at ``times[-1]``, ``dv`` and ``dm`` (log-variance and log-mean
        increments) on ``step``, ``times`` on ``node``; sampler, nfe and the sign counts in
        attrs."""
        from ..sampling._surface import numpy_samples, plain_attrs, sample_dims, xarray

        xr = xarray()
        x = numpy_samples(self.x)
        return xr.Dataset(
            {"x": (sample_dims(x), x, {"long_name": "samples at t_end", "units": "[x]"}),
             "dv": ("step", np.asarray(self.dv, dtype=float), {"units": "1"}),
             "dm": ("step", np.asarray(self.dm, dtype=float), {"units": "1"}),
             "times": ("node", np.asarray(self.times, dtype=float),
                       {"long_name": "time", "units": "1/[mu]"})},
            coords={"step": np.arange(self.n_steps)},
            attrs=plain_attrs(sampler=self.sampler, nfe=self.nfe,
                              n_nonpositive=self.n_nonpositive,
                              first_nonpositive_step=self.first_nonpositive_step,
                              wall_time=self.wall_time, wall_time_units="s"))


# ============================================================================ helpers
def _check_model(model):
    if not callable(getattr(model, "hyvarinen_score", None)):
        raise TypeError(f"model must have a hyvarinen_score(x, t) method, got "
                        f"{type(model).__name__}")
    return model


def _check_gbm(gbm):
    if not isinstance(gbm, GBM):
        raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
    return gbm


def _check_window(t_start, t_end):
    t_start = check_positive("t_start", t_start)
    t_end = check_positive("t_end", t_end)
    if not t_end < t_start:
        raise ValueError(f"t_end must be < t_start, got t_start={t_start}, t_end={t_end}")
    return t_start, t_end


def time_grid(gbm, n_steps=None, *, t_start=1.0, t_end=1e-3, spacing="uniform_t", steps=None):
    """The decreasing sampling times ``t_start = t_0 > ... > t_N = t_end``.

    ``steps`` (explicit times) overrides the rest; otherwise ``n_steps`` steps with a
    :meth:`Schedule.timesteps` ``spacing`` of ``gbm.schedule`` (``"uniform_t"`` — the
    authors' grid — ``"uniform_lambda"`` (geometric in ``v``), ``"quadratic"``, ``"karras"``).
    """
    _check_gbm(gbm)
    if steps is not None:
        if n_steps is not None and check_int("n_steps", n_steps, low=1) != len(steps) - 1:
            raise ValueError(f"n_steps={n_steps} does not match steps ({len(steps) - 1} steps)")
        arr = check_array("steps", steps, ndim=1, min_size=2)
        if np.any(arr <= 0):
            raise ValueError(f"steps must be > 0, got {arr[arr <= 0][0]}")
        if np.any(np.diff(arr) >= 0):
            raise ValueError("steps must be strictly decreasing (from t_start down to t_end)")
        return arr
    if n_steps is None:
        raise ValueError("n_steps is required unless steps is given")
    n_steps = check_int("n_steps", n_steps, low=1)
    t_start, t_end = _check_window(t_start, t_end)
    check_choice("spacing", spacing, SPACINGS)
    times = np.asarray(gbm.schedule(t_start, t_end).timesteps(n_steps, spacing, t_start, t_end),
                       dtype=float)
    times[0], times[-1] = t_start, t_end
    if np.any(np.diff(times) >= 0):
        raise ValueError(f"spacing {spacing!r} gave repeated times for n_steps={n_steps}")
    return times


def lognormal_prior(data, gbm, t):
    """Per-coordinate log-normal fit of ``p_t`` from data ``X_0`` (shape (m, ...)).

    The log-moments of ``X_t`` follow exactly from those of the data: ``E log X_t =
    E log X_0 + m(t)``, ``Var log X_t = Var log X_0 + v(t)``; returns ``(mean, std)`` arrays of
    the event shape. This is the authors' starting distribution (a log-normal fitted to noised
    images), without the sampling noise of noising the data first.
    """
    _check_gbm(gbm)
    data, xp = _check_positive_data("prior_data", data)
    y = np.log(np.asarray(xp.to_numpy(data), dtype=float))
    if y.ndim < 1 or y.shape[0] < 2:
        raise ValueError(f"prior_data must have at least 2 samples along axis 0, got shape "
                         f"{y.shape}")
    t = check_positive("t", t)
    mean = y.mean(axis=0) + float(gbm.log_mean(t))
    std = np.sqrt(y.var(axis=0) + float(gbm.log_variance(t)))
    return mean, std


def _initial(model, x_T, gbm, t_start, prior, prior_data, rng, positive):
    """The samples at ``t_start``: ``x_T``, or drawn from the prior (``x_T`` an int or shape)."""
    if isinstance(x_T, numbers.Integral | tuple) and not isinstance(x_T, bool):
        shape = (x_T,) if isinstance(x_T, numbers.Integral) else tuple(x_T)
        if len(shape) == 0 or any(not isinstance(s, numbers.Integral) or isinstance(s, bool)
                                  or s < 1 for s in shape):
            raise ValueError(f"x_T must be an array, a sample count >= 1 or a shape of positive "
                             f"integers, got {x_T!r}")
        n = int(shape[0])
        prior = "exact" if prior is None else prior
        check_choice("prior", prior, PRIORS)
        if prior == "exact":
            if not callable(getattr(model, "sample", None)):
                raise TypeError("prior='exact' needs a model with sample(n, t, rng) (the exact "
                                "marginal); give prior='lognormal_fit' with prior_data, or x_T")
            x = np.asarray(model.sample(n, t_start, rng), dtype=float)
            if len(shape) > 1 and tuple(x.shape) != shape:
                raise ValueError(f"x_T shape {shape} does not match the model's samples "
                                 f"{tuple(x.shape)}")
        else:
            if prior_data is None:
                if not callable(getattr(model, "sample", None)):
                    raise ValueError("prior='lognormal_fit' needs prior_data (samples of X_0)")
                prior_data = model.sample(max(n, 10_000), 0.0, rng)
            mean, std = lognormal_prior(prior_data, gbm, t_start)
            ev = mean.shape
            if len(shape) > 1 and shape[1:] != ev:
                raise ValueError(f"x_T shape {shape} does not match prior_data's event shape "
                                 f"{ev}")
            x = np.exp(mean + std * rng.standard_normal((n,) + ev))
        return x, get_namespace(x)
    if prior is not None:
        raise ValueError(f"prior is used only when x_T is a sample count or shape; got an "
                         f"array x_T and prior={prior!r}")
    if positive:
        return _check_positive_data("x_T", x_T)
    x, xp = as_float_array("x_T", x_T)
    if len(tuple(x.shape)) == 0:
        raise ValueError("x_T must have at least one axis (samples)")
    return x, xp


class _Score:
    """The model as the samplers see it: counts evaluations, checks shape and finiteness."""

    def __init__(self, model, xp, sampler):
        self.f = model.hyvarinen_score
        self.xp = xp
        self.sampler = sampler
        self.nfe = 0

    def __call__(self, x, t, step, n_steps):
        self.nfe += 1
        out = self.f(x, t)
        shape = getattr(out, "shape", None)
        if shape is None:
            raise TypeError(f"model.hyvarinen_score must return an array, got "
                            f"{type(out).__name__}")
        if tuple(shape) != tuple(x.shape):
            raise ValueError(f"model.hyvarinen_score returned shape {tuple(shape)} for input "
                             f"shape {tuple(x.shape)}")
        if type(out) is not type(x) or out.dtype != x.dtype:
            out = self.xp.cast_like(out, x)
        if not self.xp.all_finite(out):
            raise NonFiniteError(
                f"{self.sampler}: model.hyvarinen_score returned NaN/inf at step {step} of "
                f"{n_steps} (t = {t:.6g}, evaluation {self.nfe})", step=step, t=t, nfe=self.nfe)
        return out


def _increments(gbm, times, step_size, coefficients):
    """Per-step ``dv`` (log-variance) and ``dm`` (log-mean) removed by each reverse step."""
    t_i, t_next = times[:-1], times[1:]
    n = len(t_i)
    if step_size is not None:
        if coefficients == "exact":
            raise ValueError("coefficients='exact' integrates over the grid steps; a step_size "
                             "that differs from the grid needs coefficients='left' (the default "
                             "with step_size)")
        if callable(step_size):
            delta = np.asarray([step_size(i, float(t)) for i, t in enumerate(t_i)], dtype=float)
        else:
            delta = np.broadcast_to(np.asarray(step_size, dtype=float), (n,)).copy() \
                if np.ndim(step_size) == 0 else check_array("step_size", step_size, ndim=1)
        if delta.shape != (n,):
            raise ValueError(f"step_size must be a number, a callable or have {n} entries (one "
                             f"per step), got shape {delta.shape}")
        if not np.all(np.isfinite(delta)) or np.any(delta <= 0):
            raise ValueError("step_size must be finite and > 0")
        coefficients = "left"
    else:
        coefficients = "exact" if coefficients is None else coefficients
        delta = t_i - t_next
    check_choice("coefficients", coefficients, COEFFICIENTS)
    if coefficients == "exact":
        v, m = np.asarray(gbm.log_variance(times)), np.asarray(gbm.log_mean(times))
        dv, dm = v[:-1] - v[1:], m[:-1] - m[1:]
    else:
        s, mu = np.asarray(gbm.sigma_at(t_i)), np.asarray(gbm.mu_at(t_i))
        dv, dm = s * s * delta, (mu - 0.5 * s * s) * delta
    return np.atleast_1d(dv).astype(float), np.atleast_1d(dm).astype(float), coefficients


def _langevin(sampler, model, x_T, gbm, *, n_steps, t_start, t_end, rng, steps, spacing,
              step_size, coefficients, repeats, noise_anneal, prior, prior_data, return_info,
              progress):
    model = _check_model(model)
    gbm = _check_gbm(gbm)
    rng = as_rng(rng)
    repeats = check_int("repeats", repeats, low=1)
    noise_anneal = check_positive("noise_anneal", noise_anneal)
    for name, flag in (("return_info", return_info), ("progress", progress)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    times = time_grid(gbm, n_steps, t_start=t_start, t_end=t_end, spacing=spacing, steps=steps)
    dv, dm, coefficients = _increments(gbm, times, step_size, coefficients)
    if np.any(dv <= 0):
        raise ValueError("every step must remove a positive log-variance (sigma > 0 and "
                         "decreasing times)")
    dale = sampler == "dale_langevin"
    x, xp = _initial(model, x_T, gbm, float(times[0]), prior, prior_data, rng, positive=dale)
    dim = getattr(model, "dim", None)
    if dim is not None and (len(tuple(x.shape)) < 2 or tuple(x.shape)[-1] != dim):
        raise ValueError(f"x_T must have shape (n, {dim}) to match the model dimension, got "
                         f"{tuple(x.shape)}")
    score = _Score(model, xp, sampler)
    shape = tuple(x.shape)
    n = len(times) - 1
    y = xp.log(x) if dale else None
    n_bad, first_bad = 0, None
    it = range(n)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=sampler, leave=False)
    t0 = time.perf_counter()
    anneal = 1.0
    for i in it:
        t = float(times[i])
        sd = math.sqrt(float(dv[i])) * anneal
        for _ in range(repeats):
            try:
                h = score(x, t, i, n)
            except NonFiniteError:
                raise
            except (ValueError, FloatingPointError) as exc:
                if dale or n_bad == 0:
                    raise
                raise ValueError(
                    f"{sampler}: the model failed at step {i} of {n} (t = {t:.6g}) on a state "
                    f"with {n_bad} entries <= 0 (first produced in step {first_bad}; the "
                    f"ambient sampler is not sign-preserving: use more steps or "
                    f"dale_langevin): {exc}") from exc
            z = xp.from_numpy(rng.standard_normal(shape), like=x)
            if dale:
                y = y + float(dv[i]) * (h + 1.0) + (sd * z - float(dm[i]))
                x = xp.exp(y)
            else:
                # 1 - dM + dv (h + 2) = 1 - dm - dv/2 + dv h + 2 dv = 1 - dm + 1.5 dv + dv h
                x = x * ((1.0 - float(dm[i]) + 1.5 * float(dv[i])) + float(dv[i]) * h + sd * z)
            if not xp.all_finite(x):
                raise NonFiniteError(
                    f"{sampler}: the state became NaN/inf in step {i} of {n} (t = {t:.6g}) with "
                    f"finite model outputs: the step overflowed", step=i, t=t, nfe=score.nfe)
            if not dale:
                n_bad = int(np.count_nonzero(xp.to_numpy(x) <= 0))
                if n_bad and first_bad is None:
                    first_bad = i
        anneal *= noise_anneal
    wall = time.perf_counter() - t0
    if not return_info:
        return x
    opts = {"coefficients": coefficients, "repeats": repeats, "noise_anneal": noise_anneal,
            "step_size": step_size, "spacing": spacing if steps is None else None}
    return LangevinResult(x=x, times=times, dv=dv * repeats, dm=dm * repeats, nfe=score.nfe,
                          sampler=sampler, n_nonpositive=n_bad, first_nonpositive_step=first_bad,
                          wall_time=wall, options=opts)


_COMMON_DOC = """
    Parameters
    ----------
    model
        Anything with ``hyvarinen_score(x, t)`` (``x ∘ grad log p_t``), e.g.
        ``LogNormalMixture(...).bind(gbm)``.
    x_T : array (NumPy or torch), int or tuple
        Samples at ``t_start`` (the result has their array type, dtype and device), or a sample
        count / shape to draw from ``prior`` (NumPy float64 result).
    gbm : GBM
        The forward process; ``mu``, ``sigma`` may depend on t.
    n_steps : int
        Number of reverse steps (>= 1; one model evaluation each, times ``repeats``).
    t_start, t_end : float
        ``0 < t_end < t_start``; defaults 1 and 1e-3 (the authors' window).
    rng : numpy Generator or seed
        Noise is drawn in float64 NumPy and converted, so NumPy and torch runs agree.
    steps : 1-D array, optional
        Explicit decreasing times (overrides ``n_steps``, ``t_start``, ``t_end``, ``spacing``).
    spacing : str
        Grid spacing (:func:`time_grid`); default ``"uniform_t"``.
    step_size : float, array (one per step) or callable ``(i, t) -> delta``, optional
        A step ``delta`` that ignores the grid (the authors' inconsistency; implies
        ``coefficients="left"``). Default: the grid's own steps (consistent).
    coefficients : {"exact", "left"}
        Exact increments ``v(t_i) - v(t_{i+1})``, ``m(t_i) - m(t_{i+1})`` (default) or the
        left-point ``sigma(t_i)^2 delta``, ``(mu(t_i) - sigma(t_i)^2 / 2) delta``.
    repeats : int
        Steps taken at each grid time (the authors' ``L``); default 1.
    noise_anneal : float
        The noise at step ``i`` is multiplied by ``noise_anneal**i`` (the authors' 0.995;
        default 1: no annealing).
    prior : {"exact", "lognormal_fit"}, optional
        Only with a count/shape ``x_T``: ``"exact"`` draws ``model.sample(n, t_start, rng)``;
        ``"lognormal_fit"`` a per-coordinate log-normal with the exact log-moments of
        ``X_{t_start}`` computed from ``prior_data`` (:func:`lognormal_prior`).
    prior_data : array, optional
        Samples of ``X_0`` for ``"lognormal_fit"`` (default: ``model.sample(n, 0)``).
    return_info : bool
        Return a :class:`LangevinResult` instead of the array.
    progress : bool
        tqdm progress bar over the steps.
"""


def dale_langevin(model, x_T, gbm, *, n_steps=None, t_start=1.0, t_end=1e-3, rng=None,
                  steps=None, spacing="uniform_t", step_size=None, coefficients=None,
                  repeats=1, noise_anneal=1.0, prior=None, prior_data=None, return_info=False,
                  progress=False):
    """Sign-preserving Dale–Langevin sampler: Euler–Maruyama for the reverse SDE of ``log X``.

    ``X <- X ∘ exp(dv (h + 1) - dm + sqrt(dv) z)`` (module docstring); ``x_T`` must be > 0 and
    every output is > 0.
    """
    return _langevin("dale_langevin", model, x_T, gbm, n_steps=n_steps, t_start=t_start,
                     t_end=t_end, rng=rng, steps=steps, spacing=spacing, step_size=step_size,
                     coefficients=coefficients, repeats=repeats, noise_anneal=noise_anneal,
                     prior=prior, prior_data=prior_data, return_info=return_info,
                     progress=progress)


def ambient_langevin(model, x_T, gbm, *, n_steps=None, t_start=1.0, t_end=1e-3, rng=None,
                     steps=None, spacing="uniform_t", step_size=None, coefficients=None,
                     repeats=1, noise_anneal=1.0, prior=None, prior_data=None, return_info=False,
                     progress=False):
    """Sign-agnostic sampler: Euler–Maruyama for the reverse SDE of ``X`` in ambient space.

    ``X <- X ∘ (1 - dM + dv (h + 2) + sqrt(dv) z)`` (module docstring). Entries can become
    ``<= 0`` for large steps; the model is then evaluated there (a model defined only on
    ``x > 0``, such as the exact log-normal mixture, raises).
    """
    return _langevin("ambient_langevin", model, x_T, gbm, n_steps=n_steps, t_start=t_start,
                     t_end=t_end, rng=rng, steps=steps, spacing=spacing, step_size=step_size,
                     coefficients=coefficients, repeats=repeats, noise_anneal=noise_anneal,
                     prior=prior, prior_data=prior_data, return_info=return_info,
                     progress=progress)


dale_langevin.__doc__ = (dale_langevin.__doc__ or "") + _COMMON_DOC  # None under -OO
ambient_langevin.__doc__ = (ambient_langevin.__doc__ or "") + _COMMON_DOC


# ============================================================================ PF-ODE
class LogSpaceModel:
    """A Hyvärinen-score model as a :mod:`sciflow.sampling` model in ``z = log x - m(t)``.

    Under :class:`~.gbm.GBMSchedule` (``alpha = 1``, ``sigma_Z = sqrt(v(t))``) the score of
    ``z`` is ``h(x, t) + 1`` with ``x = exp(z + m(t))``, and ``predict(z, t, kind)`` returns
    ``"score"``, ``"eps" = -sigma_Z score``, ``"x0" = z + sigma_Z^2 score`` (Tweedie) or
    ``"velocity" = -sigma(t)^2 score / 2`` (the probability-flow ``dz/dt``).
    """

    def __init__(self, model, gbm, t_start=1.0, t_end=1e-3):
        self.model = _check_model(model)
        self.gbm = _check_gbm(gbm)
        t_start, t_end = _check_window(t_start, t_end)
        self.schedule = gbm.schedule(t_start, t_end)
        self.dim = getattr(model, "dim", None)

    def predict(self, z, t, kind="eps"):
        check_choice("kind", kind, ("eps", "x0", "score", "velocity"))
        z, xp = as_float_array("z", z)
        t = float(t)
        x = xp.exp(z + float(self.gbm.log_mean(t)))
        h = self.model.hyvarinen_score(x, t)
        if type(h) is not type(z) or h.dtype != z.dtype:
            h = xp.cast_like(h, z)
        score = h + 1.0
        if kind == "score":
            return score
        v = float(self.gbm.log_variance(t))
        if kind == "eps":
            return -math.sqrt(v) * score
        if kind == "x0":
            return z + v * score
        s = float(self.gbm.sigma_at(t))
        return (-0.5 * s * s) * score

    def __call__(self, z, t, kind="eps"):
        return self.predict(z, t, kind)

    def __repr__(self):
        return f"LogSpaceModel({self.model!r}, {self.gbm!r})"


def probability_flow(model, x_T, gbm, *, solver="dpmpp_2m", nfe=10, t_start=1.0, t_end=1e-3,
                     rng=None, prior=None, prior_data=None, return_info=False, progress=False,
                     **options):
    """Deterministic sampler: the probability-flow ODE in ``z = log x - m(t)``.

    Wraps ``model`` as :class:`LogSpaceModel` and calls :func:`sciflow.sampling.sample` with
    ``gbm.schedule(t_start, t_end)`` (default spacing: uniform in the log-SNR
    ``-log sqrt(v)``). ``x_T`` (> 0) as in :func:`dale_langevin` (``rng`` is used only to draw
    from ``prior``); ``options`` go to :func:`sciflow.sampling.sample` (``steps``, ``spacing``,
    ``denoise_to_zero``, scheme options). Returns samples at ``t_end`` of the type of ``x_T``,
    or with ``return_info=True`` the :class:`~sciflow.sampling.SampleResult` with ``x`` mapped
    back to ``x`` space (its ``trajectory`` stays in ``z``).
    """
    _check_model(model)
    gbm = _check_gbm(gbm)
    t_start, t_end = _check_window(t_start, t_end)
    if "steps" in options and options["steps"] is not None:
        st = check_array("steps", options["steps"], ndim=1, min_size=2)
        t_start, t_end = float(st[0]), float(st[-1])
        if not (t_end > 0 and t_start > t_end):
            raise ValueError("steps must decrease from t_start to t_end > 0")
        window = {}
    else:
        window = {"t_start": t_start, "t_end": t_end}
    x, xp = _initial(model, x_T, gbm, t_start, prior, prior_data, as_rng(rng), positive=True)
    wrapped = LogSpaceModel(model, gbm, t_start, t_end)
    z = xp.log(x) - float(gbm.log_mean(t_start))
    out = _pf_sample(wrapped, z, wrapped.schedule, solver=solver, nfe=nfe,
                     return_info=return_info, progress=progress, **window, **options)
    m_end = float(gbm.log_mean(t_end))
    if not return_info:
        return xp.exp(out + m_end)
    from dataclasses import replace

    return replace(out, x=xp.exp(out.x + m_end))
