"""Probability-flow ODE (and SDE) samplers: one stepping loop, small scheme classes.

The loop (:func:`sample`) owns everything that is common: checking the input, turning an NFE
budget into time steps and per-step orders, removing repeated noise levels, counting model
evaluations, recording the trajectory. A scheme (a subclass of :class:`Scheme`, in the spirit
of scipy's ``OdeSolver``/``RungeKutta``) only says how to take one step from grid point ``i``
to ``i + 1`` with a given order; its class attributes declare the rest:

===================  ======================  =====  ==========================================
name                 prediction              order  step
===================  ======================  =====  ==========================================
``ddim``             eps                     1      = DPM-Solver-1 (Song et al. 2021)
``dpm_solver_1``     eps                     1      Lu et al. 2022, arXiv:2206.00927
``dpm_solver_2``     eps, singlestep         2      r1 = 1/2 (Alg. 1 "DPM-Solver-2")
``dpm_solver_3``     eps, singlestep         3      r1 = 1/3, r2 = 2/3 (Alg. 2)
``dpmpp_2m``         x0, multistep           2      DPM-Solver++(2M), arXiv:2211.01095 Alg. 2
``dpmpp_3m``         x0, multistep           3      DPM-Solver++(3M) (Taylor D_2 weight; the
                                                    paper's halves it: order 2, see below)
``dpmpp_2m_sde``     x0, multistep, SDE      (2)    SDE-DPM-Solver++(2M) (needs ``rng``)
``dpmpp_3m_sde``     x0, multistep, SDE      (3)    third-order extension of the above
``unipc_2``          x0, multistep, P-C      2(+1)  UniPC (bh2), arXiv:2302.04867; UniC uses
                                                    the next step's evaluation (none after
                                                    the last step)
``unipc_3``          x0, multistep, P-C      3(+1)  the same with a third-order predictor
``dpm_solver_v3``    x0 + EMS, multistep,    3(+1)  DPM-Solver-v3, arXiv:2310.13268: predictor
                     pseudo-order P-C               and pseudo-order corrector in the
                                                    empirical-model-statistics parameterisation
                                                    (``ems=``, :mod:`.dpmv3`; none: l=1, s=b=0)
``heun``             x0, singlestep          2      EDM Heun, Karras et al. Alg. 1, in the
                                                    variables x/alpha, sigma/alpha
``euler``            velocity                1      ``x <- x + (t_next - t) dx/dt`` (flows:
                                                    the rectified-flow Euler step)
===================  ======================  =====  ==========================================

Conventions shared by all schemes
---------------------------------
* Coefficients are Python ``float`` s computed in float64 from ``log alpha``, ``log sigma`` and
  ``lambda`` with ``expm1`` and the ``phi_k`` functions (``phi_1(z) = expm1(z)/z``, series for
  small ``|z|``), so array dtypes (float32/float64, NumPy/torch) are preserved and nothing
  cancels catastrophically for small steps.
* A step with an infinite log-SNR increment ``h`` — the last step when ``t_end`` has
  ``sigma = 0``, the first when ``t_start`` has ``alpha = 0`` — is taken (by every scheme but
  ``euler``, which works in t) as the first-order data-prediction step
  ``x' = (sigma'/sigma) x + alpha' (1 - e^{-h}) x0_hat``, the ``h -> inf`` limit of every
  scheme, evaluated exactly in floating point (``expm1(-inf) = -1``). Multistep history never
  reaches across such a point. (Karras's Algorithm 1 does the same: its step to ``sigma = 0``
  is an Euler step; steps that end at ``sigma > 0`` are Heun steps.)
* Repeated noise levels (zero-length steps) are removed before stepping.
* ``lower_order_final=True``: multistep schemes use order ``min(order, steps left)`` when fewer
  than 15 steps are taken (DPM-Solver++/diffusers), singlestep schemes split the NFE budget as
  in DPM-Solver's "fast" recipe (order 3: ``[3, ..., 3, 2, 1]`` when ``nfe % 3 == 0``, remainder
  steps of lower order last); with ``False`` — or when the last step goes to ``sigma = 0``,
  which is first order anyway — they use ``[k, ..., k, nfe % k]``.
* ``denoise_to_zero=True`` ends with one more evaluation, the x0 prediction at the last time
  (counted in the NFE; skipped when that time already has ``sigma = 0``).

NFE budget → steps: multistep schemes (and ``ddim``, ``dpm_solver_1``, ``euler``) take one step
per evaluation; singlestep order-k schemes (``dpm_solver_2/3``, ``heun``) take order-k steps of k
evaluations and do the remainder with lower-order steps; an infinite-``h`` step costs one
evaluation (so EDM's ``sigma -> 0`` schedule with N steps costs ``2N - 1`` for Heun).

Observed orders (2-D 4-component mixture, VP linear, uniform log-SNR, 1 -> 1e-3, error against
``GaussianMixture.exact_ode_solution``; tests/sampling/test_solvers.py): DDIM 1.02,
DPM-Solver-2 2.04, DPM-Solver-3 2.96, DPM-Solver++(2M) 1.98, DPM-Solver++(3M) 3.14, UniP-2
alone 1.98, UniPC-2 with its corrector 2.94, Heun 2.08, Euler 1.03. With
``third_order_weight="paper"`` (the D_2 coefficient of the DPM-Solver++ paper, its official code
and diffusers, half the Taylor weight) 3M converges with order 2.08 only.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._validate import as_rng, check_array, check_int, check_nonnegative
from .backend import as_float_array
from .schedules import Schedule

__all__ = ["sample", "SampleResult", "Scheme", "SOLVERS", "phi", "NonFiniteError"]


class NonFiniteError(FloatingPointError, ValueError):
    """The model returned NaN/inf (or a step overflowed) during sampling.

    Raised by :func:`sample` (and so by everything that samples: ``optimize_steps``,
    ``evaluate_steps``, ``MLPModel.sample``) at the first evaluation whose output is not
    finite, naming the step index and the time; a diverging learned model is therefore never
    turned silently into an all-NaN result. Catchable as ``FloatingPointError`` or
    ``ValueError``. ``step``, ``t`` and ``nfe`` (evaluations so far) are attributes.
    """

    def __init__(self, message, *, step=None, t=None, nfe=None):
        super().__init__(message)
        self.step, self.t, self.nfe = step, t, nfe

LOWER_ORDER_FINAL_MAX_STEPS = 15
_BIG_H = 200.0  # log-SNR steps longer than this are treated as infinite


# ============================================================================ phi functions
def phi(k, z):
    """``phi_k(z) = sum_j z^j / (j + k)!`` (``phi_1 = expm1(z)/z``, ``phi_{k+1} = (phi_k -
    1/k!)/z``) for an integer ``k >= 1`` and a real ``z``, ``-inf`` allowed (all vanish
    there); NaN and ``+inf`` raise ``ValueError``."""
    k = check_int("k", k, low=1)
    if isinstance(z, bool) or not isinstance(z, numbers.Real):
        raise TypeError(f"z must be a real number, got {type(z).__name__} {z!r}")
    z = float(z)
    if math.isnan(z) or z == math.inf:
        raise ValueError(f"z must be a real number or -inf, got {z}")
    return _phis(z, k)[k - 1]


def _phis(z, kmax):
    """[phi_1(z), ..., phi_kmax(z)]."""
    if z == -math.inf:
        return [0.0] * kmax
    if abs(z) < 1.0:
        out = []
        for k in range(1, kmax + 1):
            term = 1.0 / math.factorial(k)
            acc = term
            for j in range(1, 40):
                term *= z / (j + k)
                acc += term
                if abs(term) < 1e-18 * abs(acc):
                    break
            out.append(acc)
        return out
    out = [math.expm1(z) / z]
    for k in range(1, kmax):
        out.append((out[-1] - 1.0 / math.factorial(k)) / z)
    return out


# ============================================================================ grid
class _Grid:
    """Per-point float64 quantities of the time grid, as Python floats."""

    def __init__(self, schedule, times):
        self.schedule = schedule
        self.t = [float(v) for v in times]
        ta = np.asarray(times, dtype=float)
        self.la = [float(v) for v in schedule.log_alpha(ta)]
        self.ls = [float(v) for v in schedule.log_sigma(ta)]
        self.lam = [float(v) for v in schedule.lambda_(ta)]
        with np.errstate(under="ignore"):
            self.a = [math.exp(v) for v in self.la]
            self.s = [math.exp(v) for v in self.ls]

    def h(self, i):
        return self.lam[i + 1] - self.lam[i]

    def infinite_step(self, i):
        h = self.h(i)
        return not math.isfinite(h) or h > _BIG_H

    def point(self, lam):
        """(t, log alpha, log sigma, alpha, sigma) at an intermediate log-SNR."""
        sch = self.schedule
        t = float(sch.t_from_lambda(lam))
        la, ls = float(sch.log_alpha(t)), float(sch.log_sigma(t))
        return t, la, ls, math.exp(la), math.exp(ls)


def _ratio(log_num, log_den):
    """exp(log_num - log_den) with exp(-inf) = 0."""
    return math.exp(log_num - log_den) if log_num > -math.inf else 0.0


# ============================================================================ schemes
class Scheme:
    """One step of a sampler. Subclasses set the class attributes and implement ``step``.

    Attributes (class level)
    ------------------------
    order : int
        Nominal order of accuracy (of the ODE schemes).
    singlestep : bool
        True if an order-k step costs k model evaluations (else one per step).
    stochastic : bool
        True for SDE schemes (they need ``rng``).
    defaults : dict
        Scheme-specific options and their defaults (passed to :func:`sample` as keywords).

    ``step(i, x)`` returns ``(x_i, x_{i+1})``: the state at grid point i (a predictor-corrector
    scheme returns its corrected value) and the state at i + 1. ``self.orders[i]`` is the order
    to use; ``self.f(x, t, kind)`` evaluates the (counted) model.
    """

    order: ClassVar[int] = 1
    singlestep: ClassVar[bool] = False
    stochastic: ClassVar[bool] = False
    defaults: ClassVar[dict] = {}

    def __init__(self, f, grid, orders, options, rng, xp):
        if not callable(f):
            raise TypeError(f"f must be callable as f(x, t, kind), got {type(f).__name__}")
        if not isinstance(grid, _Grid):
            raise TypeError(f"grid must be a solvers._Grid (the time grid sample() builds), "
                            f"got {type(grid).__name__}")
        try:
            orders = [check_int("orders[i]", o, low=1, high=self.order) for o in orders]
        except TypeError:
            raise TypeError(f"orders must be a sequence of integers, got {orders!r}") from None
        except ValueError:
            raise ValueError(f"orders must lie in [1, {self.order}] for "
                             f"{type(self).__name__}, got {list(orders)!r}") from None
        if len(orders) != len(grid.t) - 1:
            raise ValueError(f"orders must have one entry per step ({len(grid.t) - 1}), got "
                             f"{len(orders)}")
        if not isinstance(options, dict):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        unknown = set(options) - set(self.defaults)
        if unknown:
            raise TypeError(f"unexpected option(s) in options for {type(self).__name__}: "
                            f"{sorted(unknown)}; allowed: {sorted(self.defaults)}")
        if self.stochastic and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator for the stochastic "
                            f"{type(self).__name__}, got {rng!r}")
        for attr in ("from_numpy", "cast_like", "all_finite"):
            if not callable(getattr(xp, attr, None)):
                raise TypeError(f"xp must be an array namespace of sciflow.sampling.backend, "
                                f"got {type(xp).__name__}")
        self.f, self.g, self.orders, self.rng, self.xp = f, grid, orders, rng, xp
        self.opts = {**self.defaults, **options}
        for name in ("disable_corrector",):
            if name in self.opts and not isinstance(self.opts[name], bool | np.bool_):
                raise TypeError(f"{name} must be a bool, got {self.opts[name]!r}")

    def step(self, i, x):  # pragma: no cover - abstract
        raise NotImplementedError

    # the exact first-order data-prediction step (used for infinite h by every scheme)
    def _data_step1(self, i, x, x0):
        g = self.g
        c_x = _ratio(g.ls[i + 1], g.ls[i])
        c_d = -g.a[i + 1] * math.expm1(-g.h(i))
        return c_x * x + c_d * x0


class _NoiseSinglestep(Scheme):
    """DPM-Solver-k (noise prediction, singlestep); order-1 steps are DDIM."""

    singlestep = True

    def step(self, i, x):
        g, p = self.g, self.orders[i]
        if g.infinite_step(i):
            return x, self._data_step1(i, x, self.f(x, g.t[i], "x0"))
        h = g.h(i)
        lam, la, la_n, s_n = g.lam[i], g.la[i], g.la[i + 1], g.s[i + 1]
        e0 = self.f(x, g.t[i], "eps")
        c_x = math.exp(la_n - la)
        em = math.expm1(h)
        if p == 1:
            return x, c_x * x - (s_n * em) * e0
        if p == 2:
            r1 = 0.5
            t1, la1, _, _, s1 = g.point(lam + r1 * h)
            u = math.exp(la1 - la) * x - (s1 * math.expm1(r1 * h)) * e0
            e1 = self.f(u, t1, "eps")
            return x, c_x * x - (s_n * em) * e0 - (s_n * em / (2.0 * r1)) * (e1 - e0)
        r1, r2 = 1.0 / 3.0, 2.0 / 3.0
        t1, la1, _, _, s1 = g.point(lam + r1 * h)
        t2, la2, _, _, s2 = g.point(lam + r2 * h)
        u1 = math.exp(la1 - la) * x - (s1 * math.expm1(r1 * h)) * e0
        d1 = self.f(u1, t1, "eps") - e0
        # (expm1(z)/z - 1) = z phi_2(z)
        u2 = (math.exp(la2 - la) * x - (s2 * math.expm1(r2 * h)) * e0
              - (s2 * r2 / r1 * (r2 * h) * phi(2, r2 * h)) * d1)
        d2 = self.f(u2, t2, "eps") - e0
        return x, c_x * x - (s_n * em) * e0 - (s_n / r2 * h * phi(2, h)) * d2


class DDIM(_NoiseSinglestep):
    """DDIM = DPM-Solver-1: ``x' = (alpha'/alpha) x - sigma' expm1(h) eps_hat``."""

    order = 1


