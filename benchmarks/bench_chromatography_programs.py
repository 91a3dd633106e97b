"""Programmed GC: retention/width table and method optimisation (issue 10).

(a) Retention times and peak widths of 17 n-alkanes (C9-C25) for program D of Leppert 2020b
(11.18 m x 0.104 mm x 0.104 um, H2, 411.564 kPa; target < 50 ms) by the compiled
Dormand-Prince integrator of :func:`sciflow.chromatography.programs.retention` at its default
``rtol=1e-7``. Baseline measured in the same run: the same ODEs integrated by
:func:`scipy.integrate.solve_ivp` (RK45 and DOP853, the same rtol and atol) in Python, the
independent reference of ``tests/chromatography/test_programs_reference.py`` (complex-step
dr/dt). Both are compared with a tight reference (DOP853, ``rtol=1e-11``).

(b) :func:`sciflow.chromatography.method.optimize_program` for C10-C18 with pristane and
phytane (K-centric parameters interpolated at their retention indices 1707 and 1811; the close
pairs C17/pristane and C18/phytane), ``R_s >= 1.5``, one ramp, four free parameters (initial
temperature 40-200 C, hold 0-120 s, rate 1-40 C/min, inlet pressure 150-1000 kPa; target
< 60 s). Baseline: a brute-force grid of 6^4 programs over the same box (the fastest feasible
grid point), and the two-ramp search (six free parameters) for scale.

Results are printed and written to ``benchmarks/results/chromatography_programs.json``.
Usage: ``python benchmarks/bench_chromatography_programs.py [--no-grid] [--quick]``
(``--quick``: fewer repeats, no grid and no two-ramp search; nothing written).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, ROOT, best_time, record  # noqa: E402

sys.path.insert(0, str(ROOT))
from sciflow.chromatography.method import optimize_program  # noqa: E402
from sciflow.chromatography.programs import (  # noqa: E402
    ElutionWarning,
    OvenProgram,
    PressureProgram,
    retention,
)
from sciflow.chromatography.thermo import (  # noqa: E402
    KCentric,
    Solute,
    load_retention_database,
)
from tests.chromatography.test_programs_reference import (  # noqa: E402
    leppert_column,
    program,
    reference_retention,
)

DB = ROOT / "data" / "leppert2020b" / "Database_Leppert2020b.csv"
RESULTS = ROOT / "benchmarks" / "results"
P_OUT = 101_300.0


def by_retention_index(db, name, formula, index):
    """K-centric parameters interpolated between the bracketing n-alkanes (an estimate)."""
    n = int(index // 100)
    f = index / 100.0 - n
    a, b = db[f"C{n}"].retention, db[f"C{n + 1}"].retention
    kc = KCentric(a.T_char + f * (b.T_char - a.T_char),
                  a.theta_char + f * (b.theta_char - a.theta_char),
                  a.dCp + f * (b.dCp - a.dCp), a.phi0)
    return Solute(name, kc, formula=formula)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_table():
    db = load_retention_database(DB)
    sol = [db[f"C{n}"] for n in range(9, 26)]
    col = leppert_column(program("D"))
    tR, sig, *_ = reference_retention(col, sol, rtol=1e-11)

    def err(a, b):
        return float(np.max(np.abs(np.asarray(a) / b - 1.0)))

    rows = []
    tk = best_time(lambda: retention(col, sol), repeat=3 if QUICK else 9)
    tab = retention(col, sol)
    rows.append({"method": "numba DOPRI5 (retention)", "wall_s": tk,
                 "steps": int(tab.n_steps.sum()), "err_t_R": err(tab.t_R, tR),
                 "err_sigma": err(tab.sigma, sig)})
    for method in ("RK45", "DOP853"):
        tb = best_time(lambda method=method: reference_retention(col, sol, rtol=1e-7,
                                                                 method=method),
                       repeat=1 if QUICK else 3)
        bR, bs, _, _, nfev = reference_retention(col, sol, rtol=1e-7, method=method)
        rows.append({"method": f"scipy solve_ivp {method}", "wall_s": tb, "nfev": nfev,
                     "err_t_R": err(bR, tR), "err_sigma": err(bs, sig), "ratio": tb / tk})
    print("(a) program D, C9-C25 (17 solutes), rtol 1e-7; errors: max relative against "
          "DOP853 at rtol 1e-11")
    print(f"  {'method':<28s}{'wall':>10s}{'ratio':>8s}{'err t_R':>10s}{'err sigma':>11s}")
    for r in rows:
        ratio = f"x{r['ratio']:.0f}" if "ratio" in r else "1"
        print(f"  {r['method']:<28s}{r['wall_s'] * 1e3:>8.1f}ms{ratio:>8s}"
              f"{r['err_t_R']:>10.1e}{r['err_sigma']:>11.1e}")
    print(f"  target < 50 ms: {'met' if tk < 0.05 else 'NOT met'} ({tk * 1e3:.1f} ms)")
    record("chrom.retention_table", tk * 1e3, baseline=rows[1]["wall_s"] * 1e3,
           note=f"program D, C9-C25, rtol 1e-7; max rel. error t_R {rows[0]['err_t_R']:.0e}")
    return rows


def mixture(db):
    return ([db[f"C{n}"] for n in range(10, 19)]
            + [by_retention_index(db, "pristane", "C19H40", 1707),
               by_retention_index(db, "phytane", "C20H42", 1811)])


BOX = dict(T_start=(40.0, 200.0), hold=(0.0, 120.0), rate=(1.0, 40.0), T_final=300.0,
           inlet_pressure=(150e3, 1000e3))


def grid_search(col, sol, target, n=6):
    best, arg = np.inf, None
    for T0, hold, rate, p in itertools.product(np.linspace(*BOX["T_start"], n),
                                               np.linspace(*BOX["hold"], n),
                                               np.linspace(*BOX["rate"], n),
                                               np.linspace(*BOX["inlet_pressure"], n)):
        c = col.replace(oven=OvenProgram.from_segments(T0, [(rate, BOX["T_final"], 0.0)],
                                                       hold=hold),
                        pressure=PressureProgram.constant(p, P_OUT))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ElutionWarning)
            tab = retention(c, sol)
        if tab.resolution().min() >= target and tab.t_R.max() < best:
            best, arg = float(tab.t_R.max()), {"T_start": T0, "hold": hold, "rate_1": rate,
                                               "inlet_pressure": p}
    return best, arg, n**4


def bench_optimize(grid=True):
    db = load_retention_database(DB)
    sol = mixture(db)
    col = leppert_column(program("D"))
    retention(col, sol)  # compile / load the kernel cache outside the timings
    out = {}
    t1, res = timed(lambda: optimize_program(col, sol, min_resolution=1.5, **BOX))
    out["one_ramp"] = {"wall_s": t1, "run_time_s": res.run_time, "min_resolution":
                       res.min_resolution, "critical_pair": list(res.critical_pair),
                       "nfev": res.nfev, "success": res.success, "parameters": res.parameters}
    if not QUICK:
        t2, res2 = timed(lambda: optimize_program(col, sol, min_resolution=1.5, n_ramps=2,
                                                  **BOX))
        out["two_ramps"] = {"wall_s": t2, "run_time_s": res2.run_time, "min_resolution":
                            res2.min_resolution, "critical_pair": list(res2.critical_pair),
                            "nfev": res2.nfev, "success": res2.success,
                            "parameters": res2.parameters}
    print("\n(b) optimize_program: C10-C18 + pristane + phytane (11 solutes), R_s >= 1.5")
    for key, r in out.items():
        p = r["parameters"]
        print(f"  {key:<10s} {r['wall_s']:6.2f} s, {r['nfev']:5d} predictions, run time "
              f"{r['run_time_s']:.2f} s, min R_s {r['min_resolution']:.4f} "
              f"({'/'.join(r['critical_pair'])}), success {r['success']}; T_start "
              f"{p['T_start']:.1f} C, hold {p['hold']:.1f} s, rate {p['rate_1']:.1f}"
              + (f"/{p['rate_2']:.1f} C/min (T_mid {p['T_mid']:.1f} C)" if "rate_2" in p
                 else " C/min") + f", p_in {p['inlet_pressure'] / 1e3:.0f} kPa")
    t_max = max(r["wall_s"] for r in out.values())
    print(f"  target < 60 s: {'met' if t_max < 60 else 'NOT met'}")
    tg = None
    if grid and not QUICK:
        tg, (best, arg, n) = timed(lambda: grid_search(col, sol, 1.5))
        out["grid"] = {"wall_s": tg, "points": n, "run_time_s": best, "parameters": arg}
        print(f"  baseline grid 6^4: {tg:.2f} s for {n} programs (ratio x{tg / t1:.1f} against "
              f"the one-ramp search), fastest feasible run {best:.2f} s "
              f"(optimum {res.run_time:.2f} s, {100 * (best / res.run_time - 1):.0f} % slower)")
    record("chrom.optimize_program", t1, baseline=tg,
           note=f"one ramp (4 parameters), {res.nfev} predictions, run time "
                f"{res.run_time:.1f} s" + ("" if tg is not None else "; grid baseline not run"))
    if "two_ramps" in out:
        record("chrom.optimize_program", out["two_ramps"]["wall_s"],
               note=f"two ramps (6 parameters), {out['two_ramps']['nfev']} predictions")
    return out


def main(argv):
    result = {"table": bench_table(), "optimize": bench_optimize(grid="--no-grid" not in argv)}
    if QUICK:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "chromatography_programs.json"
    path.write_text(json.dumps(result, indent=2, default=float))
    print(f"\nwritten {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
