"""Intrinsic dimension of a data manifold from a score model.

Two published estimators (three methods) read the dimension off a (learned or analytic)
score ``s(x, sigma) = grad log p_sigma(x)`` of the Gaussian-smoothed data ``p_sigma = p *
N(0, sigma^2 I)`` near a data point ``x0``:

``"stanczuk"``
    Stanczuk, Batzolis, Deveney & Schönlieb, "Diffusion models encode the intrinsic dimension
    of data manifolds" (ICML 2024, arXiv:2212.12611). At a small noise level the score points
    to the manifold, so scores at ``K >= D`` perturbed points ``x_i = x0 + sigma eps_i`` span
    the normal space: the score matrix ``S = [s(x_i)]`` has ``D - d`` large singular values.
    The spectrum used here is ``sigma^2 S^T S / K`` (normal directions ~ 1, tangent ~ 0), and
    ``d = D - (position of the largest gap)``.
``"horvat_pfister"``
    Horvat & Pfister, "On gauge freedom, conservativity and intrinsic dimensionality
    estimation in diffusion models" (ICLR 2024, arXiv:2402.03845). The probability-flow ODE
    ``dx/d log sigma = -sigma^2 s(x, sigma)`` run backwards from ``sigma_hi`` to ``sigma_lo``
    keeps tangent directions (Jacobian singular values ~ 1) and contracts normal ones
    (``~ sigma_lo / sigma_hi``). The flow-map Jacobian is integrated with the ODE (Heun, exact
    Jacobian of the discrete map); its singular values ``sv`` are reported, and the decision
    uses the scale-free rates ``1 + log(sv) / log(sigma_hi / sigma_lo)`` (1: kept, 0:
    contracted like a normal direction).
``"denoiser"``
    The one-step version: singular values of the Jacobian of the Tweedie denoiser ``D(x) = x +
    sigma^2 s(x)`` at ``x0`` (tangent ~ 1, normal ~ 0); what the flow map becomes for a short
    window. The default: the cheapest and, on the benchmark below, the most accurate.

The score may be a trained model (``predict(x, t, "score")``, e.g. :class:`sciflow.sampling.nn
.MLPModel` or a bound :class:`sciflow.sampling.GaussianMixture`; Jacobians by torch autograd),
a callable ``score(x, sigma)``, or — the default — the exact score of the Gaussian-smoothed
empirical distribution ``(1/n) sum_j N(x_j, sigma^2 I)`` of the data (:func:`smoothed_empirical_
score`): with ``w_j(x) = softmax_j(-|x - x_j|^2 / 2 sigma^2)`` the posterior weights,

* ``s(x) = (m(x) - x) / sigma^2`` with the posterior mean ``m = sum_j w_j x_j`` (= ``D(x)``),
* ``grad s(x) = Cov_w / sigma^4 - I / sigma^2`` with the posterior covariance ``Cov_w =
  sum_j w_j (x_j - m)(x_j - m)^T``, so the denoiser Jacobian is ``Cov_w / sigma^2``.

Its denoiser spectrum is therefore a Gaussian-kernel local PCA normalised by ``sigma^2``: a
flat, well-sampled tangent direction has eigenvalue 1, a normal one ``O((kappa sigma)^2)``.
At a data point the point itself is left out of the sum (otherwise the empirical score just
points back at it: memorisation).

Choosing the noise scale
------------------------
The gap in the spectrum is only visible between two scales: ``sigma`` large enough that the
smoothed data look like a continuum along the manifold (enough neighbours per tangent
direction), small enough that curvature and neighbouring sheets do not fill the normal space.
Both limits vary from point to point, so each point gets its own scan: the scales are the
``sigma`` at which the *effective number of neighbours* ``n_eff = 1 / sum_j w_j^2`` takes the
values ``2, ..., k/3`` (geometric), so the grid adapts to the local density and to the
dimension. At every scale each position ``i`` of the descending spectrum ``v`` has a gap score

    ``z_i = log((v_i + floor) / (v_{i+1} + floor)) - c / sqrt(n_eff)``,

the log-gap between consecutive normalised values (values below ``floor = 0.01`` count as
zero) less an allowance for the spurious gaps that sampling noise alone produces with
``n_eff`` neighbours (the top gap of a sparse 20-dimensional cloud is about ``1.4 /
sqrt(n_eff)``; ``c = 3``); a candidate dimension ``d`` needs ``n_eff >= d + 1`` (fewer
neighbours cannot span ``d`` directions). The point's estimate comes from the finest scale
whose best score is within 0.5 of the best over all scales (a coarser scale may see a
neighbouring turn of a spiral or sheet of a helicoid as an extra dimension), and is that
scale's best candidate; if no score reaches ``min_gap = 0.4`` the spectrum has no gap and the
estimate is the ambient dimension ``D``. The global estimate is the median of the per-point
estimates over the points that found a gap, if at least a quarter of them did, else ``D`` (a
point without a gap is weak evidence: with sparse data the gap of a curved manifold is often
just below the noise allowance). This is the multi-scale gap criterion of local-PCA
dimension estimators (e.g. Little, Maggioni & Rosasco 2017, "Multiscale geometric methods for
data sets I"), applied to the spectra that the two papers read off the score. The constants
were chosen on the scikit-dimension benchmark (and checked on a second draw of it, on 1 000
and 5 000 points and on the test manifolds); a band around them gives the same results.

With a trained model the same data-driven scales are used (``n_eff`` from the data), or give
``sigma``: a model is only useful where it was trained well, and a small network rarely
resolves the score at noise levels far below the data's spacing.

Accuracy (scikit-dimension's 24 benchmark manifolds, 2 500 points, 256 evaluated points,
``benchmarks/bench_gauge_dimension.py``, one thread): mean absolute error ``denoiser`` 0.92 (9
s for all 24 sets), ``horvat_pfister`` 0.96 (38 s), against 1.25 for DANCo (131 s), the best of
scikit-dimension's estimators, and 1.8-8 for the others. The denoiser is exact on 18 of the
24 (Horvat–Pfister on 17), among them the 10-sphere in R^11, the 18- and 24-dimensional
Campadelli manifolds in R^72 and R^96, 20-dimensional affine and Gaussian data, the Möbius band,
the helix, helicoid and spiral, and the paraboloids. Where it fails:

* ``M6``/``M8`` (6 and 12 dimensions; every coordinate pair is a spiral that turns by about a
  radian between neighbouring samples): reported as 12 and 24, the number of directions the
  data fill at every resolvable scale, not the dimension. Local-spectrum methods cannot see
  more at 2 500 points; volume-growth estimators (DANCo: 8 and 12) can.
* the hypercube surfaces ``M10a-d`` (``d = D - 1``, about 18 to 114 points per face, so the
  neighbours of a point lie on other faces): reported as ``D`` (error 1 each).
* the flow map (``horvat_pfister``) averages the spectrum over a window of scales, which on
  the spiral ``M13b`` reaches the neighbouring turn: 2.
* ``"stanczuk"`` with the empirical score fails wherever sampling is sparse (MAE 10): the
  score-matrix energies are about ``1 - lambda`` of the denoiser spectrum ``lambda`` (Fisher's
  identity ``E[sigma^2 s s^T] = I - E[grad D]``), so when the kept directions have ``lambda``
  well below 1 (few neighbours per tangent direction) tangent and normal energies are both
  close to 1 and the gap vanishes on the log scale: 0.88 against 0.72 on the 18-dimensional
  ``Mn1``, where the denoiser spectrum shows 0.13 against 0.04; the largest energy then comes
  from the pull towards the nearest sample (memorisation) and the estimate is ``D - 1``. It is
  exact on 13 sets: the low-dimensional ones in R^3 (not the spiral), the 3-dimensional affine
  set, the 10-sphere, the 3-paraboloid and the four cube surfaces, whose single normal direction
  it reads directly (the denoiser reports ``D`` there).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .._validate import as_rng, check_array, check_choice, check_int, check_positive
from ._surface import new_axes, xarray

__all__ = [
    "METHODS",
    "DimensionResult",
    "SmoothedEmpiricalScore",
    "smoothed_empirical_score",
    "intrinsic_dimension",
]

METHODS = ("denoiser", "horvat_pfister", "stanczuk")
JACOBIANS = ("auto", "autograd", "finite_difference")

_LOGIT_CUT = 60.0  # posterior weights below exp(-60) of the largest are set to zero
_NOISE_COEF = 3.0  # c: sampling-noise allowance c / sqrt(n_eff) subtracted from each log-gap
_MIN_EXTRA = 1  # a candidate dimension d needs n_eff >= d + 1
_NEFF_MIN = 2.0  # smallest effective number of neighbours of the scan
_QUORUM = 0.25  # global estimate from the points with a gap, if at least a quarter have one
_SCALE_TOL = 0.5  # finest scale whose gap score is within 0.5 of the point's best
_HP_SUBSTEPS = 2  # Heun sub-steps per scale interval of the flow (horvat_pfister)


# ============================================================================ weights
def _softmax_rows(logits):
    """Softmax over the last axis, with weights below exp(-60) of the largest set to 0 (no
    underflowing, denormal weights in the products that follow)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    w = np.exp(np.maximum(z, -_LOGIT_CUT))
    w[z < -_LOGIT_CUT] = 0.0
    w /= w.sum(axis=-1, keepdims=True)
    return w


