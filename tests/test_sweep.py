"""``sciflow sweep``: spec loading, serial / process-pool / Dask runs giving identical datasets,
the example sweeps as correctness checks, netCDF round trip, no Dask unless asked for, and the
bad-input table of sciflow.sweep and the task functions."""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import math
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from sciflow import sweep as sw
from sciflow.chromatography.sweeps import fit_synthetic
from sciflow.transport.sweeps import slab_leakage

from ._bad_input import Row, make_tests

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "sweeps"
CHROM = SWEEPS / "chromatography_fit.toml"
SLAB = SWEEPS / "transport_slab.toml"
SLAB_FN = "sciflow.transport.sweeps:slab_leakage"


def _spec_dict(path: Path, **changes) -> dict:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def _small(**changes) -> dict:
    """A 2 x 2 transport sweep (~0.1 s)."""
    spec = {"function": SLAB_FN, "parameters": {"cells": 20, "thickness": 1.0},
            "grid": {"c": [0.5, 0.9], "accel": ["none", "dsa"]},
            "outputs": ["leakage_left", "iterations", "phi"], "dims": {"phi": ["cell"]}}
    spec.update(changes)
    return spec


def _untimed(ds):
    return ds.drop_vars("task_wall_time")


def _assert_same(a, b):
    """Identical datasets, and the data bit for bit (assert_identical compares values with ==)."""
    import xarray as xr

    xr.testing.assert_identical(_untimed(a), _untimed(b))
    for name in _untimed(a).data_vars:
        assert np.array_equal(a[name].values, b[name].values), name


# --------------------------------------------------------------------------------------------
# the example sweeps: correctness of the results
# --------------------------------------------------------------------------------------------
def _check_slab_physics(ds):
    # particle balance: source * thickness = leakages + absorption (measured max 9.2e-11
    # relative at tol = 1e-10)
    assert float(np.abs(ds.balance / ds.thickness).max()) < 1e-9
    # a symmetric slab leaks equally on both sides (measured 4.4e-16 relative)
    assert np.allclose(ds.leakage_left, ds.leakage_right, rtol=1e-13, atol=0)
    si, dsa = ds.sel(accel="none"), ds.sel(accel="dsa")
    # SI and DSA converge to the same solution (measured 8.4e-11 relative on the leakage)
    assert np.allclose(si.leakage_left, dsa.leakage_left, rtol=1e-9, atol=0)
    # SI converges at rate c in a thick slab (infinite-medium Fourier analysis; measured
    # |rho - c| <= 2.8e-4 at 100 mean free paths); DSA at <= 0.2247 c (measured 0.2027 c max)
    rho_si = si.spectral_radius.sel(thickness=100.0)
    assert np.allclose(rho_si, ds.c, atol=1e-3, rtol=0)
    assert bool((dsa.spectral_radius <= 0.2247 * ds.c).all())
    # DSA needs at most 13 iterations everywhere; SI needs 2243 at c = 0.99, 100 mfp
    assert int(dsa.iterations.max()) <= 13
    assert int(si.iterations.sel(c=0.99, thickness=100.0)) > 100 * int(dsa.iterations.max()) / 1.5


def _check_fit_recovery(ds, *, std_band):
    """The fits recover the true (k_a, k_d) within their standard errors."""
    assert bool(ds.success.all()) and float(ds.r2.min()) > 0.998  # measured min 0.99901
    for k in ("k_a", "k_d"):
        z = ((ds[k] - ds[f"{k}_true"]) / ds[f"{k}_stderr"]).values.ravel()
        # Gaussian errors: P(|z| > 4.5) = 7e-6 per value (100 seeds: max |z| 2.85 measured)
        assert np.abs(z).max() < 4.5, k
        # calibrated standard errors: sd(z) = 1 (100 seeds x 2 peaks: 0.999 measured)
        lo, hi = std_band
        assert lo < z.std(ddof=1) < hi, (k, z.std(ddof=1))


