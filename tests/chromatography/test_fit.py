"""Fits of (k_a, k_d) to synthetic chromatograms with known parameters."""

import math

import numpy as np
import pytest

from sciflow.chromatography import Analyte, Column, moments, simulate
from sciflow.chromatography.fit import FitResult, FitWarning, find_peaks, fit, fit_many

T_INJ = 1.0


@pytest.fixture(scope="module")
def column():
    return Column(length=20.0, radius=90e-6, film_thickness=1e-6, temperature=353.15,
                  inlet_pressure=4.01e5, outlet_pressure=1.013e5, viscosity=2.3e-5,
                  inlet_velocity=0.41)


def analyte_at(column, name, t_R, sd):
    """The analyte whose peak has mean t_R and standard deviation sd (moment inversion)."""
    tM = column.holdup_time(True)
    kp = (t_R - T_INJ / 2) / tM - 1.0
    kd = 2.0 * kp * tM / (sd**2 - T_INJ**2 / 12.0)
    return Analyte(name, kp * kd / column.phase_ratio, kd)


@pytest.fixture(scope="module")
def truth(column):
    """Five peaks: two overlapping pairs (resolution ~0.75) and an isolated one."""
    an = [analyte_at(column, "a", 100.0, 2.5), analyte_at(column, "b", 108.0, 2.8),
          analyte_at(column, "c", 150.0, 3.0), analyte_at(column, "d", 158.0, 3.0),
          analyte_at(column, "e", 220.0, 4.0)]
    amp = np.array([1000.0, 2000.0, 1000.0, 1500.0, 1000.0])
    t = np.arange(0.0, 300.0, 0.2)
    clean = simulate(column, an, t, injection_time=T_INJ, c0=amp).c + 5.0
    return an, amp, t, clean


def test_exact_recovery_without_noise(column, truth):
    an, amp, t, clean = truth
    r = fit(t, clean, column, 5, injection_time=T_INJ, progress=False)
    assert isinstance(r, FitResult) and r.success
    assert r.groups == ((0, 1), (2, 3), (4,))  # overlapping pairs fitted jointly
    np.testing.assert_allclose(r.k_a, [a.k_a for a in an], rtol=1e-6)
    np.testing.assert_allclose(r.k_d, [a.k_d for a in an], rtol=1e-6)
    np.testing.assert_allclose(r.amplitude, amp, rtol=1e-6)
    np.testing.assert_allclose(r.baseline[0], [5.0], rtol=1e-6)
    assert r.r2.min() > 1 - 1e-10 and r.r2_total > 1 - 1e-10
    # fitted moments are the exact moments of the model
    for i, a in enumerate(an):
        m = moments(column, a, injection_time=T_INJ)
        assert r.retention_time[i] == pytest.approx(m.retention_time, rel=1e-9)
        assert r.peak_std[i] == pytest.approx(m.std, rel=1e-6)
    np.testing.assert_allclose(r.model_signal, clean, atol=1e-6 * clean.max())


def test_recovery_with_noise_within_standard_errors(column, truth, rng):
    an, amp, t, clean = truth
    noise = 0.01 * clean.max()
    r = fit(t, clean + noise * rng.standard_normal(t.size), column, 5,
            injection_time=T_INJ, progress=False)
    assert r.success
    z = np.concatenate([(r.k_a - [a.k_a for a in an]) / r.k_a_stderr,
                        (r.k_d - [a.k_d for a in an]) / r.k_d_stderr,
                        (r.amplitude - amp) / r.amplitude_stderr])
    assert np.all(np.abs(z) < 4.0), z
    assert np.mean(np.abs(z) < 3.0) >= 0.9
    assert np.all(r.k_a_stderr > 0) and np.all(r.k_d_stderr > 0)
    # the covariance blocks carry the standard errors
    for i in range(5):
        c = r.analyte_covariance(i)
        assert math.sqrt(c[0, 0]) == pytest.approx(r.k_a_stderr[i])
        assert math.sqrt(c[1, 1]) == pytest.approx(r.k_d_stderr[i])
    # peaks of different groups are uncorrelated; k_a and k_d of one peak strongly correlated
    assert np.all(r.covariance[0:6, 6:15] == 0.0)
    c = r.analyte_covariance(4)
    assert c[0, 1] / math.sqrt(c[0, 0] * c[1, 1]) > 0.9