def _posterior(Y, d2, x, sigma, cov):
    """Posterior mean (and covariance) of the data ``Y`` given ``x`` under noise ``sigma``.

    Y : (B, k, D) neighbours, d2 : (B, k) their squared norms, x : (B, M, D) query points (same
    frame as Y), sigma : (B,). Returns m (B, M, D) and, if ``cov`` (only for M = 1), C (B, D, D).
    """
    s2 = (sigma * sigma)[:, None, None]
    xy = np.matmul(x, Y.transpose(0, 2, 1))  # (B, M, k)
    xx = np.sum(x * x, axis=-1, keepdims=True)
    w = _softmax_rows((2.0 * xy - d2[:, None, :] - xx) / (2.0 * s2))
    m = np.matmul(w, Y)
    if not cov:
        return m, None
    w0 = w[:, 0, :]
    C = np.matmul(Y.transpose(0, 2, 1) * w0[:, None, :], Y)
    C -= m[:, 0, :, None] * m[:, 0, None, :]
    C = 0.5 * (C + C.transpose(0, 2, 1))
    return m, C


# ============================================================================ analytic score
class SmoothedEmpiricalScore:
    """Exact score of the Gaussian-smoothed empirical distribution ``(1/n) sum_j N(x_j,
    sigma^2 I)`` of ``X_data`` (module docstring), with its Jacobian in closed form.

    Parameters
    ----------
    X_data : (n, D) array
        The data points ``x_j``.
    sigma : float
        Noise standard deviation.
    k : int, optional
        Only the ``k`` nearest data points of each query (``scipy.spatial.cKDTree``) enter the
        softmax; the neglected weights are at most ``exp(-(r_(k+1)^2 - r_1^2) / 2 sigma^2)``
        relative to the largest. Default: all points when ``n <= 4096``, else ``max(256, 8 D)``.

    Notes
    -----
    Calling the object gives the score; :meth:`denoiser`, :meth:`posterior_covariance`,
    :meth:`jacobian` (``grad s = Cov_w / sigma^4 - I / sigma^2``) and
    :meth:`denoiser_jacobian` (``Cov_w / sigma^2``) take the same ``x`` of shape (m, D) or (D,)
    and optionally another ``sigma`` (scalar or one per row).
    """

    def __init__(self, X_data, sigma, *, k=None):
        X = check_array("X_data", X_data, ndim=2)
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X_data must have shape (n, D) with n, D >= 1, got {X.shape}")
        self.X_data = X
        self.sigma = check_positive("sigma", sigma)
        n, D = X.shape
        if k is None:
            k = n if n <= 4096 else min(n, max(256, 8 * D))
        self.k = check_int("k", k, low=1, high=n)
        self._tree = cKDTree(X)

    @property
    def dim(self) -> int:
        return int(self.X_data.shape[1])

    def __repr__(self):
        n, D = self.X_data.shape
        return f"SmoothedEmpiricalScore(n={n}, D={D}, sigma={self.sigma:g}, k={self.k})"

    def _sigmas(self, sigma, m):
        if sigma is None:
            return np.full(m, self.sigma)
        sig = check_array("sigma", sigma)
        if sig.ndim > 1 or (sig.ndim == 1 and sig.size not in (1, m)):
            raise ValueError(f"sigma must be a scalar or have shape ({m},), got {sig.shape}")
        if np.any(sig <= 0):
            raise ValueError("sigma must be > 0")
        return np.broadcast_to(sig.reshape(-1), (m,)).astype(float)

    def _stats(self, x, cov, sigma):
        x = check_array("x", x)
        single = x.ndim == 1
        xs = x[None, :] if single else x
        if xs.ndim != 2 or xs.shape[1] != self.dim:
            raise ValueError(f"x must have shape (m, {self.dim}) or ({self.dim},), got {x.shape}")
        sig = self._sigmas(sigma, xs.shape[0])
        if self.k == self.X_data.shape[0]:
            nb = np.broadcast_to(np.arange(self.k), (xs.shape[0], self.k))
        else:
            _, nb = self._tree.query(xs, k=self.k)
            nb = nb.reshape(xs.shape[0], self.k)
        Y = self.X_data[nb] - xs[:, None, :]  # frame centred at the query point
        d2 = np.sum(Y * Y, axis=-1)
        m, C = _posterior(Y, d2, np.zeros((xs.shape[0], 1, self.dim)), sig, cov)
        m = m[:, 0, :] + xs
        return single, xs, sig, m, C

    def __call__(self, x, sigma=None):
        """Score ``(m(x) - x) / sigma^2``. ``sigma`` (scalar or one per row) overrides the
        object's noise level, so the object is also a ``score(x, sigma)`` callable for
        :func:`intrinsic_dimension` (which then uses :meth:`jacobian` for the Jacobian)."""
        single, xs, sig, m, _ = self._stats(x, False, sigma)
        s = (m - xs) / (sig * sig)[:, None]
        return s[0] if single else s

    def denoiser(self, x, sigma=None):
        """Posterior mean ``E[x_0 | x] = x + sigma^2 s(x)``."""
        single, _, _, m, _ = self._stats(x, False, sigma)
        return m[0] if single else m

    def posterior_covariance(self, x, sigma=None):
        """``Cov[x_0 | x]``, shape (m, D, D)."""
        single, _, _, _, C = self._stats(x, True, sigma)
        return C[0] if single else C

    def jacobian(self, x, sigma=None):
        """``grad s(x) = Cov_w / sigma^4 - I / sigma^2`` (symmetric), shape (m, D, D)."""
        single, _, sig, _, C = self._stats(x, True, sigma)
        s2 = (sig * sig)[:, None, None]
        J = C / (s2 * s2) - np.eye(self.dim) / s2
        return J[0] if single else J

    def denoiser_jacobian(self, x, sigma=None):
        """``grad D(x) = I + sigma^2 grad s = Cov_w / sigma^2``, shape (m, D, D)."""
        single, _, sig, _, C = self._stats(x, True, sigma)
        J = C / (sig * sig)[:, None, None]
        return J[0] if single else J


