r"""Thermodynamics and transport of GC solutes and carrier gases (SI units).

Retention: the distribution-centric (K-centric) three-parameter model of Blumberg (2017) gives
the retention factor of a solute on a column of dimensionless film thickness ``phi = d_f / d``::

    ln k(T) = ln(phi / phi0) + (C + T_char / theta_char) (T_char / T - 1) + C ln(T / T_char),
    C = dCp / R,

with ``T_char`` (K) the temperature at which ``k = phi / phi0``, ``theta_char`` (K) the
characteristic thermal constant and ``dCp`` (J/mol/K) the heat-capacity change on sorption; the
parameters belong to a reference column of ``phi0``. The distribution constant is
``K = k beta`` with the phase ratio ``beta = d / (4 d_f) = 1 / (4 phi)``, so that in the notation of
the column model (:mod:`sciflow.chromatography.model`), whose phase ratio is
``alpha = 2 delta / R = 4 d_f / d = 1 / beta``, ``k = alpha K``.

Carrier gas: viscosity ``eta(T) = eta_st (T / T_st)^(xi0 + xi1 (T - T_st) / T_st)`` with
``T_st = 273.15 K`` (Blumberg 2010, ch. 2; constants for He, H2, N2, Ar as tabulated there).

Gas diffusion: the Fuller–Schettler–Giddings correlation (Fuller, Schettler & Giddings 1966;
Fuller, Ensley & Giddings 1969)::

    D_M(T, p) = D_ag T^1.75 / p,
    D_ag = 1e-7 p_n sqrt(1/M_a + 1/M_g) / (V_a^(1/3) + V_g^(1/3))^2      (m^2 s^-1 Pa K^-1.75),

with molar masses in g/mol, the atomic diffusion volumes ``V`` of Fuller et al. summed over the
molecule (an aromatic or heterocyclic ring counts -18.3) and ``p_n = 101325 Pa``.

References
----------
L. M. Blumberg, "Distribution-centric 3-parameter thermodynamic models of partition gas
chromatography", J. Chromatogr. A 1491, 159 (2017).
L. M. Blumberg, *Temperature-Programmed Gas Chromatography*, Wiley-VCH (2010).
E. N. Fuller, P. D. Schettler, J. C. Giddings, Ind. Eng. Chem. 58(5), 18 (1966);
E. N. Fuller, K. Ensley, J. C. Giddings, J. Phys. Chem. 73, 3679 (1969).
J. Leppert, P. J. Müller, M. D. Chopra, L. M. Blumberg, P. Boeker, "Simulation of spatial
thermal gradient gas chromatography", J. Chromatogr. A 1620, 460985 (2020) (the database format).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validate import check_array, check_positive, check_real

__all__ = ["KCentric", "Solute", "CarrierGas", "carrier_gas", "CARRIER_GASES",
           "load_retention_database", "fuller_diffusivity", "molar_mass", "diffusion_volume",
           "parse_formula", "GAS_CONSTANT", "T_ZERO_CELSIUS", "P_NORMAL"]

GAS_CONSTANT = 8.314462618  # J / (mol K)
T_ZERO_CELSIUS = 273.15  # K
P_NORMAL = 101325.0  # Pa
_T_ST = 273.15  # K, reference temperature of the viscosity law

# atomic masses (g/mol) and Fuller atomic diffusion volumes (cm^3/mol, dimensionless here)
_ATOMIC_MASS = {"C": 12.011, "H": 1.008, "O": 15.999, "N": 14.007, "S": 32.06, "Cl": 35.45,
                "F": 18.998, "Br": 79.904, "I": 126.904}
_DIFFUSION_VOLUME = {"C": 15.9, "H": 2.31, "O": 6.11, "N": 4.54, "S": 22.9, "Cl": 21.0,
                     "F": 14.7, "Br": 21.9, "I": 29.8}
_RING_VOLUME = -18.3


def _temperature(name, T):
    """Absolute temperature(s) (K), finite and > 0."""
    a = check_array(name, T)
    if a.size and a.min() <= 0.0:
        raise ValueError(f"{name} must be an absolute temperature > 0 K, got {a.min()} K")
    return a


@dataclass(frozen=True)
class KCentric:
    """K-centric retention parameters of one solute on one stationary phase (Blumberg 2017).

    Parameters
    ----------
    T_char : float
        Characteristic temperature (K), > 0.
    theta_char : float
        Characteristic thermal constant (K, a temperature difference), > 0.
    dCp : float
        Heat-capacity change on sorption (J mol^-1 K^-1), finite (any sign).
    phi0 : float
        Dimensionless film thickness d_f / d of the column the parameters were measured on,
        in (0, 0.25).
    """

    T_char: float
    theta_char: float
    dCp: float
    phi0: float = 1e-3

    def __post_init__(self):
        object.__setattr__(self, "T_char", check_positive("T_char", self.T_char))
        object.__setattr__(self, "theta_char", check_positive("theta_char", self.theta_char))
        object.__setattr__(self, "dCp", check_real("dCp", self.dCp))
        phi0 = check_positive("phi0", self.phi0)
        if phi0 >= 0.25:
            raise ValueError(f"phi0 (d_f / d) must lie in (0, 0.25), got {phi0}")
        object.__setattr__(self, "phi0", phi0)

    def ln_retention_factor(self, T, phi=None):
        """``ln k(T)`` on a column of film ratio ``phi = d_f/d`` (default ``phi0``); ``T`` in K."""
        T = _temperature("T", T)
        phi = self.phi0 if phi is None else check_positive("phi", phi)
        C = self.dCp / GAS_CONSTANT
        Tc = self.T_char
        out = (math.log(phi / self.phi0) + (C + Tc / self.theta_char) * (Tc / T - 1.0)
               + C * np.log(T / Tc))
        return out if out.ndim else float(out)

    def retention_factor(self, T, phi=None):
        """``k(T)`` (dimensionless) on a column of film ratio ``phi``; ``T`` in K."""
        return np.exp(self.ln_retention_factor(T, phi))

    def distribution_constant(self, T):
        """``K(T) = k(T) beta = k(T) / (4 phi)`` (dimensionless; independent of the column)."""
        return self.retention_factor(T) / (4.0 * self.phi0)

    def as_array(self) -> np.ndarray:
        """``[T_char, theta_char, dCp, phi0]`` (K, K, J/mol/K, 1)."""
        return np.array([self.T_char, self.theta_char, self.dCp, self.phi0])


def parse_formula(formula: str) -> dict:
    """Element counts of a molecular formula such as ``"C9H20"`` or ``"C6H5Cl"``."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'C9H20', got {type(formula).__name__}")
    tokens = re.findall(r"([A-Z][a-z]?)(\d*)", formula)
    if not tokens or "".join(e + n for e, n in tokens) != formula.replace(" ", ""):
        raise ValueError(f"formula {formula!r} is not a molecular formula such as 'C9H20'")
    counts: dict = {}
    for el, n in tokens:
        if el not in _ATOMIC_MASS:
            raise ValueError(f"formula {formula!r}: element {el!r} is not supported; known: "
                             f"{sorted(_ATOMIC_MASS)}")
        counts[el] = counts.get(el, 0) + (int(n) if n else 1)
    return counts