class DPMSolver1(DDIM):
    """DPM-Solver-1 (identical to DDIM)."""


class DPMSolver2(_NoiseSinglestep):
    """DPM-Solver-2 (singlestep, r1 = 1/2, noise prediction)."""

    order = 2


class DPMSolver3(_NoiseSinglestep):
    """DPM-Solver-3 (singlestep, r1 = 1/3, r2 = 2/3, noise prediction)."""

    order = 3


class _DataMultistep(Scheme):
    """DPM-Solver++(kM) and its SDE variant (data prediction, multistep).

    ``x' = (sigma'/sigma) e^{-(kappa-1) h} x + alpha' sum_k w_k D_k [+ sigma' sqrt(1 -
    e^{-2h}) z]`` with ``kappa = 1`` (ODE) or 2 (SDE), ``D_0 = x0_hat``, ``D_1 ~ h D'``,
    ``D_2 ~ h^2 D''/2`` from backward differences in lambda. The exponential-integrator
    (Taylor) weight on the k-th lambda-derivative of x0_hat is ``alpha' kappa h^{k+1}
    phi_{k+1}(-kappa h)``.

    Options: ``solver_type`` — the weight on ``D_1`` in second-order steps: ``"midpoint"``
    (default; DPM-Solver++ Alg. 2 and diffusers: ``alpha'(1 - e^{-kappa h})/2``) or
    ``"taylor"``. ``third_order_weight`` — the weight on ``D_2`` in third-order steps:
    ``"taylor"`` (default) or ``"paper"``, the DPM-Solver++ paper's / official code's /
    diffusers' ``-alpha'(phi_2(-h) - 1/2) = alpha' h phi_3(-h)``, which is half the Taylor
    weight: with it the observed order of 3M is 2, not 3 (see tests/sampling/test_solvers.py).
    """

    defaults = {"solver_type": "midpoint"}
    kappa: ClassVar[float] = 1.0

    def __init__(self, *args):
        super().__init__(*args)
        if self.opts["solver_type"] not in ("midpoint", "taylor"):
            raise ValueError("solver_type must be 'midpoint' or 'taylor', got "
                             f"{self.opts['solver_type']!r}")
        if self.opts.get("third_order_weight", "taylor") not in ("taylor", "paper"):
            raise ValueError("third_order_weight must be 'taylor' or 'paper', got "
                             f"{self.opts['third_order_weight']!r}")
        self.hist = []  # [(lambda, x0_hat)] at previous grid points, oldest first

    def step(self, i, x):
        g, p = self.g, self.orders[i]
        d0 = self.f(x, g.t[i], "x0")
        hist, self.hist = self.hist, (self.hist + [(g.lam[i], d0)])[-3:]
        if g.infinite_step(i):
            if self.stochastic:  # e^{-h} = 0: the state is forgotten, fresh noise at sigma'
                return x, g.a[i + 1] * d0 + self._noise(i, x, math.inf)
            return x, self._data_step1(i, x, d0)
        h, k = g.h(i), self.kappa
        a_n = g.a[i + 1]
        c_x = _ratio(g.ls[i + 1] - (k - 1.0) * h, g.ls[i])
        ph = _phis(-k * h, 3)
        w0 = a_n * k * h * ph[0]  # = alpha' (1 - e^{-kappa h})
        out = c_x * x + w0 * d0
        if p >= 2:
            lam1, m1 = hist[-1]
            r0 = (g.lam[i] - lam1) / h
            d1_0 = (1.0 / r0) * (d0 - m1)
            if p == 2:
                taylor = self.opts["solver_type"] == "taylor"
                w1 = a_n * k * h * ph[1] if taylor else 0.5 * w0
                out = out + w1 * d1_0
            else:
                lam2, m2 = hist[-2]
                r1 = (lam1 - lam2) / h
                d1_1 = (1.0 / r1) * (m1 - m2)
                d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1)
                d2 = (1.0 / (r0 + r1)) * (d1_0 - d1_1)
                w1 = a_n * k * h * ph[1]
                # D_2 ~ h^2 D''/2 and the D'' weight is alpha' kappa h^3 phi_3(-kappa h), so the
                # Taylor weight on D_2 is 2 alpha' kappa h phi_3; the paper/diffusers use half.
                paper = self.opts["third_order_weight"] == "paper"
                w2 = a_n * k * h * ph[2] * (1.0 if paper else 2.0)
                out = out + w1 * d1 + w2 * d2
        if self.stochastic:
            out = out + self._noise(i, x, h)
        return x, out

    def _noise(self, i, x, h):
        s_n = self.g.s[i + 1]
        if s_n == 0.0:
            return 0.0
        c = s_n * math.sqrt(-math.expm1(-2.0 * h))
        z = self.rng.standard_normal(tuple(x.shape))
        return c * self.xp.from_numpy(z, like=x)


