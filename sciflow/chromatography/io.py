"""Readers for measured gas-chromatography data and published parameter sets.

* :func:`read_leppert_chromatogram` and :func:`read_leppert_retention`: the n-alkane
  measurements of Leppert et al. 2020 as distributed with GasChromatographySimulator.jl
  (folder ``data/Leppert2020b``), in both of its formats;
* :func:`read_leppert_program`: the oven/pressure program files of the thermal-gradient runs;
* :func:`load_btex_parameters`: the BTEX column and fitted (k_a, k_d) of Cabrera-Codony et al.
  2024 (``btex_cabrera_codony_2024.json``).

All times are returned in seconds, whatever the file holds.

Units of the Leppert files (checked against the chromatograms themselves):

=====================  ===========================  =====================================
file                   columns                      units
=====================  ===========================  =====================================
conventional chrom.    ``time_s,ordinate_values``   s, detector signal
thermal-gradient       ``Time,Intensity``           **minutes**, detector counts
conventional RT        ``Name,RT,width``            RT in **minutes**, width (peak standard
                                                    deviation) in **seconds** (see below)
thermal-gradient RT    ``Alkane,tR_s,width_ms``     s, ms
=====================  ===========================  =====================================

The ``width`` column of the conventional RT files is in seconds, not minutes: the listed
widths (0.30-0.99) equal the standard deviations measured on the chromatograms in seconds
(e.g. progD C9: listed 0.452, half width at half height / 1.1774 = 0.45 s), whereas minutes would
make C9 a 27-s-wide peak in a trace where it is about 1 s wide. Pass
``conventional_width_unit="min"`` to read it as minutes regardless.
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np

from .._validate import check_nonnegative, check_positive
from .model import Analyte, Column

__all__ = [
    "read_leppert_chromatogram",
    "read_leppert_retention",
    "read_leppert_program",
    "load_btex_parameters",
]

_TIME_UNITS = {"s": 1.0, "min": 60.0, "ms": 1e-3}


def _check_path(path) -> Path:
    """``path`` as a Path to an existing file, or a TypeError/FileNotFoundError naming it."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: {path} is not an existing file")
    return path


def _load_table(path: Path, delimiter: str, usecols=None) -> np.ndarray:
    """The numbers below the header line, with the file named in any error."""
    try:
        with warnings.catch_warnings():  # an empty table is reported below, by name
            warnings.filterwarnings("ignore", "loadtxt: input contained no data")
            data = np.loadtxt(path, delimiter=delimiter, skiprows=1, usecols=usecols, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"path: {path} holds a value that is not a number ({exc})") from None
    if data.shape[0] == 0:
        raise ValueError(f"path: {path} has a header but no data rows")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"path: {path} holds NaN/inf values")
    return data


def _header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise ValueError(f"path: {path} is not a UTF-8 text file ({exc})") from None
    if not first.strip():
        raise ValueError(f"path: {path} is empty")
    sep = ";" if first.count(";") > first.count(",") else ","
    return [h.strip().lstrip("\ufeff") for h in first.strip().split(sep)]


def read_leppert_chromatogram(path):
    """``(t, signal)`` of a Leppert 2020 chromatogram, ``t`` in seconds.

    Handles ``time_s,ordinate_values`` (conventional GC, seconds) and ``Time,Intensity``
    (thermal-gradient GC, minutes).
    """
    path = _check_path(path)
    head = _header(path)
    low = [h.lower() for h in head]
    if low[:2] == ["time_s", "ordinate_values"]:
        factor = 1.0
    elif low[:2] == ["time", "intensity"]:
        factor = 60.0
    else:
        raise ValueError(f"path: {path} has columns {head}; expected 'time_s,ordinate_values' "
                         "or 'Time,Intensity'")
    data = _load_table(path, ",", usecols=(0, 1))
    t = data[:, 0] * factor
    if np.any(np.diff(t) <= 0):
        i = int(np.argmax(np.diff(t) <= 0))
        raise ValueError(f"path: {path}: the times must be strictly increasing; row {i + 3} "
                         f"({t[i + 1] / factor}) does not follow row {i + 2} ({t[i] / factor})")
    return t, data[:, 1].copy()


def _num(s: str) -> float:
    s = s.strip()
    return float(s) if s else math.nan


