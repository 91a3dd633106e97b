"""Predict the n-alkane retention times and peak widths of Leppert 2020 from the database alone.

Data: ``data/leppert2020b`` (GasChromatographySimulator.jl, MIT; see data/README.md). Eight
measured runs: three temperature programs (A, B, D) on a conventional 11.18-m column with H2 and
five runs on a 2.05-m thermal-gradient column with He (no/low/med/high/const gradient, the
measured oven program of each run). For every listed alkane the script predicts the retention
time t_R and the peak standard deviation sigma with :func:`sciflow.chromatography.programs.
retention` from the K-centric parameters of ``Database_Leppert2020b.csv`` and the nominal
column and program -- nothing is fitted to the chromatograms -- and compares them with the
measured lists. It then

* estimates the detector time constant from the baseline noise of each chromatogram and checks
  what it does to the widths;
* tests the physical causes of the remaining biases (hold-up time, injection delay, oven
  offset and lag, the retention parameters) with the numbers in the report;
* cross-validates :func:`sciflow.chromatography.estimation.fit_retention_parameters`: parameters
  estimated from programs A and B predict program D and the thermal-gradient runs.

``run(outdir, quick=False)`` follows the contract of ``sciflow validate``; ``notes.md`` explains
the choices, ``expected.json`` holds the reference numbers of the full run.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

from sciflow.chromatography.estimation import RetentionRun, fit_retention_parameters
from sciflow.chromatography.io import (
    read_leppert_chromatogram,
    read_leppert_program,
    read_leppert_retention,
)
from sciflow.chromatography.programs import (
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    ThermalGradient,
    retention,
)
from sciflow.chromatography.thermo import load_retention_database
from sciflow.validation import Check, save_figure

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "data" / "leppert2020b"
PREFIX = "leppert2020b_prediction"

# --- the runs (settings of the peer's example code, GasChromatographySimulator.jl docs) -------
DIAMETER = 0.104e-3  # m
FILM = 0.104e-6  # m
CONV_LENGTH = 11.18  # m
CONV_GAS = "H2"  # the chromatograms rule out He: its hold-up time (27.4 s) is later than the
# first eluting features (13.3 s) and the solvent front (20.9 s); see the report
CONV_P_IN, CONV_P_OUT = 411_564.0, 101_300.0  # Pa absolute
CONV_PROGRAMS = {  # (rate deg C/min, T_final deg C, hold s) after 40 deg C held 60 s
    "progA": [(10.0, 300.0, 180.0)],
    "progB": [(15.0, 300.0, 180.0)],
    "progD": [(5.0, 180.0, 60.0), (20.0, 300.0, 60.0)],
}
TG_LENGTH = 2.05  # m
TG_GAS = "He"
TG_ALPHA = -3.0  # exponential gradient profile, x0 = 0, L0 = L, program T at the outlet
TG_RUNS = {"no_gradient": "no_gradient_x3", "low_gradient": "low_gradient_x84",
           "med_gradient": "med_gradient_x90", "high_gradient": "high_gradient_x7",
           "const_gradient": "const_gradient_x79"}
RUNS = list(CONV_PROGRAMS) + list(TG_RUNS)
# measured program: bin means over PROGRAM_WINDOW s (see program_nodes); the result is checked
# against CHECK_WINDOW
PROGRAM_WINDOW = 1.0
CHECK_WINDOW = 2.0
RTOL = {"conventional": 1e-8, "thermal-gradient": 1e-5}
CONV_C9_C25 = [f"C{n}" for n in range(9, 26)]
# retention-list resolution: 0.001 min = 0.06 s (conventional); 0.02 s sampling (gradient)
T_R_SD = {"conventional": 0.06 / math.sqrt(12.0), "thermal-gradient": 0.02 / math.sqrt(12.0)}
# the published accuracy of the peer simulator (GasChromatographySimulator.jl docs, examples)
PEER = {"conventional": "t_R mostly within 1 %; widths 10–15 % below the measured ones (program D)",
        "thermal-gradient": "t_R within 1 s (< 4 %); measured widths up to 50 % above the "
                            "simulated ones (med gradient)"}


def kind(run):
    return "conventional" if run in CONV_PROGRAMS else "thermal-gradient"


# ---------------------------------------------------------------------------------------------
# columns
# ---------------------------------------------------------------------------------------------
def conventional_column(run, **changes):
    """The nominal conventional column of program ``run`` (``changes``: diameter, gas,
    inlet pressure ``p_in``, oven ``offset`` K)."""
    kw = dict(diameter=DIAMETER, gas=CONV_GAS, p_in=CONV_P_IN, offset=0.0)
    kw.update(changes)
    ov = OvenProgram.from_segments(40.0, CONV_PROGRAMS[run], hold=60.0)
    if kw["offset"]:
        ov = OvenProgram(ov.times, ov.temperatures + kw["offset"])
    return ProgrammedColumn(CONV_LENGTH, kw["diameter"], FILM, kw["gas"], ov,
                            PressureProgram.constant(kw["p_in"], CONV_P_OUT))


def program_nodes(prog, window):
    """Nodes of a measured program: means over consecutive bins of ``window`` s.

    The logger writes every 0.02-0.05 s with a 0.123-K resolution, so successive readings jump
    by one step; fed as is, the ``dr/dt`` term of the band-broadening equation sees a
    derivative noise of several K/s on a ramp of 5.3 K/s, and the adaptive integrator crawls.
    The column (fused silica in its heated tube) cannot follow temperature changes faster
    than its thermal time constant (about a second and more), so averaging over ``window``
    (1 s: the peer decimates to every 20th reading, about 1 s) removes logger noise, not
    physics. The readings are first put on a uniform 0.05-s grid (linear interpolation of the
    log, so the 10-s gaps of one file keep their straight segments); a bin mean of a straight
    segment lies on it, so ramps are kept exactly and only the corners are rounded, within
    one bin. The first reading stays a node.
    """
    t = prog["time"]
    keep = np.r_[True, np.diff(t) > 0]
    t = t[keep]
    nb = int(math.floor((t[-1] - t[0]) / window))
    edges = t[0] + window * np.arange(nb + 1)
    fine = np.arange(t[0], edges[-1], 0.05) + 0.025
    idx = np.minimum(np.floor((fine - t[0]) / window).astype(int), nb - 1)
    counts = np.bincount(idx, minlength=nb)
    out = {"time": np.r_[t[0], edges[:-1] + 0.5 * window]}
    for key in ("temperature", "delta_T", "inlet_pressure", "outlet_pressure"):
        v = np.interp(fine, t, prog[key][keep])
        out[key] = np.r_[prog[key][keep][0], np.bincount(idx, v, minlength=nb) / counts]
    return out


def gradient_column(run, window=PROGRAM_WINDOW):
    """The thermal-gradient column with the measured program of ``run`` (binned)."""
    prog = read_leppert_program(DATA / f"Leppert2020b_prog_settings_{TG_RUNS[run]}.csv")
    nodes = program_nodes(prog, window)
    dT = nodes["delta_T"]
    grad = None if np.all(dT == 0) else ThermalGradient(dT, alpha=TG_ALPHA, reference="outlet")
    ov = OvenProgram(nodes["time"], nodes["temperature"] + 273.15, gradient=grad)
    pr = PressureProgram(nodes["time"], nodes["inlet_pressure"], nodes["outlet_pressure"])
    return ProgrammedColumn(TG_LENGTH, DIAMETER, FILM, TG_GAS, ov, pr)


def column(run, **kw):
    return conventional_column(run, **kw) if kind(run) == "conventional" else gradient_column(
        run, **kw)


def measured(run):
    """(names, t_R (s), sigma (s)) of the listed alkanes with a measured t_R."""
    rt = read_leppert_retention(DATA / f"Leppert2020b_measured_RT_{run}.csv")
    names = [n for n, (tr, _) in rt.items() if math.isfinite(tr)]
    return names, np.array([rt[n][0] for n in names]), np.array([rt[n][1] for n in names])


def chromatogram(run):
    stem = run if kind(run) == "conventional" else TG_RUNS[run]
    return read_leppert_chromatogram(DATA / f"Leppert2020b_measured_Chrom_{stem}.csv")


def database():
    return load_retention_database(DATA / "Database_Leppert2020b.csv")


def predict(run, solutes, col=None, **kwargs):
    col = column(run) if col is None else col
    kwargs.setdefault("rtol", RTOL[kind(run)])
    return retention(col, solutes, **kwargs)


# ---------------------------------------------------------------------------------------------
# measured quantities from the chromatograms
# ---------------------------------------------------------------------------------------------
def baseline_chunks(t, y, t_R, sd, *, t_min, n, guard):
    """Peak-free stretches of ``n`` samples (listed peaks +- max(8 sigma, guard) and the start
    before ``t_min`` excluded), each minus a quadratic; chunks holding an unlisted peak (a
    sample beyond 8 robust standard deviations) are dropped."""
    mask = t > t_min
    for tr, s in zip(t_R, sd, strict=True):
        mask &= np.abs(t - tr) > max(8.0 * s, guard)
    idx = np.flatnonzero(mask)
    segs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    out = []
    for seg in segs:
        for j in range(0, seg.size - n + 1, n):
            ii = seg[j:j + n]
            tt = t[ii] - t[ii].mean()
            r = y[ii] - np.polyval(np.polyfit(tt, y[ii], 2), tt)
            mad = 1.4826 * np.median(np.abs(r - np.median(r)))
            if mad > 0 and np.max(np.abs(r)) <= 8.0 * mad:
                out.append(r - r.mean())
    return out


def detector_time_constant(t, y, t_R, sd, *, conventional=True):
    """Time constant of a first-order detector filter from the baseline noise.

    For white noise through a first-order filter the autocorrelation is exp(-lag/tau). The
    primary estimate is the e-folding lag of the mean autocorrelation of peak-free stretches
    (where it first falls below 1/e, interpolated); also returned: a least-squares
    exponential fit over the lags where the autocorrelation exceeds 0.1, the lag-1 (AR(1))
    value ``-dt / ln rho_1`` and half the integrated autocorrelation time.
    """
    dt = float(np.median(np.diff(t)))
    n = 1500 if conventional else 150
    chunks = baseline_chunks(t, y, t_R, sd, t_min=100.0 if conventional else 12.0, n=n,
                             guard=3.0 if conventional else 0.6)
    K = n // 5
    acs = []
    for r in chunks:
        c = np.correlate(r, r, "full")[r.size - 1:r.size + K] / np.arange(r.size, r.size - K - 1,
                                                                         -1)
        acs.append(c / c[0])
    ac = np.mean(acs, axis=0)
    lags = np.arange(K + 1) * dt
    below = np.flatnonzero(ac < math.exp(-1.0))
    k = int(below[0])
    # interpolate ln(ac) between k-1 and k for the 1/e crossing
    a0, a1 = ac[k - 1], ac[k]
    tau_e = lags[k - 1] + (a0 - math.exp(-1.0)) / (a0 - a1) * dt
    kmax = int(np.flatnonzero(ac < 0.1)[0]) if np.any(ac < 0.1) else K
    grid = np.linspace(0.2 * tau_e, 5.0 * tau_e, 400)
    sse = [np.sum((ac[1:kmax] - np.exp(-lags[1:kmax] / g)) ** 2) for g in grid]
    tau_fit = float(grid[int(np.argmin(sse))])
    rho1 = float(ac[1])
    tau_ar1 = -dt / math.log(rho1) if 0.0 < rho1 < 1.0 else float("nan")
    first_neg = int(np.flatnonzero(ac <= 0)[0]) if np.any(ac <= 0) else K
    tau_int = float(ac[1:first_neg].sum()) * dt  # (1 + 2 sum rho - 1) / 2 * dt
    return dict(tau_efold_s=float(tau_e), tau_expfit_s=tau_fit, tau_ar1_s=float(tau_ar1),
                tau_int_half_s=tau_int, rho_lag1=rho1, n_chunks=len(chunks), dt_s=dt,
                noise_sd=float(np.median([r.std() for r in chunks])), acf=ac, lags=lags)


def peak_moments(t, y, tr, sd, k=4.0):
    """Area, first moment, standard deviation and skewness of a measured peak on tr +- k sd
    above a straight baseline through the neighbouring +-1 sd."""
    m = (t > tr - k * sd) & (t < tr + k * sd)
    e = ((t > tr - (k + 1) * sd) & (t <= tr - k * sd)) | ((t >= tr + k * sd)
                                                          & (t < tr + (k + 1) * sd))
    if m.sum() < 5 or e.sum() < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    b = np.polyval(np.polyfit(t[e], y[e], 1), t[m])
    w = y[m] - b
    area = float(np.trapezoid(w, t[m]))
    s = w.sum()
    mu = float((w * t[m]).sum() / s)
    var = float((w * (t[m] - mu) ** 2).sum() / s)
    skew = float((w * (t[m] - mu) ** 3).sum() / s / var**1.5) if var > 0 else float("nan")
    return area, mu, math.sqrt(max(var, 0.0)), skew


# ---------------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------------
def predict_run(run, db, names=None, with_noise=True, window=PROGRAM_WINDOW):
    """Prediction and comparison for one run; returns a dict."""
    all_names, tm, sm = measured(run)
    if names is not None:
        sel = [all_names.index(n) for n in names if n in all_names]
        all_names, tm, sm = [all_names[i] for i in sel], tm[sel], sm[sel]
    k = kind(run)
    col = conventional_column(run) if k == "conventional" else gradient_column(run, window)
    t0 = time.perf_counter()
    tab = predict(run, [db[n] for n in all_names], col=col)
    wall = time.perf_counter() - t0
    out = dict(run=run, kind=k, names=all_names, t_meas=tm, sd_meas=sm, table=tab, column=col,
               wall=wall)
    if with_noise:
        t, y = chromatogram(run)
        _, tm_all, sm_all = measured(run)  # every listed peak is kept out of the noise
        det = detector_time_constant(t, y, tm_all, sm_all, conventional=(k == "conventional"))
        out["detector"] = det
        tau = det["tau_efold_s"]
        out["sigma_det"] = np.sqrt(tab.sigma**2 + tau**2)
        out["t_R_det"] = tab.t_R + tau
        out["chrom"] = (t, y)
        out["moments"] = np.array([peak_moments(t, y, a, b) for a, b in zip(tm, sm,
                                                                           strict=True)])
    return out


def summarise(r):
    tab, tm, sm = r["table"], r["t_meas"], r["sd_meas"]
    dt = tab.t_R - tm
    ratio = tab.sigma / sm
    s = dict(kind=r["kind"], n_solutes=len(r["names"]), names=list(r["names"]),
             median_rel_dt_R=float(np.median(np.abs(dt) / tm)),
             median_abs_dt_R_s=float(np.median(np.abs(dt))),
             median_sigma_ratio=float(np.median(ratio)),
             max_abs_rel_dt_R=float(np.max(np.abs(dt) / tm)),
             max_abs_dt_R_s=float(np.max(np.abs(dt))),
             fraction_within_1pct=float(np.mean(np.abs(dt) / tm <= 0.01)),
             fraction_within_1s=float(np.mean(np.abs(dt) <= 1.0)),
             mean_dt_R_s=float(np.mean(dt)),
             holdup_time_s=float(tab.holdup_time), wall_time_s=r["wall"],
             all_eluted=bool(np.all(tab.eluted)),
             dt_R_s=[float(v) for v in dt], sigma_ratio=[float(v) for v in ratio])
    if r["kind"] == "conventional":
        sel = [i for i, n in enumerate(r["names"]) if n in CONV_C9_C25]
        if sel:
            s["median_rel_dt_R_C9_C25"] = float(np.median(np.abs(dt[sel]) / tm[sel]))
            s["median_sigma_ratio_C9_C25"] = float(np.median(ratio[sel]))
    if "detector" in r:
        d = r["detector"]
        s["detector_time_constant_s"] = d["tau_efold_s"]
        s["detector_rho_lag1"] = d["rho_lag1"]
        s["detector_tau_estimates_s"] = {k: d[k] for k in ("tau_efold_s", "tau_expfit_s",
                                                           "tau_ar1_s", "tau_int_half_s")}
        s["median_sigma_ratio_with_detector"] = float(np.median(r["sigma_det"] / sm))
        s["median_rel_dt_R_with_detector"] = float(np.median(np.abs(r["t_R_det"] - tm) / tm))
        mom = r["moments"]
        s["median_moment_sigma_over_listed"] = float(np.nanmedian(mom[:, 2] / sm))
        s["median_peak_skewness"] = float(np.nanmedian(mom[:, 3]))
        if r["kind"] == "conventional":
            late = [i for i, n in enumerate(r["names"]) if 15 <= int(n[1:]) <= 25]
            if late:
                tau = d["tau_efold_s"]
                sk = mom[late, 3]
                s["late_peaks_median_skewness"] = float(np.nanmedian(sk))
                s["late_peaks_skewness_stderr"] = float(np.nanstd(sk) / math.sqrt(len(late)))
                s["late_peaks_skewness_if_detector"] = float(np.median(
                    2 * tau**3 / (sm[late] ** 2) ** 1.5))
                g = max(s["late_peaks_median_skewness"] + 2 * s["late_peaks_skewness_stderr"],
                        0.0)
                s["detector_tau_bound_from_skewness_s"] = float(np.median(sm[late])
                                                                * (g / 2.0) ** (1.0 / 3.0))
    return s


# ---------------------------------------------------------------------------------------------
# width deficit: additive (detector, extra-column) or proportional (plate height)?
# ---------------------------------------------------------------------------------------------
def missing_variance(results):
    """Regress sigma_meas^2 - sigma_pred^2 on sigma_pred^2 per kind: an additive cause
    (detector filter, extra-column volume after the column) gives a constant, a plate-height
    deficit a slope."""
    out = {}
    for k in ("conventional", "thermal-gradient"):
        rs = [r for r in results if r["kind"] == k]
        if not rs:
            continue
        x = np.concatenate([r["table"].sigma ** 2 for r in rs])
        y = np.concatenate([r["sd_meas"] ** 2 for r in rs]) - x
        A = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        rms2 = float(np.sqrt(np.mean((y - A @ coef) ** 2)))
        rms_c = float(np.std(y))
        slope_only = float(x @ y / (x @ x))
        rms_p = float(np.sqrt(np.mean((y - slope_only * x) ** 2)))
        per_run = {}
        for r in rs:
            xx = r["table"].sigma ** 2
            yy = r["sd_meas"] ** 2 - xx
            if xx.size >= 3:
                c, *_ = np.linalg.lstsq(np.column_stack([np.ones_like(xx), xx]), yy, rcond=None)
                per_run[r["run"]] = {"intercept_s2": float(c[0]), "slope": float(c[1])}
        out[k] = dict(intercept_s2=float(coef[0]), slope=float(coef[1]), rms_both_s2=rms2,
                      rms_constant_only_s2=rms_c, rms_proportional_only_s2=rms_p,
                      proportional_only_slope=slope_only, n=int(x.size), per_run=per_run,
                      x=x, y=y)
    return out


# ---------------------------------------------------------------------------------------------
# causes of the retention-time bias of the conventional runs
# ---------------------------------------------------------------------------------------------
def bias_diagnostics(conv, db):
    """Candidate causes, each a measured quantity or a global instrument parameter."""
    from scipy.optimize import brentq, least_squares

    runs = [r["run"] for r in conv]
    names = {r["run"]: r["names"] for r in conv}
    tmeas = {r["run"]: r["t_meas"] for r in conv}
    sol = {r["run"]: [db[n] for n in r["names"]] for r in conv}
    out = {}

    def med(run, tR):
        return float(np.median(np.abs(tR - tmeas[run]) / tmeas[run]))

    # hold-up time: He versus H2, and the first eluting feature as a marker
    out["holdup_time_H2_s"] = conventional_column(runs[0]).holdup_time()
    out["holdup_time_He_s"] = conventional_column(runs[0], gas="He").holdup_time()
    t, y = chromatogram(runs[0])
    m = (t > 10.0) & (t < 20.0)
    base = float(np.median(y[(t > 5.0) & (t < 12.0)]))
    sig = y[m] - base
    out["first_feature_onset_s"] = float(t[m][np.argmax(sig > 0.1 * sig.max())])
    out["first_feature_apex_s"] = float(t[m][np.argmax(sig)])
    m2 = (t > 18.0) & (t < 40.0)
    out["solvent_front_s"] = float(t[m2][np.argmax(y[m2] > 0.01)])
    d14 = brentq(lambda d: conventional_column(runs[0], diameter=d).holdup_time()
                 - out["first_feature_apex_s"], 0.08e-3, 0.13e-3)
    out["diameter_for_tM_at_apex_um"] = d14 * 1e6
    out["median_rel_dt_R_if_tM_at_apex"] = {
        r: med(r, predict(r, sol[r], col=conventional_column(r, diameter=d14)).t_R)
        for r in runs}
    # injection / solvent delay: the start delay that puts each run's first alkane right
    first = {}
    for r in runs:
        n0 = names[r][0]

        def f(delay, r=r, n0=n0):
            return predict(r, db[n0], injection_time=delay).t_R[0] - tmeas[r][0]

        lo, hi = 0.0, 120.0
        first[r] = float(brentq(f, lo, hi)) if f(lo) < 0 < f(hi) else float("nan")
    out["start_delay_for_first_alkane_s"] = first
    if "progD" in runs and math.isfinite(first.get("progD", float("nan"))):
        sel = [i for i, n in enumerate(names["progD"]) if 11 <= int(n[1:]) <= 20]
        tD = predict("progD", [sol["progD"][i] for i in sel], injection_time=first["progD"]).t_R
        t0D = predict("progD", [sol["progD"][i] for i in sel]).t_R
        tmD = tmeas["progD"][sel]
        out["progD_C11_C20_median_rel_dt_R"] = float(np.median(np.abs(t0D - tmD) / tmD))
        out["progD_C11_C20_median_rel_dt_R_with_C9_delay"] = float(
            np.median(np.abs(tD - tmD) / tmD))
    # the injection is common to all runs: impurity peaks in the 40 deg C hold coincide
    wins = [(13.0, 14.5), (39.5, 41.5), (42.0, 44.0), (47.0, 48.0), (48.0, 49.5), (53.0, 54.0),
            (54.0, 55.0), (55.0, 56.5)]
    apex = {}
    for r in runs:
        tt, yy = chromatogram(r)
        apex[r] = [float(tt[(tt > a) & (tt < b)][np.argmax(yy[(tt > a) & (tt < b)])])
                   for a, b in wins]
    arr = np.array(list(apex.values()))
    out["impurity_apex_s"] = apex
    out["impurity_apex_max_spread_s"] = float(np.max(arr.max(0) - arr.min(0)))

    # global instrument parameters fitted to all conventional runs (diagnostic only)
    def fit_global(label, make, x0, x_scale):
        def resid(x):
            return np.concatenate([predict(r, sol[r], col=make(r, x)).t_R - tmeas[r]
                                   for r in runs])

        res = least_squares(resid, x0, x_scale=x_scale, diff_step=1e-3, max_nfev=60)
        final = {r: med(r, predict(r, sol[r], col=make(r, res.x)).t_R) for r in runs}
        return dict(label=label, params=[float(v) for v in res.x],
                    rms_s=float(np.sqrt(np.mean(res.fun**2))), median_rel_dt_R=final)

    def lagged(r, tau):
        ov = conventional_column(r).oven
        tt = np.arange(0.0, ov.duration + 900.0, 0.5)
        Tp = ov(tt)
        if tau <= 0:
            return conventional_column(r)
        e = math.exp(-0.5 / tau)
        Tc = np.empty_like(Tp)
        Tc[0] = Tp[0]
        for i in range(1, tt.size):  # first-order lag, exact for a linear ramp per step
            Tc[i] = Tp[i] + (Tc[i - 1] - Tp[i - 1]) * e - (Tp[i] - Tp[i - 1]) * tau / 0.5 * (1 - e)
        return ProgrammedColumn(CONV_LENGTH, DIAMETER, FILM, CONV_GAS, OvenProgram(tt, Tc),
                                PressureProgram.constant(CONV_P_IN, CONV_P_OUT))

    def scaled(r, x):
        ov = conventional_column(r).oven
        T = ov.temperatures
        T = T + x[0] + x[1] * (T - T[0])
        return ProgrammedColumn(CONV_LENGTH, DIAMETER, FILM, CONV_GAS, OvenProgram(ov.times, T),
                                PressureProgram.constant(CONV_P_IN, CONV_P_OUT))

    rngs = {}
    for r in runs:
        sel = [i for i, n in enumerate(names[r]) if 11 <= int(n[1:]) <= 20]
        if sel:
            rel = (predict(r, [sol[r][i] for i in sel]).t_R - tmeas[r][sel]) / tmeas[r][sel]
            rngs[r] = (float(rel.min()), float(rel.max()))
    out["range_rel_dt_R_C11_C20"] = rngs
    late = {}
    for r in runs:
        sel = [i for i, n in enumerate(names[r]) if 21 <= int(n[1:]) <= 30]
        if sel:
            rel = (predict(r, [sol[r][i] for i in sel]).t_R - tmeas[r][sel]) / tmeas[r][sel]
            late[r] = (float(rel.min()), float(rel.max()))
    out["range_rel_dt_R_C21_C30"] = late
    base_rms = float(np.sqrt(np.mean(np.concatenate(
        [predict(r, sol[r]).t_R - tmeas[r] for r in runs]) ** 2)))
    out["nominal_rms_s"] = base_rms
    g = []
    g.append(fit_global("oven offset a (K)",
                        lambda r, x: conventional_column(r, offset=x[0]), [0.0], [1.0]))
    g.append(fit_global("oven offset a (K) + scale b of the rise above 40 deg C",
                        scaled, [0.0, 0.0], [1.0, 0.01]))
    g.append(fit_global("first-order oven/column lag tau (s)",
                        lambda r, x: lagged(r, float(x[0])), [5.0], [5.0]))
    g.append(fit_global("oven offset a (K) + inlet-pressure factor f",
                        lambda r, x: conventional_column(r, offset=x[0], p_in=CONV_P_IN * x[1]),
                        [0.0, 1.0], [1.0, 0.05]))
    out["global_fits"] = g
    return out


# ---------------------------------------------------------------------------------------------
# cross-validation of the estimator
# ---------------------------------------------------------------------------------------------
def estimation_run(run, names=None):
    nm, tm, _ = measured(run)
    keep = [i for i, n in enumerate(nm) if names is None or n in names]
    return RetentionRun(column(run), {nm[i]: float(tm[i]) for i in keep}, name=run,
                        t_R_sd=T_R_SD[kind(run)])


def cross_validate(db, fit_runs, test_runs, names, db_results, parameters):
    """Estimate from ``fit_runs``, predict ``test_runs``; compare with the database."""
    t0 = time.perf_counter()
    est_runs = [estimation_run(r, names) for r in fit_runs]
    sol = [db[n] for n in names]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        fit = fit_retention_parameters(est_runs, sol, parameters=parameters)
    out = dict(fit_runs=list(fit_runs), parameters=list(parameters), names=list(names),
               converged=bool(fit.all_converged), n_converged=int(fit.converged.sum()),
               median_condition_number=float(np.median(fit.condition_number)),
               fit_rms_residual_s=float(np.sqrt(np.nanmean(fit.residuals**2))),
               median_shift_T_char_K=float(np.median(
                   fit.estimates[:, 0] - [s.retention.T_char for s in sol])),
               median_shift_theta_char_K=float(np.median(
                   fit.estimates[:, 1] - [s.retention.theta_char for s in sol])),
               median_shift_dCp=float(np.median(
                   fit.estimates[:, 2] - [s.retention.dCp for s in sol])),
               median_stderr_T_char_K=float(np.nanmedian(fit.stderr[:, 0])),
               median_stderr_theta_char_K=float(np.nanmedian(fit.stderr[:, 1])),
               runs={})
    for run in test_runs:
        nm, tm, _ = measured(run)
        sel = [i for i, n in enumerate(nm) if n in names]
        if not sel:
            continue
        nn = [nm[i] for i in sel]
        tm = tm[sel]
        tab = predict(run, [fit.solutes[n] for n in nn], col=db_results[run]["column"])
        dbr = db_results[run]
        dsel = [dbr["names"].index(n) for n in nn]
        dbt = dbr["table"].t_R[dsel]
        out["runs"][run] = dict(
            median_rel_dt_R=float(np.median(np.abs(tab.t_R - tm) / tm)),
            median_abs_dt_R_s=float(np.median(np.abs(tab.t_R - tm))),
            database_median_rel_dt_R=float(np.median(np.abs(dbt - tm) / tm)),
            database_median_abs_dt_R_s=float(np.median(np.abs(dbt - tm))),
            dt_R_s=[float(v) for v in tab.t_R - tm],
            database_dt_R_s=[float(v) for v in dbt - tm], names=nn)
    out["wall_time_s"] = time.perf_counter() - t0
    out["fit"] = fit
    return out


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def _overlay(results, outdir, name, title):
    import matplotlib.pyplot as plt

    with plt.rc_context({"path.simplify": False}):  # keep the apexes of narrow peaks
        fig, axs = plt.subplots(len(results), 1, figsize=(12, 2.3 * len(results)),
                                squeeze=False)
        _overlay_panels(axs, results)
        axs[0, 0].legend(fontsize="x-small", loc="upper left")
        axs[-1, 0].set_xlabel("t (s)")
        fig.suptitle(title, fontsize="medium")
        return save_figure(fig, outdir, name, dpi=90)


def _overlay_panels(axs, results):
    for ax, r in zip(axs[:, 0], results, strict=True):
        t, y = r["chrom"]
        tm, sm = r["t_meas"], r["sd_meas"]
        lo = max(t[0], tm.min() - 10 * sm.max() - (20.0 if r["kind"] == "conventional" else 2))
        hi = tm.max() + 10 * sm.max()
        m = (t >= lo) & (t <= hi)
        base = float(np.median(y[m]))
        areas = r["moments"][:, 0]
        areas = np.where(np.isfinite(areas) & (areas > 0), areas, 0.0)
        tab = r["table"]
        tt = np.linspace(lo, hi, 20000)
        z = (tt[None, :] - tab.t_R[:, None]) / tab.sigma[:, None]
        pred = (areas[:, None] * np.exp(-0.5 * z * z) / (tab.sigma[:, None]
                                                         * math.sqrt(2 * math.pi))).sum(0)
        ax.plot(t[m], y[m] - base, lw=0.6, color="C1", label="measured")
        ax.plot(tt, -pred, lw=0.6, color="C0", label="predicted (mirrored; areas of the "
                                                         "measured peaks)")
        top = float(np.max(pred)) if pred.size else 1.0
        ax.set_ylim(-1.15 * top, 1.15 * top)
        for n, a in zip(r["names"], tm, strict=True):
            ax.annotate(n[1:], (a, 1.02 * top), ha="center", fontsize=6)
        ax.set_xlim(lo, hi)
        ax.axhline(0, color="k", lw=0.4)
        s = summarise(r)
        ax.set_title(f"{r['run']}: median |Δt_R|/t_R {100 * s['median_rel_dt_R']:.2f} %, "
                     f"median |Δt_R| {s['median_abs_dt_R_s']:.2f} s, median σ_pred/σ_meas "
                     f"{s['median_sigma_ratio']:.2f}", fontsize="small")
        ax.set_yticks([])


def _zoom(r, outdir, picks):
    import matplotlib.pyplot as plt

    picks = [n for n in picks if n in r["names"]]
    fig, axs = plt.subplots(1, len(picks), figsize=(3.0 * len(picks), 2.8), squeeze=False)
    t, y = r["chrom"]
    tab = r["table"]
    for ax, n in zip(axs[0], picks, strict=True):
        i = r["names"].index(n)
        tm, sm = r["t_meas"][i], r["sd_meas"][i]
        tp, sp = tab.t_R[i], tab.sigma[i]
        lo, hi = min(tm, tp) - 6 * max(sm, sp), max(tm, tp) + 6 * max(sm, sp)
        m = (t >= lo) & (t <= hi)
        area = r["moments"][i, 0]
        e = m & ((t < tm - 4 * sm) | (t > tm + 4 * sm))
        b = np.polyval(np.polyfit(t[e], y[e], 1), t[m]) if e.sum() > 2 else np.zeros(m.sum())
        tt = np.linspace(lo, hi, 600)
        g = area * np.exp(-0.5 * ((tt - tp) / sp) ** 2) / (sp * math.sqrt(2 * math.pi))
        sd_ = r["sigma_det"][i]
        td = r["t_R_det"][i]
        gd = area * np.exp(-0.5 * ((tt - td) / sd_) ** 2) / (sd_ * math.sqrt(2 * math.pi))
        ax.plot(t[m], y[m] - b, ".", ms=1.5, color="C1", label="measured")
        ax.plot(tt, g, color="C0", lw=1, label="predicted")
        ax.plot(tt, gd, color="C2", lw=1, ls="--", label="+ detector τ_d")
        ax.set_title(f"{n}: Δt_R {tp - tm:+.1f} s, σ ratio {sp / sm:.2f}", fontsize="small")
        ax.set_yticks([])
        ax.set_xlabel("t (s)")
    axs[0, 0].legend(fontsize="xx-small")
    fig.suptitle(f"{r['run']}: single peaks (predicted Gaussians scaled to the measured areas; "
                 f"τ_d = {r['detector']['tau_efold_s']:.2f} s from the baseline noise)",
                 fontsize="small")
    return save_figure(fig, outdir, f"{PREFIX}_{r['run']}_peaks.png", dpi=90)


def _residuals(results, outdir, cv=None):
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 2, figsize=(12, 7))
    for r in results:
        x = [int(n[1:]) for n in r["names"]]
        dt = r["table"].t_R - r["t_meas"]
        ratio = r["table"].sigma / r["sd_meas"]
        if r["kind"] == "conventional":
            axs[0, 0].plot(x, 100 * dt / r["t_meas"], "o-", ms=3, lw=0.8, label=r["run"])
            line = axs[1, 0].plot(x, ratio, "o-", ms=3, lw=0.8, label=r["run"])[0]
            if "sigma_det" in r:
                axs[1, 0].plot(x, r["sigma_det"] / r["sd_meas"], ":", lw=0.8,
                               color=line.get_color())
        else:
            axs[0, 1].plot(x, dt, "o-", ms=3, lw=0.8, label=r["run"])
            axs[1, 1].plot(x, ratio, "o-", ms=3, lw=0.8, label=r["run"])
    if cv is not None:
        for run, v in cv["runs"].items():
            x = [int(n[1:]) for n in v["names"]]
            tm = np.array([dict(zip(*measured(run)[:2], strict=True))[n] for n in v["names"]])
            if kind(run) == "conventional":
                axs[0, 0].plot(x, 100 * np.array(v["dt_R_s"]) / tm, "k^--", ms=4, lw=0.8,
                               label=f"{run}, parameters from {'+'.join(cv['fit_runs'])}")
    axs[0, 0].axhline(0, color="k", lw=0.5)
    axs[0, 0].set_ylabel("t_R predicted − measured (%)")
    axs[0, 0].set_title("conventional (H2, 11.18 m)", fontsize="small")
    axs[0, 1].axhline(0, color="k", lw=0.5)
    for v in (-1, 1):
        axs[0, 1].axhline(v, color="0.6", lw=0.6, ls="--")
    axs[0, 1].set_ylabel("t_R predicted − measured (s)")
    axs[0, 1].set_title("thermal gradient (He, 2.05 m); dashed: ±1 s (peer)", fontsize="small")
    for ax in axs[1]:
        ax.axhline(1, color="k", lw=0.5)
        ax.set_ylabel("σ predicted / σ measured")
        ax.set_xlabel("n-alkane carbon number")
    axs[1, 0].set_title("dotted: with the detector τ_d of each run's baseline noise",
                        fontsize="small")
    for ax in axs.flat:
        if ax.lines:
            ax.legend(fontsize="xx-small")
    return save_figure(fig, outdir, f"{PREFIX}_residuals.png", dpi=90)


def _widths(results, mv, outdir):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    for r in results:
        if "detector" in r and r["kind"] == "conventional":
            d = r["detector"]
            k = d["lags"] <= 1.5
            a1.plot(d["lags"][k], d["acf"][k], lw=1, label=f"{r['run']} (τ_e = "
                                                          f"{d['tau_efold_s']:.2f} s)")
            a1.plot(d["lags"][k], np.exp(-d["lags"][k] / d["tau_efold_s"]), ":", lw=0.8,
                    color=a1.lines[-1].get_color())
    a1.axhline(math.exp(-1), color="0.5", lw=0.5)
    a1.set_xlabel("lag (s)")
    a1.set_ylabel("autocorrelation of the baseline noise")
    a1.set_title("baseline noise (dotted: exp(−lag/τ_e))", fontsize="small")
    if a1.lines:
        a1.legend(fontsize="x-small")
    for k, v in mv.items():
        a2.plot(v["x"], v["y"] / v["x"], "o", ms=3, label=f"{k} (measured)")
        xx = np.geomspace(v["x"].min(), v["x"].max(), 50)
        a2.plot(xx, np.full_like(xx, v["proportional_only_slope"]), "-", lw=0.8,
                color=a2.lines[-1].get_color(), label=f"{k}: proportional fit")
    taus = [r["detector"]["tau_efold_s"] for r in results
            if "detector" in r and r["kind"] == "conventional"]
    if taus and "conventional" in mv:
        x = mv["conventional"]["x"]
        xx = np.geomspace(x.min(), x.max(), 50)
        a2.plot(xx, np.median(taus) ** 2 / xx, "k--", lw=0.8,
                label=f"detector τ_d = {np.median(taus):.2f} s (additive)")
    a2.axhline(0, color="k", lw=0.5)
    a2.set_xscale("log")
    a2.set_xlabel("σ_pred² (s²)")
    a2.set_ylabel("(σ_meas² − σ_pred²) / σ_pred²")
    a2.set_title("missing variance relative to the predicted: flat = plate height, "
                 "∝ 1/σ² = additive", fontsize="small")
    a2.legend(fontsize="x-small")
    return save_figure(fig, outdir, f"{PREFIX}_widths.png", dpi=90)


def _cv_figure(cv, outdir):
    import matplotlib.pyplot as plt

    runs = list(cv["runs"])
    fig, axs = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3.2), squeeze=False)
    for ax, run in zip(axs[0], runs, strict=True):
        v = cv["runs"][run]
        nm, tm, _ = measured(run)
        x = [int(n[1:]) for n in v["names"]]
        ax.plot(x, v["dt_R_s"], "o-", ms=3, lw=0.8, label="estimated from "
                + "+".join(cv["fit_runs"]))
        ax.plot(x, v["database_dt_R_s"], "s:", ms=3, lw=0.8, label="database")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"{run}: median |Δt_R| {v['median_abs_dt_R_s']:.2f} s "
                     f"(db {v['database_median_abs_dt_R_s']:.2f})", fontsize="x-small")
        ax.set_xlabel("carbon number")
    axs[0, 0].set_ylabel("t_R predicted − measured (s)")
    axs[0, 0].legend(fontsize="xx-small")
    return save_figure(fig, outdir, f"{PREFIX}_cross_validation.png", dpi=90)


# ---------------------------------------------------------------------------------------------
# the measured program: window check and the cost of the raw log
# ---------------------------------------------------------------------------------------------
def raw_gradient_column(run):
    """The thermal-gradient column with the logged program as is (every reading a node)."""
    prog = read_leppert_program(DATA / f"Leppert2020b_prog_settings_{TG_RUNS[run]}.csv")
    keep = np.r_[True, np.diff(prog["time"]) > 0]
    t = prog["time"][keep]
    dT = prog["delta_T"][keep]
    grad = None if np.all(dT == 0) else ThermalGradient(dT, alpha=TG_ALPHA, reference="outlet")
    ov = OvenProgram(t, prog["temperature"][keep] + 273.15, gradient=grad)
    pr = PressureProgram(t, prog["inlet_pressure"][keep], prog["outlet_pressure"][keep])
    return ProgrammedColumn(TG_LENGTH, DIAMETER, FILM, TG_GAS, ov, pr)


def smoothing_check(tg_results, db, raw_probe=None):
    """Predict each gradient run again with CHECK_WINDOW; optionally time the raw log for one
    solute (``raw_probe = (run, name)``)."""
    out = {"window_s": PROGRAM_WINDOW, "check_window_s": CHECK_WINDOW, "runs": {}}
    for r in tg_results:
        alt = predict_run(r["run"], db, names=r["names"], with_noise=False, window=CHECK_WINDOW)
        a, b = r["table"], alt["table"]
        sa, sb = summarise(r), summarise(alt)
        out["runs"][r["run"]] = dict(
            max_abs_change_t_R_s=float(np.max(np.abs(a.t_R - b.t_R))),
            max_rel_change_sigma=float(np.max(np.abs(b.sigma / a.sigma - 1.0))),
            change_median_abs_dt_R_s=sb["median_abs_dt_R_s"] - sa["median_abs_dt_R_s"],
            change_median_sigma_ratio=sb["median_sigma_ratio"] - sa["median_sigma_ratio"],
            wall_time_s=r["wall"], wall_time_check_s=alt["wall"],
            n_nodes=int(r["column"].oven.times.size),
            n_nodes_check=int(alt["column"].oven.times.size))
    if raw_probe is not None:
        run, name = raw_probe
        r = next(q for q in tg_results if q["run"] == run)
        i = r["names"].index(name)
        col = raw_gradient_column(run)
        t0 = time.perf_counter()
        tab = predict(run, db[name], col=col, rtol=RTOL["thermal-gradient"])
        out["raw_log"] = dict(run=run, solute=name, n_nodes=int(col.oven.times.size),
                              wall_time_s=time.perf_counter() - t0,
                              binned_wall_time_per_solute_s=r["wall"] / len(r["names"]),
                              change_t_R_s=float(tab.t_R[0] - r["table"].t_R[i]),
                              rel_change_sigma=float(tab.sigma[0] / r["table"].sigma[i] - 1))
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def _pct(x, nd=2):
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{nd}f} %"


def _markdown(results, summ, checks, quick, mv, bias, smooth, cvs, extra):
    L = []
    L.append(
        "Retention times t_R and peak standard deviations σ of every listed n-alkane in the "
        "eight measured runs of Leppert et al. 2020 (`data/leppert2020b/`), **predicted from the "
        "K-centric parameters of `Database_Leppert2020b.csv` and the nominal column and "
        "programs alone** (`sciflow.chromatography.programs.retention`: migration and band "
        "broadening integrated along the column, Golay plate height, Poiseuille flow; nothing "
        "fitted to the chromatograms). Conventional runs: 11.18 m × 0.104 mm, d_f 0.104 µm, "
        "FS5ms, H2, p_in 411 564 Pa, p_out 101 300 Pa, programs A (40 °C 60 s, 10 °C/min → "
        "300 °C, 180 s), B (15 °C/min) and D (40 °C 60 s, 5 °C/min → 180 °C 60 s, 20 °C/min → "
        "300 °C 60 s). Thermal-gradient runs: 2.05 m, same bore and film, He, the logged "
        "program of each run (outlet temperature, inlet−outlet ΔT with the exponential profile "
        f"α = {TG_ALPHA:g}, pressures) averaged over {PROGRAM_WINDOW:g}-s bins. The measured "
        "values are the source's retention lists (t_R; σ from its Gaussian fits).")
    if quick:
        L.append("\n**Quick mode**: programs A and B and the no-gradient run, four alkanes "
                 "(C10, C14, C18, C22); the cross-validation (A + B → D) on C12 and C20.")
    L.append("\n### Prediction per run (database alone)\n")
    L.append("| run | alkanes | median \\|Δt_R\\|/t_R | median \\|Δt_R\\| (s) | max \\|Δt_R\\|/t_R "
             "| median σ_pred/σ_meas | τ_d from noise (s) | median σ ratio with τ_d | "
             "t_M (s) | wall (s) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for run, s in summ.items():
        L.append(f"| {run} | {s['n_solutes']} | {_pct(s['median_rel_dt_R'])} | "
                 f"{s['median_abs_dt_R_s']:.2f} | {_pct(s['max_abs_rel_dt_R'], 1)} | "
                 f"{s['median_sigma_ratio']:.3f} | "
                 f"{s.get('detector_time_constant_s', float('nan')):.3f} | "
                 f"{s.get('median_sigma_ratio_with_detector', float('nan')):.3f} | "
                 f"{s['holdup_time_s']:.2f} | {s['wall_time_s']:.2f} |")
    conv = {k: v for k, v in summ.items() if v["kind"] == "conventional"
            and "median_rel_dt_R_C9_C25" in v}
    if conv:
        L.append("\nConventional runs over C9–C25 only (the alkanes the chromatograms show "
                 "well; the medians above include C26–C30, which agree within 0.5 %): "
                 + ", ".join(f"{k} median |Δt_R|/t_R {_pct(v['median_rel_dt_R_C9_C25'])}, "
                             f"σ ratio {v['median_sigma_ratio_C9_C25']:.3f}"
                             for k, v in conv.items()) + ".")
    L.append("\n**Published accuracy of the peer simulator** (GasChromatographySimulator.jl, "
             "same data, same settings): conventional — " + PEER["conventional"]
             + "; thermal gradient — " + PEER["thermal-gradient"] + ". Ours: conventional "
             "median |Δt_R|/t_R " + ", ".join(
                 f"{k} {_pct(v['median_rel_dt_R'])} ({100 * v['fraction_within_1pct']:.0f} % "
                 "of the alkanes within 1 %)" for k, v in summ.items()
                 if v["kind"] == "conventional")
             + "; widths " + ", ".join(f"{k} {100 * (1 - v['median_sigma_ratio']):.0f} % low"
                                       for k, v in summ.items()
                                       if v["kind"] == "conventional")
             + "; thermal gradient median |Δt_R| " + ", ".join(
                 f"{k} {v['median_abs_dt_R_s']:.2f} s ({100 * v['fraction_within_1s']:.0f} % "
                 "within 1 s)" for k, v in summ.items()
                 if v["kind"] == "thermal-gradient") + "; widths " + ", ".join(
                 f"{k} {100 * (1 - v['median_sigma_ratio']):.0f} % low" for k, v in summ.items()
                 if v["kind"] == "thermal-gradient") + ".")
    L.append("\n### Checks\n")
    for name, (ok, text) in checks.items():
        L.append(f"- {'✅' if ok else '❌'} {name}: {text}")
    if bias:
        L.append("\n### The early bias of the conventional runs (program D most)\n")
        L.append(_bias_text(summ, bias))
    if mv:
        L.append("\n### The width deficit\n")
        L.append(_width_text(summ, mv))
    if smooth:
        L.append("\n### The measured programs of the thermal-gradient runs\n")
        L.append(_smooth_text(smooth))
    if cvs:
        L.append("\n### Estimated parameters: cross-validation\n")
        L.append(_cv_text(cvs, extra))
    L.append("\n### Per alkane\n")
    for r in results:
        L.append(f"<details><summary>{r['run']}: predicted vs measured t_R and σ</summary>\n")
        L.append("| alkane | t_R meas (s) | t_R pred (s) | Δt_R (s) | Δt_R/t_R | σ meas (s) | "
                 "σ pred (s) | ratio | T_elution (°C) |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        tab = r["table"]
        for i, n in enumerate(r["names"]):
            d = tab.t_R[i] - r["t_meas"][i]
            L.append(f"| {n} | {r['t_meas'][i]:.2f} | {tab.t_R[i]:.2f} | {d:+.2f} | "
                     f"{100 * d / r['t_meas'][i]:+.2f} % | {r['sd_meas'][i]:.4f} | "
                     f"{tab.sigma[i]:.4f} | {tab.sigma[i] / r['sd_meas'][i]:.3f} | "
                     f"{tab.elution_temperature[i] - 273.15:.1f} |")
        L.append("\n</details>\n")
    return "\n".join(L)


def _bias_text(summ, b):
    L = []
    L.append(
        f"- **Carrier gas and hold-up time.** H2 gives t_M = {b['holdup_time_H2_s']:.2f} s, He "
        f"{b['holdup_time_He_s']:.1f} s. The chromatograms rule He out on their own: a "
        f"cluster of small peaks starts at {b['first_feature_onset_s']:.1f} s (apex "
        f"{b['first_feature_apex_s']:.2f} s) and the solvent front at "
        f"{b['solvent_front_s']:.1f} s, both before the He hold-up time. The "
        f"{b['first_feature_apex_s']:.1f}-s apex is not a clean hold-up marker: three "
        "overlapping tailing features (14.0, 14.9, 17.3 s, identical in A, B and D). "
        "Taking it as t_M anyway (d = "
        f"{b['diameter_for_tM_at_apex_um']:.1f} µm instead of 104) makes the median error "
        + ", ".join(f"{k} {_pct(v)}" for k, v in b["median_rel_dt_R_if_tM_at_apex"].items())
        + ": every alkane late; the nominal t_M is the consistent one.")
    sd = b["start_delay_for_first_alkane_s"]
    L.append(
        "- **Injection / solvent delay.** A splitless injection with solvent can hold the "
        "volatile alkanes at the inlet. The delay that would put the first alkane (C9) right "
        "is " + ", ".join(f"{k} {v:.1f} s" for k, v in sd.items()) + ". The injection is the "
        "same in all three runs (the 40 °C hold, the solvent peak and eight small impurity "
        "peaks between 13 and 56 s coincide to "
        f"{b['impurity_apex_max_spread_s']:.2f} s), so one delay should serve all; the values "
        "differ. And a delay hardly moves the later alkanes, which sit at the inlet at 40 °C "
        "and start with the ramp whatever the injection does: with D's delay, D's C11–C20 "
        f"median |Δt_R|/t_R goes from {_pct(b.get('progD_C11_C20_median_rel_dt_R'))} to "
        f"{_pct(b.get('progD_C11_C20_median_rel_dt_R_with_C9_delay'))}.")
    lines = []
    sc = next(g["params"] for g in b["global_fits"] if "scale" in g["label"])
    pf = next(g["params"] for g in b["global_fits"] if "inlet-pressure" in g["label"])
    for g in b["global_fits"]:
        lines.append(f"{g['label']} = {', '.join(f'{v:.3g}' for v in g['params'])}: rms "
                     f"{g['rms_s']:.2f} s (nominal {b['nominal_rms_s']:.2f} s), median "
                     + ", ".join(f"{k} {_pct(v)}" for k, v in g["median_rel_dt_R"].items()))
    L.append(
        "- **Oven temperature, thermal lag, flow (global instrument parameters fitted to A, B "
        "and D together, a diagnostic only).** " + "; ".join(lines) + ". A lag of the column "
        "behind the oven shifts every alkane eluting in a ramp by the same time and cannot "
        "make the decline with carbon number (the best lag barely lowers the rms); a constant "
        "oven offset trades D against B. An oven calibration error (offset + scale: "
        f"{sc[0]:+.1f} K at 40 °C, {sc[0] + 260.0 * sc[1]:+.1f} K at 300 °C) brings all three "
        "medians below 0.5 %: a size within the usual accuracy of a GC oven, but nothing in "
        "these data measures it, so it stays a candidate. The best pair, offset + inlet "
        f"pressure, needs p_in {100 * (pf[1] - 1):+.0f} % and {pf[0]:+.1f} K — the "
        "degeneracy of temperature and flow in programmed GC, not a plausible instrument "
        "state. None is modelled.")
    L.append(
        "- **The retention parameters (and the temperature range they come from).** If the "
        "database parameters were simply off (e.g. extrapolated outside the temperatures "
        "they were measured at), one corrected set would fit every program. Estimated from "
        "each pair of conventional programs (cross-validation below), every alkane needs "
        "about the same shift, but a different one for each pair, many standard errors "
        "apart; and all three parameters from A, B and D need ΔCp of the wrong sign. The "
        "three programs are therefore not consistent with any one set of K-centric "
        "parameters under the nominal column: the bias is a run-dependent systematic of the "
        "conventional instrument, not a database error. (The source's table, Leppert2020b "
        "Table S1 as distributed in RetentionData, flags C24–C30 with an asterisk; the "
        "temperature range of the parameters is not in the data.)")
    rng = ", ".join(f"{k} {100 * lo:+.1f} … {100 * hi:+.1f} %" for k, (lo, hi) in
                    b["range_rel_dt_R_C11_C20"].items())
    L.append(
        "- **Verdict.** The bias depends on the program: relative residuals of C11–C20 "
        f"{rng} (slow ramp worst); it is largest for the first alkanes and shrinks with "
        "elution temperature (C21–C30: " + ", ".join(
            f"{k} {100 * lo:+.2f} … {100 * hi:+.2f} %" for k, (lo, hi) in
            b["range_rel_dt_R_C21_C30"].items()) + "). No measured quantity of this data set "
        "explains it; it is reported, not modelled.")
    return "\n".join(L)


def _width_text(summ, mv):
    L = []
    conv = {k: v for k, v in summ.items() if v["kind"] == "conventional"
            and "detector_time_constant_s" in v}
    if conv:
        est = "; ".join(
            f"{k}: e-folding {v['detector_tau_estimates_s']['tau_efold_s']:.2f} s, exponential "
            f"fit {v['detector_tau_estimates_s']['tau_expfit_s']:.2f} s, half the integrated "
            f"time {v['detector_tau_estimates_s']['tau_int_half_s']:.2f} s, lag-1 AR(1) "
            f"{v['detector_tau_estimates_s']['tau_ar1_s']:.2f} s" for k, v in conv.items())
        L.append(
            "- **Detector time constant from the baseline noise** (peak-free stretches after "
            "100 s, 15-s chunks minus a quadratic): " + est + ". The estimates disagree "
            "because the noise is not first-order-filtered white noise: its spectrum falls "
            "off as f⁻² from about 0.4 Hz and then drops by three decades at 11–12 Hz (the "
            "acquisition's digital filter), which inflates the lag-1 correlation. The "
            "e-folding lag is used. With it, the median σ ratio becomes "
            + ", ".join(f"{k} {v['median_sigma_ratio_with_detector']:.3f} (from "
                        f"{v['median_sigma_ratio']:.3f})" for k, v in conv.items())
            + ". A single time constant cannot serve all three runs, and the next two "
            "points show the detector is not the cause.")
    c = mv.get("conventional")
    if c:
        L.append(
            f"- **Additive or proportional?** Over the {c['n']} conventional peaks, "
            f"σ_meas² − σ_pred² = {c['intercept_s2']:+.4f} s² + {c['slope']:.3f} σ_pred² "
            f"(rms {c['rms_both_s2']:.4f} s²; a constant alone leaves "
            f"{c['rms_constant_only_s2']:.4f} s², a slope alone "
            f"{c['rms_proportional_only_s2']:.4f} s²). The missing variance is about "
            f"{100 * c['proportional_only_slope']:.0f} % of the predicted variance at every "
            "width from 0.3 to 1 s and the constant term is not positive: no additive cause "
            "(detector filter, extra-column volume after the column, injection band) is "
            "supported. (Within one run the widths span too narrow a range to split the two: "
            + ", ".join(f"{k} intercept {v['intercept_s2']:+.3f} s², slope {v['slope']:+.2f}"
                        for k, v in c["per_run"].items())
            + ".) A first-order detector filter would also skew the peaks by 2τ³/σ³: "
            + _skew_text(summ) + ". A proportional deficit is a plate-height deficit: "
            "the runs are far above the optimum velocity (u = 0.6–2.6 m/s at 40 °C with H2), where "
            "the Golay gas-phase term ∝ 1/D_M dominates and the film term is below 1 % of "
            "the variance; a 30 % smaller D_M (Fuller's correlation is quoted to 5–10 %) or "
            "a non-ideal (coiled, non-uniform) column would do it. Not measured here, so not "
            "modelled.")
    g = mv.get("thermal-gradient")
    if g:
        pr = ", ".join(f"{k} {v['intercept_s2']:+.1e} s² / {v['slope']:.2f}"
                       for k, v in g["per_run"].items())
        tgs = [v for v in summ.values() if v["kind"] == "thermal-gradient"]
        lows = [100 * (1 - v["median_sigma_ratio"]) for v in tgs]
        rho = [v["detector_rho_lag1"] for v in tgs if "detector_rho_lag1" in v]
        L.append(
            f"- **Thermal-gradient widths** are {min(lows):.0f}–{max(lows):.0f} % low "
            f"(median per run; σ_pred {1e3 * g['x'].min() ** 0.5:.0f}–"
            f"{1e3 * g['x'].max() ** 0.5:.0f} ms). Per run, intercept / slope of the same "
            "regression: " + pr
            + ". The no-gradient run looks additive (an extra spread of √intercept, "
            "extra-column broadening), the gradient runs proportional and growing along the run "
            "(the late peaks tail, as the peer notes). The baseline noise of these runs is "
            f"nearly white (lag-1 correlation {min(rho):.2f}–{max(rho):.2f} at 20 ms), so the "
            "detector adds little (median σ ratio with τ_d in the table).")
    return "\n".join(L)


def _skew_text(summ):
    parts = []
    for k, v in summ.items():
        if "late_peaks_median_skewness" in v:
            parts.append(f"{k} {v['late_peaks_median_skewness']:+.2f} ± "
                         f"{v['late_peaks_skewness_stderr']:.2f} measured against "
                         f"{v['late_peaks_skewness_if_detector']:+.2f} for τ_d = "
                         f"{v['detector_time_constant_s']:.2f} s (bound τ_d ≤ "
                         f"{v['detector_tau_bound_from_skewness_s']:.2f} s)")
    return ("median skewness of C15–C25 (peaks without solvent effects) " + "; ".join(parts)
            if parts else "no skewness data")


def _smooth_text(sm):
    L = []
    rows = ", ".join(
        f"{k}: max |Δt_R| {v['max_abs_change_t_R_s']:.3f} s, max σ change "
        f"{100 * v['max_rel_change_sigma']:.1f} %, wall {v['wall_time_s']:.2f} s "
        f"({v['n_nodes']} nodes)" for k, v in sm["runs"].items())
    L.append(
        f"- Bins of {sm['window_s']:g} s against {sm['check_window_s']:g} s: " + rows + ". The "
        "median |Δt_R| of each run moves by at most "
        f"{max(abs(v['change_median_abs_dt_R_s']) for v in sm['runs'].values()):.3f} s and "
        "the median σ ratio by at most "
        f"{max(abs(v['change_median_sigma_ratio']) for v in sm['runs'].values()):.4f}: the "
        "result does not depend on the choice (the change is the rounding of the ramp's "
        "corners within one bin).")
    if "raw_log" in sm:
        r = sm["raw_log"]
        L.append(
            f"- The raw log ({r['n_nodes']} nodes, 0.123-K steps) for {r['solute']} in "
            f"{r['run']}: {r['wall_time_s']:.1f} s for this one alkane, against "
            f"{r['binned_wall_time_per_solute_s']:.3f} s per alkane binned; its t_R differs "
            f"by {r['change_t_R_s']:+.3f} s and its σ by {100 * r['rel_change_sigma']:+.1f} %.")
    return "\n".join(L)


def _cv_text(cvs, extra):
    L = []
    for cv in cvs:
        rows = ", ".join(
            f"{k} {_pct(v['median_rel_dt_R'])} / {v['median_abs_dt_R_s']:.2f} s (database "
            f"{_pct(v['database_median_rel_dt_R'])} / {v['database_median_abs_dt_R_s']:.2f} s)"
            for k, v in cv["runs"].items())
        L.append(
            f"- **From {' + '.join(cv['fit_runs'])}** ({', '.join(cv['parameters'])} per "
            f"alkane, ΔCp held at the database value: two runs determine two parameters; "
            f"{cv['n_converged']}/{len(cv['names'])} converged, median condition number "
            f"{cv['median_condition_number']:.0f}, fit rms {cv['fit_rms_residual_s']:.3f} s: "
            "two data, two parameters). "
            f"Median shifts from the database: T_char {cv['median_shift_T_char_K']:+.2f} K "
            f"(standard error {cv['median_stderr_T_char_K']:.2f} K), θ_char "
            f"{cv['median_shift_theta_char_K']:+.2f} K (± "
            f"{cv['median_stderr_theta_char_K']:.2f} K). Predicted median |Δt_R|/t_R / "
            f"|Δt_R|: {rows}.")
    if extra.get("abd"):
        a = extra["abd"]
        L.append(
            f"- **All three parameters from A + B + D** (three runs, exactly determined): "
            f"ΔCp moves by {a['dCp_shift_min']:.0f} … {a['dCp_shift_max']:.0f} J/mol/K (database "
            f"+89 … +217), to negative values, with T_char {a['T_char_shift_median']:+.1f} K "
            f"and θ_char {a['theta_char_shift_median']:+.1f} K (alkanes have ΔCp > 0). "
            "Thermal-gradient median |Δt_R| with these parameters (database in brackets): "
            + ", ".join(f"{k} {v:.2f} s ({a['tg_database_median_abs_dt_R_s'][k]:.2f} s)"
                        for k, v in a["tg_median_abs_dt_R_s"].items()) + ".")
    pairs = [cv for cv in cvs if len(cv["fit_runs"]) == 2]
    if len(pairs) > 1:
        sh = [cv["median_shift_T_char_K"] for cv in pairs]
        se = max(cv["median_stderr_T_char_K"] for cv in pairs)
        L.append(
            f"- **Consistency.** The median T_char shift is {min(sh):+.1f} … {max(sh):+.1f} K "
            f"depending on the pair of programs, with standard errors ≤ {se:.2f} K (from the "
            "0.001-min resolution of the lists): the pairs disagree by "
            f"{(max(sh) - min(sh)) / se:.0f} standard errors. Per-solute parameters absorb a "
            "run-dependent systematic; they help the held-out conventional program in some "
            "pairs and not in others, and carry over to the thermal-gradient instrument "
            "(another column, gas and oven) only partly. The estimator itself works (synthetic "
            "recovery in tests/chromatography/test_estimation.py); the data do not support a "
            "better database.")
    return "\n".join(L)


# ---------------------------------------------------------------------------------------------
def _load_expected():
    p = HERE / "expected.json"
    return json.loads(p.read_text()) if p.exists() else {}


def _clean(d):
    """JSON-able copy of a metrics dict (arrays and private entries dropped)."""
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items() if k not in ("x", "y", "acf", "lags", "fit")}
    if isinstance(d, list | tuple):
        return [_clean(v) for v in d]
    if isinstance(d, np.ndarray):
        return d.tolist()
    if isinstance(d, np.floating | np.integer | np.bool_):
        return d.item()
    return d


def run(outdir, quick: bool = False) -> dict:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    db = database()
    if quick:
        quick_names = ["C10", "C14", "C18", "C22"]  # across the elution range
        plan = {"progA": quick_names, "progB": quick_names, "no_gradient": quick_names}
    else:
        plan = {r: None for r in RUNS}
    results = [predict_run(run, db, names) for run, names in plan.items()]
    summ = {r["run"]: summarise(r) for r in results}
    conv = [r for r in results if r["kind"] == "conventional"]
    tg = [r for r in results if r["kind"] == "thermal-gradient"]
    mv = missing_variance(results)
    by_run = {r["run"]: r for r in results}

    # cross-validation: estimate from A and B, predict D and the gradient runs
    if quick:
        cv_names = ["C12", "C20"]
        d_res = predict_run("progD", db, cv_names, with_noise=False)
        by_run["progD"] = d_res
        cvs = [cross_validate(db, ["progA", "progB"], ["progD"], cv_names, by_run,
                              ("T_char", "theta_char"))]
    else:
        cv_names = [n for n in by_run["progA"]["names"] if n in by_run["progB"]["names"]]
        cvs = [cross_validate(db, ["progA", "progB"], ["progD", *TG_RUNS], cv_names, by_run,
                              ("T_char", "theta_char")),
               cross_validate(db, ["progA", "progD"], ["progB"], cv_names, by_run,
                              ("T_char", "theta_char")),
               cross_validate(db, ["progB", "progD"], ["progA"], cv_names, by_run,
                              ("T_char", "theta_char"))]
    extra = {}
    bias = smooth = None
    if not quick:
        # all three parameters from A, B and D, carried to the gradient runs
        c9_25 = [n for n in CONV_C9_C25 if n in cv_names]
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            fabd = fit_retention_parameters([estimation_run(r, c9_25) for r in CONV_PROGRAMS],
                                            [db[n] for n in c9_25])
        dshift = fabd.estimates[:, 2] - [db[n].retention.dCp for n in c9_25]
        tgm = {}
        for r in tg:
            nn = [n for n in r["names"] if n in c9_25]
            tm = np.array([r["t_meas"][r["names"].index(n)] for n in nn])
            tab = predict(r["run"], [fabd.solutes[n] for n in nn], col=r["column"])
            tgm[r["run"]] = float(np.median(np.abs(tab.t_R - tm)))
        extra["abd"] = dict(
            converged=bool(fabd.all_converged), dCp_shift_min=float(dshift.min()),
            dCp_shift_max=float(dshift.max()),
            T_char_shift_median=float(np.median(fabd.estimates[:, 0] - [
                db[n].retention.T_char for n in c9_25])),
            theta_char_shift_median=float(np.median(fabd.estimates[:, 1] - [
                db[n].retention.theta_char for n in c9_25])),
            tg_median_abs_dt_R_s=tgm,
            tg_database_median_abs_dt_R_s={r["run"]: summarise(r)["median_abs_dt_R_s"]
                                           for r in tg})
        bias = bias_diagnostics(conv, db)
        smooth = smoothing_check(tg, db, raw_probe=("med_gradient", "C15"))

    # checks
    checks = {}
    cs = [s for s in summ.values() if s["kind"] == "conventional"]
    ts = [s for s in summ.values() if s["kind"] == "thermal-gradient"]
    checks["conventional: median |Δt_R|/t_R ≤ 1 % per run (peer: mostly within 1 %)"] = (
        all(s["median_rel_dt_R"] <= 0.01 for s in cs),
        ", ".join(f"{k} {_pct(v['median_rel_dt_R'])}" for k, v in summ.items()
                  if v["kind"] == "conventional"))
    checks["conventional: median σ_pred/σ_meas in [0.85, 1.15] (peer: 10–15 % low)"] = (
        all(0.85 <= s["median_sigma_ratio"] <= 1.15 for s in cs),
        ", ".join(f"{k} {v['median_sigma_ratio']:.3f}" for k, v in summ.items()
                  if v["kind"] == "conventional"))
    if ts:
        checks["thermal gradient: median |Δt_R| ≤ 1 s per run (peer: within 1 s)"] = (
            all(s["median_abs_dt_R_s"] <= 1.0 for s in ts),
            ", ".join(f"{k} {v['median_abs_dt_R_s']:.2f} s" for k, v in summ.items()
                      if v["kind"] == "thermal-gradient"))
        checks["thermal gradient: median σ_pred/σ_meas ≥ 0.5 (peer: up to 50 % low)"] = (
            all(s["median_sigma_ratio"] >= 0.5 for s in ts),
            ", ".join(f"{k} {v['median_sigma_ratio']:.3f}" for k, v in summ.items()
                      if v["kind"] == "thermal-gradient"))
    checks["every alkane elutes within its program"] = (
        all(s["all_eluted"] for s in summ.values()), "")
    checks["retention-parameter estimation converged"] = (
        all(cv["converged"] for cv in cvs),
        ", ".join(f"{'+'.join(cv['fit_runs'])}: {cv['n_converged']}/{len(cv['names'])}"
                  for cv in cvs))
    if smooth:
        worst = max(v["max_abs_change_t_R_s"] for v in smooth["runs"].values())
        checks[f"program bins {PROGRAM_WINDOW:g} s vs {CHECK_WINDOW:g} s: t_R within 0.15 s"] = (
            worst <= 0.15, f"max |Δt_R| {worst:.3f} s")
    expected = _load_expected()
    if not quick and expected.get("runs"):
        tol = expected.get("tolerance", {})
        bad = []
        for k, ref in expected["runs"].items():
            s = summ.get(k)
            if s is None:
                continue
            for key in ("median_rel_dt_R", "median_abs_dt_R_s", "median_sigma_ratio"):
                rel = tol.get(key, 0.02)
                if abs(s[key] - ref[key]) > rel * abs(ref[key]) + 1e-12:
                    bad.append(f"{k} {key} {s[key]:.4g} vs {ref[key]:.4g}")
        checks["no regression against expected.json"] = (
            not bad, "; ".join(bad) or "within the tolerances of the reference run")

    figures = []
    figures.append(_overlay(conv, outdir, f"{PREFIX}_conventional_overlay.png",
                            "Conventional GC (H2): measured (up) and predicted from the "
                            "database (mirrored)"))
    if tg:
        figures.append(_overlay(tg, outdir, f"{PREFIX}_gradient_overlay.png",
                                "Thermal-gradient GC (He): measured (up) and predicted from "
                                "the database (mirrored)"))
    zr = by_run.get("progD") if not quick else by_run["progB"]
    if zr is not None and "detector" in zr:
        figures.append(_zoom(zr, outdir, ["C9", "C10", "C12", "C15", "C20", "C25"]))
    figures.append(_residuals(results, outdir, cvs[0]))
    figures.append(_widths(results, mv, outdir))
    figures.append(_cv_figure(cvs[0], outdir))

    markdown = _markdown(results, summ, checks, quick, mv, bias, smooth, cvs, extra)
    rows = _rows(summ, checks, smooth)
    metrics = {
        "quick": quick,
        "runs": summ,
        "cross_validation": {"+".join(cv["fit_runs"]): cv for cv in cvs},
        "cross_validation_all_three_parameters_ABD": extra.get("abd", {}),
        "width_deficit": mv,
        "bias_diagnostics": bias or {},
        "program_smoothing": smooth or {},
        "checks": {k: bool(v[0]) for k, v in checks.items()},
        "wall_time_s": time.perf_counter() - t_start,
    }
    metrics = json.loads(json.dumps(_clean(metrics), default=float))
    return {"title": "Leppert 2020: retention times and widths predicted from the database",
            "markdown": markdown, "metrics": metrics, "figures": figures,
            "passed": all(v[0] for v in checks.values()), "checks": rows}


def _rows(summ, checks, smooth):
    """The summary-table rows (sciflow.validation.Check), one per entry of ``checks``."""
    src = "measured t_R and σ lists, Leppert et al. 2020 (data/leppert2020b)"
    peer = "peer: GasChromatographySimulator.jl (Leppert 2020) "
    cs = {k: v for k, v in summ.items() if v["kind"] == "conventional"}
    ts = {k: v for k, v in summ.items() if v["kind"] == "thermal-gradient"}
    by_key = {k.split(" (")[0]: v for k, v in checks.items()}
    rows = []
    rel = max(v["median_rel_dt_R"] for v in cs.values())
    rows.append(Check(f"conventional: median |Δt_R|/t_R, worst of {len(cs)} runs", rel,
                      "measured t_R", src, error=rel, tolerance=0.01,
                      passed=by_key["conventional: median |Δt_R|/t_R ≤ 1 % per run"][0],
                      note=peer + "mostly within 1 %"))
    sr = max((v["median_sigma_ratio"] for v in cs.values()), key=lambda r: abs(r - 1))
    rows.append(Check("conventional: median σ_pred/σ_meas, worst run", sr, 1, src,
                      error=abs(sr - 1), tolerance=0.15,
                      passed=by_key["conventional: median σ_pred/σ_meas in [0.85, 1.15]"][0],
                      note=peer + "10–15 % low"))
    if ts:
        dt = max(v["median_abs_dt_R_s"] for v in ts.values())
        rows.append(Check(f"thermal gradient: median |Δt_R|, worst of {len(ts)} runs", dt,
                          "measured t_R", src, error=dt, tolerance=1.0, unit="s",
                          passed=by_key["thermal gradient: median |Δt_R| ≤ 1 s per run"][0],
                          note=peer + "within 1 s"))
        lo = min(v["median_sigma_ratio"] for v in ts.values())
        rows.append(Check("thermal gradient: median σ_pred/σ_meas, lowest run", lo, 1, src,
                          tolerance=">= 0.5", passed=by_key[
                              "thermal gradient: median σ_pred/σ_meas ≥ 0.5"][0],
                          note=peer + "up to 50 % low"))
    for key in ("every alkane elutes within its program",
                "retention-parameter estimation converged"):
        rows.append(Check(key, checks[key][0], True, "sciflow.chromatography",
                          passed=checks[key][0], note=checks[key][1][:200]))
    if smooth:
        worst = max(v["max_abs_change_t_R_s"] for v in smooth["runs"].values())
        rows.append(Check(f"oven-program bins {PROGRAM_WINDOW:g} s vs {CHECK_WINDOW:g} s: "
                          "max change of t_R", worst, 0, "measured oven programs", error=worst,
                          tolerance=0.15, unit="s", passed=worst <= 0.15))
    key = "no regression against expected.json"
    if key in checks:
        rows.append(Check("no regression vs the reference run",
                          "regressed" if not checks[key][0] else "within tolerance",
                          "expected.json", "validation/leppert2020b_prediction/expected.json",
                          passed=checks[key][0], note=checks[key][1][:200]))
    return rows


if __name__ == "__main__":  # pragma: no cover
    import sys

    import matplotlib

    matplotlib.use("Agg")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out"
    res = run(out, quick="--quick" in sys.argv)
    (out / f"{PREFIX}.md").write_text(res["markdown"])
    (out / f"{PREFIX}_metrics.json").write_text(json.dumps(res["metrics"], indent=1))
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk.startswith("median")}
                      for k, v in res["metrics"]["runs"].items()}, indent=1))
    print("passed:", res["passed"])
