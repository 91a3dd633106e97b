"""Bad-input table of sciflow.transport: every public function and class (problem, quadrature,
iterate, eigen, fourier) × bad inputs → ValueError/TypeError whose message names the parameter.

Result classes are exercised by constructing them with inconsistent data (``dataclasses.replace``
of a real result, which re-runs the checks) and by calling their methods with bad arguments.
"""

import dataclasses
import functools
import math

import numpy as np

from sciflow.transport import (
    EigenSolution,
    Material,
    Region,
    Slab,
    TransportSolution,
    gauss_legendre,
    k_eigenvalue,
    solve,
)
from sciflow.transport.fourier import (
    FourierResult,
    amplification,
    analyse,
    iteration_matrix,
    spectral_radius,
)
from sciflow.transport.iterate import Discretisation
from sciflow.transport.quadrature import Quadrature

from .._bad_input import Row, make_tests

NAN, INF = math.nan, math.inf
V, T = ValueError, TypeError


def _m():
    return Material(1.0, 0.5)


def _slab(**kw):
    return Slab([Region(_m(), 2.0, 1.0, 4)], **kw)


def _fissile(source=0.0, **kw):
    return Slab([Region(Material(1.0, 0.7, nu_sigma_f=0.45), 4.0, source, 4)], **kw)


def _void_box():
    return Slab([Region(Material(0.0, 0.0), 1.0, 0.0, 2)], left="reflective",
                right="reflective")


@functools.cache
def _solution():
    return solve(_slab(), order=4)


@functools.cache
def _fourier():
    return analyse(0.9, method="dsa", order=4, optical_thickness=1.0, n_modes=32)


def _eig(**kw):
    base = dict(k=1.0, phi=np.ones((1, 4)), iterations=3, x_edges=np.linspace(0.0, 1.0, 5),
                x_centres=np.linspace(0.125, 0.875, 4))
    base.update(kw)
    return EigenSolution(**base)


def _quad(mu=None, w=None):
    q = gauss_legendre(4)
    return Quadrature(q.mu if mu is None else np.asarray(mu, float),
                      q.w if w is None else np.asarray(w, float))


def _replace(obj, **kw):
    return lambda: dataclasses.replace(obj(), **kw)


def _sol_replace(**kw):
    return _replace(_solution, **kw)


def _fr_replace(**kw):
    return _replace(_fourier, **kw)


