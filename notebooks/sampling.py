# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Diffusion samplers, exactly: `sciflow.sampling`
#
# A diffusion model generates by solving the probability-flow ODE
# $\mathrm dx/\mathrm dt = \alpha'(t)\,\hat x_0(x,t) + \sigma'(t)\,\hat\varepsilon(x,t)$ from
# noise to data, with $x_t = \alpha(t)x_0 + \sigma(t)\varepsilon$. The fast solvers — DDIM,
# DPM-Solver(-2, -3), DPM-Solver++(2M, 3M), UniPC, EDM Heun — differ in how many network
# evaluations (NFE) a sample costs. On a Gaussian mixture the noised density, the predictions
# and the ODE solution are all known exactly, so each solver's error is measured, not estimated
# by FID. This notebook shows the error against NFE for every solver, the observed orders, the
# trajectories, step schedules optimised for a fixed NFE, and a small trained network sampled
# by the same code.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from sciflow.sampling import SOLVERS, GaussianMixture, VPSchedule, sample
from sciflow.sampling.datasets import gaussian_mixture_model
from sciflow.sampling.optimize import optimize_steps

T0 = time.perf_counter()
vp = VPSchedule("linear")  # beta from 0.1 to 20; t from 1 to 1e-3


def mean_err(x, ref):
    return float(np.mean(np.linalg.norm(np.asarray(x) - ref, axis=1)))


# %% [markdown]
# ## Error against NFE for every solver
# A 2-D mixture of four Gaussians with full covariances; 64 starting points at $t=1$; error =
# mean Euclidean distance to `exact_ode_solution` (solved to ~1e-10) at $t = 10^{-3}$; steps
# uniform in the log-SNR $\lambda=\log(\alpha/\sigma)$, no lower-order final steps (so that the
# asymptotic order shows). The SDE solvers are left out: they converge to the data
# distribution, not to the ODE solution of each starting point.

# %%
rng = np.random.default_rng(0)
a = rng.normal(size=(4, 2, 2)) * 0.2
gm4 = GaussianMixture([0.3, 0.2, 0.25, 0.25],
                      [[1.0, 1.0], [-1.0, 0.5], [0.5, -1.0], [-0.8, -0.9]],
                      a @ a.transpose(0, 2, 1) + 0.05 * np.eye(2))
model4 = gm4.bind(vp)
x_T = np.random.default_rng(1).standard_normal((64, 2))
exact4 = gm4.exact_ode_solution(x_T, vp, vp.t_start, vp.t_end)

ode_solvers = [s for s, cls in SOLVERS.items() if not cls.stochastic]
nfes = [6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192]
errors = {}
for solver in ode_solvers:
    errors[solver] = [mean_err(sample(model4, x_T, vp, solver=solver, nfe=n,
                                      lower_order_final=False), exact4) for n in nfes]

fig, ax = plt.subplots(figsize=(7, 5))
for solver in ode_solvers:
    ax.loglog(nfes, errors[solver], "o-", ms=3, label=solver)
for p, c in ((1, 3e0), (2, 3e1), (3, 3e2)):
    ax.loglog(nfes, c * np.asarray(nfes, float) ** -p, "k:", lw=0.8)
    ax.text(nfes[-1], c * nfes[-1] ** -p, f" $N^{{-{p}}}$", va="center", fontsize=8)
ax.set(xlabel="NFE", ylabel="mean sample error", title="VP linear, uniform log-SNR steps")
ax.legend(fontsize=7, ncol=2)

# %% [markdown]
# ## Observed convergence orders
# Least-squares slope of log error against log NFE over the last four points (the asymptotic
# range), next to the theory: 1 for DDIM and Euler, 2 for DPM-Solver-2, DPM-Solver++(2M),
# Heun and UniP-2, 3 for DPM-Solver-3, DPM-Solver++(3M) and UniPC-2 (its corrector adds one
# order), 4 for UniPC-3. The third- and fourth-order slopes are still pre-asymptotic here
# (DPM-Solver-3 reaches 2.96 and UniPC-3 3.8–3.9 per NFE doubling between 192 and 768).