def read_leppert_retention(path, *, conventional_width_unit: str = "s"):
    """``{name: (t_R, width)}`` of a Leppert 2020 retention list, both in seconds.

    ``width`` is the peak standard deviation. Handles ``Name,RT,width`` (RT in minutes, width
    in ``conventional_width_unit``, seconds by default: see the module docstring) and
    ``Alkane,tR_s,width_ms``. Empty entries become NaN. The order of the file is kept.
    """
    path = _check_path(path)
    if not isinstance(conventional_width_unit, str) or conventional_width_unit not in _TIME_UNITS:
        raise ValueError(f"conventional_width_unit must be one of {sorted(_TIME_UNITS)}, "
                         f"got {conventional_width_unit!r}")
    head = [h.lower() for h in _header(path)]
    if head[:3] == ["name", "rt", "width"]:
        ft, fw = 60.0, _TIME_UNITS[conventional_width_unit]
    elif head[:3] == ["alkane", "tr_s", "width_ms"]:
        ft, fw = 1.0, 1e-3
    else:
        raise ValueError(f"path: {path} has columns {head}; expected 'Name,RT,width' or "
                         "'Alkane,tR_s,width_ms'")
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        next(rows)
        for k, row in enumerate(rows, start=2):
            if not row or not row[0].strip():
                continue
            row = row + [""] * (3 - len(row))
            try:
                out[row[0].strip()] = (_num(row[1]) * ft, _num(row[2]) * fw)
            except ValueError:
                raise ValueError(f"path: {path}, row {k}: {row[1]!r} / {row[2]!r} is not a "
                                 "number") from None
    return out


def read_leppert_program(path):
    """Oven/pressure program of a thermal-gradient run (``Deltat;T;DeltaT;pinj;pdet``).

    Returns a dict of arrays: ``time`` (s, cumulative from ``Deltat``), ``temperature``
    (outlet oven temperature, deg C), ``delta_T`` (inlet minus outlet, deg C),
    ``inlet_pressure`` (Pa absolute: the gauge value + 101.3 kPa) and ``outlet_pressure``
    (Pa absolute).
    """
    path = _check_path(path)
    head = [h.lower() for h in _header(path)]
    if head[:5] != ["deltat", "t", "deltat", "pinj", "pdet"]:
        raise ValueError(f"path: {path} has columns {head}; expected 'Deltat;T;DeltaT;pinj;pdet'")
    d = _load_table(path, ";", usecols=(0, 1, 2, 3, 4))
    if np.any(d[:, 0] < 0):
        raise ValueError(f"path: {path}: the Deltat column (s) must be >= 0")
    return {"time": np.cumsum(d[:, 0]), "temperature": d[:, 1], "delta_T": d[:, 2],
            "inlet_pressure": (d[:, 3] + 101.3) * 1e3, "outlet_pressure": d[:, 4] * 1e3}


def load_btex_parameters(path):
    """``(Column, [Analyte], rest)`` from ``btex_cabrera_codony_2024.json``.

    ``rest`` holds everything else: ``c0`` (inlet concentration per analyte, mol/m^3, twice the
    listed value for the co-eluting p+m-xylene as the file's note says), ``injection_time`` (s),
    ``baseline_au``, ``Da``, ``K`` and ``R2`` (per analyte, as published), ``carrier_gas``,
    ``inlet_flow_m3_s``, ``source``, ``notes`` and the raw ``injection`` entry.
    """
    path = _check_path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"path: {path} is not valid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"path: {path} must hold a JSON object, got {type(d).__name__}")
    try:
        c = d["column"]
        column = Column(length=c["length_m"], radius=c["radius_m"],
                        film_thickness=c["film_thickness_m"], temperature=c["temperature_K"],
                        inlet_pressure=c["inlet_pressure_Pa"],
                        outlet_pressure=c["outlet_pressure_Pa"],
                        viscosity=c["viscosity_Pa_s"], inlet_velocity=c.get("inlet_velocity_m_s"))
        analytes = [Analyte(a["name"], a["k_a_per_s"], a["k_d_per_s"]) for a in d["analytes"]]
        inj = d["injection"]
        c0 = check_nonnegative("c0_mol_m3", float(inj["c0_mol_m3"]))
        t_inj = check_positive("injection_time_s", float(inj["injection_time_s"]))
    except KeyError as exc:
        raise ValueError(f"path: {path} lacks the entry {exc}") from None
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"path: {path}: {exc}") from None
    if not analytes:
        raise ValueError(f"path: {path} lists no analytes")
    doubled = "twice" in inj.get("note", "")
    c0s = np.array([2.0 * c0 if (doubled and "+" in a.name) else c0 for a in analytes])
    rest = {
        "c0": c0s,
        "injection_time": t_inj,
        "baseline_au": d.get("baseline_au"),
        "Da": d.get("Da"),
        "K": {a["name"]: a.get("K") for a in d["analytes"]},
        "R2": {a["name"]: a.get("R2") for a in d["analytes"]},
        "carrier_gas": c.get("carrier_gas"),
        "inlet_flow_m3_s": c.get("inlet_flow_m3_s"),
        "source": d.get("source"),
        "notes": d.get("notes"),
        "injection": inj,
    }
    return column, analytes, rest
