"""Compiled kernels of the geometric multigrid for ``-div(p grad phi)`` on cell-centred grids.

Every grid is handled as three-dimensional (missing axes have one cell and no faces). The
operator is ``(A x)_c = sum_faces w_f (x_c - x_neighbour)`` with the face weights
``wx`` (n0-1, n1, n2), ``wy`` (n0, n1-1, n2), ``wz`` (n0, n1, n2-1) (``p_face / h^2``) and no flux
through the boundary. Kernels:

* :func:`apply` — ``out = A x``;
* :func:`residual` — ``out = b - A x``;
* :func:`rbgs` — one red-black Gauss–Seidel half sweep on the cells of one colour
  (``(i + j + k) % 2 == colour``); the two colours only couple to each other;
* :func:`prolong_add` — ``x += P e``: cell-centred (bi/tri)linear interpolation from the coarse
  grid, along each coarsened axis weights 3/4 (own coarse cell) and 1/4 (the coarse neighbour on
  the fine cell's side, or the own cell again at the boundary);
* :func:`restrict` — ``out = P^T r / 2^m`` (``m`` coarsened axes), the exact transpose of
  :func:`prolong_add` scaled to an average.

Each has a plain-NumPy reference (``*_reference``) used by the tests.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

__all__ = ["apply", "residual", "rbgs", "prolong_add", "restrict"]


@njit
def apply(x, wx, wy, wz, out):
    n0, n1, n2 = x.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                xc = x[i, j, k]
                acc = 0.0
                if i > 0:
                    acc += wx[i - 1, j, k] * (xc - x[i - 1, j, k])
                if i < n0 - 1:
                    acc += wx[i, j, k] * (xc - x[i + 1, j, k])
                if j > 0:
                    acc += wy[i, j - 1, k] * (xc - x[i, j - 1, k])
                if j < n1 - 1:
                    acc += wy[i, j, k] * (xc - x[i, j + 1, k])
                if k > 0:
                    acc += wz[i, j, k - 1] * (xc - x[i, j, k - 1])
                if k < n2 - 1:
                    acc += wz[i, j, k] * (xc - x[i, j, k + 1])
                out[i, j, k] = acc


@njit
def residual(x, b, wx, wy, wz, out):
    apply(x, wx, wy, wz, out)
    n0, n1, n2 = x.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = b[i, j, k] - out[i, j, k]


@njit
def rbgs(x, b, wx, wy, wz, colour):
    n0, n1, n2 = x.shape
    for i in range(n0):
        for j in range(n1):
            k0 = (colour + i + j) % 2
            for k in range(k0, n2, 2):
                num = b[i, j, k]
                diag = 0.0
                if i > 0:
                    w = wx[i - 1, j, k]
                    num += w * x[i - 1, j, k]
                    diag += w
                if i < n0 - 1:
                    w = wx[i, j, k]
                    num += w * x[i + 1, j, k]
                    diag += w
                if j > 0:
                    w = wy[i, j - 1, k]
                    num += w * x[i, j - 1, k]
                    diag += w
                if j < n1 - 1:
                    w = wy[i, j, k]
                    num += w * x[i, j + 1, k]
                    diag += w
                if k > 0:
                    w = wz[i, j, k - 1]
                    num += w * x[i, j, k - 1]
                    diag += w
                if k < n2 - 1:
                    w = wz[i, j, k]
                    num += w * x[i, j, k + 1]
                    diag += w
                if diag > 0.0:
                    x[i, j, k] = num / diag


@njit
def _axis_weights(i, coarsened, nc):
    """Coarse cells and weights that interpolate fine cell ``i`` along one axis."""
    if not coarsened:
        return i, i, 1.0, 0.0
    c = i // 2
    other = c - 1 if i % 2 == 0 else c + 1
    if other < 0 or other >= nc:
        other = c
    return c, other, 0.75, 0.25


@njit
def prolong_add(e, x, c0, c1, c2):
    n0, n1, n2 = x.shape
    m0, m1, m2 = e.shape
    for i in range(n0):
        a0, b0, wa0, wb0 = _axis_weights(i, c0, m0)
        for j in range(n1):
            a1, b1, wa1, wb1 = _axis_weights(j, c1, m1)
            for k in range(n2):
                a2, b2, wa2, wb2 = _axis_weights(k, c2, m2)
                x[i, j, k] += (
                    wa0 * (wa1 * (wa2 * e[a0, a1, a2] + wb2 * e[a0, a1, b2])
                           + wb1 * (wa2 * e[a0, b1, a2] + wb2 * e[a0, b1, b2]))
                    + wb0 * (wa1 * (wa2 * e[b0, a1, a2] + wb2 * e[b0, a1, b2])
                             + wb1 * (wa2 * e[b0, b1, a2] + wb2 * e[b0, b1, b2])))


@njit
def restrict(r, out, c0, c1, c2):
    n0, n1, n2 = r.shape
    m0, m1, m2 = out.shape
    out[:, :, :] = 0.0
    scale = 1.0 / ((2.0 if c0 else 1.0) * (2.0 if c1 else 1.0) * (2.0 if c2 else 1.0))
    for i in range(n0):
        a0, b0, wa0, wb0 = _axis_weights(i, c0, m0)
        for j in range(n1):
            a1, b1, wa1, wb1 = _axis_weights(j, c1, m1)
            for k in range(n2):
                a2, b2, wa2, wb2 = _axis_weights(k, c2, m2)
                v = r[i, j, k] * scale
                out[a0, a1, a2] += wa0 * wa1 * wa2 * v
                out[a0, a1, b2] += wa0 * wa1 * wb2 * v
                out[a0, b1, a2] += wa0 * wb1 * wa2 * v
                out[a0, b1, b2] += wa0 * wb1 * wb2 * v
                out[b0, a1, a2] += wb0 * wa1 * wa2 * v
                out[b0, a1, b2] += wb0 * wa1 * wb2 * v
                out[b0, b1, a2] += wb0 * wb1 * wa2 * v
                out[b0, b1, b2] += wb0 * wb1 * wb2 * v


# --------------------------------------------------------------------------- NumPy references
def apply_reference(x, wx, wy, wz):
    out = np.zeros_like(x)
    for axis, w in enumerate((wx, wy, wz)):
        if x.shape[axis] < 2:
            continue
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        flux = w * (x[tuple(lo)] - x[tuple(hi)])
        out[tuple(lo)] += flux
        out[tuple(hi)] -= flux
    return out


def residual_reference(x, b, wx, wy, wz):
    return b - apply_reference(x, wx, wy, wz)


def rbgs_reference(x, b, wx, wy, wz, colour):
    """The same half sweep (Jacobi on one colour, which only sees the other colour)."""
    x = x.copy()
    num = b.copy()
    diag = np.zeros_like(x)
    for axis, w in enumerate((wx, wy, wz)):
        if x.shape[axis] < 2:
            continue
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        num[tuple(lo)] += w * x[tuple(hi)]
        num[tuple(hi)] += w * x[tuple(lo)]
        diag[tuple(lo)] += w
        diag[tuple(hi)] += w
    i, j, k = np.indices(x.shape)
    sel = ((i + j + k) % 2 == colour) & (diag > 0)
    x[sel] = num[sel] / diag[sel]
    return x


def _interpolation_matrix(n_fine, coarsened):
    """Dense 1-D prolongation (n_fine, n_coarse)."""
    if not coarsened:
        return np.eye(n_fine)
    nc = n_fine // 2
    P = np.zeros((n_fine, nc))
    for i in range(n_fine):
        c = i // 2
        o = c - 1 if i % 2 == 0 else c + 1
        o = c if (o < 0 or o >= nc) else o
        P[i, c] += 0.75
        P[i, o] += 0.25
    return P


def prolong_reference(e, fine_shape, flags):
    out = e
    for axis, (n, c) in enumerate(zip(fine_shape, flags, strict=True)):
        P = _interpolation_matrix(n, c)
        out = np.moveaxis(np.tensordot(P, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
    return out


def restrict_reference(r, coarse_shape, flags):
    out = r
    for axis, c in enumerate(flags):
        P = _interpolation_matrix(r.shape[axis], c)
        out = np.moveaxis(np.tensordot(P.T, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
        if c:
            out = out / 2.0
    assert out.shape == tuple(coarse_shape)
    return out