def molar_mass(formula: str) -> float:
    """Molar mass (g/mol) of a molecular formula."""
    return float(sum(_ATOMIC_MASS[e] * n for e, n in parse_formula(formula).items()))


def diffusion_volume(formula: str, rings: int = 0) -> float:
    """Fuller diffusion volume of a molecule: sum of atomic volumes, -18.3 per (aromatic or
    heterocyclic) ring."""
    if isinstance(rings, bool) or not isinstance(rings, int | np.integer) or rings < 0:
        raise ValueError(f"rings must be an integer >= 0, got {rings!r}")
    v = sum(_DIFFUSION_VOLUME[e] * n for e, n in parse_formula(formula).items())
    v += _RING_VOLUME * int(rings)
    if v <= 0:
        raise ValueError(f"formula {formula!r} with {rings} rings has a diffusion volume "
                         f"{v} <= 0")
    return float(v)


@dataclass(frozen=True)
class CarrierGas:
    """A carrier gas: viscosity law (Blumberg 2010) and Fuller diffusion parameters.

    ``eta(T) = eta_st (T/273.15)^(xi0 + xi1 (T - 273.15)/273.15)`` (Pa s); ``molar_mass``
    (g/mol) and ``diffusion_volume`` enter :func:`fuller_diffusivity`.
    """

    name: str
    eta_st: float
    xi0: float
    xi1: float
    molar_mass: float
    diffusion_volume: float

    def viscosity(self, T):
        """Dynamic viscosity (Pa s) at ``T`` (K)."""
        T = _temperature("T", T)
        out = self.eta_st * (T / _T_ST) ** (self.xi0 + self.xi1 * (T - _T_ST) / _T_ST)
        return out if out.ndim else float(out)


