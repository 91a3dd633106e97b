import json
from pathlib import Path

import pytest

from sciflow.chromatography import Analyte, Column

BTEX_JSON = Path(__file__).resolve().parents[2] / "data" / "btex_cabrera_codony_2024.json"
SHARED_JSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "gc" / \
    "btex_cabrera_codony_2024.json"


def _btex():
    path = BTEX_JSON if BTEX_JSON.exists() else SHARED_JSON
    d = json.loads(path.read_text())
    c = d["column"]
    col = Column(c["length_m"], c["radius_m"], c["film_thickness_m"], c["temperature_K"],
                 c["inlet_pressure_Pa"], c["outlet_pressure_Pa"], c["viscosity_Pa_s"],
                 inlet_velocity=c["inlet_velocity_m_s"])
    an = [Analyte(a["name"], a["k_a_per_s"], a["k_d_per_s"]) for a in d["analytes"]]
    return col, an


@pytest.fixture(scope="session")
def btex():
    """(Column, [Analyte]) of the published BTEX case (Cabrera-Codony et al. 2024)."""
    return _btex()
