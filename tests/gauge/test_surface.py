"""One public surface for sciflow.gauge: every result object has ``.plot(ax=None)`` and
``.to_xarray()`` whose data equal the result's arrays; every stochastic function takes ``rng``
(same seed, same output; another seed, another output); long work takes ``progress``."""

import functools
import inspect

import matplotlib
import numpy as np
import pytest

from sciflow.gauge import (
    CounterexampleResult,
    Decomposition,
    DimensionResult,
    GaugeDefect,
    GaugedModel,
    GaugeEnergy,
    GaugeResidual,
    JacobianAsymmetry,
    LearnedFieldReport,
    SampleDecomposition,
    SmoothedEmpiricalScore,
    decompose,
    decompose_samples,
    gauge_defect,
    gauge_residual,
    intrinsic_dimension,
    jacobian_asymmetry,
    learned_field_report,
    run_counterexample,
    sliced_wasserstein,
)
from sciflow.sampling import GaussianMixture, VPSchedule

from .._bad_input import Row, make_tests, public_callables
from .._surface import assert_result_surface

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

xr = pytest.importorskip("xarray")

# the result objects of sciflow.gauge; the other public classes are models (callables)
INVENTORY = (Decomposition, GaugeEnergy, GaugeResidual, SampleDecomposition, JacobianAsymmetry,
             GaugeDefect, LearnedFieldReport, CounterexampleResult, DimensionResult)
NOT_RESULTS = (GaugedModel, SmoothedEmpiricalScore)

VP = VPSchedule("linear")
MIX = GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [0.3 * np.eye(2)] * 2)
AX = np.linspace(-3.0, 3.0, 12)
GRID = (AX, AX)
P2 = np.exp(-0.5 * (AX[:, None] ** 2 + AX[None, :] ** 2))
# a field with a rotational part, so r != 0
F2 = np.stack([np.outer(AX, np.ones(12)) - 0.5 * np.outer(np.ones(12), AX),
               np.outer(np.ones(12), AX) + 0.5 * np.outer(AX, np.ones(12))])
PTS = np.random.default_rng(0).standard_normal((50, 2))
# a curve in 3-D: the parabola (t, 0, t^2)
_T = np.random.default_rng(1).uniform(-1.0, 1.0, 200)
CURVE = np.stack([_T, 0.0 * _T, _T**2], axis=1)


def _lin(x):
    return x @ np.array([[1.0, 0.5], [-0.5, 2.0]]).T


# ------------------------------------------------------------------ cheap results
@functools.cache
def _dec2():
    return decompose(F2, P2, GRID)


@functools.cache
def _dec1():
    x = np.linspace(-3.0, 3.0, 40)
    return decompose(np.sin(x)[None], np.exp(-0.5 * x**2), (x,))


@functools.cache
def _residual():
    return gauge_residual(_dec2().r, P2, GRID)


@functools.cache
def _samples():
    return decompose_samples(_lin, PTS, degree=2)


@functools.cache
def _asymmetry():
    return jacobian_asymmetry(_lin(PTS) * PTS[:, :1], PTS)


@functools.cache
def _asymmetry_pts():
    return jacobian_asymmetry(lambda x: _lin(x) * x[:, :1], PTS)


@functools.cache
def _defect():
    return gauge_defect(F2, density=P2, grid=GRID)


@functools.cache
def _report():
    # a 24^2 grid resolves p_t at t = 0.5, 0.8 (no under-resolution warning)
    ax = np.linspace(-3.0, 3.0, 24)
    return learned_field_report(MIX.bind(VP), MIX, (ax, ax), [0.5, 0.8], n_samples=0)


@functools.cache
def _counterexample():
    return run_counterexample(n=100, nfe=10, rng=0)


@functools.cache
def _dimension():
    return intrinsic_dimension(CURVE, n_points=20, rng=0, return_details=True)


BUILD = {Decomposition: _dec2, GaugeEnergy: lambda: _dec2().energy(),
         GaugeResidual: _residual, SampleDecomposition: _samples,
         JacobianAsymmetry: _asymmetry_pts, GaugeDefect: _defect, LearnedFieldReport: _report,
         CounterexampleResult: _counterexample, DimensionResult: _dimension}


