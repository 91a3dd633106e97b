"""Gauge freedom, conservativity and intrinsic dimension of score fields (Horvat & Pfister 2024).

A vector field ``s = grad log p + r`` gives the exact marginals iff ``div(p r) = 0``; every field
in L2(p) splits orthogonally into ``grad phi`` (``div(p grad phi) = div(p s)``, no-flux
boundaries) and such a gauge part ``r``, so ``E|s|^2 = E|grad phi|^2 + E|r|^2``.

* :mod:`~sciflow.gauge.decompose` — :func:`decompose` (weighted Helmholtz–Hodge decomposition on
  1-/2-/3-D grids: conservative finite volumes, multigrid/AMG-preconditioned CG, direct or
  cosine-transform solvers), :func:`decompose_samples` (weak form in a basis, from samples),
  :func:`gauge_residual`.
* :mod:`~sciflow.gauge.conservativity` — Jacobian asymmetry (curl norm), gauge fraction
  ``E|r|^2/E|s|^2``, gauge defect of a field, the learned-field report.
* :mod:`~sciflow.gauge.counterexample` — the paper's counter-example: a Gaussian with the gauge
  field ``A grad log p`` (A antisymmetric) keeps the marginals of the probability-flow ODE while
  trajectories rotate; a non-gauge field breaks them.

Reference: C. Horvat and J.-P. Pfister, "On gauge freedom, conservativity and intrinsic
dimensionality estimation in diffusion models", ICLR 2024 (arXiv:2402.03845).
"""

from .conservativity import (
    GaugeDefect,
    JacobianAsymmetry,
    LearnedFieldReport,
    gauge_defect,
    gauge_fraction,
    jacobian_asymmetry,
    kde_mixture,
    learned_field_report,
)
from .counterexample import (
    CounterexampleResult,
    GaugedModel,
    flow_map,
    isotropic_rotation_angle,
    non_gauge_model,
    rotation_generator,
    run_counterexample,
    sliced_wasserstein,
    whitened_rotation,
)
from .decompose import (
    Decomposition,
    GaugeEnergy,
    GaugeResidual,
    SampleDecomposition,
    decompose,
    decompose_samples,
    gauge_residual,
)
from .dimension import (
    DimensionResult,
    SmoothedEmpiricalScore,
    intrinsic_dimension,
    smoothed_empirical_score,
)

__all__ = [
    "decompose", "decompose_samples", "gauge_residual", "Decomposition", "SampleDecomposition",
    "GaugeEnergy", "GaugeResidual",
    "jacobian_asymmetry", "JacobianAsymmetry", "gauge_fraction", "gauge_defect", "GaugeDefect",
    "kde_mixture", "learned_field_report", "LearnedFieldReport",
    "GaugedModel", "rotation_generator", "non_gauge_model", "flow_map", "sliced_wasserstein",
    "whitened_rotation", "isotropic_rotation_angle", "run_counterexample", "CounterexampleResult",
    "intrinsic_dimension", "smoothed_empirical_score", "SmoothedEmpiricalScore", "DimensionResult",
]
