"""Bad-input rows of ``sciflow.sampling.pyramid`` (merged into the sampling table). None needs
torch: every call fails in validation before torch would be imported."""

import numpy as np

from sciflow.sampling.pyramid import (
    DigitScorer,
    PyramidFlowModel,
    decompose,
    matched_width,
    project_detail,
    reconstruct,
    train,
)
from tests._bad_input import Row

_IMG = np.zeros((5, 8, 8))
_LOW = np.zeros((5, 4, 4))
_Y = np.arange(5)


def _model(**kw):
    args = {"network": None, "kind": "pyramid", "mean": np.zeros(80), "scales": [1.0, 0.5]}
    args.update(kw)
    return PyramidFlowModel(args.pop("network"), args.pop("kind"), args.pop("mean"),
                            args.pop("scales"))


ROWS = [
    Row(decompose, "7x7 images", lambda: decompose(np.zeros((2, 7, 7))), ValueError,
        r"images must have shape \(n, 8, 8\)"),
    Row(decompose, "NaN pixel", lambda: decompose(np.full((1, 8, 8), np.nan)), ValueError,
        r"images must be finite"),
    Row(decompose, "strings", lambda: decompose([["a"]]), TypeError, r"images must be array"),
    Row(reconstruct, "low 8x8", lambda: reconstruct(_IMG, _IMG), ValueError,
        r"low must have shape \(n, 4, 4\)"),
    Row(reconstruct, "detail 4x4", lambda: reconstruct(_LOW, _LOW), ValueError,
        r"detail must have shape \(n, 8, 8\)"),
    Row(reconstruct, "counts differ", lambda: reconstruct(_LOW, _IMG[:3]), ValueError,
        r"detail must hold 5 images like low"),
    Row(project_detail, "1-D", lambda: project_detail(np.zeros(64 * 2 + 1)), ValueError,
        r"detail must have shape"),
    Row(project_detail, "inf", lambda: project_detail(np.full((1, 64), np.inf)), ValueError,
        r"detail must be finite"),
    Row(project_detail, "None", lambda: project_detail(None), (TypeError, ValueError),
        r"detail must"),
    Row(train, "unknown kind", lambda: train(_IMG, kind="wavelet"), ValueError,
        r"kind must be one of"),
    Row(train, "one image", lambda: train(_IMG[:1]), ValueError,
        r"images must hold at least 2 images"),
    Row(train, "zero steps", lambda: train(_IMG, steps=0), ValueError, r"steps must be >= 1"),
    Row(train, "negative lr", lambda: train(_IMG, lr=-1e-3), ValueError, r"lr must be > 0"),
    Row(train, "float width", lambda: train(_IMG, width=32.0), TypeError,
        r"width must be an integer"),
    Row(train, "bad rng", lambda: train(_IMG, rng="seed"), TypeError, r"rng must be"),
    Row(PyramidFlowModel, "unknown kind", lambda: _model(kind="unet"), ValueError,
        r"kind must be one of"),
    Row(PyramidFlowModel, "mean of the plain size for the pyramid",
        lambda: _model(mean=np.zeros(64)), ValueError, r"mean must have shape \(80,\)"),
    Row(PyramidFlowModel, "zero scale", lambda: _model(scales=[1.0, 0.0]), ValueError,
        r"scales must be 2 positive"),
    Row(PyramidFlowModel, "network not callable", lambda: _model(network=3), TypeError,
        r"network must be a torch module"),
    Row(PyramidFlowModel, "sampling without a network", lambda: _model().sample(2), ValueError,
        r"has no network"),
    Row(PyramidFlowModel, "odd nfe for Heun", lambda: _model(kind="plain", mean=np.zeros(64),
        scales=[1.0]).sample(2, nfe=5, solver="heun"), ValueError, r"nfe must be even"),
    Row(PyramidFlowModel, "pyramid nfe below one step per stage",
        lambda: _model().sample(2, nfe=1), ValueError, r"nfe must be >= 2"),
    Row(PyramidFlowModel, "coarse_fraction 1", lambda: _model().sample(2, coarse_fraction=1.0),
        ValueError, r"coarse_fraction must lie in"),
    Row(PyramidFlowModel, "unknown solver", lambda: _model().sample(2, solver="rk4"),
        ValueError, r"solver must be one of"),
    Row(matched_width, "unknown kind", lambda: matched_width("unet", "plain", 64), ValueError,
        r"kind must be one of"),
    Row(matched_width, "zero width", lambda: matched_width("plain", "pyramid", 0), ValueError,
        r"other_width must be >= 1"),
    Row(matched_width, "float depth", lambda: matched_width("plain", "pyramid", 64, depth=2.5),
        TypeError, r"depth must be an integer"),
    Row(DigitScorer, "labels of the wrong length", lambda: DigitScorer(_IMG, _Y[:3], _IMG),
        ValueError, r"y_train must have shape \(5,\)"),
    Row(DigitScorer, "reference 4x4", lambda: DigitScorer(_IMG, _Y, _LOW), ValueError,
        r"x_ref must have shape"),
    Row(DigitScorer, "zero projections", lambda: DigitScorer(_IMG, _Y, _IMG, n_projections=0),
        ValueError, r"n_projections must be >= 1"),
    Row(DigitScorer, "NaN training image", lambda: DigitScorer(np.full((5, 8, 8), np.nan), _Y,
        _IMG), ValueError, r"x_train must be finite"),
]
