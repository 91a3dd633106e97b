"""The chromatography results' public surface: the shared helpers of :mod:`sciflow._surface`."""

from __future__ import annotations

from .._surface import check_progress, new_axes, plain_attrs, xarray

__all__: list[str] = []
_SHARED = (check_progress, new_axes, plain_attrs, xarray)  # re-exported for the core's modules
