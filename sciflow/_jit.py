"""The one numba wrapper of sciflow.

Every compiled kernel is declared with :func:`njit` from this module, so the compilation flags
live in one place. ``SCIFLOW_DISABLE_JIT=1`` in the environment turns every kernel into plain
Python (useful for debugging and coverage); numba's own ``NUMBA_DISABLE_JIT`` works as well.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["njit", "JIT_ENABLED", "prange"]

JIT_ENABLED = os.environ.get("SCIFLOW_DISABLE_JIT", "0").strip().lower() not in {"1", "true", "yes"}

# Flags shared by every kernel: cache compiled code on disk (start-up in milliseconds after the
# first run), no fastmath (we compare against exact solutions at 1e-9), no GIL in kernels.
_FLAGS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

prange: Any  # numba.prange when compiling, the builtin range otherwise

if JIT_ENABLED:
    import numba as _numba

    prange = _numba.prange

    def njit(*args, **kwargs):
        """``numba.njit`` with sciflow's central flags (overridable per kernel)."""
        flags = {**_FLAGS, **kwargs}
        if args and callable(args[0]) and len(args) == 1:
            return _numba.njit(**flags)(args[0])
        return _numba.njit(*args, **flags)

else:
    prange = range

    def njit(*args, **kwargs):
        """No-op decorator: kernels run as plain Python (``SCIFLOW_DISABLE_JIT=1``)."""
        if args and callable(args[0]) and len(args) == 1:
            return args[0]
        return lambda f: f
