"""Score-matching losses for multiplicative (GBM) diffusion, for NumPy arrays and torch tensors.

A model of the noised data predicts the *Hyvärinen score* ``h(x, t) = x ∘ grad_x log p_t(x)``
(Shetty, Prasath & Seelamantula 2025, arXiv:2510.02730). Under a :class:`~.gbm.GBM` the
conditional law ``log X_t | x0 ~ N(log x0 + m(t), v(t))`` has the Hyvärinen score
``h(x | x0) = -(log x - log x0 - m(t)) / v(t) - 1`` (``m = GBM.log_mean``, ``v = GBM.log_variance``,
so time-dependent ``mu(t)``, ``sigma(t)`` are handled exactly). The losses here are

* :func:`m_dsm` — multiplicative denoising score matching, ``E w(t) |h(X_t, t) - h(X_t | X_0)|^2``.
  With the authors' weight ``w = v(t)^2`` (``(sigma^2 t)^2`` for constant sigma, the default
  ``weight="v2"``) the summand is ``(v h + log x - log x0 - m + v)^2``, the regression of their
  ``losses.new_loss``;
* :func:`m_esm` — multiplicative explicit score matching against a known Hyvärinen score,
  ``E w(t) |h(X_t, t) - h_true(X_t, t)|^2``. ``m_dsm - m_esm`` does not depend on the model
  (``= E w |h(X_t|X_0) - h_true(X_t)|^2``: the M-DSM/M-ESM equivalence);
* :func:`nonnegative_score_matching` — Hyvärinen's (2007) score matching for data on ``R_+^d``
  ("Some extensions of score matching", Comput. Stat. Data Anal. 51), which needs no noise:

      J(psi) = E sum_i [ 2 x_i psi_i(x) + x_i^2 d_i psi_i(x) + 1/2 x_i^2 psi_i(x)^2 ]
             = E sum_i [ h_i + d h_i / d log x_i + 1/2 h_i^2 ],      h = x ∘ psi,

  obtained from ``1/2 E |x ∘ psi - x ∘ grad log p|^2`` by integrating by parts (the factor
  ``x_i^2`` removes the boundary term at ``x_i = 0``). Hence ``J = m_esm(weight="none")/2 -
  E|h_true|^2/2``: its minimiser is the true score. (The first term is ``2 x_i psi_i``, without a
  derivative; the diagonal derivative enters only through ``x_i^2 d_i psi_i``.)

Conventions: axis 0 of ``x`` is the batch, the remaining axes are summed (one value per
sample); ``reduction`` is ``"mean"`` over the batch (default), ``"sum"`` or ``"none"``
(per-sample values). ``t`` is a scalar or one time per sample. All arithmetic goes through
:mod:`sciflow.sampling.backend`, so a torch prediction gives a differentiable torch loss and
a NumPy prediction a NumPy float.

The authors' training code evaluates the target one time step late (noise drawn at
``t = k/N``, target and weight at ``(k + 1)/N``): pass ``t_target`` to reproduce it;
:func:`dsm_minimizer` gives the population minimiser of such a mismatched loss in closed form.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validate import check_choice, check_positive
from ..sampling.backend import as_float_array, get_namespace, is_torch
from .gbm import GBM, _check_positive_data

__all__ = [
    "m_dsm",
    "m_esm",
    "nonnegative_score_matching",
    "dsm_target",
    "dsm_minimizer",
    "DSMMinimizer",
    "WEIGHTS",
]

WEIGHTS = ("v2", "v", "none")
REDUCTIONS = ("mean", "sum", "none")


# ============================================================================ helpers
def _check_gbm(gbm):
    if not isinstance(gbm, GBM):
        raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
    return gbm


def _batch(name, x):
    shape = tuple(x.shape)
    if len(shape) == 0 or shape[0] == 0:
        raise ValueError(f"{name} must have a non-empty batch axis (axis 0), got shape {shape}")
    return shape[0]


def _time_array(name, t, n):
    """``t`` (scalar or one per sample) as float64: a float or a (n,) array, all > 0."""
    if is_torch(t):
        t = t.detach().cpu().numpy()
    if isinstance(t, bool) or t is None or isinstance(t, str | bytes):
        raise TypeError(f"{name} must be a real number or an array of them, got {t!r}")
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them, got {t!r}") from None
    if arr.ndim == 0:
        scalar = True
    elif arr.ndim == 1 and arr.shape[0] == n:
        scalar = False
    else:
        raise ValueError(f"{name} must be a scalar or have shape ({n},) (one time per sample), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        bad = arr[~(np.isfinite(arr) & (arr > 0))].flat[0] if arr.ndim else float(arr)
        raise ValueError(f"{name} must be finite and > 0, got {bad}")
    return (float(arr) if scalar else arr), scalar


def _per_sample(values, shape, like, xp):
    """Float64 per-sample values as Python floats (scalar t) or arrays shaped (n, 1, ...)."""
    if np.ndim(values) == 0:
        return float(values)
    return xp.from_numpy(np.reshape(values, (shape[0],) + (1,) * (len(shape) - 1)), like=like)


def _weight(weight, t, v):
    """Loss weight at the times ``t`` (float64, same shape as ``t``)."""
    if callable(weight):
        try:
            w = np.asarray(weight(t), dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"weight(t) must return real numbers: {exc}") from None
        try:
            w = np.broadcast_to(w, np.shape(t)).copy()
        except ValueError:
            raise ValueError(f"weight(t) must return a scalar or shape {np.shape(t)}, got "
                             f"{w.shape}") from None
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weight(t) must be finite and >= 0")
        return w if w.ndim else float(w)
    if not isinstance(weight, str):
        raise TypeError(f"weight must be one of {WEIGHTS} or a callable of t, got "
                        f"{type(weight).__name__} {weight!r}")
    check_choice("weight", weight, WEIGHTS)
    if weight == "v2":
        return v * v
    if weight == "v":
        return v
    return np.ones_like(v) if np.ndim(v) else 1.0


def _reduce(per_elem, shape, xp, reduction):
    if len(shape) > 1:
        per_sample = xp.sum(per_elem, axis=tuple(range(1, len(shape))))
    else:
        per_sample = per_elem
    if reduction == "none":
        return per_sample
    total = xp.sum(per_sample)
    out = total if reduction == "sum" else total / float(shape[0])
    return float(out) if xp.name == "numpy" else out


def _as_prediction(name, pred, x, t):
    """An array of predictions shaped like ``x``: ``pred`` itself, or ``pred`` evaluated at
    ``(x, t)`` when it is a model (``hyvarinen_score``) or a callable."""
    if hasattr(pred, "hyvarinen_score") and callable(pred.hyvarinen_score):
        pred = pred.hyvarinen_score(x, t)
    elif callable(pred):
        pred = pred(x, t)
    out, xp = as_float_array(name, pred)
    if tuple(out.shape) != tuple(x.shape):
        raise ValueError(f"{name} must have the shape of x_t {tuple(x.shape)}, got "
                         f"{tuple(out.shape)}")
    return out, xp


def _align(x, like, xp_like):
    """``x`` in the array type / dtype / device of ``like``."""
    if get_namespace(x) is xp_like and getattr(x, "dtype", None) == like.dtype:
        return x
    if get_namespace(x).name == "torch" and xp_like.name == "numpy":
        raise TypeError("x_t/x0 are torch tensors but the prediction is a NumPy array; pass "
                        "both as the same array type")
    return xp_like.cast_like(x, like)


# ============================================================================ losses
def dsm_target(x_t, x0, t, gbm):
    """The regression target of :func:`m_dsm`: ``h(x_t | x0) = -(log x_t - log x0 - m)/v - 1``
    with ``m = gbm.log_mean(t)``, ``v = gbm.log_variance(t)`` (per-sample ``t`` allowed)."""
    gbm = _check_gbm(gbm)
    x_t, xp = _check_positive_data("x_t", x_t)
    x0, _ = _check_positive_data("x0", x0)
    if tuple(x0.shape) != tuple(x_t.shape):
        raise ValueError(f"x0 must have the shape of x_t {tuple(x_t.shape)}, got "
                         f"{tuple(x0.shape)}")
    x0 = _align(x0, x_t, xp)
    n = _batch("x_t", x_t)
    tt, _ = _time_array("t", t, n)
    m = _per_sample(np.asarray(gbm.log_mean(tt)), x_t.shape, x_t, xp)
    v = _per_sample(np.asarray(gbm.log_variance(tt)), x_t.shape, x_t, xp)
    return -(xp.log(x_t) - xp.log(x0) - m) / v - 1.0


def m_dsm(h_pred, x_t, x0, t, gbm, *, weight="v2", t_target=None, reduction="mean"):
    """Multiplicative denoising score matching ``E w |h_pred(X_t) - h(X_t | X_0)|^2``.

    Parameters
    ----------
    h_pred : array (NumPy or torch), model or callable
        The predicted Hyvärinen score at ``x_t`` (shape of ``x_t``); a model with
        ``hyvarinen_score(x, t)`` or a callable ``f(x, t)`` is evaluated at ``(x_t, t)``.
        A torch prediction gives a torch loss that back-propagates into it.
    x_t, x0 : arrays, > 0
        Noised samples and the data they were noised from (``gbm.sample(x0, t)``).
    t : float or (n,) array
        The noise time of each sample (> 0).
    gbm : GBM
    weight : {"v2", "v", "none"} or callable
        ``"v2"``: ``v(t)^2`` (the authors' ``(sigma^2 t)^2``; the summand is then
        ``(v h + log x_t - log x0 - m + v)^2`` and stays O(1) as ``t -> 0``); ``"v"``: ``v(t)``;
        ``"none"``: 1; a callable ``w(t)`` returning non-negative weights.
    t_target : float, array or callable, optional
        The time at which the target's ``m, v`` and the weight are evaluated; default ``t``
        (consistent). The authors' code uses ``t + 1/N``: ``t_target=lambda t: t + 1e-3``.
        The minimiser of the mismatched loss is :func:`dsm_minimizer`.
    reduction : {"mean", "sum", "none"}
        Over the batch (axis 0) of per-sample sums over the other axes.
    """
    gbm = _check_gbm(gbm)
    check_choice("reduction", reduction, REDUCTIONS)
    x_t, _ = _check_positive_data("x_t", x_t)
    x0, _ = _check_positive_data("x0", x0)
    if tuple(x0.shape) != tuple(x_t.shape):
        raise ValueError(f"x0 must have the shape of x_t {tuple(x_t.shape)}, got "
                         f"{tuple(x0.shape)}")
    n = _batch("x_t", x_t)
    tt, _ = _time_array("t", t, n)
    h, xp = _as_prediction("h_pred", h_pred, x_t, t)
    x_t, x0 = _align(x_t, h, xp), _align(x0, h, xp)
    if t_target is None:
        tau = tt
    else:
        tau_in = t_target(tt) if callable(t_target) else t_target
        tau, _ = _time_array("t_target", tau_in, n)
        if np.ndim(tau) == 0 and np.ndim(tt) == 1:
            tau = np.full(n, tau)
    m = np.asarray(gbm.log_mean(tau))
    v = np.asarray(gbm.log_variance(tau))
    w = _weight(weight, tau, v)
    shape = tuple(x_t.shape)
    m_b, v_b = _per_sample(m, shape, h, xp), _per_sample(v, shape, h, xp)
    w_b = _per_sample(w, shape, h, xp)
    r = h + 1.0 + (xp.log(x_t) - xp.log(x0) - m_b) / v_b
    return _reduce(w_b * r * r, shape, xp, reduction)


def m_esm(h_pred, x_t, t, gbm, *, true_score, weight="v2", reduction="mean"):
    """Multiplicative explicit score matching ``E w |h_pred(X_t) - h_true(X_t)|^2``.

    ``h_pred`` and ``true_score`` are arrays shaped like ``x_t``, models with
    ``hyvarinen_score(x, t)`` or callables ``f(x, t)`` (evaluated at ``(x_t, t)``); ``weight``
    and ``reduction`` as in :func:`m_dsm` (``gbm`` gives ``v(t)`` for the weight).
    """
    gbm = _check_gbm(gbm)
    check_choice("reduction", reduction, REDUCTIONS)
    x_t, _ = _check_positive_data("x_t", x_t)
    n = _batch("x_t", x_t)
    tt, _ = _time_array("t", t, n)
    h, xp = _as_prediction("h_pred", h_pred, x_t, t)
    ht, _ = _as_prediction("true_score", true_score, x_t, t)
    ht = _align(ht, h, xp)
    v = np.asarray(gbm.log_variance(tt))
    w_b = _per_sample(_weight(weight, tt, v), tuple(x_t.shape), h, xp)
    r = h - ht
    return _reduce(w_b * r * r, tuple(x_t.shape), xp, reduction)


def _flat_index(shape, k):
    if len(shape) == 1:
        return (slice(None),)
    return (slice(None),) + tuple(int(i) for i in np.unravel_index(k, shape[1:]))


def nonnegative_score_matching(score_fn, x, *, t=None, kind=None, derivative=None, fd_step=None,
                               reduction="mean"):
    """Hyvärinen's (2007) score matching for non-negative data (no noise, no target).

    ``J = E sum_i [h_i + d h_i / d log x_i + h_i^2 / 2]`` with ``h = x ∘ psi`` (see the module
    docstring; equal to ``E sum_i [2 x_i psi_i + x_i^2 d_i psi_i + x_i^2 psi_i^2 / 2]``).

    Parameters
    ----------
    score_fn : callable or model
        ``score_fn(x)`` (or ``score_fn(x, t)`` when ``t`` is given) returning the Stein score
        ``psi`` (``kind="stein"``) or the Hyvärinen score ``x ∘ psi`` (``kind="hyvarinen"``),
        shaped like ``x``; an object with ``hyvarinen_score(x, t)`` is used with
        ``kind="hyvarinen"``. Samples must be processed independently (no batch coupling):
        the diagonal derivatives are taken through batch sums.
    x : array (NumPy or torch), > 0, shape (n, ...)
    t : float, optional
        Passed to ``score_fn`` (for a noised marginal ``p_t``).
    kind : {"hyvarinen", "stein"}
        Default ``"hyvarinen"``.
    derivative : {"autograd", "fd"}
        How ``d h_i / d log x_i`` is computed: torch autograd (default for tensors; the loss
        stays differentiable in the model's parameters, ``create_graph=True``) or central
        differences in ``log x_i`` (default for NumPy; two evaluations per coordinate).
    fd_step : float
        Step in ``log x`` for ``"fd"`` (default 1e-5 for float64, 1e-3 for float32).
    reduction : {"mean", "sum", "none"}
    """
    check_choice("reduction", reduction, REDUCTIONS)
    x, xp = _check_positive_data("x", x)
    shape = tuple(x.shape)
    _batch("x", x)
    if t is not None:
        t = check_positive("t", t) if isinstance(t, numbers.Real) else t
    if hasattr(score_fn, "hyvarinen_score") and callable(score_fn.hyvarinen_score):
        if kind not in (None, "hyvarinen"):
            raise ValueError(f"kind must be 'hyvarinen' for a model with hyvarinen_score, got "
                             f"{kind!r}")
        kind = "hyvarinen"
        fn = score_fn.hyvarinen_score
        if t is None:
            raise ValueError("t is required for a model with hyvarinen_score(x, t)")
    elif callable(score_fn):
        fn = score_fn
    else:
        raise TypeError(f"score_fn must be callable or have hyvarinen_score, got "
                        f"{type(score_fn).__name__}")
    kind = "hyvarinen" if kind is None else kind
    check_choice("kind", kind, ("hyvarinen", "stein"))
    if derivative is None:
        derivative = "autograd" if xp.name == "torch" else "fd"
    check_choice("derivative", derivative, ("autograd", "fd"))
    if derivative == "autograd" and xp.name != "torch":
        raise ValueError("derivative='autograd' needs torch tensors; use derivative='fd' for "
                         "NumPy arrays")

    def h_of(z):
        out = fn(z) if t is None else fn(z, t)
        if tuple(getattr(out, "shape", ())) != shape:
            raise ValueError(f"score_fn must return the shape of x {shape}, got "
                             f"{tuple(getattr(out, 'shape', ()))}")
        if get_namespace(out) is not xp:
            out = xp.cast_like(out, z)
        return z * out if kind == "stein" else out

    d = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    if derivative == "autograd":
        torch = xp.torch
        xg = x.detach().clone().requires_grad_(True)
        h = h_of(xg)
        diag = []
        for k in range(d):
            idx = _flat_index(shape, k)
            (g,) = torch.autograd.grad(h[idx].sum(), xg, create_graph=True)
            diag.append(g[idx] * xg[idx])
        dh = torch.stack(diag, dim=-1).reshape(shape)
    else:
        if fd_step is None:
            fd_step = 1e-5 if xp.dtype_name(x) == "float64" else 1e-3
        eps = check_positive("fd_step", fd_step)
        h = h_of(x)
        xn = xp.to_numpy(x)
        dh_np = np.empty(shape, dtype=float)
        for k in range(d):
            idx = _flat_index(shape, k)
            plus, minus = np.array(xn, dtype=float), np.array(xn, dtype=float)
            plus[idx] = plus[idx] * math.exp(eps)
            minus[idx] = minus[idx] * math.exp(-eps)
            hp = xp.to_numpy(h_of(xp.from_numpy(plus, like=x)))[idx]
            hm = xp.to_numpy(h_of(xp.from_numpy(minus, like=x)))[idx]
            dh_np[idx] = (np.asarray(hp, dtype=float) - np.asarray(hm, dtype=float)) / (2 * eps)
        dh = xp.from_numpy(dh_np, like=x)
    if not xp.all_finite(h):
        raise ValueError("score_fn returned NaN/inf")
    return _reduce(h + dh + 0.5 * h * h, shape, xp, reduction)


# ============================================================================ minimiser
class DSMMinimizer:
    """The population minimiser of :func:`m_dsm` with the target taken at ``tau(t) != t``.

    With ``x_t ~ p_t`` but the target ``-(log x - log x0 - m(tau))/v(tau) - 1``, Tweedie's
    formula in log space (``E[log X_0 | x_t] = log x - m(t) + v(t)(h + 1)``) gives

        h_tau(x, t) = (v(t)/v(tau)) (h(x, t) + 1) + (m(tau) - m(t))/v(tau) - 1,

    whatever the (time-only) weight. For the authors' ``tau = t + 1/N`` and ``mu = sigma^2/2``
    the log-space score ``h + 1`` is shrunk by ``t/(t + 1/N)``: by 1/2 at ``t = 1/N``.
    """

    def __init__(self, model, gbm, t_target):
        if not callable(getattr(model, "hyvarinen_score", None)):
            raise TypeError(f"model must have a hyvarinen_score(x, t) method, got "
                            f"{type(model).__name__}")
        self.model = model
        self.gbm = _check_gbm(gbm)
        if not (callable(t_target) or isinstance(t_target, numbers.Real)):
            raise TypeError(f"t_target must be a callable of t or a time offset, got "
                            f"{t_target!r}")
        self.t_target = t_target
        self.dim = getattr(model, "dim", None)

    def _tau(self, t):
        tau = float(self.t_target(t)) if callable(self.t_target) else t + float(self.t_target)
        return check_positive("t_target(t)", tau)

    def coefficients(self, t):
        """``(a, b)`` with ``h_tau = a (h + 1) + b - 1``."""
        t = check_positive("t", t)
        tau = self._tau(t)
        g = self.gbm
        v_t, v_tau = float(g.log_variance(t)), float(g.log_variance(tau))
        return v_t / v_tau, (float(g.log_mean(tau)) - float(g.log_mean(t))) / v_tau

    def hyvarinen_score(self, x, t):
        a, b = self.coefficients(float(t))
        return a * (self.model.hyvarinen_score(x, t) + 1.0) + (b - 1.0)

    def __repr__(self):
        return f"DSMMinimizer({self.model!r}, t_target={self.t_target!r})"


def dsm_minimizer(model, gbm, t_target):
    """:class:`DSMMinimizer` of ``model`` (the exact score) for the target time ``t_target``:
    a callable ``t -> tau`` or an offset (``tau = t + t_target``; the authors': ``1/N``)."""
    return DSMMinimizer(model, gbm, t_target)
