"""Shared pieces of the chromatography results' public surface: ``.plot(ax=None)``,
``.to_xarray()`` and ``progress=`` (matplotlib, xarray and tqdm are imported only when used)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_axes

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
    except ImportError:  # pragma: no cover - xarray is a dev dependency
        raise ImportError("to_xarray needs xarray: pip install xarray") from None
    return xr


def check_progress(progress: Any) -> bool:
    """``progress`` must be a bool (a tqdm bar is shown when True)."""
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool (True shows a tqdm bar), got {progress!r}")
    return bool(progress)


def plain_attrs(**attrs: Any) -> dict[str, Any]:
    """Attributes safe for netCDF: None is left out, bools become ints."""
    return {k: int(v) if isinstance(v, bool | np.bool_) else v
            for k, v in attrs.items() if v is not None}
