"""Bad input to every public name of ``sciflow.chromatography`` raises a clear error.

One row per bad input (negative, zero, NaN/inf, wrong type, wrong shape, empty, decreasing),
each expecting ``ValueError``/``TypeError`` (``FileNotFoundError`` for a missing file) with a
message that names the offending parameter. The table framework is ``tests/_bad_input.py``.
"""

from __future__ import annotations

import functools
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from sciflow.chromatography import (
    Analyte,
    Chromatogram,
    Column,
    FitResult,
    Moments,
    fd,
    fit,
    fit_many,
    moments,
    simulate,
)
from sciflow.chromatography import exact as ex
from sciflow.chromatography import io as gio
from sciflow.chromatography import laplace as lp
from sciflow.chromatography.fit import find_peaks
from sciflow.chromatography.simulate import outlet_response_exact
from tests._bad_input import Row, make_tests
from tests.chromatography import bad_input_programs as _programs_rows
from tests.chromatography import test_bad_input_estimation as _estimation_rows
from tests.chromatography import test_bad_input_fd_programmed as _fd_programmed_rows
from tests.chromatography import test_bad_input_injection as _injection_rows
from tests.chromatography import test_bad_input_method as _method_rows

NAN, INF = math.nan, math.inf

COL_KW = dict(length=20.0, radius=90e-6, film_thickness=1e-6, temperature=353.15,
              inlet_pressure=4.01e5, outlet_pressure=1.013e5, viscosity=2.3e-5,
              inlet_velocity=0.41)
COL = Column(**COL_KW)
COL_D = COL.replace(dispersion=1e-4)
AN = Analyte("a", 200.0, 8.0)
T = np.linspace(0.0, 100.0, 11)
T_DEC = T[::-1].copy()
T_NAN = np.r_[T[:-1], NAN]
# a Gaussian peak on a fine grid, for the fit rows (their checks come before any fitting)
TF = np.linspace(0.0, 100.0, 201)
SF = np.exp(-0.5 * ((TF - 60.0) / 3.0) ** 2)


def column(**changes):
    return Column(**{**COL_KW, **changes})


def chrom(**changes):
    kw = dict(t=T, c=np.zeros(T.size), components=np.zeros((1, T.size)), names=("a",))
    kw.update(changes)
    return Chromatogram(**kw)


def moments_obj(**changes):
    kw = dict(holdup_time=50.0, retention_factor=2.0, retention_time=150.0, variance=4.0,
              skewness=0.1)
    kw.update(changes)
    return Moments(**kw)


def fit_result_kwargs(**changes):
    """The fields of a valid two-peak FitResult, with ``changes`` applied."""
    n, nt = 2, TF.size
    one = np.ones(n)
    kw = dict(
        names=("a", "b"), k_a=one, k_d=one, amplitude=one, k_a_stderr=one, k_d_stderr=one,
        amplitude_stderr=one, covariance=np.eye(3 * n), retention_time=np.array([40.0, 60.0]),
        retention_time_stderr=one, peak_std=one, peak_std_stderr=one, area=one, r2=one,
        r2_total=1.0, peak_success=np.ones(n, bool), groups=((0,), (1,)),
        windows=np.array([[30.0, 50.0], [50.0, 70.0]]), baseline=(np.zeros(1), np.zeros(1)),
        baseline_kind="constant", t=TF, signal=SF, model_signal=SF,
        baseline_signal=np.zeros(nt), components=np.zeros((n, nt)), success=True, message="",
        nfev=1, wall_time=0.0, column=COL, injection_time=1.0, compressible=True,
        method="exact", window=6.0)
    kw.update(changes)
    return kw


@functools.cache
def fit_result():
    return FitResult(**fit_result_kwargs())


def fit_call(**changes):
    kw = dict(t=TF, signal=SF, column=COL, peaks=1, injection_time=1.0, progress=False)
    kw.update(changes)
    return fit(kw.pop("t"), kw.pop("signal"), kw.pop("column"), kw.pop("peaks"), **kw)


@functools.cache
def _tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sciflow-bad-input-"))


def text_file(name: str, text: str) -> Path:
    """A file with ``text`` in a temporary folder (written when the row runs)."""
    p = _tmpdir() / name
    p.write_text(text, encoding="utf-8")
    return p


def btex_json(**changes) -> Path:
    import json

    d = {"column": {"length_m": 20.0, "radius_m": 90e-6, "film_thickness_m": 1e-6,
                    "temperature_K": 353.15, "inlet_pressure_Pa": 4.01e5,
                    "outlet_pressure_Pa": 1.013e5, "viscosity_Pa_s": 2.3e-5,
                    "inlet_velocity_m_s": 0.41},
         "analytes": [{"name": "benzene", "k_a_per_s": 100.0, "k_d_per_s": 5.0}],
         "injection": {"c0_mol_m3": 1e-6, "injection_time_s": 4.0}}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            d[section][field] = value
        elif value is None:
            del d[section]
        else:
            d[section] = value
    return text_file("btex.json", json.dumps(d))


