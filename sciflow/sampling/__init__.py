"""Diffusion and flow samplers studied exactly: schedules, analytic models, ODE/SDE solvers.

* :mod:`~sciflow.sampling.schedules` — :class:`VPSchedule`, :class:`EDMSchedule`,
  :class:`FlowSchedule` (alpha, sigma, log-SNR and its inverse, time-step spacings).
* :mod:`~sciflow.sampling.models` — :class:`GaussianMixture` (exact noised density, score,
  eps/x0/velocity predictions, exact probability-flow ODE solution).
* :mod:`~sciflow.sampling.solvers` — :func:`sample` with DDIM, DPM-Solver-1/2/3,
  DPM-Solver++(2M/3M, SDE), UniPC, EDM Heun and Euler; a model output with NaN/inf raises
  :class:`NonFiniteError` naming the step and time.
* :mod:`~sciflow.sampling.backend` — NumPy by default, torch tensors when given one.
* :mod:`~sciflow.sampling.optimize` — :func:`optimize_steps`: time steps that minimise the exact
  error (analytic model) or a local-truncation-error proxy for an NFE budget.
* :mod:`~sciflow.sampling.datasets` — 2-D toy data sets (:func:`make_dataset`).
* :mod:`~sciflow.sampling.nn` — a small torch MLP score/velocity model (:func:`nn.train`,
  :class:`nn.MLPModel`); import it explicitly (``from sciflow.sampling import nn``), it needs
  the ``torch`` extra.

A model is anything with ``predict(x, t, kind="eps"|"x0"|"score"|"velocity")`` (optionally
``dim`` and ``schedule`` attributes, which :func:`sample` checks). Importing this package does
not import torch.
"""

from .datasets import make_dataset
from .models import BoundGaussianMixture, GaussianMixture
from .optimize import StepOptimization, evaluate_steps, optimize_steps
from .schedules import SPACINGS, EDMSchedule, FlowSchedule, Schedule, VPSchedule
from .solvers import SOLVERS, NonFiniteError, SampleResult, Scheme, sample

__all__ = [
    "VPSchedule",
    "EDMSchedule",
    "FlowSchedule",
    "Schedule",
    "SPACINGS",
    "GaussianMixture",
    "BoundGaussianMixture",
    "sample",
    "SampleResult",
    "Scheme",
    "SOLVERS",
    "NonFiniteError",
    "optimize_steps",
    "evaluate_steps",
    "StepOptimization",
    "make_dataset",
]
