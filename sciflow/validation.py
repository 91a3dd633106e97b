"""The validation report: run the cases in ``validation/``, write ``index.md`` and ``metrics.json``.

A *case* is a folder ``validation/<case>/`` holding ``validate.py`` with
``run(outdir, quick=False) -> dict`` (keys ``title``, ``markdown``, ``metrics``, ``figures``,
``passed`` and ``checks``, a list of :class:`Check`); ``validation/README.md`` states the
contract. :func:`run_validation` runs every case (serially, on a process pool or on a dask
cluster, through :func:`sciflow.parallel.map_tasks`) and writes one report: a summary table of
every case's checks above the per-case sections and figures.

The cases and the data they read ship inside the wheel (``sciflow/_bundled``), so
``sciflow validate`` works from a plain ``pip install sciflow`` too; the report then goes to
``./validation-report`` in the working directory.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
import numbers
import os
import platform
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Check", "run_validation", "find_project_dir", "save_figure", "list_cases"]

_BUNDLED = Path(__file__).resolve().parent / "_bundled"
_RESERVED = ("title", "passed", "wall_time_s", "checks")


# ------------------------------------------------------------------------------------------------
# one row of the summary table
# ------------------------------------------------------------------------------------------------

def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@dataclass(frozen=True)
class Check:
    """One row of the summary table: a quantity sciflow computes, compared with a reference.

    Parameters
    ----------
    quantity : str
        What is compared (e.g. "k at S16, PUa-1-0-SL").
    value : float, int, str or bool
        sciflow's value.
    reference : float, int, str or bool
        The reference value, or a word such as "exact" / "analytic" / "1 (critical)".
    source : str
        Where the reference comes from (paper, table, data set).
    error : float, optional
        The error as the case defines it (absolute, relative, distance…; ``>= 0``; NaN fails).
    tolerance : float or str, optional
        The allowed error (a number ``>= 0``), or a text for one-sided or range criteria
        (then ``passed`` must be given).
    passed : bool, optional
        Default ``error <= tolerance`` (both must then be numbers).
    unit : str
        Unit of ``value``/``reference``/``error`` ("" when dimensionless).
    note : str
        Anything the reader needs to interpret the row.
    """

    quantity: str
    value: Any
    reference: Any
    source: str
    error: float | None = None
    tolerance: float | str | None = None
    passed: bool | None = None
    unit: str = ""
    note: str = ""

    def __post_init__(self):
        for name in ("value", "reference", "error", "tolerance", "passed"):
            v = getattr(self, name)
            if isinstance(v, np.generic):  # numpy scalars as Python ones
                object.__setattr__(self, name, v.item())
        for name in ("quantity", "source"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise TypeError(f"{name} must be a non-empty str, got {v!r}")
        for name in ("value", "reference"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real | str | bool):
                raise TypeError(f"{name} must be a number, a bool or a str, got "
                                f"{type(v).__name__} {v!r}")
        for name in ("unit", "note"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str, got {getattr(self, name)!r}")
        err, tol = self.error, self.tolerance
        if err is not None:
            if not _is_number(err):
                raise TypeError(f"error must be a real number or None, got {err!r}")
            if err < 0:
                raise ValueError(f"error must be >= 0 (or NaN for 'not computed'), got {err}")
            object.__setattr__(self, "error", float(err))
        if tol is not None and not isinstance(tol, str):
            if not _is_number(tol):
                raise TypeError(f"tolerance must be a real number >= 0, a str or None, got "
                                f"{tol!r}")
            if not tol >= 0:
                raise ValueError(f"tolerance must be >= 0, got {tol}")
            object.__setattr__(self, "tolerance", float(tol))
        if self.passed is None:
            if not (_is_number(err) and _is_number(tol)):
                raise ValueError("passed must be given unless error and tolerance are both "
                                 f"numbers (got error={err!r}, tolerance={tol!r})")
            object.__setattr__(self, "passed", bool(float(err) <= float(tol)))
        elif isinstance(self.passed, bool):
            object.__setattr__(self, "passed", bool(self.passed))
        else:
            raise TypeError(f"passed must be a bool or None, got {self.passed!r}")

    def to_dict(self) -> dict:
        """The row as a JSON-ready dict (numbers as float/int, NaN as None)."""
        d = asdict(self)
        for k, v in d.items():
            if _is_number(v):
                d[k] = None if isinstance(v, float) and math.isnan(v) else (
                    int(v) if isinstance(v, numbers.Integral) else float(v))
        return d

    @classmethod
    def coerce(cls, obj) -> Check:
        """A :class:`Check` from a Check or a dict of its fields."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict):
            unknown = sorted(set(obj) - set(cls.__dataclass_fields__))
            if unknown:
                raise ValueError(f"check has unknown field(s) {unknown}; allowed: "
                                 f"{list(cls.__dataclass_fields__)}")
            return cls(**obj)
        raise TypeError(f"a check must be a Check or a dict, got {type(obj).__name__}")


