"""Compiled kernels of the finite-volume column solver (:mod:`sciflow.chromatography.fd`).

Three kernels, each with a plain-NumPy/SciPy reference in ``fd.py`` that the tests compare with:

* :func:`band_lu` / :func:`band_solve`: LU factorisation without pivoting of a banded matrix in
  row storage ``M[i, j - i + ml] = M_ij`` and the matching forward/back substitution
  (reference: ``scipy.linalg.solve_banded``). No pivoting is needed: the matrices factorised
  here are ``(1 + s) I - gamma dt A`` with ``A`` the upwind-biased (dissipative) transport
  operator, whose symbol has a positive real part, so the Wiener-Hopf factors exist and are
  stable.
* :func:`dirk_march`: the whole time loop of a stiffly accurate singly diagonally implicit
  Runge-Kutta method (SDIRK) for ``c' = A c + B c_in(t) - alpha (k_a c - k_d q)``,
  ``q' = k_a c - k_d q``; the sorbed phase is eliminated cell by cell in every stage, so each
  stage is one banded solve for ``c`` (reference: ``fd._march_reference``).

Every parameter is an argument (nothing is closed over), so one compilation serves all columns,
analytes and grids.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

__all__ = ["band_lu", "band_solve", "dirk_march"]


@njit
def band_lu(M, ml, mu):
    """In-place LU factorisation (no pivoting) of a banded matrix in row storage.

    ``M`` has shape ``(n, ml + mu + 1)`` with ``M[i, j - i + ml] = M_ij``. On return the strictly
    lower part holds the unit-lower factor L and the rest holds U; the diagonal of U is replaced
    by its reciprocal (the solves multiply instead of dividing).
    """
    n = M.shape[0]
    for k in range(n):
        piv = 1.0 / M[k, ml]
        M[k, ml] = piv
        imax = min(k + ml, n - 1)
        jmax = min(k + mu, n - 1)
        for i in range(k + 1, imax + 1):
            lik = M[i, k - i + ml] * piv
            M[i, k - i + ml] = lik
            for j in range(k + 1, jmax + 1):
                M[i, j - i + ml] -= lik * M[k, j - k + ml]


@njit
def band_solve(LU, ml, mu, b, x):
    """Solve ``M x = b`` with the factors of :func:`band_lu` (``x`` may alias ``b``)."""
    n = LU.shape[0]
    for i in range(n):
        s = b[i]
        for j in range(max(0, i - ml), i):
            s -= LU[i, j - i + ml] * x[j]
        x[i] = s
    for i in range(n - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, min(n, i + mu + 1)):
            s -= LU[i, j - i + ml] * x[j]
        x[i] = s * LU[i, ml]


@njit
def dirk_march(A, ml, mu, B, alpha, k_a, k_d, rk_a, dts, cins, out_start, out_w, u_out, h,
               stop_after, stop_mass, ys, dys):
    """March ``len(dts)`` SDIRK steps from an empty column; outlet value and slope per step.

    Parameters
    ----------
    A : (n, ml + mu + 1) float array
        Transport operator (advection + dispersion flux differences) in row band storage.
    B : (n,) float array
        Inlet forcing per unit inlet concentration (``c' = A c + B c_in``).
    alpha, k_a, k_d : float
        Phase ratio and rate constants.
    rk_a : (s, s) float array
        Butcher matrix of a stiffly accurate SDIRK method (constant diagonal gamma).
    dts, cins : (n_steps,) float arrays
        Step lengths and the inlet concentration, constant over each step.
    out_start, out_w : int, (m,) float array
        Outlet face value ``c(L) = sum_k out_w[k] c[out_start + k]``.
    u_out : float
        Outlet velocity (for the outflow integral).
    h : (n,) float array
        Cell widths (for the inventory).
    stop_after : int
        Early stop is tested only after this many steps (the end of the injection).
    stop_mass : float
        Stop when ``sum h (|c| + alpha |q|)`` falls below this (0: never stop).
    ys, dys : (n_steps + 1,) float arrays
        Output: outlet value and its time derivative at ``t_0 = 0`` and after every step.

    Returns
    -------
    n_done, outflow, inventory, c, q
        Steps taken, ``int u_out c(L) dt`` by the method's quadrature, final
        ``sum h (c + alpha q)``, final state.
    """
    n = A.shape[0]
    s = rk_a.shape[0]
    gam = rk_a[0, 0]
    m_out = out_w.shape[0]
    c = np.zeros(n)
    q = np.zeros(n)
    Fc = np.zeros((s, n))
    Fq = np.zeros((s, n))
    rc = np.empty(n)
    rq = np.empty(n)
    rhs = np.empty(n)
    cs = np.empty(n)
    LU = np.empty_like(A)
    dt_prev = -1.0
    outflow = 0.0
    ys[0] = 0.0
    dys[0] = 0.0
    n_done = 0
    for step in range(dts.shape[0]):
        dt = dts[step]
        cin = cins[step]
        gd = gam * dt
        den = 1.0 / (1.0 + gd * k_d)
        if dt != dt_prev:
            # (1 + gd alpha k_a den) I - gd A: the stage matrix with q eliminated
            for i in range(n):
                for k in range(ml + mu + 1):
                    LU[i, k] = -gd * A[i, k]
                LU[i, ml] += 1.0 + gd * alpha * k_a * den
            band_lu(LU, ml, mu)
            dt_prev = dt
        inv_gd = 1.0 / gd
        for st in range(s):
            for m in range(n):
                sc = c[m]
                sq = q[m]
                for j in range(st):
                    a = dt * rk_a[st, j]
                    sc += a * Fc[j, m]
                    sq += a * Fq[j, m]
                rc[m] = sc
                rq[m] = sq
                rhs[m] = sc + gd * alpha * k_d * den * sq + gd * B[m] * cin
            band_solve(LU, ml, mu, rhs, cs)
            yo = 0.0
            for k in range(m_out):
                yo += out_w[k] * cs[out_start + k]
            outflow += dt * rk_a[s - 1, st] * u_out * yo
            for m in range(n):
                qs = (rq[m] + gd * k_a * cs[m]) * den
                Fc[st, m] = (cs[m] - rc[m]) * inv_gd
                Fq[st, m] = (qs - rq[m]) * inv_gd
                if st == s - 1:  # stiffly accurate: the last stage is the new state
                    c[m] = cs[m]
                    q[m] = qs
        yo = 0.0
        dyo = 0.0
        for k in range(m_out):
            yo += out_w[k] * c[out_start + k]
            dyo += out_w[k] * Fc[s - 1, out_start + k]
        ys[step + 1] = yo
        dys[step + 1] = dyo
        n_done = step + 1
        if stop_mass > 0.0 and n_done >= stop_after:
            tot = 0.0
            for m in range(n):
                tot += h[m] * (abs(c[m]) + alpha * abs(q[m]))
            if tot < stop_mass:
                break
    inventory = 0.0
    for m in range(n):
        inventory += h[m] * (c[m] + alpha * q[m])
    return n_done, outflow, inventory, c, q
