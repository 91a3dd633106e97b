"""Problem definition for 1-D slab transport: materials, regions and the slab.

Units: lengths in cm, macroscopic cross sections in 1/cm, sources in particles/(cm^3 s)
(any consistent set works). Scattering is expanded in Legendre polynomials:
``sigma_s(mu0; g' -> g) = sum_l (2l+1)/2 sigma_s[l, g, g'] P_l(mu0)`` so that ``sigma_s[0]``
is the total scattering cross section from g' to g.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_choice, check_int, check_positive

__all__ = ["Material", "Region", "Slab"]


def _nonneg_array(name, value, shape=None):
    """A finite float array from a number or array of numbers (sign checked by the caller)."""
    if value is None or isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        raw = np.asarray(value)
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if raw.dtype == bool or raw.dtype.kind in "USc":
        raise TypeError(f"{name} must be a number or an array of real numbers, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def _per_group(name, value, G):
    """A number or an array (G,) as a float array (G,), with a message naming ``name``."""
    arr = np.atleast_1d(_nonneg_array(name, value))
    if arr.shape not in ((1,), (G,)):
        raise ValueError(f"{name} must be a number or an array of shape ({G},) (one value per "
                         f"group), got shape {arr.shape}")
    return np.broadcast_to(arr, (G,)).copy()


def _check_str_choice(name, value, choices):
    """One of a fixed set of strings: TypeError for a non-string, ValueError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(choices)!r}, got "
                        f"{type(value).__name__} {value!r}")
    return check_choice(name, value, set(choices))


