"""Gauge freedom made visible: a non-conservative score field that samples exactly.

Horvat & Pfister (ICLR 2024, arXiv:2402.03845) show that a learned field ``s = grad log p_t +
r`` produces the exact marginals iff ``div(p_t r) = 0``: the field need not be a gradient. This
module builds their counter-example on top of :mod:`sciflow.sampling`.

Why the marginals stay exact (probability-flow ODE)
---------------------------------------------------
With ``x_t = alpha x_0 + sigma eps`` the probability-flow ODE is ``dx/dt = v(x, t) = f x -
(g^2/2) grad log p_t`` with ``f = alpha'/alpha`` and ``g^2/2 = sigma sigma' - sigma^2
alpha'/alpha = -sigma^2 lambda'`` (``lambda = log(alpha/sigma)``); ``p_t`` solves the
continuity equation ``d p_t/dt + div(p_t v) = 0``. Replacing the score by ``s + r`` adds
``-(g^2/2) r`` to the velocity, and so adds ``-(g^2/2) div(p_t r)`` to the continuity
equation. If ``div(p_t r) = 0`` at every ``t``, the *same* family ``p_t`` still solves the
modified continuity equation; for a locally Lipschitz velocity its solution is unique (it is
the push-forward of ``p_T`` by the flow), so the modified flow carries ``p_T`` to exactly
``p_t`` for every ``t``. The individual trajectories change — the flow map is composed with a
``p``-preserving "stirring" — only the law does not. If ``div(p_t r) != 0`` the marginals are
wrong to first order in ``r``.

In the sampler's predictions the added term is converted like the score itself (``eps = -sigma
score``, ``x0 = (x + sigma^2 score)/alpha``, velocity ``= alpha'/alpha x + sigma^2 lambda'
score``), so :class:`GaugedModel` returns ``score + r``, ``eps - sigma r``, ``x0 + (sigma^2 /
alpha) r`` and ``velocity + sigma^2 lambda' r`` (``sigma^2 lambda' = sigma^2 alpha'/alpha -
sigma sigma'``, finite at ``sigma = 0``), and every solver of :func:`sciflow.sampling.sample`
integrates the same modified ODE.

Which ``r`` are gauge fields
----------------------------
For *any* density, ``r = A grad log p`` with a constant antisymmetric matrix ``A`` satisfies
``div(p r) = div(A grad p) = sum_ij A_ij d_i d_j p = 0`` (a symmetric Hessian contracted with
an antisymmetric matrix). For an isotropic Gaussian ``N(0, c I)`` this is ``r = -(1/c) A x``, a
rotation field ``r = R x``; for a non-isotropic Gaussian ``N(mu, C)`` the rotation field ``R x``
is *not* a gauge field (``div(p R x) = -p x^T R^T C^{-1} x`` vanishes only if ``R C^{-1}`` is
antisymmetric), ``-A C^{-1} (x - mu)`` is. Symmetric ``B != 0`` (``r = B grad log p``) or a
constant vector ``r = b`` break the condition (``div(p b) = b . grad p``).

The counter-example (:func:`run_counterexample`)
------------------------------------------------
Data ``N(m, S)`` (a one-component :class:`~sciflow.sampling.GaussianMixture`) under a
:class:`~sciflow.sampling.VPSchedule`; ``p_t = N(alpha m, alpha^2 S + sigma^2 I)``. Start
samples are drawn from the exact ``p_T`` with their sample mean and covariance matched to it
exactly; since the flow of a Gaussian model is affine (for every solver, too), the sample
moments at the end then differ from the exact ones only by the solver error. Three flows from
the same starts: the exact field, the gauge field ``A grad log p_t`` (``A = omega J``), and a
non-gauge field (``B = beta I``, or a constant vector). Reported: mean and covariance errors,
sliced Wasserstein distances to an exact sample (with the two-sample noise floor), and how far
the gauged endpoints moved from the exact flow map (mean distance, and the rotation angle in
the whitened coordinates of ``p_{t_end}``, where the composed map is an exact rotation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from .._validate import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)
from ._surface import new_axes, plain_attrs, xarray

__all__ = [
    "GaugedModel",
    "rotation_generator",
    "non_gauge_model",
    "flow_map",
    "sliced_wasserstein",
    "whitened_rotation",
    "isotropic_rotation_angle",
    "CounterexampleResult",
    "run_counterexample",
]

PREDICTION_KINDS = ("eps", "x0", "score", "velocity")
NON_GAUGE_KINDS = ("symmetric", "constant")
VARIANTS = ("exact", "gauge", "non_gauge")


def _check_schedule(name, schedule):
    from ..sampling.schedules import Schedule

    if not isinstance(schedule, Schedule):
        raise TypeError(f"{name} must be a VPSchedule, EDMSchedule or FlowSchedule, got "
                        f"{type(schedule).__name__}")
    return schedule


def rotation_generator(dim=2, omega=1.0, plane=(0, 1)):
    """The antisymmetric ``dim x dim`` matrix ``omega (e_i e_j^T - e_j e_i^T)``, ``(i, j) =
    plane`` (for ``dim = 2``: ``omega [[0, 1], [-1, 0]]``)."""
    dim = check_int("dim", dim, low=2)
    omega = check_real("omega", omega)
    if not isinstance(plane, tuple | list) or len(plane) != 2:
        raise TypeError(f"plane must be a pair of axes (i, j), got {plane!r}")
    i, j = (check_int("plane[k]", v, low=0, high=dim - 1) for v in plane)
    if i == j:
        raise ValueError(f"plane must name two different axes, got {plane!r}")
    a = np.zeros((dim, dim))
    a[i, j], a[j, i] = omega, -omega
    return a


class GaugedModel:
    """A sampler model whose score is ``model``'s score plus a field ``r``.

    Parameters
    ----------
    model
        Anything with ``predict(x, t, kind)`` (``"eps"``, ``"x0"``, ``"score"``,
        ``"velocity"``), e.g. ``GaussianMixture.bind(schedule)`` or an ``MLPModel``.
    field : (d, d) array_like or callable
        A matrix ``M`` — then ``r(x, t) = M score(x, t)`` with the model's own score (a gauge
        field for every density iff ``M`` is antisymmetric) — or a callable ``r(x, t)``
        returning an array of the shape and type of ``x``.
    schedule : Schedule, optional
        Default: ``model.schedule``; if both are given they must be equal.

    Notes
    -----
    ``predict`` returns ``score + r``, ``eps - sigma r``, ``x0 + (sigma^2/alpha) r`` or
    ``velocity + sigma^2 lambda' r`` (module docstring) in the array type of ``x`` (NumPy or
    torch). ``t`` is a scalar. :attr:`is_gauge` says whether a matrix field is antisymmetric
    (``None`` for a callable field).
    """

    def __init__(self, model, field, schedule=None):
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"model must have a predict(x, t, kind) method, got "
                            f"{type(model).__name__}")
        m_sched = getattr(model, "schedule", None)
        if schedule is None:
            if m_sched is None:
                raise ValueError("schedule is required when the model has no schedule")
            schedule = m_sched
        _check_schedule("schedule", schedule)
        if m_sched is not None and m_sched != schedule:
            raise ValueError(f"schedule {schedule!r} differs from the model's schedule "
                             f"{m_sched!r}")
        dim = getattr(model, "dim", None)
        if callable(field) and not isinstance(field, np.ndarray):
            self.matrix = None
            self._field = field
        else:
            m = check_array("field", field, ndim=2)
            if m.shape[0] != m.shape[1] or m.shape[0] < 1:
                raise ValueError(f"field must be a square (d, d) matrix, got shape {m.shape}")
            if dim is not None and m.shape[0] != dim:
                raise ValueError(f"field must have shape ({dim}, {dim}) to match the model "
                                 f"dimension, got {m.shape}")
            m = m.copy()
            m.setflags(write=False)
            self.matrix = m
            self._field = None
            dim = m.shape[0] if dim is None else dim
        self.model = model
        self.schedule = schedule
        self.dim = dim

    @property
    def is_gauge(self):
        """True if the matrix field is antisymmetric (then ``div(p r) = 0`` for the model's
        density); False if it is not; None for a callable field."""
        if self.matrix is None:
            return None
        m = self.matrix
        return bool(np.allclose(m, -m.T, rtol=0.0, atol=1e-12 * max(1.0, np.abs(m).max())))

    def __repr__(self):
        f = "callable" if self.matrix is None else f"matrix{self.matrix.tolist()}"
        return f"GaugedModel({self.model!r}, field={f}, schedule={self.schedule!r})"

    def _coefficients(self, t):
        sch = self.schedule
        t = float(sch.check_t("t", t))
        a, s = float(sch.alpha(t)), float(sch.sigma(t))
        return t, a, s

    def gauge_field(self, x, t, score=None):
        """``r(x, t)`` (for a matrix field ``M score(x, t)``; ``score`` may be passed in)."""
        from ..sampling.backend import as_float_array

        x, xp = as_float_array("x", x)
        if self._field is not None:
            r = self._field(x, t)
            if tuple(getattr(r, "shape", ())) != tuple(x.shape):
                raise ValueError(f"field(x, t) must return an array of shape {tuple(x.shape)}, "
                                 f"got {getattr(r, 'shape', type(r).__name__)}")
            return xp.cast_like(r, x)
        if score is None:
            score = self.model.predict(x, t, kind="score")
        score = xp.cast_like(score, x)
        return xp.matmul(score, xp.from_numpy(self.matrix.T, like=x))

    def predict(self, x, t, kind="eps"):
        """The ``kind`` prediction of the field ``score + r`` (see the class docstring)."""
        from ..sampling.backend import as_float_array

        check_choice("kind", kind, PREDICTION_KINDS)
        x, xp = as_float_array("x", x)
        tt, a, s = self._coefficients(t)
        base = xp.cast_like(self.model.predict(x, tt, kind=kind), x)
        score = None
        if self._field is None:
            if kind == "score":
                score = base
            elif kind == "eps" and s > 0.0:
                score = base * (-1.0 / s)
        r = self.gauge_field(x, tt, score=score)
        if kind == "score":
            return base + r
        if kind == "eps":
            return base - s * r
        if kind == "x0":
            if a == 0.0:
                raise ValueError(f"kind='x0' is undefined for a gauged model at t={tt} "
                                 "(alpha = 0)")
            return base + (s * s / a) * r
        sch = self.schedule
        coef = s * s * float(sch.dalpha(tt)) / a - float(sch.sigma_dsigma(tt))
        return base + coef * r

    def __call__(self, x, t, kind="eps"):
        return self.predict(x, t, kind)


def non_gauge_model(model, kind="symmetric", strength=0.5, schedule=None, direction=None):
    """A :class:`GaugedModel` whose added field breaks ``div(p r) = 0``.

    ``kind="symmetric"``: ``r = strength * score`` (``B = strength I``: the score scaled by
    ``1 + strength``, which contracts (``> 0``) or spreads the samples); ``kind="constant"``:
    ``r = strength * direction`` (unit vector, default ``e_0``), which shifts them.
    """
    check_choice("kind", kind, NON_GAUGE_KINDS)
    strength = check_real("strength", strength)
    dim = getattr(model, "dim", None)
    if kind == "symmetric":
        if dim is None:
            raise ValueError("kind='symmetric' needs a model with a dim attribute")
        return GaugedModel(model, strength * np.eye(int(dim)), schedule)
    if direction is None:
        if dim is None:
            raise ValueError("direction is required when the model has no dim attribute")
        direction = np.eye(int(dim))[0]
    b = check_array("direction", direction, ndim=1, min_size=1)
    if dim is not None and b.size != dim:
        raise ValueError(f"direction must have {dim} entries, got {b.size}")
    nb = float(np.linalg.norm(b))
    if nb == 0.0:
        raise ValueError("direction must be a non-zero vector")
    vec = strength * b / nb

    def constant(x, t):
        from ..sampling.backend import get_namespace

        xp = get_namespace(x)
        return x * 0.0 + xp.from_numpy(vec, like=x)

    return GaugedModel(model, constant, schedule)


# ============================================================================ reference flow
def flow_map(model, x_T, schedule, t_T=None, t_0=None, *, rtol=1e-10, atol=1e-10,
             method="DOP853"):
    """The probability-flow ODE ``dx/dt = model.predict(x, t, "velocity")`` from ``t_T`` to
    ``t_0`` by scipy's ``solve_ivp`` (vectorised over all samples, NumPy float64).

    A high-accuracy reference for any model (also :class:`GaugedModel`); defaults are the
    schedule's ``t_start`` and ``t_end``. Returns an array of the shape of ``x_T``.
    """
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(x, t, kind) method, got "
                        f"{type(model).__name__}")
    _check_schedule("schedule", schedule)
    rtol = check_positive("rtol", rtol)
    atol = check_positive("atol", atol)
    check_choice("method", method, ("DOP853", "RK45", "Radau", "BDF", "LSODA"))
    x = check_array("x_T", x_T)
    if x.ndim < 1 or x.size == 0:
        raise ValueError(f"x_T must be a non-empty array of shape (..., d), got {x.shape}")
    t_T = schedule.t_start if t_T is None else float(schedule.check_t("t_T", t_T))
    t_0 = schedule.t_end if t_0 is None else float(schedule.check_t("t_0", t_0))
    if t_T == t_0:
        return x.copy()
    shape = x.shape

    def rhs(t, y):
        return np.asarray(model.predict(y.reshape(shape), float(t), kind="velocity"),
                          dtype=float).ravel()

    sol = solve_ivp(rhs, (t_T, t_0), x.ravel(), method=method, rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - smooth non-stiff problems
        raise RuntimeError(f"flow_map: integrator failed: {sol.message}")
    return sol.y[:, -1].reshape(shape)


# ============================================================================ metrics
def sliced_wasserstein(x, y, *, n_projections=256, rng=None, projections=None):
    """Sliced 2-Wasserstein distance between the empirical laws of ``x`` (n, d) and ``y``
    (m, d): the root-mean-square over random unit directions of the 1-D ``W_2`` between the
    projections (quantile functions compared at ``max(n, m)`` levels ``(k + 1/2)/max(n, m)``).

    ``projections`` ((k, d) unit vectors) fixes the directions; otherwise ``n_projections``
    directions are drawn from ``rng``.
    """
    x = check_array("x", x, ndim=2, min_size=1)
    y = check_array("y", y, ndim=2, min_size=1)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and "
                         f"{y.shape[1]}")
    d = x.shape[1]
    if projections is None:
        k = check_int("n_projections", n_projections, low=1)
        th = as_rng(rng).standard_normal((k, d))
    else:
        th = check_array("projections", projections, ndim=2, min_size=1)
        if th.shape[1] != d:
            raise ValueError(f"projections must have shape (k, {d}), got {th.shape}")
    norms = np.linalg.norm(th, axis=1, keepdims=True)
    if np.any(norms == 0.0):
        raise ValueError("projections must be non-zero vectors")
    th = th / norms
    px, py = np.sort(x @ th.T, axis=0), np.sort(y @ th.T, axis=0)
    m = max(px.shape[0], py.shape[0])
    levels = (np.arange(m) + 0.5) / m

    def quantiles(p):
        n = p.shape[0]
        if n == m:
            return p
        pos = (np.arange(n) + 0.5) / n
        return np.stack([np.interp(levels, pos, p[:, j]) for j in range(p.shape[1])], axis=1)

    diff = quantiles(px) - quantiles(py)
    return float(np.sqrt(np.mean(diff * diff)))


def whitened_rotation(x_a, x_b, mean, cov):
    """Per-sample angle (radians) from ``x_a`` to ``x_b`` in the whitened coordinates
    ``z = L^{-1} (x - mean)`` (``L L^T = cov``): signed (counter-clockwise positive) in 2-D,
    in ``[0, pi]`` otherwise."""
    xa = check_array("x_a", x_a, ndim=2, min_size=1)
    xb = check_array("x_b", x_b, ndim=2, min_size=1)
    if xa.shape != xb.shape:
        raise ValueError(f"x_a and x_b must have the same shape, got {xa.shape} and {xb.shape}")
    d = xa.shape[1]
    mu = check_array("mean", mean, ndim=1)
    c = check_array("cov", cov, ndim=2)
    if mu.shape != (d,) or c.shape != (d, d):
        raise ValueError(f"mean and cov must have shapes ({d},) and ({d}, {d}), got "
                         f"{mu.shape} and {c.shape}")
    try:
        chol = np.linalg.cholesky(0.5 * (c + c.T))
    except np.linalg.LinAlgError:
        raise ValueError("cov must be symmetric positive definite") from None
    za = np.linalg.solve(chol, (xa - mu).T).T
    zb = np.linalg.solve(chol, (xb - mu).T).T
    dot = np.sum(za * zb, axis=1)
    if d == 2:
        cross = za[:, 0] * zb[:, 1] - za[:, 1] * zb[:, 0]
        return np.arctan2(cross, dot)
    na, nb = np.linalg.norm(za, axis=1), np.linalg.norm(zb, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosang = np.where(na * nb > 0, dot / np.where(na * nb > 0, na * nb, 1.0), 1.0)
    return np.arccos(np.clip(cosang, -1.0, 1.0))


def isotropic_rotation_angle(variance, omega, schedule, t_start=None, t_end=None):
    """Closed-form angle (rad, counter-clockwise) by which the gauge field ``r = omega J grad
    log p_t`` (``J = [[0, 1], [-1, 0]]``) rotates the probability-flow endpoints of isotropic
    data ``N(m, variance I)`` about the mean, from ``t_start`` to ``t_end``.

    With ``C_t = alpha^2 c + sigma^2`` the added velocity is ``-(sigma^2 lambda' / C_t) omega J
    (x - alpha m)``, a pure rotation that commutes with the unperturbed (radial) flow, so the
    angle is ``omega [F(lambda_end) - F(lambda_start)]``, ``F(lambda) = lambda - log(1 + c
    e^{2 lambda}) / 2`` (the integral of ``sigma^2 / C_t = 1 / (1 + c e^{2 lambda})``). Under
    VP with ``c = 1`` this is ``omega log(alpha_end / alpha_start)``.
    """
    c = check_positive("variance", variance)
    omega = check_real("omega", omega)
    _check_schedule("schedule", schedule)
    ts, te = schedule._endpoints(t_start, t_end)
    lam = np.asarray(schedule.lambda_(np.array([ts, te])), dtype=float)
    if not np.all(np.isfinite(lam)):
        raise ValueError("t_start and t_end must have 0 < sigma and 0 < alpha (finite log-SNR)")
    f = lam - 0.5 * np.logaddexp(0.0, math.log(c) + 2.0 * lam)
    return float(omega * (f[1] - f[0]))


def _moment_matched_normal(n, d, rng):
    """``n`` standard-normal draws whose sample mean is 0 and sample covariance (1/n) is I."""
    z = rng.standard_normal((n, d))
    z -= z.mean(axis=0)
    chol = np.linalg.cholesky(z.T @ z / n)
    return np.linalg.solve(chol, z.T).T


def _moments(x):
    mu = x.mean(axis=0)
    xc = x - mu
    return mu, xc.T @ xc / x.shape[0]


# ============================================================================ the experiment
@dataclass(frozen=True)
class CounterexampleResult:
    """Outcome of :func:`run_counterexample`.

    ``variants`` are ``"exact"`` (the unperturbed field), ``"gauge"`` and ``"non_gauge"``;
    the dictionaries map each to its number:

    * ``mean_error``: ``|mean - mu| / sqrt(tr Sigma)`` of the end samples;
    * ``cov_error``: ``|C - Sigma|_F / |Sigma|_F`` (sample covariance, 1/n);
    * ``sliced_wasserstein``: to an independent exact sample of the same size
      (``sw_floor``: between two independent exact samples);
    * ``flow_error``: mean ``|x - x_flow|`` to the *unperturbed* exact flow map of the same
      starts, relative to ``sqrt(tr Sigma)`` (for ``"exact"`` this is the solver error, for
      ``"gauge"`` the stirring).

    ``rotation_angle`` is the mean signed angle (rad) from the unperturbed flow endpoints to
    the gauged ones in the whitened coordinates of ``p_{t_end}`` (``rotation_spread`` its
    standard deviation: zero for an exact rotation). ``x`` holds the end samples per variant
    and ``"flow"`` (the unperturbed exact flow map), ``x_T`` the starts.
    """

    mean: np.ndarray
    cov: np.ndarray
    t_start: float
    t_end: float
    solver: str
    nfe: int | None
    mean_error: dict
    cov_error: dict
    sliced_wasserstein: dict
    sw_floor: float
    flow_error: dict
    rotation_angle: float
    rotation_spread: float
    gauge_matrix: np.ndarray
    non_gauge: str
    x_T: np.ndarray = field(repr=False)
    x: dict = field(repr=False)

    def __post_init__(self):
        if not isinstance(self.solver, str):
            raise TypeError(f"solver must be a string, got {type(self.solver).__name__}")
        for name in ("mean_error", "cov_error", "sliced_wasserstein", "flow_error"):
            d = getattr(self, name)
            if not isinstance(d, dict) or set(d) != set(VARIANTS):
                raise ValueError(f"{name} must be a dict with the keys {VARIANTS}, got {d!r:.80}")
        if not isinstance(self.x, dict) or not set(VARIANTS) <= set(self.x):
            raise ValueError(f"x must be a dict of end samples with the keys {VARIANTS}")
        x_T = check_array("x_T", self.x_T, ndim=2, min_size=1)
        for name in ("mean", "cov"):
            check_array(name, getattr(self, name))
        if self.nfe is not None:
            check_int("nfe", self.nfe, low=1)
        for name in ("t_start", "t_end", "rotation_angle"):
            check_real(name, getattr(self, name))
        check_nonnegative("sw_floor", self.sw_floor)
        check_nonnegative("rotation_spread", self.rotation_spread)
        if x_T.shape[1] != np.shape(self.mean)[-1]:
            raise ValueError("x_T and mean must have the same dimension")

    def summary(self):
        """The numbers as one flat dict (for printing or a table)."""
        out = {"solver": self.solver, "nfe": self.nfe}
        for v in ("exact", "gauge", "non_gauge"):
            out[f"mean_error[{v}]"] = self.mean_error[v]
            out[f"cov_error[{v}]"] = self.cov_error[v]
            out[f"sw[{v}]"] = self.sliced_wasserstein[v]
            out[f"flow_error[{v}]"] = self.flow_error[v]
        out["sw_floor"] = self.sw_floor
        out["rotation_angle"] = self.rotation_angle
        out["rotation_spread"] = self.rotation_spread
        return out

    def __str__(self):
        lines = [f"gauge counter-example: {self.solver}"
                 + (f", NFE {self.nfe}" if self.nfe is not None else "")
                 + f", t {self.t_start:g} -> {self.t_end:g}, n = {self.x_T.shape[0]}",
                 f"{'variant':>10} {'mean err':>10} {'cov err':>10} {'SW':>10} {'flow dist':>10}"]
        for v in ("exact", "gauge", "non_gauge"):
            lines.append(f"{v:>10} {self.mean_error[v]:10.2e} {self.cov_error[v]:10.2e} "
                         f"{self.sliced_wasserstein[v]:10.2e} {self.flow_error[v]:10.2e}")
        lines.append(f"SW noise floor {self.sw_floor:.2e}; whitened rotation "
                     f"{self.rotation_angle:.4f} rad (spread {self.rotation_spread:.1e}); "
                     f"non-gauge field: {self.non_gauge}")
        return "\n".join(lines)

    def plot(self, ax=None, n_lines=40, **kwargs):
        """End samples of the three flows (first two coordinates; ``kwargs`` go to
        ``Axes.scatter``); segments join a sample's unperturbed end point to its gauged one.
        Returns the Axes."""
        n_lines = check_int("n_lines", n_lines, low=0)
        ax = new_axes(ax)
        xf, xg, xn = self.x["flow"], self.x["gauge"], self.x["non_gauge"]
        kwargs = {"s": 2, "alpha": 0.3, **kwargs}
        ax.scatter(xf[:, 0], xf[:, 1], label="exact flow", **kwargs)
        ax.scatter(xg[:, 0], xg[:, 1], label="gauge r (same law)", **kwargs)
        ax.scatter(xn[:, 0], xn[:, 1], label=f"non-gauge r ({self.non_gauge})", **kwargs)
        m = min(n_lines, xf.shape[0])
        for i in range(m):
            ax.plot([xf[i, 0], xg[i, 0]], [xf[i, 1], xg[i, 1]], "k-", lw=0.5, alpha=0.6)
        ax.set_aspect("equal")
        ax.legend(loc="best", fontsize="small", markerscale=4)
        ax.set_title(f"gauge freedom: {self.solver}"
                     + (f", NFE {self.nfe}" if self.nfe is not None else ""))
        return ax

    def to_xarray(self):
        """An xarray Dataset: the end samples ``x_end`` over (``flow``, ``sample``, ``dim``)
        (``flow``: the variants and ``"flow"``, the unperturbed exact flow map), the starts
        ``x_T`` over (``sample``, ``dim``), the per-variant numbers (``mean_error``,
        ``cov_error``, ``sliced_wasserstein``, ``flow_error``) over ``variant``, the target
        ``mean`` and ``cov`` and the ``gauge_matrix`` over ``dim`` (and ``dim2``); the rest as
        attributes (xarray imported lazily)."""
        flows = list(self.x)
        d = self.x_T.shape[1]
        data = {"x_end": (("flow", "sample", "dim"), np.stack([self.x[f] for f in flows])),
                "x_T": (("sample", "dim"), self.x_T),
                "mean": ("dim", np.asarray(self.mean)),
                "cov": (("dim", "dim2"), np.asarray(self.cov)),
                "gauge_matrix": (("dim", "dim2"), np.asarray(self.gauge_matrix))}
        for name in ("mean_error", "cov_error", "sliced_wasserstein", "flow_error"):
            data[name] = ("variant", np.array([getattr(self, name)[v] for v in VARIANTS]))
        return xarray().Dataset(
            data,
            coords={"flow": flows, "variant": list(VARIANTS),
                    "sample": np.arange(self.x_T.shape[0]), "dim": np.arange(d),
                    "dim2": np.arange(d)},
            attrs=plain_attrs(t_start=self.t_start, t_end=self.t_end, solver=self.solver,
                              nfe=self.nfe, sw_floor=self.sw_floor,
                              rotation_angle=self.rotation_angle,
                              rotation_spread=self.rotation_spread, non_gauge=self.non_gauge))


def run_counterexample(mean=(1.0, -0.5), cov=((1.0, 0.6), (0.6, 0.5)), *, schedule=None,
                       gauge=0.5, non_gauge="symmetric", non_gauge_strength=0.5, n=4000,
                       solver="unipc_2", nfe=50, t_start=None, t_end=None, rng=None,
                       n_projections=256, moment_matched=True, progress=False):
    """Sample a Gaussian ``N(mean, cov)`` with the exact score, a gauge-perturbed score and a
    non-gauge-perturbed one from the same starts (module docstring).

    Parameters
    ----------
    mean, cov : array_like
        The data law ``N(m, S)`` (``d >= 2``).
    schedule : Schedule, optional
        Default ``VPSchedule("linear")``.
    gauge : float or (d, d) antisymmetric array
        ``A`` in ``r = A grad log p_t``; a float ``omega`` means ``rotation_generator(d,
        omega)``.
    non_gauge : "symmetric" or "constant"
        The perturbation that breaks the gauge condition (:func:`non_gauge_model`), of size
        ``non_gauge_strength``.
    n : int
        Number of samples (>= 2 d).
    solver, nfe
        Passed to :func:`sciflow.sampling.sample`; ``solver="exact"`` uses :func:`flow_map`
        (DOP853, ``rtol = 1e-10``) instead (``nfe`` ignored). The gauge field is a rotation
        that the exponential integrators do not absorb into their linear part, so it costs
        accuracy: default data, ``gauge=0.5``, covariance error at NFE 20 / 50 / 100 for the
        exact field vs the gauged one: ``unipc_2`` 1.6e-2 / 1.1e-3 / 1.5e-4 vs 1.8e-2 /
        5.0e-4 / 1.2e-4, ``dpmpp_2m`` 2.6e-2 / 4.5e-3 / 1.1e-3 vs 0.42 / 6.2e-2 / 1.4e-2.
    t_start, t_end : float, optional
        Default: the schedule's.
    rng : Generator or seed
        Start samples, the reference sample and the projections.
    moment_matched : bool
        Give the starts the exact mean and covariance of ``p_T`` (then the end moments differ
        from the exact ones by the solver error only).
    progress : bool
        A progress bar over the four flows.
    """
    from ..sampling import GaussianMixture, VPSchedule
    from ..sampling.solvers import SOLVERS, sample

    m = check_array("mean", mean, ndim=1, min_size=2)
    d = m.size
    s_cov = check_array("cov", cov, ndim=2)
    if s_cov.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}), got {s_cov.shape}")
    mixture = GaussianMixture([1.0], m[None, :], s_cov[None])  # validates symmetry and PD
    schedule = VPSchedule("linear") if schedule is None else _check_schedule("schedule",
                                                                             schedule)
    if isinstance(gauge, np.ndarray | list | tuple):
        a_mat = check_array("gauge", gauge, ndim=2)
        if a_mat.shape != (d, d):
            raise ValueError(f"gauge must have shape ({d}, {d}), got {a_mat.shape}")
        if not np.allclose(a_mat, -a_mat.T, rtol=0.0, atol=1e-12 * max(1.0, np.abs(a_mat).max())):
            raise ValueError("gauge must be an antisymmetric matrix (A^T = -A)")
    else:
        a_mat = rotation_generator(d, check_real("gauge", gauge))
    check_choice("non_gauge", non_gauge, NON_GAUGE_KINDS)
    non_gauge_strength = check_real("non_gauge_strength", non_gauge_strength)
    n = check_int("n", n, low=2 * d)
    if not isinstance(solver, str) or (solver != "exact" and solver not in SOLVERS):
        raise ValueError(f"solver must be 'exact' or one of {sorted(SOLVERS)}, got {solver!r}")
    if solver != "exact":
        nfe = check_int("nfe", nfe, low=1)
    else:
        nfe = None
    for name, flag in (("moment_matched", moment_matched), ("progress", progress)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    rng = as_rng(rng)
    ts, te = schedule._endpoints(t_start, t_end)

    def moments_at(t):
        a, s = float(schedule.alpha(t)), float(schedule.sigma(t))
        return a * m, a * a * s_cov + s * s * np.eye(d)

    mu_T, cov_T = moments_at(ts)
    mu_0, cov_0 = moments_at(te)
    z = _moment_matched_normal(n, d, rng) if moment_matched else rng.standard_normal((n, d))
    x_T = mu_T + z @ np.linalg.cholesky(cov_T).T
    reference = mu_0 + rng.standard_normal((n, d)) @ np.linalg.cholesky(cov_0).T
    reference2 = mu_0 + rng.standard_normal((n, d)) @ np.linalg.cholesky(cov_0).T
    projections = rng.standard_normal((check_int("n_projections", n_projections, low=1), d))

    base = mixture.bind(schedule)
    models = {"exact": base, "gauge": GaugedModel(base, a_mat),
              "non_gauge": non_gauge_model(base, non_gauge, non_gauge_strength)}

    def run(model):
        if solver == "exact":
            return flow_map(model, x_T, schedule, ts, te)
        return np.asarray(sample(model, x_T, schedule, solver=solver, nfe=nfe, t_start=ts,
                                 t_end=te))

    items = list(models.items())
    it = items
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(items, desc="counter-example", leave=False)
    xs = {name: run(model) for name, model in it}
    xs["flow"] = np.asarray(mixture.exact_ode_solution(x_T, schedule, ts, te))
    scale = math.sqrt(float(np.trace(cov_0)))
    cov_norm = float(np.linalg.norm(cov_0))
    mean_err, cov_err, sw, ferr = {}, {}, {}, {}
    for v in models:
        mu_v, c_v = _moments(xs[v])
        mean_err[v] = float(np.linalg.norm(mu_v - mu_0)) / scale
        cov_err[v] = float(np.linalg.norm(c_v - cov_0)) / cov_norm
        sw[v] = sliced_wasserstein(xs[v], reference, projections=projections)
        ferr[v] = float(np.mean(np.linalg.norm(xs[v] - xs["flow"], axis=1))) / scale
    ang = whitened_rotation(xs["flow"], xs["gauge"], mu_0, cov_0)
    for arr in (*xs.values(), x_T, a_mat):
        arr.setflags(write=False)
    return CounterexampleResult(
        mean=mu_0, cov=cov_0, t_start=ts, t_end=te, solver=solver, nfe=nfe,
        mean_error=mean_err, cov_error=cov_err, sliced_wasserstein=sw,
        sw_floor=sliced_wasserstein(reference2, reference, projections=projections),
        flow_error=ferr, rotation_angle=float(np.mean(ang)), rotation_spread=float(np.std(ang)),
        gauge_matrix=a_mat, non_gauge=f"{non_gauge} {non_gauge_strength:g}", x_T=x_T, x=xs)

