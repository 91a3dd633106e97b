"""Bad-input table of sciflow.multiplicative: every public name × bad inputs → a clear error."""

import math

import numpy as np

from sciflow.multiplicative import (
    GBM,
    BoundLogNormalMixture,
    DSMMinimizer,
    FokkerPlanck2DResult,
    FokkerPlanckResult,
    GBMSchedule,
    LangevinResult,
    LogNormalMixture,
    LogSpaceModel,
    ambient_langevin,
    dale_langevin,
    dsm_minimizer,
    dsm_target,
    lognormal_prior,
    m_dsm,
    m_esm,
    nonnegative_score_matching,
    probability_flow,
    solve_fokker_planck,
    solve_fokker_planck_2d,
    time_grid,
)

from .._bad_input import Row, make_tests

G = GBM(0.32, 0.8)
MIX = LogNormalMixture([0.4, 0.6], [[0.2], [0.6]], [[[0.01]], [[0.02]]])
B = MIX.bind(G)
X = np.exp(np.linspace(-3, 3, 50))
P0 = np.exp(-0.5 * (np.log(X) / 0.2) ** 2) / X
XT = np.full((8, 1), 1.5)
X2 = np.exp(np.linspace(-2, 2, 12))
P2 = np.outer(np.exp(-np.log(X2) ** 2), np.exp(-np.log(X2) ** 2))
SIG = np.array([[0.5, 0.0], [0.1, 0.4]])
NAN = float("nan")


class _NaNModel:
    def hyvarinen_score(self, x, t):
        return np.full_like(x, np.nan)


def _fp_result(**change):
    res = solve_fokker_planck(G, X, P0, [0.0, 0.1], dt=0.05)
    kw = {f: getattr(res, f) for f in res.__dataclass_fields__}
    kw.update(change)
    return FokkerPlanckResult(**kw)


def _fp2_result(**change):
    res = solve_fokker_planck_2d([0.1, 0.2], SIG, X2, X2, P2, [0.0, 0.1], dt=0.05)
    kw = {f: getattr(res, f) for f in res.__dataclass_fields__}
    kw.update(change)
    return FokkerPlanck2DResult(**kw)


def _langevin_result():
    return dale_langevin(B, XT, G, n_steps=3, rng=0, return_info=True)


