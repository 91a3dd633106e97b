"""Gauge freedom: the analytic counter-example, and how conservative a learned score is.

(a) Counter-example (:func:`sciflow.gauge.counterexample.run_counterexample`): data
    ``N((1, -0.5), [[1, .6], [.6, .5]])`` under VP linear, 4,000 moment-matched starts at
    ``t = 1``; the exact score, the gauged score ``(I + 0.5 J) grad log p_t`` and the
    non-gauge ``1.5 grad log p_t``, by the exact ODE (DOP853) and by UniPC-2 / DPM-Solver++(2M)
    at NFE 20, 50, 100. Covariance errors at ``t = 1e-3``, endpoint displacement from the
    unperturbed flow map and the whitened rotation angle.
(b) Learned fields: an unconstrained MLP (:func:`sciflow.sampling.nn.train`, eps target,
    width 128, depth 3) on the 8-Gaussian circle (exact ``p_t``: ``gaussian_mixture_model()``)
    and on two moons (``p_t`` of a Gaussian KDE, :func:`kde_mixture`, of noise-free points on
    the two curves with the data's noise 0.05 as bandwidth: the data law), evaluated on
    a 128 x 128 grid at t = 0.1, 0.2, 0.4, 0.7, 1.0 by :func:`learned_field_report`: gauge
    fraction (grid and sample-based decomposition), Jacobian asymmetry (autograd), relative
    score error, and the marginal defect ``|div(p (s - grad log p))| / |div(p grad log p)|``.
    The baseline row set is the same report for the exact score (the discretisation floor).

Prints numbers; no asserts. ``python benchmarks/bench_gauge_learned.py [--quick]``
(``--quick``: (a) exact and UniPC-2 at NFE 20 on 1,000 starts; (b) 8 Gaussians only, 600
training steps, 96 x 96 grid). Issue 9 sets no numeric target here; the row recorded is the
learned field's gauge fraction at t = 0.1 beside the exact score's.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, record  # noqa: E402

from sciflow.gauge.conservativity import kde_mixture, learned_field_report  # noqa: E402
from sciflow.gauge.counterexample import run_counterexample  # noqa: E402
from sciflow.sampling import VPSchedule  # noqa: E402
from sciflow.sampling.datasets import gaussian_mixture_model, make_dataset  # noqa: E402

VP = VPSchedule("linear")
TIMES = (0.1, 0.2, 0.4, 0.7, 1.0)
STEPS = 600 if QUICK else 4000
N_GRID = 96 if QUICK else 128


def part_a():
    print("(a) counter-example: covariance error (exact / gauge / non-gauge), gauged endpoint "
          "displacement, whitened rotation")
    print(f"{'solver':>10} {'NFE':>5} {'exact':>10} {'gauge':>10} {'non-gauge':>10} "
          f"{'flow dist':>10} {'angle':>8} {'time s':>7}")
    runs = [("exact", None)] + [(s, n) for s in ("unipc_2", "dpmpp_2m") for n in (20, 50, 100)]
    n = 1000 if QUICK else 4000
    if QUICK:
        runs = runs[:2]
    for solver, nfe in runs:
        t0 = time.perf_counter()
        r = run_counterexample(solver=solver, nfe=nfe, n=n, rng=0)
        wall = time.perf_counter() - t0
        c = r.cov_error
        print(f"{solver:>10} {str(nfe or '-'):>5} {c['exact']:10.2e} {c['gauge']:10.2e} "
              f"{c['non_gauge']:10.2e} {r.flow_error['gauge']:10.3f} "
              f"{r.rotation_angle:8.4f} {wall:7.2f}")
    r = run_counterexample(solver="exact", n=n, rng=0)
    print(f"exact ODE: SW to an exact sample: exact {r.sliced_wasserstein['exact']:.4f}, gauge "
          f"{r.sliced_wasserstein['gauge']:.4f}, non-gauge "
          f"{r.sliced_wasserstein['non_gauge']:.4f} (two-sample floor {r.sw_floor:.4f})")


def train_model(data, seed):
    import torch

    from sciflow.sampling.nn import train

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model = train(data, VP, steps=STEPS, rng=seed, progress=False, num_threads=1)
    return model, time.perf_counter() - t0


def part_b():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("(b) skipped: needs torch")
        return
    axis = np.linspace(-4.5, 4.5, N_GRID)
    grid = (axis, axis)
    gm = gaussian_mixture_model()
    data = make_dataset("gaussian_mixture", 20000, 0)
    model, wall = train_model(data, 1)
    print(f"\n(b) 8 Gaussians: MLP trained {STEPS} steps in {wall:.1f} s "
          f"(final loss {model.final_loss:.4f}); grid {N_GRID}^2 on [-4.5, 4.5]^2")
    t0 = time.perf_counter()
    base = learned_field_report(gm.bind(VP), gm, grid, TIMES, rng=0)
    print(f"baseline: the exact score ({time.perf_counter() - t0:.1f} s)")
    print(base)
    t0 = time.perf_counter()
    rep = learned_field_report(model, gm, grid, TIMES, rng=0)
    print(f"learned MLP ({time.perf_counter() - t0:.1f} s)")
    print(rep)
    i = int(np.argmin(np.abs(np.asarray(rep.times) - 0.1)))
    record("gauge.learned", float(rep.gauge_fraction[i]), baseline=float(base.gauge_fraction[i]),
           note=f"t = {rep.times[i]:g}; MLP {STEPS} steps; grid {N_GRID}^2; score error "
                f"{float(rep.score_error[i]):.2e}")

    if QUICK:
        return
    moons = make_dataset("two_moons", 20000, 3)
    mmodel, wall = train_model(moons, 4)
    # the data law is (uniform on the two curves) * N(0, 0.05^2): 2000 noise-free points on
    # the curves (spacing ~0.003) with bandwidth 0.05 reproduce it closely
    kde = kde_mixture(make_dataset("two_moons", 2000, 5, noise=0.0), bandwidth=0.05)
    axis_m = np.linspace(-3.5, 3.5, N_GRID)
    print(f"\n(b) two moons: MLP trained {STEPS} steps in {wall:.1f} s; p_t = noised Gaussian "
          f"KDE of 2000 noise-free curve points, bandwidth 0.05 (= the data noise); grid "
          f"{N_GRID}^2 on [-3.5, 3.5]^2")
    t0 = time.perf_counter()
    rep_m = learned_field_report(mmodel, kde, (axis_m, axis_m), TIMES, data=moons[:4000],
                                 rng=0)
    print(f"learned MLP ({time.perf_counter() - t0:.1f} s)")
    print(rep_m)


if __name__ == "__main__":
    part_a()
    part_b()
