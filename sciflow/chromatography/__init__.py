"""Gas-chromatography column model (after Cabrera-Codony, Valverde, Born, Noreldin & Myers 2024).

Mass balance with linear adsorption kinetics in a capillary column, single or multi-component,
constant or compressible-gas velocity; closed-form (Thomas), Laplace-domain and finite-volume
solutions (``simulate(..., method="exact"|"laplace"|"fd")``); fits of (k_a, k_d) per analyte
to measured chromatograms (``fit``, ``fit_many``).
"""

from .fit import FitResult, fit, fit_many
from .model import Analyte, Chromatogram, Column, Moments, moments
from .simulate import simulate

__all__ = ["Column", "Analyte", "Chromatogram", "Moments", "moments", "simulate", "fit",
           "fit_many", "FitResult"]
