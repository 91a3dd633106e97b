"""Multiplicative (geometric-Brownian-motion) diffusion (Shetty, Prasath & Seelamantula 2025).

Positive data are noised by ``dX = mu X dt + sigma X dW``; in log space this is an additive,
variance-exploding diffusion, so the exact model (:class:`LogNormalMixture`) and the
probability-flow sampler reuse :mod:`sciflow.sampling`.

* :mod:`~sciflow.multiplicative.gbm` — :class:`GBM` (exact law, scores), :class:`GBMSchedule`,
  :class:`LogNormalMixture` and its exact noised marginal.
"""

from .gbm import GBM, BoundLogNormalMixture, GBMSchedule, LogNormalMixture

__all__ = ["GBM", "GBMSchedule", "LogNormalMixture", "BoundLogNormalMixture"]
