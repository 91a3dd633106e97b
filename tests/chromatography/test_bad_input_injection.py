"""Bad input to the inlet profiles (``sciflow.chromatography.injection``) and the overload
solver (``sciflow.chromatography.overload``) raises a clear error naming the parameter; also
the ``injection=`` argument of fd, laplace and simulate.

The table framework is ``tests/_bad_input.py``; the coverage test runs on each of the two
modules (their ``__all__``), so every new public name there needs rows here.
"""

from __future__ import annotations

import math

import numpy as np

from sciflow.chromatography import Analyte, Column, fd, simulate
from sciflow.chromatography import laplace as lp
from sciflow.chromatography.injection import (
    ExponentiallyModifiedGaussian,
    GaussianPulse,
    RectangularPulse,
    SampledInjection,
)
from sciflow.chromatography.overload import (
    CompetitionThresholds,
    competition_threshold,
    outlet_response_fd_competitive,
    retention_shift,
)
from tests._bad_input import Row, make_tests

NAN, INF = math.nan, math.inf
COL = Column(length=20.0, radius=90e-6, film_thickness=1e-6, temperature=353.15,
             inlet_pressure=4.01e5, outlet_pressure=1.013e5, viscosity=2.3e-5,
             inlet_velocity=0.41)
AN = Analyte("a", 200.0, 8.0)
T = np.linspace(0.0, 100.0, 11)
G = GaussianPulse(5.0, 1.0)


def thresholds(**changes):
    kw = dict(names=("a", "b"), levels=(1e-3, 1e-2), loading=np.full((2, 2), 1e-5),
              shift=np.full((2, 2), -1e-3), retention_time=np.array([100.0, 50.0]))
    kw.update(changes)
    return CompetitionThresholds(**kw)


def comp(**kw):
    args = dict(q_max=10.0, injection_time=1.0)
    args.update(kw)
    return outlet_response_fd_competitive(COL, [AN], T, **args)


