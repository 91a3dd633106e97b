"""Geometric Brownian motion: the exact transition law, its scores, and its log-space schedule.

Each coordinate of ``X`` follows ``dX = mu(t) X dt + sigma(t) X dW`` (Itô; ``X > 0``). By Itô's
formula ``Y = log X`` solves the *additive* SDE ``dY = (mu - sigma^2/2) dt + sigma dW``, so

    log X_t | x0 ~ N(log x0 + m(t), v(t)),
    m(t) = int_0^t (mu(s) - sigma(s)^2 / 2) ds,   v(t) = int_0^t sigma(s)^2 ds,

a log-normal law that solves the Fokker–Planck equation
``p_t = -(mu x p)_x + 1/2 (sigma^2 x^2 p)_xx``. The scores of the conditional law are

    Stein score      s(x)     = d/dx log p = -(log x - log x0 - m) / (v x) - 1/x,
    Hyvärinen score  x s(x)   = -(log x - log x0 - m) / v - 1.

The centred log variable ``Z = log X - m(t)`` is a variance-exploding diffusion
``Z_t = Z_0 + sqrt(v(t)) eps`` (alpha = 1, sigma_Z = sqrt(v)): :class:`GBMSchedule` is that
schedule in the form of :mod:`sciflow.sampling`, so a Gaussian mixture in log space
(:class:`LogNormalMixture`) is noised, scored and sampled by the sampling core's
:class:`~sciflow.sampling.GaussianMixture` and solvers. With ``p_Z`` the density of ``Z``,
``p_X(x) = p_Z(log x - m) / prod(x)`` and ``x ∘ grad_x log p_X = grad_z log p_Z - 1``.

References
----------
Shetty, Prasath & Seelamantula, "Dale meets Langevin: a multiplicative denoising diffusion
model", arXiv:2510.02730 (2025). Øksendal, *Stochastic Differential Equations*, §5.1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from .._validate import as_rng, check_array, check_int, check_positive
from ..sampling.backend import as_float_array
from ..sampling.models import GaussianMixture
from ..sampling.schedules import Schedule, _out

__all__ = ["GBM", "GBMSchedule", "LogNormalMixture", "BoundLogNormalMixture"]


def _check_coefficient(name, value, *, positive):
    """A finite real number (> 0 if ``positive``) or a callable of t (checked at t = 0, 1)."""
    if callable(value):
        for t in (0.0, 1.0):
            try:
                v = float(value(t))
            except Exception as exc:  # noqa: BLE001 - re-raised with the parameter's name
                raise TypeError(f"{name}(t) must return a real number, failed at t={t}: "
                                f"{exc!r}") from None
            if not math.isfinite(v) or (positive and v <= 0.0):
                raise ValueError(f"{name}(t) must be {'> 0 and ' if positive else ''}finite, "
                                 f"got {name}({t}) = {v}")
        return value
    if positive:
        return check_positive(name, value)
    return _real(name, value)


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or a callable of t, got "
                        f"{type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _check_times(name, t, *, allow_zero=False):
    """``t`` as a float64 array of finite times, > 0 (or >= 0)."""
    arr = check_array(name, t)
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        bad = arr[(arr < 0) | ((arr == 0) & (not allow_zero))].flat[0]
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {bad}")
    return arr


def _check_positive_data(name, x):
    """``x`` as a float array (NumPy or torch) with every entry finite and > 0."""
    x, xp = as_float_array(name, x)
    xn = xp.to_numpy(x)
    if not np.all(np.isfinite(xn)):
        raise ValueError(f"{name} must be finite")
    if np.any(xn <= 0):
        raise ValueError(f"{name} must be > 0 (geometric Brownian motion lives on x > 0), got "
                         f"min {float(np.min(xn))}")
    return x, xp


@dataclass(frozen=True)
class GBM:
    """Geometric Brownian motion ``dX = mu X dt + sigma X dW``, coordinate-wise.

    Parameters
    ----------
    mu : float or callable t -> float
        Drift rate (1/time). The authors' choice is ``mu = sigma^2 / 2``.
    sigma : float or callable t -> float
        Volatility (1/sqrt(time)), > 0. The authors use ``sigma = 0.8`` on ``t in [0, 1]``.
    """

    mu: float | Callable = 0.32
    sigma: float | Callable = 0.8

    def __post_init__(self):
        object.__setattr__(self, "mu", _check_coefficient("mu", self.mu, positive=False))
        object.__setattr__(self, "sigma", _check_coefficient("sigma", self.sigma, positive=True))

    @property
    def constant(self) -> bool:
        """True when ``mu`` and ``sigma`` are constants (closed forms everywhere)."""
        return not (callable(self.mu) or callable(self.sigma))

    # ------------------------------------------------------------------ coefficients
    def mu_at(self, t):
        """mu(t)."""
        t = _check_times("t", t, allow_zero=True)
        return _out(np.vectorize(self.mu, otypes=[float])(t) if callable(self.mu)
                    else np.full_like(t, self.mu))

    def sigma_at(self, t):
        """sigma(t)."""
        t = _check_times("t", t, allow_zero=True)
        return _out(np.vectorize(self.sigma, otypes=[float])(t) if callable(self.sigma)
                    else np.full_like(t, self.sigma))

    def _integral(self, f, t):
        return np.vectorize(lambda s: quad(f, 0.0, s, limit=200, epsabs=1e-15,
                                           epsrel=1e-12)[0] if s > 0 else 0.0,
                            otypes=[float])(t)

    def log_mean(self, t):
        """``m(t) = int_0^t (mu - sigma^2/2) ds``: the mean of ``log X_t - log x0``."""
        t = _check_times("t", t, allow_zero=True)
        if self.constant:
            return _out((self.mu - 0.5 * self.sigma**2) * t)
        mu, sg = self._fn(self.mu), self._fn(self.sigma)
        return _out(self._integral(lambda s: mu(s) - 0.5 * sg(s) ** 2, t))

    def log_variance(self, t):
        """``v(t) = int_0^t sigma^2 ds``: the variance of ``log X_t``."""
        t = _check_times("t", t, allow_zero=True)
        if self.constant:
            return _out(self.sigma**2 * t)
        sg = self._fn(self.sigma)
        return _out(self._integral(lambda s: sg(s) ** 2, t))

    @staticmethod
    def _fn(c):
        return c if callable(c) else (lambda s, c=c: c)

    def schedule(self, t_start: float = 1.0, t_end: float = 1e-3) -> GBMSchedule:
        """The log-space noise schedule ``alpha = 1, sigma_Z = sqrt(v(t))`` (see module doc)."""
        return GBMSchedule(self, t_start=t_start, t_end=t_end)

    # ------------------------------------------------------------------ conditional law
    def _terms(self, x, t, x0):
        x, xp = _check_positive_data("x", x)
        x0, _ = _check_positive_data("x0", x0)
        t = float(_check_times("t", t))
        if np.ndim(t) != 0:
            raise ValueError("t must be a scalar time")
        m, v = float(self.log_mean(t)), float(self.log_variance(t))
        return x, xp, x0, m, v

    def sample(self, x0, t, rng=None):
        """Exact draw of ``X_t`` given ``X_0 = x0`` (same shape and type as ``x0``)."""
        x0, xp = _check_positive_data("x0", x0)
        t = float(_check_times("t", t, allow_zero=True))
        m, v = float(self.log_mean(t)), float(self.log_variance(t))
        z = as_rng(rng).standard_normal(tuple(x0.shape))
        return x0 * xp.exp(xp.from_numpy(m + math.sqrt(v) * z, like=x0))

    def log_density(self, x, t, x0):
        """log p(x, t | x0) per coordinate (sum over coordinates for the joint density)."""
        x, xp, x0, m, v = self._terms(x, t, x0)
        r = xp.log(x) - xp.log(x0) - m
        return -0.5 * r * r / v - 0.5 * math.log(2.0 * math.pi * v) - xp.log(x)

    def hyvarinen_score(self, x, t, x0):
        """``x ∘ d/dx log p(x, t | x0) = -(log x - log x0 - m)/v - 1``."""
        x, xp, x0, m, v = self._terms(x, t, x0)
        return -(xp.log(x) - xp.log(x0) - m) / v - 1.0

    def stein_score(self, x, t, x0):
        """``d/dx log p(x, t | x0) = hyvarinen_score / x``."""
        return self.hyvarinen_score(x, t, x0) / as_float_array("x", x)[0]


@dataclass(frozen=True)
class GBMSchedule(Schedule):
    """The log-space schedule of a :class:`GBM`: ``alpha = 1``, ``sigma_Z(t) = sqrt(v(t))``.

    ``Z = log X - m(t)`` is then ``Z_t = Z_0 + sigma_Z(t) eps``, a variance-exploding diffusion
    that :func:`sciflow.sampling.sample` solves; ``t_start``/``t_end`` are the default sampling
    window (the authors' ``[1e-3, 1]``).
    """

    gbm: GBM = field(default_factory=GBM)
    t_start: float = 1.0
    t_end: float = 1e-3

    t_min: ClassVar[float] = 0.0

    def __post_init__(self):
        if not isinstance(self.gbm, GBM):
            raise TypeError(f"gbm must be a GBM, got {type(self.gbm).__name__}")
        object.__setattr__(self, "t_start", check_positive("t_start", self.t_start))
        object.__setattr__(self, "t_end", check_positive("t_end", self.t_end))
        if not self.t_start > self.t_end:
            raise ValueError(f"t_start must be > t_end, got t_start={self.t_start}, "
                             f"t_end={self.t_end}")

    @property
    def t_max(self) -> float:
        return math.inf

    @property
    def t_eps(self) -> float:
        return self.t_end

    @property
    def t_max_finite(self) -> float:
        return self.t_start

    def _v(self, t):
        return np.asarray(self.gbm.log_variance(np.minimum(t, 1e300)), dtype=float)

    def _log_alpha(self, t):
        return np.zeros_like(t)

    def _log_sigma(self, t):
        with np.errstate(divide="ignore"):
            return 0.5 * np.log(self._v(t))

    def _lambda(self, t):
        return -self._log_sigma(t)

    def _t_from_lambda(self, lam):
        lam = np.asarray(lam, dtype=float)
        if self.gbm.constant:
            with np.errstate(under="ignore", over="ignore"):
                return np.exp(-2.0 * lam) / self.gbm.sigma**2
        v_target = np.exp(-2.0 * lam)

        def invert(vt):
            if vt == 0.0:
                return 0.0
            hi = 1.0
            while float(self.gbm.log_variance(hi)) < vt:
                hi *= 2.0
            return brentq(lambda s: float(self.gbm.log_variance(s)) - vt, 0.0, hi,
                          xtol=1e-15, rtol=1e-14)

        return np.vectorize(invert, otypes=[float])(v_target)

    def t_from_lambda(self, lam):
        lam = np.asarray(lam, dtype=float)
        if np.any(np.isnan(lam)) or np.any(lam == -np.inf):
            raise ValueError("lam must be finite or +inf for GBMSchedule (v = exp(-2 lam))")
        return _out(self._t_from_lambda(lam))

    def _dlog_alpha(self, t):
        return np.zeros_like(t)

    def _sigma_dsigma(self, t):
        s = np.asarray(self.gbm.sigma_at(t), dtype=float)
        return 0.5 * s * s

    def _dsigma_at_zero(self):
        return np.inf


@dataclass(frozen=True, eq=False)
class LogNormalMixture:
    """A mixture of multivariate log-normals: ``log X ~ sum_k w_k N(log_means_k, log_covs_k)``.

    Parameters
    ----------
    weights : (K,) array_like
        Non-negative, normalised to sum 1.
    log_means : (K, d) array_like
        Means of ``log X`` per component.
    log_covs : (K, d, d) array_like
        Covariances of ``log X`` (symmetric positive definite).
    """

    weights: np.ndarray
    log_means: np.ndarray
    log_covs: np.ndarray
    log_mixture: GaussianMixture = field(init=False, repr=False)

    def __post_init__(self):
        try:
            gm = GaussianMixture(self.weights, self.log_means, self.log_covs)
        except (TypeError, ValueError) as exc:
            msg = str(exc).replace("means", "log_means").replace("covs", "log_covs")
            raise type(exc)(msg) from None
        object.__setattr__(self, "log_mixture", gm)
        object.__setattr__(self, "weights", gm.weights)
        object.__setattr__(self, "log_means", gm.means)
        object.__setattr__(self, "log_covs", gm.covs)

    @property
    def dim(self) -> int:
        return self.log_mixture.dim

    def sample(self, n, rng=None):
        """``n`` draws of ``X_0`` (shape (n, d), all > 0)."""
        return np.exp(self.log_mixture.sample(n, rng))

    def bind(self, gbm: GBM) -> BoundLogNormalMixture:
        """The exact marginal ``p_t`` of the mixture noised by ``gbm``."""
        if not isinstance(gbm, GBM):
            raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
        return BoundLogNormalMixture(self, gbm)


class BoundLogNormalMixture:
    """The exact GBM-noised marginal of a :class:`LogNormalMixture` at every ``t > 0``.

    Computed through the log-space Gaussian mixture of :mod:`sciflow.sampling` under
    :class:`GBMSchedule` (``z = log x - m(t)``). Methods take ``x`` of shape (..., d), NumPy or
    torch, and a scalar ``t``.
    """

    def __init__(self, mixture: LogNormalMixture, gbm: GBM):
        self.mixture = mixture
        self.gbm = gbm
        self.schedule = gbm.schedule()

    @property
    def dim(self) -> int:
        return self.mixture.dim

    def _z(self, x, t):
        x, xp = _check_positive_data("x", x)
        t = float(_check_times("t", t))
        return xp, x, xp.log(x) - float(self.gbm.log_mean(t)), t

    def log_density(self, x, t):
        """log p_t(x) (joint over the last axis, shape ``x.shape[:-1]``)."""
        xp, x, z, t = self._z(x, t)
        return (self.mixture.log_mixture.log_density(z, t, self.schedule)
                - xp.sum(xp.log(x), axis=-1))

    def hyvarinen_score(self, x, t):
        """``x ∘ grad_x log p_t(x) = grad_z log p_Z(z) - 1``."""
        xp, x, z, t = self._z(x, t)
        return self.mixture.log_mixture.predict(z, t, "score", self.schedule) - 1.0

    def stein_score(self, x, t):
        """``grad_x log p_t(x)``."""
        return self.hyvarinen_score(x, t) / as_float_array("x", x)[0]

    def sample(self, n, t, rng=None):
        """``n`` exact draws of ``X_t`` (shape (n, d))."""
        n = check_int("n", n, low=0)
        t = float(_check_times("t", t, allow_zero=True))
        rng = as_rng(rng)
        y0 = self.mixture.log_mixture.sample(n, rng)
        v = float(self.gbm.log_variance(t))
        return np.exp(y0 + float(self.gbm.log_mean(t)) + math.sqrt(v)
                      * rng.standard_normal(y0.shape))

    def exact_flow_map(self, x_T, t_T=None, t_0=None, **kwargs):
        """The probability-flow ODE of the GBM marginals solved exactly from ``(x_T, t_T)`` to
        ``t_0`` (in log space by :meth:`GaussianMixture.exact_ode_solution`)."""
        t_T = self.schedule.t_start if t_T is None else float(t_T)
        t_0 = self.schedule.t_end if t_0 is None else float(t_0)
        x_T, _ = _check_positive_data("x_T", x_T)
        z_T = np.log(np.asarray(x_T, dtype=float)) - float(self.gbm.log_mean(t_T))
        z_0 = self.mixture.log_mixture.exact_ode_solution(z_T, self.schedule, t_T, t_0, **kwargs)
        return np.exp(z_0 + float(self.gbm.log_mean(t_0)))

    def __repr__(self):
        return f"BoundLogNormalMixture({self.mixture!r}, {self.gbm!r})"
