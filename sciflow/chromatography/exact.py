"""Closed-form outlet profile of the diffusion-free column (Thomas 1944).

With D = 0 the outlet flux of a unit inlet step is the step response of
``G(s) = exp(-s t_M) exp(-A + A k_d/(s + k_d))``. The number of adsorptions of a molecule is
Poisson(A) and each stay in the film is Exp(k_d), so the time spent adsorbed, tau, is a
compound Poisson-exponential variable: ``2 k_d tau`` is noncentral chi-square with 0 degrees
of freedom and noncentrality 2A. Its distribution function, with ``z = 2 sqrt(A k_d tau)``, is::

    H(tau) = 1 - Q_0(sqrt(2A), sqrt(2 k_d tau))
           = F_chi2'(2 k_d tau; df=2, nc=2A) + exp(-A - k_d tau) I_0(z)           (1)

(Marcum Q-function recursion ``Q_0 = Q_1 - exp(-(a^2+b^2)/2) I_0(ab)``), with an atom
``exp(-A)`` at tau = 0 (molecules that never adsorb) and density::

    h(tau) = exp(-A - k_d tau) sqrt(A k_d / tau) I_1(z),   tau > 0.                  (2)

The outlet concentration for a rectangular pulse of height c0 and length t_inj is
``c(t) = c0 (u_in/u_out) [H(t - t_M) - H(t - t_M - t_inj)]``.

Two evaluations of (1) are offered:

* ``algorithm="marcum"``: scipy's noncentral chi-square CDF (Boost) at every point: accurate
  everywhere, but slow for large A (about 2 us a point at A ~ 1e5, 60-300 us at A ~ 1e7).
* ``algorithm="quadrature"`` (default): H at one anchor point by (1), then the increments of H
  between consecutive (sorted) evaluation points by Gauss-Legendre quadrature of the density (2)
  written as ``sqrt(A k_d/tau) i1e(z) exp(-(sqrt(A) - sqrt(k_d tau))^2)`` (no overflow for A up to
  1e5 and beyond). Outside the window where h exceeds 1e-30 of its peak, H is 0 (or the atom) or
  1. The sum is checked against (1) at the window's end and the Marcum path is used where
  the check fails, so the result is never silently wrong.

References: H. C. Thomas, JACS 66, 1664 (1944); S. Goldstein, Proc. R. Soc. A 219, 151 (1953);
J. I. Marcum, IRE Trans. Inf. Theory 6, 259 (1960).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._validate import check_array, check_choice, check_nonnegative, check_positive

__all__ = [
    "step_response",
    "step_response_marcum",
    "pulse_response",
    "thomas_density",
]

# Gauss-Legendre nodes/weights on [0, 1] for the orders used
_GL = {n: ((x + 1.0) / 2.0, w / 2.0) for n, (x, w) in
       ((n, np.polynomial.legendre.leggauss(n)) for n in (2, 3, 4, 6, 8))}

# half-width of the window in units of sqrt(k_d tau) - sqrt(A): exp(-W^2) ~ 1e-35
_WINDOW = 9.0
_CHECK_TOL = 1e-12
_ALGORITHMS = ("quadrature", "marcum")


def _check_args(tau, A, k_d, tau_name="tau"):
    """Finite times of any shape, A >= 0 and k_d > 0 (finite), or a clear error."""
    tau = check_array(tau_name, tau)
    A = check_nonnegative("A", A)
    k_d = check_positive("k_d", k_d)
    return tau, A, k_d


def thomas_density(tau, A, k_d):
    """Density h(tau) of the time spent adsorbed, eq. (2) (1/s); 0 for tau <= 0.

    ``tau`` finite (any shape), ``A >= 0``, ``k_d > 0``.
    """
    tau, A, k_d = _check_args(tau, A, k_d)
    out = np.zeros_like(tau)
    pos = tau > 0
    if A == 0.0:
        return out
    tp = tau[pos]
    y = np.sqrt(k_d * tp)
    z = 2.0 * np.sqrt(A) * y
    out[pos] = np.sqrt(A * k_d / tp) * special.i1e(z) * np.exp(-(np.sqrt(A) - y) ** 2)
    return out


def step_response_marcum(tau, A, k_d):
    """H(tau) of eq. (1) by the noncentral chi-square CDF at every point (0 for tau < 0).

    ``tau`` finite (any shape), ``A >= 0``, ``k_d > 0``.
    """
    tau, A, k_d = _check_args(tau, A, k_d)
    out = np.zeros_like(tau)
    pos = tau >= 0
    tp = tau[pos]
    if A == 0.0:
        out[pos] = 1.0
        return out
    x = 2.0 * k_d * tp
    sa = np.sqrt(A)
    y = np.sqrt(k_d * tp)
    atom = special.i0e(2.0 * sa * y) * np.exp(-(sa - y) ** 2)
    out[pos] = special.chndtr(x, 2.0, 2.0 * A) + atom
    return np.minimum(out, 1.0)


def _window(A, k_d):
    sa = np.sqrt(A)
    lo = max(sa - _WINDOW, 0.0) ** 2 / k_d
    hi = (sa + _WINDOW) ** 2 / k_d
    return lo, hi


def _scale(A, k_d):
    """Length scale (s) on which h varies: its standard deviation, or 1/k_d for small A."""
    return max(np.sqrt(2.0 * A), 0.5) / k_d


def step_response(tau, A, k_d, *, algorithm="quadrature", return_info=False):
    """Thomas step response H(tau) (dimensionless, 0 for tau < 0), eq. (1).

    Parameters
    ----------
    tau : array_like
        Time after the gas hold-up, ``t - t_M`` (s), finite; any order and shape.
    A : float
        Number of transfer units alpha k_a t_M (finite, >= 0).
    k_d : float
        Desorption rate constant (1/s), finite and > 0.
    algorithm : {"quadrature", "marcum"}
    """
    tau, A, k_d = _check_args(tau, A, k_d)
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be 'quadrature' or 'marcum', got {algorithm!r}")
    check_choice("algorithm", algorithm, _ALGORITHMS)
    info = {"algorithm": algorithm, "nodes": 0, "check_error": 0.0}
    if algorithm == "marcum" or A == 0.0:
        H = step_response_marcum(tau, A, k_d)
        return (H, info) if return_info else H

    flat = tau.ravel()
    H = np.zeros_like(flat)
    lo, hi = _window(A, k_d)
    atom = np.exp(-A)
    H[(flat >= 0) & (flat < lo)] = atom  # below the window only the atom remains
    H[flat > hi] = 1.0
    inside = (flat >= lo) & (flat <= hi) & (flat >= 0)
    idx = np.flatnonzero(inside)
    if idx.size:
        pts = flat[idx]
        order = np.argsort(pts, kind="stable")
        sp = pts[order]
        ell = _scale(A, k_d)
        # interval end points: the anchor, the sorted points, the window end (for the check)
        edges = np.concatenate(([lo], sp, [hi]))
        d = np.diff(edges)
        # refine intervals wider than ell/4 (coarse grids): split each into m equal pieces
        m = np.maximum(np.ceil(d / (0.25 * ell)).astype(np.int64), 1)
        if np.any(m > 1):
            starts = np.repeat(edges[:-1], m)
            within = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)
            sub = starts + within * np.repeat(d / m, m)
            fine = np.concatenate((sub, [hi]))
            keep = np.cumsum(m)  # positions in `fine` of the original edges[1:]
        else:
            fine = edges
            keep = np.arange(1, edges.size)
        df = np.diff(fine)
        r = df.max() / ell
        n = 2 if r <= 0.02 else 3 if r <= 0.06 else 4 if r <= 0.12 else 6
        x, w = _GL[n]
        nodes = fine[:-1, None] + df[:, None] * x[None, :]
        inc = thomas_density(nodes, A, k_d) @ w * df
        H0 = step_response_marcum(np.array([lo]), A, k_d)[0]
        cum = H0 + np.concatenate(([0.0], np.cumsum(inc)))
        Hend_exact = 1.0 - _upper_tail(hi, A, k_d)
        err = abs(cum[-1] - Hend_exact)
        info.update(nodes=int(nodes.size), check_error=float(err))
        vals = cum[keep[:-1]]
        if err > _CHECK_TOL:
            vals = step_response_marcum(sp, A, k_d)
            info["algorithm"] = "marcum (quadrature check failed)"
        H[idx[order]] = np.minimum(vals, 1.0)
    H = H.reshape(tau.shape)
    return (H, info) if return_info else H


def _upper_tail(tau, A, k_d):
    """1 - H(tau) at the window's end, by eq. (1) (negligible, < 1e-30, by construction; to
    absolute accuracy ~1e-16, which is all the check needs)."""
    return max(1.0 - float(step_response_marcum(np.array([tau]), A, k_d)[0]), 0.0)


def pulse_response(t, t_M, A, k_d, injection_time, *, algorithm="quadrature",
                   return_info=False):
    """``H(t - t_M) - H(t - t_M - t_inj)``: outlet response to a unit rectangular inlet pulse.

    ``t`` finite times (s, any order), ``t_M >= 0`` the gas hold-up time (s), ``A >= 0``,
    ``k_d > 0`` (1/s) and ``injection_time > 0`` (s), all finite. When ``t`` is uniformly
    spaced and ``t_inj`` is a whole number of steps (to 1e-12 relative), the second term
    reuses the first (one evaluation of H per point instead of two).
    """
    t, A, k_d = _check_args(t, A, k_d, tau_name="t")
    t_M = check_nonnegative("t_M", t_M)
    injection_time = check_positive("injection_time", injection_time)
    shape = t.shape
    t = t.ravel()
    tau = t - t_M
    n = t.size
    dt = (t[-1] - t[0]) / (n - 1) if n > 2 else 0.0
    uniform = False
    if dt > 0.0:
        ms = int(round(injection_time / dt))
        if 1 <= ms <= n:  # (for ms > n two evaluations of n points are cheaper)
            # reusing H evaluates the second term at t_i - ms dt (on the grid t_0 + i dt)
            # instead of t_i - t_inj: the trailing edge moves by this much, kept below 1e-12
            # t_inj (plus the rounding of t itself), so the pulse's area is kept to ~1e-12
            dev = (abs(ms * dt - injection_time)
                   + float(np.max(np.abs(t - (t[0] + dt * np.arange(n))))))
            uniform = dev <= 1e-12 * injection_time + 8.0 * np.finfo(float).eps * float(
                np.max(np.abs(t)))
    if uniform:
        ext = np.concatenate((tau[0] - dt * np.arange(ms, 0, -1), tau))
        Hx, info = step_response(ext, A, k_d, algorithm=algorithm, return_info=True)
        out = Hx[ms:] - Hx[:-ms]
    else:
        both = np.concatenate((tau, tau - injection_time))
        Hb, info = step_response(both, A, k_d, algorithm=algorithm, return_info=True)
        out = Hb[:n] - Hb[n:]
    out = np.maximum(out, 0.0).reshape(shape)
    return (out, info) if return_info else out
