"""GBM Fokker–Planck solver: the numba kernel against its NumPy/SciPy reference, and accuracy.

Part 1 times ``_kernels.march`` (numba) and ``fokker_planck._march_reference`` (the same scheme
in NumPy, tridiagonal solves by ``scipy.linalg.solve_banded``) on the same problem: 400
log-uniform cells on log x in [-5, 4], 1000 TR-BDF2 steps to t = 1, with constant and with
time-dependent coefficients (target: kernel >= 20x faster). Part 2 prints L1 errors against the
exact log-normal law and the observed orders in space and time (1-D), and in space (2-D,
correlated noise, against the bivariate log-normal).

    python benchmarks/bench_multiplicative_fp.py [--quick]
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, is_quick, record  # noqa: E402

from sciflow.multiplicative import _kernels  # noqa: E402
from sciflow.multiplicative import fokker_planck as fp  # noqa: E402
from sciflow.multiplicative.gbm import GBM  # noqa: E402

TARGET = 20.0
B0 = 0.15
GBMS = {"constant mu=0.32, sigma=0.8": GBM(0.32, 0.8),
        "mu=0.2cos3t, sigma=0.4+0.6t": GBM(lambda t: 0.2 * math.cos(3.0 * t),
                                           lambda t: 0.4 + 0.6 * t)}


def lognormal(gbm, t):
    m = float(gbm.log_mean(t))
    s2 = B0**2 + float(gbm.log_variance(t))
    return lambda x: np.exp(-((np.log(x) - m) ** 2) / (2 * s2)) / (np.sqrt(2 * np.pi * s2) * x)


def grid(n):
    return np.exp(np.linspace(-5.0, 4.0, n))


def kernel_args(gbm, n, n_steps):
    """The arguments ``solve_fokker_planck`` passes to the kernel, for t = 0 -> 1."""
    x = grid(n)
    w = np.diff(fp._faces(x, "geometric")) / x
    ell = fp._log_spacings(x)
    q0 = x * lognormal(gbm, 0.0)(x)
    dts = np.full(n_steps, 1.0 / n_steps)
    starts = np.arange(n_steps) / n_steps
    times = np.stack((starts, starts + _kernels.GAMMA * dts, starts + dts), -1).reshape(-1)
    coef = fp._coefficients(gbm, times).reshape(n_steps, 3, 2).copy()
    return (w, ell, q0, dts, coef, _kernels.SCHEME_TRBDF2,
            np.array([n_steps], dtype=np.int64))


def orders(errs):
    e = np.asarray(errs)
    return ["-"] + [f"{v:.2f}" for v in np.log2(e[:-1] / e[1:])]


def part1(quick):
    n_steps = 200 if quick else 1000
    print(f"1. numba kernel vs NumPy/SciPy reference (400 cells, {n_steps} TR-BDF2 steps, "
          "t = 0 -> 1)")
    ratios = []
    times = []
    for name, gbm in GBMS.items():
        args = kernel_args(gbm, 400, n_steps)
        out = np.empty((1, 400))
        t_k = best_time(lambda args=args, out=out: _kernels.march(*args, out),
                        repeat=3 if quick else 7)
        t_r = best_time(lambda args=args: fp._march_reference(*args), repeat=1 if quick else 3)
        diff = np.max(np.abs(out - fp._march_reference(*args)[1])) / np.max(np.abs(out))
        ratios.append(t_r / t_k)
        times.append((t_k, t_r, name))
        print(f"   {name:30s} kernel {1e3 * t_k:7.2f} ms, reference {1e3 * t_r:7.1f} ms: "
              f"x{t_r / t_k:.0f} (target >= x{TARGET:.0f}); max rel. difference {diff:.1e}")
    print(f"   => worst ratio x{min(ratios):.0f}: "
          f"{'meets' if min(ratios) >= TARGET else 'MISSES'} the x{TARGET:.0f} target")
    t_k, t_r, name = times[int(np.argmin(ratios))]
    record("mult.fp_kernel_speedup", 1e3 * t_k, baseline=1e3 * t_r,
           note=f"worst case: {name}; {n_steps} steps")


def part2(quick):
    g = GBMS["constant mu=0.32, sigma=0.8"]
    exact1 = lognormal(g, 1.0)
    print("\n2. accuracy, 1-D (log X_0 ~ N(0, 0.15^2), t = 1, L1 against the exact law)")
    x = grid(600)
    start = time.perf_counter()
    r = fp.solve_fokker_planck(g, x, lognormal(g, 0.0)(x), [0.0, 1.0], dt=0.01)
    wall = time.perf_counter() - start
    print(f"   600 cells, dt = 0.01 (TR-BDF2): L1 = {r.l1_error(exact1):.2e} (target < 1e-4), "
          f"mass drift {abs(r.mass[-1] / r.mass[0] - 1):.1e}, {1e3 * wall:.1f} ms")
    r_euler = fp.solve_fokker_planck(g, x, lognormal(g, 0.0)(x), [0.0, 1.0], dt=0.01,
                                     method="euler")
    record("mult.fp_l1", r.l1_error(exact1), baseline=r_euler.l1_error(exact1),
           note=f"TR-BDF2; mass drift {abs(r.mass[-1] / r.mass[0] - 1):.0e}")
    ns = (100, 200, 400) if quick else (100, 200, 400, 800)
    errs = []
    for n in ns:
        x = grid(n)
        errs.append(fp.solve_fokker_planck(g, x, lognormal(g, 0.0)(x), 1.0, dt=1e-3)
                    .l1_error(exact1))
    print("   space (dt = 1e-3):  cells  " + "  ".join(f"{n:>8d}" for n in ns))
    print("                       L1     " + "  ".join(f"{e:8.2e}" for e in errs))
    print("                       order  " + "  ".join(f"{o:>8s}" for o in orders(errs)))
    x = grid(200)
    dts = (0.1, 0.05, 0.025) if quick else (0.1, 0.05, 0.025, 0.0125)
    for name, gbm in GBMS.items():
        p0 = lognormal(gbm, 0.0)(x)
        ref = fp.solve_fokker_planck(gbm, x, p0, 1.0, dt=1e-4)
        for method in ("trbdf2", "euler"):
            errs = []
            for dt in dts:
                r = fp.solve_fokker_planck(gbm, x, p0, 1.0, dt=dt, method=method)
                errs.append(float(np.sum(np.abs(r.p[-1] - ref.p[-1]) * r.widths)))
            print(f"   time, {method:6s} ({name}; 200 cells, vs dt = 1e-4)")
            print("                       dt     " + "  ".join(f"{d:8.4g}" for d in dts))
            print("                       L1     " + "  ".join(f"{e:8.2e}" for e in errs))
            print("                       order  " + "  ".join(f"{o:>8s}" for o in orders(errs)))

    print("\n3. accuracy, 2-D (mu = (0.5, -0.2), rho = -0.52, t = 0.5, dt = 0.025, TR-BDF2)")
    mu = np.array([0.5, -0.2])
    Sigma = np.array([[0.5, 0.2], [-0.4, 0.3]])
    D = Sigma @ Sigma.T
    a0, c0 = np.array([0.1, -0.3]), np.array([[0.04, -0.01], [-0.01, 0.02]])

    def biv(t):
        m, C = a0 + (mu - 0.5 * np.diag(D)) * t, c0 + D * t
        Ci = np.linalg.inv(C)

        def p(x1, x2):
            y1, y2 = np.log(x1) - m[0], np.log(x2) - m[1]
            Q = Ci[0, 0] * y1 * y1 + 2 * Ci[0, 1] * y1 * y2 + Ci[1, 1] * y2 * y2
            return np.exp(-0.5 * Q) / (2 * np.pi * np.sqrt(np.linalg.det(C)) * x1 * x2)

        return p

    ns = (24, 48, 96) if quick else (24, 48, 96, 192)
    errs, walls = [], []
    for n in ns:
        x1 = np.exp(np.linspace(-2.3, 2.7, n))
        x2 = np.exp(np.linspace(-2.6, 2.0, int(0.8 * n)))
        start = time.perf_counter()
        r = fp.solve_fokker_planck_2d(mu, Sigma, x1, x2, biv(0.0)(x1[:, None], x2[None, :]),
                                      [0.0, 0.5], dt=0.025)
        walls.append(time.perf_counter() - start)
        errs.append(r.l1_error(biv(0.5)))
    print("   cells  " + "  ".join(f"{f'{n}x{int(0.8 * n)}':>9s}" for n in ns))
    print("   L1     " + "  ".join(f"{e:9.2e}" for e in errs))
    print("   order  " + "  ".join(f"{o:>9s}" for o in orders(errs)))
    print("   wall s " + "  ".join(f"{w:9.3f}" for w in walls))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and refinements")
    args = ap.parse_args(argv)
    args.quick = args.quick or is_quick([])
    _kernels.march(*kernel_args(GBM(), 10, 2), np.empty((1, 10)))  # numba compile / cache
    part1(args.quick)
    part2(args.quick)


if __name__ == "__main__":
    main()
