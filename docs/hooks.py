"""MkDocs hooks for the sciflow site.

* ``on_files``: publish ``notebooks/*.ipynb`` (outside ``docs_dir``) as pages without copying
  them: they are added to the file collection with their real path as the source, so
  mkdocs-jupyter renders them (executed when ``SCIFLOW_DOCS_EXECUTE=true``, else as stored) at
  ``notebooks/<name>/``.
* ``on_config``: the snippets extension (``docs/changelog.md`` includes ``CHANGELOG.md``)
  resolves paths against the repository root, whatever the working directory of the build.
* ``on_page_content``: the docstrings use Sphinx roles (``:class:`X```), which mkdocstrings
  leaves as text; show them as plain code, ``~a.b.C`` as ``C`` (Sphinx's short form).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):<code>(~?)([^<]*)"
                   r"</code>")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Point ``pymdownx.snippets`` at the repository root (its ``base_path`` is cwd-relative)."""
    config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [str(ROOT)]
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the notebook files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every ``notebooks/*.ipynb`` of the repository as ``notebooks/<name>.ipynb``."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _role(match: re.Match[str]) -> str:
    name = match.group(2)
    if match.group(1):
        name = name.rsplit(".", 1)[-1]
    return f"<code>{name}</code>"


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Render Sphinx cross-reference roles left in docstrings as inline code."""
    return _ROLE.sub(_role, html)