def test_transport_example_physics_and_process_pool():
    serial = sw.run_sweep(SLAB, progress=False)
    assert dict(serial.sizes) == {"c": 5, "thickness": 3, "accel": 2, "cell": 100}
    np.testing.assert_array_equal(serial.thickness, [1.0, 10.0, 100.0])  # geomspace, exact
    assert list(serial.accel.values) == ["none", "dsa"]
    assert serial.iterations.dtype.kind == "i" and serial.phi.dims[-1] == "cell"
    assert (serial.task_wall_time > 0).all()
    _check_slab_physics(serial)
    # one task by hand: the dataset holds exactly what the function returned
    one = slab_leakage(c=0.9, thickness=10.0, accel="dsa", cells=100, order=8)
    point = serial.sel(c=0.9, thickness=10.0, accel="dsa")
    assert float(point.leakage_left) == one["leakage_left"]
    np.testing.assert_array_equal(point.phi.values, one["phi"])
    pooled = sw.run_sweep(SLAB, workers=2, progress=False)
    _assert_same(serial, pooled)
    assert json.loads(serial.attrs["sweep_spec"])["function"] == SLAB_FN
    assert serial.attrs["sweep_function"] == SLAB_FN


def test_chromatography_fit_sweep_small_and_process_pool():
    spec = sw.load_spec(_spec_dict(CHROM, grid={"rng": {"range": [10]}}))
    serial = sw.run_sweep(spec, progress=False)
    assert dict(serial.sizes) == {"rng": 10, "peak": 2}
    # 10 seeds x 2 peaks: sd(z) within 3 sd of 1 for 20 values (1 +- 3/sqrt(2*19)); 1.11 measured
    _check_fit_recovery(serial, std_band=(0.5, 1.5))
    np.testing.assert_array_equal(serial.rng, np.arange(10))
    pooled = sw.run_sweep(spec, workers=2, progress=False)
    _assert_same(serial, pooled)
    # the sweep is the function: seed 3 by hand gives the same numbers
    params = spec.parameters
    one = fit_synthetic(rng=3, **params)
    np.testing.assert_array_equal(serial.k_a.sel(rng=3).values, one["k_a"])


def _local_cluster(processes: bool):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                       protocol="tcp", dashboard_address=None)
    return cluster, distributed.Client(cluster)


def test_dask_local_cluster_matches_serial(tmp_path, capsys):
    """Transport sweep and 10 chromatogram fits through a dask.distributed Client equal the serial
    runs exactly. In-process workers (processes=False): ~1 s to start instead of ~5 s plus ~4 s
    to close and ~5 s of imports in each new worker process on the 2-core CI machine; pickling
    to other processes is covered by the process-pool runs and by the slow test below."""
    cluster, client = _local_cluster(processes=False)
    try:
        transport = sw.run_sweep(SLAB, progress=False)
        _assert_same(transport, sw.run_sweep(SLAB, workers=client, progress=False))
        spec = sw.load_spec(_spec_dict(CHROM, grid={"rng": {"range": [10]}}))
        _assert_same(sw.run_sweep(spec, progress=False),
                     sw.run_sweep(spec, workers=client, progress=False))
        # the command's --scheduler path: main_sweep connects its own Client by address
        spec_path = tmp_path / "small.toml"
        spec_path.write_text(f'function = "{SLAB_FN}"\noutputs = ["iterations"]\n'
                             f'[parameters]\nthickness = 1.0\n[grid]\nc = [0.5, 0.9]\n')
        assert sw.main_sweep(spec_path, out=tmp_path / "s.nc", progress=False,
                             scheduler=cluster.scheduler_address) == 0
        assert "2 tasks" in capsys.readouterr().out
        import xarray as xr

        with xr.open_dataset(tmp_path / "s.nc") as back:
            np.testing.assert_array_equal(back.iterations, [9, 12])
    finally:
        client.close()
        cluster.close()


@pytest.mark.slow
def test_dask_process_cluster_100_chromatograms_match_serial():
    """The 100-chromatogram fit sweep and the transport sweep on a LocalCluster of 2 worker
    processes equal the serial runs exactly (measured 37 s in all on the loaded 2-core machine:
    start ~5 s, 100 fits serial ~10 s, on the cluster ~8 s, close ~4 s)."""
    cluster, client = _local_cluster(processes=True)
    try:
        transport = sw.run_sweep(SLAB, progress=False)
        _assert_same(transport, sw.run_sweep(SLAB, workers=client, progress=False))
        chrom = sw.run_sweep(CHROM, progress=False)
        assert dict(chrom.sizes) == {"rng": 100, "peak": 2}
        # 200 values: sd(z) within 3 sd of 1 (1 +- 3/sqrt(398) = 1 +- 0.15); 0.999 measured
        _check_fit_recovery(chrom, std_band=(0.85, 1.15))
        _assert_same(chrom, sw.run_sweep(CHROM, workers=client, progress=False))
    finally:
        client.close()
        cluster.close()