@dataclass(frozen=True)
class Material:
    """Macroscopic cross sections of one material.

    Parameters
    ----------
    sigma_t : float or array (G,)
        Total cross section (1/cm), >= 0 (0 is a void).
    sigma_s : float, array (L+1,) [one group], or array (L+1, G, G)
        Legendre moments of scattering; ``sigma_s[l, g, g']`` scatters from g' into g.
        A float (one group) or an array (G, G) means isotropic scattering.
    nu_sigma_f : float or array (G,)
        Fission production cross section (1/cm), >= 0.
    chi : array (G,), optional
        Fission spectrum (sums to 1); default: all in group 0 (one group: 1).
    """

    # float or array-like on input; float ndarrays after ``__post_init__``
    sigma_t: Any
    sigma_s: Any = 0.0
    nu_sigma_f: Any = 0.0
    chi: Any = None
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__}")
        st = np.atleast_1d(_nonneg_array("sigma_t", self.sigma_t))
        if st.ndim != 1:
            raise ValueError(f"sigma_t must be a float or a 1-D array (G,), got shape {st.shape}")
        if st.size == 0:
            raise ValueError("sigma_t must not be empty: give a float (one group) or an array "
                             "(G,) with G >= 1")
        G = st.size
        if np.any(st < 0):
            raise ValueError(f"sigma_t must be >= 0, got {st}")
        ss = _nonneg_array("sigma_s", self.sigma_s)
        if G == 1 and ss.ndim <= 1:
            ss = ss.reshape(-1, 1, 1)
        elif ss.ndim == 2:
            ss = ss[None]
        if ss.ndim != 3 or ss.shape[1:] != (G, G):
            raise ValueError(f"sigma_s must have shape (L+1, {G}, {G}), got {ss.shape}")
        if np.any(ss[0] < 0):
            raise ValueError("sigma_s[0] (total scattering) must be >= 0")
        nsf = _per_group("nu_sigma_f", self.nu_sigma_f, G)
        if np.any(nsf < 0):
            raise ValueError(f"nu_sigma_f must be >= 0, got {nsf}")
        if self.chi is None:
            chi = np.zeros(G)
            chi[0] = 1.0
        else:
            chi = np.atleast_1d(_nonneg_array("chi", self.chi, None))
            if chi.shape != (G,) or np.any(chi < 0) or abs(chi.sum() - 1.0) > 1e-10:
                raise ValueError(f"chi must be a non-negative array ({G},) summing to 1, got {chi}")
        for l in range(1, ss.shape[0]):
            if np.any(np.abs(ss[l]) > ss[0] * (1 + 1e-12) + 1e-300):
                raise ValueError(f"|sigma_s[{l}]| must not exceed sigma_s[0] (a scattering "
                                 "kernel with |mean cosine| <= 1)")
        object.__setattr__(self, "sigma_t", st)
        object.__setattr__(self, "sigma_s", ss)
        object.__setattr__(self, "nu_sigma_f", nsf)
        object.__setattr__(self, "chi", chi)

    @property
    def n_groups(self) -> int:
        return self.sigma_t.size

    @property
    def legendre_order(self) -> int:
        return self.sigma_s.shape[0] - 1

    @property
    def sigma_s_out(self) -> np.ndarray:
        """Total scattering out of each group, sum_g sigma_s[0, g, g'] (G,)."""
        return self.sigma_s[0].sum(axis=0)

    @property
    def scattering_ratio(self) -> np.ndarray:
        """c = sigma_s,out / sigma_t per group (inf where sigma_t = 0 and scattering > 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sigma_t > 0, self.sigma_s_out / np.maximum(self.sigma_t, 1e-300),
                            np.where(self.sigma_s_out > 0, np.inf, 0.0))

    @property
    def fissile(self) -> bool:
        return bool(np.any(self.nu_sigma_f > 0))


@dataclass(frozen=True)
class Region:
    """A homogeneous region: ``material`` over ``width`` cm in ``cells`` equal cells, with an
    isotropic fixed ``source`` (float, or (G,) per group; particles/(cm^3 s))."""

    material: Material
    width: float
    source: Any = 0.0  # float or (G,) on input; float ndarray (G,) after __post_init__
    cells: int = 10

    def __post_init__(self):
        if not isinstance(self.material, Material):
            raise TypeError(f"material must be a Material, got {type(self.material).__name__}")
        object.__setattr__(self, "width", check_positive("width", self.width))
        object.__setattr__(self, "cells", check_int("cells", self.cells, low=1))
        src = _per_group("source", self.source, self.material.n_groups)
        if np.any(src < 0):
            raise ValueError(f"source must be >= 0, got {src}")
        object.__setattr__(self, "source", src)


_BOUNDARIES = {"vacuum", "reflective"}


@dataclass(frozen=True)
class Slab:
    """A 1-D slab of regions, left to right.

    Parameters
    ----------
    regions : sequence of Region
    left, right : {"vacuum", "reflective"}
    incident : dict, optional
        Incoming angular flux on a vacuum side: ``{"left": f, "right": f}`` with ``f`` a float
        (isotropic, per group if an array (G,)) or a callable ``f(mu) -> array`` giving the
        incoming angular flux at the quadrature directions (|mu|, shape (n,) or (G, n)).
        Numbers and arrays are checked on construction (finite, >= 0); a callable's values
        when the slab is solved.
    """

    regions: Sequence[Region]
    left: str = "vacuum"
    right: str = "vacuum"
    incident: dict | None = None
    _arrays: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.regions, Region | str | bytes | Mapping):
            raise TypeError(f"regions must be a sequence (list or tuple) of Region, got "
                            f"{type(self.regions).__name__}")
        try:
            regions = tuple(self.regions)
        except TypeError:
            raise TypeError(f"regions must be a sequence (list or tuple) of Region, got "
                            f"{type(self.regions).__name__}") from None
        if not regions:
            raise ValueError("regions must not be empty: a slab needs at least one Region")
        for i, r in enumerate(regions):
            if not isinstance(r, Region):
                raise TypeError(f"regions[{i}] must be a Region, got {type(r).__name__}")
        G = regions[0].material.n_groups
        for i, r in enumerate(regions):
            if r.material.n_groups != G:
                raise ValueError(f"all materials must have the same number of groups: "
                                 f"regions[0] has {G}, regions[{i}] has {r.material.n_groups}")
        object.__setattr__(self, "regions", regions)
        _check_str_choice("left", self.left, _BOUNDARIES)
        _check_str_choice("right", self.right, _BOUNDARIES)
        object.__setattr__(self, "incident", self._check_incident(self.incident, G))

    def _check_incident(self, incident, G):
        """{side: f}, sides 'left'/'right' on vacuum boundaries, each number or array f
        finite and >= 0 (shapes other than () and (G,) are checked against the directions
        when the slab is solved, by ``incident_flux``)."""
        if incident is None:
            return {}
        if not isinstance(incident, Mapping):
            if isinstance(incident, numbers.Real):
                raise ValueError(
                    f"incident must be a dict {{'left': f, 'right': f}} naming the side(s) lit, "
                    f"got the bare value {incident!r}"
                    + ("" if np.isfinite(incident) else " (and an incoming flux must be finite)"))
            raise TypeError(f"incident must be a dict {{'left': f, 'right': f}} or None, got "
                            f"{type(incident).__name__}")
        inc = dict(incident)
        for side, f in inc.items():
            if not isinstance(side, str):
                raise TypeError(f"incident side must be 'left' or 'right', got {side!r}")
            check_choice("incident side", side, {"left", "right"})
            if getattr(self, side) != "vacuum":
                raise ValueError(f"incident flux on the {side} needs {side}='vacuum'")
            if callable(f):
                continue
            name = f"incident[{side!r}]"
            if not isinstance(f, numbers.Real | np.ndarray | list | tuple) or isinstance(f, bool):
                raise TypeError(f"{name} must be a float, an array or a callable, got "
                                f"{type(f).__name__}")
            arr = _nonneg_array(name, f)
            if np.any(arr < 0):
                raise ValueError(f"{name} must be >= 0 (an incoming flux), got {f!r}")
            if arr.ndim > 2:
                raise ValueError(f"{name} must be a float or an array ({G},) per group, got "
                                 f"shape {arr.shape}")
        return inc

    # -- discretisation ---------------------------------------------------------------------
    @property
    def n_groups(self) -> int:
        return self.regions[0].material.n_groups

    @property
    def materials(self) -> list[Material]:
        """The distinct materials (by identity), in order of first appearance."""
        return list({id(r.material): r.material for r in self.regions}.values())

    @property
    def legendre_order(self) -> int:
        return max(m.legendre_order for m in self.materials)

    @property
    def widths(self) -> np.ndarray:
        """Cell widths h_i (cm)."""
        return np.concatenate([np.full(r.cells, r.width / r.cells) for r in self.regions])

    @property
    def x_edges(self) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(self.widths)))

    @property
    def x_centres(self) -> np.ndarray:
        e = self.x_edges
        return 0.5 * (e[1:] + e[:-1])

    @property
    def n_cells(self) -> int:
        return sum(r.cells for r in self.regions)

    def cell_data(self) -> dict:
        """Per-cell arrays: sigma_t (G, N), sigma_s (L+1, G, G, N), nu_sigma_f (G, N),
        chi (G, N), source (G, N), material index (N,)."""
        if self._arrays:
            return self._arrays
        mats = self.materials
        L = self.legendre_order
        G = self.n_groups
        index = {id(m): i for i, m in enumerate(mats)}
        idx = np.concatenate([np.full(r.cells, index[id(r.material)]) for r in self.regions])
        ss = np.zeros((len(mats), L + 1, G, G))
        for i, m in enumerate(mats):
            ss[i, : m.legendre_order + 1] = m.sigma_s
        data = {
            "material": idx,
            "sigma_t": np.array([m.sigma_t for m in mats])[idx].T.copy(),
            "sigma_s": np.moveaxis(ss[idx], 0, -1).copy(),
            "nu_sigma_f": np.array([m.nu_sigma_f for m in mats])[idx].T.copy(),
            "chi": np.array([m.chi for m in mats])[idx].T.copy(),
            "source": np.concatenate([np.repeat(r.source[:, None], r.cells, axis=1)
                                      for r in self.regions], axis=1),
        }
        self._arrays.update(data)
        return data

    def incident_flux(self, side: str, mu_abs: np.ndarray) -> np.ndarray:
        """Incoming angular flux (G, n) at directions |mu| on ``side`` (zeros if none)."""
        G = self.n_groups
        f = (self.incident or {}).get(side)
        if f is None:
            return np.zeros((G, mu_abs.size))
        val = f(mu_abs) if callable(f) else np.asarray(f, dtype=float)
        try:
            val = np.asarray(val, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"incident[{side!r}] must give an array of numbers, got "
                            f"{type(val).__name__}") from None
        if val.ndim == 0 or (val.ndim == 1 and val.size == G and not callable(f)):
            val = np.broadcast_to(np.atleast_1d(val)[:, None], (G, mu_abs.size))
        try:
            val = np.broadcast_to(val, (G, mu_abs.size)).astype(float)
        except ValueError:
            raise ValueError(f"incident[{side!r}] must give the incoming flux at the "
                             f"{mu_abs.size} directions, shape ({mu_abs.size},) or "
                             f"({G}, {mu_abs.size}); got shape {val.shape}") from None
        if not np.all(np.isfinite(val)) or np.any(val < 0):
            raise ValueError(f"incident[{side!r}]: the incident flux on the {side} must be "
                             "finite and >= 0")
        return val
