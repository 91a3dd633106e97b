"""One public surface for sciflow.sampling: every result object has ``.plot(ax=None)`` and
``.to_xarray()`` whose data equal the result's arrays; every stochastic function takes ``rng``
(same seed, same output; another seed, another output); long work takes ``progress``."""

import importlib
import inspect
import pkgutil
import sys

import matplotlib
import numpy as np
import pytest

import sciflow.sampling as sampling
from sciflow.sampling import (
    BrownianBridge,
    GaussianMixture,
    LinearInverseProblem,
    VPSchedule,
    dps_sample,
    empirical_model_statistics,
    encode,
    guidance_gap,
    make_dataset,
    optimize_steps,
    sample,
    sample_skipping,
    search_solver_schedule,
    tds_sample,
    terminal_snr_bias,
)
from sciflow.sampling.bridges import BridgeResult
from sciflow.sampling.dpmv3 import EmpiricalModelStatistics
from sciflow.sampling.guidance import GuidanceGap, TiltedDensity, tilted_density
from sciflow.sampling.inversion import EncodeResult
from sciflow.sampling.optimize import StepOptimization
from sciflow.sampling.posterior import (
    CoverageResult,
    PosteriorSamples,
    exact_score_sample,
    interval_coverage,
    sliced_wasserstein,
)
from sciflow.sampling.schedules import DiscreteSchedule, EDMSchedule, FlowSchedule
from sciflow.sampling.search import SolverSearch
from sciflow.sampling.skipping import SkipResult
from sciflow.sampling.solvers import SampleResult
from sciflow.sampling.terminal_snr import TerminalSNRBias

from .._bad_input import Row, make_tests
from .._surface import assert_result_surface

matplotlib.use("Agg")
xr = pytest.importorskip("xarray")

# the result objects of sciflow.sampling (a new one must be added here, see
# test_every_result_class_is_in_the_inventory)
INVENTORY = (SampleResult, EncodeResult, StepOptimization, SolverSearch, SkipResult,
             TerminalSNRBias, EmpiricalModelStatistics, PosteriorSamples, CoverageResult,
             TiltedDensity, GuidanceGap, BridgeResult)
RESULT_SUFFIXES = ("Result", "Solution", "Table", "Decomposition", "Samples", "Search",
                   "Optimization", "Statistics", "Bias", "Gap", "Density", "Scores", "Report",
                   "Trajectory")

VP = VPSchedule()
MIX = GaussianMixture([0.5, 0.5], [[1.0, 0.0], [-1.0, 0.5]],
                      [[[0.2, 0.05], [0.05, 0.1]], [[0.1, 0.0], [0.0, 0.3]]])
MODEL = MIX.bind(VP)
XT = np.random.default_rng(3).standard_normal((6, 2))
X0 = MIX.sample(6, rng=4)
PROBLEM = LinearInverseProblem(MIX, [[1.0, 0.0]], 0.05)
_REF: list = []


class _PredictOnly:
    """MODEL without ``exact_ode_solution`` (optimize_steps then needs no exact reference)."""

    dim, schedule = MODEL.dim, VP

    def predict(self, x, t, kind="eps"):
        return MODEL.predict(x, t, kind)


def _search(rng, nfe=4, max_evaluations=12, population=3):
    """search_solver_schedule on XT with the exact reference computed once."""
    if not _REF:
        _REF.append(MODEL.exact_ode_solution(XT, VP.t_start, VP.t_end))
    return search_solver_schedule(MODEL, VP, XT, _REF[0], nfe=nfe, rng=rng,
                                  max_evaluations=max_evaluations, population=population)


