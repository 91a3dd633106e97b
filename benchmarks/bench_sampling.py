"""Diffusion samplers: accuracy at NFE 10 against diffusers, per-step overhead, observed orders.

(a) NFE 10 on a 2-D, 8-component Gaussian mixture (``gaussian_mixture_model()``: radius 2,
    component std 0.1) under VP linear: mean sample error against
    ``GaussianMixture.exact_ode_solution`` of every sciflow ODE solver on optimised steps
    (:func:`sciflow.sampling.optimize.optimize_steps`, chosen on 256 training starts, errors on
    1,000 held-out starts), against diffusers' default ``DPMSolverMultistepScheduler``
    (dpmsolver++, order 2, "linspace" timesteps, ``final_sigmas_type="zero"``,
    ``lower_order_final``) at the same NFE on the same starts, in the same run. Both go from
    diffusers' ``sigma_max`` (``t = 1``; the scheduler gets ``trained_betas`` equal to the VP
    linear schedule's, so its noise levels are the schedule's) to ``sigma = 0``. Target: the
    best sciflow error <= 0.5 x diffusers'.
(b) Per-step overhead on 10,000 2-D samples with a model that costs nothing (it returns a
    precomputed array): ``sample(..., solver="dpmpp_2m")`` on NumPy arrays, versus diffusers'
    ``set_timesteps`` + ``scheduler.step`` loop on torch CPU tensors (one torch thread), float32
    and float64, 10 and 50 steps. Target: sciflow below diffusers.
(c) Observed convergence orders of every ODE solver on a 4-component mixture (VP linear,
    uniform log-SNR, 1 -> 1e-3): least-squares slope of log error vs log NFE.
(d) DPM-Solver-v3 (issue 11) at NFE 5 and 10 on uniform log-SNR steps, statistics from 4,096
    samples x 200 log-SNR nodes (quick: 1,024 x 50), against the better of DPM-Solver++(2M)
    and UniPC-2 on the 8-Gaussian circle and on ``mixture_3d``: mean distance to the exact ODE
    solution from 250 starts. Target: v3 error at least 1.5x smaller.

Prints numbers; no asserts. ``python benchmarks/bench_sampling.py [--quick]``.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, best_time, record  # noqa: E402

from sciflow.sampling import SOLVERS, GaussianMixture, VPSchedule, sample  # noqa: E402
from sciflow.sampling.datasets import gaussian_mixture_model  # noqa: E402
from sciflow.sampling.optimize import optimize_steps  # noqa: E402

VP = VPSchedule("linear")


def vp_trained_betas(schedule=VP, n_train=1000):
    """Discrete betas with ``alphas_cumprod[n] = alpha(t_n)^2``, ``t_n = (n + 1)/n_train``."""
    t = np.arange(1, n_train + 1) / n_train
    two_la = 2.0 * np.asarray(schedule.log_alpha(t))
    return -np.expm1(two_la - np.concatenate([[0.0], two_la[:-1]]))


def times_from_sigmas(sigmas):
    with np.errstate(divide="ignore"):
        lam = -np.log(np.asarray(sigmas, dtype=np.float64))
    lo = float(VP.lambda_(VP.t_max))
    return np.asarray(VP.t_from_lambda(np.maximum(lam, lo)), dtype=float)


def diffusers_sample(scheduler, n_steps, model, x_T):
    """diffusers' loop with the exact eps of ``model`` (float64 tensors)."""
    import torch

    scheduler.set_timesteps(n_steps)
    times = times_from_sigmas(scheduler.sigmas.double().numpy())
    x = torch.from_numpy(np.array(x_T, dtype=np.float64))
    for i, ts in enumerate(scheduler.timesteps):
        eps = model.predict(x.numpy(), times[i], "eps")
        x = scheduler.step(torch.from_numpy(eps), ts, x).prev_sample
    return x.double().numpy(), times


def mean_err(x, ref):
    return float(np.mean(np.linalg.norm(np.asarray(x) - ref, axis=1)))


