"""Conservativity diagnostics of (learned) score fields.

A score model ``s(x, t)`` need not be a gradient. Horvat & Pfister (ICLR 2024,
arXiv:2402.03845) split it as ``s = grad log p_t + r`` and show that sampling with it gives the
exact marginals iff ``div(p_t r) = 0`` (see :mod:`sciflow.gauge.counterexample` for the
derivation for the probability-flow ODE). This module measures the three things that matter:

* :func:`jacobian_asymmetry` — how far ``s`` is from conservative, locally: the antisymmetric
  part of its Jacobian, ``|J - J^T|_F / |J|_F`` per point (0 for a gradient field, at most 2),
  its (weighted) mean and the global ratio ``sqrt(sum w |J - J^T|^2 / sum w |J|^2)``. The
  field may be a NumPy callable (central differences), a torch callable / module / torch-backed
  model (autograd: exact), a sampler model with ``predict(x, t, kind)``, or values on a grid
  (``np.gradient``, second order).
* :func:`gauge_fraction` — ``E_p |r|^2 / E_p |s|^2``: how much of the field is a gauge part (the
  non-conservative part that the weighted Helmholtz–Hodge decomposition of
  :mod:`sciflow.gauge.decompose` splits off).
* :func:`gauge_defect` — the gauge condition itself, ``div(p r)``: on a grid with
  :func:`sciflow.gauge.decompose.gauge_residual` (the decomposition's own discretisation), at
  points in the density-free form ``div(p r)/p = div r + r . grad log p`` (differences or
  autograd). Both report a cancellation ratio (0 for a gauge field, <= 1) and, when a reference
  field is given, the ratio ``|div(p r)| / |div(p s_ref)|`` (with ``s_ref = grad log p`` this
  is relative to ``Laplace p``, the term through which the score drives ``d p_t/dt``).

:func:`learned_field_report` puts them together for a trained model at several noise levels:
with ``p_t`` known (the exact noised density of a Gaussian-mixture data set, or of a Gaussian
KDE of the data, :func:`kde_mixture`, which is again a mixture) it decomposes the learned score
on a grid and reports the gauge fraction, the Jacobian asymmetry, the score error and — the
number that decides whether sampling with the model is exact — the marginal defect
``|div(p_t (s - grad log p_t))| / |div(p_t grad log p_t)|``: the error ``s - grad log p_t`` is
harmless exactly when it is a gauge field. (Decomposing ``s`` and decomposing its error give
the same gauge part ``r``, because ``grad log p_t`` is a gradient.)

torch is imported only when a torch field is differentiated.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validate import (
    as_rng,
    check_array,
    check_choice,
    check_in_range,
    check_int,
    check_nonnegative,
    check_positive,
)
from ._surface import GRID_DIMS, grid_coords, new_axes, plain_attrs, plot_cells, xarray

__all__ = [
    "JacobianAsymmetry",
    "jacobian_asymmetry",
    "gauge_fraction",
    "GaugeDefect",
    "gauge_defect",
    "kde_mixture",
    "LearnedFieldReport",
    "learned_field_report",
]

BACKENDS = ("auto", "numpy", "torch")
ASYMMETRY_METHODS = ("central differences", "autograd", "grid")
PREDICTION_KINDS = ("eps", "x0", "score", "velocity")
_EPS = float(np.finfo(float).eps)
ORTHOGONALITY_WARN = 0.05
DEFAULT_STEP = (3.0 * _EPS) ** (1.0 / 3.0)  # ~ 8.7e-6: balances h^2 f''' / 6 and eps f / h


# ============================================================================ helpers
def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised without torch
        raise ImportError("differentiating a torch field needs PyTorch; install it with "
                          "`pip install 'sciflow[torch]'`") from exc
    return torch


def _is_torch_field(obj):
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    module = torch.nn.Module
    return isinstance(obj, module) or isinstance(getattr(obj, "network", None), module)


def _resolve_backend(fn, backend):
    check_choice("backend", backend, BACKENDS)
    if backend == "auto":
        return "torch" if _is_torch_field(fn) else "numpy"
    return backend


def _as_callable(name, fld, t, kind):
    """A function ``x (n, d) -> (n, d)`` from a callable or a model with ``predict``."""
    if callable(getattr(fld, "predict", None)) and not _is_plain_module(fld):
        if t is None:
            raise ValueError(f"t is required when {name} is a model with predict(x, t, kind)")
        check_choice("kind", kind, PREDICTION_KINDS)
        return lambda x: fld.predict(x, t, kind=kind)
    if callable(fld):
        return fld
    raise TypeError(f"{name} must be a callable x -> field(x), a torch module or a model with "
                    f"predict(x, t, kind), got {type(fld).__name__}")


def _is_plain_module(obj):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _check_points(x, d=None):
    x = check_array("x", x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape (n, d) with n, d >= 1, got {x.shape}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"x must have shape (n, {d}), got {x.shape}")
    return x


def _eval_numpy(fn, x, name):
    out = np.asarray(fn(x), dtype=float)
    if out.shape != x.shape:
        raise ValueError(f"{name}(x) must return an array of shape {x.shape}, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name}(x) returned NaN/inf values")
    return out


def _jacobian_numpy(fn, x, step, name):
    """Values (n, d) and central-difference Jacobian J[n, i, j] = d f_i / d x_j."""
    n, d = x.shape
    h = step * np.maximum(1.0, np.abs(x))
    plus = np.repeat(x[None], d, axis=0)
    minus = plus.copy()
    for j in range(d):
        plus[j, :, j] += h[:, j]
        minus[j, :, j] -= h[:, j]
    dh = np.stack([plus[j, :, j] - minus[j, :, j] for j in range(d)], axis=1)  # exact steps
    pts = np.concatenate([x[None], plus, minus], axis=0).reshape(-1, d)
    vals = _eval_numpy(fn, pts, name).reshape(2 * d + 1, n, d)
    jac = np.empty((n, d, d))
    for j in range(d):
        jac[:, :, j] = (vals[1 + j] - vals[1 + d + j]) / dh[:, j:j + 1]
    return vals[0], jac


def _jacobian_torch(fn, x, name):
    """Values and exact Jacobian by reverse-mode autograd (one backward pass per output)."""
    torch = _torch()
    dtype = torch.float64
    if _is_plain_module(fn):
        p = next(iter(fn.parameters()), None)
        if p is not None:
            dtype = p.dtype
    n, d = x.shape
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    with torch.enable_grad():
        y = fn(xt)
        if not isinstance(y, torch.Tensor):
            raise TypeError(f"{name}(x) must return a torch tensor for backend='torch', got "
                            f"{type(y).__name__}")
        if tuple(y.shape) != (n, d):
            raise ValueError(f"{name}(x) must return shape {(n, d)}, got {tuple(y.shape)}")
        rows = []
        for i in range(d):
            if not y.requires_grad:
                rows.append(torch.zeros_like(xt))
                continue
            g = torch.autograd.grad(y[:, i].sum(), xt, retain_graph=i < d - 1,
                                    allow_unused=True)[0]
            rows.append(torch.zeros_like(xt) if g is None else g)
    vals = y.detach().cpu().numpy().astype(float)
    jac = torch.stack(rows, dim=1).detach().cpu().numpy().astype(float)
    if not (np.all(np.isfinite(vals)) and np.all(np.isfinite(jac))):
        raise ValueError(f"{name}(x) or its Jacobian has NaN/inf values")
    return vals, jac


def _jacobian(fn, x, backend, step, name):
    if backend == "torch":
        return _jacobian_torch(fn, x, name)
    return _jacobian_numpy(fn, x, step, name)


def _check_grid_axes(grid):
    if isinstance(grid, np.ndarray) and grid.ndim == 1:
        grid = (grid,)
    if not isinstance(grid, tuple | list) or len(grid) < 1:
        raise TypeError(f"grid must be a tuple of 1-D arrays of cell centres, got "
                        f"{type(grid).__name__}")
    axes, h = [], []
    for k, g in enumerate(grid):
        a = check_array(f"grid[{k}]", g, ndim=1)
        if a.size < 3:
            raise ValueError(f"grid[{k}] must have at least 3 points, got {a.size}")
        dk = np.diff(a)
        hk = (a[-1] - a[0]) / (a.size - 1)
        if np.any(dk <= 0) or np.max(np.abs(dk - hk)) > 1e-6 * hk:
            raise ValueError(f"grid[{k}] must be strictly increasing and equally spaced")
        axes.append(a)
        h.append(float(hk))
    return tuple(axes), tuple(h)


def _grid_points(axes):
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _check_weights(weights, shape):
    if weights is None:
        return None
    w = check_array("weights", weights)
    if w.shape != shape:
        raise ValueError(f"weights must have shape {shape}, got {w.shape}")
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError("weights must be >= 0 with a positive sum")
    return w / w.sum()


# ============================================================================ Jacobian
@dataclass(frozen=True)
class JacobianAsymmetry:
    """Output of :func:`jacobian_asymmetry`.

    Attributes
    ----------
    ratio : ndarray
        ``|J - J^T|_F / |J|_F`` per point (shape ``(n,)``, or the grid's shape); 0 where
        ``J = 0``. Values lie in [0, 2] (``2 |K| / sqrt(|S|^2 + |K|^2)`` for the symmetric and
        antisymmetric parts ``S``, ``K``).
    mean : float
        Mean of ``ratio`` (weighted by ``weights`` if given).
    global_ratio : float
        ``sqrt(sum w |J - J^T|^2 / sum w |J|^2)`` (robust where ``J`` is small).
    jacobian : ndarray (..., d, d)
        ``J[..., i, j] = d s_i / d x_j``.
    method : str
        ``"central differences"``, ``"autograd"`` or ``"grid"``.
    step : float or None
        Relative difference step (central differences).
    """

    ratio: np.ndarray
    mean: float
    global_ratio: float
    jacobian: np.ndarray = field(repr=False)
    method: str = "central differences"
    step: float | None = None

    def __post_init__(self):
        ratio = check_array("ratio", self.ratio)
        jac = check_array("jacobian", self.jacobian)
        if ratio.ndim < 1 or jac.ndim != ratio.ndim + 2 or jac.shape[:ratio.ndim] != \
                ratio.shape or jac.shape[-1] != jac.shape[-2]:
            raise ValueError(f"jacobian must have shape (*ratio.shape, d, d) = "
                             f"({', '.join(map(str, ratio.shape))}, d, d), got {jac.shape}")
        for name in ("mean", "global_ratio"):
            check_in_range(name, getattr(self, name), 0.0, 2.0 + 1e-12)
        check_choice("method", self.method, ASYMMETRY_METHODS)
        if self.step is not None:
            check_positive("step", self.step)

    def plot(self, ax=None, grid=None, **kwargs):
        """Histogram of the per-point ratio (``kwargs`` go to ``Axes.hist``, 50 bins by
        default), or (2-D ratio and ``grid`` given) its map (``kwargs`` to
        ``Axes.pcolormesh``). Returns the Axes."""
        ax = new_axes(ax)
        ratio = np.asarray(self.ratio)
        if grid is not None and ratio.ndim == 2:
            axes, _ = _check_grid_axes(grid)
            plot_cells(ax, ratio, axes, "|J - J^T| / |J|", **kwargs)
        else:
            kwargs.setdefault("bins", 50)
            ax.hist(ratio.ravel(), **kwargs)
            ax.set(xlabel="|J - J^T|_F / |J|_F", ylabel="count")
        ax.set_title(f"Jacobian asymmetry ({self.method}): mean {self.mean:.3g}")
        return ax

    def to_xarray(self, grid=None):
        """An xarray Dataset: ``ratio`` over ``point`` (points) or the grid dims ``x``, ``y``,
        ``z`` (cell centres of ``grid``, cell indices without it), ``jacobian`` over those and
        (``i``, ``j``) (``d s_i / d x_j``); ``mean``, ``global_ratio``, ``method``, ``step`` as
        attributes (xarray imported lazily)."""
        ratio = np.asarray(self.ratio)
        grid_mode = grid is not None or ratio.ndim > 1
        dims = GRID_DIMS[:ratio.ndim] if grid_mode else ("point",)
        coords = (grid_coords(ratio.shape, grid) if grid_mode
                  else {"point": np.arange(ratio.size)})
        d = self.jacobian.shape[-1]
        coords.update(i=np.arange(d), j=np.arange(d))
        return xarray().Dataset(
            {"ratio": (dims, ratio, {"long_name": "|J - J^T|_F / |J|_F"}),
             "jacobian": ((*dims, "i", "j"), np.asarray(self.jacobian),
                          {"long_name": "d s_i / d x_j"})},
            coords=coords,
            attrs=plain_attrs(mean=float(self.mean), global_ratio=float(self.global_ratio),
                              method=self.method, step=self.step))


def jacobian_asymmetry(field, x=None, *, grid=None, t=None, kind="score", backend="auto",
                       step=None, weights=None):
    """Antisymmetric part of the Jacobian of a vector field (module docstring).

    Parameters
    ----------
    field
        * a NumPy callable ``f(x)`` mapping (n, d) to (n, d) — central differences with the
          per-coordinate step ``step * max(1, |x_j|)`` (default ``(3 eps)^(1/3) ~ 8.7e-6``:
          error ``~ (h/L)^2`` for a length scale ``L``, below 1e-8 for ``L >= 0.1``);
        * a torch callable (``backend="torch"``), a ``torch.nn.Module`` or a model whose
          ``network`` is one (e.g. :class:`~sciflow.sampling.nn.MLPModel`) — exact autograd,
          one backward pass per component;
        * a model with ``predict(x, t, kind)`` (``t`` required; ``kind`` default ``"score"``);
        * an array of values on a grid, shape ``(d, *grid_shape)`` with ``grid`` given and
          ``x=None`` — ``np.gradient`` with second-order edges.
    x : array (n, d)
        Points (callables only).
    grid : tuple of 1-D arrays
        Equally spaced coordinates (grid values only).
    t : float
        Time for a model's ``predict``.
    kind : str
        Prediction kind for a model (default ``"score"``).
    backend : "auto", "numpy" or "torch"
        ``"auto"``: torch for torch modules / torch-backed models, else NumPy.
    step : float, optional
        Relative central-difference step.
    weights : array, optional
        Non-negative weights per point (e.g. the density on the grid) for the mean and the
        global ratio; default uniform.

    Returns
    -------
    JacobianAsymmetry
    """
    if grid is not None:
        if x is not None:
            raise ValueError("give either x (points, field callable) or grid (field values), "
                             "not both")
        axes, h = _check_grid_axes(grid)
        shape = tuple(a.size for a in axes)
        d = len(axes)
        vals = check_array("field", field)
        if vals.shape != (d, *shape):
            raise ValueError(f"field must have shape {(d, *shape)} (components first) on this "
                             f"grid, got {vals.shape}")
        jac = np.empty((*shape, d, d))
        for i in range(d):
            grads = np.gradient(vals[i], *h, edge_order=2)
            if d == 1:
                grads = [grads]
            for j in range(d):
                jac[..., i, j] = grads[j]
        method, used_step = "grid", None
    else:
        if x is None:
            raise ValueError("x (points of shape (n, d)) is required for a callable field")
        pts = _check_points(x)
        fn = _as_callable("field", field, t, kind)
        bk = _resolve_backend(field, backend)
        used_step = None
        if bk == "numpy":
            used_step = DEFAULT_STEP if step is None else check_positive("step", step)
        _, jac = _jacobian(fn, pts, bk, used_step, "field")
        shape = (pts.shape[0],)
        method = "autograd" if bk == "torch" else "central differences"
    w = _check_weights(weights, shape)
    anti = jac - np.swapaxes(jac, -1, -2)
    a2 = np.sum(anti * anti, axis=(-1, -2))
    j2 = np.sum(jac * jac, axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(j2 > 0, np.sqrt(a2 / np.where(j2 > 0, j2, 1.0)), 0.0)
    if w is None:
        mean = float(np.mean(ratio))
        num, den = float(np.sum(a2)), float(np.sum(j2))
    else:
        mean = float(np.sum(w * ratio))
        num, den = float(np.sum(w * a2)), float(np.sum(w * j2))
    glob = math.sqrt(num / den) if den > 0 else 0.0
    for arr in (ratio, jac):
        arr.setflags(write=False)
    return JacobianAsymmetry(ratio=ratio, mean=mean, global_ratio=glob, jacobian=jac,
                             method=method, step=used_step)


# ============================================================================ gauge fraction
def gauge_fraction(decomposition=None, *, r=None, field=None, weights=None, axis=-1):
    """``E_p |r|^2 / E_p |s|^2``, the share of the field's energy in its gauge part.

    Either a decomposition (``Decomposition`` or ``SampleDecomposition`` of
    :mod:`sciflow.gauge.decompose`: anything with ``energy()`` returning ``r`` and ``field``
    energies), or the arrays ``r`` and ``field`` with the vector components along ``axis``
    (-1 for samples ``(n, d)`` drawn from ``p``; 0 for grid values ``(d, *shape)``) and
    ``weights`` (the density on the grid; default: uniform, i.e. a sample average).
    Returns 0 for a zero field.
    """
    if decomposition is not None:
        if r is not None or field is not None:
            raise ValueError("give either a decomposition or r and field, not both")
        energy = getattr(decomposition, "energy", None)
        if not callable(energy):
            raise TypeError(f"decomposition must have an energy() method (a Decomposition or "
                            f"SampleDecomposition), got {type(decomposition).__name__}")
        e = energy()
        return float(e.r / e.field) if e.field > 0 else 0.0
    if r is None or field is None:
        raise ValueError("gauge_fraction needs a decomposition, or both r and field")
    rr = check_array("r", r)
    ss = check_array("field", field)
    if rr.shape != ss.shape or rr.ndim < 1:
        raise ValueError(f"r and field must have the same shape, got {rr.shape} and "
                         f"{ss.shape}")
    axis = check_int("axis", axis, low=-rr.ndim, high=rr.ndim - 1)
    r2 = np.sum(rr * rr, axis=axis)
    s2 = np.sum(ss * ss, axis=axis)
    w = _check_weights(weights, r2.shape)
    if w is None:
        num, den = float(np.mean(r2)), float(np.mean(s2))
    else:
        num, den = float(np.sum(w * r2)), float(np.sum(w * s2))
    return num / den if den > 0 else 0.0


# ============================================================================ gauge condition
@dataclass(frozen=True)
class GaugeDefect:
    """Output of :func:`gauge_defect`.

    Attributes
    ----------
    divergence : ndarray
        Grid: the discrete ``div(p r)`` per cell (``gauge_residual``'s); points: the
        density-free ``div(p r)/p = div r + r . grad log p`` per point.
    norm : float
        Grid: ``sqrt(sum div^2 * cell volume)``; points: root mean square (a ``p``-weighted,
        ``1/p``-scaled L2 norm when the points are drawn from ``p``).
    relative : float
        Cancellation ratio ``|sum_k T_k| / |sum_k |T_k||`` of the terms ``T_k`` of the
        divergence (flux differences along axis k, or ``d_k r_k + r_k d_k log p``): 0 for a
        gauge field, at most 1.
    reference_norm, relative_to_reference : float
        The same norm of ``div(p s_ref)`` for the reference field and the ratio ``norm /
        reference_norm`` (NaN without a reference).
    method : str
        ``"grid"``, ``"central differences"`` or ``"autograd"``.
    """

    divergence: np.ndarray = field(repr=False)
    norm: float
    relative: float
    reference_norm: float = float("nan")
    relative_to_reference: float = float("nan")
    method: str = "grid"

    def __post_init__(self):
        check_array("divergence", self.divergence)
        check_nonnegative("norm", self.norm)
        check_in_range("relative", self.relative, 0.0, 1.0 + 1e-12)
        for name in ("reference_norm", "relative_to_reference"):
            v = getattr(self, name)
            if not (isinstance(v, float) and math.isnan(v)):
                check_nonnegative(name, v)
        check_choice("method", self.method, ASYMMETRY_METHODS)

    def plot(self, ax=None, *, grid=None, **kwargs):
        """Grid: ``div(p r)`` per cell, a line (1-D) or a colour map (2-D; 3-D: middle slice)
        against the cell centres of ``grid`` (cell indices without it); points: a histogram of
        ``div(p r)/p`` (50 bins by default). ``kwargs`` go to the drawing call. Returns the
        Axes."""
        ax = new_axes(ax)
        div = np.asarray(self.divergence)
        if self.method == "grid":
            plot_cells(ax, div, grid, "div(p r)", **kwargs)
        else:
            kwargs.setdefault("bins", 50)
            ax.hist(div.ravel(), **kwargs)
            ax.set(xlabel="div(p r) / p", ylabel="count")
        ax.set_title(f"gauge defect ({self.method}): relative {self.relative:.2e}")
        return ax

    def to_xarray(self, grid=None):
        """An xarray Dataset: ``divergence`` over the grid dims ``x``, ``y``, ``z`` (grid mode;
        cell centres of ``grid`` or cell indices) or over ``point``; norms and ``method`` as
        attributes (xarray imported lazily)."""
        div = np.asarray(self.divergence)
        if self.method == "grid":
            dims, coords = GRID_DIMS[:div.ndim], grid_coords(div.shape, grid)
        else:
            dims, coords = ("point",), {"point": np.arange(div.size)}
        return xarray().Dataset(
            {"divergence": (dims, div, {"long_name": "div(p r)" if self.method == "grid"
                                        else "div(p r) / p"})},
            coords=coords,
            attrs={"norm": float(self.norm), "relative": float(self.relative),
                   "reference_norm": float(self.reference_norm),
                   "relative_to_reference": float(self.relative_to_reference),
                   "method": self.method})


def gauge_defect(r, *, density=None, grid=None, score=None, x=None, reference=None, t=None,
                 kind="score", backend="auto", step=None, face_density="arithmetic"):
    """How far ``r`` is from the gauge condition ``div(p r) = 0`` (module docstring).

    Grid mode (``grid`` given): ``r`` has shape ``(d, *shape)``, ``density`` the grid's shape;
    :func:`sciflow.gauge.decompose.gauge_residual` computes the discrete divergence (face
    averages, face densities, zero flux through the boundary: take a box on which ``p`` is
    negligible at the edges). ``reference`` is an optional field array, e.g. the exact score
    (then ``relative_to_reference = |div(p r)| / |Laplace p|``).

    Point mode (``x`` given): ``r`` and ``score`` (``grad log p``) are callables ``(n, d) ->
    (n, d)``, torch callables/modules or models with ``predict`` (at time ``t``; ``r`` with
    ``kind``, ``score`` always with ``"score"``); ``div r`` by central differences or autograd
    (``backend``, ``step`` as in :func:`jacobian_asymmetry`). ``reference`` is an optional
    callable of the same kind (``div(p s_ref)/p`` likewise).
    """
    if grid is not None:
        if x is not None or score is not None:
            raise ValueError("grid mode takes r, density and grid (and reference); x and score "
                             "are for point mode")
        if density is None:
            raise ValueError("density (the grid's shape) is required in grid mode")
        from .decompose import gauge_residual

        res = gauge_residual(r, density, grid, face_density=face_density, reference=reference)
        return GaugeDefect(divergence=res.divergence, norm=float(res.norm),
                           relative=float(res.relative), reference_norm=res.reference_norm,
                           relative_to_reference=res.relative_to_reference, method="grid")
    if x is None:
        raise ValueError("give grid (grid mode) or x (point mode)")
    if density is not None:
        raise ValueError("density is for grid mode; point mode uses score = grad log p")
    if score is None:
        raise ValueError("score (grad log p, a callable or model) is required in point mode")
    pts = _check_points(x)
    s_fn = _as_callable("score", score, t, "score")
    s_vals = _eval_any(s_fn, pts, "score", _resolve_backend(score, backend))

    def defect_terms(fld, name, knd):
        fn = _as_callable(name, fld, t, knd)
        bk = _resolve_backend(fld, backend)
        st = None if bk == "torch" else (DEFAULT_STEP if step is None
                                         else check_positive("step", step))
        vals, jac = _jacobian(fn, pts, bk, st, name)
        terms = np.diagonal(jac, axis1=1, axis2=2) + vals * s_vals  # (n, d)
        return terms, ("autograd" if bk == "torch" else "central differences")

    terms, method = defect_terms(r, "r", kind)
    div = terms.sum(axis=1)
    norm = float(np.sqrt(np.mean(div * div)))
    size = np.abs(terms).sum(axis=1)
    scale = float(np.sqrt(np.mean(size * size)))
    rel = norm / scale if scale > 0 else 0.0
    ref_norm = rel_ref = float("nan")
    if reference is not None:
        rterms, _ = defect_terms(reference, "reference", "score")
        rdiv = rterms.sum(axis=1)
        ref_norm = float(np.sqrt(np.mean(rdiv * rdiv)))
        rel_ref = norm / ref_norm if ref_norm > 0 else float("nan")
    div.setflags(write=False)
    return GaugeDefect(divergence=div, norm=norm, relative=rel, reference_norm=ref_norm,
                       relative_to_reference=rel_ref, method=method)


def _eval_any(fn, x, name, backend):
    if backend == "torch":
        torch = _torch()
        with torch.no_grad():
            out = fn(torch.tensor(x, dtype=torch.float64))
        out = out.detach().cpu().numpy().astype(float) if isinstance(out, torch.Tensor) \
            else np.asarray(out, dtype=float)
        if out.shape != x.shape or not np.all(np.isfinite(out)):
            raise ValueError(f"{name}(x) must return finite values of shape {x.shape}")
        return out
    return _eval_numpy(fn, x, name)


# ============================================================================ learned fields
def kde_mixture(data, bandwidth=None):
    """A Gaussian KDE of ``data`` (n, d) as a :class:`~sciflow.sampling.GaussianMixture`:
    ``n`` equal-weight components ``N(x_i, h^2 I)``.

    Noised under a schedule it is again a mixture, ``N(alpha x_i, (alpha^2 h^2 + sigma^2) I)``,
    so its ``p_t`` and ``grad log p_t`` are exact — the "known density" of a data set without a
    closed form. ``bandwidth`` default: Scott's rule ``h = n^(-1/(d+4))`` times the mean
    coordinate standard deviation.
    """
    from ..sampling import GaussianMixture

    x = check_array("data", data, ndim=2)
    n, d = x.shape
    if n < 2 or d < 1:
        raise ValueError(f"data must have shape (n, d) with n >= 2, got {x.shape}")
    if bandwidth is None:
        bandwidth = float(np.mean(np.std(x, axis=0))) * n ** (-1.0 / (d + 4))
        if not bandwidth > 0:
            raise ValueError("data must not be constant (the default bandwidth is 0)")
    h = check_positive("bandwidth", bandwidth)
    covs = np.broadcast_to(h * h * np.eye(d), (n, d, d))
    return GaussianMixture(np.full(n, 1.0 / n), x, covs)


def _mixture_eval(mixture, x, t, schedule):
    """(density (n,), score (n, d)) of the noised mixture, in chunks (memory ~ K n d)."""
    k = mixture.n_components
    chunk = max(256, int(2**21 // max(1, k)))
    dens, score = np.empty(x.shape[0]), np.empty_like(x)
    for start in range(0, x.shape[0], chunk):
        sl = slice(start, start + chunk)
        dens[sl] = np.exp(mixture.log_density(x[sl], t, schedule))
        score[sl] = mixture.predict(x[sl], t, "score", schedule)
    return dens, score


@dataclass(frozen=True)
class LearnedFieldReport:
    """Output of :func:`learned_field_report`: one entry per time ``t``.

    Attributes (arrays over ``times``)
    ----------------------------------
    times, sigma : the noise levels.
    gauge_fraction : ``E_p |r|^2 / E_p |s|^2`` of the grid decomposition of the learned score.
    gauge_fraction_samples : the same from :func:`~sciflow.gauge.decompose.decompose_samples`
        on samples of ``p_t`` (NaN if not computed).
    asymmetry_mean, asymmetry_global : ``p``-weighted mean ``|J - J^T|/|J|`` and global ratio.
    score_error : ``E_p |s - grad log p|^2 / E_p |grad log p|^2``.
    error_gauge_share : ``E_p |r|^2 / E_p |s - grad log p|^2``, the harmless share of the error.
    marginal_defect : ``|div(p (s - grad log p))| / |div(p grad log p)|`` on the grid: 0 means
        the learned field samples the exact marginals (it differs from the score by a gauge
        field); of order ``sqrt(score_error)`` otherwise.
    decomposition_residual : ``|div(p r)| / |div(p s)|`` reached by the decomposition.
    orthogonality_error : ``|E|s|^2 - E|grad phi|^2 - E|r|^2| / E|s|^2`` of the grid
        decomposition, ``O(h^2)``. Together with the decomposition's ``quadrature_gap`` (face
        vs cell-centre quadrature of ``E|s|^2``, ``info`` of each decomposition) it is a
        resolution check: on the 8-Gaussian circle with 64^2 cells on [-4, 4]^2 and a gauge
        part 0.5 J grad log p, orthogonality 2.4e-3 / 6.0e-4 and gap 5.4e-3 / 0.078 at
        t = 0.1 / 0.05 (components of standard deviation 0.34 / 0.2 = 2.7 / 1.6 cells). When
        either is above 0.05 the row is not trustworthy and a ``RuntimeWarning`` says so.
    decompositions : the :class:`~sciflow.gauge.decompose.Decomposition` per time.
    """

    times: np.ndarray
    sigma: np.ndarray
    gauge_fraction: np.ndarray
    gauge_fraction_samples: np.ndarray
    asymmetry_mean: np.ndarray
    asymmetry_global: np.ndarray
    score_error: np.ndarray
    error_gauge_share: np.ndarray
    marginal_defect: np.ndarray
    decomposition_residual: np.ndarray
    orthogonality_error: np.ndarray
    decompositions: tuple = field(default=(), repr=False)

    def __post_init__(self):
        times = check_array("times", self.times, ndim=1, min_size=1)
        for name in self.COLUMNS[1:]:
            col = check_array(name, getattr(self, name), ndim=1, finite=False)
            if col.shape != times.shape:
                raise ValueError(f"{name} must have one entry per time ({times.size}), got "
                                 f"shape {col.shape}")
        if not isinstance(self.decompositions, tuple):
            raise TypeError(f"decompositions must be a tuple, got "
                            f"{type(self.decompositions).__name__}")

    COLUMNS = ("t", "sigma", "gauge_fraction", "gauge_fraction_samples", "asymmetry_mean",
               "asymmetry_global", "score_error", "error_gauge_share", "marginal_defect",
               "decomposition_residual", "orthogonality_error")

    def rows(self):
        """One dict per time (the columns of :attr:`COLUMNS`)."""
        out = []
        for i, t in enumerate(self.times):
            row = {"t": float(t)}
            for c in self.COLUMNS[1:]:
                row[c] = float(getattr(self, c)[i])
            out.append(row)
        return out

    def to_dataframe(self):
        """A pandas DataFrame, one row per time (pandas imported lazily)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_xarray(self):
        """An xarray Dataset over ``t`` (the times): ``sigma`` and every column of
        :attr:`COLUMNS` (the decompositions are left out; each has its own ``to_xarray``).
        xarray is imported lazily."""
        return xarray().Dataset(
            {name: ("t", np.asarray(getattr(self, name), dtype=float))
             for name in self.COLUMNS[1:]},
            coords={"t": ("t", np.asarray(self.times, dtype=float),
                          {"long_name": "diffusion time"})})

    def __str__(self):
        head = ("      t   sigma  gauge_frac  (samples)  asym_mean  asym_glob  score_err  "
                "err_gauge  marg_defect   orth_err")
        lines = [head]
        for row in self.rows():
            lines.append(f"{row['t']:7.3f} {row['sigma']:7.3f} {row['gauge_fraction']:11.2e} "
                         f"{row['gauge_fraction_samples']:10.2e} {row['asymmetry_mean']:10.2e} "
                         f"{row['asymmetry_global']:10.2e} {row['score_error']:10.2e} "
                         f"{row['error_gauge_share']:10.2e} {row['marginal_defect']:12.2e} "
                         f"{row['orthogonality_error']:10.1e}")
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Gauge fraction, asymmetry, score error and marginal defect against sigma (log-log;
        non-positive values left out); ``kwargs`` go to ``Axes.loglog``. Returns the Axes."""
        ax = new_axes(ax)
        sigma = np.asarray(self.sigma)
        for name, style in (("gauge_fraction", "o-"), ("asymmetry_global", "s-"),
                            ("score_error", "^-"), ("marginal_defect", "v-")):
            vals = np.asarray(getattr(self, name))
            ok = vals > 0
            ax.loglog(sigma[ok], vals[ok], style, label=name, **kwargs)
        ax.set(xlabel="sigma(t)", ylabel="value", title="learned score field")
        ax.legend(fontsize="small")
        return ax


def learned_field_report(model, density, grid, times, *, schedule=None, score=None,
                         data=None, n_samples=2000, sample_kwargs=None, decompose_kwargs=None,
                         rng=None, progress=False):
    """Conservativity and gauge diagnostics of a learned score field at several times.

    Parameters
    ----------
    model
        A sampler model with ``predict(x, t, kind="score")`` (e.g.
        :class:`~sciflow.sampling.nn.MLPModel`); torch-backed models are differentiated by
        autograd, others by central differences.
    density : GaussianMixture or callable
        ``p_t``: a :class:`~sciflow.sampling.GaussianMixture` (exact noised density and score
        under ``schedule``; for data without a closed form use :func:`kde_mixture`), or a
        callable ``density(x, t)`` returning ``p_t`` at points ``(n, d)``; then ``score(x, t)``
        gives ``grad log p_t`` (default: ``np.gradient`` of ``log p_t`` on the grid).
    grid : tuple of 1-D arrays, or callable ``t -> grid``
        Equally spaced cell centres (``d`` axes, 1 to 3) on which ``p_t`` is negligible at the
        edges.
    times : sequence of float
        Times of ``schedule`` (``sigma(t) > 0``).
    schedule : Schedule, optional
        Default ``model.schedule``.
    data : array (n, d), optional
        Data points for the sample-based decomposition (noised at each ``t``); default: draw
        ``n_samples`` from a mixture ``density``. ``n_samples=0`` skips it.
    sample_kwargs : dict, optional
        Passed to :func:`~sciflow.gauge.decompose.decompose_samples` (default ``degree=8``).
        A polynomial basis resolves ``grad phi`` of a multi-modal ``p_t`` only at larger
        ``sigma``: on the 8-Gaussian circle with ``r = 0.5 J grad log p`` (exact gauge
        fraction 0.2) degree 8 gave 0.41 at ``t = 0.1``, 0.22 at 0.2 and 0.196 at 0.4; the
        grid value is the reference.
    decompose_kwargs : dict, optional
        Passed to :func:`~sciflow.gauge.decompose.decompose` (default ``method="direct",
        density_floor=1e-12``: the sparse direct solve is robust to the density's dynamic
        range and fast on 2-D grids; use ``method="amg"`` for large 3-D grids).
    rng : Generator or seed
        For the samples.
    progress : bool
        A progress bar over the times.

    Returns
    -------
    LearnedFieldReport
    """
    from ..sampling import GaussianMixture
    from .decompose import decompose, decompose_samples

    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(x, t, kind) method, got "
                        f"{type(model).__name__}")
    schedule = getattr(model, "schedule", None) if schedule is None else schedule
    from ..sampling.schedules import Schedule

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a VPSchedule, EDMSchedule or FlowSchedule (or the "
                        f"model's), got {type(schedule).__name__}")
    is_mixture = isinstance(density, GaussianMixture)
    if not is_mixture and not callable(density):
        raise TypeError(f"density must be a GaussianMixture or a callable density(x, t), got "
                        f"{type(density).__name__}")
    if score is not None and (is_mixture or not callable(score)):
        raise ValueError("score is only for a callable density (a mixture has its own score)")
    ts = check_array("times", times, ndim=1, min_size=1)
    schedule.check_t("times", ts)
    if np.any(np.asarray(schedule.sigma(ts)) <= 0):
        raise ValueError("times must have sigma(t) > 0 (the score is undefined at sigma = 0)")
    n_samples = check_int("n_samples", n_samples, low=0)
    if sample_kwargs is None:
        sample_kwargs = {"degree": 8}
    elif not isinstance(sample_kwargs, dict):
        raise TypeError(f"sample_kwargs must be a dict, got {type(sample_kwargs).__name__}")
    if decompose_kwargs is None:
        decompose_kwargs = {"method": "direct", "density_floor": 1e-12}
    elif not isinstance(decompose_kwargs, dict):
        raise TypeError(f"decompose_kwargs must be a dict, got {type(decompose_kwargs).__name__}")
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    rng = as_rng(rng)
    if data is not None:
        data = check_array("data", data, ndim=2, min_size=2)
    elif is_mixture and n_samples > 0:
        data = density.sample(n_samples, rng)
    torch_model = _is_torch_field(model)
    cols = {c: [] for c in LearnedFieldReport.COLUMNS[1:]}
    decs = []
    it = list(ts)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="learned field", leave=False)
    for t in it:
        t = float(t)
        axes = grid(t) if callable(grid) else grid
        axes, h = _check_grid_axes(axes)
        shape = tuple(a.size for a in axes)
        d = len(axes)
        pts = _grid_points(axes)
        if is_mixture:
            if density.dim != d:
                raise ValueError(f"grid has {d} axes but the mixture has dimension "
                                 f"{density.dim}")
            p, s_true = _mixture_eval(density, pts, t, schedule)
        else:
            p = np.asarray(density(pts, t), dtype=float).reshape(-1)
            if p.shape != (pts.shape[0],) or not np.all(np.isfinite(p)) or np.any(p < 0):
                raise ValueError("density(x, t) must return finite values >= 0, one per point")
            if score is not None:
                s_true = _eval_numpy(lambda x, _t=t: score(x, _t), pts, "score")
            else:
                logp = np.log(np.maximum(p, 1e-300)).reshape(shape)
                g = np.gradient(logp, *h, edge_order=2)
                g = [g] if d == 1 else g
                s_true = np.stack([gk.ravel() for gk in g], axis=1)
        if torch_model:
            s_model, jac = _jacobian_torch(lambda x, _t=t: model.predict(x, _t, kind="score"),
                                           pts, "model.predict")
        else:
            s_model, jac = _jacobian_numpy(lambda x, _t=t: model.predict(x, _t, kind="score"),
                                           pts, DEFAULT_STEP, "model.predict")
        w = p / p.sum()
        anti = jac - np.swapaxes(jac, 1, 2)
        a2, j2 = np.sum(anti**2, axis=(1, 2)), np.sum(jac**2, axis=(1, 2))
        ratio = np.where(j2 > 0, np.sqrt(a2 / np.where(j2 > 0, j2, 1.0)), 0.0)
        cols["asymmetry_mean"].append(float(np.sum(w * ratio)))
        cols["asymmetry_global"].append(math.sqrt(float(np.sum(w * a2)) / float(np.sum(w * j2)))
                                        if np.sum(w * j2) > 0 else 0.0)
        s_grid = s_model.T.reshape(d, *shape)
        e = s_model - s_true
        dec = decompose(s_grid, p.reshape(shape), axes, **decompose_kwargs)
        decs.append(dec)
        e_dec = dec.energy()
        cols["gauge_fraction"].append(float(e_dec.r / e_dec.field) if e_dec.field > 0 else 0.0)
        err2 = float(np.sum(w * np.sum(e * e, axis=1)))
        true2 = float(np.sum(w * np.sum(s_true * s_true, axis=1)))
        cols["score_error"].append(err2 / true2 if true2 > 0 else float("nan"))
        cols["error_gauge_share"].append(e_dec.r / err2 if err2 > 0 else float("nan"))
        defect = gauge_defect(e.T.reshape(d, *shape), density=p.reshape(shape), grid=axes,
                              reference=s_true.T.reshape(d, *shape))
        cols["marginal_defect"].append(defect.relative_to_reference)
        cols["decomposition_residual"].append(float(dec.residual_norm))
        orth = float(e_dec.orthogonality_error)
        cols["orthogonality_error"].append(orth)
        gap = float(dec.info.get("quadrature_gap", 0.0))
        if not max(orth, gap) <= ORTHOGONALITY_WARN:
            warnings.warn(f"learned_field_report: at t={t:g} the grid does not resolve p_t "
                          f"(energy orthogonality error {orth:.2g}, face/cell quadrature gap "
                          f"{gap:.2g}; limit {ORTHOGONALITY_WARN}); refine the grid or narrow "
                          f"it around the data", RuntimeWarning, stacklevel=2)
        if data is not None and n_samples > 0:
            a, sg = float(schedule.alpha(t)), float(schedule.sigma(t))
            xs = a * data + sg * rng.standard_normal(data.shape)
            sdec = decompose_samples(
                np.asarray(model.predict(xs, t, kind="score"), dtype=float), xs,
                **sample_kwargs)
            cols["gauge_fraction_samples"].append(gauge_fraction(sdec))
        else:
            cols["gauge_fraction_samples"].append(float("nan"))
        cols["sigma"].append(float(schedule.sigma(t)))
    arrays = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
    for v in arrays.values():
        v.setflags(write=False)
    tt = ts.copy()
    tt.setflags(write=False)
    return LearnedFieldReport(times=tt, decompositions=tuple(decs), **arrays)