def smoothed_empirical_score(X_data, sigma, *, k=None):
    """The exact score of ``(1/n) sum_j N(x_j, sigma^2 I)``: a :class:`SmoothedEmpiricalScore`
    (callable ``x -> s(x)``; ``.jacobian(x)``, ``.denoiser(x)``, ...)."""
    return SmoothedEmpiricalScore(X_data, sigma, k=k)


# ============================================================================ score oracles
class _EmpiricalOracle:
    """Leave-one-out smoothed empirical score at the evaluated data points (closed form)."""

    analytic = True

    def evaluate(self, ctx, x_rel, sigma, jac):
        m, C = _posterior(ctx["Y"], ctx["d2"], x_rel, sigma, jac)
        delta = m - x_rel  # sigma^2 s = D(x) - x
        JD = None if C is None else C / (sigma * sigma)[:, None, None]
        return delta, JD


def _is_mlp_model(obj):
    try:
        from ..sampling.nn import MLPModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, MLPModel)


class _ModelOracle:
    """A score model in variance-exploding coordinates ``x~ = x / alpha``, ``sigma~ = sigma /
    alpha``: ``s~(x~, sigma~) = alpha s(alpha x~, t)`` with ``lambda(t) = -log sigma~``."""

    analytic = False

    def __init__(self, score, schedule, jacobian):
        self.predict = hasattr(score, "predict") and callable(score.predict)
        self.score = score
        self.schedule = schedule
        self.vector_t = _is_mlp_model(score) or not self.predict
        self.torch_module = _is_torch_module(score)
        if jacobian == "auto":
            jacobian = "autograd" if (self.predict or self.torch_module) else (
                "callable" if callable(getattr(score, "jacobian", None)) else "finite_difference")
        self.jacobian = jacobian
        self.n_calls = 0

    def _times(self, sig):
        if self.schedule is None:
            return sig, np.ones_like(sig)
        try:
            t = np.asarray(self.schedule.t_from_lambda(-np.log(sig)), dtype=float)
        except ValueError as exc:
            raise ValueError(f"a noise level sigma in [{sig.min():.3g}, {sig.max():.3g}] is "
                             f"outside the model schedule's range: {exc}") from None
        t = t.reshape(sig.shape)
        a = np.asarray(self.schedule.alpha(t), dtype=float).reshape(sig.shape)
        return t, a

    def _raw(self, x, t, xp):
        """``s(x, t)`` for rows of x (N, D) with per-row times t (NumPy (N,))."""
        self.n_calls += 1
        if self.predict:
            if self.vector_t or np.all(t == t[0]):
                tt = t if self.vector_t else float(t[0])
                return self.score.predict(x, tt, "score")
            out = []
            idx_all = np.arange(t.size)
            parts = []
            for tv in np.unique(t):
                idx = idx_all[t == tv]
                parts.append(idx)
                out.append(self.score.predict(x[idx], float(tv), "score"))
            order = np.argsort(np.concatenate(parts))
            if xp == "torch":
                import torch

                return torch.cat(out, 0)[torch.as_tensor(order)]
            return np.concatenate(out, 0)[order]
        if xp == "torch":
            import torch

            return self.score(x, torch.as_tensor(t, dtype=x.dtype, device=x.device))
        return self.score(x, t)

    def _score_np(self, x, sig):
        t, a = self._times(sig)
        s = np.asarray(self._raw(a[:, None] * x, t, "numpy"), dtype=float)
        if s.shape != x.shape:
            raise ValueError(f"score must return an array of shape {x.shape}, got {s.shape}")
        return a[:, None] * s

    def _score_and_jac_torch(self, x, sig):
        import torch

        t, a = self._times(sig)
        xt = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
        at = torch.as_tensor(a, dtype=torch.float64)[:, None]
        with torch.enable_grad():
            s = self._raw(at * xt, t, "torch")
            if not isinstance(s, torch.Tensor):
                raise TypeError("jacobian='autograd' needs a score that returns a torch tensor "
                                f"for a torch input, got {type(s).__name__}")
            s = at * s.to(torch.float64)
            if tuple(s.shape) != tuple(x.shape):
                raise ValueError(f"score must return shape {x.shape}, got {tuple(s.shape)}")
            D = x.shape[1]
            rows = []
            for i in range(D):
                (g,) = torch.autograd.grad(s[:, i].sum(), xt, retain_graph=i < D - 1)
                rows.append(g)
        J = torch.stack(rows, 1).detach().numpy()
        return s.detach().numpy(), J

    def _score_and_jac(self, x, sig):
        if self.jacobian == "autograd":
            return self._score_and_jac_torch(x, sig)
        if self.jacobian == "callable":
            t, a = self._times(sig)
            J = np.asarray(self.score.jacobian(a[:, None] * x, t), dtype=float)
            if J.shape != x.shape + (x.shape[1],):
                raise ValueError(f"score.jacobian must return shape {x.shape + (x.shape[1],)},"
                                 f" got {J.shape}")
            return self._score_np(x, sig), (a * a)[:, None, None] * J
        # central differences, step ~ 1e-4 sigma (the score varies on the scale sigma)
        N, D = x.shape
        h = 1e-4 * sig
        xs = np.repeat(x[:, None, :], 2 * D, axis=1)
        eye = np.eye(D)
        xs[:, :D, :] += h[:, None, None] * eye
        xs[:, D:, :] -= h[:, None, None] * eye
        vals = self._score_np(xs.reshape(-1, D), np.repeat(sig, 2 * D)).reshape(N, 2 * D, D)
        J = (vals[:, :D, :] - vals[:, D:, :]).transpose(0, 2, 1) / (2.0 * h[:, None, None])
        return self._score_np(x, sig), J

    def evaluate(self, ctx, x_rel, sigma, jac):
        B, M, D = x_rel.shape
        x = (ctx["x0"][:, None, :] + x_rel).reshape(B * M, D)
        sig = np.repeat(sigma, M)
        if jac:
            s, J = self._score_and_jac(x, sig)
            s2 = (sigma * sigma)
            return (s2[:, None] * s).reshape(B, M, D), np.eye(D) + s2[:, None, None] * J
        s = self._score_np(x, sig)
        return (sig[:, None] ** 2 * s).reshape(B, M, D), None


