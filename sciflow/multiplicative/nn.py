"""Small torch score networks for images: the multiplicative (GBM) model and its additive twin.

PyTorch is an optional dependency: this module imports it only inside the functions and methods
that need it, so ``import sciflow.multiplicative.nn`` works without torch (using it then raises
an ``ImportError`` that says how to install it). Import it explicitly, like
:mod:`sciflow.sampling.nn`.

The network
-----------
:class:`UNetConfig` describes a tiny U-Net ``F(u, c)`` for one-channel ``H x W`` images: an input
convolution, per resolution level one residual block (GroupNorm, SiLU, 3x3 convolutions, the
time embedding added between the two convolutions), a stride-2 convolution down to the next
level, one residual block at the bottom, and the mirror image on the way up (nearest-neighbour
upsampling, skip connections concatenated), a zero-initialised output convolution. The scalar
noise feature ``c = log(sigma_eff)/4`` (clipped to [-5, 5]; ``sigma_eff`` the noise-to-signal
ratio: ``sigma/alpha`` for VP, ``sqrt(v(t))`` for GBM) enters through Fourier features ``c,
sin(pi 2^k c), cos(pi 2^k c)`` and a two-layer MLP. The same architecture serves both models;
only the parametrisation around it differs.

The multiplicative model (:func:`train_multiplicative`, :class:`MultiplicativeScoreModel`)
---------------------------------------------------------------------------------------------
Data ``x0 > 0`` are noised by the GBM ``dX = mu X dt + sigma X dW`` (:class:`~sciflow.
multiplicative.GBM`, default ``mu = 0.32``, ``sigma = 0.8``): ``log X_t = log x0 + m(t) +
sqrt(v(t)) eps``. In ``z = log x - m(t)`` the process is variance exploding with ``sigma_Z =
sqrt(v)``, and the Hyvärinen score is ``x ∘ grad_x log p_t(x) = grad_z log p_Z(z) - 1``. The
network sees ``u = (z - c0) / sqrt(sd^2 + v(t))`` (``c0``, ``sd``: mean and standard deviation
of ``log x0`` over the training set) and predicts the log-space noise, so that

    ``x ∘ s_theta(x, t) = -F(u, c) / sqrt(v(t)) - 1``,

the score network of Song et al. (2021), ``s = output / sigma``, written for the Hyvärinen score
(the conditional target is ``-(log x - log x0 - m)/v - 1``, :meth:`GBM.hyvarinen_score`). It
is trained by multiplicative denoising score matching (M-DSM, Shetty, Prasath & Seelamantula
2025), :func:`sciflow.multiplicative.losses.m_dsm`: ``E_t w(t) |x ∘ s_theta(x_t, t) -
hyvarinen_score(x_t, t | x0)|^2`` with ``t`` uniform on ``[t_min, 1]`` (default ``[1e-3,
1]``). The default weight ``w = v(t)`` makes this ``E |F - eps|^2``, the loss of the additive
model below (same weight per noise level, so the comparison is like for like); the authors'
``w = v^2`` is ``weight="v2"``.

The model exposes ``hyvarinen_score(x, t)`` and ``stein_score(x, t)`` for NumPy or torch ``x``
(all entries > 0), so the samplers of :mod:`sciflow.multiplicative.samplers`
(``dale_langevin``, ``ambient_langevin``, ``probability_flow``: the PF-ODE in log space by
:func:`sciflow.sampling.sample`) run it; :meth:`MultiplicativeScoreModel.sample` wraps them.
:meth:`MultiplicativeScoreModel.prior_sample` draws ``x_T``: GBM at ``t = 1`` with ``sigma =
0.8`` keeps a visible trace of the data (``v(1) = 0.64`` against a per-pixel log-variance of
up to 0.08 for digits in [1, 2]), so the default prior (``"full"``) is the log-normal
whose log has the training data's mean and covariance plus ``v(T) I`` -- the exact ``p_T`` if
``log x0`` were Gaussian; ``"diagonal"`` is the authors' per-pixel log-normal fit and
``"isotropic"`` one mean and variance for all pixels. :meth:`MultiplicativeScoreModel.denoise`
is Tweedie's formula in log space (``log x0_hat = z - sqrt(v) F``).

The additive model (:func:`train_additive`, :class:`AdditiveScoreModel`)
-----------------------------------------------------------------------
The same network under :class:`~sciflow.sampling.VPSchedule` (default ``"linear"``) with
eps-prediction denoising score matching (``E |F(c_in x_t, c) - eps|^2``, ``c_in = 1/sqrt(alpha^2
sd^2 + sigma^2)``, ``t`` uniform on ``[1e-5, 1]``) -- the parametrisation of
:mod:`sciflow.sampling.nn`; ``predict(x, t, kind)`` gives ``"eps"``, ``"x0"``, ``"score"``,
``"velocity"``, so :func:`sciflow.sampling.sample` runs it.

Both models take images flattened to ``(..., H*W)`` or as ``(..., H, W)`` (same shape back),
NumPy in / NumPy out, torch in / torch out (dtype and device kept; the network itself runs in
float32). Training draws everything (weights, batches, times, noise) from ``rng``, shows a tqdm
bar unless ``progress=False``, sets ``torch.set_num_threads(num_threads)`` for its duration
(default 1: fastest for networks this small on a shared machine) and keeps an exponential
moving average of the weights (the returned model uses it).

Measured (benchmarks/bench_multiplicative_digits.py, 8x8 digits in [1, 2], 1,438 training / 359
held-out images, defaults: 3,000 steps of 128, one thread on a shared 2-core machine): training
237-274 s (multiplicative) and 207-222 s (additive) over three runs; classifier-Fréchet distance
of 2,000 samples to the held-out digits at NFE 20 (DPM-Solver++(2M) + final denoising): 13.0
multiplicative (22.4 from the authors' per-pixel prior), 13.7 additive, 88.7 for class mean +
noise, 5.6 for the real training digits.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from dataclasses import dataclass

import numpy as np

from .._validate import as_rng, check_choice, check_int, check_nonnegative, check_positive

__all__ = [
    "UNetConfig",
    "MultiplicativeScoreModel",
    "AdditiveScoreModel",
    "train_multiplicative",
    "train_additive",
]

PREDICTION_KINDS = ("eps", "x0", "score", "velocity")
PRIORS = ("full", "diagonal", "isotropic")
_C_CLIP = 5.0
_FORMAT = "sciflow.multiplicative.nn"
_FORMAT_VERSION = 1


def _torch():
    """Import torch or raise an ImportError that says what to install."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised without torch only
        raise ImportError(
            "sciflow.multiplicative.nn needs PyTorch, which is an optional dependency; install "
            "it with `pip install 'sciflow[torch]'` (or `pip install torch`)") from exc
    return torch


