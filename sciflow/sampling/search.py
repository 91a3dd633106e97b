"""Solver-schedule search: per-step solver order, prediction type and time for an NFE budget.

In the spirit of S³ / USF ("Unified sampling framework for solver searching of diffusion
probabilistic models", Liu et al. 2024) and of the hyperparameter studies of score-based
samplers, :func:`search_solver_schedule` searches, for a fixed budget of ``nfe`` model
evaluations, over *plans*: a decreasing time grid and, for every step of it, a
:class:`StepChoice`

================  ====  =======================================================================
choice            cost  step from ``lambda_i`` to ``lambda_{i+1}`` (``h`` their difference)
================  ====  =======================================================================
``ms1``           1     DDIM = DPM-Solver-1 = DPM-Solver++(1) (the prediction type only changes
                        which output the model is asked for)
``ms2-x0/eps``    1     multistep exponential integrator of order 2 in the data (x0) or noise
                        (eps) prediction: the lambda-derivative from the previous grid point
                        (Taylor weights ``h phi_2``: ``ms2-x0`` is DPM-Solver++(2M) with
                        ``solver_type="taylor"``)
``ms3-x0/eps``    1     order 3 from the two previous grid points (``ms3-x0`` is
                        DPM-Solver++(3M), Taylor weight on ``D_2``)
``ss2-x0/eps``    2     singlestep, one extra evaluation at ``lambda_i + h/2`` (``ss2-eps`` is
                        DPM-Solver-2, ``ss2-x0`` DPM-Solver++(2S))
``ss3-x0/eps``    3     singlestep, extra evaluations at ``h/3`` and ``2h/3`` (``ss3-eps`` is
                        DPM-Solver-3, ``ss3-x0`` its data-prediction mirror)
================  ====  =======================================================================

A multistep step of order ``k`` at step ``j`` needs ``k - 1`` earlier grid points, so its order
is at most ``j + 1``. Every step evaluates the model at its start, and history is kept as the x0
prediction at each grid point (converted to eps with ``eps = (x - alpha x0)/sigma`` when an eps
step needs it), so steps of different types combine freely. :func:`sample_plan` runs a plan
(NumPy or torch, the NFE counted).

The search is a seeded (1 + population) evolution strategy on the *exact* error: the mean
Euclidean distance of the samples to ``reference``, the exact probability-flow ODE solution of
the same ``x_T`` (:meth:`GaussianMixture.exact_ode_solution`). Mutations change one step's
choice at equal cost, merge two adjacent steps into a singlestep step of their joint cost or
split one, move one interior grid point in lambda, or jitter all of them; the best mutant of a
generation replaces the current plan only if it is strictly better, so the result is never
worse than the starting plan. The search cost is counted in model evaluations (batched
``predict`` calls, one per NFE of every evaluated plan) and capped by ``max_evaluations``;
identical plans are not evaluated twice.

Only finite log-SNR ends are supported (VP ``t_start = 1``/``t_end = 1e-3``, EDM's
``sigma_min``/``sigma_max``): a step to ``sigma = 0`` is first order whatever is chosen.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_rng, check_array, check_choice, check_int, check_nonnegative
from .backend import as_float_array, is_torch, to_numpy
from .optimize import _mean_error
from .schedules import Schedule
from .solvers import NonFiniteError, _phis, _split_singlestep, check_model_and_schedule

__all__ = ["StepChoice", "SolverSearch", "sample_plan", "search_solver_schedule",
           "DEFAULT_CANDIDATES", "INITS"]

KINDS = ("multistep", "singlestep")
PREDICTIONS = ("x0", "eps")
INITS = ("dpmpp_2m", "dpmpp_3m", "ddim", "dpm_solver_2", "dpm_solver_3")


# ============================================================================ decisions
@dataclass(frozen=True)
class StepChoice:
    """What one step does: ``kind`` ("multistep"|"singlestep"), ``order`` (1-3; singlestep
    2-3) and ``prediction`` ("x0"|"eps"). ``cost`` is its number of model evaluations.
    ``StepChoice.parse("ss3-eps")`` / ``str(choice)`` convert from and to the short labels of
    the module docstring (``"ms1"`` is ``multistep, 1, x0``)."""

    kind: str
    order: int
    prediction: str = "x0"

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        object.__setattr__(self, "order", check_int("order", self.order, low=1, high=3))
        check_choice("prediction", self.prediction, PREDICTIONS)
        if self.kind == "singlestep" and self.order == 1:
            raise ValueError("order must be 2 or 3 for a singlestep choice (order 1 is the "
                             "multistep 'ms1')")

    @property
    def cost(self) -> int:
        return self.order if self.kind == "singlestep" else 1

    def __str__(self):
        head = ("ms" if self.kind == "multistep" else "ss") + str(self.order)
        return head if head == "ms1" and self.prediction == "x0" else f"{head}-{self.prediction}"

    @classmethod
    def parse(cls, label):
        """A choice from a label such as ``"ms2-x0"``, ``"ss3-eps"`` or ``"ms1"``."""
        if isinstance(label, StepChoice):
            return label
        if not isinstance(label, str):
            raise TypeError(f"label must be a string such as 'ms2-x0' or a StepChoice, got "
                            f"{type(label).__name__} {label!r}")
        head, _, pred = label.partition("-")
        if len(head) != 3 or head[:2] not in ("ms", "ss") or head[2] not in "123":
            raise ValueError(f"label must look like 'ms2-x0' or 'ss3-eps', got {label!r}")
        return cls("multistep" if head[:2] == "ms" else "singlestep", int(head[2]), pred or "x0")


DEFAULT_CANDIDATES = tuple(StepChoice.parse(s) for s in (
    "ms1", "ms2-x0", "ms2-eps", "ms3-x0", "ms3-eps", "ss2-x0", "ss2-eps", "ss3-x0", "ss3-eps"))


# ============================================================================ the stepping
class _Counted:
    """The model as the plan sees it: counts calls, checks shape and finiteness."""

    def __init__(self, model, xp):
        self.predict, self.xp, self.nfe = model.predict, xp, 0

    def __call__(self, x, t, kind):
        self.nfe += 1
        out = self.predict(x, t, kind=kind)
        if tuple(getattr(out, "shape", ())) != tuple(x.shape):
            raise ValueError(f"model.predict returned shape {tuple(getattr(out, 'shape', ()))} "
                             f"for input shape {tuple(x.shape)}")
        if out.dtype != x.dtype or type(out) is not type(x):
            out = self.xp.cast_like(out, x)
        if not self.xp.all_finite(out):
            raise NonFiniteError(f"model.predict returned NaN/inf at t = {float(t):.6g} "
                                 f"(kind={kind!r}, evaluation {self.nfe})", t=float(t),
                                 nfe=self.nfe)
        return out


class _Point:
    """Schedule quantities at one time (float64 Python floats)."""

    __slots__ = ("t", "lam", "la", "ls", "a", "s")

    def __init__(self, schedule, t):
        self.t = float(t)
        self.la, self.ls = float(schedule.log_alpha(self.t)), float(schedule.log_sigma(self.t))
        self.lam = self.la - self.ls
        self.a, self.s = math.exp(self.la), math.exp(self.ls)


def _convert(entry, want):
    """The ``want`` prediction ("x0"/"eps") of a history entry (point, x, out, kind)."""
    p, x, out, kind = entry
    if kind == want:
        return out
    if want == "x0":
        return (1.0 / p.a) * (x - p.s * out)
    return (1.0 / p.s) * (x - p.a * out)


def _plan_step(f, schedule, x, p0, p1, choice, hist):
    """One step of a plan from point p0 to p1; appends the start evaluation to ``hist``."""
    pred = choice.prediction
    out0 = f(x, p0.t, pred)
    entry = (p0, x, out0, pred)
    h = p1.lam - p0.lam
    data = pred == "x0"
    if data:  # x' = (sigma'/sigma) x + alpha' sum_k h^{k+1} phi_{k+1}(-h) D^(k)
        c_x, c_0, sgn, ph = math.exp(p1.ls - p0.ls), -p1.a * math.expm1(-h), 1.0, _phis(-h, 3)
        scale = p1.a
    else:  # x' = (alpha'/alpha) x - sigma' sum_k h^{k+1} phi_{k+1}(h) eps^(k)
        c_x, c_0, sgn, ph = math.exp(p1.la - p0.la), -p1.s * math.expm1(h), -1.0, _phis(h, 3)
        scale = p1.s
    base = c_x * x + c_0 * out0
    k = choice.order
    if choice.kind == "multistep":
        hist.append(entry)
        if k == 1:
            return base
        q1, v1 = hist[-2][0], _convert(hist[-2], pred)
        r0 = (p0.lam - q1.lam) / h
        d1_0 = (1.0 / r0) * (out0 - v1)
        if k == 2:
            return base + (sgn * scale * h * ph[1]) * d1_0
        q2, v2 = hist[-3][0], _convert(hist[-3], pred)
        r1 = (q1.lam - q2.lam) / h
        d1_1 = (1.0 / r1) * (v1 - v2)
        d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1)
        d2 = (1.0 / (r0 + r1)) * (d1_0 - d1_1)
        return base + (sgn * scale * h * ph[1]) * d1 + (sgn * 2.0 * scale * h * ph[2]) * d2
    hist.append(entry)

    def inner(r, extra=None):  # state at lambda_i + r h (first-order part + optional term)
        q = _Point(schedule, float(schedule.t_from_lambda(p0.lam + r * h)))
        if data:
            u = math.exp(q.ls - p0.ls) * x - (q.a * math.expm1(-r * h)) * out0
        else:
            u = math.exp(q.la - p0.la) * x - (q.s * math.expm1(r * h)) * out0
        if extra is not None:
            u = u + extra(q)
        return u, q

    if k == 2:  # DPM-Solver-2 / DPM-Solver++(2S), r1 = 1/2
        r1 = 0.5
        u, q = inner(r1)
        d = f(u, q.t, pred) - out0
        return base + (c_0 / (2.0 * r1)) * d
    r1, r2 = 1.0 / 3.0, 2.0 / 3.0
    u1, q1 = inner(r1)
    d1 = f(u1, q1.t, pred) - out0
    z2 = r2 * h
    ph2 = _phis(-z2 if data else z2, 2)[1]
    u2, q2 = inner(r2, lambda q: (sgn * (q.a if data else q.s) * (r2 / r1) * z2 * ph2) * d1)
    d2 = f(u2, q2.t, pred) - out0
    return base + (sgn * scale * h * ph[1] / r2) * d2


def _check_plan(schedule, steps, choices):
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a VPSchedule, EDMSchedule or FlowSchedule, got "
                        f"{type(schedule).__name__}")
    steps = check_array("steps", steps, ndim=1, min_size=2)
    schedule.check_t("steps", steps)
    if np.any(np.diff(steps) >= 0):
        raise ValueError("steps must be strictly decreasing (from t_start down to t_end)")
    lam = np.asarray(schedule.lambda_(steps), dtype=float)
    if not np.all(np.isfinite(lam)):
        raise ValueError("steps must have finite log-SNR (0 < alpha, 0 < sigma) at every time; "
                         "a step to sigma = 0 or from alpha = 0 is first order whatever is chosen")
    if isinstance(choices, str | StepChoice) or not hasattr(choices, "__len__"):
        raise TypeError(f"choices must be a sequence of StepChoice or labels, got "
                        f"{type(choices).__name__}")
    choices = tuple(StepChoice.parse(c) for c in choices)
    if len(choices) != len(steps) - 1:
        raise ValueError(f"choices must have one entry per step ({len(steps) - 1}), got "
                         f"{len(choices)}")
    for j, c in enumerate(choices):
        if c.kind == "multistep" and c.order > j + 1:
            raise ValueError(f"choices[{j}] = {c} needs {c.order - 1} earlier grid points; "
                             f"step {j} has {j}")
    return steps, choices


def sample_plan(model, x_T, schedule, steps, choices, *, return_nfe=False):
    """Run a plan: from ``x_T`` at ``steps[0]`` through the grid ``steps`` with one
    :class:`StepChoice` (or label) per step. NumPy or torch in, the same type out; with
    ``return_nfe=True`` returns ``(x, nfe)``, the evaluations counted (= the plan's cost)."""
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(x, t, kind) method, got "
                        f"{type(model).__name__}")
    steps, choices = _check_plan(schedule, steps, choices)
    if not isinstance(return_nfe, bool | np.bool_):
        raise TypeError(f"return_nfe must be a bool, got {return_nfe!r}")
    x, xp = as_float_array("x_T", x_T)
    dim = getattr(model, "dim", None)
    if len(tuple(x.shape)) == 0 or (dim is not None and tuple(x.shape)[-1] != dim):
        raise ValueError(f"x_T must have shape (..., {dim if dim is not None else 'd'}), got "
                         f"{tuple(x.shape)}")
    f = _Counted(model, xp)
    pts = [_Point(schedule, t) for t in steps]
    hist = []
    for j, c in enumerate(choices):
        x = _plan_step(f, schedule, x, pts[j], pts[j + 1], c, hist)
    if not xp.all_finite(x):
        raise NonFiniteError("the state became NaN/inf in the plan's last step with finite "
                             "model outputs: the step overflowed", nfe=f.nfe)
    expected = sum(c.cost for c in choices)
    if f.nfe != expected:  # pragma: no cover - guards the bookkeeping
        raise RuntimeError(f"plan evaluated the model {f.nfe} times, its cost is {expected}")
    return (x, f.nfe) if return_nfe else x