CARRIER_GASES = {
    "He": CarrierGas("He", 18.63e-6, 0.6958, -0.0071, 4.0026, 2.67),
    "H2": CarrierGas("H2", 8.382e-6, 0.6892, 0.005, 2.016, 6.12),
    "N2": CarrierGas("N2", 16.62e-6, 0.7665, -0.0378, 28.013, 18.5),
    "Ar": CarrierGas("Ar", 21.04e-6, 0.8131, -0.0426, 39.948, 16.2),
}


def carrier_gas(gas) -> CarrierGas:
    """The :class:`CarrierGas` named ``"He"``, ``"H2"``, ``"N2"`` or ``"Ar"`` (or one given)."""
    if isinstance(gas, CarrierGas):
        return gas
    if not isinstance(gas, str):
        raise TypeError(f"gas must be a gas name {sorted(CARRIER_GASES)} or a CarrierGas, got "
                        f"{type(gas).__name__}")
    key = {k.lower(): k for k in CARRIER_GASES}.get(gas.strip().lower())
    if key is None:
        raise ValueError(f"gas must be one of {sorted(CARRIER_GASES)}, got {gas!r}")
    return CARRIER_GASES[key]


def fuller_diffusivity(formula: str, gas="He", *, rings: int = 0, T=None, p=None):
    """Fuller–Schettler–Giddings gas-phase diffusion coefficient.

    Returns ``D_ag`` (m^2 s^-1 Pa K^-1.75) such that ``D_M = D_ag T^1.75 / p``; with ``T`` (K)
    and ``p`` (Pa) given, returns ``D_M`` (m^2/s) itself.
    """
    g = carrier_gas(gas)
    Ma = molar_mass(formula)
    Va = diffusion_volume(formula, rings)
    D_ag = (1e-7 * P_NORMAL * math.sqrt(1.0 / Ma + 1.0 / g.molar_mass)
            / (Va ** (1.0 / 3.0) + g.diffusion_volume ** (1.0 / 3.0)) ** 2)
    if T is None and p is None:
        return D_ag
    if T is None or p is None:
        raise ValueError("give both T (K) and p (Pa), or neither")
    T = _temperature("T", T)
    p = check_array("p", p)
    if p.size and p.min() <= 0:
        raise ValueError(f"p must be an absolute pressure > 0 Pa, got {p.min()}")
    out = D_ag * T**1.75 / p
    return out if out.ndim else float(out)


@dataclass(frozen=True)
class Solute:
    """A solute of a programmed GC run: retention parameters and gas diffusivity.

    Parameters
    ----------
    name : str
    retention : KCentric
    formula : str, optional
        Molecular formula (e.g. ``"C9H20"``) for the Fuller diffusivity; required unless
        ``D_ag`` is given.
    rings : int
        Number of aromatic/heterocyclic rings (Fuller volume correction).
    D_ag : float, optional
        Diffusivity constant (m^2 s^-1 Pa K^-1.75), overriding the formula.
    cas, source : str
        Metadata from the database.
    """

    name: str
    retention: KCentric
    formula: str | None = None
    rings: int = 0
    D_ag: float | None = None
    cas: str = ""
    source: str = ""
    categories: tuple = field(default=())

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__}")
        if not isinstance(self.retention, KCentric):
            raise TypeError(f"retention must be a KCentric, got {type(self.retention).__name__}")
        if self.formula is None and self.D_ag is None:
            raise ValueError(f"solute {self.name!r}: give formula (e.g. 'C9H20') or D_ag for the "
                             "gas diffusivity")
        if self.formula is not None:
            diffusion_volume(self.formula, self.rings)  # validates formula and rings
        if self.D_ag is not None:
            object.__setattr__(self, "D_ag", check_positive("D_ag", self.D_ag))

    def diffusivity_constant(self, gas) -> float:
        """``D_ag`` (m^2 s^-1 Pa K^-1.75) in ``gas``: given, or Fuller–Schettler–Giddings."""
        if self.D_ag is not None:
            return self.D_ag
        assert self.formula is not None  # __post_init__: formula or D_ag is given
        return fuller_diffusivity(self.formula, gas, rings=self.rings)

    def replace(self, **changes) -> Solute:
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)