class DPMpp2M(_DataMultistep):
    """DPM-Solver++(2M)."""

    order = 2


class DPMpp3M(_DataMultistep):
    """DPM-Solver++(3M) (third-order steps with the Taylor weight on D_2 by default)."""

    order = 3
    defaults = {"solver_type": "midpoint", "third_order_weight": "taylor"}


class DPMpp2MSDE(_DataMultistep):
    """SDE-DPM-Solver++(2M): ``x' = (sigma'/sigma) e^{-h} x + alpha'(1 - e^{-2h}) D +
    ... + sigma' sqrt(1 - e^{-2h}) z``."""

    order = 2
    stochastic = True
    kappa = 2.0


class DPMpp3MSDE(DPMpp2MSDE):
    """Third-order multistep extension of SDE-DPM-Solver++(2M)."""

    order = 3
    defaults = {"solver_type": "midpoint", "third_order_weight": "taylor"}


class UniPC(Scheme):
    """UniPC (data prediction): UniP-p predictor and UniC corrector, variant ``bh2``
    (``B(h) = expm1(-h)``, default) or ``bh1`` (``B(h) = -h``).

    The corrector for the step ``i-1 -> i`` uses the evaluation at the predicted ``x_i`` that
    the predictor of step ``i`` needs anyway, so it costs no extra NFE; there is none after
    the last step. ``disable_corrector=True`` gives the bare predictor (UniP).
    """

    defaults = {"variant": "bh2", "disable_corrector": False}

    def __init__(self, *args):
        super().__init__(*args)
        if self.opts["variant"] not in ("bh1", "bh2"):
            raise ValueError(f"variant must be 'bh1' or 'bh2', got {self.opts['variant']!r}")
        self.hist = []  # [(lambda, x0_hat)] at previous points (model at predicted states)
        self.last = None  # (i - 1, x_{i-1}, order used) for the corrector

    def _coeffs(self, i):
        """(x_t_ coefficients, G, phis) for the step i -> i + 1."""
        g = self.g
        h = g.h(i)
        ph = _phis(-h, 4)
        G = h * ph[0] if self.opts["variant"] == "bh2" else h  # = -B(h)
        return h, ph, G

    def _update(self, i, x, m0, prev, p, m_new=None):
        """Predictor (m_new None) or corrector update of step i with order p."""
        g = self.g
        h, ph, G = self._coeffs(i)
        a_n = g.a[i + 1]
        base = _ratio(g.ls[i + 1], g.ls[i]) * x + (a_n * h * ph[0]) * m0
        n_prev = p - 1
        prev = prev[len(prev) - n_prev:] if n_prev > 0 else []
        rks = [(lam_k - g.lam[i]) / h for lam_k, _ in reversed(prev)]  # newest first
        d1s = [(1.0 / rk) * (m_k - m0) for rk, (_, m_k) in zip(rks, reversed(prev), strict=True)]
        if m_new is None:  # predictor
            if p == 1:
                return base
            if p == 2:
                rhos = [0.5]
            else:
                rhos = self._solve(rks, ph, h, G, p - 1)
            acc = rhos[0] * d1s[0]
            for rho, d in zip(rhos[1:], d1s[1:], strict=True):
                acc = acc + rho * d
            return base + (a_n * G) * acc
        rks_c = rks + [1.0]
        if p == 1:
            rhos = [0.5]
        else:
            rhos = self._solve(rks_c, ph, h, G, p)
        acc = (rhos[-1] * 1.0) * (m_new - m0)
        for rho, d in zip(rhos[:-1], d1s, strict=True):
            acc = acc + rho * d
        return base + (a_n * G) * acc

    @staticmethod
    def _solve(rks, ph, h, G, n):
        """rho from sum_k rho_k r_k^(j-1) = b_j, b_j = phi_{j+1}(-h) j! h / G, j = 1..n."""
        R = np.array([[rk ** (j - 1) for rk in rks[:n]] for j in range(1, n + 1)], dtype=float)
        b = np.array([ph[j] * math.factorial(j) * h / G for j in range(1, n + 1)], dtype=float)
        return [float(v) for v in np.linalg.solve(R, b)]

    def step(self, i, x):
        g, p = self.g, self.orders[i]
        m = self.f(x, g.t[i], "x0")
        if self.last is not None and not self.opts["disable_corrector"]:
            j, x_prev, p_prev, prev_hist = self.last
            m_prev = prev_hist[-1][1]
            x = self._update(j, x_prev, m_prev, prev_hist[:-1], p_prev, m_new=m)
        self.hist = (self.hist + [(g.lam[i], m)])[-4:]
        if g.infinite_step(i):
            x_next = self._data_step1(i, x, m)
            self.last = None
            self.hist = []
        else:
            x_next = self._update(i, x, m, self.hist[:-1], p)
            self.last = (i, x, p, list(self.hist))
            if not math.isfinite(g.lam[i]):
                self.hist = []
        return x, x_next


