"""``sciflow bench``: run the scripts in ``benchmarks/``, collect one row per performance target
and print them as one table (value, the baseline measured in the same run, ratio, target, met?).

Each script records its targets through ``benchmarks/_common.py`` (``record``), which appends
JSON lines to the file named by ``SCIFLOW_BENCH_JSON``. Every script runs in its own process,
so a crash becomes an ``error`` row instead of stopping the run. Targets of the catalogue
(``benchmarks/_common.py: TARGETS``) that no script measured appear as ``not measured`` rows
with the reason, or as ``missing`` when their script ran without recording them; the issues'
accuracy targets (``ELSEWHERE``) are listed as ``elsewhere`` with the test that asserts them.

``ratio`` is the factor by which sciflow beats the baseline (> 1 = better): ``baseline /
value`` for quantities where lower is better (times, errors), ``value / baseline`` otherwise.
Benchmarks need the source checkout (``benchmarks/`` is not in the wheel).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["run_benchmarks", "format_table", "main_bench"]

JSON_ENV = "SCIFLOW_BENCH_JSON"
QUICK_ENV = "SCIFLOW_BENCH_QUICK"
_CHECKOUT = ("sciflow bench needs the source checkout (benchmarks/ is not shipped in the "
             "wheel): run it from a clone of the repository")


def _benchmarks_dir() -> Path:
    from .cli import find_project_dir

    try:
        bdir = find_project_dir("benchmarks")
    except FileNotFoundError:
        raise FileNotFoundError(_CHECKOUT) from None
    if not (bdir / "_common.py").is_file():
        raise FileNotFoundError(_CHECKOUT)
    return bdir


def _catalogue(bdir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """``TARGETS`` and ``ELSEWHERE`` of ``benchmarks/_common.py`` (loaded from the file)."""
    spec = importlib.util.spec_from_file_location("sciflow_benchmarks_common",
                                                  bdir / "_common.py")
    if spec is None or spec.loader is None:  # pragma: no cover
        raise FileNotFoundError(_CHECKOUT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.TARGETS), dict(getattr(mod, "ELSEWHERE", {}))


def _check_names(names: object) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise TypeError(f"names must be a list of benchmark names (str) or None, got "
                        f"{names!r}")
    out = list(names)
    if not all(isinstance(n, str) and n for n in out):
        raise TypeError(f"names must be a list of non-empty str, got {out!r}")
    return out or None


def _select(scripts: list[Path], names: list[str] | None) -> list[Path]:
    """Scripts named exactly (``bench_sampling``, ``sampling``, ``bench_sampling.py``) or, for
    a name that is no script's exact name, every script whose name contains it."""
    if names is None:
        return scripts
    chosen: list[Path] = []
    unknown = []
    for n in names:
        stem = n.removesuffix(".py")
        exact = [s for s in scripts if s.stem in (stem, f"bench_{stem}")]
        hits = exact or [s for s in scripts if stem in s.stem]
        if not hits:
            unknown.append(n)
        chosen += [h for h in hits if h not in chosen]
    if unknown:
        raise ValueError(f"names: no benchmark matches {unknown}; known: "
                         f"{[s.stem for s in scripts]}")
    return sorted(chosen)


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return None


def _machine(quick: bool, load_start: float | None) -> dict[str, Any]:
    import numpy

    from . import __version__

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sciflow": __version__, "python": platform.python_version(),
        "platform": platform.platform(), "processor": platform.processor(),
        "cpu_count": os.cpu_count(), "numpy": numpy.__version__, "quick": quick,
    }
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:  # pragma: no cover
        info["numba"] = None
    info["load_average_start"], info["load_average_end"] = load_start, _load()
    return info


