"""Fit of a measured 17-peak chromatogram (Leppert 2020 program D, C9-C25; target < 10 s).

``fit`` as the validation case runs it: peaks found automatically, each isolated peak fitted on
its own window t_R +- 6 sigma with a linear baseline, exact (Thomas) model by quadrature.
Baselines measured in the same run:

* ``window="full"``: one joint least-squares fit of all 17 peaks (53 parameters) over the
  whole cropped trace (about 190,000 points) with one linear baseline (same per-peak Jacobian);
* ``algorithm="marcum"``: the same windowed fit with the model evaluated by the noncentral
  chi-square CDF (scipy.special.chndtr) at every point instead of the quadrature
  (``--no-marcum`` skips it: it takes about 1.5 minutes).

Usage: ``python benchmarks/bench_chromatography_fit.py [--no-marcum] [--quick]`` (``--quick``:
one timing of the windowed fit, no Marcum baseline).
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, is_quick, record  # noqa: E402

from sciflow.chromatography import Column  # noqa: E402
from sciflow.chromatography.fit import fit  # noqa: E402
from sciflow.chromatography.io import (  # noqa: E402
    read_leppert_chromatogram,
    read_leppert_retention,
)

DATA = ROOT / "data" / "leppert2020b"


def load_progD():
    t, y = read_leppert_chromatogram(DATA / "Leppert2020b_measured_Chrom_progD.csv")
    rt = read_leppert_retention(DATA / "Leppert2020b_measured_RT_progD.csv")
    lo = rt["C9"][0] - 0.5 * (rt["C10"][0] - rt["C9"][0])
    hi = rt["C25"][0] + 0.5 * (rt["C26"][0] - rt["C25"][0])
    m = (t >= lo) & (t <= hi)
    column = Column(length=11.18, radius=52e-6, film_thickness=0.104e-6, temperature=423.15,
                    inlet_pressure=411_564.0, outlet_pressure=101_300.0, viscosity=2.4e-5)
    return t[m], y[m], column


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv):
    t, y, column = load_progD()
    kw = dict(injection_time=0.05, baseline="linear", progress=False)
    quick = is_quick(argv)
    fast = [timed(lambda: fit(t, y, column, 17, **kw)) for _ in range(1 if quick else 3)]
    tf, res = min(fast, key=lambda v: v[0])
    print(f"progD, 17 peaks, {t.size} points")
    print(f"  fit (windowed, quadrature): {tf:.2f} s (best of {len(fast)}; target < 10 s), "
          f"median R2 {np.median(res.r2):.4f}, {res.nfev} residual evaluations, "
          f"converged {res.success}")
    tj, joint = timed(lambda: fit(t, y, column, 17, window="full", **kw))
    print(f"  baseline: one joint fit over the full trace: {tj:.2f} s, median R2 "
          f"{np.median(joint.r2):.4f} (one linear baseline for the whole trace), "
          f"ratio x{tj / tf:.1f}")
    record("chrom.fit_speed", tf, baseline=tj,
           note=f"{res.nfev} residual evaluations, converged {res.success}")
    record("chrom.fit_r2", float(np.median(res.r2)), baseline=float(np.median(joint.r2)),
           note=f"17 peaks, min R2 {np.min(res.r2):.4f}")
    if "--no-marcum" not in argv and not quick:
        tm, marc = timed(lambda: fit(t, y, column, 17, algorithm="marcum", **kw))
        dk = np.max(np.abs(marc.k_d / res.k_d - 1.0))
        print(f"  baseline: windowed fit, model by the Marcum/chi-square CDF: {tm:.2f} s, "
              f"ratio x{tm / tf:.0f} (max relative difference of k_d {dk:.1e})")


if __name__ == "__main__":
    main(sys.argv[1:])