# ============================================================================ configuration
@dataclass(frozen=True)
class UNetConfig:
    """Architecture of the tiny U-Net (validated, JSON-able).

    Parameters
    ----------
    image_shape : (int, int)
        ``(H, W)`` of the one-channel images; both divisible by ``2**(len(channel_mult) - 1)``.
    channels : int
        Channels at the finest level.
    channel_mult : tuple of int
        Channel multiplier per resolution level (one level per entry; each level after the
        first halves the resolution).
    emb_dim : int
        Width of the time embedding.
    n_freqs : int
        Fourier frequencies ``pi 2^k`` of the noise feature.
    groups : int
        GroupNorm groups (must divide every level's channel count).
    """

    image_shape: tuple = (8, 8)
    channels: int = 16
    channel_mult: tuple = (1, 2, 4)
    emb_dim: int = 64
    n_freqs: int = 6
    groups: int = 8

    def __post_init__(self):
        shape = self.image_shape
        if not isinstance(shape, tuple | list) or len(shape) != 2:
            raise TypeError(f"image_shape must be a pair (H, W), got {shape!r}")
        shape = tuple(check_int(f"image_shape[{i}]", s, low=1) for i, s in enumerate(shape))
        object.__setattr__(self, "image_shape", shape)
        object.__setattr__(self, "channels", check_int("channels", self.channels, low=1))
        mult = self.channel_mult
        if not isinstance(mult, tuple | list) or len(mult) < 1:
            raise TypeError(f"channel_mult must be a non-empty tuple of integers, got {mult!r}")
        mult = tuple(check_int(f"channel_mult[{i}]", m, low=1) for i, m in enumerate(mult))
        object.__setattr__(self, "channel_mult", mult)
        object.__setattr__(self, "emb_dim", check_int("emb_dim", self.emb_dim, low=1))
        object.__setattr__(self, "n_freqs", check_int("n_freqs", self.n_freqs, low=0, high=30))
        object.__setattr__(self, "groups", check_int("groups", self.groups, low=1))
        f = 2 ** (len(mult) - 1)
        if shape[0] % f or shape[1] % f:
            raise ValueError(f"image_shape {shape} must be divisible by 2**(len(channel_mult) "
                             f"- 1) = {f}")
        for m in mult:
            if (self.channels * m) % self.groups:
                raise ValueError(f"groups={self.groups} must divide every level's channels "
                                 f"(channels * channel_mult = {self.channels * m})")

    @property
    def dim(self) -> int:
        return self.image_shape[0] * self.image_shape[1]

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["image_shape"] = list(self.image_shape)
        d["channel_mult"] = list(self.channel_mult)
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["image_shape"] = tuple(d["image_shape"])
        d["channel_mult"] = tuple(d["channel_mult"])
        return cls(**d)


# ============================================================================ the network
_NETWORK_CLASS = None


def _network_class():
    """The torch module class (defined on first use, so that torch is imported lazily)."""
    global _NETWORK_CLASS
    if _NETWORK_CLASS is not None:
        return _NETWORK_CLASS
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class ResBlock(nn.Module):
        def __init__(self, c_in, c_out, emb_dim, groups):
            super().__init__()
            self.norm1 = nn.GroupNorm(math.gcd(groups, c_in), c_in)
            self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
            self.emb = nn.Linear(emb_dim, c_out)
            self.norm2 = nn.GroupNorm(groups, c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

        def forward(self, x, emb):
            h = self.conv1(F.silu(self.norm1(x)))
            h = h + self.emb(emb)[:, :, None, None]
            h = self.conv2(F.silu(self.norm2(h)))
            return self.skip(x) + h

    class TinyUNet(nn.Module):
        """``F(u, c)``: a one-block-per-level U-Net with a Fourier time embedding."""

        def __init__(self, config):
            super().__init__()
            ch = [config.channels * m for m in config.channel_mult]
            g, e = config.groups, config.emb_dim
            self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(
                config.n_freqs, dtype=torch.float32))
            self.embed = nn.Sequential(nn.Linear(1 + 2 * config.n_freqs, e), nn.SiLU(),
                                       nn.Linear(e, e), nn.SiLU())
            self.inp = nn.Conv2d(1, ch[0], 3, padding=1)
            self.down = nn.ModuleList()
            self.pool = nn.ModuleList()
            c_prev = ch[0]
            for i, c in enumerate(ch):
                self.down.append(ResBlock(c_prev, c, e, g))
                c_prev = c
                if i < len(ch) - 1:
                    self.pool.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            self.mid = ResBlock(c_prev, c_prev, e, g)
            self.up = nn.ModuleList()
            self.unpool = nn.ModuleList()
            for i in reversed(range(len(ch))):
                self.up.append(ResBlock(c_prev + ch[i], ch[i], e, g))
                c_prev = ch[i]
                if i > 0:
                    self.unpool.append(nn.Conv2d(ch[i], ch[i - 1], 3, padding=1))
                    c_prev = ch[i - 1]
            self.out_norm = nn.GroupNorm(g, ch[0])
            self.out = nn.Conv2d(ch[0], 1, 3, padding=1)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, u, c):
            ang = c[:, None] * self.freqs
            emb = self.embed(torch.cat([c[:, None], torch.sin(ang), torch.cos(ang)], dim=1))
            h = self.inp(u)
            skips = []
            for i, block in enumerate(self.down):
                h = block(h, emb)
                skips.append(h)
                if i < len(self.pool):
                    h = self.pool[i](h)
            h = self.mid(h, emb)
            for j, block in enumerate(self.up):
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
                if j < len(self.unpool):
                    h = F.interpolate(h, scale_factor=2.0, mode="nearest")
                    h = self.unpool[j](h)
            return self.out(F.silu(self.out_norm(h)))

    _NETWORK_CLASS = TinyUNet
    return _NETWORK_CLASS


