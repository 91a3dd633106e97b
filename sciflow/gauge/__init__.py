"""Gauge freedom, conservativity and intrinsic dimension of score fields (Horvat & Pfister 2024).

A vector field ``s = grad log p + r`` gives the exact marginals iff ``div(p r) = 0``; every field
in L2(p) splits orthogonally into ``grad phi`` (``div(p grad phi) = div(p s)``) and such a gauge
part ``r``.
"""

__all__: list[str] = []
