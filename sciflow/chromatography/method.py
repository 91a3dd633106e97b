r"""Method development: the fastest oven program that still resolves every pair of peaks.

:func:`optimize_program` searches a realistic family of oven programs -- an initial temperature
and hold, one or two linear ramps with bounded rates, a final temperature within the stationary
phase's limits and, optionally, the (constant) inlet pressure -- for the one that minimises the
run time subject to a minimum resolution of every pair of neighbouring peaks::

    minimise   t_run(p)
    subject to R_s(i, j; p) = |t_R,i - t_R,j| / (2 (sigma_i + sigma_j)) >= R_min  for all i < j,

with ``t_R`` and ``sigma`` predicted by :func:`~sciflow.chromatography.programs.retention` (the
same 4-sigma resolution as :meth:`~sciflow.chromatography.programs.RetentionTable.resolution`).
Requiring ``R_s >= R_min`` for *every* pair is the same as requiring it for every pair of
neighbours in elution order (a pair further apart is separated by at least the sum of the
neighbours' separations), but unlike the neighbour list the set of all pairs does not change when
two peaks swap places, so each constraint stays continuous in the program parameters.

The objective is either the retention time of the last peak (``objective="last_peak"``) or the
run time of the method (``objective="run_time"``): the later of the end of the last peak
(``t_R + 3 sigma``) and the end of the oven program (last ramp plus ``final_hold``, a bake-out at
the final temperature).

Search: the parameters are scaled to the unit box; a Latin-hypercube sample of ``n_samples``
programs is evaluated, the ``n_starts`` best (feasible ones by objective, then the least
infeasible) start SLSQP local searches (:func:`scipy.optimize.minimize`) with the pair
resolutions as inequality constraints and forward-difference gradients that share one evaluation
of all solutes per perturbed point. The best feasible end point is returned; when none satisfies
the constraint the result says so (``success=False`` and a message) instead of raising. The local
searches are independent and go through :func:`sciflow.parallel.map_tasks` (``workers=``).

Measured here (2 shared cores, ``rtol=1e-7``), C10-C18 with pristane and phytane (11 solutes),
``R_s >= 1.5``: one prediction takes about 8 ms; the search over initial temperature, hold, one
ramp rate and the inlet pressure (4 free parameters) about 450 predictions, 3-4 s; with two
ramps (6 free parameters) about 750 predictions, 7 s. A 6^4 grid over the same 4-parameter box
takes 15 s and its best feasible point is 6 % slower than the optimum.
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from .._validate import (
    as_rng,
    check_choice,
    check_in_range,
    check_int,
    check_nonnegative,
    check_positive,
)
from ..parallel import map_tasks
from .programs import (
    ElutionWarning,
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    RetentionTable,
    retention,
)
from .thermo import T_ZERO_CELSIUS, Solute

__all__ = ["optimize_program", "ProgramOptimum", "resolution_table"]

_PEAK_END = 3.0  # a peak ends 3 sigma after its retention time (run_time objective)
_FD_STEP = 1e-3  # forward-difference step in the unit box
# Local searches minimise run time + _TIE x oven duration: where the last peak elutes before
# the program matters (e.g. during a long initial hold) the run time is flat in the program
# parameters, and this small term breaks the tie towards the shorter program.
_TIE = 1e-3


def resolution_table(table: RetentionTable) -> list:
    """Neighbouring pairs in elution order with their resolution:
    ``[(first, second, R_s), ...]``, ``R_s = (t_2 - t_1) / (2 (sigma_1 + sigma_2))``."""
    if not isinstance(table, RetentionTable):
        raise TypeError(f"table must be a RetentionTable (from retention()), got "
                        f"{type(table).__name__}")
    if len(table.names) < 2:
        raise ValueError(f"table must hold at least 2 solutes for a resolution, got "
                         f"{len(table.names)}")
    o = np.argsort(table.t_R, kind="stable")
    R = table.resolution()
    return [(table.names[o[i]], table.names[o[i + 1]], float(R[i])) for i in range(R.size)]


# ---------------------------------------------------------------------------------------------
# the search space
# ---------------------------------------------------------------------------------------------
def _bounds(name, value, *, low=-math.inf, high=math.inf, low_open=False):
    """A number (fixed) or a pair (lo, hi) -> (lo, hi) checked against [low, high]."""
    if isinstance(value, tuple | list | np.ndarray):
        if len(value) != 2:
            raise ValueError(f"{name} must be a number (fixed) or a pair (low, high), got "
                             f"{len(value)} values")
        lo = check_in_range(f"{name}[0]", value[0], low, high, low_open=low_open)
        hi = check_in_range(f"{name}[1]", value[1], low, high, low_open=low_open)
        if hi < lo:
            raise ValueError(f"{name} must be a pair (low, high) with low <= high, got "
                             f"({lo}, {hi})")
        return lo, hi
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number (fixed) or a pair (low, high), got "
                        f"{type(value).__name__} {value!r}")
    v = check_in_range(name, value, low, high, low_open=low_open)
    return v, v


@dataclass(frozen=True)
class _Space:
    """Names and bounds of the program parameters; ``free`` ones are optimised in [0, 1]."""

    names: tuple
    lo: np.ndarray
    hi: np.ndarray
    n_ramps: int

    @property
    def free(self) -> np.ndarray:
        return self.hi > self.lo

    def values(self, u) -> dict:
        """Parameter values (dict) of the unit-box point ``u`` (free parameters only)."""
        full = self.lo.copy()
        f = self.free
        full[f] = self.lo[f] + np.clip(u, 0.0, 1.0) * (self.hi[f] - self.lo[f])
        return dict(zip(self.names, full.tolist(), strict=True))


def _oven(v: dict, n_ramps: int, final_hold: float = 0.0) -> OvenProgram:
    T0, Tf = v["T_start"], v["T_final"]
    if n_ramps == 1:
        segs = [(v["rate_1"], Tf, final_hold)]
    else:
        Tm = T0 + v["mid_fraction"] * (Tf - T0)
        segs = [(v["rate_1"], Tm, 0.0), (v["rate_2"], Tf, final_hold)]
    return OvenProgram.from_segments(T0, segs, hold=v["hold"])


@dataclass(frozen=True)
class _Problem:
    """Everything a worker needs to evaluate programs (picklable)."""

    column: ProgrammedColumn
    solutes: tuple
    space: _Space
    target: float
    objective: str
    final_hold: float
    rtol: float
    cap: float
    retention_kw: dict = field(default_factory=dict)

    def column_for(self, v: dict, final_hold: float = 0.0) -> ProgrammedColumn:
        changes = {"oven": _oven(v, self.space.n_ramps, final_hold)}
        if "inlet_pressure" in v:
            pr = self.column.pressure
            changes["pressure"] = PressureProgram.constant(v["inlet_pressure"],
                                                           float(pr.outlet[0]))
        return self.column.replace(**changes)

    def table(self, v: dict, final_hold: float = 0.0) -> RetentionTable:
        col = self.column_for(v, final_hold)
        with warnings.catch_warnings():  # late peaks elute during the (open) final hold
            warnings.simplefilter("ignore", ElutionWarning)
            return retention(col, list(self.solutes), rtol=self.rtol, **self.retention_kw)

    def run_time(self, tab: RetentionTable, oven: OvenProgram) -> float:
        last = float(np.max(tab.t_R))
        if self.objective == "last_peak":
            return last
        return max(float(np.max(tab.t_R + _PEAK_END * tab.sigma)), oven.duration)

    def evaluate(self, u, tie=0.0):
        """(run time (s) + ``tie`` x oven program duration, resolutions of all pairs i < j)."""
        v = self.space.values(u)
        tab = self.table(v)
        oven = _oven(v, self.space.n_ramps, self.final_hold)
        t, s = tab.t_R, tab.sigma
        i, j = np.triu_indices(t.size, 1)
        R = np.abs(t[i] - t[j]) / (2.0 * (s[i] + s[j]))
        return self.run_time(tab, oven) + tie * oven.duration, R


class _Evaluator:
    """Caching wrapper around :meth:`_Problem.evaluate` for scipy's callbacks."""

    def __init__(self, problem: _Problem, scale: float):
        self.p = problem
        self.scale = scale
        self.cache: dict = {}
        self.nfev = 0

    def __call__(self, u):
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        key = u.tobytes()
        hit = self.cache.get(key)
        if hit is None:
            self.nfev += 1
            f, R = self.p.evaluate(u, _TIE)
            # capped: pairs resolved far beyond the target stop pulling on the search
            R = np.minimum(R, self.p.cap)
            hit = (f / self.scale, (R - self.p.target) / self.p.target)
            self.cache[key] = hit
        return hit

    def jacobians(self, u):
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        f0, g0 = self(u)
        jf = np.empty(u.size)
        jg = np.empty((g0.size, u.size))
        for k in range(u.size):
            h = _FD_STEP if u[k] + _FD_STEP <= 1.0 else -_FD_STEP
            e = u.copy()
            e[k] += h
            f1, g1 = self(e)
            jf[k] = (f1 - f0) / h
            jg[:, k] = (g1 - g0) / h
        return jf, jg