# ============================================================================ builders (cheap)
def _built():
    """{class name: result} from small public calls (cached: built once per session)."""
    if _CACHE:
        return _CACHE
    p1 = GaussianMixture([1.0], [[2.0, 1.0]], [[[0.1, 0.0], [0.0, 0.1]]])
    y = np.array([0.7])
    _CACHE.update({
        "SampleResult": sample(MODEL, XT, VP, solver="dpmpp_2m", nfe=5, return_info=True),
        "EncodeResult": encode(MODEL, X0, VP, solver="ddim", nfe=5, return_info=True),
        "StepOptimization": optimize_steps(_PredictOnly(), VP, solver="ddim", nfe=3, n_samples=8,
                                           rng=0, maxiter=6, progress=False, reference="lte"),
        "SolverSearch": _search(0),
        "SkipResult": sample_skipping(MODEL, XT, VP, threshold=1e-2, n_steps=8,
                                      return_info=True),
        "TerminalSNRBias": terminal_snr_bias(MIX, quad_points=5, rtol=1e-4),
        "EmpiricalModelStatistics": empirical_model_statistics(MODEL, VP, X0, n_lambda=6,
                                                               rng=0),
        "PosteriorSamples": tds_sample(PROBLEM, y, VP, n_particles=16, nfe=4, rng=0),
        "CoverageResult": interval_coverage(
            PROBLEM, lambda yy, r: dps_sample(PROBLEM, yy, VP, n=20, nfe=3, rng=r),
            n_draws=3, rng=0),
        "TiltedDensity": tilted_density(MIX, 0, 2.0, n_grid=16),
        "GuidanceGap": guidance_gap(MIX, 0, 1.0, VP, n=64, nfe=4, n_grid=32, kl_bins=4,
                                    n_projections=8, rng=0),
        "BridgeResult": BrownianBridge(MIX, p1, sigma=0.5).transport(
            X0, method="euler_maruyama", nfe=4, rng=0, return_trajectory=True),
    })
    return _CACHE


_CACHE: dict = {}


def _lines(ax):
    return ax.get_lines()


def _bar_heights(ax):
    return np.array([p.get_height() for c in ax.containers for p in c.patches])


def _traj(res):
    return np.stack([np.asarray(v, dtype=float) for v in res.trajectory])


# ============================================================================ plot checks
# each takes (result, ax after result.plot(ax)) and asserts the drawn numbers
def _plot_sample(res, ax):
    traj = _traj(res)
    lines = _lines(ax)
    assert len(lines) == traj.shape[1]
    for k, ln in enumerate(lines):
        np.testing.assert_array_equal(ln.get_xdata(), traj[:, k, 0])
        np.testing.assert_array_equal(ln.get_ydata(), traj[:, k, 1])


def _plot_encode(res, ax):
    traj = _traj(res)
    lines = _lines(ax)
    assert len(lines) == traj.shape[1]
    for k, ln in enumerate(lines):
        np.testing.assert_array_equal(ln.get_xdata(), res.times)
        np.testing.assert_array_equal(ln.get_ydata(), traj[:, k, 0])


def _plot_history(res, ax):
    x = np.arange(res.history.size) if isinstance(res, StepOptimization) else res.history_cost
    ev, best = _lines(ax)
    np.testing.assert_array_equal(ev.get_xdata(), x)
    np.testing.assert_array_equal(ev.get_ydata(), res.history)
    np.testing.assert_array_equal(best.get_ydata(), np.minimum.accumulate(res.history))


def _plot_skip(res, ax):
    ind = np.where(res.indicator > 0, res.indicator, np.nan)
    line = _lines(ax)[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(res.n_steps))
    np.testing.assert_array_equal(line.get_ydata(), ind)


def _plot_tsnr(res, ax):
    want = [np.linalg.norm(getattr(res, k)) for k in ("plain", "rescaled", "oms", "oms_exact")]
    np.testing.assert_array_equal(_bar_heights(ax), want)


def _plot_ems(res, ax):
    lines = _lines(ax)
    assert [ln.get_label() for ln in lines] == ["l", "s", "b"]
    for ln, arr in zip(lines, (res.l, res.s, res.b), strict=True):
        np.testing.assert_array_equal(ln.get_xdata(), res.lam)
        np.testing.assert_array_equal(ln.get_ydata(), arr[:, 0])


def _plot_points(res, ax):
    line = _lines(ax)[-1] if isinstance(res, BridgeResult) else _lines(ax)[0]
    np.testing.assert_array_equal(line.get_xdata(), res.x[:, 0])
    np.testing.assert_array_equal(line.get_ydata(), res.x[:, 1])


def _plot_bridge(res, ax):
    lines = _lines(ax)
    assert len(lines) == res.x.shape[0] + 1  # one path per sample, then the end points
    for k in range(res.x.shape[0]):
        np.testing.assert_array_equal(lines[k].get_ydata(), res.trajectory[:, k, 1])
    _plot_points(res, ax)


