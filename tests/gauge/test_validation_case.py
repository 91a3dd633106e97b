"""The gauge validation case runs (quick mode) and meets its targets."""

import importlib.util
from pathlib import Path

CASE = Path(__file__).resolve().parents[2] / "validation" / "gauge" / "validate.py"


def test_gauge_validation_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("_validation_gauge", CASE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(tmp_path, quick=True)
    assert res["passed"], res["markdown"]
    m = res["metrics"]
    assert abs(m["manufactured"]["observed_order"][-1] - 2) < 0.2    # measured 1.97
    assert m["manufactured"]["orthogonality_error"][-1] < 1e-3       # measured 2.6e-4 (128^2)
    assert m["counterexample"]["cov_error"]["gauge"] < 1e-8          # measured 1.8e-11
    assert m["counterexample"]["cov_error"]["non_gauge"] > 0.5       # measured 0.99
    dim = m["dimension"]
    if "skipped" not in dim:
        assert dim["mae"]["ours (denoiser)"] <= 0.25                  # measured 0.00 (8 sets)
        assert all(dim["mae"]["ours (denoiser)"] < v for k, v in dim["mae"].items()
                   if k != "ours (denoiser)")
    for name in res["figures"]:
        assert (tmp_path / name).stat().st_size > 10_000
