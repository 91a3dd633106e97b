"""Retention-parameter estimation (``sciflow.chromatography.estimation``) on synthetic data.

Synthetic retention times come from :func:`~sciflow.chromatography.programs.retention` itself
(the Leppert 2020 conventional column, H2, programs A, B and D) with the database parameters of
three n-alkanes as the truth; the fit starts elsewhere and must come back.

Tolerances (measured with this file, sciflow 0.1.0):

* Noise-free data: the only errors are the integration error of the predictor (``rtol = 1e-9``,
  t_R to ~1e-6 s) and the solver's stopping rule. The standard errors at the lists' resolution
  (t_R_sd = 0.017 s) are 0.08-0.15 K for T_char and 0.05-0.10 K for theta_char with two runs
  (A, B; dCp held) and 0.4-1.0 K, 0.4-1.2 K and 5-19 J/mol/K with three (A, B, D), so a t_R error
  of 1e-6 s maps to ~1e-5 K. Measured recovery errors are below 4e-7 K and 6e-6 J/mol/K; the
  tests allow 1e-4 K and 1e-3 J/mol/K (an order of magnitude above the mapped integration error).
* Noisy data (sd 0.017 s, seeded): every estimate within 4 standard errors of the truth.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from sciflow.chromatography.estimation import (
    EstimationWarning,
    RetentionFit,
    RetentionRun,
    fit_retention_parameters,
)
from sciflow.chromatography.programs import (
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    retention,
)
from sciflow.chromatography.thermo import KCentric, load_retention_database

DB = load_retention_database(Path(__file__).resolve().parents[2] / "data" / "leppert2020b"
                             / "Database_Leppert2020b.csv")
SEGMENTS = {"A": [(10, 300, 180)], "B": [(15, 300, 180)], "D": [(5, 180, 60), (20, 300, 60)]}
COLUMNS = {k: ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "H2",
                               OvenProgram.from_segments(40, s, hold=60),
                               PressureProgram.constant(411_564.0, 101_300.0))
           for k, s in SEGMENTS.items()}
NAMES = ["C10", "C16", "C22"]
TRUTH = [DB[n] for n in NAMES]
SD = 0.06 / np.sqrt(12.0)  # the 0.001-min resolution of the conventional retention lists


def truth_array(solutes=TRUTH):
    return np.array([[s.retention.T_char, s.retention.theta_char, s.retention.dCp]
                     for s in solutes])


def synthetic_runs(programs, noise=None, rng=None):
    runs = []
    for p in programs:
        t = retention(COLUMNS[p], TRUTH, rtol=1e-10).t_R
        if noise:
            t = t + rng.normal(0.0, noise, t.size)
        runs.append(RetentionRun(COLUMNS[p], dict(zip(NAMES, t, strict=True)), name=p,
                                 t_R_sd=SD))
    return runs


def perturbed(dT=5.0, f_theta=1.1, d_cp=-20.0):
    return [s.replace(retention=KCentric(s.retention.T_char + dT, s.retention.theta_char
                                         * f_theta, s.retention.dCp + d_cp, s.retention.phi0))
            for s in TRUTH]


def test_two_parameters_from_programs_A_and_B():
    """Two programs determine (T_char, theta_char) with dCp held at its true value."""
    start = [s.replace(retention=KCentric(s.retention.T_char + 5.0,
                                          s.retention.theta_char * 1.1, s.retention.dCp,
                                          s.retention.phi0)) for s in TRUTH]
    fit = fit_retention_parameters(synthetic_runs("AB"), start,
                                   parameters=("T_char", "theta_char"))
    assert fit.all_converged and fit.parameters == ("T_char", "theta_char")
    err = fit.estimates - truth_array()
    assert np.all(np.abs(err[:, :2]) < 1e-4), err
    assert np.all(err[:, 2] == 0.0)  # held
    assert np.all(np.isnan(fit.stderr[:, 2]))
    # conditioning: the scaled Jacobian of two runs is well conditioned (measured 59-97)
    assert np.all(fit.condition_number < 1e3)
    # standard errors at the lists' resolution (measured 0.08-0.15 K, 0.05-0.10 K)
    assert np.all((fit.stderr[:, 0] > 0.02) & (fit.stderr[:, 0] < 0.5))
    assert np.all((fit.stderr[:, 1] > 0.01) & (fit.stderr[:, 1] < 0.3))
    assert np.nanmax(np.abs(fit.residuals)) < 1e-5
    assert set(fit.solutes) == set(NAMES)
    new = fit.solutes["C16"].retention
    assert new.phi0 == DB["C16"].retention.phi0 and new.dCp == DB["C16"].retention.dCp


@pytest.mark.slow
def test_three_parameters_from_programs_A_B_and_D():
    """All three parameters need three programs (measured condition numbers 1.1e3-2e3)."""
    fit = fit_retention_parameters(synthetic_runs("ABD"), perturbed())
    assert fit.all_converged
    err = fit.estimates - truth_array()
    assert np.all(np.abs(err[:, :2]) < 1e-4), err
    assert np.all(np.abs(err[:, 2]) < 1e-3), err
    assert np.all(fit.condition_number < 1e4)
    # dCp is the weakest parameter: its relative standard error is the largest
    rel = fit.stderr / np.abs(fit.estimates)
    assert np.all(rel[:, 2] > rel[:, 0])


def test_three_parameters_from_two_programs_need_a_prior():
    runs = synthetic_runs("AB")
    with pytest.raises(ValueError, match=r"'C10' has 2 measured retention time\(s\) for 3"):
        fit_retention_parameters(runs, TRUTH)
    # with a prior on dCp the problem is closed: two exact data and a prior at the truth
    # leave dCp at the truth and recover the other two
    fit = fit_retention_parameters(runs, TRUTH[:1], prior_sd={"dCp": 30.0})
    assert fit.all_converged
    assert np.all(np.abs(fit.estimates - truth_array(TRUTH[:1])) < 1e-4)


def test_noisy_data_within_four_standard_errors(rng):
    runs = synthetic_runs("AB", noise=SD, rng=rng)
    fit = fit_retention_parameters(runs, TRUTH, parameters=("T_char", "theta_char"))
    z = (fit.estimates[:, :2] - truth_array()[:, :2]) / fit.stderr[:, :2]
    assert np.all(np.abs(z) < 4.0), z


def test_crude_start_from_the_elution_temperature():
    """``initial="crude"`` ignores the given parameters (dCp = 0, theta_char from T_char)."""
    runs = synthetic_runs("AB")
    wrong = [TRUTH[1].replace(retention=KCentric(300.0, 10.0, 500.0, 1e-3))]
    fit = fit_retention_parameters(runs, wrong, parameters=("T_char", "theta_char"),
                                   initial="crude")
    start = fit.initial["C16"].retention
    assert start.dCp == 0.0 and abs(start.T_char - TRUTH[1].retention.T_char) < 30.0
    # with dCp held at 0 instead of the true 142 J/mol/K the two-parameter fit still
    # reproduces both runs exactly (two data, two parameters) ...
    assert fit.all_converged and np.nanmax(np.abs(fit.residuals)) < 1e-4
    # ... but absorbs the wrong dCp into T_char and theta_char (a few K)
    assert 0.1 < abs(fit.estimates[0, 0] - TRUTH[1].retention.T_char) < 20.0


def test_equal_weights_scale_the_covariance_by_the_residuals(rng):
    runs = [RetentionRun(r.column, r.t_R, name=r.name) for r in synthetic_runs(
        "ABD", noise=SD, rng=rng)]
    fit = fit_retention_parameters(runs, TRUTH[:1], parameters=("T_char", "theta_char"))
    assert not fit.extra["absolute_sigma"]
    assert np.all(np.isfinite(fit.stderr[0, :2]))  # 3 data, 2 parameters: 1 dof
    exact = fit_retention_parameters(runs[:2], TRUTH[:1], parameters=("T_char", "theta_char"))
    assert np.all(np.isnan(exact.stderr))  # n = p and no t_R_sd: nothing to scale by


def test_non_convergence_is_flagged_not_hidden():
    with pytest.warns(EstimationWarning, match=r"did not converge"):
        fit = fit_retention_parameters(synthetic_runs("AB"), perturbed(dT=20.0)[:1],
                                       parameters=("T_char", "theta_char"), max_nfev=1)
    assert not fit.all_converged and not fit.converged[0]
    assert fit.messages[0]


def test_missing_and_nan_retention_times_are_skipped():
    runs = synthetic_runs("ABD")
    runs[2] = RetentionRun(runs[2].column, {**runs[2].t_R, "C22": float("nan")}, name="D",
                           t_R_sd=SD)
    fit = fit_retention_parameters(runs, TRUTH, parameters=("T_char", "theta_char"))
    assert list(fit.n_data) == [3, 3, 2]
    assert np.isnan(fit.measured[2, 2]) and np.isnan(fit.predicted[2, 2])
    assert fit.all_converged


def test_result_views():
    import matplotlib.pyplot as plt

    fit = fit_retention_parameters(synthetic_runs("AB"), TRUTH[:2],
                                   parameters=("T_char", "theta_char"))
    assert isinstance(fit, RetentionFit)
    assert fit.residuals.shape == (2, 2) and fit.rms_residual().shape == (2,)
    c = fit.correlation()
    assert c.shape == (2, 2, 2) and np.allclose(np.diagonal(c, axis1=1, axis2=2), 1.0)
    df = fit.to_dataframe()
    assert list(df["name"]) == ["C10", "C16"] and "T_char_K" in df
    tab = fit.predict(COLUMNS["D"], rtol=1e-8)
    assert tab.names == ("C10", "C16")
    ax = fit.plot()
    assert ax.get_ylabel().startswith("t_R")
    plt.close(ax.figure)


def test_map_like_engine_gives_the_serial_result():
    runs = synthetic_runs("AB")
    a = fit_retention_parameters(runs, TRUTH[:2], parameters=("T_char", "theta_char"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = fit_retention_parameters(runs, TRUTH[:2], parameters=("T_char", "theta_char"),
                                     workers=map)
    assert np.array_equal(a.estimates, b.estimates)
