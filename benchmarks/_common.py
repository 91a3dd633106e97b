"""Shared helpers of the benchmark scripts: timing and the BTEX case."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_time(fn, repeat=7, number=1):
    """Best wall time (s) of ``number`` calls over ``repeat`` repeats, after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def btex_case():
    """(Column, [Analyte]) of the published BTEX case (Cabrera-Codony et al. 2024)."""
    from sciflow.chromatography.io import load_btex_parameters

    col, an, _ = load_btex_parameters(ROOT / "data" / "btex_cabrera_codony_2024.json")
    return col, an