# ============================================================================ result
@dataclass(frozen=True)
class SolverSearch:
    """Result of :func:`search_solver_schedule`.

    ``steps`` / ``choices`` the best plan (times, one :class:`StepChoice` per step);
    ``initial_steps`` / ``initial_choices`` the starting plan; ``error`` / ``error_initial``
    their mean exact errors on the search points; ``history`` the error of every evaluated
    plan in order (inf for one that overflowed) and ``history_cost`` the cumulative model
    evaluations after each; ``cost`` the total model evaluations spent (batched ``predict``
    calls); ``nfe`` the budget of every plan; ``wall_time`` seconds.
    """

    steps: np.ndarray
    choices: tuple
    initial_steps: np.ndarray
    initial_choices: tuple
    error: float
    error_initial: float
    history: np.ndarray
    history_cost: np.ndarray
    cost: int
    nfe: int
    wall_time: float = 0.0
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("steps", "initial_steps"):
            arr = check_array(name, getattr(self, name), ndim=1, min_size=2)
            if np.any(np.diff(arr) >= 0):
                raise ValueError(f"{name} must be strictly decreasing")
            object.__setattr__(self, name, arr)
        nfe = check_int("nfe", self.nfe, low=1)
        object.__setattr__(self, "nfe", nfe)
        for name, st in (("choices", self.steps), ("initial_choices", self.initial_steps)):
            val = getattr(self, name)
            if isinstance(val, str) or not hasattr(val, "__len__"):
                raise TypeError(f"{name} must be a sequence of StepChoice, got "
                                f"{type(val).__name__}")
            val = tuple(StepChoice.parse(c) for c in val)
            if len(val) != len(st) - 1:
                raise ValueError(f"{name} must have one entry per step ({len(st) - 1}), got "
                                 f"{len(val)}")
            if sum(c.cost for c in val) != nfe:
                raise ValueError(f"{name} must cost nfe = {nfe} evaluations, got "
                                 f"{sum(c.cost for c in val)}")
            object.__setattr__(self, name, val)
        for name in ("error", "error_initial"):
            object.__setattr__(self, name, check_nonnegative(name, getattr(self, name)))
        if self.error > self.error_initial:
            raise ValueError(f"error must be <= error_initial (the search keeps the best plan), "
                             f"got {self.error} > {self.error_initial}")
        hist = check_array("history", self.history, ndim=1, finite=False, min_size=1)
        if np.any(np.isnan(hist)) or np.any(hist < 0):
            raise ValueError("history must hold non-negative errors (inf for a failed plan)")
        hc = check_array("history_cost", self.history_cost, ndim=1)
        if hc.shape != hist.shape or np.any(np.diff(hc) <= 0) or hc[0] <= 0:
            raise ValueError("history_cost must be positive and increasing, one entry per "
                             "history entry")
        object.__setattr__(self, "history", hist)
        object.__setattr__(self, "history_cost", hc)
        cost = check_int("cost", self.cost, low=0)
        if cost != int(hc[-1]):
            raise ValueError(f"cost must equal history_cost[-1] = {int(hc[-1])}, got {cost}")
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if not isinstance(self.options, dict):
            raise TypeError(f"options must be a dict, got {type(self.options).__name__}")

    @property
    def labels(self) -> tuple:
        """The choices as short labels (``"ms2-x0"``, ``"ss3-eps"``, ...)."""
        return tuple(str(c) for c in self.choices)

    @property
    def ratio(self) -> float:
        return self.error / self.error_initial if self.error_initial else float("nan")

    def lambdas(self, schedule, which="best"):
        """Log-SNR of the best (or ``"initial"``) grid under ``schedule``."""
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a noise schedule, got {type(schedule).__name__}")
        check_choice("which", which, ("best", "initial"))
        return np.asarray(schedule.lambda_(self.steps if which == "best" else
                                           self.initial_steps), dtype=float)

    def sample(self, model, x_T, schedule):
        """The best plan applied to new starting points (see :func:`sample_plan`)."""
        return sample_plan(model, x_T, schedule, self.steps, self.choices)

    def plot(self, ax=None, kind="history", **kwargs):
        """``"history"``: error of each evaluated plan and the best so far against the search
        cost; ``"steps"``: the best and initial grids (step index vs t) labelled with the
        choices. ``kwargs`` go to ``Axes.plot`` for the main line. Returns the Axes."""
        from ._surface import new_axes

        check_choice("kind", kind, ("history", "steps"))
        ax = new_axes(ax)
        if kind == "history":
            h = np.where(np.isfinite(self.history), self.history, np.nan)
            ax.semilogy(self.history_cost, h, ".", ms=2, alpha=0.4, label="evaluated plan")
            ax.semilogy(self.history_cost, np.fmin.accumulate(h), "-",
                        **{"label": "best so far", **kwargs})
            ax.set_xlabel("search cost (model evaluations)")
            ax.set_ylabel("mean exact error")
        else:
            ax.plot(np.arange(len(self.initial_steps)), self.initial_steps, "o--",
                    label="initial")
            k = np.arange(len(self.steps))
            ax.plot(k, self.steps, "s-", **{"label": "searched", **kwargs})
            for j, lab in enumerate(self.labels):
                ax.annotate(lab, (k[j] + 0.5, 0.5 * (self.steps[j] + self.steps[j + 1])),
                            fontsize=7, ha="center")
            ax.set_xlabel("step index")
            ax.set_ylabel("t")
        ax.set_title(f"NFE = {self.nfe}: error x{self.ratio:.3g} for {self.cost} evaluations")
        ax.legend()
        return ax

    def to_xarray(self):
        """``steps`` (schedule times) on ``step_index`` and ``choices`` (labels) on ``step``
        (likewise ``initial_*`` on ``initial_step_index`` / ``initial_step``); ``history``
        (mean exact error, inf for a failed plan) and ``history_cost`` (model evaluations) on
        ``evaluation``."""
        from ._surface import plain_attrs, xarray

        xr = xarray()
        node = {"long_name": "schedule time", "units": "1"}
        return xr.Dataset(
            {"steps": ("step_index", self.steps, node),
             "initial_steps": ("initial_step_index", self.initial_steps, node),
             "choices": ("step", np.array(self.labels, dtype=str)),
             "initial_choices": ("initial_step",
                                 np.array([str(c) for c in self.initial_choices], dtype=str)),
             "history": ("evaluation", self.history, {"long_name": "mean exact error"}),
             "history_cost": ("evaluation", self.history_cost,
                              {"long_name": "cumulative model evaluations"})},
            coords={"step_index": np.arange(len(self.steps)),
                    "step": np.arange(len(self.steps) - 1),
                    "initial_step_index": np.arange(len(self.initial_steps)),
                    "initial_step": np.arange(len(self.initial_steps) - 1),
                    "evaluation": np.arange(self.history.size)},
            attrs=plain_attrs(nfe=self.nfe, cost=self.cost, error=self.error,
                              error_initial=self.error_initial, wall_time=self.wall_time,
                              wall_time_units="s"))


