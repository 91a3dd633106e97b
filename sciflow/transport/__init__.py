"""Discrete-ordinates (S_N) transport in 1-D slabs with DSA and Krylov acceleration.

``solve`` (fixed source: SI, DSA, GMRES, GMRES+DSA), ``k_eigenvalue`` (power iteration),
``fourier`` (Fourier analysis of SI and DSA), on ``Slab``s of ``Region``s of ``Material``s.
"""

from . import fourier
from .eigen import EigenSolution, k_eigenvalue
from .iterate import TransportSolution, solve
from .problem import Material, Region, Slab
from .quadrature import gauss_legendre

__all__ = ["Material", "Region", "Slab", "gauss_legendre", "solve", "TransportSolution",
           "k_eigenvalue", "EigenSolution", "fourier"]
