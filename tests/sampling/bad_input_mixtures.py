"""Bad-input rows of ``sciflow.sampling.mixtures`` (merged into the sampling table)."""

import math

from sciflow.sampling.mixtures import eight_gaussians, mixture_3d
from tests._bad_input import Row

ROWS = [
    Row(eight_gaussians, "negative radius", lambda: eight_gaussians(radius=-1.0), ValueError,
        r"radius must be > 0"),
    Row(eight_gaussians, "zero std", lambda: eight_gaussians(std=0.0), ValueError,
        r"std must be > 0"),
    Row(eight_gaussians, "offset of three numbers", lambda: eight_gaussians(offset=(1, 2, 3)),
        ValueError, r"offset must be two finite numbers"),
    Row(eight_gaussians, "NaN offset", lambda: eight_gaussians(offset=(math.nan, 0)),
        ValueError, r"offset must be two finite numbers"),
    Row(mixture_3d, "an argument", lambda: mixture_3d(1), TypeError, r"argument"),
    Row(mixture_3d, "a keyword", lambda: mixture_3d(dim=3), TypeError, r"argument"),
    Row(mixture_3d, "two arguments", lambda: mixture_3d(1, 2), TypeError, r"argument"),
]
