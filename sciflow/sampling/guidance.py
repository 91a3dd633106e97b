"""Classifier and classifier-free guidance on a Gaussian mixture, measured against the tilt.

The classes are the mixture's components: ``p(c | x_t) = g_c(x_t)``, the exact posterior
component weight of the noised mixture, and ``p_t(x | c)`` is the c-th component noised.

* :func:`class_probabilities` — ``p(c | x_t)`` for every component.
* :class:`ClassifierGuidance` — a model for :func:`~sciflow.sampling.sample` with the guided
  score ``grad log p_t(x) + scale * grad log p_t(c | x)`` (exact classifier gradient).
* :class:`ClassifierFreeGuidance` — ``eps_w = (1 + w) eps_c - w eps_u`` with the exact
  conditional (the component) and unconditional (the mixture) predictions; the same affine
  combination is used for every prediction kind (x0, score and velocity are affine in eps with
  coefficients that sum to one, so this is the same model whatever kind the solver asks for).

Since ``grad log p_t(c | x) = s_c - s_u``, CFG with weight ``w`` *is* classifier guidance with
scale ``gamma = 1 + w`` (checked to 1e-12 in the tests). At every noise level the guided score
is the score of ``p_t(x) p_t(c | x)^gamma``, but the family of these tilted noised densities is
not the noising of one density, so the sampler's output is not the tilted data density

    ``q_gamma(x) = p(x) p(c | x)^gamma / Z_gamma``   (``gamma = 1 + w`` for CFG weight ``w``)

except at ``gamma = 0`` (the mixture) and ``gamma = 1`` (the component). :func:`tilted_density`
evaluates ``q_gamma`` on a 2-D grid (normaliser by quadrature, mean, covariance, exact draws from
the grid cells) and :func:`guidance_gap` measures how far guided samples land from it (sliced
Wasserstein distance, mean shift, covariance difference, histogram KL, each with the
finite-sample floor of exact draws from ``q_gamma`` beside it).

NumPy only: torch tensors are rejected with a ``TypeError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import as_rng, check_array, check_int, check_nonnegative, check_real
from .models import PREDICTION_KINDS, GaussianMixture, _check_schedule

__all__ = [
    "class_probabilities",
    "ClassifierGuidance",
    "ClassifierFreeGuidance",
    "tilted_density",
    "guidance_gap",
]


# ============================================================================ helpers
def _numpy_x(name, x, dim):
    """``x`` as a float64 NumPy array of shape (..., dim); torch tensors are refused."""
    if type(x).__module__.split(".")[0] == "torch":
        raise TypeError(f"{name} must be a NumPy array: torch tensors are not supported by "
                        "sciflow.sampling.guidance/posterior (convert with .cpu().numpy())")
    arr = check_array(name, x)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}), got {arr.shape}")
    return arr


def _check_mixture(mixture, name="mixture"):
    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"{name} must be a GaussianMixture, got {type(mixture).__name__}")
    return mixture


def _check_label(label, mixture):
    return check_int("label", label, low=0, high=mixture.n_components - 1)


def _check_kind(kind):
    if kind not in PREDICTION_KINDS:
        raise ValueError(f"kind must be one of {sorted(PREDICTION_KINDS)}, got {kind!r}")
    return kind


def _component_scores(mixture, x, t, schedule):
    """(g (K, n), s_k (K, n, d), flat x, shape, alpha, sigma) with s_k = -C_k^{-1}(x - a mu_k)."""
    xp, shape, xf, g, y, _, (_, a, s) = mixture._posterior(x, schedule, t)
    return np.asarray(g), -np.asarray(y), np.asarray(xf), shape, a, s


def score_shift(schedule, t, kind, delta):
    """How a score change ``delta`` changes the ``kind`` prediction at time ``t``.

    With ``eps = -sigma score``, ``x0 = (x + sigma^2 score)/alpha`` and the velocity
    ``alpha' x0 + sigma' eps``, adding ``delta`` to the score adds ``-sigma delta`` to eps,
    ``sigma^2/alpha delta`` to x0 and ``(alpha' sigma^2/alpha - sigma sigma') delta`` to the
    velocity (``alpha > 0`` needed for the last two).
    """
    if kind == "score":
        return delta
    s = float(schedule.sigma(t))
    if kind == "eps":
        return -s * delta
    a = float(schedule.alpha(t))
    if a == 0.0:
        raise ValueError(f"kind={kind!r} is undefined for a guided model where alpha(t) = 0 "
                         f"(t = {t})")
    if kind == "x0":
        return (s * s / a) * delta
    da = float(schedule.dalpha(t))
    ss = float(schedule.sigma_dsigma(t))
    return (da * s * s / a - ss) * delta


# ============================================================================ classifier
def class_probabilities(mixture, x, t, schedule):
    """``p(c | x_t)`` for each component ``c`` of ``mixture`` noised to time ``t``.

    ``x`` has shape (..., d); the result has shape (..., K) and sums to one over the last axis.
    """
    _check_mixture(mixture)
    _check_schedule(schedule)
    x = _numpy_x("x", x, mixture.dim)
    g, _, _, shape, _, _ = _component_scores(mixture, x, t, schedule)
    return g.T.reshape(*shape[:-1], mixture.n_components)


class _GuidedBase:
    """Shared model plumbing: ``dim``, ``schedule``, ``predict`` checks, ``__call__``."""

    def __init__(self, mixture, schedule, label):
        self.mixture = _check_mixture(mixture)
        self.schedule = _check_schedule(schedule)
        self.label = _check_label(label, self.mixture)
        self.component = GaussianMixture([1.0], mixture.means[self.label],
                                         mixture.covs[self.label])

    @property
    def dim(self) -> int:
        return self.mixture.dim

    def __call__(self, x, t, kind="eps"):
        return self.predict(x, t, kind)


class ClassifierGuidance(_GuidedBase):
    """Classifier guidance with the exact component classifier.

    Guided score ``s_u + scale (s_c - s_u)`` where ``s_u`` is the mixture's noised score and
    ``s_c`` the ``label`` component's (``grad log p_t(c | x) = s_c - s_u``); ``scale = 1`` is
    the conditional model, ``scale = 0`` the unconditional one. ``predict`` returns every kind
    consistently (see :func:`score_shift`).
    """

    def __init__(self, mixture, schedule, label, scale):
        super().__init__(mixture, schedule, label)
        self.scale = check_nonnegative("scale", scale)

    def predict(self, x, t, kind="eps"):
        _check_kind(kind)
        x = _numpy_x("x", x, self.dim)
        t = float(self.schedule.check_t("t", t))
        g, sk, _, shape, _, _ = _component_scores(self.mixture, x, t, self.schedule)
        s_u = np.einsum("kn,knd->nd", g, sk)
        delta = self.scale * (sk[self.label] - s_u)
        base = self.mixture.predict(x, t, kind, self.schedule)
        return base + score_shift(self.schedule, t, kind, delta).reshape(shape)

    def __repr__(self):
        return f"ClassifierGuidance(label={self.label}, scale={self.scale})"


class ClassifierFreeGuidance(_GuidedBase):
    """Classifier-free guidance ``(1 + weight) pred_c - weight pred_u``.

    ``pred_c`` is the exact prediction of the ``label`` component (a Gaussian), ``pred_u`` that
    of the mixture; ``weight = 0`` is the conditional model. Equal to
    ``ClassifierGuidance(..., scale=1 + weight)``.
    """

    def __init__(self, mixture, schedule, label, weight):
        super().__init__(mixture, schedule, label)
        self.weight = check_nonnegative("weight", weight)

    def predict(self, x, t, kind="eps"):
        _check_kind(kind)
        x = _numpy_x("x", x, self.dim)
        t = float(self.schedule.check_t("t", t))
        w = self.weight
        pc = self.component.predict(x, t, kind, self.schedule)
        pu = self.mixture.predict(x, t, kind, self.schedule)
        return (1.0 + w) * pc - w * pu

    def __repr__(self):
        return f"ClassifierFreeGuidance(label={self.label}, weight={self.weight})"


# ============================================================================ tilted target
@dataclass(frozen=True, eq=False)
class TiltedDensity:
    """``q_gamma(x) = p(x) p(c | x)^gamma / Z`` on a regular 2-D grid.

    ``xs``, ``ys`` the cell centres; ``density`` (len(ys), len(xs)) normalised on the grid;
    ``log_normaliser`` ``log Z`` (trapezoid-free midpoint quadrature; the grid must cover the
    mass); ``mean`` and ``cov`` by the same quadrature.
    """

    xs: np.ndarray
    ys: np.ndarray
    density: np.ndarray
    log_normaliser: float
    mean: np.ndarray
    cov: np.ndarray
    gamma: float
    label: int

    @property
    def cell_area(self) -> float:
        return float((self.xs[1] - self.xs[0]) * (self.ys[1] - self.ys[0]))

    def sample(self, n, rng=None):
        """``n`` draws: a cell by its mass, then uniform within the cell."""
        n = check_int("n", n, low=0)
        rng = as_rng(rng)
        p = self.density.ravel() * self.cell_area
        idx = rng.choice(p.size, size=n, p=p / p.sum())
        iy, ix = np.unravel_index(idx, self.density.shape)
        hx, hy = self.xs[1] - self.xs[0], self.ys[1] - self.ys[0]
        return np.stack((self.xs[ix] + hx * (rng.random(n) - 0.5),
                         self.ys[iy] + hy * (rng.random(n) - 0.5)), axis=1)

    def plot(self, ax=None, **kwargs):
        """The density as a colour mesh on the grid (``kwargs`` to ``Axes.pcolormesh``);
        returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax)
        ax.pcolormesh(self.xs, self.ys, self.density, **{"shading": "nearest", **kwargs})
        ax.set_xlabel("x[0]")
        ax.set_ylabel("x[1]")
        ax.set_title(f"tilted density, label {self.label}, gamma = {self.gamma:g}")
        return ax

    def to_xarray(self):
        """``density`` on (y, x) cell centres, ``mean`` (dim) and ``cov`` (dim, dim_2);
        log_normaliser, gamma and label in attrs."""
        from ._surface import xarray

        xr = xarray()
        return xr.Dataset(
            {"density": (("y", "x"), self.density,
                         {"long_name": "q_gamma(x)", "units": "1/area of x"}),
             "mean": ("dim", np.asarray(self.mean, dtype=float)),
             "cov": (("dim", "dim_2"), np.asarray(self.cov, dtype=float))},
            coords={"x": self.xs, "y": self.ys, "dim": [0, 1], "dim_2": [0, 1]},
            attrs={"log_normaliser": self.log_normaliser, "gamma": self.gamma,
                   "label": self.label})


