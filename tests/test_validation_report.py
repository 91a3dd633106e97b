"""The validation report (sciflow.validation): the case contract, the summary table, metrics.json,
workers, the bundled-copy fallback, and the bad-input table of its public names."""

import json
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sciflow import validation as V  # noqa: E402
from sciflow.validation import Check, list_cases, run_validation  # noqa: E402

from ._bad_input import Row, make_tests  # noqa: E402

REPO_VALIDATION = Path(__file__).resolve().parents[1] / "validation"

MIXED = '''
import matplotlib.pyplot as plt
from sciflow.validation import Check, save_figure

def run(outdir, quick=False):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    name = save_figure(fig, outdir, "mixed_line.png")
    err = 0.5 if quick else 0.25
    return {"title": "Mixed case", "markdown": "one row passes, one fails", "passed": True,
            "metrics": {"err": err, "passed": "case's own"}, "figures": [name],
            "checks": [Check("slope", 1.0 + 1e-9, 1.0, "y = x (exact)", error=1e-9,
                             tolerance=1e-6),
                       {"quantity": "offset", "value": err, "reference": 0.0,
                        "source": "Table 1 of a paper", "error": err, "tolerance": 0.1,
                        "unit": "m"}]}
'''
PLAIN = '''
def run(outdir, quick=False):
    return {"title": "Plain case", "markdown": "no checks given", "metrics": {"n": 3},
            "figures": [], "passed": True}
'''
BROKEN = "def run(outdir, quick=False):\n    return 1 / 0\n"


@pytest.fixture
def toy(tmp_path):
    vdir = tmp_path / "validation"
    for name, src in (("mixed", MIXED), ("plain", PLAIN), ("broken", BROKEN)):
        (vdir / name).mkdir(parents=True)
        (vdir / name / "validate.py").write_text(textwrap.dedent(src))
    (vdir / "_draft").mkdir()                       # skipped: leading underscore
    (vdir / "_draft" / "validate.py").write_text(BROKEN)
    (vdir / "notes").mkdir()                        # skipped: no validate.py
    return vdir


def test_check_passed_is_error_le_tolerance():
    assert Check("q", 1.0, 1.0, "s", error=0.1, tolerance=0.1).passed       # equal passes
    assert not Check("q", 1.0, 1.0, "s", error=0.1 + 1e-12, tolerance=0.1).passed
    assert not Check("q", 1.0, 1.0, "s", error=math.nan, tolerance=0.1).passed
    c = Check("q", np.float64(2.5), "exact", "s", error=np.float32(0.5), tolerance="< 1",
              passed=np.bool_(True))
    assert c.passed is True and type(c.value) is float and c.error == 0.5
    assert Check("q", 1, 1, "s", error=0.0, tolerance=0, passed=False).passed is False  # given
    assert Check("q", 1, 1, "s", error=math.nan, tolerance=1.0).to_dict()["error"] is None
    assert Check.coerce({"quantity": "q", "value": 1, "reference": 1, "source": "s",
                         "passed": True}) == Check("q", 1, 1, "s", passed=True)


def test_list_cases(toy):
    assert list_cases(toy) == ["broken", "mixed", "plain"]


