r"""Fourier analysis of source iteration (SI) and diffusion synthetic acceleration (DSA).

The error of the within-group iteration of :mod:`sciflow.transport.iterate` in an infinite
homogeneous medium obeys a translation-invariant linear map, so Fourier modes are its
eigenvectors and each mode is multiplied by an amplification factor omega per iteration. The
spectral radius of the iteration is ``rho = sup |omega|`` over the modes. Units: lengths in
mean free paths (sigma_t = 1); ``c = sigma_s0/sigma_t`` (scattering ratio),
``c1 = sigma_s1/sigma_t = c mu_bar`` (linearly anisotropic scattering, optional),
``sigma_a = 1 - c``, ``sigma_tr = 1 - c1``.

Error equations (one S_N iteration l -> l+1/2 -> l+1, zero source)::

    mu_m d psi_m/dx + psi_m = sum_l (2l+1)/2 c_l P_l(mu_m) phi_l^l                (sweep)
    phi_l^{l+1/2} = sum_m w_m P_l(mu_m) psi_m                                     (moments)
    -d/dx (1/(3 sigma_tr)) df/dx + sigma_a f = c (phi_0^{l+1/2} - phi_0^l)         (DSA)
    phi_0^{l+1} = phi_0^{l+1/2} + f     (phi_1 is corrected too when mu_bar != 0: below)

with Gauss-Legendre (mu_m, w_m), sum w_m = 2 (``order=None``: continuous angle, S_inf).

Spatially continuous analysis (``optical_thickness=None``): modes ``exp(i lambda x)``; a
direction responds with ``psi_m = q_m G_m``, ``G_m = 1/(1 + i lambda mu_m)``. For isotropic
scattering the map is scalar::

    omega_SI(lambda)  = c Lambda(lambda),   Lambda = sum_m (w_m/2) / (1 + lambda^2 mu_m^2)
                        (S_inf: Lambda = arctan(lambda)/lambda),
    omega_DSA(lambda) = c [Lambda (1 + lambda^2/3) - 1] / (lambda^2/3 + 1 - c).

So rho_SI = c (the flat mode lambda -> 0, for every N), and for S_inf the DSA factor is largest
at lambda ~ 1.5 with rho_DSA ~ 0.2247 c (Alcouffe 1977; Larsen 1982). For S_2,
``Lambda (1 + lambda^2/3) = 1`` identically: DSA is exact (omega = 0).

Spatially discrete analysis (``optical_thickness=tau``, cells of width h = tau): modes
``exp(i theta j)`` on the cells j, theta in (0, pi]. For each direction the weighted-diamond
cell balance and auxiliary relation of ``_kernels.py`` (alpha = 0: diamond; alpha =
coth(tau/2|mu|) - 2|mu|/tau: step characteristic), with edge amplitude E
(psi_{j-1/2} = E e^{i theta j}) and cell amplitude C (psi_j = C e^{i theta j}), z = e^{i theta},
form the 2x2 system::

    mu (z - 1) E + tau C = tau q,     C = g E,
    g = (1+alpha)/2 z + (1-alpha)/2  (mu > 0),   g = (1+alpha)/2 + (1-alpha)/2 z  (mu < 0),

so ``G = C/q = tau g / (mu (z - 1) + tau g)``. The DSA of ``iterate.py`` is edge based with
diamond averaging: with edge amplitudes F, J (f_{j-1/2} = F z^j, j_{j-1/2} = J z^j)::

    J (z - 1) + sigma_a tau F (1 + z)/2 = tau r,      F (z - 1)/3 + sigma_tr tau J (1 + z)/2 = 0,

and the cell correction is F (1 + z)/2, i.e. ``D(theta) r`` with
``D = 1 / (4 tan^2(theta/2) / (3 sigma_tr tau^2) + sigma_a)``. For diamond transport this is
Larsen's consistent ("four-step") DSA; applied to step-characteristic transport it is
inconsistent and diverges (rho > 1) for optically thick cells when c is near 1.
``dsa="cell_centred"`` analyses the standard three-point cell-centred diffusion operator
instead (``D = 1 / (4 sin^2(theta/2) / (3 sigma_tr tau^2) + sigma_a)``; not used by the
solver), which is inconsistent with both transport schemes. As tau -> 0 with theta = lambda
tau the discrete results tend to the continuous ones.

With linearly anisotropic scattering (``mu_bar != 0``) the iteration carries the moments
(phi_0, phi_1) and the DSA of ``iterate.py`` is the full P1 correction: the residuals
``r_0 = c (phi_0^{l+1/2} - phi_0^l)`` and ``r_1 = c_1 (phi_1^{l+1/2} - phi_1^l)`` drive
the balance and the current (Fick) equations::

    d j/dx + sigma_a f = r_0,     (1/3) d f/dx + sigma_tr j = r_1,
    phi_0^{l+1} = phi_0^{l+1/2} + f,   phi_1^{l+1} = phi_1^{l+1/2} + j.

(sigma_s1 is the first Legendre moment of the scattering kernel, the emission density is
``sum_l (2l+1)/2 sigma_sl P_l(mu) phi_l`` and ``phi_1 = sum_m w_m mu_m psi_m``, so
``c_1 = sigma_s1/sigma_t = c mu_bar``.) Per mode, with kappa = lambda (continuous) or
kappa = 2 tan(theta/2)/tau (the edge system above, cell corrections F(1+z)/2, J(1+z)/2),
the correction is ``(f, j) = B (r_0, r_1)`` with::

    B = [[sigma_tr, -i kappa], [-i kappa/3, sigma_a]] / (sigma_a sigma_tr + kappa^2/3)

(for the discrete edge DSA both rows are multiplied through by cos^2(theta/2), which makes
B(pi) = 0). Each mode has the 2x2 amplification matrix::

    T[l', l] = (2l+1) c_l sum_m (w_m/2) P_l'(mu_m) P_l(mu_m) G_m,
    M = T + B diag(c, c_1) (T - I),

whose eigenvalues are the amplification factors (isotropic scattering: the 1x1 case above,
B = D). The full P1 correction keeps the isotropic radius: at c = 0.99, rho = 0.21904 (S8)
and 0.22138 (S16, S_inf 0.22139) for every mu_bar in [-0.9, 0.99] to 3e-5, independent of tau
for diamond; S2 stays exact (S2 is P1). ``dsa="consistent_isotropic"`` analyses the older
variant that corrects phi_0 only from r_0 (``M = T + e_0 c D (T[0, :] - e_0)``, sigma_tr
still in D): its radius is set by the undamped flat phi_1 mode and grows with |mu_bar|
(c = 0.99, any N and tau: 0.278, 0.488, 0.640, 0.771 at mu_bar = 0.1, 0.3, 0.5, 0.7; 1.09,
divergent, at mu_bar = -0.5). ``dsa="cell_centred"`` corrects phi_0 only as well.

References
----------
E. W. Larsen, "Unconditionally stable diffusion-synthetic acceleration methods for the slab
geometry discrete ordinates equations. Part I: Theory", Nucl. Sci. Eng. 82, 47 (1982).
R. E. Alcouffe, "Diffusion synthetic acceleration methods for the diamond-differenced
discrete-ordinates equations", Nucl. Sci. Eng. 64, 344 (1977).
M. L. Adams & E. W. Larsen, "Fast iterative methods for discrete-ordinates particle transport
calculations", Prog. Nucl. Energy 40, 3 (2002), §§3-4.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._validate import check_array, check_in_range, check_int, check_positive, check_real
from ._kernels import alpha_step_characteristic
from ._surface import new_axes, plain_attrs, xarray
from .problem import _check_str_choice
from .quadrature import gauss_legendre

__all__ = ["amplification", "spectral_radius", "analyse", "iteration_matrix", "FourierResult"]

METHODS = ("si", "dsa")
SCHEMES = ("diamond", "step_characteristic")
DSAS = ("consistent", "consistent_isotropic", "cell_centred")

_N_INF_HALF = 128  # half-range Gauss points standing in for S_inf in the discrete analysis


# -- argument handling ---------------------------------------------------------------------------
def _parse_order(order):
    """None for continuous angle (S_inf), else an even int >= 2."""
    if order is None:
        return None
    if isinstance(order, str):
        if order.strip().lower() in {"continuous", "inf", "infinity", "s_inf"}:
            return None
        raise ValueError(f"order must be an even integer >= 2, None or 'continuous', got {order!r}")
    if isinstance(order, numbers.Real) and not isinstance(order, numbers.Integral) \
            and math.isinf(order) and order > 0:
        return None
    N = check_int("order", order, low=2)
    if N % 2:
        raise ValueError(f"order must be even, got {N}")
    return N


@functools.lru_cache(maxsize=32)
def _directions(N, discrete):
    """(mu, w) with sum w = 2 (read-only arrays, cached); None for the closed-form S_inf."""
    if N is not None:
        q = gauss_legendre(N)
        return _readonly(q.mu), _readonly(q.w)
    if not discrete:
        return None
    # continuous angle on a discrete mesh: half-range Gauss (the integrand is smooth in mu on
    # each half, with a kink at mu = 0 that a full-range rule would straddle)
    x, wx = np.polynomial.legendre.leggauss(_N_INF_HALF)
    mu = 0.5 * (x + 1.0)
    w = 0.5 * wx
    return _readonly(np.concatenate((-mu[::-1], mu))), _readonly(np.concatenate((w[::-1], w)))


def _readonly(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _check_common(c, method, optical_thickness, scheme, dsa, mu_bar):
    c = check_in_range("c", c, 0.0, 1.0)
    _check_str_choice("method", method, METHODS)
    _check_str_choice("scheme", scheme, SCHEMES)
    _check_str_choice("dsa", dsa, DSAS)
    tau = None if optical_thickness is None else check_positive("optical_thickness",
                                                               optical_thickness)
    mu_bar = check_in_range("mu_bar", mu_bar, -1.0, 1.0)
    if 1.0 - c * mu_bar <= 0.0:
        raise ValueError(f"sigma_tr = 1 - c mu_bar must be > 0, got c={c}, mu_bar={mu_bar}")
    return c, tau, mu_bar


# -- per-mode operators --------------------------------------------------------------------------
def _s_inf_continuous(lam):
    """Closed-form angular moments for S_inf, continuous space.

    Returns A (..., 2, 2) with A[l', l] = (1/2) int P_l' P_l / (1 + i lam mu) dmu and
    h00 = 1 - A[0, 0] = 1 - arctan(lam)/lam (accurately for small lam)."""
    lam = np.abs(np.asarray(lam, dtype=float))
    small = lam < 1e-2
    ls = np.where(small, lam, 0.0) ** 2
    ll = np.where(small, 1.0, lam)
    # (1 - Lambda)/lam^2 = 1/3 - lam^2/5 + lam^4/7 - ...
    k11 = np.where(small, 1 / 3 - ls / 5 + ls**2 / 7 - ls**3 / 9 + ls**4 / 11,
                   (1.0 - np.arctan(ll) / ll) / ll**2)
    h00 = lam**2 * k11
    A = np.empty(lam.shape + (2, 2), dtype=complex)
    A[..., 0, 0] = 1.0 - h00
    A[..., 0, 1] = A[..., 1, 0] = -1j * lam * k11     # (1/2) int mu/(1 + i lam mu)
    A[..., 1, 1] = k11                                  # (1/2) int mu^2/(1 + i lam mu)
    return A, h00


def _direction_response(x, mu, tau, scheme):
    """Per-direction response G = C/q and H = 1 - G, shape x.shape + (M,)."""
    x = np.asarray(x, dtype=float)[..., None]
    if tau is None:
        den = 1.0 + 1j * x * mu
        return 1.0 / den, 1j * x * mu / den
    amu = np.abs(mu)
    if scheme == "diamond":
        alpha = np.zeros_like(amu)
    else:
        alpha = alpha_step_characteristic(tau / amu)
    zm1 = 2j * np.sin(0.5 * x) * np.exp(0.5j * x)       # z - 1, accurate for small theta
    z = 1.0 + zm1
    wp, wm = 0.5 * (1.0 + alpha), 0.5 * (1.0 - alpha)
    g = np.where(mu > 0, wp * z + wm, wp + wm * z)
    # Cramer's rule on [[mu (z-1), tau], [g, -1]] [E, C] = [tau q, 0]
    den = mu * zm1 + tau * g
    return tau * g / den, mu * zm1 / den


def _dsa_factor(x, c, c1, tau, dsa):
    """D(x): cell (or pointwise) correction per unit residual source r."""
    x = np.asarray(x, dtype=float)
    sa, st = 1.0 - c, 1.0 - c1
    if tau is None:
        return 1.0 / (x**2 / (3.0 * st) + sa)
    s2, c2 = np.sin(0.5 * x) ** 2, np.cos(0.5 * x) ** 2
    k = 4.0 / (3.0 * st * tau**2)
    if dsa != "cell_centred":
        # 1 / (k tan^2 + sa), written without tan so that theta = pi gives D = 0
        return c2 / (k * s2 + sa * c2)
    return 1.0 / (k * s2 + sa)


def _dsa_matrix(x, c, c1, tau):
    """B(x), shape x.shape + (2, 2): the consistent P1 DSA correction (f, j) = B (r_0, r_1)
    per unit residuals (see the module docstring)."""
    x = np.asarray(x, dtype=float)
    sa, st = 1.0 - c, 1.0 - c1
    if tau is None:
        p, k, k2 = np.ones_like(x), x, x**2
    else:
        # kappa = 2 tan(theta/2)/tau, every term multiplied through by p = cos^2(theta/2)
        co, si = np.cos(0.5 * x), np.sin(0.5 * x)
        p, k, k2 = co**2, 2.0 * si * co / tau, (2.0 * si / tau) ** 2
    den = sa * st * p + k2 / 3.0
    B = np.empty(x.shape + (2, 2), dtype=complex)
    B[..., 0, 0] = st * p / den
    B[..., 0, 1] = -1j * k / den
    B[..., 1, 0] = -1j * k / (3.0 * den)
    B[..., 1, 1] = sa * p / den
    return B


def _dsa_matrix_linear_system(theta, c, c1, tau):
    """B(theta) from the edge DSA's per-mode 2x2 system with both residual sources, cell
    corrections (F (1+z)/2, J (1+z)/2) (reference for tests)."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    z = np.exp(1j * theta)
    sa, st = 1.0 - c, 1.0 - c1
    A = np.zeros(theta.shape + (2, 2), dtype=complex)  # unknowns [F, J]
    A[..., 0, 0] = sa * tau * (1 + z) / 2
    A[..., 0, 1] = z - 1
    A[..., 1, 0] = (z - 1) / 3
    A[..., 1, 1] = st * tau * (1 + z) / 2
    rhs = np.broadcast_to(tau * np.eye(2, dtype=complex), theta.shape + (2, 2))
    return np.linalg.solve(A, rhs) * ((1 + z) / 2)[..., None, None]


def _dsa_factor_linear_system(theta, c, c1, tau):
    """D(theta) for the edge-based DSA from its 2x2 per-mode system (reference for tests): the
    flux correction per unit isotropic residual."""
    return _dsa_matrix_linear_system(theta, c, c1, tau)[..., 0, 0]


def _check_modes(name, x):
    """The modes (wavenumbers or phases per cell) as a finite float array."""
    if isinstance(x, bool | np.bool_):
        raise TypeError(f"{name} must be a number or an array of numbers, got {x!r}")
    return check_array(name, x)


def iteration_matrix(x, c, *, method="si", order=None, optical_thickness=None,
                     scheme="diamond", dsa="consistent", mu_bar=0.0):
    """Amplification matrix per mode, shape x.shape + (L+1, L+1) (L = 0 isotropic, 1 if
    ``mu_bar`` is non-zero). Arguments as in :func:`amplification` (``x`` the modes)."""
    return _iteration_matrix("x", x, c, method=method, order=order,
                             optical_thickness=optical_thickness, scheme=scheme, dsa=dsa,
                             mu_bar=mu_bar)


def _iteration_matrix(name, x, c, *, method, order, optical_thickness, scheme, dsa, mu_bar):
    c, tau, mu_bar = _check_common(c, method, optical_thickness, scheme, dsa, mu_bar)
    N = _parse_order(order)
    x = _check_modes(name, x)
    if method == "dsa" and c >= 1.0 and np.any(x == 0.0):
        raise ValueError(f"{name}: the flat mode (lambda = 0 or theta = 0) is singular for DSA "
                         "with c = 1 (no absorption): the diffusion operator has no inverse "
                         "there")
    L1 = 2 if mu_bar != 0.0 else 1
    c1 = c * mu_bar
    cl = np.array([c, c1])[:L1]
    dirs = _directions(N, tau is not None)
    if dirs is None:
        A, h00 = _s_inf_continuous(x)
        A = A[..., :L1, :L1]
    else:
        mu, w = dirs
        G, H = _direction_response(x, mu, tau, scheme)
        P = np.array([np.ones_like(mu), mu])[:L1]                     # (L1, M)
        Pw = (P[:, None, :] * (P * (0.5 * w))[None, :, :]).reshape(L1 * L1, -1).T
        A = (G @ Pw).reshape(x.shape + (L1, L1))
        h00 = H @ (0.5 * w)
    T = A * ((2 * np.arange(L1) + 1) * cl)                             # T[l', l]
    if method == "si":
        return T
    R = T.copy()                                                       # T - I
    R[..., 0, 0] = -(1.0 - c) - c * h00                                # T00 - 1, no cancellation
    if L1 == 2:
        R[..., 1, 1] -= 1.0
    M = T.copy()
    if L1 == 2 and dsa == "consistent":
        # full P1 correction: (f, j) = B diag(c, c1) (T - I)
        B = _dsa_matrix(x, c, c1, tau)
        M += B @ (R * cl[:, None])
        return M
    D = _dsa_factor(x, c, c1, tau, dsa)
    M[..., 0, :] = T[..., 0, :] + (c * D)[..., None] * R[..., 0, :]
    return M


def amplification(lam_or_theta, c, *, method="si", order=None, optical_thickness=None,
                  scheme="diamond", dsa="consistent", mu_bar=0.0, all_eigenvalues=False):
    """Amplification factor(s) omega of the error iteration per Fourier mode.

    Parameters
    ----------
    lam_or_theta : array_like
        Wavenumber lambda (in units of sigma_t; mode exp(i lambda sigma_t x)) when
        ``optical_thickness`` is None, else the phase per cell theta in [0, pi].
    c : float
        Scattering ratio sigma_s0/sigma_t in [0, 1] (for c = 1 the DSA flat mode 0 is
        singular).
    method : {"si", "dsa"}
    order : int, None or "continuous"
        Gauss-Legendre S_N order; None/"continuous" for continuous angle (S_inf).
    optical_thickness : float, optional
        sigma_t h of the cells of a uniform infinite mesh; None: spatially continuous.
    scheme : {"diamond", "step_characteristic"}
        Transport spatial scheme (discrete analysis only).
    dsa : {"consistent", "consistent_isotropic", "cell_centred"}
        "consistent": the edge-based diamond P1 DSA of ``iterate.py`` (consistent with the
        diamond scheme; with ``mu_bar`` it corrects phi_0 and phi_1 from both residuals);
        "consistent_isotropic": the same diffusion operator driven by the isotropic residual
        only, correcting phi_0 only (the older variant; same as "consistent" when
        ``mu_bar = 0``); "cell_centred": three-point cell-centred diffusion correcting phi_0
        only (discrete only; continuous analysis has one diffusion operator).
    mu_bar : float
        Mean scattering cosine (linearly anisotropic scattering, sigma_s1 = mu_bar sigma_s0).
    all_eigenvalues : bool
        Return all L+1 eigenvalues (shape x.shape + (L+1,), by decreasing modulus) instead of
        the dominant one.

    Returns
    -------
    ndarray
        The dominant eigenvalue per mode (real for isotropic scattering; complex where the
        2x2 anisotropic matrix has complex eigenvalues).
    """
    if not isinstance(all_eigenvalues, bool | np.bool_):
        raise TypeError(f"all_eigenvalues must be a bool, got {type(all_eigenvalues).__name__}")
    M = _iteration_matrix("lam_or_theta", lam_or_theta, c, method=method, order=order,
                          optical_thickness=optical_thickness, scheme=scheme, dsa=dsa,
                          mu_bar=mu_bar)
    ev = M[..., 0, 0][..., None] if M.shape[-1] == 1 else np.linalg.eigvals(M)
    order_ = np.argsort(-np.abs(ev), axis=-1, kind="stable")
    ev = np.take_along_axis(ev, order_, axis=-1)
    if np.all(np.abs(ev.imag) <= 1e-12 * np.maximum(1.0, np.abs(ev.real))):
        ev = ev.real.copy()
    return ev if all_eigenvalues else ev[..., 0]


# -- spectral radius ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FourierResult:
    """Amplification factors on a grid of modes and the spectral radius.

    ``modes`` are lambda (continuous space) or theta (discrete), ``omega`` the dominant
    eigenvalue per mode, ``spectral_radius`` the supremum of |omega| (grid maximum refined by
    a bounded scalar search), attained at ``mode_max``.
    """

    modes: np.ndarray
    omega: np.ndarray
    spectral_radius: float
    mode_max: float
    c: float
    method: str
    order: int | None
    optical_thickness: float | None
    scheme: str
    dsa: str
    mu_bar: float = 0.0

    def __post_init__(self):
        c, tau, mu_bar = _check_common(self.c, self.method, self.optical_thickness,
                                       self.scheme, self.dsa, self.mu_bar)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "optical_thickness", tau)
        object.__setattr__(self, "mu_bar", mu_bar)
        object.__setattr__(self, "order", _parse_order(self.order))
        modes = check_array("modes", self.modes, ndim=1, min_size=1)
        omega = np.asarray(self.omega)
        if not np.issubdtype(omega.dtype, np.number):
            raise TypeError(f"omega must be an array of numbers, got dtype {omega.dtype}")
        omega = check_array("omega", omega, dtype=omega.dtype)
        if omega.shape != modes.shape:
            raise ValueError(f"omega must have the shape of modes {modes.shape}, got "
                             f"{omega.shape}")
        rho = check_real("spectral_radius", self.spectral_radius)
        if rho < 0:
            raise ValueError(f"spectral_radius must be >= 0, got {rho}")
        if rho < np.max(np.abs(omega)) * (1 - 1e-12) - 1e-15:
            raise ValueError(f"spectral_radius ({rho}) must be >= max |omega| "
                             f"({np.max(np.abs(omega))}): it is the supremum over the modes")
        object.__setattr__(self, "spectral_radius", rho)
        object.__setattr__(self, "mode_max", check_real("mode_max", self.mode_max))

    @property
    def variable(self) -> str:
        return "lambda" if self.optical_thickness is None else "theta"

    def to_dataframe(self):
        """A pandas DataFrame: the mode, omega and |omega| per row (pandas imported lazily)."""
        import pandas as pd

        return pd.DataFrame({self.variable: self.modes, "omega": self.omega,
                             "abs_omega": np.abs(self.omega)})

    def to_xarray(self):
        """An xarray Dataset over the mode (dimension ``lambda`` in continuous space, ``theta``
        (rad) on a mesh): ``omega`` (the dominant eigenvalue, complex where it is) and
        ``abs_omega``; the spectral radius and the problem as attributes (xarray imported
        lazily)."""
        xr = xarray()
        v = self.variable
        unit = "1/mean free path" if self.optical_thickness is None else "rad"
        return xr.Dataset(
            {"omega": (v, self.omega, {"long_name": "dominant eigenvalue per mode"}),
             "abs_omega": (v, np.abs(self.omega))},
            coords={v: (v, self.modes, {"units": unit})},
            attrs=plain_attrs(spectral_radius=self.spectral_radius, mode_max=self.mode_max,
                              c=self.c, method=self.method, order=self.order,
                              optical_thickness=self.optical_thickness, scheme=self.scheme,
                              dsa=self.dsa, mu_bar=self.mu_bar))

    def plot(self, ax=None, **kwargs):
        """|omega| against the mode (``kwargs`` go to ``Axes.plot``); returns the Axes."""
        ax = new_axes(ax, figsize=(6, 3.5))
        sn = "S_inf" if self.order is None else f"S{self.order}"
        tau = "" if self.optical_thickness is None else f", tau={self.optical_thickness:g}"
        kwargs.setdefault("label", f"{self.method.upper()} {sn}, c={self.c:g}{tau}")
        ax.plot(self.modes, np.abs(self.omega), **kwargs)
        if self.optical_thickness is None:
            ax.set_xscale("log")
        ax.axhline(self.spectral_radius, ls=":", lw=0.8, color="k")
        ax.set_xlabel(r"$\lambda$" if self.optical_thickness is None else r"$\theta$")
        ax.set_ylabel(r"$|\omega|$")
        ax.legend()
        return ax


