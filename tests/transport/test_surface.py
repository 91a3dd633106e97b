"""One public surface for sciflow.transport: every result object has ``.plot(ax=None)`` and
``.to_xarray()`` whose data equal the result's arrays; long work (``solve``, ``k_eigenvalue``)
takes ``progress``. sciflow.transport draws no random numbers (no ``rng``)."""

import functools
import inspect

import matplotlib
import numpy as np
import pytest

import sciflow.transport as transport
from sciflow.transport import (
    EigenSolution,
    Material,
    Region,
    Slab,
    TransportSolution,
    fourier,
    gauss_legendre,
    k_eigenvalue,
    solve,
)
from sciflow.transport.fourier import FourierResult
from sciflow.transport.iterate import Discretisation
from sciflow.transport.quadrature import Quadrature

from .._bad_input import Row, make_tests, public_callables
from .._surface import assert_result_surface

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

xr = pytest.importorskip("xarray")

# the result objects of sciflow.transport; the other public classes are inputs or solver
# internals (test_every_result_class_is_in_the_inventory keeps the two lists complete)
INVENTORY = (TransportSolution, EigenSolution, FourierResult, Quadrature)
NOT_RESULTS = (Material, Region, Slab, Discretisation)
# functions that draw random numbers: none in sciflow.transport
STOCHASTIC: tuple = ()


# ------------------------------------------------------------------ cheap results
@functools.cache
def _solution():
    # two regions, 2 groups with downscatter, S4: a few milliseconds
    fuel = Material([1.0, 1.5], [[[0.5, 0.0], [0.3, 1.2]]])
    water = Material([0.8, 1.2], [[[0.4, 0.0], [0.2, 1.0]]])
    slab = Slab([Region(fuel, 2.0, source=[1.0, 0.0], cells=6), Region(water, 3.0, cells=8)])
    return solve(slab, order=4)


@functools.cache
def _eigen():
    fissile = Material(1.0, 0.8, nu_sigma_f=0.3)
    return k_eigenvalue(Slab([Region(fissile, 10.0, cells=12)]), order=4)


@functools.cache
def _fourier():
    return fourier.analyse(0.9, method="dsa", order=4, optical_thickness=0.5, n_modes=64)


@functools.cache
def _quadrature():
    return gauss_legendre(6)


BUILD = {TransportSolution: _solution, EigenSolution: _eigen, FourierResult: _fourier,
         Quadrature: _quadrature}


# ------------------------------------------------------------------ what .plot draws
def _check_solution_drawing(ax, res):
    stairs = [p for p in ax.patches if hasattr(p, "get_data")]
    assert len(stairs) == res.phi.shape[0] == 2
    for g, st in enumerate(stairs):
        data = st.get_data()
        np.testing.assert_array_equal(data.values, res.phi[g])
        np.testing.assert_array_equal(data.edges, res.x_edges)


def _check_fourier_drawing(ax, res):
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), res.modes)
    np.testing.assert_array_equal(line.get_ydata(), np.abs(res.omega))


def _check_quadrature_drawing(ax, res):
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), res.mu)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), res.w)


DRAWN = {TransportSolution: _check_solution_drawing, EigenSolution: _check_solution_drawing,
         FourierResult: _check_fourier_drawing, Quadrature: _check_quadrature_drawing}


@pytest.mark.parametrize("cls", INVENTORY, ids=lambda c: c.__name__)
def test_plot_draws_the_result_arrays(cls):
    if cls is EigenSolution:  # one group: make the two-stair check fit
        res = _eigen()
        ax = res.plot()
        (st,) = ax.patches
        np.testing.assert_array_equal(st.get_data().values, res.phi[0])
        np.testing.assert_array_equal(st.get_data().edges, res.x_edges)
        _, ax0 = plt.subplots()
        assert res.plot(ax=ax0) is ax0
        np.testing.assert_array_equal(ax0.patches[0].get_data().values, res.phi[0])
        return
    res = BUILD[cls]()
    ax = res.plot()
    assert isinstance(ax, Axes)
    DRAWN[cls](ax, res)
    _, ax0 = plt.subplots()
    assert res.plot(ax=ax0) is ax0
    DRAWN[cls](ax0, res)