# --------------------------------------------------------------------------------------------
# the dataset, the file, the command
# --------------------------------------------------------------------------------------------
def test_netcdf_round_trip_identical(tmp_path):
    import xarray as xr

    ds = sw.run_sweep(_small(outputs=["leakage_left", "iterations", "phi"]), progress=False)
    ds["converged_fast"] = ds.iterations < 15  # a bool variable too
    path = sw.write_dataset(ds, tmp_path / "slab.nc")
    with xr.open_dataset(path) as back:
        back = back.load()
    _assert_same(ds, back)
    np.testing.assert_array_equal(ds.task_wall_time, back.task_wall_time)
    assert back.attrs == ds.attrs


@pytest.mark.skipif(find_spec("zarr") is None, reason="zarr not installed")
def test_zarr_round_trip_identical(tmp_path):  # pragma: no cover - zarr optional
    import xarray as xr

    ds = sw.run_sweep(_small(), progress=False)
    path = sw.write_dataset(ds, tmp_path / "slab.zarr")
    _assert_same(ds, xr.open_zarr(path).load())


def test_main_sweep_writes_and_summarises(tmp_path, capsys):
    import xarray as xr

    spec_path = tmp_path / "slab.toml"
    spec_path.write_text(textwrap.dedent(f"""\
        function = "{SLAB_FN}"
        outputs = ["leakage_left", "iterations"]
        output = "{tmp_path / 'default.nc'}"
        [parameters]
        cells = 20
        [grid]
        c = {{ linspace = [0.5, 0.9, 3] }}
        thickness = [1.0, 10.0]
        """))
    assert sw.main_sweep(spec_path, progress=False) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and line.startswith("sciflow sweep: 6 tasks of " + SLAB_FN)
    assert "(c=3, thickness=2) on serial" in line and line.endswith("default.nc")
    with xr.open_dataset(tmp_path / "default.nc") as ds:
        np.testing.assert_array_equal(ds.c, [0.5, 0.7, 0.9])
        ref = slab_leakage(c=0.7, thickness=10.0, cells=20)
        assert float(ds.leakage_left.sel(c=0.7, thickness=10.0)) == ref["leakage_left"]
    # --out overrides the spec's output; workers=2 gives the same file contents
    assert sw.main_sweep(spec_path, out=tmp_path / "pool.nc", workers=2, progress=False) == 0
    assert "on 2 processes" in capsys.readouterr().out
    with xr.open_dataset(tmp_path / "pool.nc") as a, \
            xr.open_dataset(tmp_path / "default.nc") as b:
        _assert_same(a.load(), b.load())


def test_spec_loading_and_tasks():
    spec = sw.load_spec(SLAB)
    assert isinstance(spec, sw.SweepSpec) and spec.source == str(SLAB)
    assert spec.shape == (5, 3, 2) and spec.n_tasks == 30
    tasks = spec.tasks()
    # C order: the last grid name varies fastest; parameters are in every task
    assert tasks[0] == {**spec.parameters, "c": 0.5, "thickness": 1.0, "accel": "none"}
    assert tasks[1]["accel"] == "dsa" and tasks[2]["thickness"] == 10.0
    assert spec.dims == {"phi": ("cell",)} and spec.output == "transport_slab.nc"
    # to_dict round-trips (spacing tables expanded)
    again = sw.load_spec(spec.to_dict())
    assert again.grid == spec.grid and again.parameters == spec.parameters
    assert sw.load_spec(spec) is spec
    assert sw.load_spec({"function": SLAB_FN, "grid": {"c": {"range": [2, 8, 3]}},
                         "parameters": {"thickness": 1.0},
                         "outputs": ["iterations"]}).grid == {"c": (2, 5)}
    chrom = sw.load_spec(CHROM)
    assert chrom.n_tasks == 100 and chrom.grid["rng"] == tuple(range(100))
    # other modules only when allowed
    ok = sw.load_spec({"function": "math:hypot", "grid": {"x": [3.0]}, "parameters": {},
                       "outputs": ["real"]}, allow_any_module=True)
    assert ok.function == "math:hypot"


def point_task(*, x: float, scale: float = 2.0):
    """A task returning an object (outputs are its attributes); public so it can be named."""
    from types import SimpleNamespace

    return SimpleNamespace(y=scale * x, grid=np.array([[x, 1.0], [2.0, 3.0]]))


