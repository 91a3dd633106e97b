"""Bad input to the public names of ``sciflow.chromatography.fd_programmed`` raises a clear
error naming the parameter (the table framework is ``tests/_bad_input.py``).

``ROWS`` can be merged into the package-wide table of ``tests/chromatography/test_bad_input.py``
(which collects every public module of ``sciflow.chromatography``).
"""

from __future__ import annotations

import math

import numpy as np

from sciflow.chromatography.fd_programmed import ConstantCoefficients, outlet_response_programmed
from tests._bad_input import Row, make_tests

NAN, INF = math.nan, math.inf
CC = ConstantCoefficients(u_in=0.3, P=0.5, D=0.0, k_a=20.0, k_d=5.0, length=2.0)
T = np.linspace(0.0, 50.0, 51)


def run(**changes):
    kw = dict(length=2.0, coefficients=CC, t=T, c_in=1.0, alpha=0.01, n_cells=32, tol=1e-2)
    kw.update(changes)
    return outlet_response_programmed(**kw)


class Bad:
    """A coefficient object whose ``at`` returns ``(u, D, k_a, k_d)`` with one entry spoiled."""

    def __init__(self, which, value=None, shape=None):
        self.which, self.value, self.shape = which, value, shape

    def at(self, t, x_faces, x_centres):
        out = list(CC.at(t, x_faces, x_centres))
        i = ("u", "D", "k_a", "k_d").index(self.which)
        a = np.array(out[i], dtype=float)
        if self.shape is not None:
            a = a[:, : self.shape]
        else:
            a[:, a.shape[1] // 2] = self.value
        out[i] = a
        return tuple(out)


class NoAt:
    pass


class Breaks:
    breakpoints = (10.0, NAN)

    def at(self, t, x_faces, x_centres):
        return CC.at(t, x_faces, x_centres)


class BadMesh:
    def at(self, t, x_faces, x_centres):
        return CC.at(t, x_faces, x_centres)

    def transit_time_mesh(self, n_cells):
        return np.linspace(0.0, 1.0, n_cells + 1)  # not the column's length


ROWS = [
    # outlet_response_programmed: scalars
    Row(outlet_response_programmed, "negative length", lambda: run(length=-2.0), ValueError,
        r"length must be > 0"),
    Row(outlet_response_programmed, "NaN length", lambda: run(length=NAN), ValueError,
        r"length must be finite"),
    Row(outlet_response_programmed, "negative alpha", lambda: run(alpha=-0.1), ValueError,
        r"alpha must be >= 0"),
    Row(outlet_response_programmed, "alpha a string", lambda: run(alpha="0.1"), TypeError,
        r"alpha must be a real number"),
    Row(outlet_response_programmed, "order 4", lambda: run(order=4), ValueError,
        r"order must be one of"),
    Row(outlet_response_programmed, "order a float", lambda: run(order=5.0), TypeError,
        r"order must be an integer"),
    Row(outlet_response_programmed, "n_cells too small", lambda: run(n_cells=5), ValueError,
        r"n_cells must be >= 12"),
    Row(outlet_response_programmed, "n_cells a float", lambda: run(n_cells=64.0), TypeError,
        r"n_cells must be an integer"),
    Row(outlet_response_programmed, "tol zero", lambda: run(tol=0.0), ValueError,
        r"tol must lie in"),
    Row(outlet_response_programmed, "tol too large", lambda: run(tol=0.5), ValueError,
        r"tol must lie in"),
    Row(outlet_response_programmed, "tol NaN", lambda: run(tol=NAN), ValueError,
        r"tol must be finite"),
    Row(outlet_response_programmed, "negative dt", lambda: run(dt=-0.1), ValueError,
        r"dt must be > 0"),
    Row(outlet_response_programmed, "zero dt_max", lambda: run(dt_max=0.0), ValueError,
        r"dt_max must be > 0"),
    Row(outlet_response_programmed, "negative stop_tol", lambda: run(stop_tol=-1e-9),
        ValueError, r"stop_tol must lie in"),
    Row(outlet_response_programmed, "unknown time scheme",
        lambda: run(time_scheme="rk4"), ValueError, r"time_scheme must be one of"),
    Row(outlet_response_programmed, "progress a string", lambda: run(progress="yes"),
        TypeError, r"progress must be a bool"),
    # t
    Row(outlet_response_programmed, "t decreasing", lambda: run(t=T[::-1].copy()), ValueError,
        r"t must be strictly increasing"),
    Row(outlet_response_programmed, "t with NaN", lambda: run(t=np.r_[T[:-1], NAN]),
        ValueError, r"t must be finite"),
    Row(outlet_response_programmed, "t empty", lambda: run(t=np.array([])), ValueError,
        r"t must have at least 1 elements"),
    Row(outlet_response_programmed, "t 2-D", lambda: run(t=np.ones((2, 2))), ValueError,
        r"t must be 1-dimensional"),
    # c_in
    Row(outlet_response_programmed, "negative pulse length", lambda: run(c_in=-1.0),
        ValueError, r"c_in must be > 0"),
    Row(outlet_response_programmed, "c_in a string", lambda: run(c_in="pulse"), TypeError,
        r"c_in must be a callable of t or the length of a rectangular pulse"),
    Row(outlet_response_programmed, "c_in a bool", lambda: run(c_in=True), TypeError,
        r"c_in must be a callable of t or the length"),
    Row(outlet_response_programmed, "c_in(t) negative",
        lambda: run(c_in=lambda tt: -np.ones_like(tt)), ValueError,
        r"c_in\(t\) must be finite and >= 0"),
    Row(outlet_response_programmed, "c_in(t) of the wrong shape",
        lambda: run(c_in=lambda tt: np.ones(3)), ValueError,
        r"c_in\(t\) must return an array of the shape of t"),
    Row(outlet_response_programmed, "NaN breakpoint", lambda: run(breakpoints=[1.0, NAN]),
        ValueError, r"breakpoints must be finite"),
    # mesh
    Row(outlet_response_programmed, "x_faces not from 0",
        lambda: run(n_cells=None, x_faces=np.linspace(0.1, 2.0, 41)), ValueError,
        r"x_faces must run from 0 to length"),
    Row(outlet_response_programmed, "x_faces decreasing",
        lambda: run(n_cells=None, x_faces=np.linspace(2.0, 0.0, 41)), ValueError,
        r"x_faces must be strictly increasing"),
    Row(outlet_response_programmed, "x_faces too few",
        lambda: run(n_cells=None, x_faces=np.linspace(0.0, 2.0, 5)), ValueError,
        r"x_faces must have at least 13 elements"),
    Row(outlet_response_programmed, "both x_faces and n_cells",
        lambda: run(x_faces=np.linspace(0.0, 2.0, 41)), ValueError,
        r"give at most one of x_faces and n_cells"),
    # the coefficient object
    Row(outlet_response_programmed, "coefficients without at", lambda: run(coefficients=NoAt()),
        TypeError, r"coefficients must have a method at"),
    Row(outlet_response_programmed, "coefficients returning negative k_a",
        lambda: run(coefficients=Bad("k_a", -1.0)), ValueError,
        r"coefficients: k_a must be finite and >= 0"),
    Row(outlet_response_programmed, "coefficients returning NaN D",
        lambda: run(coefficients=Bad("D", NAN)), ValueError,
        r"coefficients: D_faces must be finite and >= 0"),
    Row(outlet_response_programmed, "coefficients returning zero velocity",
        lambda: run(coefficients=Bad("u", 0.0)), ValueError,
        r"coefficients: u_faces must be finite and > 0"),
    Row(outlet_response_programmed, "coefficients returning inf k_d",
        lambda: run(coefficients=Bad("k_d", INF)), ValueError,
        r"coefficients: k_d must be finite and >= 0"),
    Row(outlet_response_programmed, "coefficients returning the wrong shape",
        lambda: run(coefficients=Bad("k_d", shape=3)), ValueError,
        r"coefficients.at returned k_d of shape"),
    Row(outlet_response_programmed, "coefficients with a NaN breakpoint",
        lambda: run(coefficients=Breaks()), ValueError,
        r"coefficients.breakpoints must be finite"),
    Row(outlet_response_programmed, "coefficients with a mesh of the wrong length",
        lambda: run(coefficients=BadMesh(), n_cells=32), ValueError,
        r"coefficients.transit_time_mesh\(\d+\) must return"),
    # ConstantCoefficients
    Row(ConstantCoefficients, "zero inlet velocity",
        lambda: ConstantCoefficients(0.0, 0.5, 0.0, 1.0, 1.0), ValueError, r"u_in must be > 0"),
    Row(ConstantCoefficients, "pressure ratio above 1",
        lambda: ConstantCoefficients(0.3, 1.5, 0.0, 1.0, 1.0), ValueError, r"P must lie in"),
    Row(ConstantCoefficients, "pressure ratio zero",
        lambda: ConstantCoefficients(0.3, 0.0, 0.0, 1.0, 1.0), ValueError, r"P must lie in"),
    Row(ConstantCoefficients, "negative dispersion",
        lambda: ConstantCoefficients(0.3, 0.5, -1e-5, 1.0, 1.0), ValueError,
        r"D must be >= 0"),
    Row(ConstantCoefficients, "NaN k_a", lambda: ConstantCoefficients(0.3, 0.5, 0.0, NAN, 1.0),
        ValueError, r"k_a must be finite"),
    Row(ConstantCoefficients, "negative k_d",
        lambda: ConstantCoefficients(0.3, 0.5, 0.0, 1.0, -1.0), ValueError, r"k_d must be >= 0"),
    Row(ConstantCoefficients, "k_d a string",
        lambda: ConstantCoefficients(0.3, 0.5, 0.0, 1.0, "1"), TypeError,
        r"k_d must be a real number"),
    Row(ConstantCoefficients, "negative length",
        lambda: ConstantCoefficients(0.3, 0.5, 0.0, 1.0, 1.0, length=-2.0), ValueError,
        r"length must be > 0"),
    Row(ConstantCoefficients, "from_column with a non-Column",
        lambda: ConstantCoefficients.from_column("column", None), TypeError,
        r"column must be a Column"),
    Row(ConstantCoefficients, "transit_time_mesh with zero cells",
        lambda: CC.transit_time_mesh(0), ValueError, r"n_cells must be >= 1"),
]

test_bad_input, test_every_public_name_has_a_row = make_tests(
    "sciflow.chromatography.fd_programmed", ROWS)


def test_table_size():
    """Several rows per public name (2 names, 48 rows when written)."""
    assert sum(r.target is outlet_response_programmed for r in ROWS) >= 3
    assert sum(r.target is ConstantCoefficients for r in ROWS) >= 3
