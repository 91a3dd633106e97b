"""Argument checks with messages that name the parameter and the allowed range."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_real",
    "check_positive",
    "check_nonnegative",
    "check_in_range",
    "check_int",
    "check_array",
    "check_increasing",
    "check_choice",
    "as_rng",
    "check_axes",
]


def check_real(name, value):
    """Return ``value`` as a finite float or raise ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name, value):
    """A finite real number > 0."""
    value = check_real(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_nonnegative(name, value):
    """A finite real number >= 0."""
    value = check_real(name, value)
    if value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_in_range(name, value, low=-math.inf, high=math.inf, *, low_open=False, high_open=False):
    """A finite real number in the interval given (open or closed at each end)."""
    value = check_real(name, value)
    bad_low = value <= low if low_open else value < low
    bad_high = value >= high if high_open else value > high
    if bad_low or bad_high:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{hb}, got {value}")
    return value


def check_int(name, value, low=None, high=None):
    """An integer (not bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_array(name, value, *, ndim=None, finite=True, dtype=float, min_size=0):
    """Convert to an ndarray and check its dimension and finiteness."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} elements, got {arr.size}")
    if finite and not np.all(np.isfinite(arr)):
        n_bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it has {n_bad} NaN/inf value(s)")
    return arr


def check_increasing(name, value, *, strict=True, min_size=2):
    """A finite 1-D array that increases (strictly by default)."""
    arr = check_array(name, value, ndim=1, min_size=min_size)
    d = np.diff(arr)
    if (strict and np.any(d <= 0)) or (not strict and np.any(d < 0)):
        i = int(np.argmax(d <= 0 if strict else d < 0))
        raise ValueError(
            f"{name} must be {'strictly ' if strict else ''}increasing; "
            f"{name}[{i + 1}] = {arr[i + 1]} follows {name}[{i}] = {arr[i]}"
        )
    return arr


def check_choice(name, value, choices):
    """One of a fixed set of strings."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)!r}, got {value!r}")
    return value


def as_rng(rng):
    """A ``numpy.random.Generator`` from a Generator, a seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, numbers.Integral | np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, an integer seed or None, got {rng!r}")


def check_axes(ax, name="ax"):
    """A matplotlib ``Axes`` (what every ``.plot(ax=...)`` draws into), else ``TypeError``."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax
