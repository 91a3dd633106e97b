"""Property-based tests of the samplers (hypothesis): for random schedules (VP linear with
random betas, VP cosine, EDM with random noise range, flows with random shift), random solvers
from SOLVERS, random spacings, budgets and end times, :func:`sample` returns finite arrays of
the input's dtype and shape and calls the model exactly ``nfe`` times (counted by a wrapper,
independently of the solver's own count); a NaN at a random evaluation is reported at exactly
that evaluation.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sciflow.sampling import (
    SOLVERS,
    SPACINGS,
    EDMSchedule,
    FlowSchedule,
    GaussianMixture,
    NonFiniteError,
    VPSchedule,
    sample,
)

MIXTURE = GaussianMixture([0.3, 0.7], [[1.0, -0.5], [-1.0, 0.5]],
                          np.stack([[[0.1, 0.02], [0.02, 0.05]], 0.04 * np.eye(2)]))

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

schedules = st.one_of(
    st.builds(VPSchedule, st.just("linear"), beta_min=st.floats(0.01, 1.0),
              beta_max=st.floats(2.0, 30.0)),
    st.just(VPSchedule("cosine")),
    st.builds(EDMSchedule, sigma_min=st.floats(1e-3, 0.05), sigma_max=st.floats(5.0, 100.0)),
    st.builds(FlowSchedule, shift=st.floats(0.3, 5.0)),
)


class Counting:
    """Wraps a model and counts its ``predict`` calls; optionally returns NaN at call ``k``."""

    def __init__(self, inner, nan_at=None):
        self.inner, self.nan_at, self.calls = inner, nan_at, 0
        self.dim, self.schedule = inner.dim, inner.schedule

    def predict(self, x, t, kind="eps"):
        self.calls += 1
        out = self.inner.predict(x, t, kind)
        return out * np.nan if self.calls == self.nan_at else out


def _start(schedule, seed, dtype, n=3):
    x = np.random.default_rng(seed).standard_normal((n, 2))
    return (x * float(schedule.sigma(schedule.t_start))).astype(dtype)


@SETTINGS
@given(schedule=schedules, solver=st.sampled_from(sorted(SOLVERS)), nfe=st.integers(1, 40),
       spacing=st.sampled_from((None,) + SPACINGS), to_zero=st.booleans(),
       denoise=st.booleans(), dtype=st.sampled_from(["float32", "float64"]),
       seed=st.integers(0, 2**32 - 1))
def test_finite_with_exact_nfe(schedule, solver, nfe, spacing, to_zero, denoise, dtype, seed):
    t_end = 0.0 if to_zero else None
    assume(to_zero or not denoise or nfe >= 2)  # denoise_to_zero needs one evaluation
    model = Counting(MIXTURE.bind(schedule))
    x_T = _start(schedule, seed, dtype)
    r = sample(model, x_T, schedule, solver=solver, nfe=nfe, spacing=spacing, t_end=t_end,
               denoise_to_zero=denoise, rng=seed, return_info=True)
    assert model.calls == nfe and r.nfe == nfe
    assert r.x.dtype == x_T.dtype and r.x.shape == x_T.shape
    assert np.all(np.isfinite(r.x))
    assert all(np.all(np.isfinite(x)) for x in r.trajectory)
    assert np.all(np.diff(r.times) < 0) and r.times[0] == schedule.t_start
    cls = SOLVERS[solver]
    if cls.singlestep and cls.order > 1:  # order-k steps cost k (infinite steps cost 1)
        assert sum(r.orders) + (len(r.times) - 1 - len(r.orders)) == nfe
    else:
        assert len(r.orders) + (len(r.times) - 1 - len(r.orders)) == nfe


@SETTINGS
@given(schedule=schedules, solver=st.sampled_from(sorted(SOLVERS)),
       cuts=st.lists(st.floats(0.0, 1.0, exclude_min=True, exclude_max=True), min_size=1,
                     max_size=25, unique=True),
       to_zero=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_explicit_steps_cost_what_is_reported(schedule, solver, cuts, to_zero, seed):
    """On a random grid, without an NFE given: the model is called exactly ``r.nfe`` times, which
    is one call per step (multistep) or the sum of the step orders (singlestep)."""
    ts = schedule.t_start
    te = 0.0 if to_zero else schedule.t_end
    # random interior points, equally likely anywhere in log-SNR between the ends' finite parts
    lo = float(schedule.lambda_(min(ts, getattr(schedule, "t_max_finite", ts))))
    hi = float(schedule.lambda_(max(te, schedule.t_eps)))
    lam = lo + (hi - lo) * np.sort(np.asarray(cuts))
    inner = np.asarray(schedule.t_from_lambda(lam), dtype=float)
    steps = np.concatenate([[ts], inner, [te]])
    steps = steps[np.concatenate([[True], np.diff(steps) < 0])]  # strictly decreasing
    assume(steps.size >= 2)
    model = Counting(MIXTURE.bind(schedule))
    r = sample(model, _start(schedule, seed, "float64"), schedule, solver=solver, steps=steps,
               rng=seed, return_info=True)
    assert model.calls == r.nfe
    assert np.all(np.isfinite(r.x))
    cls = SOLVERS[solver]
    expect = sum(r.orders) if cls.singlestep and cls.order > 1 else len(r.orders)
    assert r.nfe == expect


@SETTINGS
@given(schedule=schedules, solver=st.sampled_from(sorted(SOLVERS)), nfe=st.integers(1, 30),
       data=st.data())
def test_nan_is_reported_at_its_evaluation(schedule, solver, nfe, data):
    """A NaN returned at evaluation k stops the run there, with ``err.nfe == k``."""
    k = data.draw(st.integers(1, nfe), label="k")
    model = Counting(MIXTURE.bind(schedule), nan_at=k)
    with pytest.raises(NonFiniteError, match=r"model\.predict returned NaN/inf at step") as info:
        sample(model, _start(schedule, 0, "float64"), schedule, solver=solver, nfe=nfe, rng=0)
    assert info.value.nfe == k and model.calls == k
    assert 0 <= info.value.step < nfe
