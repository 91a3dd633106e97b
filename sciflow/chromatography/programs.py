r"""Temperature- and pressure-programmed GC: programs, carrier-gas flow, retention prediction.

A run is a :class:`ProgrammedColumn`: a capillary (length L, inner diameter d, film thickness
d_f), a carrier gas (:func:`~sciflow.chromatography.thermo.carrier_gas`), an
:class:`OvenProgram` T(t) with an optional thermal gradient T(x, t), and a
:class:`PressureProgram` (p_in(t), p_out(t)) or :class:`FlowProgram` (constant-flow mode).
The carrier gas follows Poiseuille flow of an ideal gas at every instant (quasi-steady: the gas
crosses the column in a minute, the oven changes over many), with the temperature-dependent
viscosity of the gas (see :mod:`._kernels_retention` for the equations).

:func:`retention` predicts, from the solutes' K-centric parameters alone, the retention time
and the peak standard deviation of each solute by integrating along the column (Leppert et al.
2020a, 2020b; Blumberg 2010)::

    dt/dx = r = (1 + k(T(x,t))) / u(x,t),         d tau^2/dx = H r^2 + 2 tau^2 dr/dt,

with the Golay plate height ``H`` of the local gas velocity, pressure and temperature (the
compressibility corrections of Giddings follow from using the local values along the column).

The same physics gives the coefficients of the column model of
:mod:`sciflow.chromatography.model` at every (x, t): ``alpha = 4 d_f / d``,
``K = k / alpha``, a desorption rate from the film mass transfer ``k_d = 3 D_S / d_f^2`` (so that
the kinetic plate height ``2 u k / ((1 + k)^2 k_d)`` equals Golay's film term
``(2/3) d_f^2 k u / ((1 + k)^2 D_S)``), ``k_a = K k_d`` and an axial dispersion ``D`` that
reproduces the two gas-phase Golay terms, ``D = D_M + d^2 (6 mu^2 - 16 mu + 11) u^2 / (192 D_M)``
(``H = 2 D / u``). :meth:`ProgrammedColumn.isothermal_equivalent` returns the isothermal
:class:`~sciflow.chromatography.model.Column` and :class:`~sciflow.chromatography.model.Analyte`
of a constant-temperature, constant-pressure run, so the existing exact solution applies.

References
----------
J. Leppert, L. M. Blumberg, P. Boeker, "Simulation of the temperature and pressure programmed
GC...", J. Chromatogr. A 1620 (2020a); J. Leppert, P. J. Müller, M. D. Chopra, L. M. Blumberg,
P. Boeker, "Simulation of spatial thermal gradient gas chromatography", J. Chromatogr. A 1620,
460985 (2020b).
J. Leppert, GasChromatographySimulator.jl, JOSS 7, 4565 (2022) (the peer implementation).
L. M. Blumberg, *Temperature-Programmed Gas Chromatography*, Wiley-VCH (2010).
M. J. E. Golay, in *Gas Chromatography 1958*, Butterworths (1958); J. C. Giddings,
*Dynamics of Chromatography*, Dekker (1965).
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validate import (
    check_array,
    check_choice,
    check_in_range,
    check_nonnegative,
    check_positive,
    check_real,
)
from . import _kernels_retention as _kr
from .thermo import (
    CARRIER_GASES,
    P_NORMAL,
    T_ZERO_CELSIUS,
    CarrierGas,
    KCentric,
    Solute,
    carrier_gas,
    fuller_diffusivity,
    load_retention_database,
)

__all__ = ["OvenProgram", "ThermalGradient", "PressureProgram", "FlowProgram",
           "ProgrammedColumn", "RetentionTable", "retention", "simulate_programmed",
           "simulate", "SoluteCoefficients", "KCentric", "Solute",
           "load_retention_database", "carrier_gas", "CARRIER_GASES", "fuller_diffusivity",
           "celsius", "ElutionWarning"]


class ElutionWarning(UserWarning):
    """A solute leaves the column only after the end of the oven program."""


def celsius(T_celsius):
    """Convert deg C to K (``T + 273.15``); rejects temperatures below absolute zero."""
    a = check_array("T_celsius", T_celsius)
    if a.size and a.min() <= -T_ZERO_CELSIUS:
        raise ValueError(f"T_celsius must be above absolute zero (-273.15 deg C), got {a.min()}")
    out = a + T_ZERO_CELSIUS
    return out if out.ndim else float(out)


def _times(name, t, *, min_size=1):
    t = check_array(name, t, ndim=1, min_size=min_size)
    if t[0] < 0:
        raise ValueError(f"{name} must start at t >= 0 s, got {t[0]}")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        i = int(np.argmax(np.diff(t) <= 0))
        raise ValueError(f"{name} must be strictly increasing (program times in s); "
                         f"{name}[{i + 1}] = {t[i + 1]} follows {t[i]}")
    return t


def _same_size(name, a, n):
    a = np.atleast_1d(check_array(name, a))
    if a.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {a.shape}")
    if a.size == 1 and n > 1:
        a = np.full(n, a[0])
    if a.size != n:
        raise ValueError(f"{name} must have one value per program time ({n}), got {a.size}")
    return a


@dataclass(frozen=True)
class ThermalGradient:
    """A spatial thermal gradient along the column, one profile per program node.

    ``T(x) - T(x_ref) = g(x) - g(x_ref)`` with ``g = delta_T (1 - exp(a (1 - xi)) + (1 - xi)
    exp(a))`` for ``a <= 0`` and ``g = delta_T (exp(-a xi) - xi exp(-a))`` for ``a > 0``,
    ``xi = (x - x0) / L0`` (Leppert et al. 2020b): ``delta_T`` (K) is the temperature difference
    between x0 and x0 + L0 (a = 0 is linear; a < 0 concave). Arrays have one value per node of
    the :class:`OvenProgram` (or one value for all). ``reference``: the program temperature is
    the one at the column ``"inlet"`` or ``"outlet"``.
    """

    delta_T: object
    alpha: object = 0.0
    x0: object = 0.0
    L0: object | None = None
    reference: str = "outlet"

    def __post_init__(self):
        check_choice("reference", self.reference, ("inlet", "outlet"))
        object.__setattr__(self, "delta_T", check_array("delta_T", self.delta_T, ndim=None))
        object.__setattr__(self, "alpha", check_array("alpha", self.alpha, ndim=None))
        object.__setattr__(self, "x0", check_array("x0", self.x0, ndim=None))
        if self.L0 is not None:
            L0 = check_array("L0", self.L0, ndim=None)
            if L0.size and L0.min() <= 0:
                raise ValueError(f"L0 must be > 0 m, got {L0.min()}")
            object.__setattr__(self, "L0", L0)

    def arrays(self, n, L):
        """(delta_T, alpha, x0, L0) as arrays of length n for a column of length L."""
        L0 = np.full(n, float(L)) if self.L0 is None else _same_size("L0", self.L0, n)
        return (_same_size("delta_T", self.delta_T, n), _same_size("alpha", self.alpha, n),
                _same_size("x0", self.x0, n), L0)


@dataclass(frozen=True)
class OvenProgram:
    """Piecewise-linear oven temperature T(t) (K) through nodes ``(times, temperatures)``.

    Flat before the first and after the last node. Build it from a table (times in s,
    temperatures in K), or with :meth:`from_segments` in the usual GC notation. ``gradient``
    adds a spatial thermal gradient (the program temperature is then the one at its
    ``reference`` end).
    """

    times: np.ndarray  # array_like in; stored as float ndarray
    temperatures: np.ndarray
    gradient: ThermalGradient | None = None

    def __post_init__(self):
        t = _times("times", self.times)
        T = check_array("temperatures", self.temperatures, ndim=1)
        if T.size != t.size:
            raise ValueError(f"temperatures must have one value per time ({t.size}), got "
                             f"{T.size}")
        if T.min() <= 0:
            raise ValueError(f"temperatures must be absolute (K) and > 0 K, got {T.min()} K")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "temperatures", T)
        if self.gradient is not None and not isinstance(self.gradient, ThermalGradient):
            raise TypeError(f"gradient must be a ThermalGradient or None, got "
                            f"{type(self.gradient).__name__}")

    @classmethod
    def isothermal(cls, T):
        """A constant temperature ``T`` (K)."""
        return cls([0.0], [check_positive("T", T)])

    @classmethod
    def from_segments(cls, T_start, segments=(), *, hold=0.0, unit="C"):
        """A program in GC notation: start at ``T_start``, hold ``hold`` s, then for each
        segment ``(rate, T_final, hold)`` ramp at ``rate`` (deg per minute) to ``T_final`` and
        hold ``hold`` s. ``unit``: ``"C"`` (deg C, default) or ``"K"`` for the temperatures.

        Example (program D of Leppert 2020b): ``OvenProgram.from_segments(40, [(5, 180, 60),
        (20, 300, 60)], hold=60)``.
        """
        check_choice("unit", unit, ("C", "K"))
        conv = celsius if unit == "C" else (lambda v: check_positive("T", v))
        T0 = conv(check_real("T_start", T_start))
        times, temps = [0.0], [T0]
        hold = check_nonnegative("hold", hold)
        if hold > 0:
            times.append(hold)
            temps.append(T0)
        for i, seg in enumerate(segments):
            if len(seg) != 3:
                raise ValueError(f"segments[{i}] must be (rate deg/min, T_final, hold s), got "
                                 f"{seg!r}")
            rate = check_positive(f"segments[{i}] rate", seg[0])
            T1 = conv(check_real(f"segments[{i}] T_final", seg[1]))
            h = check_nonnegative(f"segments[{i}] hold", seg[2])
            if T1 == temps[-1]:
                raise ValueError(f"segments[{i}]: T_final equals the current temperature; use "
                                 "hold for an isothermal stage")
            times.append(times[-1] + abs(T1 - temps[-1]) / rate * 60.0)
            temps.append(T1)
            if h > 0:
                times.append(times[-1] + h)
                temps.append(T1)
        return cls(times, temps)

    @property
    def duration(self) -> float:
        """Time of the last node (s)."""
        return float(self.times[-1])

    def __call__(self, t):
        """T(t) (K) at the reference position (flat extrapolation)."""
        t = check_array("t", t)
        out = np.interp(t, self.times, self.temperatures)
        return out if out.ndim else float(out)


@dataclass(frozen=True)
class PressureProgram:
    """Piecewise-linear absolute inlet and outlet pressures (Pa) at ``times`` (s)."""

    times: np.ndarray  # array_like in; stored as float ndarrays
    inlet: np.ndarray
    outlet: np.ndarray

    def __post_init__(self):
        t = _times("times", self.times)
        pin = _same_size("inlet", self.inlet, t.size)
        pout = _same_size("outlet", self.outlet, t.size)
        if pout.min() <= 0:
            raise ValueError(f"outlet pressure must be absolute and > 0 Pa, got {pout.min()}")
        if np.any(pin <= pout):
            i = int(np.argmax(pin <= pout))
            raise ValueError(f"inlet pressure must exceed the outlet pressure at every time; at "
                             f"t = {t[i]} s inlet = {pin[i]} Pa, outlet = {pout[i]} Pa")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "inlet", pin)
        object.__setattr__(self, "outlet", pout)

    @classmethod
    def constant(cls, inlet, outlet=P_NORMAL):
        """Constant absolute pressures (Pa)."""
        return cls([0.0], [check_positive("inlet", inlet)], [check_positive("outlet", outlet)])


@dataclass(frozen=True)
class FlowProgram:
    """Constant- or programmed-flow mode: normal volumetric flow F(t) (m^3/s at ``T_n``,
    ``p_n``) and outlet pressure (Pa); the inlet pressure follows at every instant from
    ``p_in^2 = p_out^2 + 256/pi (p_n/T_n) kappa_L F``."""

    times: np.ndarray  # array_like in; stored as float ndarrays
    flow: np.ndarray
    outlet: np.ndarray = P_NORMAL  # type: ignore[assignment]  # a float default, stored as array
    T_n: float = 298.15
    p_n: float = P_NORMAL

    def __post_init__(self):
        t = _times("times", self.times)
        F = _same_size("flow", self.flow, t.size)
        if F.min() <= 0:
            raise ValueError(f"flow must be > 0 m^3/s, got {F.min()}")
        pout = _same_size("outlet", self.outlet, t.size)
        if pout.min() <= 0:
            raise ValueError(f"outlet pressure must be absolute and > 0 Pa, got {pout.min()}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "flow", F)
        object.__setattr__(self, "outlet", pout)
        object.__setattr__(self, "T_n", check_positive("T_n", self.T_n))
        object.__setattr__(self, "p_n", check_positive("p_n", self.p_n))

    @classmethod
    def constant(cls, flow, outlet=P_NORMAL):
        """Constant normal flow (m^3/s; 1 mL/min = 1.6667e-8 m^3/s)."""
        return cls([0.0], [check_positive("flow", flow)], [check_positive("outlet", outlet)])


@dataclass(frozen=True)
class ProgrammedColumn:
    """A capillary column run with an oven and a pressure (or flow) program.

    Parameters
    ----------
    length, diameter, film_thickness : float
        L, inner diameter d and film thickness d_f (m), ``d_f < d / 4``.
    gas : str or CarrierGas
        ``"He"``, ``"H2"``, ``"N2"`` or ``"Ar"``.
    oven : OvenProgram
    pressure : PressureProgram or FlowProgram
    """

    length: float
    diameter: float
    film_thickness: float
    gas: object
    oven: OvenProgram
    pressure: PressureProgram | FlowProgram

    def __post_init__(self):
        for name in ("length", "diameter", "film_thickness"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        if self.film_thickness >= self.diameter / 4:
            raise ValueError(f"film_thickness must be < diameter / 4 = {self.diameter / 4} m, "
                             f"got {self.film_thickness} m")
        object.__setattr__(self, "gas", carrier_gas(self.gas))
        if not isinstance(self.oven, OvenProgram):
            raise TypeError(f"oven must be an OvenProgram, got {type(self.oven).__name__}")
        if not isinstance(self.pressure, PressureProgram | FlowProgram):
            raise TypeError(f"pressure must be a PressureProgram or FlowProgram, got "
                            f"{type(self.pressure).__name__}")

    # -- packed tables for the kernels -----------------------------------------------------
    @property
    def phi(self) -> float:
        """Dimensionless film thickness d_f / d."""
        return self.film_thickness / self.diameter

    @property
    def phase_ratio(self) -> float:
        """alpha = 4 d_f / d (= 2 delta / R of the column model; beta = 1 / alpha)."""
        return 4.0 * self.phi

    def _tables(self):
        cache = self.__dict__.get("_tables_cache")
        if cache is not None:
            return cache
        o = self.oven
        n = o.times.size
        L = self.length
        if o.gradient is None or not np.any(o.gradient.arrays(n, L)[0]):
            # no gradient, or one of zero amplitude everywhere: the exact closed form of kappa
            g = (np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, L))
            x_ref, grad = 0.0, False
        else:
            g = o.gradient.arrays(n, L)
            x_ref = 0.0 if o.gradient.reference == "inlet" else L
            grad = True
        gas = np.array([self.gas.eta_st, self.gas.xi0, self.gas.xi1])
        pr = self.pressure
        if isinstance(pr, PressureProgram):
            ptab = (pr.times, pr.inlet, pr.outlet, 0, np.array([298.15, P_NORMAL]))
        else:
            ptab = (pr.times, pr.flow, pr.outlet, 1, np.array([pr.T_n, pr.p_n]))
        tabs = (L, self.diameter, o.times, o.temperatures, *[np.ascontiguousarray(a) for a in g],
                x_ref, grad, gas, *ptab)
        object.__setattr__(self, "_tables_cache", tabs)
        # check that the gas keeps flowing and the temperature stays positive on the nodes
        for tn in np.concatenate((o.times, self.pressure.times)):
            for xx in (0.0, 0.5 * L, L):
                T = _kr.temperature(xx, tn, *tabs[2:9], tabs[9])
                if not T > 0:
                    raise ValueError(f"oven: the temperature at x = {xx} m, t = {tn} s is "
                                     f"{T} K (the thermal gradient drives it below 0 K)")
        return tabs

    def _state(self, x, t):
        L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, grad, gas, tp, pin, pout, mode, normal = \
            self._tables()
        return _kr.flow_state(x, t, L, d, tT, T0, gdT, ga, gx0, gL0, x_ref, grad, gas, tp, pin,
                              pout, mode, normal)

    def _grid(self, x, t):
        x = check_array("x", x)
        t = check_array("t", t)
        if x.size and (x.min() < 0 or x.max() > self.length):
            raise ValueError(f"x must lie in [0, L] = [0, {self.length}] m, got "
                             f"{x[(x < 0) | (x > self.length)].flat[0]}")
        x, t = np.broadcast_arrays(x, t)
        out = np.empty((3,) + x.shape)
        for idx in np.ndindex(x.shape):
            out[(slice(None),) + idx] = self._state(float(x[idx]), float(t[idx]))
        return out

    def temperature(self, x, t):
        """T(x, t) (K); ``x`` (m) and ``t`` (s) broadcast."""
        out = self._grid(x, t)[0]
        return out if out.ndim else float(out)

    def pressure_at(self, x, t):
        """p(x, t) (Pa, absolute)."""
        out = self._grid(x, t)[1]
        return out if out.ndim else float(out)

    def velocity(self, x, t):
        """Mean carrier-gas velocity u(x, t) (m/s)."""
        out = self._grid(x, t)[2]
        return out if out.ndim else float(out)

    def holdup_time(self, t=0.0) -> float:
        """Gas hold-up time ``t_M(t) = int_0^L dx / u(x, t)`` (s) with the flow frozen at t
        (64-point Gauss–Legendre rule; exact to rounding for these smooth profiles)."""
        t = check_real("t", t)
        return float(_kr.holdup_time(t, *self._tables()))

    def normal_flow(self, t=0.0, T_n: float = 298.15, p_n: float = P_NORMAL) -> float:
        """Volumetric flow at normal conditions (m^3/s): ``(pi d^2/4) u p T_n / (T p_n)``."""
        T, p, u = self._state(0.0, check_real("t", t))
        return float(math.pi * self.diameter**2 / 4 * u * p / T * T_n / p_n)

    # -- model coefficients ----------------------------------------------------------------
    def retention_factor(self, solute, x, t):
        """k(x, t) of ``solute`` on this column (its film ratio d_f / d)."""
        solute = _check_solute(solute)
        T = self.temperature(x, t)
        return solute.retention.retention_factor(T, self.phi)

    def isothermal_equivalent(self, solute, *, film_diffusivity=None):
        """The isothermal :class:`~.model.Column` and :class:`~.model.Analyte` of a run at
        constant temperature and pressure (no gradient), for the closed-form solvers.

        ``k_d = 3 D_S / d_f^2`` needs a pressure-independent film diffusivity: pass
        ``film_diffusivity`` (m^2/s, a float). Raises if the run is not isothermal/isobaric.
        """
        from .model import Analyte, Column

        solute = _check_solute(solute)
        o, pr = self.oven, self.pressure
        if o.gradient is not None or np.ptp(o.temperatures) != 0:
            raise ValueError("isothermal_equivalent needs a constant oven temperature without "
                             "a thermal gradient")
        if not isinstance(pr, PressureProgram) or np.ptp(pr.inlet) or np.ptp(pr.outlet):
            raise ValueError("isothermal_equivalent needs constant inlet and outlet pressures")
        DS = check_positive("film_diffusivity", film_diffusivity)
        T = float(o.temperatures[0])
        col = Column(length=self.length, radius=self.diameter / 2,
                     film_thickness=self.film_thickness, temperature=T,
                     inlet_pressure=float(pr.inlet[0]), outlet_pressure=float(pr.outlet[0]),
                     viscosity=float(self.gas.viscosity(T)))
        k = float(solute.retention.retention_factor(T, self.phi))
        k_d = 3.0 * DS / self.film_thickness**2
        return col, Analyte(solute.name, k_a=k / self.phase_ratio * k_d, k_d=k_d)

    def fields(self, x, t):
        """(T, p, u) on the grid ``t`` (m,) x ``x`` (n,): arrays of shape (m, n) (K, Pa, m/s)."""
        x = np.atleast_1d(check_array("x", x, ndim=None)).astype(float)
        t = np.atleast_1d(check_array("t", t, ndim=None)).astype(float)
        if x.size and (x.min() < 0 or x.max() > self.length):
            raise ValueError(f"x must lie in [0, L] = [0, {self.length}] m")
        return _kr.fields(np.ascontiguousarray(t), np.ascontiguousarray(x), *self._tables())

    @property
    def breakpoints(self) -> np.ndarray:
        """Program times where the oven or pressure programs have kinks (s)."""
        return np.unique(np.concatenate((self.oven.times, self.pressure.times)))

    def coefficients(self, solute, *, plate_height: str = "golay", film_diffusivity=None):
        """The column-model coefficients of ``solute`` at every (x, t): a coefficient object for
        :func:`~sciflow.chromatography.fd_programmed.outlet_response_programmed`.

        ``u`` from Poiseuille flow; ``k_d = 3 D_S / d_f^2``; ``k_a = k k_d / alpha``
        (``alpha = 4 d_f / d``); ``D = D_M + d^2 (6 mu^2 - 16 mu + 11) u^2 / (192 D_M)``
        (``"golay"``; 0 with ``"film"``), so that the model's plate height equals Golay's.
        """
        return SoluteCoefficients(self, _check_solute(solute),
                                  check_choice("plate_height", plate_height, ("golay", "film")),
                                  None if film_diffusivity is None
                                  else check_positive("film_diffusivity", film_diffusivity))

    def replace(self, **changes) -> ProgrammedColumn:
        """A copy with some fields changed (validated again)."""
        from dataclasses import fields, replace

        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"changes: unknown ProgrammedColumn field(s) {unknown}")
        return replace(self, **changes)


class SoluteCoefficients:
    """Coefficients ``u, D, k_a, k_d`` of one solute on a :class:`ProgrammedColumn` (the
    coefficient protocol of :mod:`.fd_programmed`); see :meth:`ProgrammedColumn.coefficients`."""

    def __init__(self, column, solute, plate_height, film_diffusivity):
        self.column = column
        self.solute = solute
        self.plate_height = plate_height
        self.film_diffusivity = film_diffusivity
        self.alpha = column.phase_ratio
        self.D_ag = solute.diffusivity_constant(column.gas)
        self.breakpoints = tuple(float(b) for b in column.breakpoints[1:])

    def _kd(self, T, p):
        c = self.column
        if self.film_diffusivity is None:
            DS = 1e-4 * self.D_ag * T**1.75 / p
        else:
            DS = np.full(T.shape, self.film_diffusivity)
        return 3.0 * DS / c.film_thickness**2

    def at(self, t, x_faces, x_centres):
        """(u_faces, D_faces, k_a, k_d) at the times ``t``: shapes (m, N+1), (m, N+1), (m, N),
        (m, N)."""
        c = self.column
        kc = self.solute.retention
        Tf, pf, uf = c.fields(x_faces, t)
        Tc, pc, _ = c.fields(x_centres, t)
        kd = self._kd(Tc, pc)
        k = kc.retention_factor(Tc, c.phi)
        ka = k * kd / self.alpha
        if self.plate_height == "film":
            D = np.zeros_like(uf)
        else:
            DM = self.D_ag * Tf**1.75 / pf
            mu = 1.0 / (1.0 + kc.retention_factor(Tf, c.phi))
            D = DM + c.diameter**2 * (6 * mu * mu - 16 * mu + 11) * uf**2 / (192.0 * DM)
        return uf, D, ka, kd

    def transit_time_mesh(self, n_cells):
        """Faces at equal gas transit time with the flow at t = 0 (fine where the gas is slow)."""
        c = self.column
        L = c.length
        xs = np.linspace(0.0, L, 513)
        u = c.fields(xs, [0.0])[2][0]
        tau = np.concatenate(([0.0], np.cumsum(0.5 * (1 / u[1:] + 1 / u[:-1]) * np.diff(xs))))
        xf = np.interp(np.linspace(0.0, tau[-1], int(n_cells) + 1), tau, xs)
        xf[0], xf[-1] = 0.0, L
        return xf


def _check_solute(s):
    if not isinstance(s, Solute):
        raise TypeError(f"solute must be a Solute (see load_retention_database), got "
                        f"{type(s).__name__}")
    return s


def _solute_vector(column, solute, film_diffusivity):
    kc = solute.retention
    if film_diffusivity is None:
        mode, val = 0.0, 1e-4
    else:
        mode, val = 1.0, film_diffusivity
    return np.array([kc.T_char, kc.theta_char, kc.dCp / 8.314462618,
                     math.log(column.phi / kc.phi0), solute.diffusivity_constant(column.gas),
                     mode, val])


@dataclass(frozen=True)
class RetentionTable:
    """Predicted retention of each solute of a programmed run.

    Attributes (arrays in the order of the solutes given)
    ----------
    names : tuple of str
    t_R : ndarray
        Retention time (s), first moment of the outlet peak including the injection time and a
        detector time constant.
    sigma : ndarray
        Peak standard deviation (s), including injection width and detector time constant.
    elution_temperature : ndarray
        Oven temperature at the outlet at t_R (K).
    k_R : ndarray
        Retention factor at the outlet at t_R.
    eluted : ndarray of bool
        False for a solute that leaves only after the end of the oven program (its t_R is then
        an extrapolation at the final temperature).
    n_steps : ndarray
        Accepted integration steps per solute.
    wall_time : float
    """

    names: tuple
    t_R: np.ndarray
    sigma: np.ndarray
    elution_temperature: np.ndarray
    k_R: np.ndarray
    eluted: np.ndarray
    n_steps: np.ndarray
    wall_time: float = 0.0
    holdup_time: float = float("nan")

    def _order(self):
        return np.argsort(self.t_R, kind="stable")

    def resolution(self) -> np.ndarray:
        """Resolution of each peak with the next one in elution order,
        ``R_s = (t_2 - t_1) / (2 (sigma_1 + sigma_2))`` (4-sigma widths), in elution order
        (length n - 1)."""
        o = self._order()
        t, s = self.t_R[o], self.sigma[o]
        return np.diff(t) / (2.0 * (s[1:] + s[:-1]))

    def plate_numbers(self) -> np.ndarray:
        """Apparent plate number of each peak, ``N = (t_R / sigma)^2``."""
        return (self.t_R / self.sigma) ** 2

    def chromatogram(self, t, amounts=None) -> np.ndarray:
        """Sum of Gaussian peaks (unit area each, or ``amounts``) at times ``t`` (s)."""
        t = check_array("t", t, ndim=1)
        a = np.ones(len(self.names)) if amounts is None else check_array(
            "amounts", amounts, ndim=1)
        if a.size != len(self.names):
            raise ValueError(f"amounts must have one value per solute ({len(self.names)})")
        z = (t[None, :] - self.t_R[:, None]) / self.sigma[:, None]
        return (a[:, None] * np.exp(-0.5 * z * z) / (self.sigma[:, None]
                                                     * math.sqrt(2 * math.pi))).sum(0)

    def to_dataframe(self):
        """A pandas DataFrame, one row per solute (pandas imported lazily)."""
        import pandas as pd

        return pd.DataFrame({"name": list(self.names), "t_R_s": self.t_R, "sigma_s": self.sigma,
                             "elution_temperature_K": self.elution_temperature,
                             "k_R": self.k_R, "plate_number": self.plate_numbers(),
                             "eluted": self.eluted})

    def to_xarray(self):
        """An xarray Dataset over the ``solute`` dimension (xarray imported lazily)."""
        from ._surface import xarray

        xr = xarray()

        return xr.Dataset(
            {"t_R": ("solute", self.t_R, {"units": "s"}),
             "sigma": ("solute", self.sigma, {"units": "s"}),
             "elution_temperature": ("solute", self.elution_temperature, {"units": "K"}),
             "k_R": ("solute", self.k_R, {"units": "1"}), "eluted": ("solute", self.eluted),
             "n_steps": ("solute", np.asarray(self.n_steps))},
            coords={"solute": list(self.names)},
            attrs={"wall_time": float(self.wall_time), "holdup_time": float(self.holdup_time)})

    def plot(self, ax=None, *, t=None, annotate=True, **kwargs):
        """Predicted chromatogram (Gaussian peaks of unit area, 1/s) at times ``t`` (s; default
        4000 points on ``t_R +- 6 sigma`` of all peaks), the solutes' names at their t_R with
        ``annotate``; ``kwargs`` go to the line. Returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax, figsize=(8, 3))
        if t is None:
            lo = max(0.0, float(np.min(self.t_R - 6 * self.sigma)))
            hi = float(np.max(self.t_R + 6 * self.sigma))
            t = np.linspace(lo, hi, 4000)
        ax.plot(t, self.chromatogram(t), **kwargs)
        if annotate:
            for n, tr in zip(self.names, self.t_R, strict=True):
                ax.annotate(n, (tr, 0), xytext=(0, 2), textcoords="offset points",
                            ha="center", fontsize=7)
        ax.set_xlabel("t (s)")
        ax.set_ylabel("signal (unit area per peak)")
        return ax