ROWS = [
    # ---------------------------------------------------------------- Material
    Row(Material, "sigma_t negative", lambda: Material(-1.0, 0.0), V, r"sigma_t must be >= 0"),
    Row(Material, "sigma_t NaN", lambda: Material(NAN), V, r"sigma_t must be finite"),
    Row(Material, "sigma_t inf", lambda: Material(INF), V, r"sigma_t must be finite"),
    Row(Material, "sigma_t a string", lambda: Material("1.0"), T, r"sigma_t must be a number"),
    Row(Material, "sigma_t None", lambda: Material(None), T, r"sigma_t must be a number"),
    Row(Material, "sigma_t a bool", lambda: Material(True), T, r"sigma_t must be"),
    Row(Material, "sigma_t empty", lambda: Material([]), V, r"sigma_t must not be empty"),
    Row(Material, "sigma_t 2-D", lambda: Material([[1.0, 2.0]]), V, r"sigma_t must be .*1-D"),
    Row(Material, "sigma_s[0] negative", lambda: Material(1.0, -0.2), V,
        r"sigma_s\[0\] .*must be >= 0"),
    Row(Material, "sigma_s NaN", lambda: Material(1.0, NAN), V, r"sigma_s must be finite"),
    Row(Material, "sigma_s a string", lambda: Material(1.0, "half"), T,
        r"sigma_s must be a number"),
    Row(Material, "sigma_s shape vs 2 groups", lambda: Material([1.0, 2.0], [0.1, 0.2, 0.3]), V,
        r"sigma_s must have shape \(L\+1, 2, 2\)"),
    Row(Material, "sigma_s (L+1, G, G) with wrong G", lambda: Material(1.0, np.ones((2, 2, 2))),
        V, r"sigma_s must have shape"),
    Row(Material, "|sigma_s[1]| > sigma_s[0]", lambda: Material(1.0, [0.5, 0.7]), V,
        r"sigma_s\[1\]"),
    Row(Material, "nu_sigma_f negative", lambda: Material(1.0, 0.5, -0.1), V,
        r"nu_sigma_f must be >= 0"),
    Row(Material, "nu_sigma_f inf", lambda: Material(1.0, 0.5, INF), V,
        r"nu_sigma_f must be finite"),
    Row(Material, "nu_sigma_f wrong shape", lambda: Material(1.0, 0.5, [0.1, 0.2]), V,
        r"nu_sigma_f must be .*shape \(1,\)"),
    Row(Material, "chi not summing to 1",
        lambda: Material([1.0, 1.0], np.zeros((2, 2)), chi=[0.5, 0.6]), V, r"chi must be"),
    Row(Material, "chi wrong shape", lambda: Material(1.0, 0.5, chi=[1.0, 0.0]), V,
        r"chi must be"),
    Row(Material, "chi negative", lambda: Material([1.0, 1.0], np.zeros((2, 2)), chi=[1.5, -0.5]),
        V, r"chi must be"),
    Row(Material, "chi NaN", lambda: Material(1.0, 0.5, chi=[NAN]), V, r"chi must be finite"),
    Row(Material, "name not a str", lambda: Material(1.0, 0.5, name=3), T, r"name must be"),
    # ---------------------------------------------------------------- Region
    Row(Region, "material not a Material", lambda: Region("water", 1.0), T,
        r"material must be a Material"),
    Row(Region, "width zero", lambda: Region(_m(), 0.0), V, r"width must be > 0"),
    Row(Region, "width negative", lambda: Region(_m(), -1.0), V, r"width must be > 0"),
    Row(Region, "width NaN", lambda: Region(_m(), NAN), V, r"width must be finite"),
    Row(Region, "width inf", lambda: Region(_m(), INF), V, r"width must be finite"),
    Row(Region, "width a string", lambda: Region(_m(), "1 cm"), T, r"width must be a real"),
    Row(Region, "cells zero", lambda: Region(_m(), 1.0, cells=0), V, r"cells must be >= 1"),
    Row(Region, "cells negative", lambda: Region(_m(), 1.0, cells=-3), V, r"cells must be >= 1"),
    Row(Region, "cells a float", lambda: Region(_m(), 1.0, cells=2.5), T,
        r"cells must be an integer"),
    Row(Region, "cells a bool", lambda: Region(_m(), 1.0, cells=True), T,
        r"cells must be an integer"),
    Row(Region, "source negative", lambda: Region(_m(), 1.0, -1.0), V, r"source must be >= 0"),
    Row(Region, "source NaN", lambda: Region(_m(), 1.0, NAN), V, r"source must be finite"),
    Row(Region, "source wrong shape (G = 1)", lambda: Region(_m(), 1.0, [1.0, 2.0]), V,
        r"source must be .*shape \(1,\)"),
    Row(Region, "source a string", lambda: Region(_m(), 1.0, "1"), T, r"source must be a number"),
    # ---------------------------------------------------------------- Slab
    Row(Slab, "regions empty", lambda: Slab([]), V, r"regions must not be empty"),
    Row(Slab, "regions a single Region", lambda: Slab(Region(_m(), 1.0)), T,
        r"regions must be a sequence"),
    Row(Slab, "regions holding a Material", lambda: Slab([Region(_m(), 1.0), _m()]), T,
        r"regions\[1\] must be a Region"),
    Row(Slab, "regions with different group counts",
        lambda: Slab([Region(_m(), 1.0), Region(Material([1.0, 1.0], np.zeros((2, 2))), 1.0)]),
        V, r"same number of groups.*regions\[1\]"),
    Row(Slab, "left unknown", lambda: _slab(left="periodic"), V, r"left must be one of"),
    Row(Slab, "right unknown", lambda: _slab(right="white"), V, r"right must be one of"),
    Row(Slab, "left not a str", lambda: _slab(left=["vacuum"]), T, r"left must be a string"),
    Row(Slab, "incident NaN (not a dict)", lambda: _slab(incident=NAN), V,
        r"incident must be a dict.*finite"),
    Row(Slab, "incident a bare float", lambda: _slab(incident=1.0), V, r"incident must be a dict"),
    Row(Slab, "incident a string", lambda: _slab(incident="left"), T, r"incident must be a dict"),
    Row(Slab, "incident side unknown", lambda: _slab(incident={"top": 1.0}), V,
        r"incident side must be one of"),
    Row(Slab, "incident on a reflective side",
        lambda: _slab(left="reflective", incident={"left": 1.0}), V,
        r"incident flux on the left needs left='vacuum'"),
    Row(Slab, "incident value NaN", lambda: _slab(incident={"left": NAN}), V,
        r"incident\['left'\] must be finite"),
    Row(Slab, "incident value inf", lambda: _slab(incident={"right": [INF]}), V,
        r"incident\['right'\] must be finite"),
    Row(Slab, "incident value negative", lambda: _slab(incident={"left": -1.0}), V,
        r"incident\['left'\] must be >= 0"),
    Row(Slab, "incident value a string", lambda: _slab(incident={"left": "1"}), T,
        r"incident\['left'\] must be a float"),
    Row(Slab, "incident value 3-D", lambda: _slab(incident={"left": np.ones((1, 1, 1))}), V,
        r"incident\['left'\] must be a float or an array"),
    # ---------------------------------------------------------------- gauss_legendre
    Row(gauss_legendre, "order odd", lambda: gauss_legendre(3), V, r"order must be even"),
    Row(gauss_legendre, "order zero", lambda: gauss_legendre(0), V, r"order must be >= 2"),
    Row(gauss_legendre, "order negative", lambda: gauss_legendre(-4), V, r"order must be >= 2"),
    Row(gauss_legendre, "order a float", lambda: gauss_legendre(4.0), T,
        r"order must be an integer"),
    Row(gauss_legendre, "order None", lambda: gauss_legendre(None), T,
        r"order must be an integer"),
    # ---------------------------------------------------------------- Quadrature
    Row(Quadrature, "weights not summing to 2", lambda: _quad(w=gauss_legendre(4).w / 2), V,
        r"w must sum to 2"),
    Row(Quadrature, "w shape differs from mu", lambda: _quad(w=[1.0, 1.0]), V,
        r"w must have the shape of mu"),
    Row(Quadrature, "odd number of directions", lambda: Quadrature([-0.5, 0.0, 0.5], [0.5, 1, 0.5]),
        V, r"mu must hold an even number"),
    Row(Quadrature, "mu not ascending", lambda: _quad(mu=gauss_legendre(4).mu[::-1]), V,
        r"mu must be sorted"),
    Row(Quadrature, "mu not symmetric", lambda: _quad(mu=[-0.9, -0.3, 0.3, 0.8]), V,
        r"mu must be symmetric"),
    Row(Quadrature, "|mu| > 1", lambda: _quad(mu=[-1.5, -0.3, 0.3, 1.5]), V,
        r"mu must lie in \[-1, 1\]"),
    Row(Quadrature, "mu NaN", lambda: _quad(mu=[NAN, -0.3, 0.3, 0.8]), V, r"mu must be finite"),
    Row(Quadrature, "mu 2-D", lambda: Quadrature(np.ones((2, 2)), np.ones((2, 2))), V,
        r"mu must be 1-dimensional"),
    Row(Quadrature, "w negative", lambda: _quad(w=[1.5, -0.5, -0.5, 1.5]), V, r"w must be > 0"),
    Row(Quadrature, "legendre L negative", lambda: gauss_legendre(4).legendre(-1), V,
        r"L must be >= 0"),
    Row(Quadrature, "legendre L a float", lambda: gauss_legendre(4).legendre(1.5), T,
        r"L must be an integer"),
    # ---------------------------------------------------------------- solve
    Row(solve, "slab not a Slab", lambda: solve([Region(_m(), 1.0)], order=4), T,
        r"slab must be a Slab"),
    Row(solve, "order odd", lambda: solve(_slab(), order=5), V, r"order must be even"),
    Row(solve, "order zero", lambda: solve(_slab(), order=0), V, r"order must be >= 2"),
    Row(solve, "order a float", lambda: solve(_slab(), order=4.5), T, r"order must be an integer"),
    Row(solve, "scheme unknown", lambda: solve(_slab(), order=4, scheme="linear"), V,
        r"scheme must be one of"),
    Row(solve, "accel unknown", lambda: solve(_slab(), order=4, accel="cmfd"), V,
        r"accel must be one of"),
    Row(solve, "accel not a str", lambda: solve(_slab(), order=4, accel=None), T,
        r"accel must be a string"),
    Row(solve, "tol zero", lambda: solve(_slab(), order=4, tol=0.0), V, r"tol must be > 0"),
    Row(solve, "tol negative", lambda: solve(_slab(), order=4, tol=-1e-8), V, r"tol must be > 0"),
    Row(solve, "tol NaN", lambda: solve(_slab(), order=4, tol=NAN), V, r"tol must be finite"),
    Row(solve, "max_iter zero", lambda: solve(_slab(), order=4, max_iter=0), V,
        r"max_iter must be >= 1"),
    Row(solve, "max_iter a float", lambda: solve(_slab(), order=4, max_iter=1e3), T,
        r"max_iter must be an integer"),
    Row(solve, "raise_on_fail not a bool", lambda: solve(_slab(), order=4, raise_on_fail="no"),
        T, r"raise_on_fail must be a bool"),
    Row(solve, "sigma_s > sigma_t (c > 1)",
        lambda: solve(Slab([Region(Material(1.0, 1.2), 1.0, 1.0, 4)]), order=4), V,
        r"sigma_s > sigma_t"),
    Row(solve, "fissile material in a fixed-source solve", lambda: solve(_fissile(1.0), order=4),
        V, r"nu_sigma_f > 0"),
    Row(solve, "reflecting void (no steady state)", lambda: solve(_void_box(), order=4), V,
        r"sigma_t > 0"),
    # ---------------------------------------------------------------- TransportSolution
    Row(TransportSolution, "phi cells differ from x_edges",
        _sol_replace(phi=np.ones((1, 3))), V, r"phi must have shape \(G, 4\)"),
    Row(TransportSolution, "phi 1-D", _sol_replace(phi=np.ones(4)), V,
        r"phi must be 2-dimensional"),
    Row(TransportSolution, "x_edges decreasing", _sol_replace(x_edges=np.linspace(2, 0, 5)), V,
        r"x_edges must be strictly increasing"),
    Row(TransportSolution, "x_edges NaN", _sol_replace(x_edges=np.array([0, 1, NAN, 3, 4.0])), V,
        r"x_edges must be finite"),
    Row(TransportSolution, "x_centres wrong size", _sol_replace(x_centres=np.ones(5)), V,
        r"x_centres must have shape \(4,\)"),
    Row(TransportSolution, "leakage_left per group mismatch",
        _sol_replace(leakage_left=np.zeros(2)), V, r"leakage_left must have shape \(1,\)"),
    Row(TransportSolution, "absorption per group mismatch", _sol_replace(absorption=np.zeros(3)),
        V, r"absorption must have shape \(1,\)"),
    Row(TransportSolution, "iterations negative", _sol_replace(iterations=-1), V,
        r"iterations must be >= 0"),
    Row(TransportSolution, "iterations a float", _sol_replace(iterations=2.5), T,
        r"iterations must be an integer"),
    Row(TransportSolution, "psi_out not a dict", _sol_replace(psi_out=[1.0]), T,
        r"psi_out must be a dict"),
    Row(TransportSolution, "psi_out unknown side", _sol_replace(psi_out={"top": np.ones((1, 2))}),
        V, r"psi_out keys must be"),
    Row(TransportSolution, "psi_out wrong group count",
        _sol_replace(psi_out={"left": np.ones((2, 2))}), V, r"psi_out\['left'\] must have shape"),
    Row(TransportSolution, "moments wrong shape", _sol_replace(moments=np.ones((1, 1, 3))), V,
        r"moments must have shape"),
    Row(TransportSolution, "spectral_radius NaN", _sol_replace(spectral_radius=NAN), V,
        r"spectral_radius must be finite"),
    Row(TransportSolution, "spectral_radius negative", _sol_replace(spectral_radius=-0.1), V,
        r"spectral_radius must be >= 0"),
    Row(TransportSolution, "quadrature not a Quadrature", _sol_replace(quadrature=(1, 2)), T,
        r"quadrature must be a Quadrature"),
    Row(TransportSolution, "converged not a bool", _sol_replace(converged="yes"), T,
        r"converged must be a bool"),
    Row(TransportSolution, "plot group out of range", lambda: _solution().plot(group=1), V,
        r"group must be <= 0"),
    Row(TransportSolution, "plot group a float", lambda: _solution().plot(group=0.0), T,
        r"group must be an integer"),
    # ---------------------------------------------------------------- Discretisation
    Row(Discretisation, "slab not a Slab", lambda: Discretisation("slab", 4, "diamond"), T,
        r"slab must be a Slab"),
    Row(Discretisation, "order odd", lambda: Discretisation(_slab(), 3, "diamond"), V,
        r"order must be even"),
    Row(Discretisation, "scheme unknown", lambda: Discretisation(_slab(), 4, "upwind"), V,
        r"scheme must be one of"),
    Row(Discretisation, "scheme not a str", lambda: Discretisation(_slab(), 4, 0), T,
        r"scheme must be a string"),
    Row(Discretisation, "reflecting void", lambda: Discretisation(_void_box(), 4, "diamond"), V,
        r"sigma_t > 0"),
    # ---------------------------------------------------------------- k_eigenvalue
    Row(k_eigenvalue, "fixed source in the slab", lambda: k_eigenvalue(_fissile(1.0), order=4), V,
        r"regions\[0\]\.source must be 0"),
    Row(k_eigenvalue, "incident flux on the slab",
        lambda: k_eigenvalue(_fissile(incident={"left": 1.0}), order=4), V,
        r"incident must be None"),
    Row(k_eigenvalue, "nothing fissile", lambda: k_eigenvalue(_slab(), order=4), V,
        r"nu_sigma_f > 0"),
    Row(k_eigenvalue, "slab not a Slab", lambda: k_eigenvalue(Region(_m(), 1.0), order=4), T,
        r"slab must be a Slab"),
    Row(k_eigenvalue, "order odd", lambda: k_eigenvalue(_fissile(), order=7), V,
        r"order must be even"),
    Row(k_eigenvalue, "scheme unknown", lambda: k_eigenvalue(_fissile(), order=4, scheme="sc"), V,
        r"scheme must be one of"),
    Row(k_eigenvalue, "accel unknown", lambda: k_eigenvalue(_fissile(), order=4, accel="cmfd"), V,
        r"accel must be one of"),
    Row(k_eigenvalue, "tol zero", lambda: k_eigenvalue(_fissile(), order=4, tol=0.0), V,
        r"tol must be > 0"),
    Row(k_eigenvalue, "tol inf", lambda: k_eigenvalue(_fissile(), order=4, tol=INF), V,
        r"tol must be finite"),
    Row(k_eigenvalue, "max_iter zero", lambda: k_eigenvalue(_fissile(), order=4, max_iter=0), V,
        r"max_iter must be >= 1"),
    Row(k_eigenvalue, "k0 zero", lambda: k_eigenvalue(_fissile(), order=4, k0=0.0), V,
        r"k0 must be > 0"),
    Row(k_eigenvalue, "k0 NaN", lambda: k_eigenvalue(_fissile(), order=4, k0=NAN), V,
        r"k0 must be finite"),
    Row(k_eigenvalue, "inner_tol negative",
        lambda: k_eigenvalue(_fissile(), order=4, inner_tol=-1.0), V, r"inner_tol must be > 0"),
    Row(k_eigenvalue, "raise_on_fail not a bool",
        lambda: k_eigenvalue(_fissile(), order=4, raise_on_fail=None), T,
        r"raise_on_fail must be a bool"),
    # ---------------------------------------------------------------- EigenSolution
    Row(EigenSolution, "k NaN", lambda: _eig(k=NAN), V, r"k must be finite"),
    Row(EigenSolution, "k negative", lambda: _eig(k=-1.0), V, r"k must be > 0"),
    Row(EigenSolution, "k a string", lambda: _eig(k="1"), T, r"k must be a real"),
    Row(EigenSolution, "phi 1-D", lambda: _eig(phi=np.ones(4)), V, r"phi must be 2-dimensional"),
    Row(EigenSolution, "x_edges size mismatch", lambda: _eig(x_edges=np.linspace(0, 1, 4)), V,
        r"x_edges must be increasing with shape \(5,\)"),
    Row(EigenSolution, "x_centres size mismatch", lambda: _eig(x_centres=np.ones(3)), V,
        r"x_centres must have shape \(4,\)"),
    Row(EigenSolution, "iterations negative", lambda: _eig(iterations=-2), V,
        r"iterations must be >= 0"),
    Row(EigenSolution, "dominance_ratio negative", lambda: _eig(dominance_ratio=-0.5), V,
        r"dominance_ratio must be >= 0"),
    Row(EigenSolution, "plot without x_edges", lambda: _eig(x_edges=None).plot(), V,
        r"x_edges is None"),
    # ---------------------------------------------------------------- fourier.amplification
    Row(amplification, "c > 1", lambda: amplification(1.0, 1.2, order=8), V, r"\bc must lie"),
    Row(amplification, "c negative", lambda: amplification(1.0, -0.1, order=8), V,
        r"\bc must lie"),
    Row(amplification, "c NaN", lambda: amplification(1.0, NAN, order=8), V, r"\bc must be finite"),
    Row(amplification, "c a string", lambda: amplification(1.0, "0.5", order=8), T,
        r"\bc must be a real"),
    Row(amplification, "method unknown", lambda: amplification(1.0, 0.5, method="gmres"), V,
        r"method must be one of"),
    Row(amplification, "order odd", lambda: amplification(1.0, 0.5, order=5), V,
        r"order must be even"),
    Row(amplification, "order zero", lambda: amplification(1.0, 0.5, order=0), V,
        r"order must be >= 2"),
    Row(amplification, "order -inf", lambda: amplification(1.0, 0.5, order=-INF), T,
        r"order must be an integer"),
    Row(amplification, "order a word", lambda: amplification(1.0, 0.5, order="many"), V,
        r"order must be an even integer"),
    Row(amplification, "optical_thickness zero",
        lambda: amplification(1.0, 0.5, optical_thickness=0.0), V,
        r"optical_thickness must be > 0"),
    Row(amplification, "optical_thickness NaN",
        lambda: amplification(1.0, 0.5, optical_thickness=NAN), V,
        r"optical_thickness must be finite"),
    Row(amplification, "scheme unknown",
        lambda: amplification(1.0, 0.5, optical_thickness=1.0, scheme="linear"), V,
        r"scheme must be one of"),
    Row(amplification, "dsa unknown", lambda: amplification(1.0, 0.5, method="dsa", dsa="p1"), V,
        r"dsa must be one of"),
    Row(amplification, "mu_bar > 1", lambda: amplification(1.0, 0.5, mu_bar=1.5), V,
        r"mu_bar must lie"),
    Row(amplification, "mu_bar = 1 at c = 1 (sigma_tr = 0)",
        lambda: amplification(1.0, 1.0, mu_bar=1.0), V, r"mu_bar"),
    Row(amplification, "modes NaN", lambda: amplification([1.0, NAN], 0.5), V,
        r"lam_or_theta must be finite"),
    Row(amplification, "modes a string", lambda: amplification("pi", 0.5), T,
        r"lam_or_theta must be array-like"),
    Row(amplification, "flat mode singular for DSA at c = 1",
        lambda: amplification(0.0, 1.0, method="dsa", order=8), V, r"lam_or_theta: .*singular"),
    Row(amplification, "all_eigenvalues not a bool",
        lambda: amplification(1.0, 0.5, all_eigenvalues="yes"), T, r"all_eigenvalues must be"),
    # ---------------------------------------------------------------- fourier.spectral_radius
    Row(spectral_radius, "c negative", lambda: spectral_radius(-0.5, method="si", order=8), V,
        r"\bc must lie"),
    Row(spectral_radius, "c inf", lambda: spectral_radius(INF, method="si", order=8), V,
        r"\bc must be finite"),
    Row(spectral_radius, "method unknown", lambda: spectral_radius(0.5, method="gmres", order=8),
        V, r"method must be one of"),
    Row(spectral_radius, "method not a str", lambda: spectral_radius(0.5, method=1, order=8), T,
        r"method must be a string"),
    Row(spectral_radius, "order odd", lambda: spectral_radius(0.5, method="si", order=3), V,
        r"order must be even"),
    Row(spectral_radius, "optical_thickness negative",
        lambda: spectral_radius(0.5, method="si", order=8, optical_thickness=-1.0), V,
        r"optical_thickness must be > 0"),
    Row(spectral_radius, "optical_thickness inf",
        lambda: spectral_radius(0.5, method="si", order=8, optical_thickness=INF), V,
        r"optical_thickness must be finite"),
    Row(spectral_radius, "n_modes too few",
        lambda: spectral_radius(0.5, method="si", order=8, n_modes=10), V,
        r"n_modes must be >= 16"),
    Row(spectral_radius, "n_modes a float",
        lambda: spectral_radius(0.5, method="si", order=8, n_modes=100.5), T,
        r"n_modes must be an integer"),
    # ---------------------------------------------------------------- fourier.analyse
    Row(analyse, "c > 1", lambda: analyse(1.5, method="dsa", order=8), V, r"\bc must lie"),
    Row(analyse, "method None", lambda: analyse(0.5, method=None, order=8), T,
        r"method must be a string"),
    Row(analyse, "order a float", lambda: analyse(0.5, method="si", order=8.5), T,
        r"order must be an integer"),
    Row(analyse, "n_modes zero", lambda: analyse(0.5, method="si", order=8, n_modes=0), V,
        r"n_modes must be >= 16"),
    Row(analyse, "dsa unknown", lambda: analyse(0.5, method="dsa", order=8, dsa="none"), V,
        r"dsa must be one of"),
    # ---------------------------------------------------------------- fourier.iteration_matrix
    Row(iteration_matrix, "modes inf", lambda: iteration_matrix([INF], 0.5), V,
        r"x must be finite"),
    Row(iteration_matrix, "c a string", lambda: iteration_matrix(1.0, "high"), T,
        r"\bc must be a real"),
    Row(iteration_matrix, "scheme unknown",
        lambda: iteration_matrix(1.0, 0.5, optical_thickness=1.0, scheme="dd"), V,
        r"scheme must be one of"),
    Row(iteration_matrix, "mu_bar NaN", lambda: iteration_matrix(1.0, 0.5, mu_bar=NAN), V,
        r"mu_bar must be finite"),
    Row(iteration_matrix, "flat mode singular", lambda: iteration_matrix(0.0, 1.0, method="dsa"),
        V, r"x: .*singular"),
    # ---------------------------------------------------------------- FourierResult
    Row(FourierResult, "omega shape differs from modes", _fr_replace(omega=np.ones(3)), V,
        r"omega must have the shape of modes"),
    Row(FourierResult, "omega strings", _fr_replace(omega=np.array(["a"] * 32)), T,
        r"omega must be an array of numbers"),
    Row(FourierResult, "modes 2-D", _fr_replace(modes=np.ones((2, 16))), V,
        r"modes must be 1-dimensional"),
    Row(FourierResult, "spectral_radius below max |omega|", _fr_replace(spectral_radius=0.01), V,
        r"spectral_radius .* must be >= max \|omega\|"),
    Row(FourierResult, "spectral_radius negative", _fr_replace(spectral_radius=-1.0), V,
        r"spectral_radius must be >= 0"),
    Row(FourierResult, "c > 1", _fr_replace(c=2.0), V, r"\bc must lie"),
    Row(FourierResult, "method unknown", _fr_replace(method="cmfd"), V, r"method must be one of"),
    Row(FourierResult, "order odd", _fr_replace(order=3), V, r"order must be even"),
    Row(FourierResult, "optical_thickness zero", _fr_replace(optical_thickness=0.0), V,
        r"optical_thickness must be > 0"),
    Row(FourierResult, "mode_max NaN", _fr_replace(mode_max=NAN), V, r"mode_max must be finite"),
]

# sweep task functions (sciflow.transport.sweeps): rows kept in tests/test_sweep.py
from ..test_sweep import TRANSPORT_ROWS as _sweep_rows  # noqa: E402

ROWS = ROWS + _sweep_rows

test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.transport", ROWS)

