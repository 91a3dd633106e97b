"""Gas-chromatography column model (after Cabrera-Codony, Valverde, Born, Noreldin & Myers 2024).

Mass balance with linear adsorption kinetics in a capillary column, single or multi-component,
constant or compressible-gas velocity; closed-form (Thomas), Laplace-domain and finite-volume
solutions; fits of (k_a, k_d) per analyte to measured chromatograms.
"""

from .model import Analyte, Chromatogram, Column, Moments, moments
from .simulate import simulate

__all__ = ["Column", "Analyte", "Chromatogram", "Moments", "moments", "simulate", "fit",
           "FitResult"]


def __getattr__(name):  # fit pulls in scipy.optimize; load on first use
    if name in ("fit", "FitResult"):
        from . import fit as _fit

        return getattr(_fit, name)
    raise AttributeError(name)