@pytest.mark.parametrize("cls", INVENTORY, ids=lambda c: c.__name__)
def test_plot_rejects_a_non_axes(cls):
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got str"):
        BUILD[cls]().plot(ax="x")


def test_solution_plot_one_group_and_kwargs():
    res = _solution()
    ax = res.plot(group=1, color="k")
    (st,) = ax.patches
    np.testing.assert_array_equal(st.get_data().values, res.phi[1])
    assert st.get_edgecolor()[:3] == (0.0, 0.0, 0.0)


# ------------------------------------------------------------------ .to_xarray
def test_solution_to_xarray():
    res = _solution()
    ds = res.to_xarray()
    assert ds["phi"].dims == ("group", "x")
    np.testing.assert_array_equal(ds["phi"].values, res.phi)
    np.testing.assert_array_equal(ds["x"].values, res.x_centres)
    np.testing.assert_array_equal(ds["x_edge"].values, res.x_edges)
    np.testing.assert_array_equal(ds["group"].values, [0, 1])
    assert ds["x"].attrs["units"] == "cm"
    for name in ("leakage_left", "leakage_right", "absorption"):
        assert ds[name].dims == ("group",)
        np.testing.assert_array_equal(ds[name].values, getattr(res, name))
    np.testing.assert_array_equal(ds["residuals"].values, res.residuals)
    assert ds["moments"].dims == ("legendre", "group", "x")
    np.testing.assert_array_equal(ds["moments"].values, res.moments)
    # outgoing angular flux at the positive S4 directions, by increasing |mu|
    np.testing.assert_array_equal(ds["mu"].values, res.quadrature.mu[2:])
    for side in ("left", "right"):
        assert ds[f"psi_out_{side}"].dims == ("group", "mu")
        np.testing.assert_array_equal(ds[f"psi_out_{side}"].values, res.psi_out[side])
    assert ds.attrs["iterations"] == res.iterations
    assert ds.attrs["sweeps"] == res.sweeps
    assert ds.attrs["spectral_radius"] == res.spectral_radius
    assert ds.attrs["converged"] == 1 and ds.attrs["order"] == 4


def test_eigen_to_xarray():
    res = _eigen()
    ds = res.to_xarray()
    assert ds["phi"].dims == ("group", "x")
    np.testing.assert_array_equal(ds["phi"].values, res.phi)
    np.testing.assert_array_equal(ds["x"].values, res.x_centres)
    np.testing.assert_array_equal(ds["x_edge"].values, res.x_edges)
    np.testing.assert_array_equal(ds["k_history"].values, res.k_history)
    assert ds["k_history"].dims == ("outer",)
    assert ds.attrs["k"] == res.k and ds.attrs["iterations"] == res.iterations
    # k_history starts at k0 = 1 and ends at k
    assert ds["k_history"].values[0] == 1.0 and ds["k_history"].values[-1] == res.k


def test_fourier_to_xarray():
    res = _fourier()
    ds = res.to_xarray()
    assert res.variable == "theta" and ds["omega"].dims == ("theta",)
    np.testing.assert_array_equal(ds["theta"].values, res.modes)
    np.testing.assert_array_equal(ds["omega"].values, res.omega)
    np.testing.assert_array_equal(ds["abs_omega"].values, np.abs(res.omega))
    assert ds["theta"].attrs["units"] == "rad"
    assert ds.attrs["spectral_radius"] == res.spectral_radius
    assert ds.attrs["order"] == 4 and ds.attrs["optical_thickness"] == 0.5
    # the continuous analysis has no optical thickness: the dimension is lambda
    cont = fourier.analyse(0.5, method="si", order=None, n_modes=32).to_xarray()
    assert cont["omega"].dims == ("lambda",) and "order" not in cont.attrs