def _mode_grid(n, tau, include_zero):
    if tau is None:
        g = np.geomspace(1e-6, 1e6, n)
    else:
        g = np.union1d(np.geomspace(1e-8, np.pi, n // 2), np.linspace(0.0, np.pi, n - n // 2))
        g = g[g > 0]
    return np.concatenate(([0.0], g)) if include_zero else g


def analyse(c, *, method, order, optical_thickness=None, scheme="diamond", dsa="consistent",
            mu_bar=0.0, n_modes=2001) -> FourierResult:
    """Amplification factors over the modes and the spectral radius (see module docstring)."""
    c, tau, mu_bar = _check_common(c, method, optical_thickness, scheme, dsa, mu_bar)
    N = _parse_order(order)
    n_modes = check_int("n_modes", n_modes, low=16)
    kw = dict(method=method, order=N, optical_thickness=tau, scheme=scheme, dsa=dsa,
              mu_bar=mu_bar)
    # the flat mode is well defined except for DSA at c = 1 (no absorption)
    grid = _mode_grid(n_modes, tau, include_zero=not (method == "dsa" and c >= 1.0))
    om = amplification(grid, c, **kw)
    a = np.abs(om)
    k = int(np.argmax(a))
    best_x, best = float(grid[k]), float(a[k])
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    if hi > lo:
        def f(x):
            return -float(np.abs(amplification(np.array([x]), c, **kw))[0])

        res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12 * max(hi, 1e-300) + 1e-15})
        if -res.fun > best:
            best_x, best = float(res.x), float(-res.fun)
    return FourierResult(modes=grid, omega=om, spectral_radius=best, mode_max=best_x, c=c,
                         method=method, order=N, optical_thickness=tau, scheme=scheme, dsa=dsa,
                         mu_bar=mu_bar)


def spectral_radius(c, *, method, order, optical_thickness=None, scheme="diamond",
                    dsa="consistent", mu_bar=0.0, n_modes=2001) -> float:
    """Spectral radius sup |omega| of SI or DSA in an infinite homogeneous medium.

    ``optical_thickness=None`` analyses the spatially continuous equations, a float tau the
    discretised ones on a uniform mesh of cells sigma_t h = tau (see :func:`amplification`).

    Examples
    --------
    >>> round(spectral_radius(0.9, method="si", order=8), 12)
    0.9
    >>> round(spectral_radius(1.0, method="dsa", order=None), 4)
    0.2247
    """
    return analyse(c, method=method, order=order, optical_thickness=optical_thickness,
                   scheme=scheme, dsa=dsa, mu_bar=mu_bar, n_modes=n_modes).spectral_radius
