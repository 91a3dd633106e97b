"""The ``sciflow`` command: ``validate``, ``bench`` and ``info``.

``sciflow validate`` runs every validation case in ``validation/`` (each a folder holding a
``validate.py`` that defines ``run(outdir) -> dict``) and writes a report — Markdown, PNG figures
and a JSON of metrics — to ``validation/report/``. ``sciflow bench`` runs the scripts in
``benchmarks/``; ``sciflow info`` prints versions and the JIT setting.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time
from pathlib import Path

__all__ = ["main", "find_project_dir", "run_validation", "save_figure"]


def find_project_dir(name: str, start: Path | None = None) -> Path:
    """Locate ``validation/`` or ``benchmarks/``: in the working directory or its parents,
    else beside the installed package (editable installs)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty folder name (str), got {name!r}")
    candidates = []
    here = Path.cwd() if start is None else Path(start)
    candidates += [p / name for p in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parent.parent / name)
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(f"no '{name}/' folder found from {here} or beside the package")


def save_figure(fig, outdir, name: str, *, dpi: int = 100) -> str:
    """Lay out, save ``fig`` as ``outdir/name``, close it and return ``name`` (the form a
    validation case lists in its ``figures``)."""
    import matplotlib.pyplot as plt

    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not Path(outdir).is_dir():
        raise ValueError(f"outdir must be an existing folder, got {str(outdir)!r}")
    if not isinstance(name, str) or not name.endswith(".png"):
        raise ValueError(f"name must be a file name ending in .png, got {name!r}")
    fig.tight_layout()
    fig.savefig(Path(outdir) / name, dpi=dpi)
    plt.close(fig)
    return name


def _load_case(path: Path):
    spec = importlib.util.spec_from_file_location(f"sciflow_validation_{path.parent.name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_validation(validation_dir: Path | None = None, out: Path | None = None,
                   only: list[str] | None = None, quick: bool = False) -> dict:
    """Run every case and write ``report.md``, ``metrics.json`` and figures to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    vdir = Path(validation_dir) if validation_dir else find_project_dir("validation")
    if not vdir.is_dir():
        raise ValueError(f"validation_dir must be an existing folder, got {str(vdir)!r}")
    cases = sorted(p for p in vdir.glob("*/validate.py") if p.parent.name != "report")
    if only:
        if isinstance(only, str):
            raise TypeError(f"only must be a list of case names, got the string {only!r}")
        unknown = sorted(set(only) - {c.parent.name for c in cases})
        if unknown:
            raise ValueError(f"only names unknown validation case(s) {unknown}; "
                             f"known: {[c.parent.name for c in cases]}")
        cases = [c for c in cases if c.parent.name in only]
    out = Path(out) if out else vdir / "report"
    out.mkdir(parents=True, exist_ok=True)
    results, lines = {}, ["# sciflow validation report", ""]
    for case in cases:
        name = case.parent.name
        t0 = time.perf_counter()
        try:
            res = _load_case(case).run(out, quick=quick)
            res.setdefault("passed", True)
        except Exception as exc:  # a failing case is reported, not hidden
            res = {"title": name, "passed": False, "markdown": f"**error**: `{exc!r}`",
                   "metrics": {}, "figures": []}
        res["wall_time_s"] = round(time.perf_counter() - t0, 3)
        results[name] = res
        status = "PASS" if res["passed"] else "FAIL"
        lines += [f"## {res.get('title', name)} — {status}", "", res.get("markdown", ""), ""]
        lines += [f"![{fig}]({fig})" for fig in res.get("figures", [])]
        lines += ["", f"_wall time {res['wall_time_s']} s_", ""]
        print(f"[{status}] {name} ({res['wall_time_s']} s)")
    (out / "report.md").write_text("\n".join(lines))
    metrics = {k: {"passed": v["passed"], "wall_time_s": v["wall_time_s"],
                   **v.get("metrics", {})} for k, v in results.items()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    print(f"report written to {out / 'report.md'}")
    return results


def _info() -> None:
    import numpy
    import scipy

    from . import __version__
    from ._jit import JIT_ENABLED

    print(f"sciflow {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"numpy {numpy.__version__}, scipy {scipy.__version__}")
    for mod in ("numba", "sympy", "matplotlib", "torch", "dask"):
        try:
            m = __import__(mod)
            print(f"{mod} {getattr(m, '__version__', '?')}")
        except ImportError:
            print(f"{mod}: not installed")
    print(f"JIT enabled: {JIT_ENABLED} (SCIFLOW_DISABLE_JIT=1 turns it off)")


_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, ImportError, OSError, KeyError)


def _scale_out_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None,
                   help="run on a local process pool of N workers (-1: all cores)")
    g.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on the dask.distributed scheduler at this address")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _fail(command: str, exc: BaseException) -> SystemExit:
    """One line on stderr and exit status 1, not a traceback."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SystemExit(f"sciflow {command}: error: {msg}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sciflow`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="sciflow", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pv = sub.add_parser("validate", help="run validation/ and write validation/report/")
    pv.add_argument("cases", nargs="*", help="case folders to run (default: all)")
    pv.add_argument("--out", type=Path, default=None, help="report folder")
    pv.add_argument("--dir", type=Path, default=None, help="the validation/ folder")
    pv.add_argument("--quick", action="store_true", help="smaller problems (a smoke run)")
    _scale_out_options(pv)
    ps = sub.add_parser("sweep", help="run a parameter sweep from a TOML spec")
    ps.add_argument("spec", type=Path, help="the sweep spec (TOML)")
    ps.add_argument("--out", type=Path, default=None, help="output .nc or .zarr path")
    _scale_out_options(ps)
    pb = sub.add_parser("bench", help="run benchmarks/ and tabulate every performance target")
    pb.add_argument("names", nargs="*", help="benchmark scripts to run (default: all)")
    pb.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    pb.add_argument("--json", type=Path, default=None, help="where to write the JSON table")
    sub.add_parser("info", help="versions and settings")
    args = parser.parse_args(argv)
    if args.command == "info":
        _info()
        return 0
    from .parallel import resolve_workers

    try:
        if args.command == "bench":
            from .bench import main_bench

            return main_bench(args.names or None, quick=args.quick, json_path=args.json)
        workers = resolve_workers(args.workers, args.scheduler)
        if args.command == "sweep":
            from .sweep import main_sweep

            return main_sweep(args.spec, out=args.out, workers=workers,
                              progress=not args.no_progress)
        res = run_validation(args.dir, args.out, args.cases or None, quick=args.quick,
                             workers=workers, progress=not args.no_progress)
    except _USER_ERRORS as exc:
        raise _fail(args.command, exc) from None
    return 0 if all(r["passed"] for r in res.values()) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