def test_standard_errors_are_calibrated(column, truth):
    """Spread of the estimates over noise realisations vs the reported standard errors."""
    an, amp, t, clean = truth
    noise = 0.01 * clean.max()
    rng = np.random.default_rng(7)
    est, se = [], []
    for _ in range(24):
        r = fit(t, clean + noise * rng.standard_normal(t.size), column, 5,
                injection_time=T_INJ, progress=False)
        est.append(np.concatenate([r.k_a, r.k_d, r.amplitude]))
        se.append(np.concatenate([r.k_a_stderr, r.k_d_stderr, r.amplitude_stderr]))
    ratio = np.std(est, axis=0, ddof=1) / np.mean(se, axis=0)
    # 24 samples: the sample std is within about +-30 % of the truth (2 sigma)
    assert np.all((ratio > 0.55) & (ratio < 1.6)), ratio
    assert 0.75 < np.median(ratio) < 1.3


def test_initial_analytes_and_linear_baseline(column, truth):
    an, amp, t, clean = truth
    drift = 5.0 + 0.01 * t
    sig = clean - 5.0 + drift
    # widths off by up to 30 %, retention off by up to 1 %
    guess = [Analyte(a.name, a.k_a * f * f2, a.k_d * f)
             for a, f, f2 in zip(an, (1.3, 0.7, 1.2, 0.8, 1.3), (1.01, 0.99, 1.0, 1.01, 0.99),
                                 strict=True)]
    r = fit(t, sig, column, guess[::-1], injection_time=T_INJ, baseline="linear",
            progress=False)
    assert r.success
    assert r.names == ("a", "b", "c", "d", "e")  # sorted by retention time
    np.testing.assert_allclose(r.k_a, [a.k_a for a in an], rtol=1e-6)
    np.testing.assert_allclose(r.k_d, [a.k_d for a in an], rtol=1e-6)
    np.testing.assert_allclose(r.baseline_signal[r.fitted_mask()],
                               drift[r.fitted_mask()], rtol=1e-8)
    assert [a.name for a in r.analytes] == list(r.names)
    assert all(isinstance(a, Analyte) for a in r.analytes)


def test_full_window_and_marcum_path_agree(column, truth):
    an, amp, t, clean = truth
    r1 = fit(t, clean, column, 5, injection_time=T_INJ, window="full", progress=False)
    assert r1.groups == ((0, 1, 2, 3, 4),)
    np.testing.assert_allclose(r1.k_d, [a.k_d for a in an], rtol=1e-6)
    sub = t < 130
    r2 = fit(t[sub], clean[sub], column, 2, injection_time=T_INJ, progress=False,
             algorithm="marcum")
    np.testing.assert_allclose(r2.k_a, [a.k_a for a in an[:2]], rtol=1e-6)


def test_no_baseline(column, truth):
    an, amp, t, clean = truth
    r = fit(t, clean - 5.0, column, 5, injection_time=T_INJ, baseline="none", progress=False)
    assert r.baseline[0].size == 0 and np.all(r.baseline_signal == 0.0)
    np.testing.assert_allclose(r.k_d, [a.k_d for a in an], rtol=1e-6)


def test_non_convergence_is_reported(column, truth):
    an, amp, t, clean = truth
    with pytest.warns(FitWarning, match=r"peak\(s\) \['peak1', 'peak2', 'peak3', 'peak4', "
                      r"'peak5'\] did not converge"):
        r = fit(t, clean, column, 5, injection_time=T_INJ, max_nfev=1, progress=False)
    assert not r.success
    assert not r.peak_success.any()
    assert "maximum number of function evaluations" in r.message
    # the best estimate is returned all the same
    assert np.all(np.isfinite(r.k_a)) and np.all(np.isfinite(r.model_signal))
    np.testing.assert_allclose(r.retention_time, [100, 108, 150, 158, 220], atol=1.0)


