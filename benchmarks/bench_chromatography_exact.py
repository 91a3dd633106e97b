"""Closed-form chromatogram: 5 BTEX analytes on 20,000 time points (target < 20 ms).

Baseline measured in the same run: the same chromatogram with the noncentral chi-square CDF
(scipy.special.chndtr, Boost) evaluated at every point (``algorithm="marcum"``).

    python benchmarks/bench_chromatography_exact.py [--quick]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, best_time, btex_case, record  # noqa: E402

from sciflow.chromatography import simulate  # noqa: E402


def main():
    col, an = btex_case()
    t = np.linspace(0.0, 1000.0, 20_000)
    for compressible in (True, False):
        def fast(compressible=compressible):
            return simulate(col, an, t, injection_time=4.0, compressible=compressible)

        def base(compressible=compressible):
            return simulate(col, an, t, injection_time=4.0, compressible=compressible,
                            algorithm="marcum")

        tf = best_time(fast, repeat=3 if QUICK else 9)
        tb = best_time(base, repeat=1 if QUICK else 3)
        err = np.max(np.abs(fast().c - base().c)) / np.max(base().c)
        # non-uniform grid (no reuse of H between the two pulse edges)
        tn = np.sort(np.random.default_rng(0).uniform(0, 1000, 20_000))
        tnu = best_time(lambda tn=tn, compressible=compressible: simulate(
            col, an, tn, injection_time=4.0, compressible=compressible),
            repeat=2 if QUICK else 5)
        print(f"compressible={compressible}: exact {tf * 1e3:.2f} ms (target < 20 ms), "
              f"non-uniform grid {tnu * 1e3:.2f} ms, baseline marcum {tb * 1e3:.1f} ms, "
              f"speed-up x{tb / tf:.0f}, max peak-scaled difference {err:.1e}")
        record("chrom.exact_speed", tf * 1e3, baseline=tb * 1e3,
               note=f"compressible={compressible}; non-uniform grid {tnu * 1e3:.1f} ms; "
                    f"max difference {err:.0e}")


if __name__ == "__main__":
    main()
