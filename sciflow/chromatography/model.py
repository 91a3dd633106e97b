"""Gas-chromatography column model: column, analytes, carrier-gas flow and moments.

The model (Cabrera-Codony, Valverde, Born, Noreldin & Myers 2024, hereafter CC24) for each
analyte in the carrier gas along a capillary column of length L, in conservative form::

    c_t + (u c)_x = D c_xx - alpha q_t,        q_t = k_a c - k_d q,

with phase ratio ``alpha = 2 delta / R`` (film thickness delta, column radius R), a rectangular
injection of length t_inj through the flux (Danckwerts) inlet condition
``u c - D c_x = u c_in(t)`` at x = 0, ``c_x = 0`` at x = L and an empty column at t = 0.

Velocity is either constant (``u = u_in``) or follows the compressible carrier gas: Poiseuille
flow of an ideal gas gives ``p(x) = p_in sqrt(1 - (1 - P^2) x / L)`` with ``P = p_out / p_in``
and ``u p`` constant along the column. The mass balance is written for the molar flux ``u c``
so that the amount injected, ``u_in c0 t_inj`` per unit area, leaves the outlet; the outlet
concentration is therefore diluted by the gas expansion ``u_in / u_out = P`` relative to the
constant-velocity case. With D = 0 and any velocity profile, the outlet flux obeys the
transfer function (CC24 eq. for the diffusion-free limit; Thomas 1944)::

    G(s) = exp(-s t_M - A + A k_d / (s + k_d)),    A = alpha k_a t_M,

with ``t_M = int_0^L dx / u`` the gas hold-up time.

References
----------
A. Cabrera-Codony, A. Valverde, K. Born, O. A. I. Noreldin, T. G. Myers, "Mathematical modelling
of flow and adsorption in a gas chromatograph", arXiv:2501.00001 (2024).
H. C. Thomas, "Heterogeneous ion exchange in a flowing system", JACS 66, 1664 (1944).
A. T. James, A. J. P. Martin, Biochem. J. 50, 679 (1952) (compressibility correction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import (
    check_array,
    check_axes,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)

__all__ = ["Column", "Analyte", "Chromatogram", "moments", "Moments"]


def _check_compressible(compressible) -> bool:
    """``compressible`` as a bool: a Python or NumPy bool only (anything else, e.g. the string
    ``"no"``, would otherwise be read as True). The one check every public path uses."""
    if not isinstance(compressible, bool | np.bool_):
        raise TypeError(f"compressible must be a bool (True or False), got "
                        f"{type(compressible).__name__} {compressible!r}")
    return bool(compressible)


def _check_column(column, name="column"):
    if not isinstance(column, Column):
        raise TypeError(f"{name} must be a Column, got {type(column).__name__}")
    return column


def _check_analyte(analyte, name="analyte"):
    if not isinstance(analyte, Analyte):
        raise TypeError(f"{name} must be an Analyte, got {type(analyte).__name__}")
    return analyte


@dataclass(frozen=True)
class Column:
    """A capillary column and its operating conditions (SI units).

    Parameters
    ----------
    length : float
        Column length L (m).
    radius : float
        Inner radius R (m).
    film_thickness : float
        Stationary-phase film thickness delta (m), ``0 < delta < R``.
    temperature : float
        Column temperature T (K), isothermal. Recorded with the column (the rate constants
        and the viscosity belong to it); the model itself takes the viscosity as given.
    inlet_pressure, outlet_pressure : float
        Absolute pressures p_in >= p_out > 0 (Pa).
    viscosity : float
        Carrier-gas dynamic viscosity mu (Pa s).
    inlet_velocity : float, optional
        Mean gas velocity at the inlet u_in (m/s). ``None``: from Poiseuille flow of an ideal
        gas, ``u_in = R^2 p_in (1 - P^2) / (16 mu L)``.
    dispersion : float
        Axial dispersion coefficient D (m^2/s), constant along the column; 0 by default
        (the diffusion-free model of CC24, which they show to be accurate for GC).
    """

    length: float
    radius: float
    film_thickness: float
    temperature: float
    inlet_pressure: float
    outlet_pressure: float
    viscosity: float
    inlet_velocity: float | None = None
    dispersion: float = 0.0

    def __post_init__(self):
        for name in ("length", "radius", "film_thickness", "temperature", "inlet_pressure",
                     "outlet_pressure", "viscosity"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        object.__setattr__(self, "dispersion", check_nonnegative("dispersion", self.dispersion))
        if self.film_thickness >= self.radius:
            raise ValueError(
                f"film_thickness must be smaller than radius ({self.radius} m), "
                f"got {self.film_thickness} m"
            )
        if self.outlet_pressure > self.inlet_pressure:
            raise ValueError(
                f"outlet_pressure ({self.outlet_pressure} Pa) must not exceed inlet_pressure "
                f"({self.inlet_pressure} Pa): the carrier gas flows from inlet to outlet"
            )
        if self.inlet_velocity is not None:
            object.__setattr__(self, "inlet_velocity",
                               check_positive("inlet_velocity", self.inlet_velocity))
        elif self.inlet_pressure == self.outlet_pressure:
            raise ValueError(
                "inlet_velocity is required when inlet_pressure == outlet_pressure "
                "(no pressure drop, so Poiseuille flow gives no velocity)"
            )

    # -- geometry ---------------------------------------------------------------------------
    @property
    def phase_ratio(self) -> float:
        """alpha = 2 delta / R: stationary-phase volume per gas volume (thin film)."""
        return 2.0 * self.film_thickness / self.radius

    @property
    def pressure_ratio(self) -> float:
        """P = p_out / p_in (<= 1)."""
        return self.outlet_pressure / self.inlet_pressure

    @property
    def constant_velocity(self) -> bool:
        """True when there is no pressure drop, so the gas velocity is the same everywhere."""
        return self.inlet_pressure == self.outlet_pressure

    # -- flow -------------------------------------------------------------------------------
    @property
    def u_in(self) -> float:
        """Inlet mean velocity (m/s): given, or from Poiseuille flow of an ideal gas."""
        if self.inlet_velocity is not None:
            return self.inlet_velocity
        P = self.pressure_ratio
        return (self.radius**2 * self.inlet_pressure * (1.0 - P * P)
                / (16.0 * self.viscosity * self.length))

    def u_out(self, compressible: bool = True) -> float:
        """Outlet velocity (m/s): ``u_in p_in / p_out`` for compressible flow."""
        compressible = _check_compressible(compressible)
        return self.u_in / self.pressure_ratio if compressible else self.u_in

    def _position(self, x) -> np.ndarray:
        """``x`` as a finite float array inside the column, [0, L] (m)."""
        x = check_array("x", x)
        L = self.length
        if x.size and (x.min() < 0.0 or x.max() > L):
            bad = x[(x < 0.0) | (x > L)].flat[0]
            raise ValueError(f"x must lie in [0, L] = [0, {L}] m (inside the column), got {bad}")
        return x

    def pressure(self, x) -> np.ndarray:
        """p(x) = p_in sqrt(1 - (1 - P^2) x / L) (Pa), Poiseuille flow of an ideal gas;
        ``x`` in [0, L]."""
        x = self._position(x)
        P = self.pressure_ratio
        return self.inlet_pressure * np.sqrt(1.0 - (1.0 - P * P) * x / self.length)

    def velocity(self, x, compressible: bool = True) -> np.ndarray:
        """u(x) = u_in p_in / p(x) (compressible) or u_in (m/s); ``x`` in [0, L]."""
        compressible = _check_compressible(compressible)
        x = self._position(x)
        if not compressible:
            return np.full_like(x, self.u_in)
        return self.u_in * self.inlet_pressure / self.pressure(x)

    def holdup_time(self, compressible: bool = True) -> float:
        """Gas hold-up time t_M = int_0^L dx/u (s).

        Compressible: ``t_M = (L/u_in) (2/3) (1 - P^3) / (1 - P^2)``; constant: ``L/u_in``.
        """
        compressible = _check_compressible(compressible)
        t0 = self.length / self.u_in
        if not compressible or self.constant_velocity:
            return t0
        P = self.pressure_ratio
        # (1 - P^3)/(1 - P^2) = (1 + P + P^2)/(1 + P), exact and stable as P -> 1
        return t0 * (2.0 / 3.0) * (1.0 + P + P * P) / (1.0 + P)

    def replace(self, **changes) -> Column:
        """A copy with some fields changed (validated again)."""
        from dataclasses import fields, replace

        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"changes: unknown Column field(s) {unknown}; "
                            f"the fields are {sorted(known)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Analyte:
    """One analyte with linear adsorption kinetics ``q_t = k_a c - k_d q``.

    Parameters
    ----------
    name : str
    k_a : float
        Adsorption rate constant (1/s), >= 0 (0: an unretained marker).
    k_d : float
        Desorption rate constant (1/s), > 0.
    """

    name: str
    k_a: float
    k_d: float

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__}")
        object.__setattr__(self, "k_a", check_nonnegative("k_a", self.k_a))
        object.__setattr__(self, "k_d", check_positive("k_d", self.k_d))

    @property
    def K(self) -> float:
        """Henry (distribution) constant K = k_a / k_d (dimensionless)."""
        return self.k_a / self.k_d

    def retention_factor(self, column: Column) -> float:
        """k' = alpha K."""
        _check_column(column)
        return column.phase_ratio * self.K

    def A(self, column: Column, compressible: bool = True) -> float:
        """Number of transfer units A = alpha k_a t_M (mean number of adsorptions)."""
        _check_column(column)
        return column.phase_ratio * self.k_a * column.holdup_time(compressible)


