"""Shared pieces of the gauge results' public surface: ``.plot(ax=None)``, ``.to_xarray()``
and ``progress=`` (matplotlib, xarray and tqdm are imported only when used)."""

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


GRID_DIMS = ("x", "y", "z")


def grid_coords(shape: tuple[int, ...], grid: Any = None) -> dict[str, Any]:
    """xarray coordinates ``x, y, z`` of a grid of ``shape``: the cell centres of ``grid`` (a
    tuple of 1-D axes) or, without it, the cell indices."""
    if grid is not None:
        axes = tuple(np.asarray(g, dtype=float) for g in grid)
        if tuple(a.size for a in axes) != tuple(shape):
            raise ValueError(f"grid must be a tuple of {len(shape)} axes of sizes {shape}, got "
                             f"sizes {tuple(a.size for a in axes)}")
        return {GRID_DIMS[k]: axes[k] for k in range(len(shape))}
    return {GRID_DIMS[k]: (GRID_DIMS[k], np.arange(n), {"units": "cell index"})
            for k, n in enumerate(shape)}


def plot_cells(ax: Any, values: np.ndarray, grid: Any, label: str, **kwargs: Any) -> Any:
    """Cell values on a 1-/2-/3-D grid: a line (1-D) or a colour map (2-D; 3-D: the middle
    slice of the third axis) against the cell centres of ``grid`` (cell indices without it)."""
    coords = grid_coords(values.shape, grid)
    axes = [np.asarray(c[1] if isinstance(c, tuple) else c) for c in coords.values()]
    if values.ndim == 1:
        ax.plot(axes[0], values, label=label, **kwargs)
        ax.set(xlabel="x", ylabel=label)
        return ax
    v = values if values.ndim == 2 else values[:, :, values.shape[2] // 2]
    kwargs.setdefault("shading", "auto")
    m = ax.pcolormesh(axes[0], axes[1], v.T, **kwargs)
    ax.figure.colorbar(m, ax=ax, label=label)
    ax.set(xlabel="x", ylabel="y", aspect="equal")
    return ax
