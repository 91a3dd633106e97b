"""Zero terminal SNR and One More Step: the sample-mean bias of a leaking schedule.

A schedule whose last level keeps signal (latent diffusion's "scaled linear" betas:
``alpha_T = 0.0683``) is sampled from ``N(0, I)``, yet its true marginal at ``t = 1`` is
``sum_k w_k N(alpha_T mu_k, alpha_T^2 S_k + sigma_T^2 I)``: the missing ``alpha_T E[x0]`` in
the start shows up as a bias of the sample mean (Lin et al. 2024). Two cures:

* :func:`~sciflow.sampling.schedules.rescale_zero_terminal_snr` (Lin et al. Alg. 1): the
  terminal level becomes pure noise (``alpha = 0``), so ``N(0, I)`` *is* the marginal there;
  ``sample`` takes the first (``h = -inf``) step as the exact data-prediction step.
* One More Step (Hu et al. 2024), :func:`one_more_step`: keep the schedule and its model and
  prepend a transition from pure noise (``alpha = 0``) to the schedule's start level, taken
  under a zero-terminal-SNR schedule with a model of that transition. For a VP schedule the
  probability-flow ODE in the log-SNR ``lambda`` does not depend on the schedule, so the exact
  OMS map is the PF-ODE of the same data from ``lambda = -inf`` to ``lambda_T`` (for the
  analytic mixture: ``exact_ode_solution`` under any zero-SNR schedule, ``method="exact"``);
  ``method="sample"`` takes it with a sampler (``nfe = 1`` with ``ddim``: ``x_T = sigma_T z +
  alpha_T E[x0]``, one evaluation, which already gives the start the exact mean).

:func:`terminal_snr_bias` measures the bias exactly: ``E[Phi(z)] - alpha(t_end) E[x0]`` with
``z ~ N(0, I)`` and ``Phi`` the exact PF-ODE map to ``t_end``. The reference is exact: the PF-ODE
pushes the true marginal at ``t_start`` to the true marginal at ``t_end``, whose mean is
``alpha(t_end) E[x0]`` (the expectation is taken over the data side by a change of
variables, see :func:`terminal_snr_bias`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_choice, check_int, check_positive
from .backend import as_float_array
from .models import BoundGaussianMixture, GaussianMixture
from .schedules import DiscreteSchedule, VPSchedule, rescale_zero_terminal_snr

__all__ = ["one_more_step", "terminal_snr_bias", "TerminalSNRBias"]


def _vp_like(schedule, name):
    if not isinstance(schedule, VPSchedule | DiscreteSchedule):
        raise TypeError(f"{name} must be a VPSchedule or DiscreteSchedule (variance "
                        f"preserving), got {type(schedule).__name__}")
    return schedule


def one_more_step(oms_model, z, schedule, *, oms_schedule=None, t_start=None, method="sample",
                  solver="ddim", nfe=1, return_info=False, **options):
    """The One-More-Step transition: pure noise ``z`` -> the state at ``schedule``'s
    ``t_start`` (default ``schedule.t_start``), to be sampled on under ``schedule``.

    Parameters
    ----------
    oms_model
        A model (``predict(x, t, kind)``) under ``oms_schedule``, a zero-terminal-SNR VP
        schedule (``alpha(1) = 0``); for ``method="exact"`` a bound
        :class:`~sciflow.sampling.GaussianMixture`.
    z : array (..., d)
        Pure noise (``N(0, I)`` samples), NumPy or torch.
    schedule : VPSchedule or DiscreteSchedule
        The (leaking) schedule whose start level is the target.
    oms_schedule : optional
        Default ``oms_model.schedule``, else ``rescale_zero_terminal_snr(schedule)``.
    method : "sample" or "exact"
        ``"sample"``: :func:`~sciflow.sampling.sample` under ``oms_schedule`` from ``t = 1``
        to the time with the same log-SNR as ``schedule``'s start (``solver``, ``nfe``,
        ``options``); ``"exact"``: the mixture's exact PF-ODE.
    return_info : bool
        With ``"sample"``, return the :class:`~sciflow.sampling.SampleResult` (NFE included).
    """
    from .solvers import sample

    check_choice("method", method, ("sample", "exact"))
    if not callable(getattr(oms_model, "predict", None)):
        raise TypeError(f"oms_model must have a predict(x, t, kind) method, got "
                        f"{type(oms_model).__name__}")
    _vp_like(schedule, "schedule")
    if oms_schedule is None:
        oms_schedule = getattr(oms_model, "schedule", None)
        if oms_schedule is None:
            if not isinstance(schedule, DiscreteSchedule):
                raise ValueError("oms_schedule is required unless oms_model has a schedule or "
                                 "schedule is a DiscreteSchedule")
            oms_schedule = rescale_zero_terminal_snr(schedule)
    _vp_like(oms_schedule, "oms_schedule")
    if float(oms_schedule.alpha(1.0)) != 0.0:
        raise ValueError(f"oms_schedule must have zero terminal SNR (alpha(1) = 0), got "
                         f"alpha(1) = {float(oms_schedule.alpha(1.0)):.6g}")
    ts = schedule.t_start if t_start is None else float(schedule.check_t("t_start", t_start))
    lam_T = float(schedule.lambda_(ts))
    if not math.isfinite(lam_T):
        raise ValueError(f"schedule already starts from pure noise at t_start = {ts} "
                         "(alpha = 0): no extra step is needed")
    t_to = float(oms_schedule.t_from_lambda(lam_T))
    x, _ = as_float_array("z", z)
    if method == "exact":
        if not isinstance(oms_model, BoundGaussianMixture):
            raise TypeError(f"method='exact' needs oms_model to be a bound GaussianMixture, "
                            f"got {type(oms_model).__name__}")
        return oms_model.mixture.exact_ode_solution(x, oms_schedule, 1.0, t_to)
    return sample(oms_model, x, oms_schedule, solver=solver, nfe=nfe, t_start=1.0, t_end=t_to,
                  return_info=return_info, **options)


@dataclass(frozen=True)
class TerminalSNRBias:
    """Output of :func:`terminal_snr_bias`; every bias is ``E[x_end] - alpha(t_end) E[x0]``
    (shape (d,)) for ``N(0, I)`` at the start.

    ``plain``: the schedule as given; ``rescaled``: its zero-terminal-SNR rescaling (the model
    bound to it); ``oms``: One More Step by ``oms_nfe`` DDIM/sampler evaluations, then the
    schedule; ``oms_exact``: the exact OMS transition, then the schedule. ``nfe`` per entry;
    ``quad_error`` the max change of any bias between ``quad_points - 4`` and ``quad_points``.
    """

    plain: np.ndarray
    rescaled: np.ndarray
    oms: np.ndarray
    oms_exact: np.ndarray
    target: np.ndarray
    alpha_T: float
    quad_points: int
    quad_error: float
    nfe: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("plain", "rescaled", "oms", "oms_exact", "target"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim != 1 or not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be a finite 1-D array, got {a!r}")
            object.__setattr__(self, name, a)
        check_int("quad_points", self.quad_points, low=1)

    def reduction(self):
        """``|plain| / |cure|`` (Euclidean norms) for each cure."""
        p = float(np.linalg.norm(self.plain))
        out = {}
        for k in ("rescaled", "oms", "oms_exact"):
            c = float(np.linalg.norm(getattr(self, k)))
            out[k] = p / c if c > 0.0 else math.inf
        return out

    CURES = ("plain", "rescaled", "oms", "oms_exact")

    def plot(self, ax=None, **kwargs):
        """Bars of the bias norm ``|E[x_end] - alpha(t_end) E[x0]|`` per cure (log scale;
        ``kwargs`` to ``Axes.bar``); returns the Axes."""
        from ._surface import new_axes

        ax = new_axes(ax)
        norms = [float(np.linalg.norm(getattr(self, k))) for k in self.CURES]
        ax.bar(list(self.CURES), norms, **kwargs)
        ax.set_yscale("log")
        ax.set_ylabel("|bias of the sample mean|")
        ax.set_title(f"alpha(T) = {self.alpha_T:.3g}")
        return ax

    def to_xarray(self):
        """``bias`` (cure, dim) for the cures ``plain, rescaled, oms, oms_exact`` and
        ``target`` (dim) = ``alpha(t_end) E[x0]``; alpha_T, quadrature and nfe in attrs."""
        from ._surface import plain_attrs, xarray

        xr = xarray()
        bias = np.stack([getattr(self, k) for k in self.CURES])
        return xr.Dataset(
            {"bias": (("cure", "dim"), bias,
                      {"long_name": "E[x_end] - alpha(t_end) E[x0]", "units": "same as x"}),
             "target": ("dim", self.target, {"long_name": "alpha(t_end) E[x0]"})},
            coords={"cure": list(self.CURES), "dim": np.arange(self.target.size)},
            attrs=plain_attrs(alpha_T=self.alpha_T, quad_points=self.quad_points,
                              quad_error=self.quad_error,
                              **{f"nfe_{k}": v for k, v in self.nfe.items()}))


def _gauss_hermite(n, d):
    x, w = np.polynomial.hermite_e.hermegauss(n)  # weight exp(-x^2/2)
    w = w / math.sqrt(2.0 * math.pi)
    pts = np.array(list(itertools.product(x, repeat=d)))
    wts = np.prod(np.array(list(itertools.product(w, repeat=d))), axis=1)
    return pts, wts


def _log_normal(z, mean, var):
    d = z.shape[-1]
    return (-0.5 * np.sum((z - mean) ** 2, axis=-1) / var
            - 0.5 * d * math.log(2.0 * math.pi * var))


def terminal_snr_bias(mixture, schedule=None, *, t_end=None, quad_points=10, rtol=1e-12):
    """The exact bias of the sample mean when the PF-ODE under ``schedule`` (default
    :meth:`DiscreteSchedule.scaled_linear`) starts from ``N(0, I)`` at ``t = 1``, and after
    the cures (rescaled schedule; One More Step by one DDIM evaluation; exact OMS).

    How (exact up to quadrature and ODE tolerance): the PF-ODE map ``Phi`` (t = 1 -> t_end)
    pushes the true marginal ``p_T`` to the true ``p_end``, so for a start density ``q``
    ``E_q[Phi(z)] = E_{x ~ p_end}[x q(Phi^-1 x) / p_T(Phi^-1 x)]`` and the bias is
    ``E_{p_end}[x (r(Phi^-1 x) - 1)]``, ``r = q / p_T``. ``p_end`` is a Gaussian mixture and
    ``x -> r(Phi^-1 x)`` is smooth on it (the encoder map is smooth where the data are; the
    decoder's sharp transitions sit in the gaps), so a Gauss-Hermite rule per component
    (``quad_points`` per axis) converges fast; ``quad_error`` is the change from
    ``quad_points - 4``. ``Phi^-1`` is ``exact_ode_solution`` (``rtol = atol``, default
    1e-12). Start densities: plain ``q = N(0, I)``; rescaled ``q = N(0, I) = p_T`` (so 0 up
    to the ``lambda`` clipping ``e^-40``); OMS with one DDIM step ``q = N(alpha_T E[x0],
    sigma_T^2 I)`` (the exact mean, the covariance short by ``alpha_T^2 Cov[x0]``); exact OMS
    ``q = p_T``.
    """
    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    schedule = DiscreteSchedule.scaled_linear() if schedule is None else schedule
    if not isinstance(schedule, DiscreteSchedule):
        raise TypeError(f"schedule must be a DiscreteSchedule, got {type(schedule).__name__}")
    if schedule.zero_terminal_snr:
        raise ValueError("schedule already has zero terminal SNR: there is no bias to cure")
    quad_points = check_int("quad_points", quad_points, low=5, high=30)
    te = schedule.t_end if t_end is None else float(schedule.check_t("t_end", t_end))
    if not te < 1.0:
        raise ValueError(f"t_end must be < 1, got {te}")
    rtol = check_positive("rtol", rtol)
    zsched = rescale_zero_terminal_snr(schedule)
    d = mixture.dim
    a_T, s_T = float(schedule.alpha(1.0)), float(schedule.sigma(1.0))
    mean0 = mixture.mean()

    def biases(n):
        u, wu = _gauss_hermite(n, d)
        out = {}
        for key, sch in (("plain", schedule), ("rescaled", zsched)):
            a_e, s_e = float(sch.alpha(te)), float(sch.sigma(te))
            xs, ws = [], []
            for k in range(mixture.n_components):
                cov = a_e ** 2 * mixture.covs[k] + s_e ** 2 * np.eye(d)
                xs.append(a_e * mixture.means[k] + u @ np.linalg.cholesky(cov).T)
                ws.append(mixture.weights[k] * wu)
            x, w = np.concatenate(xs), np.concatenate(ws)
            z = mixture.exact_ode_solution(x, sch, te, 1.0, rtol=rtol, atol=rtol)
            lp_T = np.asarray(mixture.log_density(z, 1.0, sch), dtype=float)
            if key == "rescaled":
                out[key] = w @ (x * np.expm1(_log_normal(z, 0.0, 1.0) - lp_T)[:, None])
                continue
            out["plain"] = w @ (x * np.expm1(_log_normal(z, 0.0, 1.0) - lp_T)[:, None])
            out["oms"] = w @ (x * np.expm1(_log_normal(z, a_T * mean0, s_T ** 2)
                                           - lp_T)[:, None])
            out["oms_exact"] = np.zeros(d)  # q = p_T: r = 1 identically
        return out

    hi = biases(quad_points)
    lo = biases(quad_points - 4)
    qerr = max(float(np.max(np.abs(hi[k] - lo[k]))) for k in hi)
    target = float(schedule.alpha(te)) * mean0
    return TerminalSNRBias(plain=hi["plain"], rescaled=hi["rescaled"], oms=hi["oms"],
                           oms_exact=hi["oms_exact"], target=target, alpha_T=a_T,
                           quad_points=quad_points, quad_error=qerr,
                           nfe={"plain": 0, "rescaled": 0, "oms": 1, "oms_exact": 0})