def _build_network(config):
    return _network_class()(config)


def _noise_feature(log_sigma_eff):
    """The scalar time feature ``clip(log(sigma_eff)/4, -5, 5)`` (float64)."""
    return np.clip(np.asarray(log_sigma_eff, dtype=float) / 4.0, -_C_CLIP, _C_CLIP)


# ============================================================================ shared helpers
def _check_shape_arg(name, x, config):
    """(flat view (n, d), original shape) for x of shape (..., d) or (..., H, W)."""
    shape = tuple(x.shape)
    H, W = config.image_shape
    d = config.dim
    if len(shape) >= 1 and shape[-1] == d:
        batch = shape[:-1]
    elif len(shape) >= 2 and shape[-2:] == (H, W):
        batch = shape[:-2]
    else:
        raise ValueError(f"{name} must have shape (..., {d}) or (..., {H}, {W}), got {shape}")
    n = int(np.prod(batch, dtype=np.int64))
    return x.reshape(n, d), shape, batch


def _as_input(name, x):
    """(tensor, numpy_in) for a NumPy array / list / torch tensor of floats."""
    torch = _torch()
    if isinstance(x, torch.Tensor):
        if x.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
        return x, False
    if isinstance(x, str | bytes | dict | set | type(None)):
        raise TypeError(f"{name} must be a NumPy array or torch tensor, got "
                        f"{type(x).__name__}")
    try:
        xn = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if xn.dtype.kind in "iub":
        xn = xn.astype(np.float64)
    if xn.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must have dtype float32 or float64, got {xn.dtype}")
    return torch.from_numpy(np.ascontiguousarray(xn)), True


def _times(name, t, batch, n, *, low_open=True):
    """float64 times: a scalar (shape ()) or one per batch element (shape (n,))."""
    torch = _torch()
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    try:
        tn = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of times, got "
                        f"{type(t).__name__}") from None
    if not np.all(np.isfinite(tn)):
        raise ValueError(f"{name} must be finite")
    if low_open and np.any(tn <= 0):
        raise ValueError(f"{name} must be > 0, got {float(np.min(tn))}")
    if tn.size == 1 and tn.ndim <= len(batch):
        return tn.reshape(()), True
    try:
        return np.broadcast_to(tn, batch).reshape(n).copy(), False
    except ValueError:
        raise ValueError(f"{name} of shape {tn.shape} does not broadcast to the batch shape "
                         f"{batch}") from None


def _check_bool(name, value):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


class _ImageScoreModel:
    """Shared machinery: the network, evaluation in float32, persistence."""

    _kind = ""

    def __init__(self, network, config, history=None, info=None):
        torch = _torch()
        if not isinstance(network, torch.nn.Module):
            raise TypeError(f"network must be a torch.nn.Module, got {type(network).__name__}")
        if not isinstance(config, UNetConfig):
            raise TypeError(f"config must be a UNetConfig, got {type(config).__name__}")
        try:
            hist = np.asarray([] if history is None else history, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("history must be a 1-D array of losses") from None
        if hist.ndim != 1:
            raise ValueError(f"history must be 1-dimensional, got shape {hist.shape}")
        if info is not None and not isinstance(info, dict):
            raise TypeError(f"info must be a dict, got {type(info).__name__}")
        self.network = network.eval()
        self.config = config
        self.history = hist
        self.info = dict(info or {})

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def image_shape(self) -> tuple:
        return self.config.image_shape

    @property
    def final_loss(self):
        """Mean training loss over the last 100 steps (``None`` if not trained here)."""
        return self.info.get("final_loss")

    def to(self, device):
        """Move the network to ``device`` (returns ``self``)."""
        self.network.to(_torch().device(device))
        return self

    def _run(self, u, feat, scalar_t):
        """Network output for scaled inputs ``u`` (n, d) tensor and features (float64)."""
        torch = _torch()
        p = next(self.network.parameters())
        n = u.shape[0]
        H, W = self.config.image_shape
        feat_t = torch.as_tensor(np.broadcast_to(feat, (n,)).astype(np.float32), device=p.device)
        out = self.network(u.to(device=p.device, dtype=torch.float32).reshape(n, 1, H, W), feat_t)
        return out.reshape(n, self.dim)

    # ------------------------------------------------------------------ persistence
    def _extra(self):  # pragma: no cover - overridden
        return {}, {}

    def save(self, path):
        """Write weights, configuration and training record to ``path`` (``torch.save``; all
        but the tensors stored as JSON, so :meth:`load` needs no pickled code)."""
        torch = _torch()
        meta, arrays = self._extra()
        payload = {
            "format": _FORMAT, "version": _FORMAT_VERSION, "kind": self._kind,
            "config": json.dumps(self.config.to_dict()), "meta": json.dumps(meta),
            "info": json.dumps(self.info),
            "history": torch.as_tensor(self.history, dtype=torch.float64),
            "arrays": {k: torch.as_tensor(v) for k, v in arrays.items()},
            "state_dict": {k: v.detach().cpu().clone()
                           for k, v in self.network.state_dict().items()},
        }
        torch.save(payload, path)

    @staticmethod
    def load(path, device="cpu"):
        """Read a model written by :meth:`save` (either kind; ``weights_only=True``)."""
        torch = _torch()
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"path {str(path)!r} is not a saved sciflow.multiplicative.nn model")
        if payload.get("version", 0) > _FORMAT_VERSION:
            raise ValueError(f"path {str(path)!r} was written by a newer sciflow")
        config = UNetConfig.from_dict(json.loads(payload["config"]))
        net = _build_network(config)
        net.load_state_dict(payload["state_dict"])
        net.to(torch.device(device))
        meta = json.loads(payload["meta"])
        arrays = {k: v.numpy() for k, v in payload["arrays"].items()}
        hist = payload["history"].numpy()
        info = json.loads(payload["info"])
        if payload["kind"] == "multiplicative":
            from .gbm import GBM

            return MultiplicativeScoreModel(net, config, GBM(**meta["gbm"]), meta["c0"],
                                            meta["sd"], arrays["log_mean"], arrays["log_cov"],
                                            history=hist, info=info)
        from ..sampling.schedules import VPSchedule

        return AdditiveScoreModel(net, config, VPSchedule(**meta["schedule"]), meta["sd"],
                                  history=hist, info=info)


