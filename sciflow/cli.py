"""The ``sciflow`` command: ``validate``, ``sweep``, ``bench`` and ``info``.

``sciflow validate`` runs every validation case in ``validation/`` (see
:mod:`sciflow.validation` and ``validation/README.md`` for the drop-a-folder contract) and writes
``index.md`` (one summary table, then a section per case), PNG figures and ``metrics.json`` to
``validation/report/``. ``sciflow sweep SPEC.toml`` runs a parameter sweep (:mod:`sciflow.sweep`)
into an xarray Dataset. ``--workers N`` (process pool) or ``--scheduler tcp://HOST:PORT|local``
(dask.distributed) scale both out. ``sciflow bench`` runs ``benchmarks/`` and tabulates every
performance target (:mod:`sciflow.bench`); ``sciflow info`` prints versions and the JIT setting.
Bad input ends the command with one ``sciflow <command>: error: ...`` line and exit status 1
(argparse usage errors: 2); a failing validation case gives exit status 1.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from .validation import find_project_dir, run_validation, save_figure

__all__ = ["main", "find_project_dir", "run_validation", "save_figure"]


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
    ps.add_argument("--allow-any-module", action="store_true",
                    help="let the spec call functions outside the sciflow package")
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
        if args.command == "sweep":  # main_sweep reports its own errors in one line
            from .sweep import main_sweep

            return main_sweep(args.spec, args.out, args.workers, not args.no_progress,
                              scheduler=args.scheduler, allow_any_module=args.allow_any_module)
        workers = resolve_workers(args.workers, args.scheduler)
    except _USER_ERRORS as exc:
        raise _fail(args.command, exc) from None
    try:
        res = run_validation(args.dir, args.out, args.cases or None, quick=args.quick,
                             workers=workers, progress=not args.no_progress)
    except _USER_ERRORS as exc:
        raise _fail(args.command, exc) from None
    finally:
        if hasattr(workers, "close"):  # a dask Client made from --scheduler
            workers.close()
    return 0 if all(r["passed"] for r in res.values()) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