ROWS = [
    # ---------------------------------------------------------------- GBM
    Row(GBM, "sigma <= 0", lambda: GBM(0.3, 0.0), ValueError, r"sigma must be > 0"),
    Row(GBM, "sigma negative", lambda: GBM(0.3, -0.8), ValueError, r"sigma must be > 0"),
    Row(GBM, "sigma NaN", lambda: GBM(0.3, NAN), ValueError, r"sigma must be finite"),
    Row(GBM, "mu inf", lambda: GBM(math.inf, 0.8), ValueError, r"mu must be finite"),
    Row(GBM, "mu a string", lambda: GBM("0.3", 0.8), TypeError, r"mu must be a real number"),
    Row(GBM, "sigma(t) <= 0", lambda: GBM(0.3, lambda t: -1.0), ValueError, r"sigma\(t\)"),
    Row(GBM, "sigma(t) fails", lambda: GBM(0.3, lambda t: "a" + 1), TypeError, r"sigma\(t\)"),
    Row(GBM, "log_variance t < 0", lambda: G.log_variance(-1.0), ValueError, r"t must be >= 0"),
    Row(GBM, "log_mean t NaN", lambda: G.log_mean(NAN), ValueError, r"t must be finite"),
    Row(GBM, "sample x0 <= 0", lambda: G.sample(np.array([1.0, 0.0]), 0.5, rng=0), ValueError,
        r"x0 must be > 0"),
    Row(GBM, "log_density t = 0", lambda: G.log_density(X, 0.0, X), ValueError,
        r"t must be > 0"),
    Row(GBM, "log_density x negative", lambda: G.log_density(-X, 0.5, X), ValueError,
        r"x must be > 0"),
    Row(GBM, "hyvarinen_score x NaN", lambda: G.hyvarinen_score(np.array([NAN]), 0.5,
                                                                np.array([1.0])),
        ValueError, r"x must be finite"),
    Row(GBM, "stein_score x0 a string", lambda: G.stein_score(X, 0.5, "x0"), TypeError,
        r"x0 must be"),
    Row(GBM, "sample rng bad", lambda: G.sample(X, 0.5, rng="seed"), TypeError,
        r"rng must be"),
    Row(GBM, "schedule t_end >= t_start", lambda: G.schedule(0.5, 0.5), ValueError,
        r"t_start must be > t_end"),
    # ---------------------------------------------------------------- GBMSchedule
    Row(GBMSchedule, "gbm not a GBM", lambda: GBMSchedule(gbm=0.8), TypeError,
        r"gbm must be a GBM"),
    Row(GBMSchedule, "t_end <= 0", lambda: GBMSchedule(G, t_start=1.0, t_end=0.0), ValueError,
        r"t_end must be > 0"),
    Row(GBMSchedule, "t_start NaN", lambda: GBMSchedule(G, t_start=NAN), ValueError,
        r"t_start must be finite"),
    Row(GBMSchedule, "sigma at t < 0", lambda: G.schedule().sigma(-0.1), ValueError,
        r"t must lie in"),
    Row(GBMSchedule, "t_from_lambda NaN", lambda: G.schedule().t_from_lambda(NAN), ValueError,
        r"lam must be finite"),
    # ---------------------------------------------------------------- LogNormalMixture
    Row(LogNormalMixture, "negative weights",
        lambda: LogNormalMixture([-1.0, 2.0], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), ValueError,
        r"weights must be non-negative"),
    Row(LogNormalMixture, "log_means wrong shape",
        lambda: LogNormalMixture([0.5, 0.5], [0.0, 1.0, 2.0], [[[1.0]], [[1.0]]]), ValueError,
        r"log_means must have shape"),
    Row(LogNormalMixture, "log_covs not positive definite",
        lambda: LogNormalMixture([1.0], [[0.0]], [[[-1.0]]]), ValueError,
        r"log_covs must be positive definite"),
    Row(LogNormalMixture, "log_means NaN",
        lambda: LogNormalMixture([1.0], [[NAN]], [[[1.0]]]), ValueError,
        r"log_means must be finite"),
    Row(LogNormalMixture, "empty weights", lambda: LogNormalMixture([], [], []), ValueError,
        r"weights must have at least 1"),
    Row(LogNormalMixture, "bind to a non-GBM", lambda: MIX.bind(0.8), TypeError,
        r"gbm must be a GBM"),
    Row(LogNormalMixture, "sample n < 0", lambda: MIX.sample(-1), ValueError, r"n must be >= 0"),
    # ---------------------------------------------------------------- BoundLogNormalMixture
    Row(BoundLogNormalMixture, "x <= 0", lambda: B.log_density(np.array([[0.0]]), 0.5),
        ValueError, r"x must be > 0"),
    Row(BoundLogNormalMixture, "t = 0", lambda: B.hyvarinen_score(XT, 0.0), ValueError,
        r"t must be > 0"),
    Row(BoundLogNormalMixture, "x wrong last axis", lambda: B.stein_score(np.ones((3, 2)), 0.5),
        ValueError, r"x must have shape \(\.\.\., 1\)"),
    Row(BoundLogNormalMixture, "sample n a float", lambda: B.sample(2.5, 0.5), TypeError,
        r"n must be an integer"),
    Row(BoundLogNormalMixture, "exact_flow_map x_T <= 0",
        lambda: B.exact_flow_map(-XT), ValueError, r"x_T must be > 0"),
    # ---------------------------------------------------------------- Fokker-Planck
    Row(solve_fokker_planck, "gbm not a GBM", lambda: solve_fokker_planck(0.8, X, P0, 1.0),
        TypeError, r"gbm"),
    Row(solve_fokker_planck, "x <= 0", lambda: solve_fokker_planck(G, X - 1.0, P0, 1.0),
        ValueError, r"x must"),
    Row(solve_fokker_planck, "x decreasing", lambda: solve_fokker_planck(G, X[::-1], P0, 1.0),
        ValueError, r"x must be strictly increasing"),
    Row(solve_fokker_planck, "p0 negative", lambda: solve_fokker_planck(G, X, -P0, 1.0),
        ValueError, r"p0"),
    Row(solve_fokker_planck, "p0 all zero (not normalisable)",
        lambda: solve_fokker_planck(G, X, 0 * P0, 1.0), ValueError, r"p0"),
    Row(solve_fokker_planck, "p0 wrong shape", lambda: solve_fokker_planck(G, X, P0[:-1], 1.0),
        ValueError, r"p0"),
    Row(solve_fokker_planck, "t decreasing",
        lambda: solve_fokker_planck(G, X, P0, [1.0, 0.5]), ValueError, r"t must"),
    Row(solve_fokker_planck, "t NaN", lambda: solve_fokker_planck(G, X, P0, NAN), ValueError,
        r"t must"),
    Row(solve_fokker_planck, "dt <= 0", lambda: solve_fokker_planck(G, X, P0, 1.0, dt=0.0),
        ValueError, r"dt must be > 0"),
    Row(solve_fokker_planck, "unknown method",
        lambda: solve_fokker_planck(G, X, P0, 1.0, method="rk4"), ValueError, r"method"),
    Row(solve_fokker_planck_2d, "Sigma wrong shape",
        lambda: solve_fokker_planck_2d([0.1, 0.2], np.eye(3), X2, X2, P2, 0.1), ValueError,
        r"Sigma"),
    Row(solve_fokker_planck_2d, "Sigma singular",
        lambda: solve_fokker_planck_2d([0.1, 0.2], np.zeros((2, 2)), X2, X2, P2, 0.1),
        ValueError, r"Sigma"),
    Row(solve_fokker_planck_2d, "mu NaN",
        lambda: solve_fokker_planck_2d([NAN, 0.2], SIG, X2, X2, P2, 0.1), ValueError, r"mu"),
    Row(solve_fokker_planck_2d, "p0 shape mismatch",
        lambda: solve_fokker_planck_2d([0.1, 0.2], SIG, X2, X2, P2[:-1], 0.1), ValueError,
        r"p0"),
    Row(solve_fokker_planck_2d, "x1 not log-uniform",
        lambda: solve_fokker_planck_2d([0.1, 0.2], SIG, np.linspace(1, 3, 12), X2, P2, 0.1),
        ValueError, r"x1"),
    Row(FokkerPlanckResult, "p wrong shape", lambda: _fp_result(p=np.ones((2, 3))), ValueError,
        r"\bp\b"),
    Row(FokkerPlanckResult, "plot ax not Axes", lambda: _fp_result().plot(ax=3), TypeError,
        r"ax"),
    Row(FokkerPlanck2DResult, "p wrong shape", lambda: _fp2_result(p=np.ones((2, 3))),
        ValueError, r"\bp\b"),
    Row(FokkerPlanck2DResult, "plot ax not Axes", lambda: _fp2_result().plot(ax="a"),
        TypeError, r"ax"),
    # ---------------------------------------------------------------- losses
    Row(dsm_target, "x_t <= 0", lambda: dsm_target(-XT, XT, 0.5, G), ValueError,
        r"x_t must be > 0"),
    Row(dsm_target, "t = 0", lambda: dsm_target(XT, XT, 0.0, G), ValueError,
        r"t must be finite and > 0"),
    Row(dsm_target, "gbm not a GBM", lambda: dsm_target(XT, XT, 0.5, None), TypeError,
        r"gbm must be a GBM"),
    Row(m_dsm, "x0 <= 0", lambda: m_dsm(XT, XT, 0 * XT, 0.5, G), ValueError,
        r"x0 must be > 0"),
    Row(m_dsm, "unknown weight", lambda: m_dsm(XT, XT, XT, 0.5, G, weight="w3"), ValueError,
        r"weight"),
    Row(m_dsm, "h_pred wrong shape", lambda: m_dsm(np.ones((3, 1)), XT, XT, 0.5, G),
        ValueError, r"h_pred"),
    Row(m_dsm, "t wrong length", lambda: m_dsm(XT, XT, XT, np.full(3, 0.5), G), ValueError,
        r"\bt\b"),
    Row(m_dsm, "unknown reduction", lambda: m_dsm(XT, XT, XT, 0.5, G, reduction="max"),
        ValueError, r"reduction"),
    Row(m_esm, "true_score NaN", lambda: m_esm(XT, XT, 0.5, G, true_score=XT * NAN),
        ValueError, r"true_score|h_true"),
    Row(m_esm, "x_t negative", lambda: m_esm(XT, -XT, 0.5, G, true_score=XT), ValueError,
        r"x_t must be > 0"),
    Row(nonnegative_score_matching, "x <= 0",
        lambda: nonnegative_score_matching(lambda x: -x, -XT), ValueError, r"x must be > 0"),
    Row(nonnegative_score_matching, "score_fn not callable",
        lambda: nonnegative_score_matching(3.0, XT), TypeError, r"score_fn"),
    Row(nonnegative_score_matching, "unknown kind",
        lambda: nonnegative_score_matching(lambda x: -x, XT, kind="eps"), ValueError, r"kind"),
    Row(dsm_minimizer, "model without hyvarinen_score", lambda: dsm_minimizer(3, G, 0.01),
        TypeError, r"model must have a hyvarinen_score"),
    Row(dsm_minimizer, "t_target a string", lambda: dsm_minimizer(B, G, "late"), TypeError,
        r"t_target"),
    Row(DSMMinimizer, "gbm not a GBM", lambda: DSMMinimizer(B, "gbm", 0.01), TypeError,
        r"gbm must be a GBM"),
    # ---------------------------------------------------------------- samplers
    Row(dale_langevin, "x_T <= 0", lambda: dale_langevin(B, -XT, G, n_steps=5), ValueError,
        r"x_T must be > 0"),
    Row(dale_langevin, "n_steps 0", lambda: dale_langevin(B, XT, G, n_steps=0), ValueError,
        r"n_steps must be >= 1"),
    Row(dale_langevin, "t_end >= t_start",
        lambda: dale_langevin(B, XT, G, n_steps=5, t_start=0.5, t_end=0.6), ValueError,
        r"t_end must be < t_start"),
    Row(dale_langevin, "t_end <= 0",
        lambda: dale_langevin(B, XT, G, n_steps=5, t_end=0.0), ValueError, r"t_end"),
    Row(dale_langevin, "model without hyvarinen_score",
        lambda: dale_langevin(object(), XT, G, n_steps=5), TypeError, r"model"),
    Row(dale_langevin, "model returns NaN",
        lambda: dale_langevin(_NaNModel(), XT, G, n_steps=5, rng=0), ValueError,
        r"NaN|non-finite"),
    Row(ambient_langevin, "gbm not a GBM", lambda: ambient_langevin(B, XT, 0.8, n_steps=5),
        TypeError, r"gbm must be a GBM"),
    Row(ambient_langevin, "x_T NaN", lambda: ambient_langevin(B, XT * NAN, G, n_steps=5),
        ValueError, r"x_T must be finite"),
    Row(ambient_langevin, "unknown spacing",
        lambda: ambient_langevin(B, XT, G, n_steps=5, spacing="cubic"), ValueError,
        r"spacing"),
    Row(ambient_langevin, "unknown prior",
        lambda: ambient_langevin(B, 8, G, n_steps=5, prior="gaussian"), ValueError, r"prior"),
    Row(probability_flow, "x_T <= 0", lambda: probability_flow(B, -XT, G, nfe=5), ValueError,
        r"x_T must be > 0"),
    Row(probability_flow, "unknown solver",
        lambda: probability_flow(B, XT, G, solver="rk45", nfe=5), ValueError, r"solver"),
    Row(probability_flow, "nfe 0", lambda: probability_flow(B, XT, G, nfe=0), ValueError,
        r"nfe"),
    Row(LogSpaceModel, "model without hyvarinen_score", lambda: LogSpaceModel(3, G), TypeError,
        r"model"),
    Row(LogSpaceModel, "unknown kind",
        lambda: LogSpaceModel(B, G).predict(np.zeros((2, 1)), 0.5, kind="v"), ValueError,
        r"kind"),
    Row(LangevinResult, "plot dim out of range", lambda: _langevin_result().plot(dim=3),
        ValueError, r"dim must be <= 0"),
    Row(LangevinResult, "plot bins 0", lambda: _langevin_result().plot(bins=0), ValueError,
        r"bins must be >= 1"),
    Row(time_grid, "n_steps and steps missing", lambda: time_grid(G), (TypeError, ValueError),
        r"n_steps|steps"),
    Row(time_grid, "steps increasing", lambda: time_grid(G, steps=[0.1, 0.5, 1.0]), ValueError,
        r"steps"),
    Row(lognormal_prior, "data <= 0", lambda: lognormal_prior(-XT, G, 1.0), ValueError,
        r"data must be > 0"),
    Row(lognormal_prior, "t negative", lambda: lognormal_prior(XT, G, -1.0), ValueError,
        r"\bt\b"),
]

