"""The package foundation: argument checks, the JIT switch, parallel maps, the CLI, and that
the NumPy paths work without the optional dependencies (torch, dask)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sciflow
from sciflow import _validate as v
from sciflow.parallel import map_tasks

ROOT = Path(__file__).resolve().parents[1]


def _square(x):
    return x * x


def test_version_and_lazy_import():
    assert isinstance(sciflow.__version__, str)
    code = ("import sys, sciflow; "
            "print(any(m in sys.modules for m in ('numba', 'torch', 'dask', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validate_helpers():
    assert v.check_positive("x", 2) == 2.0
    with pytest.raises(ValueError, match="x must be > 0, got -1.0"):
        v.check_positive("x", -1)
    with pytest.raises(TypeError, match="x must be a real number"):
        v.check_positive("x", "1")
    with pytest.raises(TypeError, match="x must be a real number"):
        v.check_positive("x", True)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        v.check_in_range("p", 1.5, 0, 1)
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\]"):
        v.check_in_range("p", 0.0, 0, 1, low_open=True)
    with pytest.raises(ValueError, match="n must be >= 2"):
        v.check_int("n", 1, low=2)
    with pytest.raises(TypeError, match="n must be an integer"):
        v.check_int("n", 2.0)
    with pytest.raises(ValueError, match="t must be strictly increasing; t\\[2\\]"):
        v.check_increasing("t", [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="1 NaN/inf"):
        v.check_array("y", [1.0, np.nan])
    with pytest.raises(ValueError, match="kind must be one of"):
        v.check_choice("kind", "x", {"a", "b"})
    assert isinstance(v.as_rng(3), np.random.Generator)
    with pytest.raises(TypeError, match="rng must be"):
        v.as_rng("seed")


def test_convergence_error_carries_result():
    err = sciflow.ConvergenceError("stalled", result={"x": 1})
    assert isinstance(err, RuntimeError) and err.result == {"x": 1}


def test_disable_jit_runs_plain_python():
    code = textwrap.dedent("""
        from sciflow._jit import njit, JIT_ENABLED
        @njit
        def f(x):
            return x + 1
        print(JIT_ENABLED, type(f).__name__)
    """)
    env = {**os.environ, "SCIFLOW_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.split() == ["False", "function"]


def test_jit_kernel_compiles():
    from sciflow._jit import JIT_ENABLED, njit

    @njit
    def add(a, b):
        return a + b

    assert add(1.0, 2.0) == 3.0
    if JIT_ENABLED:
        assert hasattr(add, "signatures")


def test_map_tasks_engines():
    tasks = list(range(7))
    expected = [t * t for t in tasks]
    assert map_tasks(_square, tasks) == expected
    assert map_tasks(_square, tasks, workers=1, progress=False) == expected
    assert map_tasks(_square, tasks, workers=map) == expected

    class MapLike:
        def map(self, fn, it):
            return [fn(x) for x in it]

    assert map_tasks(_square, tasks, workers=MapLike()) == expected
    with pytest.raises(TypeError, match="workers must be"):
        map_tasks(_square, tasks, workers="many")
    with pytest.raises(ValueError, match="workers must be"):
        map_tasks(_square, tasks, workers=-3)


def test_map_tasks_process_pool():
    assert map_tasks(_square, range(5), workers=2) == [0, 1, 4, 9, 16]


def test_map_tasks_dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert map_tasks(_square, range(6), workers=client) == [0, 1, 4, 9, 16, 25]


def test_connect_by_address_and_resolve_workers():
    """``--scheduler tcp://...`` path: connect() to a LocalCluster's address gives a Client that
    map_tasks uses; resolve_workers maps the command-line options onto map_tasks engines."""
    distributed = pytest.importorskip("distributed")
    from sciflow.parallel import connect, resolve_workers

    assert resolve_workers() is None and resolve_workers(3) == 3 and resolve_workers(-1) == -1
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        with connect(cluster.scheduler_address, timeout=20) as client:
            assert map_tasks(_square, range(4), workers=client) == [0, 1, 4, 9]
        with resolve_workers(scheduler=cluster.scheduler_address) as client:
            assert map_tasks(_square, [7], workers=client) == [49]


def test_numpy_paths_work_without_torch_and_dask():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('torch', 'dask', 'distributed'):
                    raise ImportError(f'{name} blocked for this test')
        sys.meta_path.insert(0, Block())
        import numpy as np
        import sciflow
        from sciflow.chromatography import Column, Analyte, simulate
        col = Column(20.0, 90e-6, 1e-6, 353.15, 4.01e5, 1.013e5, 2.3e-5, inlet_velocity=0.41)
        t = np.linspace(0, 300, 3001)
        ch = simulate(col, [Analyte('b', 579.0, 5.3)], t, injection_time=4.0)
        assert ch.c.max() > 0
        from sciflow.parallel import map_tasks
        assert map_tasks(abs, [-1, 2]) == [1, 2]
        from sciflow.sampling import VPSchedule, sample
        from sciflow.sampling.datasets import gaussian_mixture_model
        vp = VPSchedule()
        x = sample(gaussian_mixture_model().bind(vp), np.zeros((4, 2)), vp, solver='unipc_2',
                   nfe=5)
        assert np.all(np.isfinite(x))
        from sciflow.multiplicative import GBM, LogNormalMixture
        b = LogNormalMixture([1.0], [[0.3]], [[[0.01]]]).bind(GBM(0.32, 0.8))
        assert np.all(b.sample(3, 0.5, rng=0) > 0)
        import sciflow.transport
        assert 'torch' not in sys.modules
        print('ok')
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_info_and_validate(tmp_path, capsys):
    from sciflow import cli

    assert cli.main(["info"]) == 0
    assert "sciflow" in capsys.readouterr().out
    vdir = tmp_path / "validation"
    (vdir / "good").mkdir(parents=True)
    (vdir / "good" / "validate.py").write_text(textwrap.dedent("""
        def run(outdir, quick=False):
            return {"title": "Good case", "markdown": "all fine", "metrics": {"err": 1e-9},
                    "figures": [], "passed": True}
    """))
    (vdir / "broken").mkdir()
    (vdir / "broken" / "validate.py").write_text("def run(outdir, quick=False):\n    1/0\n")
    out = tmp_path / "report"
    rc = cli.main(["validate", "--dir", str(vdir), "--out", str(out), "--quick"])
    assert rc == 1  # the broken case is reported as a failure, not hidden
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["good"]["passed"] and metrics["good"]["err"] == 1e-9
    assert not metrics["broken"]["passed"]
    report = (out / "index.md").read_text()
    assert "Good case — PASS" in report and "ZeroDivisionError" in report
    assert cli.main(["validate", "good", "--dir", str(vdir), "--out", str(out)]) == 0