class UniPC2(UniPC):
    """UniPC with a second-order predictor (UniP-2 + UniC: order 3)."""

    order = 2


class UniPC3(UniPC):
    """UniPC with a third-order predictor."""

    order = 3


class DPMSolverV3(Scheme):
    """DPM-Solver-v3 (Zheng et al. 2023, arXiv:2310.13268): multistep predictor and
    pseudo-order corrector in the EMS parameterisation (:mod:`sciflow.sampling.dpmv3`).

    With ``f = ((1 - l) x/alpha - x0_hat)`` and ``g_j = e^{-(S_j - S_s)} f_j - int_s^j
    e^{-(S_r - S_s)} b_r dr`` (history point j, expansion point s), a step of order p is
    ``x_t = (alpha_t/alpha_s) e^{-(L_t - L_s)} x_s - alpha_t (sum_{k<p} A_k g^(k) + C)`` with
    the derivatives ``g^(k)`` from the last p points: by solving the Vandermonde system
    (default) or, with ``pseudo_predictor=True``, by divided differences (the "pseudo-order"
    estimate). The corrector (like UniC: it reuses the evaluation at the predicted state, so it
    costs nothing) redoes the step ``i-1 -> i`` with the new point included, by divided
    differences of order ``p + 1`` (``pseudo_corrector=True``, the official setting) or ``p``,
    keeping ``f`` at the corrected state (the official code's rule); none after the last step.

    Options: ``ems`` — an :class:`~sciflow.sampling.dpmv3.EmpiricalModelStatistics` (from
    :func:`~sciflow.sampling.dpmv3.empirical_model_statistics`); ``None`` (default) uses the
    degenerate statistics ``l = 1, s = b = 0`` (the official ``degenerated=True``): then ``g =
    -x0_hat`` and the predictor is DPM-Solver++'s multistep data-prediction update with exact
    (``phi``-function) coefficients. ``pseudo_predictor``, ``pseudo_corrector``,
    ``disable_corrector`` (bools). Defaults ``pseudo_predictor=True, pseudo_corrector=False``:
    the most accurate of the eight combinations at NFE 5-20 on the 8-Gaussian and 3-D reference
    mixtures (:mod:`sciflow.sampling.mixtures`; tests/sampling/test_dpmv3.py). The official
    code uses ``pseudo_corrector=True`` always and ``pseudo_predictor=True`` at 5 steps only;
    the pseudo estimates make the asymptotic order 2 (with ``pseudo_predictor=False,
    disable_corrector=True``: 3).
    """

    order = 3
    defaults = {"ems": None, "pseudo_predictor": True, "pseudo_corrector": False,
                "disable_corrector": False}

    def __init__(self, *args):
        super().__init__(*args)
        from .dpmv3 import EmpiricalModelStatistics

        ems = self.opts["ems"]
        if ems is not None and not isinstance(ems, EmpiricalModelStatistics):
            raise TypeError(f"ems must be an EmpiricalModelStatistics (from "
                            f"empirical_model_statistics) or None, got {type(ems).__name__}")
        for name in ("pseudo_predictor", "pseudo_corrector"):
            if not isinstance(self.opts[name], bool | np.bool_):
                raise TypeError(f"{name} must be a bool, got {self.opts[name]!r}")
        self.ems = ems
        self.hist = []  # [(lambda, alpha, x, f)] at previous grid points, oldest first
        self.last = None  # (step index, predictor order, history incl. that step)
        self._cache = {}

    # ------------------------------------------------------------ coefficients (float64)
    def _coeffs(self, lam_s, lam_t, n_terms):
        key = (lam_s, lam_t, n_terms)
        if key not in self._cache:
            if self.ems is None:  # l = 1, s = b = 0: closed forms
                h = lam_t - lam_s
                ph = _phis(-h, n_terms)
                self._cache[key] = {"exp_L": math.exp(-h), "exp_S": 1.0, "B": 0.0, "C": 0.0,
                                    "A": [h ** (k + 1) * ph[k] for k in range(n_terms)]}
            else:
                self._cache[key] = self.ems.step_coefficients(lam_s, lam_t, n_terms)
        return self._cache[key]

    def _arr(self, v, like):
        if np.ndim(v) == 0:  # a Python float keeps the state's dtype (np.float64 would not)
            return float(v)
        return self.xp.from_numpy(np.asarray(v, dtype=float), like=like)

    def _f(self, i, x, m):
        """f = (1 - l) x/alpha - x0_hat at grid point i (finite lambda)."""
        g = self.g
        if self.ems is None:
            return -1.0 * m
        l_i = self.ems.at(g.lam[i])[0]
        return self._arr((1.0 - l_i) / g.a[i], x) * x - m

    def _update(self, base, pts, lam_t, a_t, p, pseudo):
        """Order-p update from base = (lambda_s, alpha_s, x_s, f_s) to lambda_t using the
        points pts = [(lambda_j, f_j)] (p - 1 of them) besides the base."""
        lam_s, a_s, x_s, f_s = base
        c = self._coeffs(lam_s, lam_t, p)
        x = x_s
        out = self._arr((a_t / a_s) * np.asarray(c["exp_L"]), x) * x_s \
            - self._arr(a_t * np.asarray(c["A"][0]), x) * f_s
        if self.ems is not None:
            out = out - self._arr(a_t * np.asarray(c["C"]), x)
        if p == 1:
            return out
        lams, gs = [lam_s], [f_s]
        for lam_j, f_j in pts[:p - 1]:
            if self.ems is None:
                gs.append(f_j)
            else:
                cj = self._coeffs(lam_s, lam_j, 1)
                gs.append(self._arr(cj["exp_S"], x) * f_j - self._arr(cj["B"], x))
            lams.append(lam_j)
        n = p - 1
        if pseudo:  # Newton divided differences: g^(k) ~ k! [g_0, ..., g_k]
            table = gs
            ders = []
            for k in range(1, n + 1):
                table = [(1.0 / (lams[j] - lams[j + k])) * (table[j] - table[j + 1])
                         for j in range(len(table) - 1)]
                ders.append(float(math.factorial(k)) * table[0])
        else:  # Vandermonde: g_j - g_0 = sum_k g^(k) (lambda_j - lambda_s)^k / k!
            R = np.array([[(lams[j] - lam_s) ** k / math.factorial(k) for k in range(1, n + 1)]
                          for j in range(1, n + 1)])
            W = np.linalg.inv(R)
            diffs = [gs[j] - gs[0] for j in range(1, n + 1)]
            ders = []
            for k in range(n):
                acc = float(W[k, 0]) * diffs[0]
                for j in range(1, n):
                    acc = acc + float(W[k, j]) * diffs[j]
                ders.append(acc)
        for k, dk in enumerate(ders, start=1):
            out = out - self._arr(a_t * np.asarray(c["A"][k]), x) * dk
        return out

    def step(self, i, x):
        g, p = self.g, self.orders[i]
        if self.ems is not None and tuple(x.shape)[-1] != self.ems.dim:
            raise ValueError(f"ems has dimension {self.ems.dim} but x_T has shape "
                             f"{tuple(x.shape)}: compute the statistics for this model")
        m = self.f(x, g.t[i], "x0")
        finite = math.isfinite(g.lam[i])
        f_i = self._f(i, x, m) if finite else None
        if self.last is not None and finite and not self.opts["disable_corrector"]:
            p_prev, prev = self.last
            c = p_prev + 1 if self.opts["pseudo_corrector"] else p_prev
            if c > 1:
                older = [(lam, f) for lam, _, _, f in reversed(prev[:-1])]
                x = self._update(prev[-1], [(g.lam[i], f_i)] + older, g.lam[i], g.a[i], c,
                                 self.opts["pseudo_corrector"])
        self.hist = (self.hist + [(g.lam[i], g.a[i], x, f_i)])[-4:]
        if g.infinite_step(i):
            self.last, self.hist = None, []
            return x, self._data_step1(i, x, m)
        pts = [(lam, f) for lam, _, _, f in reversed(self.hist[:-1])]
        x_next = self._update(self.hist[-1], pts, g.lam[i + 1], g.a[i + 1], p,
                              self.opts["pseudo_predictor"])
        self.last = (p, list(self.hist))
        return x, x_next