test_bad_input, test_every_public_name_has_a_row = make_tests(
    "sciflow.multiplicative", ROWS, skip_modules=("nn", "digits"))


# ---------------------------------------------------------------- digits (data, evaluation)
def _digit_rows():
    from sciflow.multiplicative import digits as D

    x8 = np.full((4, 8, 8), 1.5)
    return [
        Row(D.load_digits, "size not 8 or 28", lambda: D.load_digits(10), ValueError, r"size"),
        Row(D.load_digits, "high <= low", lambda: D.load_digits(8, low=2.0, high=1.0),
            ValueError, r"high"),
        Row(D.load_split, "test_fraction 1", lambda: D.load_split(8, test_fraction=1.0),
            ValueError, r"test_fraction"),
        Row(D.DigitSplit, "labels of another length",
            lambda: D.DigitSplit(x8, np.zeros(3, int), x8, np.zeros(4, int)), ValueError,
            r"y_train"),
        Row(D.to_signed, "x a string", lambda: D.to_signed("abc"), TypeError, r"\bx\b"),
        Row(D.from_signed, "x a string", lambda: D.from_signed("abc"), TypeError, r"\bx\b"),
        Row(D.DigitClassifier, "network not a module",
            lambda: D.DigitClassifier(object(), (8, 8)), TypeError, r"network"),
        Row(D.train_classifier, "labels of another length",
            lambda: D.train_classifier(x8, np.zeros(3, int), progress=False), ValueError,
            r"y must"),
        Row(D.train_classifier, "epochs 0",
            lambda: D.train_classifier(x8, np.zeros(4, int), epochs=0, progress=False),
            ValueError, r"epochs"),
        Row(D.frechet_distance, "feature dimensions differ",
            lambda: D.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4))), ValueError,
            r"features_b"),
        Row(D.frechet_distance, "NaN features",
            lambda: D.frechet_distance(np.full((5, 2), NAN), np.zeros((5, 2))), ValueError,
            r"features_a"),
        Row(D.frechet_distance_gaussian, "cov1 wrong shape",
            lambda: D.frechet_distance_gaussian(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
            ValueError, r"cov1"),
        Row(D.class_coverage, "label out of range", lambda: D.class_coverage(np.array([0, 10])),
            ValueError, r"labels"),
        Row(D.class_coverage, "empty", lambda: D.class_coverage(np.array([])), ValueError,
            r"labels"),
        Row(D.mean_confidence, "rows not summing to 1",
            lambda: D.mean_confidence(np.array([[0.5, 0.6]])), ValueError, r"probs"),
        Row(D.SampleScores, "negative Frechet distance",
            lambda: D.SampleScores(frechet=-1.0, coverage=1.0, confidence=0.5, n=3), ValueError,
            r"frechet"),
        Row(D.evaluate, "classifier of the wrong type",
            lambda: D.evaluate(x8, object(), x8), TypeError, r"classifier"),
        Row(D.class_mean_baseline, "n negative",
            lambda: D.class_mean_baseline(x8, np.zeros(4, int), -1), ValueError, r"\bn\b"),
        Row(D.plot_grid, "not images", lambda: D.plot_grid(np.ones((3, 5))), ValueError,
            r"images"),
        Row(D.plot_grid, "ncol 0", lambda: D.plot_grid(np.ones((3, 4, 4)), ncol=0), ValueError,
            r"ncol"),
    ]