# ============================================================================ multiplicative
class MultiplicativeScoreModel(_ImageScoreModel):
    """A trained Hyvärinen-score network of GBM-noised positive images.

    Made by :func:`train_multiplicative` (or :meth:`load`). Attributes: ``network``, ``config``
    (:class:`UNetConfig`), ``gbm``, ``c0`` and ``sd`` (mean and standard deviation of ``log
    x0``: the input scaling), ``log_mean`` (d,) and ``log_cov`` (d, d) of ``log x0`` over the
    training set (the default prior), ``history``, ``info``.
    """

    _kind = "multiplicative"

    def __init__(self, network, config, gbm, c0, sd, log_mean, log_cov, history=None,
                 info=None):
        from .gbm import GBM

        super().__init__(network, config, history, info)
        if not isinstance(gbm, GBM):
            raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
        if not gbm.constant:
            raise ValueError("gbm must have constant mu and sigma (for saving and the "
                             "log-space schedule)")
        self.gbm = gbm
        self.c0 = float(c0)
        self.sd = check_positive("sd", sd)
        d = config.dim
        self.log_mean = np.asarray(log_mean, dtype=float).reshape(d)
        self.log_cov = np.asarray(log_cov, dtype=float).reshape(d, d)

    def __repr__(self):
        c = self.config
        return (f"MultiplicativeScoreModel(image_shape={c.image_shape}, channels={c.channels}, "
                f"channel_mult={c.channel_mult}, gbm={self.gbm!r})")

    def _extra(self):
        return ({"gbm": {"mu": self.gbm.mu, "sigma": self.gbm.sigma}, "c0": self.c0,
                 "sd": self.sd}, {"log_mean": self.log_mean, "log_cov": self.log_cov})

    def _vm(self, t):
        return (np.asarray(self.gbm.log_variance(t), dtype=float),
                np.asarray(self.gbm.log_mean(t), dtype=float))

    def _eps_z(self, z, t, scalar_t):
        """Network noise prediction for log-space ``z = log x - m(t)`` (tensor (n, d))."""
        torch = _torch()
        v, _ = self._vm(t)
        c_in = 1.0 / np.sqrt(self.sd ** 2 + v)
        feat = _noise_feature(0.5 * np.log(v))
        if scalar_t:
            u = (z - self.c0) * float(c_in)
        else:
            u = (z - self.c0) * torch.as_tensor(c_in[:, None], dtype=z.dtype, device=z.device)
        return self._run(u, feat, scalar_t).to(dtype=z.dtype, device=z.device), v

    def _evaluate(self, x, t, what):
        torch = _torch()
        xt, numpy_in = _as_input("x", x)
        xf, shape, batch = _check_shape_arg("x", xt, self.config)
        if not bool(torch.all(torch.isfinite(xf))):
            raise ValueError("x must be finite")
        if xf.numel() and not bool(torch.all(xf > 0)):
            raise ValueError(f"x must be > 0 (the multiplicative model lives on x > 0), got min "
                             f"{float(torch.min(xf))}")
        tn, scalar_t = _times("t", t, batch, xf.shape[0])
        grad = torch.is_grad_enabled() and xt.requires_grad
        with torch.set_grad_enabled(grad):
            _, m = self._vm(tn)
            logx = torch.log(xf)
            if scalar_t:
                z = logx - float(m)
            else:
                z = logx - torch.as_tensor(m[:, None], dtype=xf.dtype, device=xf.device)
            eps, v = self._eps_z(z, tn, scalar_t)
            if scalar_t:
                h = eps * (-1.0 / math.sqrt(float(v))) - 1.0
            else:
                h = eps * torch.as_tensor(-1.0 / np.sqrt(v)[:, None], dtype=xf.dtype,
                                          device=xf.device) - 1.0
            out = h if what == "hyvarinen" else h / xf
        out = out.reshape(shape)
        return out.detach().numpy() if numpy_in else out

    def hyvarinen_score(self, x, t):
        """``x ∘ grad_x log p_t(x) = -F / sqrt(v(t)) - 1``.

        ``x``: NumPy array or torch tensor of shape (..., H*W) or (..., H, W), every entry
        finite and > 0; ``t``: a time > 0 or one per batch element. Same type, shape, dtype and
        device back; gradients flow through a torch ``x`` that requires them.
        """
        return self._evaluate(x, t, "hyvarinen")

    def stein_score(self, x, t):
        """``grad_x log p_t(x) = hyvarinen_score(x, t) / x``."""
        return self._evaluate(x, t, "stein")

    def __call__(self, x, t):
        return self.hyvarinen_score(x, t)

    def prior_sample(self, n, rng=None, t_start=1.0, prior="full", dtype=np.float64):
        """``n`` starting points ``x_T`` (NumPy, shape (n, H*W), all > 0).

        ``prior="full"``: ``log x_T ~ N(log_mean + m(T), log_cov + v(T) I)``, the exact GBM
        marginal at ``T`` of a log-normal fit (full covariance) to the training data;
        ``"diagonal"``: the same with the diagonal of ``log_cov`` only (the authors' per-pixel
        log-normal fit, :func:`sciflow.multiplicative.samplers.lognormal_prior`);
        ``"isotropic"``: ``log x_T ~ N(c0 + m(T), (sd^2 + v(T)) I)``.
        """
        n = check_int("n", n, low=0)
        t_start = check_positive("t_start", t_start)
        check_choice("prior", prior, PRIORS)
        dtype = _check_dtype(dtype)
        rng = as_rng(rng)
        v, m = (float(a) for a in self._vm(t_start))
        zz = rng.standard_normal((n, self.dim))
        if prior == "full":
            L = np.linalg.cholesky(self.log_cov + v * np.eye(self.dim))
            logx = self.log_mean + m + zz @ L.T
        elif prior == "diagonal":
            logx = self.log_mean + m + np.sqrt(np.diag(self.log_cov) + v) * zz
        else:
            logx = self.c0 + m + math.sqrt(self.sd ** 2 + v) * zz
        return np.exp(logx).astype(dtype)

    def sample(self, n, *, method="probability_flow", nfe=20, solver="dpmpp_2m", rng=None,
               t_start=1.0, t_end=1e-3, prior="full", denoise=False, batch_size=None,
               dtype=np.float64, **kwargs):
        """Draw ``n`` images (NumPy, shape (n, H*W), all > 0) with
        :mod:`sciflow.multiplicative.samplers` from :meth:`prior_sample`.

        Parameters
        ----------
        method : "probability_flow", "dale_langevin" or "ambient_langevin"
            ``probability_flow`` integrates the probability-flow ODE in log space with
            ``solver`` and ``nfe`` evaluations; for the Langevin samplers ``nfe`` is
            ``n_steps`` (``solver`` ignored).
        prior : "full", "diagonal" or "isotropic"
            See :meth:`prior_sample`.
        denoise : bool
            End with Tweedie's estimate at ``t_end`` (:meth:`denoise`, one more evaluation).
        batch_size : int, optional
            Sample in chunks of this many images (memory).
        kwargs
            Passed on to the sampler (``spacing``, ``denoise_to_zero``, ...).
        """
        from . import samplers

        n = check_int("n", n, low=0)
        check_choice("method", method, ("probability_flow", "dale_langevin",
                                        "ambient_langevin"))
        nfe = check_int("nfe", nfe, low=1)
        denoise = _check_bool("denoise", denoise)
        rng = as_rng(rng)
        batch_size = n if batch_size is None else check_int("batch_size", batch_size, low=1)
        x_T = self.prior_sample(n, rng, t_start, prior=prior, dtype=dtype)
        fn = getattr(samplers, method)
        out = []
        for i in range(0, n, max(batch_size, 1)):
            xb = x_T[i:i + batch_size]
            if method == "probability_flow":
                xb = fn(self, xb, self.gbm, solver=solver, nfe=nfe, t_start=t_start,
                        t_end=t_end, **kwargs)
            else:
                xb = fn(self, xb, self.gbm, n_steps=nfe, t_start=t_start, t_end=t_end,
                        rng=rng, **kwargs)
            xb = np.asarray(xb)
            if denoise:
                xb = self.denoise(xb, t_end)
            out.append(xb)
        return np.concatenate(out, axis=0) if out else x_T

    def denoise(self, x, t):
        """Tweedie's estimate of ``x0`` in log space: ``exp(log x - m(t) - sqrt(v) eps)``."""
        torch = _torch()
        xt, numpy_in = _as_input("x", x)
        xf, shape, batch = _check_shape_arg("x", xt, self.config)
        if not bool(torch.all(xf > 0)):
            raise ValueError("x must be > 0")
        tn, scalar_t = _times("t", t, batch, xf.shape[0])
        if not scalar_t:
            raise ValueError("t must be a scalar time for denoise")
        with torch.no_grad():
            v, m = (float(a) for a in self._vm(tn))
            z = torch.log(xf) - m
            eps, _ = self._eps_z(z, tn, True)
            out = torch.exp(z - math.sqrt(v) * eps).reshape(shape)
        return out.numpy() if numpy_in else out


