"""Bad-input table of sciflow.gauge: every public function and class of ``decompose``,
``conservativity`` and ``counterexample`` x bad inputs -> a clear exception naming the offending
parameter (see ``tests/_bad_input.py``). The rows of ``dimension`` are added with that module.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from sciflow.gauge.conservativity import (
    GaugeDefect,
    JacobianAsymmetry,
    LearnedFieldReport,
    gauge_defect,
    gauge_fraction,
    jacobian_asymmetry,
    kde_mixture,
    learned_field_report,
)
from sciflow.gauge.counterexample import (
    VARIANTS,
    CounterexampleResult,
    GaugedModel,
    flow_map,
    isotropic_rotation_angle,
    non_gauge_model,
    rotation_generator,
    run_counterexample,
    sliced_wasserstein,
    whitened_rotation,
)
from sciflow.gauge.decompose import (
    Decomposition,
    GaugeEnergy,
    GaugeResidual,
    SampleDecomposition,
    decompose,
    decompose_samples,
    gauge_residual,
)
from sciflow.sampling import GaussianMixture, VPSchedule

from .._bad_input import Row, make_tests

NAN = float("nan")
VP = VPSchedule("linear")


def _centres(n, half=3.0):
    h = 2.0 * half / n
    return -half + h * (np.arange(n) + 0.5)


_X = _centres(8)
_GRID = (_X, _X)
_P = np.ones((8, 8))
_S = np.zeros((2, 8, 8))
V, T = ValueError, TypeError


def _dec():
    return decompose(np.ones((2, 8, 8)) * _X[:, None], _P, _GRID)


def _replace(**kw):
    return lambda: dataclasses.replace(_dec(), **kw)


def _samp():
    x = np.random.default_rng(0).standard_normal((50, 2))
    return decompose_samples(x, x, degree=2)




# ------------------------------------------------------------------ conservativity / counterexample
_PTS = np.random.default_rng(1).standard_normal((6, 2))


def _lin(x):
    return x @ np.array([[1.0, 0.5], [-0.5, 2.0]]).T


@functools.cache
def _gm():
    return GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [0.3 * np.eye(2)] * 2)


def _model():
    return _gm().bind(VP)


_AX = np.linspace(-3.0, 3.0, 12)
_G2 = (_AX, _AX)
_P2 = np.exp(-0.5 * (_AX[:, None] ** 2 + _AX[None, :] ** 2))
_F2 = np.stack([np.outer(_AX, np.ones(12)), np.outer(np.ones(12), _AX)])


def _asym(**kw):
    good = jacobian_asymmetry(_lin, _PTS)
    return lambda: dataclasses.replace(good, **kw)


def _defect(**kw):
    good = gauge_defect(_F2, density=_P2, grid=_G2)
    return lambda: dataclasses.replace(good, **kw)


def _report_fields():
    t = np.array([0.5])
    one = np.array([0.1])
    return dict(times=t, sigma=one, gauge_fraction=one, gauge_fraction_samples=one,
                asymmetry_mean=one, asymmetry_global=one, score_error=one,
                error_gauge_share=one, marginal_defect=one, decomposition_residual=one,
                orthogonality_error=one)


def _report(**kw):
    fields = _report_fields()
    fields.update(kw)
    return lambda: LearnedFieldReport(**fields)


def _lfr(**kw):
    args = dict(model=_model(), density=_gm(), grid=_G2, times=[0.5], n_samples=0)
    args.update(kw)
    return lambda: learned_field_report(**args)


def _result_fields():
    zero = dict.fromkeys(VARIANTS, 0.0)
    x = np.zeros((4, 2))
    return dict(mean=np.zeros(2), cov=np.eye(2), t_start=1.0, t_end=1e-3, solver="exact",
                nfe=None, mean_error=zero, cov_error=zero, sliced_wasserstein=zero,
                sw_floor=0.0, flow_error=zero, rotation_angle=0.0, rotation_spread=0.0,
                gauge_matrix=rotation_generator(2, 0.5), non_gauge="symmetric", x_T=x,
                x={**dict.fromkeys(VARIANTS, x), "flow": x})


def _result(**kw):
    fields = _result_fields()
    fields.update(kw)
    return lambda: CounterexampleResult(**fields)


ROWS = [
    Row(decompose, "density negative", lambda: decompose(_S, -_P, _GRID), V, "density.*>= 0"),
    Row(decompose, "density NaN", lambda: decompose(_S, np.where(_P > 0, np.nan, 0), _GRID), V,
        "density.*finite"),
    Row(decompose, "density all zero", lambda: decompose(_S, 0 * _P, _GRID), V, "density"),
    Row(decompose, "density wrong shape", lambda: decompose(_S, np.ones((8, 7)), _GRID), V,
        "density.*shape"),
    Row(decompose, "density zero block disconnects",
        lambda: decompose(_S, np.pad(np.zeros((4, 4)), 2, constant_values=1.0), _GRID), V,
        "density.*singular"),
    Row(decompose, "field wrong shape", lambda: decompose(np.zeros((3, 8, 8)), _P, _GRID), V,
        "field.*shape"),
    Row(decompose, "field NaN", lambda: decompose(_S + np.nan, _P, _GRID), V, "field.*finite"),
    Row(decompose, "field not numeric", lambda: decompose("abc", _P, _GRID), T, "field"),
    Row(decompose, "grid not a tuple", lambda: decompose(_S, _P, 3.0), T, "grid"),
    Row(decompose, "grid with 0 axes", lambda: decompose(_S, _P, ()), V, "grid.*1, 2 or 3"),
    Row(decompose, "grid with 4 axes",
        lambda: decompose(np.zeros((4, 3, 3, 3, 3)), np.ones((3,) * 4), (_X[:3],) * 4), V,
        "grid.*1, 2 or 3"),
    Row(decompose, "grid non-uniform",
        lambda: decompose(_S, _P, (_X, np.r_[_X[:-1], _X[-1] + 0.1])), V,
        r"grid\[1\].*equally spaced"),
    Row(decompose, "grid decreasing", lambda: decompose(_S, _P, (_X[::-1], _X)), V,
        r"grid\[0\].*increasing"),
    Row(decompose, "grid too short", lambda: decompose(np.zeros((2, 2, 8)), np.ones((2, 8)),
                                                       (_X[:2], _X)), V, r"grid\[0\].*at least 3"),
    Row(decompose, "method unknown", lambda: decompose(_S, _P, _GRID, method="cg"), V, "method"),
    Row(decompose, "fft with varying density",
        lambda: decompose(_S, _P + _X[:, None] ** 2, _GRID, method="fft"), V,
        "fft.*constant density"),
    Row(decompose, "amg kind unknown", lambda: decompose(_S, _P, _GRID, amg="gmg"), V, "amg"),
    Row(decompose, "tol 0", lambda: decompose(_S, _P, _GRID, tol=0.0), V, "tol"),
    Row(decompose, "tol a string", lambda: decompose(_S, _P, _GRID, tol="1e-8"), T, "tol"),
    Row(decompose, "face_density unknown",
        lambda: decompose(_S, _P, _GRID, face_density="geometric"), V, "face_density"),
    Row(decompose, "density_floor 1", lambda: decompose(_S, _P, _GRID, density_floor=1.0), V,
        "density_floor"),
    Row(decompose, "maxiter 0", lambda: decompose(_S, _P, _GRID, maxiter=0), V, "maxiter"),
    Row(gauge_residual, "r wrong shape", lambda: gauge_residual(np.zeros((1, 8, 8)), _P, _GRID),
        V, "r.*shape"),
    Row(gauge_residual, "density negative", lambda: gauge_residual(_S, -_P, _GRID), V,
        "density"),
    Row(gauge_residual, "grid non-uniform",
        lambda: gauge_residual(_S, _P, (_X**3, _X)), V, r"grid\[0\].*equally spaced"),
    Row(gauge_residual, "face_density unknown",
        lambda: gauge_residual(_S, _P, _GRID, face_density="max"), V, "face_density"),
    Row(decompose_samples, "samples 1-D",
        lambda: decompose_samples(np.ones(5), np.ones(5)), V, "samples.*2-dimensional"),
    Row(decompose_samples, "values wrong shape",
        lambda: decompose_samples(np.ones((5, 3)), np.ones((5, 2))), V,
        "score_fn_or_values.*shape"),
    Row(decompose_samples, "function returns NaN",
        lambda: decompose_samples(lambda x: x * np.nan, np.ones((5, 2))), V,
        r"score_fn_or_values\(samples\).*finite"),
    Row(decompose_samples, "basis unknown",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), basis="rbf"), V, "basis"),
    Row(decompose_samples, "degree 0",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), degree=0), V, "degree"),
    Row(decompose_samples, "degree too large",
        lambda: decompose_samples(np.ones((5, 20)), np.ones((5, 20)), degree=6), V, "degree"),
    Row(decompose_samples, "n_features 0",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), basis="fourier",
                                  n_features=0), V, "n_features"),
    Row(decompose_samples, "bandwidth negative",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), basis="fourier",
                                  bandwidth=-1.0), V, "bandwidth"),
    Row(decompose_samples, "ridge negative",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), ridge=-1.0), V, "ridge"),
    Row(decompose_samples, "degenerate samples",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2))), V, "samples.*covariance"),
    Row(decompose_samples, "rng a string",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), rng="x"), T, "rng"),
    Row(Decomposition, "grad_phi wrong shape", _replace(grad_phi=np.zeros((2, 8, 7))), V,
        "grad_phi.*shape"),
    Row(Decomposition, "residual wrong shape", _replace(residual=np.zeros(3)), V,
        "residual.*shape"),
    Row(Decomposition, "negative residual_norm", _replace(residual_norm=-1.0), V,
        "residual_norm"),
    Row(Decomposition, "method unknown", _replace(method="cg"), V, "method"),
    Row(Decomposition, "iterations negative", _replace(iterations=-1), V, "iterations"),
    Row(Decomposition, "converged not bool", _replace(converged="yes"), T, "converged"),
    Row(Decomposition, "phi 4-D", _replace(phi=np.zeros((2, 2, 2, 2))), V, "phi"),
    Row(GaugeEnergy, "negative energy", lambda: GaugeEnergy(1.0, -1.0, 0.5, 0.0), V, "grad_phi"),
    Row(GaugeEnergy, "NaN cross", lambda: GaugeEnergy(1.0, 1.0, 0.5, float("nan")), V, "cross"),
    Row(GaugeResidual, "relative > 1", lambda: GaugeResidual(np.zeros(3), 0.0, 2.0), V,
        "relative"),
    Row(GaugeResidual, "negative norm", lambda: GaugeResidual(np.zeros(3), -1.0, 0.0), V,
        "norm"),
    Row(SampleDecomposition, "coefficients size",
        lambda: dataclasses.replace(_samp(), coefficients=np.ones(3)), V, "coefficients"),
    Row(SampleDecomposition, "r shape",
        lambda: dataclasses.replace(_samp(), r=np.ones((3, 2))), V, "r.*shape"),
    Row(SampleDecomposition, "basis unknown",
        lambda: dataclasses.replace(_samp(), basis="rbf"), V, "basis"),
    # ---------------------------------------------------------------- decompose (more)
    Row(decompose, "density inf", lambda: decompose(_S, np.where(_P > 0, np.inf, 0), _GRID), V,
        "density.*finite"),
    Row(decompose, "density zero line with harmonic means",
        lambda: decompose(_S, np.where(np.arange(8)[:, None] == 3, 0.0, _P), _GRID,
                          face_density="harmonic"), V, "density.*singular.*density_floor"),
    Row(decompose, "density 3-D for a 2-D grid", lambda: decompose(_S, np.ones((8, 8, 1)), _GRID),
        V, "density.*shape"),
    Row(decompose, "field 1-D on a 2-D grid", lambda: decompose(np.zeros(8), _P, _GRID), V,
        "field.*shape"),
    Row(decompose, "field inf", lambda: decompose(_S + np.inf, _P, _GRID), V, "field.*finite"),
    Row(decompose, "grid axis 2-D", lambda: decompose(_S, _P, (_X, _P)), V,
        r"grid\[1\].*1-dimensional"),
    Row(decompose, "grid with NaN", lambda: decompose(_S, _P, (_X, np.r_[_X[:-1], np.nan])), V,
        r"grid\[1\].*finite"),
    Row(decompose, "method None", lambda: decompose(_S, _P, _GRID, method=None), (V, T),
        "method"),
    Row(decompose, "tol NaN", lambda: decompose(_S, _P, _GRID, tol=NAN), V, "tol"),
    Row(decompose, "tol 1", lambda: decompose(_S, _P, _GRID, tol=1.0), V, "tol"),
    Row(decompose, "density_floor negative",
        lambda: decompose(_S, _P, _GRID, density_floor=-1e-12), V, "density_floor"),
    Row(decompose, "maxiter float", lambda: decompose(_S, _P, _GRID, maxiter=10.0), T,
        "maxiter"),
    Row(decompose, "local_tol 0", lambda: decompose(_S, _P, _GRID, local_tol=0.0), V,
        "local_tol"),
    Row(decompose, "local_tol a string", lambda: decompose(_S, _P, _GRID, local_tol="1e-6"), T,
        "local_tol"),
    Row(gauge_residual, "r NaN", lambda: gauge_residual(_S + np.nan, _P, _GRID), V,
        "r.*finite"),
    Row(gauge_residual, "density wrong shape", lambda: gauge_residual(_S, np.ones(8), _GRID), V,
        "density.*shape"),
    Row(gauge_residual, "grid with 4 axes",
        lambda: gauge_residual(np.zeros((4, 3, 3, 3, 3)), np.ones((3,) * 4), (_X[:3],) * 4), V,
        "grid.*1, 2 or 3"),
    Row(gauge_residual, "density_floor 2",
        lambda: gauge_residual(_S, _P, _GRID, density_floor=2.0), V, "density_floor"),
    Row(gauge_residual, "reference wrong shape",
        lambda: gauge_residual(_S, _P, _GRID, reference=np.zeros((3, 8, 8))), V,
        "reference.*shape"),
    Row(gauge_residual, "reference NaN",
        lambda: gauge_residual(_S, _P, _GRID, reference=_S + np.nan), V, "reference.*finite"),
    Row(decompose_samples, "samples NaN",
        lambda: decompose_samples(np.ones((5, 2)), np.full((5, 2), np.nan)), V,
        "samples.*finite"),
    Row(decompose_samples, "one sample",
        lambda: decompose_samples(np.ones((1, 2)), np.ones((1, 2))), V, "samples.*n >= 2"),
    Row(decompose_samples, "function returns wrong shape",
        lambda: decompose_samples(lambda x: x[:, :1], np.random.default_rng(0).normal(size=(9, 2))),
        V, r"score_fn_or_values\(samples\).*shape"),
    Row(decompose_samples, "ridge NaN",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), ridge=NAN), V, "ridge"),
    Row(decompose_samples, "degree None", lambda: decompose_samples(
        np.ones((5, 2)), np.ones((5, 2)), degree=None), T, "degree"),
    Row(decompose_samples, "n_features too many",
        lambda: decompose_samples(np.ones((5, 2)), np.ones((5, 2)), basis="fourier",
                                  n_features=10**6), V, "n_features"),
    Row(Decomposition, "r_faces wrong shapes", _replace(r_faces=(np.zeros((8, 8)),) * 2), V,
        "r_faces"),
    Row(Decomposition, "density wrong shape", _replace(density=np.ones(3)), V, "density"),
    Row(Decomposition, "face_density unknown", _replace(face_density="max"), V,
        "face_density"),
    Row(Decomposition, "negative wall_time", _replace(wall_time=-1.0), V, "wall_time"),
    Row(GaugeEnergy, "field a string", lambda: GaugeEnergy("1", 1.0, 0.5, 0.0), T, "field"),
    Row(GaugeResidual, "NaN divergence", lambda: GaugeResidual(np.full(3, np.nan), 0.0, 0.0), V,
        "divergence"),
    Row(GaugeResidual, "negative reference_norm",
        lambda: GaugeResidual(np.zeros(3), 0.0, 0.0, reference_norm=-1.0), V, "reference_norm"),
    Row(SampleDecomposition, "negative ridge",
        lambda: dataclasses.replace(_samp(), ridge=-1.0), V, "ridge"),
    # ---------------------------------------------------------------- conservativity
    Row(jacobian_asymmetry, "callable without x", lambda: jacobian_asymmetry(_lin), V,
        "x.*required"),
    Row(jacobian_asymmetry, "x 3-D", lambda: jacobian_asymmetry(_lin, np.ones((2, 2, 2))), V,
        "x must have shape"),
    Row(jacobian_asymmetry, "x NaN", lambda: jacobian_asymmetry(_lin, _PTS * np.nan), V,
        "x.*finite"),
    Row(jacobian_asymmetry, "field not callable", lambda: jacobian_asymmetry(3.0, _PTS), T,
        "field"),
    Row(jacobian_asymmetry, "field returns NaN",
        lambda: jacobian_asymmetry(lambda x: x * np.nan, _PTS), V, r"field\(x\)"),
    Row(jacobian_asymmetry, "field returns wrong shape",
        lambda: jacobian_asymmetry(lambda x: x[:, :1], _PTS), V, r"field\(x\).*shape"),
    Row(jacobian_asymmetry, "model without t", lambda: jacobian_asymmetry(_model(), _PTS), V,
        "t is required"),
    Row(jacobian_asymmetry, "model, kind unknown",
        lambda: jacobian_asymmetry(_model(), _PTS, t=0.5, kind="noise"), V, "kind"),
    Row(jacobian_asymmetry, "x and grid both",
        lambda: jacobian_asymmetry(_F2, _PTS, grid=_G2), V, "x.*grid"),
    Row(jacobian_asymmetry, "grid values wrong shape",
        lambda: jacobian_asymmetry(_F2[:1], grid=_G2), V, "field must have shape"),
    Row(jacobian_asymmetry, "grid non-uniform",
        lambda: jacobian_asymmetry(_F2, grid=(_AX**3, _AX)), V, r"grid\[0\].*equally spaced"),
    Row(jacobian_asymmetry, "grid with 0 axes", lambda: jacobian_asymmetry(_F2, grid=()), T,
        "grid"),
    Row(jacobian_asymmetry, "backend unknown",
        lambda: jacobian_asymmetry(_lin, _PTS, backend="jax"), V, "backend"),
    Row(jacobian_asymmetry, "step negative", lambda: jacobian_asymmetry(_lin, _PTS, step=-1e-6),
        V, "step"),
    Row(jacobian_asymmetry, "weights negative",
        lambda: jacobian_asymmetry(_lin, _PTS, weights=-np.ones(6)), V, "weights"),
    Row(jacobian_asymmetry, "weights wrong shape",
        lambda: jacobian_asymmetry(_lin, _PTS, weights=np.ones(5)), V, "weights.*shape"),
    Row(JacobianAsymmetry, "mean > 2", _asym(mean=3.0), V, "mean"),
    Row(JacobianAsymmetry, "jacobian wrong shape", _asym(jacobian=np.zeros((6, 2, 3))), V,
        "jacobian"),
    Row(JacobianAsymmetry, "method unknown", _asym(method="fd"), V, "method"),
    Row(JacobianAsymmetry, "step 0", _asym(step=0.0), V, "step"),
    Row(gauge_fraction, "nothing given", lambda: gauge_fraction(), V, "decomposition.*r.*field"),
    Row(gauge_fraction, "decomposition and r", lambda: gauge_fraction(_dec(), r=_S, field=_S),
        V, "decomposition.*r and field"),
    Row(gauge_fraction, "decomposition without energy()", lambda: gauge_fraction(3.0), T,
        "decomposition"),
    Row(gauge_fraction, "r and field shapes differ",
        lambda: gauge_fraction(r=np.ones((5, 2)), field=np.ones((5, 3))), V,
        "r and field.*shape"),
    Row(gauge_fraction, "r NaN", lambda: gauge_fraction(r=np.full((5, 2), np.nan),
                                                        field=np.ones((5, 2))), V, "r.*finite"),
    Row(gauge_fraction, "axis out of range",
        lambda: gauge_fraction(r=np.ones((5, 2)), field=np.ones((5, 2)), axis=2), V, "axis"),
    Row(gauge_fraction, "weights wrong shape",
        lambda: gauge_fraction(r=np.ones((5, 2)), field=np.ones((5, 2)), weights=np.ones(4)), V,
        "weights.*shape"),
    Row(gauge_fraction, "weights all zero",
        lambda: gauge_fraction(r=np.ones((5, 2)), field=np.ones((5, 2)), weights=np.zeros(5)),
        V, "weights"),
    Row(GaugeDefect, "relative 3", _defect(relative=3.0), V, "relative"),
    Row(GaugeDefect, "norm negative", _defect(norm=-1.0), V, "norm"),
    Row(GaugeDefect, "method unknown", _defect(method="fft"), V, "method"),
    Row(GaugeDefect, "reference_norm negative", _defect(reference_norm=-1.0), V,
        "reference_norm"),
    Row(gauge_defect, "neither grid nor x", lambda: gauge_defect(_F2), V, "grid.*x"),
    Row(gauge_defect, "grid mode without density", lambda: gauge_defect(_F2, grid=_G2), V,
        "density"),
    Row(gauge_defect, "grid mode with x", lambda: gauge_defect(_F2, density=_P2, grid=_G2,
                                                             x=_PTS), V, "x and score"),
    Row(gauge_defect, "grid mode, density negative",
        lambda: gauge_defect(_F2, density=-_P2, grid=_G2), V, "density.*>= 0"),
    Row(gauge_defect, "grid mode, density NaN",
        lambda: gauge_defect(_F2, density=_P2 * np.nan, grid=_G2), V, "density.*finite"),
    Row(gauge_defect, "grid mode, r wrong shape",
        lambda: gauge_defect(_F2[:1], density=_P2, grid=_G2), V, "r.*shape"),
    Row(gauge_defect, "grid mode, grid non-uniform",
        lambda: gauge_defect(_F2, density=_P2, grid=(_AX, _AX**3)), V,
        r"grid\[1\].*equally spaced"),
    Row(gauge_defect, "grid mode, grid with 4 axes",
        lambda: gauge_defect(np.zeros((4, 3, 3, 3, 3)), density=np.ones((3,) * 4),
                             grid=(_AX[:3],) * 4), V, "grid.*1, 2 or 3"),
    Row(gauge_defect, "grid mode, reference wrong shape",
        lambda: gauge_defect(_F2, density=_P2, grid=_G2, reference=_F2[:1]), V,
        "reference.*shape"),
    Row(gauge_defect, "grid mode, face_density unknown",
        lambda: gauge_defect(_F2, density=_P2, grid=_G2, face_density="max"), V,
        "face_density"),
    Row(gauge_defect, "point mode with density",
        lambda: gauge_defect(_lin, x=_PTS, score=_lin, density=_P2), V, "density"),
    Row(gauge_defect, "point mode without score", lambda: gauge_defect(_lin, x=_PTS), V,
        "score"),
    Row(gauge_defect, "point mode, r not callable",
        lambda: gauge_defect(3.0, x=_PTS, score=_lin), T, r"\br must"),
    Row(gauge_defect, "point mode, model r without t",
        lambda: gauge_defect(_model(), x=_PTS, score=_lin), V, "t is required"),
    Row(gauge_defect, "point mode, backend unknown",
        lambda: gauge_defect(_lin, x=_PTS, score=_lin, backend="jax"), V, "backend"),
    Row(gauge_defect, "point mode, step NaN",
        lambda: gauge_defect(_lin, x=_PTS, score=_lin, step=NAN), V, "step"),
    Row(gauge_defect, "point mode, score returns NaN",
        lambda: gauge_defect(_lin, x=_PTS, score=lambda x: x * np.nan), V, r"score\(x\)"),
    Row(kde_mixture, "data 1-D", lambda: kde_mixture(np.ones(5)), V, "data.*2-dimensional"),
    Row(kde_mixture, "data one point", lambda: kde_mixture(np.ones((1, 2))), V, "data.*n >= 2"),
    Row(kde_mixture, "data constant", lambda: kde_mixture(np.ones((5, 2))), V, "data"),
    Row(kde_mixture, "data NaN", lambda: kde_mixture(np.full((5, 2), np.nan)), V,
        "data.*finite"),
    Row(kde_mixture, "bandwidth negative", lambda: kde_mixture(_PTS, bandwidth=-1.0), V,
        "bandwidth"),
    Row(kde_mixture, "bandwidth a string", lambda: kde_mixture(_PTS, bandwidth="0.1"), T,
        "bandwidth"),
    Row(LearnedFieldReport, "column too short", _report(gauge_fraction=np.array([])), V,
        "gauge_fraction"),
    Row(LearnedFieldReport, "times empty", _report(times=np.array([])), V, "times"),
    Row(LearnedFieldReport, "decompositions a list", _report(decompositions=[]), T,
        "decompositions"),
    Row(learned_field_report, "model without predict", _lfr(model=object()), T, "model"),
    Row(learned_field_report, "density a number", _lfr(density=3.0), T, "density"),
    Row(learned_field_report, "schedule wrong type", _lfr(schedule="vp"), T, "schedule"),
    Row(learned_field_report, "score with a mixture", _lfr(score=lambda x, t: x), V, "score"),
    Row(learned_field_report, "times with sigma 0", _lfr(times=[0.0]), V, "sigma"),
    Row(learned_field_report, "times NaN", _lfr(times=[NAN]), V, "times"),
    Row(learned_field_report, "times 2-D", _lfr(times=[[0.5]]), V, "times"),
    Row(learned_field_report, "grid 1 axis for a 2-D mixture", _lfr(grid=(_AX,)), V, "grid"),
    Row(learned_field_report, "grid non-uniform", _lfr(grid=(_AX, _AX**3)), V,
        r"grid\[1\].*equally spaced"),
    Row(learned_field_report, "n_samples negative", _lfr(n_samples=-1), V, "n_samples"),
    Row(learned_field_report, "sample_kwargs a list", _lfr(sample_kwargs=[]), T,
        "sample_kwargs"),
    Row(learned_field_report, "decompose_kwargs a list", _lfr(decompose_kwargs=[]), T,
        "decompose_kwargs"),
    Row(learned_field_report, "decompose_kwargs method unknown",
        _lfr(decompose_kwargs={"method": "cg"}), V, "method"),
    Row(learned_field_report, "progress not bool", _lfr(progress="yes"), T, "progress"),
    Row(learned_field_report, "data 1-D", _lfr(data=np.ones(4), n_samples=10), V, "data"),
    Row(learned_field_report, "callable density returns negative values",
        _lfr(density=lambda x, t: -np.ones(len(x))), V, "density"),
    # ---------------------------------------------------------------- counterexample
    Row(GaugedModel, "model without predict", lambda: GaugedModel(object(), np.eye(2)), T,
        "model"),
    Row(GaugedModel, "field not square", lambda: GaugedModel(_model(), np.ones((2, 3))), V,
        "field.*square"),
    Row(GaugedModel, "field of the wrong dimension", lambda: GaugedModel(_model(), np.eye(3)), V,
        "field must have shape"),
    Row(GaugedModel, "field NaN", lambda: GaugedModel(_model(), np.full((2, 2), np.nan)), V,
        "field.*finite"),
    Row(GaugedModel, "schedule wrong type", lambda: GaugedModel(_model(), np.eye(2), "vp"), T,
        "schedule"),
    Row(GaugedModel, "schedule differs from the model's",
        lambda: GaugedModel(_model(), np.eye(2), VPSchedule("cosine")), V, "schedule"),
    Row(GaugedModel, "predict kind unknown",
        lambda: GaugedModel(_model(), rotation_generator()).predict(_PTS, 0.5, kind="noise"), V,
        "kind"),
    Row(GaugedModel, "predict t outside the schedule",
        lambda: GaugedModel(_model(), rotation_generator()).predict(_PTS, 2.0), V, r"\bt must"),
    Row(GaugedModel, "callable field returns the wrong shape",
        lambda: GaugedModel(_model(), lambda x, t: x[:, :1]).predict(_PTS, 0.5), V,
        r"field\(x, t\).*shape"),
    Row(rotation_generator, "dim 1", lambda: rotation_generator(1), V, "dim"),
    Row(rotation_generator, "dim float", lambda: rotation_generator(2.0), T, "dim"),
    Row(rotation_generator, "omega NaN", lambda: rotation_generator(2, NAN), V, "omega"),
    Row(rotation_generator, "plane repeats an axis",
        lambda: rotation_generator(3, 1.0, (1, 1)), V, "plane"),
    Row(rotation_generator, "plane outside dim", lambda: rotation_generator(2, 1.0, (0, 2)), V,
        "plane"),
    Row(rotation_generator, "plane not a pair", lambda: rotation_generator(3, 1.0, 1), T,
        "plane"),
    Row(non_gauge_model, "kind unknown", lambda: non_gauge_model(_model(), "rotation"), V,
        "kind"),
    Row(non_gauge_model, "strength NaN", lambda: non_gauge_model(_model(), strength=NAN), V,
        "strength"),
    Row(non_gauge_model, "direction zero",
        lambda: non_gauge_model(_model(), "constant", direction=[0.0, 0.0]), V, "direction"),
    Row(non_gauge_model, "direction wrong size",
        lambda: non_gauge_model(_model(), "constant", direction=[1.0, 0.0, 0.0]), V,
        "direction"),
    Row(non_gauge_model, "model without predict",
        lambda: non_gauge_model(object(), "constant", direction=[1.0, 0.0], schedule=VP), T,
        "model"),
    Row(flow_map, "model without predict", lambda: flow_map(object(), _PTS, VP), T, "model"),
    Row(flow_map, "schedule wrong type", lambda: flow_map(_model(), _PTS, "vp"), T, "schedule"),
    Row(flow_map, "rtol negative", lambda: flow_map(_model(), _PTS, VP, rtol=-1.0), V, "rtol"),
    Row(flow_map, "atol 0", lambda: flow_map(_model(), _PTS, VP, atol=0.0), V, "atol"),
    Row(flow_map, "method unknown", lambda: flow_map(_model(), _PTS, VP, method="euler"), V,
        "method"),
    Row(flow_map, "x_T NaN", lambda: flow_map(_model(), _PTS * np.nan, VP), V, "x_T.*finite"),
    Row(flow_map, "x_T empty", lambda: flow_map(_model(), np.zeros((0, 2)), VP), V, "x_T"),
    Row(flow_map, "t_T outside the schedule", lambda: flow_map(_model(), _PTS, VP, t_T=2.0), V,
        "t_T"),
    Row(flow_map, "t_0 NaN", lambda: flow_map(_model(), _PTS, VP, t_0=NAN), V, "t_0"),
    Row(sliced_wasserstein, "dimensions differ",
        lambda: sliced_wasserstein(_PTS, np.ones((4, 3))), V, "x and y"),
    Row(sliced_wasserstein, "x 1-D", lambda: sliced_wasserstein(np.ones(3), _PTS), V,
        "x.*2-dimensional"),
    Row(sliced_wasserstein, "y NaN", lambda: sliced_wasserstein(_PTS, _PTS * np.nan), V,
        "y.*finite"),
    Row(sliced_wasserstein, "n_projections 0",
        lambda: sliced_wasserstein(_PTS, _PTS, n_projections=0), V, "n_projections"),
    Row(sliced_wasserstein, "projections of zero length",
        lambda: sliced_wasserstein(_PTS, _PTS, projections=np.zeros((3, 2))), V, "projections"),
    Row(sliced_wasserstein, "projections wrong shape",
        lambda: sliced_wasserstein(_PTS, _PTS, projections=np.ones((3, 3))), V,
        "projections.*shape"),
    Row(sliced_wasserstein, "rng a string", lambda: sliced_wasserstein(_PTS, _PTS, rng="x"), T,
        "rng"),
    Row(whitened_rotation, "shapes differ",
        lambda: whitened_rotation(_PTS, _PTS[:3], np.zeros(2), np.eye(2)), V, "x_a and x_b"),
    Row(whitened_rotation, "cov not positive definite",
        lambda: whitened_rotation(_PTS, _PTS, np.zeros(2), -np.eye(2)), V, "cov"),
    Row(whitened_rotation, "mean wrong shape",
        lambda: whitened_rotation(_PTS, _PTS, np.zeros(3), np.eye(2)), V, "mean"),
    Row(whitened_rotation, "x_a NaN",
        lambda: whitened_rotation(_PTS * np.nan, _PTS, np.zeros(2), np.eye(2)), V,
        "x_a.*finite"),
    Row(isotropic_rotation_angle, "variance 0", lambda: isotropic_rotation_angle(0.0, 1.0, VP),
        V, "variance"),
    Row(isotropic_rotation_angle, "omega NaN", lambda: isotropic_rotation_angle(1.0, NAN, VP),
        V, "omega"),
    Row(isotropic_rotation_angle, "schedule wrong type",
        lambda: isotropic_rotation_angle(1.0, 1.0, "vp"), T, "schedule"),
    Row(isotropic_rotation_angle, "t_start outside the schedule",
        lambda: isotropic_rotation_angle(1.0, 1.0, VP, t_start=5.0), V, "t_start"),
    Row(isotropic_rotation_angle, "t_end after t_start",
        lambda: isotropic_rotation_angle(1.0, 1.0, VP, t_start=0.1, t_end=0.5), V, "t_start"),
    Row(run_counterexample, "gauge not antisymmetric",
        lambda: run_counterexample(gauge=np.eye(2)), V, "gauge.*antisymmetric"),
    Row(run_counterexample, "gauge wrong shape",
        lambda: run_counterexample(gauge=np.zeros((3, 3))), V, "gauge.*shape"),
    Row(run_counterexample, "gauge NaN", lambda: run_counterexample(gauge=NAN), V, "gauge"),
    Row(run_counterexample, "mean of dimension 1", lambda: run_counterexample(mean=[1.0]), V,
        "mean"),
    Row(run_counterexample, "cov wrong shape", lambda: run_counterexample(cov=np.eye(3)), V,
        "cov.*shape"),
    Row(run_counterexample, "cov not positive definite",
        lambda: run_counterexample(cov=[[1.0, 2.0], [2.0, 1.0]]), V, "cov"),
    Row(run_counterexample, "n too small", lambda: run_counterexample(n=3), V, "n must be"),
    Row(run_counterexample, "solver unknown", lambda: run_counterexample(solver="rk4"), V,
        "solver"),
    Row(run_counterexample, "nfe 0", lambda: run_counterexample(nfe=0), V, "nfe"),
    Row(run_counterexample, "non_gauge unknown",
        lambda: run_counterexample(non_gauge="rotation"), V, "non_gauge"),
    Row(run_counterexample, "non_gauge_strength NaN",
        lambda: run_counterexample(non_gauge_strength=NAN), V, "non_gauge_strength"),
    Row(run_counterexample, "schedule wrong type", lambda: run_counterexample(schedule="vp"), T,
        "schedule"),
    Row(run_counterexample, "moment_matched not bool",
        lambda: run_counterexample(moment_matched=1), T, "moment_matched"),
    Row(run_counterexample, "t_end outside the schedule",
        lambda: run_counterexample(t_end=-1.0), V, "t_end"),
    Row(run_counterexample, "n_projections 0", lambda: run_counterexample(n_projections=0), V,
        "n_projections"),
    Row(CounterexampleResult, "solver not a string", _result(solver=3), T, "solver"),
    Row(CounterexampleResult, "cov_error missing a variant", _result(cov_error={"exact": 0.0}),
        V, "cov_error"),
    Row(CounterexampleResult, "nfe 0", _result(nfe=0), V, "nfe"),
    Row(CounterexampleResult, "sw_floor negative", _result(sw_floor=-1.0), V, "sw_floor"),
    Row(CounterexampleResult, "x_T of another dimension", _result(x_T=np.zeros((4, 3))), V,
        "x_T"),
    Row(CounterexampleResult, "x without the variants", _result(x={}), V, "x must"),
]

# ---------------------------------------------------------------- intrinsic dimension
from sciflow.gauge import (  # noqa: E402
    DimensionResult,
    SmoothedEmpiricalScore,
    intrinsic_dimension,
    smoothed_empirical_score,
)

_XD = np.random.default_rng(0).normal(size=(60, 3))


def _dim_result(**change):
    def call():
        import dataclasses

        res = intrinsic_dimension(_XD, n_points=5, rng=0, return_details=True)
        kw = {f.name: getattr(res, f.name) for f in dataclasses.fields(res)}
        kw.update(change)
        return DimensionResult(**kw)
    return call


ROWS += [
    Row(intrinsic_dimension, "unknown method", lambda: intrinsic_dimension(_XD, method="pca"), V,
        "method"),
    Row(intrinsic_dimension, "X NaN", lambda: intrinsic_dimension(_XD * NAN), V, "X"),
    Row(intrinsic_dimension, "X 1-D", lambda: intrinsic_dimension(_XD[:, 0]), V, "X"),
    Row(intrinsic_dimension, "X too few points", lambda: intrinsic_dimension(_XD[:2]), V, "X"),
    Row(intrinsic_dimension, "score not callable", lambda: intrinsic_dimension(_XD, score=3.0),
        T, "score"),
    Row(intrinsic_dimension, "sigma <= 0", lambda: intrinsic_dimension(_XD, sigma=-1.0), V,
        "sigma"),
    Row(intrinsic_dimension, "n_points 0", lambda: intrinsic_dimension(_XD, n_points=0), V,
        "n_points"),
    Row(intrinsic_dimension, "n_points a float", lambda: intrinsic_dimension(_XD, n_points=2.5),
        T, "n_points"),
    Row(intrinsic_dimension, "unknown jacobian",
        lambda: intrinsic_dimension(_XD, jacobian="exact"), V, "jacobian"),
    Row(intrinsic_dimension, "return_details not bool",
        lambda: intrinsic_dimension(_XD, return_details="yes"), T, "return_details"),
    Row(intrinsic_dimension, "rng bad", lambda: intrinsic_dimension(_XD, rng="seed"), T, "rng"),
    Row(intrinsic_dimension, "floor negative", lambda: intrinsic_dimension(_XD, floor=-0.1), V,
        "floor"),
    Row(smoothed_empirical_score, "sigma 0", lambda: smoothed_empirical_score(_XD, 0.0), V,
        "sigma"),
    Row(smoothed_empirical_score, "X_data NaN", lambda: smoothed_empirical_score(_XD * NAN, 0.1),
        V, "X_data"),
    Row(smoothed_empirical_score, "k 0", lambda: smoothed_empirical_score(_XD, 0.1, k=0), V,
        r"\bk\b"),
    Row(SmoothedEmpiricalScore, "x of another dimension",
        lambda: SmoothedEmpiricalScore(_XD, 0.1)(np.zeros((2, 4))), V, r"\bx\b"),
    Row(SmoothedEmpiricalScore, "sigma NaN", lambda: SmoothedEmpiricalScore(_XD, NAN), V,
        "sigma"),
    Row(DimensionResult, "dimension above ambient", _dim_result(dimension=7), V, "dimension"),
    Row(DimensionResult, "unknown method", _dim_result(method="pca"), V, "method"),
]

test_bad_input, test_every_public_name_has_a_row = make_tests("sciflow.gauge", ROWS)