@dataclass(frozen=True)
class Moments:
    """Temporal moments of an outlet peak (s, s^2) and the plate number."""

    holdup_time: float
    retention_factor: float
    retention_time: float
    variance: float
    skewness: float

    def __post_init__(self):
        object.__setattr__(self, "holdup_time", check_positive("holdup_time", self.holdup_time))
        object.__setattr__(self, "retention_factor",
                           check_nonnegative("retention_factor", self.retention_factor))
        object.__setattr__(self, "retention_time",
                           check_positive("retention_time", self.retention_time))
        object.__setattr__(self, "variance", check_nonnegative("variance", self.variance))
        object.__setattr__(self, "skewness", check_real("skewness", self.skewness))

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def plate_number(self) -> float:
        """N = t_R^2 / sigma^2 (inf for a peak of zero width)."""
        return self.retention_time**2 / self.variance if self.variance > 0 else math.inf

    def plot(self, ax=None, *, n_points: int = 401, **kwargs):
        """The Gaussian peak of these moments, ``N(t_R, sigma^2)`` (1/s, unit area) on
        ``t_R +- 5 sigma``, with the hold-up time t_M and t_R marked by vertical lines (a lone
        line at t_R for a peak of zero width); ``kwargs`` go to the peak's line. Returns the
        Axes."""
        from ._surface import new_axes

        n_points = check_int("n_points", n_points, low=3)
        ax = new_axes(ax, figsize=(7, 3))
        if self.variance > 0:
            t = np.linspace(self.retention_time - 5 * self.std, self.retention_time + 5 * self.std,
                            n_points)
            z = (t - self.retention_time) / self.std
            ax.plot(t, np.exp(-0.5 * z * z) / (self.std * math.sqrt(2 * math.pi)), **kwargs)
        ax.axvline(self.holdup_time, color="0.5", ls=":", lw=0.8, label="t_M")
        ax.axvline(self.retention_time, color="k", ls="--", lw=0.8, label="t_R")
        ax.set_xlabel("t (s)")
        ax.set_ylabel("peak density (1/s)")
        ax.legend(fontsize="small")
        return ax

    def to_xarray(self):
        """A scalar xarray Dataset of the moments with units (xarray imported lazily)."""
        from ._surface import xarray

        xr = xarray()
        return xr.Dataset({
            "holdup_time": ((), self.holdup_time, {"units": "s"}),
            "retention_factor": ((), self.retention_factor, {"units": "1"}),
            "retention_time": ((), self.retention_time, {"units": "s"}),
            "variance": ((), self.variance, {"units": "s^2"}),
            "skewness": ((), self.skewness, {"units": "1"}),
            "plate_number": ((), self.plate_number, {"units": "1"})})