# %%
theory = {"ddim": 1, "dpm_solver_1": 1, "dpm_solver_2": 2, "dpm_solver_3": 3, "dpmpp_2m": 2,
          "dpmpp_3m": 3, "unipc_2": 3, "unipc_3": 4, "heun": 2, "euler": 1,
          "dpm_solver_v3": 3}
print(f"{'solver':14s} {'observed':>9s} {'theory':>7s}")
for solver in ode_solvers:
    e = np.asarray(errors[solver])
    p = -np.polyfit(np.log(nfes[-4:]), np.log(e[-4:]), 1)[0]
    print(f"{solver:14s} {p:9.2f} {theory.get(solver, float('nan')):7d}")

# %% [markdown]
# ## Trajectories
# The 8-component mixture of the benchmark (means on a circle of radius 2, standard deviation
# 0.1). Thin lines: the exact ODE paths (the exact solution at 60 intermediate times); markers:
# the solver's states at its 10 steps, for DDIM and UniPC-2 (uniform log-SNR steps).

# %%
gm8 = gaussian_mixture_model()
model8 = gm8.bind(vp)
x_paths = np.random.default_rng(3).standard_normal((40, 2))
lam_grid = np.linspace(float(vp.lambda_(1.0)), float(vp.lambda_(1e-3)), 60)
t_grid = np.asarray(vp.t_from_lambda(lam_grid))
t_grid[0], t_grid[-1] = 1.0, 1e-3
exact_path = [x_paths]
for t0, t1 in zip(t_grid[:-1], t_grid[1:], strict=True):
    exact_path.append(gm8.exact_ode_solution(exact_path[-1], vp, t0, t1))
exact_path = np.stack(exact_path)

fig, axes = plt.subplots(1, 2, figsize=(11, 5), sharex=True, sharey=True)
for ax, solver in zip(axes, ["ddim", "unipc_2"], strict=True):
    res = sample(model8, x_paths, vp, solver=solver, nfe=10, return_info=True)
    ax.plot(exact_path[:, :, 0], exact_path[:, :, 1], color="0.7", lw=0.8)
    traj = np.stack(res.trajectory)
    ax.plot(traj[:, :, 0], traj[:, :, 1], "-", lw=0.6, alpha=0.8)
    ax.plot(traj[:, :, 0], traj[:, :, 1], ".", ms=3, color="C3")
    ax.scatter(*exact_path[-1].T, s=12, facecolors="none", edgecolors="k", label="exact end")
    err = mean_err(res.x, exact_path[-1])
    ax.set(title=f"{solver}, NFE 10: mean error {err:.3f}", xlabel="x[0]", aspect="equal")
axes[0].set_ylabel("x[1]")
axes[0].legend(loc="lower left")

# %% [markdown]
# ## Optimised steps against uniform log-SNR steps
# `optimize_steps` moves the interior time points (positive log-SNR increments, ends fixed)
# to minimise the mean error on 128 training starts; the errors below are on 256 *held-out*
# starts. The gain is large at every NFE: uniform log-SNR steps waste evaluations at high noise,
# where nothing happens for this well-separated mixture, and under-resolve the end, where the
# paths commit to a component.