def _plot_coverage(res, ax):
    np.testing.assert_array_equal(_bar_heights(ax), res.per_coordinate)
    assert _lines(ax)[0].get_ydata()[0] == res.level


def _plot_tilted(res, ax):
    (mesh,) = ax.collections
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).ravel(), res.density.ravel())


def _plot_gap(res, ax):
    want = [res.sw, res.mean_shift, res.kl, res.sw_floor, res.mean_floor, res.kl_floor]
    np.testing.assert_array_equal(_bar_heights(ax), want)


PLOT_CHECKS = {
    "SampleResult": _plot_sample, "EncodeResult": _plot_encode,
    "StepOptimization": _plot_history, "SolverSearch": _plot_history,
    "SkipResult": _plot_skip, "TerminalSNRBias": _plot_tsnr,
    "EmpiricalModelStatistics": _plot_ems, "PosteriorSamples": _plot_points,
    "CoverageResult": _plot_coverage, "TiltedDensity": _plot_tilted,
    "GuidanceGap": _plot_gap, "BridgeResult": _plot_bridge,
}


# ============================================================================ xarray checks
def _xr_sample(res, ds):
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["trajectory"].values, _traj(res))
    np.testing.assert_array_equal(ds["t"].values, res.times)
    assert ds["trajectory"].dims == ("t", "sample", "dim")
    assert ds.attrs["nfe"] == res.nfe


def _xr_history(res, ds):
    np.testing.assert_array_equal(ds["steps"].values, res.steps)
    np.testing.assert_array_equal(ds["initial_steps"].values, res.initial_steps)
    np.testing.assert_array_equal(ds["history"].values, res.history)
    assert ds["steps"].dims == ("step_index",) and ds["history"].dims == ("evaluation",)
    if isinstance(res, SolverSearch):
        np.testing.assert_array_equal(ds["history_cost"].values, res.history_cost)
        assert tuple(ds["choices"].values) == res.labels
    assert ds.attrs["nfe"] == res.nfe and ds.attrs["error"] == res.error


def _xr_skip(res, ds):
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["skipped"].values, res.skipped)
    np.testing.assert_array_equal(ds["indicator"].values, res.indicator)
    np.testing.assert_array_equal(ds["t_from"].values, res.times[:-1])
    np.testing.assert_array_equal(ds["times"].values, res.times)
    assert ds["skipped"].dims == ("step",) and ds.attrs["nfe"] == res.nfe


def _xr_tsnr(res, ds):
    for k in ("plain", "rescaled", "oms", "oms_exact"):
        np.testing.assert_array_equal(ds["bias"].sel(cure=k).values, getattr(res, k))
    np.testing.assert_array_equal(ds["target"].values, res.target)
    assert ds["bias"].dims == ("cure", "dim") and ds.attrs["alpha_T"] == res.alpha_T


def _xr_ems(res, ds):
    for k in ("l", "s", "b", "L", "S", "B", "I", "C"):
        np.testing.assert_array_equal(ds[k].values, getattr(res, k))
        assert ds[k].dims == ("lam", "dim")
    np.testing.assert_array_equal(ds["lam"].values, res.lam)


def _xr_posterior(res, ds):
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["particles"].values, res.particles)
    np.testing.assert_array_equal(ds["log_weights"].values, res.log_weights)
    np.testing.assert_array_equal(ds["ess"].values, res.ess)
    assert ds["x"].dims == ("sample", "dim") and ds.attrs["method"] == "tds"


def _xr_coverage(res, ds):
    np.testing.assert_array_equal(ds["per_coordinate"].values, res.per_coordinate)
    assert float(ds["coverage"]) == res.coverage and ds.attrs["level"] == res.level


def _xr_tilted(res, ds):
    np.testing.assert_array_equal(ds["density"].values, res.density)
    np.testing.assert_array_equal(ds["x"].values, res.xs)
    np.testing.assert_array_equal(ds["y"].values, res.ys)
    np.testing.assert_array_equal(ds["cov"].values, res.cov)
    assert ds["density"].dims == ("y", "x") and ds.attrs["gamma"] == res.gamma


def _xr_gap(res, ds):
    for k, f in (("sw", "sw_floor"), ("mean_shift", "mean_floor"), ("kl", "kl_floor")):
        assert float(ds["gap"].sel(metric=k)) == getattr(res, k)
        assert float(ds["floor"].sel(metric=k)) == getattr(res, f)
    assert float(ds["cov_error"]) == res.cov_error and ds.attrs["n"] == res.n


