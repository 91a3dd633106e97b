"""Readers of the measured Leppert 2020 chromatograms and the published BTEX parameters."""

import math
from pathlib import Path

import numpy as np
import pytest

from sciflow.chromatography import Analyte, Column
from sciflow.chromatography.fit import find_peaks
from sciflow.chromatography.io import (
    load_btex_parameters,
    read_leppert_chromatogram,
    read_leppert_program,
    read_leppert_retention,
)

DATA = Path(__file__).resolve().parents[2] / "data"
LEP = DATA / "leppert2020b"


def test_conventional_chromatogram_in_seconds(tmp_path):
    p = tmp_path / "conv.csv"
    p.write_text("time_s,ordinate_values\n-0.5,0\n0.0,1.5\n0.5,2\n")
    t, y = read_leppert_chromatogram(p)
    np.testing.assert_array_equal(t, [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(y, [0.0, 1.5, 2.0])


def test_thermal_gradient_chromatogram_minutes_to_seconds(tmp_path):
    p = tmp_path / "tg.csv"
    p.write_text("Time,Intensity\n1.0E-3,1962\n0.5,2693\n2,1666\n")
    t, y = read_leppert_chromatogram(p)
    np.testing.assert_allclose(t, [0.06, 30.0, 120.0])
    np.testing.assert_array_equal(y, [1962, 2693, 1666])


def test_unknown_columns_rejected(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected 'time_s,ordinate_values' or"):
        read_leppert_chromatogram(p)
    with pytest.raises(ValueError, match="expected 'Name,RT,width' or"):
        read_leppert_retention(p)


def test_measured_files():
    t, y = read_leppert_chromatogram(LEP / "Leppert2020b_measured_Chrom_progB.csv")
    assert t[0] == pytest.approx(-0.79) and np.all(np.diff(t) > 0)
    assert np.median(np.diff(t)) == pytest.approx(0.01)
    t2, y2 = read_leppert_chromatogram(LEP / "Leppert2020b_measured_Chrom_no_gradient_x3.csv")
    assert t2[-1] == pytest.approx(120.0, abs=0.05)  # 2 minutes
    assert np.median(np.diff(t2)) == pytest.approx(0.02, rel=0.02)
    assert t.size == y.size and t2.size == y2.size


def test_retention_lists_both_formats(tmp_path):
    conv = read_leppert_retention(LEP / "Leppert2020b_measured_RT_progD.csv")
    assert list(conv)[:2] == ["C9", "C10"] and len(conv) == 22
    assert conv["C9"] == pytest.approx((2.517 * 60, 0.452))
    assert read_leppert_retention(LEP / "Leppert2020b_measured_RT_progD.csv",
                                  conventional_width_unit="min")["C9"][1] == pytest.approx(27.12)
    tg = read_leppert_retention(LEP / "Leppert2020b_measured_RT_const_gradient.csv")
    assert math.isnan(tg["C9"][0]) and math.isnan(tg["C9"][1])
    assert tg["C11"] == pytest.approx((9.90826, 0.119696))
    p = tmp_path / "rt.csv"
    p.write_text("Alkane,tR_s,width_ms\nC9,,\nC10,12.5,\n\n")
    d = read_leppert_retention(p)
    assert d["C10"][0] == 12.5 and math.isnan(d["C10"][1]) and math.isnan(d["C9"][0])
    with pytest.raises(ValueError, match="conventional_width_unit must be one of"):
        read_leppert_retention(p, conventional_width_unit="h")


@pytest.mark.parametrize("run,chrom", [("progB", "progB"), ("no_gradient", "no_gradient_x3")])
def test_listed_widths_are_standard_deviations_in_seconds(run, chrom):
    """The units the readers use agree with the peaks in the chromatograms."""
    rt = read_leppert_retention(LEP / f"Leppert2020b_measured_RT_{run}.csv")
    t, y = read_leppert_chromatogram(LEP / f"Leppert2020b_measured_Chrom_{chrom}.csv")
    tr, w = rt["C12"]
    m = (t > tr - 15 * w) & (t < tr + 15 * w)
    t_R, sig, _ = find_peaks(t[m], y[m], 1)
    assert t_R[0] == pytest.approx(tr, abs=0.5 * w)
    assert sig[0] == pytest.approx(w, rel=0.15)


def test_program_file():
    p = read_leppert_program(LEP / "Leppert2020b_prog_settings_no_gradient_x3.csv")
    assert p["time"][0] == 0.0 and p["time"][1] == 10.0
    assert p["inlet_pressure"][0] == pytest.approx((253.28851 + 101.3) * 1e3)
    assert p["outlet_pressure"][0] == pytest.approx(230.17777e3)
    assert p["temperature"][0] == pytest.approx(49.2)


def test_btex_parameters():
    col, an, rest = load_btex_parameters(DATA / "btex_cabrera_codony_2024.json")
    assert isinstance(col, Column) and all(isinstance(a, Analyte) for a in an)
    assert col.length == 20.0 and col.radius == 90e-6 and col.inlet_velocity == 0.41
    assert col.inlet_pressure == 4.01e5 and col.outlet_pressure == 1.013e5
    assert [a.name for a in an][:2] == ["o-xylene", "p+m-xylene"]
    assert an[0].k_a == 1.0168e4 and an[0].k_d == 14.291
    np.testing.assert_allclose(rest["c0"], 2.732e-6 * np.array([1, 2, 1, 1, 1]))
    assert rest["injection_time"] == 4.0 and rest["baseline_au"] == 3935.4
    # the published K is k_a / k_d
    for a in an:
        assert a.K == pytest.approx(rest["K"][a.name], rel=2e-3)