def retention(column: ProgrammedColumn, solutes, *, injection_time=0.0, injection_width=0.0,
              detector_time_constant: float = 0.0, plate_height: str = "golay",
              film_diffusivity=None, rtol: float = 1e-7, max_steps: int = 200_000):
    """Predict retention times and peak widths of ``solutes`` in a programmed run.

    Integrates ``dt/dx = r`` and ``d tau^2/dx = H r^2 + 2 tau^2 dr/dt`` from the inlet to the
    outlet (adaptive Dormand–Prince 5(4), relative tolerance ``rtol``), see the module docstring.

    Parameters
    ----------
    column : ProgrammedColumn
    solutes : Solute or sequence of Solute (or a dict ``{name: Solute}``)
    injection_time : float or array
        Time (s) at which each solute enters the column (default 0).
    injection_width : float or array
        Standard deviation (s) of the inlet band (extra-column broadening before the column).
    detector_time_constant : float
        Time constant tau_d (s) of a first-order detector/electronics filter; it delays the
        first moment by tau_d and adds tau_d^2 to the variance.
    plate_height : {"golay", "film"}
        ``"golay"``: gas diffusion, gas-phase mass transfer and film terms; ``"film"``: the film
        (kinetic) term only -- the isothermal column model without dispersion.
    film_diffusivity : float, optional
        Stationary-phase diffusivity D_S (m^2/s). Default: ``D_S = D_M / 1e4`` at the local
        T and p (the correlation of GasChromatographySimulator.jl).
    rtol : float
        Relative tolerance of the integration, in [1e-14, 1e-2]. The default 1e-7 gives t_R to
        about 3e-8 and sigma to about 7e-6 (relative, program D, C9-C25, against rtol 1e-12)
        in about 17 ms for 17 solutes.

    Returns
    -------
    RetentionTable
    """
    start = _time.perf_counter()
    if not isinstance(column, ProgrammedColumn):
        raise TypeError(f"column must be a ProgrammedColumn, got {type(column).__name__}")
    if isinstance(solutes, dict):
        solutes = list(solutes.values())
    elif isinstance(solutes, Solute):
        solutes = [solutes]
    solutes = [_check_solute(s) for s in solutes]
    if not solutes:
        raise ValueError("solutes must hold at least one Solute")
    n = len(solutes)
    t0 = np.broadcast_to(check_array("injection_time", injection_time), (n,)).astype(float)
    if t0.min() < 0:
        raise ValueError(f"injection_time must be >= 0 s, got {t0.min()}")
    w0 = np.broadcast_to(check_array("injection_width", injection_width), (n,)).astype(float)
    if w0.min() < 0:
        raise ValueError(f"injection_width must be >= 0 s, got {w0.min()}")
    tau_d = check_nonnegative("detector_time_constant", detector_time_constant)
    plate = {"golay": 0, "film": 1}[check_choice("plate_height", plate_height, ("golay", "film"))]
    if film_diffusivity is not None:
        film_diffusivity = check_positive("film_diffusivity", film_diffusivity)
    rtol = check_in_range("rtol", rtol, 1e-14, 1e-2)
    tabs = column._tables()
    L, d = tabs[0], tabs[1]
    tR = np.empty(n)
    var = np.empty(n)
    TR = np.empty(n)
    kR = np.empty(n)
    steps = np.empty(n, dtype=int)
    atol = 1e-9 * column.length / 1.0  # s; tiny against any hold-up time
    for i, s in enumerate(solutes):
        sol = _solute_vector(column, s, film_diffusivity)
        t_end, v, nok, nrej, ok = _kr.integrate_solute(
            float(t0[i]), float(w0[i]) ** 2, L, d, column.film_thickness, *tabs[2:], sol, plate,
            rtol, atol, int(max_steps))
        if not ok:
            raise RuntimeError(f"retention: the integration for {s.name!r} did not reach the "
                               f"outlet ({nok} steps, {nrej} rejected; reached t = {t_end} s); "
                               "raise max_steps or loosen rtol")
        r, k, T, p, u = _kr.residency(L, t_end, L, d, *tabs[2:], sol)
        tR[i], var[i], TR[i], kR[i], steps[i] = t_end, v, T, k, nok
    if np.any(var < 0):
        raise RuntimeError("retention: a negative peak variance came out of the integration "
                           f"(min {var.min()} s^2); tighten rtol")
    eluted = tR <= column.oven.duration
    if not np.all(eluted) and column.oven.times.size > 1:
        late = [s.name for s, e in zip(solutes, eluted, strict=True) if not e]
        warnings.warn(f"retention: {late} elute after the end of the oven program "
                      f"({column.oven.duration} s); their t_R assumes the final temperature is "
                      "held", ElutionWarning, stacklevel=2)
    return RetentionTable(
        names=tuple(s.name for s in solutes), t_R=tR + tau_d, sigma=np.sqrt(var + tau_d**2),
        elution_temperature=TR, k_R=kR, eluted=eluted, n_steps=steps,
        wall_time=_time.perf_counter() - start, holdup_time=column.holdup_time(0.0))