# ============================================================================ (a)
def accuracy_vs_diffusers(nfe=10):
    from diffusers import DPMSolverMultistepScheduler

    gm = gaussian_mixture_model()
    model = gm.bind(VP)
    rng = np.random.default_rng(2024)
    betas = vp_trained_betas()
    sched = DPMSolverMultistepScheduler(trained_betas=betas)  # defaults otherwise
    probe, times_d = diffusers_sample(sched, nfe, model, np.zeros((1, 2)))
    t_start, t_end = float(times_d[0]), float(times_d[-1])
    n_train, n_test = (128, 400) if QUICK else (256, 1000)
    x_train = VP.alpha(t_start) * gm.sample(n_train, rng) + VP.sigma(t_start) * \
        rng.standard_normal((n_train, 2))
    x_test = VP.alpha(t_start) * gm.sample(n_test, rng) + VP.sigma(t_start) * \
        rng.standard_normal((n_test, 2))
    t0 = time.perf_counter()
    ref_train = gm.exact_ode_solution(x_train, VP, t_start, t_end)
    ref_test = gm.exact_ode_solution(x_test, VP, t_start, t_end)
    t_ref = time.perf_counter() - t0

    x_d, _ = diffusers_sample(DPMSolverMultistepScheduler(trained_betas=betas), nfe, model,
                              x_test)
    e_d = mean_err(x_d, ref_test)
    print(f"(a) NFE {nfe}, 2-D 8-component mixture (radius 2, std 0.1), VP linear, "
          f"t = {t_start:.6f} -> {t_end:g}")
    print(f"    {n_train} training / {n_test} held-out starts; exact ODE solutions in "
          f"{t_ref:.1f} s")
    print(f"    diffusers DPMSolverMultistep (dpmsolver++ 2M, linspace, zero final): "
          f"held-out mean error {e_d:.4e}   [timesteps {list(map(int, sched.timesteps))}]")

    rows = []
    solvers = ["dpmpp_2m", "unipc_2", "dpmpp_3m", "unipc_3", "dpm_solver_2", "dpm_solver_3",
               "ddim"]
    if QUICK:
        solvers = ["dpmpp_2m", "unipc_2"]
    for solver in solvers:
        e_uni = mean_err(sample(model, x_test, VP, solver=solver, nfe=nfe, t_start=t_start,
                                t_end=t_end), ref_test)
        t0 = time.perf_counter()
        r = optimize_steps(model, VP, solver=solver, nfe=nfe, x_T=x_train, x_ref=ref_train,
                           t_start=t_start, t_end=t_end, x_heldout=x_test,
                           x_heldout_ref=ref_test, maxiter=400 if QUICK else 1500,
                           progress=False)
        rows.append((r.error, solver, e_uni, r, time.perf_counter() - t0))
    print(f"    {'sciflow solver':14s} {'uniform-lambda':>15s} {'optimised':>11s} "
          f"{'train':>10s} {'evals':>6s} {'time':>6s}")
    for _, solver, e_uni, r, dt in rows:
        print(f"    {solver:14s} {e_uni:15.4e} {r.heldout_error:11.4e} {r.error:10.4e} "
              f"{r.n_evals:6d} {dt:5.1f}s")
    best = min(rows, key=lambda row: row[0])  # chosen on the training set
    r = best[3]
    ratio = r.heldout_error / e_d
    print(f"    best (by training error): {best[1]}, held-out error {r.heldout_error:.4e}")
    print(f"    ratio sciflow/diffusers = {ratio:.3f}  (target <= 0.5: "
          f"{'MET' if ratio <= 0.5 else 'NOT MET'})")
    print(f"    optimised times: {np.array2string(r.steps, precision=5, separator=', ')}")
    record("sampling.nfe10_vs_diffusers", r.heldout_error, baseline=e_d,
           note=f"{best[1]} on optimised steps; {n_test} held-out starts")
    return ratio


