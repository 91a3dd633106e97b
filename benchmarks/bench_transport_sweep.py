"""S_N transport sweep throughput and iteration-scheme comparison.

1. Throughput of the numba sweep ``sciflow.transport._kernels.sweep`` (one group, isotropic,
   S16, 20,000 cells, both directions) in cell-angle updates per second on one core
   (target >= 1.5e8/s), next to a plain-NumPy reference sweep measured in the same run
   (vectorised over the directions, Python loop over the cells) that is checked to give the
   same fluxes.
2. Source iteration vs DSA vs GMRES vs GMRES+DSA on a homogeneous slab, c = 0.999, S16,
   1-mfp cells, tol 1e-10: iterations, sweeps, wall time.
3. DSA iterations and measured spectral radius versus cell thickness, 0.01-100 mfp.

    python benchmarks/bench_transport_sweep.py [--quick]

(``--quick``: 5,000-cell sweep, fewer repeats; the slab problems are the same.)
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core (the sweep is serial anyway)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, best_time, record  # noqa: E402

from sciflow.transport import Material, Region, Slab, gauss_legendre, solve  # noqa: E402
from sciflow.transport._kernels import sweep, sweep_coefficients  # noqa: E402

TARGET = 1.5e8


def sweep_numpy(a, b, cw, S, Pl, w, psi_left_in, psi_right_in):
    """Plain-NumPy sweep with the same conventions as the kernel (vacuum/incident boundaries):
    directions vectorised, cells looped in Python."""
    N, n = a.shape
    L1 = S.shape[0]
    ell = (2 * np.arange(L1) + 1)[:, None] * 0.5
    pos = np.arange(n, 2 * n)            # mu > 0, by increasing |mu|
    neg = np.arange(n - 1, -1, -1)       # their mirrors
    q_pos = S.T @ (ell * Pl[:, pos])     # (N, n) emission per direction
    q_neg = S.T @ (ell * Pl[:, neg])
    avg_pos = np.empty((N, n))
    avg_neg = np.empty((N, n))
    psi = np.array(psi_left_in, dtype=float)
    for i in range(N):
        out = a[i] * psi + b[i] * q_pos[i]
        avg_pos[i] = cw[i] * out + (1.0 - cw[i]) * psi
        psi = out
    right_out = psi
    psi = np.array(psi_right_in, dtype=float)
    for i in range(N - 1, -1, -1):
        out = a[i] * psi + b[i] * q_neg[i]
        avg_neg[i] = cw[i] * out + (1.0 - cw[i]) * psi
        psi = out
    left_out = psi
    phi = (avg_pos @ (w[pos] * Pl[:, pos]).T + avg_neg @ (w[neg] * Pl[:, neg]).T).T
    return phi, left_out, right_out


def throughput(order=16, cells=20_000):
    quad = gauss_legendre(order)
    n = order // 2
    mu_pos = quad.mu[n:]
    h = np.full(cells, 0.05)
    st = np.ones(cells)
    a, b, cw = sweep_coefficients(st, h, mu_pos, "diamond")
    rng = np.random.default_rng(0)
    S = rng.uniform(0.5, 1.5, (1, cells))
    Pl = quad.legendre(0)
    lin, rin = np.ones(n), np.zeros(n)

    def fast():
        return sweep(a, b, cw, S, Pl, quad.w, lin, rin, False, False)

    def ref():
        return sweep_numpy(a, b, cw, S, Pl, quad.w, lin, rin)

    phi_f, lo_f, ro_f = fast()[:3]
    phi_r, lo_r, ro_r = ref()
    diff = max(np.max(np.abs(phi_f - phi_r)) / np.max(np.abs(phi_r)),
               np.max(np.abs(lo_f - lo_r)), np.max(np.abs(ro_f - ro_r)))
    t_fast = best_time(fast, repeat=5 if QUICK else 15)
    t_ref = best_time(ref, repeat=1 if QUICK else 3)
    updates = cells * order
    r_fast, r_ref = updates / t_fast, updates / t_ref
    print(f"sweep S{order}, {cells:,} cells, one group, isotropic ({updates:,} cell-angle updates "
          "per sweep, both directions)")
    print(f"  numba kernel : {t_fast * 1e3:8.3f} ms  {r_fast:.3e} updates/s  "
          f"(target >= {TARGET:.1e}: {'MET' if r_fast >= TARGET else 'NOT MET'})")
    print(f"  NumPy ref.   : {t_ref * 1e3:8.3f} ms  {r_ref:.3e} updates/s")
    print(f"  ratio numba/NumPy: x{r_fast / r_ref:.0f}; max relative difference {diff:.1e}")
    record("transport.sweep_throughput", r_fast, baseline=r_ref,
           note=f"S{order}, {cells:,} cells; max relative difference {diff:.0e}")
    return r_fast


def accelerations(c=0.999, order=16, cells=200):
    m = Material(1.0, c)
    slab = Slab([Region(m, float(cells), source=1.0, cells=cells)])
    print(f"\nhomogeneous slab, c = {c}, S{order}, {cells} cells of 1 mfp, vacuum both sides, "
          "uniform source, tol 1e-10")
    print(f"  {'scheme':10s} {'iterations':>10s} {'sweeps':>7s} {'wall (s)':>9s} {'rho':>8s}"
          f" {'phi(centre)':>12s}")
    ref = None
    iterations = {}
    for accel in ("none", "dsa", "gmres", "gmres+dsa"):
        solve(Slab([Region(m, 4.0, source=1.0, cells=4)]), order=order, accel=accel)  # warm
        t0 = time.perf_counter()
        sol = solve(slab, order=order, accel=accel, tol=1e-10, max_iter=200_000)
        t = time.perf_counter() - t0
        mid = sol.phi[0, cells // 2]
        ref = mid if ref is None else ref
        print(f"  {accel:10s} {sol.iterations:10d} {sol.sweeps:7d} {t:9.3f} "
              f"{sol.spectral_radius:8.4f} {mid:12.8f}")
        iterations[accel] = (sol.iterations, sol.sweeps)
    si = iterations["none"][0]
    for key, accel in (("transport.dsa_iterations", "dsa"),
                       ("transport.gmres_dsa_iterations", "gmres+dsa")):
        record(key, iterations[accel][0], baseline=si,
               note=f"{cells} cells; {iterations[accel][1]} sweeps; GMRES alone "
                    f"{iterations['gmres'][0]}")


def dsa_vs_thickness(c=0.999, order=16, cells=100):
    print(f"\nDSA vs cell thickness: c = {c}, S{order}, {cells} cells, uniform source, tol 1e-10")
    print(f"  {'h (mfp)':>8s} | {'vacuum/vacuum':>20s} | {'reflective/reflective':>22s}")
    its = {"vacuum": [], "reflective": []}
    for h in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0):
        cols = []
        for left, right in (("vacuum", "vacuum"), ("reflective", "reflective")):
            slab = Slab([Region(Material(1.0, c), cells * h, source=1.0, cells=cells)],
                        left=left, right=right)
            sol = solve(slab, order=order, accel="dsa", tol=1e-10, max_iter=20_000)
            cols.append(f"{sol.iterations:4d} it, rho {sol.spectral_radius:.3f}")
            its[left].append(sol.iterations)
        print(f"  {h:8.2f} | {cols[0]:>20s} | {cols[1]:>22s}")
    print("  (Fourier bound of consistent DSA with diamond difference, infinite medium: 0.2247)")
    v = its["vacuum"]
    record("transport.dsa_thickness", max(v) - min(v),
           note=f"vacuum: {min(v)}-{max(v)} it; reflective: {min(its['reflective'])}-"
                f"{max(its['reflective'])} it")


def main():
    throughput(cells=5_000 if QUICK else 20_000)
    accelerations()
    dsa_vs_thickness()


if __name__ == "__main__":
    main()
