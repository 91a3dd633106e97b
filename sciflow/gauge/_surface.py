"""Shared pieces of the gauge results' public surface: ``.plot(ax=None)``, ``.to_xarray()``
and ``progress=`` (matplotlib, xarray and tqdm are imported only when used)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._surface import check_progress, new_axes, plain_attrs, progress_bar, xarray

__all__: list[str] = []


_SHARED = (check_progress, new_axes, plain_attrs, progress_bar, xarray)  # re-exported


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