# ============================================================================ (b)
class _Free:
    """A model that costs nothing: returns one precomputed array of the input's shape."""

    def __init__(self, like):
        self.out = np.array(like, copy=True) * 0.5
        self.calls = 0

    def predict(self, x, t, kind="eps"):
        self.calls += 1
        return self.out


def step_overhead():
    import torch
    from diffusers import DPMSolverMultistepScheduler

    torch.set_num_threads(1)
    betas = vp_trained_betas()
    n = 10_000
    print(f"\n(b) per-step overhead, {n:,} 2-D samples, DPM-Solver++(2M), model cost excluded "
          "(one thread)")
    print(f"    {'dtype':8s} {'steps':>5s} {'sciflow (NumPy)':>16s} {'diffusers (torch)':>18s} "
          f"{'diffusers step only':>20s} {'ratio':>6s}")
    ratios = []
    cases = []
    for dtype in (np.float32, np.float64):
        x0 = np.random.default_rng(0).standard_normal((n, 2)).astype(dtype)
        for n_steps in (10, 50):
            sched = DPMSolverMultistepScheduler(trained_betas=betas)
            sched.set_timesteps(n_steps)
            times = times_from_sigmas(sched.sigmas.double().numpy())
            model = _Free(x0)

            def run_sciflow(times=times, model=model, x0=x0):
                return sample(model, x0, VP, solver="dpmpp_2m", steps=times)

            xt = torch.from_numpy(x0)
            mo = torch.from_numpy(model.out)

            def run_diffusers(sched=sched, n_steps=n_steps, xt=xt, mo=mo):
                sched.set_timesteps(n_steps)
                x = xt
                for ts in sched.timesteps:
                    x = sched.step(mo, ts, x).prev_sample
                return x

            sched.set_timesteps(n_steps)
            ts_list = list(sched.timesteps)

            def run_diffusers_steps(sched=sched, xt=xt, mo=mo, ts_list=ts_list):
                sched._step_index = None
                sched.lower_order_nums = 0
                x = xt
                for ts in ts_list:
                    x = sched.step(mo, ts, x).prev_sample
                return x

            # model-call cost of the free model, subtracted from sciflow's time
            t_model = best_time(lambda model=model, x0=x0: model.predict(x0, 0.5), repeat=20,
                                number=100)
            ts_ = best_time(run_sciflow, repeat=15) / n_steps - t_model
            td = best_time(run_diffusers, repeat=15) / n_steps
            tds = best_time(run_diffusers_steps, repeat=15) / n_steps
            ratios.append(ts_ / td)
            cases.append((ts_ * 1e6, td * 1e6, f"{np.dtype(dtype).name}, {n_steps} steps"))
            print(f"    {np.dtype(dtype).name:8s} {n_steps:5d} {ts_ * 1e6:13.1f} us "
                  f"{td * 1e6:15.1f} us {tds * 1e6:17.1f} us {ts_ / td:6.2f}")
    worst = max(ratios)
    print(f"    worst ratio sciflow/diffusers = {worst:.2f}  (target < 1: "
          f"{'MET' if worst < 1 else 'NOT MET'})")
    ts_us, td_us, label = cases[int(np.argmax(ratios))]
    record("sampling.step_overhead", ts_us, baseline=td_us, note=f"worst case: {label}")
    return worst


# ============================================================================ (c)
ORDERS = [  # (solver, NFEs, options, theory)
    ("ddim", [20, 40, 80, 160], {}, 1),
    ("dpm_solver_1", [20, 40, 80, 160], {}, 1),
    ("dpm_solver_2", [48, 96, 192], {}, 2),
    ("dpm_solver_3", [96, 192, 384], {}, 3),
    ("dpmpp_2m", [24, 48, 96, 192], {}, 2),
    ("dpmpp_3m", [48, 96, 192, 384], {}, 3),
    ("dpmpp_3m", [48, 96, 192, 384], {"third_order_weight": "paper"}, 2),
    ("unipc_2", [48, 96, 192], {"disable_corrector": True}, 2),
    ("unipc_2", [48, 96, 192], {}, 3),
    ("unipc_3", [96, 192, 384, 768], {}, 4),
    ("heun", [48, 96, 192], {}, 2),
    ("euler", [24, 48, 96, 192], {}, 1),
]


