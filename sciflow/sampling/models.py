"""Analytic models: a Gaussian mixture with exact noised density and predictions.

If ``x_0 ~ sum_k w_k N(mu_k, S_k)`` and ``x_t = alpha x_0 + sigma eps``, then
``x_t ~ sum_k w_k N(alpha mu_k, C_k)`` with ``C_k = alpha^2 S_k + sigma^2 I``, and with the
posterior component weights ``g_k(x) = w_k N(x; alpha mu_k, C_k) / p_t(x)``:

* score ``grad log p_t = -sum_k g_k C_k^{-1} (x - alpha mu_k)``
* ``E[x_0 | x_t] = sum_k g_k (mu_k + alpha S_k C_k^{-1} (x - alpha mu_k))``
* ``E[eps | x_t] = sum_k g_k sigma C_k^{-1} (x - alpha mu_k)``
* velocity (the probability-flow ODE's ``dx/dt``) ``alpha' E[x_0|x_t] + sigma' E[eps|x_t]
  = alpha' E[x_0|x_t] - sigma sigma' score``.

These are evaluated directly (not through Tweedie's formula), so they stay finite at
``alpha = 0`` (flow/cosine start: ``E[x_0|x_t]`` is the mixture mean) and at ``sigma = 0``
(``E[eps|x_t] = 0``). The ``t``-dependent matrices are computed in float64 NumPy; the
``x``-dependent work runs in the input's backend (NumPy or torch), in its dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from .._validate import as_rng, check_array, check_choice, check_int, check_positive
from .backend import as_float_array, get_namespace
from .schedules import Schedule

__all__ = ["GaussianMixture", "BoundGaussianMixture", "PREDICTION_KINDS"]

PREDICTION_KINDS = ("eps", "x0", "score", "velocity")
ODE_METHODS = ("DOP853", "RK45", "Radau", "BDF", "LSODA")


def _check_schedule(schedule):
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a VPSchedule, EDMSchedule or FlowSchedule, got "
                        f"{type(schedule).__name__}")
    return schedule


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """A d-dimensional Gaussian mixture with full covariances.

    Parameters
    ----------
    weights : (K,) array_like
        Non-negative, normalised to sum 1.
    means : (K, d) array_like
    covs : (K, d, d) array_like
        Symmetric positive definite.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    _chol: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        w = check_array("weights", self.weights, ndim=1, min_size=1)
        if np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        w = w / w.sum()
        mu = check_array("means", self.means)
        if mu.ndim == 1 and w.size == 1:
            mu = mu[None, :]
        if mu.ndim != 2 or mu.shape[0] != w.size:
            raise ValueError(f"means must have shape (K, d) = ({w.size}, d), got {mu.shape}")
        d = mu.shape[1]
        if d < 1:
            raise ValueError(f"means must have at least one dimension d, got shape {mu.shape}")
        cov = check_array("covs", self.covs)
        if cov.ndim == 2 and w.size == 1:
            cov = cov[None]
        if cov.shape != (w.size, d, d):
            raise ValueError(f"covs must have shape (K, d, d) = ({w.size}, {d}, {d}), "
                             f"got {cov.shape}")
        if not np.allclose(cov, np.swapaxes(cov, 1, 2), rtol=1e-12, atol=1e-14):
            raise ValueError("covs must be symmetric")
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("covs must be positive definite") from None
        for name, val in (("weights", w), ("means", mu), ("covs", cov), ("_chol", chol)):
            val = np.array(val, dtype=float)
            val.setflags(write=False)
            object.__setattr__(self, name, val)

    # ------------------------------------------------------------------ basics
    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_components(self) -> int:
        return int(self.weights.size)

    def mean(self):
        """Mean of the data distribution."""
        return self.weights @ self.means

    def covariance(self):
        """Covariance of the data distribution."""
        m = self.mean()
        dm = self.means - m
        return np.einsum("k,kij->ij", self.weights, self.covs) + np.einsum(
            "k,ki,kj->ij", self.weights, dm, dm)

    def sample(self, n, rng=None):
        """``n`` draws from the data distribution (float64, shape (n, d))."""
        n = check_int("n", n, low=0)
        rng = as_rng(rng)
        comp = rng.choice(self.n_components, size=n, p=self.weights)
        z = rng.standard_normal((n, self.dim))
        return self.means[comp] + np.einsum("nij,nj->ni", self._chol[comp], z)

    def bind(self, schedule):
        """A model object ``predict(x, t, kind)`` for sampling under ``schedule``."""
        return BoundGaussianMixture(self, _check_schedule(schedule))

    # ------------------------------------------------------------------ noised quantities
    def _t_terms(self, schedule, t):
        """alpha, sigma and per-component (precision C^-1, log-normaliser) at scalar t."""
        t = float(schedule.check_t("t", t))
        la, ls = float(schedule.log_alpha(t)), float(schedule.log_sigma(t))
        a, s = math.exp(la), (math.exp(ls) if ls > -math.inf else 0.0)
        d = self.dim
        cov_t = a * a * self.covs + (s * s) * np.eye(d)
        chol = np.linalg.cholesky(cov_t)
        eye = np.broadcast_to(np.eye(d), cov_t.shape)
        linv = np.linalg.solve(chol, eye)
        prec = np.swapaxes(linv, 1, 2) @ linv
        prec = 0.5 * (prec + np.swapaxes(prec, 1, 2))
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        lognorm = np.log(self.weights) - 0.5 * logdet - 0.5 * d * math.log(2.0 * math.pi)
        return t, a, s, prec, lognorm

    def _posterior(self, x, schedule, t):
        """(xp, shape, flat x, g (K, n), y = C^-1 (x - alpha mu) (K, n, d), logp (n,), terms).

        Arrays are laid out component-first so that every product is a batched matmul.
        """
        _check_schedule(schedule)
        x, xp = as_float_array("x", x)
        shape = tuple(x.shape)
        if len(shape) == 0 or shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got {shape}")
        xf = xp.reshape(x, (-1, self.dim))
        tt, a, s, prec, lognorm = self._t_terms(schedule, t)
        amu = xp.from_numpy(a * self.means[:, None, :], like=xf)  # (K, 1, d)
        diff = xf[None, :, :] - amu  # (K, n, d)
        y = xp.matmul(diff, xp.from_numpy(prec, like=xf))  # C^-1 symmetric
        quad = xp.sum(diff * y, axis=2)  # (K, n)
        logits = xp.from_numpy(lognorm[:, None], like=xf) - 0.5 * quad
        g, logp = xp.softmax_and_logsumexp(logits, axis=0)
        return xp, shape, xf, g, y, logp, (tt, a, s)

    def log_density(self, x, t, schedule):
        """``log p_t(x)`` of the noised distribution (shape ``x.shape[:-1]``)."""
        xp, shape, _, _, _, logp, _ = self._posterior(x, schedule, t)
        return xp.reshape(logp, shape[:-1])

    def density(self, x, t, schedule):
        """``p_t(x)``."""
        lp = self.log_density(x, t, schedule)
        return get_namespace(lp).exp(lp)

    def predict(self, x, t, kind, schedule):
        """Exact ``"eps"``, ``"x0"``, ``"score"`` or ``"velocity"`` at ``(x, t)``.

        ``x`` has shape (..., d) (NumPy or torch, float32/float64; the same type comes back);
        ``t`` is a scalar time of ``schedule``. ``"velocity"`` is the probability-flow ODE's
        ``dx/dt`` (for :class:`~sciflow.sampling.FlowSchedule` the rectified-flow velocity
        ``eps - x0``), not the Salimans-Ho v-prediction.
        """
        check_choice("kind", kind, PREDICTION_KINDS)
        xp, shape, xf, g, y, _, (tt, a, s) = self._posterior(x, schedule, t)
        gw = g[:, :, None]
        gy = xp.sum(gw * y, axis=0)  # = -score
        if kind == "score":
            out = -gy
        elif kind == "eps":
            out = s * gy
        else:
            x0 = xp.matmul(g.T, xp.from_numpy(self.means, like=xf))
            if a != 0.0:
                # E[x0 | x, k] = mu_k + alpha S_k C_k^{-1} (x - alpha mu_k) = mu_k + alpha S_k y_k
                sy = xp.matmul(y, xp.from_numpy(self.covs, like=xf))  # S symmetric
                x0 = x0 + a * xp.sum(gw * sy, axis=0)
            if kind == "x0":
                out = x0
            else:
                da = float(schedule.dalpha(tt))
                ss = float(schedule.sigma_dsigma(tt))
                out = da * x0 + ss * gy
        return xp.reshape(out, shape)

    # ------------------------------------------------------------------ exact ODE solution
    def exact_ode_solution(self, x_T, schedule, t_T, t_0, *, rtol=1e-12, atol=1e-12,
                           method="DOP853", lambda_clip=40.0):
        """The probability-flow ODE solved from ``(x_T, t_T)`` to ``t_0`` (~1e-10 accurate).

        The ODE is integrated in the log-SNR ``lambda`` (either direction), vectorised over
        all samples with scipy's ``solve_ivp`` (DOP853, ``rtol = atol = 1e-12`` by default),
        in well-conditioned variables: for ``lambda < 0`` in ``y = x/sigma`` with
        ``dy/dlambda = e^lambda E[x0|x]``, for ``lambda > 0`` in ``z = x/alpha`` with
        ``dz/dlambda = E[x0|x] - z`` (both have Jacobians with eigenvalues in [-1, 1]).
        Infinite ends (``alpha = 0`` or ``sigma = 0``) are replaced by ``-/+ lambda_clip``;
        the neglected part is of size ``exp(-lambda_clip)`` (resp. ``exp(-2 lambda_clip)``).
        Returns the same array type as ``x_T``.
        """
        _check_schedule(schedule)
        rtol = check_positive("rtol", rtol)
        atol = check_positive("atol", atol)
        lambda_clip = check_positive("lambda_clip", lambda_clip)
        check_choice("method", method, ODE_METHODS)
        x, xp = as_float_array("x_T", x_T)
        shape = tuple(x.shape)
        if len(shape) == 0 or shape[-1] != self.dim:
            raise ValueError(f"x_T must have shape (..., {self.dim}), got {shape}")
        xn = np.asarray(xp.to_numpy(x), dtype=float).reshape(-1, self.dim)
        t_T = float(schedule.check_t("t_T", t_T))
        t_0 = float(schedule.check_t("t_0", t_0))
        if t_T == t_0:
            return x
        lam_T = float(np.clip(schedule.lambda_(t_T), -lambda_clip, lambda_clip))
        lam_0 = float(np.clip(schedule.lambda_(t_0), -lambda_clip, lambda_clip))
        n = xn.shape[0]

        def x0_hat(xflat, lam):
            t = float(schedule.t_from_lambda(lam))
            return self.predict(xflat.reshape(n, self.dim), t, "x0", schedule).ravel()

        def rhs_y(lam, y):
            s = float(schedule.sigma(schedule.t_from_lambda(lam)))
            return math.exp(lam) * x0_hat(s * y, lam)

        def rhs_z(lam, z):
            a = float(schedule.alpha(schedule.t_from_lambda(lam)))
            return x0_hat(a * z, lam) - z

        # the conversions use the true end times: y and z are constant across the clipped parts
        a_T, s_T = float(schedule.alpha(t_T)), float(schedule.sigma(t_T))
        direction = 1.0 if lam_0 > lam_T else -1.0
        if lam_T < 0.0 or (lam_T == 0.0 and direction < 0):
            state, var = xn.ravel() / s_T, "y"
        else:
            state, var = xn.ravel() / a_T, "z"
        if var == "y" and direction > 0 and lam_0 > 0.0:
            segments = [("y", lam_T, 0.0), ("z", 0.0, lam_0)]
        elif var == "z" and direction < 0 and lam_0 < 0.0:
            segments = [("z", lam_T, 0.0), ("y", 0.0, lam_0)]
        else:
            segments = [(var, lam_T, lam_0)]
        for v, l0, l1 in segments:
            if v != var:  # switch variables at lambda = 0 (alpha = sigma)
                t_sw = float(schedule.t_from_lambda(0.0))
                a_sw, s_sw = float(schedule.alpha(t_sw)), float(schedule.sigma(t_sw))
                state = state * s_sw / a_sw if v == "z" else state * a_sw / s_sw
                var = v
            if l0 == l1:
                continue
            sol = solve_ivp(rhs_y if v == "y" else rhs_z, (l0, l1), state, method=method,
                            rtol=rtol, atol=atol)
            if not sol.success:  # pragma: no cover - DOP853 on a smooth, non-stiff problem
                raise RuntimeError(f"exact_ode_solution: integrator failed: {sol.message}")
            state = sol.y[:, -1]
        if var == "y":
            out = state * float(schedule.sigma(t_0))
        else:
            out = state * float(schedule.alpha(t_0))
        return xp.from_numpy(out.reshape(shape), like=x)


class BoundGaussianMixture:
    """A :class:`GaussianMixture` bound to a schedule: the sampler's model interface.

    ``predict(x, t, kind="eps")`` returns the exact prediction in the array type of ``x``.
    """

    def __init__(self, mixture, schedule):
        if not isinstance(mixture, GaussianMixture):
            raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
        self.mixture = mixture
        self.schedule = _check_schedule(schedule)

    @property
    def dim(self) -> int:
        return self.mixture.dim

    def predict(self, x, t, kind="eps"):
        return self.mixture.predict(x, t, kind, self.schedule)

    def __call__(self, x, t, kind="eps"):
        return self.predict(x, t, kind)

    def exact_ode_solution(self, x_T, t_T=None, t_0=None, **kwargs):
        """:meth:`GaussianMixture.exact_ode_solution` under the bound schedule (defaults: the
        schedule's ``t_start`` and ``t_end``)."""
        s = self.schedule
        return self.mixture.exact_ode_solution(x_T, s, s.t_start if t_T is None else t_T,
                                               s.t_end if t_0 is None else t_0, **kwargs)

    def __repr__(self):
        return f"BoundGaussianMixture(K={self.mixture.n_components}, d={self.dim}, " \
               f"schedule={self.schedule!r})"