def _log_mixture_terms(mixture, pts):
    """(log w_k N_k(x) (K, n), log p(x) (n,)) at t = 0 (data level)."""
    d = mixture.dim
    diff = pts[None, :, :] - mixture.means[:, None, :]
    sol = np.linalg.solve(mixture._chol[:, None], diff[..., None])[..., 0]
    logdet = 2.0 * np.sum(np.log(np.diagonal(mixture._chol, axis1=1, axis2=2)), axis=1)
    logk = (np.log(mixture.weights)[:, None] - 0.5 * np.sum(sol * sol, axis=2)
            - 0.5 * logdet[:, None] - 0.5 * d * math.log(2.0 * math.pi))
    m = logk.max(axis=0)
    return logk, m + np.log(np.sum(np.exp(logk - m), axis=0))


def tilted_density(mixture, label, gamma, *, bounds=None, n_grid=400):
    """The tilted density ``p(x) p(c | x)^gamma / Z`` of a 2-D mixture on a grid.

    ``bounds`` ((xmin, xmax), (ymin, ymax)) defaults to the means +- 6 of the largest standard
    deviation plus a margin; ``n_grid`` cells per axis.
    """
    _check_mixture(mixture)
    if mixture.dim != 2:
        raise ValueError(f"mixture must be 2-dimensional for the grid quadrature, got "
                         f"dim={mixture.dim}")
    label = _check_label(label, mixture)
    gamma = check_nonnegative("gamma", gamma)
    n_grid = check_int("n_grid", n_grid, low=16)
    if bounds is None:
        sd = math.sqrt(float(np.max(np.linalg.eigvalsh(mixture.covs))))
        lo = mixture.means.min(axis=0) - 6.0 * sd - 0.5
        hi = mixture.means.max(axis=0) + 6.0 * sd + 0.5
        bounds = ((lo[0], hi[0]), (lo[1], hi[1]))
    b = check_array("bounds", bounds)
    if b.shape != (2, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)) with min < max, got "
                         f"{bounds!r}")
    hx, hy = (b[0, 1] - b[0, 0]) / n_grid, (b[1, 1] - b[1, 0]) / n_grid
    xs = b[0, 0] + hx * (np.arange(n_grid) + 0.5)
    ys = b[1, 0] + hy * (np.arange(n_grid) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack((gx.ravel(), gy.ravel()), axis=1)
    logk, logp = _log_mixture_terms(mixture, pts)
    logq = logp + gamma * (logk[label] - logp)  # log p + gamma log p(c|x)
    m = logq.max()
    q = np.exp(logq - m)
    z = q.sum() * hx * hy
    dens = (q / z).reshape(n_grid, n_grid)
    pw = (q / q.sum())
    mean = pw @ pts
    dm = pts - mean
    cov = (pw[:, None] * dm).T @ dm
    return TiltedDensity(xs, ys, dens, float(m + math.log(z)), mean, cov, gamma, label)


# ============================================================================ the gap
@dataclass(frozen=True)
class GuidanceGap:
    """Guided samples vs the tilted density ``q_gamma`` (see :func:`guidance_gap`).

    ``sw`` sliced Wasserstein-2 distance (samples vs exact draws from ``q_gamma``), ``sw_floor``
    the same between two exact draws of that size; ``mean_shift`` ``|mean_samples - mean_q|``
    (``mean_floor`` its sampling error scale ``sqrt(tr cov_q / n)``); ``cov_error`` Frobenius
    norm of the covariance difference; ``kl`` ``KL(q || histogram of the samples)`` on a
    coarse grid (``kl_floor`` the same for exact draws); ``nfe`` the sampler's evaluations.
    """

    method: str
    weight: float
    gamma: float
    sw: float
    sw_floor: float
    mean_shift: float
    mean_floor: float
    cov_error: float
    kl: float
    kl_floor: float
    nfe: int
    n: int

    METRICS = ("sw", "mean_shift", "kl")
    FLOORS = ("sw_floor", "mean_floor", "kl_floor")

    def plot(self, ax=None, **kwargs):
        """Bars of each gap (sliced W2, mean shift, KL) beside its sampling floor (``kwargs``
        to ``Axes.bar`` of the gaps); returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax)
        k = np.arange(len(self.METRICS))
        ax.bar(k - 0.2, [getattr(self, m) for m in self.METRICS], 0.4,
               **{"label": "guided samples", **kwargs})
        ax.bar(k + 0.2, [getattr(self, f) for f in self.FLOORS], 0.4,
               label="exact draws (floor)")
        ax.set_xticks(k, list(self.METRICS))
        ax.set_yscale("log")
        ax.set_title(f"{self.method}, weight {self.weight:g}")
        ax.legend()
        return ax

    def to_xarray(self):
        """``gap`` and ``floor`` on ``metric`` (sw, mean_shift, kl) and ``cov_error``; method,
        weight, gamma, nfe, n in attrs."""
        from ._surface import xarray

        xr = xarray()
        return xr.Dataset(
            {"gap": ("metric", [float(getattr(self, m)) for m in self.METRICS]),
             "floor": ("metric", [float(getattr(self, f)) for f in self.FLOORS]),
             "cov_error": ((), float(self.cov_error))},
            coords={"metric": list(self.METRICS)},
            attrs={"method": self.method, "weight": self.weight, "gamma": self.gamma,
                   "nfe": self.nfe, "n": self.n})


def _hist_kl(q, samples, bins):
    """KL(q_grid || histogram of samples) on ``bins`` x ``bins`` coarse cells (q aggregated)."""
    nx = q.density.shape[1]
    f = nx // bins
    pq = (q.density * q.cell_area)[: f * bins, : f * bins]
    pq = pq.reshape(bins, f, bins, f).sum(axis=(1, 3))
    ex = np.concatenate((q.xs[::f][:bins] - 0.5 * (q.xs[1] - q.xs[0]),
                         [q.xs[f * bins - 1] + 0.5 * (q.xs[1] - q.xs[0])]))
    ey = np.concatenate((q.ys[::f][:bins] - 0.5 * (q.ys[1] - q.ys[0]),
                         [q.ys[f * bins - 1] + 0.5 * (q.ys[1] - q.ys[0])]))
    h, _, _ = np.histogram2d(samples[:, 1], samples[:, 0], bins=(ey, ex))
    ph = (h + 0.5) / (h.sum() + 0.5 * h.size)  # Jeffreys-smoothed
    mask = pq > 0
    return float(np.sum(pq[mask] * np.log(pq[mask] / ph[mask])))


def guidance_gap(mixture, label, weight, schedule, *, method="cfg", n=4000, nfe=200,
                 solver="dpmpp_2m", rng=None, n_grid=400, kl_bins=40, n_projections=200,
                 progress=False):
    """How far guided sampling lands from the tilted density, for one weight.

    ``method="cfg"``: :class:`ClassifierFreeGuidance` with ``weight`` (target ``gamma =
    1 + weight``); ``method="classifier"``: :class:`ClassifierGuidance` with scale ``weight``
    (``gamma = weight``). ``n`` samples from ``N(0, I)`` at the schedule's start are integrated
    with ``solver`` at ``nfe`` evaluations (high NFE: the gap measured is the guidance's, not the
    solver's; the tests check that doubling ``nfe`` changes little); ``progress`` shows the
    sampler's tqdm bar. Returns a :class:`GuidanceGap`.
    """
    from .posterior import sliced_wasserstein
    from .solvers import sample

    if method not in ("cfg", "classifier"):
        raise ValueError(f"method must be 'cfg' or 'classifier', got {method!r}")
    _check_mixture(mixture)
    _check_schedule(schedule)
    if mixture.dim != 2:
        raise ValueError(f"mixture must be 2-dimensional, got dim={mixture.dim}")
    weight = check_nonnegative("weight", weight)
    n = check_int("n", n, low=2)
    kl_bins = check_int("kl_bins", kl_bins, low=2)
    check_real("weight", weight)
    rng = as_rng(rng)
    if method == "cfg":
        model, gamma = ClassifierFreeGuidance(mixture, schedule, label, weight), 1.0 + weight
    else:
        model, gamma = ClassifierGuidance(mixture, schedule, label, weight), weight
    q = tilted_density(mixture, label, gamma, n_grid=n_grid)
    x_T = rng.standard_normal((n, 2))
    res = sample(model, x_T, schedule, solver=solver, nfe=nfe, return_info=True,
                 progress=progress)
    xs = np.asarray(res.x)
    ref, ref2 = q.sample(n, rng), q.sample(n, rng)
    seed = int(rng.integers(2**31))
    sw = sliced_wasserstein(xs, ref, n_projections=n_projections, rng=seed)
    sw0 = sliced_wasserstein(ref2, ref, n_projections=n_projections, rng=seed)
    return GuidanceGap(
        method=method, weight=weight, gamma=gamma, sw=sw, sw_floor=sw0,
        mean_shift=float(np.linalg.norm(xs.mean(axis=0) - q.mean)),
        mean_floor=float(math.sqrt(np.trace(q.cov) / n)),
        cov_error=float(np.linalg.norm(np.cov(xs.T) - q.cov)),
        kl=_hist_kl(q, xs, kl_bins), kl_floor=_hist_kl(q, ref2, kl_bins),
        nfe=res.nfe, n=n)