def test_docstring_example_spec():
    """The spec in the module docstring (rendered on the docs site) is valid and runs."""
    text = sw.__doc__.split("```toml\n", 1)[1].split("```", 1)[0]
    spec = sw.load_spec(tomllib.loads(text))
    assert spec.shape == (3, 3, 2) and spec.grid["thickness"] == (1.0, 10.0, 100.0)
    ds = sw.run_sweep(spec, progress=False)
    full = sw.run_sweep(SLAB, progress=False)
    # the same tasks as the shipped example (which also sets sigma_t, source, scheme, tol to
    # their defaults): the same numbers
    sub = full.sel(c=[0.5, 0.9, 0.99])
    for name in ("leakage_left", "iterations", "spectral_radius", "phi"):
        np.testing.assert_array_equal(ds[name].values, sub[name].values)


def test_objects_default_dims_and_task_errors():
    spec = sw.load_spec({"function": "tests.test_sweep:point_task", "grid": {"x": [1.0, 3.0]},
                         "outputs": ["y", "grid"]}, allow_any_module=True)
    ds = sw.run_sweep(spec, progress=False, timing=False)
    np.testing.assert_array_equal(ds.y, [2.0, 6.0])
    assert ds.grid.dims == ("x", "grid_dim0", "grid_dim1") and ds.grid.shape == (2, 2, 2)
    assert float(ds.grid.sel(x=3.0)[0, 0]) == 3.0 and "task_wall_time" not in ds
    # math.hypot takes positional arguments only: the keyword call fails as a SweepTaskError
    bad = sw.load_spec({"function": "math:hypot", "grid": {"x": [3.0]}, "outputs": ["real"]},
                       allow_any_module=True)
    with pytest.raises(sw.SweepTaskError, match=r"task \{'x': 3\.0\} of math:hypot: TypeError"):
        sw.run_sweep(bad, progress=False)
    ds = sw.run_sweep(_small(dims={}), progress=False, timing=False)
    assert ds.phi.dims == ("c", "accel", "phi_dim0")


# --------------------------------------------------------------------------------------------
# nothing of Dask unless asked for
# --------------------------------------------------------------------------------------------
_SPY = r"""
import importlib.abc, json, sys

importers = []


class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("dask", "distributed"):
            f = sys._getframe(1)
            while f and ("importlib" in f.f_code.co_filename
                         or f.f_code.co_filename.startswith("<frozen")):
                f = f.f_back
            importers.append([name, f.f_code.co_filename if f else "?"])
        return None


sys.meta_path.insert(0, Spy())
import sciflow, sciflow.parallel, sciflow.sweep

after_import = sorted(m for m in sys.modules
                      if m.split(".")[0] in ("dask", "distributed", "xarray"))
from sciflow.sweep import run_sweep

ds = run_sweep({"function": "sciflow.transport.sweeps:slab_leakage", "grid": {"c": [0.5, 0.9]},
                "parameters": {"thickness": 1.0, "cells": 10}, "outputs": ["iterations"]},
               progress=False)
print(json.dumps({"after_import": after_import, "importers": importers,
                  "distributed": "distributed" in sys.modules,
                  "iterations": ds.iterations.values.tolist()}))
"""


