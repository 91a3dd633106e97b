"""Bad-input rows for ``sciflow.chromatography.thermo`` and ``.programs`` (programmed GC).

Imported into the chromatography table (``test_bad_input.py``), whose coverage test collects
every public module of the package.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from sciflow.chromatography.programs import (
    FlowProgram,
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    RetentionTable,
    ThermalGradient,
    celsius,
    retention,
)
from sciflow.chromatography.thermo import (
    CarrierGas,
    KCentric,
    Solute,
    carrier_gas,
    diffusion_volume,
    fuller_diffusivity,
    load_retention_database,
    molar_mass,
    parse_formula,
)
from tests._bad_input import Row

NAN, INF = math.nan, math.inf
KC = KCentric(400.0, 30.0, 100.0, 1e-3)
SOL = Solute("C10", KC, formula="C10H22")
OVEN = OvenProgram.from_segments(40, [(10, 300, 60)], hold=60)
PRESS = PressureProgram.constant(411564.0, 101300.0)


def pcol(**ch):
    kw = dict(length=11.18, diameter=0.104e-3, film_thickness=0.104e-6, gas="H2", oven=OVEN,
              pressure=PRESS)
    kw.update(ch)
    return ProgrammedColumn(**kw)


def db_file(text):
    p = Path(tempfile.mkdtemp(prefix="sciflow-db-")) / "db.csv"
    p.write_text(text, encoding="utf-8")
    return p


HEAD = "Name,CAS,Phase,Tchar,thetachar,DeltaCp,phi0,Source,Cat_1\n"
GOOD = "C10,124-18-5,FS5ms,118.09,32.24,112.49,0.001,x,alkane\n"


def table(**ch):
    kw = dict(names=("a",), t_R=np.array([10.0]), sigma=np.array([1.0]),
              elution_temperature=np.array([400.0]), k_R=np.array([1.0]),
              eluted=np.array([True]), n_steps=np.array([10]))
    kw.update(ch)
    return RetentionTable(**kw)


ROWS = [
    # thermo
    Row(KCentric, "negative T_char", lambda: KCentric(-1.0, 30.0, 100.0), ValueError,
        r"T_char must be > 0"),
    Row(KCentric, "zero theta_char", lambda: KCentric(400.0, 0.0, 100.0), ValueError,
        r"theta_char must be > 0"),
    Row(KCentric, "NaN dCp", lambda: KCentric(400.0, 30.0, NAN), ValueError, r"dCp must be finite"),
    Row(KCentric, "phi0 too large", lambda: KCentric(400.0, 30.0, 1.0, 0.3), ValueError,
        r"phi0 .* \(0, 0.25\)"),
    Row(KCentric, "temperature below 0 K", lambda: KC.retention_factor(-5.0), ValueError,
        r"T must be an absolute temperature > 0 K"),
    Row(KCentric, "string temperature", lambda: KC.ln_retention_factor("hot"), (TypeError,
                                                                              ValueError), r"T"),
    Row(Solute, "no formula and no D_ag", lambda: Solute("x", KC), ValueError, r"formula"),
    Row(Solute, "retention not KCentric", lambda: Solute("x", (1, 2, 3), formula="CH4"),
        TypeError, r"retention must be a KCentric"),
    Row(Solute, "negative D_ag", lambda: Solute("x", KC, D_ag=-1.0), ValueError,
        r"D_ag must be > 0"),
    Row(Solute, "bad formula", lambda: Solute("x", KC, formula="c10h22"), ValueError,
        r"formula .* is not a molecular formula"),
    Row(CarrierGas, "viscosity at 0 K", lambda: carrier_gas("He").viscosity(0.0), ValueError,
        r"T must be an absolute temperature > 0 K"),
    Row(carrier_gas, "unknown gas", lambda: carrier_gas("Xe"), ValueError,
        r"gas must be one of \['Ar', 'H2', 'He', 'N2'\]"),
    Row(carrier_gas, "number for gas", lambda: carrier_gas(4), TypeError,
        r"gas must be a gas name"),
    Row(fuller_diffusivity, "T without p", lambda: fuller_diffusivity("C9H20", T=300.0),
        ValueError, r"give both T \(K\) and p \(Pa\)"),
    Row(fuller_diffusivity, "negative pressure",
        lambda: fuller_diffusivity("C9H20", T=300.0, p=-1.0), ValueError, r"p must be .* > 0"),
    Row(fuller_diffusivity, "unknown gas", lambda: fuller_diffusivity("C9H20", "Ne"), ValueError,
        r"gas must be one of"),
    Row(molar_mass, "unknown element", lambda: molar_mass("C2Xx"), ValueError,
        r"element 'Xx' is not supported"),
    Row(parse_formula, "not a string", lambda: parse_formula(12), TypeError,
        r"formula must be a string"),
    Row(parse_formula, "garbage", lambda: parse_formula("hello"), ValueError,
        r"not a molecular formula"),
    Row(diffusion_volume, "negative rings", lambda: diffusion_volume("C6H6", -1), ValueError,
        r"rings must be an integer >= 0"),
    Row(diffusion_volume, "too many rings", lambda: diffusion_volume("CH4", 3), ValueError,
        r"diffusion volume .* <= 0"),
    Row(load_retention_database, "missing file",
        lambda: load_retention_database("/nonexistent/db.csv"), ValueError, r"path: no such file"),
    Row(load_retention_database, "path not a string", lambda: load_retention_database(3),
        TypeError, r"path must be a str or Path"),
    Row(load_retention_database, "missing Tchar value",
        lambda: load_retention_database(db_file(HEAD + GOOD.replace("118.09", ""))),
        ValueError, r"line 2 \(C10\): Tchar is missing"),
    Row(load_retention_database, "non-numeric phi0",
        lambda: load_retention_database(db_file(HEAD + GOOD.replace("0.001", "abc"))),
        ValueError, r"line 2 \(C10\): phi0 is 'abc'"),
    Row(load_retention_database, "missing column",
        lambda: load_retention_database(db_file("Name,Phase,Tchar\nC9,FS5ms,98\n")), ValueError,
        r"lacks the column\(s\)"),
    Row(load_retention_database, "several phases",
        lambda: load_retention_database(db_file(HEAD + GOOD + GOOD.replace("FS5ms", "Rxi17"))),
        ValueError, r"phase: .* several stationary phases"),
    Row(load_retention_database, "unknown phase",
        lambda: load_retention_database(db_file(HEAD + GOOD), phase="Wax"), ValueError,
        r"phase must be one of \['FS5ms'\]"),
    Row(load_retention_database, "no formula for a non-alkane",
        lambda: load_retention_database(db_file(HEAD + GOOD.replace("C10,", "Toluene,"))),
        ValueError, r"no molecular formula"),
    Row(load_retention_database, "duplicate solute",
        lambda: load_retention_database(db_file(HEAD + GOOD + GOOD)), ValueError,
        r"appears twice"),
    Row(load_retention_database, "negative thetachar",
        lambda: load_retention_database(db_file(HEAD + GOOD.replace("32.24", "-3"))), ValueError,
        r"theta_char must be > 0"),
    # programs
    Row(celsius, "below absolute zero", lambda: celsius(-300.0), ValueError,
        r"T_celsius must be above absolute zero"),
    Row(OvenProgram, "non-increasing times", lambda: OvenProgram([0.0, 60.0, 60.0],
                                                                 [313.0, 313.0, 400.0]),
        ValueError, r"times must be strictly increasing"),
    Row(OvenProgram, "negative start time", lambda: OvenProgram([-1.0, 60.0], [313.0, 400.0]),
        ValueError, r"times must start at t >= 0"),
    Row(OvenProgram, "temperature below 0 K", lambda: OvenProgram([0.0, 60.0], [313.0, -4.0]),
        ValueError, r"temperatures must be absolute \(K\) and > 0 K"),
    Row(OvenProgram, "length mismatch", lambda: OvenProgram([0.0, 60.0], [313.0]), ValueError,
        r"temperatures must have one value per time"),
    Row(OvenProgram, "NaN temperature", lambda: OvenProgram([0.0, 60.0], [313.0, NAN]),
        ValueError, r"temperatures must be finite"),
    Row(OvenProgram, "gradient of the wrong type",
        lambda: OvenProgram([0.0], [313.0], gradient=5.0), TypeError,
        r"gradient must be a ThermalGradient"),
    Row(OvenProgram, "zero ramp rate", lambda: OvenProgram.from_segments(40, [(0.0, 300, 0)]),
        ValueError, r"segments\[0\] rate must be > 0"),
    Row(OvenProgram, "segment of two values", lambda: OvenProgram.from_segments(40, [(10, 300)]),
        ValueError, r"segments\[0\] must be \(rate"),
    Row(OvenProgram, "start below absolute zero",
        lambda: OvenProgram.from_segments(-280, [(10, 300, 0)]), ValueError,
        r"above absolute zero"),
    Row(OvenProgram, "unknown unit", lambda: OvenProgram.from_segments(40, unit="F"), ValueError,
        r"unit must be one of"),
    Row(OvenProgram, "isothermal at 0 K", lambda: OvenProgram.isothermal(0.0), ValueError,
        r"T must be > 0"),
    Row(ThermalGradient, "unknown reference", lambda: ThermalGradient(10.0, reference="middle"),
        ValueError, r"reference must be one of"),
    Row(ThermalGradient, "NaN delta_T", lambda: ThermalGradient(NAN), ValueError,
        r"delta_T must be finite"),
    Row(ThermalGradient, "zero L0", lambda: ThermalGradient(10.0, L0=0.0), ValueError,
        r"L0 must be > 0"),
    Row(ThermalGradient, "one value per node",
        lambda: pcol(oven=OvenProgram([0.0, 60.0], [313.0, 400.0],
                                      gradient=ThermalGradient([1.0, 2.0, 3.0]))).holdup_time(),
        ValueError, r"delta_T must have one value per program time \(2\)"),
    Row(ThermalGradient, "gradient drives T below 0 K",
        lambda: pcol(oven=OvenProgram([0.0], [313.0],
                                      gradient=ThermalGradient(-400.0))).holdup_time(),
        ValueError, r"below 0 K"),
    Row(PressureProgram, "outlet above inlet", lambda: PressureProgram([0.0], [1e5], [2e5]),
        ValueError, r"inlet pressure must exceed the outlet pressure"),
    Row(PressureProgram, "zero outlet", lambda: PressureProgram.constant(2e5, 0.0), ValueError,
        r"outlet must be > 0"),
    Row(PressureProgram, "decreasing times", lambda: PressureProgram([10.0, 5.0], 2e5, 1e5),
        ValueError, r"times must be strictly increasing"),
    Row(FlowProgram, "negative flow", lambda: FlowProgram([0.0], [-1e-8]), ValueError,
        r"flow must be > 0"),
    Row(FlowProgram, "zero T_n", lambda: FlowProgram([0.0], [1e-8], T_n=0.0), ValueError,
        r"T_n must be > 0"),
    Row(ProgrammedColumn, "negative length", lambda: pcol(length=-1.0), ValueError,
        r"length must be > 0"),
    Row(ProgrammedColumn, "film too thick", lambda: pcol(film_thickness=0.03e-3), ValueError,
        r"film_thickness must be < diameter / 4"),
    Row(ProgrammedColumn, "unknown gas", lambda: pcol(gas="CO2"), ValueError,
        r"gas must be one of"),
    Row(ProgrammedColumn, "oven not a program", lambda: pcol(oven=313.0), TypeError,
        r"oven must be an OvenProgram"),
    Row(ProgrammedColumn, "pressure not a program", lambda: pcol(pressure=2e5), TypeError,
        r"pressure must be a PressureProgram or FlowProgram"),
    Row(ProgrammedColumn, "x beyond the outlet", lambda: pcol().velocity(12.0, 0.0), ValueError,
        r"x must lie in \[0, L\]"),
    Row(ProgrammedColumn, "isothermal equivalent of a ramp",
        lambda: pcol().isothermal_equivalent(SOL, film_diffusivity=1e-9), ValueError,
        r"constant oven temperature"),
    Row(ProgrammedColumn, "unknown field", lambda: pcol().replace(colour="red"), TypeError,
        r"unknown ProgrammedColumn field"),
    Row(retention, "column not programmed", lambda: retention(5, [SOL]), TypeError,
        r"column must be a ProgrammedColumn"),
    Row(retention, "no solutes", lambda: retention(pcol(), []), ValueError,
        r"solutes must hold at least one Solute"),
    Row(retention, "solute of the wrong type", lambda: retention(pcol(), [KC]), TypeError,
        r"solute must be a Solute"),
    Row(retention, "negative injection width",
        lambda: retention(pcol(), SOL, injection_width=-1.0), ValueError,
        r"injection_width must be >= 0"),
    Row(retention, "negative injection time",
        lambda: retention(pcol(), SOL, injection_time=-1.0), ValueError,
        r"injection_time must be >= 0"),
    Row(retention, "negative detector time constant",
        lambda: retention(pcol(), SOL, detector_time_constant=-0.1), ValueError,
        r"detector_time_constant must be >= 0"),
    Row(retention, "unknown plate height", lambda: retention(pcol(), SOL, plate_height="van"),
        ValueError, r"plate_height must be one of"),
    Row(retention, "rtol too small", lambda: retention(pcol(), SOL, rtol=0.0), ValueError,
        r"rtol must lie in"),
    Row(retention, "zero film diffusivity",
        lambda: retention(pcol(), SOL, film_diffusivity=0.0), ValueError,
        r"film_diffusivity must be > 0"),
    Row(RetentionTable, "amounts of the wrong length",
        lambda: table().chromatogram(np.linspace(0, 1, 3), amounts=[1.0, 2.0]), ValueError,
        r"amounts must have one value per solute"),
    Row(RetentionTable, "plot on a non-axes", lambda: table().plot(ax=3), TypeError, r"ax"),
    # further rows so each public name has at least three
    Row(FlowProgram, "outlet pressure zero", lambda: FlowProgram([0.0], [1e-8], outlet=0.0),
        ValueError, r"outlet pressure must be absolute and > 0"),
    Row(FlowProgram, "times not increasing", lambda: FlowProgram([5.0, 5.0], [1e-8, 2e-8]),
        ValueError, r"times must be strictly increasing"),
    Row(RetentionTable, "chromatogram times with NaN",
        lambda: table().chromatogram(np.array([0.0, NAN])), ValueError, r"t must be finite"),
    Row(carrier_gas, "empty name", lambda: carrier_gas(""), ValueError, r"gas must be one of"),
    Row(celsius, "NaN", lambda: celsius(NAN), ValueError, r"T_celsius must be finite"),
    Row(celsius, "string", lambda: celsius("hot"), (TypeError, ValueError), r"T_celsius"),
    Row(CarrierGas, "viscosity of NaN", lambda: carrier_gas("N2").viscosity(NAN), ValueError,
        r"T must be finite"),
    Row(CarrierGas, "viscosity below 0 K", lambda: carrier_gas("Ar").viscosity([300.0, -1.0]),
        ValueError, r"T must be an absolute temperature > 0 K"),
    Row(molar_mass, "not a string", lambda: molar_mass(None), TypeError,
        r"formula must be a string"),
    Row(molar_mass, "lower-case formula", lambda: molar_mass("ch4"), ValueError,
        r"not a molecular formula"),
    Row(diffusion_volume, "bool rings", lambda: diffusion_volume("C6H6", True), ValueError,
        r"rings must be an integer >= 0"),
    Row(parse_formula, "empty", lambda: parse_formula(""), ValueError, r"not a molecular formula"),
]
