"""Shared helpers of the benchmark scripts: timing, the BTEX case, quick mode and the target
rows that ``sciflow bench`` collects.

Protocol. Every performance target the issues set is one entry of :data:`TARGETS` (issue, what,
the target value, its comparison and whether it applies to the value or to the ratio against
the baseline). A script measures a target and calls :func:`record` with the value and the
baseline it measured in the same run; ``record`` prints one line and, when the environment
variable ``SCIFLOW_BENCH_JSON`` names a file, appends the row to it as one JSON line.

Ratio convention: ``ratio`` is the factor by which sciflow beats the baseline, > 1 = better:
``baseline / value`` where lower is better (times, errors, iteration counts) and
``value / baseline`` where higher is better (throughput, R^2).

Quick mode (small sizes and repeats, for tests and smoke runs): ``--quick`` on the command line
or ``SCIFLOW_BENCH_QUICK=1``; rows are then marked ``quick`` and do not test the targets'
sizes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JSON_ENV = "SCIFLOW_BENCH_JSON"
QUICK_ENV = "SCIFLOW_BENCH_QUICK"

# key: issue, what is measured, scripts that measure it ("" = none: reason says why), the
# target (on "value" or "ratio", comparison, number), the value's unit, and "lower"/"higher"
# for the direction in which the value is better.
TARGETS: dict[str, dict] = {
    "chrom.exact_speed": dict(
        issue=2, what="exact: 5 analytes x 20,000 time points", unit="ms", better="lower",
        on="value", cmp="<", target=20.0, scripts=("bench_chromatography_exact",),
        baseline="same chromatogram by the chi-square CDF (scipy chndtr)"),
    "chrom.fd_speed": dict(
        issue=2, what="fd: 5-analyte BTEX at 1e-3 accuracy", unit="s", better="lower",
        on="value", cmp="<", target=2.0, scripts=("bench_chromatography_fd",),
        baseline="solve_ivp BDF, same grid, comparable accuracy"),
    "chrom.fd_accuracy": dict(
        issue=2, what="fd: peak-scaled max error vs exact (BTEX)", unit="", better="lower",
        on="value", cmp="<", target=1e-3, scripts=("bench_chromatography_fd",),
        baseline="solve_ivp BDF at its fastest tolerance"),
    "chrom.fit_speed": dict(
        issue=2, what="fit of a measured 17-peak run (Leppert progD)", unit="s",
        better="lower", on="value", cmp="<", target=10.0, scripts=("bench_chromatography_fit",),
        baseline="one joint fit over the full trace"),
    "chrom.fit_r2": dict(
        issue=2, what="median R^2 per peak, measured 17-peak fit", unit="", better="higher",
        on="value", cmp=">=", target=0.99, scripts=("bench_chromatography_fit",),
        baseline="one joint fit over the full trace"),
    "transport.sweep_throughput": dict(
        issue=3, what="S16 sweep, one core", unit="updates/s", better="higher", on="value",
        cmp=">=", target=1.5e8, scripts=("bench_transport_sweep",),
        baseline="NumPy reference sweep"),
    "transport.dsa_iterations": dict(
        issue=3, what="DSA iterations, c=0.999, S16, 1-mfp cells, tol 1e-10", unit="it",
        better="lower", on="value", cmp="<=", target=15, scripts=("bench_transport_sweep",),
        baseline="source iteration"),
    "transport.gmres_dsa_iterations": dict(
        issue=3, what="GMRES+DSA iterations, same slab", unit="it", better="lower",
        on="value", cmp="<=", target=12, scripts=("bench_transport_sweep",),
        baseline="source iteration"),
    "transport.dsa_thickness": dict(
        issue=3, what="DSA iteration spread over cells 0.01-100 mfp (within +-3)", unit="it",
        better="lower", on="value", cmp="<=", target=6, scripts=("bench_transport_sweep",),
        baseline=""),
    "sampling.nfe10_vs_diffusers": dict(
        issue=4, what="NFE 10 mean error, 8-Gaussian mixture, best solver", unit="",
        better="lower", on="ratio", cmp=">=", target=2.0, scripts=("bench_sampling",),
        baseline="diffusers DPMSolverMultistep (++2M)"),
    "sampling.step_overhead": dict(
        issue=4, what="per-step overhead, 10,000 2-D samples (worst case)", unit="us",
        better="lower", on="ratio", cmp=">", target=1.0, scripts=("bench_sampling",),
        baseline="diffusers scheduler step (torch)"),
    "sampling.orders": dict(
        issue=4, what="observed orders: max |p - theory|", unit="", better="lower",
        on="value", cmp="<=", target=0.3, scripts=("bench_sampling",), baseline=""),
    "mult.fp_kernel_speedup": dict(
        issue=8, what="Fokker-Planck numba kernel, 400 cells x 1000 steps (worst case)",
        unit="ms", better="lower", on="ratio", cmp=">=", target=20.0,
        scripts=("bench_multiplicative_fp",), baseline="NumPy/SciPy reference march"),
    "mult.fp_l1": dict(
        issue=8, what="Fokker-Planck L1 vs analytic, 600 cells, dt 0.01", unit="",
        better="lower", on="value", cmp="<", target=1e-4, scripts=("bench_multiplicative_fp",),
        baseline="backward Euler, same grid and dt"),
    "mult.ks": dict(
        issue=8, what="KS statistic, 1-D exact-score sampler (Dale-Langevin)", unit="",
        better="lower", on="value", cmp="<", target=0.02,
        scripts=("bench_multiplicative_samplers",), baseline="ambient Langevin, same steps"),
    "mult.pf_nfe10": dict(
        issue=8, what="log-space PF-ODE at NFE 10: mean |x - exact flow map|", unit="",
        better="lower", on="value", cmp="<=", target=1e-2,
        scripts=("bench_multiplicative_samplers",), baseline="DDIM at NFE 10"),
    "mult.digits_train": dict(
        issue=8, what="8x8 digit model training time", unit="s", better="lower",
        on="value", cmp="<", target=600.0, scripts=("bench_multiplicative_digits",),
        baseline="the other model (additive / multiplicative)"),
    "mult.digits_fd_additive": dict(
        issue=8, what="classifier FD, multiplicative vs additive (within 20 %)", unit="",
        better="lower", on="ratio", cmp=">=", target=1 / 1.2,
        scripts=("bench_multiplicative_digits",), baseline="additive VP model, same size/NFE"),
    "mult.digits_fd_trivial": dict(
        issue=8, what="classifier FD, multiplicative vs trivial baseline (5x)", unit="",
        better="lower", on="ratio", cmp=">=", target=5.0,
        scripts=("bench_multiplicative_digits",), baseline="class mean + noise"),
    "gauge.decompose_2d": dict(
        issue=9, what="weighted Helmholtz-Hodge 1024^2 (multigrid)", unit="s",
        better="lower", on="value", cmp="<", target=5.0, scripts=("bench_gauge_decompose",),
        baseline="direct spsolve at 256^2"),
    "gauge.decompose_3d": dict(
        issue=9, what="weighted Helmholtz-Hodge 128^3 (multigrid)", unit="s",
        better="lower", on="value", cmp="<", target=60.0, scripts=("bench_gauge_decompose",),
        baseline="direct spsolve at 32^3"),
    "gauge.dimension_mae": dict(
        issue=9, what="intrinsic dimension MAE, 24 manifolds (denoiser)", unit="",
        better="lower", on="ratio", cmp=">", target=1.0, scripts=("bench_gauge_dimension",),
        baseline="best scikit-dimension estimator"),
    "gauge.dimension_time": dict(
        issue=9, what="intrinsic dimension wall time, 24 manifolds (denoiser)", unit="s",
        better="lower", on="ratio", cmp=">", target=1.0, scripts=("bench_gauge_dimension",),
        baseline="scikit-dimension DANCo"),
    "gauge.learned": dict(
        issue=9, what="gauge fraction of a learned MLP score, 8 Gaussians, t=0.1 (no target)",
        unit="", better="lower", on="value", cmp="", target=None,
        scripts=("bench_gauge_learned",), baseline="the exact score (discretisation floor)"),
    "chrom.retention_table": dict(
        issue=10, what="retention/width table, 17 solutes, one program", unit="ms",
        better="lower", on="value", cmp="<", target=50.0,
        scripts=("bench_chromatography_programs",), baseline="solve_ivp RK45 in Python"),
    "chrom.programmed_fd": dict(
        issue=10, what="programmed chromatogram, 17 solutes, fd", unit="s", better="lower",
        on="value", cmp="<", target=2.0,
        scripts=("bench_chromatography_programmed_sim", "bench_chromatography_programmed_fd"),
        baseline="see note"),
    "chrom.optimize_program": dict(
        issue=10, what="optimize_program, 11 solutes, one ramp", unit="s", better="lower",
        on="value", cmp="<", target=60.0, scripts=("bench_chromatography_programs",),
        baseline="brute-force 6^4 grid"),
    "sampling.pyramid": dict(
        issue=11, what="pyramid flow matching FD, 8x8 digits (no numeric target)", unit="",
        better="lower", on="value", cmp="", target=None, scripts=("bench_sampling_pyramid",),
        baseline="plain flow matching, equal size/steps/NFE"),
    "sampling.dpm_solver_v3": dict(
        issue=11, what="DPM-Solver-v3 error vs best of ++2M/UniPC-2, NFE 5 and 10",
        unit="", better="lower", on="ratio", cmp=">=", target=1.5, scripts=("bench_sampling",),
        baseline="better of DPM-Solver++(2M), UniPC-2"),
    "project.validate_quick": dict(
        issue=12, what="sciflow validate --quick on 2 cores", unit="s", better="lower",
        on="value", cmp="<", target=300.0, scripts=(), baseline="",
        reason="not a benchmark: the wall time is in validation/report (sciflow validate)"),
    "project.test_suite": dict(
        issue="7, 12", what="default test suite (pytest -n 2) on 2 cores", unit="s",
        better="lower", on="value", cmp="<", target=600.0, scripts=(), baseline="",
        reason="not a benchmark: the wall time of the CI test step"),
}

# Accuracy targets of the issues that are not performance targets: they are asserted in the
# test suite and reported by ``sciflow validate``; ``sciflow bench`` lists them with where.
ELSEWHERE: dict[str, dict] = {
    "chrom.exact_vs_quadrature": dict(
        issue=2, what="exact vs independent Thomas-kernel quadrature <= 1e-9 (peak-scaled)",
        where="tests/chromatography/test_exact.py"),
    "chrom.laplace_vs_exact": dict(
        issue=2, what="laplace within 1e-6 of exact", where="tests/chromatography/test_laplace.py"),
    "chrom.compressible_moments": dict(
        issue=2, what="compressible mass balance 1e-6 and first moment, p_in/p_out 1.01-4",
        where="tests/chromatography/test_conservation_properties.py, test_exact.py"),
    "chrom.measured_fits": dict(
        issue=2, what="measured fits: median R^2 per peak >= 0.99 (all Leppert runs)",
        where="validation/leppert2020b (sciflow validate)"),
    "transport.dsa_fourier": dict(
        issue=3, what="DSA spectral radius within 0.02 of Fourier; S2 DSA <= 2 iterations",
        where="tests/transport/test_core.py, test_fourier.py"),
    "transport.critical_slabs": dict(
        issue=3, what="critical slabs |k - 1| < 2e-3 at S16, < 1e-4 at S64",
        where="validation/transport (sciflow validate), tests/transport"),
    "sampling.backends": dict(
        issue="4, 11", what="torch = NumPy to 1e-6 (1e-12 in float64); no NaN/inf in the sweep",
        where="tests/sampling/test_backend.py, test_properties.py"),
    "mult.fp_mass": dict(
        issue=8, what="Fokker-Planck mass conserved to 1e-12",
        where="tests/multiplicative/test_fokker_planck.py"),
    "gauge.grid_convergence": dict(
        issue=9, what="grad phi second-order convergence; orthogonality to discretisation error",
        where="tests/gauge/test_decompose.py"),
    "gauge.samples_5d": dict(
        issue=9, what="5-D sample-based decomposition: rel. L2(p) error < 5e-2, 20,000 samples",
        where="tests/gauge/test_decompose.py::test_samples_5d_gaussian_mixture"),
    "chrom.prediction": dict(
        issue=10, what="prediction: median |dt_R|/t_R <= 0.5 %, sigma ratio within 10 %",
        where="validation/leppert2020b_prediction (sciflow validate)"),
    "chrom.programs_exactness": dict(
        issue=10, what="constant-T = isothermal 1e-9; mass balance 1e-10; q_max -> inf 1e-10",
        where="tests/chromatography/test_programs_fd.py, test_competitive.py"),
    "sampling.inversion": dict(
        issue=11, what="inversion cycle error <= 1e-4 at NFE 20, third-order solver",
        where="tests/sampling/test_inversion.py"),
    "sampling.terminal_snr": dict(
        issue=11, what="zero terminal SNR bias reduced >= 10x",
        where="tests/sampling/test_terminal_snr.py"),
    "sampling.posterior": dict(
        issue=11, what="SMC posterior sliced-W <= 0.05; 90 % coverage in 85-95 %",
        where="tests/sampling/test_posterior.py"),
}

_CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b}


def is_quick(argv: list[str] | None = None) -> bool:
    """True for ``--quick`` in ``argv`` (default ``sys.argv``) or ``SCIFLOW_BENCH_QUICK=1``."""
    argv = sys.argv[1:] if argv is None else argv
    return "--quick" in argv or os.environ.get(QUICK_ENV, "") not in ("", "0")


QUICK = is_quick()


def ratio_of(value: float, baseline: float | None, better: str) -> float | None:
    """Factor by which ``value`` beats ``baseline`` (> 1 = better); None without a baseline."""
    if baseline is None or value is None:
        return None
    if better == "lower":
        return baseline / value if value != 0 else math.inf
    return value / baseline if baseline != 0 else math.inf


def target_met(spec: dict, value: float | None, ratio: float | None) -> bool | None:
    """Whether the target of ``spec`` holds for ``value``/``ratio`` (None: no target, or the
    quantity it applies to was not measured)."""
    x = value if spec["on"] == "value" else ratio
    if spec["target"] is None or x is None or not math.isfinite(x) and x != math.inf:
        return None
    return bool(_CMP[spec["cmp"]](x, spec["target"]))


def record(key: str, value: float, *, baseline: float | None = None, note: str = "",
           benchmark: str | None = None, quick: bool | None = None) -> dict:
    """Record one measurement of target ``key`` (see :data:`TARGETS`): print it and, when
    ``SCIFLOW_BENCH_JSON`` is set, append it there as one JSON line. Returns the row."""
    spec = TARGETS[key]
    value = float(value)
    baseline = None if baseline is None else float(baseline)
    ratio = ratio_of(value, baseline, spec["better"])
    met = target_met(spec, value, ratio)
    row = {
        "key": key, "issue": spec["issue"], "what": spec["what"],
        "benchmark": benchmark or Path(sys.argv[0]).stem, "status": "measured",
        "value": value, "unit": spec["unit"], "baseline": baseline,
        "baseline_name": spec["baseline"], "ratio": ratio, "better": spec["better"],
        "target_on": spec["on"], "cmp": spec["cmp"], "target": spec["target"], "met": met,
        "quick": QUICK if quick is None else bool(quick), "note": note,
    }
    tgt = ("no target" if spec["target"] is None
           else f"target {spec['on']} {spec['cmp']} {spec['target']:.4g}")
    base = "" if baseline is None else f", baseline {baseline:.4g} (ratio x{ratio:.3g})"
    verdict = {True: "met", False: "MISSED", None: "-"}[met]
    unit = f" {spec['unit']}" if spec["unit"] else ""
    print(f"[target {key}] {value:.4g}{unit}{base}; {tgt}: {verdict}"
          f"{' (quick)' if row['quick'] else ''}{'; ' + note if note else ''}", flush=True)
    path = os.environ.get(JSON_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    return row


def best_time(fn, repeat=7, number=1):
    """Best wall time (s) of ``number`` calls over ``repeat`` repeats, after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def btex_case():
    """(Column, [Analyte]) of the published BTEX case (Cabrera-Codony et al. 2024)."""
    from sciflow.chromatography.io import load_btex_parameters

    col, an, _ = load_btex_parameters(ROOT / "data" / "btex_cabrera_codony_2024.json")
    return col, an
