from pathlib import Path

import pytest

from sciflow.chromatography.io import load_btex_parameters

BTEX_JSON = Path(__file__).resolve().parents[2] / "data" / "btex_cabrera_codony_2024.json"
SHARED_JSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "gc" / \
    "btex_cabrera_codony_2024.json"


def _btex():
    col, an, _ = load_btex_parameters(BTEX_JSON if BTEX_JSON.exists() else SHARED_JSON)
    return col, an


@pytest.fixture(scope="session")
def btex():
    """(Column, [Analyte]) of the published BTEX case (Cabrera-Codony et al. 2024)."""
    return _btex()
