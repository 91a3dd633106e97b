"""Compiled kernels of the finite-volume column solver (:mod:`sciflow.chromatography.fd`).

The kernels, each with a plain-NumPy/SciPy reference in ``fd.py`` that the tests compare with:

* :func:`band_lu` / :func:`band_solve`: LU factorisation without pivoting of a banded matrix in
  row storage ``M[i, j - i + ml] = M_ij`` and the matching forward/back substitution
  (reference: ``scipy.linalg.solve_banded``). No pivoting is needed: the matrices factorised
  here are ``(1 + s) I - gamma dt A`` with ``A`` the upwind-biased (dissipative) transport
  operator, whose symbol has a positive real part, so the Wiener-Hopf factors exist and are
  stable.
* :func:`dirk_march_stages`: the whole time loop of a stiffly accurate singly diagonally
  implicit Runge-Kutta method (SDIRK) for ``c' = A c + B c_in(t) - alpha (k_a c - k_d q)``,
  ``q' = k_a c - k_d q``, with the inlet value given at every stage time; the sorbed phase is
  eliminated cell by cell in every stage, so each stage is one banded solve for ``c``
  (reference: ``fd._march_reference``). :func:`dirk_march` is the same with one inlet value per
  step (the rectangular pulse).
* :func:`competitive_march`: the same march for several analytes with competitive Langmuir
  exchange, each stage solved by Newton's method (reference:
  ``overload._competitive_reference``).

Every parameter is an argument (nothing is closed over), so one compilation serves all columns,
analytes and grids.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

__all__ = ["band_lu", "band_solve", "dirk_march", "dirk_march_stages", "competitive_march"]


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
    """March ``len(dts)`` SDIRK steps with the inlet value ``cins[k]`` constant on step k
    (exact for the rectangular pulse when the steps end at ``t_inj``); see
    :func:`dirk_march_stages`, which this calls with every stage of step k at ``cins[k]``
    (the same arithmetic, so the same result bit for bit)."""
    s = rk_a.shape[0]
    cst = np.empty((dts.shape[0], s))
    for k in range(dts.shape[0]):
        for st in range(s):
            cst[k, st] = cins[k]
    return dirk_march_stages(A, ml, mu, B, alpha, k_a, k_d, rk_a, dts, cst, out_start, out_w,
                             u_out, h, stop_after, stop_mass, ys, dys)


@njit
def dirk_march_stages(A, ml, mu, B, alpha, k_a, k_d, rk_a, dts, cins, out_start, out_w, u_out,
                      h, stop_after, stop_mass, ys, dys):
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
    dts : (n_steps,) float array
        Step lengths.
    cins : (n_steps, s) float array
        Inlet concentration at the stage times ``t_k + c_i dt_k`` (``c_i = sum_j a_ij``; left
        limits at a jump), so a smooth ``c_in(t)`` keeps the order of the method.
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
        Output: outlet value and its time derivative at ``t_0 = 0`` and after every step (the
        derivative with the inlet value of the step's last stage).

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
            cin = cins[step, st]
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


@njit
def _exchange(cs, rq, g, d, w, inv_qmax, kap, qs, dq):
    """Stage solution q(c) of the competitive exchange, cell by cell, and dq_i/dc_i.

    ``q_i d_i = R_q,i + g_i c_i (1 - S/q_max) - kap_i`` with ``S = sum_j q_j`` solved in closed
    form (``kap`` a fixed source: the lagged second-order correction of the cell average of
    ``c_i S``). Returns the largest occupied fraction ``S / q_max``.
    """
    na, n = cs.shape
    top = 0.0
    for m in range(n):
        P = 0.0
        Qs = 0.0
        for i in range(na):
            P += (rq[i, m] + g[i] * cs[i, m] - kap[i, m]) / d[i]
            Qs += w[i] * cs[i, m]
        den = 1.0 / (1.0 + Qs * inv_qmax)
        occ = P * den * inv_qmax
        if occ > top:
            top = occ
        dS = (1.0 + (Qs - P) * inv_qmax) * den * den
        for i in range(na):
            qs[i, m] = (rq[i, m] + g[i] * cs[i, m] * (1.0 - occ) - kap[i, m]) / d[i]
            dq[i, m] = (g[i] * (1.0 - occ) - g[i] * cs[i, m] * inv_qmax * w[i] * dS) / d[i]
    return top


@njit
def _product_correction(cs, qs, g, inv_qmax, di, dw, h2, kap):
    """``kap_i = g_i (h^2/12) (d c_i/dx)(dS/dx) / q_max``: the cell average of ``c_i S`` is
    ``c_i S + (h^2/12) c_i,x S_x + O(h^4)`` (cell averages), slopes by 3-point differences."""
    na, n = cs.shape
    for m in range(n):
        j0 = di[m]
        Sx = 0.0
        for ll in range(3):
            tot = 0.0
            for i in range(na):
                tot += qs[i, j0 + ll]
            Sx += dw[m, ll] * tot
        f = h2[m] * Sx * inv_qmax
        for i in range(na):
            cx = 0.0
            for ll in range(3):
                cx += dw[m, ll] * cs[i, j0 + ll]
            kap[i, m] = g[i] * f * cx


@njit
def competitive_march(A, ml, mu, B, alpha, k_a, k_d, inv_qmax, rk_a, t0s, dts, cins,
                      out_start, out_w, u_out, h, di, dw, h2, stop_after, stop_mass, cscale,
                      newton_tol, max_newton, ys, dys, stats):
    """SDIRK march of several analytes with competitive Langmuir exchange.

    ``c_i' = A c_i + B c_in,i(t) - alpha r_i``, ``q_i' = r_i``,
    ``r_i = k_a,i c_i (1 - inv_qmax sum_j q_j) - k_d,i q_i`` (``inv_qmax = 1/q_max``), for cell
    averages: the average of the product ``c_i S`` (``S = sum_j q_j``) is taken as
    ``c_i S + (h^2/12) c_i,x S_x`` (``h2 = h^2/12``, slopes by the 3-point weights ``dw`` on the
    cells ``di[m] .. di[m] + 2``; ``h2 = 0`` evaluates the exchange at the averages, a
    second-order error in space).

    Each stage ``Y = R + gd f(Y)`` (``gd = gamma dt``) is solved as follows. Adding ``alpha``
    times the q-equation to the c-equation gives the linear relation
    ``(I - gd A) c_i + alpha q_i = R_c,i + alpha R_q,i + gd B c_in,i``; for given c the
    q-equations are linear and local, ``q_i (1 + gd k_d,i) = R_q,i + gd k_a,i c_i (1 - S/q_max)``
    with the total ``S = P / (1 + Qs/q_max)``, ``P = sum_j (R_q,j + g_j c_j)/d_j``,
    ``Qs = sum_j g_j c_j / d_j`` (``g = gd k_a``, ``d = 1 + gd k_d``), so q(c) is explicit and
    the stage is a nonlinear system in c alone. It is solved by Newton's method with the
    Jacobian's exact diagonal blocks per analyte (``(I - gd A) + alpha diag(dq_i/dc_i)``, a
    banded matrix factorised in the first iteration of the stage and again whenever an
    iteration reduced the correction by less than a factor 4 -- chord iterations otherwise),
    the analytes updated in turn (nonlinear
    Gauss-Seidel: q(c) recomputed with the latest c before each analyte's step); the
    cross-analyte terms ``dq_i/dc_j`` (rank one per cell, of the size of the loading
    ``S/q_max``) and the small h^2 correction (lagged by one iteration) are left out of the
    Jacobian: exact Newton for one analyte without the correction, linear convergence at a rate
    that grows with the loading otherwise (3-5 iterations per stage at a few per cent, tens near
    saturation). Iterations stop once
    ``max |delta c_i| <= newton_tol cscale_i`` for every analyte (after at least two; one
    when ``inv_qmax = 0``, where the system is linear and the first step exact). Then
    ``q = q(c)`` is kept and c is recomputed from the linear relation,
    ``c_i = (I - gd A)^{-1} (R_c,i + alpha (R_q,i - q_i) + gd B c_in,i)`` (one more banded solve,
    factorised once per step size), so that ``c_i + alpha q_i`` is conserved to rounding
    whatever the Newton tolerance; the exchange law then holds to the Newton tolerance.

    Parameters as :func:`dirk_march_stages`, with ``k_a``, ``k_d``, ``cscale``, ``stop_mass``
    of shape (na,), ``t0s`` the step start times (s), ``cins`` of shape (n_steps, s, na)
    (absolute inlet concentrations at the stage times), ``ys``/``dys`` of shape
    (na, n_steps + 1). ``stats`` (5,) returns the Newton iterations in all, the most in one
    stage, the largest occupied fraction ``S/q_max`` seen, the largest last correction
    (relative to cscale) and 1.0 if a stage failed to converge (the march stops there).

    Returns
    -------
    n_done, outflow (na,), moment1 (na,), inventory (na,), c (na, n), q (na, n)
        ``outflow = int u_out c_i(L) dt`` and ``moment1 = int t u_out c_i(L) dt`` by the
        method's quadrature (stage values, weights ``b_j = a_sj``, stage times
        ``t_k + c_j dt``).
    """
    n = A.shape[0]
    na = k_a.shape[0]
    s = rk_a.shape[0]
    gam = rk_a[0, 0]
    m_out = out_w.shape[0]
    nb = ml + mu + 1
    corr = False
    for m in range(n):
        if h2[m] != 0.0:
            corr = True
    corr = corr and inv_qmax > 0.0
    linear = inv_qmax == 0.0
    cst = np.zeros(s)
    for st in range(s):
        for j in range(s):
            cst[st] += rk_a[st, j]
    c = np.zeros((na, n))
    q = np.zeros((na, n))
    Fc = np.zeros((s, na, n))
    Fq = np.zeros((s, na, n))
    rc = np.empty((na, n))
    rq = np.empty((na, n))
    rhs = np.empty((na, n))
    cs = np.zeros((na, n))
    qs = np.zeros((na, n))
    dq = np.empty((na, n))
    kap = np.zeros((na, n))
    res = np.empty(n)
    dlt = np.empty(n)
    Pv = np.empty(n)
    Qv = np.empty(n)
    LUs = np.empty((na, n, nb))
    LU0 = np.empty_like(A)
    dt_prev = -1.0
    g = np.empty(na)
    d = np.empty(na)
    w = np.empty(na)
    outflow = np.zeros(na)
    moment1 = np.zeros(na)
    for i in range(na):
        ys[i, 0] = 0.0
        dys[i, 0] = 0.0
    n_done = 0
    failed = False
    for step in range(dts.shape[0]):
        dt = dts[step]
        gd = gam * dt
        inv_gd = 1.0 / gd
        if dt != dt_prev:  # I - gd A, for the conservative final solve
            for m in range(n):
                for k in range(nb):
                    LU0[m, k] = -gd * A[m, k]
                LU0[m, ml] += 1.0
            band_lu(LU0, ml, mu)
            dt_prev = dt
        for i in range(na):
            g[i] = gd * k_a[i]
            d[i] = 1.0 + gd * k_d[i]
            w[i] = g[i] / d[i]
        for st in range(s):
            for i in range(na):
                cin = cins[step, st, i]
                for m in range(n):
                    sc = c[i, m]
                    sq = q[i, m]
                    for j in range(st):
                        a = dt * rk_a[st, j]
                        sc += a * Fc[j, i, m]
                        sq += a * Fq[j, i, m]
                    rc[i, m] = sc
                    rq[i, m] = sq
                    rhs[i, m] = sc + alpha * sq + gd * B[m] * cin
                    # initial guess: the previous stage's solution, already in cs and qs
                    # (closer than the explicit part R, which carries dt times stiff slopes)
            converged = False
            it = 0
            worst = 0.0
            prev = 0.0
            while it < max_newton:
                it += 1
                # chord iterations: the Jacobian blocks are refactorised in the first
                # iteration and whenever the last one contracted by less than 4
                refactor = it == 1 or (it >= 3 and not worst <= 0.25 * prev)
                prev = worst
                if corr:  # h^2 correction from the current c and q(c) with the last one
                    _exchange(cs, rq, g, d, w, inv_qmax, kap, qs, dq)
                    _product_correction(cs, qs, g, inv_qmax, di, dw, h2, kap)
                for m in range(n):  # the sums P and Qs of the exchange, updated below
                    P = 0.0
                    Qs = 0.0
                    for i in range(na):
                        P += (rq[i, m] + g[i] * cs[i, m] - kap[i, m]) / d[i]
                        Qs += w[i] * cs[i, m]
                    Pv[m] = P
                    Qv[m] = Qs
                worst = 0.0
                for i in range(na):
                    # nonlinear Gauss-Seidel over the analytes: q_i(c) with the latest c, the
                    # residual (I - gd A) c_i + alpha q_i - rhs_i and the diagonal Newton block
                    for m in range(n):
                        den = 1.0 / (1.0 + Qv[m] * inv_qmax)
                        occ = Pv[m] * den * inv_qmax
                        dS = (1.0 + (Qv[m] - Pv[m]) * inv_qmax) * den * den
                        qi = (rq[i, m] + g[i] * cs[i, m] * (1.0 - occ) - kap[i, m]) / d[i]
                        qs[i, m] = qi
                        dqi = (g[i] * (1.0 - occ) - g[i] * cs[i, m] * inv_qmax * w[i] * dS) / d[i]
                        acc = 0.0
                        for k in range(nb):
                            col = m + k - ml
                            if 0 <= col < n:
                                acc += A[m, k] * cs[i, col]
                        res[m] = -(cs[i, m] - gd * acc + alpha * qi - rhs[i, m])
                        if refactor:
                            for k in range(nb):
                                LUs[i, m, k] = -gd * A[m, k]
                            LUs[i, m, ml] += 1.0 + alpha * dqi
                    if refactor:
                        band_lu(LUs[i], ml, mu)
                    band_solve(LUs[i], ml, mu, res, dlt)
                    big = 0.0
                    for m in range(n):
                        cs[i, m] += dlt[m]
                        Pv[m] += g[i] * dlt[m] / d[i]
                        Qv[m] += w[i] * dlt[m]
                        if not abs(dlt[m]) <= big:  # (NaN propagates: no false convergence)
                            big = abs(dlt[m])
                    big /= cscale[i]
                    if not big <= worst:
                        worst = big
                if (worst <= newton_tol and it >= 2) or linear:
                    converged = True  # (linear exchange: the first Newton step is exact)
                    break
            stats[0] += it
            if it > stats[1]:
                stats[1] = it
            if not worst <= stats[3]:
                stats[3] = worst
            if not converged:
                failed = True
                break
            # q of the converged c, then c from the conservation relation; stage derivatives
            tst = t0s[step] + cst[st] * dt
            if corr:
                _exchange(cs, rq, g, d, w, inv_qmax, kap, qs, dq)
                _product_correction(cs, qs, g, inv_qmax, di, dw, h2, kap)
            top = _exchange(cs, rq, g, d, w, inv_qmax, kap, qs, dq)
            if top > stats[2]:
                stats[2] = top
            for i in range(na):
                for m in range(n):
                    res[m] = rhs[i, m] - alpha * qs[i, m]
                band_solve(LU0, ml, mu, res, dlt)
                for m in range(n):
                    cs[i, m] = dlt[m]
                    Fc[st, i, m] = (cs[i, m] - rc[i, m]) * inv_gd
                    Fq[st, i, m] = (qs[i, m] - rq[i, m]) * inv_gd
                    if st == s - 1:
                        c[i, m] = cs[i, m]
                        q[i, m] = qs[i, m]
            for i in range(na):
                yo = 0.0
                for k in range(m_out):
                    yo += out_w[k] * cs[i, out_start + k]
                outflow[i] += dt * rk_a[s - 1, st] * u_out * yo
                moment1[i] += dt * rk_a[s - 1, st] * tst * u_out * yo
        if failed:
            stats[4] = 1.0
            break
        for i in range(na):
            yo = 0.0
            dyo = 0.0
            for k in range(m_out):
                yo += out_w[k] * c[i, out_start + k]
                dyo += out_w[k] * Fc[s - 1, i, out_start + k]
            ys[i, step + 1] = yo
            dys[i, step + 1] = dyo
        n_done = step + 1
        if n_done >= stop_after:
            empty = True
            for i in range(na):
                if not stop_mass[i] > 0.0:
                    empty = False
                    break
                tot = 0.0
                for m in range(n):
                    tot += h[m] * (abs(c[i, m]) + alpha * abs(q[i, m]))
                if tot >= stop_mass[i]:
                    empty = False
                    break
            if empty:
                break
    inventory = np.zeros(na)
    for i in range(na):
        for m in range(n):
            inventory[i] += h[m] * (c[i, m] + alpha * q[i, m])
    return n_done, outflow, moment1, inventory, c, q
