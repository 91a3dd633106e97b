"""Multiplicative (GBM) diffusion samplers on the exact model: errors vs steps, orders, and the
cost of the inconsistencies in the authors' code (Shetty, Prasath & Seelamantula 2025).

Exact model: ``LogNormalMixture(...).bind(GBM(0.32, 0.8))`` (the authors' mu = sigma^2/2,
sigma = 0.8 on [1e-3, 1]); samples at t_end = 1e-3 are compared with the exact marginal.

(a) Kolmogorov–Smirnov statistic (1-D, 20,000 samples, against the exact CDF: a mixture of
    log-normal CDFs) and sliced 1-Wasserstein distance (2-D, 5,000 samples, against exact
    samples; the sampling floor is printed) vs n_steps for ``dale_langevin`` and
    ``ambient_langevin``, on uniform-t and quadratic grids. "x<=0" marks runs where the ambient
    sampler produced non-positive states, on which the exact score is undefined.
(b) Weak order: log-moment error (|d mean| + |d var| of log X, 200,000 samples) vs n_steps
    with its least-squares slope, and the exact (MC-free) variance error of the Dale–Langevin
    scheme on a single log-normal (linear recursion) with local slopes.
(c) Probability-flow ODE in log space (``probability_flow``) vs NFE: mean |x - exact flow map|
    (``BoundLogNormalMixture.exact_flow_map``) for several sciflow solvers, and slopes.
(d) The authors' inconsistencies on their grid of N = 1000 uniform times: a sampler step
    ``delta`` that does not match 1/N (MNIST configs: Dale–Langevin ``delta = 0.000617``;
    ambient ``4 x 0.000144`` per grid step), noise annealing 0.995 per step, the M-DSM target
    one step late (the exact minimiser of that loss, ``DSMMinimizer``), the fitted log-normal
    prior, and all together, against the consistent sampler.

Prints numbers; no asserts. ``python benchmarks/bench_multiplicative_samplers.py [--quick]``.
"""

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, record  # noqa: E402

from sciflow.multiplicative import GBM, LogNormalMixture  # noqa: E402
from sciflow.multiplicative.losses import dsm_minimizer  # noqa: E402
from sciflow.multiplicative.samplers import (  # noqa: E402
    ambient_langevin,
    dale_langevin,
    probability_flow,
    time_grid,
)

T_END = 1e-3
GBM_ = GBM(0.32, 0.8)
MIX1 = LogNormalMixture([0.4, 0.6], [[-0.3], [0.5]], [[[0.05]], [[0.03]]])
MIX2 = LogNormalMixture([0.4, 0.6], [[-0.3, 0.2], [0.5, -0.1]],
                        [[[0.05, 0.01], [0.01, 0.04]], [[0.03, -0.005], [-0.005, 0.06]]])
SAMPLERS = {"dale_langevin": dale_langevin, "ambient_langevin": ambient_langevin}


def mixture_cdf(mix, gbm, t):
    m, v = float(gbm.log_mean(t)), float(gbm.log_variance(t))

    def cdf(x):
        y = np.log(x)
        return sum(w * stats.norm.cdf((y - mu[0] - m) / math.sqrt(c[0, 0] + v))
                   for w, mu, c in zip(mix.weights, mix.log_means, mix.log_covs, strict=True))
    return cdf


def log_moments(mix, gbm, t):
    w, mu, c = mix.weights, mix.log_means[:, 0], mix.log_covs[:, 0, 0]
    mean = float(w @ mu)
    return (mean + float(gbm.log_mean(t)),
            float(w @ (c + mu**2)) - mean**2 + float(gbm.log_variance(t)))


def sliced_w1(a, b, n_dirs=64, seed=0):
    th = np.random.default_rng(seed).uniform(0, np.pi, n_dirs)
    d = np.stack([np.cos(th), np.sin(th)])
    return float(np.mean(np.abs(np.sort(a @ d, axis=0) - np.sort(b @ d, axis=0))))


def run(fn, *args, **kw):
    """The sampler's output, or None when the ambient sampler hit x <= 0."""
    try:
        return fn(*args, **kw)
    except ValueError as exc:
        if "<= 0" in str(exc):
            return None
        raise