# ------------------------------------------------------------------ what .plot draws
def _check_quiver(ax, res):
    # 12 x 12 cells: every cell gets an arrow; grad phi (blue) then r (red)
    q_grad, q_r = [c for c in ax.collections if hasattr(c, "U")]
    np.testing.assert_array_equal(np.ravel(q_grad.U), res.grad_phi[0].ravel())
    np.testing.assert_array_equal(np.ravel(q_grad.V), res.grad_phi[1].ravel())
    np.testing.assert_array_equal(np.ravel(q_r.U), res.r[0].ravel())
    np.testing.assert_array_equal(np.ravel(q_r.V), res.r[1].ravel())


def _bars(values):
    def check(ax, res):
        np.testing.assert_array_equal([p.get_height() for p in ax.patches], values(res))
    return check


def _check_mesh(ax, res):
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).ravel(),
                                  np.asarray(res.divergence).T.ravel())


def _check_hist(ax, res):
    counts, _ = np.histogram(res.ratio.ravel(), bins=50)
    np.testing.assert_array_equal([p.get_height() for p in ax.patches], counts)


def _check_report(ax, res):
    ok = res.gauge_fraction > 0
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), res.sigma[ok])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), res.gauge_fraction[ok])


def _check_scatter(ax, res):
    for coll, key in zip(ax.collections[:3], ("flow", "gauge", "non_gauge"), strict=True):
        np.testing.assert_array_equal(coll.get_offsets(), res.x[key][:, :2])


def _check_spectra(ax, res):
    v = np.asarray(res.spectra, dtype=float)
    v = np.maximum(v / v.max(axis=1, keepdims=True), 1e-6)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), v[0])
    median = [ln for ln in ax.lines if ln.get_label() == "median"][0]
    np.testing.assert_array_equal(median.get_ydata(), np.median(v, axis=0))


DRAWN = {Decomposition: _check_quiver,
         GaugeEnergy: _bars(lambda e: [e.field, e.grad_phi, e.r]),
         GaugeResidual: _check_mesh,
         SampleDecomposition: _bars(lambda s: [s.energy_field, s.energy_grad_phi, s.energy_r]),
         JacobianAsymmetry: _check_hist, GaugeDefect: _check_mesh,
         LearnedFieldReport: _check_report, CounterexampleResult: _check_scatter,
         DimensionResult: _check_spectra}
# plot keywords that make the drawing comparable (grid maps need the grid)
PLOT_KW = {GaugeResidual: {"grid": GRID}, GaugeDefect: {"grid": GRID}}


@pytest.mark.parametrize("cls", INVENTORY, ids=lambda c: c.__name__)
def test_plot_draws_the_result_arrays(cls):
    res = BUILD[cls]()
    kw = PLOT_KW.get(cls, {})
    ax = res.plot(**kw)
    assert isinstance(ax, Axes)
    DRAWN[cls](ax, res)
    _, ax0 = plt.subplots()
    assert res.plot(ax=ax0, **kw) is ax0
    DRAWN[cls](ax0, res)


@pytest.mark.parametrize("cls", INVENTORY, ids=lambda c: c.__name__)
def test_plot_rejects_a_non_axes(cls):
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got str"):
        BUILD[cls]().plot(ax="x")


def test_decomposition_plot_1d_lines():
    res = _dec1()
    ax = res.plot()
    s, g, r = ax.lines
    np.testing.assert_array_equal(s.get_xdata(), res.grid[0])
    np.testing.assert_array_equal(s.get_ydata(), res.field[0])
    np.testing.assert_array_equal(g.get_ydata(), res.grad_phi[0])
    np.testing.assert_array_equal(r.get_ydata(), res.r[0])


def test_grid_maps_without_grid_use_cell_indices():
    ax = _residual().plot()
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).ravel(),
                                  _residual().divergence.T.ravel())
    # pcolormesh with 12 centres per axis: the cell corners span -0.5 .. 11.5
    corners = mesh.get_coordinates()
    assert corners[0, 0, 0] == -0.5 and corners[-1, -1, 0] == 11.5