def _run_script(script: Path, quick: bool, log: Path) -> tuple[list[dict], int, float, str]:
    """Run one script; (rows, exit status, wall time s, last output line)."""
    fd, tmp = tempfile.mkstemp(prefix=f"{script.stem}_", suffix=".jsonl")
    os.close(fd)
    env = dict(os.environ)
    env[JSON_ENV] = tmp
    if quick:
        env[QUICK_ENV] = "1"
    else:
        env.pop(QUICK_ENV, None)
    cmd = [sys.executable, str(script)] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    try:
        with open(log, "w", encoding="utf-8") as out:
            rc = subprocess.call(cmd, cwd=script.parent.parent, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        with open(tmp, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    finally:
        os.unlink(tmp)
    lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
             if ln.strip()]
    return rows, rc, wall, (lines[-1].strip() if lines else "")


def _json_out(json_path: str | os.PathLike | None, quick: bool, bdir: Path) -> Path:
    if json_path is not None:
        return Path(json_path)
    return bdir / "results" / ("bench_quick.json" if quick else "bench.json")


def _placeholder(key: str, spec: dict, status: str, benchmark: str, note: str,
                 quick: bool) -> dict:
    return {"key": key, "issue": spec["issue"], "what": spec["what"], "benchmark": benchmark,
            "status": status, "value": None, "unit": spec["unit"], "baseline": None,
            "baseline_name": spec["baseline"], "ratio": None, "better": spec["better"],
            "target_on": spec["on"], "cmp": spec["cmp"], "target": spec["target"],
            "met": None, "quick": quick, "note": note, "wall_s": None}


def run_benchmarks(names: Sequence[str] | None = None, *, quick: bool = False,
                   json_path: str | os.PathLike | None = None,
                   progress: bool = True) -> list[dict]:
    """Run the benchmark scripts and return their target rows.

    Parameters
    ----------
    names : list of str, optional
        Scripts to run: a script's name (``bench_sampling`` or ``sampling``) selects it, any
        other name every script whose name contains it (default: all
        ``benchmarks/bench_*.py``).
    quick : bool
        Small sizes and repeats (``--quick``): a smoke run whose rows are marked ``quick``.
    json_path : path, optional
        Where to write the rows and the machine information as JSON (default
        ``benchmarks/results/bench.json``, ``bench_quick.json`` in quick mode). Each script's
        output goes to ``bench_logs/<script>.log`` beside it.
    progress : bool
        A progress bar over the scripts.

    Returns
    -------
    list of dict
        One row per recorded target: ``key, issue, what, benchmark, status`` (``measured``,
        ``error``, ``missing``, ``not measured``, and with all scripts ``elsewhere``: accuracy
        targets asserted in the tests), ``value, unit, baseline, baseline_name,
        ratio, better, target_on, cmp, target, met, quick, note`` and the script's
        ``wall_s``.
    """
    wanted = _check_names(names)
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool, got {quick!r}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    if json_path is not None and not isinstance(json_path, str | os.PathLike):
        raise TypeError(f"json_path must be a path (str or PathLike) or None, got "
                        f"{json_path!r}")
    bdir = _benchmarks_dir()
    scripts = _select(sorted(bdir.glob("bench_*.py")), wanted)
    catalogue, elsewhere = _catalogue(bdir)
    out = _json_out(json_path, quick, bdir)
    if out.suffix != ".json":
        raise ValueError(f"json_path must end in .json, got {str(out)!r}")
    logs = out.parent / "bench_logs"
    logs.mkdir(parents=True, exist_ok=True)

    from tqdm import tqdm

    load_start = _load()
    rows: list[dict] = []
    ran: dict[str, int] = {}
    bar = tqdm(scripts, desc="sciflow bench", disable=not progress, unit="script")
    for script in bar:
        bar.set_postfix_str(script.stem)
        got, rc, wall, last = _run_script(script, quick, logs / f"{script.stem}.log")
        ran[script.stem] = rc
        for r in got:
            r["wall_s"] = wall
        rows += got
        if rc != 0:
            rows.append({"key": None, "issue": None, "what": "script crashed",
                         "benchmark": script.stem, "status": "error", "value": None,
                         "unit": "", "baseline": None, "baseline_name": "", "ratio": None,
                         "better": None, "target_on": None, "cmp": None, "target": None,
                         "met": None, "quick": quick, "wall_s": wall,
                         "note": f"exit status {rc}: {last[:200]}"})
    recorded = {(r["key"], r["benchmark"]) for r in rows}
    for key, spec in catalogue.items():
        scr = spec["scripts"]
        if not scr:
            if wanted is None:
                rows.append(_placeholder(key, spec, "not measured", "-",
                                         spec.get("reason", ""), quick))
            continue
        run_ok = [s for s in scr if ran.get(s) == 0]
        if run_ok and not any((key, s) in recorded for s in scr):
            rows.append(_placeholder(key, spec, "missing", ", ".join(run_ok),
                                     "the script ran but recorded no row (an optional "
                                     "dependency absent?)", quick))
    if wanted is None:
        for key, spec in elsewhere.items():
            rows.append({**_placeholder(key, {**spec, "unit": "", "baseline": "",
                                              "better": None, "on": None, "cmp": None,
                                              "target": None}, "elsewhere", "-",
                                        f"accuracy target, checked in {spec['where']}", quick)})
    order = {k: i for i, k in enumerate(catalogue)}
    rows.sort(key=lambda r: (r["status"] == "elsewhere", order.get(r["key"], len(order))))
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": _machine(quick, load_start), "scripts": ran, "rows": rows}
    out.write_text(json.dumps(doc, indent=1, default=float))
    return rows


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.3g}"


