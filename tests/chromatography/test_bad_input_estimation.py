"""Bad-input rows for ``sciflow.chromatography.estimation`` (retention-parameter estimation).

``ROWS`` follows the table framework of ``tests/_bad_input.py``. This file runs the rows and
checks that every public name of the module has at least three; to count them in the
package-wide coverage test, ``test_bad_input.py`` adds them to its table like the other
programmed-GC rows (``ROWS = ROWS + _estimation_rows.ROWS``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from sciflow.chromatography import estimation as E
from sciflow.chromatography.estimation import (
    RetentionFit,
    RetentionRun,
    fit_retention_parameters,
)
from sciflow.chromatography.programs import OvenProgram, PressureProgram, ProgrammedColumn
from sciflow.chromatography.thermo import load_retention_database
from tests._bad_input import Row, make_tests, public_callables

NAN = math.nan
DB_PATH = Path(__file__).resolve().parents[2] / "data" / "leppert2020b" / \
    "Database_Leppert2020b.csv"
COL = ProgrammedColumn(11.18, 0.104e-3, 0.104e-6, "H2",
                       OvenProgram.from_segments(40, [(10, 300, 180)], hold=60),
                       PressureProgram.constant(411_564.0, 101_300.0))
COL_B = COL.replace(oven=OvenProgram.from_segments(40, [(15, 300, 180)], hold=60))


@functools.cache
def solute():
    return load_retention_database(DB_PATH)["C12"]


def run(**changes):
    kw = dict(column=COL, t_R={"C12": 404.0}, name="A")
    kw.update(changes)
    return RetentionRun(**kw)


def runs(sd=None):
    return [run(t_R_sd=sd), run(column=COL_B, t_R={"C12": 322.0}, name="B", t_R_sd=sd)]


def fit(**changes):
    kw = dict(runs=runs(), solutes=[solute()], parameters=("T_char", "theta_char"))
    kw.update(changes)
    return fit_retention_parameters(kw.pop("runs"), kw.pop("solutes"), **kw)


@functools.cache
def result():
    """A valid RetentionFit (two runs, one solute)."""
    return fit()


ROWS = [
    # ---- RetentionRun -----------------------------------------------------------------------
    Row(RetentionRun, "column not a ProgrammedColumn", lambda: run(column="col"), TypeError,
        r"column must be a ProgrammedColumn"),
    Row(RetentionRun, "t_R a list", lambda: run(t_R=[404.0]), TypeError,
        r"t_R must be a mapping"),
    Row(RetentionRun, "t_R key not a string", lambda: run(t_R={12: 404.0}), TypeError,
        r"t_R keys must be solute names"),
    Row(RetentionRun, "t_R value a string", lambda: run(t_R={"C12": "404"}), TypeError,
        r"t_R\['C12'\] must be a number"),
    Row(RetentionRun, "negative t_R", lambda: run(t_R={"C12": -1.0}), ValueError,
        r"t_R\['C12'\] must be > 0"),
    Row(RetentionRun, "infinite t_R", lambda: run(t_R={"C12": math.inf}), ValueError,
        r"t_R\['C12'\] must be > 0"),
    Row(RetentionRun, "only NaN t_R", lambda: run(t_R={"C12": NAN}), ValueError,
        r"t_R must hold at least one measured"),
    Row(RetentionRun, "empty t_R", lambda: run(t_R={}), ValueError,
        r"t_R must hold at least one measured"),
    Row(RetentionRun, "name not a string", lambda: run(name=3), TypeError,
        r"name must be a string"),
    Row(RetentionRun, "negative injection_time", lambda: run(injection_time=-1.0), ValueError,
        r"injection_time must be >= 0"),
    Row(RetentionRun, "NaN detector_time_constant", lambda: run(detector_time_constant=NAN),
        ValueError, r"detector_time_constant must be finite"),
    Row(RetentionRun, "zero t_R_sd", lambda: run(t_R_sd=0.0), ValueError,
        r"t_R_sd must be > 0"),
    Row(RetentionRun, "t_R_sd a string", lambda: run(t_R_sd="0.1"), TypeError,
        r"t_R_sd must be a real number"),
    # ---- fit_retention_parameters -----------------------------------------------------------
    Row(fit_retention_parameters, "runs a string", lambda: fit(runs="A"), TypeError,
        r"runs must be a sequence of RetentionRun"),
    Row(fit_retention_parameters, "runs empty", lambda: fit(runs=[]), ValueError,
        r"runs must hold at least one run"),
    Row(fit_retention_parameters, "a run that is a number", lambda: fit(runs=[run(), 3]),
        TypeError, r"runs\[1\] must be a RetentionRun"),
    Row(fit_retention_parameters, "t_R_sd on one run only",
        lambda: fit(runs=[run(t_R_sd=0.1), runs()[1]]), ValueError,
        r"runs: give t_R_sd for every run or for none"),
    Row(fit_retention_parameters, "solutes a string", lambda: fit(solutes="C12"), TypeError,
        r"solutes must be a Solute"),
    Row(fit_retention_parameters, "solutes empty", lambda: fit(solutes=[]), ValueError,
        r"solutes must hold at least one Solute"),
    Row(fit_retention_parameters, "a solute that is a name", lambda: fit(solutes=["C12"]),
        TypeError, r"solutes must hold Solute objects"),
    Row(fit_retention_parameters, "the same solute twice",
        lambda: fit(solutes=[solute(), solute()]), ValueError, r"solutes: names must be unique"),
    Row(fit_retention_parameters, "a solute never measured",
        lambda: fit(solutes=[solute().replace(name="C13")]), ValueError,
        r"solutes: 'C13' has no measured retention time"),
    Row(fit_retention_parameters, "three parameters from two runs",
        lambda: fit(parameters=("T_char", "theta_char", "dCp")), ValueError,
        r"solutes: 'C12' has 2 measured retention time\(s\) for 3 parameters"),
    Row(fit_retention_parameters, "unknown parameter", lambda: fit(parameters=("Tchar",)),
        ValueError, r"parameters must be one of"),
    Row(fit_retention_parameters, "parameters a string", lambda: fit(parameters="T_char"),
        TypeError, r"parameters must be a sequence of names"),
    Row(fit_retention_parameters, "a parameter twice",
        lambda: fit(parameters=("T_char", "T_char")), ValueError,
        r"parameters must name each of"),
    Row(fit_retention_parameters, "no parameter", lambda: fit(parameters=()), ValueError,
        r"parameters must name each of"),
    Row(fit_retention_parameters, "unknown initial", lambda: fit(initial="database"),
        ValueError, r"initial must be one of"),
    Row(fit_retention_parameters, "rtol too loose", lambda: fit(rtol=1e-3), ValueError,
        r"rtol must lie in"),
    Row(fit_retention_parameters, "max_nfev zero", lambda: fit(max_nfev=0), ValueError,
        r"max_nfev must be >= 1"),
    Row(fit_retention_parameters, "max_nfev a float", lambda: fit(max_nfev=10.0), TypeError,
        r"max_nfev must be an integer"),
    Row(fit_retention_parameters, "progress a string", lambda: fit(progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(fit_retention_parameters, "prior_sd a list", lambda: fit(prior_sd=[30.0]), TypeError,
        r"prior_sd must be a mapping"),
    Row(fit_retention_parameters, "prior without t_R_sd",
        lambda: fit(prior_sd={"theta_char": 3.0}), ValueError,
        r"prior_sd needs t_R_sd on the runs"),
    Row(fit_retention_parameters, "prior on a held parameter",
        lambda: fit(runs=runs(0.1), prior_sd={"dCp": 30.0}), ValueError,
        r"prior_sd names 'dCp', which is not fitted"),
    Row(fit_retention_parameters, "zero prior sd",
        lambda: fit(runs=runs(0.1), prior_sd={"T_char": 0.0}), ValueError,
        r"prior_sd\['T_char'\] must be > 0"),
    Row(fit_retention_parameters, "NaN prior sd",
        lambda: fit(runs=runs(0.1), prior_sd={"T_char": NAN}), ValueError,
        r"prior_sd\['T_char'\] must be finite"),
    Row(fit_retention_parameters, "workers a string", lambda: fit(workers="two"), TypeError,
        r"workers must be None, an int"),
    # ---- RetentionFit -----------------------------------------------------------------------
    Row(RetentionFit, "names a list", lambda: replace(result(), names=["C12"]), TypeError,
        r"names must be a tuple of str"),
    Row(RetentionFit, "unknown parameter", lambda: replace(result(), parameters=("Tc",)),
        ValueError, r"parameters must be a non-empty tuple"),
    Row(RetentionFit, "solutes for other names",
        lambda: replace(result(), solutes={"C13": solute()}), ValueError,
        r"solutes must be a dict \{name: Solute\} over names"),
    Row(RetentionFit, "estimates of the wrong shape",
        lambda: replace(result(), estimates=np.zeros((1, 2))), ValueError,
        r"estimates must have shape \(1, 3\)"),
    Row(RetentionFit, "NaN estimates",
        lambda: replace(result(), estimates=np.full((1, 3), NAN)), ValueError,
        r"estimates must be finite"),
    Row(RetentionFit, "predicted for another number of runs",
        lambda: replace(result(), predicted=np.zeros((3, 1))), ValueError,
        r"predicted must have shape \(2, 1\)"),
    Row(RetentionFit, "covariance of the wrong shape",
        lambda: replace(result(), covariance=np.eye(2)), ValueError,
        r"covariance must have shape \(1, 2, 2\)"),
    Row(RetentionFit, "converged as floats",
        lambda: replace(result(), converged=np.ones(1)), TypeError,
        r"converged must be a bool array"),
    Row(RetentionFit, "nfev as floats", lambda: replace(result(), nfev=np.ones(1)), TypeError,
        r"nfev must be an integer array"),
    Row(RetentionFit, "negative wall time", lambda: replace(result(), wall_time=-1.0),
        ValueError, r"wall_time must be >= 0"),
    Row(RetentionFit, "messages too short", lambda: replace(result(), messages=()), ValueError,
        r"messages must be a tuple of 1 str"),
    Row(RetentionFit, "plot into a non-Axes", lambda: result().plot(ax="axes"), TypeError,
        r"ax must be a matplotlib Axes"),
]

test_bad_input, _ = make_tests("sciflow.chromatography", ROWS)


def test_every_estimation_name_has_three_rows():
    """The coverage check of the table, restricted to this module."""
    public = {k: v for k, v in public_callables("sciflow.chromatography").items()
              if k.startswith(f"{E.__name__}.")}
    assert set(public) == {f"{E.__name__}.{n}" for n in E.__all__
                           if n != "EstimationWarning"}
    per_name = {name: sum(r.target is obj for r in ROWS) for name, obj in public.items()}
    assert min(per_name.values()) >= 3, per_name


def test_the_valid_result_is_valid():
    """The rows above start from a valid result; it must itself construct."""
    res = result()
    assert res.names == ("C12",) and res.estimates.shape == (1, 3)
    assert replace(res).names == res.names
