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
    # retention times against an independent computation from the published parameters
    # (data file read directly): t_R = t_M (1 + k') + t_inj/2 with k' = (2 delta / R) k_a / k_d
    # and the gas hold-up time t_M = L / (j u_out) of James & Martin (Biochem. J. 50, 679,
    # 1952), j = 3/2 (p^2 - 1) / (p^3 - 1), p = p_in / p_out, u_out = u_in p (u_in p_in = u_out
    # p_out); t_M = L / u_in for constant velocity. Measured relative difference <= 3.3e-16.
    d = json.loads((Path(__file__).resolve().parents[2] / "data"
                    / "btex_cabrera_codony_2024.json").read_text())
    c = d["column"]
    p = c["inlet_pressure_Pa"] / c["outlet_pressure_Pa"]
    j = 1.5 * (p**2 - 1.0) / (p**3 - 1.0)
    t_M = {"compressible": c["length_m"] / (j * c["inlet_velocity_m_s"] * p),
           "constant velocity": c["length_m"] / c["inlet_velocity_m_s"]}
    t_inj = d["injection"]["injection_time_s"]
    for mode, tm in t_M.items():
        an = res["metrics"]["analytes"][mode]
        assert set(an) == {a["name"] for a in d["analytes"]}
        for a in d["analytes"]:
            kp = 2.0 * c["film_thickness_m"] / c["radius_m"] * a["k_a_per_s"] / a["k_d_per_s"]
            assert an[a["name"]]["t_R_s"] == pytest.approx(tm * (1.0 + kp) + t_inj / 2.0,
                                                           rel=2e-15)  # 6x
