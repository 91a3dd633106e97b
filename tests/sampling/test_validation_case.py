"""The sampling-frontier validation case runs (quick mode) and meets its targets."""

import importlib.util
from pathlib import Path

CASE = Path(__file__).resolve().parents[2] / "validation" / "sampling_frontier" / "validate.py"


def test_sampling_frontier_validation_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("_validation_sampling_frontier", CASE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(tmp_path, quick=True)
    assert res["passed"], res["markdown"]
    m = res["metrics"]
    for v in m["inversion"]["exact_nfe20"].values():
        assert v["mean_cycle_error"] < 1e-4                     # target; measured ~1e-12
    assert m["terminal_snr"]["reduction"]["oms"] > 10           # measured 47
    assert abs(m["terminal_snr"]["bias_norm_plain"] - 0.0254) < 5e-4
    assert m["posterior"]["smc_tds"]["sliced_w1"] < 0.05        # measured 0.031
    assert m["skipping"]["skip_nfe"] < 50
    for name in res["figures"]:
        assert (tmp_path / name).stat().st_size > 5_000
