"""Multiplicative (geometric-Brownian-motion) diffusion (Shetty, Prasath & Seelamantula 2025).

Positive data are noised by ``dX = mu X dt + sigma X dW``; in log space this is an additive,
variance-exploding diffusion, so the exact model (:class:`LogNormalMixture`) and the
probability-flow sampler reuse :mod:`sciflow.sampling`.

* :mod:`~sciflow.multiplicative.gbm` — :class:`GBM` (exact law, scores), :class:`GBMSchedule`,
  :class:`LogNormalMixture` and its exact noised marginal.
* :mod:`~sciflow.multiplicative.fokker_planck` — :func:`solve_fokker_planck` (1-D, conservative
  and positivity-preserving Scharfetter–Gummel finite volumes, TR-BDF2) and
  :func:`solve_fokker_planck_2d` (correlated noise).
"""

from .fokker_planck import (
    FokkerPlanck2DResult,
    FokkerPlanckResult,
    solve_fokker_planck,
    solve_fokker_planck_2d,
)
from .gbm import GBM, BoundLogNormalMixture, GBMSchedule, LogNormalMixture

__all__ = ["GBM", "GBMSchedule", "LogNormalMixture", "BoundLogNormalMixture",
           "solve_fokker_planck", "solve_fokker_planck_2d", "FokkerPlanckResult",
           "FokkerPlanck2DResult"]