# ============================================================================ the search
def _init_plan(name, nfe, lam_s, lam_e):
    """(interior-free lambda grid, choices) of a standard solver on a uniform lambda grid."""
    if name in ("dpmpp_2m", "dpmpp_3m", "ddim"):
        k = {"dpmpp_2m": 2, "dpmpp_3m": 3, "ddim": 1}[name]
        n = nfe
        orders = [min(k, i + 1, n - i) if n < 15 else min(k, i + 1) for i in range(n)]
        pred = "eps" if name == "ddim" else "x0"
        choices = [StepChoice("multistep", o, pred) for o in orders]
    else:
        k = int(name[-1])
        orders = _split_singlestep(nfe, k, True)
        choices = [StepChoice("singlestep", o, "eps") if o > 1 else
                   StepChoice("multistep", 1, "eps") for o in orders]
    lam = np.linspace(lam_s, lam_e, len(choices) + 1)
    return list(lam), choices


def _clamp_orders(choices, allowed):
    out = []
    for j, c in enumerate(choices):
        if c.kind == "multistep" and c.order > j + 1:
            lower = [a for a in allowed if a.kind == "multistep" and a.order <= j + 1
                     and a.prediction == c.prediction] or \
                    [a for a in allowed if a.kind == "multistep" and a.order <= j + 1]
            c = max(lower, key=lambda a: a.order)
        out.append(c)
    return out