def section_a():
    print("\n(a) KS (1-D, 20,000 samples) and sliced W1 (2-D, 5,000 samples) at t_end = 1e-3")
    n1, n2 = (10_000, 2_000) if QUICK else (20_000, 5_000)
    b1, b2 = MIX1.bind(GBM_), MIX2.bind(GBM_)
    cdf = mixture_cdf(MIX1, GBM_, T_END)
    ref = b2.sample(n2, T_END, rng=100)
    floor = sliced_w1(b2.sample(n2, T_END, rng=101), ref)
    print(f"    KS sampling floor ~ 0.87/sqrt(n) = {0.87 / math.sqrt(n1):.4f}; "
          f"SW floor (two exact sample sets) = {floor:.4f}")
    steps = (10, 20, 50, 100) if QUICK else (10, 20, 50, 100, 200, 400)
    print(f"    {'sampler':17s} {'spacing':10s} " + " ".join(f"{'N=' + str(k):>15s}"
                                                         for k in steps))
    ks_at = {}
    for name, fn in SAMPLERS.items():
        for spacing in ("uniform_t", "quadratic"):
            cells = []
            for k in steps:
                x1 = run(fn, b1, n1, GBM_, n_steps=k, spacing=spacing, rng=k)
                x2 = run(fn, b2, n2, GBM_, n_steps=k, spacing=spacing, rng=k + 1)
                ks_at[name, spacing, k] = (None if x1 is None
                                           else stats.kstest(x1[:, 0], cdf).statistic)
                ks = "x<=0" if x1 is None else f"{ks_at[name, spacing, k]:.4f}"
                sw = "x<=0" if x2 is None else f"{sliced_w1(x2, ref):.4f}"
                cells.append(f"{ks:>7s}/{sw:<7s}")
            print(f"    {name:17s} {spacing:10s} " + " ".join(f"{c:>15s}" for c in cells))
    print("    (cells: KS / SW)")
    k = steps[-1]
    spacing = min(("uniform_t", "quadratic"),
                  key=lambda sp: ks_at["dale_langevin", sp, k] or np.inf)
    record("mult.ks", ks_at["dale_langevin", spacing, k],
           baseline=ks_at["ambient_langevin", spacing, k],
           note=f"{n1:,} samples, {k} steps, {spacing}; sampling floor ~{0.87 / math.sqrt(n1):.4f}")


def section_b():
    print("\n(b) weak order: log-moment error |d E log X| + |d Var log X| vs n_steps (uniform t)")
    n = 50_000 if QUICK else 200_000
    broad = LogNormalMixture([0.4, 0.6], [[-0.4], [0.6]], [[[0.12]], [[0.08]]])
    mean_ex, var_ex = log_moments(broad, GBM_, T_END)
    b = broad.bind(GBM_)
    for name, fn, steps in (("dale_langevin", dale_langevin, (5, 10, 20, 40, 80)),
                            ("ambient_langevin", ambient_langevin, (20, 40, 80, 160))):
        errs = []
        for k in steps:
            y = np.log(fn(b, n, GBM_, n_steps=k, spacing="uniform_t", rng=k)[:, 0])
            errs.append(abs(y.mean() - mean_ex) + abs(y.var() - var_ex))
        slope = np.polyfit(np.log(1.0 / np.asarray(steps)), np.log(errs), 1)[0]
        mc = y.std() / math.sqrt(n) + y.var() * math.sqrt(2.0 / n)
        print(f"    {name:17s} " + " ".join(f"N={k}: {e:.4f}" for k, e in zip(steps, errs,
                                                                             strict=True))
              + f"   slope {slope:.2f}  (MC error ~{mc:.4f})")
    s2 = 0.05
    exact = s2 + float(GBM_.log_variance(T_END))
    ns = np.array([5, 10, 20, 40, 80, 160, 320, 640])
    for spacing in ("uniform_t", "quadratic"):
        err = []
        for k in ns:
            times = time_grid(GBM_, int(k), spacing=spacing)
            v = np.asarray(GBM_.log_variance(times))
            var = s2 + v[0]
            for i in range(len(times) - 1):
                dv = v[i] - v[i + 1]
                var = (1.0 - dv / (s2 + v[i])) ** 2 * var + dv
            err.append(var - exact)
        sl = np.diff(np.log(err)) / np.diff(np.log(1.0 / ns))
        print(f"    Dale-Langevin exact Var error, one log-normal, {spacing:9s}: "
              + " ".join(f"{e:.2e}" for e in err))
        print("        local slopes: " + " ".join(f"{s:.3f}" for s in sl))


