"""``sciflow bench`` (sciflow.bench) and the target protocol of ``benchmarks/_common.py``.

Performance targets are never asserted here (they are benchmark figures); the tests check the
protocol: every row has its fields, ``ratio`` follows the convention (> 1 = sciflow better),
``met`` agrees with the target, a crashing script becomes an ``error`` row, and the accuracy
numbers that a quick benchmark computes deterministically.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from sciflow import bench

from ._bad_input import Row, make_tests

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
FIELDS = ("key", "issue", "what", "benchmark", "status", "value", "unit", "baseline",
          "baseline_name", "ratio", "better", "target_on", "cmp", "target", "met", "quick",
          "note", "wall_s")
CMP = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}


def _common():
    spec = importlib.util.spec_from_file_location("bench_common_test", BENCH_DIR / "_common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_row(row):
    """Fields present; ratio and met consistent with value, baseline and target."""
    for f in FIELDS:
        assert f in row, (f, row)
    if row["status"] != "measured":
        assert row["value"] is None and row["met"] is None
        return
    v, b = row["value"], row["baseline"]
    if b is None:
        assert row["ratio"] is None
    elif row["better"] == "lower":
        assert row["ratio"] == pytest.approx(b / v, rel=1e-12)
    else:
        assert row["ratio"] == pytest.approx(v / b, rel=1e-12)
    x = v if row["target_on"] == "value" else row["ratio"]
    if row["target"] is None or x is None:
        assert row["met"] is None
    else:
        assert row["met"] is CMP[row["cmp"]](float(x), float(row["target"]))


def test_catalogue_is_consistent():
    """Every target names an existing script (or says why none measures it) and a valid
    comparison; every script in benchmarks/ measures at least one target."""
    targets = _common().TARGETS
    scripts = {p.stem for p in BENCH_DIR.glob("bench_*.py")}
    used = set()
    for key, spec in targets.items():
        assert spec["better"] in ("lower", "higher"), key
        assert spec["on"] in ("value", "ratio"), key
        if spec["target"] is not None:
            assert spec["cmp"] in CMP, key
        if spec["scripts"]:
            assert set(spec["scripts"]) <= scripts, key
            used |= set(spec["scripts"])
        else:
            assert spec["reason"], key
    assert used == scripts
    for key, spec in _common().ELSEWHERE.items():
        assert key not in targets and spec["where"] and spec["issue"], key


def test_record_ratio_and_met(tmp_path, monkeypatch, capsys):
    """record(): lower-is-better ratio = baseline/value, higher-is-better = value/baseline;
    met from the target on the value or on the ratio; one JSON line appended per row."""
    common = _common()
    path = tmp_path / "rows.jsonl"
    monkeypatch.setenv(common.JSON_ENV, str(path))
    r1 = common.record("chrom.exact_speed", 10.0, baseline=500.0)  # target value < 20 ms
    assert r1["ratio"] == 50.0 and r1["met"] is True
    r2 = common.record("chrom.fit_r2", 0.95, baseline=0.99)  # higher better, >= 0.99
    assert r2["ratio"] == pytest.approx(0.95 / 0.99, rel=1e-15) and r2["met"] is False
    r3 = common.record("mult.fp_kernel_speedup", 50.0, baseline=900.0)  # ratio >= 20
    assert r3["ratio"] == 18.0 and r3["met"] is False
    r4 = common.record("sampling.step_overhead", 3.0)  # target on the ratio, no baseline
    assert r4["ratio"] is None and r4["met"] is None
    lines = [json.loads(s) for s in path.read_text().splitlines()]
    assert [r["key"] for r in lines] == ["chrom.exact_speed", "chrom.fit_r2",
                                         "mult.fp_kernel_speedup", "sampling.step_overhead"]
    for r in lines:
        check_row({**r, "wall_s": 0.0})
    out = capsys.readouterr().out
    assert "[target chrom.exact_speed] 10 ms, baseline 500 (ratio x50)" in out
    assert "MISSED" in out


FAKE_OK = """
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import QUICK, record
record("chrom.exact_speed", 8.0, baseline=400.0, note="fake")
record("chrom.fit_r2", 0.995, baseline=0.97)
print("quick" if QUICK else "full")
"""


@pytest.fixture
def fake_checkout(tmp_path, monkeypatch):
    """A checkout with benchmarks/_common.py and three scripts: one that records two rows, one
    that crashes, and one (a real target's script name) that records nothing."""
    b = tmp_path / "benchmarks"
    b.mkdir()
    shutil.copy(BENCH_DIR / "_common.py", b / "_common.py")
    (b / "bench_fake_ok.py").write_text(FAKE_OK)
    (b / "bench_fake_crash.py").write_text("raise RuntimeError('boom in the fake')\n")
    (b / "bench_chromatography_fd.py").write_text("print('nothing recorded')\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_benchmarks_fake_checkout(fake_checkout):
    """Rows collected across processes; a crash is an error row; a target whose script ran
    without recording it is 'missing'; targets without a script are 'not measured'."""
    out = fake_checkout / "res" / "b.json"
    rows = bench.run_benchmarks(None, quick=True, json_path=out, progress=False)
    for r in rows:
        check_row(r)
    by = {(r["key"], r["status"]): r for r in rows}
    ok = by["chrom.exact_speed", "measured"]
    assert (ok["value"], ok["baseline"], ok["ratio"], ok["met"], ok["quick"]) == (
        8.0, 400.0, 50.0, True, True)
    assert by["chrom.fit_r2", "measured"]["ratio"] == pytest.approx(0.995 / 0.97, rel=1e-15)
    err = [r for r in rows if r["status"] == "error"]
    assert len(err) == 1 and err[0]["benchmark"] == "bench_fake_crash"
    assert "boom in the fake" in err[0]["note"]
    assert ("chrom.fd_speed", "missing") in by and ("chrom.fd_accuracy", "missing") in by
    assert ("project.test_suite", "not measured") in by
    assert "test_decompose.py" in by["gauge.samples_5d", "elsewhere"]["note"]
    assert rows[-1]["status"] == "elsewhere" and rows[0]["status"] != "elsewhere"
    assert ("chrom.exact_speed", "missing") not in by  # its script did not run
    data = json.loads(out.read_text())
    assert data["machine"]["cpu_count"] >= 1 and data["machine"]["quick"] is True
    assert {"python", "numpy", "numba", "date"} <= set(data["machine"])
    assert data["scripts"]["bench_fake_crash"] != 0 and data["scripts"]["bench_fake_ok"] == 0
    assert len(data["rows"]) == len(rows)
    log = (out.parent / "bench_logs" / "bench_fake_ok.log").read_text().splitlines()
    assert log[-1] == "quick" and log[0].startswith("[target chrom.exact_speed] 8 ms")
    table = bench.format_table(rows)
    assert table.count("\n") == len(rows) + 1
    assert "| bench_fake_ok | 2 | exact: 5 analytes x 20,000 time points" in table
    assert "| 8 ms | 400 ms | x50 | value < 20 | yes (quick) | fake |" in table
    assert "*error*" in table and "*not measured*" in table and "*missing*" in table
    assert "*elsewhere*" in table


def test_main_bench_exit_status(fake_checkout, capsys):
    """A crashed script makes the exit status 1; only passing scripts give 0."""
    out = fake_checkout / "b.json"
    assert bench.main_bench(["fake_ok"], json_path=out) == 0
    text = capsys.readouterr().out
    assert "2/2 measured targets met" in text and "0 script(s) crashed" in text
    assert bench.main_bench(["fake"], json_path=out) == 1
    assert "1 script(s) crashed" in capsys.readouterr().out


def test_no_source_checkout(monkeypatch, capsys):
    """From a wheel install (no benchmarks/): a one-line error naming the source checkout."""
    import sciflow.cli

    def absent(name, start=None):
        raise FileNotFoundError(f"no '{name}/' folder found")

    monkeypatch.setattr(sciflow.cli, "find_project_dir", absent)
    with pytest.raises(FileNotFoundError, match="source checkout"):
        bench.run_benchmarks(["fp"], progress=False)
    with pytest.raises(SystemExit, match=r"^sciflow bench: error: .*source checkout[^\n]*$"):
        bench.main_bench(["fp"])


def test_quick_fokker_planck_rows(tmp_path):
    """A real script in quick mode (about 5 s): its rows follow the protocol, and the
    deterministic accuracy row has the value measured when it was written (TR-BDF2 L1 error
    3.718e-5 against the analytic log-normal, backward Euler 3.30e-3; rel 1e-3 leaves room for
    library versions)."""
    rows = bench.run_benchmarks(["multiplicative_fp"], quick=True,
                                json_path=tmp_path / "fp.json", progress=False)
    assert [r["key"] for r in rows] == ["mult.fp_kernel_speedup", "mult.fp_l1"]
    for r in rows:
        check_row(r)
        assert r["status"] == "measured" and r["quick"] is True
    l1 = rows[1]
    assert l1["value"] == pytest.approx(3.718e-5, rel=1e-3)
    assert l1["baseline"] == pytest.approx(3.30e-3, rel=1e-2)
    assert l1["met"] is True


@pytest.mark.slow
def test_every_script_records_in_quick_mode(tmp_path):
    """Every script in benchmarks/ runs in quick mode and records at least one row (a few
    minutes; the digits and learned-field scripts need torch, the dimension one skdim)."""
    rows = bench.run_benchmarks(None, quick=True, json_path=tmp_path / "all.json",
                                progress=False)
    for r in rows:
        check_row(r)
    assert not [r for r in rows if r["status"] in ("error", "missing")], bench.format_table(rows)
    scripts = {p.stem for p in BENCH_DIR.glob("bench_*.py")}
    recorded = {r["benchmark"] for r in rows if r["status"] == "measured"}
    assert recorded == scripts


ROWS = [
    Row(bench.run_benchmarks, "names a single str", lambda: bench.run_benchmarks("fp"),
        TypeError, r"names must be a list"),
    Row(bench.run_benchmarks, "names not str", lambda: bench.run_benchmarks([3]), TypeError,
        r"names must be a list of non-empty str"),
    Row(bench.run_benchmarks, "unknown name", lambda: bench.run_benchmarks(["no_such_bench"]),
        ValueError, r"names: no benchmark matches \['no_such_bench'\]"),
    Row(bench.run_benchmarks, "quick not bool",
        lambda: bench.run_benchmarks(["fp"], quick="yes"), TypeError, r"quick must be a bool"),
    Row(bench.run_benchmarks, "progress not bool",
        lambda: bench.run_benchmarks(["fp"], progress=1), TypeError, r"progress must be a bool"),
    Row(bench.run_benchmarks, "json_path a number",
        lambda: bench.run_benchmarks(["fp"], json_path=3), TypeError, r"json_path must be a path"),
    Row(bench.run_benchmarks, "json_path not .json",
        lambda: bench.run_benchmarks(["fp"], json_path="/tmp/x.txt"), ValueError,
        r"json_path must end in \.json"),
    Row(bench.format_table, "rows a str", lambda: bench.format_table("rows"), TypeError,
        r"rows must be a list of dicts"),
    Row(bench.format_table, "rows a dict", lambda: bench.format_table({"a": 1}), TypeError,
        r"rows must be a list of dicts"),
    Row(bench.format_table, "row not a dict", lambda: bench.format_table([1]), ValueError,
        r"rows must be dicts with the keys"),
    Row(bench.format_table, "row without fields",
        lambda: bench.format_table([{"benchmark": "x"}]), ValueError,
        r"rows must be dicts with the keys"),
    Row(bench.main_bench, "unknown name", lambda: bench.main_bench(["no_such_bench"]),
        SystemExit, r"^sciflow bench: error: names: no benchmark matches"),
    Row(bench.main_bench, "names not str", lambda: bench.main_bench([None]), SystemExit,
        r"^sciflow bench: error: names must be"),
    Row(bench.main_bench, "quick not bool", lambda: bench.main_bench(["fp"], quick="no"),
        SystemExit, r"^sciflow bench: error: quick must be a bool"),
]

test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.bench", ROWS)
