"""The bad-input table: every public name of a core × bad inputs → a clear exception.

Each core's ``tests/<core>/test_bad_input.py`` declares ``ROWS``, a list of :class:`Row`, and
calls :func:`make_tests` to get two tests:

* ``test_bad_input`` — each row's call raises the row's exception with a message matching the
  row's pattern (which must name the offending parameter);
* ``test_every_public_name_has_a_row`` — the public names are collected from the core's
  ``__all__`` and the ``__all__`` of each of its public modules (functions and classes; modules,
  constants and exception/warning classes excluded), so a new public function without a row
  fails this test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Row:
    """One bad input: ``call()`` must raise ``exc`` with a message matching ``match``.

    ``target`` is the public function or class the row exercises (the object itself).
    ``what`` says in a few words what is bad (it becomes the test id).
    """

    target: object
    what: str
    call: Callable[[], object]
    exc: type[BaseException] | tuple[type[BaseException], ...]
    match: str


def public_callables(package_name: str, *, skip_modules: tuple[str, ...] = ()) -> dict[str, object]:
    """{qualified name: object} of the public functions and classes of a package.

    Collected from ``package.__all__`` and from the ``__all__`` of each non-underscore module of
    the package (one level deep; sub-packages are included the same way). ``skip_modules`` names
    modules (short names) that need an optional dependency absent here.
    """
    pkg = importlib.import_module(package_name)
    modules = [pkg]
    if hasattr(pkg, "__path__"):
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("_") or info.name in skip_modules:
                continue
            modules.append(importlib.import_module(f"{package_name}.{info.name}"))
    found = {}
    for mod in modules:
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _row_id(row: Row) -> str:
    name = getattr(row.target, "__qualname__", repr(row.target))
    return f"{name}: {row.what}"


def make_tests(package_name: str, rows: list[Row], *, skip_modules: tuple[str, ...] = ()):
    """The two table tests of a core (assign them to module-level names in the test file)."""

    @pytest.mark.parametrize("row", rows, ids=[_row_id(r) for r in rows])
    def test_bad_input(row):
        with pytest.raises(row.exc) as info:
            row.call()
        message = str(info.value)
        assert re.search(row.match, message), (
            f"{_row_id(row)}: message {message!r} does not match {row.match!r}"
        )

    def test_every_public_name_has_a_row():
        public = public_callables(package_name, skip_modules=skip_modules)
        covered = {id(r.target) for r in rows}
        missing = sorted(name for name, obj in public.items() if id(obj) not in covered)
        assert not missing, f"public names of {package_name} without a bad-input row: {missing}"

    return test_bad_input, test_every_public_name_has_a_row