def test_report_of_a_dropped_in_case(toy, tmp_path):
    out = tmp_path / "report"
    res = run_validation(toy, out, quick=True, progress=False)
    assert list(res) == ["broken", "mixed", "plain"]
    # mixed: the case says passed, but its second check fails -> the case fails
    mixed = res["mixed"]
    assert not mixed["passed"]
    assert [c["passed"] for c in mixed["checks"]] == [True, False]
    assert mixed["checks"][1] == {"quantity": "offset", "value": 0.5, "reference": 0.0,
                                  "source": "Table 1 of a paper", "error": 0.5,
                                  "tolerance": 0.1, "passed": False, "unit": "m", "note": ""}
    assert res["plain"]["passed"] and len(res["plain"]["checks"]) == 1
    assert res["plain"]["checks"][0]["passed"] is True
    assert not res["broken"]["passed"]
    assert "ZeroDivisionError" in res["broken"]["checks"][0]["note"]
    assert all(r["wall_time_s"] >= 0 for r in res.values())
    # figures land in the report folder (written from the bytes the case run returned)
    assert (out / "mixed_line.png").stat().st_size > 1000
    # metrics.json: per case the case's metrics, verdict, wall time and the check rows
    m = json.loads((out / "metrics.json").read_text())
    assert set(m) == {"broken", "mixed", "plain"}
    assert m["mixed"]["err"] == 0.5 and m["mixed"]["case_passed"] == "case's own"
    assert m["mixed"]["passed"] is False and m["mixed"]["title"] == "Mixed case"
    assert m["mixed"]["checks"] == mixed["checks"] and m["plain"]["n"] == 3
    # index.md: title, run line, the summary table above the per-case sections
    md = (out / "index.md").read_text()
    lines = md.splitlines()
    assert lines[0] == "# sciflow validation report"
    assert "quick: yes" in lines[2] and "1/3 cases passed" in lines[2]
    head = lines.index("## Summary")
    table = [ln for ln in lines[head:] if ln.startswith("| ")]
    assert table[0] == ("| case | quantity | reference | source | sciflow | error | tolerance "
                        "| pass | wall time (s) |")
    rows = [[c.strip() for c in ln.split("|")[1:-1]] for ln in table[1:]]
    assert len(rows) == 4                                    # broken 1, mixed 2, plain 1
    assert rows[1][:8] == ["mixed", "slope", "1", "y = x (exact)", "1", "1.00e-09",
                           "1.00e-06", "PASS"]
    assert rows[2][:8] == ["", "offset", "0 m", "Table 1 of a paper", "0.5 m", "0.5", "0.1",
                           "**FAIL**"]
    assert rows[0][0] == "broken" and rows[0][7] == "**FAIL**"
    assert rows[1][8] == V._fmt(res["mixed"]["wall_time_s"]) and rows[2][8] == ""
    sections = [ln for ln in lines if ln.startswith("## ")]
    assert sections == ["## Summary", "## broken — FAIL", "## Mixed case — FAIL",
                        "## Plain case — PASS"]
    assert md.index("## Summary") < md.index("## Mixed case") < md.index("![mixed_line.png]")
    # the full run (quick=False) of the same case: offset 0.25 still fails
    full = run_validation(toy, out, only=["mixed"], progress=False)
    assert list(full) == ["mixed"] and full["mixed"]["checks"][1]["value"] == 0.25


