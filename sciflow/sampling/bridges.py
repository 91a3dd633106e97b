"""Brownian-bridge interpolants between two Gaussian mixtures, with exact drifts and samplers.

The process
-----------
Given end-point laws ``p_0`` and ``p_1`` (:class:`~sciflow.sampling.GaussianMixture` s; a
Gaussian is a one-component mixture) and the independent coupling ``(x_0, x_1) ~ p_0 x p_1``,

    ``x_t = (1 - t) x_0 + t x_1 + sigma gamma(t) z,   gamma(t) = sqrt(t (1 - t)),  z ~ N(0, I)``,

for ``t in [0, 1]``: conditionally on its end points this is a Brownian bridge of diffusion
coefficient ``sigma`` (the interpolant of BBDM, Li et al. 2023, and of the stochastic
interpolants of Albergo & Vanden-Eijnden 2023; ``sigma = 0`` is rectified flow between two
data laws). Its marginal ``rho_t`` is transported from ``p_0`` to ``p_1`` by

* the probability-flow ODE ``dx/dt = b(x, t)`` with ``b(x, t) = E[x_1 - x_0 + sigma gamma'(t) z
  | x_t = x]``, ``gamma' = (1 - 2t) / (2 gamma)``;
* for any ``eps >= 0`` the SDE ``dx = [b + eps s] dt + sqrt(2 eps) dW`` with the score
  ``s = grad log rho_t = -E[z | x_t = x] / (sigma gamma)``.

Closed forms
------------
*Gaussian end points* ``N(m_0, S_0)``, ``N(m_1, S_1)``: ``x_t ~ N(m_t, C_t)`` with ``m_t = (1-t)
m_0 + t m_1``, ``C_t = (1-t)^2 S_0 + t^2 S_1 + sigma^2 t (1-t) I``. ``(x_0, x_1, z, x_t)`` are
jointly Gaussian and ``Cov(x_1 - x_0 + sigma gamma' z, x_t) = t S_1 - (1-t) S_0 + sigma^2 (1-2t)/2 I
= C_t'/2``, so

    ``b(x, t) = m_t' + (1/2) C_t' C_t^{-1} (x - m_t)``,   ``s(x, t) = -C_t^{-1} (x - m_t)``.

The flow map is affine: ``x_t = m_t + A_t (x_0 - m_0)`` with ``A_t' = (1/2) C_t' C_t^{-1} A_t``,
``A_0 = I``; then ``P_t = A_t S_0 A_t^T`` solves ``P' = (1/2)(C' C^{-1} P + P C^{-1} C')``, whose
unique solution with ``P_0 = C_0`` is ``C_t``: the transported law is ``N(m_1, S_1)`` exactly.
When ``S_0`` and ``S_1`` commute ``A_t = C_t^{1/2} C_0^{-1/2}`` in closed form; otherwise
:meth:`BrownianBridge.gaussian_flow_map` integrates the matrix ODE (``solve_ivp``, DOP853,
``rtol = atol = 1e-12``).

*Mixtures* ``p_0 = sum_i a_i N(mu_i, A_i)``, ``p_1 = sum_j b_j N(nu_j, B_j)``: the independent
coupling is the mixture over pairs ``(i, j)`` (weights ``a_i b_j``) of Gaussian couplings, so
``rho_t = sum_ij a_i b_j N(m_ij(t), C_ij(t))`` (:meth:`BrownianBridge.marginal`) and, with the
posterior pair weights ``w_ij(x, t) = a_i b_j N(x; m_ij, C_ij) / rho_t(x)``,

    ``b(x, t) = sum_ij w_ij [m_ij' + (1/2) C_ij' C_ij^{-1} (x - m_ij)]``,
    ``s(x, t) = -sum_ij w_ij C_ij^{-1} (x - m_ij)``.

(Tower property: ``E[f | x_t] = sum_ij P(ij | x_t) E[f | x_t, ij]`` and each pair is the
Gaussian case.) Both are exact; the tests check the continuity equation ``d rho/dt + div(rho b)
= 0`` and ``s = grad log rho`` by finite differences.

Samplers
--------
:meth:`BrownianBridge.transport` moves samples of ``p_0`` (at ``t_start = 0``) to ``t_end = 1``
on a uniform grid: ``"euler"`` (order 1), ``"heun"`` (2), ``"rk4"`` (4) for the ODE and
``"euler_maruyama"`` for the SDE (strong order 1/2, weak order 1; needs ``rng``). ``nfe`` is the
number of drift evaluations (a multiple of the stages: 1, 2, 4, 1). Observed orders on the
Gaussian case (covariance error of the transported law, computed exactly through the affine
step map; tests/sampling/test_bridges.py): Euler 1.0, Heun 2.0, RK4 4.0.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .._validate import as_rng, check_array, check_choice, check_int, check_nonnegative, check_real
from ._surface import check_progress, progress_iter
from .models import GaussianMixture

__all__ = ["BrownianBridge", "BridgeResult", "BRIDGE_METHODS"]

BRIDGE_METHODS = {"euler": 1, "heun": 2, "rk4": 4, "euler_maruyama": 1}  # name -> stages


def _check_time(name, t):
    t = check_real(name, t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {t}")
    return t


@dataclass(frozen=True)
class BridgeResult:
    """Output of :meth:`BrownianBridge.transport`.

    ``x`` the samples at ``t[-1]`` (n, d); ``t`` the time grid; ``nfe`` drift evaluations;
    ``trajectory`` (len(t), n, d) when requested, else ``None``; ``wall_time`` seconds.
    """

    x: np.ndarray
    t: np.ndarray
    nfe: int
    method: str
    trajectory: np.ndarray | None = None
    wall_time: float = 0.0

    def __post_init__(self):
        x = check_array("x", self.x, ndim=2, finite=False)
        t = check_array("t", self.t, ndim=1, min_size=2)
        check_int("nfe", self.nfe, low=0)
        check_choice("method", self.method, tuple(BRIDGE_METHODS))
        if self.trajectory is not None:
            traj = np.asarray(self.trajectory)
            if traj.shape != (t.size, *x.shape):
                raise ValueError(f"trajectory must have shape {(t.size, *x.shape)}, got "
                                 f"{traj.shape}")

    def plot(self, ax=None, n_paths=50, dims=(0, 1), **kwargs):
        """Paths of the first ``n_paths`` samples in the plane ``dims`` when the trajectory was
        recorded (``kwargs`` to ``Axes.plot``), the final samples as points; returns the Axes."""
        from ._surface import new_axes

        n_paths = check_int("n_paths", n_paths, low=1)
        x = np.asarray(self.x, dtype=float)
        d = x.shape[1]
        try:
            i, j = (check_int("dims[k]", v, low=0, high=d - 1) for v in dims)
        except (TypeError, ValueError):
            raise ValueError(f"dims must be two axes in [0, {d - 1}], got {dims!r}") from None
        ax = new_axes(ax)
        m = min(n_paths, x.shape[0])
        if self.trajectory is not None:
            traj = np.asarray(self.trajectory, dtype=float)
            ax.plot(traj[:, :m, i], traj[:, :m, j], **{"lw": 0.6, "alpha": 0.6, **kwargs})
            ax.plot(x[:m, i], x[:m, j], "k.", ms=2)
        else:
            ax.plot(x[:, i], x[:, j], **{"ls": "none", "marker": ".", "ms": 2, **kwargs})
        ax.set_xlabel(f"x[{i}]")
        ax.set_ylabel(f"x[{j}]")
        ax.set_title(f"bridge ({self.method}), NFE {self.nfe}")
        return ax

    def to_xarray(self):
        """``x`` (sample, dim) at ``t[-1]`` and, when recorded, ``trajectory`` (t, sample, dim)
        on the bridge time ``t`` in [0, 1]; method, nfe, wall time (s) in attrs."""
        from ._surface import xarray

        xr = xarray()
        data = {"x": (("sample", "dim"), np.asarray(self.x, dtype=float))}
        if self.trajectory is not None:
            data["trajectory"] = (("t", "sample", "dim"),
                                  np.asarray(self.trajectory, dtype=float))
        return xr.Dataset(data, coords={"t": ("t", np.asarray(self.t, dtype=float),
                                              {"long_name": "bridge time", "units": "1"})},
                          attrs={"method": self.method, "nfe": self.nfe,
                                 "wall_time": self.wall_time, "wall_time_units": "s"})


class BrownianBridge:
    """The bridge ``x_t = (1-t) x_0 + t x_1 + sigma sqrt(t(1-t)) z`` between two Gaussian
    mixtures under the independent coupling (see the module docstring).

    Parameters
    ----------
    p0, p1 : GaussianMixture
        End-point laws (same dimension). Every pair of components needs ``C_ij(t)`` positive
        definite on ``[0, 1]``, which holds as the component covariances are.
    sigma : float
        Diffusion coefficient of the bridge (``>= 0``; 0: the straight-line interpolant).
    """

    def __init__(self, p0, p1, sigma=0.0):
        for name, p in (("p0", p0), ("p1", p1)):
            if not isinstance(p, GaussianMixture):
                raise TypeError(f"{name} must be a GaussianMixture, got {type(p).__name__}")
        if p0.dim != p1.dim:
            raise ValueError(f"p1 must have the dimension of p0 ({p0.dim}), got {p1.dim}")
        self.p0, self.p1 = p0, p1
        self.sigma = check_nonnegative("sigma", sigma)
        k0, k1 = p0.n_components, p1.n_components
        # pair (i, j) -> flat index i * k1 + j
        self._w = (p0.weights[:, None] * p1.weights[None, :]).reshape(-1)
        self._m0 = np.repeat(p0.means, k1, axis=0)
        self._m1 = np.tile(p1.means, (k0, 1))
        self._s0 = np.repeat(p0.covs, k1, axis=0)
        self._s1 = np.tile(p1.covs, (k0, 1, 1))

    def __repr__(self):
        return (f"BrownianBridge(dim={self.dim}, components=({self.p0.n_components}, "
                f"{self.p1.n_components}), sigma={self.sigma})")

    @property
    def dim(self) -> int:
        return self.p0.dim

    # ------------------------------------------------------------------ pair moments
    def _pairs(self, t):
        """(m, dm, C, dC) of every pair at time t: (P, d), (P, d), (P, d, d), (P, d, d)."""
        eye = np.eye(self.dim)
        s2 = self.sigma**2
        m = (1 - t) * self._m0 + t * self._m1
        dm = self._m1 - self._m0
        c = (1 - t) ** 2 * self._s0 + t**2 * self._s1 + s2 * t * (1 - t) * eye
        dc = -2 * (1 - t) * self._s0 + 2 * t * self._s1 + s2 * (1 - 2 * t) * eye
        return m, dm, c, dc

    def _x(self, x):
        x = check_array("x", x)
        if x.ndim == 1 and x.size == self.dim:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {x.shape}")
        return x

    def _posterior(self, x, t):
        """Pair weights w (n, P), C^{-1}(x - m) (n, P, d) and the pair moments."""
        m, dm, c, dc = self._pairs(t)
        chol = np.linalg.cholesky(c)
        linv = np.linalg.inv(chol)  # (P, d, d), lower triangular
        diff = x[:, None, :] - m[None]  # (n, P, d)
        y = np.einsum("pij,npj->npi", linv, diff)  # L^{-1} (x - m)
        logdet = 2 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        with np.errstate(divide="ignore"):
            logw = np.log(self._w)
        logp = logw - 0.5 * np.sum(y * y, axis=2) - 0.5 * logdet - 0.5 * self.dim * math.log(
            2 * math.pi)
        lse = np.max(logp, axis=1, keepdims=True)
        w = np.exp(logp - lse)
        norm = w.sum(axis=1, keepdims=True)
        cinv_diff = np.einsum("pji,npj->npi", linv, y)  # C^{-1} (x - m)
        log_rho = (lse + np.log(norm))[:, 0]
        return w / norm, cinv_diff, log_rho, (m, dm, c, dc)

    # ------------------------------------------------------------------ exact quantities
    def marginal(self, t):
        """The law of ``x_t``: a :class:`GaussianMixture` with ``K_0 K_1`` components (pairs
        of zero weight dropped)."""
        t = _check_time("t", t)
        m, _, c, _ = self._pairs(t)
        keep = self._w > 0
        return GaussianMixture(self._w[keep], m[keep], c[keep])

    def log_density(self, x, t):
        """``log rho_t(x)`` (n,)."""
        t = _check_time("t", t)
        return self._posterior(self._x(x), t)[2]

    def velocity(self, x, t):
        """The probability-flow drift ``b(x, t) = E[x_1 - x_0 + sigma gamma' z | x_t = x]``
        (n, d), exact."""
        t = _check_time("t", t)
        x = self._x(x)
        w, cinv_diff, _, (_, dm, _, dc) = self._posterior(x, t)
        per = dm[None] + 0.5 * np.einsum("pij,npj->npi", dc, cinv_diff)
        return np.einsum("np,npi->ni", w, per)

    def score(self, x, t):
        """``grad_x log rho_t(x)`` (n, d), exact."""
        t = _check_time("t", t)
        x = self._x(x)
        w, cinv_diff, _, _ = self._posterior(x, t)
        return -np.einsum("np,npi->ni", w, cinv_diff)

    def drift(self, x, t, eps=None):
        """SDE drift ``b + eps s`` (``eps`` defaults to ``sigma^2 / 2``)."""
        eps = self.sigma**2 / 2 if eps is None else check_nonnegative("eps", eps)
        t = _check_time("t", t)
        x = self._x(x)
        w, cinv_diff, _, (_, dm, _, dc) = self._posterior(x, t)
        per = dm[None] + 0.5 * np.einsum("pij,npj->npi", dc, cinv_diff) - eps * cinv_diff
        return np.einsum("np,npi->ni", w, per)

    def sample_marginal(self, n, t, rng=None):
        """``n`` draws of ``x_t`` by the interpolant formula (end points drawn from ``p0`` and
        ``p1`` independently, ``z ~ N(0, I)``)."""
        n = check_int("n", n, low=0)
        t = _check_time("t", t)
        rng = as_rng(rng)
        x0 = self.p0.sample(n, rng)
        x1 = self.p1.sample(n, rng)
        z = rng.standard_normal((n, self.dim))
        return (1 - t) * x0 + t * x1 + self.sigma * math.sqrt(t * (1 - t)) * z

    def gaussian_flow_map(self, t0=0.0, t1=1.0, *, method="auto"):
        """``(A, c)`` with ``x_{t1} = A x_{t0} + c`` the exact ODE flow map (one-component end
        points only).

        ``method="closed_form"`` uses ``A = C_{t1}^{1/2} C_{t0}^{-1/2}`` (valid when ``S_0`` and
        ``S_1`` commute); ``"ode"`` integrates ``A' = C' C^{-1} A / 2`` with DOP853 (``rtol =
        atol = 1e-12``); ``"auto"`` picks the closed form when ``|S_0 S_1 - S_1 S_0| <= 1e-14
        |S_0| |S_1|``.
        """
        t0 = _check_time("t0", t0)
        t1 = _check_time("t1", t1)
        check_choice("method", method, ("auto", "closed_form", "ode"))
        if self.p0.n_components != 1 or self.p1.n_components != 1:
            raise ValueError("gaussian_flow_map needs one-component end points p0 and p1, got "
                             f"{self.p0.n_components} and {self.p1.n_components} components")
        s0, s1 = self.p0.covs[0], self.p1.covs[0]
        if method == "auto":
            comm = np.abs(s0 @ s1 - s1 @ s0).max()
            small = 1e-14 * np.abs(s0).max() * np.abs(s1).max()
            method = "closed_form" if comm <= small else "ode"
        m_a, _, c_a, _ = self._pairs(t0)
        m_b, _, c_b, _ = self._pairs(t1)
        if method == "closed_form":
            A = _sym_power(c_b[0], 0.5) @ _sym_power(c_a[0], -0.5)
        else:
            A = self._integrate_flow_matrix(t0, t1)
        return A, m_b[0] - A @ m_a[0]

    def _integrate_flow_matrix(self, t0, t1):
        from scipy.integrate import solve_ivp

        d = self.dim
        if t0 == t1:
            return np.eye(d)

        def rhs(t, a):
            _, _, c, dc = self._pairs(t)
            k = 0.5 * np.linalg.solve(c[0].T, dc[0].T).T  # C' C^{-1} / 2
            return (k @ a.reshape(d, d)).ravel()

        sol = solve_ivp(rhs, (t0, t1), np.eye(d).ravel(), method="DOP853", rtol=1e-12,
                        atol=1e-12)
        return sol.y[:, -1].reshape(d, d)

    # ------------------------------------------------------------------ sampler
    def transport(self, x, *, method="rk4", nfe=40, t_start=0.0, t_end=1.0, eps=None,
                  rng=None, return_trajectory=False, progress=False):
        """Integrate the bridge ODE (or SDE) from ``t_start`` to ``t_end`` on a uniform grid.

        Parameters
        ----------
        x : (n, d) array
            Samples of ``rho_{t_start}`` (``p0`` for ``t_start = 0``).
        method : "euler", "heun", "rk4" or "euler_maruyama"
        nfe : int
            Drift evaluations, a positive multiple of the method's stages (1, 2, 4, 1).
        t_start, t_end : float in [0, 1]
            ``t_end < t_start`` runs the ODE backwards (ODE methods only).
        eps : float, optional
            SDE noise level (``euler_maruyama``; default ``sigma^2 / 2``).
        rng : Generator or seed
            Required by ``euler_maruyama``.
        progress : bool
            tqdm bar over the steps (default off).
        """
        t0 = time.perf_counter()
        check_choice("method", method, tuple(BRIDGE_METHODS))
        progress = check_progress(progress)
        nfe = check_int("nfe", nfe, low=1)
        stages = BRIDGE_METHODS[method]
        if nfe % stages:
            raise ValueError(f"nfe must be a multiple of {stages} for method {method!r}, "
                             f"got {nfe}")
        ta = _check_time("t_start", t_start)
        tb = _check_time("t_end", t_end)
        if ta == tb:
            raise ValueError(f"t_end must differ from t_start, got both {ta}")
        x = self._x(x).copy()
        sde = method == "euler_maruyama"
        if sde:
            if rng is None:
                raise ValueError("rng must be given for method 'euler_maruyama'")
            if tb < ta:
                raise ValueError("t_end must be > t_start for method 'euler_maruyama'")
            rng = as_rng(rng)
            eps = self.sigma**2 / 2 if eps is None else check_nonnegative("eps", eps)
        elif eps is not None:
            raise ValueError("eps is only used by method 'euler_maruyama'")
        n_steps = nfe // stages
        grid = np.linspace(ta, tb, n_steps + 1)
        traj = [x.copy()] if return_trajectory else None
        for k in progress_iter(range(n_steps), progress, f"bridge ({method})"):
            s, e = float(grid[k]), float(grid[k + 1])
            h = e - s
            if sde:
                x = x + h * self.drift(x, s, eps) + math.sqrt(2 * eps * h) * rng.standard_normal(
                    x.shape)
            else:
                x = _ode_step(self.velocity, method, x, s, e)
            if return_trajectory:
                traj.append(x.copy())
        return BridgeResult(x=x, t=grid, nfe=nfe, method=method,
                            trajectory=np.stack(traj) if return_trajectory else None,
                            wall_time=time.perf_counter() - t0)


def _ode_step(f, method, x, s, e):
    h = e - s
    if method == "euler":
        return x + h * f(x, s)
    if method == "heun":
        k1 = f(x, s)
        k2 = f(x + h * k1, e)
        return x + 0.5 * h * (k1 + k2)
    mid = 0.5 * (s + e)
    k1 = f(x, s)
    k2 = f(x + 0.5 * h * k1, mid)
    k3 = f(x + 0.5 * h * k2, mid)
    k4 = f(x + h * k3, e)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _sym_power(c, p):
    vals, vecs = np.linalg.eigh(c)
    return (vecs * vals**p) @ vecs.T


def _sliced_wasserstein(x, y, *, n_projections=256, rng=0):
    """Sliced 2-Wasserstein distance between two equal-size samples (n, d): the root mean
    over ``n_projections`` seeded random unit directions of the 1-D W2^2 between sorted
    projections."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or y.shape != x.shape:
        raise ValueError(f"x and y must have the same shape (n, d), got {x.shape}, {y.shape}")
    rng = as_rng(rng)
    dirs = rng.standard_normal((x.shape[1], n_projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    px = np.sort(x @ dirs, axis=0)
    py = np.sort(y @ dirs, axis=0)
    return float(np.sqrt(np.mean((px - py) ** 2)))