_ALKANE = re.compile(r"^C(\d+)$")


def _infer_formula(name, cats, row):
    """Molecular formula from explicit columns, or for n-alkanes named ``C<n>``."""
    for key in ("Formula", "formula"):
        if row.get(key):
            return row[key].strip(), int(float(row.get("Ringnumber") or 0))
    if row.get("Cnumber"):
        parts = []
        for el, key in (("C", "Cnumber"), ("H", "Hnumber"), ("O", "Onumber"), ("N", "Nnumber")):
            n = int(float(row.get(key) or 0))
            if n:
                parts.append(f"{el}{n}")
        return "".join(parts), int(float(row.get("Ringnumber") or 0))
    m = _ALKANE.match(name)
    if m and "alkane" in [c.lower() for c in cats]:
        n = int(m.group(1))
        return f"C{n}H{2 * n + 2}", 0
    return None, 0


def load_retention_database(path, *, phase: str | None = None) -> dict:
    """Read a K-centric retention database (Leppert 2020 format) into ``{name: Solute}``.

    Columns: ``Name, CAS, Phase, Tchar (deg C), thetachar (deg C), DeltaCp (J/mol/K), phi0``
    and optionally ``Source``, ``Cat_*``, a molecular ``Formula`` or the counts ``Cnumber,
    Hnumber, Onumber, Nnumber, Ringnumber``. Without a formula, n-alkanes named ``C<n>`` (category
    ``alkane``) get ``C<n>H<2n+2>``; any other solute without a formula raises (its gas
    diffusivity needs one). ``T_char`` is converted to K; ``theta_char`` is a temperature
    difference (deg C = K). ``phase`` selects the rows of one stationary phase (required when
    the file holds several).

    Raises ``ValueError`` naming the row and column for missing or non-numeric values.
    """
    if not isinstance(path, str | Path):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no such file {path}")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"path: {path} holds no rows")
    need = ("Name", "Phase", "Tchar", "thetachar", "DeltaCp", "phi0")
    missing = [c for c in need if c not in rows[0]]
    if missing:
        raise ValueError(f"path: {path} lacks the column(s) {missing}; expected at least "
                         f"{list(need)}")
    phases = sorted({r["Phase"].strip() for r in rows})
    if phase is None:
        if len(phases) > 1:
            raise ValueError(f"phase: {path} holds several stationary phases {phases}; choose one")
        phase = phases[0]
    elif phase not in phases:
        raise ValueError(f"phase must be one of {phases} (in {path.name}), got {phase!r}")
    out = {}
    for i, r in enumerate(rows, start=2):  # line numbers of the file
        if r["Phase"].strip() != phase:
            continue
        name = (r["Name"] or "").strip()
        if not name:
            raise ValueError(f"path: {path.name} line {i}: the Name is missing")
        vals = {}
        for key in ("Tchar", "thetachar", "DeltaCp", "phi0"):
            s = (r.get(key) or "").strip()
            try:
                v = float(s)
            except ValueError:
                raise ValueError(f"path: {path.name} line {i} ({name}): {key} is "
                                 f"{'missing' if not s else repr(s)}; a number is required"
                                 ) from None
            if not math.isfinite(v):
                raise ValueError(f"path: {path.name} line {i} ({name}): {key} = {v} is not "
                                 "finite")
            vals[key] = v
        cats = tuple(v.strip() for k, v in r.items() if k and k.startswith("Cat") and v
                     and v.strip())
        formula, rings = _infer_formula(name, cats, r)
        if formula is None:
            raise ValueError(f"path: {path.name} line {i} ({name}): no molecular formula "
                             "(a Formula column or Cnumber/Hnumber/... counts) for the gas "
                             "diffusivity")
        try:
            kc = KCentric(vals["Tchar"] + T_ZERO_CELSIUS, vals["thetachar"], vals["DeltaCp"],
                          vals["phi0"])
        except ValueError as e:
            raise ValueError(f"path: {path.name} line {i} ({name}): {e}") from None
        if name in out:
            raise ValueError(f"path: {path.name} line {i}: solute {name!r} appears twice for "
                             f"phase {phase!r}")
        out[name] = Solute(name, kc, formula=formula, rings=rings,
                           cas=(r.get("CAS") or "").strip(),
                           source=(r.get("Source") or "").strip(), categories=cats)
    if not out:
        raise ValueError(f"path: {path.name} holds no rows for phase {phase!r}")
    return out
