"""Bad-input rows of ``sciflow.sampling.guidance`` (merged into the sampling table)."""

import math

import numpy as np

from sciflow.sampling import VPSchedule
from sciflow.sampling.guidance import (
    ClassifierFreeGuidance,
    ClassifierGuidance,
    class_probabilities,
    guidance_gap,
    tilted_density,
)
from sciflow.sampling.mixtures import eight_gaussians, mixture_3d
from tests._bad_input import Row

VP = VPSchedule()
MIX = eight_gaussians()
X = np.zeros((4, 2))

ROWS = [
    Row(class_probabilities, "mixture not a mixture",
        lambda: class_probabilities("gmm", X, 0.5, VP), TypeError,
        r"mixture must be a GaussianMixture"),
    Row(class_probabilities, "x of the wrong dimension",
        lambda: class_probabilities(MIX, np.zeros((3, 3)), 0.5, VP), ValueError,
        r"x must have shape \(\.\.\., 2\)"),
    Row(class_probabilities, "t outside the schedule",
        lambda: class_probabilities(MIX, X, 1.5, VP), ValueError, r"t must lie in"),
    Row(class_probabilities, "x NaN", lambda: class_probabilities(MIX, X + math.nan, 0.5, VP),
        ValueError, r"x must be finite"),
    Row(ClassifierGuidance, "label out of range", lambda: ClassifierGuidance(MIX, VP, 8, 1.0),
        ValueError, r"label must be <= 7"),
    Row(ClassifierGuidance, "scale negative", lambda: ClassifierGuidance(MIX, VP, 0, -1.0),
        ValueError, r"scale must be >= 0"),
    Row(ClassifierGuidance, "label a float", lambda: ClassifierGuidance(MIX, VP, 0.5, 1.0),
        TypeError, r"label must be an integer"),
    Row(ClassifierGuidance, "predict unknown kind",
        lambda: ClassifierGuidance(MIX, VP, 0, 1.0).predict(X, 0.5, "v"), ValueError,
        r"kind must be one of"),
    Row(ClassifierFreeGuidance, "weight NaN",
        lambda: ClassifierFreeGuidance(MIX, VP, 0, math.nan), ValueError,
        r"weight must be finite"),
    Row(ClassifierFreeGuidance, "schedule a string",
        lambda: ClassifierFreeGuidance(MIX, "vp", 0, 1.0), TypeError,
        r"schedule must be a VPSchedule"),
    Row(ClassifierFreeGuidance, "label negative",
        lambda: ClassifierFreeGuidance(MIX, VP, -1, 1.0), ValueError, r"label must be >= 0"),
    Row(ClassifierFreeGuidance, "predict x of the wrong dimension",
        lambda: ClassifierFreeGuidance(MIX, VP, 0, 1.0).predict(np.zeros((2, 3)), 0.5),
        ValueError, r"x must have shape \(\.\.\., 2\)"),
    Row(tilted_density, "3-D mixture", lambda: tilted_density(mixture_3d(), 0, 1.0), ValueError,
        r"mixture must be 2-dimensional"),
    Row(tilted_density, "gamma negative", lambda: tilted_density(MIX, 0, -1.0), ValueError,
        r"gamma must be >= 0"),
    Row(tilted_density, "n_grid too small", lambda: tilted_density(MIX, 0, 1.0, n_grid=4),
        ValueError, r"n_grid must be >= 16"),
    Row(tilted_density, "bounds reversed",
        lambda: tilted_density(MIX, 0, 1.0, bounds=((1, 0), (0, 1))), ValueError,
        r"bounds must be"),
    Row(guidance_gap, "unknown method",
        lambda: guidance_gap(MIX, 0, 1.0, VP, method="both"), ValueError,
        r"method must be 'cfg' or 'classifier'"),
    Row(guidance_gap, "weight negative", lambda: guidance_gap(MIX, 0, -0.5, VP), ValueError,
        r"weight must be >= 0"),
    Row(guidance_gap, "n one", lambda: guidance_gap(MIX, 0, 1.0, VP, n=1), ValueError,
        r"n must be >= 2"),
    Row(guidance_gap, "schedule None", lambda: guidance_gap(MIX, 0, 1.0, None), TypeError,
        r"schedule must be a VPSchedule"),
]
