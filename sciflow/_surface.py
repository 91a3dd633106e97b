"""Shared pieces of every result object's public surface: ``.plot(ax=None)``, ``.to_xarray()``
and ``progress=`` (matplotlib, xarray and tqdm are imported only when used).

Each core's ``_surface`` module re-exports these and adds what only that core needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_axes

__all__: list[str] = []


def new_axes(ax: Any = None, **subplots_kw: Any) -> Any:
    """``ax`` checked to be a matplotlib Axes, or a new figure's Axes when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(**subplots_kw)
        return ax
    return check_axes(ax)


def xarray() -> Any:
    """The ``xarray`` module, or ImportError saying how to install it."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError("to_xarray needs xarray: pip install xarray") from None
    return xr


def check_progress(progress: Any) -> bool:
    """``progress`` must be a bool (a tqdm bar is shown when True)."""
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool (True shows a tqdm bar), got {progress!r}")
    return bool(progress)


def progress_iter(it: Any, progress: bool, desc: str, total: int | None = None) -> Any:
    """``it`` wrapped in a tqdm bar when ``progress`` (tqdm imported only then)."""
    if not progress:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, total=total, leave=False)


def progress_bar(progress: bool, desc: str, unit: str = "it") -> Any:
    """A tqdm bar of unknown length when ``progress`` (tqdm imported only then), else None."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=desc, unit=unit, leave=False)


def plain_attrs(**attrs: Any) -> dict[str, Any]:
    """Attributes safe for netCDF: None is left out, bools become ints."""
    return {k: int(v) if isinstance(v, bool | np.bool_) else v
            for k, v in attrs.items() if v is not None}
