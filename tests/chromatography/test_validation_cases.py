"""The chromatography validation cases run (quick mode) and return a well-formed result."""

import importlib.util
import json
from pathlib import Path

import pytest

VALIDATION = Path(__file__).resolve().parents[2] / "validation"


def _load(case):
    path = VALIDATION / case / "validate.py"
    spec = importlib.util.spec_from_file_location(f"_test_validation_{case}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _check_result(res, outdir):
    assert {"title", "markdown", "metrics", "figures", "passed"} <= set(res)
    assert isinstance(res["title"], str) and res["title"]
    assert isinstance(res["markdown"], str) and len(res["markdown"]) > 200
    assert isinstance(res["passed"], bool)
    json.dumps(res["metrics"])  # JSON-able
    assert res["figures"]
    for name in res["figures"]:
        assert (outdir / name).is_file() and (outdir / name).stat().st_size > 1000
        assert name.endswith(".png")


def test_leppert2020b_quick(tmp_path):
    res = _load("leppert2020b").run(tmp_path, quick=True)
    _check_result(res, tmp_path)
    assert res["passed"], res["markdown"]
    run = res["metrics"]["runs"]["progB"]
    assert run["n_peaks"] == 4 and run["success"]
    assert run["median_r2"] > 0.99
    assert run["max_abs_dtR_s"] < 0.1
    assert "| C9 |" in res["markdown"]


def test_btex_quick(tmp_path):
    res = _load("btex_cabrera_codony_2024").run(tmp_path, quick=True)
    _check_result(res, tmp_path)
    checks = res["metrics"]["checks"]
    # the closed-form checks are this case's own; laplace/fd are other modules' (reported)
    own = {k: v for k, v in checks.items() if k.startswith(("exact", "published", "elution"))}
    assert len(own) == 6 and all(own.values()), own
    an = res["metrics"]["analytes"]["compressible"]
    assert an["benzene"]["t_R_s"] < an["o-xylene"]["t_R_s"]
    assert an["o-xylene"]["t_R_s"] == pytest.approx(576.6, abs=0.1)
