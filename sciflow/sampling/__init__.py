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

The research frontier, each idea judged exactly on analytic mixtures (issue 11):
:mod:`~sciflow.sampling.inversion` (``encode``: PF-ODE inversion, plain or exact),
:mod:`~sciflow.sampling.terminal_snr` (zero terminal SNR, One More Step; the scaled-linear
:class:`DiscreteSchedule` and :func:`rescale_zero_terminal_snr` in ``schedules``),
:mod:`~sciflow.sampling.dpmv3` (DPM-Solver-v3: ``sample(..., solver="dpm_solver_v3",
ems=empirical_model_statistics(...))``), :mod:`~sciflow.sampling.search` (per-step solver and
step search), :mod:`~sciflow.sampling.skipping` (stability-guided step skipping),
:mod:`~sciflow.sampling.posterior` (linear inverse problems: exact posterior, DPS, twisted
SMC), :mod:`~sciflow.sampling.guidance` (classifier and classifier-free guidance against the
tilted density), :mod:`~sciflow.sampling.bridges` (Brownian bridges between mixtures),
:mod:`~sciflow.sampling.pyramid` (Laplacian-pyramid flow matching on the digits; torch) and
:mod:`~sciflow.sampling.mixtures` (the reference mixtures).

A model is anything with ``predict(x, t, kind="eps"|"x0"|"score"|"velocity")`` (optionally
``dim`` and ``schedule`` attributes, which :func:`sample` checks). Importing this package does
not import torch.
"""

from .bridges import BrownianBridge
from .datasets import make_dataset
from .dpmv3 import EmpiricalModelStatistics, empirical_model_statistics
from .guidance import ClassifierFreeGuidance, ClassifierGuidance, guidance_gap
from .inversion import encode, translate
from .mixtures import eight_gaussians, mixture_3d
from .models import BoundGaussianMixture, GaussianMixture
from .optimize import StepOptimization, evaluate_steps, optimize_steps
from .posterior import LinearInverseProblem, dps_sample, exact_posterior, tds_sample
from .schedules import (
    SPACINGS,
    DiscreteSchedule,
    EDMSchedule,
    FlowSchedule,
    Schedule,
    VPSchedule,
    rescale_zero_terminal_snr,
)
from .search import search_solver_schedule
from .skipping import sample_skipping
from .solvers import SOLVERS, NonFiniteError, SampleResult, Scheme, sample
from .terminal_snr import one_more_step, terminal_snr_bias

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
    "DiscreteSchedule",
    "rescale_zero_terminal_snr",
    "encode",
    "translate",
    "one_more_step",
    "terminal_snr_bias",
    "empirical_model_statistics",
    "EmpiricalModelStatistics",
    "search_solver_schedule",
    "sample_skipping",
    "LinearInverseProblem",
    "exact_posterior",
    "dps_sample",
    "tds_sample",
    "ClassifierGuidance",
    "ClassifierFreeGuidance",
    "guidance_gap",
    "BrownianBridge",
    "eight_gaussians",
    "mixture_3d",
]
