"""Finite-volume solver (method="fd"): 5 BTEX analytes, t = linspace(0, 1000, 20000), D = 0.

Prints wall time and peak-scaled error against the closed form (target: < 1e-3 and < 2 s for the
five analytes at the default resolution), next to a baseline measured in the same run: the same
semi-discretisation (same mesh, 5th-order fluxes, same cells per analyte) integrated by
``scipy.integrate.solve_ivp`` (BDF by default, or Radau) with the constant sparse Jacobian, over
[0, t_inj] and [t_inj, t_end], for several tolerances. The ratio is taken against the cheapest
baseline tolerance whose error is within 1.5x of fd's (comparable accuracy); the table also
shows what the baseline reaches at looser tolerances (accuracy at comparable time).

    python benchmarks/bench_chromatography_fd.py [--quick] [--method BDF|Radau]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, btex_case, is_quick, record  # noqa: E402

from sciflow.chromatography import fd, simulate  # noqa: E402

T_INJ = 4.0
# wall-time target for the five BTEX analytes at the default resolution (the test suite checks
# the accuracy only; the time is reported here, as a fraction of this target)
TARGET_S = 2.0


def peak_errors(components, ref):
    return [float(np.max(np.abs(y - r)) / np.max(np.abs(r))) for y, r in zip(components, ref,
                                                                                strict=True)]


def baseline_mol(col, analyte, t, compressible, rtol, method):
    """Method of lines with solve_ivp on fd's own semi-discretisation (default resolution)."""
    n_cells, _, _ = fd.default_resolution(col, analyte, injection_time=T_INJ,
                                          compressible=compressible)
    op = fd._assemble(col, n_cells, compressible, 5)
    A = sp.csr_matrix(fd._band_to_dense(op.band, op.ml, op.mu))
    al, ka, kd = col.phase_ratio, analyte.k_a, analyte.k_d
    eye = sp.identity(n_cells, format="csr")
    J = sp.bmat([[A - al * ka * eye, al * kd * eye], [ka * eye, -kd * eye]], format="csc")
    sl = slice(op.out_start, op.out_start + op.out_w.size)
    y = np.zeros(t.size)
    state = np.zeros(2 * n_cells)
    nfev = 0
    for ta, tb, cin in ((0.0, T_INJ, 1.0), (T_INJ, float(t[-1]), 0.0)):
        forcing = np.concatenate((op.B * cin, np.zeros(n_cells)))
        m = (t > ta) & (t < tb)
        sol = solve_ivp(lambda _t, s, f=forcing: J @ s + f, (ta, tb), state, method=method,
                        jac=J, t_eval=np.append(t[m], tb), rtol=rtol, atol=1e-3 * rtol)
        nfev += sol.nfev
        out = op.out_w @ sol.y[sl]
        y[m] = out[:-1]
        y[t == tb] = out[-1]
        state = sol.y[:, -1]
    return y, nfev


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="compressible case, two tolerances")
    ap.add_argument("--method", default="BDF", choices=["BDF", "Radau"])
    args = ap.parse_args(argv)
    args.quick = args.quick or is_quick([])
    col, an = btex_case()
    t = np.linspace(0.0, 1000.0, 20_000)
    rtols = (1e-4, 1e-6) if args.quick else (1e-3, 1e-4, 1e-5, 1e-6)
    modes = (True,) if args.quick else (True, False)
    fd.outlet_response_fd(col, an[4], t[:100], injection_time=T_INJ)  # numba compile / cache
    for compressible in modes:
        ref = simulate(col, an, t, injection_time=T_INJ, compressible=compressible).components

        def run_fd(compressible=compressible):
            return simulate(col, an, t, injection_time=T_INJ, compressible=compressible,
                            method="fd")

        t_fd = best_time(run_fd, repeat=2 if args.quick else 5)
        ch = run_fd()
        e_fd = peak_errors(ch.components, ref)
        cells = [i["n_cells"] for i in ch.info["per_analyte"]]
        steps = [i["n_steps"] for i in ch.info["per_analyte"]]
        print(f"compressible={compressible}")
        print(f"  fd (default, tol=1e-4): {t_fd:.3f} s for 5 analytes (target < {TARGET_S:g} s:"
              f" {t_fd / TARGET_S:.2f} of it, {'met' if t_fd < TARGET_S else 'MISSED'}), "
              f"max error {max(e_fd):.2e} (target < 1e-3: "
              f"{'met' if max(e_fd) < 1e-3 else 'MISSED'})")
        print("    per analyte: " + ", ".join(
            f"{a.name} {e:.1e} ({n} cells, {s} steps)"
            for a, e, n, s in zip(an, e_fd, cells, steps, strict=True)))
        rows = []
        for rtol in rtols:
            start = time.perf_counter()
            res = [baseline_mol(col, a, t, compressible, rtol, args.method) for a in an]
            wall = time.perf_counter() - start
            e_b = peak_errors([r[0] for r in res], ref)
            rows.append((rtol, wall, max(e_b), sum(r[1] for r in res)))
            print(f"  baseline solve_ivp({args.method}, sparse J, same grid) rtol={rtol:.0e}: "
                  f"{wall:.2f} s, max error {max(e_b):.2e}, {rows[-1][3]} f-evaluations, "
                  f"x{wall / t_fd:.0f} the fd time")
        ok = [r for r in rows if r[2] <= 1.5 * max(e_fd)]
        cheapest = min(rows, key=lambda r: r[1])
        if ok:
            best = min(ok, key=lambda r: r[1])
            print(f"  => comparable accuracy: baseline rtol={best[0]:.0e} takes {best[1]:.2f} s "
                  f"vs fd {t_fd:.3f} s: fd is x{best[1] / t_fd:.0f} faster")
            record("chrom.fd_speed", t_fd, baseline=best[1],
                   note=f"compressible={compressible}; baseline rtol={best[0]:.0e} "
                        f"(error {best[2]:.1e}, fd {max(e_fd):.1e})")
        else:
            print("  => no baseline tolerance reached fd's accuracy")
            record("chrom.fd_speed", t_fd, note=f"compressible={compressible}; no baseline "
                   f"tolerance reached fd's accuracy {max(e_fd):.1e}")
        print(f"  => fastest baseline ({cheapest[1]:.2f} s, rtol={cheapest[0]:.0e}) reaches "
              f"{cheapest[2]:.1e}; fd reaches {max(e_fd):.1e} in {t_fd:.3f} s")
        record("chrom.fd_accuracy", max(e_fd), baseline=cheapest[2],
               note=f"compressible={compressible}; baseline rtol={cheapest[0]:.0e} "
                    f"in {cheapest[1]:.2f} s vs fd {t_fd:.3f} s")


if __name__ == "__main__":
    main()
