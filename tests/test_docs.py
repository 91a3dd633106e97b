"""The documentation site (``mkdocs.yml``, ``docs/``).

Fast checks of the sources (nav targets exist, every core page has its sections and a
verification table whose cited tests and files exist, every public name reaches an API page)
run by default; the strict build itself (~15-40 s on 2 shared cores) is marked slow, and CI
runs it as ``python3 -m mkdocs build --strict -d <tmp>``.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CORES = ("chromatography", "transport", "sampling", "multiplicative", "gauge")
SECTIONS = ("Equations", "Assumptions", "Methods", "Verification", "References")
MIN_VERIFICATION_ROWS = 7  # the shortest table (gauge) has 8 rows

yaml = pytest.importorskip("yaml")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its ``!ENV [NAME, default]`` tags read as the tag's arguments."""


_Loader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node))


def _config():
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)


def _nav_paths(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _nav_paths(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _nav_paths(value)


def _section(text, title):
    m = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert m, f"no '## {title}' section"
    return m.group(1)


def _table_rows(section):
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    assert len(lines) >= 2 and set(lines[1].replace("|", "").strip()) <= set("-: "), lines[:2]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return header, [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def _shadowed(core):
    """Names of ``sciflow.<core>.__all__`` that griffe resolves to a submodule: public modules,
    and functions named like the module that defines them (``chromatography.simulate``)."""
    mod = importlib.import_module(f"sciflow.{core}")
    pkg = Path(mod.__file__).parent
    out = {}
    for name in mod.__all__:
        obj = getattr(mod, name)
        if isinstance(obj, types.ModuleType):
            out[name] = f"sciflow.{core}.{name}"
        elif (pkg / f"{name}.py").exists():
            out[name] = f"sciflow.{core}.{name}.{name}"
    return out


# ------------------------------------------------------------------------------------ sources
def test_nav_targets_exist():
    cfg = _config()
    paths = list(_nav_paths(cfg["nav"]))
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    nav_notebooks = sorted(Path(p).name for p in paths if p.startswith("notebooks/"))
    # docs/hooks.py publishes notebooks/*.ipynb; each must have a nav entry and vice versa
    assert nav_notebooks == notebooks
    for p in paths:
        if not p.startswith("notebooks/"):
            assert (DOCS / p).is_file(), p
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages == {p for p in paths if p.endswith(".md")}, "pages outside the nav"
    assert cfg["strict"] is True
    jupyter = next(p["mkdocs-jupyter"] for p in cfg["plugins"]
                   if isinstance(p, dict) and "mkdocs-jupyter" in p)
    # the notebooks execute during the build only where SCIFLOW_DOCS_EXECUTE=true (CI)
    assert jupyter["execute"] == ["SCIFLOW_DOCS_EXECUTE", False] and jupyter["cache"] is False


def test_config_loads_without_warnings(caplog):
    """Every option of mkdocs.yml is known to the installed plugins (an unknown one is a
    warning, which fails the strict build) and the hook module loads."""
    pytest.importorskip("mkdocs")
    for plugin in ("material", "mkdocstrings", "mkdocs_jupyter"):
        pytest.importorskip(plugin)
    from mkdocs.config import load_config

    with caplog.at_level(logging.WARNING):
        cfg = load_config(str(ROOT / "mkdocs.yml"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert {"mkdocs-jupyter", "mkdocstrings", "docs/hooks.py"} <= set(cfg["plugins"])


def test_changelog_is_included_not_copied():
    text = (DOCS / "changelog.md").read_text(encoding="utf-8")
    m = re.search(r'--8<-- "([^"]+)"', text)
    assert m and (ROOT / m.group(1)).is_file()
    assert len(text.splitlines()) <= 3


@pytest.mark.parametrize("core", CORES)
def test_core_page_sections_and_verification_table(core):
    text = (DOCS / "cores" / f"{core}.md").read_text(encoding="utf-8")
    for title in SECTIONS:
        _section(text, title)
    assert "$$" in _section(text, "Equations")  # display equations
    header, rows = _table_rows(_section(text, "Verification"))
    assert header == ["quantity", "reference", "tolerance", "measured", "where"]
    assert len(rows) >= MIN_VERIFICATION_ROWS, len(rows)
    for row in rows:
        assert len(row) == 5 and all(row[:3]) and row[4], row


@pytest.mark.parametrize("core", CORES)
def test_verification_table_cites_existing_tests_and_files(core):
    """Every backticked path, ``file::test`` and bare test name in the 'where' column exists
    (bare file names and names resolve against the last full path of the page)."""
    text = (DOCS / "cores" / f"{core}.md").read_text(encoding="utf-8")
    _, rows = _table_rows(_section(text, "Verification"))
    last_dir, last_file, n_checked = None, None, 0
    for row in rows:
        for token in re.findall(r"`([^`]+)`", row[4]):
            path, _, func = token.partition("::")
            if path.startswith(("tests/", "validation/")):
                target = ROOT / path
            elif path.endswith((".py", ".json", ".md")):
                assert last_dir is not None, token
                target = last_dir / path
            elif re.fullmatch(r"\w+", path):
                assert last_file is not None, token
                body = last_file.read_text(encoding="utf-8")
                assert re.search(rf"\b{path}\b", body), f"{path} not in {last_file}"
                n_checked += 1
                continue
            else:
                raise AssertionError(f"unrecognised citation {token!r}")
            assert target.exists(), token
            if target.is_dir():
                last_dir = target
            else:
                last_dir, last_file = target.parent, target
            if func:
                body = target.read_text(encoding="utf-8")
                assert re.search(rf"^def {func}\(", body, flags=re.M), token
            n_checked += 1
    assert n_checked >= len(rows)


@pytest.mark.parametrize("core", CORES)
def test_api_page_reaches_every_public_name(core):
    text = (DOCS / "api" / f"{core}.md").read_text(encoding="utf-8")
    directives = set(re.findall(r"^::: ([\w.]+)", text, flags=re.M))
    assert f"sciflow.{core}" in directives
    for name, target in _shadowed(core).items():
        assert target in directives, f"{core}.{name}: add '::: {target}'"


def test_foundation_modules_are_rendered():
    directives = set()
    for page in ("api/foundation.md", "scaleout.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        directives |= set(re.findall(r"^::: ([\w.]+)", text, flags=re.M))
    expected = {"sciflow.parallel", "sciflow.cli"}
    expected |= {f"sciflow.{m}" for m in ("sweep", "validation", "bench")
                 if (ROOT / "sciflow" / f"{m}.py").exists()}
    assert expected <= directives


# -------------------------------------------------------------------------------- the build
@pytest.mark.slow
def test_strict_build(tmp_path):
    for plugin in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
                   "mkdocs_jupyter", "pymdownx"):
        pytest.importorskip(plugin)
    site = tmp_path / "site"
    cache = ROOT / ".cache" / "mkdocs-jupyter"
    had_cache = cache.exists()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner, not a warning
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert not re.search(r"^WARNING", proc.stderr, flags=re.M), proc.stderr[-5000:]
    assert had_cache or not cache.exists(), "the build wrote a notebook cache into the tree"

    for core in CORES:
        core_html = (site / "cores" / core / "index.html").read_text(encoding="utf-8")
        verification = core_html.split('id="verification"', 1)[1].split("<h2", 1)[0]
        assert "<table>" in verification and verification.count("<tr>") >= 1 + (
            MIN_VERIFICATION_ROWS)
        assert 'class="arithmatex"' in core_html  # the equations went through arithmatex

        api = (site / "api" / core / "index.html").read_text(encoding="utf-8")
        ids = set(re.findall(r'id="(sciflow\.[\w.]+)"', api))
        mod = importlib.import_module(f"sciflow.{core}")
        shadowed = _shadowed(core)
        missing = [n for n in mod.__all__ if shadowed.get(n, f"sciflow.{core}.{n}") not in ids]
        assert not missing, f"{core}: not rendered (no docstring?): {missing}"
    api = (site / "api" / "chromatography" / "index.html").read_text(encoding="utf-8")
    assert "sciflow.chromatography.simulate" in api and "Outlet chromatogram" in api

    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        page = (site / "notebooks" / nb.stem / "index.html").read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = [ln for c in cells if c["cell_type"] == "code"
                for ln in "".join(c["source"]).splitlines() if ln.strip()]
        assert code and all(ln in text for ln in code[:20]), nb.name  # the code, as stored
    for page in ("index.html", "validation/index.html", "scaleout/index.html",
                 "changelog/index.html"):
        assert (site / page).is_file(), page
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Unreleased" in changelog
