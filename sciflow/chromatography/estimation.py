r"""Estimate K-centric retention parameters from measured retention times of programmed runs.

Each solute's parameters ``(T_char, theta_char, dCp)`` (:class:`~.thermo.KCentric`; ``phi0`` is
kept) are found by least squares on its retention times in several temperature/pressure-programmed
runs, the prediction being :func:`~sciflow.chromatography.programs.retention`::

    minimise  sum_runs ((t_R,pred(p) - t_R,meas) / s_run)^2  +  sum_j ((p_j - p0_j) / s_prior_j)^2

over the fitted parameters ``p`` (any subset of the three), with an optional Gaussian prior
around the start values ``p0`` (``prior_sd``). The solutes do not interact in the model, so the
problem splits into one small problem per solute (mapped over ``workers``). The solver is
:func:`scipy.optimize.least_squares` (dogbox trust region within wide physical bounds; the
reflective "trf" method needs 3-4 times more iterations here) and
the Jacobian a central difference with fixed steps (``1e-3 K``, ``1e-3 K``, ``1e-2 J/mol/K``),
far above the integration noise of the predictor at the default ``rtol``.

Identifiability. A run gives one number per solute. Three parameters need three runs with
different programs (or a prior): with two runs (e.g. two heating rates), ``(T_char,
theta_char)`` are well determined with ``dCp`` held, whereas all three are not (the fit raises
unless a prior closes the gap). ``dCp`` is the weakest: it changes the curvature of ``ln k(1/T)``,
which programs spanning similar elution temperatures barely see. The result reports the
condition number of the scaled Jacobian and the standard errors, so a poorly determined
parameter is visible, not hidden.

Covariance. ``(J^T W J)^{-1}`` of the weighted problem (prior rows included), with
``W = 1/s_run^2`` when the runs give ``t_R_sd``; otherwise equal weights and the covariance scaled
by the residual variance ``SSR / (n - p)`` (NaN when ``n = p``: nothing is left to estimate the
scatter from).

Starting values. ``initial="solutes"`` starts from the given solutes' parameters (a database);
``initial="crude"`` ignores them and starts from the elution temperature: ``dCp = 0``,
``theta_char`` tied to ``T_char`` by the empirical correlation ``theta_char ~ 22 K (T_char /
273.15 K)^0.7 (1000 phi0)^0.09`` (after Blumberg 2017; within 15 % for the n-alkanes of
``Database_Leppert2020b.csv``), and ``T_char`` fitted alone from the elution temperature + 40 K;
the full fit then starts there.

References
----------
L. M. Blumberg, J. Chromatogr. A 1491, 159 (2017) (the K-centric model).
J. Leppert et al., RetentionParameterEstimator.jl (J. Chromatogr. A, 2023): the same idea,
which can also estimate the column diameter as a common parameter of all solutes (not done
here: per solute only, the column is taken as given).
"""

from __future__ import annotations

import math
import time as _time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validate import (
    check_array,
    check_choice,
    check_in_range,
    check_int,
    check_nonnegative,
)
from ..parallel import map_tasks
from .programs import ProgrammedColumn, retention
from .thermo import KCentric, Solute

__all__ = ["RetentionRun", "RetentionFit", "fit_retention_parameters", "EstimationWarning"]

PARAMETERS = ("T_char", "theta_char", "dCp")
_UNITS = {"T_char": "K", "theta_char": "K", "dCp": "J/mol/K"}
_STEP = np.array([1e-3, 1e-3, 1e-2])  # central-difference steps (K, K, J/mol/K)
_SCALE = np.array([10.0, 3.0, 30.0])  # typical parameter scales for the trust region
_LOWER = np.array([50.0, 0.5, -2000.0])  # wide physical bounds
_UPPER = np.array([2000.0, 300.0, 5000.0])
_T_ST = 273.15
XTOL, FTOL, GTOL = 1e-10, 1e-12, 1e-10


class EstimationWarning(UserWarning):
    """A solute's fit did not converge or ended on a bound (the result says which)."""


