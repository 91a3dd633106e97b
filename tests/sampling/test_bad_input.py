"""Bad-input table of sciflow.sampling: every public function and class × bad inputs → a clear
exception naming the offending parameter (see ``tests/_bad_input.py``).

Also here: a model that returns NaN/inf (or a step that overflows) raises
:class:`~sciflow.sampling.NonFiniteError` naming the step index and the time, for NumPy and
torch inputs, and through everything that samples (``evaluate_steps``, ``optimize_steps``,
``MLPModel.sample``).
"""

import dataclasses
import functools
import importlib.util

import numpy as np
import pytest

from sciflow.sampling import (
    EDMSchedule,
    FlowSchedule,
    GaussianMixture,
    NonFiniteError,
    SampleResult,
    Schedule,
    Scheme,
    StepOptimization,
    VPSchedule,
    backend,
    evaluate_steps,
    make_dataset,
    nn,
    optimize_steps,
    sample,
)
from sciflow.sampling.datasets import gaussian_mixture_model
from sciflow.sampling.models import BoundGaussianMixture
from sciflow.sampling.solvers import SOLVERS, _Grid, phi

from .._bad_input import Row, make_tests
from . import bad_input_bridges as _bridges_rows
from . import bad_input_dpmv3 as _dpmv3_rows
from . import bad_input_guidance as _guidance_rows
from . import bad_input_inversion as _inversion_rows
from . import bad_input_mixtures as _mixtures_rows
from . import bad_input_posterior as _posterior_rows
from . import bad_input_pyramid as _pyramid_rows
from . import bad_input_search as _search_rows
from . import bad_input_skipping as _skipping_rows
from . import bad_input_terminal_snr as _terminal_snr_rows

HAS_TORCH = importlib.util.find_spec("torch") is not None

VP = VPSchedule()
EDM = EDMSchedule()
FLOW = FlowSchedule()
X = np.random.default_rng(0).standard_normal((8, 2))
NAN = float("nan")
INF = float("inf")


# ------------------------------------------------------------------ shared objects (cached)
@functools.cache
def gmm():
    return GaussianMixture([0.5, 0.5], [[1.0, 0.0], [-1.0, 0.5]],
                           np.stack([0.1 * np.eye(2), 0.05 * np.eye(2)]))


def model(schedule=VP):
    return gmm().bind(schedule)


def run(**kw):
    """sample() with good defaults, overridden by ``kw``."""
    args = {"model": model(), "x_T": X, "schedule": VP, "solver": "unipc_2", "nfe": 10}
    args.update(kw)
    return sample(args.pop("model"), args.pop("x_T"), args.pop("schedule"), **args)


def optimize(**kw):
    args = {"solver": "dpmpp_2m", "nfe": 4, "n_samples": 4, "rng": 0, "maxiter": 5,
            "progress": False}
    args.update(kw)
    return optimize_steps(args.pop("model", model()), args.pop("schedule", VP), **args)


def evaluate(**kw):
    args = {"steps": VP.timesteps(4), "solver": "dpmpp_2m", "x_T": X}
    args.update(kw)
    return evaluate_steps(args.pop("model", model()), args.pop("schedule", VP),
                          args.pop("steps"), **args)


class _Fn:
    """A model from a function ``fn(x, t, kind)`` (no ``dim``, no ``schedule``)."""

    def __init__(self, fn, dim=2):
        self.fn, self.dim = fn, dim

    def predict(self, x, t, kind="eps"):
        return self.fn(x, t, kind)


def _exact(x, t, kind):
    return model().predict(x, t, kind)


NAN_MODEL = _Fn(lambda x, t, kind: x * NAN)
INF_LATE = _Fn(lambda x, t, kind: _exact(x, t, kind) * (INF if t < 0.5 else 1.0))
HUGE = _Fn(lambda x, t, kind: 0.0 * x + 1e308)  # finite outputs, overflowing steps


def _nan_below_03(x, t, kind):
    return x * NAN if t < 0.3 else _exact(x, t, kind)


def ignore_fp(call):
    """Run with NumPy's default floating-point handling (the tests raise on overflow)."""
    def inner():
        with np.errstate(all="ignore"):
            return call()
    return inner


def torch_call(fn):
    """``fn(torch)``; rows made with it are left out where torch is not installed."""
    def inner():
        import torch

        return fn(torch)
    inner.needs_torch = True
    return inner


@functools.cache
def good_result():
    return run(return_info=True, nfe=4)


def result(**kw):
    r = good_result()
    fields = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    fields.update(kw)
    return SampleResult(**fields)


def scheme(cls=SOLVERS["ddim"], **kw):
    grid = _Grid(VP, [1.0, 0.5, 1e-3])
    args = {"f": lambda x, t, kind: x, "grid": grid, "orders": [1, 1], "options": {},
            "rng": None, "xp": backend.get_namespace(X)}
    args.update(kw)
    return cls(args["f"], args["grid"], args["orders"], args["options"], args["rng"],
               args["xp"])


def optimization(**kw):
    fields = {"steps": np.array([1.0, 0.3, 1e-3]), "initial_steps": np.array([1.0, 0.2, 1e-3]),
              "error_initial": 0.1, "error": 0.05, "heldout_error_initial": 0.1,
              "heldout_error": 0.06, "history": np.array([0.1, 0.05]), "solver": "dpmpp_2m",
              "nfe": 2, "reference": "exact", "method": "Nelder-Mead", "n_evals": 2,
              "success": True, "message": "", "wall_time": 0.1}
    fields.update(kw)
    return StepOptimization(**fields)


@functools.cache
def good_optimization():
    return optimization()


@functools.cache
def mlp():
    cfg = nn.MLPConfig(width=8, depth=1, n_freqs=2)
    return nn.MLPModel(nn._build_network(cfg), VP, cfg)


def nan_mlp():
    import torch

    cfg = nn.MLPConfig(width=8, depth=1, n_freqs=2)
    net = nn._build_network(cfg)
    with torch.no_grad():
        net.out.bias.fill_(float("nan"))
    return nn.MLPModel(net, VP, cfg)


def train(**kw):
    args = {"data": np.ones((10, 2)) + np.arange(10)[:, None], "schedule": VP, "steps": 2,
            "batch_size": 4, "width": 8, "depth": 1, "progress": False}
    args.update(kw)
    return nn.train(args.pop("data"), args.pop("schedule"), **args)


def load_foreign(tmp="sciflow_bad_input_foreign.pt"):
    import pathlib
    import tempfile

    import torch

    path = pathlib.Path(tempfile.gettempdir()) / tmp
    torch.save({"weights": torch.zeros(3)}, path)
    try:
        return nn.MLPModel.load(path)
    finally:
        path.unlink()