def simulate_programmed(column: ProgrammedColumn, solutes, t, *, c0=1.0, injection=1.0,
                        method: str = "fd", plate_height: str = "golay", film_diffusivity=None,
                        tol: float = 1e-3, workers=None, progress: bool = False, **options):
    """Full outlet chromatogram of a programmed run (finite volumes, or the closed form).

    Parameters
    ----------
    column : ProgrammedColumn
    solutes : Solute or sequence of Solute
    t : array_like
        Strictly increasing detector times (s).
    c0 : float or array
        Injected concentration per solute (the outlet is in its units).
    injection : float or callable
        Length (s) of a rectangular inlet pulse from t = 0, or ``c_in(t)`` relative to c0
        (e.g. a profile of :mod:`.injection`).
    method : {"fd", "exact"}
        ``"fd"``: :func:`.fd_programmed.outlet_response_programmed` with the coefficients of
        :meth:`ProgrammedColumn.coefficients` (any program). ``"exact"``: the closed-form
        (Thomas) solution of the isothermal model, for a constant-temperature, constant-pressure
        run with ``plate_height="film"`` and a constant ``film_diffusivity`` (the programmed
        model then *is* the isothermal one).
    tol : float
        Peak-scaled error target of the finite volumes.
    workers : int, optional
        Solve the solutes on this many threads (the compiled kernels release the GIL).

    Returns
    -------
    chromatogram : Chromatogram
        ``c`` the outlet concentration (sum over solutes), ``components`` per solute.
    infos : list of dict
        Per solute; for ``"fd"`` the solver's diagnostics (mass balance, steps, cells) and the
        outlet molar flux ``flux`` (c0 m/s), what a flame-ionisation detector integrates.
    """
    from . import fd_programmed
    from .model import Chromatogram
    from .simulate import simulate

    if not isinstance(column, ProgrammedColumn):
        raise TypeError(f"column must be a ProgrammedColumn, got {type(column).__name__}")
    if isinstance(solutes, Solute):
        solutes = [solutes]
    elif isinstance(solutes, dict):
        solutes = list(solutes.values())
    solutes = [_check_solute(s) for s in solutes]
    if not solutes:
        raise ValueError("solutes must hold at least one Solute")
    t = check_array("t", t, ndim=1, min_size=1)
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing (s)")
    c0 = np.broadcast_to(check_array("c0", c0), (len(solutes),)).astype(float)
    if np.any(c0 < 0):
        raise ValueError(f"c0 must be >= 0, got {c0.min()}")
    check_choice("method", method, ("fd", "exact"))
    check_choice("plate_height", plate_height, ("golay", "film"))
    from ._surface import check_progress

    progress = check_progress(progress)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be None or an integer >= 1, got {workers!r}")

    def one(i):
        s = solutes[i]
        if method == "exact":
            if plate_height != "film" or film_diffusivity is None:
                raise ValueError("method='exact' solves the isothermal model without dispersion: "
                                 "pass plate_height='film' and a constant film_diffusivity")
            if not (isinstance(injection, int | float) and not isinstance(injection, bool)):
                raise TypeError("method='exact' takes a rectangular injection length (s)")
            col, an = column.isothermal_equivalent(s, film_diffusivity=film_diffusivity)
            ch = simulate(col, [an], t, injection_time=float(injection), method="exact")
            return c0[i] * ch.components[0], {"method": "exact"}
        coef = column.coefficients(s, plate_height=plate_height,
                                   film_diffusivity=film_diffusivity)
        y, flux, info = fd_programmed.outlet_response_programmed(
            column.length, coef, t, c_in=injection, alpha=column.phase_ratio, tol=tol,
            progress=progress, **options)
        info = dict(info)
        info["flux"] = c0[i] * flux
        return c0[i] * y, info

    if workers is None or workers == 1 or len(solutes) == 1:
        out = [one(i) for i in range(len(solutes))]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as ex:
            out = list(ex.map(one, range(len(solutes))))
    comps = np.array([o[0] for o in out])
    infos = [o[1] for o in out]
    ch = Chromatogram(t=t, c=comps.sum(0), components=comps,
                      names=tuple(s.name for s in solutes))
    return ch, infos


simulate = simulate_programmed  # the name of the design notes (programs.simulate)

# silence "imported but unused" for names re-exported through __all__
_REEXPORTED = (KCentric, CarrierGas, field)
