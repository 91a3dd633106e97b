"""sciflow — analytical and numerical cores for scientific modelling.

Subpackages are imported on demand (``import sciflow.chromatography``); importing
:mod:`sciflow` itself loads nothing heavy (no numba compilation, no torch, no dask).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "ConvergenceError"]


class ConvergenceError(RuntimeError):
    """An iterative method stopped before reaching its tolerance.

    Attributes
    ----------
    result : object
        The partial (best so far) result, so nothing computed is lost.
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result