def test_quadrature_to_xarray():
    res = _quadrature()
    ds = res.to_xarray()
    assert ds["w"].dims == ("mu",)
    np.testing.assert_array_equal(ds["mu"].values, res.mu)
    np.testing.assert_array_equal(ds["w"].values, res.w)
    assert ds.attrs["order"] == 6


# ------------------------------------------------------------------ inventory
def test_every_result_class_is_in_the_inventory():
    classes = {obj for obj in public_callables("sciflow.transport").values()
               if inspect.isclass(obj)}
    assert classes == set(INVENTORY) | set(NOT_RESULTS), (
        "a public class of sciflow.transport is neither in INVENTORY (results: .plot and "
        "to_xarray) nor in NOT_RESULTS")
    for cls in INVENTORY:
        assert_result_surface(cls)
    assert set(BUILD) == set(INVENTORY)
    assert transport.__all__  # the package exports its names


# ------------------------------------------------------------------ progress
def test_progress_bar_changes_nothing(capsys):
    res = _solution()
    fuel = Material([1.0, 1.5], [[[0.5, 0.0], [0.3, 1.2]]])
    water = Material([0.8, 1.2], [[[0.4, 0.0], [0.2, 1.0]]])
    slab = Slab([Region(fuel, 2.0, source=[1.0, 0.0], cells=6), Region(water, 3.0, cells=8)])
    with_bar = solve(slab, order=4, progress=True)
    assert "transport solve" in capsys.readouterr().err
    np.testing.assert_array_equal(with_bar.phi, res.phi)
    assert with_bar.iterations == res.iterations and with_bar.sweeps == res.sweeps
    eig = _eigen()
    fissile = Material(1.0, 0.8, nu_sigma_f=0.3)
    eig_bar = k_eigenvalue(Slab([Region(fissile, 10.0, cells=12)]), order=4, progress=True)
    assert "k_eigenvalue" in capsys.readouterr().err
    assert eig_bar.k == eig.k and eig_bar.iterations == eig.iterations


# ------------------------------------------------------------------ bad input (new parameters)
def _slab():
    return Slab([Region(Material(1.0, 0.5), 1.0, source=1.0, cells=4)])


def _fissile():
    return Slab([Region(Material(1.0, 0.8, nu_sigma_f=0.3), 10.0, cells=4)])


V, T = ValueError, TypeError
AXES_MSG = r"ax must be a matplotlib Axes or None"
ROWS = [
    Row(solve, "progress a string", lambda: solve(_slab(), progress="yes"), T,
        r"progress must be a bool"),
    Row(solve, "progress an int", lambda: solve(_slab(), progress=1), T,
        r"progress must be a bool"),
    Row(solve, "progress None", lambda: solve(_slab(), progress=None), T,
        r"progress must be a bool"),
    Row(k_eigenvalue, "progress a string", lambda: k_eigenvalue(_fissile(), progress="on"), T,
        r"progress must be a bool"),
    Row(k_eigenvalue, "progress an int", lambda: k_eigenvalue(_fissile(), progress=0), T,
        r"progress must be a bool"),
    Row(k_eigenvalue, "progress a float", lambda: k_eigenvalue(_fissile(), progress=1.0), T,
        r"progress must be a bool"),
    Row(TransportSolution, "plot group too large", lambda: _solution().plot(group=2), V,
        r"group must be <= 1"),
]
for _cls in INVENTORY:
    for _what, _bad in (("a string", "x"), ("an int", 3), ("a Figure", "figure")):
        ROWS.append(Row(_cls, f"plot ax {_what}",
                        lambda c=_cls, b=_bad: BUILD[c]().plot(
                            ax=plt.figure() if b == "figure" else b), T, AXES_MSG))

test_bad_input, _cover_transport = make_tests("sciflow.transport", ROWS)