class Heun(Scheme):
    """EDM's deterministic Heun step (Karras et al. 2022, Algorithm 1) in the variables
    ``x/alpha`` and ``sigma/alpha``, written for any schedule:
    ``x_E = (sigma'/sigma) x - alpha' expm1(-h) D``, then
    ``x' = x_E - (sigma'/2) expm1(h) (eps_E - eps)`` with ``eps = (x - alpha D)/sigma``.
    Order-1 steps (the remainder of an even NFE budget, infinite-h steps) are the Euler step
    ``x_E``.
    """

    order = 2
    singlestep = True

    def step(self, i, x):
        g, p = self.g, self.orders[i]
        d = self.f(x, g.t[i], "x0")
        x_e = self._data_step1(i, x, d)
        if p == 1 or g.infinite_step(i):
            return x, x_e
        a, s, a_n, s_n = g.a[i], g.s[i], g.a[i + 1], g.s[i + 1]
        d_e = self.f(x_e, g.t[i + 1], "x0")
        eps = (1.0 / s) * (x - a * d)
        eps_e = (1.0 / s_n) * (x_e - a_n * d_e)
        return x, x_e - (0.5 * s_n * math.expm1(g.h(i))) * (eps_e - eps)


class Euler(Scheme):
    """Explicit Euler in t on ``dx/dt = velocity``: for flows the rectified-flow step
    ``x <- x + (t_next - t) v``; for other schedules the generic probability-flow Euler step."""

    order = 1

    def step(self, i, x):
        g = self.g
        v = self.f(x, g.t[i], "velocity")
        return x, x + (g.t[i + 1] - g.t[i]) * v