def format_table(rows: Sequence[dict]) -> str:
    """The rows as one Markdown table: benchmark, issue, target, value, baseline, ratio,
    target value, met?, note."""
    if isinstance(rows, str | bytes | dict) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of dicts (from run_benchmarks), got "
                        f"{type(rows).__name__}")
    need = ("benchmark", "status", "value", "unit", "baseline", "ratio", "target", "met")
    lines = ["| benchmark | issue | target | value | baseline | ratio | target | met? | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not isinstance(r, dict) or any(k not in r for k in need):
            raise ValueError(f"rows must be dicts with the keys {need}, got {r!r:.200}")
        unit = f" {r['unit']}" if r["unit"] else ""
        status = r["status"]
        value = (f"{_num(r['value'])}{unit}" if status == "measured" else f"*{status}*")
        baseline = "-" if r["baseline"] is None else f"{_num(r['baseline'])}{unit}"
        ratio = "-" if r["ratio"] is None else f"x{_num(r['ratio'])}"
        if r["target"] is None:
            target = "none"
        else:
            tv = r["target"]
            shown = f"{tv:.3g}" if isinstance(tv, float) else str(tv)
            target = f"{r.get('target_on', 'value')} {r.get('cmp', '')} {shown}".strip()
        met = {True: "yes", False: "**no**", None: "-"}[r["met"]]
        if r.get("quick") and status == "measured":
            met += " (quick)"
        what = r.get("what", "")
        if r.get("baseline_name") and r["baseline"] is not None:
            what += f" [baseline: {r['baseline_name']}]"
        cells = [r["benchmark"], r.get("issue") or "-", what, value, baseline, ratio, target,
                 met, r.get("note", "")]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main_bench(names: Sequence[str] | None = None, quick: bool = False,
               json_path: str | os.PathLike | None = None) -> int:
    """``sciflow bench [names] [--quick] [--json PATH]``: print the table and write the JSON.

    Returns 0, or 1 when a script crashed (missed targets are shown, not errors). Bad
    arguments or a missing source checkout raise ``SystemExit`` with a one-line message."""
    try:
        rows = run_benchmarks(names, quick=quick, json_path=json_path, progress=True)
    except (ValueError, TypeError, FileNotFoundError) as exc:  # one line, no traceback
        raise SystemExit(f"sciflow bench: error: {exc}") from None
    print(format_table(rows))
    measured = [r for r in rows if r["status"] == "measured" and r["met"] is not None]
    print(f"\n{sum(r['met'] for r in measured)}/{len(measured)} measured targets met"
          + (" (quick mode: smoke sizes, not the targets' sizes)" if quick else "")
          + f"; {sum(r['status'] == 'error' for r in rows)} script(s) crashed; rows written to "
          + str(_json_out(json_path, quick, _benchmarks_dir())))
    return 1 if any(r["status"] == "error" for r in rows) else 0
