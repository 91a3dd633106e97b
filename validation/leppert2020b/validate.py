"""Fit every n-alkane peak of the measured Leppert 2020 chromatograms with the CC24 model.

Data: ``data/leppert2020b`` (GasChromatographySimulator.jl, MIT; see data/README.md): three
temperature-programmed runs on a conventional 11.18-m column (programs A, B, D; C9-C25 fitted,
17 peaks each) and five runs on a 2.05-m thermal-gradient column (every alkane the run's
retention list names, C9/C11-C30).

Each peak gets its own (k_a, k_d, amplitude) and a linear baseline on its window
(:func:`sciflow.chromatography.fit.fit`, exact Thomas solution, compressible carrier gas). The
script reports R^2 per peak, the fitted against the listed retention times and widths, the
noise ceiling of R^2 and the shape of the residuals. ``expected.json`` holds the reference
numbers this script is checked against; ``notes.md`` explains the choices.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from sciflow.chromatography import Column
from sciflow.chromatography.fit import fit
from sciflow.chromatography.io import (
    read_leppert_chromatogram,
    read_leppert_program,
    read_leppert_retention,
)
from sciflow.validation import Check, save_figure

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "data" / "leppert2020b"
PREFIX = "leppert2020b"

# Column and carrier gas (He). The viscosity only sets the hold-up time t_M, hence the map from
# (t_R, sigma) to (k_a, k_d); R^2 and the fitted t_R and sigma do not depend on it.
RADIUS = 52e-6  # 0.104 mm inner diameter
FILM = 0.104e-6
VISCOSITY = 2.4e-5  # He near 150 C (1.96e-5 at 20 C, 2.5e-5 at 150 C, 2.7e-5 at 200 C)
CONVENTIONAL = dict(length=11.18, inlet_pressure=411_564.0, outlet_pressure=101_300.0)
TG_LENGTH = 2.05
# Injection pulse lengths (s): unresolved by the data (a pulse adds t_inj^2/12 to the variance,
# indistinguishable from column broadening); chosen an order of magnitude below the narrowest
# peak (sigma 0.29 s conventional, 0.05 s thermal-gradient), so they change no peak's
# variance by more than 0.3 %. They are whole multiples of the sampling step.
T_INJ = {"conventional": 0.05, "thermal-gradient": 0.02}
WINDOW = 6.0  # fitting window t_R +- 6 sigma
R2_TARGET = 0.99

RUNS = [
    dict(run="progA", kind="conventional", chrom="progA"),
    dict(run="progB", kind="conventional", chrom="progB"),
    dict(run="progD", kind="conventional", chrom="progD"),
    dict(run="no_gradient", kind="thermal-gradient", chrom="no_gradient_x3"),
    dict(run="low_gradient", kind="thermal-gradient", chrom="low_gradient_x84"),
    dict(run="med_gradient", kind="thermal-gradient", chrom="med_gradient_x90"),
    dict(run="high_gradient", kind="thermal-gradient", chrom="high_gradient_x7"),
    dict(run="const_gradient", kind="thermal-gradient", chrom="const_gradient_x79"),
]
CONVENTIONAL_PEAKS = [f"C{n}" for n in range(9, 26)]
FIGURE_RUNS = ("progD", "no_gradient", "high_gradient")


def _column(spec, t_end):
    if spec["kind"] == "conventional":
        return Column(radius=RADIUS, film_thickness=FILM, temperature=423.15,
                      viscosity=VISCOSITY, **CONVENTIONAL)
    prog = read_leppert_program(DATA / f"Leppert2020b_prog_settings_{spec['chrom']}.csv")
    sel = prog["time"] <= t_end
    return Column(length=TG_LENGTH, radius=RADIUS, film_thickness=FILM, temperature=423.15,
                  inlet_pressure=float(np.median(prog["inlet_pressure"][sel])),
                  outlet_pressure=float(np.median(prog["outlet_pressure"][sel])),
                  viscosity=VISCOSITY)


def _noise_sigma(t, y, windows):
    """Robust standard deviation of the signal between the fitting windows (after removing a
    quadratic from each gap) and the integrated autocorrelation time of that noise (samples;
    1 for white noise): ``(sigma, tau)``."""
    res, taus = [], []
    edges = [t[0]] + [v for w in windows for v in w] + [t[-1]]
    for lo, hi in zip(edges[0::2], edges[1::2], strict=False):
        m = (t > lo) & (t < hi)
        if m.sum() > 40:
            tm = t[m] - t[m].mean()
            r = y[m] - np.polyval(np.polyfit(tm, y[m], 2), tm)
            res.append(r)
            r = r - r.mean()
            rho = [float(np.dot(r[:-k], r[k:]) / np.dot(r, r)) for k in range(1, min(
                100, r.size // 4))]
            tau = 1.0
            for v in rho:  # sum up to the first negative correlation
                if v <= 0:
                    break
                tau += 2.0 * v
            taus.append(tau)
    if not res:
        return float("nan"), float("nan")
    r = np.concatenate(res)
    return float(1.4826 * np.median(np.abs(r - np.median(r)))), float(np.median(taus))


def _skewness(t, w):
    s = w.sum()
    mu = (w * t).sum() / s
    var = (w * (t - mu) ** 2).sum() / s
    return float((w * (t - mu) ** 3).sum() / s / var**1.5)


def fit_run(spec, names=None):
    """Fit one run; returns a dict of results (and the FitResult under 'fit')."""
    t, y = read_leppert_chromatogram(DATA / f"Leppert2020b_measured_Chrom_{spec['chrom']}.csv")
    rt = read_leppert_retention(DATA / f"Leppert2020b_measured_RT_{spec['run']}.csv")
    listed = [n for n, (tr, _) in rt.items() if np.isfinite(tr)]
    if names is None:
        names = CONVENTIONAL_PEAKS if spec["kind"] == "conventional" else listed
    names = list(names)
    tr_all = np.array([rt[n][0] for n in listed])
    i0, i1 = listed.index(names[0]), listed.index(names[-1])
    gap_lo = tr_all[i0] - tr_all[i0 - 1] if i0 > 0 else tr_all[i0 + 1] - tr_all[i0]
    gap_hi = tr_all[i1 + 1] - tr_all[i1] if i1 + 1 < len(listed) else tr_all[i1] - tr_all[i1 - 1]
    lo, hi = tr_all[i0] - 0.5 * gap_lo, tr_all[i1] + 0.5 * gap_hi
    m = (t >= lo) & (t <= hi)
    tc, yc = t[m], y[m]
    column = _column(spec, t[-1])
    tinj = T_INJ[spec["kind"]]
    t0 = time.perf_counter()
    res = fit(tc, yc, column, len(names), injection_time=tinj, baseline="linear",
              window=WINDOW, progress=False)
    wall = time.perf_counter() - t0
    res = dataclasses.replace(res, names=tuple(names))  # peaks in order of the listed alkanes
    noise, noise_tau = _noise_sigma(tc, yc, res.windows)
    dt_med = float(np.median(np.diff(tc)))
    peaks = []
    for i, name in enumerate(names):
        tr_l, w_l = rt[name]
        tr_f, sd_f = res.retention_time[i], res.peak_std[i]
        pm = (tc >= tr_f - WINDOW * sd_f) & (tc <= tr_f + WINDOW * sd_f)
        yy, mm = yc[pm], res.model_signal[pm]
        ss_tot = float(np.sum((yy - yy.mean()) ** 2))
        ss_res = float(np.sum((yy - mm) ** 2))
        n_w = int(pm.sum())
        ceiling = 1.0 - n_w * noise**2 / ss_tot
        chi2 = ss_res / (n_w * noise**2)
        sk = (tc >= tr_f - 4 * sd_f) & (tc <= tr_f + 4 * sd_f)
        base = res.baseline_signal[sk]
        skew_data = _skewness(tc[sk], yc[sk] - base)
        skew_model = _skewness(tc[sk], res.model_signal[sk] - base)
        peaks.append(dict(
            name=name, tR_listed=tr_l, tR_fit=float(tr_f), dtR=float(tr_f - tr_l),
            sd_listed=w_l, sd_fit=float(sd_f), r2=float(res.r2[i]), r2_noise_ceiling=ceiling,
            chi2_red=chi2, skew_data=skew_data, skew_model=skew_model,
            k_a=float(res.k_a[i]), k_a_se=float(res.k_a_stderr[i]), k_d=float(res.k_d[i]),
            k_d_se=float(res.k_d_stderr[i]), height=float(np.max(res.components[i][pm])),
            snr=float(np.max(res.components[i][pm]) / noise), samples_per_sigma=sd_f / dt_med,
            A=float(column.phase_ratio * res.k_a[i] * column.holdup_time(True))))
    return dict(spec=spec, fit=res, peaks=peaks, wall=wall, noise=noise, noise_tau=noise_tau,
                column=column,
                t_inj=tinj, t=tc, y=yc)


def window_sensitivity(r, windows=(4.0, 8.0)):
    """Refit a run with other window half-widths: how far (k_a, k_d) move, in standard errors.

    The standard errors count the noise only; a model that misses the peak shape gives
    estimates that depend on how much of the peak and baseline the window holds.
    """
    base = r["fit"]
    out = {}
    for w in windows:
        alt = fit(r["t"], r["y"], r["column"], base.analytes, injection_time=r["t_inj"],
                  baseline="linear", window=w, progress=False)
        dka = alt.k_a / base.k_a - 1.0
        dkd = alt.k_d / base.k_d - 1.0
        out[f"{w:g}"] = dict(
            max_rel_change_k_a=float(np.max(np.abs(dka))),
            max_rel_change_k_d=float(np.max(np.abs(dkd))),
            median_change_in_se_k_a=float(np.median(np.abs(alt.k_a - base.k_a)
                                                    / base.k_a_stderr)),
            median_change_in_se_k_d=float(np.median(np.abs(alt.k_d - base.k_d)
                                                    / base.k_d_stderr)),
            median_r2=float(np.median(alt.r2)))
    return out


def _summary(r):
    p = r["peaks"]
    r2 = np.array([q["r2"] for q in p])
    dt = np.array([q["dtR"] for q in p])
    dsd = np.array([q["sd_fit"] / q["sd_listed"] - 1.0 for q in p])
    gaps = np.diff([q["tR_listed"] for q in p])
    return dict(
        kind=r["spec"]["kind"], n_peaks=len(p), median_r2=float(np.median(r2)),
        min_r2=float(r2.min()), min_r2_peak=p[int(np.argmin(r2))]["name"],
        median_r2_noise_ceiling=float(np.median([q["r2_noise_ceiling"] for q in p])),
        median_chi2_red=float(np.median([q["chi2_red"] for q in p])),
        max_abs_dtR_s=float(np.max(np.abs(dt))), median_abs_dtR_s=float(np.median(np.abs(dt))),
        max_rel_dtR=float(np.max(np.abs(dt) / np.array([q["tR_listed"] for q in p]))),
        median_rel_width_diff=float(np.median(dsd)), max_abs_rel_width_diff=float(
            np.max(np.abs(dsd))),
        peaks_matched=bool(np.all(np.abs(dt) < 0.25 * (gaps.min() if gaps.size else np.inf))),
        median_skew_data=float(np.median([q["skew_data"] for q in p])),
        median_skew_model=float(np.median([q["skew_model"] for q in p])),
        success=bool(r["fit"].success), fit_wall_time_s=r["wall"], noise_sigma=r["noise"],
        noise_autocorrelation_time_samples=r["noise_tau"],
        t_M_s=r["column"].holdup_time(True), injection_time_s=r["t_inj"],
        inlet_pressure_Pa=r["column"].inlet_pressure,
        outlet_pressure_Pa=r["column"].outlet_pressure,
        r2=[q["r2"] for q in p], dtR_s=[q["dtR"] for q in p], names=[q["name"] for q in p])


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def _fig_zoom(r, outdir, n_panels=6):
    import matplotlib.pyplot as plt

    res = r["fit"]
    n = res.n_peaks
    pick = np.unique(np.linspace(0, n - 1, min(n_panels, n)).round().astype(int))
    worst = int(np.argmin(res.r2))
    if worst not in pick:
        pick[-2 if pick.size > 2 else -1] = worst
        pick = np.unique(pick)
    cols = 3
    rows = math.ceil(pick.size / cols)
    fig, axs = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax, i in zip(axs.flat, pick, strict=False):
        tr, sd = res.retention_time[i], res.peak_std[i]
        res.plot(ax=ax, xlim=(tr - WINDOW * sd, tr + WINDOW * sd),
                 title=f"{res.names[i]}: R² = {res.r2[i]:.4f}")
        ax.legend().remove()
    for ax in axs.flat[pick.size:]:
        ax.axis("off")
    fig.suptitle(f"Leppert 2020 {r['spec']['run']} ({r['spec']['kind']}): data (dots), fit "
                 "(black), residuals below", fontsize="medium")
    return save_figure(fig, outdir, f"{PREFIX}_{r['spec']['run']}_fits.png", dpi=90)


def _fig_overview(r, outdir):
    import matplotlib.pyplot as plt

    res = r["fit"]
    fig, ax = plt.subplots(figsize=(11, 3.2))
    ax.plot(r["t"], r["y"], lw=0.5, color="0.5", label="data")
    ax.plot(r["t"], res.model_signal, lw=0.6, color="k", label="fit")
    for i, name in enumerate(res.names):
        ax.annotate(name, (res.retention_time[i], r["y"].max() * 0.02 + np.max(
            res.components[i]) + res.baseline_signal[np.searchsorted(r["t"],
                                                                     res.retention_time[i])]),
                    ha="center", fontsize=6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("signal")
    ax.set_title(f"Leppert 2020 {r['spec']['run']}: {res.n_peaks} peaks fitted, median R² = "
                 f"{np.median(res.r2):.4f}", fontsize="medium")
    ax.legend(fontsize="small")
    return save_figure(fig, outdir, f"{PREFIX}_{r['spec']['run']}_overview.png", dpi=90)


def _fig_r2(results, outdir):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    for k, r in enumerate(results):
        p = r["peaks"]
        x = [int(q["name"][1:]) for q in p]
        line, = a1.plot(x, [1 - q["r2"] for q in p], "o-", ms=3, lw=0.8,
                        label=r["spec"]["run"])
        a1.plot(x, [max(1 - q["r2_noise_ceiling"], 1e-6) for q in p], ":", lw=0.8,
                color=line.get_color())
        a2.plot(x, [q["dtR"] for q in p], "o-", ms=3, lw=0.8, color=line.get_color())
        del k
    a1.axhline(1 - R2_TARGET, color="k", lw=0.8, ls="--")
    a1.set_yscale("log")
    a1.set_xlabel("n-alkane carbon number")
    a1.set_ylabel("1 − R²  (dotted: noise floor)")
    a1.legend(fontsize="x-small", ncol=2)
    a1.set_title("unexplained fraction per peak (dashed: 1 − 0.99)", fontsize="small")
    a2.axhline(0, color="k", lw=0.5)
    a2.set_xlabel("n-alkane carbon number")
    a2.set_ylabel("t_R fitted − listed (s)")
    a2.set_title("retention time: fitted first moment − listed", fontsize="small")
    return save_figure(fig, outdir, f"{PREFIX}_r2_and_retention.png", dpi=90)


def _fig_residual_shape(results, outdir):
    """Mean residual / peak height against (t - t_R)/sigma: the structure the model misses."""
    import matplotlib.pyplot as plt

    grid = np.linspace(-WINDOW, WINDOW, 241)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for r in results:
        res = r["fit"]
        prof = []
        for i in range(res.n_peaks):
            tr, sd = res.retention_time[i], res.peak_std[i]
            z = (r["t"] - tr) / sd
            m = np.abs(z) <= WINDOW
            h = res.components[i][m].max()
            prof.append(np.interp(grid, z[m], (r["y"][m] - res.model_signal[m]) / h))
        ax.plot(grid, np.mean(prof, axis=0), lw=1.0, label=r["spec"]["run"])
    g = np.exp(-0.5 * grid**2)
    ax.plot(grid, 0.02 * g, color="0.6", lw=0.8, ls="--", label="2 % of a Gaussian peak")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("(t − t_R) / σ")
    ax.set_ylabel("mean residual / peak height")
    ax.set_title("residual structure averaged over the peaks of each run", fontsize="small")
    ax.legend(fontsize="x-small", ncol=2)
    return save_figure(fig, outdir, f"{PREFIX}_residual_shape.png", dpi=90)


# ---------------------------------------------------------------------------------------------
def _fmt(x, nd=4):
    return "—" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def _markdown(results, summaries, checks, quick, sens=None):
    L = []
    L.append(
        "Every n-alkane peak of the measured runs of Leppert et al. 2020 (data of "
        "GasChromatographySimulator.jl, `data/leppert2020b/`) fitted peak by peak with the "
        "diffusion-free CC24 model (exact Thomas solution, compressible He, linear baseline "
        f"per window, window t_R ± {WINDOW:g} σ). Each peak has its own constant (k_a, k_d): "
        "the model is isothermal while every run is temperature-programmed, so these are "
        "*effective* constants of that peak in that run (see the last section).")
    if quick:
        L.append("\n**Quick mode**: one run, a few peaks.")
    L.append("\nColumns: conventional runs L = 11.18 m, R = 52 µm, film 0.104 µm, "
             "p_in = 411 564 Pa, p_out = 101 300 Pa (given for program D and assumed for A and "
             "B); thermal-gradient runs L = 2.05 m, same bore and film, p_in = median inlet "
             "gauge pressure of the run's program file + 101.3 kPa, p_out = median detector "
             f"pressure. He viscosity {VISCOSITY:g} Pa s (about 150 °C) for both; it only sets "
             "t_M and so the scale of (k_a, k_d), not R², t_R or σ. Injection pulse "
             f"{T_INJ['conventional']} s (conventional) and {T_INJ['thermal-gradient']} s "
             "(thermal-gradient): an order of magnitude below the narrowest peak, so it "
             "changes no variance by more than 0.3 % (a rectangular pulse only adds "
             "t_inj²/12, which the data cannot tell from column broadening). The listed widths "
             "of the conventional runs are standard deviations in **seconds** (not minutes: "
             "they match the chromatograms to < 5 %).")
    L.append("\n### Summary per run\n")
    L.append("| run | peaks | median R² | min R² (peak) | median R² noise ceiling | "
             "median χ²/n | median skewness data | max \\|Δt_R\\| (s) | max \\|Δt_R\\|/t_R | "
             "median σ_fit/σ_listed − 1 | "
             "t_M (s) | fit wall (s) | converged |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run, s in summaries.items():
        L.append(f"| {run} | {s['n_peaks']} | {_fmt(s['median_r2'])} | {_fmt(s['min_r2'])} "
                 f"({s['min_r2_peak']}) | {_fmt(s['median_r2_noise_ceiling'])} | "
                 f"{s['median_chi2_red']:.1f} | {s['median_skew_data']:+.2f} | "
                 f"{s['max_abs_dtR_s']:.3f} | "
                 f"{100 * s['max_rel_dtR']:.3f} % | {100 * s['median_rel_width_diff']:+.1f} % | "
                 f"{s['t_M_s']:.2f} | {s['fit_wall_time_s']:.2f} | "
                 f"{'yes' if s['success'] else '**no**'} |")
    all_r2 = np.concatenate([s["r2"] for s in summaries.values()])
    L.append(f"\nAll {all_r2.size} peaks: median R² = {np.median(all_r2):.4f}, "
             f"{np.mean(all_r2 >= R2_TARGET) * 100:.0f} % of the peaks reach R² ≥ {R2_TARGET}, "
             f"minimum {all_r2.min():.4f}.")
    L.append("\n### Checks\n")
    for name, (ok, text) in checks.items():
        L.append(f"- {'✅' if ok else '❌'} {name}: {text}")
    L.append("\n### Per peak\n")
    for r in results:
        run = r["spec"]["run"]
        L.append(f"<details><summary>{run}: R², fitted vs listed t_R and σ, (k_a, k_d)"
                 "</summary>\n")
        L.append("| peak | t_R listed (s) | t_R fit (s) | Δt_R (s) | σ listed (s) | σ fit (s) | "
                 "R² | R² noise ceiling | height / noise | skew data / model | k_a (1/s) | "
                 "k_d (1/s) |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for q in r["peaks"]:
            L.append(f"| {q['name']} | {q['tR_listed']:.3f} | {q['tR_fit']:.3f} | "
                     f"{q['dtR']:+.3f} | {q['sd_listed']:.4f} | {q['sd_fit']:.4f} | "
                     f"{q['r2']:.4f} | {q['r2_noise_ceiling']:.4f} | {q['snr']:.0f} | "
                     f"{q['skew_data']:+.2f} / {q['skew_model']:+.3f} | "
                     f"{q['k_a']:.4g} ± {q['k_a_se']:.2g} | {q['k_d']:.4g} ± {q['k_d_se']:.2g} |")
        L.append("\n</details>\n")
    L.append("### What the data do and do not allow\n")
    L.append(_discussion(results, summaries))
    if sens:
        run, d = sens
        parts = [f"±{w} σ: k_a moves by up to {v['max_rel_change_k_a'] * 100:.1f} % "
                 f"(median {v['median_change_in_se_k_a']:.1f} standard errors), k_d by up to "
                 f"{v['max_rel_change_k_d'] * 100:.1f} % (median "
                 f"{v['median_change_in_se_k_d']:.1f} standard errors)" for w, v in d.items()]
        L.append(
            f"- **Standard errors count the noise only.** Refitting {run} with other windows "
            f"than ±{WINDOW:g} σ: " + "; ".join(parts) + ". Because the model misses the "
            "peak shape, the estimates depend on the window by more than their standard "
            "errors; quote (k_a, k_d) with this systematic spread, not the standard errors "
            "alone.")
    taus = {k: v["noise_autocorrelation_time_samples"] for k, v in summaries.items()}
    L.append(
        "- **Correlated noise.** The standard errors assume white noise; the baseline noise "
        "has an integrated autocorrelation time of "
        + ", ".join(f"{k} {v:.1f}" for k, v in taus.items())
        + " samples, so for the runs well above 1 the standard errors are too small by "
        "about the square root of that number as well.")
    return "\n".join(L)


def _discussion(results, summaries):
    L = []
    peaks = [q for r in results for q in r["peaks"]]
    tg_p = [q for r in results if r["spec"]["kind"] == "thermal-gradient" for q in r["peaks"]]
    cv_p = [q for r in results if r["spec"]["kind"] == "conventional" for q in r["peaks"]]
    skew_m = np.median([q["skew_model"] for q in peaks])
    chi = [s["median_chi2_red"] for s in summaries.values()]
    a_lo, a_hi = min(q["A"] for q in peaks), max(q["A"] for q in peaks)
    L.append(
        f"- **Shape.** With A = α k_a t_M between {a_lo:.1e} and {a_hi:.1e} adsorptions per "
        "molecule the "
        "Thomas peak is a Gaussian to within its skewness 2.1/√A (median "
        f"{skew_m:+.3f} here), so each fit is in effect a Gaussian with the model's "
        "moments. The measured peaks are not Gaussian to that degree: their skewness on "
        "t_R ± 4σ is " + ", ".join(
            f"{k} {np.median([q['skew_data'] for q in v]):+.2f}"
            for k, v in (("conventional", cv_p), ("thermal-gradient", tg_p)) if v)
        + " (median; per peak in the tables), and the mean residual profile (figure "
        "*residual_shape*) shows what a constant (k_a, k_d) cannot produce: mostly a tail lobe "
        "at t_R + 2–3 σ with a deficit on the leading side and a narrower top (the "
        "no_gradient run fronts instead: a lobe at t_R − 2.5 σ, negative median skewness "
        "in the summary). "
        "This, not noise, is what limits R²: the residual sum of squares is "
        f"{min(chi):.1f}–{max(chi):.1f} times (median per run) what the baseline noise "
        "alone would give.")
    if tg_p:
        sps = [q["samples_per_sigma"] for q in tg_p]
        first = [q for r in results if r["spec"]["kind"] == "thermal-gradient"
                 for q in r["peaks"][:3]]
        snr = [q["snr"] for q in first]
        bad = sorted({q["name"] for q in tg_p if q["r2"] < R2_TARGET},
                     key=lambda n: int(n[1:]))
        L.append(
            f"- **Thermal-gradient runs** are sampled every 20 ms with peaks of "
            f"{min(sps):.1f}–{max(sps):.1f} samples per σ; their first three peaks stand "
            f"{min(snr):.0f}–{max(snr):.0f} noise standard deviations above the baseline, "
            "so their R² sits close to the noise ceiling listed per peak "
            "(1 − n σ_noise²/SS_tot, dotted in figure *r2_and_retention*). The peaks below "
            f"R² = {R2_TARGET} ({', '.join(bad) or 'none'}) are the last of each run: they "
            "tail (positive residual after the apex) and sit on a baseline that is not "
            "straight under them.")
    if cv_p:
        sps = [q["samples_per_sigma"] for q in cv_p]
        snr = [q["snr"] for q in cv_p]
        L.append(
            f"- **Conventional runs** (10 ms sampling, {min(sps):.0f}–{max(sps):.0f} samples "
            f"per σ, peak heights {min(snr):.0f}–{max(snr):.0f} noise standard deviations) "
            f"reach R² ≥ {min(q['r2'] for q in cv_p):.4f} on every peak; what is left is the "
            "non-Gaussian shape above.")
    conv = [s for s in summaries.values() if s["kind"] == "conventional"]
    if len(conv) >= 2:
        by_run = {r["spec"]["run"]: {q["name"]: q for q in r["peaks"]} for r in results
                  if r["spec"]["kind"] == "conventional"}
        runs = list(by_run)
        common = [n for n in ("C10", "C15", "C20", "C25") if all(n in by_run[x] for x in runs)]
        if common:
            rows = ["| alkane | " + " | ".join(f"K = k_a/k_d, {x}" for x in runs) + " |",
                    "|---|" + "---|" * len(runs)]
            for n in common:
                rows.append(f"| {n} | " + " | ".join(
                    f"{by_run[x][n]['k_a'] / by_run[x][n]['k_d']:.4g}" for x in runs) + " |")
            L.append(
                "- **The constants are not transferable between runs.** The model is isothermal "
                "with one (k_a, k_d) per analyte, while the runs are temperature-programmed "
                "(program D: 40 → 300 °C): the fit absorbs the program into effective "
                "constants, and the same alkane gets a different K = k_a/k_d in each "
                "program:\n\n" + "\n".join(rows) + "\n\n  Predicting one program from "
                "another needs temperature-dependent k_a(T), k_d(T) (e.g. from the K-centric "
                "retention parameters of the source's database), which this model does not "
                "have. The fitted t_R and σ (first moment and standard deviation of each "
                "peak) are what the data determine, and they agree with the listed values "
                "(Δt_R in the tables; the listed widths come from the source's own Gaussian "
                "fits).")
    L.append(
        "- **Extra-column broadening and injection** cannot be told apart from column "
        "broadening with one peak per analyte: all add to σ², so the fitted k_d absorbs them "
        "(it is a lower bound on the column's effective desorption rate).")
    return "\n".join(L)


def _load_expected():
    p = HERE / "expected.json"
    return json.loads(p.read_text()) if p.exists() else {}


def run(outdir, quick: bool = False) -> dict:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if quick:
        plan = [(RUNS[1], ["C9", "C10", "C11", "C12"])]
    else:
        plan = [(spec, None) for spec in RUNS]
    results = [fit_run(spec, names) for spec, names in plan]
    summaries = {r["spec"]["run"]: _summary(r) for r in results}
    expected = _load_expected()
    all_r2 = np.concatenate([s["r2"] for s in summaries.values()])
    checks = {}
    checks["median R² per peak ≥ 0.99"] = (
        bool(np.median(all_r2) >= R2_TARGET),
        f"median over {all_r2.size} peaks {np.median(all_r2):.4f}; per run "
        + ", ".join(f"{k} {v['median_r2']:.4f}" for k, v in summaries.items()))
    checks["every run's median R² ≥ 0.99"] = (
        all(s["median_r2"] >= R2_TARGET for s in summaries.values()), "see the table")
    checks["all fits converged"] = (all(s["success"] for s in summaries.values()), "")
    checks["fitted peaks match the listed alkanes"] = (
        all(s["peaks_matched"] for s in summaries.values()),
        "|Δt_R| < a quarter of the spacing to the next alkane; max |Δt_R|/t_R = "
        f"{max(s['max_rel_dtR'] for s in summaries.values()) * 100:.3f} %")
    ref = expected.get("runs", {})
    tol = expected.get("tolerance", {})
    regress = []
    for k, s in summaries.items():
        if k in ref and not quick:
            if s["median_r2"] < ref[k]["median_r2"] - tol.get("median_r2", 1e-3):
                regress.append(f"{k}: median R² {s['median_r2']:.4f} < reference "
                               f"{ref[k]['median_r2']:.4f}")
            lim = max(tol.get("dtR_factor", 2.0) * ref[k]["max_abs_dtR_s"], 0.02)
            if s["max_abs_dtR_s"] > lim:
                regress.append(f"{k}: max |Δt_R| {s['max_abs_dtR_s']:.3f} s > {lim:.3f} s")
    if not quick:
        checks["no regression against expected.json"] = (
            not regress, "; ".join(regress) or "within tolerance of the reference run")
    figures = []
    for r in results:
        if quick or r["spec"]["run"] in FIGURE_RUNS:
            figures.append(_fig_zoom(r, outdir))
    if not quick:
        figures.append(_fig_overview(results[2], outdir))
    figures.append(_fig_r2(results, outdir))
    figures.append(_fig_residual_shape(results, outdir))
    sens = None
    if not quick:
        d = next(r for r in results if r["spec"]["run"] == "progD")
        sens = ("progD", window_sensitivity(d))
    markdown = _markdown(results, summaries, checks, quick, sens)
    rows = _rows(summaries, all_r2, checks)
    metrics = {
        "quick": quick,
        "median_r2_all_peaks": float(np.median(all_r2)),
        "min_r2_all_peaks": float(all_r2.min()),
        "fraction_peaks_r2_ge_0.99": float(np.mean(all_r2 >= R2_TARGET)),
        "checks": {k: bool(v[0]) for k, v in checks.items()},
        "runs": summaries,
        "window_sensitivity": {sens[0]: sens[1]} if sens else {},
        "wall_time_s": time.perf_counter() - t0,
    }
    return {"title": "Leppert 2020: fits of measured n-alkane chromatograms",
            "markdown": markdown, "metrics": json.loads(json.dumps(metrics, default=float)),
            "figures": figures, "passed": all(v[0] for v in checks.values()), "checks": rows}


def _rows(summaries, all_r2, checks):
    """The summary-table rows (sciflow.validation.Check), one per entry of ``checks``."""
    src = "measured chromatograms, Leppert et al. 2020 (data/leppert2020b)"
    med = float(np.median(all_r2))
    worst = min(s["median_r2"] for s in summaries.values())
    rows = [Check(f"median R² of the peak fits ({all_r2.size} peaks)", med, 1, src,
                  error=1 - med, tolerance=round(1 - R2_TARGET, 12),
                  passed=checks["median R² per peak ≥ 0.99"][0], note="error = 1 - R²"),
            Check(f"lowest per-run median R² ({len(summaries)} runs)", worst, 1, src,
                  error=1 - worst, tolerance=round(1 - R2_TARGET, 12),
                  passed=checks["every run's median R² ≥ 0.99"][0]),
            Check("all fits converged", checks["all fits converged"][0], True, "optimizer",
                  passed=checks["all fits converged"][0]),
            Check("fitted t_R vs listed t_R, worst |Δt_R|/t_R",
                  max(s["max_rel_dtR"] for s in summaries.values()), "listed t_R", src,
                  error=max(s["max_rel_dtR"] for s in summaries.values()),
                  tolerance="< 1/4 spacing to the next alkane",
                  passed=checks["fitted peaks match the listed alkanes"][0])]
    key = "no regression against expected.json"
    if key in checks:
        rows.append(Check("no regression (median R², max |Δt_R|) vs the reference run",
                          "regressed" if not checks[key][0] else "within tolerance",
                          "expected.json", "validation/leppert2020b/expected.json",
                          passed=checks[key][0], note=checks[key][1][:200]))
    return rows


if __name__ == "__main__":  # pragma: no cover
    import sys

    import matplotlib

    matplotlib.use("Agg")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out"
    res = run(out, quick="--quick" in sys.argv)
    (out / "leppert2020b.md").write_text(res["markdown"])
    print(json.dumps(res["metrics"], indent=1)[:3000])
    print("passed:", res["passed"])
