"""Bad-input rows of ``sciflow.sampling.bridges`` (merged into the sampling table)."""

import numpy as np

from sciflow.sampling import GaussianMixture
from sciflow.sampling.bridges import BridgeResult, BrownianBridge
from tests._bad_input import Row

_G0 = GaussianMixture([1.0], [[0.0, 0.0]], [np.eye(2)])
_G1 = GaussianMixture([1.0], [[1.0, 0.0]], [0.5 * np.eye(2)])
_G3 = GaussianMixture([1.0], [[0.0, 0.0, 0.0]], [np.eye(3)])
_MIX = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), np.eye(2)])
_X = np.zeros((4, 2))


def _br(sigma=0.5, p1=_G1):
    return BrownianBridge(_G0, p1, sigma)


def _result(**kw):
    args = {"x": _X, "t": np.linspace(0, 1, 3), "nfe": 2, "method": "euler"}
    args.update(kw)
    return BridgeResult(**args)


ROWS = [
    Row(BrownianBridge, "p0 not a mixture", lambda: BrownianBridge(np.zeros(2), _G1), TypeError,
        r"p0 must be a GaussianMixture"),
    Row(BrownianBridge, "dimensions differ", lambda: BrownianBridge(_G0, _G3), ValueError,
        r"p1 must have the dimension of p0"),
    Row(BrownianBridge, "negative sigma", lambda: _br(sigma=-1.0), ValueError,
        r"sigma must be >= 0"),
    Row(BrownianBridge, "NaN sigma", lambda: _br(sigma=float("nan")), ValueError,
        r"sigma must be finite"),
    Row(BrownianBridge, "velocity at t > 1", lambda: _br().velocity(_X, 1.5), ValueError,
        r"t must lie in \[0, 1\]"),
    Row(BrownianBridge, "score of x with wrong dimension", lambda: _br().score(np.zeros((4, 3)),
        0.5), ValueError, r"x must have shape \(n, 2\)"),
    Row(BrownianBridge, "NaN in x", lambda: _br().velocity(np.full((2, 2), np.nan), 0.5),
        ValueError, r"x must be finite"),
    Row(BrownianBridge, "marginal at a string time", lambda: _br().marginal("0.5"), TypeError,
        r"t must be a real number"),
    Row(BrownianBridge, "unknown method", lambda: _br().transport(_X, method="rk45"),
        ValueError, r"method must be one of"),
    Row(BrownianBridge, "nfe not a multiple of the stages",
        lambda: _br().transport(_X, method="rk4", nfe=6), ValueError,
        r"nfe must be a multiple of 4"),
    Row(BrownianBridge, "zero nfe", lambda: _br().transport(_X, nfe=0), ValueError,
        r"nfe must be >= 1"),
    Row(BrownianBridge, "t_end equal to t_start",
        lambda: _br().transport(_X, t_start=0.5, t_end=0.5), ValueError,
        r"t_end must differ from t_start"),
    Row(BrownianBridge, "SDE without rng",
        lambda: _br().transport(_X, method="euler_maruyama", nfe=4), ValueError,
        r"rng must be given"),
    Row(BrownianBridge, "eps with an ODE method", lambda: _br().transport(_X, eps=0.1),
        ValueError, r"eps is only used by method 'euler_maruyama'"),
    Row(BrownianBridge, "negative SDE eps",
        lambda: _br().transport(_X, method="euler_maruyama", nfe=4, rng=0, eps=-1.0),
        ValueError, r"eps must be >= 0"),
    Row(BrownianBridge, "flow map of mixtures", lambda: BrownianBridge(_MIX, _G1)
        .gaussian_flow_map(), ValueError, r"gaussian_flow_map needs one-component"),
    Row(BrownianBridge, "flow map method", lambda: _br().gaussian_flow_map(method="exact"),
        ValueError, r"method must be one of"),
    Row(BrownianBridge, "negative sample count", lambda: _br().sample_marginal(-1, 0.5),
        ValueError, r"n must be >= 0"),
    Row(BridgeResult, "x 1-D", lambda: _result(x=np.zeros(3)), ValueError,
        r"x must be 2-dimensional"),
    Row(BridgeResult, "negative nfe", lambda: _result(nfe=-1), ValueError, r"nfe must be >= 0"),
    Row(BridgeResult, "unknown method", lambda: _result(method="midpoint"), ValueError,
        r"method must be one of"),
    Row(BridgeResult, "trajectory of the wrong shape",
        lambda: _result(trajectory=np.zeros((2, 4, 2))), ValueError,
        r"trajectory must have shape"),
]