def _is_torch_module(obj):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


# ============================================================================ the result
@dataclass(frozen=True, eq=False)
class DimensionResult:
    """Intrinsic-dimension estimate with its per-point estimates and spectra.

    Attributes
    ----------
    dimension : int
        Global estimate: the median (rounded) of ``local_dimensions`` over the points with a
        gap (``gap >= min_gap``) if at least a quarter of the points have one, else ``D``.
    method : str
    ambient_dim : int
    indices : (P,) int array
        Rows of ``X`` at which the spectra were computed.
    local_dimensions : (P,) int array
        Per-point estimates (``D`` where no gap was found).
    sigma, n_eff : (P,) arrays
        The chosen noise scale of each point and its effective number of neighbours.
    gap : (P,) array
        The gap score of the chosen candidate (``< min_gap``: no gap, estimate ``D``).
    spectra : (P, D) array
        The normalised spectrum at the chosen scale, descending: denoiser-Jacobian singular
        values (``"denoiser"``), flow-Jacobian rates ``1 + log(sv) / log(sigma_hi/sigma_lo)``
        (``"horvat_pfister"``), normal energies ``sigma^2 S^T S / K`` (``"stanczuk"``).
    singular_values : (P, D) array
        The raw singular values at the chosen scale (denoiser Jacobian; flow-map Jacobian;
        score matrix ``S``).
    scale_sigma, scale_n_eff : (P, S) arrays; scale_spectra : (P, S, D) array
        Everything the scan computed, every scale.
    n_evaluations : int
        Score (or score + Jacobian) evaluations of the model, counted per point.
    wall_time : float
        Seconds.
    """

    dimension: int
    method: str
    ambient_dim: int
    indices: np.ndarray
    local_dimensions: np.ndarray
    sigma: np.ndarray
    n_eff: np.ndarray
    gap: np.ndarray
    spectra: np.ndarray
    singular_values: np.ndarray
    scale_sigma: np.ndarray = field(repr=False)
    scale_n_eff: np.ndarray = field(repr=False)
    scale_spectra: np.ndarray = field(repr=False)
    n_evaluations: int = 0
    wall_time: float = 0.0

    def __post_init__(self):
        D = check_int("ambient_dim", self.ambient_dim, low=1)
        check_int("dimension", self.dimension, low=0, high=D)
        check_choice("method", self.method, METHODS)
        loc = np.asarray(self.local_dimensions)
        if loc.shape != np.shape(self.indices) or np.any(loc < 0) or np.any(loc > D):
            raise ValueError(f"local_dimensions must have the shape of indices and lie in "
                             f"[0, {D}], got shape {loc.shape}")
        check_int("n_evaluations", self.n_evaluations, low=0)

    def __repr__(self):
        counts = np.bincount(self.local_dimensions, minlength=self.ambient_dim + 1)
        top = np.argsort(counts)[::-1][:3]
        hist = ", ".join(f"{d}: {counts[d]}" for d in top if counts[d] > 0)
        return (f"DimensionResult(dimension={self.dimension}, method={self.method!r}, "
                f"ambient_dim={self.ambient_dim}, points={self.indices.size}, "
                f"local estimates {{{hist}}}, wall_time={self.wall_time:.3g} s)")

    def __int__(self):
        return int(self.dimension)

    def plot(self, ax=None, max_lines=60, **kwargs):
        """The normalised spectra (each divided by its largest value, floored at 1e-6) of up to
        ``max_lines`` points (``kwargs`` go to their ``Axes.plot``), their median, and the
        estimated dimension. Returns the Axes."""
        max_lines = check_int("max_lines", max_lines, low=0)
        ax = new_axes(ax)
        v = np.asarray(self.spectra, dtype=float)
        top = np.max(v, axis=1, keepdims=True)
        top[top <= 0] = 1.0
        v = np.maximum(v / top, 1e-6)
        i = np.arange(1, v.shape[1] + 1)
        kwargs = {"color": "0.6", "lw": 0.6, "alpha": 0.5, **kwargs}
        for row in v[:max_lines]:
            ax.plot(i, row, **kwargs)
        ax.plot(i, np.median(v, axis=0), "o-", color="C0", lw=2, label="median")
        cut = (self.ambient_dim - self.dimension if self.method == "stanczuk"
               else self.dimension)
        if 0 < cut < self.ambient_dim:
            ax.axvline(cut + 0.5, color="C3", ls="--",
                       label=f"d = {self.dimension}" + (f" (codim {cut})"
                                                        if self.method == "stanczuk" else ""))
        ax.set_yscale("log")
        what = {"denoiser": "denoiser-Jacobian singular values",
                "horvat_pfister": "flow-Jacobian rates 1 + log(sv)/L",
                "stanczuk": "score-matrix energies"}[self.method]
        ax.set(xlabel="index", ylabel=f"normalised {what}",
               title=f"{self.method}: d = {self.dimension} (D = {self.ambient_dim})")
        ax.legend()
        return ax

    def to_xarray(self):
        """An xarray Dataset over ``point`` (coordinate ``index``: the rows of ``X``),
        ``component`` (1..D, descending spectra) and ``scale``: ``local_dimensions``,
        ``sigma``, ``n_eff``, ``gap`` (point), ``spectra``, ``singular_values`` (point,
        component), ``scale_sigma``, ``scale_n_eff`` (point, scale), ``scale_spectra`` (point,
        scale, component); the global estimate and counts as attributes (xarray imported
        lazily)."""
        P = np.size(self.indices)
        ps, psc = ("point", "component"), ("point", "scale", "component")
        data = {"local_dimensions": ("point", np.asarray(self.local_dimensions)),
                "sigma": ("point", np.asarray(self.sigma), {"long_name": "chosen noise scale"}),
                "n_eff": ("point", np.asarray(self.n_eff)),
                "gap": ("point", np.asarray(self.gap)),
                "spectra": (ps, np.asarray(self.spectra)),
                "singular_values": (ps, np.asarray(self.singular_values)),
                "scale_sigma": (("point", "scale"), np.asarray(self.scale_sigma)),
                "scale_n_eff": (("point", "scale"), np.asarray(self.scale_n_eff)),
                "scale_spectra": (psc, np.asarray(self.scale_spectra))}
        D = np.shape(self.spectra)[1]
        return xarray().Dataset(
            data,
            coords={"point": np.arange(P), "index": ("point", np.asarray(self.indices)),
                    "component": np.arange(1, D + 1),
                    "scale": np.arange(np.shape(self.scale_sigma)[1])},
            attrs={"dimension": int(self.dimension), "method": self.method,
                   "ambient_dim": int(self.ambient_dim), "n_evaluations": int(self.n_evaluations),
                   "wall_time": float(self.wall_time)})