def observed_orders():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 2, 2)) * 0.2
    covs = a @ a.transpose(0, 2, 1) + 0.05 * np.eye(2)
    gm = GaussianMixture([0.3, 0.2, 0.25, 0.25],
                         [[1.0, 1.0], [-1.0, 0.5], [0.5, -1.0], [-0.8, -0.9]], covs)
    model = gm.bind(VP)
    x_T = np.random.default_rng(1).standard_normal((64, 2))
    exact = gm.exact_ode_solution(x_T, VP, VP.t_start, VP.t_end)
    print("\n(c) observed orders: 2-D 4-component mixture, VP linear, uniform log-SNR, "
          "1 -> 1e-3, 64 samples, no lower-order final steps")
    print(f"    {'solver':40s} {'NFE':>20s} {'error (first .. last)':>24s} {'order':>6s} "
          f"{'theory':>6s}")
    dev = []
    missing = sorted(set(SOLVERS) - {s for s, *_ in ORDERS} - {"dpmpp_2m_sde", "dpmpp_3m_sde"})
    for solver, nfes, opts, theory in ORDERS:
        errs = [mean_err(sample(model, x_T, VP, solver=solver, nfe=n, lower_order_final=False,
                                **opts), exact) for n in nfes]
        p = -np.polyfit(np.log(nfes), np.log(errs), 1)[0]
        name = solver + (f" {opts}" if opts else "")
        dev.append((abs(p - theory), name))
        print(f"    {name:40s} {str(nfes):>20s} {errs[0]:11.2e} .. {errs[-1]:9.2e} {p:6.2f} "
              f"{theory:6d}")
    if missing:
        print(f"    (not listed: {missing})")
    worst = max(dev)
    record("sampling.orders", worst[0], note=f"worst: {worst[1]}; {len(dev)} solver variants")


# ============================================================================ (d)
def dpm_solver_v3():
    from sciflow.sampling.dpmv3 import empirical_model_statistics
    from sciflow.sampling.mixtures import eight_gaussians, mixture_3d

    n_stat, n_lambda = (1024, 50) if QUICK else (4096, 200)
    print(f"\n(d) DPM-Solver-v3 vs the better of DPM-Solver++(2M) / UniPC-2, uniform log-SNR, "
          f"statistics {n_stat} samples x {n_lambda} nodes, 250 starts")
    for name, gm in (("8 Gaussians", eight_gaussians()), ("mixture_3d", mixture_3d())):
        model = gm.bind(VP)
        ems = empirical_model_statistics(model, VP, gm.sample(n_stat, rng=0),
                                         n_lambda=n_lambda, rng=0)
        x_T = np.random.default_rng(1).standard_normal((250, gm.dim))
        ref = gm.exact_ode_solution(x_T, VP, 1.0, 1e-3)
        for nfe in (5, 10):
            err = {s: mean_err(sample(model, x_T, VP, solver=s, nfe=nfe,
                                      spacing="uniform_lambda",
                                      **({"ems": ems} if s == "dpm_solver_v3" else {})), ref)
                   for s in ("dpmpp_2m", "unipc_2", "dpm_solver_v3")}
            best = min(("dpmpp_2m", "unipc_2"), key=err.get)
            print(f"    {name:12s} NFE {nfe:2d}: " + ", ".join(f"{k} {v:.3e}"
                                                            for k, v in err.items()))
            record("sampling.dpm_solver_v3", err["dpm_solver_v3"], baseline=err[best],
                   note=f"{name}, NFE {nfe}; baseline {best}")


def main():
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import diffusers  # noqa: F401
    except ImportError:
        print("diffusers is not installed: (a) and (b) skipped")
    else:
        accuracy_vs_diffusers()
        step_overhead()
    observed_orders()
    dpm_solver_v3()


if __name__ == "__main__":
    main()