# ============================================================================ additive
class AdditiveScoreModel(_ImageScoreModel):
    """A trained eps-prediction network under a :class:`~sciflow.sampling.VPSchedule`.

    Made by :func:`train_additive` (or :meth:`load`); ``predict(x, t, kind)`` for
    :func:`sciflow.sampling.sample`. Attributes: ``network``, ``config``, ``schedule``, ``sd``
    (root-mean-square of the training data: the input scaling), ``history``, ``info``.
    """

    _kind = "additive"

    def __init__(self, network, config, schedule, sd, history=None, info=None):
        from ..sampling.schedules import VPSchedule

        super().__init__(network, config, history, info)
        if not isinstance(schedule, VPSchedule):
            raise TypeError(f"schedule must be a VPSchedule, got {type(schedule).__name__}")
        self.schedule = schedule
        self.sd = check_positive("sd", sd)

    def __repr__(self):
        c = self.config
        return (f"AdditiveScoreModel(image_shape={c.image_shape}, channels={c.channels}, "
                f"channel_mult={c.channel_mult}, schedule={self.schedule!r})")

    def _extra(self):
        s = self.schedule
        return ({"schedule": {"kind": s.kind, "beta_min": s.beta_min, "beta_max": s.beta_max},
                 "sd": self.sd}, {})

    def _coefficients(self, t, kind):
        sch = self.schedule
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.asarray(sch.alpha(t), dtype=float)
            s = np.asarray(sch.sigma(t), dtype=float)
            lam = np.asarray(sch.lambda_(t), dtype=float)
            c_in = 1.0 / np.sqrt(a * a * self.sd ** 2 + s * s)
            if kind == "eps":
                A, B = np.zeros_like(a), np.ones_like(a)
            elif kind == "x0":
                A, B = 1.0 / a, -s / a
            elif kind == "score":
                A, B = np.zeros_like(a), -1.0 / s
            else:
                da = np.asarray(sch.dalpha(t), dtype=float)
                ds = np.asarray(sch.dsigma(t), dtype=float)
                f = da / a
                A, B = f, ds - f * s
        return c_in, _noise_feature(-lam), A, B

    def predict(self, x, t, kind="eps"):
        """The ``kind`` prediction (``"eps"``, ``"x0"``, ``"score"``, ``"velocity"``).

        ``x``: NumPy array or torch tensor, shape (..., H*W) or (..., H, W); ``t``: times in
        the schedule's domain (a scalar or one per batch element). Same type and shape back.
        """
        check_choice("kind", kind, PREDICTION_KINDS)
        torch = _torch()
        xt, numpy_in = _as_input("x", x)
        xf, shape, batch = _check_shape_arg("x", xt, self.config)
        if not bool(torch.all(torch.isfinite(xf))):
            raise ValueError("x must be finite")
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().numpy()
        tn = self.schedule.check_t("t", t)
        tn, scalar_t = _times("t", tn, batch, xf.shape[0], low_open=False)
        c_in, feat, A, B = self._coefficients(tn, kind)
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B)) and np.all(np.isfinite(c_in))):
            raise ValueError(f"kind={kind!r} is undefined at t={float(np.min(tn))} (alpha = "
                             f"{float(np.min(self.schedule.alpha(tn)))}, sigma = "
                             f"{float(np.min(self.schedule.sigma(tn)))})")
        grad = torch.is_grad_enabled() and xt.requires_grad
        with torch.set_grad_enabled(grad):
            if scalar_t:
                F = self._run(xf * float(c_in), feat, True).to(dtype=xf.dtype, device=xf.device)
                a_, b_ = float(A), float(B)
                out = b_ * F if a_ == 0.0 else a_ * xf + b_ * F
            else:
                def col(c):
                    return torch.as_tensor(np.asarray(c)[:, None], dtype=xf.dtype,
                                           device=xf.device)
                F = self._run(xf * col(c_in), feat, False).to(dtype=xf.dtype, device=xf.device)
                out = col(A) * xf + col(B) * F
        out = out.reshape(shape)
        return out.detach().numpy() if numpy_in else out

    def __call__(self, x, t, kind="eps"):
        return self.predict(x, t, kind)

    def prior_sample(self, n, rng=None, t_start=None, dtype=np.float64):
        """``n`` starting points ``sigma(t_start) z`` (NumPy, shape (n, H*W))."""
        n = check_int("n", n, low=0)
        dtype = _check_dtype(dtype)
        ts = self.schedule.t_start if t_start is None else t_start
        s = float(self.schedule.sigma(self.schedule.check_t("t_start", ts)))
        return (s * as_rng(rng).standard_normal((n, self.dim))).astype(dtype)

    def sample(self, n, *, solver="dpmpp_2m", nfe=20, rng=None, batch_size=None,
               dtype=np.float64, **kwargs):
        """Draw ``n`` images with :func:`sciflow.sampling.sample` from :meth:`prior_sample`
        (``kwargs`` passed on: ``t_start``, ``t_end``, ``denoise_to_zero``, ...)."""
        from ..sampling.solvers import sample as _sample

        n = check_int("n", n, low=0)
        rng = as_rng(rng)
        batch_size = n if batch_size is None else check_int("batch_size", batch_size, low=1)
        x_T = self.prior_sample(n, rng, kwargs.get("t_start"), dtype=dtype)
        if isinstance(solver, str) and solver.endswith("_sde"):
            kwargs["rng"] = rng
        out = [np.asarray(_sample(self, x_T[i:i + batch_size], self.schedule, solver=solver,
                                  nfe=nfe, **kwargs)) for i in range(0, n, max(batch_size, 1))]
        return np.concatenate(out, axis=0) if out else x_T


