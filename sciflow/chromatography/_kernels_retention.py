r"""Compiled kernels of the programmed-GC retention predictor (:mod:`.programs`).

The state of a GC run at position x (m) and time t (s) is evaluated from tables passed as
arguments (nothing is closed over, so one compilation serves every column and program):

* oven: nodes ``tT`` (s) with temperatures ``T0`` (K) at the reference position ``x_ref`` and a
  thermal-gradient profile per node, ``T_i(x) = T0_i + g_i(x) - g_i(x_ref)`` with
  ``g(x) = dT (1 - exp(a (1 - xi)) + (1 - xi) exp(a))`` for ``a <= 0`` and
  ``g(x) = dT (exp(-a xi) - xi exp(-a))`` for ``a > 0``, ``xi = (x - x0) / L0`` (Leppert et al.
  2020); between nodes ``T(x, t)`` is linear in t at fixed x, flat outside.
* pressure: nodes ``tp`` with inlet pressure (Pa, or the normal flow in m^3/s in constant-flow
  mode) and outlet pressure (Pa), linear in t.
* Poiseuille flow of an ideal gas at every instant (Blumberg 2010, ch. 3)::

      kappa(x, t) = int_0^x eta(T) T / d^4 dy,
      p(x, t)^2 = p_in^2 - kappa(x)/kappa(L) (p_in^2 - p_out^2),
      u(x, t) = T (p_in^2 - p_out^2) / (64 p d^2 kappa(L)),
      constant flow F (normal conditions T_n, p_n): p_in^2 = p_out^2 + 256/pi p_n/T_n kappa(L) F.

  ``kappa`` is exact (``eta T x / d^4``) without a gradient, a 24-point Gauss–Legendre rule on
  [0, x] with one.
* solute: residency ``r = (1 + k) / u`` (s/m) with the K-centric ``k(T)``, plate height (Golay
  1958 with the film term of Giddings)::

      H = 2 D_M / u + d^2 (6 mu^2 - 16 mu + 11) u / (96 D_M) + (2/3) d_f^2 mu (1 - mu) u / D_S,

  ``mu = 1 / (1 + k)``, ``D_M = D_ag T^1.75 / p``.
* migration and band broadening along the column (Leppert et al. 2020, eqs. for t(x), tau^2(x))::

      dt/dx = r(x, t),        d tau^2 / dx = H r^2 + 2 tau^2 dr/dt,

  integrated from x = 0 to L by an adaptive Dormand–Prince 5(4) method (Hairer, Norsett &
  Wanner 1993, II.5). ``dr/dt`` is the exact partial derivative by the chain rule through
  T(x, t), eta(T), the flow restriction, the pressure program and p(x, t)
  (:func:`residency_dt`; the test compares it with a central difference).

References: see :mod:`sciflow.chromatography.programs`.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit

__all__ = ["locate", "temperature", "viscosity", "pressures", "flow_state", "residency",
           "residency_dt", "holdup_time", "fields", "integrate_solute", "GL_X", "GL_W"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)
GL_X = np.ascontiguousarray(_GL_X)
GL_W = np.ascontiguousarray(_GL_W)
_GL64_X, _GL64_W = np.polynomial.legendre.leggauss(64)
_PI = math.pi


@njit
def locate(nodes, t):
    """Interval index i and weight w of ``t`` in increasing ``nodes`` (flat outside)."""
    n = nodes.size
    if n == 1 or t <= nodes[0]:
        return 0, 0.0
    if t >= nodes[n - 1]:
        return n - 2, 1.0
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if nodes[mid] <= t:
            lo = mid
        else:
            hi = mid
    return lo, (t - nodes[lo]) / (nodes[lo + 1] - nodes[lo])


@njit
def _profile(x, dT, a, x0, L0):
    xi = (x - x0) / L0
    if a <= 0.0:
        return dT * (1.0 - math.exp(a * (1.0 - xi)) + (1.0 - xi) * math.exp(a))
    return dT * (math.exp(-a * xi) - xi * math.exp(-a))


@njit
def _node_temperature(x, i, T0, gdT, ga, gx0, gL0, x_ref, gradient):
    """T_i(x): the temperature profile of program node i (K)."""
    T = T0[i]
    if gradient:
        T += (_profile(x, gdT[i], ga[i], gx0[i], gL0[i])
              - _profile(x_ref, gdT[i], ga[i], gx0[i], gL0[i]))
    return T


@njit
def _temperature_and_slope(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient):
    """(T(x, t), dT/dt): linear in t between nodes at fixed x, flat (slope 0) outside."""
    n = tT.size
    if n == 1:
        return _node_temperature(x, 0, T0, gdT, ga, gx0, gL0, x_ref, gradient), 0.0
    i, w = locate(tT, t)
    Ta = _node_temperature(x, i, T0, gdT, ga, gx0, gL0, x_ref, gradient)
    Tb = _node_temperature(x, i + 1, T0, gdT, ga, gx0, gL0, x_ref, gradient)
    T = Ta + w * (Tb - Ta)
    if t <= tT[0] or t >= tT[n - 1]:
        return T, 0.0
    return T, (Tb - Ta) / (tT[i + 1] - tT[i])


@njit
def temperature(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient):
    """T(x, t) (K)."""
    return _temperature_and_slope(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)[0]


@njit
def viscosity(T, eta_st, xi0, xi1):
    """Blumberg's viscosity law (Pa s), T_st = 273.15 K."""
    return eta_st * (T / 273.15) ** (xi0 + xi1 * (T - 273.15) / 273.15)