def test_no_dask_unless_asked_for():
    out = subprocess.run([sys.executable, "-c", _SPY], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    # import sciflow, sciflow.sweep, sciflow.parallel: no dask, distributed nor xarray
    assert res["after_import"] == []
    assert res["distributed"] is False  # a serial sweep never touches distributed
    # dask (the array library, not distributed) may be imported by xarray itself when it builds
    # the Dataset (its duck-array checks import dask when installed) -- never by sciflow
    for name, importer in res["importers"]:
        assert name == "dask" and "/xarray/" in importer, (name, importer)
    assert res["iterations"] == [9, 12]  # S8 DSA, 1 mfp, c = 0.5 / 0.9 (as in the example)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
@functools.cache
def _scratch() -> Path:
    """One temporary folder per test process for the table's files, removed at exit."""
    folder = tempfile.mkdtemp(prefix="sciflow_sweep_test_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Path(folder)


def _toml(text: str) -> str:
    path = _scratch() / f"{next(_COUNTER)}_spec.toml"
    path.write_text(textwrap.dedent(text))
    return str(path)


_COUNTER = itertools.count()


_GOOD_TOML = f"""\
function = "{SLAB_FN}"
outputs = ["iterations"]
[parameters]
thickness = 1.0
[grid]
c = [0.5]
"""


def _spec(**changes):
    return sw.SweepSpec(**{"function": SLAB_FN, "grid": {"c": [0.5]}, "outputs": ["iterations"],
                           "parameters": {"thickness": 1.0}, **changes})


def _ds():
    return sw.run_sweep(_small(), progress=False)


ROWS = [
    # SweepSpec (the validation behind load_spec)
    Row(sw.SweepSpec, "function without a colon", lambda: _spec(function="sciflow.transport"),
        ValueError, r"function must be a string 'module:qualname'"),
    Row(sw.SweepSpec, "function not a string", lambda: _spec(function=3), TypeError,
        r"function must be a string 'module:qualname'"),
    Row(sw.SweepSpec, "function outside sciflow", lambda: _spec(function="os:remove"),
        ValueError, r"function must name a callable in the sciflow package"),
    Row(sw.SweepSpec, "function module absent", lambda: _spec(function="sciflow.nosuch:f"),
        ValueError, r"function 'sciflow.nosuch:f': cannot import module"),
    Row(sw.SweepSpec, "function attribute absent",
        lambda: _spec(function="sciflow.transport.sweeps:nosuch"), ValueError,
        r"function .* has no attribute 'nosuch'"),
    Row(sw.SweepSpec, "function private", lambda: _spec(function="sciflow.sweep:_run_task"),
        ValueError, r"function .* private names"),
    Row(sw.SweepSpec, "function a dunder", lambda: _spec(function="sciflow:__version__"),
        ValueError, r"function .* private names"),
    Row(sw.SweepSpec, "function a constant", lambda: _spec(function="sciflow.sweep:math"),
        TypeError, r"function 'sciflow.sweep:math' is not callable"),
    Row(sw.SweepSpec, "empty grid", lambda: _spec(grid={}), ValueError,
        r"grid must name at least one parameter"),
    Row(sw.SweepSpec, "grid not a table", lambda: _spec(grid=[0.5]), TypeError,
        r"grid must be a table"),
    Row(sw.SweepSpec, "grid values not a list", lambda: _spec(grid={"c": 0.5}), TypeError,
        r"grid\.c must be a list of values"),
    Row(sw.SweepSpec, "grid values a string", lambda: _spec(grid={"c": "0.5"}), TypeError,
        r"grid\.c must be a list of values"),
    Row(sw.SweepSpec, "grid values empty", lambda: _spec(grid={"c": []}), ValueError,
        r"grid\.c must hold at least one value"),
    Row(sw.SweepSpec, "grid values nested", lambda: _spec(grid={"c": [[0.5]]}), TypeError,
        r"grid\.c values must be numbers, strings or booleans"),
    Row(sw.SweepSpec, "grid values mixed kinds", lambda: _spec(grid={"c": [0.5, "a"]}),
        TypeError, r"grid\.c values must all be of one kind"),
    Row(sw.SweepSpec, "grid values repeated", lambda: _spec(grid={"c": [0.5, 0.5]}),
        ValueError, r"grid\.c values must be distinct.*\[0\.5\]"),
    Row(sw.SweepSpec, "grid value nan", lambda: _spec(grid={"c": [math.nan]}), ValueError,
        r"grid\.c values must be finite"),
    Row(sw.SweepSpec, "grid spacing unknown", lambda: _spec(grid={"c": {"arange": [1, 2]}}),
        ValueError, r"grid\.c must be a list of values or a table with one key of"),
    Row(sw.SweepSpec, "grid range of floats", lambda: _spec(grid={"c": {"range": [0.5, 1]}}),
        ValueError, r"grid\.c\.range must be \[stop\], \[start, stop\] or"),
    Row(sw.SweepSpec, "grid range step 0", lambda: _spec(grid={"c": {"range": [0, 4, 0]}}),
        ValueError, r"grid\.c\.range step must not be 0"),
    Row(sw.SweepSpec, "grid linspace num 0",
        lambda: _spec(grid={"c": {"linspace": [0.1, 0.5, 0]}}), ValueError,
        r"grid\.c\.linspace must be \[start, stop, num\]"),
    Row(sw.SweepSpec, "grid geomspace from 0",
        lambda: _spec(grid={"c": {"geomspace": [0.0, 0.5, 3]}}), ValueError,
        r"grid\.c\.geomspace start and stop must be > 0"),
    Row(sw.SweepSpec, "grid name not an identifier", lambda: _spec(grid={"c 1": [0.5]}),
        ValueError, r"grid names must be Python identifiers"),
    Row(sw.SweepSpec, "grid and parameters overlap",
        lambda: _spec(parameters={"thickness": 1.0, "c": 0.5}), ValueError,
        r"grid and parameters both set \['c'\]"),
    Row(sw.SweepSpec, "parameters not a table", lambda: _spec(parameters=[1.0]), TypeError,
        r"parameters must be a table"),
    Row(sw.SweepSpec, "parameter a table",
        lambda: _spec(parameters={"thickness": {"a": 1}}), TypeError,
        r"parameters\.thickness must be a number, string, boolean or a list"),
    Row(sw.SweepSpec, "parameter unknown to the function",
        lambda: _spec(parameters={"thickness": 1.0, "colour": "red"}), ValueError,
        r"function .* does not accept parameters .*'colour'"),
    Row(sw.SweepSpec, "required parameter missing", lambda: _spec(parameters={}), ValueError,
        r"function .* does not accept .*missing a required argument: 'thickness'"),
    Row(sw.SweepSpec, "outputs a string", lambda: _spec(outputs="iterations"), TypeError,
        r"outputs must be a list of names"),
    Row(sw.SweepSpec, "outputs empty", lambda: _spec(outputs=[]), ValueError,
        r"outputs must name at least one result"),
    Row(sw.SweepSpec, "outputs repeated", lambda: _spec(outputs=["phi", "phi"]), ValueError,
        r"outputs must be distinct"),
    Row(sw.SweepSpec, "output named like a grid dimension", lambda: _spec(outputs=["c"]),
        ValueError, r"outputs \['c'\] clash with grid names"),
    Row(sw.SweepSpec, "output named task_wall_time", lambda: _spec(outputs=["task_wall_time"]),
        ValueError, r"clash with grid names or the reserved 'task_wall_time'"),
    Row(sw.SweepSpec, "dims for an unknown output", lambda: _spec(dims={"phi": ["cell"]}),
        ValueError, r"dims\.phi names an output not in outputs"),
    Row(sw.SweepSpec, "dims not a list",
        lambda: _spec(outputs=["phi"], dims={"phi": "cell"}), TypeError,
        r"dims\.phi must be a list of dimension names"),
    Row(sw.SweepSpec, "dims reuse a grid name",
        lambda: _spec(outputs=["phi"], dims={"phi": ["c"]}), ValueError,
        r"dims\.phi must be distinct names other than the grid names"),
    Row(sw.SweepSpec, "output path not .nc", lambda: _spec(output="out.csv"), ValueError,
        r"output must be a path ending in \.nc \(netCDF\) or \.zarr"),
    Row(sw.SweepSpec, "output path not a string", lambda: _spec(output=3), ValueError,
        r"output must be a path ending in \.nc"),
    Row(sw.SweepSpec, "description not a string", lambda: _spec(description=["a"]), TypeError,
        r"description must be a string"),
    Row(sw.SweepSpec, "allow_any_module not a bool", lambda: _spec(allow_any_module="yes"),
        TypeError, r"allow_any_module must be a bool"),
    # load_spec
    Row(sw.load_spec, "TOML syntax error names file and line",
        lambda: sw.load_spec(_toml('function = "x"\ngrid = ?\n')), ValueError,
        r"spec\.toml: invalid TOML: .*at line 2"),
    Row(sw.load_spec, "unknown key", lambda: sw.load_spec(_toml(_GOOD_TOML.replace(
        "outputs", "zip = [\"c\"]\noutputs"))), ValueError,
        r"spec\.toml: unknown key\(s\) \['zip'\]; allowed: \['function'"),
    Row(sw.load_spec, "missing function", lambda: sw.load_spec(_toml(_GOOD_TOML.split("\n", 1)[1])),
        ValueError, r"spec\.toml: missing key 'function'"),
    Row(sw.load_spec, "missing outputs", lambda: sw.load_spec({"function": SLAB_FN,
                                                                 "grid": {"c": [0.5]}}),
        ValueError, r"^missing key 'outputs'"),
    Row(sw.load_spec, "unresolvable function in a file",
        lambda: sw.load_spec(_toml(_GOOD_TOML.replace("slab_leakage", "slab"))), ValueError,
        r"spec\.toml: function .* has no attribute 'slab'"),
    Row(sw.load_spec, "grid values not a list in a file",
        lambda: sw.load_spec(_toml(_GOOD_TOML.replace("c = [0.5]", "c = 0.5"))), TypeError,
        r"spec\.toml: grid\.c must be a list of values"),
    Row(sw.load_spec, "empty grid in a file",
        lambda: sw.load_spec(_toml(_GOOD_TOML.replace("c = [0.5]", "c = []"))), ValueError,
        r"spec\.toml: grid\.c must hold at least one value"),
    Row(sw.load_spec, "output not .nc in a file",
        lambda: sw.load_spec(_toml('output = "a.txt"\n' + _GOOD_TOML)), ValueError,
        r"spec\.toml: output must be a path ending in \.nc"),
    Row(sw.load_spec, "file absent", lambda: sw.load_spec("/no/such/spec.toml"),
        FileNotFoundError, r"spec file '/no/such/spec\.toml' not found"),
    Row(sw.load_spec, "not a .toml path", lambda: sw.load_spec("spec.json"), ValueError,
        r"spec must be a \.toml file or a mapping"),
    Row(sw.load_spec, "spec a number", lambda: sw.load_spec(3), TypeError,
        r"spec must be a path to a \.toml file or a mapping"),
    # run_sweep
    Row(sw.run_sweep, "spec a number", lambda: sw.run_sweep(3), TypeError,
        r"spec must be a path to a \.toml file or a mapping"),
    Row(sw.run_sweep, "progress not a bool", lambda: sw.run_sweep(_small(), progress=1),
        TypeError, r"progress and timing must be bools"),
    Row(sw.run_sweep, "workers a string", lambda: sw.run_sweep(_small(), workers="many",
                                                               progress=False),
        TypeError, r"workers must be None, an int"),
    Row(sw.run_sweep, "output not returned",
        lambda: sw.run_sweep(_small(outputs=["flux"], dims={}), progress=False),
        sw.SweepTaskError, r"output 'flux' is not a key of the result of .*slab_leakage"),
    Row(sw.run_sweep, "task raises",
        lambda: sw.run_sweep(_small(parameters={"cells": 0, "thickness": 1.0}), progress=False),
        sw.SweepTaskError, r"task \{'cells': 0, 'thickness': 1\.0, 'c': 0\.5, 'accel': 'none'\} "
                           r"of .*: ValueError: cells must be >= 1"),
    Row(sw.run_sweep, "dims of the wrong length",
        lambda: sw.run_sweep(_small(dims={"phi": ["cell", "group"]}), progress=False),
        ValueError, r"dims\.phi names 2 dimension\(s\) \['cell', 'group'\] but the output "
                    r"has shape \(20,\)"),
    Row(sw.run_sweep, "output shape varies between tasks",
        lambda: sw.run_sweep(_small(parameters={"c": 0.5, "thickness": 1.0},
                                    grid={"cells": [10, 20]}, outputs=["phi"], dims={}),
                             progress=False),
        ValueError, r"output 'phi' must have the same shape for every task: \(10,\)"),
    # write_dataset
    Row(sw.write_dataset, "not a Dataset", lambda: sw.write_dataset({"a": 1}, "/tmp/a.nc"),
        TypeError, r"ds must be an xarray\.Dataset"),
    Row(sw.write_dataset, "path not .nc", lambda: sw.write_dataset(_ds(), "/tmp/a.h5"),
        ValueError, r"path must end in \.nc \(netCDF\) or \.zarr"),
    Row(sw.write_dataset, "folder absent", lambda: sw.write_dataset(_ds(), "/no/such/a.nc"),
        ValueError, r"path must be in an existing folder"),
    Row(sw.write_dataset, "path a number", lambda: sw.write_dataset(_ds(), 3), TypeError,
        r"path must be a str or path"),
    # main_sweep: one line, non-zero exit
    Row(sw.main_sweep, "malformed spec", lambda: sw.main_sweep(_toml("function = \n")),
        SystemExit, r"^sciflow sweep: error: .*spec\.toml: invalid TOML: .*line 1"),
    Row(sw.main_sweep, "spec file absent", lambda: sw.main_sweep("/no/such/spec.toml"),
        SystemExit, r"^sciflow sweep: error: spec file '/no/such/spec\.toml' not found$"),
    Row(sw.main_sweep, "unknown key", lambda: sw.main_sweep(_toml("colour = 1\n" + _GOOD_TOML)),
        SystemExit, r"^sciflow sweep: error: .*unknown key\(s\) \['colour'\]"),
    Row(sw.main_sweep, "out not .nc",
        lambda: sw.main_sweep(_toml(_GOOD_TOML), out="/tmp/x.csv", progress=False),
        SystemExit, r"^sciflow sweep: error: out must be a path ending in \.nc or \.zarr"),
    Row(sw.main_sweep, "out folder absent",
        lambda: sw.main_sweep(_toml(_GOOD_TOML), out="/no/such/x.nc", progress=False),
        SystemExit, r"^sciflow sweep: error: out must be in an existing folder"),
    Row(sw.main_sweep, "workers and scheduler",
        lambda: sw.main_sweep(_toml(_GOOD_TOML), workers=2, scheduler="tcp://x:1"),
        SystemExit, r"^sciflow sweep: error: give workers or scheduler, not both"),
    Row(sw.main_sweep, "a task fails",
        lambda: sw.main_sweep(_toml(_GOOD_TOML.replace("thickness = 1.0", "thickness = -1.0")),
                              out=str(_scratch() / "a.nc"), progress=False),
        SystemExit, r"^sciflow sweep: error: task .* ValueError: thickness must be > 0"),
    # the task functions
    Row(fit_synthetic, "negative seed", lambda: fit_synthetic(rng=-1), ValueError,
        r"rng must be a Generator or an integer seed >= 0"),
    Row(fit_synthetic, "rng a float", lambda: fit_synthetic(rng=1.5), TypeError,
        r"rng must be a numpy.random.Generator"),
    Row(fit_synthetic, "negative noise", lambda: fit_synthetic(noise=-0.1), ValueError,
        r"noise must be >= 0"),
    Row(fit_synthetic, "retention_time a string", lambda: fit_synthetic(retention_time="100"),
        TypeError, r"retention_time must be a list of floats"),
    Row(fit_synthetic, "peak_std of the wrong length",
        lambda: fit_synthetic(peak_std=[2.5]), ValueError,
        r"peak_std must have one value per peak \(2\), got 1"),
    Row(fit_synthetic, "retention before the hold-up time",
        lambda: fit_synthetic(retention_time=[10.0, 108.0]), ValueError,
        r"retention_time must exceed the hold-up time"),
    Row(fit_synthetic, "peak narrower than the injection",
        lambda: fit_synthetic(peak_std=[0.2, 2.8]), ValueError,
        r"peak_std must exceed injection_time/sqrt\(12\)"),
    Row(fit_synthetic, "t_end before the last peak", lambda: fit_synthetic(t_end=105.0),
        ValueError, r"t_end must exceed the last retention time"),
    Row(fit_synthetic, "bad column", lambda: fit_synthetic(length=-1.0), ValueError,
        r"length must be > 0"),
    Row(slab_leakage, "c = 1", lambda: slab_leakage(c=1.0, thickness=1.0), ValueError,
        r"c must lie in \[0\.0, 1\.0\)"),
    Row(slab_leakage, "thickness 0", lambda: slab_leakage(c=0.5, thickness=0.0), ValueError,
        r"thickness must be > 0"),
    Row(slab_leakage, "cells 0", lambda: slab_leakage(c=0.5, thickness=1.0, cells=0),
        ValueError, r"cells must be >= 1"),
    Row(slab_leakage, "sigma_t a string", lambda: slab_leakage(c=0.5, thickness=1.0,
                                                                 sigma_t="1"),
        TypeError, r"sigma_t must be a real number"),
    Row(slab_leakage, "unknown accel", lambda: slab_leakage(c=0.5, thickness=1.0, accel="x"),
        ValueError, r"accel must be one of"),
]
if find_spec("zarr") is None:
    ROWS.append(Row(sw.write_dataset, "zarr not installed",
                    lambda: sw.write_dataset(_ds(), _scratch() / "a.zarr"),
                    ValueError, r"needs zarr: pip install zarr"))

test_bad_input, _cover_sweep = make_tests("sciflow.sweep", ROWS)
_, _cover_chrom = make_tests("sciflow.chromatography.sweeps", ROWS)
_, _cover_transport = make_tests("sciflow.transport.sweeps", ROWS)

# the cores' own tables cover every public module of the core, these included
CHROMATOGRAPHY_ROWS = [r for r in ROWS if r.target is fit_synthetic]
TRANSPORT_ROWS = [r for r in ROWS if r.target is slab_leakage]


def test_every_public_name_has_a_row():
    _cover_sweep()
    _cover_chrom()
    _cover_transport()
