"""One public surface for sciflow.multiplicative: every result object has ``.plot(ax=None)``
and ``.to_xarray()`` whose data equal the result's arrays; every stochastic function takes
``rng`` (same seed, same output; another seed, another output); long work takes ``progress``."""

import importlib
import inspect
import pkgutil
import sys

import matplotlib
import numpy as np
import pytest

import sciflow.multiplicative as mult
from sciflow.multiplicative import (
    GBM,
    FokkerPlanck2DResult,
    FokkerPlanckResult,
    LangevinResult,
    LogNormalMixture,
    ambient_langevin,
    dale_langevin,
    probability_flow,
    solve_fokker_planck,
    solve_fokker_planck_2d,
)
from sciflow.multiplicative.digits import SampleScores, class_mean_baseline

from .._bad_input import Row, make_tests
from .._surface import assert_result_surface

matplotlib.use("Agg")
xr = pytest.importorskip("xarray")

# the result objects of sciflow.multiplicative (a new one must be added here)
INVENTORY = (FokkerPlanckResult, FokkerPlanck2DResult, LangevinResult, SampleScores)
RESULT_SUFFIXES = ("Result", "Solution", "Table", "Decomposition", "Samples", "Search",
                   "Optimization", "Statistics", "Bias", "Gap", "Density", "Scores", "Report",
                   "Trajectory")

G = GBM(0.32, 0.8)
MIX = LogNormalMixture([0.4, 0.6], [[0.2, 0.1], [0.6, -0.2]],
                       [np.diag([0.01, 0.02]), np.diag([0.02, 0.01])])
B = MIX.bind(G)
X = np.exp(np.linspace(-3, 3, 40))
P0 = np.exp(-0.5 * (np.log(X) / 0.2) ** 2) / X
X2 = np.exp(np.linspace(-2, 2, 10))
P2 = np.outer(np.exp(-np.log(X2) ** 2), np.exp(-np.log(X2) ** 2))
SIG = np.array([[0.5, 0.0], [0.1, 0.4]])
XT = np.exp(np.random.default_rng(5).normal(size=(40, 2)))

_CACHE: dict = {}


def _built():
    if not _CACHE:
        _CACHE.update({
            "FokkerPlanckResult": solve_fokker_planck(G, X, P0, [0.05, 0.1], dt=0.025),
            "FokkerPlanck2DResult": solve_fokker_planck_2d([0.1, 0.2], SIG, X2, X2, P2,
                                                           [0.0, 0.1], dt=0.05),
            "LangevinResult": dale_langevin(B, XT, G, n_steps=5, rng=0, return_info=True),
            "SampleScores": SampleScores(frechet=1.25, coverage=0.9, confidence=0.75, n=10,
                                         fraction_clipped=0.125),
        })
    return _CACHE


# ============================================================================ plot checks
def _plot_fp(res, ax):
    lines = ax.get_lines()
    assert len(lines) == res.t.size
    for k, ln in enumerate(lines):
        np.testing.assert_array_equal(ln.get_xdata(), res.x)
        np.testing.assert_array_equal(ln.get_ydata(), res.p[k])


def _plot_fp2(res, ax):
    (cs,) = [c for c in ax.collections if hasattr(c, "levels")] or [ax.collections[0]]
    # the contour set was computed from p at the last output time
    assert cs.zmin == res.p[-1].min() and cs.zmax == res.p[-1].max()


def _plot_langevin(res, ax):
    logx = np.log(np.asarray(res.x)[:, 0])
    heights, edges = np.histogram(logx, bins=100, density=True)
    (bars,) = ax.containers
    np.testing.assert_allclose([p.get_height() for p in bars.patches], heights, rtol=1e-12)
    np.testing.assert_allclose([p.get_x() for p in bars.patches], edges[:-1], rtol=1e-12)


def _plot_scores(res, ax):
    (bars,) = ax.containers
    np.testing.assert_array_equal([p.get_height() for p in bars.patches],
                                  [1.25, 0.9, 0.75, 0.125])


PLOT_CHECKS = {"FokkerPlanckResult": _plot_fp, "FokkerPlanck2DResult": _plot_fp2,
               "LangevinResult": _plot_langevin, "SampleScores": _plot_scores}


# ============================================================================ xarray checks
def _xr_fp(res, ds):
    np.testing.assert_array_equal(ds["p"].values, res.p)
    np.testing.assert_array_equal(ds["mass"].values, res.mass)
    np.testing.assert_array_equal(ds["widths"].values, res.widths)
    np.testing.assert_array_equal(ds["faces"].values, res.faces)
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["t"].values, res.t)
    assert ds["p"].dims == ("t", "x") and ds.attrs["n_steps"] == res.n_steps
    assert ds["p"].attrs["units"] == "1/[x]"


def _xr_fp2(res, ds):
    np.testing.assert_array_equal(ds["p"].values, res.p)
    np.testing.assert_array_equal(ds["areas"].values, res.areas)
    np.testing.assert_array_equal(ds["x1"].values, res.x1)
    np.testing.assert_array_equal(ds["x2"].values, res.x2)
    np.testing.assert_array_equal(ds["mass"].values, res.mass)
    assert ds["p"].dims == ("t", "x1", "x2") and ds.attrs["m_matrix"] == int(res.m_matrix)


def _xr_langevin(res, ds):
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["dv"].values, res.dv)
    np.testing.assert_array_equal(ds["dm"].values, res.dm)
    np.testing.assert_array_equal(ds["times"].values, res.times)
    assert ds["x"].dims == ("sample", "dim") and ds["dv"].dims == ("step",)
    assert ds.attrs["nfe"] == res.nfe and np.isnan(ds.attrs["first_nonpositive_step"])