# ============================================================================ the estimator
def _check_score(score):
    if score is None:
        return None
    if hasattr(score, "predict") and callable(score.predict):
        return score
    if callable(score):
        return score
    raise TypeError(f"score must be None, a callable score(x, sigma) or a model with "
                    f"predict(x, t, kind), got {type(score).__name__}")


def _check_sigma(sigma):
    if sigma is None:
        return None
    if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool):
        return np.array([check_positive("sigma", sigma)])
    arr = check_array("sigma", sigma, ndim=1, min_size=1)
    if np.any(arr <= 0):
        raise ValueError("sigma must be > 0")
    return np.sort(arr)


def _neff(d2, sig):
    """Effective number of neighbours ``1 / sum w^2`` at scales sig (B, S) for sq. dist d2."""
    w = _softmax_rows(-d2[:, None, :] / (2.0 * sig[:, :, None] ** 2))
    return 1.0 / np.sum(w * w, axis=-1)


def _adaptive_scales(d2, targets, n_grid=96):
    """Per point, the sigma at which n_eff reaches each target (log-interpolated)."""
    B, k = d2.shape
    pos = np.where(d2 > 0, d2, np.inf)
    r_lo = np.sqrt(np.min(pos, axis=1))
    r_lo = np.where(np.isfinite(r_lo), r_lo, 1.0)
    r_hi = np.sqrt(d2[:, -1])
    r_hi = np.maximum(r_hi, 2.0 * r_lo)
    u = np.linspace(0.0, 1.0, n_grid)
    grid = np.exp(np.log(r_lo / 8.0)[:, None] + u[None, :] * np.log(8.0 * r_hi / r_lo)[:, None])
    ne = np.maximum.accumulate(_neff(d2, grid), axis=1)
    sig = np.empty((B, targets.size))
    lg = np.log(grid)
    for b in range(B):
        sig[b] = np.exp(np.interp(np.log(targets), np.log(ne[b]), lg[b]))
    return sig