def _mutate(lam, choices, allowed, rng, move_scale):
    """A random neighbour plan at the same total cost (or None if the move does not apply)."""
    lam, choices = list(lam), list(choices)
    n = len(choices)
    op = rng.choice(("choice", "merge", "split", "move", "jitter"),
                    p=(0.3, 0.1, 0.1, 0.35, 0.15))
    if op == "choice":
        j = int(rng.integers(n))
        alts = [a for a in allowed if a.cost == choices[j].cost and a != choices[j]
                and not (a.kind == "multistep" and a.order > j + 1)]
        if not alts:
            return None
        choices[j] = alts[int(rng.integers(len(alts)))]
    elif op == "merge":
        pairs = [j for j in range(n - 1) if any(
            a.kind == "singlestep" and a.cost == choices[j].cost + choices[j + 1].cost
            for a in allowed)]
        if not pairs:
            return None
        j = pairs[int(rng.integers(len(pairs)))]
        c = choices[j].cost + choices[j + 1].cost
        alts = [a for a in allowed if a.kind == "singlestep" and a.cost == c]
        choices[j:j + 2] = [alts[int(rng.integers(len(alts)))]]
        del lam[j + 1]
    elif op == "split":
        js = [j for j in range(n) if choices[j].kind == "singlestep"]
        ones = [a for a in allowed if a.cost == 1]
        if not js or not ones:
            return None
        j = js[int(rng.integers(len(js)))]
        c = choices[j].cost
        twos = [a for a in allowed if a.kind == "singlestep" and a.cost == 2]
        if c == 3 and twos and rng.random() < 0.5:  # ss3 -> ss2 + ms or ms + ss2
            parts = [twos[int(rng.integers(len(twos)))], ones[int(rng.integers(len(ones)))]]
            if rng.random() < 0.5:
                parts.reverse()
        else:
            parts = [ones[int(rng.integers(len(ones)))] for _ in range(c)]
        m = len(parts)
        new = [lam[j] + (lam[j + 1] - lam[j]) * q / m for q in range(1, m)]
        choices[j:j + 1] = parts
        lam[j + 1:j + 1] = new
    elif op == "move":
        if n < 2:
            return None
        k = int(rng.integers(1, n))
        lo, hi = lam[k - 1], lam[k + 1]
        v = lam[k] + move_scale * rng.standard_normal() * 0.5 * (hi - lo)
        lam[k] = float(np.clip(v, lo + 0.02 * (hi - lo), hi - 0.02 * (hi - lo)))
    else:
        if n < 2:
            return None
        d = np.diff(lam) * np.exp(0.5 * move_scale * rng.standard_normal(n))
        lam = list(lam[0] + (lam[-1] - lam[0]) * np.concatenate([[0.0], np.cumsum(d)])
                   / np.sum(d))
        lam[-1] = float(lam[-1])
    return lam, _clamp_orders(choices, allowed)


