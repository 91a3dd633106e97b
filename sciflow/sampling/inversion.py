"""Inverting the samplers: data -> latent by the probability-flow ODE (DPM-Encoder).

:func:`encode` takes the same arguments as :func:`~sciflow.sampling.sample` and inverts it:
data at ``t_end`` -> latent at ``t_start`` (DPM-Encoder / CycleDiffusion, Wu & De la Torre
2023; exact inversion as in Hong et al. 2024, "On exact inversion of DPM-solvers").

* Plain mode (``exact=False``): the same time grid as ``sample`` (same NFE budget, spacing,
  per-interval orders), traversed from ``t_end`` up to ``t_start`` by the same scheme class.
  Every scheme is written in the log-SNR step ``h`` and is valid for ``h < 0``, so the
  forward step is the scheme's own step on the reversed grid (singlestep schemes use the
  orders of the mirrored intervals; multistep schemes warm up at the data end). The one
  change: a step with ``h = -inf`` (from ``sigma = 0`` or to ``alpha = 0``) is the exact
  first-order limit ``x' = alpha' x0_hat + sigma' eps_hat`` (``eps_hat = 0`` at
  ``sigma = 0``). The cycle ``sample(encode(x0))`` differs from ``x0`` by the solvers'
  error (order of the scheme).
* Exact mode (``exact=True``): the discrete sampler itself is inverted, so that
  ``sample(encode(x0, exact=True)) == x0`` to ``tol``. Singlestep schemes (``ddim``,
  ``dpm_solver_1/2/3``, ``heun``, ``euler``) are inverted step by step: with ``y = x_{i+1}``
  the sampler step ``Phi_i`` is solved for ``x_i`` by the fixed-point iteration
  ``x <- x + B_i(y) - B_i(Phi_i(x))`` started at ``B_i(y)``, where ``B_i`` is the plain
  encoder step of the same interval (an approximate inverse: the iteration contracts with
  the factor ``|I - B_i' Phi_i'|``, the size of the local error). Multistep schemes couple a
  step to the unknown earlier states through their history, so they are inverted as a whole:
  ``x_T <- x_T + E(x0) - E(S(x_T))`` (``E`` the plain encoder, ``S`` the sampler), which
  contracts with the cycle error. Each sample keeps its iterate of least residual. Where
  the iteration stalls (the largest residual not halved in two corrections; it does where
  the local error is large, e.g. NFE 20 on the 8-Gaussian mixture of std 0.1, whose sampler
  steps fold), the unconverged samples of dimension ``d <= newton_max_dim`` are finished by
  a per-sample damped Newton on ``Phi_i(x) - y`` (resp. ``S(x_T) - x0``) with a
  forward-difference Jacobian (``d + 1`` evaluations of the step, resp. of the whole
  sampler, per iteration) and a backtracking line search; a sample caught at a fold
  (singular Jacobian, line search failing) is restarted across it along the null direction.
  The iterations stop when the residual (``max |Phi_i(x) - y|``, resp. ``max |S(x_T) -
  x0|``) is ``<= tol``; otherwise ``ConvergenceError``.
  The evaluations are counted (``EncodeResult.nfe``; ``nfe_plain`` is the plain encoder's).

:func:`translate` encodes under one model and decodes under another (image-to-image
translation by a shared latent space, DDIB).

Stochastic (SDE) solvers have no ODE to invert and are refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import ConvergenceError
from .._validate import check_int, check_positive
from ._surface import check_progress, progress_iter
from .backend import as_float_array
from .schedules import Schedule
from .solvers import (
    SOLVERS,
    _check_steps,
    _Counted,
    _dedup,
    _Grid,
    _multistep_orders,
    _orders_for_grid,
    _ratio,
    _singlestep_orders_from_budget,
)

__all__ = ["encode", "EncodeResult", "translate"]


@dataclass(frozen=True)
class EncodeResult:
    """Output of :func:`encode` with ``return_info=True``.

    ``x`` the latent at ``t_start`` (array type of ``x_0``); ``times`` the grid from
    ``t_end`` up to ``t_start`` (increasing); ``trajectory`` the state at each time (plain
    mode and exact singlestep inversion; ``None`` for the global inversion of multistep
    schemes); ``orders`` the order of each forward step; ``nfe`` all model evaluations;
    ``nfe_plain`` those a plain encode costs; ``iterations`` corrections, fixed-point and
    Newton (per sampler step, data end first, or one entry for the global iteration);
    ``residual`` the final residual (0 in plain mode).
    """

    x: object
    times: np.ndarray
    trajectory: list | None
    orders: tuple
    nfe: int
    nfe_plain: int
    solver: str
    exact: bool = False
    iterations: tuple = ()
    residual: float = 0.0
    wall_time: float = 0.0

    def __post_init__(self):
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {self.solver!r}")
        times = np.asarray(self.times, dtype=float)
        if times.ndim != 1 or times.size < 1 or np.any(np.diff(times) < 0):
            raise ValueError("times must be a non-decreasing 1-D array (t_end up to t_start)")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "nfe", check_int("nfe", self.nfe, low=0))
        object.__setattr__(self, "nfe_plain", check_int("nfe_plain", self.nfe_plain, low=0))
        if self.nfe_plain > self.nfe:
            raise ValueError(f"nfe_plain must be <= nfe, got {self.nfe_plain} > {self.nfe}")
        if not isinstance(self.exact, bool | np.bool_):
            raise TypeError(f"exact must be a bool, got {self.exact!r}")
        r = float(self.residual)
        if not r >= 0.0:
            raise ValueError(f"residual must be >= 0, got {self.residual!r}")

    def plot(self, ax=None, n_paths=20, dim=0, **kwargs):
        """Coordinate ``dim`` of the first ``n_paths`` samples against time (data at the left,
        latent at the right); without a trajectory, the iterations per entry of
        :attr:`iterations`. ``kwargs`` go to ``Axes.plot``; returns the Axes."""
        from ._surface import new_axes, numpy_samples

        n_paths = check_int("n_paths", n_paths, low=1)
        ax = new_axes(ax)
        if self.trajectory is not None:
            traj = np.stack([numpy_samples(v) for v in self.trajectory])
            traj = traj.reshape(traj.shape[0], traj.shape[1] if traj.ndim > 1 else 1, -1)
            dim = check_int("dim", dim, low=0, high=traj.shape[2] - 1)
            m = min(n_paths, traj.shape[1])
            ax.plot(self.times, traj[:, :m, dim], **{"lw": 0.8, **kwargs})
            ax.set_xlabel("t")
            ax.set_ylabel(f"x[{dim}]")
        else:
            ax.plot(np.arange(len(self.iterations)), np.asarray(self.iterations, dtype=float),
                    **{"marker": "o", **kwargs})
            ax.set_xlabel("sampler step (data end first)")
            ax.set_ylabel("iterations")
        ax.set_title(f"encode ({self.solver}{', exact' if self.exact else ''}): "
                     f"NFE {self.nfe}")
        return ax

    def to_xarray(self):
        """``x`` the latent (sample, dim), ``trajectory`` (t, sample, dim) on the increasing
        times ``t`` when recorded, ``iterations`` per entry; the rest in attrs."""
        from ._surface import numpy_samples, plain_attrs, sample_dims, trajectory_vars, xarray

        xr = xarray()
        x = numpy_samples(self.x)
        traj, coords = trajectory_vars(self.trajectory, self.times)
        data = {"x": (sample_dims(x), x, {"long_name": "latent at t_start"}),
                "iterations": ("entry", np.asarray(self.iterations, dtype=int),
                               {"long_name": "corrections per sampler step"}), **traj}
        if self.trajectory is None:
            coords["t_grid"] = ("t_grid", self.times, {"long_name": "schedule time",
                                                       "units": "1"})
        return xr.Dataset(data, coords=coords, attrs=plain_attrs(
            solver=self.solver, exact=self.exact, nfe=self.nfe, nfe_plain=self.nfe_plain,
            orders=self.orders, residual=float(self.residual), wall_time=self.wall_time,
            wall_time_units="s"))


# ============================================================================ planning
def _plan(cls, schedule, nfe, t_start, t_end, steps, spacing, spacing_options,
          lower_order_final, solver):
    """The decreasing times and per-step orders ``sample`` uses (no denoise_to_zero)."""
    if steps is not None:
        if t_start is not None or t_end is not None:
            raise ValueError("give either steps or t_start/t_end, not both")
        times = _dedup(schedule, _check_steps(schedule, steps))
        if times.size < 2:
            raise ValueError("steps must contain at least two distinct noise levels")
        grid = _Grid(schedule, times)
        return times, _orders_for_grid(cls, grid, lower_order_final, nfe, False, solver)
    if nfe is None:
        raise ValueError("nfe is required unless steps is given")
    ts, te = schedule._endpoints(t_start, t_end)
    te_zero = float(schedule.sigma(te)) == 0.0
    inf_first = float(schedule.alpha(ts)) == 0.0
    planned = None
    if cls.singlestep and cls.order > 1:
        planned = _singlestep_orders_from_budget(nfe, cls.order, inf_first, te_zero,
                                                 lower_order_final)
        n_steps = len(planned)
    else:
        n_steps = nfe
    times = schedule.timesteps(n_steps, spacing if spacing is not None
                               else schedule.default_spacing(solver), ts, te,
                               **(spacing_options or {}))
    times = _dedup(schedule, times)
    grid = _Grid(schedule, times)
    if planned is not None and len(times) - 1 == len(planned):
        return times, list(planned)
    return times, _orders_for_grid(cls, grid, lower_order_final, None, False, solver)


def _forward_class(cls):
    """``cls`` with the h = -inf step of the forward (encoding) direction."""

    def _data_step1(self, i, x, x0):
        g = self.g
        if g.s[i] == 0.0:  # from the data end: E[eps | x0] = 0
            return _ratio(g.la[i + 1], g.la[i]) * x
        eps = (1.0 / g.s[i]) * (x - g.a[i] * x0)
        return g.a[i + 1] * x0 + g.s[i + 1] * eps

    return type(f"Forward{cls.__name__}", (cls,), {"_data_step1": _data_step1})


def _check_common(model, x_0, schedule, solver, options):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}")
    cls = SOLVERS[solver]
    if cls.stochastic:
        raise ValueError(f"solver {solver!r} is stochastic (an SDE): there is no ODE to "
                         "invert; use a deterministic solver")
    unknown = set(options) - set(cls.defaults)
    if unknown:
        raise TypeError(f"unexpected option(s) for solver {solver!r}: {sorted(unknown)}; "
                        f"allowed: {sorted(cls.defaults)}")
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(x, t, kind) method, got "
                        f"{type(model).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a sciflow.sampling schedule (VPSchedule, "
                        f"EDMSchedule, FlowSchedule, DiscreteSchedule), got "
                        f"{type(schedule).__name__}")
    m_sched = getattr(model, "schedule", None)
    if m_sched is not None and m_sched != schedule:
        raise ValueError(f"schedule {schedule!r} differs from the model's schedule {m_sched!r}")
    x, xp = as_float_array("x_0", x_0)
    shape = tuple(x.shape)
    if len(shape) == 0 or int(np.prod(shape)) == 0:
        raise ValueError(f"x_0 must be a non-empty array of shape (..., d), got shape {shape}")
    dim = getattr(model, "dim", None)
    if dim is not None and shape[-1] != dim:
        raise ValueError(f"x_0 must have shape (..., {dim}) to match the model dimension, "
                         f"got {shape}")
    return cls, x, xp


class _Anderson:
    """Per-sample Anderson acceleration (type II, depth m) of ``z <- z + g(z)``.

    The differences of the last ``m`` iterates and corrections are kept per sample (last
    axis = the sample's coordinates); the mixing coefficients solve a small least-squares
    problem per sample (float64 NumPy, so NumPy and torch inputs take identical steps).
    """

    def __init__(self, depth):
        self.m = depth
        self.dz, self.dg = [], []
        self.prev = None

    def update(self, xp, z, g):
        zn = np.asarray(xp.to_numpy(z), dtype=float)
        gn = np.asarray(xp.to_numpy(g), dtype=float)
        if self.prev is not None and self.m > 0:
            pz, pg = self.prev
            self.dz = (self.dz + [zn - pz])[-self.m:]
            self.dg = (self.dg + [gn - pg])[-self.m:]
        self.prev = (zn, gn)
        if not self.dz:
            return z + g
        dz = np.stack(self.dz, axis=-1)  # (..., d, k)
        dg = np.stack(self.dg, axis=-1)
        a = np.swapaxes(dg, -1, -2) @ dg  # (..., k, k)
        rhs = np.swapaxes(dg, -1, -2) @ gn[..., None]
        scale = np.trace(a, axis1=-2, axis2=-1)[..., None, None]
        reg = 1e-12 * np.where(scale > 0, scale, 1.0) * np.eye(a.shape[-1]) + \
            np.where(scale > 0, 0.0, 1.0) * np.eye(a.shape[-1])
        gamma = np.linalg.solve(a + reg, rhs)  # (..., k, 1)
        step = gn - ((dz + dg) @ gamma)[..., 0]
        return xp.from_numpy(zn + step, like=z)


def _max_abs(xp, a):
    return float(np.max(np.abs(np.asarray(xp.to_numpy(a), dtype=float))))


def _keep_best(best_z, best_f, best_res, zn, fn, yn):
    """Per sample (row), keep the iterate with the lowest residual max |f - y| so far; returns
    the updated (best_z, best_f, best_res) and this iterate's residuals (``best_*`` None at
    the first call)."""
    res_s = np.max(np.abs(fn - yn), axis=1)
    if best_res is None:
        return zn.copy(), fn.copy(), res_s, res_s
    better = res_s < best_res
    best_z[better], best_f[better] = zn[better], fn[better]
    return best_z, best_f, np.where(better, res_s, best_res), res_s


def _rows(xp, a, d):
    """``a`` as a float64 NumPy array of rows (one sample a row, shape ``(M, d)``)."""
    return np.asarray(xp.to_numpy(a), dtype=float).reshape(-1, d)


def _newton(phi, y, z, fz, tol, n_iter, eps, max_halvings=20, restarts=2):
    """Per-sample damped Newton on ``F(z) = phi(z) - y`` with a forward-difference Jacobian.

    ``y``, ``z``, ``fz = phi(z)``: float64 arrays of shape ``(M, d)`` (a sample a row);
    ``z`` and ``fz`` are updated in place and hold on return each sample's iterate of least
    residual (``max |F|``). ``phi`` maps an ``(m, d)`` array of any subset of the samples to
    their images (one batched evaluation; the samples are independent). Only the samples
    with ``max |F| > tol`` are iterated. An iteration costs ``d`` evaluations for the Jacobian
    (steps ``sqrt(eps) max(1, |z_c|)``) and one per trial of the backtracking line search
    (Armijo on ``|F|_2``, the step halved up to ``max_halvings`` times), so ``|F|`` never
    grows within a Newton run. A sample whose line search fails sits at a stationary point of
    ``|F|`` (a fold of ``phi``, where the Jacobian is singular and ``F`` lies along the left
    singular vector ``u`` of the small singular value): it is restarted (at most ``restarts``
    times) on the line through it along the right singular vector ``v``, at the nearest sign
    change of ``u . F`` (geometric scan out to ``2 max(1, |z|)`` either side, then bisection;
    about 30 evaluations); without a sign change it stays where it is. Returns the number of
    iterations done (a restart counts as one).
    """
    d = z.shape[1]
    h_rel = math.sqrt(eps)
    res_of = lambda f_, y_: np.max(np.abs(f_ - y_), axis=1)  # noqa: E731
    best_z, best_f, best_res = z.copy(), fz.copy(), res_of(fz, y)
    stuck = np.zeros(z.shape[0], dtype=bool)
    n_restart = np.zeros(z.shape[0], dtype=int)
    k = 0
    while k < n_iter:
        res = res_of(fz, y)
        idx = np.flatnonzero((res > tol) & ~stuck)
        if idx.size == 0:
            break
        k += 1
        za, fa, ya = z[idx], fz[idx], y[idx]
        ra = fa - ya
        jac = np.empty((idx.size, d, d))
        for c in range(d):
            zc = za.copy()
            zc[:, c] += h_rel * np.maximum(1.0, np.abs(za[:, c]))
            hc = zc[:, c] - za[:, c]
            jac[:, :, c] = (phi(zc) - fa) / hc[:, None]
        try:
            p = -np.linalg.solve(jac, ra[..., None])[..., 0]
        except np.linalg.LinAlgError:
            p = -(np.linalg.pinv(jac) @ ra[..., None])[..., 0]
        p = np.where(np.isfinite(p), p, 0.0)
        norm0 = np.linalg.norm(ra, axis=1)
        alpha = np.ones(idx.size)
        pend = np.arange(idx.size)
        for _ in range(max_halvings + 1):
            zt = za[pend] + alpha[pend, None] * p[pend]
            ft = phi(zt)
            rt = ft - ya[pend]
            nt = np.linalg.norm(rt, axis=1)
            ok = (nt <= (1.0 - 1e-4 * alpha[pend]) * norm0[pend]) | \
                (np.max(np.abs(rt), axis=1) <= tol)
            acc = pend[ok]
            z[idx[acc]], fz[idx[acc]] = zt[ok], ft[ok]
            pend = pend[~ok]
            if pend.size == 0:
                break
            alpha[pend] *= 0.5
        res = res_of(fz, y)
        better = res < best_res
        best_z[better], best_f[better], best_res[better] = z[better], fz[better], res[better]
        if pend.size == 0:
            continue
        # stuck at a fold: restart at the nearest sign change of u . F along v
        can = n_restart[idx[pend]] < restarts
        stuck[idx[pend[~can]]] = True
        pend = pend[can]
        if pend.size == 0:
            continue
        sel = idx[pend]
        n_restart[sel] += 1
        uu, _, vt = np.linalg.svd(jac[pend])
        u, v = uu[:, :, -1], vt[:, -1, :]
        z0, y0 = za[pend], ya[pend]
        g0 = np.sign(np.einsum("md,md->m", u, ra[pend]))
        scale = np.maximum(1.0, np.max(np.abs(z0), axis=1))
        lo = np.zeros(sel.size)
        hi = np.full(sel.size, np.nan)
        for n_s, s in enumerate(scale[None, :] * np.ldexp(1.0, np.arange(-7, 2))[:, None]):
            for sgn in (1.0, -1.0):
                open_ = np.isnan(hi)
                if not open_.any():
                    break
                st = sgn * s[open_]
                gt = np.einsum("md,md->m", u[open_], phi(z0[open_] + st[:, None] * v[open_])
                               - y0[open_])
                hit = np.sign(gt) != g0[open_]
                w = np.flatnonzero(open_)
                hi[w[hit]] = st[hit]
                lo[w[hit]] = 0.5 * st[hit] if n_s else 0.0
        found = ~np.isnan(hi)
        stuck[sel[~found]] = True
        if not found.any():
            continue
        sel, z0, y0, u, v, g0 = sel[found], z0[found], y0[found], u[found], v[found], g0[found]
        lo, hi = lo[found], hi[found]
        for _ in range(12):  # bisection of the bracket [lo, hi] (g has sign g0 at lo)
            mid = 0.5 * (lo + hi)
            gm = np.einsum("md,md->m", u, phi(z0 + mid[:, None] * v) - y0)
            same = np.sign(gm) == g0
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        zs = z0 + hi[:, None] * v
        z[sel], fz[sel] = zs, phi(zs)
        res = res_of(fz, y)
        better = res < best_res
        best_z[better], best_f[better], best_res[better] = z[better], fz[better], res[better]
    z[:], fz[:] = best_z, best_f
    return k


# ============================================================================ encode
def encode(model, x_0, schedule, *, solver, nfe=None, t_start=None, t_end=None, steps=None,
           spacing=None, spacing_options=None, lower_order_final=True, exact=False, tol=None,
           max_iter=50, newton_max_dim=16, return_info=False, progress=False, **options):
    """Run the probability-flow ODE forward: data ``x_0`` at ``t_end`` -> latent at ``t_start``.

    The arguments are those of :func:`~sciflow.sampling.sample` (which this inverts; no
    ``denoise_to_zero``, no SDE solvers); see the module docstring for the two modes.

    Parameters
    ----------
    model, schedule, solver, nfe, t_start, t_end, steps, spacing, spacing_options,
    lower_order_final, **options
        As for :func:`~sciflow.sampling.sample` (``steps`` are given decreasing, as there).
    x_0 : NumPy array or torch tensor, float32/float64, shape (..., d)
        Data (the state at ``t_end``). The latent has the same type, dtype and device.
    exact : bool
        Invert the discrete sampler (``sample(encode(x0, exact=True)) == x0`` to ``tol``).
    tol : float, optional
        Residual tolerance (max abs) of the exact inversion; default ``1e-11`` for float64,
        ``1e-5`` for float32.
    max_iter : int
        Corrections (fixed-point and Newton iterations) allowed per step (global: in all).
    newton_max_dim : int
        Samples of dimension ``d <= newton_max_dim`` whose fixed-point iteration stalls are
        finished by per-sample Newton with a finite-difference Jacobian (each iteration
        ``d + 1`` batched evaluations of the sampler step, resp. ``d + 1`` samplings for
        multistep schemes, plus line-search trials). ``0`` disables it.
    return_info : bool
        Return an :class:`EncodeResult`.
    progress : bool
        tqdm bar over the steps (exact multistep inversion: over the iterations); default off.

    Raises
    ------
    ConvergenceError
        ``exact=True`` and the residual stayed above ``tol`` after ``max_iter`` corrections
        (``.result`` holds the partial :class:`EncodeResult`).
    NonFiniteError
        The model returned NaN/inf.
    """
    cls, x, xp = _check_common(model, x_0, schedule, solver, options)
    for name, flag in (("lower_order_final", lower_order_final), ("exact", exact),
                       ("return_info", return_info)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    progress = check_progress(progress)
    if spacing_options is not None and not isinstance(spacing_options, dict):
        raise TypeError(f"spacing_options must be a dict, got {type(spacing_options).__name__}")
    if nfe is not None:
        nfe = check_int("nfe", nfe, low=1)
    max_iter = check_int("max_iter", max_iter, low=1)
    newton_max_dim = check_int("newton_max_dim", newton_max_dim, low=0)
    if tol is None:
        tol = 1e-11 if xp.dtype_name(x) == "float64" else 1e-5
    tol = check_positive("tol", tol)
    if not isinstance(schedule, Schedule):  # pragma: no cover - checked above
        raise TypeError("schedule")
    times, orders = _plan(cls, schedule, nfe, t_start, t_end, steps, spacing, spacing_options,
                          bool(lower_order_final), solver)
    opts = {**cls.defaults, **options}
    t0 = time.perf_counter()
    f = _Counted(model, xp)
    if not exact:
        z, traj, fwd_orders = _plain(cls, f, schedule, times, orders, opts, xp, x,
                                     bool(return_info), lower_order_final, progress=progress)
        res = EncodeResult(x=z, times=np.asarray(times[::-1], dtype=float), trajectory=traj,
                           orders=tuple(fwd_orders), nfe=f.nfe, nfe_plain=f.nfe,
                           solver=solver, exact=False, wall_time=time.perf_counter() - t0)
        return res if return_info else z
    if cls.singlestep or cls.order == 1:
        res = _exact_stepwise(cls, f, schedule, times, orders, opts, xp, x, tol, max_iter,
                              solver, t0, newton_max_dim, progress=progress)
    else:
        res = _exact_global(cls, f, model, schedule, times, orders, opts, xp, x, tol,
                            max_iter, solver, lower_order_final, t0, newton_max_dim,
                            progress=progress)
    return res if return_info else res.x


def _forward_scheme(cls, f, schedule, times, orders, opts, xp, lower_order_final):
    rev = np.asarray(times[::-1], dtype=float)
    grid = _Grid(schedule, rev)
    if cls.singlestep and cls.order > 1:
        fwd_orders = [1 if grid.infinite_step(j) else o for j, o in enumerate(orders[::-1])]
    else:
        fwd_orders = _multistep_orders(grid, cls.order, bool(lower_order_final))
    return _forward_class(cls)(f, grid, fwd_orders, opts, None, xp), fwd_orders


def _plain(cls, f, schedule, times, orders, opts, xp, x, keep, lower_order_final, *,
           progress=False):
    scheme, fwd_orders = _forward_scheme(cls, f, schedule, times, orders, opts, xp,
                                         lower_order_final)
    traj = [x] if keep else None
    f.n_steps = len(fwd_orders)
    for j in progress_iter(range(len(fwd_orders)), progress, f"encode ({cls.__name__})"):
        f.step = j
        x_j, x = scheme.step(j, x)
        if traj is not None:
            traj[-1] = x_j
            traj.append(x)
    return x, traj, fwd_orders


def _exact_stepwise(cls, f, schedule, times, orders, opts, xp, x, tol, max_iter, solver, t0,
                    newton_max_dim, depth=3, newton_only=False, progress=False):
    """Singlestep schemes: each sampler step solved for its start given its end."""
    n = len(orders)
    fwd, fwd_orders = _forward_scheme(cls, f, schedule, times, orders, opts, xp, True)
    samp = cls(f, _Grid(schedule, np.asarray(times, dtype=float)), list(orders), opts, None, xp)
    nfe_plain = sum(fwd_orders) if cls.singlestep else n
    shape, d = tuple(x.shape), int(x.shape[-1])
    use_newton = d <= newton_max_dim
    eps = float(np.finfo(np.float32 if xp.dtype_name(x) == "float32" else np.float64).eps)
    traj = [x]
    iters = []
    f.n_steps = n
    worst = 0.0
    for i in progress_iter(reversed(range(n)), progress, "exact encode", total=n):
        j = n - 1 - i
        y = x
        f.step = j
        b_y = fwd.step(j, y)[1]
        z = b_y
        acc = _Anderson(depth)
        yn = _rows(xp, y, d)
        best_z = best_f = best_res = None
        hist = []
        for k in range(max_iter + 1):
            f.step = i
            phi_z = samp.step(i, z)[1]
            zn, fn = _rows(xp, z, d), _rows(xp, phi_z, d)
            best_z, best_f, best_res, res_s = _keep_best(best_z, best_f, best_res, zn, fn, yn)
            res = float(np.max(best_res))
            hist.append(float(np.max(res_s)))
            if res <= tol or k == max_iter:
                break
            if use_newton and (newton_only or (k >= 2 and not hist[-1] <= 0.5 * hist[-3])):
                break  # the fixed-point iteration stalls: Newton from the best iterates
            f.step = j
            g = b_y - fwd.step(j, y + (phi_z - y))[1]  # ~ -B'(y) r: preconditioned correction
            z = acc.update(xp, z, g)
        if res > tol and use_newton and k < max_iter:
            f.step = i

            def phi(zr, i=i, like=x):
                return _rows(xp, samp.step(i, xp.from_numpy(zr, like=like))[1], d)

            k += _newton(phi, yn, best_z, best_f, tol, max_iter - k, eps)
            best_res = np.max(np.abs(best_f - yn), axis=1)
            res = float(np.max(best_res))
        z = xp.from_numpy(best_z.reshape(shape), like=x)
        if res > tol:
            partial = EncodeResult(
                x=z, times=np.asarray(times[::-1], dtype=float), trajectory=traj + [z],
                orders=tuple(fwd_orders), nfe=f.nfe, nfe_plain=nfe_plain, solver=solver,
                exact=True, iterations=tuple(iters + [k]), residual=res,
                wall_time=time.perf_counter() - t0)
            raise ConvergenceError(
                f"exact inversion of {solver!r}: sampler step {i} (t = {times[i]:.6g} -> "
                f"{times[i + 1]:.6g}) kept a residual {res:.3g} > tol = {tol:.3g} after "
                f"max_iter = {max_iter} corrections ({int(np.sum(best_res > tol))} of "
                f"{best_res.size} samples unconverged)", result=partial)
        iters.append(k)
        worst = max(worst, res)
        x = z
        traj.append(x)
    return EncodeResult(x=x, times=np.asarray(times[::-1], dtype=float), trajectory=traj,
                        orders=tuple(fwd_orders), nfe=f.nfe, nfe_plain=nfe_plain,
                        solver=solver, exact=True, iterations=tuple(iters), residual=worst,
                        wall_time=time.perf_counter() - t0)


def _exact_global(cls, f, model, schedule, times, orders, opts, xp, x0, tol, max_iter, solver,
                  lower_order_final, t0, newton_max_dim, newton_only=False, progress=False):
    """Multistep schemes: Newton-like iteration on the latent with the plain encoder as the
    approximate inverse of the whole sampler; where it stalls, per-sample Newton on the latent
    with a finite-difference Jacobian of the whole sampler."""
    from .solvers import sample

    def enc(x):
        z, _, fo = _plain(cls, f, schedule, times, orders, opts, xp, x, False,
                          lower_order_final)
        return z, fo

    steps = np.asarray(times, dtype=float)
    extra = 0

    def run(z):
        nonlocal extra
        out = sample(model, z, schedule, solver=solver, steps=steps,
                     lower_order_final=bool(lower_order_final), return_info=True, **opts)
        extra += out.nfe
        return out.x

    shape, d = tuple(x0.shape), int(x0.shape[-1])
    use_newton = d <= newton_max_dim
    eps = float(np.finfo(np.float32 if xp.dtype_name(x0) == "float32" else np.float64).eps)
    e0, fwd_orders = enc(x0)
    nfe_plain = f.nfe
    yn = _rows(xp, x0, d)
    z = e0
    best_z = best_f = best_res = None
    hist = []
    res = math.inf
    for k in progress_iter(range(max_iter + 1), progress, "exact encode (iterations)"):
        sz = run(z)
        zn, fn = _rows(xp, z, d), _rows(xp, sz, d)
        best_z, best_f, best_res, res_s = _keep_best(best_z, best_f, best_res, zn, fn, yn)
        res = float(np.max(best_res))
        hist.append(float(np.max(res_s)))
        iters = k
        if res <= tol or k == max_iter:
            break
        if use_newton and (newton_only or (k >= 2 and not hist[-1] <= 0.5 * hist[-3])):
            break
        ez, _ = enc(sz)
        z = z - (ez - e0)
    if res > tol and use_newton and iters < max_iter:

        def phi(zr):
            return _rows(xp, run(xp.from_numpy(zr, like=x0)), d)

        iters += _newton(phi, yn, best_z, best_f, tol, max_iter - iters, eps)
        best_res = np.max(np.abs(best_f - yn), axis=1)
        res = float(np.max(best_res))
    z = xp.from_numpy(best_z.reshape(shape), like=x0)
    if res > tol:
        partial = EncodeResult(x=z, times=steps[::-1], trajectory=None,
                               orders=tuple(fwd_orders), nfe=f.nfe + extra,
                               nfe_plain=nfe_plain, solver=solver, exact=True,
                               iterations=(iters,), residual=res,
                               wall_time=time.perf_counter() - t0)
        raise ConvergenceError(
            f"exact inversion of {solver!r}: the cycle residual {res:.3g} stayed > tol = "
            f"{tol:.3g} after max_iter = {max_iter} corrections ({int(np.sum(best_res > tol))} "
            f"of {best_res.size} samples unconverged)", result=partial)
    return EncodeResult(x=z, times=steps[::-1], trajectory=None, orders=tuple(fwd_orders),
                        nfe=f.nfe + extra, nfe_plain=nfe_plain, solver=solver, exact=True,
                        iterations=(iters,), residual=res, wall_time=time.perf_counter() - t0)


# ============================================================================ translate
def translate(model_from, model_to, x, schedule, *, solver, nfe=None, exact=False,
              return_info=False, **kwargs):
    """Encode ``x`` under ``model_from`` and decode the latent under ``model_to`` (same
    schedule, solver and grid): DDIB-style translation through the shared latent space.

    ``kwargs`` go to both :func:`encode` and :func:`~sciflow.sampling.sample` (``t_start``,
    ``t_end``, ``steps``, ``spacing``, scheme options...). Returns the translated samples, or
    with ``return_info=True`` the pair ``(EncodeResult, SampleResult)``.
    """
    from .solvers import sample

    if not isinstance(return_info, bool | np.bool_):
        raise TypeError(f"return_info must be a bool, got {return_info!r}")
    if not callable(getattr(model_to, "predict", None)):
        raise TypeError(f"model_to must have a predict(x, t, kind) method, got "
                        f"{type(model_to).__name__}")
    enc_only = {k: kwargs.pop(k) for k in ("tol", "max_iter", "newton_max_dim")
                if k in kwargs}
    e = encode(model_from, x, schedule, solver=solver, nfe=nfe, exact=exact, return_info=True,
               **enc_only, **kwargs)
    s = sample(model_to, e.x, schedule, solver=solver, nfe=nfe, return_info=True, **kwargs)
    return (e, s) if return_info else s.x
