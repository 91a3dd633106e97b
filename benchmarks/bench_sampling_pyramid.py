"""Decomposable (Laplacian-pyramid) flow matching vs plain flow matching on the 8x8 digits.

Equal network size (the plain width is :func:`~sciflow.sampling.pyramid.matched_width` of the
pyramid's), equal training steps and equal NFE; scores from one fixed
:class:`~sciflow.sampling.pyramid.DigitScorer` (held-out digits). Prints one line per
(kind, seed, solver, NFE) and the floor (training digits scored like samples).

    python benchmarks/bench_sampling_pyramid.py [--steps 3000] [--seeds 0 1] [--threads 1]
        [--quick]

(``--quick``: 200 training steps, NFE 16 only.) Issue 11 sets no numeric target here; the row
recorded is the pyramid's Frechet distance against plain flow matching (Heun, NFE 16).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import is_quick, record  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--width", type=int, default=192)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--nfe", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 steps, NFE 16")
    args = parser.parse_args(argv)
    if args.quick or is_quick([]):
        args.steps, args.nfe = min(args.steps, 200), [16]

    import torch

    from sciflow.multiplicative.digits import load_split
    from sciflow.sampling import pyramid as P

    torch.set_num_threads(args.threads)
    split = load_split(8, low=-1.0, high=1.0, rng=0)
    scorer = P.DigitScorer(split.x_train, split.y_train, split.x_test, rng=0)
    n = len(split.x_test)

    def fmt(s):
        return " ".join(f"{k}={v:.4f}" for k, v in s.items())

    print(f"floor (first {n} training digits): {fmt(scorer.score(split.x_train[:n]))}")
    widths = {"pyramid": args.width, "plain": P.matched_width("plain", "pyramid", args.width)}
    rows = []
    for seed in args.seeds:
        for kind in ("pyramid", "plain"):
            t0 = time.perf_counter()
            model = P.train(split.x_train, kind=kind, steps=args.steps, width=widths[kind],
                            rng=seed)
            train_s = time.perf_counter() - t0
            for solver in ("euler", "heun"):
                for nfe in args.nfe:
                    s = scorer.score(model.sample(n, nfe=nfe, solver=solver, rng=100 + seed))
                    rows.append((kind, seed, solver, nfe, s))
                    print(f"{kind:8s} seed={seed} params={model.n_parameters} steps={args.steps} "
                          f"train={train_s:.1f}s {solver:5s} nfe={nfe:3d} {fmt(s)}", flush=True)
    for solver in ("euler", "heun"):
        for nfe in args.nfe:
            m = {k: np.mean([r[4]["frechet"] for r in rows if r[0] == k and r[2] == solver
                             and r[3] == nfe]) for k in ("pyramid", "plain")}
            print(f"mean Frechet {solver} nfe={nfe}: pyramid {m['pyramid']:.3f}, plain "
                  f"{m['plain']:.3f}, ratio {m['pyramid'] / m['plain']:.2f}")
            if solver == "heun" and nfe == (16 if 16 in args.nfe else args.nfe[-1]):
                record("sampling.pyramid", m["pyramid"], baseline=m["plain"],
                       note=f"Heun, NFE {nfe}, {args.steps} steps, seeds {args.seeds}")


if __name__ == "__main__":
    main()
