"""Discrete-ordinates (S_N) transport in 1-D slabs with DSA and Krylov acceleration."""

from .problem import Material, Region, Slab
from .quadrature import gauss_legendre
from .iterate import TransportSolution, solve
from .eigen import EigenSolution, k_eigenvalue

__all__ = ["Material", "Region", "Slab", "gauss_legendre", "solve", "TransportSolution",
           "k_eigenvalue", "EigenSolution"]
