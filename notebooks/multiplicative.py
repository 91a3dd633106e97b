# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Multiplicative diffusion with `sciflow.multiplicative`
#
# Shetty, Prasath & Seelamantula ("Dale meets Langevin", arXiv 2510.02730) noise *positive*
# data with geometric Brownian motion, $\mathrm dX = \mu X\,\mathrm dt + \sigma X\,\mathrm dW$,
# whose transition law is log-normal: $\log X_t \mid x_0 \sim \mathcal N(\log x_0 + m(t),\,
# v(t))$ with $m = \int(\mu - \sigma^2/2)$, $v = \int\sigma^2$. In log space this is an additive,
# variance-exploding diffusion, so a mixture of log-normals stays a mixture of log-normals and
# everything is exact: the noised density, its Hyvärinen score $x\circ\nabla\log p_t$ and the
# probability-flow map. This notebook checks the Fokker–Planck solver against the analytic
# law, measures the samplers with the exact score, and trains score networks on digits.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from sciflow.multiplicative import (
    GBM,
    LogNormalMixture,
    ambient_langevin,
    dale_langevin,
    probability_flow,
    solve_fokker_planck,
)

T0 = time.perf_counter()
gbm = GBM(mu=0.32, sigma=0.8)  # the authors' choice: mu = sigma^2 / 2, t in [0, 1]

# %% [markdown]
# ## The Fokker–Planck equation against the log-normal law
# $\partial_t p = -\partial_x(\mu x p) + \tfrac12\partial_x^2(\sigma^2x^2p)$ on 600 log-spaced
# cells with zero-flux ends, Scharfetter–Gummel fluxes (positive, conservative) and TR-BDF2 in
# time, from $\log X_0 \sim \mathcal N(0, 0.15^2)$. The L1 error against the exact density and
# the mass drift:

# %%
def exact_density(t, s0=0.15):
    m, v = float(gbm.log_mean(t)), float(gbm.log_variance(t))
    return lambda x: stats.lognorm(s=np.sqrt(s0**2 + v), scale=np.exp(m)).pdf(x)


x = np.exp(np.linspace(-5.0, 4.0, 601)[:-1] + 9.0 / 1200)  # cell centres, uniform in log x
times = [0.0, 0.25, 0.5, 1.0]
fp = solve_fokker_planck(gbm, x, exact_density(0.0)(x), times, dt=0.01)
l1 = [fp.l1_error(exact_density(tk), k) for k, tk in enumerate(times)]
mass_drift = float(np.max(np.abs(fp.mass / fp.mass[0] - 1)))
print("L1 error at t =", times, ":", [f"{e:.1e}" for e in l1])
print(f"mass drift {mass_drift:.1e}")
ax = fp.plot()
ax.set_xlim(0.1, 20)

# %% [markdown]
# Halving the log-spacing (and the time step) divides the error by four: second order in
# both.

# %%
errs = []
for n in (150, 300, 600):
    xn = np.exp(np.linspace(-5.0, 4.0, n + 1)[:-1] + 4.5 / n)
    r = solve_fokker_planck(gbm, xn, exact_density(0.0)(xn), [0.0, 1.0], dt=6.0 / n)
    errs.append(r.l1_error(exact_density(1.0)))
fp_orders = np.log2(np.asarray(errs[:-1]) / np.asarray(errs[1:]))
print("L1 errors", [f"{e:.2e}" for e in errs], "observed orders", np.round(fp_orders, 2))

# %% [markdown]
# ## Samplers with the exact score
# A two-component log-normal mixture, noised by the GBM above to $t = 1$, then brought back to
# $t = 10^{-3}$ by the two reverse-time Euler–Maruyama samplers (Dale–Langevin in log space,
# which can never leave $x > 0$, and the ambient one), and by the probability-flow ODE in log
# space, solved by `sciflow.sampling`'s DPM-Solver++(2M). The Kolmogorov–Smirnov distance to
# the exact marginal at $t = 10^{-3}$, on 20,000 samples (sampling floor ≈ 0.006):

# %%
mix = LogNormalMixture([0.35, 0.65], [[0.15], [0.55]], [[[0.004]], [[0.01]]])
model = mix.bind(gbm)


def exact_cdf(t):
    m, v = float(gbm.log_mean(t)), float(gbm.log_variance(t))
    return lambda xx: sum(w * stats.norm.cdf((np.log(xx) - mu_k - m) / np.sqrt(s_k + v))
                          for w, mu_k, s_k in zip(mix.weights, mix.log_means[:, 0],
                                                  mix.log_covs[:, 0, 0], strict=True))


x_T = model.sample(20_000, 1.0, rng=0)
ks = {}
for name, sampler in (("dale_langevin", dale_langevin), ("ambient_langevin", ambient_langevin)):
    for n_steps in (25, 50, 100, 200):
        xs = sampler(model, x_T, gbm, n_steps=n_steps, spacing="quadratic", rng=1)
        ks[name, n_steps] = stats.kstest(xs[:, 0], exact_cdf(1e-3)).statistic
        print(f"{name:17s} {n_steps:4d} steps: KS {ks[name, n_steps]:.4f}, "
              f"min x {xs.min():.3f}")
