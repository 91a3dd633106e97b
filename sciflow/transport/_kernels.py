"""Numba kernels of the S_N transport sweep (weighted diamond difference).

One kernel covers diamond difference (alpha = 0) and step characteristic
(alpha = coth(tau/2) - 2/tau, tau = sigma_t h / |mu|), through the cell balance and the
weighted auxiliary relation, written along the direction of travel::

    |mu| (psi_out - psi_in) + sigma_t h psi_avg = h Q,
    psi_avg = (1 + alpha)/2 psi_out + (1 - alpha)/2 psi_in,

so ``psi_out = a psi_in + b Q`` with ``a = (|mu| - (1-alpha)/2 sigma_t h) / d``,
``b = h / d``, ``d = |mu| + (1+alpha)/2 sigma_t h``. The coefficients are computed once per
problem (``sweep_coefficients``); the sweep loops over cells with the directions in the inner
loop (contiguous, vectorisable). A plain-NumPy reference of the same sweep is in
``tests/transport/test_core.py``.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

__all__ = ["sweep_coefficients", "sweep", "alpha_step_characteristic"]


def alpha_step_characteristic(tau):
    """alpha(tau) = coth(tau/2) - 2/tau, by its series for small tau (exact 0 at tau = 0)."""
    tau = np.asarray(tau, dtype=float)
    out = np.empty_like(tau)
    small = tau < 1e-3
    ts = tau[small]
    out[small] = ts / 6.0 - ts**3 / 360.0
    tl = tau[~small]
    out[~small] = 1.0 / np.tanh(0.5 * tl) - 2.0 / tl
    return out


def sweep_coefficients(sigma_t, h, mu_pos, scheme):
    """a, b, cw = (1+alpha)/2 arrays of shape (N, n_pos) for one group."""
    tau = sigma_t[:, None] * h[:, None] / mu_pos[None, :]
    if scheme == "diamond":
        alpha = np.zeros_like(tau)
    elif scheme == "step_characteristic":
        alpha = alpha_step_characteristic(tau)
    else:
        raise ValueError(f"scheme must be 'diamond' or 'step_characteristic', got {scheme!r}")
    sh = (sigma_t * h)[:, None]
    d = mu_pos[None, :] + 0.5 * (1.0 + alpha) * sh
    a = (mu_pos[None, :] - 0.5 * (1.0 - alpha) * sh) / d
    b = np.broadcast_to(h[:, None], d.shape) / d
    return np.ascontiguousarray(a), np.ascontiguousarray(b), np.ascontiguousarray(0.5 * (1 + alpha))


@njit
def _sweep_direction(a, b, cw, S, src, wp, psi_in, psi_out, phi, reverse):
    """Sweep the n directions of one sign through all cells (right to left if ``reverse``),
    from ``psi_in`` (n,); writes the exiting flux to ``psi_out`` and adds the flux moments
    ``sum_p wp[l, p] psi_avg`` to ``phi`` (L+1, N). ``src[l, p]`` = (2l+1)/2 P_l(mu_p)."""
    N, n = a.shape
    L1 = S.shape[0]
    psi = psi_in.copy()
    q = np.empty(n)
    for k in range(N):
        i = N - 1 - k if reverse else k
        for p in range(n):
            q[p] = 0.0
        for l in range(L1):
            s = S[l, i]
            for p in range(n):
                q[p] += src[l, p] * s
        for p in range(n):
            pin = psi[p]
            pout = a[i, p] * pin + b[i, p] * q[p]
            q[p] = cw[i, p] * pout + (1.0 - cw[i, p]) * pin  # cell-average angular flux
            psi[p] = pout
        for l in range(L1):
            acc = 0.0
            for p in range(n):
                acc += wp[l, p] * q[p]
            phi[l, i] += acc
    psi_out[:] = psi


@njit
def sweep(a, b, cw, S, Pl, w, psi_left_in, psi_right_in, reflect_left, reflect_right):
    """One transport sweep of one group in both directions.

    Parameters
    ----------
    a, b, cw : (N, n) arrays from ``sweep_coefficients`` (n = number of positive directions,
        ordered by increasing |mu|).
    S : (L+1, N) Legendre moments of the emission density per cell (isotropic part S[0]).
    Pl : (L+1, 2n) Legendre polynomials at the directions (ascending mu: negatives first).
    w : (2n,) weights.
    psi_left_in, psi_right_in : (n,) incoming angular fluxes at the left (mu > 0) and the
        right (mu < 0) boundary, by |mu| (ignored on a reflective side, except that with
        both sides reflective ``psi_left_in`` is used as given: the caller solves for it).

    Returns
    -------
    phi : (L+1, N) flux moments, psi_left_out : (n,) leaving at the left (mu < 0, by |mu|),
    psi_right_out : (n,) leaving at the right (mu > 0), psi_left_used, psi_right_used :
    incoming fluxes actually used (after reflection).
    """
    N, n = a.shape
    L1 = S.shape[0]
    phi = np.zeros((L1, N))
    lin = psi_left_in.copy()
    rin = psi_right_in.copy()
    lout = np.empty(n)
    rout = np.empty(n)
    # coefficient (2l+1)/2 P_l(mu_m) w_m tables
    src_pos = np.empty((L1, n))
    src_neg = np.empty((L1, n))
    wp_pos = np.empty((L1, n))
    wp_neg = np.empty((L1, n))
    for l in range(L1):
        for p in range(n):
            mp = n + p          # positive direction with |mu| index p
            mn = n - 1 - p      # its mirror
            src_pos[l, p] = 0.5 * (2 * l + 1) * Pl[l, mp]
            src_neg[l, p] = 0.5 * (2 * l + 1) * Pl[l, mn]
            wp_pos[l, p] = w[mp] * Pl[l, mp]
            wp_neg[l, p] = w[mn] * Pl[l, mn]
    neg_first = reflect_left and not reflect_right
    for stage in range(2):
        positive = (stage == 0) != neg_first
        if positive:
            _sweep_direction(a, b, cw, S, src_pos, wp_pos, lin, rout, phi, False)
            if reflect_right:
                rin[:] = rout
        else:
            _sweep_direction(a, b, cw, S, src_neg, wp_neg, rin, lout, phi, True)
            if reflect_left:
                lin[:] = lout
    return phi, lout, rout, lin, rin