def _xr_bridge(res, ds):
    np.testing.assert_array_equal(ds["x"].values, res.x)
    np.testing.assert_array_equal(ds["trajectory"].values, res.trajectory)
    np.testing.assert_array_equal(ds["t"].values, res.t)
    assert ds["trajectory"].dims == ("t", "sample", "dim")


def _xr_encode(res, ds):
    _xr_sample(res, ds)
    assert ds.attrs["nfe_plain"] == res.nfe_plain and ds.attrs["exact"] == 0


XR_CHECKS = {
    "SampleResult": _xr_sample, "EncodeResult": _xr_encode, "StepOptimization": _xr_history,
    "SolverSearch": _xr_history, "SkipResult": _xr_skip, "TerminalSNRBias": _xr_tsnr,
    "EmpiricalModelStatistics": _xr_ems, "PosteriorSamples": _xr_posterior,
    "CoverageResult": _xr_coverage, "TiltedDensity": _xr_tilted, "GuidanceGap": _xr_gap,
    "BridgeResult": _xr_bridge,
}
NAMES = [c.__name__ for c in INVENTORY]


# ============================================================================ the tests
@pytest.mark.parametrize("name", NAMES)
def test_plot_draws_the_result_arrays(name):
    import matplotlib.pyplot as plt

    res = _built()[name]
    assert type(res).__name__ == name
    ax = res.plot()  # a new figure
    assert isinstance(ax, matplotlib.axes.Axes)
    PLOT_CHECKS[name](res, ax)
    _, mine = plt.subplots()
    assert res.plot(ax=mine) is mine  # draws into the given Axes
    PLOT_CHECKS[name](res, mine)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        res.plot(ax="x")


@pytest.mark.parametrize("name", NAMES)
def test_to_xarray_holds_the_result_arrays(name):
    res = _built()[name]
    ds = res.to_xarray()
    assert isinstance(ds, xr.Dataset)
    XR_CHECKS[name](res, ds)


def test_plot_without_trajectory_and_exact_encode():
    """The fall-backs: an exact multistep encode has no trajectory (iterations are plotted);
    a bridge without trajectory plots its samples."""
    res = encode(MODEL, X0, VP, solver="dpmpp_2m", nfe=4, exact=True, return_info=True)
    assert res.trajectory is None
    ax = res.plot()
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), res.iterations)
    ds = res.to_xarray()
    np.testing.assert_array_equal(ds["iterations"].values, res.iterations)
    np.testing.assert_array_equal(ds["t_grid"].values, res.times)
    assert "trajectory" not in ds and ds.attrs["exact"] == 1
    br = BrownianBridge(MIX, MIX).transport(X0, method="euler", nfe=2)
    ax = br.plot()
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), br.x[:, 1])
    assert "trajectory" not in br.to_xarray()


def _public_modules():
    mods = [sampling]
    for info in pkgutil.iter_modules(sampling.__path__):
        if not info.name.startswith("_") and info.name not in ("nn", "pyramid"):
            mods.append(importlib.import_module(f"sciflow.sampling.{info.name}"))
    return mods


def test_to_xarray_without_xarray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    with pytest.raises(ImportError, match="pip install xarray"):
        _built()["SkipResult"].to_xarray()


def test_every_result_class_is_in_the_inventory():
    """Every class of the public modules named like a result (…Result, …Samples, …Search …)
    is in INVENTORY, and each inventory class has plot and to_xarray."""
    found = set()
    for mod in _public_modules():
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and obj.__module__ == mod.__name__
                    and not name.startswith("_") and name.endswith(RESULT_SUFFIXES)):
                found.add(obj)
    missing = sorted(c.__name__ for c in found - set(INVENTORY))
    assert not missing, f"result classes missing from the surface inventory: {missing}"
    for cls in INVENTORY:
        assert_result_surface(cls)


def test_plot_passes_kwargs_to_the_artist():
    res = _built()["SampleResult"]
    ax = res.plot(color="red", lw=2.5)
    assert all(ln.get_linewidth() == 2.5 and ln.get_color() == "red" for ln in ax.get_lines())


