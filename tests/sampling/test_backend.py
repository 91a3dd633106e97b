"""Backends: NumPy default, torch by input type; same samples; import without torch."""

import subprocess
import sys

import numpy as np
import pytest

from sciflow.sampling import SOLVERS, EDMSchedule, FlowSchedule, GaussianMixture, VPSchedule, sample
from sciflow.sampling.backend import as_float_array, get_namespace, is_torch, to_numpy


def _mixture():
    covs = np.array([[[0.1, 0.03], [0.03, 0.05]], [[0.06, -0.02], [-0.02, 0.08]],
                     [[0.04, 0.0], [0.0, 0.04]]])
    return GaussianMixture([0.4, 0.35, 0.25], [[1.0, 1.0], [-1.0, 0.3], [0.2, -1.0]], covs)


def test_import_does_not_import_torch():
    code = ("import sys; import sciflow.sampling as s; import numpy as np;"
            "m = s.GaussianMixture([1.0], [[0.0, 0.0]], [np.eye(2)]);"
            "v = s.VPSchedule(); s.sample(m.bind(v), np.zeros((2, 2)), v, solver='unipc_2', nfe=4);"
            "assert sys.modules.get('torch') is None, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    # and it works when torch cannot be imported at all
    blocked = "import sys; sys.modules['torch'] = None; " + code
    subprocess.run([sys.executable, "-c", blocked], check=True)


def test_namespace_selection():
    assert get_namespace(np.zeros(2)).name == "numpy"
    assert get_namespace([1.0]).name == "numpy"
    assert not is_torch(np.zeros(2))
    x, xp = as_float_array("x", [[1, 2]])
    assert x.dtype == np.float64 and xp.name == "numpy"
    with pytest.raises(TypeError, match="x must have dtype"):
        as_float_array("x", np.zeros(2, dtype=np.complex128))
    with pytest.raises(ValueError, match="x must be finite"):
        as_float_array("x", [np.inf])


def test_torch_namespace_and_dtypes():
    torch = pytest.importorskip("torch")
    t = torch.zeros(3, dtype=torch.float32)
    assert is_torch(t) and get_namespace(t).name == "torch"
    np.testing.assert_array_equal(to_numpy(t), np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="x_T must have dtype"):
        as_float_array("x_T", torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="x_T must have dtype"):
        as_float_array("x_T", torch.zeros(3, dtype=torch.float16))


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_torch_float64_matches_numpy(solver):
    torch = pytest.importorskip("torch")
    s = VPSchedule()
    model = _mixture().bind(s)
    x_T = np.random.default_rng(0).standard_normal((16, 2))
    for kw in ({"nfe": 7}, {"nfe": 10, "t_end": 0.0, "denoise_to_zero": True}):
        ref = sample(model, x_T, s, solver=solver, rng=3, **kw)
        got = sample(model, torch.from_numpy(x_T), s, solver=solver, rng=3, **kw)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        # the two libraries sum in different orders: measured max 2.5e-14 (|x| ~ 1)
        np.testing.assert_allclose(got.numpy(), ref, rtol=0, atol=2e-13)


@pytest.mark.parametrize("schedule", [VPSchedule("cosine"), EDMSchedule(), FlowSchedule(3.0)],
                         ids=["cosine", "edm", "flow"])
def test_torch_float32_works(schedule):
    torch = pytest.importorskip("torch")
    model = _mixture().bind(schedule)
    x_T = np.random.default_rng(1).standard_normal((64, 2)) * float(schedule.sigma(
        schedule.t_start))
    for solver in ("dpmpp_3m", "unipc_2", "heun", "dpm_solver_3", "euler", "dpmpp_2m_sde"):
        ref = sample(model, x_T, schedule, solver=solver, nfe=12, rng=0)
        got = sample(model, torch.from_numpy(x_T).float(), schedule, solver=solver, nfe=12, rng=0)
        assert got.dtype == torch.float32 and bool(torch.isfinite(got).all())
        # float32 round-off through the flow map: measured max 1.8e-5
        np.testing.assert_allclose(got.double().numpy(), ref, rtol=0, atol=1e-4)


def test_torch_result_info():
    torch = pytest.importorskip("torch")
    s = VPSchedule()
    x_T = torch.linspace(-1.0, 1.0, 8).reshape(4, 2)
    r = sample(_mixture().bind(s), x_T, s, solver="dpmpp_2m", nfe=5, return_info=True)
    assert all(isinstance(x, torch.Tensor) for x in r.trajectory)
    assert len(r.trajectory) == len(r.times) == 6
    ref = sample(_mixture().bind(s), x_T.numpy(), s, solver="dpmpp_2m", nfe=5, return_info=True)
    for a, b in zip(r.trajectory, ref.trajectory, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=0, atol=1e-6)  # float32: measured 1.8e-7
    # the plot draws each sample's path through the trajectory, in the (x[0], x[1]) plane
    ax = r.plot(n_paths=3)
    lines = ax.get_lines()
    assert len(lines) == 3
    traj = np.stack([x.numpy() for x in r.trajectory])
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), traj[:, k, 0])
        np.testing.assert_array_equal(line.get_ydata(), traj[:, k, 1])
    assert ax.get_title() == "dpmpp_2m, NFE = 5"


def test_torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device; skipped on CPU-only machines, including CI")
    s = VPSchedule()
    model = _mixture().bind(s)
    x_T = np.random.default_rng(2).standard_normal((256, 2))
    ref = sample(model, x_T, s, solver="unipc_2", nfe=10)
    for dt in (torch.float64, torch.float32):
        got = sample(model, torch.as_tensor(x_T, dtype=dt, device="cuda"), s, solver="unipc_2",
                     nfe=10)
        assert got.device.type == "cuda" and got.dtype == dt
        # not measured on a GPU yet: the CPU torch-vs-NumPy measurements (float64 2.5e-14,
        # float32 1.8e-5) with the same margins; a different reduction order on the GPU is
        # the same kind of round-off
        tol = 2e-13 if dt == torch.float64 else 1e-4
        np.testing.assert_allclose(got.double().cpu().numpy(), ref, rtol=0, atol=tol)