def search_solver_schedule(model, schedule, x_T, reference=None, *, nfe, candidates=None,
                           init="dpmpp_3m", max_evaluations=None, population=8, rng=None,
                           t_start=None, t_end=None, move_scale=0.3, progress=False):
    """Search per-step solver choices and times minimising the exact error at ``nfe``.

    Parameters
    ----------
    model
        ``predict(x, t, kind)``; with ``reference=None`` it must have ``exact_ode_solution``
        (``GaussianMixture.bind(schedule)``), else ``reference`` is required.
    schedule : VPSchedule, EDMSchedule or FlowSchedule
        The ends must have finite log-SNR (see the module docstring).
    x_T : NumPy array (n, d)
        Starting points at ``t_start`` (the search runs in NumPy; torch tensors are rejected —
        :meth:`SolverSearch.sample` runs the found plan on tensors).
    reference : NumPy array (n, d), optional
        The exact solutions at ``t_end`` of ``x_T`` (``exact_ode_solution``).
    nfe : int
        The evaluation budget of every plan.
    candidates : sequence of StepChoice or labels, optional
        The allowed per-step choices (default :data:`DEFAULT_CANDIDATES`, all nine); they
        must include every choice of ``init``.
    init : str or (steps, choices)
        The starting plan: one of :data:`INITS` on a uniform log-SNR grid (multistep orders
        lowered at the start and, below 15 steps, at the end, as in :func:`sample`; ``dpmpp_*``
        with Taylor weights), or an explicit plan.
    max_evaluations : int, optional
        The search cost cap in model evaluations (default ``200 * nfe``: 200 plans); at least
        ``nfe`` (the starting plan is always evaluated).
    population : int
        Mutants per generation.
    rng : numpy Generator or seed
    t_start, t_end : float, optional
        Ends of the grid (default the schedule's); not with an explicit ``init``.
    move_scale : float
        Size of the lambda moves, as a fraction of the local spacing.
    progress : bool
        tqdm bar over the generations.

    Returns
    -------
    SolverSearch
    """
    t_wall = time.perf_counter()
    check_model_and_schedule(model, schedule, check_match=False)
    nfe = check_int("nfe", nfe, low=1)
    population = check_int("population", population, low=1)
    move_scale = check_nonnegative("move_scale", move_scale)
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    rng = as_rng(rng)
    max_evaluations = 200 * nfe if max_evaluations is None else \
        check_int("max_evaluations", max_evaluations, low=nfe)
    if candidates is None:
        allowed = DEFAULT_CANDIDATES
    else:
        if isinstance(candidates, str | StepChoice) or not hasattr(candidates, "__iter__"):
            raise TypeError(f"candidates must be a sequence of StepChoice or labels, got "
                            f"{type(candidates).__name__}")
        allowed = tuple(dict.fromkeys(StepChoice.parse(c) for c in candidates))
        if not any(a.cost == 1 for a in allowed):
            raise ValueError("candidates must include a one-evaluation (multistep) choice")
    if is_torch(x_T):
        raise TypeError("x_T must be a NumPy array: the search runs in NumPy (run the found "
                        "plan on tensors with SolverSearch.sample)")
    x = check_array("x_T", to_numpy(x_T), ndim=2, min_size=1)
    dim = getattr(model, "dim", None)
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"x_T must have shape (n, {dim}) to match the model, got {x.shape}")

    # ------------------------------------------------------------ starting plan
    if isinstance(init, str):
        check_choice("init", init, INITS)
        ts, te = schedule._endpoints(t_start, t_end)
        lam_s, lam_e = float(schedule.lambda_(ts)), float(schedule.lambda_(te))
        if not (math.isfinite(lam_s) and math.isfinite(lam_e)):
            raise ValueError(f"t_start and t_end must have finite log-SNR, got lambda = "
                             f"{lam_s} and {lam_e}")
        lam0, ch0 = _init_plan(init, nfe, lam_s, lam_e)
    else:
        if t_start is not None or t_end is not None:
            raise ValueError("give either an explicit init plan or t_start/t_end, not both")
        if not (isinstance(init, tuple | list) and len(init) == 2):
            raise TypeError("init must be a solver name or a (steps, choices) pair")
        steps0, ch0 = _check_plan(schedule, init[0], init[1])
        ts, te = float(steps0[0]), float(steps0[-1])
        lam0 = [float(v) for v in schedule.lambda_(steps0)]
        ch0 = list(ch0)
        if sum(c.cost for c in ch0) != nfe:
            raise ValueError(f"init must cost nfe = {nfe} evaluations, got "
                             f"{sum(c.cost for c in ch0)}")
    missing = sorted({str(c) for c in ch0} - {str(a) for a in allowed})
    if missing:
        raise ValueError(f"init uses choices not among the candidates: {missing}")

    if reference is None:
        if not hasattr(model, "exact_ode_solution"):
            raise ValueError("reference is required for a model without exact_ode_solution")
        ref = np.asarray(model.exact_ode_solution(x, ts, te), dtype=float)
    else:
        if is_torch(reference):
            raise TypeError("reference must be a NumPy array")
        ref = check_array("reference", reference)
        if ref.shape != x.shape:
            raise ValueError(f"reference must have the shape of x_T {x.shape}, got {ref.shape}")

    # ------------------------------------------------------------ evaluation
    counter = {"cost": 0}
    history, history_cost, cache = [], [], {}

    def times_of(lam):
        mid = np.asarray(schedule.t_from_lambda(np.asarray(lam[1:-1], dtype=float)), dtype=float)
        return np.concatenate([[ts], np.atleast_1d(mid), [te]])

    def evaluate(lam, choices):
        """Mean exact error of a plan (inf if it overflowed); recorded with its cost."""
        key = (tuple(np.round(lam, 12)), tuple(choices))
        if key in cache:
            return cache[key]
        times = times_of(lam)
        val, used = math.inf, 0
        if np.all(np.diff(times) < 0):
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    out, used = sample_plan(model, x, schedule, times, choices,
                                            return_nfe=True)
                val = _mean_error(out, ref)
            except NonFiniteError as exc:
                used = exc.nfe or 0
        cache[key] = val
        if used:  # a grid that collapsed costs nothing and is not recorded
            counter["cost"] += used
            history.append(val if math.isfinite(val) else math.inf)
            history_cost.append(counter["cost"])
        return val

    e0 = evaluate(lam0, ch0)
    best = (e0, list(lam0), list(ch0))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"search solver schedule (NFE {nfe})", leave=False)
    stall = 0
    while counter["cost"] + nfe <= max_evaluations and stall < 50 * population:
        gen_best = None
        for _ in range(population):
            if counter["cost"] + nfe > max_evaluations:
                break
            cand = _mutate(best[1], best[2], allowed, rng, move_scale)
            if cand is None:
                stall += 1
                continue
            key = (tuple(np.round(cand[0], 12)), tuple(cand[1]))
            if key in cache:
                stall += 1
                continue
            v = evaluate(*cand)
            stall = 0
            if gen_best is None or v < gen_best[0]:
                gen_best = (v, cand[0], cand[1])
        if gen_best is not None and gen_best[0] < best[0]:
            best = gen_best
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{best[0]:.3g}", cost=counter["cost"])
    if bar is not None:
        bar.close()
    return SolverSearch(
        steps=times_of(best[1]), choices=tuple(best[2]), initial_steps=times_of(lam0),
        initial_choices=tuple(ch0), error=float(best[0]), error_initial=float(e0),
        history=np.asarray(history, dtype=float),
        history_cost=np.asarray(history_cost, dtype=float), cost=counter["cost"], nfe=nfe,
        wall_time=time.perf_counter() - t_wall,
        options={"init": init if isinstance(init, str) else "plan", "population": population,
                 "max_evaluations": max_evaluations, "move_scale": move_scale,
                 "candidates": tuple(str(a) for a in allowed)})