CHROM_OK = "time_s,ordinate_values\n0.0,1\n0.5,2\n1.0,3\n"
PROG_OK = "Deltat;T;DeltaT;pinj;pdet\n0;50;0;250;0\n10;50;0;250;0\n"

ROWS = [
    # ---- Column ------------------------------------------------------------------------------
    Row(Column, "negative length", lambda: column(length=-1.0), ValueError, r"length must be > 0"),
    Row(Column, "zero radius", lambda: column(radius=0.0), ValueError, r"radius must be > 0"),
    Row(Column, "film as thick as the radius", lambda: column(film_thickness=90e-6), ValueError,
        r"film_thickness must be smaller than radius"),
    Row(Column, "NaN temperature", lambda: column(temperature=NAN), ValueError,
        r"temperature must be finite"),
    Row(Column, "infinite inlet pressure", lambda: column(inlet_pressure=INF), ValueError,
        r"inlet_pressure must be finite"),
    Row(Column, "outlet above inlet pressure", lambda: column(outlet_pressure=5e5), ValueError,
        r"outlet_pressure .* must not exceed inlet_pressure"),
    Row(Column, "viscosity a string", lambda: column(viscosity="2e-5"), TypeError,
        r"viscosity must be a real number"),
    Row(Column, "length a bool", lambda: column(length=True), TypeError,
        r"length must be a real number"),
    Row(Column, "negative inlet velocity", lambda: column(inlet_velocity=-0.1), ValueError,
        r"inlet_velocity must be > 0"),
    Row(Column, "negative dispersion", lambda: column(dispersion=-1e-5), ValueError,
        r"dispersion must be >= 0"),
    Row(Column, "no pressure drop and no velocity",
        lambda: column(outlet_pressure=4.01e5, inlet_velocity=None), ValueError,
        r"inlet_velocity is required"),
    Row(Column, "velocity beyond the outlet (x > L)", lambda: COL.velocity(20.5), ValueError,
        r"x must lie in \[0, L\]"),
    Row(Column, "velocity before the inlet (x < 0)", lambda: COL.velocity([-1.0, 1.0]),
        ValueError, r"x must lie in \[0, L\]"),
    Row(Column, "velocity at NaN", lambda: COL.velocity(NAN), ValueError, r"x must be finite"),
    Row(Column, "pressure beyond the outlet", lambda: COL.pressure([0.0, 21.0]), ValueError,
        r"x must lie in \[0, L\]"),
    Row(Column, "velocity, compressible a string", lambda: COL.velocity(1.0, "no"), TypeError,
        r"compressible must be a bool"),
    Row(Column, "holdup_time, compressible a string", lambda: COL.holdup_time("yes"),
        TypeError, r"compressible must be a bool"),
    Row(Column, "u_out, compressible an int", lambda: COL.u_out(1), TypeError,
        r"compressible must be a bool"),
    Row(Column, "replace with an unknown field", lambda: COL.replace(lenght=3.0), TypeError,
        r"changes: unknown Column field\(s\) \['lenght'\]"),
    Row(Column, "replace with a negative length", lambda: COL.replace(length=-3.0), ValueError,
        r"length must be > 0"),
    # ---- Analyte -----------------------------------------------------------------------------
    Row(Analyte, "negative k_a", lambda: Analyte("x", -1.0, 1.0), ValueError,
        r"k_a must be >= 0"),
    Row(Analyte, "zero k_d", lambda: Analyte("x", 1.0, 0.0), ValueError, r"k_d must be > 0"),
    Row(Analyte, "NaN k_d", lambda: Analyte("x", 1.0, NAN), ValueError, r"k_d must be finite"),
    Row(Analyte, "infinite k_a", lambda: Analyte("x", INF, 1.0), ValueError,
        r"k_a must be finite"),
    Row(Analyte, "k_a a string", lambda: Analyte("x", "1", 1.0), TypeError,
        r"k_a must be a real number"),
    Row(Analyte, "name not a string", lambda: Analyte(3, 1.0, 1.0), TypeError,
        r"name must be a string"),
    Row(Analyte, "retention_factor of a non-Column", lambda: AN.retention_factor("col"),
        TypeError, r"column must be a Column"),
    Row(Analyte, "A with compressible a string", lambda: AN.A(COL, "no"), TypeError,
        r"compressible must be a bool"),
    # ---- Moments / moments -------------------------------------------------------------------
    Row(Moments, "negative variance", lambda: moments_obj(variance=-1.0), ValueError,
        r"variance must be >= 0"),
    Row(Moments, "zero hold-up time", lambda: moments_obj(holdup_time=0.0), ValueError,
        r"holdup_time must be > 0"),
    Row(Moments, "NaN retention time", lambda: moments_obj(retention_time=NAN), ValueError,
        r"retention_time must be finite"),
    Row(Moments, "negative retention factor", lambda: moments_obj(retention_factor=-1.0),
        ValueError, r"retention_factor must be >= 0"),
    Row(Moments, "skewness a string", lambda: moments_obj(skewness="0"), TypeError,
        r"skewness must be a real number"),
    Row(moments, "compressible a string", lambda: moments(COL, AN, compressible="yes"),
        TypeError, r"compressible must be a bool"),
    Row(moments, "negative injection time", lambda: moments(COL, AN, injection_time=-1.0),
        ValueError, r"injection_time must be >= 0"),
    Row(moments, "NaN injection time", lambda: moments(COL, AN, injection_time=NAN),
        ValueError, r"injection_time must be finite"),
    Row(moments, "column not a Column", lambda: moments("col", AN), TypeError,
        r"column must be a Column"),
    Row(moments, "analyte not an Analyte", lambda: moments(COL, "benzene"), TypeError,
        r"analyte must be an Analyte"),
    # ---- Chromatogram ------------------------------------------------------------------------
    Row(Chromatogram, "c shorter than t", lambda: chrom(c=np.zeros(T.size - 1)), ValueError,
        r"c must have the shape of t"),
    Row(Chromatogram, "components with the wrong number of times",
        lambda: chrom(components=np.zeros((1, 3))), ValueError, r"components must have shape"),
    Row(Chromatogram, "components 1-D", lambda: chrom(components=np.zeros(T.size)), ValueError,
        r"components must be 2-dimensional"),
    Row(Chromatogram, "t 2-D", lambda: chrom(t=T[None, :]), ValueError,
        r"t must be 1-dimensional"),
    Row(Chromatogram, "empty t", lambda: chrom(t=np.zeros(0), c=np.zeros(0),
                                               components=np.zeros((1, 0))),
        ValueError, r"t must have at least 1"),
    Row(Chromatogram, "NaN in t", lambda: chrom(t=T_NAN), ValueError, r"t must be finite"),
    Row(Chromatogram, "two names for one component", lambda: chrom(names=("a", "b")),
        ValueError, r"names must have one entry per component"),
    Row(Chromatogram, "plot into a non-Axes", lambda: chrom().plot(ax="axes"), TypeError,
        r"ax must be a matplotlib Axes"),
    # ---- simulate ----------------------------------------------------------------------------
    Row(simulate, "compressible='no' (exact)",
        lambda: simulate(COL, AN, T, injection_time=1.0, compressible="no"), TypeError,
        r"compressible must be a bool"),
    Row(simulate, "compressible='no' (laplace)",
        lambda: simulate(COL, AN, T, injection_time=1.0, method="laplace", compressible="no"),
        TypeError, r"compressible must be a bool"),
    Row(simulate, "compressible=1 (fd)",
        lambda: simulate(COL, AN, T, injection_time=1.0, method="fd", compressible=1),
        TypeError, r"compressible must be a bool"),
    Row(simulate, "negative c0", lambda: simulate(COL, AN, T, injection_time=1.0, c0=-1.0),
        ValueError, r"c0 must be >= 0"),
    Row(simulate, "NaN c0", lambda: simulate(COL, AN, T, injection_time=1.0, c0=NAN),
        ValueError, r"c0 must be finite"),
    Row(simulate, "c0 of the wrong shape",
        lambda: simulate(COL, AN, T, injection_time=1.0, c0=[1.0, 2.0]), ValueError,
        r"c0 must be a scalar or have shape \(1,\)"),
    Row(simulate, "decreasing t", lambda: simulate(COL, AN, T_DEC, injection_time=1.0),
        ValueError, r"t must be strictly increasing"),
    Row(simulate, "empty t", lambda: simulate(COL, AN, [], injection_time=1.0), ValueError,
        r"t must have at least 1"),
    Row(simulate, "2-D t", lambda: simulate(COL, AN, T[None, :], injection_time=1.0),
        ValueError, r"t must be 1-dimensional"),
    Row(simulate, "NaN in t", lambda: simulate(COL, AN, T_NAN, injection_time=1.0), ValueError,
        r"t must be finite"),
    Row(simulate, "zero injection time", lambda: simulate(COL, AN, T, injection_time=0.0),
        ValueError, r"injection_time must be > 0"),
    Row(simulate, "infinite injection time", lambda: simulate(COL, AN, T, injection_time=INF),
        ValueError, r"injection_time must be finite"),
    Row(simulate, "unknown method",
        lambda: simulate(COL, AN, T, injection_time=1.0, method="spectral"), ValueError,
        r"method must be one of"),
    Row(simulate, "method not a string",
        lambda: simulate(COL, AN, T, injection_time=1.0, method=None), TypeError,
        r"method must be a string"),
    Row(simulate, "no analytes", lambda: simulate(COL, [], T, injection_time=1.0), TypeError,
        r"analytes must be an Analyte or a non-empty sequence"),
    Row(simulate, "analytes an int", lambda: simulate(COL, 5, T, injection_time=1.0), TypeError,
        r"analytes must be an Analyte"),
    Row(simulate, "column a string", lambda: simulate("col", AN, T, injection_time=1.0),
        TypeError, r"column must be a Column"),
    Row(simulate, "exact with dispersion", lambda: simulate(COL_D, AN, T, injection_time=1.0),
        ValueError, r"column.dispersion"),
    # ---- simulate.outlet_response_exact ------------------------------------------------------
    Row(outlet_response_exact, "compressible a string",
        lambda: outlet_response_exact(COL, AN, T, injection_time=1.0, compressible="no"),
        TypeError, r"compressible must be a bool"),
    Row(outlet_response_exact, "decreasing t",
        lambda: outlet_response_exact(COL, AN, T_DEC, injection_time=1.0), ValueError,
        r"t must be strictly increasing"),
    Row(outlet_response_exact, "zero injection time",
        lambda: outlet_response_exact(COL, AN, T, injection_time=0.0), ValueError,
        r"injection_time must be > 0"),
    Row(outlet_response_exact, "analyte a string",
        lambda: outlet_response_exact(COL, "a", T, injection_time=1.0), TypeError,
        r"analyte must be an Analyte"),
    Row(outlet_response_exact, "unknown algorithm",
        lambda: outlet_response_exact(COL, AN, T, injection_time=1.0, algorithm="talbot"),
        ValueError, r"algorithm must be one of"),
    # ---- exact -------------------------------------------------------------------------------
    Row(ex.step_response, "negative A", lambda: ex.step_response(T, -1.0, 2.0), ValueError,
        r"A must be >= 0"),
    Row(ex.step_response, "zero k_d", lambda: ex.step_response(T, 5.0, 0.0), ValueError,
        r"k_d must be > 0"),
    Row(ex.step_response, "negative k_d", lambda: ex.step_response(T, 5.0, -2.0), ValueError,
        r"k_d must be > 0"),
    Row(ex.step_response, "NaN in tau", lambda: ex.step_response(T_NAN, 5.0, 2.0), ValueError,
        r"tau must be finite"),
    Row(ex.step_response, "NaN A", lambda: ex.step_response(T, NAN, 2.0), ValueError,
        r"A must be finite"),
    Row(ex.step_response, "unknown algorithm",
        lambda: ex.step_response(T, 5.0, 2.0, algorithm="talbot"), ValueError,
        r"algorithm must be one of"),
    Row(ex.step_response, "unknown algorithm with A = 0",
        lambda: ex.step_response(T, 0.0, 2.0, algorithm="talbot"), ValueError,
        r"algorithm must be one of"),
    Row(ex.step_response, "tau of strings", lambda: ex.step_response(["a", "b"], 5.0, 2.0),
        TypeError, r"tau must be array-like of numbers"),
    Row(ex.step_response_marcum, "negative A",
        lambda: ex.step_response_marcum(T, -1.0, 2.0), ValueError, r"A must be >= 0"),
    Row(ex.step_response_marcum, "zero k_d",
        lambda: ex.step_response_marcum(T, 1.0, 0.0), ValueError, r"k_d must be > 0"),
    Row(ex.step_response_marcum, "NaN in tau",
        lambda: ex.step_response_marcum(T_NAN, 1.0, 2.0), ValueError, r"tau must be finite"),
    Row(ex.thomas_density, "negative A", lambda: ex.thomas_density(T, -1.0, 2.0), ValueError,
        r"A must be >= 0"),
    Row(ex.thomas_density, "zero k_d", lambda: ex.thomas_density(T, 1.0, 0.0), ValueError,
        r"k_d must be > 0"),
    Row(ex.thomas_density, "infinite tau", lambda: ex.thomas_density([1.0, INF], 1.0, 2.0),
        ValueError, r"tau must be finite"),
    Row(ex.pulse_response, "negative injection time",
        lambda: ex.pulse_response(T, 10.0, 5.0, 2.0, -1.0), ValueError,
        r"injection_time must be > 0"),
    Row(ex.pulse_response, "zero injection time",
        lambda: ex.pulse_response(T, 10.0, 5.0, 2.0, 0.0), ValueError,
        r"injection_time must be > 0"),
    Row(ex.pulse_response, "negative t_M", lambda: ex.pulse_response(T, -1.0, 5.0, 2.0, 1.0),
        ValueError, r"t_M must be >= 0"),
    Row(ex.pulse_response, "NaN in t", lambda: ex.pulse_response(T_NAN, 10.0, 5.0, 2.0, 1.0),
        ValueError, r"t must be finite"),
    Row(ex.pulse_response, "NaN A", lambda: ex.pulse_response(T, 10.0, NAN, 2.0, 1.0),
        ValueError, r"A must be finite"),
    Row(ex.pulse_response, "negative A", lambda: ex.pulse_response(T, 10.0, -5.0, 2.0, 1.0),
        ValueError, r"A must be >= 0"),
    Row(ex.pulse_response, "zero k_d", lambda: ex.pulse_response(T, 10.0, 5.0, 0.0, 1.0),
        ValueError, r"k_d must be > 0"),
    # ---- fit.find_peaks ----------------------------------------------------------------------
    Row(find_peaks, "decreasing t", lambda: find_peaks(TF[::-1], SF, 1), ValueError,
        r"t must be strictly increasing"),
    Row(find_peaks, "n_peaks = 0", lambda: find_peaks(TF, SF, 0), ValueError,
        r"n_peaks must be >= 1"),
    Row(find_peaks, "n_peaks a float", lambda: find_peaks(TF, SF, 1.5), TypeError,
        r"n_peaks must be an integer"),
    Row(find_peaks, "more peaks than the signal has", lambda: find_peaks(TF, SF, 50),
        ValueError, r"n_peaks: asked for 50 peaks"),
    Row(find_peaks, "signal shorter than t", lambda: find_peaks(TF, SF[:-1], 1), ValueError,
        r"signal must have the same length as t"),
    Row(find_peaks, "NaN in signal", lambda: find_peaks(TF, np.r_[SF[:-1], NAN], 1),
        ValueError, r"signal must be finite"),
    Row(find_peaks, "two samples", lambda: find_peaks([0.0, 1.0], [0.0, 1.0], 1), ValueError,
        r"t must have at least 3"),
    Row(find_peaks, "negative smoothing", lambda: find_peaks(TF, SF, 1, smooth=-1.0),
        ValueError, r"smooth must be > 0"),
    # ---- fit ---------------------------------------------------------------------------------
    Row(fit, "compressible a string", lambda: fit_call(compressible="yes"), TypeError,
        r"compressible must be a bool"),
    Row(fit, "decreasing t", lambda: fit_call(t=TF[::-1]), ValueError,
        r"t must be strictly increasing"),
    Row(fit, "NaN in signal", lambda: fit_call(signal=np.r_[SF[:-1], NAN]), ValueError,
        r"signal must be finite"),
    Row(fit, "signal shorter than t", lambda: fit_call(signal=SF[:-1]), ValueError,
        r"signal must have the same length as t"),
    Row(fit, "zero peaks", lambda: fit_call(peaks=0), ValueError, r"peaks must be >= 1"),
    Row(fit, "peaks a string", lambda: fit_call(peaks="two"), TypeError,
        r"peaks must be an int"),
    Row(fit, "empty list of initial analytes", lambda: fit_call(peaks=[]), TypeError,
        r"peaks must be an int .* non-empty sequence"),
    Row(fit, "negative window", lambda: fit_call(window=-1.0), ValueError,
        r"window must be > 0"),
    Row(fit, "zero injection time", lambda: fit_call(injection_time=0.0), ValueError,
        r"injection_time must be > 0"),
    Row(fit, "max_nfev = 0", lambda: fit_call(max_nfev=0), ValueError,
        r"max_nfev must be >= 1"),
    Row(fit, "unknown baseline", lambda: fit_call(baseline="cubic"), ValueError,
        r"baseline must be one of"),
    Row(fit, "unknown method", lambda: fit_call(method="spline"), ValueError,
        r"method must be one of"),
    Row(fit, "column a string", lambda: fit_call(column="col"), TypeError,
        r"column must be a Column"),
    Row(fit, "negative ftol", lambda: fit_call(ftol=-1.0), ValueError, r"ftol must be >= 0"),
    Row(fit, "exact with dispersion", lambda: fit_call(column=COL_D), ValueError,
        r"dispersion"),
    # ---- fit_many ----------------------------------------------------------------------------
    Row(fit_many, "chromatograms an int",
        lambda: fit_many(5, COL, 1, injection_time=1.0, progress=False), TypeError,
        r"chromatograms must be a sequence of \(t, signal\) pairs"),
    Row(fit_many, "chromatograms a string",
        lambda: fit_many("ts", COL, 1, injection_time=1.0, progress=False), TypeError,
        r"chromatograms must be a sequence"),
    Row(fit_many, "an item that is not a pair",
        lambda: fit_many([np.zeros(3)], COL, 1, injection_time=1.0, progress=False), TypeError,
        r"chromatograms\[0\] must be a \(t, signal\) pair"),
    Row(fit_many, "signal shorter than t",
        lambda: fit_many([(TF, SF[:-1])], COL, 1, injection_time=1.0, progress=False),
        ValueError, r"chromatograms\[0\]: signal must have the same length as t"),
    Row(fit_many, "decreasing t",
        lambda: fit_many([(TF, SF), (TF[::-1], SF)], COL, 1, injection_time=1.0,
                         progress=False), ValueError,
        r"chromatograms\[1\]: t must be strictly increasing"),
    Row(fit_many, "column a string",
        lambda: fit_many([(TF, SF)], "col", 1, injection_time=1.0, progress=False), TypeError,
        r"column must be a Column"),
    # ---- FitResult ---------------------------------------------------------------------------
    Row(FitResult, "k_a of the wrong length",
        lambda: FitResult(**fit_result_kwargs(k_a=np.ones(3))), ValueError,
        r"k_a must have shape \(n_peaks,\)"),
    Row(FitResult, "covariance of the wrong shape",
        lambda: FitResult(**fit_result_kwargs(covariance=np.eye(3))), ValueError,
        r"covariance must have shape"),
    Row(FitResult, "components of the wrong shape",
        lambda: FitResult(**fit_result_kwargs(components=np.zeros((2, 5)))), ValueError,
        r"components must have shape"),
    Row(FitResult, "signal shorter than t",
        lambda: FitResult(**fit_result_kwargs(signal=SF[:-1])), ValueError,
        r"signal must have the shape of t"),
    Row(FitResult, "no names", lambda: FitResult(**fit_result_kwargs(names=())), ValueError,
        r"names must name at least one peak"),
    Row(FitResult, "decreasing t", lambda: FitResult(**fit_result_kwargs(t=TF[::-1])),
        ValueError, r"t must be strictly increasing"),
    Row(FitResult, "unknown baseline kind",
        lambda: FitResult(**fit_result_kwargs(baseline_kind="cubic")), ValueError,
        r"baseline_kind must be one of"),
    Row(FitResult, "groups that miss a peak",
        lambda: FitResult(**fit_result_kwargs(groups=((0,), (0,)))), ValueError,
        r"groups must hold each peak index"),
    Row(FitResult, "peak_success not boolean",
        lambda: FitResult(**fit_result_kwargs(peak_success=np.ones(2))), ValueError,
        r"peak_success must be a bool array"),
    Row(FitResult, "zero injection time",
        lambda: FitResult(**fit_result_kwargs(injection_time=0.0)), ValueError,
        r"injection_time must be > 0"),
    Row(FitResult, "replace with a mismatched area",
        lambda: replace(fit_result(), area=np.ones(5)), ValueError, r"area must have shape"),
    Row(FitResult, "analyte_covariance past the last peak",
        lambda: fit_result().analyte_covariance(2), ValueError, r"i must be <= 1"),
    Row(FitResult, "analyte_covariance of a negative index",
        lambda: fit_result().analyte_covariance(-1), ValueError, r"i must be >= 0"),
    Row(FitResult, "analyte_covariance of a float",
        lambda: fit_result().analyte_covariance(1.0), TypeError, r"i must be an integer"),
    Row(FitResult, "plot with a reversed xlim", lambda: fit_result().plot(xlim=(60.0, 40.0)),
        ValueError, r"xlim must be a pair"),
    Row(FitResult, "plot with a 3-element xlim", lambda: fit_result().plot(xlim=(1, 2, 3)),
        ValueError, r"xlim must be a pair"),
    Row(FitResult, "plot into a non-Axes", lambda: fit_result().plot(ax=1), TypeError,
        r"ax must be a matplotlib Axes"),
    # ---- fd ----------------------------------------------------------------------------------
    Row(fd.default_resolution, "zero tol",
        lambda: fd.default_resolution(COL, AN, injection_time=1.0, tol=0.0), ValueError,
        r"tol must lie in"),
    Row(fd.default_resolution, "order 4",
        lambda: fd.default_resolution(COL, AN, injection_time=1.0, order=4), ValueError,
        r"order must be one of"),
    Row(fd.default_resolution, "order a float",
        lambda: fd.default_resolution(COL, AN, injection_time=1.0, order=5.0), TypeError,
        r"order must be an integer"),
    Row(fd.default_resolution, "unknown time scheme",
        lambda: fd.default_resolution(COL, AN, injection_time=1.0, time_scheme="rk4"),
        ValueError, r"time_scheme must be one of"),
    Row(fd.default_resolution, "negative injection time",
        lambda: fd.default_resolution(COL, AN, injection_time=-1.0), ValueError,
        r"injection_time must be > 0"),
    Row(fd.default_resolution, "compressible a string",
        lambda: fd.default_resolution(COL, AN, injection_time=1.0, compressible="no"),
        TypeError, r"compressible must be a bool"),
    Row(fd.default_resolution, "analyte a string",
        lambda: fd.default_resolution(COL, "a", injection_time=1.0), TypeError,
        r"analyte must be an Analyte"),
    Row(fd.outlet_response_fd, "decreasing t",
        lambda: fd.outlet_response_fd(COL, AN, T_DEC, injection_time=1.0), ValueError,
        r"t must be strictly increasing"),
    Row(fd.outlet_response_fd, "empty t",
        lambda: fd.outlet_response_fd(COL, AN, [], injection_time=1.0), ValueError,
        r"t must have at least 1"),
    Row(fd.outlet_response_fd, "too few cells",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, n_cells=5), ValueError,
        r"n_cells must be >= 12"),
    Row(fd.outlet_response_fd, "negative dt",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, dt=-1.0), ValueError,
        r"dt must be > 0"),
    Row(fd.outlet_response_fd, "both dt and cfl",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, dt=0.1, cfl=1.0),
        ValueError, r"at most one of dt and cfl"),
    Row(fd.outlet_response_fd, "compressible a string",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, compressible="yes"),
        TypeError, r"compressible must be a bool"),
    Row(fd.outlet_response_fd, "NaN stop_tol",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, stop_tol=NAN),
        ValueError, r"stop_tol must be finite"),
    Row(fd.outlet_response_fd, "order a float",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, order=3.0), TypeError,
        r"order must be an integer"),
    # ---- laplace -----------------------------------------------------------------------------
    Row(lp.transfer_function, "NaN s", lambda: lp.transfer_function(COL, AN, [0.0, NAN]),
        ValueError, r"s must be finite"),
    Row(lp.transfer_function, "s of strings", lambda: lp.transfer_function(COL, AN, ["x"]),
        TypeError, r"s must be array-like"),
    Row(lp.transfer_function, "compressible a string",
        lambda: lp.transfer_function(COL, AN, [0.0], compressible="yes"), TypeError,
        r"compressible must be a bool"),
    Row(lp.transfer_function, "zero tol", lambda: lp.transfer_function(COL, AN, [0.0], tol=0.0),
        ValueError, r"tol must lie in"),
    Row(lp.transfer_function, "too few Riccati segments",
        lambda: lp.transfer_function(COL, AN, [0.0], max_segments=10), ValueError,
        r"max_segments must be >= 64"),
    Row(lp.transfer_function, "analyte a string", lambda: lp.transfer_function(COL, "a", [0.0]),
        TypeError, r"analyte must be an Analyte"),
    Row(lp.transfer_moments, "negative injection time",
        lambda: lp.transfer_moments(COL, AN, True, -2.0), ValueError,
        r"injection_time must be >= 0"),
    Row(lp.transfer_moments, "compressible a string",
        lambda: lp.transfer_moments(COL, AN, "no"), TypeError, r"compressible must be a bool"),
    Row(lp.transfer_moments, "column a string", lambda: lp.transfer_moments("col", AN),
        TypeError, r"column must be a Column"),
    Row(lp.outlet_response_laplace, "empty t",
        lambda: lp.outlet_response_laplace(COL, AN, [], injection_time=1.0), ValueError,
        r"t must have at least 1"),
    Row(lp.outlet_response_laplace, "decreasing t",
        lambda: lp.outlet_response_laplace(COL, AN, T_DEC, injection_time=1.0), ValueError,
        r"t must be strictly increasing"),
    Row(lp.outlet_response_laplace, "zero tol",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, tol=0.0),
        ValueError, r"tol must lie in"),
    Row(lp.outlet_response_laplace, "tol = 1",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, tol=1.0),
        ValueError, r"tol must lie in"),
    Row(lp.outlet_response_laplace, "unknown on_fail",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, on_fail="ignore"),
        ValueError, r"on_fail must be one of"),
    Row(lp.outlet_response_laplace, "zero guard",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, guard=0.0),
        ValueError, r"guard must be > 0"),
    Row(lp.outlet_response_laplace, "too few terms",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, max_terms=2),
        ValueError, r"max_terms must be >= 4"),
    Row(lp.outlet_response_laplace, "compressible a string",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=1.0, compressible="no"),
        TypeError, r"compressible must be a bool"),
    Row(lp.outlet_response_laplace, "NaN injection time",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection_time=NAN), ValueError,
        r"injection_time must be finite"),
    # ---- io ----------------------------------------------------------------------------------
    Row(gio.read_leppert_chromatogram, "path None", lambda: gio.read_leppert_chromatogram(None),
        TypeError, r"path must be a str or os.PathLike"),
    Row(gio.read_leppert_chromatogram, "missing file",
        lambda: gio.read_leppert_chromatogram(_tmpdir() / "absent.csv"), FileNotFoundError,
        r"path: .*absent.csv is not an existing file"),
    Row(gio.read_leppert_chromatogram, "empty file",
        lambda: gio.read_leppert_chromatogram(text_file("empty.csv", "")), ValueError,
        r"path: .* is empty"),
    Row(gio.read_leppert_chromatogram, "unknown columns",
        lambda: gio.read_leppert_chromatogram(text_file("ab.csv", "a,b\n1,2\n")), ValueError,
        r"path: .* has columns"),
    Row(gio.read_leppert_chromatogram, "a value that is not a number",
        lambda: gio.read_leppert_chromatogram(
            text_file("nan.csv", "time_s,ordinate_values\n0,1\n1,x\n")), ValueError,
        r"path: .* not a number"),
    Row(gio.read_leppert_chromatogram, "decreasing times",
        lambda: gio.read_leppert_chromatogram(
            text_file("dec.csv", "time_s,ordinate_values\n1,1\n0,2\n")), ValueError,
        r"path: .* times must be strictly increasing"),
    Row(gio.read_leppert_chromatogram, "header only",
        lambda: gio.read_leppert_chromatogram(text_file("head.csv", "time_s,ordinate_values\n")),
        ValueError, r"path: .* no data rows"),
    Row(gio.read_leppert_retention, "unknown width unit",
        lambda: gio.read_leppert_retention(text_file("c.csv", CHROM_OK),
                                           conventional_width_unit="h"), ValueError,
        r"conventional_width_unit must be one of"),
    Row(gio.read_leppert_retention, "width unit not a string",
        lambda: gio.read_leppert_retention(text_file("c.csv", CHROM_OK),
                                           conventional_width_unit=["s"]), ValueError,
        r"conventional_width_unit must be one of"),
    Row(gio.read_leppert_retention, "unknown columns",
        lambda: gio.read_leppert_retention(text_file("c.csv", CHROM_OK)), ValueError,
        r"path: .* has columns"),
    Row(gio.read_leppert_retention, "a value that is not a number",
        lambda: gio.read_leppert_retention(text_file("rt.csv", "Name,RT,width\nC9,x,1\n")),
        ValueError, r"path: .*row 2"),
    Row(gio.read_leppert_retention, "path an int", lambda: gio.read_leppert_retention(3),
        TypeError, r"path must be a str or os.PathLike"),
    Row(gio.read_leppert_program, "unknown columns",
        lambda: gio.read_leppert_program(text_file("c.csv", CHROM_OK)), ValueError,
        r"path: .* has columns"),
    Row(gio.read_leppert_program, "missing file",
        lambda: gio.read_leppert_program(_tmpdir() / "absent.csv"), FileNotFoundError,
        r"path: .* is not an existing file"),
    Row(gio.read_leppert_program, "negative time step",
        lambda: gio.read_leppert_program(
            text_file("p.csv", PROG_OK.replace("\n10;", "\n-10;"))), ValueError,
        r"path: .* Deltat column"),
    Row(gio.read_leppert_program, "NaN pressure",
        lambda: gio.read_leppert_program(text_file("p.csv", PROG_OK.replace(";250;", ";nan;"))),
        ValueError, r"path: .* NaN/inf"),
    Row(gio.load_btex_parameters, "not JSON",
        lambda: gio.load_btex_parameters(text_file("x.json", "{column")), ValueError,
        r"path: .* is not valid JSON"),
    Row(gio.load_btex_parameters, "no column entry",
        lambda: gio.load_btex_parameters(btex_json(column=None)), ValueError,
        r"path: .* lacks the entry 'column'"),
    Row(gio.load_btex_parameters, "negative column length",
        lambda: gio.load_btex_parameters(btex_json(column__length_m=-20.0)), ValueError,
        r"path: .*length must be > 0"),
    Row(gio.load_btex_parameters, "no analytes",
        lambda: gio.load_btex_parameters(btex_json(analytes=[])), ValueError,
        r"path: .* lists no analytes"),
    Row(gio.load_btex_parameters, "zero injection time",
        lambda: gio.load_btex_parameters(btex_json(injection__injection_time_s=0.0)),
        ValueError, r"path: .*injection_time_s must be > 0"),
    Row(gio.load_btex_parameters, "path None", lambda: gio.load_btex_parameters(None),
        TypeError, r"path must be a str or os.PathLike"),
]

# programmed GC (thermo, programs): rows kept in their own file
ROWS = (ROWS + _programs_rows.ROWS + _method_rows.ROWS + _estimation_rows.ROWS
        + _injection_rows.ROWS + _fd_programmed_rows.ROWS)
# sweep task functions (sciflow.chromatography.sweeps): rows kept in tests/test_sweep.py
from tests.test_sweep import CHROMATOGRAPHY_ROWS as _sweep_rows  # noqa: E402

ROWS = ROWS + _sweep_rows

test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.chromatography", ROWS)


def test_table_size():
    """The table keeps several rows per public name (24 names, 191 rows when written)."""
    from tests._bad_input import public_callables

    public = public_callables("sciflow.chromatography")
    per_name = {name: sum(r.target is obj for r in ROWS) for name, obj in public.items()}
    assert min(per_name.values()) >= 3, per_name
