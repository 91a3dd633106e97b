"""Compiled kernels of the programmed-column solver (:mod:`sciflow.chromatography.fd_programmed`).

The time loop of one *chunk* of the run: an interval ``[ta, tb]`` on which every coefficient is
given as a Chebyshev series in time (``u`` and ``D`` at the faces, ``k_a`` and ``k_d`` in the
cells, the inlet concentration ``c_in``). Inside the chunk the kernel takes adaptive (or fixed)
steps of a stiffly accurate SDIRK method; every stage evaluates the coefficients at its own time,
assembles the transport operator from the face stencils, eliminates the sorbed phase cell by
cell and factorises the banded stage matrix (LU without pivoting, O(N)).

Kernels (each has a plain-NumPy/SciPy reference in ``fd_programmed.py`` that the tests compare
with):

* :func:`cheb_basis`, :func:`eval_window` -- the coefficients at one time;
* :func:`assemble` -- the operator ``dc/dt = A c + f`` (band rows) at one time, on the active
  window of cells (the cells where the band is; outside it the state is exactly zero);
* :func:`env_lu`, :func:`env_solve` -- banded LU without pivoting that visits only each row's
  envelope (the interior rows of the order-5 operator need 3 x 3 updates, not 5 x 5);
* :func:`stage_rate` -- ``f(t, y)`` (the explicit first stage of an ESDIRK method);
* :func:`march_chunk` -- the step loop of a chunk.

Every parameter is an argument (nothing is closed over), so one compilation serves all columns
and coefficients.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

__all__ = ["cheb_basis", "eval_range", "eval_window", "cheb_table", "env_lu", "env_solve",
           "face_coefficients", "assemble", "face_flux", "outlet_face", "stage_rate",
           "march_chunk"]


@njit
def cheb_basis(s, T, dT):
    """``T[k] = T_k(s)`` and ``dT[k] = dT_k/ds (s)`` for k < len(T) (Chebyshev, first kind)."""
    m = T.shape[0]
    T[0] = 1.0
    dT[0] = 0.0
    if m > 1:
        T[1] = s
        dT[1] = 1.0
    for k in range(1, m - 1):
        T[k + 1] = 2.0 * s * T[k] - T[k - 1]
        dT[k + 1] = 2.0 * T[k] + 2.0 * s * dT[k] - dT[k - 1]


@njit
def eval_range(C, T, out, j0, j1, clip):
    """``out[j] = sum_k C[j, k] T[k]`` for ``j0 <= j < j1`` (``C`` holds one Chebyshev series
    per row); ``clip``: negative values are set to 0."""
    m = C.shape[1]
    for j in range(j0, j1):
        sm = 0.0
        for k in range(m):
            sm += C[j, k] * T[k]
        if clip and sm < 0.0:
            sm = 0.0
        out[j] = sm


@njit
def eval_window(C, T, vals, n, i0, i1, uniform):
    """The entries of ``vals`` that a step on the window of cells ``[i0, i1)`` needs: ``u``,
    ``D`` at faces ``i0..i1`` and at the inlet and outlet faces, ``k_a``, ``k_d`` in the window,
    ``c_in``. Rows of ``C``: ``u`` (faces 0..n), ``D`` (faces), ``k_a``, ``k_d`` (cells),
    ``c_in``. Interpolated ``D``, ``k_a``, ``k_d`` are clipped at 0. ``uniform`` bit 1 (2):
    the ``k_a`` (``k_d``) series are the same in every cell (evaluated once)."""
    eval_range(C, T, vals, i0, i1 + 1, False)
    eval_range(C, T, vals, 0, 1, False)
    eval_range(C, T, vals, n, n + 1, False)
    eval_range(C, T, vals, n + 1 + i0, n + 2 + i1, True)
    eval_range(C, T, vals, n + 1, n + 2, True)
    eval_range(C, T, vals, 2 * n + 1, 2 * n + 2, True)
    for bit, base in ((1, 2 * n + 2), (2, 3 * n + 2)):
        if uniform & bit:
            eval_range(C, T, vals, base + i0, base + i0 + 1, True)
            v = vals[base + i0]
            for j in range(base + i0 + 1, base + i1):
                vals[j] = v
        else:
            eval_range(C, T, vals, base + i0, base + i1, True)
    eval_range(C, T, vals, 4 * n + 2, 4 * n + 3, False)


@njit
def cheb_table(vals, fwd, rows, size_cin, CT):
    """Chebyshev coefficients of the node values: ``CT[rows[j], k] = sum_i fwd[k, i] vals[i, j]``
    (``vals`` (m, n_cols): the coefficients at the ``m`` nodes, ``c_in`` last).

    Returns the largest ``max(|CT[r, m-2]|, |CT[r, m-1]|)`` relative to ``max_i |vals[i, j]|``
    (``size_cin`` at least for ``c_in``): the size of the truncated tail.
    """
    m, K = vals.shape
    rel = 0.0
    for j in range(K):
        size = 0.0
        for i in range(m):
            v = abs(vals[i, j])
            if v > size:
                size = v
        if j == K - 1 and size_cin > size:
            size = size_cin
        r = rows[j]
        for k in range(m):
            sm = 0.0
            for i in range(m):
                sm += fwd[k, i] * vals[i, j]
            CT[r, k] = sm
        if size > 0.0:
            tail = max(abs(CT[r, m - 2]), abs(CT[r, m - 1])) / size
            if tail > rel:
                rel = tail
    return rel


@njit
def env_lu(M, ml, lo, hi, i0, i1):
    """In-place LU (no pivoting) of the rows/columns ``[i0, i1)`` of a banded matrix in row
    storage ``M[i, j - i + ml]``, visiting only each row's envelope: row ``i`` has its lower
    part in columns ``>= lo[i]`` and, after fill-in, its upper part in columns ``<= hi[i]``.
    The diagonal of U is replaced by its reciprocal (as in ``_kernels.band_lu``)."""
    for k in range(i0, i1):
        piv = 1.0 / M[k, ml]
        M[k, ml] = piv
        jmax = min(hi[k], i1 - 1)
        imax = min(k + ml, i1 - 1)
        for i in range(k + 1, imax + 1):
            if lo[i] > k:
                continue
            lik = M[i, k - i + ml] * piv
            M[i, k - i + ml] = lik
            for j in range(k + 1, jmax + 1):
                M[i, j - i + ml] -= lik * M[k, j - k + ml]


@njit
def env_solve(LU, ml, lo, hi, i0, i1, b, x):
    """Solve with the factors of :func:`env_lu` on ``[i0, i1)`` (``x`` may alias ``b``)."""
    for i in range(i0, i1):
        sm = b[i]
        for j in range(max(lo[i], i0), i):
            sm -= LU[i, j - i + ml] * x[j]
        x[i] = sm
    for i in range(i1 - 1, i0 - 1, -1):
        sm = x[i]
        for j in range(i + 1, min(hi[i], i1 - 1) + 1):
            sm -= LU[i, j - i + ml] * x[j]
        x[i] = sm * LU[i, ml]


@njit
def face_coefficients(f, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, phi):
    """Flux through face ``f`` (1..n) as ``sum_k phi[k] c[SU[f-1] + k] + datum c_in``: fills
    ``phi`` and returns the datum weight.

    ``u_f (WV + sV GV) - D_f (WS + sS GS)`` with the inlet-closure shifts
    ``s = delta d / (1 - delta gd)``, ``delta = D_0 / u_0``, on the first ``nin`` faces (the
    Robin datum ``p(0) - delta p'(0) = c_in``, a rank-one update of the weights)."""
    il = f - 1
    uf = vals[f]
    Df = vals[n + 1 + f]
    w = WV.shape[1]
    if il < nin:
        delta = vals[n + 1] / vals[0]
        sV = delta * dV[il] / (1.0 - delta * gV[il])
        sS = delta * dS[il] / (1.0 - delta * gS[il])
        for k in range(w):
            phi[k] = uf * (WV[il, k] + sV * GV[il, k]) - Df * (WS[il, k] + sS * GS[il, k])
        return uf * (dV[il] + sV * gV[il]) - Df * (dS[il] + sS * gS[il])
    for k in range(w):
        phi[k] = uf * WV[il, k] - Df * WS[il, k]
    return 0.0


@njit
def assemble(n, ml, vals, inv_h, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, RP, RQ, RR, RS, M,
             frc, i0, i1, fac, phi, has_D):
    """``fac`` times the transport operator on the window of cells ``[i0, i1)`` (zero
    outside), written to ``M`` (rows ``i0..i1-1``, row storage ``M[i, j - i + ml]``), and the
    forcing: ``dc_i/dt = sum_j A_ij c_j + frc_i`` with ``M = fac A``.

    ``vals`` holds the coefficients at one time: ``u`` at faces ``0..n`` (``vals[0:n+1]``),
    ``D`` at faces (``vals[n+1:2n+2]``), then ``k_a``, ``k_d`` (cells) and ``c_in`` (last).
    ``dc_i/dt = (F_i - F_{i+1}) / h_i`` with face fluxes ``F_f = u_f v_f - D_f g_f``; away from
    the inlet a row is ``u_i RP + u_{i+1} RQ - D_i RR - D_{i+1} RS`` (the face stencils divided by
    ``h_i``, precomputed); the first ``nin + 1`` rows, whose faces carry the inlet closure
    (:func:`face_coefficients`), are assembled face by face; face 0 carries ``u_0 c_in``. The
    fluxes through the window's own edges (faces ``i0 > 0`` and ``i1 < n``) enter the rows inside
    only. Returns the inlet flux ``u_0 c_in``; ``frc`` is written on the first ``nin + 1``
    cells of the window (the others stay zero).
    """
    cin = vals[4 * n + 2]
    bw = M.shape[1]
    F0 = vals[0] * cin
    r0 = max(i0, nin + 1)
    for i in range(r0, i1):
        uL = vals[i]
        uR = vals[i + 1]
        if has_D:
            DL = vals[n + 1 + i]
            DR = vals[n + 2 + i]
            for k in range(bw):
                M[i, k] = fac * (uL * RP[i, k] + uR * RQ[i, k] - DL * RR[i, k] - DR * RS[i, k])
        else:
            for k in range(bw):
                M[i, k] = fac * (uL * RP[i, k] + uR * RQ[i, k])
    # columns outside the window (the state there is zero; drop them)
    for i in range(r0, min(r0 + ml, i1)):
        for k in range(0, min(bw, i0 - i + ml)):
            M[i, k] = 0.0
    for i in range(max(r0, i1 - bw), i1):
        for k in range(max(0, i1 - i + ml), bw):
            M[i, k] = 0.0
    if i0 > nin:
        return F0
    # rows near the inlet: face by face (faces 1 .. nin + 1 touch rows 0 .. nin)
    rmax = min(nin + 1, i1)  # rows i0 .. rmax - 1
    for i in range(i0, rmax):
        for k in range(bw):
            M[i, k] = 0.0
        frc[i] = 0.0
    if i0 == 0:
        frc[0] += F0 * inv_h[0]
    w = WV.shape[1]
    for f in range(max(i0, 1), min(nin + 1, i1) + 1):
        il = f - 1  # the flux leaves cell f - 1 and enters cell f
        datum = face_coefficients(f, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, phi)
        st = SU[il]
        k0 = max(0, i0 - st)
        k1 = min(w, i1 - st)
        if i0 <= il < rmax:
            g = fac * inv_h[il]
            o = st - il + ml
            for k in range(k0, k1):
                M[il, o + k] -= g * phi[k]
            if datum != 0.0:
                frc[il] -= datum * cin * inv_h[il]
        if f < rmax:
            g = fac * inv_h[f]
            o = st - f + ml
            for k in range(k0, k1):
                M[f, o + k] += g * phi[k]
            if datum != 0.0:
                frc[f] += datum * cin * inv_h[f]
    return F0


@njit
def face_flux(f, c, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, i0, i1, phi):
    """Flux through face ``f`` (1..n) for the state ``c`` (zero outside ``[i0, i1)``)."""
    datum = face_coefficients(f, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, phi)
    flux = datum * vals[4 * n + 2]
    st = SU[f - 1]
    for k in range(max(0, i0 - st), min(WV.shape[1], i1 - st)):
        flux += phi[k] * c[st + k]
    return flux


@njit
def outlet_face(c, n, SU, WV, WS):
    """Reconstructed value and slope at the outlet face ``n`` (never an inlet face)."""
    v = 0.0
    g = 0.0
    st = SU[n - 1]
    for k in range(WV.shape[1]):
        v += WV[n - 1, k] * c[st + k]
        g += WS[n - 1, k] * c[st + k]
    return v, g


@njit
def _outlet_rates(C, dT, span, n):
    """du_N/dt and dD_N/dt from the Chebyshev derivative basis ``dT``."""
    du = 0.0
    dD = 0.0
    for k in range(C.shape[1]):
        du += dT[k] * C[n, k]
        dD += dT[k] * C[2 * n + 1, k]
    return du * 2.0 / span, dD * 2.0 / span


@njit
def _window_extent(c, q, alpha, i0, i1, eps):
    """First and last cell of ``[i0, i1)`` where ``|c| + alpha |q| > eps * max`` (-1 if the
    window is empty) and the maximum."""
    wmax = 0.0
    for i in range(i0, i1):
        w = abs(c[i]) + alpha * abs(q[i])
        if w > wmax:
            wmax = w
    lo = -1
    hi = -1
    if wmax > 0.0:
        thr = eps * wmax
        for i in range(i0, i1):
            if abs(c[i]) + alpha * abs(q[i]) > thr:
                lo = i
                break
        for i in range(i1 - 1, i0 - 1, -1):
            if abs(c[i]) + alpha * abs(q[i]) > thr:
                hi = i
                break
    return lo, hi, wmax


@njit
def hermite(have_prev, x0, y0, d0, x1, y1, d1, x2, y2, d2, t):
    """Hermite interpolation at ``t`` in ``[x1, x2]``: quintic through the values and slopes at
    ``x0 < x1 < x2`` (``O(h^6)``), or cubic on ``[x1, x2]`` without the previous point."""
    if not have_prev:
        h = x2 - x1
        th = (t - x1) / h
        return ((1.0 + 2.0 * th) * (1.0 - th) ** 2 * y1 + th * (1.0 - th) ** 2 * h * d1
                + th * th * (3.0 - 2.0 * th) * y2 + th * th * (th - 1.0) * h * d2)
    s01 = (y1 - y0) / (x1 - x0)
    s12 = (y2 - y1) / (x2 - x1)
    a20 = (s01 - d0) / (x1 - x0)
    a21 = (d1 - s01) / (x1 - x0)
    a22 = (s12 - d1) / (x2 - x1)
    a23 = (d2 - s12) / (x2 - x1)
    a30 = (a21 - a20) / (x1 - x0)
    a31 = (a22 - a21) / (x2 - x0)
    a32 = (a23 - a22) / (x2 - x1)
    a40 = (a31 - a30) / (x2 - x0)
    a41 = (a32 - a31) / (x2 - x0)
    a50 = (a41 - a40) / (x2 - x0)
    u0 = t - x0
    u1 = t - x1
    w = u0 * u0
    return (y0 + d0 * u0 + w * (a20 + u1 * (a30 + u1 * (a40 + (t - x2) * a50))))


@njit
def stage_rate(t, ta, span, C, T, dT, vals, n, ml, alpha, inv_h, SU, WV, GV, WS, GS, dV, gV,
               dS, gS, nin, RP, RQ, RR, RS, M, frc, phi, c, q, i0, i1, Fc, Fq, uniform, has_D):
    """``f(t, y)`` on the window: ``Fc = A c + frc - alpha (k_a c - k_d q)``,
    ``Fq = k_a c - k_d q`` (``M`` is scratch). Returns the inlet flux, the outlet flux and the
    net flux out through the window's edges; leaves the coefficients at ``t`` in ``vals``."""
    cheb_basis(2.0 * (t - ta) / span - 1.0, T, dT)
    eval_window(C, T, vals, n, i0, i1, uniform)
    F0 = assemble(n, ml, vals, inv_h, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, RP, RQ, RR, RS,
                  M, frc, i0, i1, 1.0, phi, has_D)
    bw = M.shape[1]
    ka_off = 2 * n + 2
    kd_off = 3 * n + 2
    for i in range(i0, i1):
        sm = frc[i]
        for k in range(max(0, i0 - i + ml), min(bw, i1 - i + ml)):
            sm += M[i, k] * c[i + k - ml]
        ex = vals[ka_off + i] * c[i] - vals[kd_off + i] * q[i]
        Fc[i] = sm - alpha * ex
        Fq[i] = ex
    v, g = outlet_face(c, n, SU, WV, WS)
    FN = vals[n] * v - vals[2 * n + 1] * g
    fe = 0.0
    if i1 < n:
        fe += face_flux(i1, c, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, i0, i1, phi)
    if i0 > 0:
        fe -= face_flux(i0, c, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, i0, i1, phi)
    return F0, FN, fe


@njit
def march_chunk(ta, tb, C, alpha, inv_h, h, ml, mu, lo, hi,
                SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, RP, RQ, RR, RS,
                rk_a, rk_c, rk_e, q_emb, c, q, dt, dt_max, dt_fixed, tol, stop_mass, w_out,
                t_out, io, y_c, y_f, acc, cnt, win, win_eps, win_buf, inlet_open,
                uniform, has_D, t_start, tab_lo, tab_hi, dstate):
    """March from ``ta`` to ``tb`` (or until the column is empty) with (E)SDIRK steps on the
    active window of cells.

    Parameters
    ----------
    ta, tb : float
        The chunk; the last step ends exactly at ``tb``.
    C : (4n + 3, m) float array
        Chebyshev coefficients in ``s = 2 (t - ta) / (tb - ta) - 1`` of ``u`` (faces), ``D``
        (faces), ``k_a``, ``k_d`` (cells), ``c_in``, one series per row.
    alpha : float
        Phase ratio.
    inv_h, h : (n,) float arrays
        Reciprocal cell widths and widths.
    ml, mu, lo, hi : int, int, (n,) int arrays
        Band widths and the envelope of the stage matrix (:func:`env_lu`).
    SU ... nin, RP, RQ, RR, RS
        Face stencils (see :func:`face_coefficients`) and the row coefficients of
        :func:`assemble`.
    rk_a, rk_c, rk_e : float arrays
        Butcher matrix of a stiffly accurate (E)SDIRK method (constant diagonal ``gamma`` on
        the implicit stages; ``rk_a[0, 0] = 0``: explicit first stage, first-same-as-last),
        abscissae, and ``b - b_hat`` of the embedded method.
    q_emb : int
        Order of the embedded method (the controller's exponent is ``1 / (q_emb + 1)``).
    c, q : (n,) float arrays
        State on entry (zero outside the window), updated in place.
    dt : float
        Proposed step (adaptive mode).
    dt_max : float
        Largest step.
    dt_fixed : float
        > 0: fixed steps of this length (the last one of the chunk shortened), no error control.
    tol : float
        Local error tolerance of the controller, relative to the scale
        ``max(max_i (|c_i| + alpha |q_i|), w_out[0])``.
    stop_mass : float
        > 0: stop once ``sum h (|c| + alpha |q|)`` falls below it.
    w_out : (1,) float array
        Running maximum of ``|c| + alpha |q|`` in the last cell (the height of the band as it
        leaves), updated.
    t_out, io, y_c, y_f
        Output times, the index of the first one not yet written, and the outlet
        concentration ``F_n / u_n`` and flux ``F_n`` there (:func:`hermite` on each step).
    acc : (8,) float array
        Accumulated inflow, outflow, the outflow moments ``int t F``, ``int t^2 F`` (the
        method's quadrature), the last outlet flux and its time derivative, the net flux out
        through the window's edges and the amount dropped when the window shrinks.
    cnt : (5,) int array
        Accepted steps, rejected steps, implicit stage solves, window enlargements, the sum of
        the window sizes over the accepted steps (updated).
    win : (2,) int array
        The active window ``[i0, i1)`` (updated): cells outside hold exactly zero.
    win_eps, win_buf : float, int
        The window spans the cells where ``|c| + alpha |q| > win_eps * max`` plus ``win_buf``
        cells on each side; a step whose solution exceeds that threshold within ``win_buf // 2``
        cells of an edge is redone on a larger window.
    inlet_open : bool
        The window must include the inlet (``c_in`` may be nonzero on this chunk).
    uniform : int
        Bit mask: ``k_a`` (1), ``k_d`` (2) the same in every cell (:func:`eval_window`).
    has_D : bool
        Some ``D`` is nonzero on this chunk (else the slope stencils are skipped).
    t_start : float
        Start here (``ta``, or where an earlier call on this chunk returned).
    tab_lo, tab_hi : int
        The table ``C`` holds the cells ``[tab_lo, tab_hi)`` (and their faces), the inlet and
        outlet faces and ``c_in``; other rows may be stale. A window that would leave this range
        ends the call (status 2).
    dstate : (6,) float array
        The previous step end of the dense output (time, flux, its slope, concentration, its
        slope, and 1 if valid), carried across calls on one chunk (in/out).

    Returns
    -------
    t, dt_next, io, status
        ``status`` 0: reached ``tb``; 1: the column is empty (stop); 2: the window needs a
        larger table (``win`` holds the wanted window; ``t`` the time reached).
    """
    n = c.shape[0]
    s_st = rk_a.shape[0]
    gam = rk_a[s_st - 1, s_st - 1]
    explicit = rk_a[0, 0] == 0.0
    m = C.shape[1]
    K = C.shape[0]
    bw = ml + mu + 1
    T = np.empty(m)
    dT = np.empty(m)
    vals = np.zeros(K)
    phi = np.zeros(WV.shape[1])
    LU = np.zeros((n, bw))
    frc = np.zeros(n)
    Fc = np.zeros((s_st, n))
    Fq = np.zeros((s_st, n))
    rc = np.zeros(n)
    rq = np.zeros(n)
    rhs = np.zeros(n)
    cs = np.zeros(n)
    qs = np.zeros(n)
    den = np.zeros(n)
    F0s = np.empty(s_st)
    FNs = np.empty(s_st)
    Fes = np.empty(s_st)
    span = tb - ta
    ka_off = 2 * n + 2
    kd_off = 3 * n + 2
    ud = n  # u at the outlet face
    Dd = 2 * n + 1  # D at the outlet face
    expo = -1.0 / (q_emb + 1.0)
    i0 = win[0]
    i1 = win[1]
    if inlet_open:
        i0 = 0

    # f(t_start+, y) with this chunk's coefficients (one-sided at a kink): the first stage of an
    # ESDIRK step and the start of the dense output
    F0s[0], FNs[0], Fes[0] = stage_rate(t_start, ta, span, C, T, dT, vals, n, ml, alpha, inv_h,
                                        SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, RP, RQ, RR, RS,
                                        LU, frc, phi, c, q, i0, i1, Fc[0], Fq[0], uniform, has_D)
    first_ok = True
    v, g = outlet_face(c, n, SU, WV, WS)
    dv, dg = outlet_face(Fc[0], n, SU, WV, WS)
    du, dD = _outlet_rates(C, dT, span, n)
    e_f0 = vals[ud] * v - vals[Dd] * g
    e_df0 = du * v + vals[ud] * dv - dD * g - vals[Dd] * dg
    e_u0 = vals[ud]
    e_du0 = du
    have_prev = dstate[5] > 0.0
    p_t = dstate[0]
    p_f = dstate[1]
    p_df = dstate[2]
    p_y = dstate[3]
    p_dy = dstate[4]

    t = t_start
    status = 0
    while t < tb:
        rem = tb - t
        if dt_fixed > 0.0:
            h_step = dt_fixed
        else:
            h_step = min(dt, dt_max)
        truncated = False
        if h_step >= rem:
            h_step = rem
            truncated = True
        elif h_step > 0.75 * rem and dt_fixed <= 0.0:
            h_step = 0.5 * rem
            truncated = True
        elif dt_fixed > 0.0 and rem - h_step < 1e-9 * rem:
            h_step = rem
        gd = gam * h_step
        inv_gd = 1.0 / gd
        if explicit and not first_ok:
            F0s[0], FNs[0], Fes[0] = stage_rate(t, ta, span, C, T, dT, vals, n, ml, alpha,
                                                inv_h, SU, WV, GV, WS, GS, dV, gV, dS, gS,
                                                nin, RP, RQ, RR, RS, LU, frc, phi, c, q, i0, i1,
                                                Fc[0], Fq[0], uniform, has_D)
            first_ok = True
        # implicit stages on the window
        for st in range(1 if explicit else 0, s_st):
            ts = t + rk_c[st] * h_step
            cheb_basis(2.0 * (ts - ta) / span - 1.0, T, dT)
            eval_window(C, T, vals, n, i0, i1, uniform)
            F0s[st] = assemble(n, ml, vals, inv_h, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin,
                               RP, RQ, RR, RS, LU, frc, i0, i1, -gd, phi, has_D)
            ka = vals[ka_off + i0]
            kd = vals[kd_off + i0]
            di = 1.0 / (1.0 + gd * kd)
            diag = 1.0 + gd * alpha * ka * di
            for i in range(i0, i1):
                if uniform != 3:
                    ka = vals[ka_off + i]
                    kd = vals[kd_off + i]
                    di = 1.0 / (1.0 + gd * kd)
                    diag = 1.0 + gd * alpha * ka * di
                den[i] = di
                LU[i, ml] += diag
                sc = c[i]
                sq = q[i]
                for j in range(st):
                    a = h_step * rk_a[st, j]
                    sc += a * Fc[j, i]
                    sq += a * Fq[j, i]
                rc[i] = sc
                rq[i] = sq
                rhs[i] = sc + gd * (alpha * kd * di * sq + frc[i])
            env_lu(LU, ml, lo, hi, i0, i1)
            env_solve(LU, ml, lo, hi, i0, i1, rhs, cs)
            for i in range(i0, i1):
                qq = (rq[i] + gd * vals[ka_off + i] * cs[i]) * den[i]
                Fc[st, i] = (cs[i] - rc[i]) * inv_gd
                Fq[st, i] = (qq - rq[i]) * inv_gd
                qs[i] = qq
            v, g = outlet_face(cs, n, SU, WV, WS)
            FNs[st] = vals[ud] * v - vals[Dd] * g
            fe = 0.0  # net flux out through the window's edges
            if i1 < n:
                fe += face_flux(i1, cs, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, i0, i1,
                                phi)
            if i0 > 0:
                fe -= face_flux(i0, cs, vals, n, SU, WV, GV, WS, GS, dV, gV, dS, gS, nin, i0, i1,
                                phi)
            Fes[st] = fe
            cnt[2] += 1
        # the window: redo the step on a larger one if the solution reaches its edges
        lo_w, hi_w, wmax = _window_extent(cs, qs, alpha, i0, i1, win_eps)
        if lo_w >= 0:
            half = max(win_buf // 2, 1)
            grow_lo = i0 > 0 and lo_w < i0 + half
            grow_hi = i1 < n and hi_w >= i1 - half
            if grow_lo or grow_hi:
                if grow_lo:
                    i0 = max(0, lo_w - 2 * win_buf)
                if grow_hi:
                    i1 = min(n, hi_w + 1 + 2 * win_buf)
                cnt[3] += 1
                first_ok = False
                if i0 < tab_lo or i1 > tab_hi:
                    status = 2  # redo this step with a larger table
                    break
                continue
        # error estimate, filtered by the last stage matrix (damps the stiff components)
        err = 0.0
        if dt_fixed <= 0.0:
            for i in range(i0, i1):
                e1 = 0.0
                e2 = 0.0
                for j in range(s_st):
                    e1 += rk_e[j] * Fc[j, i]
                    e2 += rk_e[j] * Fq[j, i]
                rc[i] = h_step * e1
                rq[i] = h_step * e2
                rhs[i] = rc[i] + gd * alpha * vals[kd_off + i] * den[i] * rq[i]
            env_solve(LU, ml, lo, hi, i0, i1, rhs, rhs)
            scale = w_out[0]
            if wmax > scale:
                scale = wmax
            for i in range(i0, i1):
                e2 = (rq[i] + gd * vals[ka_off + i] * rhs[i]) * den[i]
                e1 = abs(rhs[i]) + alpha * abs(e2)
                if e1 > err:
                    err = e1
                w0 = abs(c[i]) + alpha * abs(q[i])
                if w0 > scale:
                    scale = w0
            if scale > 0.0:
                err = err / (tol * scale)
            else:
                err = 0.0
            if not err <= 1.0:  # reject (also on NaN)
                cnt[1] += 1
                fac = 0.9 * err ** expo if err < 1e300 else 0.1
                dt = h_step * max(0.1, min(0.9, fac))
                continue
        # accept
        t_new = tb if h_step == rem else t + h_step
        for i in range(i0, i1):
            c[i] = cs[i]
            q[i] = qs[i]
        bl = rk_a[s_st - 1]
        for st in range(s_st):
            ts = t + rk_c[st] * h_step
            wgt = h_step * bl[st]
            acc[0] += wgt * F0s[st]
            acc[1] += wgt * FNs[st]
            acc[2] += wgt * ts * FNs[st]
            acc[3] += wgt * ts * ts * FNs[st]
            acc[6] += wgt * Fes[st]
        # outlet flux and its derivative at t_new (the last stage is the new state)
        du, dD = _outlet_rates(C, dT, span, n)
        v, g = outlet_face(c, n, SU, WV, WS)
        dv, dg = outlet_face(Fc[s_st - 1], n, SU, WV, WS)
        f1 = FNs[s_st - 1]
        df1 = du * v + vals[ud] * dv - dD * g - vals[Dd] * dg
        u1 = vals[ud]
        # dense output on (t, t_new]: Hermite interpolation of the flux and of the
        # concentration F/u (quintic with the previous step end inside a chunk, else cubic)
        y0 = e_f0 / e_u0
        dy0 = (e_df0 - y0 * e_du0) / e_u0
        y1 = f1 / u1
        dy1 = (df1 - y1 * du) / u1
        while io < t_out.shape[0] and t_out[io] <= t_new:
            to = max(t_out[io], t)
            y_f[io] = hermite(have_prev, p_t, p_f, p_df, t, e_f0, e_df0, t_new, f1, df1, to)
            y_c[io] = hermite(have_prev, p_t, p_y, p_dy, t, y0, dy0, t_new, y1, dy1, to)
            io += 1
        have_prev = True
        p_t = t
        p_f = e_f0
        p_df = e_df0
        p_y = y0
        p_dy = dy0
        e_f0 = f1
        e_df0 = df1
        e_u0 = u1
        e_du0 = du
        acc[4] = f1
        acc[5] = df1
        wl = abs(c[n - 1]) + alpha * abs(q[n - 1])
        if wl > w_out[0]:
            w_out[0] = wl
        cnt[0] += 1
        cnt[4] += i1 - i0
        t = t_new
        # first same as last: the next step's first stage
        if explicit:
            for i in range(i0, i1):
                Fc[0, i] = Fc[s_st - 1, i]
                Fq[0, i] = Fq[s_st - 1, i]
            F0s[0] = F0s[s_st - 1]
            FNs[0] = FNs[s_st - 1]
            Fes[0] = Fes[s_st - 1]
        # step-size proposal
        if dt_fixed <= 0.0:
            fac = 5.0 if err <= 1e-30 else min(5.0, max(0.2, 0.9 * err ** expo))
            dt_new = h_step * fac
            if truncated and dt_new < dt:
                dt_new = dt
            dt = dt_new
        # move the window with the band: shrink (dropping what is below the threshold, which
        # is accounted for) or grow
        if lo_w >= 0:
            n0 = 0 if inlet_open else max(0, lo_w - win_buf)
            n1 = min(n, hi_w + 1 + win_buf)
            if n0 > i0 + win_buf:
                for i in range(i0, n0):
                    acc[7] += h[i] * (c[i] + alpha * q[i])
                    c[i] = 0.0
                    q[i] = 0.0
                    for j in range(s_st):
                        Fc[j, i] = 0.0
                        Fq[j, i] = 0.0
                i0 = n0
                first_ok = False
            elif n0 < i0:
                i0 = n0
                first_ok = False
            if n1 < i1 - 2 * win_buf:
                for i in range(n1, i1):
                    acc[7] += h[i] * (c[i] + alpha * q[i])
                    c[i] = 0.0
                    q[i] = 0.0
                    for j in range(s_st):
                        Fc[j, i] = 0.0
                        Fq[j, i] = 0.0
                i1 = n1
                first_ok = False
            elif n1 > i1:
                i1 = min(n, n1 + win_buf)
                first_ok = False
        if stop_mass > 0.0:
            tot = 0.0
            for i in range(i0, i1):
                tot += h[i] * (abs(c[i]) + alpha * abs(q[i]))
            if tot < stop_mass:
                status = 1
                break
        if i0 < tab_lo or i1 > tab_hi:
            status = 2  # continue from t with a larger table
            break
    win[0] = i0
    win[1] = i1
    dstate[0] = p_t
    dstate[1] = p_f
    dstate[2] = p_df
    dstate[3] = p_y
    dstate[4] = p_dy
    dstate[5] = 1.0 if have_prev else 0.0
    return t, dt, io, status
