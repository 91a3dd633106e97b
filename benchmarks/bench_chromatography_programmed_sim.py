"""Full programmed chromatogram of the 17 database alkanes C9-C25 (program A of Leppert 2020b).

Column 11.18 m x 0.104 mm, film 0.104 um, H2 at 411,564 / 101,300 Pa, 40 degC (1 min) then
10 degC/min to 300 degC; coefficients from ``ProgrammedColumn.coefficients`` (K-centric retention,
Fuller diffusion, Golay dispersion, k_d = 3 D_S / d_f^2). ``simulate_programmed`` by finite volumes
at tol 1e-2 and 1e-3, on one thread (the baseline, measured in the same run) and on two threads
(the kernels release the GIL). Also prints the agreement of the outlet moments with the
retention/width predictor and the mass balance. Issue 10 target: 17 solutes in under 2 s.

    python benchmarks/bench_chromatography_programmed_sim.py [--quick]

(``--quick``: tol 1e-2 only.)
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, ROOT, record  # noqa: E402

from sciflow.chromatography.programs import (  # noqa: E402
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    load_retention_database,
    retention,
    simulate_programmed,
)


def main():
    db = load_retention_database(ROOT / "data" / "leppert2020b" / "Database_Leppert2020b.csv")
    oven = OvenProgram.from_segments(40, [(10, 300, 180)], hold=60)
    col = ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "H2", oven,
                           PressureProgram.constant(411564.0, 101300.0))
    sol = [db[f"C{i}"] for i in range(9, 26)]
    tab = retention(col, sol)
    t = np.arange(0.0, 1200.0, 0.01)
    t_inj = 0.05
    simulate_programmed(col, sol[:1], t, injection=t_inj)  # compile
    print(f"{'tol':>6} {'threads':>7} {'wall (s)':>9} {'ratio':>6} {'max dt_R/t_R':>13} "
          f"{'max dsigma':>11} {'mass bal.':>9} {'< 2 s':>6}")
    for tol in (1e-2,) if QUICK else (1e-2, 1e-3):
        base = None
        for workers in (1, 2):
            t0 = time.perf_counter()
            _, infos = simulate_programmed(col, sol, t, injection=t_inj, tol=tol,
                                           workers=workers)
            wall = time.perf_counter() - t0
            base = wall if base is None else base
            dm = max(abs(info["moments"]["mean"] - tab.t_R[i] - t_inj / 2) / tab.t_R[i]
                     for i, info in enumerate(infos))
            ds = max(abs(info["moments"]["std"] / np.hypot(tab.sigma[i], t_inj / 12**0.5) - 1)
                     for i, info in enumerate(infos))
            mb = max(info["mass_balance_error"] for info in infos)
            print(f"{tol:6.0e} {workers:7d} {wall:9.2f} {base / wall:6.2f} {dm:13.1e} "
                  f"{ds:11.1e} {mb:9.1e} {'yes' if wall < 2 else 'no':>6}")
            record("chrom.programmed_fd", wall, baseline=None if workers == 1 else base,
                   note=f"database C9-C25, program A, tol={tol:g}, {workers} thread(s)"
                        + ("" if workers == 1 else "; baseline: the same on one thread"))


if __name__ == "__main__":
    main()

# Measured (2-core Xeon, 2026-11-30):
#    tol threads  wall (s)  ratio  max dt_R/t_R  max dsigma mass bal.  < 2 s
#  1e-02       1      2.09   1.00       8.8e-05     7.8e-04   5.6e-13     no
#  1e-02       2      1.27   1.65       8.8e-05     7.8e-04   5.6e-13    yes
#  1e-03       1      3.31   1.00       8.8e-05     7.9e-04   1.5e-13     no
#  1e-03       2      1.69   1.96       8.8e-05     7.9e-04   1.5e-13    yes
