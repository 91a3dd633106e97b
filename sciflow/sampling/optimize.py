"""Step-schedule optimisation: the time steps that minimise a sampler's error at a fixed NFE.

Given a model, a solver and an NFE budget, :func:`optimize_steps` moves the interior time
points of the sampling grid so that the mean sample error is as small as possible, with the
two end times fixed. The error is measured against

``reference="exact"``
    the exact probability-flow ODE solution of the same starting points (for an analytic model:
    :meth:`~sciflow.sampling.models.BoundGaussianMixture.exact_ode_solution`, or reference
    samples passed as ``x_ref``) — the error itself, not an estimate;
``reference="lte"``
    a step-doubling (Richardson) proxy for a model without a known solution (a trained
    network): the same solver on the grid with every log-SNR interval split into ``refine``
    equal parts, ``err ~ |x_h - x_{h/refine}| / (1 - refine^-p)`` with ``p`` the solver's
    nominal order. A step to ``sigma = 0`` (infinite log-SNR length) is not split — it is the
    same first-order x0 jump on both grids, so its error would be invisible — instead the fine
    grid continues past the last finite point with ``refine`` more steps of the last finite
    step's length before jumping; likewise before a step from ``alpha = 0``. The fine run costs
    about ``refine`` times the coarse run.

Parametrisation
---------------
The ``n`` steps have ``n - 1`` interior points, and these are the parameters (so NFE <= 10
means at most 9 parameters for a multistep solver, fewer for singlestep ones). They are laid
out in the log-SNR ``lambda = log(alpha/sigma)``, where the probability-flow ODE is
schedule-free, through positive increments, so every parameter vector is a valid, strictly
decreasing grid:

* both ends finite: ``lambda_k = lambda_start + (lambda_end - lambda_start) * cumsum(softmax(u))``
  with the first logit fixed to 0 (``n - 1`` free logits);
* ``t_end`` with ``sigma = 0`` (``lambda_end = +inf``, e.g. ``t_end = 0``): the last finite
  point is free, ``lambda_k = lambda_start + cumsum(exp(u))``; mirrored for a start with
  ``alpha = 0``, and with one free anchor when both ends are infinite.

Interior log-SNRs are clipped to ``[-40, 40]`` (``sigma/alpha`` between ``e^-40`` and ``e^40``).
The objective is the log of the mean (over samples) Euclidean error, minimised with
:func:`scipy.optimize.minimize` (``"Nelder-Mead"`` by default (adaptive), ``"Powell"``, or
``"L-BFGS-B"`` with finite-difference gradients). The reported errors use a held-out set of
starting points (``x_heldout`` or ``n_heldout`` fresh draws), so they measure the schedule, not
a fit to the training points.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._validate import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)
from .backend import to_numpy
from .schedules import SPACINGS, Schedule
from .solvers import SOLVERS, sample

__all__ = ["optimize_steps", "evaluate_steps", "StepOptimization", "REFERENCES", "METHODS"]

REFERENCES = ("exact", "lte")
METHODS = ("Nelder-Mead", "Powell", "L-BFGS-B")
_LAMBDA_CLIP = 40.0


# ============================================================================ result
@dataclass(frozen=True)
class StepOptimization:
    """Result of :func:`optimize_steps`.

    Attributes
    ----------
    steps : ndarray
        The optimised, decreasing times (``n_steps + 1`` of them, ends as given).
    initial_steps : ndarray
        The starting grid (``init``, by default uniform in log-SNR).
    error_initial, error : float
        Mean sample error on the optimisation set, before and after.
    heldout_error_initial, heldout_error : float or None
        The same on the held-out starting points (None without a held-out set).
    history : ndarray
        Objective (mean error) at every evaluation, in order.
    solver, nfe, reference, method : str, int, str, str
    n_evals : int
        Number of objective evaluations (each is one sampler run on the optimisation set, plus
        a ``refine``-times finer run for ``reference="lte"``).
    success : bool
        True if the optimiser reported convergence (the best point is returned regardless).
    message : str
    wall_time : float
        Seconds spent, reference solutions included.
    """

    steps: np.ndarray
    initial_steps: np.ndarray
    error_initial: float
    error: float
    heldout_error_initial: float | None
    heldout_error: float | None
    history: np.ndarray
    solver: str
    nfe: int
    reference: str
    method: str
    n_evals: int
    success: bool
    message: str
    wall_time: float
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        steps = check_array("steps", self.steps, ndim=1, min_size=2)
        if np.any(np.diff(steps) >= 0):
            raise ValueError("steps must be strictly decreasing (from t_start down to t_end)")
        init = check_array("initial_steps", self.initial_steps, ndim=1, min_size=2)
        if init.shape != steps.shape:
            raise ValueError(f"initial_steps must have the shape of steps {steps.shape}, got "
                             f"{init.shape}")
        if np.any(np.diff(init) >= 0):
            raise ValueError("initial_steps must be strictly decreasing")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "initial_steps", init)
        for name in ("error_initial", "error"):
            object.__setattr__(self, name, check_nonnegative(name, getattr(self, name)))
        for name in ("heldout_error_initial", "heldout_error"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, check_nonnegative(name, v))
        if (self.heldout_error is None) != (self.heldout_error_initial is None):
            raise ValueError("heldout_error and heldout_error_initial must both be given or "
                             "both be None")
        # inf marks a failed evaluation (a grid on which the sampler overflowed)
        hist = check_array("history", self.history, ndim=1, finite=False)
        if np.any(np.isnan(hist)) or np.any(hist < 0):
            raise ValueError("history must hold non-negative errors (inf for a failed "
                             "evaluation), no NaN")
        object.__setattr__(self, "history", hist)
        _check_solver(self.solver)
        object.__setattr__(self, "nfe", check_int("nfe", self.nfe, low=1))
        check_choice("reference", self.reference, REFERENCES)
        check_choice("method", self.method, METHODS)
        n_evals = check_int("n_evals", self.n_evals, low=0)
        if n_evals != hist.size:
            raise ValueError(f"n_evals must equal len(history) = {hist.size}, got {n_evals}")
        object.__setattr__(self, "n_evals", n_evals)
        if not isinstance(self.success, bool | np.bool_):
            raise TypeError(f"success must be a bool, got {self.success!r}")
        if not isinstance(self.message, str):
            raise TypeError(f"message must be a string, got {type(self.message).__name__}")
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if not isinstance(self.options, dict):
            raise TypeError(f"options must be a dict, got {type(self.options).__name__}")

    @property
    def n_steps(self) -> int:
        return int(len(self.steps) - 1)

    @property
    def ratio(self) -> float:
        """Optimised / initial error, on the held-out set when there is one."""
        if self.heldout_error is not None and self.heldout_error_initial:
            return self.heldout_error / self.heldout_error_initial
        return self.error / self.error_initial if self.error_initial else float("nan")

    @property
    def best_history(self) -> np.ndarray:
        """Running minimum of :attr:`history`."""
        return np.minimum.accumulate(self.history) if self.history.size else self.history

    def lambdas(self, schedule, which="optimised"):
        """Log-SNR of the optimised (or ``"initial"``) grid under ``schedule``."""
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a noise schedule, got {type(schedule).__name__}")
        check_choice("which", which, ("optimised", "initial"))
        return np.asarray(schedule.lambda_(self.steps if which == "optimised"
                                           else self.initial_steps), dtype=float)

    def plot(self, ax=None, kind="history", **kwargs):
        """``kind="history"``: objective per evaluation (and its running minimum);
        ``"steps"``: initial and optimised times against the step index. ``kwargs`` go to
        ``Axes.plot`` for the main line. Returns the Axes."""
        from ._surface import new_axes

        check_choice("kind", kind, ("history", "steps"))
        ax = new_axes(ax)
        if kind == "history":
            ax.semilogy(self.history, ".", ms=2, alpha=0.4, label="evaluation")
            ax.semilogy(self.best_history, "-", **{"label": "best so far", **kwargs})
            ax.set_xlabel("objective evaluation")
            ax.set_ylabel("mean sample error")
        else:
            k = np.arange(len(self.steps))
            ax.plot(k, self.initial_steps, "o--", label="initial")
            ax.plot(k, self.steps, "s-", **{"label": "optimised", **kwargs})
            ax.set_xlabel("step index")
            ax.set_ylabel("t")
        ax.set_title(f"{self.solver}, NFE = {self.nfe}: error x{self.ratio:.3g}")
        ax.legend()
        return ax

    def to_xarray(self):
        """``steps`` and ``initial_steps`` (schedule times) on ``step_index``; ``history`` and
        ``best_history`` (mean sample error) on ``evaluation``; the scalars in attrs."""
        from ._surface import plain_attrs, xarray

        xr = xarray()
        node = {"long_name": "schedule time", "units": "1"}
        err = {"long_name": "mean sample error", "units": "same as x"}
        return xr.Dataset(
            {"steps": ("step_index", self.steps, node),
             "initial_steps": ("step_index", self.initial_steps, node),
             "history": ("evaluation", self.history, err),
             "best_history": ("evaluation", self.best_history, err)},
            coords={"step_index": np.arange(len(self.steps)),
                    "evaluation": np.arange(self.history.size)},
            attrs=plain_attrs(solver=self.solver, nfe=self.nfe, reference=self.reference,
                              method=self.method, error_initial=self.error_initial,
                              error=self.error, heldout_error_initial=self.heldout_error_initial,
                              heldout_error=self.heldout_error, n_evals=self.n_evals,
                              success=self.success, message=self.message,
                              wall_time=self.wall_time, wall_time_units="s"))


# ============================================================================ helpers
def _clip_lambda(lam):
    return np.clip(lam, -_LAMBDA_CLIP, _LAMBDA_CLIP)


class _Parametrisation:
    """Map between free parameters u (n - 1 reals) and the interior log-SNRs of n steps."""

    def __init__(self, lam_start, lam_end, n_steps):
        self.ls, self.le, self.n = float(lam_start), float(lam_end), int(n_steps)
        self.head = math.isinf(self.ls)  # alpha = 0 at the start
        self.tail = math.isinf(self.le)  # sigma = 0 at the end

    def interior(self, u):
        u = np.asarray(u, dtype=float)
        if not self.head and not self.tail:
            z = np.concatenate([[0.0], u])
            z = z - z.max()
            w = np.exp(z)
            c = np.cumsum(w / w.sum())[:-1]
            return self.ls + (self.le - self.ls) * c
        if not self.head:  # free end: cumulative positive increments from the start
            with np.errstate(over="ignore"):
                inc = np.exp(np.minimum(u, 10.0))
            return self.ls + np.cumsum(inc)
        if not self.tail:  # free start: mirrored
            with np.errstate(over="ignore"):
                inc = np.exp(np.minimum(u, 10.0))
            return self.le - np.cumsum(inc[::-1])[::-1]
        if self.n - 1 == 1:
            return np.asarray([u[0]])
        with np.errstate(over="ignore"):
            inc = np.exp(np.minimum(u[1:], 10.0))
        return u[0] + np.concatenate([[0.0], np.cumsum(inc)])

    def params(self, lam_interior):
        lam = np.asarray(lam_interior, dtype=float)
        if not self.head and not self.tail:
            full = np.concatenate([[self.ls], lam, [self.le]])
            d = np.diff(full)
            return np.log(d[1:]) - np.log(d[0])
        if not self.head:
            return np.log(np.diff(np.concatenate([[self.ls], lam])))
        if not self.tail:
            return np.log(np.diff(np.concatenate([lam, [self.le]])))
        return np.concatenate([[lam[0]], np.log(np.diff(lam))])


def _times_from_interior(schedule, ts, te, lam_interior):
    lam = _clip_lambda(np.asarray(lam_interior, dtype=float))
    lo = float(schedule.lambda_(schedule.t_max)) if math.isfinite(schedule.t_max) else -np.inf
    lam = np.maximum(lam, lo)
    mid = np.asarray(schedule.t_from_lambda(lam), dtype=float)
    return np.concatenate([[ts], np.atleast_1d(mid), [te]])


def _refined_times(schedule, times, refine):
    """Split every log-SNR interval into ``refine`` parts; extend past an infinite end."""
    lam = np.asarray(schedule.lambda_(times), dtype=float)
    n = len(times) - 1
    pieces = [np.asarray([times[0]], dtype=float)]
    for i in range(n):
        l0, l1 = lam[i], lam[i + 1]
        if math.isfinite(l0) and math.isfinite(l1):
            sub = l0 + (l1 - l0) * np.arange(1, refine + 1) / refine
            pts = schedule.t_from_lambda(_clip_lambda(sub[:-1]))
            pieces.append(np.atleast_1d(np.asarray(pts, dtype=float)))
            pieces.append(np.asarray([times[i + 1]], dtype=float))
        elif math.isfinite(l0):  # a jump to sigma = 0: continue with the last finite step
            h = (l0 - lam[i - 1]) if i > 0 and math.isfinite(lam[i - 1]) else 1.0
            sub = _clip_lambda(l0 + h * np.arange(1, refine + 1))
            pieces.append(np.atleast_1d(np.asarray(schedule.t_from_lambda(sub), dtype=float)))
            pieces.append(np.asarray([times[i + 1]], dtype=float))
        else:  # a step from alpha = 0: start with refine steps of the next finite step's length
            h = (lam[i + 2] - l1) if i + 2 <= n and math.isfinite(lam[i + 2]) else 1.0
            sub = _clip_lambda(l1 - h * np.arange(refine, 0, -1))
            pieces.append(np.atleast_1d(np.asarray(schedule.t_from_lambda(sub), dtype=float)))
            pieces.append(np.asarray([times[i + 1]], dtype=float))
    out = np.concatenate(pieces)
    # keep strictly decreasing (clipping could create ties near the ends)
    keep = np.concatenate([[True], np.diff(out) < 0])
    return out[keep]


def _mean_error(x, ref):
    d = np.asarray(x, dtype=float) - np.asarray(ref, dtype=float)
    d = d.reshape(d.shape[0], -1) if d.ndim > 1 else d[:, None]
    return float(np.mean(np.sqrt(np.sum(d * d, axis=1))))


def _check_solver(solver, name="solver"):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"{name} must be one of {sorted(SOLVERS)}, got {solver!r}")
    if SOLVERS[solver].stochastic:
        raise ValueError(f"{name} {solver!r} is stochastic: optimise and evaluate the steps "
                         "of an ODE solver")


def _exact_reference(model, schedule, x, ts, te, x_ref=None, name="x_ref"):
    if x_ref is not None:
        ref = check_array(name, to_numpy(x_ref))
        if ref.shape != x.shape:
            raise ValueError(f"{name} must have the shape of the starting points {x.shape}, "
                             f"got {ref.shape}")
        return ref
    if hasattr(model, "exact_ode_solution"):
        return np.asarray(model.exact_ode_solution(x, ts, te), dtype=float)
    mixture = getattr(model, "mixture", None)
    if mixture is not None and hasattr(mixture, "exact_ode_solution"):
        return np.asarray(mixture.exact_ode_solution(x, schedule, ts, te), dtype=float)
    raise ValueError("reference='exact' needs a model with exact_ode_solution (an analytic "
                     "model such as GaussianMixture.bind(schedule)) or x_ref; use "
                     "reference='lte' for a trained model")


def _draw_start(model, schedule, n, rng, ts):
    """Starting points at t_start: the analytic model's exact noised law when known, else
    N(0, sigma(t_start)^2 I)."""
    dim = getattr(model, "dim", None)
    if dim is None:
        raise ValueError("give x_T: the model has no dim attribute to draw starting points")
    a, s = float(schedule.alpha(ts)), float(schedule.sigma(ts))
    z = rng.standard_normal((n, int(dim)))
    mixture = getattr(model, "mixture", None)
    if mixture is not None and hasattr(mixture, "sample"):
        return a * mixture.sample(n, rng) + s * z
    return s * z


def _as_points(name, x, dim):
    arr = check_array(name, to_numpy(x), min_size=1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}) to match the model, got {arr.shape}")
    return arr


# ============================================================================ evaluation
def evaluate_steps(model, schedule, steps, *, solver, x_T, nfe=None, reference="exact",
                   x_ref=None, refine=2, lte_solver=None, **sample_kwargs):
    """Mean sample error of ``solver`` on the grid ``steps`` from the starting points ``x_T``.

    ``reference="exact"``: against ``x_ref`` or the model's exact ODE solution;
    ``"lte"``: the step-doubling proxy of the module docstring. Returns a float.
    """
    _check_solver(solver)
    check_choice("reference", reference, REFERENCES)
    refine = check_int("refine", refine, low=2)
    if lte_solver is not None:
        _check_solver(lte_solver, "lte_solver")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a noise schedule, got {type(schedule).__name__}")
    steps = check_array("steps", steps, ndim=1, min_size=2)
    x = _as_points("x_T", x_T, getattr(model, "dim", None))
    out = sample(model, x, schedule, solver=solver, nfe=nfe, steps=steps, **sample_kwargs)
    if reference == "exact":
        ref = _exact_reference(model, schedule, x, float(steps[0]), float(steps[-1]), x_ref)
        return _mean_error(out, ref)
    return _lte_error(model, schedule, steps, solver, x, out, refine, lte_solver, sample_kwargs)


def _lte_error(model, schedule, steps, solver, x, out, refine, lte_solver, sample_kwargs):
    fine_solver = solver if lte_solver is None else lte_solver
    fine = sample(model, x, schedule, solver=fine_solver,
                  steps=_refined_times(schedule, steps, refine), **sample_kwargs)
    p = SOLVERS[fine_solver].order
    return _mean_error(out, fine) / (1.0 - float(refine) ** (-p))


# ============================================================================ optimisation
def optimize_steps(model, schedule, *, solver, nfe, x_T=None, n_samples=256, rng=None,
                   reference="exact", x_ref=None, init="uniform_lambda", t_start=None,
                   t_end=None, method="Nelder-Mead", maxiter=None, tol=1e-4, x_heldout=None,
                   n_heldout=None, x_heldout_ref=None, refine=2, lte_solver=None,
                   progress=True, **sample_kwargs):
    """Choose the time steps of ``solver`` at a budget of ``nfe`` evaluations that minimise
    the mean sample error (see the module docstring).

    Parameters
    ----------
    model
        A sampler model (``predict(x, t, kind)``); for ``reference="exact"`` one with
        ``exact_ode_solution`` (``GaussianMixture.bind(schedule)``) unless ``x_ref`` is given.
    schedule : VPSchedule, EDMSchedule or FlowSchedule
    solver : str
        An ODE solver of :data:`sciflow.sampling.SOLVERS` (not an ``_sde`` one).
    nfe : int
        Evaluation budget; the number of steps follows from it as in
        :func:`sciflow.sampling.sample`.
    x_T : array (n, d), optional
        Starting points at ``t_start`` used in the objective; else ``n_samples`` are drawn with
        ``rng`` (from the analytic model's noised law at ``t_start`` when it has one, else
        ``N(0, sigma(t_start)^2 I)``).
    reference : "exact" or "lte"
    x_ref : array, optional
        Exact solutions for ``x_T`` (skips computing them).
    init : str or array
        Starting grid: a spacing name (default ``"uniform_lambda"``) or explicit decreasing
        times from ``t_start`` to ``t_end``.
    t_start, t_end : float, optional
        Ends of the grid (default the schedule's); ignored when ``init`` is an array.
    method : "Nelder-Mead", "Powell" or "L-BFGS-B"
    maxiter : int, optional
        Maximum objective evaluations (default ``200 * (n_steps - 1)``, at least 400).
    tol : float
        Convergence tolerance on the log error (``fatol``/``ftol``).
    x_heldout, n_heldout, x_heldout_ref
        Held-out starting points (or how many to draw; default ``n_samples`` when ``x_T`` is
        drawn, none when ``x_T`` is given), and their exact solutions if known. The held-out
        errors are exact whenever ``x_heldout_ref`` is given or the model has
        ``exact_ode_solution`` (also when optimising the ``"lte"`` proxy), else the proxy.
    refine, lte_solver
        Step-doubling proxy settings (``reference="lte"``).
    progress : bool
        tqdm bar over the objective evaluations.
    **sample_kwargs
        Passed to :func:`sciflow.sampling.sample` (``lower_order_final``, solver options such
        as ``third_order_weight``); ``denoise_to_zero`` is not supported.

    Returns
    -------
    StepOptimization
    """
    from scipy.optimize import minimize

    _check_solver(solver)
    check_choice("reference", reference, REFERENCES)
    check_choice("method", method, METHODS)
    nfe = check_int("nfe", nfe, low=1)
    refine = check_int("refine", refine, low=2)
    tol = check_positive("tol", tol)
    if maxiter is not None:
        maxiter = check_int("maxiter", maxiter, low=1)
    if lte_solver is not None:
        _check_solver(lte_solver, "lte_solver")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a noise schedule, got {type(schedule).__name__}")
    for bad in ("denoise_to_zero", "steps", "spacing", "return_info", "rng"):
        if bad in sample_kwargs:
            raise TypeError(f"optimize_steps does not take {bad!r}")
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    t_wall = time.perf_counter()
    rng = as_rng(rng)
    dim = getattr(model, "dim", None)

    # ------------------------------------------------------------ initial grid
    if isinstance(init, str):
        check_choice("init", init, SPACINGS)
        ts, te = schedule._endpoints(t_start, t_end)
        probe = np.zeros((1, dim if dim is not None else 1))
        if x_T is not None:
            probe = np.asarray(to_numpy(x_T), dtype=float)[:1]
        info = sample(model, probe, schedule, solver=solver, nfe=nfe, t_start=ts, t_end=te,
                      spacing=init, return_info=True, **sample_kwargs)
        init_times = np.asarray(info.times, dtype=float)
    else:
        if t_start is not None or t_end is not None:
            raise ValueError("give either init times or t_start/t_end, not both")
        init_times = check_array("init", init, ndim=1, min_size=2)
        schedule.check_t("init", init_times)
        if np.any(np.diff(init_times) >= 0):
            raise ValueError("init times must be strictly decreasing")
        ts, te = float(init_times[0]), float(init_times[-1])
    n_steps = len(init_times) - 1

    # ------------------------------------------------------------ data
    if x_T is None:
        n_samples = check_int("n_samples", n_samples, low=1)
        x = _draw_start(model, schedule, n_samples, rng, ts)
        if n_heldout is None and x_heldout is None:
            n_heldout = n_samples
    else:
        x = _as_points("x_T", x_T, dim)
    if x_heldout is not None:
        xh = _as_points("x_heldout", x_heldout, dim)
    elif n_heldout:
        xh = _draw_start(model, schedule, check_int("n_heldout", n_heldout, low=1), rng, ts)
    else:
        xh = None

    ref = ref_h = None
    if reference == "exact":
        ref = _exact_reference(model, schedule, x, ts, te, x_ref)
    if xh is not None and (reference == "exact" or x_heldout_ref is not None
                           or hasattr(model, "exact_ode_solution")):
        # the held-out error is exact whenever it can be
        try:
            ref_h = _exact_reference(model, schedule, xh, ts, te, x_heldout_ref,
                                     "x_heldout_ref")
        except ValueError:
            ref_h = None

    def run(times, pts):
        return sample(model, pts, schedule, solver=solver, nfe=nfe, steps=times,
                      **sample_kwargs)

    def error(times, pts, r):
        out = run(times, pts)
        if r is not None:
            return _mean_error(out, r)
        return _lte_error(model, schedule, times, solver, pts, out, refine, lte_solver,
                          sample_kwargs)

    lam_s, lam_e = float(schedule.lambda_(ts)), float(schedule.lambda_(te))
    par = _Parametrisation(lam_s, lam_e, n_steps)
    lam_init = np.asarray(schedule.lambda_(init_times[1:-1]), dtype=float)
    e0 = error(init_times, x, ref)
    history = []
    best = {"f": math.inf, "times": init_times}

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"optimise steps ({solver}, NFE {nfe})", leave=False)

    if n_steps >= 2:
        u0 = par.params(lam_init)
        penalty = math.log(max(e0, 1e-300)) + 30.0

        def objective(u):
            times = _times_from_interior(schedule, ts, te, par.interior(u))
            if np.any(np.diff(times) >= 0):
                val = math.inf
            else:
                try:
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        val = error(times, x, ref)
                except (FloatingPointError, ValueError, ZeroDivisionError):
                    val = math.inf
            if not math.isfinite(val):
                history.append(math.inf)
                return penalty
            history.append(val)
            if val < best["f"]:
                best["f"], best["times"] = val, times
            if bar is not None:
                bar.update(1)
                bar.set_postfix(best=f"{best['f']:.3g}")
            return math.log(max(val, 1e-300))

        dim_u = u0.size
        maxfev = maxiter if maxiter is not None else max(400, 200 * dim_u)
        if method == "Nelder-Mead":
            opts = {"maxfev": maxfev, "maxiter": maxfev, "xatol": 1e-4, "fatol": tol,
                    "adaptive": dim_u > 2}
            # an initial simplex of +-0.5 in every logit: steps grow or shrink by ~65 %
            simplex = np.vstack([u0] + [u0 + 0.5 * np.eye(dim_u)[k] for k in range(dim_u)])
            opts["initial_simplex"] = simplex
        elif method == "Powell":
            opts = {"maxfev": maxfev, "ftol": tol, "xtol": 1e-3}
        else:
            opts = {"maxfun": maxfev, "ftol": tol * 1e-2, "eps": 1e-4}
        res = minimize(objective, u0, method=method, options=opts)
        success, message = bool(res.success), str(res.message)
    else:
        history.append(e0)
        best["f"] = e0
        success, message = True, "one step: nothing to optimise"
    if bar is not None:
        bar.close()

    if best["f"] > e0:  # never worse than the start
        best["f"], best["times"] = e0, init_times
    steps = np.asarray(best["times"], dtype=float)
    if xh is not None:
        eh0, eh = error(init_times, xh, ref_h), error(steps, xh, ref_h)
    else:
        eh0 = eh = None
    return StepOptimization(
        steps=steps, initial_steps=init_times, error_initial=float(e0), error=float(best["f"]),
        heldout_error_initial=eh0, heldout_error=eh, history=np.asarray(history, dtype=float),
        solver=solver, nfe=nfe, reference=reference, method=method, n_evals=len(history),
        success=success, message=message, wall_time=time.perf_counter() - t_wall,
        options={"init": init if isinstance(init, str) else "array", "refine": refine,
                 "lte_solver": lte_solver, **sample_kwargs})