def moments(column: Column, analyte: Analyte, *, injection_time: float = 0.0,
            compressible: bool = True) -> Moments:
    """Exact first three moments of the outlet peak (flux-weighted).

    Diffusion-free (D = 0), from the cumulants of ln G(s) with G of the module docstring:
    mean ``t_M (1 + k') + t_inj/2``, variance ``2 A / k_d^2 + t_inj^2 / 12``, third cumulant
    ``6 A / k_d^3``. With constant velocity and D > 0 the Danckwerts (closed-closed) column adds
    the classical dispersion terms of the Peclet number Pe = u L / D to the variance
    (``sigma_D^2 = t_R0^2 (2/Pe - 2 (1 - exp(-Pe)) / Pe^2)`` with t_R0 = t_M (1 + k')); the mean
    is unchanged. For compressible flow with D > 0 these are the D = 0 values: the mean shifts by
    about ``-(D/2)(1/u_in^2 - 1/u_out^2)(1 + k')`` and dispersion adds ``2 D int dx/u^3`` to the
    gas-phase variance; use ``laplace.transfer_moments`` for the exact moments. The skewness
    ignores the third cumulant of dispersion.
    """
    _check_column(column)
    _check_analyte(analyte)
    compressible = _check_compressible(compressible)
    injection_time = check_nonnegative("injection_time", injection_time)
    tM = column.holdup_time(compressible)
    kp = analyte.retention_factor(column)
    A = analyte.A(column, compressible)
    kd = analyte.k_d
    tR0 = tM * (1.0 + kp)
    var = 2.0 * A / kd**2 + injection_time**2 / 12.0
    k3 = 6.0 * A / kd**3
    D = column.dispersion
    if D > 0 and (not compressible or column.constant_velocity):
        Pe = column.u_in * column.length / D
        var += tR0**2 * (2.0 / Pe - 2.0 * (-math.expm1(-Pe)) / Pe**2)
    skew = k3 / var**1.5 if var > 0 else 0.0
    return Moments(tM, kp, tR0 + injection_time / 2.0, var, skew)


