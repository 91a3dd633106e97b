"""Bad-input rows of ``sciflow.sampling.inversion`` (merged into the sampling table)."""

import numpy as np

from sciflow.sampling import VPSchedule
from sciflow.sampling.inversion import EncodeResult, encode, translate
from sciflow.sampling.mixtures import eight_gaussians
from tests._bad_input import Row

VP = VPSchedule()
M = eight_gaussians().bind(VP)
X = np.random.default_rng(0).standard_normal((4, 2))
T = np.array([1e-3, 0.5, 1.0])


def _res(**kw):
    args = {"x": X, "times": T, "trajectory": None, "orders": (1, 1), "nfe": 2,
            "nfe_plain": 2, "solver": "ddim"}
    args.update(kw)
    return EncodeResult(**args)


ROWS = [
    Row(encode, "unknown solver", lambda: encode(M, X, VP, solver="rk4", nfe=5), ValueError,
        r"solver must be one of"),
    Row(encode, "SDE solver", lambda: encode(M, X, VP, solver="dpmpp_2m_sde", nfe=5),
        ValueError, r"solver 'dpmpp_2m_sde' is stochastic"),
    Row(encode, "NaN in x_0", lambda: encode(M, np.full((2, 2), np.nan), VP, solver="ddim",
                                            nfe=5), ValueError, r"x_0 must be finite"),
    Row(encode, "wrong dimension", lambda: encode(M, np.zeros((2, 3)), VP, solver="ddim",
                                                 nfe=5), ValueError, r"x_0 must have shape"),
    Row(encode, "zero nfe", lambda: encode(M, X, VP, solver="ddim", nfe=0), ValueError,
        r"nfe must be >= 1"),
    Row(encode, "negative tol", lambda: encode(M, X, VP, solver="ddim", nfe=5, exact=True,
                                              tol=-1.0), ValueError, r"tol must be > 0"),
    Row(encode, "negative newton_max_dim",
        lambda: encode(M, X, VP, solver="ddim", nfe=5, exact=True, newton_max_dim=-1),
        ValueError, r"newton_max_dim must be >= 0"),
    Row(encode, "exact not a bool", lambda: encode(M, X, VP, solver="ddim", nfe=5, exact=1),
        TypeError, r"exact must be a bool"),
    Row(encode, "model without predict", lambda: encode(object(), X, VP, solver="ddim", nfe=5),
        TypeError, r"model must have a predict"),
    Row(encode, "increasing steps", lambda: encode(M, X, VP, solver="ddim", steps=T),
        ValueError, r"steps must be non-increasing"),
    Row(translate, "model_to without predict",
        lambda: translate(M, object(), X, VP, solver="ddim", nfe=5), TypeError,
        r"model_to must have a predict"),
    Row(translate, "unknown solver", lambda: translate(M, M, X, VP, solver="rk4", nfe=5),
        ValueError, r"solver must be one of"),
    Row(translate, "return_info not a bool",
        lambda: translate(M, M, X, VP, solver="ddim", nfe=5, return_info="yes"), TypeError,
        r"return_info must be a bool"),
    Row(EncodeResult, "unknown solver", lambda: _res(solver="rk4"), ValueError,
        r"solver must be one of"),
    Row(EncodeResult, "decreasing times", lambda: _res(times=T[::-1]), ValueError,
        r"times must be a non-decreasing"),
    Row(EncodeResult, "nfe_plain > nfe", lambda: _res(nfe_plain=5), ValueError,
        r"nfe_plain must be <= nfe"),
    Row(EncodeResult, "negative residual", lambda: _res(residual=-1.0), ValueError,
        r"residual must be >= 0"),
]