SOLVERS = {
    "ddim": DDIM, "dpm_solver_1": DPMSolver1, "dpm_solver_2": DPMSolver2,
    "dpm_solver_3": DPMSolver3, "dpmpp_2m": DPMpp2M, "dpmpp_3m": DPMpp3M,
    "dpmpp_2m_sde": DPMpp2MSDE, "dpmpp_3m_sde": DPMpp3MSDE, "unipc_2": UniPC2,
    "unipc_3": UniPC3, "heun": Heun, "euler": Euler,
    "dpm_solver_v3": DPMSolverV3,
}
"""Solver name (the ``solver=`` of :func:`sample`) -> its :class:`Scheme` class."""


# ============================================================================ planning
def _split_singlestep(budget, k, lower_order_final):
    """Orders of singlestep steps using exactly ``budget`` evaluations (DPM-Solver's recipe)."""
    if budget <= 0:
        return []
    if k == 3 and lower_order_final:
        n_steps = budget // 3 + 1
        if budget % 3 == 0:
            return [3] * (n_steps - 2) + [2, 1]
        if budget % 3 == 1:
            return [3] * (n_steps - 1) + [1]
        return [3] * (n_steps - 1) + [2]
    out = [k] * (budget // k)
    if budget % k:
        out.append(budget % k)
    return out


def _singlestep_orders_from_budget(budget, k, inf_first, inf_last, lower_order_final):
    if inf_first and inf_last and budget == 1:
        return [1]
    inner = budget - int(inf_first) - int(inf_last)
    # a final step to sigma = 0 is already first order: no further lowering before it
    lof = lower_order_final and not inf_last
    return [1] * inf_first + _split_singlestep(inner, k, lof) + [1] * inf_last


def _multistep_orders(grid, order, lower_order_final):
    n = len(grid.t) - 1
    orders, avail = [], 0
    for i in range(n):
        if not math.isfinite(grid.lam[i]):
            avail = 0
        p = min(order, avail + 1)
        if lower_order_final and n < LOWER_ORDER_FINAL_MAX_STEPS:
            p = min(p, n - i)
        if grid.infinite_step(i):
            p = 1
        orders.append(p)
        avail = avail + 1 if math.isfinite(grid.lam[i]) else 0
    return orders


# ============================================================================ result
@dataclass(frozen=True)
class SampleResult:
    """Output of :func:`sample` with ``return_info=True``.

    ``x`` the final samples (array type of ``x_T``); ``trajectory`` the state at every time in
    ``times`` (``trajectory[0]`` is ``x_T``; for UniPC the corrected states; with
    ``denoise_to_zero`` the last entry is the x0 prediction and ``times[-1] = 0``);
    ``orders`` the order of every step; ``nfe`` the number of model evaluations.
    """

    x: Any
    trajectory: list
    times: np.ndarray
    nfe: int
    orders: tuple
    solver: str
    wall_time: float = 0.0
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {self.solver!r}")
        object.__setattr__(self, "nfe", check_int("nfe", self.nfe, low=0))
        times = check_array("times", self.times, ndim=1, min_size=1)
        if np.any(np.diff(times) > 0):
            raise ValueError("times must be non-increasing (from t_start down to t_end)")
        object.__setattr__(self, "times", times)
        if self.trajectory is not None:
            if not isinstance(self.trajectory, list | tuple):
                raise TypeError(f"trajectory must be a list of arrays, got "
                                f"{type(self.trajectory).__name__}")
            if len(self.trajectory) != len(times):
                raise ValueError(f"trajectory must have one state per time ({len(times)}), "
                                 f"got {len(self.trajectory)}")
        try:
            orders = tuple(check_int("orders[i]", o, low=1) for o in self.orders)
        except (TypeError, ValueError):
            raise ValueError(f"orders must be a sequence of integers >= 1, got "
                             f"{self.orders!r}") from None
        object.__setattr__(self, "orders", orders)
        object.__setattr__(self, "wall_time", check_nonnegative("wall_time", self.wall_time))
        if not isinstance(self.options, dict):
            raise TypeError(f"options must be a dict, got {type(self.options).__name__}")

    def plot(self, ax=None, n_paths=50, dims=(0, 1), **kwargs):
        """Trajectories of the first ``n_paths`` samples in the plane ``dims`` (one line per
        sample, ``kwargs`` to ``Axes.plot``; final points marked); returns the Axes."""
        n_paths = check_int("n_paths", n_paths, low=1)
        if self.trajectory is None:
            raise ValueError("plot needs the trajectory (sample(..., return_info=True))")
        d = int(np.shape(self.x)[-1]) if np.ndim(self.x) else 0
        try:
            i, j = (check_int("dims[k]", v, low=0, high=d - 1) for v in dims)
        except (TypeError, ValueError):
            raise ValueError(f"dims must be two axes in [0, {d - 1}], got {dims!r}") from None
        from ._surface import new_axes, numpy_samples

        ax = new_axes(ax)
        traj = np.stack([numpy_samples(x).reshape(-1, np.shape(x)[-1])
                         for x in self.trajectory])
        m = min(n_paths, traj.shape[1])
        ax.plot(traj[:, :m, i], traj[:, :m, j], **{"lw": 0.6, "alpha": 0.6, **kwargs})
        ax.scatter(traj[-1, :m, i], traj[-1, :m, j], s=4, c="k", zorder=3)
        ax.set_xlabel(f"x[{i}]")
        ax.set_ylabel(f"x[{j}]")
        ax.set_title(f"{self.solver}, NFE = {self.nfe}")
        return ax

    def to_xarray(self):
        """``x`` (sample, dim) and, when recorded, ``trajectory`` (t, sample, dim) on the
        decreasing schedule times ``t``; solver, nfe, orders and wall time (s) in attrs."""
        from ._surface import numpy_samples, plain_attrs, sample_dims, trajectory_vars, xarray

        xr = xarray()
        x = numpy_samples(self.x)
        traj, coords = trajectory_vars(self.trajectory, self.times)
        data = {"x": (sample_dims(x), x, {"long_name": "final samples"}), **traj}
        return xr.Dataset(data, coords=coords, attrs=plain_attrs(
            solver=self.solver, nfe=self.nfe, orders=self.orders,
            wall_time=self.wall_time, wall_time_units="s"))


# ============================================================================ the loop
class _Counted:
    """The model as the schemes see it: counts evaluations, checks shape and finiteness.

    ``step`` and ``n_steps`` are set by the loop so that a NaN/inf output is reported with
    the step index and time (one ``all_finite`` reduction per evaluation: cheap next to a
    model, for NumPy and torch alike). A state that overflowed in a step reaches the next
    evaluation as NaN/inf and is reported there; the loop checks the final state once.
    """

    def __init__(self, model, xp):
        self.predict = model.predict
        self.xp = xp
        self.nfe = 0
        self.step = 0
        self.n_steps = 0

    def __call__(self, x, t, kind):
        self.nfe += 1
        out = self.predict(x, t, kind=kind)
        shape = getattr(out, "shape", None)
        if shape is None:
            raise TypeError(f"model.predict must return an array (NumPy or torch), got "
                            f"{type(out).__name__}")
        if tuple(shape) != tuple(x.shape):
            raise ValueError(f"model.predict returned shape {tuple(shape)} for input shape "
                             f"{tuple(x.shape)}")
        if out.dtype != x.dtype or type(out) is not type(x):
            out = self.xp.cast_like(out, x)
        if not self.xp.all_finite(out):
            where = "the final denoising evaluation" if self.step >= self.n_steps else \
                f"step {self.step} of {self.n_steps}"
            if self.xp.all_finite(x):
                cause = "the model diverged"
            else:
                cause = ("its input state was already NaN/inf: the solver's state overflowed "
                         "with finite model outputs")
            raise NonFiniteError(
                f"model.predict returned NaN/inf at {where} (t = {float(t):.6g}, "
                f"kind={kind!r}, evaluation {self.nfe}): {cause}",
                step=self.step, t=float(t), nfe=self.nfe)
        return out


def _check_steps(schedule, steps):
    arr = check_array("steps", steps, ndim=1, min_size=2)
    schedule.check_t("steps", arr)
    if np.any(np.diff(arr) > 0):
        raise ValueError("steps must be non-increasing (from t_start down to t_end)")
    return arr


def _dedup(schedule, times):
    """Drop repeated noise levels (equal lambda), keeping the first occurrence."""
    lam = np.asarray(schedule.lambda_(times), dtype=float)
    keep = np.concatenate([[True], lam[1:] != lam[:-1]])
    return np.asarray(times, dtype=float)[keep]


def check_model_and_schedule(model, schedule, *, check_match=True):
    """The checks every sampler makes: ``model`` has ``predict(x, t, kind)``, ``schedule`` is a
    :class:`Schedule` and (``check_match``) equals the model's own ``schedule`` if it has one."""
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(x, t, kind) method, got "
                        f"{type(model).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a VPSchedule, EDMSchedule or FlowSchedule, got "
                        f"{type(schedule).__name__}")
    m_sched = getattr(model, "schedule", None)
    if check_match and m_sched is not None and m_sched != schedule:
        raise ValueError(f"schedule {schedule!r} differs from the model's schedule {m_sched!r}")


