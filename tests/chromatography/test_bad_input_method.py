"""Bad-input rows for ``sciflow.chromatography.method`` (method development).

``ROWS`` follows the table framework of ``tests/_bad_input.py``. This file runs the rows and
checks that every public name of the module has at least three; to count them in the
package-wide coverage test, ``test_bad_input.py`` adds them to its table like the programmed-GC
rows (``ROWS = ROWS + _method_rows.ROWS``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from sciflow.chromatography import method as M
from sciflow.chromatography.method import ProgramOptimum, optimize_program, resolution_table
from sciflow.chromatography.programs import (
    FlowProgram,
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    ThermalGradient,
    retention,
)
from sciflow.chromatography.thermo import load_retention_database
from tests._bad_input import Row, make_tests, public_callables

NAN = math.nan
DB_PATH = Path(__file__).resolve().parents[2] / "data" / "leppert2020b" / \
    "Database_Leppert2020b.csv"
OVEN = OvenProgram.from_segments(60, [(20, 300, 0)])
COL = ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "H2", OVEN,
                       PressureProgram.constant(411_564.0, 101_300.0))


@functools.cache
def solutes():
    db = load_retention_database(DB_PATH)
    return (db["C10"], db["C11"])


def opt(**changes):
    kw = dict(min_resolution=1.5, n_starts=1, n_samples=2, maxiter=2)
    kw.update(changes)
    return optimize_program(kw.pop("column", COL), kw.pop("solutes", solutes()), **kw)


@functools.cache
def optimum():
    """A valid ProgramOptimum of a fixed program (one prediction)."""
    return opt(T_start=120.0, hold=0.0, rate=20.0, T_final=300.0)


def table(n=2):
    return retention(COL, solutes()[:n])


ROWS = [
    # ---- optimize_program --------------------------------------------------------------------
    Row(optimize_program, "column not a ProgrammedColumn", lambda: opt(column="col"), TypeError,
        r"column must be a ProgrammedColumn"),
    Row(optimize_program, "column with a thermal gradient",
        lambda: opt(column=COL.replace(oven=OvenProgram([0.0, 100.0], [330.0, 400.0],
                                                        ThermalGradient(-20.0)))),
        ValueError, r"column: .*thermal gradient"),
    Row(optimize_program, "one solute", lambda: opt(solutes=solutes()[:1]), ValueError,
        r"solutes must hold at least 2"),
    Row(optimize_program, "a solute that is a string", lambda: opt(solutes=[solutes()[0], "C11"]),
        TypeError, r"solutes must hold Solute"),
    Row(optimize_program, "solutes an int", lambda: opt(solutes=3), TypeError,
        r"solutes must be a sequence"),
    Row(optimize_program, "the same solute twice",
        lambda: opt(solutes=[solutes()[0], solutes()[0]]), ValueError,
        r"solutes must have distinct names"),
    Row(optimize_program, "zero min_resolution", lambda: opt(min_resolution=0.0), ValueError,
        r"min_resolution must be > 0"),
    Row(optimize_program, "NaN min_resolution", lambda: opt(min_resolution=NAN), ValueError,
        r"min_resolution must be finite"),
    Row(optimize_program, "min_resolution a string", lambda: opt(min_resolution="1.5"),
        TypeError, r"min_resolution must be a real number"),
    Row(optimize_program, "three ramps", lambda: opt(n_ramps=3), ValueError,
        r"n_ramps must be <= 2"),
    Row(optimize_program, "n_ramps a float", lambda: opt(n_ramps=1.0), TypeError,
        r"n_ramps must be an integer"),
    Row(optimize_program, "reversed T_start bounds", lambda: opt(T_start=(200.0, 100.0)),
        ValueError, r"T_start must be a pair \(low, high\) with low <= high"),
    Row(optimize_program, "three T_start values", lambda: opt(T_start=(40.0, 80.0, 120.0)),
        ValueError, r"T_start must be a number \(fixed\) or a pair"),
    Row(optimize_program, "T_start a string", lambda: opt(T_start="40"), TypeError,
        r"T_start must be a number \(fixed\) or a pair"),
    Row(optimize_program, "T_start below absolute zero", lambda: opt(T_start=(-300.0, 40.0)),
        ValueError, r"T_start\[0\] must lie in"),
    Row(optimize_program, "T_start reaching T_final", lambda: opt(T_start=(40.0, 300.0)),
        ValueError, r"T_start must lie below T_final"),
    Row(optimize_program, "NaN T_final", lambda: opt(T_final=NAN), ValueError,
        r"T_final must be finite"),
    Row(optimize_program, "negative hold", lambda: opt(hold=(-10.0, 60.0)), ValueError,
        r"hold\[0\] must lie in \[0"),
    Row(optimize_program, "zero rate", lambda: opt(rate=0.0), ValueError,
        r"rate must lie in \(0"),
    Row(optimize_program, "negative rate bound", lambda: opt(rate=(-1.0, 40.0)), ValueError,
        r"rate\[0\] must lie in \(0"),
    Row(optimize_program, "one rate pair for two ramps in a list",
        lambda: opt(n_ramps=2, rate=[(1.0, 40.0)]), ValueError,
        r"rate as a list gives one entry per ramp \(n_ramps = 2\), got 1"),
    Row(optimize_program, "a list of bounds for one ramp", lambda: opt(rate=[1.0, 40.0]),
        ValueError, r"rate as a list gives one entry per ramp"),
    Row(optimize_program, "mid_fraction reaching 1", lambda: opt(n_ramps=2, mid_fraction=1.0),
        ValueError, r"mid_fraction must lie in \(0, 1\)"),
    Row(optimize_program, "mid_fraction from 0", lambda: opt(n_ramps=2, mid_fraction=(0.0, 0.5)),
        ValueError, r"mid_fraction\[0\] must lie in \(0"),
    Row(optimize_program, "inlet pressure below the outlet pressure",
        lambda: opt(inlet_pressure=(50e3, 400e3)), ValueError,
        r"inlet_pressure must exceed the outlet pressure"),
    Row(optimize_program, "inlet pressure with a flow program",
        lambda: opt(column=COL.replace(pressure=FlowProgram.constant(1.6667e-8)),
                    inlet_pressure=(200e3, 400e3)), ValueError,
        r"inlet_pressure: optimising the inlet pressure needs a constant PressureProgram"),
    Row(optimize_program, "unknown objective", lambda: opt(objective="fastest"), ValueError,
        r"objective must be one of"),
    Row(optimize_program, "negative final_hold", lambda: opt(final_hold=-1.0), ValueError,
        r"final_hold must be >= 0"),
    Row(optimize_program, "no starts", lambda: opt(n_starts=0), ValueError,
        r"n_starts must be >= 1"),
    Row(optimize_program, "fewer samples than starts", lambda: opt(n_starts=3, n_samples=2),
        ValueError, r"n_samples must be >= n_starts"),
    Row(optimize_program, "rtol 1", lambda: opt(rtol=1.0), ValueError, r"rtol must lie in"),
    Row(optimize_program, "zero maxiter", lambda: opt(maxiter=0), ValueError,
        r"maxiter must be >= 1"),
    Row(optimize_program, "zero ftol", lambda: opt(ftol=0.0), ValueError, r"ftol must lie in"),
    Row(optimize_program, "tol 1", lambda: opt(tol=1.0), ValueError, r"tol must lie in"),
    Row(optimize_program, "progress a string", lambda: opt(progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(optimize_program, "an unknown keyword", lambda: opt(injection_tme=1.0), TypeError,
        r"retention_kw: unknown keyword argument\(s\) \['injection_tme'\]"),
    Row(optimize_program, "rng a string", lambda: opt(rng="seed"), TypeError,
        r"rng must be a numpy.random.Generator"),
    Row(optimize_program, "negative injection time (checked by retention)",
        lambda: opt(injection_time=-1.0), ValueError, r"injection_time must be >= 0"),
    # ---- resolution_table --------------------------------------------------------------------
    Row(resolution_table, "a dict instead of a table", lambda: resolution_table({"t_R": [1, 2]}),
        TypeError, r"table must be a RetentionTable"),
    Row(resolution_table, "None", lambda: resolution_table(None), TypeError,
        r"table must be a RetentionTable"),
    Row(resolution_table, "a table of one solute", lambda: resolution_table(table(1)),
        ValueError, r"table must hold at least 2 solutes"),
    # ---- ProgramOptimum ----------------------------------------------------------------------
    Row(ProgramOptimum, "program not an OvenProgram",
        lambda: replace(optimum(), program=[0.0, 1.0]), TypeError,
        r"program must be an OvenProgram"),
    Row(ProgramOptimum, "table not a RetentionTable", lambda: replace(optimum(), table={}),
        TypeError, r"table must be a RetentionTable"),
    Row(ProgramOptimum, "unknown objective", lambda: replace(optimum(), objective="fast"),
        ValueError, r"objective must be one of"),
    Row(ProgramOptimum, "negative run time", lambda: replace(optimum(), run_time=-1.0),
        ValueError, r"run_time must be > 0"),
    Row(ProgramOptimum, "NaN min_resolution", lambda: replace(optimum(), min_resolution=NAN),
        ValueError, r"min_resolution must be finite"),
    Row(ProgramOptimum, "critical pair not in the table",
        lambda: replace(optimum(), critical_pair=("C10", "C99")), ValueError,
        r"critical_pair must name two solutes"),
    Row(ProgramOptimum, "success a string", lambda: replace(optimum(), success="yes"),
        TypeError, r"success must be a bool"),
    Row(ProgramOptimum, "nfev a float", lambda: replace(optimum(), nfev=1.5), TypeError,
        r"nfev must be an integer"),
    Row(ProgramOptimum, "plot into a non-Axes", lambda: optimum().plot(ax="axes"), TypeError,
        r"ax must be a matplotlib Axes"),
]

test_bad_input, _ = make_tests("sciflow.chromatography", ROWS)


def test_every_method_name_has_three_rows():
    """The coverage check of the table, restricted to this module."""
    public = {k: v for k, v in public_callables("sciflow.chromatography").items()
              if k.startswith(f"{M.__name__}.")}
    assert set(public) == {f"{M.__name__}.{n}" for n in M.__all__}
    per_name = {name: sum(r.target is obj for r in ROWS) for name, obj in public.items()}
    assert min(per_name.values()) >= 3, per_name


def test_the_valid_optimum_is_valid():
    """The rows above start from a valid result; it must itself construct."""
    res = optimum()
    assert res.success and res.free == () and np.isfinite(res.run_time)