def _xr_scores(res, ds):
    np.testing.assert_array_equal(ds["score"].values, [1.25, 0.9, 0.75, 0.125])
    assert list(ds["metric"].values) == ["frechet", "coverage", "confidence",
                                         "fraction_clipped"]
    assert ds.attrs["n"] == 10


XR_CHECKS = {"FokkerPlanckResult": _xr_fp, "FokkerPlanck2DResult": _xr_fp2,
             "LangevinResult": _xr_langevin, "SampleScores": _xr_scores}
NAMES = [c.__name__ for c in INVENTORY]


@pytest.mark.parametrize("name", NAMES)
def test_plot_draws_the_result_arrays(name):
    import matplotlib.pyplot as plt

    res = _built()[name]
    ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    PLOT_CHECKS[name](res, ax)
    _, mine = plt.subplots()
    assert res.plot(ax=mine) is mine
    PLOT_CHECKS[name](res, mine)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        res.plot(ax="x")


@pytest.mark.parametrize("name", NAMES)
def test_to_xarray_holds_the_result_arrays(name):
    ds = _built()[name].to_xarray()
    assert isinstance(ds, xr.Dataset)
    XR_CHECKS[name](_built()[name], ds)


def test_to_xarray_without_xarray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    with pytest.raises(ImportError, match="pip install xarray"):
        _built()["FokkerPlanckResult"].to_xarray()


def test_every_result_class_is_in_the_inventory():
    mods = [mult]
    for info in pkgutil.iter_modules(mult.__path__):
        if not info.name.startswith("_") and info.name != "nn":
            mods.append(importlib.import_module(f"sciflow.multiplicative.{info.name}"))
    found = {obj for mod in mods for name, obj in vars(mod).items()
             if inspect.isclass(obj) and obj.__module__ == mod.__name__
             and not name.startswith("_") and name.endswith(RESULT_SUFFIXES)}
    missing = sorted(c.__name__ for c in found - set(INVENTORY))
    assert not missing, f"result classes missing from the surface inventory: {missing}"
    for cls in INVENTORY:
        assert_result_surface(cls)


# ============================================================================ rng
def _load_split(r):
    pytest.importorskip("sklearn")
    from sciflow.multiplicative.digits import load_split

    return load_split(rng=r).y_train[:50]


STOCHASTIC = {
    "GBM.sample": lambda r: G.sample(np.ones(4), 0.5, rng=r),
    "LogNormalMixture.sample": lambda r: MIX.sample(4, rng=r),
    "BoundLogNormalMixture.sample": lambda r: B.sample(4, 0.5, rng=r),
    "dale_langevin": lambda r: dale_langevin(B, XT[:4], G, n_steps=3, rng=r),
    "ambient_langevin": lambda r: ambient_langevin(B, XT[:4], G, n_steps=3, t_start=0.3,
                                                   rng=r),
    "probability_flow (prior draw)": lambda r: probability_flow(B, 4, G, nfe=3, rng=r),
    "class_mean_baseline": lambda r: class_mean_baseline(
        np.random.default_rng(0).uniform(1, 2, (6, 3, 3)), np.array([0, 0, 0, 1, 1, 1]), 4,
        rng=r),
    "load_split": _load_split,
}


@pytest.mark.parametrize("name", list(STOCHASTIC))
def test_rng_same_seed_same_output(name):
    f = STOCHASTIC[name]
    a, b, c = (np.asarray(f(s), dtype=float) for s in (11, 11, 12))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.asarray(f(np.random.default_rng(11)), dtype=float))
    assert not np.array_equal(a, c), f"{name}: seeds 11 and 12 gave the same output"


def test_progress_off_and_on_give_the_same_numbers():
    for f in (lambda p: dale_langevin(B, XT[:4], G, n_steps=3, rng=1, progress=p),
              lambda p: solve_fokker_planck_2d([0.1, 0.2], SIG, X2, X2, P2, [0.1], dt=0.05,
                                               progress=p).p):
        np.testing.assert_array_equal(f(False), f(True))


# ============================================================================ bad input
def _ax_rows():
    rows = []
    for cls in INVENTORY:
        for what, ax in (("ax a string", "x"), ("ax a number", 2), ("ax a list", [])):
            rows.append(Row(cls.plot, what,
                            lambda n=cls.__name__, a=ax: _built()[n].plot(ax=a), TypeError,
                            r"ax must be a matplotlib Axes"))
    return rows


ROWS = _ax_rows() + [
    Row(dale_langevin, "rng a string", lambda: dale_langevin(B, XT, G, n_steps=2, rng="s"),
        TypeError, r"rng must be"),
    Row(dale_langevin, "rng a float", lambda: dale_langevin(B, XT, G, n_steps=2, rng=0.5),
        TypeError, r"rng must be"),
    Row(dale_langevin, "progress a string",
        lambda: dale_langevin(B, XT, G, n_steps=2, progress="yes"), TypeError, r"progress"),
    Row(LangevinResult.plot, "dim out of range",
        lambda: _built()["LangevinResult"].plot(dim=5), ValueError, r"dim must be <= 1"),
    Row(LangevinResult.plot, "bins zero",
        lambda: _built()["LangevinResult"].plot(bins=0), ValueError, r"bins must be >= 1"),
    Row(LangevinResult.plot, "bins a float",
        lambda: _built()["LangevinResult"].plot(bins=2.5), TypeError, r"bins must be an int"),
]

test_surface_bad_input, _ = make_tests("sciflow.multiplicative", ROWS)