def section_c():
    print("\n(c) probability-flow ODE in log space: mean |x - exact flow map| (2-D, 1,000 "
          "starts)")
    b2 = MIX2.bind(GBM_)
    x_T = b2.sample(1000, 1.0, rng=5)
    exact = b2.exact_flow_map(x_T, 1.0, T_END)
    nfes = (5, 10, 20, 40, 80)
    print(f"    {'solver':14s} " + " ".join(f"{'NFE=' + str(k):>10s}" for k in nfes)
          + "   slope")
    at10 = {}
    for solver in ("ddim", "dpm_solver_2", "dpmpp_2m", "dpmpp_3m", "unipc_2", "heun"):
        errs = []
        for nfe in nfes:
            try:
                x = probability_flow(b2, x_T, GBM_, solver=solver, nfe=nfe)
                errs.append(float(np.mean(np.linalg.norm(x - exact, axis=-1))))
            except ValueError:
                errs.append(float("nan"))
        at10[solver] = errs[nfes.index(10)]
        ok = np.isfinite(errs)
        slope = np.polyfit(np.log(1.0 / np.asarray(nfes)[ok]), np.log(np.asarray(errs)[ok]),
                           1)[0]
        print(f"    {solver:14s} " + " ".join(f"{e:10.2e}" for e in errs) + f"   {slope:.2f}")
    best = min((s for s in at10 if s != "ddim" and np.isfinite(at10[s])), key=at10.get)
    record("mult.pf_nfe10", at10[best], baseline=at10["ddim"],
           note=f"best solver {best}; 2-D log-normal mixture, 1,000 starts")


def section_d():
    N = 200 if QUICK else 1000
    n = 10_000 if QUICK else 20_000
    print(f"\n(d) the authors' inconsistencies: uniform grid of N = {N} times (1/N apart), "
          f"{n} 1-D samples")
    b1 = MIX1.bind(GBM_)
    cdf = mixture_cdf(MIX1, GBM_, T_END)
    mean_ex, var_ex = log_moments(MIX1, GBM_, T_END)
    dt = (1.0 - T_END) / N
    x_T = b1.sample(n, 1.0, rng=1)
    late = dsm_minimizer(b1, GBM_, 1.0 / N)
    data = MIX1.sample(50_000, rng=2)
    configs = {
        "dale_langevin": (0.617 * dt, 1, "delta = 0.617/N (DLS config)"),
        "ambient_langevin": (0.1438 * dt, 4, "delta = 0.1438/N x 4 repeats (UMS config)"),
    }
    print(f"    {'sampler':17s} {'variant':60s} {'KS':>7s} {'dE logX':>8s} {'dVar logX':>9s} "
          f"{'sum dv/v':>8s} {'time':>6s}")
    v_total = float(GBM_.log_variance(1.0) - GBM_.log_variance(T_END))
    for name, fn in SAMPLERS.items():
        delta, reps, label = configs[name]
        variants = [
            ("consistent (delta = grid step)", b1, x_T, {}),
            (label, b1, x_T, {"step_size": delta, "repeats": reps}),
            (label + " + noise x0.995^i", b1, x_T,
             {"step_size": delta, "repeats": reps, "noise_anneal": 0.995}),
            ("noise x0.995^i only", b1, x_T, {"noise_anneal": 0.995}),
            ("M-DSM target one step late (t + 1/N)", late, x_T, {}),
            ("log-normal-fit prior", b1, n, {"prior": "lognormal_fit", "prior_data": data}),
            ("all of the above (the authors' sampler)", late, n,
             {"step_size": delta, "repeats": reps, "noise_anneal": 0.995,
              "prior": "lognormal_fit", "prior_data": data}),
        ]
        for vlabel, model, x0, kw in variants:
            t0 = time.perf_counter()
            r = run(fn, model, x0, GBM_, n_steps=N, spacing="uniform_t", rng=3,
                    return_info=True, **kw)
            wall = time.perf_counter() - t0
            if r is None:
                print(f"    {name:17s} {vlabel:60s}  x<=0")
                continue
            x = r.x[:, 0]
            y = np.log(x)
            ks = stats.kstest(x, cdf).statistic
            print(f"    {name:17s} {vlabel:60s} {ks:7.4f} {y.mean() - mean_ex:+8.4f} "
                  f"{y.var() - var_ex:+9.4f} {r.integrated_variance / v_total:8.3f} "
                  f"{wall:5.1f}s")
    print(f"    exact Var log X at t_end = {var_ex:.4f}; KS floor ~ {0.87 / math.sqrt(n):.4f}")
    print("    M-DSM target one step late: the minimiser scales h + 1 by v(t)/v(t + 1/N):")
    print("      " + "  ".join(f"t={k}/N: {late.coefficients(k / N)[0]:.3f}"
                               for k in (1, 2, 5, 10, 100, N // 2)))


if __name__ == "__main__":
    t0 = time.perf_counter()
    section_a()
    section_b()
    section_c()
    section_d()
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