# %%
rng = np.random.default_rng(7)
x_held = vp.alpha(1.0) * gm8.sample(256, rng) + vp.sigma(1.0) * rng.standard_normal((256, 2))
ref_held = gm8.exact_ode_solution(x_held, vp, 1.0, 1e-3)
opt = {}
print(f"{'solver':9s} {'NFE':>4s} {'uniform-lambda':>15s} {'optimised':>10s} {'ratio':>6s}")
for solver in ("dpmpp_2m", "unipc_2"):
    for nfe in (5, 6, 8, 10):
        r = optimize_steps(model8, vp, solver=solver, nfe=nfe, n_samples=128, rng=nfe,
                           x_heldout=x_held, x_heldout_ref=ref_held, maxiter=400,
                           progress=False)
        opt[solver, nfe] = r
        print(f"{solver:9s} {nfe:4d} {r.heldout_error_initial:15.4f} {r.heldout_error:10.5f} "
              f"{r.ratio:6.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
r = opt["unipc_2", 10]
axes[0].plot(r.lambdas(vp, "initial"), "o--", label="uniform log-SNR")
axes[0].plot(r.lambdas(vp), "s-", label="optimised")
axes[0].set(xlabel="step index", ylabel=r"$\lambda = \log(\alpha/\sigma)$",
            title="UniPC-2, NFE 10: the grid")
axes[0].legend()
r.plot(ax=axes[1])

# %% [markdown]
# ## A trained network, sampled by the same code
# If `sciflow.sampling.nn` (torch, optional) is available: train a small MLP noise predictor by
# denoising score matching on two moons for ~10 s on one CPU thread, and sample it with UniPC-2
# at NFE 10 on uniform log-SNR steps and on steps optimised for the network itself with the
# step-doubling (local-error) proxy, since no exact solution exists for a trained model.

# %%
try:
    import torch

    from sciflow.sampling import nn as sampling_nn
    from sciflow.sampling.datasets import make_dataset

    have_nn = callable(getattr(sampling_nn, "train", None))
except ImportError as exc:
    have_nn = False
    print(f"skipped: torch or sciflow.sampling.nn is not available ({exc})")

if have_nn:
    torch.set_num_threads(1)
    data = make_dataset("two_moons", 4000, rng=0)
    t0 = time.perf_counter()
    net = sampling_nn.train(data, vp, steps=2000, batch_size=256, width=64, depth=3, rng=0,
                            progress=False, num_threads=1)
    print(f"trained in {time.perf_counter() - t0:.1f} s, final loss {net.final_loss:.3f}")
    x_start = net.prior_sample(2000, rng=1)
    x_uni = sample(net, x_start, vp, solver="unipc_2", nfe=10)
    r_net = optimize_steps(net, vp, solver="unipc_2", nfe=10, x_T=x_start[:128],
                           reference="lte", x_heldout=x_start[128:384], maxiter=150,
                           progress=False)
    x_opt = sample(net, x_start, vp, solver="unipc_2", steps=r_net.steps)
    x_ref = sample(net, x_start, vp, solver="unipc_2", nfe=200)  # a fine reference
    print(f"UniPC-2, NFE 10, error against NFE 200 on the same network: uniform log-SNR "
          f"{mean_err(x_uni, x_ref):.4f}, LTE-optimised steps {mean_err(x_opt, x_ref):.4f}")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True, sharey=True)
    for ax, pts, title in zip(axes, [data[:2000], x_uni, x_opt],
                              ["data", "UniPC-2, NFE 10, uniform", "UniPC-2, NFE 10, optimised"],
                              strict=True):
        ax.scatter(pts[:, 0], pts[:, 1], s=2)
        ax.set(title=title, aspect="equal")
else:
    print("skipped: sciflow.sampling.nn.train is not available yet")

# %%
print(f"notebook run time {time.perf_counter() - T0:.1f} s")

# %% [markdown]
# ## The numbers this notebook states, checked
# The first- and second-order solvers show their theoretical order; the third- and
# fourth-order ones come within 0.6 of theirs in this pre-asymptotic range (measured: DPM-Solver-3
# 2.80, DPM-Solver++(3M) 3.16, UniPC-2 2.97, UniPC-3 3.53); the optimised steps beat uniform
# log-SNR steps on held-out starts at every NFE (ratio 0.05–0.14), and on the
# trained network the LTE-optimised steps beat uniform ones against the NFE-200 reference.

# %%
observed = {s: -np.polyfit(np.log(nfes[-4:]), np.log(np.asarray(errors[s])[-4:]), 1)[0]
            for s in ode_solvers}
for s, p in observed.items():
    if theory[s] <= 2:
        assert abs(p - theory[s]) < 0.25, (s, p)
    else:
        assert theory[s] - 0.6 < p < theory[s] + 0.3, (s, p)
assert all(r.ratio < 0.5 for r in opt.values()), {k: r.ratio for k, r in opt.items()}
if have_nn:
    assert mean_err(x_opt, x_ref) < mean_err(x_uni, x_ref)
print({s: round(p, 2) for s, p in observed.items()})
