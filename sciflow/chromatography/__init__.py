"""Gas-chromatography column model (after Cabrera-Codony, Valverde, Born, Noreldin & Myers 2024).

Mass balance with linear adsorption kinetics in a capillary column, single or multi-component,
constant or compressible-gas velocity; closed-form (Thomas), Laplace-domain and finite-volume
solutions (``simulate(..., method="exact"|"laplace"|"fd")``); fits of (k_a, k_d) per analyte
to measured chromatograms (``fit``, ``fit_many``).

Temperature- and pressure-programmed runs (:mod:`.programs`, :mod:`.thermo`): K-centric
retention parameters (``load_retention_database``), oven programs with thermal gradients,
pressure/flow programs and carrier gases, the retention/width predictor ``retention``;
``fit_retention_parameters`` (:mod:`.estimation`) and ``optimize_program`` (:mod:`.method`).
Inlet profiles (:mod:`.injection`) for ``fd``/``laplace``/``simulate``; competitive Langmuir
overload of several analytes by finite volumes (:mod:`.overload`).
"""

from .estimation import fit_retention_parameters
from .fit import FitResult, fit, fit_many
from .injection import (
    ExponentiallyModifiedGaussian,
    GaussianPulse,
    RectangularPulse,
    SampledInjection,
)
from .method import optimize_program
from .model import Analyte, Chromatogram, Column, Moments, moments
from .overload import (
    CompetitionThresholds,
    competition_threshold,
    outlet_response_fd_competitive,
    retention_shift,
)
from .programs import (
    FlowProgram,
    OvenProgram,
    PressureProgram,
    ProgrammedColumn,
    RetentionTable,
    ThermalGradient,
    retention,
    simulate_programmed,
)
from .simulate import simulate
from .thermo import KCentric, Solute, load_retention_database

__all__ = ["Column", "Analyte", "Chromatogram", "Moments", "moments", "simulate", "fit",
           "fit_many", "FitResult", "KCentric", "Solute", "load_retention_database",
           "OvenProgram", "ThermalGradient", "PressureProgram", "FlowProgram",
           "ProgrammedColumn", "RetentionTable", "retention", "simulate_programmed",
           "fit_retention_parameters",
           "optimize_program", "RectangularPulse", "GaussianPulse",
           "ExponentiallyModifiedGaussian", "SampledInjection", "outlet_response_fd_competitive",
           "retention_shift", "competition_threshold", "CompetitionThresholds"]
