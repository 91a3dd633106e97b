"""Validation of ``sciflow.multiplicative`` against the exact geometric-Brownian-motion law.

Reference: the GBM transition law is log-normal (Øksendal, *Stochastic Differential Equations*,
§5.1): ``log X_t | x0 ~ N(log x0 + m(t), v(t))``, ``m = int (mu - sigma^2/2)``,
``v = int sigma^2``; a log-normal mixture noised by GBM is again a log-normal mixture, with its
probability-flow map known to ~1e-10 (``BoundLogNormalMixture.exact_flow_map``). The model is
that of Shetty, Prasath & Seelamantula, "Dale meets Langevin", arXiv 2510.02730 (sigma = 0.8,
mu = 0.32 on t in [0, 1]).

Checks (tolerances stated once below, from the issue's targets and the measured errors):

1. **Fokker–Planck, 1-D** (``solve_fokker_planck``): from log X_0 ~ N(0, 0.15^2) on 600 log-uniform
   cells over log x in [-5, 4], dt = 0.01: L1 error at t = 1 below 1e-4 (measured 3.7e-5), mass
   conserved to 1e-12 (measured 3e-14), observed order in (h, dt) within 2 ± 0.2 (measured 2.00).
2. **Fokker–Planck, 2-D** with correlated noise (``solve_fokker_planck_2d``) against the bivariate
   log-normal: L1 error and observed order 2 ± 0.3.
3. **Exact-score samplers** on a two-component log-normal mixture (20,000 samples from the exact
   marginal at t = 1, brought to t = 1e-3): Kolmogorov–Smirnov distance to the exact marginal
   below 0.02 for Dale–Langevin and ambient Langevin at 100 quadratic steps, Dale–Langevin
   samples all > 0; the log-space probability-flow ODE (DPM-Solver++(2M), NFE 10) within 1e-2
   mean distance of the exact flow map.

``run(outdir, quick=False)`` returns the dict that ``sciflow validate`` expects.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import stats

from sciflow.multiplicative import (
    GBM,
    LogNormalMixture,
    ambient_langevin,
    dale_langevin,
    probability_flow,
    solve_fokker_planck,
    solve_fokker_planck_2d,
)
from sciflow.validation import Check, save_figure

FP_L1_TOL = 1e-4          # issue target: L1 below 1e-4 on a moderate grid (measured 3.7e-5)
FP_MASS_TOL = 1e-12       # issue target (measured 3e-14)
FP_ORDER = (1.8, 2.2)     # TR-BDF2 + Scharfetter-Gummel: 2 (measured 2.00, 1.99)
FP2_ORDER = (1.7, 2.3)    # 2-D, measured 2.06-2.14
KS_TOL = 0.02             # issue target at 20,000 samples (sampling floor ~ 0.006)
ODE_TOL = 1e-2            # issue target at NFE 10 (measured 1.4e-3)

GBM_AUTHORS = GBM(mu=0.32, sigma=0.8)
MIX = LogNormalMixture([0.35, 0.65], [[0.15], [0.55]], [[[0.004]], [[0.01]]])


def _lognormal_density(gbm, t, s0=0.15):
    m, v = float(gbm.log_mean(t)), float(gbm.log_variance(t))
    return lambda x: stats.lognorm(s=math.sqrt(s0**2 + v), scale=math.exp(m)).pdf(x)


def _log_grid(n, lo=-5.0, hi=4.0):
    h = (hi - lo) / n
    return np.exp(lo + h * (np.arange(n) + 0.5))


def run_fp_1d(quick):
    gbm = GBM_AUTHORS
    res = solve_fokker_planck(gbm, _log_grid(600), _lognormal_density(gbm, 0.0)(_log_grid(600)),
                              [0.0, 0.25, 0.5, 1.0], dt=0.01)
    l1 = [res.l1_error(_lognormal_density(gbm, t), k) for k, t in enumerate(res.t)]
    mass = float(np.max(np.abs(res.mass / res.mass[0] - 1.0)))
    sizes = (150, 300, 600) if quick else (100, 200, 400, 800)
    errs = []
    for n in sizes:
        xn = _log_grid(n)
        r = solve_fokker_planck(gbm, xn, _lognormal_density(gbm, 0.0)(xn), [0.0, 1.0],
                                dt=6.0 / n)
        errs.append(r.l1_error(_lognormal_density(gbm, 1.0)))
    orders = [math.log2(a / b) for a, b in zip(errs[:-1], errs[1:], strict=True)]
    ok = l1[-1] < FP_L1_TOL and mass < FP_MASS_TOL and FP_ORDER[0] <= orders[-1] <= FP_ORDER[1]
    return {"l1_error_t1": l1[-1], "l1_error": dict(zip(map(str, res.t), l1, strict=True)),
            "mass_drift": mass, "cells": list(sizes), "l1_refinement": errs,
            "observed_order": orders, "passed": bool(ok)}, res


def run_fp_2d(quick):
    mu = np.array([0.1, 0.3])
    Sigma = np.array([[0.5, 0.0], [-0.3, 0.4]])
    D = Sigma @ Sigma.T
    t_end, s0 = 0.5, 0.2
    sizes = ((24, 20), (48, 40), (96, 80)) if quick else ((24, 20), (48, 40), (96, 80),
                                                            (192, 160))
    cov = s0**2 * np.eye(2) + D * t_end
    mean = (mu - 0.5 * np.diag(D)) * t_end
    errs = []
    for n1, n2 in sizes:
        x1 = np.exp(-3.0 + 6.0 * (np.arange(n1) + 0.5) / n1)
        x2 = np.exp(-3.0 + 6.0 * (np.arange(n2) + 0.5) / n2)
        y1, y2 = np.log(x1)[:, None], np.log(x2)[None, :]
        p0 = (stats.norm.pdf(y1, 0, s0) * stats.norm.pdf(y2, 0, s0)) / (x1[:, None] * x2[None])
        r = solve_fokker_planck_2d(mu, Sigma, x1, x2, p0, [0.0, t_end], dt=0.5 * 6.0 / n1)

        def exact(a, b):
            y = np.stack(np.broadcast_arrays(np.log(a), np.log(b)), axis=-1)
            return stats.multivariate_normal(mean, cov).pdf(y) / (a * b)

        errs.append(r.l1_error(exact))
    orders = [math.log2(a / b) for a, b in zip(errs[:-1], errs[1:], strict=True)]
    ok = FP2_ORDER[0] <= orders[-1] <= FP2_ORDER[1]
    return {"correlation": float(D[0, 1] / math.sqrt(D[0, 0] * D[1, 1])),
            "cells": [list(s) for s in sizes], "l1_error": errs, "observed_order": orders,
            "passed": bool(ok)}


def _mixture_cdf(t):
    m, v = float(GBM_AUTHORS.log_mean(t)), float(GBM_AUTHORS.log_variance(t))
    return lambda x: sum(w * stats.norm.cdf((np.log(x) - mk - m) / math.sqrt(sk + v))
                         for w, mk, sk in zip(MIX.weights, MIX.log_means[:, 0],
                                              MIX.log_covs[:, 0, 0], strict=True))


def run_samplers(quick):
    model = MIX.bind(GBM_AUTHORS)
    x_T = model.sample(20_000, 1.0, rng=0)
    cdf = _mixture_cdf(1e-3)
    steps = (25, 50, 100) if quick else (25, 50, 100, 200, 400)
    table, samples = {}, {}
    for name, sampler in (("dale_langevin", dale_langevin),
                          ("ambient_langevin", ambient_langevin)):
        for n in steps:
            xs = sampler(model, x_T, GBM_AUTHORS, n_steps=n, spacing="quadratic", rng=1)
            table[f"{name}/{n}"] = {"ks": float(stats.kstest(xs[:, 0], cdf).statistic),
                                    "min_x": float(xs.min())}
            samples[name, n] = xs
    x_ode = probability_flow(model, x_T, GBM_AUTHORS, solver="dpmpp_2m", nfe=10)
    ode_err = float(np.mean(np.abs(x_ode - model.exact_flow_map(x_T))))
    ode_ks = float(stats.kstest(x_ode[:, 0], cdf).statistic)
    ok = (table["dale_langevin/100"]["ks"] < KS_TOL and table["ambient_langevin/100"]["ks"]
          < KS_TOL and all(v["min_x"] > 0 for k, v in table.items() if k.startswith("dale"))
          and ode_err < ODE_TOL)
    return {"ks": table, "ode_nfe10_mean_distance": ode_err, "ode_nfe10_ks": ode_ks,
            "passed": bool(ok)}, samples, x_ode, model


def run(outdir, quick=False):
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    fp1, fp_res = run_fp_1d(quick)
    fp2 = run_fp_2d(quick)
    smp, samples, x_ode, model = run_samplers(quick)
    figs = []
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    fp_res.plot(ax=a1)
    xx = np.geomspace(0.05, 20, 400)
    for tk in fp_res.t[1:]:
        a1.plot(xx, _lognormal_density(GBM_AUTHORS, tk)(xx), "k:", lw=0.8)
    a1.set(xlim=(0.05, 20), title="Fokker–Planck (lines) vs log-normal (dotted)")
    a2.loglog(fp1["cells"], fp1["l1_refinement"], "o-", label="1-D (t = 1)")
    a2.loglog([s[0] for s in fp2["cells"]], fp2["l1_error"], "s-", label="2-D, correlated")
    n = np.asarray(fp1["cells"], float)
    a2.loglog(n, fp1["l1_refinement"][0] * (n / n[0]) ** -2.0, "k:", label="order 2")
    a2.set(xlabel="cells per axis", ylabel="L1 error", title="grid convergence")
    a2.legend()
    figs.append(save_figure(fig, outdir, "multiplicative_fokker_planck.png"))
    fig, ax = plt.subplots(figsize=(7, 4))
    grid = np.linspace(0.8, 2.6, 400)
    ax.plot(grid, np.exp(model.log_density(grid[:, None], 1e-3)), "k", label="exact")
    ax.hist(samples["dale_langevin", 100][:, 0], bins=150, density=True, histtype="step",
            label="Dale–Langevin, 100 steps")
    ax.hist(samples["ambient_langevin", 100][:, 0], bins=150, density=True, histtype="step",
            label="ambient, 100 steps")
    ax.hist(x_ode[:, 0], bins=150, density=True, histtype="step", label="PF-ODE, NFE 10")
    ax.set(xlabel="x", ylabel="density", title="samples at t = 1e-3 with the exact score")
    ax.legend()
    figs.append(save_figure(fig, outdir, "multiplicative_samplers.png"))

    rows = ["| check | sciflow | tolerance | pass |", "|---|---|---|---|",
            f"| FP 1-D L1 error at t = 1 (600 cells) | {fp1['l1_error_t1']:.2e} | "
            f"{FP_L1_TOL:g} | {fp1['passed']} |",
            f"| FP 1-D mass drift | {fp1['mass_drift']:.1e} | {FP_MASS_TOL:g} | |",
            f"| FP 1-D observed order | {fp1['observed_order'][-1]:.2f} | {FP_ORDER} | |",
            f"| FP 2-D observed order (ρ = {fp2['correlation']:.2f}) | "
            f"{fp2['observed_order'][-1]:.2f} | {FP2_ORDER} | {fp2['passed']} |",
            f"| KS Dale–Langevin, 100 steps | {smp['ks']['dale_langevin/100']['ks']:.4f} | "
            f"{KS_TOL} | {smp['passed']} |",
            f"| KS ambient, 100 steps | {smp['ks']['ambient_langevin/100']['ks']:.4f} | "
            f"{KS_TOL} | |",
            f"| PF-ODE NFE 10 vs exact flow map | {smp['ode_nfe10_mean_distance']:.1e} | "
            f"{ODE_TOL:g} | |"]
    ks_rows = ["| sampler / steps | KS | min x |", "|---|---|---|"] + [
        f"| {k} | {v['ks']:.4f} | {v['min_x']:.3f} |" for k, v in smp["ks"].items()]
    md = "\n".join([
        "Reference: the exact log-normal law of geometric Brownian motion and the exact GBM-noised "
        "log-normal mixture (Shetty, Prasath & Seelamantula 2025 setting, σ = 0.8, μ = 0.32).",
        "", *rows, "", "Kolmogorov–Smirnov distance to the exact marginal at t = 1e-3 "
        "(20,000 samples; sampling floor ≈ 0.006):", "", *ks_rows])
    passed = fp1["passed"] and fp2["passed"] and smp["passed"]
    return {"title": "Multiplicative diffusion: Fokker–Planck and exact-score samplers",
            "markdown": md, "figures": figs, "passed": bool(passed),
            "checks": _checks(fp1, fp2, smp),
            "metrics": {"fokker_planck_1d": fp1, "fokker_planck_2d": fp2, "samplers": smp,
                        "wall_time_s": time.perf_counter() - t0}}


def _checks(fp1, fp2, smp):
    """The summary-table rows: the pass criteria above, one row each."""
    law = "exact log-normal law of GBM (Øksendal §5.1)"
    mix = "exact GBM-noised log-normal mixture (Shetty, Prasath & Seelamantula 2025 setting)"
    p1, p2 = fp1["observed_order"][-1], fp2["observed_order"][-1]
    ks_d, ks_a = smp["ks"]["dale_langevin/100"]["ks"], smp["ks"]["ambient_langevin/100"]["ks"]
    min_x = min(v["min_x"] for k, v in smp["ks"].items() if k.startswith("dale"))
    return [
        Check("Fokker–Planck 1-D: L1 error at t = 1 (600 cells)", fp1["l1_error_t1"], "analytic",
              law, error=fp1["l1_error_t1"], tolerance=FP_L1_TOL),
        Check("Fokker–Planck 1-D: mass drift", fp1["mass_drift"], 0, "conservation",
              error=fp1["mass_drift"], tolerance=FP_MASS_TOL,
              passed=fp1["mass_drift"] < FP_MASS_TOL),
        Check("Fokker–Planck 1-D: observed order in (h, dt)", p1, 2, law, error=abs(p1 - 2),
              tolerance=0.2, passed=FP_ORDER[0] <= p1 <= FP_ORDER[1]),
        Check(f"Fokker–Planck 2-D (ρ = {fp2['correlation']:.2f}): observed order", p2, 2,
              "exact bivariate log-normal", error=abs(p2 - 2), tolerance=0.3,
              passed=FP2_ORDER[0] <= p2 <= FP2_ORDER[1]),
        Check("KS distance, Dale–Langevin, 100 steps (20,000 samples)", ks_d, 0, mix,
              error=ks_d, tolerance=KS_TOL, passed=ks_d < KS_TOL),
        Check("KS distance, ambient Langevin, 100 steps", ks_a, 0, mix, error=ks_a,
              tolerance=KS_TOL, passed=ks_a < KS_TOL),
        Check("Dale–Langevin samples stay positive (min x)", min_x, "> 0", "GBM support",
              tolerance="> 0", passed=min_x > 0),
        Check("PF-ODE (DPM-Solver++(2M), NFE 10): mean distance to the exact flow map",
              smp["ode_nfe10_mean_distance"], "exact flow map", mix,
              error=smp["ode_nfe10_mean_distance"], tolerance=ODE_TOL,
              passed=smp["ode_nfe10_mean_distance"] < ODE_TOL)]
