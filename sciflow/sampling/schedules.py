"""Noise schedules ``x_t = alpha(t) x_0 + sigma(t) eps`` and their time-step spacings.

Three families, each a frozen dataclass validated in ``__post_init__``:

* :class:`VPSchedule` — variance preserving (``alpha^2 + sigma^2 = 1``); ``kind="linear"``:
  ``log alpha = -beta_min t/2 - (beta_max - beta_min) t^2/4`` on ``t in [0, 1]`` (Song et al.
  2021; DPM-Solver's continuous VP); ``kind="cosine"``: ``alpha = cos(pi/2 (t+s)/(1+s)) /
  cos(pi/2 s/(1+s))``, ``s = 0.008`` (Nichol & Dhariwal 2021), ``alpha(1) = 0`` exactly.
  Defaults ``t_start = 1`` (cosine: 0.9946, as in DPM-Solver) and ``t_end = 1e-3``.
* :class:`EDMSchedule` — Karras et al. (2022): ``alpha = 1, sigma = t``; defaults
  ``t_start = sigma_max = 80``, ``t_end = sigma_min = 0.002``; ``rho`` is the default exponent
  of the Karras spacing; ``sigma_data`` enters :meth:`EDMSchedule.preconditioning`.
* :class:`FlowSchedule` — rectified flow: ``alpha = 1 - t, sigma = t`` on ``[0, 1]``; defaults
  ``t_start = 1`` (pure noise, ``alpha = 0``) and ``t_end = 0`` (data). ``shift`` is SD3's
  resolution shift ``t' = s t / (1 + (s - 1) t)`` applied to the time-based spacings; SD3's
  logit-normal training density is :meth:`FlowSchedule.sample_training_t`.

Every schedule gives ``alpha, sigma, log_alpha, log_sigma, lambda_ = log(alpha/sigma)`` (the
half log-SNR), its closed-form inverse :meth:`t_from_lambda`, the derivatives ``dalpha,
dsigma, dlambda`` and ``sigma_dsigma = sigma sigma'`` (finite at ``sigma = 0``), which the
probability-flow ODE ``dx/dt = alpha' x0_hat + sigma' eps_hat = alpha' x0_hat - sigma sigma'
score`` needs. All functions take float64 scalars or NumPy arrays; a time outside the
schedule's domain raises ``ValueError``. ``t = 0`` is the data end (``sigma = 0``, ``lambda =
+inf``) of every schedule.

Spacings (:meth:`timesteps`, ``n_steps + 1`` decreasing times, first ``t_start``):

``"uniform_t"``        equal steps in t (for flows: in the unshifted time, then shifted);
``"quadratic"``        equal steps in ``sqrt(t)`` (DPM-Solver's "time_quadratic");
``"uniform_lambda"``   equal steps in log-SNR (DPM-Solver's "logSNR");
``"karras"``           Karras et al.'s rho-spacing of ``sigma/alpha = exp(-lambda)``;
``"karras_truncated"`` the truncated-and-respaced Karras schedule of Li (2025), "Hyperparameters
                       are all you need", arXiv:2510.02390 (5–8 step sampling): build a Karras
                       schedule of ``karras_points`` noise levels between the two ends with
                       exponent ``rho``, stop at level number ``truncate_index`` (its time
                       ``t_k``), and lay the ``n_steps + 1`` times between ``t_start`` and
                       ``t_k`` with a Karras-type power spacing *in time*, exponent
                       ``time_rho = 1.2``. Sampling therefore stops at ``t_k > t_end`` (the
                       paper decodes that state directly; pass ``denoise_to_zero=True`` to
                       :func:`sciflow.sampling.sample` for a final x0 jump). Defaults follow the
                       authors' code (``customed_timeschedule_sampler.py``) for SD-1.5:
                       4 steps (8, 6, 7), 5 and 6 steps (8, 6, 5), 7 steps (12, 7, 10),
                       8 steps (12, 9, 7) as ``(karras_points, truncate_index, rho)``; other
                       step counts use the 8-step setting. The paper's time is the discrete
                       DDPM index; the power spacing is scale-invariant so the schedule's own
                       ``t`` is used.

The log-SNR based spacings cannot place points at an infinite ``lambda``: when ``t_end`` has
``sigma = 0`` (``t_end = 0``) the last time is kept and the other ``n_steps`` points are spaced
between ``t_start`` and the schedule's ``t_eps`` (VP 1e-3, EDM ``sigma_min``, flow 1e-3) — the
``final_sigmas_type="zero"`` convention of k-diffusion/diffusers; likewise an ``alpha = 0``
start keeps ``t_start`` and spaces from ``t_max_finite`` (cosine VP 0.9946, flow 0.999).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from scipy.special import expit

from .._validate import (
    as_rng,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)

__all__ = ["VPSchedule", "EDMSchedule", "FlowSchedule", "SPACINGS", "Schedule",
           "DiscreteSchedule", "rescale_zero_terminal_snr"]

SPACINGS = ("uniform_t", "quadratic", "uniform_lambda", "karras", "karras_truncated")
"""Names of the time-step spacings of :meth:`Schedule.timesteps` (see the module docstring)."""

# (karras_points, truncate_index, rho) per number of steps, from the authors' code.
_TRUNCATED_KARRAS = {4: (8, 6, 7.0), 5: (8, 6, 5.0), 6: (8, 6, 5.0), 7: (12, 7, 10.0),
                     8: (12, 9, 7.0)}
_TRUNCATED_KARRAS_OTHER = (12, 9, 7.0)


def _as_lambda(lam):
    """``lam`` as a float64 array, or ``TypeError`` naming it."""
    if lam is None or isinstance(lam, str | bytes | bool):
        raise TypeError(f"lam must be a real number or array of them, got {lam!r}")
    try:
        return np.asarray(lam, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"lam must be a real number or array of them, got {lam!r}") from None


def _out(a):
    """0-d arrays back as NumPy scalars, arrays unchanged."""
    a = np.asarray(a, dtype=float)
    return a[()] if a.ndim == 0 else a


def _check_solver_name(solver):
    if solver is None:
        return
    from .solvers import SOLVERS  # solvers imports this module

    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be None or one of {sorted(SOLVERS)}, got {solver!r}")


class Schedule:
    """Shared behaviour of the noise schedules (not instantiated directly).

    Subclasses define ``_log_alpha, _log_sigma, _lambda, _t_from_lambda, _dlog_alpha,
    _sigma_dsigma`` on validated float64 arrays, the domain ``[t_min, t_max]`` and the defaults.
    """

    t_min: ClassVar[float] = 0.0

    def __new__(cls, *args, **kwargs):
        if cls is Schedule:
            raise TypeError("Schedule is the abstract base class; instantiate VPSchedule, "
                            "EDMSchedule or FlowSchedule")
        return super().__new__(cls)

    # ---------------------------------------------------------------- validation helpers
    @property
    def t_max(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def check_t(self, name, t):
        """``t`` as a float64 array inside the domain, else ``ValueError`` naming ``name``."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__} {name!r}")
        if t is None or isinstance(t, str | bytes | bool):
            raise TypeError(f"{name} must be a real number or array of them, got {t!r}")
        try:
            arr = np.asarray(t, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number or array of them, got {t!r}") from None
        if np.any(np.isnan(arr)):
            raise ValueError(f"{name} must not be NaN")
        bad = (arr < self.t_min) | (arr > self.t_max) | np.isinf(arr)
        if np.any(bad):
            v = arr[bad].flat[0] if arr.ndim else float(arr)
            raise ValueError(f"{name} must lie in [{self.t_min}, {self.t_max}] for "
                             f"{type(self).__name__}, got {v}")
        return arr

    # ---------------------------------------------------------------- public functions
    def log_alpha(self, t):
        """log alpha(t)."""
        return _out(self._log_alpha(self.check_t("t", t)))

    def log_sigma(self, t):
        """log sigma(t) (``-inf`` at ``t = 0``)."""
        return _out(self._log_sigma(self.check_t("t", t)))

    def alpha(self, t):
        """Signal scale alpha(t)."""
        with np.errstate(under="ignore"):
            return _out(np.exp(self._log_alpha(self.check_t("t", t))))

    def sigma(self, t):
        """Noise scale sigma(t)."""
        with np.errstate(under="ignore"):
            return _out(np.exp(self._log_sigma(self.check_t("t", t))))

    def lambda_(self, t):
        """Half log-SNR ``lambda = log(alpha/sigma)``, decreasing in t (``+inf`` at t = 0)."""
        return _out(self._lambda(self.check_t("t", t)))

    def t_from_lambda(self, lam):
        """The time with ``lambda_(t) = lam`` (closed form)."""
        lam = _as_lambda(lam)
        if np.any(np.isnan(lam)):
            raise ValueError("lam must not be NaN")
        lo, hi = self._lambda(np.float64(self.t_max)), self._lambda(np.float64(self.t_min))
        # values a float32 round-off outside the range (noise levels passed in from other
        # libraries) are taken as the end point; anything further out is an error
        slack = 1e-6 * np.maximum(1.0, np.abs([lo, hi]))
        bad = (lam < lo - slack[0]) | (lam > hi + slack[1])
        if np.any(bad):
            v = lam[bad].flat[0] if lam.ndim else float(lam)
            raise ValueError(f"lam must lie in [{lo}, {hi}] for {type(self).__name__}, got {v}")
        with np.errstate(invalid="ignore"):
            lam = np.clip(lam, lo, hi)
        return _out(self._t_from_lambda(lam))

    def dalpha(self, t):
        """d alpha / dt."""
        t = self.check_t("t", t)
        with np.errstate(under="ignore"):
            return _out(np.exp(self._log_alpha(t)) * self._dlog_alpha(t))

    def sigma_dsigma(self, t):
        """``sigma(t) sigma'(t) = (d sigma^2/dt)/2``, finite everywhere (also at sigma = 0)."""
        return _out(self._sigma_dsigma(self.check_t("t", t)))

    def dsigma(self, t):
        """d sigma / dt (``+inf`` where sigma = 0 for the VP schedules)."""
        t = self.check_t("t", t)
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            s = np.exp(self._log_sigma(t))
            ss = self._sigma_dsigma(t)
            out = np.where(s > 0, ss / np.where(s > 0, s, 1.0), self._dsigma_at_zero())
        return _out(out)

    def dlambda(self, t):
        """d lambda / dt (negative; ``-inf`` where sigma = 0 for the VP schedules)."""
        t = self.check_t("t", t)
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            s2 = np.exp(2.0 * self._log_sigma(t))
            ss = self._sigma_dsigma(t)
            dls = np.where(s2 > 0, ss / np.where(s2 > 0, s2, 1.0), np.inf)
            return _out(self._dlog_alpha(t) - dls)

    def _dsigma_at_zero(self):
        return np.inf

    # ---------------------------------------------------------------- time steps
    def default_spacing(self, solver=None) -> str:
        """The spacing :func:`sciflow.sampling.sample` uses when none is given."""
        _check_solver_name(solver)
        if solver == "heun":
            return "karras"
        if solver == "euler":
            return "uniform_t"
        return "uniform_lambda"

    def _endpoints(self, t_start, t_end):
        ts = self.t_start if t_start is None else float(self.check_t("t_start", t_start))
        te = self.t_end if t_end is None else float(self.check_t("t_end", t_end))
        if not ts > te:
            raise ValueError(f"t_start must be > t_end, got t_start={ts}, t_end={te}")
        return ts, te

    def timesteps(self, n_steps, spacing=None, t_start=None, t_end=None, **options):
        """``n_steps + 1`` decreasing times from ``t_start`` (see the module docstring).

        Options: ``rho`` (``"karras"``, ``"karras_truncated"``; default 7, EDM: its ``rho``),
        ``karras_points``, ``truncate_index``, ``time_rho`` (``"karras_truncated"``).
        """
        n = check_int("n_steps", n_steps, low=1)
        spacing = self.default_spacing() if spacing is None else spacing
        check_choice("spacing", spacing, SPACINGS)
        allowed = {"karras": {"rho"},
                   "karras_truncated": {"rho", "karras_points", "truncate_index", "time_rho"}
                   }.get(spacing, set())
        unknown = set(options) - allowed
        if unknown:
            raise TypeError(f"unexpected option(s) for spacing {spacing!r}: {sorted(unknown)}")
        ts, te = self._endpoints(t_start, t_end)
        if spacing in ("uniform_t", "quadratic"):
            out = self._time_spacing(n, spacing, ts, te)
        else:
            out = self._lambda_spacing(n, spacing, ts, te, options)
        out = np.asarray(out, dtype=float)
        out[0] = ts
        return out

    def _time_spacing(self, n, spacing, ts, te):
        if spacing == "uniform_t":
            out = np.linspace(ts, te, n + 1)
        else:
            out = np.linspace(math.sqrt(ts), math.sqrt(te), n + 1) ** 2
        out[0], out[-1] = ts, te
        return out

    def _lambda_spacing(self, n, spacing, ts, te, options):
        lam_s, lam_e = float(self._lambda(np.float64(ts))), float(self._lambda(np.float64(te)))
        head, tail = math.isinf(lam_s), math.isinf(lam_e)
        hi = self.t_max_finite if head else ts
        lo = self.t_eps if tail else te
        if not hi > lo:  # the finite surrogates do not fit inside (t_end, t_start)
            return self._time_spacing(n, "uniform_t", ts, te)
        n_core = n + 1 - int(head) - int(tail)
        if n_core <= 0:
            core = []
        elif n_core == 1:
            if head and tail:
                lam_mid = 0.5 * (float(self._lambda(np.float64(hi)))
                                 + float(self._lambda(np.float64(lo))))
                core = [float(self._t_from_lambda(np.float64(lam_mid)))]
            else:
                core = [hi] if tail else [lo]
        elif spacing == "uniform_lambda":
            lam = np.linspace(self._lambda(np.float64(hi)), self._lambda(np.float64(lo)), n_core)
            core = self._t_from_lambda(lam)
            core[0], core[-1] = hi, lo
        elif spacing == "karras":
            rho = check_positive("rho", options.get("rho", self._karras_rho))
            core = self._karras_times(n_core, hi, lo, rho)
        else:
            core = self._truncated_karras_times(n_core, hi, lo, options)
        return np.concatenate([[ts] * head, np.asarray(core, dtype=float), [te] * tail])

    def _karras_times(self, n_points, hi, lo, rho):
        """Karras rho-spacing of sigma/alpha = exp(-lambda) between times hi > lo."""
        s_hi = math.exp(-float(self._lambda(np.float64(hi))))
        s_lo = math.exp(-float(self._lambda(np.float64(lo))))
        ramp = np.linspace(0.0, 1.0, n_points)
        s = (s_hi ** (1.0 / rho) + ramp * (s_lo ** (1.0 / rho) - s_hi ** (1.0 / rho))) ** rho
        out = self._t_from_lambda(-np.log(s))
        out[0], out[-1] = hi, lo
        return out

    def _truncated_karras_times(self, n_points, hi, lo, options):
        n_steps = n_points - 1
        pts, k, rho = _TRUNCATED_KARRAS.get(n_steps, _TRUNCATED_KARRAS_OTHER)
        pts = check_int("karras_points", options.get("karras_points", pts), low=2)
        k = check_int("truncate_index", options.get("truncate_index", k), low=1, high=pts - 1)
        rho = check_positive("rho", options.get("rho", rho))
        time_rho = check_positive("time_rho", options.get("time_rho", 1.2))
        full = self._karras_times(pts, hi, lo, rho)
        t_k = float(full[k])
        ramp = np.linspace(0.0, 1.0, n_points)
        a, b = hi ** (1.0 / time_rho), t_k ** (1.0 / time_rho)
        out = (a + ramp * (b - a)) ** time_rho
        out[0], out[-1] = hi, t_k
        return out

    @property
    def _karras_rho(self) -> float:
        """Default exponent of the ``"karras"`` spacing (EDMSchedule: its ``rho``)."""
        return 7.0


# ==================================================================================== VP
@dataclass(frozen=True)
class VPSchedule(Schedule):
    """Variance-preserving schedule (``alpha^2 + sigma^2 = 1``).

    Parameters
    ----------
    kind : "linear" or "cosine"
    beta_min, beta_max : float
        Linear schedule ``beta(t) = beta_min + (beta_max - beta_min) t`` (ignored by
        "cosine"); ``0 <= beta_min <= beta_max``, ``beta_max > 0``.
    """

    kind: str = "linear"
    beta_min: float = 0.1
    beta_max: float = 20.0

    cosine_s: ClassVar[float] = 0.008
    t_eps: ClassVar[float] = 1e-3

    def __post_init__(self):
        check_choice("kind", self.kind, ("linear", "cosine"))
        object.__setattr__(self, "beta_min", check_nonnegative("beta_min", self.beta_min))
        object.__setattr__(self, "beta_max", check_positive("beta_max", self.beta_max))
        if self.beta_max < self.beta_min:
            raise ValueError(f"beta_max must be >= beta_min, got beta_min={self.beta_min}, "
                             f"beta_max={self.beta_max}")

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def t_start(self) -> float:
        return 1.0 if self.kind == "linear" else 0.9946

    @property
    def t_end(self) -> float:
        return 1e-3

    @property
    def t_max_finite(self) -> float:
        return 0.9946

    # cosine helpers
    def _theta(self, t):
        s = self.cosine_s
        return 0.5 * math.pi * (t + s) / (1.0 + s)

    def _log_alpha(self, t):
        if self.kind == "linear":
            return -0.5 * self.beta_min * t - 0.25 * (self.beta_max - self.beta_min) * t * t
        # alpha = cos(th0 + d)/cos(th0) = 1 - 2 sin^2(d/2) - tan(th0) sin(d), d = theta - th0:
        # written so that log alpha keeps full relative accuracy as t -> 0
        d = 0.5 * math.pi * t / (1.0 + self.cosine_s)
        x = -2.0 * np.sin(0.5 * d) ** 2 - math.tan(self._theta(0.0)) * np.sin(d)
        with np.errstate(divide="ignore", invalid="ignore"):
            la = np.log1p(x)
        return np.where(t >= 1.0, -np.inf, la)

    def _log_sigma(self, t):
        la = self._log_alpha(t)
        with np.errstate(divide="ignore"):
            return 0.5 * np.log(-np.expm1(2.0 * la))

    def _lambda(self, t):
        la = self._log_alpha(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = la - 0.5 * np.log(-np.expm1(2.0 * la))
        # alpha = 0 (cosine at t = 1): -inf - 0 is fine; sigma = 0 (t = 0): 0 + inf
        return lam

    def _t_from_lambda(self, lam):
        lam = np.asarray(lam, dtype=float)
        big_l = np.logaddexp(0.0, -2.0 * lam)  # = -2 log alpha
        if self.kind == "linear":
            b0, db = self.beta_min, self.beta_max - self.beta_min
            with np.errstate(invalid="ignore"):
                return 2.0 * big_l / (b0 + np.sqrt(b0 * b0 + 2.0 * db * big_l))
        # solve cos(th0 + d) = alpha cos(th0) for d via sin d and cos d, both without
        # cancellation (1 - alpha^2 = -expm1(2 log alpha)), then t = d (1 + s) 2/pi
        s = self.cosine_s
        th0 = self._theta(0.0)
        c0, s0 = math.cos(th0), math.sin(th0)
        la = -0.5 * big_l
        one_m_a2 = -np.expm1(2.0 * la)
        a = np.exp(la)
        sin_th = np.sqrt(s0 * s0 + c0 * c0 * one_m_a2)
        sin_d = c0 * one_m_a2 / (sin_th + a * s0)
        cos_d = a * c0 * c0 + sin_th * s0
        d = np.arctan2(sin_d, cos_d)
        return np.clip(d * (1.0 + s) * 2.0 / math.pi, 0.0, 1.0)

    def _dlog_alpha(self, t):
        if self.kind == "linear":
            return -0.5 * (self.beta_min + (self.beta_max - self.beta_min) * t)
        s = self.cosine_s
        with np.errstate(over="ignore"):
            return -0.5 * math.pi / (1.0 + s) * np.tan(self._theta(t))

    def _sigma_dsigma(self, t):
        # sigma^2 = 1 - alpha^2  =>  sigma sigma' = -alpha alpha' = -alpha^2 dlog(alpha)/dt
        la = self._log_alpha(t)
        with np.errstate(under="ignore", invalid="ignore"):
            out = -np.exp(2.0 * la) * self._dlog_alpha(t)
        # cosine at t = 1: 0 * inf; the limit is cos(theta) sin(theta) * c -> 0
        return np.where(np.isnan(out), 0.0, out)

    def sample_training_t(self, n, rng=None, t_min=1e-5):
        """Uniform training times on ``[t_min, t_max]`` (denoising score matching)."""
        n = check_int("n", n, low=0)
        t_min = check_positive("t_min", t_min)
        hi = 1.0 if self.kind == "linear" else self.t_max_finite
        if not t_min < hi:
            raise ValueError(f"t_min must be < {hi}, got {t_min}")
        hi = 1.0 if self.kind == "linear" else self.t_max_finite
        return as_rng(rng).uniform(t_min, hi, size=n)


# ==================================================================================== EDM
@dataclass(frozen=True)
class EDMSchedule(Schedule):
    """Karras et al. (2022) schedule: ``alpha = 1, sigma = t`` (variance exploding).

    Parameters
    ----------
    sigma_min, sigma_max : float
        Default end and start noise levels (``0 < sigma_min < sigma_max``).
    rho : float
        Default exponent of the ``"karras"`` spacing.
    sigma_data : float
        Data standard deviation used by :meth:`preconditioning`.
    """

    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    sigma_data: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "sigma_min", check_positive("sigma_min", self.sigma_min))
        object.__setattr__(self, "sigma_max", check_positive("sigma_max", self.sigma_max))
        object.__setattr__(self, "rho", check_positive("rho", self.rho))
        object.__setattr__(self, "sigma_data", check_positive("sigma_data", self.sigma_data))
        if not self.sigma_max > self.sigma_min:
            raise ValueError(f"sigma_max must be > sigma_min, got sigma_min={self.sigma_min}, "
                             f"sigma_max={self.sigma_max}")

    @property
    def t_max(self) -> float:
        return math.inf

    @property
    def t_start(self) -> float:
        return self.sigma_max

    @property
    def t_end(self) -> float:
        return self.sigma_min

    @property
    def t_eps(self) -> float:
        return self.sigma_min

    @property
    def t_max_finite(self) -> float:
        return self.sigma_max

    @property
    def _karras_rho(self) -> float:
        return self.rho

    def default_spacing(self, solver=None) -> str:
        _check_solver_name(solver)
        return "karras"

    def _log_alpha(self, t):
        return np.zeros_like(t)

    def _log_sigma(self, t):
        with np.errstate(divide="ignore"):
            return np.log(t)

    def _lambda(self, t):
        with np.errstate(divide="ignore"):
            return -np.log(t)

    def _t_from_lambda(self, lam):
        with np.errstate(under="ignore"):
            return np.exp(-np.asarray(lam, dtype=float))

    def t_from_lambda(self, lam):
        lam = _as_lambda(lam)
        if np.any(np.isnan(lam)) or np.any(lam == -np.inf):
            raise ValueError("lam must be finite or +inf for EDMSchedule (sigma = exp(-lam))")
        return _out(self._t_from_lambda(lam))

    def _dlog_alpha(self, t):
        return np.zeros_like(t)

    def _sigma_dsigma(self, t):
        return np.asarray(t, dtype=float).copy()

    def _dsigma_at_zero(self):
        return 1.0

    def preconditioning(self, sigma):
        """EDM network preconditioning ``(c_skip, c_out, c_in, c_noise)`` at noise ``sigma``
        (Karras et al. 2022, Table 1): ``D(x) = c_skip x + c_out F(c_in x, c_noise)``."""
        s = self.check_t("sigma", sigma)
        sd = self.sigma_data
        r = np.sqrt(s * s + sd * sd)
        with np.errstate(divide="ignore"):
            c_noise = 0.25 * np.log(s)
        return _out(sd * sd / r**2), _out(s * sd / r), _out(1.0 / r), _out(c_noise)

    def sample_training_t(self, n, rng=None, loc=-1.2, scale=1.2):
        """EDM's log-normal training noise levels ``ln sigma ~ N(loc, scale^2)``."""
        n = check_int("n", n, low=0)
        loc = check_real("loc", loc)
        scale = check_positive("scale", scale)
        return np.exp(loc + scale * as_rng(rng).standard_normal(n))


# ==================================================================================== flow
@dataclass(frozen=True)
class FlowSchedule(Schedule):
    """Rectified-flow schedule ``alpha = 1 - t, sigma = t`` on ``t in [0, 1]``.

    Parameters
    ----------
    shift : float
        SD3 time shift ``s > 0``: time-based spacings are built in an unshifted time ``u`` and
        mapped by ``t = s u / (1 + (s - 1) u)``. (In log-SNR the shift is the translation
        ``lambda -> lambda - log s``, so the log-SNR spacings, whose ends are fixed, ignore it.)
    """

    shift: float = 1.0

    t_eps: ClassVar[float] = 1e-3
    t_max_finite: ClassVar[float] = 1.0 - 1e-3

    def __post_init__(self):
        object.__setattr__(self, "shift", check_positive("shift", self.shift))

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def t_start(self) -> float:
        return 1.0

    @property
    def t_end(self) -> float:
        return 0.0

    def default_spacing(self, solver=None) -> str:
        _check_solver_name(solver)
        return "uniform_t"

    def shift_time(self, u):
        """SD3's shifted time ``s u / (1 + (s - 1) u)``."""
        u = self.check_t("u", u)
        s = self.shift
        return _out(s * u / (1.0 + (s - 1.0) * u))

    def unshift_time(self, t):
        """Inverse of :meth:`shift_time`: ``u = t / (s - (s - 1) t)``."""
        t = self.check_t("t", t)
        s = self.shift
        return _out(t / (s - (s - 1.0) * t))

    def _time_spacing(self, n, spacing, ts, te):
        if self.shift == 1.0:
            return super()._time_spacing(n, spacing, ts, te)
        u = super()._time_spacing(n, spacing, float(self.unshift_time(ts)),
                                  float(self.unshift_time(te)))
        s = self.shift
        out = s * u / (1.0 + (s - 1.0) * u)
        out[0], out[-1] = ts, te
        return out

    def _log_alpha(self, t):
        with np.errstate(divide="ignore"):
            return np.log1p(-t)

    def _log_sigma(self, t):
        with np.errstate(divide="ignore"):
            return np.log(t)

    def _lambda(self, t):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(-t) - np.log(t)

    def _t_from_lambda(self, lam):
        return expit(-np.asarray(lam, dtype=float))

    def _dlog_alpha(self, t):
        with np.errstate(divide="ignore"):
            return -1.0 / (1.0 - t)

    def dalpha(self, t):
        t = self.check_t("t", t)
        return _out(-np.ones_like(t))

    def _sigma_dsigma(self, t):
        return np.asarray(t, dtype=float).copy()

    def _dsigma_at_zero(self):
        return 1.0

    def sample_training_t(self, n, rng=None, loc=0.0, scale=1.0, shifted=False):
        """SD3's logit-normal training times ``t = expit(loc + scale z)``, ``z ~ N(0, 1)``;
        with ``shifted=True`` mapped through :meth:`shift_time`."""
        n = check_int("n", n, low=0)
        loc = check_real("loc", loc)
        if not isinstance(shifted, bool | np.bool_):
            raise TypeError(f"shifted must be a bool, got {shifted!r}")
        scale = check_positive("scale", scale)
        t = expit(loc + scale * as_rng(rng).standard_normal(n))
        return np.asarray(self.shift_time(t)) if shifted else t


# ==================================================================================== discrete
@dataclass(frozen=True, eq=False)
class DiscreteSchedule(Schedule):
    """A variance-preserving schedule given by DDPM's discrete ``betas`` (``N`` levels).

    ``alphabar_n = prod_{m <= n} (1 - beta_m)`` is placed at ``t_n = n/N`` (``n = 1..N``;
    ``t_0 = 0`` is the data, ``alphabar_0 = 1``), and ``log alpha = log sqrt(alphabar)`` is
    interpolated linearly in ``t`` between the knots (DPM-Solver's ``NoiseScheduleVP
    ("discrete")`` convention, with ``t`` shifted by one level so that ``t = 0`` has
    ``sigma = 0`` like every schedule here). A zero terminal SNR (``beta_N = 1``,
    ``alphabar_N = 0``, e.g. from :func:`rescale_zero_terminal_snr`) is allowed: on the last
    interval ``alpha`` itself is interpolated linearly, so ``alpha -> 0``, ``log alpha ->
    -inf``, ``lambda -> -inf`` at ``t = 1`` and ``alpha'`` stays finite. ``t_from_lambda`` is
    the exact inverse of the interpolation (``log alpha = -log(1 + e^{-2 lambda})/2``, then
    the segment is inverted). Derivatives are those of the interpolant (piecewise: one-sided
    from the right at the knots). Note that the probability-flow ODE in ``lambda`` does not
    depend on the interpolation (for VP, ``alpha`` is a function of ``lambda``): only the
    ``t`` <-> ``lambda`` map does, which is what ``"uniform_t"`` spacings and ``euler`` see.

    Defaults: ``t_start = 1`` (the last level, ``alphabar_N``), ``t_end = t_eps = 1/N`` (the
    first level, ``sigma^2 = beta_1``), ``t_max_finite = 1`` or, with zero terminal SNR,
    ``(N - 1)/N``.

    Parameters
    ----------
    betas : (N,) array_like, N >= 2
        In ``(0, 1]``, only the last may equal 1. Constructors :meth:`scaled_linear` (latent
        diffusion: ``betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)**2``, ``alpha_T ~
        0.068``) and :meth:`linear` (DDPM: ``linspace(1e-4, 0.02, 1000)``).
    """

    betas: np.ndarray
    if TYPE_CHECKING:  # set in __post_init__, not dataclass fields
        _la: np.ndarray
        _n: int
        _a_last: float

    def __post_init__(self):
        b = np.array(self._check_betas(self.betas), dtype=float)
        b.setflags(write=False)
        object.__setattr__(self, "betas", b)
        n = b.size
        with np.errstate(divide="ignore"):
            la = np.concatenate([[0.0], 0.5 * np.cumsum(np.log1p(-b))])
        la[-1] = -np.inf if b[-1] == 1.0 else la[-1]
        la.setflags(write=False)
        object.__setattr__(self, "_la", la)
        object.__setattr__(self, "_n", n)
        # alpha at the last finite knot (used on the last interval when alpha_N = 0)
        object.__setattr__(self, "_a_last", math.exp(float(la[n - 1])))

    @staticmethod
    def _check_betas(betas):
        if isinstance(betas, str | bytes) or betas is None:
            raise TypeError(f"betas must be a 1-D array of numbers, got {betas!r}")
        try:
            b = np.asarray(betas, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a 1-D array of numbers, got {betas!r}") from None
        if b.ndim != 1 or b.size < 2:
            raise ValueError(f"betas must be a 1-D array of at least 2 values, got shape "
                             f"{b.shape}")
        if not np.all(np.isfinite(b)):
            raise ValueError("betas must be finite")
        if np.any(b <= 0.0) or np.any(b > 1.0):
            raise ValueError(f"betas must lie in (0, 1], got values in [{b.min()}, {b.max()}]")
        if np.any(b[:-1] == 1.0):
            raise ValueError("betas: only the last beta may equal 1 (alphabar = 0 there)")
        return b

    @classmethod
    def scaled_linear(cls, n=1000, beta_start=0.00085, beta_end=0.012):
        """Latent diffusion's ``betas = linspace(sqrt(beta_start), sqrt(beta_end), n)**2``."""
        n = check_int("n", n, low=2)
        b0 = check_positive("beta_start", beta_start)
        b1 = check_positive("beta_end", beta_end)
        return cls(np.linspace(math.sqrt(b0), math.sqrt(b1), n) ** 2)

    @classmethod
    def linear(cls, n=1000, beta_start=1e-4, beta_end=0.02):
        """DDPM's ``betas = linspace(beta_start, beta_end, n)``."""
        n = check_int("n", n, low=2)
        b0 = check_positive("beta_start", beta_start)
        b1 = check_positive("beta_end", beta_end)
        return cls(np.linspace(b0, b1, n))

    def __eq__(self, other):
        if not isinstance(other, DiscreteSchedule):
            return NotImplemented
        return self.betas.shape == other.betas.shape and bool(np.all(self.betas == other.betas))

    def __hash__(self):
        return hash((DiscreteSchedule, self.betas.tobytes()))

    def __repr__(self):
        return (f"DiscreteSchedule(N={self._n}, beta_1={self.betas[0]:.6g}, "
                f"beta_N={self.betas[-1]:.6g}, alpha_T={self.alpha_T:.6g})")

    # ---------------------------------------------------------------- properties
    @property
    def n_levels(self) -> int:
        """N, the number of discrete levels."""
        return self._n

    @property
    def alphas_cumprod(self) -> np.ndarray:
        """``alphabar_n``, n = 1..N (a copy)."""
        with np.errstate(under="ignore"):
            return np.exp(2.0 * self._la[1:])

    @property
    def alpha_T(self) -> float:
        """``alpha(1) = sqrt(alphabar_N)`` (0 for a zero terminal SNR)."""
        return 0.0 if self.zero_terminal_snr else math.exp(float(self._la[-1]))

    @property
    def zero_terminal_snr(self) -> bool:
        return bool(self.betas[-1] == 1.0)

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def t_start(self) -> float:
        return 1.0

    @property
    def t_end(self) -> float:
        return 1.0 / self._n

    @property
    def t_eps(self) -> float:
        return 1.0 / self._n

    @property
    def t_max_finite(self) -> float:
        return (self._n - 1.0) / self._n if self.zero_terminal_snr else 1.0

    # ---------------------------------------------------------------- interpolation
    def _segment(self, t):
        t = np.asarray(t, dtype=float)
        n = self._n
        j = np.clip(np.floor(t * n).astype(int), 0, n - 1)
        u = t * n - j
        zero = (j == n - 1) & self.zero_terminal_snr
        return t, j, u, zero

    def _log_alpha(self, t):
        t, j, u, zero = self._segment(t)
        la = self._la
        lo = la[j]
        hi = np.where(zero, 0.0, la[np.minimum(j + 1, self._n)])
        lin = (1.0 - u) * lo + u * np.where(np.isinf(hi), 0.0, hi)
        with np.errstate(divide="ignore"):
            last = np.log(np.maximum((1.0 - u) * self._a_last, 0.0))
        return np.where(zero, last, lin)

    # variance preserving (alpha^2 + sigma^2 = 1): sigma and lambda from log alpha as in VP
    _log_sigma = VPSchedule._log_sigma
    _lambda = VPSchedule._lambda

    def _dlog_alpha(self, t):
        t, j, u, zero = self._segment(t)
        la = self._la
        hi = la[np.minimum(j + 1, self._n)]
        slope = self._n * (np.where(np.isinf(hi), 0.0, hi) - la[j])
        with np.errstate(divide="ignore"):
            last = -self._n / (1.0 - u)  # d log((1 - u) a) / dt
        return np.where(zero, last, slope)

    def dalpha(self, t):
        t = self.check_t("t", t)
        _, j, u, zero = self._segment(t)
        with np.errstate(under="ignore", invalid="ignore"):
            gen = np.exp(self._log_alpha(t)) * self._dlog_alpha(t)
        return _out(np.where(zero, -self._n * self._a_last, gen))

    def _sigma_dsigma(self, t):
        # sigma sigma' = -alpha alpha'; on the last interval of a zero-SNR schedule
        # alpha alpha' = -(1 - u) a^2 N, finite (0 at t = 1)
        _, j, u, zero = self._segment(t)
        la = self._log_alpha(t)
        with np.errstate(under="ignore", invalid="ignore", over="ignore"):
            gen = -np.exp(2.0 * la) * self._dlog_alpha(t)
            last = (1.0 - u) * self._a_last ** 2 * self._n
        return np.where(zero, last, gen)

    def _t_from_lambda(self, lam):
        lam = np.asarray(lam, dtype=float)
        la = -0.5 * np.logaddexp(0.0, -2.0 * lam)
        knots = self._la
        n = self._n
        j = np.clip(np.searchsorted(-knots, -la, side="right") - 1, 0, n - 1)
        zero = (j == n - 1) & self.zero_terminal_snr
        lo = knots[j]
        hi = knots[np.minimum(j + 1, n)]
        with np.errstate(invalid="ignore", divide="ignore"):
            u_lin = (la - lo) / np.where(np.isinf(hi), -1.0, hi - lo)
            u_last = 1.0 - np.exp(la) / self._a_last
        u = np.clip(np.where(zero, u_last, u_lin), 0.0, 1.0)
        return np.clip((j + u) / n, 0.0, 1.0)

    def sample_training_t(self, n, rng=None):
        """Uniform training levels ``t = k/N``, ``k = 1..N`` (DDPM's discrete timesteps)."""
        n = check_int("n", n, low=0)
        return as_rng(rng).integers(1, self._n + 1, size=n) / self._n


def rescale_zero_terminal_snr(schedule):
    """Lin et al. (2024), Algorithm 1: shift and scale ``sqrt(alphabar)`` so that the last
    level has ``alphabar_N = 0`` (zero terminal SNR) and the first keeps its value; returns a
    new :class:`DiscreteSchedule` (``beta_N = 1``)."""
    if not isinstance(schedule, DiscreteSchedule):
        raise TypeError(f"schedule must be a DiscreteSchedule, got {type(schedule).__name__}")
    s = np.sqrt(np.cumprod(1.0 - schedule.betas))
    s0, sT = float(s[0]), float(s[-1])
    if not s0 > sT:
        raise ValueError("schedule must have a decreasing alphabar (alphabar_1 > alphabar_N)")
    s = (s - sT) * (s0 / (s0 - sT))
    ab = s * s
    alphas = np.concatenate([[ab[0]], ab[1:] / ab[:-1]])
    betas = 1.0 - alphas
    betas[-1] = 1.0
    return DiscreteSchedule(betas)