def sample(model, x_T, schedule, *, solver, nfe=None, t_start=None, t_end=None, steps=None,
           spacing=None, spacing_options=None, return_info=False, rng=None,
           lower_order_final=True, denoise_to_zero=False, progress=False, **options):
    """Integrate the probability-flow ODE (or SDE) from ``x_T`` at ``t_start`` to ``t_end``.

    Parameters
    ----------
    model
        Anything with ``predict(x, t, kind="eps"|"x0"|"score"|"velocity")`` (for example
        ``GaussianMixture.bind(schedule)``); if it has ``dim`` the last axis of ``x_T`` must
        match, and if it has ``schedule`` it must equal ``schedule``.
    x_T : NumPy array or torch tensor, float32/float64, shape (..., d)
        Samples at ``t_start``. The result has the same type, dtype and device.
    schedule : VPSchedule, EDMSchedule or FlowSchedule
    solver : str
        One of :data:`SOLVERS` (see the module docstring).
    nfe : int
        Model-evaluation budget (>= 1); mapped to a number of steps per the solver. Optional
        when ``steps`` is given (then it must be achievable on those steps).
    t_start, t_end : float, optional
        Defaults: the schedule's (VP: 1 and 1e-3; EDM: sigma_max and sigma_min; flow: 1 and 0).
    steps : 1-D array, optional
        Explicit non-increasing times (overrides ``spacing``, ``t_start``/``t_end``).
    spacing : str, optional
        ``"uniform_t"``, ``"quadratic"``, ``"uniform_lambda"``, ``"karras"``,
        ``"karras_truncated"``; default :meth:`Schedule.default_spacing` for the solver.
    spacing_options : dict, optional
        Passed to :meth:`Schedule.timesteps` (``rho``, ``karras_points``, ...).
    return_info : bool
        Return a :class:`SampleResult` instead of the array.
    rng : numpy Generator or seed
        Noise for the SDE solvers (drawn in float64 NumPy, then converted, so NumPy and torch
        runs agree).
    lower_order_final, denoise_to_zero : bool
        See the module docstring.
    progress : bool
        Show a tqdm progress bar over the steps (off by default: typical runs are short).
    **options
        Scheme options: ``solver_type`` ("midpoint"|"taylor") for ``dpmpp_*``,
        ``third_order_weight`` ("taylor"|"paper") for ``dpmpp_3m*``; ``variant`` ("bh2"|"bh1")
        and ``disable_corrector`` for ``unipc_*``.

    Raises
    ------
    NonFiniteError
        (a ``FloatingPointError`` and a ``ValueError``) as soon as the model returns NaN/inf,
        or a step overflows; the message names the step index, the time, the prediction kind
        and the evaluation number.
    ValueError, TypeError
        For bad arguments, naming the parameter.
    """
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}")
    cls = SOLVERS[solver]
    unknown = set(options) - set(cls.defaults)
    if unknown:
        raise TypeError(f"unexpected option(s) for solver {solver!r}: {sorted(unknown)}; "
                        f"allowed: {sorted(cls.defaults)}")
    opts = {**cls.defaults, **options}
    check_model_and_schedule(model, schedule)
    x, xp = as_float_array("x_T", x_T)
    if len(tuple(x.shape)) == 0 or int(np.prod(tuple(x.shape))) == 0:
        raise ValueError(f"x_T must be a non-empty array of shape (..., d), got shape "
                         f"{tuple(x.shape)}")
    dim = getattr(model, "dim", None)
    if dim is not None and (len(tuple(x.shape)) == 0 or tuple(x.shape)[-1] != dim):
        raise ValueError(f"x_T must have shape (..., {dim}) to match the model dimension, "
                         f"got {tuple(x.shape)}")
    if spacing_options is not None and not isinstance(spacing_options, dict):
        raise TypeError(f"spacing_options must be a dict, got {type(spacing_options).__name__}")
    for name, flag in (("lower_order_final", lower_order_final),
                       ("denoise_to_zero", denoise_to_zero), ("return_info", return_info),
                       ("progress", progress)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    rng = as_rng(rng) if (cls.stochastic or rng is not None) else None
    if nfe is not None:
        nfe = check_int("nfe", nfe, low=1)

    # ------------------------------------------------------------ time grid and orders
    if steps is not None:
        if t_start is not None or t_end is not None:
            raise ValueError("give either steps or t_start/t_end, not both")
        times = _dedup(schedule, _check_steps(schedule, steps))
        if times.size < 2:
            raise ValueError("steps must contain at least two distinct noise levels")
        ts, te = float(times[0]), float(times[-1])
    else:
        if nfe is None:
            raise ValueError("nfe is required unless steps is given")
        ts, te = schedule._endpoints(t_start, t_end)
    te_zero = float(schedule.sigma(te)) == 0.0
    dz = bool(denoise_to_zero) and not te_zero
    if nfe is not None and nfe - int(dz) < 1:
        raise ValueError(f"nfe={nfe} leaves no evaluation for the steps with "
                         "denoise_to_zero=True; use nfe >= 2")

    if steps is None:
        budget = nfe - int(dz)
        inf_first = float(schedule.alpha(ts)) == 0.0
        if cls.singlestep and cls.order > 1:
            planned = _singlestep_orders_from_budget(budget, cls.order, inf_first, te_zero,
                                                     lower_order_final)
            n_steps = len(planned)
        else:
            n_steps = budget
        times = schedule.timesteps(n_steps, spacing if spacing is not None
                                   else schedule.default_spacing(solver), ts, te,
                                   **(spacing_options or {}))
        deduped = _dedup(schedule, times)
        if deduped.size != times.size:  # only in degenerate cases; re-plan on what is left
            times = deduped
        grid = _Grid(schedule, times)
        n_steps = len(times) - 1
        if cls.singlestep and cls.order > 1 and n_steps == len(planned):
            orders = planned
        else:
            orders = _orders_for_grid(cls, grid, lower_order_final, None, dz, solver)
    else:
        grid = _Grid(schedule, times)
        orders = _orders_for_grid(cls, grid, lower_order_final, nfe, dz, solver)

    # ------------------------------------------------------------ stepping
    f = _Counted(model, xp)
    scheme = cls(f, grid, orders, opts, rng, xp)
    traj = [x] if return_info else None
    it = range(len(orders))
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=solver, leave=False)
    t0 = time.perf_counter()
    f.n_steps = len(orders)
    for i in it:
        f.step = i
        x_i, x = scheme.step(i, x)
        if traj is not None:
            traj[-1] = x_i
            traj.append(x)
    out_times = np.asarray(grid.t, dtype=float)
    if not xp.all_finite(x):  # every model output was finite, yet the last step overflowed
        n = len(orders)
        raise NonFiniteError(
            f"the state became NaN/inf in the last step, step {n - 1} of {n} (t = "
            f"{grid.t[-2]:.6g} -> {grid.t[-1]:.6g}), with finite model outputs: the step "
            "overflowed", step=n - 1, t=grid.t[-2], nfe=f.nfe)
    if dz:
        f.step = len(orders)
        x = f(x, grid.t[-1], "x0")
        if traj is not None:
            traj.append(x)
            out_times = np.append(out_times, 0.0)
    wall = time.perf_counter() - t0
    if not return_info:
        return x
    return SampleResult(x=x, trajectory=traj, times=out_times, nfe=f.nfe, orders=tuple(orders),
                        solver=solver, wall_time=wall, options=opts)


def _orders_for_grid(cls, grid, lower_order_final, nfe, dz, solver):
    """Per-step orders on a given grid; with ``nfe`` given, check it is achievable."""
    n = len(grid.t) - 1
    if cls.singlestep and cls.order > 1:
        orders = [1 if grid.infinite_step(i) else cls.order for i in range(n)]
        if nfe is not None:
            budget = nfe - int(dz)
            lo, hi = n, sum(orders)
            if not lo <= budget <= hi:
                raise ValueError(f"nfe={nfe} is not achievable by {solver!r} (order "
                                 f"{cls.order}) on {n} steps: it needs between {lo + int(dz)} "
                                 f"and {hi + int(dz)} evaluations")
            excess = hi - budget  # lower the orders of the last steps first
            for i in reversed(range(n)):
                while excess > 0 and orders[i] > 1:
                    orders[i] -= 1
                    excess -= 1
        return orders
    if nfe is not None and nfe - int(dz) != n:
        raise ValueError(f"nfe={nfe} does not match {n} steps of {solver!r} (one evaluation per "
                         f"step{', plus one for denoise_to_zero' if dz else ''}): use "
                         f"nfe={n + int(dz)} or leave nfe out")
    return _multistep_orders(grid, cls.order, lower_order_final)
