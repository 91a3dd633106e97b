"""Multiplicative (geometric-Brownian-motion) diffusion (Shetty, Prasath & Seelamantula 2025).

Positive data are noised by ``dX = mu X dt + sigma X dW``; in log space this is an additive,
variance-exploding diffusion, so the exact model (:class:`LogNormalMixture`) and the
probability-flow sampler reuse :mod:`sciflow.sampling`.

* :mod:`~sciflow.multiplicative.gbm` — :class:`GBM` (exact law, scores), :class:`GBMSchedule`,
  :class:`LogNormalMixture` and its exact noised marginal.
* :mod:`~sciflow.multiplicative.fokker_planck` — :func:`solve_fokker_planck` (1-D, conservative
  and positivity-preserving Scharfetter–Gummel finite volumes, TR-BDF2) and
  :func:`solve_fokker_planck_2d` (correlated noise).
* :mod:`~sciflow.multiplicative.losses` — multiplicative denoising/explicit score matching and
  Hyvärinen's (2007) non-negative score matching (NumPy and torch).
* :mod:`~sciflow.multiplicative.samplers` — :func:`dale_langevin` (sign-preserving),
  :func:`ambient_langevin`, and the log-space probability-flow ODE :func:`probability_flow`
  through :func:`sciflow.sampling.sample`.
* :mod:`~sciflow.multiplicative.nn` (torch) and :mod:`~sciflow.multiplicative.digits` — learned
  score networks on digits and their classifier-based evaluation; import them explicitly.
"""

from .fokker_planck import (
    FokkerPlanck2DResult,
    FokkerPlanckResult,
    solve_fokker_planck,
    solve_fokker_planck_2d,
)
from .gbm import GBM, BoundLogNormalMixture, GBMSchedule, LogNormalMixture
from .losses import (
    DSMMinimizer,
    dsm_minimizer,
    dsm_target,
    m_dsm,
    m_esm,
    nonnegative_score_matching,
)
from .samplers import (
    LangevinResult,
    LogSpaceModel,
    ambient_langevin,
    dale_langevin,
    lognormal_prior,
    probability_flow,
    time_grid,
)

__all__ = ["GBM", "GBMSchedule", "LogNormalMixture", "BoundLogNormalMixture",
           "solve_fokker_planck", "solve_fokker_planck_2d", "FokkerPlanckResult",
           "FokkerPlanck2DResult", "dale_langevin", "ambient_langevin", "probability_flow",
           "LogSpaceModel", "LangevinResult", "time_grid", "lognormal_prior", "m_dsm", "m_esm",
           "nonnegative_score_matching", "dsm_target", "dsm_minimizer", "DSMMinimizer"]