def _gap_scores(v, neff, floor, dims):
    """Gap scores z (.., S, D-1) for a descending spectrum v (.., S, D); dims: candidate
    dimension of each gap position (D-1,)."""
    lv = np.log(np.maximum(v, 0.0) + floor)
    z = lv[..., :-1] - lv[..., 1:] - _NOISE_COEF / np.sqrt(neff)[..., None]
    ok = neff[..., None] >= dims + _MIN_EXTRA
    return np.where(ok, z, -np.inf)


def _decide(v, neff, floor, min_gap, method):
    """Per-point (estimate, chosen scale, gap score) from spectra v (P, S, D).

    Each scale's best gap score ``z_s``; the point's best ``z* = max_s z_s``; the chosen scale
    is the smallest one with ``z_s >= max(z* - tol, min_gap)`` (the finest scale that shows a
    gap about as clear as the best one: a coarser scale can see a neighbouring sheet of the
    manifold as an extra dimension), and the estimate its best gap. ``z* < min_gap``: ``D``.
    """
    P, S, D = v.shape
    if D == 1:
        return np.ones(P, dtype=int), np.full(P, S - 1), np.zeros(P)
    pos = np.arange(1, D)
    dims = D - pos if method == "stanczuk" else pos
    z = _gap_scores(v, neff, floor, dims)  # (P, S, D-1)
    zmax = z.max(axis=2)
    best = zmax.max(axis=1)
    found = best >= min_gap
    near = zmax >= np.maximum(best - _SCALE_TOL, min_gap)[:, None]
    s_idx = np.where(found, np.argmax(near, axis=1), S - 1)
    rows = np.arange(P)
    g_idx = np.argmax(z[rows, s_idx], axis=1)
    est = np.where(found, dims[g_idx], D)
    return est.astype(int), s_idx, best


def intrinsic_dimension(X, method="denoiser", score=None, *, sigma=None, n_points=256, k=None,
                        n_scales=12, n_samples=None, schedule=None, jacobian="auto",
                        floor=0.01, min_gap=0.4, rng=None, progress=False,
                        return_details=False, num_threads=1):
    """Intrinsic dimension of the data ``X`` from the score (module docstring).

    Parameters
    ----------
    X : (n, D) array
        Data points (at least 3). The spectra are computed at ``n_points`` of them; all of them
        define the empirical score and the noise scales.
    method : "denoiser", "horvat_pfister" or "stanczuk"
    score : None, callable or model
        ``None``: the exact (leave-one-out) score of the Gaussian-smoothed data. A model with
        ``predict(x, t, "score")`` (times from ``schedule``, default the model's own; ``x`` is
        scaled by ``alpha(t)`` and ``t`` solves ``lambda(t) = -log sigma``). A callable
        ``score(x, sigma)`` taking (N, D) points and (N,) noise levels (variance-exploding,
        ``x_sigma = x_0 + sigma eps``, unless ``schedule`` is given, then ``sigma`` is the
        schedule's time).
    sigma : None, float or 1-D array
        ``None`` (default): per-point adaptive scan (module docstring). A float: that one noise
        level for every point. An array: scan those levels for every point.
    n_points : int or None
        How many points (drawn with ``rng``) get a spectrum; ``None``: all.
    k : int, optional
        Nearest neighbours entering the empirical score and the scale choice; default
        ``min(n - 1, max(64, 4 D))``. The scan goes up to ``n_eff = k / 3``.
    n_scales : int
        Number of scales of the adaptive scan.
    n_samples : int, optional
        ``"stanczuk"``: perturbed points per data point, default ``max(2 D, 16)``, rounded up
        to a multiple of ``D``: the perturbations ``eps_i`` are ``sqrt(D)`` times the rows of
        random orthogonal matrices, so that their second moment is exactly ``I`` (Gaussian
        draws give the normal-space energies a Marchenko–Pastur spread that hides the gap
        unless ``K >> D``).
    schedule : Schedule, optional
        Overrides the model's schedule (see ``score``).
    jacobian : "auto", "autograd" or "finite_difference"
        How a model's Jacobian is taken: ``"auto"`` is closed form for the empirical score,
        torch autograd for a ``predict`` model or ``torch.nn.Module``, ``score.jacobian(x,
        t)`` where the callable has one, else central differences. ``"autograd"`` calls a
        plain callable with torch tensors.
    floor : float
        Normalised eigenvalues below ``floor`` count as zero in the gap scores.
    min_gap : float
        Smallest gap score accepted as a gap; with none the estimate is ``D``.
    rng : numpy Generator or seed
        Draws the points (and the Stanczuk perturbations).
    progress : bool
        tqdm progress bar over batches of points.
    return_details : bool
        Return a :class:`DimensionResult` instead of the integer.
    num_threads : int or None
        BLAS threads (through ``threadpoolctl``, when installed) and torch threads for the
        duration of the call; ``None`` keeps the current settings. The work is many small
        batched matrix products, for which one thread is fastest: on a shared two-core machine
        the default BLAS threading made the 72-dimensional benchmark sets 18 times slower.

    Returns
    -------
    int, or DimensionResult with ``return_details=True``.
    """
    if num_threads is not None:
        num_threads = check_int("num_threads", num_threads, low=1)
    with _thread_limit(num_threads, score):
        return _intrinsic_dimension(X, method, score, sigma, n_points, k, n_scales, n_samples,
                                    schedule, jacobian, floor, min_gap, rng, progress,
                                    return_details)


