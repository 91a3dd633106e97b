"""Shared pieces of the result objects' public surface: ``.plot(ax=None)``, ``.to_xarray()``
and ``progress=`` checks (matplotlib, xarray and tqdm are imported only when used)."""

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


def numpy_samples(x: Any) -> np.ndarray:
    """``x`` (NumPy or torch) as a float NumPy array."""
    from .backend import to_numpy

    return np.asarray(to_numpy(x), dtype=float)


def sample_dims(arr: np.ndarray, lead: tuple[str, ...] = ("sample",)) -> tuple[str, ...]:
    """xarray dims for an array of samples: ``lead`` then ``dim`` (2-D points) or
    ``axis_1, axis_2, ...`` (images and other shapes)."""
    rest = arr.ndim - len(lead)
    if rest < 0:
        raise ValueError(f"array of shape {arr.shape} has fewer than {len(lead)} axes")
    if rest == 0:
        return lead
    if rest == 1:
        return (*lead, "dim")
    return (*lead, *(f"axis_{k + 1}" for k in range(rest)))


def plain_attrs(**attrs: Any) -> dict[str, Any]:
    """Attributes safe for netCDF: None becomes NaN, tuples become lists/arrays, bools ints."""
    out: dict[str, Any] = {}
    for key, val in attrs.items():
        if val is None:
            val = float("nan")
        elif isinstance(val, bool | np.bool_):
            val = int(val)
        elif isinstance(val, tuple | list):
            val = np.asarray(val)
        out[key] = val
    return out