def test_find_peaks(column, truth):
    an, amp, t, clean = truth
    tR, sig, h = find_peaks(t, clean, 5)
    true_tR = [100.0, 108.0, 150.0, 158.0, 220.0]
    np.testing.assert_allclose(tR, true_tR, atol=1.0)
    np.testing.assert_allclose(sig, [2.5, 2.8, 3.0, 3.0, 4.0], rtol=0.35)
    assert np.all(h > 0)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(t=np.r_[0.0, 2.0, 1.0, 3.0]), ValueError, "t must be strictly increasing"),
    (dict(t=np.r_[0.0, 1.0, np.nan, 3.0]), ValueError, "t must be finite"),
    (dict(signal=np.r_[1.0, np.nan, 0.0, 1.0]), ValueError, "signal must be finite"),
    (dict(signal=np.ones(3)), ValueError, "signal must have the same length as t"),
    (dict(column="col"), TypeError, "column must be a Column"),
    (dict(injection_time=0.0), ValueError, "injection_time must be > 0"),
    (dict(baseline="cubic"), ValueError, "baseline must be one of"),
    (dict(method="spline"), ValueError, "method must be one of"),
    (dict(peaks="two"), TypeError, "peaks must be an int"),
    (dict(peaks=0), ValueError, "peaks must be >= 1"),
    (dict(window=-1.0), ValueError, "window must be > 0"),
    (dict(max_nfev=0), ValueError, "max_nfev must be >= 1"),
])
def test_bad_input(column, kwargs, exc, match):
    args = dict(t=np.arange(4.0), signal=np.zeros(4), column=column, peaks=1,
                injection_time=1.0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fit(args.pop("t"), args.pop("signal"), args.pop("column"), args.pop("peaks"),
            progress=False, **args)


def test_too_many_peaks_and_early_peak(column, truth):
    an, amp, t, clean = truth
    with pytest.raises(ValueError, match="peaks: asked for 500 peaks"):
        fit(t, clean, column, 500, injection_time=T_INJ, progress=False)
    early = np.exp(-0.5 * ((t - 10.0) / 1.0) ** 2)  # before the hold-up time (~34 s)
    with pytest.raises(ValueError, match="elutes before the gas hold-up time"):
        fit(t, early, column, 1, injection_time=T_INJ, progress=False)
    with pytest.raises(ValueError, match="initial peak 'e' .* lies outside the data"):
        fit(t[t < 200], clean[t < 200], column, an, injection_time=T_INJ, progress=False)


def test_plot(column, truth):
    """``plot`` draws the result's own data: the signal, the fit, each component on the
    baseline, and the residuals on the fitted points (NaN elsewhere)."""
    import matplotlib.pyplot as plt

    an, amp, t, clean = truth
    r = fit(t, clean, column, 5, injection_time=T_INJ, progress=False)
    ax = r.plot()
    lo, hi = r.windows[:, 0].min(), r.windows[:, 1].max()  # default xlim: the windows' span
    assert ax.get_xlim() == pytest.approx((lo, hi))
    m = (t >= lo) & (t <= hi)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"data", "fit", *r.names}
    np.testing.assert_array_equal(lines["data"].get_xdata(), t[m])
    np.testing.assert_array_equal(lines["data"].get_ydata(), clean[m])
    np.testing.assert_array_equal(lines["fit"].get_ydata(), r.model_signal[m])
    for i, name in enumerate(r.names):
        np.testing.assert_array_equal(lines[name].get_ydata(),
                                      r.components[i, m] + r.baseline_signal[m])
    (res_line,) = [ln for ln in ax.residual_ax.get_lines() if len(ln.get_xdata()) > 2]
    fm = r.fitted_mask()[m]
    np.testing.assert_array_equal(res_line.get_ydata()[fm], (clean - r.model_signal)[m][fm])
    assert np.all(np.isnan(res_line.get_ydata()[~fm]))
    # into a given Axes, with a zoom and without residuals
    _, ax2 = plt.subplots()
    assert r.plot(ax=ax2, xlim=(90, 120), residuals=False) is ax2
    assert ax2.residual_ax is None and ax2.get_xlim() == (90.0, 120.0)
    fit_line = [ln for ln in ax2.get_lines() if ln.get_label() == "fit"][0]
    z = (t >= 90) & (t <= 120)
    np.testing.assert_array_equal(fit_line.get_ydata(), r.model_signal[z])
    assert r.components.shape == (5, t.size)
    np.testing.assert_allclose(r.model_signal, r.components.sum(0) + r.baseline_signal)
    np.testing.assert_allclose(r.residuals, clean - r.model_signal)


