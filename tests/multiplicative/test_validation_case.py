"""The multiplicative validation case runs (quick mode) and meets its targets."""

import importlib.util
from pathlib import Path

CASE = Path(__file__).resolve().parents[2] / "validation" / "multiplicative" / "validate.py"


def test_multiplicative_validation_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("_validation_multiplicative", CASE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(tmp_path, quick=True)
    assert res["passed"], res["markdown"]
    m = res["metrics"]
    assert m["fokker_planck_1d"]["l1_error_t1"] < 1e-4      # measured 3.7e-5
    assert m["fokker_planck_1d"]["mass_drift"] < 1e-12      # measured 1.6e-14
    assert abs(m["fokker_planck_2d"]["observed_order"][-1] - 2) < 0.3  # measured 2.01
    assert m["samplers"]["ks"]["dale_langevin/100"]["ks"] < 0.02       # measured 0.013
    assert m["samplers"]["ode_nfe10_mean_distance"] < 1e-2             # measured 1.4e-3
    for name in res["figures"]:
        assert (tmp_path / name).stat().st_size > 10_000