# ------------------------------------------------------------------ .to_xarray
def _eq(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_decomposition_to_xarray():
    res = _dec2()
    ds = res.to_xarray()
    for name in ("field", "grad_phi", "r"):
        assert ds[name].dims == ("component", "x", "y")
        _eq(ds[name].values, getattr(res, name))
    for name in ("phi", "residual", "density"):
        assert ds[name].dims == ("x", "y")
        _eq(ds[name].values, getattr(res, name))
    _eq(ds["x"].values, AX)
    _eq(ds["y"].values, AX)
    _eq(ds["component"].values, [0, 1])
    _eq(ds["residual_history"].values, res.residual_history)
    assert ds.attrs["iterations"] == res.iterations and ds.attrs["method"] == res.method
    assert ds.attrs["residual_norm"] == res.residual_norm
    ds1 = _dec1().to_xarray()
    assert ds1["r"].dims == ("component", "x")
    _eq(ds1["x"].values, _dec1().grid[0])


def test_energy_to_xarray():
    e = _dec2().energy()
    ds = e.to_xarray()
    for name in ("field", "grad_phi", "r", "cross"):
        assert ds[name].dims == () and ds[name].item() == getattr(e, name)
    assert ds.attrs["orthogonality_error"] == e.orthogonality_error


def test_residual_to_xarray():
    res = _residual()
    ds = res.to_xarray(grid=GRID)
    assert ds["divergence"].dims == ("x", "y")
    _eq(ds["divergence"].values, res.divergence)
    _eq(ds["x"].values, AX)
    assert ds.attrs["norm"] == res.norm and ds.attrs["relative"] == res.relative
    # without the grid the coordinates are the cell indices
    _eq(res.to_xarray()["y"].values, np.arange(12))


def test_sample_decomposition_to_xarray():
    res = _samples()
    ds = res.to_xarray()
    assert ds["grad_phi"].dims == ("sample", "dim") and ds["r"].dims == ("sample", "dim")
    _eq(ds["grad_phi"].values, res.grad_phi_samples)
    _eq(ds["r"].values, res.r)
    _eq(ds["coefficients"].values, res.coefficients)
    assert ds.sizes["basis_function"] == res.n_features
    assert ds.attrs["energy_r"] == res.energy_r and ds.attrs["basis"] == "polynomial"


def test_asymmetry_to_xarray():
    pts = _asymmetry_pts()
    ds = pts.to_xarray()
    assert ds["ratio"].dims == ("point",) and ds["jacobian"].dims == ("point", "i", "j")
    _eq(ds["ratio"].values, pts.ratio)
    _eq(ds["jacobian"].values, pts.jacobian)
    assert ds.attrs["mean"] == pts.mean and ds.attrs["method"] == "central differences"
    grid_res = jacobian_asymmetry(F2, grid=GRID)
    dsg = grid_res.to_xarray(grid=GRID)
    assert dsg["ratio"].dims == ("x", "y") and dsg["jacobian"].dims == ("x", "y", "i", "j")
    _eq(dsg["ratio"].values, grid_res.ratio)
    _eq(dsg["x"].values, AX)


def test_defect_to_xarray():
    res = _defect()
    ds = res.to_xarray(grid=GRID)
    assert ds["divergence"].dims == ("x", "y")
    _eq(ds["divergence"].values, res.divergence)
    assert ds.attrs["method"] == "grid" and ds.attrs["norm"] == res.norm


def test_defect_at_points():
    # r = A x (A antisymmetric) is a gauge field of N(0, I): div(p r)/p = tr A - x.A x = 0
    res = gauge_defect(lambda x: x @ np.array([[0.0, 1.0], [-1.0, 0.0]]).T,
                       score=lambda x: -x, x=PTS)
    ds = res.to_xarray()
    assert ds["divergence"].dims == ("point",) and ds.sizes["point"] == 50
    _eq(ds["divergence"].values, res.divergence)
    assert np.max(np.abs(res.divergence)) == 0.0  # measured: exactly 0 (linear field)
    counts, _ = np.histogram(res.divergence, bins=50)
    _eq([p.get_height() for p in res.plot().patches], counts)


def test_report_to_xarray():
    res = _report()
    ds = res.to_xarray()
    _eq(ds["t"].values, res.times)
    for name in LearnedFieldReport.COLUMNS[1:]:
        assert ds[name].dims == ("t",)
        _eq(ds[name].values, getattr(res, name))


def test_counterexample_to_xarray():
    res = _counterexample()
    ds = res.to_xarray()
    assert ds["x_end"].dims == ("flow", "sample", "dim")
    for key in res.x:
        _eq(ds["x_end"].sel(flow=key).values, res.x[key])
    _eq(ds["x_T"].values, res.x_T)
    for name in ("mean_error", "cov_error", "sliced_wasserstein", "flow_error"):
        for v in ("exact", "gauge", "non_gauge"):
            assert ds[name].sel(variant=v).item() == getattr(res, name)[v]
    _eq(ds["cov"].values, res.cov)
    assert ds.attrs["rotation_angle"] == res.rotation_angle and ds.attrs["nfe"] == 10


def test_dimension_to_xarray():
    res = _dimension()
    ds = res.to_xarray()
    _eq(ds["index"].values, res.indices)
    for name in ("local_dimensions", "sigma", "n_eff", "gap"):
        assert ds[name].dims == ("point",)
        _eq(ds[name].values, getattr(res, name))
    for name in ("spectra", "singular_values"):
        assert ds[name].dims == ("point", "component")
        _eq(ds[name].values, getattr(res, name))
    assert ds["scale_spectra"].dims == ("point", "scale", "component")
    _eq(ds["scale_spectra"].values, res.scale_spectra)
    _eq(ds["component"].values, [1, 2, 3])
    # the parabola is a curve: dimension 1 in R^3
    assert ds.attrs["dimension"] == res.dimension == 1 and ds.attrs["ambient_dim"] == 3


# ------------------------------------------------------------------ inventory
def test_every_result_class_is_in_the_inventory():
    classes = {obj for obj in public_callables("sciflow.gauge").values()
               if inspect.isclass(obj)}
    assert classes == set(INVENTORY) | set(NOT_RESULTS), (
        "a public class of sciflow.gauge is neither in INVENTORY (results: .plot and "
        ".to_xarray) nor in NOT_RESULTS")
    for cls in INVENTORY:
        assert_result_surface(cls)
    assert set(BUILD) == set(DRAWN) == set(INVENTORY)


# ------------------------------------------------------------------ rng
_Y = np.random.default_rng(5).standard_normal((40, 2)) + 0.3


STOCHASTIC = {
    "decompose_samples": lambda seed: decompose_samples(
        _lin, PTS, basis="fourier", n_features=16, rng=seed).coefficients,
    "sliced_wasserstein": lambda seed: sliced_wasserstein(PTS, _Y, n_projections=8, rng=seed),
    "run_counterexample": lambda seed: run_counterexample(n=20, nfe=2, rng=seed).x["gauge"],
    "learned_field_report": lambda seed: learned_field_report(
        MIX.bind(VP), MIX, (np.linspace(-3, 3, 24),) * 2, [0.8], n_samples=100,
        rng=seed).gauge_fraction_samples,
    "intrinsic_dimension": lambda seed: intrinsic_dimension(
        CURVE, n_points=10, rng=seed, return_details=True).indices,
}


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_rng_same_seed_same_output(name):
    fn = STOCHASTIC[name]
    a, b, c = fn(7), fn(7), fn(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c), f"{name}: seeds 7 and 8 gave the same output"
    # a Generator is accepted and is the same as its seed
    np.testing.assert_array_equal(fn(np.random.default_rng(7)), a)


def test_every_rng_function_is_in_the_inventory():
    with_rng = {name for name, obj in public_callables("sciflow.gauge").items()
                if not inspect.isclass(obj) and "rng" in inspect.signature(obj).parameters}
    assert {n.rsplit(".", 1)[1] for n in with_rng} == set(STOCHASTIC)


# ------------------------------------------------------------------ progress
def test_decompose_progress_bar_changes_nothing(capsys):
    with_bar = decompose(F2, P2, GRID, progress=True)
    assert "decompose (" in capsys.readouterr().err
    ref = _dec2()
    np.testing.assert_array_equal(with_bar.r, ref.r)
    assert with_bar.iterations == ref.iterations > 0


# ------------------------------------------------------------------ bad input (new parameters)
V, T = ValueError, TypeError
AXES_MSG = r"ax must be a matplotlib Axes or None"
RNG_MSG = r"rng must be a numpy.random.Generator, an integer seed or None"
ROWS = [
    Row(GaugeResidual, "to_xarray grid of the wrong size",
        lambda: _residual().to_xarray(grid=(AX[:5], AX)), V, r"grid must be a tuple of 2 axes"),
    Row(GaugeDefect, "to_xarray grid of the wrong size",
        lambda: _defect().to_xarray(grid=(AX, AX[:3])), V, r"grid must be a tuple of 2 axes"),
    Row(JacobianAsymmetry, "to_xarray grid for points",
        lambda: _asymmetry_pts().to_xarray(grid=GRID), V, r"grid must be a tuple of 1 axes"),
    Row(DimensionResult, "plot max_lines negative", lambda: _dimension().plot(max_lines=-1), V,
        r"max_lines must be >= 0"),
    Row(CounterexampleResult, "plot n_lines negative",
        lambda: _counterexample().plot(n_lines=-1), V, r"n_lines must be >= 0"),
    Row(decompose, "progress a string", lambda: decompose(F2, P2, GRID, progress="yes"), T,
        r"progress must be a bool"),
    Row(decompose, "progress an int", lambda: decompose(F2, P2, GRID, progress=1), T,
        r"progress must be a bool"),
    Row(decompose, "progress None", lambda: decompose(F2, P2, GRID, progress=None), T,
        r"progress must be a bool"),
    Row(decompose_samples, "rng a string", lambda: decompose_samples(_lin, PTS, rng="0"), T,
        RNG_MSG),
    Row(decompose_samples, "rng a float",
        lambda: decompose_samples(_lin, PTS, basis="fourier", rng=0.5), T, RNG_MSG),
    Row(decompose_samples, "rng a list", lambda: decompose_samples(_lin, PTS, rng=[1]), T,
        RNG_MSG),
    Row(sliced_wasserstein, "rng a string", lambda: sliced_wasserstein(PTS, _Y, rng="a"), T,
        RNG_MSG),
    Row(sliced_wasserstein, "rng a float", lambda: sliced_wasserstein(PTS, _Y, rng=1.5), T,
        RNG_MSG),
    Row(sliced_wasserstein, "rng the legacy RandomState",
        lambda: sliced_wasserstein(PTS, _Y, rng=np.random.RandomState(0)), T, RNG_MSG),
    Row(run_counterexample, "rng a string", lambda: run_counterexample(n=10, rng="x"), T,
        RNG_MSG),
    Row(run_counterexample, "progress a string",
        lambda: run_counterexample(n=10, progress="yes"), T, r"progress must be a bool"),
    Row(run_counterexample, "progress an int", lambda: run_counterexample(n=10, progress=1), T,
        r"progress must be a bool"),
    Row(learned_field_report, "rng a float",
        lambda: learned_field_report(MIX.bind(VP), MIX, GRID, [0.5], n_samples=10, rng=0.1), T,
        RNG_MSG),
    Row(learned_field_report, "progress a string",
        lambda: learned_field_report(MIX.bind(VP), MIX, GRID, [0.5], progress="on"), T,
        r"progress must be a bool"),
    Row(learned_field_report, "progress None",
        lambda: learned_field_report(MIX.bind(VP), MIX, GRID, [0.5], progress=None), T,
        r"progress must be a bool"),
    Row(intrinsic_dimension, "rng a string", lambda: intrinsic_dimension(CURVE, rng="0"), T,
        RNG_MSG),
    Row(intrinsic_dimension, "progress a string",
        lambda: intrinsic_dimension(CURVE, progress="yes"), T, r"progress must be a bool"),
    Row(intrinsic_dimension, "progress an int", lambda: intrinsic_dimension(CURVE, progress=1),
        T, r"progress must be a bool"),
]
for _cls in INVENTORY:
    for _what, _bad in (("a string", "x"), ("an int", 3), ("a Figure", "figure")):
        ROWS.append(Row(_cls, f"plot ax {_what}",
                        lambda c=_cls, b=_bad: BUILD[c]().plot(
                            ax=plt.figure() if b == "figure" else b), T, AXES_MSG))

test_bad_input, _cover_gauge = make_tests("sciflow.gauge", ROWS)