def _violation(R, target):
    return float(max(0.0, target - np.min(R)) / target)


def _local_search(task):
    """One SLSQP run from ``u0``: returns a dict summary (module level for process pools)."""
    problem, u0, scale, maxiter, ftol = task
    ev = _Evaluator(problem, scale)
    cache_jac = {}

    def jac(u):
        key = np.asarray(u, dtype=float).tobytes()
        if key not in cache_jac:
            cache_jac[key] = ev.jacobians(u)
        return cache_jac[key]

    cons = [{"type": "ineq", "fun": lambda u: ev(u)[1], "jac": lambda u: jac(u)[1]}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SLSQP's "values outside bounds"
        res = minimize(lambda u: ev(u)[0], u0, jac=lambda u: jac(u)[0], method="SLSQP",
                       bounds=[(0.0, 1.0)] * u0.size, constraints=cons,
                       options={"maxiter": maxiter, "ftol": ftol})
    u = np.clip(res.x, 0.0, 1.0)
    f, R = problem.evaluate(u)
    ev.nfev += 1
    return {"u0": u0, "u": u, "run_time": f, "min_resolution": float(np.min(R)),
            "violation": _violation(R, problem.target), "success": bool(res.success),
            "message": str(res.message), "nit": int(getattr(res, "nit", 0)), "nfev": ev.nfev}


def _lhs(n, d, rng):
    """A Latin-hypercube sample of ``n`` points in [0, 1]^d."""
    out = np.empty((n, d))
    for k in range(d):
        out[:, k] = (rng.permutation(n) + rng.random(n)) / n
    return out


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgramOptimum:
    """The fastest program found by :func:`optimize_program` and how it was found.

    Attributes
    ----------
    program : OvenProgram
        The optimal oven program, its final temperature held until the last peak has ended
        (``t_R + 3 sigma``; at least ``final_hold``).
    column : ProgrammedColumn
        The column run with that program (and the optimal inlet pressure, if optimised).
    table : RetentionTable
        Predicted retention times, widths and elution temperatures of the solutes.
    parameters : dict
        The program parameters: ``T_start`` (deg C), ``hold`` (s), ``rate_1`` [, ``rate_2``]
        (deg C/min), [``mid_fraction`` and the derived ``T_mid`` (deg C),] ``T_final`` (deg C)
        [and ``inlet_pressure`` (Pa, absolute)].
    free : tuple of str
        The parameters that were optimised (the others were fixed).
    objective : str
        ``"last_peak"`` or ``"run_time"``.
    run_time : float
        The objective at the optimum (s).
    last_peak : float
        Retention time of the last peak (s).
    min_resolution : float
        The smallest resolution of neighbouring peaks achieved.
    target_resolution : float
        The constraint ``min_resolution`` asked for.
    critical_pair : tuple of str
        The neighbours with the smallest resolution.
    nfev : int
        Retention predictions (each of all solutes) spent.
    starts : tuple of dict
        One summary per local search: start and end parameters, run time, min resolution,
        SLSQP's status and message, iterations and predictions.
    success : bool
        True if the best end point satisfies the constraint (to ``tol``) and its local search,
        or another feasible one ending within 1e-4 of its run time, converged.
    message : str
    wall_time : float
        Seconds.
    """

    program: OvenProgram
    column: ProgrammedColumn
    table: RetentionTable
    parameters: dict
    free: tuple
    objective: str
    run_time: float
    last_peak: float
    min_resolution: float
    target_resolution: float
    critical_pair: tuple
    nfev: int
    starts: tuple
    success: bool
    message: str
    wall_time: float = 0.0

    def __post_init__(self):
        for name, cls, what in (("program", OvenProgram, "an OvenProgram"),
                                ("column", ProgrammedColumn, "a ProgrammedColumn"),
                                ("table", RetentionTable, "a RetentionTable")):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"{name} must be {what}, got "
                                f"{type(getattr(self, name)).__name__}")
        if not isinstance(self.parameters, dict):
            raise TypeError(f"parameters must be a dict, got {type(self.parameters).__name__}")
        check_choice("objective", self.objective, ("last_peak", "run_time"))
        for name in ("run_time", "last_peak", "target_resolution"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        object.__setattr__(self, "min_resolution",
                           check_nonnegative("min_resolution", self.min_resolution))
        pair = tuple(self.critical_pair)
        if len(pair) != 2 or any(n not in self.table.names for n in pair):
            raise ValueError(f"critical_pair must name two solutes of the table "
                             f"{list(self.table.names)}, got {self.critical_pair!r}")
        object.__setattr__(self, "critical_pair", pair)
        if not isinstance(self.success, bool | np.bool_):
            raise TypeError(f"success must be a bool, got {type(self.success).__name__}")
        check_int("nfev", self.nfev, 0)

    def resolution_table(self) -> list:
        """Neighbouring pairs in elution order with their resolution (see
        :func:`resolution_table`)."""
        return resolution_table(self.table)

    def plot(self, ax=None, *, t=None, **kwargs):
        """Predicted chromatogram (unit-area Gaussian peaks, 1/s) at times ``t`` (s; default
        6000 points to the last ``t_R + 6 sigma``) with the oven program (deg C) on a second
        axis and the critical pair marked; ``kwargs`` go to the chromatogram's line. Returns
        the Axes of the chromatogram."""
        from ._surface import new_axes

        ax = new_axes(ax, figsize=(9, 3.5))
        tab = self.table
        if t is None:
            hi = max(float(np.max(tab.t_R + 6 * tab.sigma)), 1e-9)
            t = np.linspace(0.0, hi, 6000)
        ax.plot(t, tab.chromatogram(t), **{"lw": 0.9, "color": "C0", **kwargs})
        for n, tr in zip(tab.names, tab.t_R, strict=True):
            ax.annotate(n, (tr, 0), xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", rotation=90, fontsize=7,
                        color="red" if n in self.critical_pair else "black")
        ax.set_xlabel("t (s)")
        ax.set_ylabel("signal (unit area per peak)")
        ax.set_title(f"run time {self.run_time:.1f} s, min R_s = {self.min_resolution:.2f} "
                     f"({self.critical_pair[0]}/{self.critical_pair[1]})", fontsize=9)
        ax2 = ax.twinx()
        ax2.plot(t, self.program(t) - T_ZERO_CELSIUS, color="C3", lw=0.8, ls="--")
        ax2.set_ylabel("oven (deg C)", color="C3")
        return ax

    def to_xarray(self):
        """An xarray Dataset: the retention table over ``solute``, the resolutions over
        ``pair`` and the program nodes over ``node``; scalars as attributes (xarray imported
        lazily)."""
        ds = self.table.to_xarray()
        pairs = self.resolution_table()
        ds = ds.assign_coords(pair=[f"{a}/{b}" for a, b, _ in pairs], node=np.arange(
            self.program.times.size))
        ds["resolution"] = ("pair", np.array([r for _, _, r in pairs]))
        ds["program_time"] = ("node", self.program.times, {"units": "s"})
        ds["program_temperature"] = ("node", self.program.temperatures, {"units": "K"})
        ds.attrs.update({f"parameter_{k}": v for k, v in self.parameters.items()})
        ds.attrs.update(objective=self.objective, run_time=self.run_time,
                        last_peak=self.last_peak, min_resolution=self.min_resolution,
                        target_resolution=self.target_resolution,
                        critical_pair="/".join(self.critical_pair), nfev=self.nfev,
                        success=int(self.success), message=self.message,
                        wall_time=float(self.wall_time))
        return ds


# ---------------------------------------------------------------------------------------------
# the optimiser
# ---------------------------------------------------------------------------------------------
def _check_solutes(solutes):
    if isinstance(solutes, dict):
        solutes = list(solutes.values())
    elif isinstance(solutes, Solute):
        solutes = [solutes]
    try:
        solutes = list(solutes)
    except TypeError:
        raise TypeError(f"solutes must be a sequence (or dict) of Solute, got "
                        f"{type(solutes).__name__}") from None
    for s in solutes:
        if not isinstance(s, Solute):
            raise TypeError(f"solutes must hold Solute objects (see load_retention_database), "
                            f"got {type(s).__name__}")
    if len(solutes) < 2:
        raise ValueError(f"solutes must hold at least 2 solutes to resolve, got {len(solutes)}")
    names = [s.name for s in solutes]
    if len(set(names)) != len(names):
        raise ValueError(f"solutes must have distinct names, got {names}")
    return tuple(solutes)


def optimize_program(column: ProgrammedColumn, solutes, *, min_resolution: float,
                     n_ramps: int = 1, T_start=(35.0, 200.0), hold=(0.0, 180.0),
                     rate=(1.0, 40.0), mid_fraction=(0.1, 0.9), T_final=300.0,
                     inlet_pressure=None, objective: str = "last_peak",
                     final_hold: float = 0.0, n_samples: int | None = None, n_starts: int = 4,
                     rng=0, rtol: float = 1e-7, maxiter: int = 100, ftol: float = 1e-5,
                     tol: float = 1e-3, workers=None, progress: bool = False,
                     **retention_kw) -> ProgramOptimum:
    """The fastest oven program that resolves all ``solutes`` to ``min_resolution``.

    Program family: start at ``T_start``, hold ``hold``, ramp at ``rate_1`` (to ``T_final``, or
    with ``n_ramps=2`` to ``T_mid = T_start + mid_fraction (T_final - T_start)`` and then at
    ``rate_2`` to ``T_final``), hold the final temperature. Each of ``T_start``, ``hold``,
    ``rate``, ``mid_fraction``, ``T_final`` and ``inlet_pressure`` is either a number (fixed) or
    a pair ``(low, high)`` (optimised within those bounds). See the module docstring for the
    problem and the search.

    Parameters
    ----------
    column : ProgrammedColumn
        Column, carrier gas and pressure program; its oven program is replaced. It must have no
        thermal gradient.
    solutes : sequence or dict of Solute
        At least two solutes.
    min_resolution : float
        Required resolution of every pair of neighbouring peaks (4-sigma definition; 1.5 is
        baseline separation of equal peaks), > 0.
    n_ramps : {1, 2}
    T_start : float or (float, float)
        Initial oven temperature (deg C). Default (35, 200).
    hold : float or (float, float)
        Initial hold (s), >= 0. Default (0, 180).
    rate : float, (float, float) or a list of those, one per ramp
        Heating rates (deg C/min), > 0: a number or a tuple ``(low, high)`` applies to every
        ramp; a list gives one entry per ramp, e.g. ``[(1, 10), (10, 40)]``. Default (1, 40).
    mid_fraction : float or (float, float)
        Where the first of two ramps ends, as a fraction of ``T_final - T_start`` in (0, 1).
    T_final : float or (float, float)
        Final temperature (deg C; the upper limit of the stationary phase). Default 300. Every
        ``T_start`` must lie below every ``T_final``.
    inlet_pressure : None, float or (float, float)
        Constant absolute inlet pressure (Pa); None keeps the column's pressure program. Needs a
        constant :class:`~sciflow.chromatography.programs.PressureProgram` on the column.
    objective : {"last_peak", "run_time"}
        Minimise the retention time of the last peak, or the run time (the later of the end of
        the last peak, ``t_R + 3 sigma``, and the end of the last ramp plus ``final_hold``).
    final_hold : float
        Bake-out at the final temperature (s) counted by ``objective="run_time"``.
    n_samples : int, optional
        Latin-hypercube sample evaluated to choose the starts (default ``max(8 d, 16)`` for
        ``d`` free parameters).
    n_starts : int
        Local (SLSQP) searches from the best sampled programs.
    rng : Generator or int
        Random numbers of the sample (default seed 0: reproducible).
    rtol : float
        Relative tolerance of each retention prediction.
    maxiter, ftol : int, float
        SLSQP's iteration limit and tolerance on the (scaled) objective.
    tol : float
        Relative tolerance on the constraint: a program counts as feasible when its smallest
        resolution is at least ``min_resolution (1 - tol)``.
    workers : None, int or executor
        Runs the local searches through :func:`sciflow.parallel.map_tasks`.
    progress : bool
        tqdm bar over the local searches.
    **retention_kw
        ``injection_time``, ``injection_width``, ``detector_time_constant``, ``plate_height``,
        ``film_diffusivity`` of :func:`~sciflow.chromatography.programs.retention`.

    Returns
    -------
    ProgramOptimum
        ``success=False`` with a message when no program in the box meets the constraint (the
        least infeasible end point is returned) or the best local search did not converge.
    """
    start = _time.perf_counter()
    if not isinstance(column, ProgrammedColumn):
        raise TypeError(f"column must be a ProgrammedColumn, got {type(column).__name__}")
    if column.oven.gradient is not None:
        raise ValueError("column: optimize_program searches programs without a thermal "
                         "gradient; the column's oven has one")
    solutes = _check_solutes(solutes)
    target = check_positive("min_resolution", min_resolution)
    n_ramps = check_int("n_ramps", n_ramps, 1, 2)
    check_choice("objective", objective, ("last_peak", "run_time"))
    final_hold = check_nonnegative("final_hold", final_hold)
    n_starts = check_int("n_starts", n_starts, 1)
    rtol = check_in_range("rtol", rtol, 1e-12, 1e-4)
    maxiter = check_int("maxiter", maxiter, 1)
    ftol = check_in_range("ftol", ftol, 0.0, 1e-2, low_open=True)
    tol = check_in_range("tol", tol, 0.0, 0.5)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    unknown = sorted(set(retention_kw) - {"injection_time", "injection_width",
                                          "detector_time_constant", "plate_height",
                                          "film_diffusivity"})
    if unknown:
        raise TypeError(f"retention_kw: unknown keyword argument(s) {unknown} (retention() "
                        "options: injection_time, injection_width, detector_time_constant, "
                        "plate_height, film_diffusivity)")
    rng = as_rng(rng)

    names, lo, hi = [], [], []

    def add(name, b):
        names.append(name)
        lo.append(b[0])
        hi.append(b[1])

    Ts = _bounds("T_start", T_start, low=-T_ZERO_CELSIUS, low_open=True)
    Tf = _bounds("T_final", T_final, low=-T_ZERO_CELSIUS, low_open=True)
    if Ts[1] >= Tf[0]:
        raise ValueError(f"T_start must lie below T_final: T_start up to {Ts[1]} deg C, T_final "
                         f"from {Tf[0]} deg C")
    add("T_start", Ts)
    add("hold", _bounds("hold", hold, low=0.0))
    if isinstance(rate, list):  # one entry (a number or a pair) per ramp
        if len(rate) != n_ramps:
            raise ValueError(f"rate as a list gives one entry per ramp (n_ramps = {n_ramps}), "
                             f"got {len(rate)}; give bounds for every ramp as a tuple "
                             "(low, high)")
        rates = rate
    else:  # a number or a tuple (low, high) for every ramp
        rates = [rate] * n_ramps
    add("rate_1", _bounds("rate", rates[0], low=0.0, low_open=True))
    if n_ramps == 2:
        mf = _bounds("mid_fraction", mid_fraction, low=0.0, high=1.0, low_open=True)
        if mf[0] <= 0.0 or mf[1] >= 1.0:
            raise ValueError(f"mid_fraction must lie in (0, 1), got {mid_fraction!r}")
        add("mid_fraction", mf)
        add("rate_2", _bounds("rate", rates[1], low=0.0, low_open=True))
    add("T_final", Tf)
    if inlet_pressure is not None:
        pr = column.pressure
        if not isinstance(pr, PressureProgram) or pr.inlet.size > 1 and (
                np.ptp(pr.inlet) or np.ptp(pr.outlet)):
            raise ValueError("inlet_pressure: optimising the inlet pressure needs a constant "
                             "PressureProgram on the column")
        pb = _bounds("inlet_pressure", inlet_pressure, low=0.0, low_open=True)
        if pb[0] <= float(pr.outlet[0]):
            raise ValueError(f"inlet_pressure must exceed the outlet pressure "
                             f"{float(pr.outlet[0])} Pa, got {pb[0]} Pa")
        add("inlet_pressure", pb)
    space = _Space(tuple(names), np.array(lo, float), np.array(hi, float), n_ramps)
    d = int(space.free.sum())
    n_samples = max(8 * d, 16) if n_samples is None else check_int("n_samples", n_samples, 1)
    if n_samples < n_starts:
        raise ValueError(f"n_samples must be >= n_starts = {n_starts}, got {n_samples}")

    problem = _Problem(column=column, solutes=solutes, space=space, target=target,
                       objective=objective, final_hold=final_hold, rtol=rtol,
                       cap=2.0 * target + 1.0, retention_kw=dict(retention_kw))
    nfev = 0
    if d == 0:
        local = []
        u_best = np.zeros(0)
    else:
        # 1) sample; 2) local searches from the best samples
        U = _lhs(n_samples, d, rng)
        fs, viol = np.empty(n_samples), np.empty(n_samples)
        for k, u in enumerate(U):
            fs[k], R = problem.evaluate(u)
            viol[k] = _violation(R, target)
        nfev += n_samples
        order = np.lexsort((np.where(viol > 0, viol, fs), viol > 0))
        scale = float(np.median(fs))
        tasks = [(problem, U[k], scale, maxiter, ftol) for k in order[:n_starts]]
        local = map_tasks(_local_search, tasks, workers=workers, progress=progress,
                          desc="optimize_program")
        nfev += sum(r["nfev"] for r in local)
        ok = [r for r in local if r["violation"] <= tol]
        pool = ok if ok else local
        best = min(pool, key=(lambda r: r["run_time"]) if ok else (lambda r: r["violation"]))
        u_best = best["u"]

    v = space.values(u_best)
    oven0 = _oven(v, n_ramps, final_hold)
    tab0 = problem.table(v)
    nfev += 1
    # hold the final temperature until the last peak has ended (at least final_hold)
    end = float(np.max(tab0.t_R + _PEAK_END * tab0.sigma))
    ramp_end = oven0.duration - final_hold
    hold_end = max(final_hold, math.ceil(end - ramp_end)) if end > ramp_end else final_hold
    col = problem.column_for(v, hold_end)
    tab = retention(col, list(solutes), rtol=rtol, **retention_kw)
    nfev += 1
    run = problem.run_time(tab, oven0)
    pairs = resolution_table(tab)
    k_min = int(np.argmin([r for _, _, r in pairs]))
    Rmin = pairs[k_min][2]
    params = dict(v)
    if n_ramps == 2:
        params["T_mid"] = v["T_start"] + v["mid_fraction"] * (v["T_final"] - v["T_start"])
    feasible = Rmin >= target * (1.0 - tol)
    if d == 0:
        success = feasible
        message = ("no free parameter: the fixed program " + ("meets" if feasible else
                   "does not meet") + f" the constraint (min R_s {Rmin:.4g})")
    else:
        n_ok = sum(r["violation"] <= tol for r in local)
        if not feasible:
            success = False
            message = (f"no feasible program found: the best of {len(local)} local searches "
                       f"reaches min R_s = {Rmin:.4g} < {target:g} (widen the bounds, lower "
                       "min_resolution or use a longer/narrower column)")
        else:
            # converged: the best search itself, or a converged feasible one as good to 1e-4
            agree = [r for r in local if r["success"] and r["violation"] <= tol
                     and r["run_time"] <= best["run_time"] * (1.0 + 1e-4)]
            success = bool(best["success"] or agree)
            message = (f"{n_ok} of {len(local)} local searches feasible, {len(agree)} converged "
                       f"to the best run time (1e-4); best: SLSQP {best['message']!r} after "
                       f"{best['nit']} iterations")
    starts = tuple({"start": space.values(r["u0"]), "end": space.values(r["u"]),
                    "run_time": r["run_time"], "min_resolution": r["min_resolution"],
                    "feasible": r["violation"] <= tol, "success": r["success"],
                    "message": r["message"], "nit": r["nit"], "nfev": r["nfev"]}
                   for r in local)
    return ProgramOptimum(
        program=col.oven, column=col, table=tab, parameters=params,
        free=tuple(n for n, f in zip(space.names, space.free, strict=True) if f),
        objective=objective, run_time=float(run), last_peak=float(np.max(tab.t_R)),
        min_resolution=float(Rmin), target_resolution=target,
        critical_pair=(pairs[k_min][0], pairs[k_min][1]), nfev=int(nfev), starts=starts,
        success=bool(success), message=message, wall_time=_time.perf_counter() - start)