@njit
def _kappa(x, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas):
    """Flow restriction kappa(x, t) = int_0^x eta T / d^4 dy (Pa s K m^-3)."""
    if not gradient:
        T = temperature(0.0, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
        return viscosity(T, gas[0], gas[1], gas[2]) * T * x / d**4
    s = 0.0
    for j in range(GL_X.size):
        y = 0.5 * x * (GL_X[j] + 1.0)
        T = temperature(y, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
        s += GL_W[j] * viscosity(T, gas[0], gas[1], gas[2]) * T
    return 0.5 * x * s / d**4


@njit
def pressures(t, tp, pin, pout, mode, kappaL, normal):
    """(p_in, p_out) at t (Pa); mode 1: ``pin`` holds the normal flow F (m^3/s)."""
    i, w = locate(tp, t)
    if tp.size == 1:
        a = pin[0]
        po = pout[0]
    else:
        a = pin[i] + w * (pin[i + 1] - pin[i])
        po = pout[i] + w * (pout[i + 1] - pout[i])
    if mode == 1:
        a = math.sqrt(po * po + 256.0 / _PI * normal[1] / normal[0] * kappaL * a)
    return a, po


@njit
def flow_state(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout,
               mode, normal):
    """(T (K), p (Pa), u (m/s)) of the carrier gas at (x, t)."""
    T = temperature(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
    kL = _kappa(L, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas)
    if gradient:
        kx = _kappa(x, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas)
        frac = kx / kL
    else:
        frac = x / L
    p_in, p_out = pressures(t, tp, pin, pout, mode, kL, normal)
    dp2 = p_in * p_in - p_out * p_out
    p = math.sqrt(max(p_in * p_in - frac * dp2, 0.0))
    u = T * dp2 / (64.0 * p * d * d * kL)
    return T, p, u


@njit
def _lnk(T, sol):
    # sol: [T_char, theta_char, C = dCp/R, ln(phi/phi0), D_ag, D_S mode, D_S value/ratio]
    Tc = sol[0]
    C = sol[2]
    return sol[3] + (C + Tc / sol[1]) * (Tc / T - 1.0) + C * math.log(T / Tc)


@njit
def residency(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode,
              normal, sol):
    """(r (s/m), k, T, p, u) of the solute at (x, t); ``k`` capped at exp(600)."""
    T, p, u = flow_state(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin,
                         pout, mode, normal)
    lnk = _lnk(T, sol)
    if lnk > 600.0:
        lnk = 600.0
    k = math.exp(lnk)
    return (1.0 + k) / u, k, T, p, u


@njit
def _temperature_dt(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient):
    """(T, dT/dt) at (x, t): the time slope of the piecewise-linear program (0 outside)."""
    return _temperature_and_slope(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)


@njit
def _eta_T_dT(T, gas):
    """(eta T, d(eta T)/dT) of Blumberg's viscosity law."""
    eta = viscosity(T, gas[0], gas[1], gas[2])
    dln = gas[2] / 273.15 * math.log(T / 273.15) + (gas[1] + gas[2] * (T - 273.15) / 273.15) / T
    return eta * T, eta + eta * T * dln


@njit
def _kappa_dt(x, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas):
    """(kappa(x, t), d kappa / dt) (Pa s K m^-3 and per s)."""
    if not gradient:
        T, Tt = _temperature_dt(0.0, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
        g, gT = _eta_T_dT(T, gas)
        return g * x / d**4, gT * Tt * x / d**4
    s = 0.0
    st = 0.0
    for j in range(GL_X.size):
        y = 0.5 * x * (GL_X[j] + 1.0)
        T, Tt = _temperature_dt(y, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
        g, gT = _eta_T_dT(T, gas)
        s += GL_W[j] * g
        st += GL_W[j] * gT * Tt
    return 0.5 * x * s / d**4, 0.5 * x * st / d**4


@njit
def _table_dt(nodes, values, t):
    """(value, slope) of a piecewise-linear table at t (slope 0 outside)."""
    n = nodes.size
    if n == 1:
        return values[0], 0.0
    i, w = locate(nodes, t)
    v = values[i] + w * (values[i + 1] - values[i])
    if t <= nodes[0] or t >= nodes[n - 1]:
        return v, 0.0
    return v, (values[i + 1] - values[i]) / (nodes[i + 1] - nodes[i])


@njit
def residency_dt(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout,
                 mode, normal, sol):
    """(r, dr/dt, k, T, p, u) at (x, t): the residency and its exact partial time derivative
    (chain rule through T(x, t), eta(T), kappa, p_in(t), p_out(t) and p(x, t))."""
    T, Tt = _temperature_dt(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
    kL, kLt = _kappa_dt(L, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas)
    if gradient:
        kx, kxt = _kappa_dt(x, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas)
        frac = kx / kL
        frac_t = (kxt * kL - kx * kLt) / (kL * kL)
    else:
        frac = x / L
        frac_t = 0.0
    a, at = _table_dt(tp, pin, t)
    po, pot = _table_dt(tp, pout, t)
    if mode == 1:  # a is the normal flow F
        c = 256.0 / _PI * normal[1] / normal[0]
        p_in = math.sqrt(po * po + c * kL * a)
        p_in_t = (po * pot + 0.5 * c * (kLt * a + kL * at)) / p_in
    else:
        p_in = a
        p_in_t = at
    dp2 = p_in * p_in - po * po
    dp2_t = 2.0 * (p_in * p_in_t - po * pot)
    p = math.sqrt(max(p_in * p_in - frac * dp2, 0.0))
    p_t = (p_in * p_in_t - 0.5 * (frac_t * dp2 + frac * dp2_t)) / p
    u = T * dp2 / (64.0 * p * d * d * kL)
    ln_u_t = Tt / T + dp2_t / dp2 - p_t / p - kLt / kL
    Tc = sol[0]
    C = sol[2]
    lnk = _lnk(T, sol)
    if lnk > 600.0:
        lnk = 600.0
        dlnk = 0.0
    else:
        dlnk = -(C + Tc / sol[1]) * Tc / (T * T) + C / T
    k = math.exp(lnk)
    k_t = k * dlnk * Tt
    r = (1.0 + k) / u
    r_t = (k_t - (1.0 + k) * ln_u_t) / u
    return r, r_t, k, T, p, u


@njit
def _rhs(x, t, tau2, L, d, df, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout,
         mode, normal, sol, plate):
    r, drdt, k, T, p, u = residency_dt(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient,
                                       gas, tp, pin, pout, mode, normal, sol)
    mu = 1.0 / (1.0 + k)
    DM = sol[4] * T**1.75 / p
    if sol[5] == 0.0:
        DS = sol[6] * DM  # ratio to D_M (Leppert's correlation D_S = D_M / 1e4)
    else:
        DS = sol[6]  # constant (m^2/s)
    H = (2.0 / 3.0) * df * df * mu * (1.0 - mu) * u / DS
    if plate == 0:
        H += 2.0 * DM / u + d * d * (6.0 * mu * mu - 16.0 * mu + 11.0) * u / (96.0 * DM)
    return r, H * r * r + 2.0 * tau2 * drdt


@njit
def holdup_time(t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode,
                normal):
    """Gas hold-up time int_0^L dx / u(x, t) (s) with the flow frozen at t (64-point
    Gauss-Legendre rule; the integrand is smooth: 1/u is proportional to p)."""
    s = 0.0
    for j in range(_GL64_X.size):
        x = 0.5 * L * (_GL64_X[j] + 1.0)
        s += _GL64_W[j] / flow_state(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas,
                                     tp, pin, pout, mode, normal)[2]
    return 0.5 * L * s


@njit
def fields(ts, xs, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode,
           normal):
    """T, p, u (K, Pa, m/s) on the grid ``ts`` (m,) x ``xs`` (n,): arrays of shape (m, n).

    The same values as :func:`flow_state` point by point; the per-time quantities (kappa_L,
    p_in, p_out and, without a gradient, T) are computed once per time."""
    m = ts.size
    n = xs.size
    T = np.empty((m, n))
    p = np.empty((m, n))
    u = np.empty((m, n))
    for i in range(m):
        t = ts[i]
        kL = _kappa(L, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas)
        p_in, p_out = pressures(t, tp, pin, pout, mode, kL, normal)
        dp2 = p_in * p_in - p_out * p_out
        T_uniform = temperature(0.0, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
        for j in range(n):
            x = xs[j]
            if gradient:
                Tx = temperature(x, t, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient)
                frac = _kappa(x, t, d, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas) / kL
            else:
                Tx = T_uniform
                frac = x / L
            px = math.sqrt(max(p_in * p_in - frac * dp2, 0.0))
            T[i, j] = Tx
            p[i, j] = px
            u[i, j] = Tx * dp2 / (64.0 * px * d * d * kL)
    return T, p, u


# Dormand-Prince 5(4) tableau
_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63, _A64, _A65 = (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0,
                                -5103.0 / 18656.0)
_B1, _B3, _B4, _B5, _B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
_E1, _E3, _E4, _E5, _E6, _E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0,
                                -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0)


@njit
def integrate_solute(t0, tau20, L, d, df, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp,
                     pin, pout, mode, normal, sol, plate, rtol, atol_t, max_steps):
    """Integrate t(x), tau^2(x) from 0 to L. Returns (t_R, tau2_R, n_steps, n_rejected, ok)."""
    x = 0.0
    t = t0
    v = tau20
    k1t, k1v = _rhs(x, t, v, L, d, df, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin,
                    pout, mode, normal, sol, plate)
    dx = L * 1e-4
    n_ok = 0
    n_rej = 0
    for _ in range(max_steps):
        if x + dx > L:
            dx = L - x
        k2t, k2v = _rhs(x + _C2 * dx, t + dx * _A21 * k1t, v + dx * _A21 * k1v, L, d, df, tT, T0,
                        gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode, normal,
                        sol, plate)
        k3t, k3v = _rhs(x + _C3 * dx, t + dx * (_A31 * k1t + _A32 * k2t),
                        v + dx * (_A31 * k1v + _A32 * k2v), L, d, df, tT, T0, gdT, ga, gx0, gL0,
                        x_ref, gradient, gas, tp, pin, pout, mode, normal, sol, plate)
        k4t, k4v = _rhs(x + _C4 * dx, t + dx * (_A41 * k1t + _A42 * k2t + _A43 * k3t),
                        v + dx * (_A41 * k1v + _A42 * k2v + _A43 * k3v), L, d, df, tT, T0, gdT,
                        ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode, normal, sol,
                        plate)
        k5t, k5v = _rhs(x + _C5 * dx,
                        t + dx * (_A51 * k1t + _A52 * k2t + _A53 * k3t + _A54 * k4t),
                        v + dx * (_A51 * k1v + _A52 * k2v + _A53 * k3v + _A54 * k4v), L, d, df,
                        tT, T0, gdT, ga, gx0, gL0, x_ref, gradient, gas, tp, pin, pout, mode,
                        normal, sol, plate)
        k6t, k6v = _rhs(x + dx, t + dx * (_A61 * k1t + _A62 * k2t + _A63 * k3t + _A64 * k4t
                                          + _A65 * k5t),
                        v + dx * (_A61 * k1v + _A62 * k2v + _A63 * k3v + _A64 * k4v
                                  + _A65 * k5v), L, d, df, tT, T0, gdT, ga, gx0, gL0, x_ref,
                        gradient, gas, tp, pin, pout, mode, normal, sol, plate)
        tn = t + dx * (_B1 * k1t + _B3 * k3t + _B4 * k4t + _B5 * k5t + _B6 * k6t)
        vn = v + dx * (_B1 * k1v + _B3 * k3v + _B4 * k4v + _B5 * k5v + _B6 * k6v)
        k7t, k7v = _rhs(x + dx, tn, vn, L, d, df, tT, T0, gdT, ga, gx0, gL0, x_ref, gradient,
                        gas, tp, pin, pout, mode, normal, sol, plate)
        et = dx * (_E1 * k1t + _E3 * k3t + _E4 * k4t + _E5 * k5t + _E6 * k6t + _E7 * k7t)
        ev = dx * (_E1 * k1v + _E3 * k3v + _E4 * k4v + _E5 * k5v + _E6 * k6v + _E7 * k7v)
        st = atol_t + rtol * max(abs(t), abs(tn))
        sv = atol_t * atol_t + rtol * max(abs(v), abs(vn))
        err = math.sqrt(0.5 * ((et / st) ** 2 + (ev / sv) ** 2))
        if err <= 1.0 and math.isfinite(tn) and math.isfinite(vn):
            x += dx
            t = tn
            v = vn
            k1t = k7t
            k1v = k7v
            n_ok += 1
            if x >= L * (1.0 - 1e-15):
                return t, v, n_ok, n_rej, True
            fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * err ** -0.2))
        else:
            n_rej += 1
            fac = 0.2 if not math.isfinite(err) else max(0.2, 0.9 * err ** -0.2)
        dx *= fac
        if x + dx == x:  # no progress in floating point
            return t, v, n_ok, n_rej, False
    return t, v, n_ok, n_rej, False
