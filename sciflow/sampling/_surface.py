"""Shared pieces of the result objects' public surface: ``.plot(ax=None)``, ``.to_xarray()``
and ``progress=`` checks (matplotlib, xarray and tqdm are imported only when used)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._surface import check_progress, new_axes, progress_iter, xarray

__all__: list[str] = []


_SHARED = (check_progress, new_axes, progress_iter, xarray)  # re-exported


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


def trajectory_vars(trajectory: Any, times: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """xarray data and coordinates of a recorded trajectory: ``trajectory`` (t, sample, ...)
    on the schedule times ``t``; both empty when nothing was recorded."""
    if trajectory is None:
        return {}, {}
    traj = np.stack([numpy_samples(v) for v in trajectory])
    data = {"trajectory": (sample_dims(traj, ("t", "sample")), traj,
                           {"long_name": "state at each time"})}
    return data, {"t": ("t", times, {"long_name": "schedule time", "units": "1"})}