# ------------------------------------------------------------------------------------------------
# folders and figures
# ------------------------------------------------------------------------------------------------

def find_project_dir(name: str, start: Path | str | None = None) -> Path:
    """Locate ``validation/`` or ``benchmarks/``: in the working directory (or ``start``) or its
    parents, else beside the package (editable installs), else the copy bundled in the wheel."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty folder name (str), got {name!r}")
    here = Path.cwd() if start is None else Path(start)
    candidates = [p / name for p in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parent.parent / name)
    candidates.append(_BUNDLED / name)
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(f"no '{name}/' folder found from {here}, beside the package or in "
                            "its bundled copy")


def save_figure(fig, outdir, name: str, *, dpi: int = 100) -> str:
    """Lay out, save ``fig`` as ``outdir/name``, close it and return ``name`` (the form a
    validation case lists in its ``figures``)."""
    import matplotlib.pyplot as plt

    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not Path(outdir).is_dir():
        raise ValueError(f"outdir must be an existing folder, got {str(outdir)!r}")
    if not isinstance(name, str) or not name.endswith(".png") or Path(name).name != name:
        raise ValueError(f"name must be a file name ending in .png, got {name!r}")
    fig.tight_layout()
    fig.savefig(Path(outdir) / name, dpi=dpi)
    plt.close(fig)
    return name


def _validation_dir(validation_dir) -> Path:
    if validation_dir is None:
        return find_project_dir("validation")
    if not isinstance(validation_dir, str | os.PathLike):
        raise TypeError(f"validation_dir must be a path (str or PathLike) or None, got "
                        f"{type(validation_dir).__name__}")
    vdir = Path(validation_dir)
    if not vdir.is_dir():
        raise ValueError(f"validation_dir must be an existing folder, got {str(vdir)!r}")
    return vdir


def list_cases(validation_dir: Path | str | None = None) -> list[str]:
    """Names of the cases in ``validation_dir`` (default: :func:`find_project_dir`): the
    sub-folders holding a ``validate.py``, sorted; ``report`` and names starting with ``_`` or
    ``.`` are skipped."""
    vdir = _validation_dir(validation_dir)
    return sorted(p.parent.name for p in vdir.glob("*/validate.py")
                  if p.parent.name != "report" and not p.parent.name.startswith(("_", ".")))


# ------------------------------------------------------------------------------------------------
# running one case (module level, so that process pools and dask workers can pickle it)
# ------------------------------------------------------------------------------------------------

def _load_case(path: Path):
    spec = importlib.util.spec_from_file_location(f"sciflow_validation_{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Check):
        return o.to_dict()
    return str(o)


def _failed(name: str, title: str, message: str, markdown: str) -> dict:
    row = Check(quantity="case runs", value="error", reference="runs", source="—",
                passed=False, note=message[:300])
    return {"title": title, "passed": False, "markdown": markdown, "metrics": {},
            "figures": [], "checks": [row.to_dict()], "error": message}


def _run_case(task: tuple[str, bool]) -> dict:
    """Run one case in a temporary folder; return its result with ``figure_bytes``.

    ``task`` is ``(path to validate.py, quick)``; a worker on another machine that lacks the
    path runs the copy bundled with its sciflow. Never raises: a crash is a failed result.
    """
    path, quick = Path(task[0]), bool(task[1])
    name = path.parent.name
    if not path.is_file() and (_BUNDLED / "validation" / name / "validate.py").is_file():
        path = _BUNDLED / "validation" / name / "validate.py"
    import matplotlib

    matplotlib.use("Agg")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"sciflow-{name}-") as tmp:
        try:
            res = dict(_load_case(path).run(Path(tmp), quick=quick))
            passed = bool(res.get("passed", True))
            raw = res.get("checks") or [Check(quantity="case passes its own criteria",
                                              value=passed, reference=True,
                                              source="the case's `passed`", passed=passed)]
            checks = [Check.coerce(c).to_dict() for c in raw]
            res["passed"] = passed and all(c["passed"] for c in checks)
            res["checks"] = checks
            res["metrics"] = _jsonable(res.get("metrics", {}))
            res.setdefault("title", name)
            res.setdefault("markdown", "")
            figures = [str(f) for f in res.get("figures", [])]
            res["figures"] = figures
            res["figure_bytes"] = {f: (Path(tmp) / f).read_bytes() for f in figures
                                   if (Path(tmp) / f).is_file()}
            missing = [f for f in figures if f not in res["figure_bytes"]]
            if missing:
                res["markdown"] += f"\n\n**missing figure file(s)**: {missing}"
        except Exception as exc:  # a failing case is reported, not hidden
            tb = traceback.format_exc(limit=-3)
            res = _failed(name, name, f"{type(exc).__name__}: {exc}",
                          f"**error**: `{exc!r}`\n\n```\n{tb}\n```")
            res["figure_bytes"] = {}
    res["wall_time_s"] = round(time.perf_counter() - t0, 3)
    return res


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------

def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, numbers.Integral):
        return str(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.{digits}g}"
        return f"{v:.{digits - 2}e}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def _summary_table(results: dict[str, dict]) -> list[str]:
    lines = ["| case | quantity | reference | source | sciflow | error | tolerance | pass | "
             "wall time (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        for i, c in enumerate(res["checks"]):
            unit = f" {c['unit']}" if c.get("unit") else ""
            value = _fmt(c["value"], 6) + (unit if _is_number(c["value"]) else "")
            ref = _fmt(c["reference"], 6) + (unit if _is_number(c["reference"]) else "")
            quantity = _fmt(c["quantity"]) + (f" ({_fmt(c['note'])})" if c.get("note") else "")
            lines.append(
                f"| {name if i == 0 else ''} | {quantity} | {ref} | {_fmt(c['source'])} | "
                f"{value} | {_fmt(c['error'])} | {_fmt(c['tolerance'])} | "
                f"{'PASS' if c['passed'] else '**FAIL**'} | "
                f"{_fmt(res['wall_time_s']) if i == 0 else ''} |")
    return lines


def _write_report(results: dict[str, dict], out: Path, quick: bool, wall: float,
                  workers) -> None:
    from . import __version__

    n_pass = sum(r["passed"] for r in results.values())
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    engine = "serial" if workers in (None, 0, 1) else (
        f"{workers} processes" if isinstance(workers, int) else type(workers).__name__)
    lines = ["# sciflow validation report", "",
             f"sciflow {__version__} · {stamp} · quick: {'yes' if quick else 'no'} · "
             f"{n_pass}/{len(results)} cases passed · total wall time {wall:.1f} s ({engine}; "
             f"python {platform.python_version()}, {os.cpu_count()} CPUs)", "",
             "Quick mode runs smaller problems (a smoke run); the full run is the validation."
             if quick else "Full run.", "", "## Summary", ""]
    lines += _summary_table(results)
    for name, res in results.items():
        status = "PASS" if res["passed"] else "FAIL"
        lines += ["", f"## {res.get('title', name)} — {status}", "",
                  f"_case `{name}`, wall time {res['wall_time_s']} s_", "",
                  res.get("markdown", ""), ""]
        lines += [f"![{fig}]({fig})" for fig in res.get("figures", [])]
    (out / "index.md").write_text("\n".join(lines) + "\n")
    metrics = {}
    for name, res in results.items():
        m = dict(res.get("metrics", {}))
        clash = {f"case_{k}": m.pop(k) for k in _RESERVED if k in m}
        metrics[name] = {**m, **clash, "title": res.get("title", name),
                         "passed": res["passed"], "wall_time_s": res["wall_time_s"],
                         "checks": res["checks"]}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default))


def _check_workers(workers) -> None:
    if workers is None:
        return
    if isinstance(workers, bool):
        raise TypeError(f"workers must be None, an int or an executor, got bool {workers!r}")
    if isinstance(workers, int):
        if workers < -1:
            raise ValueError(f"workers must be -1, None or a positive integer, got {workers}")
        return
    if not (hasattr(workers, "map") or (hasattr(workers, "submit")
                                        and hasattr(workers, "gather"))):
        raise TypeError("workers must be None, an int, a dask.distributed.Client or an object "
                        f"with .map; got {type(workers).__name__}")


def run_validation(validation_dir: Path | str | None = None, out: Path | str | None = None,
                   only: list[str] | None = None, *, quick: bool = False, workers=None,
                   progress: bool = True) -> dict[str, dict]:
    """Run the validation cases and write ``index.md``, ``metrics.json`` and figures to ``out``.

    Parameters
    ----------
    validation_dir : path, optional
        The folder of cases (default: :func:`find_project_dir` ``("validation")``).
    out : path, optional
        Report folder (default ``<validation_dir>/report``; ``./validation-report`` when the
        cases are the copy bundled in the installed package).
    only : list of str, optional
        Case names to run (default: all, :func:`list_cases`).
    quick : bool
        Smaller problems (a smoke run, minutes); the full run is what validates.
    workers : None, int, executor or dask ``Client``
        As in :func:`sciflow.parallel.map_tasks`: each case runs in a worker, in a temporary
        folder; its figures come back as bytes and are written here.
    progress : bool
        A tqdm bar over the cases.

    Returns
    -------
    dict
        case name -> result (``title``, ``markdown``, ``metrics``, ``figures``, ``checks`` as
        dicts, ``passed``, ``wall_time_s``); a case that raised is a failed result.
    """
    from tqdm import tqdm

    from .parallel import map_tasks

    vdir = _validation_dir(validation_dir)
    names = list_cases(vdir)
    if only:
        if isinstance(only, str):
            raise TypeError(f"only must be a list of case names, got the string {only!r}")
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"only names unknown validation case(s) {unknown}; known: {names}")
        names = [n for n in names if n in only]
    _check_workers(workers)
    if out is None:
        bundled = _BUNDLED in vdir.resolve().parents
        out = Path.cwd() / "validation-report" if bundled else vdir / "report"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(str((vdir / n / "validate.py").resolve()), bool(quick)) for n in names]
    t0 = time.perf_counter()
    raw: list[dict]
    if workers is None or (isinstance(workers, int) and workers in (0, 1)):
        raw = []
        bar = tqdm(tasks, desc="validation", unit="case", disable=not progress)
        for task, name in zip(bar, names, strict=True):
            bar.set_postfix_str(name)
            raw.append(_run_case(task))
            bar.write(f"[{'PASS' if raw[-1]['passed'] else 'FAIL'}] {name} "
                      f"({raw[-1]['wall_time_s']} s)")
    else:
        try:
            raw = map_tasks(_run_case, tasks, workers=workers, progress=progress,
                            desc="validation")
        except Exception as exc:  # the engine failed: every case is a failed row, not lost
            msg = f"{type(exc).__name__}: {exc}"
            raw = [{**_failed(n, n, msg, f"**error in the worker engine**: `{exc!r}`"),
                    "figure_bytes": {}, "wall_time_s": 0.0} for n in names]
        for name, res in zip(names, raw, strict=True):
            print(f"[{'PASS' if res['passed'] else 'FAIL'}] {name} ({res['wall_time_s']} s)")
    results = {}
    for name, res in zip(names, raw, strict=True):
        for fig, data in res.pop("figure_bytes", {}).items():
            (out / fig).write_bytes(data)
        results[name] = res
    _write_report(results, out, bool(quick), time.perf_counter() - t0, workers)
    failed = [n for n, r in results.items() if not r["passed"]]
    print(f"{len(results)} case(s), {len(results) - len(failed)} passed"
          + (f", FAILED: {', '.join(failed)}" if failed else "")
          + f"; report written to {out / 'index.md'}")
    return results