# --------------------------------------------------------------------------------------------
# a run
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetentionRun:
    """One programmed run and the retention times measured in it.

    Parameters
    ----------
    column : ProgrammedColumn
        Column, carrier gas, oven and pressure program of the run.
    t_R : mapping of str to float
        Measured retention time (s) per solute name; NaN entries (not measured) are skipped.
    name : str
        Label for tables and plots.
    injection_time : float
        Time (s) at which the solutes enter the column (passed to ``retention``).
    detector_time_constant : float
        First-order detector time constant (s), added to the predicted ``t_R``.
    t_R_sd : float, optional
        Standard deviation (s) of the measured retention times: the weight of this run and the
        scale of the covariance. ``None`` (all runs): equal weights, covariance scaled by the
        residual variance.
    """

    column: ProgrammedColumn
    t_R: Mapping
    name: str = ""
    injection_time: float = 0.0
    detector_time_constant: float = 0.0
    t_R_sd: float | None = None

    def __post_init__(self):
        if not isinstance(self.column, ProgrammedColumn):
            raise TypeError(f"column must be a ProgrammedColumn, got {type(self.column).__name__}")
        if not isinstance(self.t_R, Mapping):
            raise TypeError(f"t_R must be a mapping {{solute name: retention time (s)}}, got "
                            f"{type(self.t_R).__name__}")
        clean = {}
        for k, v in self.t_R.items():
            if not isinstance(k, str):
                raise TypeError(f"t_R keys must be solute names (str), got {k!r}")
            if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
                raise TypeError(f"t_R[{k!r}] must be a number (s), got {type(v).__name__}")
            v = float(v)
            if math.isinf(v) or (math.isfinite(v) and v <= 0.0):
                raise ValueError(f"t_R[{k!r}] must be > 0 s (or NaN for not measured), got {v}")
            clean[k] = v
        if not any(math.isfinite(v) for v in clean.values()):
            raise ValueError("t_R must hold at least one measured (finite) retention time")
        object.__setattr__(self, "t_R", clean)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__}")
        object.__setattr__(self, "injection_time",
                           check_nonnegative("injection_time", self.injection_time))
        object.__setattr__(self, "detector_time_constant",
                           check_nonnegative("detector_time_constant",
                                             self.detector_time_constant))
        if self.t_R_sd is not None:
            sd = check_nonnegative("t_R_sd", self.t_R_sd)
            if sd == 0.0:
                raise ValueError("t_R_sd must be > 0 s (or None), got 0.0")
            object.__setattr__(self, "t_R_sd", sd)

    def measured(self, name: str) -> float:
        """The measured t_R (s) of ``name``, NaN if absent."""
        return self.t_R.get(name, math.nan)


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RetentionFit:
    """Estimated retention parameters, per solute, with their uncertainty and diagnostics.

    Attributes (per-solute arrays in the order of ``names``)
    ----------
    names : tuple of str
    solutes : dict
        ``{name: Solute}`` with the estimated parameters (``phi0``, formula etc. kept).
    initial : dict
        ``{name: Solute}`` the fit started from.
    parameters : tuple of str
        The fitted parameters (a subset of ``("T_char", "theta_char", "dCp")``); the others are
        held at their start values.
    estimates : ndarray, shape (n, 3)
        ``[T_char (K), theta_char (K), dCp (J/mol/K)]`` (fitted or held).
    stderr : ndarray, shape (n, 3)
        Standard errors (NaN for held parameters, and for all when ``n_data = n_parameters``
        without ``t_R_sd``).
    covariance : ndarray, shape (n, p, p)
        Covariance of the fitted parameters (order of ``parameters``).
    run_names : tuple of str
    measured, predicted : ndarray, shape (n_runs, n)
        Measured and predicted (at the estimates) retention times (s); NaN where not measured.
    converged : ndarray of bool
        The solver reported convergence (``status > 0``) and the estimate is inside the bounds.
    at_bound : ndarray of bool
        Some parameter ended on its bound.
    condition_number : ndarray
        Of the Jacobian with columns scaled to unit norm (1 is ideal; above ~1e6 the parameters
        are not separately determined).
    n_data : ndarray of int
        Measured retention times per solute.
    nfev : ndarray of int
        Residual evaluations (each one ``retention`` call per run, Jacobian differences not
        counted).
    messages : tuple of str
        The solver's message per solute.
    wall_time : float
        Seconds.
    """

    names: tuple
    solutes: dict
    initial: dict
    parameters: tuple
    estimates: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    run_names: tuple
    measured: np.ndarray
    predicted: np.ndarray
    converged: np.ndarray
    at_bound: np.ndarray
    condition_number: np.ndarray
    n_data: np.ndarray
    nfev: np.ndarray
    messages: tuple
    wall_time: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        if not isinstance(self.names, tuple) or not all(isinstance(n, str) for n in self.names):
            raise TypeError(f"names must be a tuple of str, got {self.names!r}")
        n = len(self.names)
        if not isinstance(self.parameters, tuple) or not self.parameters or any(
                p not in PARAMETERS for p in self.parameters):
            raise ValueError(f"parameters must be a non-empty tuple from {list(PARAMETERS)}, "
                             f"got {self.parameters!r}")
        p = len(self.parameters)
        for key in ("solutes", "initial"):
            d = getattr(self, key)
            if not isinstance(d, dict) or set(d) != set(self.names) or not all(
                    isinstance(v, Solute) for v in d.values()):
                raise ValueError(f"{key} must be a dict {{name: Solute}} over names")
        if not isinstance(self.run_names, tuple):
            raise TypeError(f"run_names must be a tuple of str, got {self.run_names!r}")
        nr = len(self.run_names)
        shapes = {"estimates": (n, 3), "stderr": (n, 3), "covariance": (n, p, p),
                  "measured": (nr, n), "predicted": (nr, n), "condition_number": (n,)}
        for key, shape in shapes.items():
            a = check_array(key, getattr(self, key), finite=False)
            if a.shape != shape:
                raise ValueError(f"{key} must have shape {shape}, got {a.shape}")
            set_(self, key, a)
        if not np.all(np.isfinite(self.estimates)):
            raise ValueError("estimates must be finite")
        for key in ("converged", "at_bound"):
            a = np.asarray(getattr(self, key))
            if a.dtype != bool or a.shape != (n,):
                raise TypeError(f"{key} must be a bool array of shape ({n},), got "
                                f"{a.dtype} {a.shape}")
            set_(self, key, a)
        for key in ("n_data", "nfev"):
            a = np.asarray(getattr(self, key))
            if not np.issubdtype(a.dtype, np.integer) or a.shape != (n,):
                raise TypeError(f"{key} must be an integer array of shape ({n},), got "
                                f"{a.dtype} {a.shape}")
            set_(self, key, a)
        if not isinstance(self.messages, tuple) or len(self.messages) != n:
            raise ValueError(f"messages must be a tuple of {n} str")
        set_(self, "wall_time", check_nonnegative("wall_time", self.wall_time))

    @property
    def residuals(self) -> np.ndarray:
        """Predicted minus measured retention time (s), shape (n_runs, n); NaN where absent."""
        return self.predicted - self.measured

    @property
    def all_converged(self) -> bool:
        """True if every solute's fit converged."""
        return bool(np.all(self.converged))

    def rms_residual(self) -> np.ndarray:
        """Root-mean-square t_R residual (s) per solute over its measured runs."""
        r = self.residuals
        return np.sqrt(np.nanmean(r * r, axis=0))

    def correlation(self) -> np.ndarray:
        """Correlation matrices of the fitted parameters, shape (n, p, p)."""
        c = self.covariance
        d = np.sqrt(np.einsum("nii->ni", c))
        with np.errstate(invalid="ignore", divide="ignore"):
            return c / (d[:, :, None] * d[:, None, :])

    def to_dataframe(self):
        """One row per solute: estimates, standard errors, diagnostics (pandas, lazily)."""
        import pandas as pd

        data = {"name": list(self.names)}
        for j, p in enumerate(PARAMETERS):
            data[f"{p}_{_UNITS[p].replace('/', '_per_')}"] = self.estimates[:, j]
            data[f"{p}_stderr"] = self.stderr[:, j]
        data.update(rms_residual_s=self.rms_residual(), n_data=self.n_data,
                    converged=self.converged, at_bound=self.at_bound,
                    condition_number=self.condition_number, nfev=self.nfev)
        return pd.DataFrame(data)

    def to_xarray(self):
        """An xarray Dataset over ``solute``, ``parameter`` (T_char, theta_char, dCp), ``run``
        and ``fitted`` (the fitted parameters): the estimates with their standard errors (also
        one variable per parameter, with units), the covariance, measured and predicted t_R
        and the diagnostics (xarray imported lazily)."""
        from ._surface import xarray

        xr = xarray()
        units = ", ".join(f"{p}: {_UNITS[p]}" for p in PARAMETERS)
        data = {
            "estimates": (("solute", "parameter"), self.estimates, {"units": units}),
            "stderr": (("solute", "parameter"), self.stderr, {"units": units}),
            "covariance": (("solute", "fitted", "fitted_2"), self.covariance),
            "measured": (("run", "solute"), self.measured, {"units": "s"}),
            "predicted": (("run", "solute"), self.predicted, {"units": "s"}),
            "converged": ("solute", self.converged),
            "at_bound": ("solute", self.at_bound),
            "condition_number": ("solute", self.condition_number, {"units": "1"}),
            "n_data": ("solute", self.n_data),
            "nfev": ("solute", self.nfev),
        }
        for j, p in enumerate(PARAMETERS):
            data[p] = ("solute", self.estimates[:, j], {"units": _UNITS[p]})
            data[f"{p}_stderr"] = ("solute", self.stderr[:, j], {"units": _UNITS[p]})
        return xr.Dataset(
            data, coords={"solute": list(self.names), "parameter": list(PARAMETERS),
                          "run": self._run_labels(), "fitted": list(self.parameters),
                          "fitted_2": list(self.parameters)},
            attrs={"wall_time": float(self.wall_time)})

    def predict(self, column, **kwargs):
        """``retention(column, <the estimated solutes>, **kwargs)`` (see ``retention``)."""
        return retention(column, [self.solutes[n] for n in self.names], **kwargs)

    def _run_labels(self) -> list[str]:
        return [rn or f"run {i}" for i, rn in enumerate(self.run_names)]

    def plot(self, ax=None, **kwargs):
        """Residual (predicted - measured t_R, s) per solute (x = 0, 1, ... in the order of
        ``names``) for each run; ``kwargs`` go to the runs' lines. Returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax, figsize=(7, 3.5))
        x = np.arange(len(self.names))
        for i, rn in enumerate(self._run_labels()):
            ax.plot(x, self.residuals[i], **{"marker": "o", "ms": 3, "lw": 0.8, "label": rn,
                                             **kwargs})
        bad = ~self.converged
        if np.any(bad):
            ax.plot(x[bad], np.zeros(bad.sum()), "rx", label="not converged")
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xticks(x)
        ax.set_xticklabels(self.names, rotation=90, fontsize=7)
        ax.set_ylabel("t_R predicted − measured (s)")
        ax.legend(fontsize="x-small")
        return ax


# --------------------------------------------------------------------------------------------
# the per-solute problem
# --------------------------------------------------------------------------------------------
def _theta_char_correlation(T_char, phi0):
    """Empirical ``theta_char ~ 22 K (T_char/273.15 K)^0.7 (1000 phi0)^0.09`` (start values)."""
    return 22.0 * (T_char / _T_ST) ** 0.7 * (1000.0 * phi0) ** 0.09


def _with_params(solute, x):
    kc = solute.retention
    return solute.replace(retention=KCentric(float(x[0]), float(x[1]), float(x[2]), kc.phi0))


def _predict_runs(solute, x, runs, rtol):
    """Predicted t_R (s) of the solute in each run at full parameters ``x`` (shape (3,):
    returns (n_runs,)), or at several parameter vectors (a list: returns (n_runs, n_x), one
    ``retention`` call per run)."""
    single = not isinstance(x, list)
    xs = [x] if single else x
    trial = [_with_params(solute, xx).replace(name=f"{solute.name}#{i}") for i, xx in
             enumerate(xs)]
    out = np.empty((len(runs), len(xs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # late elution during the search
        for i, r in enumerate(runs):
            try:
                tab = retention(r.column, trial, injection_time=r.injection_time,
                                detector_time_constant=r.detector_time_constant, rtol=rtol)
                out[i] = tab.t_R
            except RuntimeError:  # the integration failed (absurd trial parameters)
                out[i] = 1e6
    return out[:, 0] if single else out


def _fit_one(task):
    """Least-squares fit of one solute (module level: picklable for process pools)."""
    from scipy.optimize import least_squares

    solute, x0, runs, tmeas, sd, free, prior_sd, rtol, max_nfev = task
    free = np.asarray(free, dtype=int)
    x0 = np.asarray(x0, dtype=float)
    counter = {"n": 0}
    has_prior = prior_sd is not None
    psd = np.asarray(prior_sd, dtype=float) if has_prior else None

    def full(z):
        x = x0.copy()
        x[free] = z
        return x

    def resid(z):
        counter["n"] += 1
        r = (_predict_runs(solute, full(z), runs, rtol) - tmeas) / sd
        if has_prior:
            pr = (z - x0[free]) / psd
            r = np.concatenate([r, pr[np.isfinite(pr)]])
        return r

    def jac(z):
        xs = []
        for j in range(free.size):
            for sign in (1.0, -1.0):
                zz = z.copy()
                zz[j] += sign * _STEP[free[j]]
                xs.append(full(zz))
        tt = _predict_runs(solute, xs, runs, rtol)  # (n_runs, 2 p), one call per run
        cols = []
        for j, k in enumerate(free):
            h = _STEP[k]
            col = (tt[:, 2 * j] - tt[:, 2 * j + 1]) / (2.0 * h) / sd
            if has_prior:
                e = np.zeros(free.size)
                e[j] = 1.0
                pr = e / psd
                col = np.concatenate([col, pr[np.isfinite(pr)]])
            cols.append(col)
        return np.column_stack(cols)

    lo, hi = _LOWER[free], _UPPER[free]
    z0 = np.clip(x0[free], lo + 1e-9 * np.abs(lo) + 1e-9, hi - 1e-9 * np.abs(hi) - 1e-9)
    res = least_squares(resid, z0, jac=jac, bounds=(lo, hi), x_scale=_SCALE[free],
                        method="dogbox", xtol=XTOL, ftol=FTOL, gtol=GTOL, max_nfev=max_nfev)
    x = full(res.x)
    J = res.jac
    colnorm = np.linalg.norm(J, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        Js = J / np.where(colnorm > 0, colnorm, 1.0)
    sv = np.linalg.svd(Js, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    n_data = int(tmeas.size)
    n_rows = J.shape[0]
    JTJ = J.T @ J
    try:
        cov = np.linalg.inv(JTJ) if np.isfinite(cond) and cond < 1e12 else None
    except np.linalg.LinAlgError:
        cov = None
    if cov is None:
        cov = np.full((free.size, free.size), np.nan)
    tol = 1e-6 * (hi - lo)
    at_bound = bool(np.any((res.x - lo < tol) | (hi - res.x < tol)))
    return dict(x=x, cov=cov, n_rows=n_rows, n_data=n_data, cond=cond, status=int(res.status),
                success=bool(res.status > 0) and not at_bound, at_bound=at_bound,
                message=str(res.message), nfev=counter["n"], cost=float(res.cost),
                predicted=_predict_runs(solute, x, runs, rtol))


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------
def _as_runs(runs):
    if isinstance(runs, RetentionRun):
        runs = [runs]
    if isinstance(runs, str | bytes | Mapping) or not hasattr(runs, "__iter__"):
        raise TypeError("runs must be a sequence of RetentionRun (or (ProgrammedColumn, "
                        f"{{name: t_R}}) pairs), got {type(runs).__name__}")
    out = []
    for i, r in enumerate(runs):
        if isinstance(r, RetentionRun):
            out.append(r)
        elif isinstance(r, tuple) and len(r) == 2:
            out.append(RetentionRun(r[0], r[1], name=f"run {i}"))
        else:
            raise TypeError(f"runs[{i}] must be a RetentionRun or a (ProgrammedColumn, "
                            f"{{name: t_R}}) pair, got {type(r).__name__}")
    if not out:
        raise ValueError("runs must hold at least one run")
    has_sd = [r.t_R_sd is not None for r in out]
    if any(has_sd) and not all(has_sd):
        raise ValueError("runs: give t_R_sd for every run or for none (weights must be "
                         "comparable)")
    return out


def _as_solutes(solutes):
    if isinstance(solutes, Solute):
        solutes = [solutes]
    elif isinstance(solutes, Mapping):
        solutes = list(solutes.values())
    elif isinstance(solutes, str | bytes) or not hasattr(solutes, "__iter__"):
        raise TypeError(f"solutes must be a Solute, a sequence of Solute or a dict, got "
                        f"{type(solutes).__name__}")
    solutes = list(solutes)
    for s in solutes:
        if not isinstance(s, Solute):
            raise TypeError(f"solutes must hold Solute objects, got {type(s).__name__}")
    if not solutes:
        raise ValueError("solutes must hold at least one Solute")
    names = [s.name for s in solutes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"solutes: names must be unique, {dup} appear twice")
    return solutes


def _crude_start(solute, runs, tm, sd, rtol, max_nfev):
    """dCp = 0, theta_char from the correlation, T_char fitted alone from T_elution + 40 K."""
    from scipy.optimize import least_squares

    phi0 = solute.retention.phi0
    T_el = []
    for r, t in zip(runs, tm, strict=True):
        col = r.column
        T_el.append(float(col.temperature(col.length, min(t, col.oven.duration + 1e6))))
    T0 = float(np.mean(T_el)) + 40.0

    def resid(z):
        x = np.array([z[0], _theta_char_correlation(z[0], phi0), 0.0])
        return (_predict_runs(solute, x, runs, rtol) - tm) / sd

    res = least_squares(resid, [T0], bounds=([_LOWER[0]], [_UPPER[0]]), x_scale=[10.0],
                        diff_step=1e-6, max_nfev=max_nfev)
    Tc = float(res.x[0])
    return np.array([Tc, _theta_char_correlation(Tc, phi0), 0.0])


def _prepare(task):
    """Start values (crude if asked) then the full fit; one solute."""
    solute, runs, tm, sd, free, prior_sd, rtol, max_nfev, initial = task
    kc = solute.retention
    x0 = np.array([kc.T_char, kc.theta_char, kc.dCp])
    if initial == "crude":
        x0 = _crude_start(solute, runs, tm, sd, rtol, max_nfev)
    out = _fit_one((solute, x0, runs, tm, sd, free, prior_sd, rtol, max_nfev))
    out["x0"] = x0
    return out


def fit_retention_parameters(runs, solutes, *, parameters=PARAMETERS, initial: str = "solutes",
                             prior_sd=None, rtol: float = 1e-9, max_nfev: int = 100,
                             workers=None, progress: bool = False) -> RetentionFit:
    """Estimate K-centric parameters per solute from measured t_R of programmed runs.

    Parameters
    ----------
    runs : sequence of RetentionRun (or of ``(ProgrammedColumn, {name: t_R})`` pairs)
        The runs and their measured retention times (s).
    solutes : Solute, sequence of Solute or dict
        The solutes to fit (every one needs measured t_R in the runs); their parameters are the
        start values (``initial="solutes"``) and the values of the parameters not fitted; their
        ``phi0``, formula and diffusivity are kept.
    parameters : sequence of str
        Which of ``"T_char"``, ``"theta_char"``, ``"dCp"`` to fit (default all three).
    initial : {"solutes", "crude"}
        Start from the solutes' parameters, or from the elution temperature (module docstring).
    prior_sd : mapping, optional
        ``{parameter: standard deviation}`` of a Gaussian prior around the start values (K, K,
        J/mol/K), e.g. ``{"dCp": 30.0}`` to fit three parameters from two runs. Requires
        ``t_R_sd`` on the runs (the prior and the data must be on the same scale).
    rtol : float
        Relative tolerance of the retention integration, in [1e-12, 1e-6].
    max_nfev : int
        Solver iterations per solute (>= 1).
    workers, progress
        :func:`sciflow.parallel.map_tasks` engine over the solutes; tqdm bar.

    Returns
    -------
    RetentionFit
        A solute whose fit did not converge is flagged in ``converged`` (and an
        :class:`EstimationWarning` names it); its estimate is the solver's last iterate.

    Raises
    ------
    ValueError
        Bad arguments, a solute without measured t_R, or fewer data than fitted parameters
        for a solute (with no prior to make up for them).
    """
    start = _time.perf_counter()
    runs = _as_runs(runs)
    solutes = _as_solutes(solutes)
    if isinstance(parameters, str) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters must be a sequence of names from {list(PARAMETERS)}, got "
                        f"{parameters!r}")
    parameters = tuple(parameters)
    for p in parameters:
        check_choice("parameters", p, PARAMETERS)
    if not parameters or len(set(parameters)) != len(parameters):
        raise ValueError(f"parameters must name each of {list(PARAMETERS)} at most once and at "
                         f"least one, got {list(parameters)}")
    free = tuple(PARAMETERS.index(p) for p in PARAMETERS if p in parameters)
    parameters = tuple(PARAMETERS[k] for k in free)
    check_choice("initial", initial, ("solutes", "crude"))
    rtol = check_in_range("rtol", rtol, 1e-12, 1e-6)
    max_nfev = check_int("max_nfev", max_nfev, low=1)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    absolute = runs[0].t_R_sd is not None
    psd = None
    if prior_sd is not None:
        if not isinstance(prior_sd, Mapping):
            raise TypeError(f"prior_sd must be a mapping {{parameter: sd}}, got "
                            f"{type(prior_sd).__name__}")
        for k, v in prior_sd.items():
            check_choice("prior_sd key", k, PARAMETERS)
            if k not in parameters:
                raise ValueError(f"prior_sd names {k!r}, which is not fitted (parameters = "
                                 f"{list(parameters)})")
            v = check_nonnegative(f"prior_sd[{k!r}]", v)
            if v == 0.0:
                raise ValueError(f"prior_sd[{k!r}] must be > 0 (hold the parameter instead: "
                                 "leave it out of parameters)")
        if not absolute:
            raise ValueError("prior_sd needs t_R_sd on the runs: the prior and the retention "
                             "times must be weighted on the same scale")
        psd = np.array([float(prior_sd.get(PARAMETERS[k], math.inf)) for k in free])
    n_prior = 0 if psd is None else int(np.isfinite(psd).sum())

    tasks, meta = [], []
    for s in solutes:
        idx = [i for i, r in enumerate(runs) if math.isfinite(r.measured(s.name))]
        if not idx:
            raise ValueError(f"solutes: {s.name!r} has no measured retention time in any run")
        if len(idx) + n_prior < len(free):
            raise ValueError(
                f"solutes: {s.name!r} has {len(idx)} measured retention time(s) for "
                f"{len(free)} parameters {list(parameters)}; add runs, fit fewer parameters "
                "(e.g. parameters=('T_char', 'theta_char')) or give prior_sd")
        sub = [runs[i] for i in idx]
        tm = np.array([r.measured(s.name) for r in sub])
        sd = np.array([r.t_R_sd if absolute else 1.0 for r in sub])
        tasks.append((s, sub, tm, sd, free, psd, rtol, max_nfev, initial))
        meta.append(idx)
    outs = map_tasks(_prepare, tasks, workers=workers, progress=progress,
                     desc="retention parameters")

    n, p, nr = len(solutes), len(free), len(runs)
    est = np.empty((n, 3))
    se = np.full((n, 3), np.nan)
    cov = np.full((n, p, p), np.nan)
    meas = np.full((nr, n), np.nan)
    pred = np.full((nr, n), np.nan)
    conv = np.zeros(n, bool)
    atb = np.zeros(n, bool)
    cond = np.empty(n)
    ndata = np.empty(n, int)
    nfev = np.empty(n, int)
    msgs, new, init = [], {}, {}
    for j, (s, o, idx) in enumerate(zip(solutes, outs, meta, strict=True)):
        est[j] = o["x"]
        c = o["cov"]
        dof = o["n_data"] + n_prior - p
        if not absolute:
            c = c * (2.0 * o["cost"] / dof) if dof > 0 else np.full_like(c, np.nan)
        cov[j] = c
        se[j, list(free)] = np.sqrt(np.maximum(np.diag(c), 0.0)) if np.all(
            np.isfinite(c)) else np.nan
        for i, tp in zip(idx, o["predicted"], strict=True):
            meas[i, j] = runs[i].measured(s.name)
            pred[i, j] = tp
        conv[j], atb[j], cond[j] = o["success"], o["at_bound"], o["cond"]
        ndata[j], nfev[j] = o["n_data"], o["nfev"]
        msgs.append(o["message"])
        new[s.name] = _with_params(s, o["x"])
        init[s.name] = _with_params(s, o["x0"])
    if not np.all(conv):
        bad = [s.name for s, ok in zip(solutes, conv, strict=True) if not ok]
        warnings.warn(f"fit_retention_parameters: {bad} did not converge or ended on a "
                      "parameter bound; see RetentionFit.converged and .messages",
                      EstimationWarning, stacklevel=2)
    return RetentionFit(
        names=tuple(s.name for s in solutes), solutes=new, initial=init, parameters=parameters,
        estimates=est, stderr=se, covariance=cov, run_names=tuple(r.name for r in runs),
        measured=meas, predicted=pred, converged=conv, at_bound=atb, condition_number=cond,
        n_data=ndata, nfev=nfev, messages=tuple(msgs), wall_time=_time.perf_counter() - start,
        extra={"absolute_sigma": absolute, "n_prior": n_prior, "rtol": rtol})