x_ode = probability_flow(model, x_T, gbm, solver="dpmpp_2m", nfe=10)
ks["ode", 10] = stats.kstest(x_ode[:, 0], exact_cdf(1e-3)).statistic
ode_err = float(np.mean(np.abs(x_ode - model.exact_flow_map(x_T))))
print(f"probability flow, DPM-Solver++(2M), NFE 10: KS {ks['ode', 10]:.4f}, mean distance to "
      f"the exact flow map {ode_err:.1e}")

fig, ax = plt.subplots(figsize=(7, 3.5))
grid = np.linspace(0.8, 2.6, 400)
ax.plot(grid, np.exp(model.log_density(grid[:, None], 1e-3)), "k", label="exact $p_{0.001}$")
ax.hist(dale_langevin(model, x_T, gbm, n_steps=100, spacing="quadratic", rng=1)[:, 0],
        bins=150, density=True, histtype="step", label="Dale–Langevin, 100 steps")
ax.hist(x_ode[:, 0], bins=150, density=True, histtype="step", label="PF-ODE, NFE 10")
ax.set(xlabel="x", ylabel="density", xlim=(0.8, 2.6))
ax.legend()

# %% [markdown]
# ## Learned score networks on digits
# The same small U-Net trained for the same budget two ways on the 8×8 scikit-learn digits
# mapped to [1, 2]: multiplicatively (GBM noise, multiplicative denoising score matching on the
# Hyvärinen score, sampled by the log-space probability-flow ODE) and additively (VP noise,
# ε-prediction, sampled by `sciflow.sampling`'s DPM-Solver++(2M)), both at NFE 20. A small CNN
# trained on the real training digits scores 1,000 samples of each: the Fréchet distance of its
# penultimate-layer features to the held-out digits, the class coverage (entropy of the
# predicted labels; log 10 = 2.30 is uniform) and the mean confidence, with a per-class-mean +
# noise baseline and the real training digits as the floor. This notebook uses a short budget
# (600 steps); `benchmarks/bench_multiplicative_digits.py` trains 3,000 steps, where the
# multiplicative model reaches FD 13.0 against the additive model's 13.7, the baseline's 88.7 and
# the floor's 5.6.

# %%
try:
    import torch

    from sciflow.multiplicative import digits as D
    from sciflow.multiplicative import nn as mnn

    have_torch = True
except ImportError as exc:
    have_torch = False
    print(f"skipped: needs torch ({exc})")

if have_torch:
    torch.set_num_threads(1)
    split = D.load_split(8, test_fraction=0.2, rng=0)
    clf = D.train_classifier(split.x_train, split.y_train, epochs=15, rng=0, progress=False)
    accuracy = clf.accuracy(split.x_test, split.y_test)
    ref = clf.features(split.x_test)
    budget = {"steps": 600, "batch_size": 128, "channels": 16, "progress": False}
    mult = mnn.train_multiplicative(split.x_train, rng=2, **budget)
    add = mnn.train_additive(D.to_signed(split.x_train), rng=2, **budget)
    x_mult = mult.sample(1000, method="probability_flow", solver="dpmpp_2m", nfe=20, rng=3,
                         denoise_to_zero=True)
    x_add = D.from_signed(add.sample(1000, solver="dpmpp_2m", nfe=20, rng=3,
                                     denoise_to_zero=True))
    x_base = D.class_mean_baseline(split.x_train, split.y_train, 1000, rng=1)
    scores = {name: D.evaluate(x, clf, reference_features=ref)
              for name, x in (("real (floor)", split.x_train), ("baseline", x_base),
                              ("multiplicative", x_mult), ("additive", x_add))}
    print(f"classifier held-out accuracy {accuracy:.3f}")
    for name, s in scores.items():
        print(f"{name:15s} FD {s.frechet:7.2f}  coverage {s.coverage:.3f}  "
              f"confidence {s.confidence:.3f}")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
    for ax, (title, x) in zip(axes, (("held-out digits", split.x_test), ("multiplicative", x_mult),
                                     ("additive VP", x_add)), strict=True):
        D.plot_grid(np.clip(x[:50], 1.0, 2.0), ncol=10, ax=ax, title=title)

# %% [markdown]
# ## The numbers this notebook states, checked
# Fokker–Planck: L1 error below 1e-4 at t = 1 on 600 cells (measured 3.7e-5), mass to 1e-12,
# second order. Samplers with the exact score: KS below 0.02 at 100 steps for both Langevin
# samplers (measured 0.013 and 0.009), Dale–Langevin never below 0, and the log-space ODE at NFE
# 10 within 1e-2 of the exact flow map (measured 1.4e-3). Digits, at this short budget (measured:
# classifier 0.975; FD multiplicative 37, additive 70, baseline 67, floor 4.4): the classifier
# above 0.9, every multiplicative sample positive, and the multiplicative model closer to the
# held-out digits than both the additive model and the baseline.

# %%
assert l1[-1] < 1e-4 and mass_drift < 1e-12, (l1, mass_drift)
assert np.all(np.abs(fp_orders - 2) < 0.2), fp_orders
assert ks["dale_langevin", 100] < 0.02 and ks["ambient_langevin", 100] < 0.02, ks
assert ode_err < 1e-2, ode_err
if have_torch:
    assert accuracy > 0.9, accuracy
    assert np.all(x_mult > 0)
    fd = {k: s.frechet for k, s in scores.items()}
    assert fd["multiplicative"] < fd["additive"] and fd["multiplicative"] < fd["baseline"], fd
    assert fd["real (floor)"] < fd["multiplicative"], fd
print(f"all stated numbers hold ({time.perf_counter() - T0:.0f} s)")
