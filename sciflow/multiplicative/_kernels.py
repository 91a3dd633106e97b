"""Compiled kernels of the 1-D GBM Fokker–Planck solver (:mod:`.fokker_planck`).

The unknown is the density of ``log X`` at the cell centres, ``q_i = x_i p_i``; cell ``i`` holds
the mass ``w_i q_i`` with ``w_i = dx_i / x_i`` (``dx_i`` its width in x). The probability current
through the face between centres ``i`` and ``i + 1`` is the Scharfetter–Gummel (exponentially
fitted) flux of the log-space equation ``q_t = -(a q - d q_z)_z`` (``a = mu - sigma^2/2``,
``d = sigma^2/2``, ``z = log x``)::

    J_f = (d / l_f) [B(-Pe_f) q_i - B(Pe_f) q_{i+1}],   Pe_f = a l_f / d,   l_f = log(x_{i+1}/x_i),

with ``B(z) = z / (e^z - 1)`` > 0, so ``w_i q_i' = J_{i-1/2} - J_{i+1/2}`` (no current through the
outer faces) is conservative and its matrix is a Metzler matrix with zero column sums: every
implicit step matrix ``diag(w) - c L`` (``c > 0``) is an M-matrix (positive inverse) that is
strictly diagonally dominant by columns, so the Thomas algorithm needs no pivoting.

* :func:`bernoulli` — ``B(z)``;
* :func:`assemble` — the tridiagonal operator ``L`` for one ``(a, d)``;
* :func:`tridiag_factor`, :func:`tridiag_solve` — Thomas algorithm, split so that the factors
  of an unchanged step matrix (constant coefficients, constant step) are reused; ``march``
  factorises and forward-substitutes in one pass when the matrix changes;
* :func:`march` — the whole time loop (backward Euler or TR-BDF2 with a backward-Euler fallback
  whenever a TR-BDF2 step would produce a negative value).

Reference: ``fokker_planck._march_reference`` (NumPy + ``scipy.linalg.solve_banded``), checked
against :func:`march` in the tests. Every parameter is an argument (nothing is closed over), so
one compilation serves all grids and coefficients.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit

__all__ = ["bernoulli", "assemble", "tridiag_factor", "tridiag_solve", "march", "GAMMA",
           "SCHEME_EULER", "SCHEME_TRBDF2"]

SCHEME_EULER = 0
SCHEME_TRBDF2 = 1
GAMMA = 2.0 - math.sqrt(2.0)  # TR-BDF2 stage fraction: both stages share c = GAMMA / 2


@njit
def bernoulli(z):
    """``B(z) = z / (e^z - 1)`` (``B(0) = 1``; no overflow for large ``|z|``)."""
    if z == 0.0:
        return 1.0
    if z > 700.0:
        return z * math.exp(-z)
    return z / math.expm1(z)


@njit
def assemble(ell, a, d, sub, diag, sup):
    """Tridiagonal ``L`` with ``(L q)_i = J_{i-1/2} - J_{i+1/2}`` for drift ``a``, diffusion ``d``.

    ``ell`` (n - 1,) are the log spacings of the centres; ``sub[i]`` multiplies ``q_{i-1}``
    (``sub[0]`` unused), ``sup[i]`` multiplies ``q_{i+1}`` (``sup[n-1]`` unused).
    """
    n = diag.shape[0]
    for i in range(n):
        diag[i] = 0.0
    sub[0] = 0.0
    sup[n - 1] = 0.0
    ell_prev = math.nan
    up = 0.0
    lo = 0.0
    for f in range(n - 1):
        if ell[f] != ell_prev:  # log-uniform grids: one exponential for all faces
            ell_prev = ell[f]
            g = d / ell[f]
            pe = a * ell[f] / d
            up = g * bernoulli(pe)  # J_f = lo q_f - up q_{f+1};  B(-z) = B(z) + z
            lo = up + g * pe
        diag[f] -= lo
        sup[f] = up
        sub[f + 1] = lo
        diag[f + 1] -= up


@njit
def tridiag_factor(sub, diag, sup, inv_beta, ratio):
    """LU factors of a tridiagonal matrix (Thomas algorithm, no pivoting).

    ``sub[i]`` multiplies ``u_{i-1}`` and ``sup[i]`` multiplies ``u_{i+1}`` in row ``i``. On
    return ``inv_beta`` holds the reciprocal pivots and ``ratio[i] = sup[i] / beta_i``.
    """
    n = diag.shape[0]
    beta = diag[0]
    for i in range(n):
        if i > 0:
            beta = diag[i] - sub[i] * ratio[i - 1]
        inv_beta[i] = 1.0 / beta
        ratio[i] = sup[i] * inv_beta[i] if i < n - 1 else 0.0


@njit
def tridiag_solve(sub, inv_beta, ratio, rhs, out):
    """Solve with the factors of :func:`tridiag_factor` (``out`` may alias ``rhs``)."""
    n = inv_beta.shape[0]
    out[0] = rhs[0] * inv_beta[0]
    for i in range(1, n):
        out[i] = (rhs[i] - sub[i] * out[i - 1]) * inv_beta[i]
    for i in range(n - 2, -1, -1):
        out[i] -= ratio[i] * out[i + 1]


@njit
def _apply(sub, diag, sup, q, out):
    """``out = L q``."""
    n = q.shape[0]
    for i in range(n):
        s = diag[i] * q[i]
        if i > 0:
            s += sub[i] * q[i - 1]
        if i < n - 1:
            s += sup[i] * q[i + 1]
        out[i] = s


@njit
def _operator(ell, a, d, sub, diag, sup, st):
    """Assemble ``L`` for ``(a, d)`` unless it is the cached one (``st[0:2]``)."""
    if a != st[0] or d != st[1]:
        assemble(ell, a, d, sub, diag, sup)
        st[0] = a
        st[1] = d


@njit
def _factor_solve(w, c, sub, diag, sup, rhs, out, msub, inv_beta, ratio):
    """Solve ``(diag(w) - c L) out = rhs``, factorising in the same pass (factors kept)."""
    n = w.shape[0]
    r_prev = 0.0
    y_prev = 0.0
    for i in range(n):
        ms = -c * sub[i] if i > 0 else 0.0
        ib = 1.0 / (w[i] - c * diag[i] - ms * r_prev)
        r = -c * sup[i] * ib if i < n - 1 else 0.0
        y = (rhs[i] - ms * y_prev) * ib
        msub[i] = ms
        inv_beta[i] = ib
        ratio[i] = r
        out[i] = y
        r_prev = r
        y_prev = y
    for i in range(n - 2, -1, -1):
        out[i] -= ratio[i] * out[i + 1]


@njit
def _solve_step(w, ell, a, d, c, rhs, out, sub, diag, sup, msub, inv_beta, ratio, st):
    """``(diag(w) - c L(a, d)) out = rhs``, reusing the factors when ``(a, d, c)`` is the cached
    triple (``st[2:5]``)."""
    if a == st[2] and d == st[3] and c == st[4]:
        tridiag_solve(msub, inv_beta, ratio, rhs, out)
        return
    _operator(ell, a, d, sub, diag, sup, st)
    _factor_solve(w, c, sub, diag, sup, rhs, out, msub, inv_beta, ratio)
    st[2] = a
    st[3] = d
    st[4] = c


@njit
def march(w, ell, q0, dts, coef, scheme, out_after, q_out):
    """March ``len(dts)`` steps from ``q0``; store the state after the steps in ``out_after``.

    Parameters
    ----------
    w : (n,) float array
        Cell masses per unit ``q`` (``dx_i / x_i``).
    ell : (n - 1,) float array
        ``log(x_{i+1} / x_i)``.
    q0 : (n,) float array
        Initial ``x p`` at the centres.
    dts : (n_steps,) float array
        Step lengths.
    coef : (n_steps, 3, 2) float array
        ``(a, d)`` at the start, the TR-BDF2 stage ``t + GAMMA dt`` and the end of each step
        (backward Euler uses the end only).
    scheme : int
        :data:`SCHEME_EULER` or :data:`SCHEME_TRBDF2`.
    out_after : (m,) int array
        Number of steps after which to store the state (non-decreasing; 0 stores ``q0``).
    q_out : (m, n) float array
        Output.

    Returns
    -------
    n_fallback : int
        TR-BDF2 steps redone by backward Euler because they produced a negative value.
    """
    n = w.shape[0]
    sub = np.empty(n)
    diag = np.empty(n)
    sup = np.empty(n)
    msub = np.empty(n)
    inv_beta = np.empty(n)
    ratio = np.empty(n)
    rhs = np.empty(n)
    lq = np.empty(n)
    qs = np.empty(n)
    qn = np.empty(n)
    q = q0.copy()
    # caches: the operator L for (a_op, d_op), the factors of diag(w) - c L for (a_f, d_f, c_f)
    st = np.full(5, np.nan)
    c1 = 1.0 / (GAMMA * (2.0 - GAMMA))
    c0 = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))
    g = 0.5 * GAMMA
    n_fallback = 0
    k = 0
    m = out_after.shape[0]
    while k < m and out_after[k] == 0:
        q_out[k, :] = q
        k += 1
    for step in range(dts.shape[0]):
        dt = dts[step]
        ok = False
        if scheme == SCHEME_TRBDF2:
            # trapezoidal stage to t + GAMMA dt
            _operator(ell, coef[step, 0, 0], coef[step, 0, 1], sub, diag, sup, st)
            _apply(sub, diag, sup, q, lq)
            for i in range(n):
                rhs[i] = w[i] * q[i] + g * dt * lq[i]
            _solve_step(w, ell, coef[step, 1, 0], coef[step, 1, 1], g * dt, rhs, qs, sub, diag,
                        sup, msub, inv_beta, ratio, st)
            # BDF2 stage to t + dt
            for i in range(n):
                rhs[i] = w[i] * (c1 * qs[i] - c0 * q[i])
            _solve_step(w, ell, coef[step, 2, 0], coef[step, 2, 1], g * dt, rhs, qn, sub, diag,
                        sup, msub, inv_beta, ratio, st)
            ok = True
            for i in range(n):
                if qn[i] < 0.0:
                    ok = False
                    break
            if not ok:
                n_fallback += 1
        if not ok:
            for i in range(n):
                rhs[i] = w[i] * q[i]
            _solve_step(w, ell, coef[step, 2, 0], coef[step, 2, 1], dt, rhs, qn, sub, diag, sup,
                        msub, inv_beta, ratio, st)
        for i in range(n):
            q[i] = qn[i]
        while k < m and out_after[k] == step + 1:
            q_out[k, :] = q
            k += 1
    return n_fallback