def test_to_dataframe(column, truth):
    pd = pytest.importorskip("pandas")
    an, amp, t, clean = truth
    r = fit(t, clean, column, 5, injection_time=T_INJ, progress=False)
    df = r.to_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df["name"]) == list(r.names)
    for col in ("k_a", "k_a_stderr", "k_d", "k_d_stderr", "amplitude", "amplitude_stderr",
                "retention_time", "retention_time_stderr", "peak_std", "peak_std_stderr",
                "area", "r2"):
        np.testing.assert_array_equal(df[col].to_numpy(), getattr(r, col))
    np.testing.assert_array_equal(df["success"].to_numpy(), r.peak_success)


def test_fit_many_serial_and_processes_agree(column, truth, rng):
    an, amp, t, clean = truth
    sub = t < 130  # the first pair only, to keep it fast
    chroms = [(t[sub], clean[sub] + 0.01 * clean.max() * rng.standard_normal(sub.sum()))
              for _ in range(3)]
    serial = fit_many(chroms, column, 2, injection_time=T_INJ, progress=False)
    pooled = fit_many(chroms, column, 2, injection_time=T_INJ, workers=2, progress=False)
    assert len(serial) == len(pooled) == 3
    for a, b in zip(serial, pooled, strict=True):
        np.testing.assert_allclose(a.k_a, b.k_a, rtol=1e-12)
        np.testing.assert_allclose(a.k_d_stderr, b.k_d_stderr, rtol=1e-12)
    # the same fit through the within-chromatogram workers
    one = fit(*chroms[0], column, 2, injection_time=T_INJ, workers=map, progress=False)
    np.testing.assert_allclose(one.k_a, serial[0].k_a, rtol=1e-12)
    with pytest.raises(TypeError, match=r"chromatograms\[0\] must be a \(t, signal\) pair"):
        fit_many([np.zeros(3)], column, 1, injection_time=T_INJ, progress=False)


def test_fit_many_on_dask(column, truth):
    distributed = pytest.importorskip("distributed")
    an, amp, t, clean = truth
    sub = t < 130
    chroms = [(t[sub], clean[sub])] * 2
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        res = fit_many(chroms, column, 2, injection_time=T_INJ, workers=client,
                       progress=False)
    np.testing.assert_allclose(res[1].k_a, [a.k_a for a in an[:2]], rtol=1e-6)


def test_package_name_fit_is_the_function(column, truth):
    """``sciflow.chromatography.fit`` is the function, also after the submodule is imported
    and in a fresh interpreter (no recursion through the package's attribute lookup)."""
    import subprocess
    import sys

    import sciflow.chromatography as chrom
    import sciflow.chromatography.fit  # noqa: F401

    an, amp, t, clean = truth
    sub = t < 130
    r = chrom.fit(t[sub], clean[sub], column, 2, injection_time=T_INJ, progress=False)
    assert isinstance(r, FitResult)
    np.testing.assert_allclose(r.k_a, [a.k_a for a in an[:2]], rtol=1e-6)
    code = ("from sciflow.chromatography import fit, FitResult, fit_many; "
            "from sciflow.chromatography import *; print(callable(fit))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