ROWS = [
    # ---- RectangularPulse --------------------------------------------------------------------
    Row(RectangularPulse, "negative width", lambda: RectangularPulse(-1.0), ValueError,
        r"width must be > 0"),
    Row(RectangularPulse, "NaN width", lambda: RectangularPulse(NAN), ValueError,
        r"width must be finite"),
    Row(RectangularPulse, "zero area", lambda: RectangularPulse(1.0, area=0.0), ValueError,
        r"area must be > 0"),
    Row(RectangularPulse, "width a string", lambda: RectangularPulse("1"), TypeError,
        r"width must be a real number"),
    Row(RectangularPulse, "laplace of NaN", lambda: RectangularPulse(1.0).laplace([NAN]),
        ValueError, r"s must be finite"),
    # ---- GaussianPulse -----------------------------------------------------------------------
    Row(GaussianPulse, "negative sigma", lambda: GaussianPulse(5.0, -1.0), ValueError,
        r"sigma must be > 0"),
    Row(GaussianPulse, "zero sigma", lambda: GaussianPulse(5.0, 0.0), ValueError,
        r"sigma must be > 0"),
    Row(GaussianPulse, "negative center", lambda: GaussianPulse(-1.0, 1.0), ValueError,
        r"center must be >= 0"),
    Row(GaussianPulse, "NaN center", lambda: GaussianPulse(NAN, 1.0), ValueError,
        r"center must be finite"),
    Row(GaussianPulse, "negative area", lambda: GaussianPulse(5.0, 1.0, -2.0), ValueError,
        r"area must be > 0"),
    Row(GaussianPulse, "evaluated at NaN", lambda: G([0.0, NAN]), ValueError,
        r"t must be finite"),
    Row(GaussianPulse, "laplace of strings", lambda: G.laplace(["x"]), TypeError,
        r"s must be array-like"),
    # ---- ExponentiallyModifiedGaussian -------------------------------------------------------
    Row(ExponentiallyModifiedGaussian, "negative tau",
        lambda: ExponentiallyModifiedGaussian(5.0, 1.0, -0.5), ValueError, r"tau must be > 0"),
    Row(ExponentiallyModifiedGaussian, "infinite tau",
        lambda: ExponentiallyModifiedGaussian(5.0, 1.0, INF), ValueError,
        r"tau must be finite"),
    Row(ExponentiallyModifiedGaussian, "negative sigma",
        lambda: ExponentiallyModifiedGaussian(5.0, -1.0, 1.0), ValueError,
        r"sigma must be > 0"),
    Row(ExponentiallyModifiedGaussian, "NaN center",
        lambda: ExponentiallyModifiedGaussian(NAN, 1.0, 1.0), ValueError,
        r"center must be finite"),
    Row(ExponentiallyModifiedGaussian, "zero area",
        lambda: ExponentiallyModifiedGaussian(5.0, 1.0, 1.0, area=0.0), ValueError,
        r"area must be > 0"),
    # ---- SampledInjection --------------------------------------------------------------------
    Row(SampledInjection, "non-increasing times",
        lambda: SampledInjection([0.0, 2.0, 1.0], [1.0, 1.0, 1.0]), ValueError,
        r"t must be strictly increasing"),
    Row(SampledInjection, "repeated time",
        lambda: SampledInjection([0.0, 1.0, 1.0], [1.0, 1.0, 1.0]), ValueError,
        r"t must be strictly increasing"),
    Row(SampledInjection, "negative value",
        lambda: SampledInjection([0.0, 1.0, 2.0], [1.0, -1.0, 1.0]), ValueError,
        r"values must be >= 0"),
    Row(SampledInjection, "NaN value",
        lambda: SampledInjection([0.0, 1.0, 2.0], [1.0, NAN, 1.0]), ValueError,
        r"values must be finite"),
    Row(SampledInjection, "shape mismatch",
        lambda: SampledInjection([0.0, 1.0, 2.0], [1.0, 1.0]), ValueError,
        r"values must have the shape of t"),
    Row(SampledInjection, "starts before 0",
        lambda: SampledInjection([-1.0, 1.0], [1.0, 1.0]), ValueError,
        r"t must start at t\[0\] >= 0"),
    Row(SampledInjection, "all zero", lambda: SampledInjection([0.0, 1.0], [0.0, 0.0]),
        ValueError, r"values must not all be 0"),
    Row(SampledInjection, "a single sample", lambda: SampledInjection([1.0], [1.0]), ValueError,
        r"t must have at least 2"),
    # ---- outlet_response_fd_competitive ------------------------------------------------------
    Row(outlet_response_fd_competitive, "zero q_max", lambda: comp(q_max=0.0), ValueError,
        r"q_max must be > 0"),
    Row(outlet_response_fd_competitive, "negative q_max", lambda: comp(q_max=-5.0), ValueError,
        r"q_max must be > 0"),
    Row(outlet_response_fd_competitive, "NaN q_max", lambda: comp(q_max=NAN), ValueError,
        r"q_max must be > 0"),
    Row(outlet_response_fd_competitive, "q_max a string", lambda: comp(q_max="big"), TypeError,
        r"q_max must be a real number"),
    Row(outlet_response_fd_competitive, "negative c0", lambda: comp(c0=-1.0), ValueError,
        r"c0 must be >= 0"),
    Row(outlet_response_fd_competitive, "c0 of the wrong length", lambda: comp(c0=[1.0, 2.0]),
        ValueError, r"c0 must be a scalar or have shape \(1,\)"),
    Row(outlet_response_fd_competitive, "both injection_time and injection",
        lambda: comp(injection=G), ValueError, r"give one of injection_time and injection"),
    Row(outlet_response_fd_competitive, "no injection at all",
        lambda: comp(injection_time=None), TypeError, r"injection_time .* or injection"),
    Row(outlet_response_fd_competitive, "zero newton_tol", lambda: comp(newton_tol=0.0),
        ValueError, r"newton_tol must be > 0"),
    Row(outlet_response_fd_competitive, "max_newton 0", lambda: comp(max_newton=0),
        ValueError, r"max_newton must be >= 1"),
    Row(outlet_response_fd_competitive, "no analytes",
        lambda: outlet_response_fd_competitive(COL, [], T, q_max=1.0, injection_time=1.0),
        TypeError, r"analytes must be an Analyte or a non-empty sequence"),
    Row(outlet_response_fd_competitive, "decreasing t",
        lambda: outlet_response_fd_competitive(COL, AN, T[::-1], q_max=1.0,
                                               injection_time=1.0), ValueError,
        r"t must be strictly increasing"),
    Row(outlet_response_fd_competitive, "callable with a negative value",
        lambda: comp(injection_time=None, injection=lambda t: np.sin(t)), ValueError,
        r"injection: c_in\(t\) must be >= 0"),
    Row(outlet_response_fd_competitive, "callable returning NaN",
        lambda: comp(injection_time=None, injection=lambda t: np.where(t > 50, NAN, 1.0)),
        ValueError, r"injection: c_in\(t\) must be finite"),
    Row(outlet_response_fd_competitive, "column a string",
        lambda: outlet_response_fd_competitive("col", AN, T, q_max=1.0, injection_time=1.0),
        TypeError, r"column must be a Column"),
    # ---- retention_shift ---------------------------------------------------------------------
    Row(retention_shift, "negative loading",
        lambda: retention_shift(COL, AN, [-1e-6], injection_time=1.0), ValueError,
        r"loading must be >= 0"),
    Row(retention_shift, "NaN loading",
        lambda: retention_shift(COL, AN, [NAN], injection_time=1.0), ValueError,
        r"loading must be finite"),
    Row(retention_shift, "zero relative c0",
        lambda: retention_shift(COL, [AN, AN], [1e-6], c0=[1.0, 0.0], injection_time=1.0),
        ValueError, r"c0 must be > 0 for every analyte"),
    Row(retention_shift, "zero tol",
        lambda: retention_shift(COL, AN, [1e-6], injection_time=1.0, tol=0.0), ValueError,
        r"tol must lie in"),
    Row(retention_shift, "a plain callable (no time window)",
        lambda: retention_shift(COL, AN, [1e-6], injection=lambda t: np.exp(-t)), TypeError,
        r"injection: a plain callable is used on \[0, t\[-1\]\]"),
    Row(retention_shift, "too few cells",
        lambda: retention_shift(COL, AN, [1e-6], injection_time=1.0, n_cells=3), ValueError,
        r"n_cells must be >= 12"),
    # ---- competition_threshold ---------------------------------------------------------------
    Row(competition_threshold, "level 1",
        lambda: competition_threshold(COL, AN, levels=(1e-3, 1.0), injection_time=1.0),
        ValueError, r"levels must be increasing and lie in \(0, 1\)"),
    Row(competition_threshold, "decreasing levels",
        lambda: competition_threshold(COL, AN, levels=(1e-2, 1e-3), injection_time=1.0),
        ValueError, r"levels must be increasing"),
    Row(competition_threshold, "rtol too small",
        lambda: competition_threshold(COL, AN, injection_time=1.0, rtol=1e-15), ValueError,
        r"rtol must lie in"),
    Row(competition_threshold, "zero x_start",
        lambda: competition_threshold(COL, AN, injection_time=1.0, x_start=0.0), ValueError,
        r"x_start must be > 0"),
    Row(competition_threshold, "negative injection time",
        lambda: competition_threshold(COL, AN, injection_time=-1.0), ValueError,
        r"injection_time must be > 0"),
    # ---- CompetitionThresholds ---------------------------------------------------------------
    Row(CompetitionThresholds, "loading of the wrong shape",
        lambda: thresholds(loading=np.ones((3, 2))), ValueError,
        r"loading must have shape \(n_levels, n_analytes\)"),
    Row(CompetitionThresholds, "negative loading",
        lambda: thresholds(loading=-np.ones((2, 2))), ValueError, r"loading must be > 0"),
    Row(CompetitionThresholds, "level above 1", lambda: thresholds(levels=(0.5, 2.0)),
        ValueError, r"levels must lie in \(0, 1\)"),
    Row(CompetitionThresholds, "names not strings", lambda: thresholds(names=(1, 2)),
        TypeError, r"names must be a sequence of strings"),
    Row(CompetitionThresholds, "negative retention time",
        lambda: thresholds(retention_time=np.array([-1.0, 5.0])), ValueError,
        r"retention_time must hold 2 positive times"),
    Row(CompetitionThresholds, "table with a negative q_max",
        lambda: thresholds().table(q_max=-1.0), ValueError, r"q_max must be > 0"),
    # ---- the injection= argument of the existing solvers ---------------------------------------
    Row(fd.outlet_response_fd, "injection an int",
        lambda: fd.outlet_response_fd(COL, AN, T, injection=5), TypeError,
        r"injection must be None, a callable"),
    Row(fd.outlet_response_fd, "both injection_time and injection",
        lambda: fd.outlet_response_fd(COL, AN, T, injection_time=1.0, injection=G), ValueError,
        r"give one of injection_time and injection"),
    Row(fd.outlet_response_fd, "no injection at all",
        lambda: fd.outlet_response_fd(COL, AN, T), TypeError, r"injection_time .* or injection"),
    Row(lp.outlet_response_laplace, "callable with a negative value",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection=lambda t: t - 50.0),
        ValueError, r"injection: c_in\(t\) must be >= 0"),
    Row(lp.outlet_response_laplace, "sampled pair with decreasing times",
        lambda: lp.outlet_response_laplace(COL, AN, T, injection=([2.0, 1.0], [1.0, 1.0])),
        ValueError, r"t must be strictly increasing"),
    Row(simulate, "Gaussian with the exact method",
        lambda: simulate(COL, AN, T, injection=G, method="exact"), ValueError,
        r"injection: method='exact' takes a RectangularPulse only"),
    Row(simulate, "callable returning strings",
        lambda: simulate(COL, AN, T, injection=lambda t: "x", method="fd"), TypeError,
        r"injection: the callable c_in\(t\) must return real numbers"),
]

# the row tests once; coverage of each new module's public names
test_bad_input, test_injection_names_have_rows = make_tests(
    "sciflow.chromatography.injection", ROWS)
_, test_overload_names_have_rows = make_tests("sciflow.chromatography.overload", ROWS)


def test_rows_per_name():
    """At least three rows per public name of the two modules (as the main table requires)."""
    from tests._bad_input import public_callables

    for mod in ("sciflow.chromatography.injection", "sciflow.chromatography.overload"):
        for name, obj in public_callables(mod).items():
            assert sum(r.target is obj for r in ROWS) >= 3, name
