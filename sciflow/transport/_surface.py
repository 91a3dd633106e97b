"""The transport results' public surface: the shared helpers of :mod:`sciflow._surface`."""

from __future__ import annotations

from .._surface import check_progress, new_axes, plain_attrs, progress_bar, xarray

__all__: list[str] = []
_SHARED = (check_progress, new_axes, plain_attrs, progress_bar, xarray)  # re-exported
