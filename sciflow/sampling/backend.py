"""A tiny array-namespace layer: NumPy by default, torch when the input is a ``torch.Tensor``.

The samplers and the analytic models are written once against the small set of operations
below; which implementation runs is chosen from the type of the input array, so NumPy arrays
come back as NumPy arrays and torch tensors (CPU or CUDA, float32 or float64) come back as
torch tensors on the same device with the same dtype.

torch is never imported by this module (nor by :mod:`sciflow.sampling`): a tensor can only
exist if the caller has already imported torch, so the torch namespace is built from
``sys.modules["torch"]`` the first time a tensor is seen.

Arithmetic with Python ``float`` scalars keeps the array's dtype in both libraries (NumPy 2
treats Python scalars as "weak"), which is why all solver coefficients are Python floats.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "get_namespace",
    "is_torch",
    "as_float_array",
    "to_numpy",
    "NumpyNamespace",
    "TorchNamespace",
    "FLOAT_DTYPES",
]

FLOAT_DTYPES = ("float32", "float64")


def is_torch(x) -> bool:
    """True if ``x`` is a torch tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


class NumpyNamespace:
    """The NumPy implementation of the operations the samplers and models need."""

    name = "numpy"

    @staticmethod
    def dtype_name(x) -> str:
        return np.dtype(x.dtype).name

    @staticmethod
    def from_numpy(a, like):
        """``a`` (a NumPy array) converted to the dtype of ``like``."""
        return np.asarray(a, dtype=like.dtype)

    @staticmethod
    def to_numpy(x):
        return np.asarray(x)

    @staticmethod
    def cast_like(a, like):
        """``a`` converted to the array type and dtype of ``like``."""
        return np.asarray(a, dtype=like.dtype)

    @staticmethod
    def copy(x):
        return np.array(x, copy=True)

    @staticmethod
    def all_finite(x) -> bool:
        return bool(np.all(np.isfinite(x)))

    @staticmethod
    def einsum(spec, *ops):
        return np.einsum(spec, *ops, optimize=False)

    @staticmethod
    def exp(x):
        return np.exp(x)

    @staticmethod
    def reshape(x, shape):
        return np.reshape(x, shape)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def max(x, axis, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def log(x):
        return np.log(x)

    @staticmethod
    def matmul(a, b):
        return a @ b

    @classmethod
    def softmax_and_logsumexp(cls, logits, axis=-1):
        """(softmax, logsumexp) of ``logits`` along ``axis``, overflow-safe."""
        m = np.max(logits, axis=axis, keepdims=True)
        e = np.exp(logits - m)
        s = np.sum(e, axis=axis, keepdims=True)
        return e / s, (np.log(s) + m).squeeze(axis)


class TorchNamespace:
    """The torch implementation (any device, float32/float64)."""

    name = "torch"

    def __init__(self, torch_module):
        if not (getattr(torch_module, "__name__", None) == "torch"
                and isinstance(getattr(torch_module, "Tensor", None), type)):
            raise TypeError(f"torch_module must be the torch module, got {torch_module!r}")
        self.torch = torch_module

    def dtype_name(self, x) -> str:
        return str(x.dtype).replace("torch.", "")

    def from_numpy(self, a, like):
        a = np.asarray(a)
        if not a.flags.writeable:  # torch warns about read-only buffers
            a = a.copy()
        return self.torch.as_tensor(a, dtype=like.dtype, device=like.device)

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def cast_like(self, a, like):
        if isinstance(a, self.torch.Tensor):
            return a.to(dtype=like.dtype, device=like.device)
        return self.from_numpy(a, like)

    def copy(self, x):
        return x.clone()

    def all_finite(self, x) -> bool:
        return bool(self.torch.isfinite(x).all())

    def einsum(self, spec, *ops):
        return self.torch.einsum(spec, *ops)

    def exp(self, x):
        return self.torch.exp(x)

    def reshape(self, x, shape):
        return self.torch.reshape(x, shape)

    def sum(self, x, axis=None, keepdims=False):
        if axis is None:
            return self.torch.sum(x)
        return self.torch.sum(x, dim=axis, keepdim=keepdims)

    def max(self, x, axis, keepdims=False):
        return self.torch.amax(x, dim=axis, keepdim=keepdims)

    def log(self, x):
        return self.torch.log(x)

    def matmul(self, a, b):
        return a @ b

    def softmax_and_logsumexp(self, logits, axis=-1):
        lse = self.torch.logsumexp(logits, dim=axis, keepdim=True)
        return self.torch.exp(logits - lse), lse.squeeze(axis)


_NUMPY = NumpyNamespace()
_TORCH = None


_NOT_ARRAYS = (str, bytes, dict, set, frozenset, type(None))


def _check_array_like(name, x):
    if isinstance(x, _NOT_ARRAYS):
        raise TypeError(f"{name} must be a NumPy array, torch tensor or array-like of numbers, "
                        f"got {type(x).__name__} {x!r:.60}")


def get_namespace(x):
    """The namespace for array ``x``: :class:`TorchNamespace` for tensors, else NumPy.

    Strings, bytes, mappings, sets and ``None`` raise ``TypeError`` (they are not arrays).
    """
    global _TORCH
    if is_torch(x):
        if _TORCH is None:
            _TORCH = TorchNamespace(sys.modules["torch"])
        return _TORCH
    _check_array_like("x", x)
    return _NUMPY


def as_float_array(name, x):
    """Validate ``x`` as a float32/float64 array (NumPy or torch); return (array, namespace).

    Lists and integer NumPy arrays are converted to float64 NumPy arrays; other dtypes
    (float16, complex, integer tensors) raise ``TypeError`` naming ``name``. NaN/inf raise
    ``ValueError``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__} {name!r}")
    _check_array_like(name, x)
    xp = get_namespace(x)
    if xp is _NUMPY:
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x, dtype=float)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be a NumPy array or torch tensor of floats: "
                                f"{exc}") from None
        elif x.dtype.kind in "iub":
            x = x.astype(np.float64)
    dt = xp.dtype_name(x)
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {dt}")
    if not xp.all_finite(x):
        raise ValueError(f"{name} must be finite; it has NaN/inf values")
    return x, xp


def to_numpy(x):
    """``x`` as a NumPy array (tensors are detached and copied to the host)."""
    xp = get_namespace(x)
    try:
        out = xp.to_numpy(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"x must be an array of numbers: {exc}") from None
    if out.dtype == object:
        raise TypeError(f"x must be an array of numbers, got {type(x).__name__} with ragged or "
                        "non-numeric entries")
    return out
