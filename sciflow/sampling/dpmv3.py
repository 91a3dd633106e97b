"""Empirical model statistics (EMS) for DPM-Solver-v3 (Zheng, Lu, Bao, Zhu, NeurIPS 2023,
arXiv:2310.13268).

DPM-Solver-v3 writes the probability-flow ODE in the log-SNR ``lambda`` with the noise term
``N = sigma eps_hat = x - alpha x0_hat`` split by three per-dimension functions of ``lambda``
(the EMS, vectors of the data dimension ``d``):

* ``l`` — the linear part: ``l = E[diag grad_x N(x_lambda)]`` (minimises
  ``E ||grad_x N - diag(l)||_F^2``), so that ``f = (N - l x)/alpha`` is as little dependent on
  ``x`` as possible; the ODE becomes ``d(x/alpha)/dlambda = -l x/alpha - f``.
* ``s, b`` — the least-squares fit ``f' ~ s f + b`` of the total ``lambda``-derivative ``f'``
  of ``f`` along the ODE; the solver then extrapolates
  ``g = e^{-int_{lambda_s}^lambda s} f - int_{lambda_s}^lambda e^{-int_{lambda_s}^r s} b dr``,
  which changes least along the trajectory.

The expectations are over the noised data ``x_lambda = alpha x0 + sigma eps``, ``x0`` from
``x_data`` and one Gaussian ``eps`` per sample (the same draws at every ``lambda`` node, so the
statistics are smooth in ``lambda``); they are computed from the model's x0 predictions only
(any model with ``predict(x, t, kind)``): the Jacobian diagonal by central differences along
the ``d`` coordinate axes (``2 d`` evaluations per node), the derivative along the ODE by a
central (at the ends of the schedule's domain: one-sided, second-order) difference along the
ODE's tangent (2 evaluations per node); ``l'`` by second-order differences over the node grid.

In the variables ``z = x/alpha`` every statistic depends on ``lambda`` only, not on the
schedule: an :class:`EmpiricalModelStatistics` computed under one schedule can be used with any
other (values outside its ``lambda`` range are extended as constants).

Between nodes ``l, s, b`` are linear in ``lambda``; the integrals of the update (``L = int l``,
``S = int s``, ``B = int e^{-S} b``, ``I = int e^{L+S}``, ``C = int e^{L+S} B``, on the node grid
as in the official code) are precomputed by the trapezoidal rule; :meth:`step_coefficients`
gives those of an arbitrary step ``lambda_s -> lambda_t`` (sub-grid of width
<= ``min(0.02, h/32)`` in which the nodes are knots, trapezoidal rule and one Richardson
extrapolation: about ``1e-9`` relative accuracy for the interpolated statistics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_rng, check_array, check_int, check_positive
from .backend import as_float_array, to_numpy

__all__ = ["EmpiricalModelStatistics", "empirical_model_statistics"]

_SUB_WIDTH = 0.02  # largest sub-interval of the step quadrature (halved once for Richardson)


def _cumtrapz(y, u):
    """Cumulative trapezoid of y (m, ...) over the (signed) grid u (m,), starting at 0."""
    du = np.diff(u).reshape((-1,) + (1,) * (y.ndim - 1))
    out = np.zeros_like(y)
    out[1:] = np.cumsum(0.5 * du * (y[1:] + y[:-1]), axis=0)
    return out


@dataclass(frozen=True, eq=False)
class EmpiricalModelStatistics:
    """The EMS of DPM-Solver-v3 on a ``lambda`` grid (see the module docstring).

    Parameters
    ----------
    lam : (n + 1,) array
        Strictly increasing, finite log-SNR nodes (``lambda = log(alpha/sigma)``).
    l, s, b : (n + 1, d) arrays
        The statistics at the nodes (finite).
    n_samples : int
        Number of data samples they were estimated with (0: not estimated).

    Notes
    -----
    Attributes ``L, S, B, I, C`` ((n + 1, d), zero at ``lam[0]``) are the cumulative trapezoid
    integrals ``int l``, ``int s``, ``int e^{-S} b``, ``int e^{L+S}``, ``int e^{L+S} B`` over
    the nodes (the official implementation's precomputed quantities).
    """

    lam: np.ndarray
    l: np.ndarray  # noqa: E741 - the paper's name
    s: np.ndarray
    b: np.ndarray
    n_samples: int = 0
    L: np.ndarray = field(init=False, repr=False)
    S: np.ndarray = field(init=False, repr=False)
    B: np.ndarray = field(init=False, repr=False)
    I: np.ndarray = field(init=False, repr=False)  # noqa: E741
    C: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        lam = check_array("lam", self.lam, ndim=1, min_size=2)
        if np.any(np.diff(lam) <= 0):
            raise ValueError("lam must be strictly increasing")
        arrs = {}
        for name in ("l", "s", "b"):
            a = check_array(name, getattr(self, name))
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2 or a.shape[0] != lam.size or a.shape[1] < 1:
                raise ValueError(f"{name} must have shape (len(lam), d) = ({lam.size}, d), "
                                 f"got {a.shape}")
            arrs[name] = a
        if len({a.shape for a in arrs.values()}) != 1:
            raise ValueError(f"l, s and b must have the same shape, got "
                             f"{[a.shape for a in arrs.values()]}")
        object.__setattr__(self, "n_samples", check_int("n_samples", self.n_samples, low=0))
        u = lam
        L = _cumtrapz(arrs["l"], u)
        S = _cumtrapz(arrs["s"], u)
        with np.errstate(over="ignore"):
            B = _cumtrapz(np.exp(-S) * arrs["b"], u)
            Ii = _cumtrapz(np.exp(L + S), u)
            C = _cumtrapz(np.exp(L + S) * B, u)
        for name, val in (("lam", lam), *arrs.items(), ("L", L), ("S", S), ("B", B),
                          ("I", Ii), ("C", C)):
            val = np.array(val, dtype=float)
            val.setflags(write=False)
            object.__setattr__(self, name, val)

    @property
    def dim(self) -> int:
        """The data dimension d."""
        return int(self.l.shape[1])

    @property
    def lambda_range(self):
        """(lambda_min, lambda_max) of the nodes."""
        return float(self.lam[0]), float(self.lam[-1])

    def plot(self, ax=None, dim=0, **kwargs):
        """``l``, ``s`` and ``b`` of coordinate ``dim`` against ``lambda`` (``kwargs`` to
        ``Axes.plot``); returns the Axes."""
        from ._surface import new_axes

        dim = check_int("dim", dim, low=0, high=self.dim - 1)
        ax = new_axes(ax)
        for name in ("l", "s", "b"):
            ax.plot(self.lam, getattr(self, name)[:, dim], **{"label": name, **kwargs})
        ax.set_xlabel("lambda = log(alpha / sigma)")
        ax.set_ylabel(f"statistic, coordinate {dim}")
        ax.legend()
        return ax

    def to_xarray(self):
        """``l, s, b`` and their integrals ``L, S, B, I, C`` on (lam, dim); ``n_samples`` in
        attrs."""
        from ._surface import xarray

        xr = xarray()
        names = ("l", "s", "b", "L", "S", "B", "I", "C")
        return xr.Dataset(
            {name: (("lam", "dim"), getattr(self, name)) for name in names},
            coords={"lam": ("lam", self.lam, {"long_name": "log-SNR log(alpha/sigma)",
                                               "units": "1"}),
                    "dim": np.arange(self.dim)},
            attrs={"n_samples": self.n_samples})

    def at(self, lam):
        """``(l, s, b)`` at one log-SNR ``lam`` (each shape (d,)): linear between the nodes,
        constant beyond them."""
        lam = self._check_lambda("lam", lam)
        return tuple(self._interp(np.array([lam]), a)[0] for a in (self.l, self.s, self.b))

    def _check_lambda(self, name, lam):
        if isinstance(lam, bool) or not isinstance(lam, int | float | np.floating | np.integer):
            raise TypeError(f"{name} must be a real number, got {type(lam).__name__} {lam!r}")
        lam = float(lam)
        if not math.isfinite(lam):
            raise ValueError(f"{name} must be finite, got {lam}")
        return lam

    def _interp(self, u, a):
        return np.stack([np.interp(u, self.lam, a[:, k]) for k in range(a.shape[1])], axis=1)

    def _sub_grid(self, lo, hi, refine):
        knots = np.concatenate([[lo], self.lam[(self.lam > lo) & (self.lam < hi)], [hi]])
        widths = np.diff(knots)
        width = min(_SUB_WIDTH, (hi - lo) / 32.0)  # short steps: still >= 32 sub-intervals
        m = refine * np.maximum(1, np.ceil(widths / width - 1e-9).astype(int))
        starts = np.repeat(knots[:-1], m)
        frac = np.concatenate([np.arange(k) / k for k in m])
        return np.append(starts + frac * np.repeat(widths, m), hi)

    def _integrals(self, lam_a, lam_b, n_terms, refine):
        u = self._sub_grid(min(lam_a, lam_b), max(lam_a, lam_b), refine)
        if lam_b < lam_a:
            u = u[::-1]
        lv, sv, bv = (self._interp(u, a) for a in (self.l, self.s, self.b))
        ell = _cumtrapz(lv, u)
        sig = _cumtrapz(sv, u)
        beta = _cumtrapz(np.exp(-sig) * bv, u)
        w = np.exp(ell + sig - ell[-1])
        v = (u - lam_a)[:, None]
        A = [_cumtrapz(w * v**k / math.factorial(k), u)[-1] for k in range(n_terms)]
        cb = _cumtrapz(w * beta, u)[-1]
        return np.stack([np.exp(-ell[-1]), np.exp(-sig[-1]), beta[-1], cb, *A])

    def step_coefficients(self, lam_s, lam_t, n_terms=1):
        """Coefficients of the step ``lam_s -> lam_t`` (either direction), arrays of shape (d,):
        ``e^{-(L_t - L_s)}``, ``e^{-(S_t - S_s)}``, ``int_s^t e^{-(S_r - S_s)} b_r dr``,
        ``e^{-(L_t - L_s)} int_s^t e^{(L+S)_u - (L+S)_s} int_s^u e^{-(S_r - S_s)} b_r dr du``
        and ``A_k = e^{-(L_t - L_s)} int_s^t e^{(L+S)_u - (L+S)_s} (u - lam_s)^k / k! du`` for
        ``k < n_terms``, returned as a dict with keys ``"exp_L", "exp_S", "B", "C", "A"``.

        The update of DPM-Solver-v3 from ``x_s`` with ``g(u) = sum_k g^(k) (u - lam_s)^k/k!`` is
        ``x_t = (alpha_t/alpha_s) exp_L x_s - alpha_t (sum_k A_k g^(k) + C)``.
        """
        lam_s = self._check_lambda("lam_s", lam_s)
        lam_t = self._check_lambda("lam_t", lam_t)
        n_terms = check_int("n_terms", n_terms, low=1)
        if lam_s == lam_t:
            one, zero = np.ones(self.dim), np.zeros(self.dim)
            return {"exp_L": one, "exp_S": one, "B": zero, "C": zero,
                    "A": np.zeros((n_terms, self.dim))}
        coarse = self._integrals(lam_s, lam_t, n_terms, 1)
        fine = self._integrals(lam_s, lam_t, n_terms, 2)
        r = (4.0 * fine - coarse) / 3.0
        return {"exp_L": r[0], "exp_S": r[1], "B": r[2], "C": r[3], "A": r[4:]}

    def __repr__(self):
        lo, hi = self.lambda_range
        return (f"EmpiricalModelStatistics(d={self.dim}, nodes={self.lam.size}, "
                f"lambda=[{lo:.4g}, {hi:.4g}], n_samples={self.n_samples})")


def _moments(f, z, r):
    """Per dimension: E f, E z, E r, Var f, Cov(z, f), Cov(r, f), E f^2 (shape (d, 7))."""
    fc = f - f.mean(axis=0)
    return np.stack([f.mean(axis=0), z.mean(axis=0), r.mean(axis=0), (fc * fc).mean(axis=0),
                     ((z - z.mean(axis=0)) * fc).mean(axis=0),
                     ((r - r.mean(axis=0)) * fc).mean(axis=0), (f * f).mean(axis=0)], axis=1)


def _finite_end(schedule, t, end):
    """t, or the schedule's finite surrogate where lambda(t) is infinite."""
    if math.isfinite(float(schedule.lambda_(t))):
        return float(t)
    return float(schedule.t_max_finite if end == "start" else schedule.t_eps)


def empirical_model_statistics(model, schedule, x_data, *, n_lambda=200, t_start=None,
                               t_end=None, rng=None, fd_step=1e-4, s_max=4.0,
                               progress=False):
    """The EMS of DPM-Solver-v3 estimated from ``model`` on noised samples of ``x_data``.

    Parameters
    ----------
    model
        Anything with ``predict(x, t, kind="x0")`` (e.g. ``GaussianMixture.bind(schedule)``);
        if it has ``schedule`` it must equal ``schedule``, if it has ``dim`` it must match.
    schedule : VPSchedule, EDMSchedule or FlowSchedule
        Gives the times of the ``lambda`` nodes (the statistics themselves are functions of
        ``lambda`` only and can be used with any schedule).
    x_data : (n, d) array (NumPy or torch)
        Data samples (for an analytic mixture: ``mixture.sample(n, rng)``); the model is
        evaluated on batches of this array type and dtype.
    n_lambda : int
        Number of intervals of the uniform ``lambda`` grid (``n_lambda + 1`` nodes).
    t_start, t_end : float, optional
        The range (default the schedule's); an end with infinite ``lambda`` (``alpha = 0`` or
        ``sigma = 0``) is replaced by ``t_max_finite`` / ``t_eps``.
    rng : numpy Generator or seed
        For the noise ``eps`` (one draw per sample, shared by all nodes).
    fd_step : float
        Relative step of the finite differences (in units of the marginal standard deviation
        for the Jacobian, of ``lambda`` along the ODE).
    s_max : float
        ``s`` is clipped to ``[-s_max, s_max]`` (``math.inf``: no clipping). Where ``f`` hardly
        varies over the samples (high noise, a mixture with mean 0: ``f ~ 0``) the fit of
        ``s`` is ill-conditioned: the ``-l' z`` part of ``f'`` (``|z| ~ e^{-lambda}``, ``l'``
        from differences over the node grid) swamps it, and estimates like ``s = -104`` at the
        first node (8-Gaussian, 1024 samples, 60 intervals) made the solver diverge at NFE 5
        and 10. The well-estimated values of the reference mixtures lie in ``[-2, 3.3]``.
    progress : bool
        tqdm bar over the nodes.

    Returns
    -------
    EmpiricalModelStatistics
        Costs ``(n_lambda + 1) (2 d + 3)`` model evaluations on batches of ``n`` samples.
    """
    from .solvers import check_model_and_schedule  # solvers imports this module

    check_model_and_schedule(model, schedule)
    x0, xp = as_float_array("x_data", x_data)
    shape = tuple(x0.shape)
    if len(shape) != 2 or shape[0] < 2 or shape[1] < 1:
        raise ValueError(f"x_data must have shape (n, d) with n >= 2, got {shape}")
    n, d = shape
    dim = getattr(model, "dim", None)
    if dim is not None and d != dim:
        raise ValueError(f"x_data must have shape (n, {dim}) to match the model dimension, "
                         f"got {shape}")
    n_lambda = check_int("n_lambda", n_lambda, low=2)
    fd_step = check_positive("fd_step", fd_step)
    s_max = check_positive("s_max", s_max)
    if fd_step > 0.1:
        raise ValueError(f"fd_step must be <= 0.1, got {fd_step}")
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    ts, te = schedule._endpoints(t_start, t_end)
    ts, te = _finite_end(schedule, ts, "start"), _finite_end(schedule, te, "end")
    lam_lo, lam_hi = float(schedule.lambda_(ts)), float(schedule.lambda_(te))
    if not lam_hi > lam_lo:
        raise ValueError(f"the finite log-SNR range of [t_end, t_start] is empty ({lam_lo} to "
                         f"{lam_hi})")
    # the schedule's own finite lambda range, for the one-sided differences at its ends
    dom_lo = float(schedule.lambda_(schedule.t_max)) if math.isfinite(schedule.t_max) \
        else -math.inf
    lam = np.linspace(lam_lo, lam_hi, n_lambda + 1)

    x0n = np.asarray(to_numpy(x0), dtype=float)
    eps = as_rng(rng).standard_normal((n, d))
    var0 = x0n.var(axis=0)

    def x0_hat(z, lam_v):
        t = float(schedule.t_from_lambda(lam_v))
        a = math.exp(float(schedule.log_alpha(t)))
        out = model.predict(xp.from_numpy(a * z, like=x0), t, kind="x0")
        out = np.asarray(to_numpy(out), dtype=float)
        if out.shape != (n, d):
            raise ValueError(f"model.predict returned shape {out.shape} for input shape {(n, d)}")
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(f"model.predict returned NaN/inf at t = {t:.6g} while "
                                     "computing the statistics")
        return out

    l_nodes = np.empty((n_lambda + 1, d))
    mom = np.empty((n_lambda + 1, d, 7))
    it = range(n_lambda + 1)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="EMS", leave=False)
    for j in it:
        lj = float(lam[j])
        e_ml = math.exp(-lj)  # sigma/alpha
        z = x0n + e_ml * eps  # x/alpha
        m = x0_hat(z, lj)
        # diag of grad_z x0_hat (= alpha grad_x x0_hat); l = 1 - E[diag]
        dz = fd_step * np.sqrt(var0 + e_ml * e_ml)
        diag = np.empty((n, d))
        for k in range(d):
            zp, zm = z.copy(), z.copy()
            zp[:, k] += dz[k]
            zm[:, k] -= dz[k]
            diag[:, k] = (x0_hat(zp, lj)[:, k] - x0_hat(zm, lj)[:, k]) / (2.0 * dz[k])
        l_nodes[j] = 1.0 - diag.mean(axis=0)
        # derivative of x0_hat along the ODE tangent (dz/dlambda = x0_hat - z)
        v = m - z
        dl = fd_step
        if lj - dl >= dom_lo:
            dm = (x0_hat(z + dl * v, lj + dl) - x0_hat(z - dl * v, lj - dl)) / (2.0 * dl)
        else:  # at the start of the schedule's domain: forward, second order
            dm = (-3.0 * m + 4.0 * x0_hat(z + dl * v, lj + dl)
                  - x0_hat(z + 2.0 * dl * v, lj + 2.0 * dl)) / (2.0 * dl)
        # f = (1 - l) z - m;  f' = -l' z + r with r = (1 - l)(m - z) - dm (l' comes later)
        f = (1.0 - l_nodes[j]) * z - m
        r = (1.0 - l_nodes[j]) * (m - z) - dm
        mom[j] = _moments(f, z, r)

    l_prime = np.gradient(l_nodes, lam, axis=0, edge_order=2)
    ef, ez, er, var_f, cov_zf, cov_rf, ef2 = (mom[..., k] for k in range(7))
    e1 = -l_prime * ez + er
    cov_1f = -l_prime * cov_zf + cov_rf
    ok = var_f > 1e-14 * ef2  # f constant over the samples (up to round-off): no fit, s = 0
    s = np.clip(np.where(ok, cov_1f / np.where(ok, var_f, 1.0), 0.0), -s_max, s_max)
    b = e1 - s * ef
    return EmpiricalModelStatistics(lam, l_nodes, s, b, n_samples=n)