@contextlib.contextmanager
def _thread_limit(num_threads, score):
    if num_threads is None:
        yield
        return
    torch = sys.modules.get("torch") if score is not None else None
    old = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn / scipy
        limiter = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=num_threads)
    try:
        if torch is not None:
            torch.set_num_threads(num_threads)
        with limiter:
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(old)


def _intrinsic_dimension(X, method, score, sigma, n_points, k, n_scales, n_samples, schedule,
                         jacobian, floor, min_gap, rng, progress, return_details):
    t_start = time.perf_counter()
    X = check_array("X", X, ndim=2)
    n, D = X.shape
    if n < 3 or D < 1:
        raise ValueError(f"X must have shape (n, D) with n >= 3 and D >= 1, got {X.shape}")
    check_choice("method", method, METHODS)
    score = _check_score(score)
    check_choice("jacobian", jacobian, JACOBIANS)
    sig_fixed = _check_sigma(sigma)
    if n_points is None:
        n_points = n
    n_points = check_int("n_points", n_points, low=1)
    k = min(n - 1, max(64, 4 * D)) if k is None else check_int("k", k, low=2, high=n - 1)
    n_scales = check_int("n_scales", n_scales, low=1)
    if n_samples is None:
        n_samples = max(2 * D, 16)
    n_samples = check_int("n_samples", n_samples, low=1)
    n_samples = D * (-(-n_samples // D))  # whole orthonormal blocks
    floor = check_positive("floor", floor)
    if not isinstance(min_gap, numbers.Real) or isinstance(min_gap, bool):
        raise TypeError(f"min_gap must be a real number, got {min_gap!r}")
    min_gap = float(min_gap)
    for name, val in (("progress", progress), ("return_details", return_details)):
        if not isinstance(val, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {val!r}")
    if schedule is not None:
        from ..sampling.schedules import Schedule

        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a sciflow.sampling schedule, got "
                            f"{type(schedule).__name__}")
    rng = as_rng(rng)

    if score is None:
        if jacobian == "autograd":
            raise ValueError("jacobian='autograd' needs a score model; the empirical score has "
                             "a closed-form Jacobian")
        oracle = _EmpiricalOracle()
    else:
        sched = schedule if schedule is not None else getattr(score, "schedule", None)
        if sched is None and hasattr(score, "predict"):
            raise ValueError("score has predict() but no schedule; pass schedule=")
        oracle = _ModelOracle(score, sched, jacobian)

    P = min(n_points, n)
    idx = np.sort(rng.choice(n, size=P, replace=False)) if P < n else np.arange(n)
    tree = cKDTree(X)
    dist, nb = tree.query(X[idx], k=k + 1)
    # leave the point itself out (it may not be first among exact duplicates)
    self_mask = nb == idx[:, None]
    has_self = self_mask.any(axis=1)
    drop = np.where(has_self, np.argmax(self_mask, axis=1), k)
    keep = np.ones_like(nb, dtype=bool)
    keep[np.arange(P), drop] = False
    nb = nb[keep].reshape(P, k)
    dist = dist[keep].reshape(P, k)
    d2_all = dist * dist
    if not np.any(d2_all > 0):
        raise ValueError("X has no two distinct points")

    n_max = max(k / 3.0, _NEFF_MIN + 1.0)
    if sig_fixed is None:
        targets = np.geomspace(_NEFF_MIN, n_max, n_scales) if n_scales > 1 else np.array([n_max])
    S = n_scales if sig_fixed is None else sig_fixed.size

    spectra = np.zeros((P, S, D))
    raw = np.zeros((P, S, D))
    sig_all = np.zeros((P, S))
    neff_all = np.zeros((P, S))
    chunk = max(1, int(2e7 // max(1, k * D * (n_samples if method == "stanczuk" else D))))
    chunk = min(chunk, 256)
    starts = range(0, P, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"intrinsic_dimension ({method})", leave=False)
    n_eval = 0
    for a in starts:
        sl = slice(a, min(a + chunk, P))
        x0 = X[idx[sl]]
        Y = X[nb[sl]] - x0[:, None, :]
        d2 = d2_all[sl]
        B = x0.shape[0]
        if sig_fixed is None:
            sig = _adaptive_scales(d2, targets)
        else:
            sig = np.broadcast_to(sig_fixed, (B, S)).copy()
        ne = _neff(d2, sig)
        ctx = {"x0": x0, "Y": Y, "d2": d2}
        sig_all[sl], neff_all[sl] = sig, ne
        if method == "denoiser":
            v, sv, ne_ = _denoiser_spectra(oracle, ctx, sig, D)
            n_eval += B * S
        elif method == "horvat_pfister":
            v, sv, ne_ = _flow_spectra(oracle, ctx, sig, D)
            n_eval += B * S * 4 * _HP_SUBSTEPS
        else:
            v, sv, ne_ = _stanczuk_spectra(oracle, ctx, sig, D, n_samples, rng)
            n_eval += B * S * n_samples
        if ne_ is not None:
            neff_all[sl] = ne_
        spectra[sl], raw[sl] = v, sv
    est, s_idx, gap = _decide(spectra, neff_all, floor, min_gap, method)
    rows = np.arange(P)
    found = gap >= min_gap
    if found.mean() >= _QUORUM:
        dim = int(np.floor(np.median(est[found]) + 0.5))
    else:
        dim = D
    if not return_details:
        return dim
    return DimensionResult(
        dimension=dim, method=method, ambient_dim=D, indices=idx, local_dimensions=est,
        sigma=sig_all[rows, s_idx], n_eff=neff_all[rows, s_idx], gap=gap,
        spectra=spectra[rows, s_idx], singular_values=raw[rows, s_idx], scale_sigma=sig_all,
        scale_n_eff=neff_all, scale_spectra=spectra, n_evaluations=int(n_eval),
        wall_time=time.perf_counter() - t_start)


# ============================================================================ spectra
def _denoiser_spectra(oracle, ctx, sig, D):
    B, S = sig.shape
    v = np.empty((B, S, D))
    zero = np.zeros((B, 1, D))
    for s in range(S):
        _, JD = oracle.evaluate(ctx, zero, sig[:, s], True)
        if oracle.analytic:  # Cov_w / sigma^2: symmetric positive semi-definite
            ev = np.linalg.eigvalsh(JD)[:, ::-1]
            v[:, s] = np.maximum(ev, 0.0)
        else:
            v[:, s] = np.linalg.svd(JD, compute_uv=False)
    return v, v, None


def _flow_spectra(oracle, ctx, sig, D):
    """Flow-map Jacobians of the probability-flow ODE from sigma_hi to sigma_lo around each
    scale (its neighbours on the grid; one-sided at the ends), started at x0, integrated in
    log sigma with Heun steps; the exact Jacobian of the discrete map is propagated."""
    B, S = sig.shape
    eye = np.eye(D)
    v = np.empty((B, S, D))
    sv = np.empty((B, S, D))
    ne_out = None
    for s in range(S):
        hi = sig[:, min(s + 1, S - 1)]
        lo = sig[:, max(s - 1, 0)]
        if S == 1:
            hi, lo = sig[:, 0] * math.e ** 0.25, sig[:, 0] * math.e ** -0.25
        same = hi <= lo * (1 + 1e-12)
        hi = np.where(same, lo * math.e ** 0.25, hi)
        L = np.log(hi / lo)
        x = np.zeros((B, 1, D))
        J = np.broadcast_to(eye, (B, D, D)).copy()
        u = np.log(hi)
        n_sub = 2 * _HP_SUBSTEPS
        h = -L / n_sub
        for _ in range(n_sub):
            s_a = np.exp(u)
            delta1, JD1 = oracle.evaluate(ctx, x, s_a, True)
            A1 = eye - JD1  # d(-delta)/dx
            x_pred = x - h[:, None, None] * delta1
            s_b = np.exp(u + h)
            delta2, JD2 = oracle.evaluate(ctx, x_pred, s_b, True)
            A2 = eye - JD2
            step = eye + 0.5 * h[:, None, None] * (A1 + A2 @ (eye + h[:, None, None] * A1))
            x = x - 0.5 * h[:, None, None] * (delta1 + delta2)
            J = step @ J
            u = u + h
        vals = np.linalg.svd(J, compute_uv=False)
        sv[:, s] = vals
        rate = 1.0 + np.log(np.maximum(vals, 1e-300)) / L[:, None]
        v[:, s] = np.maximum(rate, 0.0)
    return v, sv, ne_out


def _orthogonal_directions(rng, B, K, D):
    """(B, K, D) perturbation directions: K / D random orthonormal bases scaled by sqrt(D), so
    that sum_i eps_i eps_i^T = K I exactly (same second moment as Gaussian draws, no
    sampling spread of the normal-space energies)."""
    m = K // D
    g = rng.standard_normal((B * m, D, D))
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    return math.sqrt(D) * q.transpose(0, 2, 1).reshape(B, m * D, D)


def _stanczuk_spectra(oracle, ctx, sig, D, K, rng):
    B, S = sig.shape
    v = np.empty((B, S, D))
    sv = np.empty((B, S, D))
    for s in range(S):
        sg = sig[:, s]
        eps = _orthogonal_directions(rng, B, K, D)
        x = sg[:, None, None] * eps
        delta, _ = oracle.evaluate(ctx, x, sg, False)  # sigma^2 s(x_i)
        # energies sigma^2 S^T S / K with S = delta / sigma^2
        G = np.matmul(delta.transpose(0, 2, 1), delta) / (K * (sg * sg)[:, None, None])
        ev = np.maximum(np.linalg.eigvalsh(G)[:, ::-1], 0.0)
        v[:, s] = ev
        sv[:, s] = np.sqrt(ev * K) / sg[:, None]  # singular values of S itself
    return v, sv, None