# ------------------------------------------------------------------ the table
ROWS = [
    # ---------------------------------------------------------------- VPSchedule
    Row(VPSchedule, "unknown kind", lambda: VPSchedule("quadratic"), ValueError,
        r"kind must be one of"),
    Row(VPSchedule, "kind not a string", lambda: VPSchedule(3), ValueError, r"kind must be"),
    Row(VPSchedule, "beta_min negative", lambda: VPSchedule(beta_min=-0.1), ValueError,
        r"beta_min must be >= 0"),
    Row(VPSchedule, "beta_max zero", lambda: VPSchedule(beta_min=0.0, beta_max=0.0), ValueError,
        r"beta_max must be > 0"),
    Row(VPSchedule, "beta_max NaN", lambda: VPSchedule(beta_max=NAN), ValueError,
        r"beta_max must be finite"),
    Row(VPSchedule, "beta_max inf", lambda: VPSchedule(beta_max=INF), ValueError,
        r"beta_max must be finite"),
    Row(VPSchedule, "beta_min a string", lambda: VPSchedule(beta_min="0.1"), TypeError,
        r"beta_min must be a real number"),
    Row(VPSchedule, "beta_max < beta_min", lambda: VPSchedule(beta_min=5.0, beta_max=1.0),
        ValueError, r"beta_max must be >= beta_min"),
    Row(VPSchedule, "alpha at t > 1", lambda: VP.alpha(1.5), ValueError, r"t must lie in"),
    Row(VPSchedule, "sigma at t NaN", lambda: VP.sigma(NAN), ValueError, r"t must not be NaN"),
    Row(VPSchedule, "lambda_ at t None", lambda: VP.lambda_(None), TypeError,
        r"t must be a real number"),
    Row(VPSchedule, "dsigma at t a string", lambda: VP.dsigma("a"), TypeError,
        r"t must be a real number"),
    Row(VPSchedule, "dlambda at t < 0 in an array", lambda: VP.dlambda([0.5, -0.1]),
        ValueError, r"t must lie in .* got -0\.1"),
    Row(VPSchedule, "sample_training_t n negative", lambda: VP.sample_training_t(-1),
        ValueError, r"n must be >= 0"),
    Row(VPSchedule, "sample_training_t t_min zero", lambda: VP.sample_training_t(4, t_min=0.0),
        ValueError, r"t_min must be > 0"),
    Row(VPSchedule, "sample_training_t t_min above the range",
        lambda: VP.sample_training_t(4, t_min=2.0), ValueError, r"t_min must be < 1"),
    Row(VPSchedule, "frozen", lambda: setattr(VP, "beta_max", 1.0),
        dataclasses.FrozenInstanceError, r"beta_max"),
    # ---------------------------------------------------------------- EDMSchedule
    Row(EDMSchedule, "sigma_min zero", lambda: EDMSchedule(sigma_min=0.0), ValueError,
        r"sigma_min must be > 0"),
    Row(EDMSchedule, "sigma_max inf", lambda: EDMSchedule(sigma_max=INF), ValueError,
        r"sigma_max must be finite"),
    Row(EDMSchedule, "sigma_max <= sigma_min", lambda: EDMSchedule(sigma_min=1.0, sigma_max=0.5),
        ValueError, r"sigma_max must be > sigma_min"),
    Row(EDMSchedule, "rho zero", lambda: EDMSchedule(rho=0.0), ValueError, r"rho must be > 0"),
    Row(EDMSchedule, "sigma_data negative", lambda: EDMSchedule(sigma_data=-1.0), ValueError,
        r"sigma_data must be > 0"),
    Row(EDMSchedule, "preconditioning at sigma < 0", lambda: EDM.preconditioning(-1.0),
        ValueError, r"sigma must lie in"),
    Row(EDMSchedule, "t_from_lambda NaN", lambda: EDM.t_from_lambda(NAN), ValueError,
        r"lam must be finite or \+inf"),
    Row(EDMSchedule, "t_from_lambda -inf", lambda: EDM.t_from_lambda(-INF), ValueError,
        r"lam must be finite or \+inf"),
    Row(EDMSchedule, "sample_training_t scale zero", lambda: EDM.sample_training_t(4, scale=0.0),
        ValueError, r"scale must be > 0"),
    Row(EDMSchedule, "sample_training_t loc NaN", lambda: EDM.sample_training_t(4, loc=NAN),
        ValueError, r"loc must be finite"),
    Row(EDMSchedule, "karras rho negative", lambda: EDM.timesteps(4, rho=-1.0), ValueError,
        r"rho must be > 0"),
    # ---------------------------------------------------------------- FlowSchedule
    Row(FlowSchedule, "shift zero", lambda: FlowSchedule(shift=0.0), ValueError,
        r"shift must be > 0"),
    Row(FlowSchedule, "shift NaN", lambda: FlowSchedule(shift=NAN), ValueError,
        r"shift must be finite"),
    Row(FlowSchedule, "shift a string", lambda: FlowSchedule(shift="3"), TypeError,
        r"shift must be a real number"),
    Row(FlowSchedule, "shift_time u > 1", lambda: FLOW.shift_time(1.5), ValueError,
        r"u must lie in"),
    Row(FlowSchedule, "unshift_time t < 0", lambda: FLOW.unshift_time(-0.1), ValueError,
        r"t must lie in"),
    Row(FlowSchedule, "sample_training_t shifted not a bool",
        lambda: FLOW.sample_training_t(4, shifted="yes"), TypeError, r"shifted must be a bool"),
    Row(FlowSchedule, "sample_training_t n a float", lambda: FLOW.sample_training_t(2.5),
        TypeError, r"n must be an integer"),
    # ---------------------------------------------------------------- Schedule (shared methods)
    Row(Schedule, "the abstract base instantiated", lambda: Schedule(), TypeError,
        r"Schedule is the abstract base class"),
    Row(Schedule, "timesteps n_steps zero", lambda: VP.timesteps(0), ValueError,
        r"n_steps must be >= 1"),
    Row(Schedule, "timesteps n_steps a float", lambda: VP.timesteps(2.5), TypeError,
        r"n_steps must be an integer"),
    Row(Schedule, "timesteps unknown spacing", lambda: VP.timesteps(4, "linear"), ValueError,
        r"spacing must be one of"),
    Row(Schedule, "timesteps t_end == t_start", lambda: VP.timesteps(4, t_start=0.5, t_end=0.5),
        ValueError, r"t_start must be > t_end"),
    Row(Schedule, "timesteps t_end > t_start", lambda: VP.timesteps(4, t_start=0.1, t_end=0.5),
        ValueError, r"t_start must be > t_end"),
    Row(Schedule, "timesteps t_start NaN", lambda: VP.timesteps(4, t_start=NAN), ValueError,
        r"t_start must not be NaN"),
    Row(Schedule, "timesteps option of another spacing",
        lambda: VP.timesteps(4, "uniform_lambda", rho=7), TypeError,
        r"unexpected option.*spacing 'uniform_lambda'"),
    Row(Schedule, "timesteps truncate_index too large",
        lambda: VP.timesteps(4, "karras_truncated", karras_points=8, truncate_index=8),
        ValueError, r"truncate_index must be <= 7"),
    Row(Schedule, "timesteps karras_points one",
        lambda: VP.timesteps(4, "karras_truncated", karras_points=1), ValueError,
        r"karras_points must be >= 2"),
    Row(Schedule, "timesteps time_rho zero",
        lambda: VP.timesteps(4, "karras_truncated", time_rho=0.0), ValueError,
        r"time_rho must be > 0"),
    Row(Schedule, "t_from_lambda a string", lambda: VP.t_from_lambda("a"), TypeError,
        r"lam must be a real number"),
    Row(Schedule, "t_from_lambda NaN", lambda: VP.t_from_lambda(NAN), ValueError,
        r"lam must not be NaN"),
    Row(Schedule, "t_from_lambda beyond t = 1", lambda: VP.t_from_lambda(-100.0), ValueError,
        r"lam must lie in"),
    Row(Schedule, "check_t name not a string", lambda: VP.check_t(3, 0.5), TypeError,
        r"name must be a string"),
    Row(Schedule, "check_t inf", lambda: VP.check_t("t_end", INF), ValueError,
        r"t_end must lie in"),
    Row(Schedule, "default_spacing unknown solver", lambda: VP.default_spacing("nope"),
        ValueError, r"solver must be None or one of"),
    Row(Schedule, "default_spacing unknown solver (EDM)", lambda: EDM.default_spacing(3),
        ValueError, r"solver must be None or one of"),
    # ---------------------------------------------------------------- GaussianMixture
    Row(GaussianMixture, "negative weight",
        lambda: GaussianMixture([-1.0, 2.0], np.zeros((2, 2)), np.stack([np.eye(2)] * 2)),
        ValueError, r"weights must be non-negative"),
    Row(GaussianMixture, "weights sum to zero",
        lambda: GaussianMixture([0.0, 0.0], np.zeros((2, 2)), np.stack([np.eye(2)] * 2)),
        ValueError, r"weights must be non-negative with a positive sum"),
    Row(GaussianMixture, "weights NaN",
        lambda: GaussianMixture([NAN, 1.0], np.zeros((2, 2)), np.stack([np.eye(2)] * 2)),
        ValueError, r"weights must be finite"),
    Row(GaussianMixture, "weights empty",
        lambda: GaussianMixture([], np.zeros((0, 2)), np.zeros((0, 2, 2))), ValueError,
        r"weights must have at least 1"),
    Row(GaussianMixture, "weights 2-D",
        lambda: GaussianMixture([[1.0]], np.zeros((1, 2)), np.eye(2)[None]), ValueError,
        r"weights must be 1-dimensional"),
    Row(GaussianMixture, "weights a string",
        lambda: GaussianMixture("ab", np.zeros((2, 2)), np.stack([np.eye(2)] * 2)), TypeError,
        r"weights must be array-like"),
    Row(GaussianMixture, "means with the wrong number of components",
        lambda: GaussianMixture([1.0, 1.0], np.zeros((3, 2)), np.stack([np.eye(2)] * 2)),
        ValueError, r"means must have shape \(K, d\) = \(2, d\)"),
    Row(GaussianMixture, "means inf",
        lambda: GaussianMixture([1.0], [[INF, 0.0]], np.eye(2)[None]), ValueError,
        r"means must be finite"),
    Row(GaussianMixture, "means with d = 0",
        lambda: GaussianMixture([1.0], np.zeros((1, 0)), np.zeros((1, 0, 0))), ValueError,
        r"means must have at least one dimension"),
    Row(GaussianMixture, "covs of the wrong dimension",
        lambda: GaussianMixture([1.0], np.zeros((1, 2)), np.eye(3)[None]), ValueError,
        r"covs must have shape \(K, d, d\)"),
    Row(GaussianMixture, "covs not symmetric",
        lambda: GaussianMixture([1.0], np.zeros((1, 2)), np.array([[[1.0, 0.1], [0.0, 1.0]]])),
        ValueError, r"covs must be symmetric"),
    Row(GaussianMixture, "covs not positive definite",
        lambda: GaussianMixture([1.0], np.zeros((1, 2)), np.array([[[1.0, 2.0], [2.0, 1.0]]])),
        ValueError, r"covs must be positive definite"),
    Row(GaussianMixture, "covs NaN",
        lambda: GaussianMixture([1.0], np.zeros((1, 2)), np.full((1, 2, 2), NAN)), ValueError,
        r"covs must be finite"),
    Row(GaussianMixture, "sample n negative", lambda: gmm().sample(-1), ValueError,
        r"n must be >= 0"),
    Row(GaussianMixture, "sample rng a string", lambda: gmm().sample(3, "seed"), TypeError,
        r"rng must be"),
    Row(GaussianMixture, "bind to a string", lambda: gmm().bind("vp"), TypeError,
        r"schedule must be"),
    Row(GaussianMixture, "predict unknown kind", lambda: gmm().predict(X, 0.5, "noise", VP),
        ValueError, r"kind must be one of"),
    Row(GaussianMixture, "predict x of the wrong dimension",
        lambda: gmm().predict(np.zeros((3, 3)), 0.5, "eps", VP), ValueError,
        r"x must have shape \(\.\.\., 2\)"),
    Row(GaussianMixture, "predict t outside the schedule",
        lambda: gmm().predict(X, 1.5, "eps", VP), ValueError, r"t must lie in"),
    Row(GaussianMixture, "predict schedule a string", lambda: gmm().predict(X, 0.5, "eps", "vp"),
        TypeError, r"schedule must be"),
    Row(GaussianMixture, "predict x NaN", lambda: gmm().predict(X * NAN, 0.5, "eps", VP),
        ValueError, r"x must be finite"),
    Row(GaussianMixture, "log_density x complex",
        lambda: gmm().log_density(X.astype(complex), 0.5, VP), TypeError,
        r"x must have dtype float32 or float64"),
    Row(GaussianMixture, "density t NaN", lambda: gmm().density(X, NAN, VP), ValueError,
        r"t must not be NaN"),
    Row(GaussianMixture, "exact_ode_solution x_T of the wrong dimension",
        lambda: gmm().exact_ode_solution(np.zeros((3, 3)), VP, 1.0, 1e-3), ValueError,
        r"x_T must have shape \(\.\.\., 2\)"),
    Row(GaussianMixture, "exact_ode_solution t_T outside the schedule",
        lambda: gmm().exact_ode_solution(X, VP, 1.5, 1e-3), ValueError, r"t_T must lie in"),
    Row(GaussianMixture, "exact_ode_solution rtol zero",
        lambda: gmm().exact_ode_solution(X, VP, 1.0, 1e-3, rtol=0.0), ValueError,
        r"rtol must be > 0"),
    Row(GaussianMixture, "exact_ode_solution lambda_clip negative",
        lambda: gmm().exact_ode_solution(X, VP, 1.0, 0.0, lambda_clip=-1.0), ValueError,
        r"lambda_clip must be > 0"),
    Row(GaussianMixture, "exact_ode_solution unknown method",
        lambda: gmm().exact_ode_solution(X, VP, 1.0, 1e-3, method="Euler"), ValueError,
        r"method must be one of"),
    Row(GaussianMixture, "exact_ode_solution x_T NaN",
        lambda: gmm().exact_ode_solution(X * NAN, VP, 1.0, 1e-3), ValueError,
        r"x_T must be finite"),
    Row(GaussianMixture, "exact_ode_solution schedule None",
        lambda: gmm().exact_ode_solution(X, None, 1.0, 1e-3), TypeError, r"schedule must be"),
    # ---------------------------------------------------------------- BoundGaussianMixture
    Row(BoundGaussianMixture, "mixture not a GaussianMixture",
        lambda: BoundGaussianMixture("gmm", VP), TypeError, r"mixture must be a GaussianMixture"),
    Row(BoundGaussianMixture, "schedule a string", lambda: BoundGaussianMixture(gmm(), "vp"),
        TypeError, r"schedule must be"),
    Row(BoundGaussianMixture, "predict unknown kind", lambda: model().predict(X, 0.5, "v"),
        ValueError, r"kind must be one of"),
    Row(BoundGaussianMixture, "call with x of the wrong dimension",
        lambda: model()(np.zeros((2, 5)), 0.5), ValueError, r"x must have shape"),
    Row(BoundGaussianMixture, "exact_ode_solution t_0 negative",
        lambda: model().exact_ode_solution(X, t_0=-1.0), ValueError, r"t_0 must lie in"),
    # ---------------------------------------------------------------- sample
    Row(sample, "nfe zero", lambda: run(nfe=0), ValueError, r"nfe must be >= 1"),
    Row(sample, "nfe negative", lambda: run(nfe=-3), ValueError, r"nfe must be >= 1"),
    Row(sample, "nfe a float", lambda: run(nfe=2.5), TypeError, r"nfe must be an integer"),
    Row(sample, "nfe a bool", lambda: run(nfe=True), TypeError, r"nfe must be an integer"),
    Row(sample, "nfe missing", lambda: run(nfe=None), ValueError,
        r"nfe is required unless steps is given"),
    Row(sample, "unknown solver", lambda: run(solver="dpm_solver_4"), ValueError,
        r"solver must be one of"),
    Row(sample, "solver None", lambda: run(solver=None), ValueError, r"solver must be one of"),
    Row(sample, "x_T of the wrong dimension", lambda: run(x_T=np.zeros((5, 3))), ValueError,
        r"x_T must have shape \(\.\.\., 2\)"),
    Row(sample, "x_T NaN", lambda: run(x_T=np.full((5, 2), NAN)), ValueError,
        r"x_T must be finite"),
    Row(sample, "x_T inf", lambda: run(x_T=np.full((5, 2), INF)), ValueError,
        r"x_T must be finite"),
    Row(sample, "x_T float16", lambda: run(x_T=np.zeros((5, 2), dtype=np.float16)), TypeError,
        r"x_T must have dtype float32 or float64"),
    Row(sample, "x_T empty", lambda: run(x_T=np.zeros((0, 2))), ValueError,
        r"x_T must be a non-empty array"),
    Row(sample, "x_T a scalar", lambda: run(x_T=1.0), ValueError,
        r"x_T must be a non-empty array of shape \(\.\.\., d\)"),
    Row(sample, "x_T None", lambda: run(x_T=None), TypeError, r"x_T must be a NumPy array"),
    Row(sample, "t_start above the schedule", lambda: run(t_start=1.5), ValueError,
        r"t_start must lie in"),
    Row(sample, "t_end negative", lambda: run(t_end=-0.1), ValueError, r"t_end must lie in"),
    Row(sample, "t_start NaN", lambda: run(t_start=NAN), ValueError, r"t_start must not be NaN"),
    Row(sample, "t_end == t_start", lambda: run(t_start=0.3, t_end=0.3), ValueError,
        r"t_start must be > t_end"),
    Row(sample, "t_end > t_start", lambda: run(t_start=0.1, t_end=0.2), ValueError,
        r"t_start must be > t_end"),
    Row(sample, "increasing steps", lambda: run(nfe=None, steps=[0.1, 0.5, 1.0]), ValueError,
        r"steps must be non-increasing"),
    Row(sample, "steps outside the schedule", lambda: run(nfe=None, steps=[1.2, 0.5]),
        ValueError, r"steps must lie in"),
    Row(sample, "one step time", lambda: run(nfe=None, steps=[0.5]), ValueError,
        r"steps must have at least 2"),
    Row(sample, "steps repeated", lambda: run(nfe=None, steps=[0.5, 0.5]), ValueError,
        r"steps must contain at least two distinct"),
    Row(sample, "steps NaN", lambda: run(nfe=None, steps=[1.0, NAN, 0.1]), ValueError,
        r"steps must be finite"),
    Row(sample, "steps 2-D", lambda: run(nfe=None, steps=[[1.0, 0.1]]), ValueError,
        r"steps must be 1-dimensional"),
    Row(sample, "steps and t_start", lambda: run(nfe=None, steps=[1.0, 0.1], t_start=1.0),
        ValueError, r"give either steps or t_start/t_end"),
    Row(sample, "nfe not achievable on the steps",
        lambda: run(solver="dpm_solver_3", steps=VP.timesteps(9), nfe=5), ValueError,
        r"nfe=5 is not achievable"),
    Row(sample, "nfe not matching the steps",
        lambda: run(solver="dpmpp_2m", steps=VP.timesteps(9), nfe=4), ValueError,
        r"nfe=4 does not match 9 steps"),
    Row(sample, "nfe 1 with denoise_to_zero", lambda: run(nfe=1, denoise_to_zero=True),
        ValueError, r"nfe=1 leaves no evaluation"),
    Row(sample, "unknown solver option", lambda: run(solver="ddim", order=3), TypeError,
        r"unexpected option.*'order'"),
    Row(sample, "unknown solver_type", lambda: run(solver="dpmpp_2m", solver_type="heun"),
        ValueError, r"solver_type must be"),
    Row(sample, "unknown third_order_weight",
        lambda: run(solver="dpmpp_3m", third_order_weight="half"), ValueError,
        r"third_order_weight must be"),
    Row(sample, "unknown UniPC variant", lambda: run(variant="bh3"), ValueError,
        r"variant must be"),
    Row(sample, "disable_corrector not a bool", lambda: run(disable_corrector="yes"), TypeError,
        r"disable_corrector must be a bool"),
    Row(sample, "model without predict", lambda: run(model=object()), TypeError,
        r"model must have a predict"),
    Row(sample, "schedule a string", lambda: run(schedule="vp"), TypeError,
        r"schedule must be a VPSchedule"),
    Row(sample, "schedule differs from the model's", lambda: run(schedule=VPSchedule("cosine")),
        ValueError, r"schedule .* differs from the model's schedule"),
    Row(sample, "unknown spacing", lambda: run(spacing="log"), ValueError,
        r"spacing must be one of"),
    Row(sample, "spacing_options not a dict", lambda: run(spacing_options=[("rho", 3)]),
        TypeError, r"spacing_options must be a dict"),
    Row(sample, "spacing_options of another spacing", lambda: run(spacing_options={"rho": 3.0}),
        TypeError, r"unexpected option.*spacing"),
    Row(sample, "rng a string", lambda: run(solver="dpmpp_2m_sde", rng="seed"), TypeError,
        r"rng must be"),
    Row(sample, "lower_order_final not a bool", lambda: run(lower_order_final="yes"), TypeError,
        r"lower_order_final must be a bool"),
    Row(sample, "denoise_to_zero an int", lambda: run(denoise_to_zero=1), TypeError,
        r"denoise_to_zero must be a bool"),
    Row(sample, "return_info not a bool", lambda: run(return_info="no"), TypeError,
        r"return_info must be a bool"),
    Row(sample, "progress not a bool", lambda: run(progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(sample, "model output of the wrong shape",
        lambda: run(model=_Fn(lambda x, t, kind: x[:, :1])), ValueError,
        r"model\.predict returned shape \(8, 1\)"),
    Row(sample, "model output not an array",
        lambda: run(model=_Fn(lambda x, t, kind: x.tolist())), TypeError,
        r"model\.predict must return an array"),
    # a diverging model: NaN/inf is reported with the step and the time
    Row(sample, "model returns NaN", lambda: run(model=NAN_MODEL), NonFiniteError,
        r"model\.predict returned NaN/inf at step 0 of 10 \(t = 1, kind='x0', evaluation 1\): "
        r"the model diverged"),
    Row(sample, "model returns inf below t = 0.5", lambda: run(model=INF_LATE, solver="ddim"),
        NonFiniteError, r"model\.predict returned NaN/inf at step 4 of 10 \(t = 0\.49\d*, "
        r"kind='eps'"),
    Row(sample, "model returns NaN (caught as FloatingPointError)",
        lambda: run(model=NAN_MODEL, solver="heun", nfe=5), FloatingPointError,
        r"NaN/inf at step 0 of 3"),
    Row(sample, "model returns NaN (SDE solver)",
        lambda: run(model=INF_LATE, solver="dpmpp_3m_sde", rng=0), NonFiniteError,
        r"at step \d of 10 \(t = 0\.4"),
    Row(sample, "model returns NaN at the final denoising evaluation",
        lambda: run(model=_Fn(lambda x, t, kind: x * NAN if kind == "x0" and t < 0.002
                              else _exact(x, t, kind)), solver="ddim", nfe=5,
                    denoise_to_zero=True), NonFiniteError,
        r"NaN/inf at the final denoising evaluation \(t = 0\.001"),
    Row(sample, "model returns NaN in the last step (flow, float32)",
        lambda: run(model=_Fn(_nan_below_03), solver="euler", schedule=FLOW, nfe=4,
                    x_T=X.astype(np.float32)), NonFiniteError,
        r"at step 3 of 4 \(t = 0\.25, kind='velocity'"),
    Row(sample, "finite model outputs, overflowing step",
        ignore_fp(lambda: run(model=HUGE, solver="ddim", t_end=0.0)), NonFiniteError,
        r"NaN/inf at step 1 of 10 \(t = 0\.887.*input state was already NaN/inf: the "
        r"solver's state overflowed"),
    Row(sample, "finite model outputs, overflowing last step",
        ignore_fp(lambda: run(model=HUGE, solver="ddim", nfe=1)), NonFiniteError,
        r"state became NaN/inf in the last step, step 0 of 1 \(t = 1 -> 0\.001\)"),
    Row(sample, "model returns NaN (torch float32)",
        torch_call(lambda torch: run(model=NAN_MODEL,
                                     x_T=torch.zeros(4, 2, dtype=torch.float32))),
        NonFiniteError, r"NaN/inf at step 0 of 10 \(t = 1,"),
    Row(sample, "model returns inf later (torch float64)",
        torch_call(lambda torch: run(model=INF_LATE, x_T=torch.from_numpy(X), solver="dpmpp_3m")),
        NonFiniteError, r"at step 4 of 10 \(t = 0\.49"),
    Row(sample, "overflowing step (torch float32)",
        torch_call(lambda torch: run(model=_Fn(lambda x, t, kind: 0.0 * x + 3e38),
                                     solver="ddim", x_T=torch.zeros(4, 2))),
        NonFiniteError, r"NaN/inf at step 1 of 10 \(t = 0\.899.*state overflowed"),
    # ---------------------------------------------------------------- SampleResult
    Row(SampleResult, "unknown solver", lambda: result(solver="rk4"), ValueError,
        r"solver must be one of"),
    Row(SampleResult, "nfe negative", lambda: result(nfe=-1), ValueError, r"nfe must be >= 0"),
    Row(SampleResult, "times increasing", lambda: result(times=np.linspace(0.1, 1.0, 5)),
        ValueError, r"times must be non-increasing"),
    Row(SampleResult, "times NaN", lambda: result(times=np.full(5, NAN)), ValueError,
        r"times must be finite"),
    Row(SampleResult, "trajectory of the wrong length",
        lambda: result(trajectory=good_result().trajectory[:2]), ValueError,
        r"trajectory must have one state per time \(5\), got 2"),
    Row(SampleResult, "trajectory not a list", lambda: result(trajectory=3), TypeError,
        r"trajectory must be a list"),
    Row(SampleResult, "order zero", lambda: result(orders=(1, 0, 2, 1)), ValueError,
        r"orders must be a sequence of integers >= 1"),
    Row(SampleResult, "wall_time negative", lambda: result(wall_time=-1.0), ValueError,
        r"wall_time must be >= 0"),
    Row(SampleResult, "options not a dict", lambda: result(options=[]), TypeError,
        r"options must be a dict"),
    Row(SampleResult, "plot n_paths zero", lambda: good_result().plot(n_paths=0), ValueError,
        r"n_paths must be >= 1"),
    Row(SampleResult, "plot dims out of range", lambda: good_result().plot(dims=(0, 5)),
        ValueError, r"dims must be two axes in \[0, 1\]"),
    Row(SampleResult, "plot dims not integers", lambda: good_result().plot(dims=("x", 1)),
        ValueError, r"dims must be two axes"),
    # ---------------------------------------------------------------- Scheme
    Row(Scheme, "f not callable", lambda: scheme(f=None), TypeError, r"f must be callable"),
    Row(Scheme, "grid not a grid", lambda: scheme(grid=[1.0, 0.5]), TypeError,
        r"grid must be a solvers\._Grid"),
    Row(Scheme, "orders of the wrong length", lambda: scheme(orders=[1]), ValueError,
        r"orders must have one entry per step \(2\), got 1"),
    Row(Scheme, "order above the scheme's", lambda: scheme(orders=[1, 2]), ValueError,
        r"orders must lie in \[1, 1\] for DDIM"),
    Row(Scheme, "orders not integers", lambda: scheme(orders=[1.0, 1.0]), TypeError,
        r"orders must be a sequence of integers"),
    Row(Scheme, "options not a dict", lambda: scheme(options=[]), TypeError,
        r"options must be a dict"),
    Row(Scheme, "unknown option", lambda: scheme(options={"variant": "bh2"}), TypeError,
        r"unexpected option.*options for DDIM"),
    Row(Scheme, "stochastic scheme without rng",
        lambda: scheme(SOLVERS["dpmpp_2m_sde"], orders=[1, 2]), TypeError,
        r"rng must be a numpy\.random\.Generator"),
    Row(Scheme, "xp not a namespace", lambda: scheme(xp=np), TypeError,
        r"xp must be an array namespace"),
    Row(Scheme, "unknown solver_type (DPM-Solver++)",
        lambda: scheme(SOLVERS["dpmpp_2m"], options={"solver_type": "rk"}), ValueError,
        r"solver_type must be"),
    # ---------------------------------------------------------------- phi
    Row(phi, "k zero", lambda: phi(0, 0.5), ValueError, r"k must be >= 1"),
    Row(phi, "k a float", lambda: phi(1.5, 0.5), TypeError, r"k must be an integer"),
    Row(phi, "z NaN", lambda: phi(1, NAN), ValueError, r"z must be a real number or -inf"),
    Row(phi, "z +inf", lambda: phi(2, INF), ValueError, r"z must be a real number or -inf"),
    Row(phi, "z a string", lambda: phi(1, "a"), TypeError, r"z must be a real number"),
    # ---------------------------------------------------------------- optimize_steps
    Row(optimize_steps, "stochastic solver", lambda: optimize(solver="dpmpp_2m_sde"), ValueError,
        r"solver 'dpmpp_2m_sde' is stochastic"),
    Row(optimize_steps, "unknown solver", lambda: optimize(solver="nope"), ValueError,
        r"solver must be one of"),
    Row(optimize_steps, "unknown reference", lambda: optimize(reference="fid"), ValueError,
        r"reference must be one of"),
    Row(optimize_steps, "unknown method", lambda: optimize(method="BFGS"), ValueError,
        r"method must be one of"),
    Row(optimize_steps, "nfe zero", lambda: optimize(nfe=0), ValueError, r"nfe must be >= 1"),
    Row(optimize_steps, "nfe a float", lambda: optimize(nfe=2.5), TypeError,
        r"nfe must be an integer"),
    Row(optimize_steps, "denoise_to_zero passed on", lambda: optimize(denoise_to_zero=True),
        TypeError, r"does not take 'denoise_to_zero'"),
    Row(optimize_steps, "unknown init spacing", lambda: optimize(init="linear"), ValueError,
        r"init must be one of"),
    Row(optimize_steps, "init times increasing", lambda: optimize(init=[1e-3, 0.5, 1.0]),
        ValueError, r"init times must be strictly decreasing"),
    Row(optimize_steps, "init times NaN", lambda: optimize(init=[1.0, NAN, 1e-3]), ValueError,
        r"init must be finite"),
    Row(optimize_steps, "init times and t_start", lambda: optimize(init=[1.0, 0.1], t_start=1.0),
        ValueError, r"give either init times or t_start/t_end"),
    Row(optimize_steps, "x_T of the wrong dimension", lambda: optimize(x_T=np.zeros((4, 3))),
        ValueError, r"x_T must have shape \((n|\.\.\.), 2\)"),
    Row(optimize_steps, "x_T NaN", lambda: optimize(x_T=np.full((4, 2), NAN)), ValueError,
        r"x_T must be finite"),
    Row(optimize_steps, "x_T empty", lambda: optimize(x_T=np.zeros((0, 2)), init=[1.0, 0.1]),
        ValueError, r"x_T must have at least 1"),
    Row(optimize_steps, "refine one", lambda: optimize(refine=1), ValueError,
        r"refine must be >= 2"),
    Row(optimize_steps, "tol zero", lambda: optimize(tol=0.0), ValueError, r"tol must be > 0"),
    Row(optimize_steps, "tol NaN", lambda: optimize(tol=NAN), ValueError, r"tol must be finite"),
    Row(optimize_steps, "maxiter zero", lambda: optimize(maxiter=0), ValueError,
        r"maxiter must be >= 1"),
    Row(optimize_steps, "maxiter zero with one step", lambda: optimize(maxiter=0, nfe=1),
        ValueError, r"maxiter must be >= 1"),
    Row(optimize_steps, "n_samples zero", lambda: optimize(n_samples=0), ValueError,
        r"n_samples must be >= 1"),
    Row(optimize_steps, "n_heldout negative", lambda: optimize(n_heldout=-1), ValueError,
        r"n_heldout must be >= 1"),
    Row(optimize_steps, "x_heldout of the wrong dimension",
        lambda: optimize(x_heldout=np.zeros((4, 1))), ValueError,
        r"x_heldout must have shape \(n, 2\)"),
    Row(optimize_steps, "x_ref of the wrong shape",
        lambda: optimize(x_T=X, x_ref=np.zeros((3, 2))), ValueError,
        r"x_ref must have the shape of the starting points"),
    Row(optimize_steps, "x_ref NaN", lambda: optimize(x_T=X, x_ref=X * NAN), ValueError,
        r"x_ref must be finite"),
    Row(optimize_steps, "schedule a string", lambda: optimize(schedule="vp"), TypeError,
        r"schedule must be a noise schedule"),
    Row(optimize_steps, "progress not a bool", lambda: optimize(progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(optimize_steps, "unknown lte_solver", lambda: optimize(reference="lte", lte_solver="x"),
        ValueError, r"lte_solver must be one of"),
    Row(optimize_steps, "t_end > t_start", lambda: optimize(t_start=0.1, t_end=0.5), ValueError,
        r"t_start must be > t_end"),
    Row(optimize_steps, "rng a string", lambda: optimize(rng="seed"), TypeError, r"rng must be"),
    Row(optimize_steps, "exact reference without an exact model",
        lambda: optimize(model=_Fn(lambda x, t, kind: 0.0 * x)), ValueError,
        r"reference='exact' needs a model with exact_ode_solution"),
    Row(optimize_steps, "model returns NaN", lambda: optimize(model=NAN_MODEL, reference="lte"),
        NonFiniteError, r"model\.predict returned NaN/inf at step 0 of 4"),
    # ---------------------------------------------------------------- evaluate_steps
    Row(evaluate_steps, "increasing steps", lambda: evaluate(steps=[1e-3, 0.5, 1.0]),
        ValueError, r"steps must be non-increasing"),
    Row(evaluate_steps, "steps a scalar", lambda: evaluate(steps=0.5), ValueError,
        r"steps must be 1-dimensional"),
    Row(evaluate_steps, "steps NaN", lambda: evaluate(steps=[1.0, NAN]), ValueError,
        r"steps must be finite"),
    Row(evaluate_steps, "one step time", lambda: evaluate(steps=[1.0]), ValueError,
        r"steps must have at least 2"),
    Row(evaluate_steps, "x_T of the wrong dimension", lambda: evaluate(x_T=np.zeros((4, 3))),
        ValueError, r"x_T must have shape \(n, 2\)"),
    Row(evaluate_steps, "x_T NaN", lambda: evaluate(x_T=X * NAN), ValueError,
        r"x_T must be finite"),
    Row(evaluate_steps, "unknown reference", lambda: evaluate(reference="fid"), ValueError,
        r"reference must be one of"),
    Row(evaluate_steps, "refine one", lambda: evaluate(reference="lte", refine=1), ValueError,
        r"refine must be >= 2"),
    Row(evaluate_steps, "stochastic lte_solver",
        lambda: evaluate(reference="lte", lte_solver="dpmpp_2m_sde"), ValueError,
        r"lte_solver 'dpmpp_2m_sde' is stochastic"),
    Row(evaluate_steps, "stochastic solver", lambda: evaluate(solver="dpmpp_3m_sde"), ValueError,
        r"solver 'dpmpp_3m_sde' is stochastic"),
    Row(evaluate_steps, "schedule a string", lambda: evaluate(schedule="vp"), TypeError,
        r"schedule must be a noise schedule"),
    Row(evaluate_steps, "x_ref of the wrong shape", lambda: evaluate(x_ref=np.zeros((2, 2))),
        ValueError, r"x_ref must have the shape of the starting points"),
    Row(evaluate_steps, "nfe not matching the steps", lambda: evaluate(nfe=7), ValueError,
        r"nfe=7 does not match 4 steps"),
    Row(evaluate_steps, "model returns NaN", lambda: evaluate(model=NAN_MODEL), NonFiniteError,
        r"model\.predict returned NaN/inf at step 0 of 4 \(t = 1,"),
    # ---------------------------------------------------------------- StepOptimization
    Row(StepOptimization, "steps increasing",
        lambda: optimization(steps=np.array([1e-3, 0.3, 1.0])), ValueError,
        r"steps must be strictly decreasing"),
    Row(StepOptimization, "initial_steps of another length",
        lambda: optimization(initial_steps=np.array([1.0, 1e-3])), ValueError,
        r"initial_steps must have the shape of steps"),
    Row(StepOptimization, "error negative", lambda: optimization(error=-0.1), ValueError,
        r"error must be >= 0"),
    Row(StepOptimization, "error_initial NaN", lambda: optimization(error_initial=NAN),
        ValueError, r"error_initial must be finite"),
    Row(StepOptimization, "only one held-out error", lambda: optimization(heldout_error=None),
        ValueError, r"heldout_error and heldout_error_initial must both be given"),
    Row(StepOptimization, "history NaN", lambda: optimization(history=np.array([0.1, NAN])),
        ValueError, r"history must hold non-negative errors"),
    Row(StepOptimization, "unknown solver", lambda: optimization(solver="rk4"), ValueError,
        r"solver must be one of"),
    Row(StepOptimization, "nfe zero", lambda: optimization(nfe=0), ValueError,
        r"nfe must be >= 1"),
    Row(StepOptimization, "unknown reference", lambda: optimization(reference="fid"),
        ValueError, r"reference must be one of"),
    Row(StepOptimization, "unknown method", lambda: optimization(method="BFGS"), ValueError,
        r"method must be one of"),
    Row(StepOptimization, "n_evals not len(history)", lambda: optimization(n_evals=5),
        ValueError, r"n_evals must equal len\(history\) = 2"),
    Row(StepOptimization, "success not a bool", lambda: optimization(success="yes"), TypeError,
        r"success must be a bool"),
    Row(StepOptimization, "lambdas of an unknown grid",
        lambda: good_optimization().lambdas(VP, "final"), ValueError, r"which must be one of"),
    Row(StepOptimization, "lambdas schedule a string", lambda: good_optimization().lambdas("vp"),
        TypeError, r"schedule must be a noise schedule"),
    Row(StepOptimization, "plot unknown kind", lambda: good_optimization().plot(kind="bar"),
        ValueError, r"kind must be one of"),
    # ---------------------------------------------------------------- make_dataset
    Row(make_dataset, "unknown name", lambda: make_dataset("moons", 10), ValueError,
        r"name must be one of"),
    Row(make_dataset, "name not a string", lambda: make_dataset(3, 10), TypeError,
        r"name must be a string"),
    Row(make_dataset, "n negative", lambda: make_dataset("spirals", -1), ValueError,
        r"n must be >= 0"),
    Row(make_dataset, "n a float", lambda: make_dataset("spirals", 2.5), TypeError,
        r"n must be an integer"),
    Row(make_dataset, "n NaN", lambda: make_dataset("spirals", NAN), TypeError,
        r"n must be an integer"),
    Row(make_dataset, "rng a string", lambda: make_dataset("spirals", 10, "seed"), TypeError,
        r"rng must be"),
    Row(make_dataset, "option of another data set", lambda: make_dataset("spirals", 10, std=0.1),
        TypeError, r"unexpected option.*'spirals'"),
    Row(make_dataset, "return_labels an int", lambda: make_dataset("rings", 10, return_labels=1),
        TypeError, r"return_labels must be a bool"),
    Row(make_dataset, "std zero", lambda: make_dataset("gaussian_mixture", 10, std=0.0),
        ValueError, r"std must be > 0"),
    Row(make_dataset, "radius NaN", lambda: make_dataset("gaussian_mixture", 10, radius=NAN),
        ValueError, r"radius must be finite"),
    Row(make_dataset, "noise negative", lambda: make_dataset("two_moons", 10, noise=-0.1),
        ValueError, r"noise must be >= 0"),
    Row(make_dataset, "turns negative", lambda: make_dataset("spirals", 10, turns=-1.0),
        ValueError, r"turns must be > 0"),
    Row(make_dataset, "board size zero", lambda: make_dataset("checkerboard", 10, size=0),
        ValueError, r"size must be >= 1"),
    Row(make_dataset, "n_rings zero", lambda: make_dataset("rings", 10, n_rings=0), ValueError,
        r"n_rings must be >= 1"),
    # ---------------------------------------------------------------- gaussian_mixture_model
    Row(gaussian_mixture_model, "std negative", lambda: gaussian_mixture_model(std=-1.0),
        ValueError, r"std must be > 0"),
    Row(gaussian_mixture_model, "n_components a float",
        lambda: gaussian_mixture_model(n_components=2.5), TypeError,
        r"n_components must be an integer"),
    Row(gaussian_mixture_model, "n_components zero",
        lambda: gaussian_mixture_model(n_components=0), ValueError,
        r"n_components must be >= 1"),
    Row(gaussian_mixture_model, "radius inf", lambda: gaussian_mixture_model(radius=INF),
        ValueError, r"radius must be finite"),
    # ---------------------------------------------------------------- backend
    Row(backend.get_namespace, "None", lambda: backend.get_namespace(None), TypeError,
        r"x must be a NumPy array, torch tensor or array-like"),
    Row(backend.get_namespace, "a string", lambda: backend.get_namespace("abc"), TypeError,
        r"x must be a NumPy array"),
    # is_torch answers for any object; the only bad call is one without the argument
    Row(backend.is_torch, "x missing", lambda: backend.is_torch(), TypeError,
        r"missing 1 required positional argument: 'x'"),
    Row(backend.as_float_array, "name not a string", lambda: backend.as_float_array(3, X),
        TypeError, r"name must be a string"),
    Row(backend.as_float_array, "x None", lambda: backend.as_float_array("x_T", None), TypeError,
        r"x_T must be a NumPy array"),
    Row(backend.as_float_array, "ragged list", lambda: backend.as_float_array("x", [[1], [1, 2]]),
        TypeError, r"x must be a NumPy array or torch tensor of floats"),
    Row(backend.as_float_array, "complex",
        lambda: backend.as_float_array("x", np.zeros(2, dtype=np.complex128)), TypeError,
        r"x must have dtype float32 or float64, got complex128"),
    Row(backend.as_float_array, "inf", lambda: backend.as_float_array("y", [1.0, INF]),
        ValueError, r"y must be finite"),
    Row(backend.as_float_array, "torch int64",
        torch_call(lambda torch: backend.as_float_array("x_T", torch.zeros(3, dtype=torch.int64))),
        TypeError, r"x_T must have dtype float32 or float64, got int64"),
    Row(backend.as_float_array, "torch NaN",
        torch_call(lambda torch: backend.as_float_array("x_T", torch.full((2,), NAN))),
        ValueError, r"x_T must be finite"),
    Row(backend.to_numpy, "None", lambda: backend.to_numpy(None), TypeError,
        r"x must be a NumPy array"),
    Row(backend.to_numpy, "ragged list", lambda: backend.to_numpy([[1.0], [1.0, 2.0]]),
        TypeError, r"x must be an array of numbers"),
    Row(backend.to_numpy, "objects", lambda: backend.to_numpy([object()]), TypeError,
        r"x must be an array of numbers"),
    Row(backend.NumpyNamespace, "max over a missing axis",
        lambda: backend.NumpyNamespace.max(np.zeros(3), axis=2), ValueError, r"axis 2"),
    Row(backend.NumpyNamespace, "sum over a missing axis",
        lambda: backend.NumpyNamespace.sum(np.zeros(3), axis=-3), ValueError, r"axis -3"),
    Row(backend.TorchNamespace, "not the torch module", lambda: backend.TorchNamespace(np),
        TypeError, r"torch_module must be the torch module"),
    Row(backend.TorchNamespace, "None", lambda: backend.TorchNamespace(None), TypeError,
        r"torch_module must be the torch module"),
]

NN_ROWS = [
    # ---------------------------------------------------------------- MLPConfig
    Row(nn.MLPConfig, "dim zero", lambda: nn.MLPConfig(dim=0), ValueError, r"dim must be >= 1"),
    Row(nn.MLPConfig, "width negative", lambda: nn.MLPConfig(width=-1), ValueError,
        r"width must be >= 1"),
    Row(nn.MLPConfig, "depth zero", lambda: nn.MLPConfig(depth=0), ValueError,
        r"depth must be >= 1"),
    Row(nn.MLPConfig, "n_freqs too many", lambda: nn.MLPConfig(n_freqs=31), ValueError,
        r"n_freqs must be <= 30"),
    Row(nn.MLPConfig, "n_freqs a float", lambda: nn.MLPConfig(n_freqs=2.5), TypeError,
        r"n_freqs must be an integer"),
    Row(nn.MLPConfig, "unknown target", lambda: nn.MLPConfig(target="score"), ValueError,
        r"target must be one of"),
    Row(nn.MLPConfig, "unknown time_feature", lambda: nn.MLPConfig(time_feature="s"), ValueError,
        r"time_feature must be one of"),
    Row(nn.MLPConfig, "sigma_data zero", lambda: nn.MLPConfig(sigma_data=0.0), ValueError,
        r"sigma_data must be > 0"),
    Row(nn.MLPConfig, "sigma_data NaN", lambda: nn.MLPConfig(sigma_data=NAN), ValueError,
        r"sigma_data must be finite"),
    # ---------------------------------------------------------------- MLPModel
    Row(nn.MLPModel, "network None",
        lambda: nn.MLPModel(None, VP, nn.MLPConfig()), TypeError,
        r"network must be a torch\.nn\.Module"),
    Row(nn.MLPModel, "schedule a string",
        lambda: nn.MLPModel(mlp().network, "vp", mlp().config), TypeError,
        r"schedule must be a VPSchedule"),
    Row(nn.MLPModel, "config a dict",
        lambda: nn.MLPModel(mlp().network, VP, {"width": 8}), TypeError,
        r"config must be an MLPConfig"),
    Row(nn.MLPModel, "history 2-D",
        lambda: nn.MLPModel(mlp().network, VP, mlp().config, history=np.zeros((2, 2))),
        ValueError, r"history must be 1-dimensional"),
    Row(nn.MLPModel, "info a list",
        lambda: nn.MLPModel(mlp().network, VP, mlp().config, info=[1]), TypeError,
        r"info must be a dict"),
    Row(nn.MLPModel, "predict unknown kind", lambda: mlp().predict(X, 0.5, "noise"), ValueError,
        r"kind must be one of"),
    Row(nn.MLPModel, "predict x of the wrong dimension",
        lambda: mlp().predict(np.zeros((4, 3)), 0.5), ValueError,
        r"x must have shape \(\.\.\., 2\)"),
    Row(nn.MLPModel, "predict t outside the schedule", lambda: mlp().predict(X, 1.5), ValueError,
        r"t must lie in"),
    Row(nn.MLPModel, "predict t NaN", lambda: mlp().predict(X, NAN), ValueError,
        r"t must not be NaN"),
    Row(nn.MLPModel, "predict x complex", lambda: mlp().predict(X.astype(complex), 0.5),
        TypeError, r"x must have dtype float32 or float64"),
    Row(nn.MLPModel, "predict x an integer tensor",
        torch_call(lambda torch: mlp().predict(torch.zeros(4, 2, dtype=torch.int64), 0.5)),
        TypeError, r"x must have dtype float32 or float64, got torch\.int64"),
    Row(nn.MLPModel, "predict t not broadcastable", lambda: mlp().predict(X, np.full(3, 0.5)),
        ValueError, r"t of shape \(3,\) does not broadcast"),
    Row(nn.MLPModel, "predict score at sigma = 0", lambda: mlp().predict(X, 0.0, "score"),
        ValueError, r"kind='score' is undefined for a 'eps' model at t=0"),
    Row(nn.MLPModel, "prior_sample n negative", lambda: mlp().prior_sample(-1), ValueError,
        r"n must be >= 0"),
    Row(nn.MLPModel, "prior_sample integer dtype",
        lambda: mlp().prior_sample(3, dtype=np.int64), TypeError,
        r"dtype must be float32 or float64"),
    Row(nn.MLPModel, "prior_sample t_start outside the schedule",
        lambda: mlp().prior_sample(3, t_start=2.0), ValueError, r"t_start must lie in"),
    Row(nn.MLPModel, "sample unknown solver", lambda: mlp().sample(3, solver="rk4", nfe=4),
        ValueError, r"solver must be one of"),
    Row(nn.MLPModel, "sample nfe zero", lambda: mlp().sample(3, solver="ddim", nfe=0),
        ValueError, r"nfe must be >= 1"),
    Row(nn.MLPModel, "sample with a diverged network (NaN weights)",
        lambda: nan_mlp().sample(3, solver="dpmpp_2m", nfe=6, rng=0), NonFiniteError,
        r"model\.predict returned NaN/inf at step 0 of 6 \(t = 1,"),
    Row(nn.MLPModel, "load a foreign file", load_foreign, ValueError,
        r"is not a saved sciflow MLPModel"),
    # ---------------------------------------------------------------- train
    Row(nn.train, "data identically zero", lambda: train(data=np.zeros((10, 2))), ValueError,
        r"data must not be identically zero"),
    Row(nn.train, "data 1-D", lambda: train(data=np.ones(10)), ValueError,
        r"data must have shape \(n, d\)"),
    Row(nn.train, "data with one point", lambda: train(data=np.ones((1, 2))), ValueError,
        r"data must have at least 2 points"),
    Row(nn.train, "data inf", lambda: train(data=np.full((10, 2), INF)), ValueError,
        r"data must be finite"),
    Row(nn.train, "data strings", lambda: train(data=[["a", "b"]]), TypeError,
        r"data must be an array of numbers"),
    Row(nn.train, "schedule a string", lambda: train(schedule="vp"), TypeError,
        r"schedule must be a VPSchedule"),
    Row(nn.train, "unknown target", lambda: train(target="score"), ValueError,
        r"target must be one of"),
    Row(nn.train, "steps zero", lambda: train(steps=0), ValueError, r"steps must be >= 1"),
    Row(nn.train, "batch_size zero", lambda: train(batch_size=0), ValueError,
        r"batch_size must be >= 1"),
    Row(nn.train, "lr negative", lambda: train(lr=-1.0), ValueError, r"lr must be > 0"),
    Row(nn.train, "warmup negative", lambda: train(warmup=-1), ValueError,
        r"warmup must be >= 0"),
    Row(nn.train, "weight_decay negative", lambda: train(weight_decay=-1e-3), ValueError,
        r"weight_decay must be >= 0"),
    Row(nn.train, "ema_decay one", lambda: train(ema_decay=1.0), ValueError,
        r"ema_decay must be < 1"),
    Row(nn.train, "width zero", lambda: train(width=0), ValueError, r"width must be >= 1"),
    Row(nn.train, "n_freqs too many", lambda: train(n_freqs=31), ValueError,
        r"n_freqs must be <= 30"),
    Row(nn.train, "unknown time_feature", lambda: train(time_feature="s"), ValueError,
        r"time_feature must be one of"),
    Row(nn.train, "t_sampler not callable", lambda: train(t_sampler=3), TypeError,
        r"t_sampler must be callable"),
    Row(nn.train, "t_sampler outside the schedule",
        lambda: train(t_sampler=lambda n, r: np.full(n, 2.0)), ValueError,
        r"t \(from t_sampler\) must lie in"),
    Row(nn.train, "t_sampler of the wrong length",
        lambda: train(t_sampler=lambda n, r: np.full(n + 1, 0.5)), ValueError,
        r"t_sampler must return 4 times"),
    Row(nn.train, "progress not a bool", lambda: train(progress="yes"), TypeError,
        r"progress must be a bool"),
    Row(nn.train, "num_threads zero", lambda: train(num_threads=0), ValueError,
        r"num_threads must be >= 1"),
    Row(nn.train, "rng a string", lambda: train(rng="seed"), TypeError, r"rng must be"),
]

# rows of the newer modules live in their own files
ROWS += (_mixtures_rows.ROWS + _search_rows.ROWS + _skipping_rows.ROWS + _bridges_rows.ROWS
         + _pyramid_rows.ROWS + _inversion_rows.ROWS + _terminal_snr_rows.ROWS
         + _posterior_rows.ROWS + _guidance_rows.ROWS + _dpmv3_rows.ROWS)

if HAS_TORCH:
    ROWS += NN_ROWS
    test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.sampling", ROWS)
else:  # pragma: no cover - CI installs torch
    ROWS = [r for r in ROWS if not getattr(r.call, "needs_torch", False)]
    test_bad_input, test_every_public_name_has_a_row = make_tests(
        "sciflow.sampling", ROWS, skip_modules=("nn",))


def test_non_finite_error_carries_the_step():
    """The exception's attributes locate the failure as its message does."""
    with pytest.raises(NonFiniteError) as info:
        run(model=INF_LATE, solver="ddim")
    err = info.value
    assert err.step == 4 and err.nfe == 5
    assert err.t == pytest.approx(float(VP.timesteps(10)[4]), rel=1e-15)
    assert isinstance(err, ValueError) and isinstance(err, FloatingPointError)