def _nn_rows():
    from sciflow.multiplicative import nn as mnn

    data = np.full((8, 8, 8), 1.5)
    return [
        Row(mnn.UNetConfig, "image_shape odd", lambda: mnn.UNetConfig((7, 7)), ValueError,
            r"image_shape"),
        Row(mnn.UNetConfig, "channels 0", lambda: mnn.UNetConfig((8, 8), channels=0),
            ValueError, r"channels"),
        Row(mnn.MultiplicativeScoreModel, "network not a module",
            lambda: mnn.MultiplicativeScoreModel(object(), mnn.UNetConfig(), GBM(), 0.0, 1.0,
                                                 np.zeros(64), np.eye(64)), TypeError,
            r"network"),
        Row(mnn.AdditiveScoreModel, "network not a module",
            lambda: mnn.AdditiveScoreModel(object(), mnn.UNetConfig(), None, 1.0), TypeError,
            r"network"),
        Row(mnn.train_multiplicative, "data <= 0",
            lambda: mnn.train_multiplicative(data - 2.0, steps=1), ValueError,
            r"data must be > 0"),
        Row(mnn.train_multiplicative, "steps 0",
            lambda: mnn.train_multiplicative(data, steps=0), ValueError, r"steps"),
        Row(mnn.train_multiplicative, "t_max < t_min",
            lambda: mnn.train_multiplicative(data, steps=1, t_min=0.5, t_max=0.1), ValueError,
            r"t_max"),
        Row(mnn.train_multiplicative, "gbm not a GBM",
            lambda: mnn.train_multiplicative(data, gbm="gbm", steps=1), TypeError, r"gbm"),
        Row(mnn.train_additive, "schedule a GBM",
            lambda: mnn.train_additive(data, schedule=GBM(), steps=1), TypeError, r"schedule"),
        Row(mnn.train_additive, "data inf",
            lambda: mnn.train_additive(np.full((4, 64), np.inf), steps=1), ValueError,
            r"finite"),
    ]


try:
    import torch  # noqa: F401
except ImportError:  # the torch-only modules are covered where torch is installed (CI)
    pass
else:
    LEARNED_ROWS = _digit_rows() + _nn_rows()
    test_bad_input_learned, _cover_digits = make_tests("sciflow.multiplicative.digits",
                                                       LEARNED_ROWS)
    _, _cover_nn = make_tests("sciflow.multiplicative.nn", LEARNED_ROWS)

    def test_every_learned_name_has_a_row():
        _cover_digits()
        _cover_nn()
