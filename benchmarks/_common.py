"""Shared helpers of the benchmark scripts: timing and the BTEX case."""

from __future__ import annotations

import json
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
    from sciflow.chromatography import Analyte, Column

    path = ROOT / "data" / "btex_cabrera_codony_2024.json"
    if not path.exists():
        path = ROOT.parent / "shared" / "data" / "gc" / "btex_cabrera_codony_2024.json"
    d = json.loads(path.read_text())
    c = d["column"]
    col = Column(c["length_m"], c["radius_m"], c["film_thickness_m"], c["temperature_K"],
                 c["inlet_pressure_Pa"], c["outlet_pressure_Pa"], c["viscosity_Pa_s"],
                 inlet_velocity=c["inlet_velocity_m_s"])
    an = [Analyte(a["name"], a["k_a_per_s"], a["k_d_per_s"]) for a in d["analytes"]]
    return col, an