# ============================================================================ rng
def _sde(rng):
    return sample(MODEL, XT, VP, solver="dpmpp_2m_sde", nfe=4, rng=rng)


STOCHASTIC = {
    "sample (SDE solver)": _sde,
    "GaussianMixture.sample": lambda r: MIX.sample(5, rng=r),
    "make_dataset": lambda r: make_dataset("two_moons", 5, rng=r),
    "VPSchedule.sample_training_t": lambda r: VP.sample_training_t(4, rng=r),
    "EDMSchedule.sample_training_t": lambda r: EDMSchedule().sample_training_t(4, rng=r),
    "FlowSchedule.sample_training_t": lambda r: FlowSchedule().sample_training_t(4, rng=r),
    "DiscreteSchedule.sample_training_t":
        lambda r: DiscreteSchedule.linear(10).sample_training_t(4, rng=r),
    "empirical_model_statistics":
        lambda r: empirical_model_statistics(MODEL, VP, X0, n_lambda=4, rng=r).l,
    "optimize_steps": lambda r: optimize_steps(_PredictOnly(), VP, solver="ddim", nfe=2,
                                               n_samples=4,
                                               rng=r, maxiter=2, progress=False,
                                               reference="lte").history,
    "search_solver_schedule": lambda r: _search(r, nfe=3, max_evaluations=8,
                                                population=2).history,
    "LinearInverseProblem.simulate": lambda r: PROBLEM.simulate(3, rng=r)[1],
    "dps_sample": lambda r: dps_sample(PROBLEM, [0.5], VP, n=4, nfe=2, rng=r).x,
    "tds_sample": lambda r: tds_sample(PROBLEM, [0.5], VP, n_particles=4, nfe=2, rng=r).x,
    "exact_score_sample": lambda r: exact_score_sample(PROBLEM, [0.5], VP, n=4, nfe=2,
                                                       rng=r).x,
    "sliced_wasserstein": lambda r: sliced_wasserstein(X0, XT, n_projections=4, rng=r),
    "interval_coverage": lambda r: interval_coverage(
        PROBLEM, lambda y, g: PROBLEM.simulate(30, g)[0], n_draws=4, rng=r).per_coordinate,
    "TiltedDensity.sample": lambda r: tilted_density(MIX, 1, 1.0, n_grid=16).sample(4, rng=r),
    "guidance_gap": lambda r: guidance_gap(MIX, 0, 1.0, VP, n=16, nfe=2, n_grid=16,
                                           kl_bins=2, n_projections=4, rng=r).sw,
    "BrownianBridge.sample_marginal":
        lambda r: BrownianBridge(MIX, MIX, 0.5).sample_marginal(4, 0.5, rng=r),
    "BrownianBridge.transport (SDE)": lambda r: BrownianBridge(MIX, MIX, 0.5).transport(
        X0, method="euler_maruyama", nfe=2, rng=r).x,
}


@pytest.mark.parametrize("name", list(STOCHASTIC))
def test_rng_same_seed_same_output(name):
    f = STOCHASTIC[name]
    a, b, c = (np.asarray(f(s), dtype=float) for s in (11, 11, 12))
    np.testing.assert_array_equal(a, b)  # a seed reproduces
    np.testing.assert_array_equal(a, np.asarray(f(np.random.default_rng(11)), dtype=float))
    assert not np.array_equal(a, c), f"{name}: seeds 11 and 12 gave the same output"


# ============================================================================ progress
def test_progress_off_and_on_give_the_same_numbers():
    """progress only adds a bar: encode, sample_skipping, tds_sample and transport agree."""
    pairs = [
        lambda p: encode(MODEL, X0, VP, solver="ddim", nfe=3, progress=p),
        lambda p: sample_skipping(MODEL, XT, VP, threshold=0.0, n_steps=4, progress=p),
        lambda p: tds_sample(PROBLEM, [0.5], VP, n_particles=4, nfe=2, rng=1, progress=p).x,
        lambda p: BrownianBridge(MIX, MIX).transport(X0, nfe=4, progress=p).x,
        lambda p: interval_coverage(PROBLEM, lambda y, g: PROBLEM.simulate(30, g)[0],
                                    n_draws=2, rng=1, progress=p).per_coordinate,
    ]
    for f in pairs:
        np.testing.assert_array_equal(f(False), f(True))