_check_axes = check_axes  # one check for every .plot(ax=...)


@dataclass(frozen=True)
class Chromatogram:
    """A simulated chromatogram.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times (s).
    c : ndarray, shape (n_t,)
        Outlet concentration summed over analytes (units of ``c0``).
    components : ndarray, shape (n_analytes, n_t)
        Outlet concentration of each analyte.
    names : tuple of str
    method : str
    info : dict
        Diagnostics of the method (error estimates, grid sizes, wall time).
    """

    t: np.ndarray
    c: np.ndarray
    components: np.ndarray
    names: tuple = ()
    method: str = "exact"
    info: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        t = check_array("t", self.t, ndim=1, min_size=1)
        n = t.size
        c = check_array("c", self.c, ndim=1)
        if c.shape != (n,):
            raise ValueError(f"c must have the shape of t ({n},), got {c.shape}")
        comps = check_array("components", self.components, ndim=2)
        if comps.shape[1] != n or comps.shape[0] < 1:
            raise ValueError(f"components must have shape (n_analytes >= 1, len(t) = {n}), "
                             f"got {comps.shape}")
        names = self.names
        if isinstance(names, str) or not all(isinstance(x, str) for x in names):
            raise TypeError(f"names must be a sequence of strings, got {names!r}")
        names = tuple(names)
        if names and len(names) != comps.shape[0]:
            raise ValueError(f"names must have one entry per component ({comps.shape[0]}), "
                             f"got {len(names)}")
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a string, got {type(self.method).__name__}")
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict, got {type(self.info).__name__}")
        for name, value in (("t", t), ("c", c), ("components", comps), ("names", names)):
            object.__setattr__(self, name, value)

    def plot(self, ax=None, *, components: bool = True, **kwargs):
        """Plot the total signal (and each component) against t (s); ``kwargs`` go to the
        total's line. Returns the matplotlib Axes."""
        from ._surface import new_axes

        ax = new_axes(ax, figsize=(8, 3.5))
        if components and len(self.components) > 1:
            for name, ci in zip(self.names, self.components, strict=False):
                ax.plot(self.t, ci, lw=0.8, alpha=0.7, label=name)
        ax.plot(self.t, self.c, **{"color": "k", "lw": 1.2, "label": "total", **kwargs})
        ax.set_xlabel("time (s)")
        ax.set_ylabel("outlet concentration")
        ax.legend(fontsize="small")
        return ax

    def to_xarray(self):
        """An xarray Dataset: ``c`` over ``t`` (s) and ``components`` over (``analyte``, ``t``),
        in the units of ``c0``; ``method`` as an attribute (xarray imported lazily)."""
        from ._surface import xarray

        xr = xarray()
        names = list(self.names) or [str(i) for i in range(self.components.shape[0])]
        return xr.Dataset(
            {"c": ("t", self.c, {"units": "unit of c0", "long_name": "outlet concentration"}),
             "components": (("analyte", "t"), self.components,
                            {"units": "unit of c0", "long_name": "outlet concentration"})},
            coords={"t": ("t", self.t, {"units": "s"}), "analyte": names},
            attrs={"method": self.method})

    def to_dataframe(self):
        """A pandas DataFrame with a column per analyte and the total (pandas imported lazily)."""
        import pandas as pd

        data = {"t": self.t, "total": self.c}
        for name, ci in zip(self.names, self.components, strict=False):
            data[name] = ci
        return pd.DataFrame(data)