def test_workers_give_the_same_checks(toy, tmp_path):
    serial = run_validation(toy, tmp_path / "s", quick=True, progress=False)
    pooled = run_validation(toy, tmp_path / "p", quick=True, workers=2, progress=False)
    assert list(pooled) == list(serial)
    for name in serial:
        assert pooled[name]["checks"] == serial[name]["checks"], name
        assert pooled[name]["passed"] == serial[name]["passed"]
    assert (tmp_path / "p" / "mixed_line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dask_client_gives_the_same_checks(toy, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    serial = run_validation(toy, tmp_path / "s", only=["mixed", "plain"], progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=":0") as client:
        res = run_validation(toy, tmp_path / "d", only=["mixed", "plain"], workers=client,
                             progress=False)
    assert {k: v["checks"] for k, v in res.items()} == {k: v["checks"]
                                                        for k, v in serial.items()}
    assert (tmp_path / "d" / "mixed_line.png").stat().st_size > 1000
    assert "(Client;" in (tmp_path / "d" / "index.md").read_text().splitlines()[2]


def test_bundled_copy_reports_to_the_working_directory(toy, tmp_path, monkeypatch):
    bundled = tmp_path / "site" / "sciflow" / "_bundled"
    (bundled / "validation").mkdir(parents=True)  # as in the wheel: sciflow/_bundled/validation
    (toy / "plain").rename(bundled / "validation" / "plain")
    monkeypatch.setattr(V, "_BUNDLED", bundled)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    res = run_validation(bundled / "validation", progress=False)
    assert res["plain"]["passed"]
    assert (work / "validation-report" / "index.md").is_file()
    assert not (bundled / "validation" / "report").exists()


def test_real_cases_expose_checks(tmp_path):
    """A real case in quick mode (about 2 s unloaded): rows with sources, all passing."""
    res = run_validation(REPO_VALIDATION, tmp_path, only=["leppert2020b"], quick=True,
                         progress=False)
    for name, r in res.items():
        assert r["passed"], (name, r["checks"])
        assert len(r["checks"]) >= 4 and all(c["source"] for c in r["checks"])
    med = res["leppert2020b"]["checks"][0]
    assert med["value"] >= 0.99 and med["error"] == pytest.approx(1 - med["value"])


@pytest.mark.slow
def test_quick_report_of_every_case(tmp_path):
    """Every shipped case passes in quick mode and gives >= 3 rows (about 1-2 minutes)."""
    res = run_validation(REPO_VALIDATION, tmp_path, quick=True, progress=False)
    assert set(res) == set(list_cases(REPO_VALIDATION))
    for name, r in res.items():
        assert r["passed"], (name, [c for c in r["checks"] if not c["passed"]])
        assert len(r["checks"]) >= 3, name


ROWS = [
    Row(Check, "quantity empty", lambda: Check("", 1.0, 1.0, "s", passed=True), TypeError,
        r"quantity must be a non-empty str"),
    Row(Check, "source not a str", lambda: Check("q", 1.0, 1.0, None, passed=True), TypeError,
        r"source must be a non-empty str"),
    Row(Check, "value a list", lambda: Check("q", [1.0], 1.0, "s", passed=True), TypeError,
        r"value must be a number, a bool or a str"),
    Row(Check, "error negative", lambda: Check("q", 1.0, 1.0, "s", error=-1.0, tolerance=1.0),
        ValueError, r"error must be >= 0"),
    Row(Check, "tolerance negative",
        lambda: Check("q", 1.0, 1.0, "s", error=1.0, tolerance=-1.0), ValueError,
        r"tolerance must be >= 0"),
    Row(Check, "passed missing with a text tolerance",
        lambda: Check("q", 1.0, 1.0, "s", error=1.0, tolerance="< 2"), ValueError,
        r"passed must be given unless error and tolerance are both numbers"),
    Row(Check, "passed a str", lambda: Check("q", 1.0, 1.0, "s", passed="yes"), TypeError,
        r"passed must be a bool or None"),
    Row(list_cases, "validation_dir absent", lambda: list_cases("/no/such/validation"),
        ValueError, r"validation_dir must be an existing folder"),
    Row(list_cases, "validation_dir a file", lambda: list_cases(__file__), ValueError,
        r"validation_dir must be an existing folder"),
    Row(list_cases, "validation_dir an int", lambda: list_cases(3), TypeError,
        r"validation_dir must be a path"),
    Row(V.find_project_dir, "name not a str", lambda: V.find_project_dir(3), TypeError,
        r"name must be"),
    Row(V.find_project_dir, "name empty", lambda: V.find_project_dir(""), TypeError,
        r"name must be"),
    Row(V.find_project_dir, "folder absent",
        lambda: V.find_project_dir("no_such_folder_xyz", start="/"), FileNotFoundError,
        r"no 'no_such_folder_xyz/' folder"),
    Row(V.save_figure, "fig not a Figure", lambda: V.save_figure("fig", "/tmp", "a.png"),
        TypeError, r"fig must be a matplotlib Figure"),
    Row(V.save_figure, "outdir absent",
        lambda: V.save_figure(plt.figure(), "/no/such/dir", "a.png"), ValueError,
        r"outdir must be an existing folder"),
    Row(V.save_figure, "name not .png", lambda: V.save_figure(plt.figure(), "/tmp", "a.pdf"),
        ValueError, r"name must be a file name ending in \.png"),
    Row(V.save_figure, "name with a folder",
        lambda: V.save_figure(plt.figure(), "/tmp", "sub/a.png"), ValueError,
        r"name must be a file name ending in \.png"),
    Row(run_validation, "unknown case", lambda: run_validation(only=["no_such_case"]),
        ValueError, r"only names unknown validation case"),
    Row(run_validation, "only a bare string", lambda: run_validation(only="transport"),
        TypeError, r"only must be a list"),
    Row(run_validation, "validation_dir absent",
        lambda: run_validation("/no/such/validation"), ValueError,
        r"validation_dir must be an existing folder"),
    Row(run_validation, "workers < -1",
        lambda: run_validation(REPO_VALIDATION, only=["gauge"], workers=-3), ValueError,
        r"workers must be -1, None or a positive integer"),
    Row(run_validation, "workers a string",
        lambda: run_validation(REPO_VALIDATION, only=["gauge"], workers="many"), TypeError,
        r"workers must be None, an int"),
]

test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.validation", ROWS)