# ============================================================================ bad input
def _bad_ax_rows():
    rows = []
    for name in NAMES:
        cls = next(c for c in INVENTORY if c.__name__ == name)
        for what, ax, exc, match in (
                ("ax a string", "x", TypeError, r"ax must be a matplotlib Axes"),
                ("ax a number", 1.0, TypeError, r"ax must be a matplotlib Axes"),
                ("ax a list", [], TypeError, r"ax must be a matplotlib Axes")):
            rows.append(Row(cls.plot, what,
                            lambda n=name, a=ax: _built()[n].plot(ax=a), exc, match))
    return rows


ROWS = _bad_ax_rows() + [
    Row(encode, "progress a string",
        lambda: encode(MODEL, X0, VP, solver="ddim", nfe=3, progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(encode, "progress None", lambda: encode(MODEL, X0, VP, solver="ddim", nfe=3,
                                                progress=None), TypeError, r"progress"),
    Row(encode, "progress an int 2", lambda: encode(MODEL, X0, VP, solver="ddim", nfe=3,
                                                    progress=2), TypeError, r"progress"),
    Row(sample_skipping, "progress a string",
        lambda: sample_skipping(MODEL, XT, VP, threshold=0.0, progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(sample_skipping, "progress None",
        lambda: sample_skipping(MODEL, XT, VP, threshold=0.0, progress=None), TypeError,
        r"progress"),
    Row(sample_skipping, "progress a list",
        lambda: sample_skipping(MODEL, XT, VP, threshold=0.0, progress=[]), TypeError,
        r"progress"),
    Row(tds_sample, "progress a string",
        lambda: tds_sample(PROBLEM, [0.5], VP, n_particles=4, nfe=2, progress="yes"),
        TypeError, r"progress must be a bool"),
    Row(tds_sample, "progress None",
        lambda: tds_sample(PROBLEM, [0.5], VP, n_particles=4, nfe=2, progress=None),
        TypeError, r"progress"),
    Row(tds_sample, "progress 1.0",
        lambda: tds_sample(PROBLEM, [0.5], VP, n_particles=4, nfe=2, progress=1.0),
        TypeError, r"progress"),
    Row(interval_coverage, "progress a string",
        lambda: interval_coverage(PROBLEM, lambda y, g: y, n_draws=2, progress="yes"),
        TypeError, r"progress must be a bool"),
    Row(interval_coverage, "progress None",
        lambda: interval_coverage(PROBLEM, lambda y, g: y, n_draws=2, progress=None),
        TypeError, r"progress"),
    Row(interval_coverage, "progress 0.5",
        lambda: interval_coverage(PROBLEM, lambda y, g: y, n_draws=2, progress=0.5),
        TypeError, r"progress"),
    Row(BrownianBridge.transport, "progress a string",
        lambda: BrownianBridge(MIX, MIX).transport(X0, nfe=4, progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(BrownianBridge.transport, "progress None",
        lambda: BrownianBridge(MIX, MIX).transport(X0, nfe=4, progress=None), TypeError,
        r"progress"),
    Row(BrownianBridge.transport, "progress a dict",
        lambda: BrownianBridge(MIX, MIX).transport(X0, nfe=4, progress={}), TypeError,
        r"progress"),
    Row(guidance_gap, "progress a string",
        lambda: guidance_gap(MIX, 0, 1.0, VP, n=8, nfe=2, n_grid=16, kl_bins=2,
                             progress="yes"), TypeError, r"progress must be a bool"),
    Row(guidance_gap, "progress None",
        lambda: guidance_gap(MIX, 0, 1.0, VP, n=8, nfe=2, n_grid=16, kl_bins=2,
                             progress=None), TypeError, r"progress"),
    Row(guidance_gap, "progress 3",
        lambda: guidance_gap(MIX, 0, 1.0, VP, n=8, nfe=2, n_grid=16, kl_bins=2,
                             progress=3), TypeError, r"progress"),
    Row(sample, "rng a string", lambda: _sde("seed"), TypeError, r"rng must be"),
    Row(sample, "rng a float", lambda: _sde(1.5), TypeError, r"rng must be"),
    Row(sample, "rng a list", lambda: _sde([1]), TypeError, r"rng must be"),
]

test_surface_bad_input, _ = make_tests("sciflow.sampling", ROWS)