def _check_dtype(dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


# ============================================================================ training
def _as_images(data, image_shape, *, positive):
    """Training images as float64 (n, d) and the image shape."""
    if type(data).__module__.startswith("torch"):
        data = data.detach().cpu().numpy()
    if isinstance(data, str | bytes | dict | set | type(None)):
        raise TypeError(f"data must be an array of images, got {type(data).__name__}")
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"data must be an array of numbers: {exc}") from None
    if arr.ndim == 3:
        shape = arr.shape[1:]
        if image_shape is not None and tuple(image_shape) != shape:
            raise ValueError(f"image_shape {tuple(image_shape)} differs from the data's {shape}")
        arr = arr.reshape(arr.shape[0], -1)
    elif arr.ndim == 2:
        if image_shape is None:
            side = math.isqrt(arr.shape[1])
            if side * side != arr.shape[1]:
                raise ValueError(f"data of shape {arr.shape} is not square images; pass "
                                 f"image_shape")
            shape = (side, side)
        else:
            if not isinstance(image_shape, tuple | list) or len(image_shape) != 2:
                raise TypeError(f"image_shape must be a pair (H, W), got {image_shape!r}")
            shape = tuple(int(s) for s in image_shape)
            if shape[0] * shape[1] != arr.shape[1]:
                raise ValueError(f"image_shape {shape} does not match the data's {arr.shape[1]} "
                                 f"pixels")
    else:
        raise ValueError(f"data must have shape (n, H*W) or (n, H, W), got {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"data must hold at least 2 images, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("data must be finite; it has NaN/inf values")
    if positive and np.any(arr <= 0):
        raise ValueError(f"data must be > 0 for the multiplicative model (map images to e.g. "
                         f"[1, 2]), got min {float(arr.min())}")
    return arr, shape


def _common_args(steps, batch_size, lr, warmup, ema_decay, progress, num_threads):
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    warmup = check_int("warmup", warmup, low=0)
    ema_decay = check_nonnegative("ema_decay", ema_decay)
    if ema_decay >= 1.0:
        raise ValueError(f"ema_decay must be < 1, got {ema_decay}")
    _check_bool("progress", progress)
    if num_threads is not None:
        num_threads = check_int("num_threads", num_threads, low=1)
    return steps, batch_size, lr, warmup, ema_decay, num_threads


def _default_mult(shape):
    """(1, 2, 4) below 16 pixels a side, else (1, 2, 2); fewer levels if the size is odd."""
    mult = (1, 2, 4) if min(shape) < 16 else (1, 2, 2)
    while len(mult) > 1 and (shape[0] % 2 ** (len(mult) - 1) or shape[1] % 2 ** (len(mult) - 1)):
        mult = mult[:-1]
    return mult


def _make_config(config, shape, channels, channel_mult):
    if config is None:
        if channel_mult is None:
            channel_mult = _default_mult(shape)
        return UNetConfig(image_shape=shape, channels=channels, channel_mult=tuple(channel_mult))
    if not isinstance(config, UNetConfig):
        raise TypeError(f"config must be a UNetConfig, got {type(config).__name__}")
    if config.image_shape != shape:
        raise ValueError(f"config.image_shape {config.image_shape} differs from the data's "
                         f"{shape}")
    return config


def _train_loop(config, batch_fn, loss_fn, *, steps, batch_size, lr, warmup, ema_decay, rng,
                progress, num_threads, device, desc):
    """AdamW + warm-up/cosine learning rate + EMA; returns (network, history, wall time)."""
    torch = _torch()
    dev = torch.device(device)
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(0, 2**62)))
            net = _build_network(config).to(dev)
        ema = copy.deepcopy(net) if ema_decay > 0.0 else None
        params = list(net.parameters())
        ema_params = list(ema.parameters()) if ema is not None else None
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        history = np.empty(steps)
        it = range(steps)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = it = tqdm(it, desc=desc, leave=False)
        t0 = time.perf_counter()
        net.train()
        for k in it:
            scale = (k + 1) / warmup if k < warmup else 0.5 * (
                1.0 + math.cos(math.pi * (k - warmup) / max(steps - warmup, 1)))
            for g in opt.param_groups:
                g["lr"] = lr * max(scale, 0.0)
            batch = batch_fn(batch_size, dev)
            loss = loss_fn(net, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema is not None:
                d = min(ema_decay, (1.0 + k) / (10.0 + k))
                with torch.no_grad():
                    torch._foreach_lerp_(ema_params, params, 1.0 - d)
            history[k] = float(loss.detach())
            if not math.isfinite(history[k]):
                raise FloatingPointError(f"the training loss is not finite at step {k}; lower "
                                         f"lr")
            if bar is not None and (k % 50 == 0 or k == steps - 1):
                bar.set_postfix(loss=f"{np.mean(history[max(0, k - 49):k + 1]):.4f}")
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
    finally:
        if num_threads is not None:
            torch.set_num_threads(old_threads)
    final = ema if ema is not None else net
    return final.eval(), history, wall


def train_multiplicative(data, gbm=None, *, steps=3000, batch_size=128, lr=2e-3, channels=16,
                         channel_mult=None, config=None, image_shape=None, t_min=1e-3,
                         t_max=1.0, weight="v", ema_decay=0.999, warmup=100, rng=None,
                         progress=True, num_threads=1, device="cpu"):
    """Train a :class:`MultiplicativeScoreModel` by multiplicative DSM on positive images.

    Parameters
    ----------
    data : array (n, H*W) or (n, H, W), all entries finite and > 0
        Training images (e.g. digits mapped to [1, 2]); square if flattened without
        ``image_shape``.
    gbm : GBM, optional
        The noising process (default ``GBM(mu=0.32, sigma=0.8)``, constant coefficients).
    steps, batch_size : int
        AdamW steps and images per step (drawn with replacement).
    lr : float
        Peak learning rate (linear warm-up over ``warmup`` steps, then cosine decay to 0).
    channels, channel_mult, config :
        Network size (:class:`UNetConfig`); ``channel_mult`` defaults to (1, 2, 4) below 16
        pixels a side (8x8: 16/32/64 channels at 8/4/2 pixels, 0.37 M parameters), else
        (1, 2, 2) (fewer levels when the size is not divisible); ``config`` overrides both.
    t_min, t_max : float
        Training times uniform on ``[t_min, t_max]`` (default the authors' ``[1e-3, 1]``).
    ema_decay : float in [0, 1)
        Weight averaging (0: off).
    weight : "v", "v2", "none" or callable
        The M-DSM weight ``w(t)`` of :func:`sciflow.multiplicative.losses.m_dsm`. The default
        ``"v"`` makes the loss ``|F - eps|^2``, the eps-prediction loss of the additive model
        (the same weight per noise level); ``"v2"`` is the authors' (``v |F - eps|^2``: the
        low-noise end weighs little). The reported loss is per pixel.
    rng, progress, num_threads, device :
        As for :func:`sciflow.sampling.nn.train`.
    """
    from .gbm import GBM

    torch = _torch()
    x_data, shape = _as_images(data, image_shape, positive=True)
    gbm = GBM() if gbm is None else gbm
    if not isinstance(gbm, GBM):
        raise TypeError(f"gbm must be a GBM, got {type(gbm).__name__}")
    if not gbm.constant:
        raise ValueError("gbm must have constant mu and sigma")
    steps, batch_size, lr, warmup, ema_decay, num_threads = _common_args(
        steps, batch_size, lr, warmup, ema_decay, progress, num_threads)
    t_min = check_positive("t_min", t_min)
    t_max = check_positive("t_max", t_max)
    if not t_max > t_min:
        raise ValueError(f"t_max must be > t_min, got t_min={t_min}, t_max={t_max}")
    if not callable(weight):
        check_choice("weight", weight, ("v", "v2", "none"))
    config = _make_config(config, shape, channels, channel_mult)
    rng = as_rng(rng)
    logx = np.log(x_data)
    c0 = float(logx.mean())
    sd = float(logx.std())
    if not sd > 0:
        raise ValueError("data must not be constant")
    log_mean = logx.mean(axis=0)
    log_cov = np.cov(logx, rowvar=False).reshape(config.dim, config.dim)
    from .losses import m_dsm

    H, W = shape

    def batch_fn(n, dev):
        idx = rng.integers(0, x_data.shape[0], size=n)
        t = rng.uniform(t_min, t_max, size=n)
        eps = rng.standard_normal((n, config.dim))
        v = np.asarray(gbm.log_variance(t), dtype=float)[:, None]
        m = np.asarray(gbm.log_mean(t), dtype=float)[:, None]
        z0 = logx[idx]
        z = z0 + np.sqrt(v) * eps  # log x_t - m(t)
        u = (z - c0) / np.sqrt(sd * sd + v)
        feat = _noise_feature(0.5 * np.log(v[:, 0]))
        f32 = {"dtype": torch.float32, "device": dev}
        return {"u": torch.as_tensor(u, **f32), "feat": torch.as_tensor(feat, **f32),
                "eps": torch.as_tensor(eps, **f32), "v": torch.as_tensor(v, **f32),
                "x_t": torch.as_tensor(np.exp(z + m), **f32),
                "x0": torch.as_tensor(x_data[idx], **f32), "t": t}

    def loss_fn(net, b):
        out = net(b["u"].reshape(-1, 1, H, W), b["feat"]).reshape(-1, config.dim)
        h = -out / torch.sqrt(b["v"]) - 1.0
        return m_dsm(h, b["x_t"], b["x0"], b["t"], gbm, weight=weight) / config.dim

    net, history, wall = _train_loop(config, batch_fn, loss_fn, steps=steps,
                                     batch_size=batch_size, lr=lr, warmup=warmup,
                                     ema_decay=ema_decay, rng=rng, progress=progress,
                                     num_threads=num_threads, device=device,
                                     desc="train (multiplicative)")
    wname = weight if isinstance(weight, str) else "callable"
    info = {"steps": steps, "batch_size": batch_size, "lr": lr, "warmup": warmup,
            "ema_decay": ema_decay, "t_min": t_min, "t_max": t_max,
            "loss": f"M-DSM (losses.m_dsm, weight={wname!r}), per pixel",
            "n_data": int(x_data.shape[0]), "train_time_s": wall,
            "final_loss": float(np.mean(history[-min(100, steps):])), "device": str(device)}
    return MultiplicativeScoreModel(net, config, gbm, c0, sd, log_mean, log_cov,
                                    history=history, info=info)


def train_additive(data, schedule=None, *, steps=3000, batch_size=128, lr=2e-3, channels=16,
                   channel_mult=None, config=None, image_shape=None, ema_decay=0.999,
                   warmup=100, rng=None, progress=True, num_threads=1, device="cpu"):
    """Train an :class:`AdditiveScoreModel` (eps-prediction DSM) under a VP schedule.

    ``data``: (n, H*W) or (n, H, W) finite images (any sign; e.g. digits mapped to [-1, 1]).
    ``schedule``: a :class:`~sciflow.sampling.VPSchedule` (default ``VPSchedule("linear")``);
    training times from ``schedule.sample_training_t`` (uniform on ``[1e-5, 1]``). The other
    arguments as for :func:`train_multiplicative`.
    """
    from ..sampling.schedules import VPSchedule

    torch = _torch()
    x_data, shape = _as_images(data, image_shape, positive=False)
    schedule = VPSchedule("linear") if schedule is None else schedule
    if not isinstance(schedule, VPSchedule):
        raise TypeError(f"schedule must be a VPSchedule, got {type(schedule).__name__}")
    steps, batch_size, lr, warmup, ema_decay, num_threads = _common_args(
        steps, batch_size, lr, warmup, ema_decay, progress, num_threads)
    config = _make_config(config, shape, channels, channel_mult)
    rng = as_rng(rng)
    sd = float(np.sqrt(np.mean(x_data * x_data)))
    if not sd > 0:
        raise ValueError("data must not be identically zero")
    H, W = shape

    def batch_fn(n, dev):
        idx = rng.integers(0, x_data.shape[0], size=n)
        t = schedule.sample_training_t(n, rng)
        eps = rng.standard_normal((n, config.dim))
        a = np.asarray(schedule.alpha(t), dtype=float)[:, None]
        s = np.asarray(schedule.sigma(t), dtype=float)[:, None]
        x_t = a * x_data[idx] + s * eps
        u = x_t / np.sqrt(a * a * sd * sd + s * s)
        feat = _noise_feature(-np.asarray(schedule.lambda_(t), dtype=float))
        f32 = {"dtype": torch.float32, "device": dev}
        return {"u": torch.as_tensor(u, **f32), "feat": torch.as_tensor(feat, **f32),
                "eps": torch.as_tensor(eps, **f32)}

    def loss_fn(net, b):
        out = net(b["u"].reshape(-1, 1, H, W), b["feat"]).reshape(-1, config.dim)
        return torch.mean((out - b["eps"]) ** 2)

    net, history, wall = _train_loop(config, batch_fn, loss_fn, steps=steps,
                                     batch_size=batch_size, lr=lr, warmup=warmup,
                                     ema_decay=ema_decay, rng=rng, progress=progress,
                                     num_threads=num_threads, device=device,
                                     desc="train (additive)")
    info = {"steps": steps, "batch_size": batch_size, "lr": lr, "warmup": warmup,
            "ema_decay": ema_decay, "loss": "eps-DSM", "n_data": int(x_data.shape[0]),
            "train_time_s": wall, "final_loss": float(np.mean(history[-min(100, steps):])),
            "device": str(device)}
    return AdditiveScoreModel(net, config, schedule, sd, history=history, info=info)
