"""Bad-input rows of ``sciflow.sampling.search`` (merged into the sampling table)."""

import functools

import numpy as np

from sciflow.sampling import GaussianMixture, VPSchedule
from sciflow.sampling.search import SolverSearch, StepChoice, sample_plan, search_solver_schedule
from tests._bad_input import Row

VP = VPSchedule()
X = np.random.default_rng(0).standard_normal((4, 2))


@functools.cache
def model():
    return GaussianMixture([0.5, 0.5], [[1.0, 0.0], [-1.0, 0.5]],
                           np.stack([0.1 * np.eye(2), 0.05 * np.eye(2)])).bind(VP)


def search(**kw):
    args = {"nfe": 3, "rng": 0, "max_evaluations": 6}
    args.update(kw)
    return search_solver_schedule(args.pop("model", model()), args.pop("schedule", VP),
                                  args.pop("x_T", X), args.pop("reference", None), **args)


def plan(**kw):
    args = {"steps": VP.timesteps(3), "choices": ["ms1", "ms2-x0", "ms1"]}
    args.update(kw)
    return sample_plan(args.pop("model", model()), args.pop("x_T", X),
                       args.pop("schedule", VP), args.pop("steps"), args.pop("choices"), **args)


def result(**kw):
    st = VP.timesteps(2)
    fields = {"steps": st, "choices": ("ms1", "ms2-x0"), "initial_steps": st,
              "initial_choices": ("ms1", "ms1"), "error": 0.1, "error_initial": 0.2,
              "history": np.array([0.2, 0.1]), "history_cost": np.array([2.0, 4.0]),
              "cost": 4, "nfe": 2}
    fields.update(kw)
    return SolverSearch(**fields)


def _search_torch_x():
    import torch

    return search(x_T=torch.zeros(4, 2, dtype=torch.float64))


_search_torch_x.needs_torch = True  # left out of the table where torch is not installed


ROWS = [
    Row(StepChoice, "unknown kind", lambda: StepChoice("adaptive", 2), ValueError,
        r"kind must be one of"),
    Row(StepChoice, "order 4", lambda: StepChoice("multistep", 4), ValueError,
        r"order must be <= 3"),
    Row(StepChoice, "singlestep order 1", lambda: StepChoice("singlestep", 1), ValueError,
        r"order must be 2 or 3 for a singlestep"),
    Row(StepChoice, "unknown prediction", lambda: StepChoice("multistep", 2, "v"), ValueError,
        r"prediction must be one of"),
    Row(StepChoice, "parse a bad label", lambda: StepChoice.parse("rk4"), ValueError,
        r"label must look like"),
    Row(StepChoice, "parse a number", lambda: StepChoice.parse(3), TypeError,
        r"label must be a string"),
    Row(sample_plan, "too few choices", lambda: plan(choices=["ms1"]), ValueError,
        r"choices must have one entry per step \(3\)"),
    Row(sample_plan, "multistep order without history", lambda: plan(choices=["ms2-x0"] * 3),
        ValueError, r"choices\[0\] = ms2-x0 needs 1 earlier grid points"),
    Row(sample_plan, "steps increasing", lambda: plan(steps=[1e-3, 0.5, 1.0]), ValueError,
        r"steps must be strictly decreasing"),
    Row(sample_plan, "steps to t = 0", lambda: plan(steps=[1.0, 0.5, 0.1, 0.0]), ValueError,
        r"steps must have finite log-SNR"),
    Row(sample_plan, "model without predict", lambda: plan(model=object()), TypeError,
        r"model must have a predict"),
    Row(sample_plan, "x_T of the wrong dimension", lambda: plan(x_T=np.zeros((4, 3))),
        ValueError, r"x_T must have shape \(\.\.\., 2\)"),
    Row(search_solver_schedule, "nfe zero", lambda: search(nfe=0), ValueError,
        r"nfe must be >= 1"),
    Row(search_solver_schedule, "max_evaluations below nfe",
        lambda: search(max_evaluations=2), ValueError, r"max_evaluations must be >= 3"),
    Row(search_solver_schedule, "unknown init", lambda: search(init="heun"), ValueError,
        r"init must be one of"),
    Row(search_solver_schedule, "init outside the candidates",
        lambda: search(candidates=["ms1-eps"]), ValueError,
        r"init uses choices not among the candidates"),
    Row(search_solver_schedule, "candidates without a one-evaluation step",
        lambda: search(candidates=["ss2-x0"]), ValueError,
        r"candidates must include a one-evaluation"),
    Row(search_solver_schedule, "reference of the wrong shape",
        lambda: search(reference=np.zeros((3, 2))), ValueError,
        r"reference must have the shape of x_T"),
    Row(search_solver_schedule, "x_T a torch tensor", _search_torch_x, TypeError,
        r"x_T must be a NumPy array"),
    Row(search_solver_schedule, "t_end = 0 (infinite log-SNR)", lambda: search(t_end=0.0),
        ValueError, r"t_start and t_end must have finite log-SNR"),
    Row(search_solver_schedule, "rng a string", lambda: search(rng="seed"), TypeError,
        r"rng must be"),
    Row(SolverSearch, "error above error_initial", lambda: result(error=0.3), ValueError,
        r"error must be <= error_initial"),
    Row(SolverSearch, "choices not costing nfe", lambda: result(choices=("ms1", "ss2-x0")),
        ValueError, r"choices must cost nfe = 2"),
    Row(SolverSearch, "cost not the last history cost", lambda: result(cost=5), ValueError,
        r"cost must equal history_cost\[-1\] = 4"),
    Row(SolverSearch, "plot unknown kind", lambda: result().plot(kind="bar"), ValueError,
        r"kind must be one of"),
    Row(SolverSearch, "lambdas schedule a string", lambda: result().lambdas("vp"), TypeError,
        r"schedule must be a noise schedule"),
]
