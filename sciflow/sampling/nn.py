"""A small MLP score / velocity model in torch, trained on low-dimensional data.

PyTorch is an optional dependency: this module imports it only inside the functions and
methods that need it, so ``import sciflow.sampling.nn`` works without torch and using it raises
an ``ImportError`` that says how to install it.

The model
---------
The network ``F(c_in(t) x, c(t))`` is an MLP with SiLU activations; ``t`` enters through a
scalar feature ``c(t)`` (``time_feature="t"``: the time itself; ``"lambda"``: the clipped
log-SNR ``clip(lambda(t), -20, 20) / 4``, which is EDM's ``c_noise = log(sigma)/4`` up to
the sign when ``alpha = 1``) expanded into Fourier features ``c, sin(pi 2^k c),
cos(pi 2^k c)``, ``k < n_freqs``, which a small MLP maps to a vector added to every hidden
layer. The input is scaled by ``c_in = 1/sqrt(alpha^2 sigma_data^2 + sigma^2)`` (``sigma_data``
the data's root-mean-square, estimated at training time), so that it has about unit variance
at every t and under every schedule. What ``F`` predicts is the training ``target``:

``"eps"``       the noise ``eps`` of ``x_t = alpha x_0 + sigma eps``: denoising score matching
                (Vincent 2011; Ho et al. 2020), loss ``E |F - eps|^2``; the default for
                :class:`~sciflow.sampling.VPSchedule`.
``"velocity"``  the probability-flow velocity ``dx_t/dt = alpha' x_0 + sigma' eps`` (for
                :class:`~sciflow.sampling.FlowSchedule` the rectified-flow velocity
                ``eps - x_0``): (conditional) flow matching (Lipman et al. 2023; Liu et al.
                2023), loss ``E |F - (alpha' x_0 + sigma' eps)|^2``; the default for flows.
``"x0"``        the data through EDM's preconditioning (Karras et al. 2022), ``x0_hat =
                c_skip x + c_out F`` with ``c_skip = alpha sd^2 / (alpha^2 sd^2 + sigma^2)``,
                ``c_out = sigma sd / sqrt(alpha^2 sd^2 + sigma^2)``, loss ``E |F - (x_0 -
                c_skip x_t) / c_out|^2`` (EDM's loss weighting); the default for
                :class:`~sciflow.sampling.EDMSchedule`, where an eps network's error is
                multiplied by ``sigma`` (up to 80) in ``x0 = x - sigma eps``: on two moons,
                3000 steps, Heun at NFE 19, the energy distance to the data was 0.044 with
                ``"eps"`` and 0.0044 with ``"x0"``.

Training times are drawn from the schedule's own training density
(``schedule.sample_training_t``: uniform on ``[1e-5, 1]`` for VP, EDM's log-normal ``sigma``,
SD3's logit-normal ``t = expit(z)``, ``z ~ N(0, 1)``, for flows) unless ``t_sampler`` is given.

:class:`MLPModel` is a sampler model: ``predict(x, t, kind)`` returns any of ``"eps"``,
``"x0"``, ``"score"`` or ``"velocity"`` (the probability-flow ODE's ``dx/dt``, as in
:class:`~sciflow.sampling.models.GaussianMixture`), each an exact affine function ``A(t) x +
B(t) F`` of the network output, with the coefficients computed in float64 from the schedule.
NumPy in, NumPy out; torch in, torch out (same dtype and device); float32 and float64.
A kind that the target cannot give at an end point (``x0`` from ``eps`` where ``alpha = 0``,
``score`` where ``sigma = 0``) raises ``ValueError``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from dataclasses import dataclass

import numpy as np

from .._validate import (
    as_rng,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)

__all__ = ["MLPConfig", "MLPModel", "train", "TARGETS", "TIME_FEATURES"]

TARGETS = ("eps", "velocity", "x0")
TIME_FEATURES = ("t", "lambda")
PREDICTION_KINDS = ("eps", "x0", "score", "velocity")
_LAMBDA_CLIP = 20.0
_LAMBDA_SCALE = 4.0
_FORMAT = "sciflow.sampling.nn.MLPModel"
_FORMAT_VERSION = 1


def _torch():
    """Import torch or raise an ImportError that says what to install."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(
            "sciflow.sampling.nn needs PyTorch, which is an optional dependency; install it "
            "with `pip install 'sciflow[torch]'` (or `pip install torch`)") from exc
    return torch


# ============================================================================ configuration
@dataclass(frozen=True)
class MLPConfig:
    """Architecture and parametrisation of an :class:`MLPModel` (validated, JSON-able).

    Parameters
    ----------
    dim : int
        Data dimension.
    width : int
        Hidden-layer width.
    depth : int
        Number of hidden layers (>= 1).
    n_freqs : int
        Number of Fourier frequencies ``pi 2^k`` of the time feature (>= 0).
    target : "eps", "velocity" or "x0"
        What the network predicts (see the module docstring).
    time_feature : "t" or "lambda"
        The scalar the time embedding is built from.
    sigma_data : float
        Root-mean-square of the data (input scaling and the ``"x0"`` preconditioning).
    """

    dim: int = 2
    width: int = 128
    depth: int = 3
    n_freqs: int = 6
    target: str = "eps"
    time_feature: str = "t"
    sigma_data: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "dim", check_int("dim", self.dim, low=1))
        object.__setattr__(self, "width", check_int("width", self.width, low=1))
        object.__setattr__(self, "depth", check_int("depth", self.depth, low=1))
        object.__setattr__(self, "n_freqs", check_int("n_freqs", self.n_freqs, low=0, high=30))
        check_choice("target", self.target, TARGETS)
        check_choice("time_feature", self.time_feature, TIME_FEATURES)
        object.__setattr__(self, "sigma_data", check_positive("sigma_data", self.sigma_data))

    def to_dict(self):
        return dataclasses.asdict(self)


def _schedule_to_dict(schedule):
    from .schedules import Schedule

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a VPSchedule, EDMSchedule or FlowSchedule, got "
                        f"{type(schedule).__name__}")
    params = {f.name: getattr(schedule, f.name) for f in dataclasses.fields(schedule) if f.init}
    return {"class": type(schedule).__name__, "params": params}


def _schedule_from_dict(d):
    from . import schedules

    allowed = {"VPSchedule", "EDMSchedule", "FlowSchedule"}
    name = d.get("class")
    if name not in allowed:
        raise ValueError(f"unknown schedule class {name!r} in the saved model")
    return getattr(schedules, name)(**d.get("params", {}))


def _default_target(schedule):
    from .schedules import EDMSchedule, FlowSchedule

    if isinstance(schedule, FlowSchedule):
        return "velocity"
    return "x0" if isinstance(schedule, EDMSchedule) else "eps"


def _default_time_feature(schedule):
    from .schedules import EDMSchedule

    return "lambda" if isinstance(schedule, EDMSchedule) else "t"


# ============================================================================ the network
_NETWORK_CLASS = None


def _network_class():
    """The torch module class (defined on first use, so that torch is imported lazily)."""
    global _NETWORK_CLASS
    if _NETWORK_CLASS is not None:
        return _NETWORK_CLASS
    torch = _torch()
    nn = torch.nn

    class TimeConditionedMLP(nn.Module):
        """``F(x, c)``: SiLU MLP; Fourier features of ``c`` added to every hidden layer."""

        def __init__(self, dim, width, depth, n_freqs):
            super().__init__()
            self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_freqs,
                                                                       dtype=torch.float32))
            n_emb = 1 + 2 * n_freqs
            self.embed = nn.Sequential(nn.Linear(n_emb, width), nn.SiLU())
            self.time_proj = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.layers = nn.ModuleList(
                [nn.Linear(dim, width)] + [nn.Linear(width, width) for _ in range(depth - 1)])
            self.out = nn.Linear(width, dim)
            self.act = nn.SiLU()

        def forward(self, x, c):
            ang = c[:, None] * self.freqs
            emb = self.embed(torch.cat([c[:, None], torch.sin(ang), torch.cos(ang)], dim=1))
            h = x
            for layer, proj in zip(self.layers, self.time_proj, strict=True):
                h = self.act(layer(h) + proj(emb))
            return self.out(h)

    _NETWORK_CLASS = TimeConditionedMLP
    return _NETWORK_CLASS


def _build_network(config):
    cls = _network_class()
    return cls(config.dim, config.width, config.depth, config.n_freqs)


# ============================================================================ coefficients
def _terms(schedule, t):
    """float64 schedule quantities at the (validated) times ``t``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        return {
            "a": np.asarray(schedule.alpha(t), dtype=float),
            "s": np.asarray(schedule.sigma(t), dtype=float),
            "da": np.asarray(schedule.dalpha(t), dtype=float),
            "ds": np.asarray(schedule.dsigma(t), dtype=float),
            "lam": np.asarray(schedule.lambda_(t), dtype=float),
        }


def _input_terms(config, tt, t):
    """(c_in, time feature) at times ``t``."""
    sd = config.sigma_data
    a, s = tt["a"], tt["s"]
    c_in = 1.0 / np.sqrt(a * a * sd * sd + s * s)
    if config.time_feature == "t":
        feat = np.asarray(t, dtype=float)
    else:
        feat = np.clip(tt["lam"], -_LAMBDA_CLIP, _LAMBDA_CLIP) / _LAMBDA_SCALE
    return c_in, feat


def _output_coefficients(config, tt, kind):
    """``(A, B)`` with ``kind = A x + B F`` (float64 arrays; non-finite where undefined)."""
    a, s, da, ds = tt["a"], tt["s"], tt["da"], tt["ds"]
    target = config.target
    zero, one = np.zeros_like(a), np.ones_like(a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if target == "eps":
            if kind == "eps":
                return zero, one
            if kind == "x0":
                return 1.0 / a, -s / a
            if kind == "score":
                return zero, -1.0 / s
            f = da / a  # d log alpha / dt
            return f, ds - f * s
        if target == "velocity":
            if kind == "velocity":
                return zero, one
            det = a * ds - s * da  # = -alpha sigma dlambda/dt > 0
            vp_zero = np.isinf(ds) & (s == 0.0)  # sigma = 0 with sigma' = inf (VP at t = 0)
            if kind == "x0":
                A, B = ds / det, -s / det
                return np.where(vp_zero, 1.0 / a, A), np.where(vp_zero, 0.0, B)
            if kind == "eps":
                A, B = -da / det, a / det
                return np.where(vp_zero, 0.0, A), np.where(vp_zero, 0.0, B)
            return da / (s * det), -a / (s * det)  # score = -eps / sigma
        # target == "x0" with EDM preconditioning
        sd = config.sigma_data
        d2 = a * a * sd * sd + s * s
        c_skip, c_out = a * sd * sd / d2, s * sd / np.sqrt(d2)
        if kind == "x0":
            return c_skip, c_out
        eps_a, eps_b = s / d2, -a * sd / np.sqrt(d2)  # (x - alpha x0) / sigma, simplified
        if kind == "eps":
            return eps_a, eps_b
        if kind == "score":
            return -eps_a / s, -eps_b / s
        return da * c_skip + ds * eps_a, da * c_out + ds * eps_b


def _training_pair(config, tt):
    """``(c_skip, c_out)`` of the network's regression target ``(y - c_skip x_t) / c_out``."""
    if config.target != "x0":
        return None
    a, s, sd = tt["a"], tt["s"], config.sigma_data
    d2 = a * a * sd * sd + s * s
    return a * sd * sd / d2, s * sd / np.sqrt(d2)


# ============================================================================ the model
class MLPModel:
    """A trained MLP score / velocity model bound to its noise schedule.

    Made by :func:`train` or :meth:`load`. Attributes: ``network`` (the torch module, float32),
    ``schedule``, ``config`` (:class:`MLPConfig`), ``dim``, ``target``, ``history`` (training
    loss per step, NumPy), ``info`` (training settings, wall time and final loss).
    """

    def __init__(self, network, schedule, config, history=None, info=None):
        torch = _torch()
        if not isinstance(network, torch.nn.Module):
            raise TypeError(f"network must be a torch.nn.Module, got {type(network).__name__}")
        _schedule_to_dict(schedule)  # validates the type
        if not isinstance(config, MLPConfig):
            raise TypeError(f"config must be an MLPConfig, got {type(config).__name__}")
        try:
            hist = np.asarray([] if history is None else history, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"history must be a 1-D array of losses, got {history!r:.60}") \
                from None
        if hist.ndim != 1:
            raise ValueError(f"history must be 1-dimensional, got shape {hist.shape}")
        if info is not None and not isinstance(info, dict):
            raise TypeError(f"info must be a dict, got {type(info).__name__}")
        self.network = network.eval()
        self.schedule = schedule
        self.config = config
        self.history = hist
        self.info = dict(info or {})
        self._copies = {}

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def target(self) -> str:
        return self.config.target

    @property
    def final_loss(self):
        """Mean training loss over the last 100 steps (``None`` if not trained here)."""
        return self.info.get("final_loss")

    def __repr__(self):
        c = self.config
        return (f"MLPModel(dim={c.dim}, width={c.width}, depth={c.depth}, target={c.target!r}, "
                f"schedule={self.schedule!r})")

    # ------------------------------------------------------------------ evaluation
    def _network_for(self, dtype, device):
        torch = _torch()
        p = next(self.network.parameters())
        dev = torch.device(device)
        if p.dtype == dtype and p.device == dev:
            return self.network
        key = (str(dtype), str(dev))
        net = self._copies.get(key)
        if net is None:
            net = copy.deepcopy(self.network).to(device=dev, dtype=dtype).eval()
            self._copies[key] = net
        return net

    def to(self, device):
        """Move the network to ``device`` (returns ``self``)."""
        self.network.to(_torch().device(device))
        self._copies.clear()
        return self

    def predict(self, x, t, kind="eps"):
        """The model's ``kind`` prediction (``"eps"``, ``"x0"``, ``"score"``, ``"velocity"``).

        Parameters
        ----------
        x : NumPy array or torch tensor, shape (..., dim), float32 or float64
            (integer NumPy arrays and lists are taken as float64).
        t : float or array broadcastable to ``x.shape[:-1]``
            Time(s) in the schedule's domain.
        kind : str

        Returns the same type as ``x`` (dtype and device kept). Gradients flow through a
        torch input that requires them; otherwise the network runs under ``no_grad``.
        """
        check_choice("kind", kind, PREDICTION_KINDS)
        torch = _torch()
        if isinstance(x, torch.Tensor):
            xt, numpy_in = x, False
            if xt.dtype not in (torch.float32, torch.float64):
                raise TypeError(f"x must have dtype float32 or float64, got {xt.dtype}")
        else:
            xn = np.asarray(x)
            if xn.dtype.kind in "iub":
                xn = xn.astype(np.float64)
            if xn.dtype not in (np.float32, np.float64):
                raise TypeError(f"x must have dtype float32 or float64, got {xn.dtype}")
            xt, numpy_in = torch.from_numpy(np.ascontiguousarray(xn)), True
        shape = tuple(xt.shape)
        if len(shape) == 0 or shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got {shape}")
        batch = shape[:-1]
        n = int(np.prod(batch, dtype=np.int64))
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().numpy()
        tn = self.schedule.check_t("t", t)
        scalar_t = tn.size == 1 and tn.ndim <= len(batch)
        if scalar_t:
            tn = tn.reshape(())
        else:
            try:
                tn = np.broadcast_to(tn, batch).reshape(n)
            except ValueError:
                raise ValueError(f"t of shape {tn.shape} does not broadcast to the batch shape "
                                 f"{batch} of x") from None
        tt = _terms(self.schedule, tn)
        c_in, feat = _input_terms(self.config, tt, tn)
        A, B = _output_coefficients(self.config, tt, kind)
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))
                and np.all(np.isfinite(c_in))):
            bad = ~(np.isfinite(A) & np.isfinite(B) & np.isfinite(c_in))
            tb = float(np.broadcast_to(tn, bad.shape)[bad].flat[0]) if bad.ndim else float(tn)
            raise ValueError(f"kind={kind!r} is undefined for a {self.target!r} model at t={tb} "
                             f"(alpha = {float(self.schedule.alpha(tb))}, sigma = "
                             f"{float(self.schedule.sigma(tb))})")
        xf = xt.reshape(n, self.dim)
        dtype, device = xt.dtype, xt.device
        net = self._network_for(dtype, device)

        def col(v):
            return torch.as_tensor(np.asarray(v, dtype=float).reshape(-1, 1), dtype=dtype,
                                   device=device)

        feat_t = torch.as_tensor(np.broadcast_to(np.asarray(feat, dtype=float), (n,)).copy(),
                                 dtype=dtype, device=device)
        grad = torch.is_grad_enabled() and xt.requires_grad
        with torch.set_grad_enabled(grad):
            if scalar_t:
                out = net(xf * float(c_in), feat_t)
                a_, b_ = float(A), float(B)
                out = b_ * out if a_ == 0.0 else a_ * xf + b_ * out
            else:
                out = net(xf * col(c_in), feat_t)
                out = col(A) * xf + col(B) * out
        out = out.reshape(shape)
        if numpy_in:
            return out.detach().numpy()
        return out

    def __call__(self, x, t, kind="eps"):
        return self.predict(x, t, kind)

    # ------------------------------------------------------------------ sampling
    def prior_sample(self, n, rng=None, t_start=None, dtype=np.float64):
        """``n`` starting points ``sigma(t_start) z``, ``z ~ N(0, I)`` (NumPy, shape (n, dim));
        the ``alpha(t_start) x_0`` part is neglected (it is ``< 0.007`` at VP's ``t = 1``,
        zero for flows)."""
        n = check_int("n", n, low=0)
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        ts = self.schedule.t_start if t_start is None else t_start
        s = float(self.schedule.sigma(self.schedule.check_t("t_start", ts)))
        return (s * as_rng(rng).standard_normal((n, self.dim))).astype(dtype)

    def sample(self, n, *, solver, nfe, rng=None, dtype=np.float64, **kwargs):
        """Draw ``n`` samples: :meth:`prior_sample` at the start time, then
        :func:`sciflow.sampling.solvers.sample` (``kwargs`` passed on, e.g. ``t_start``,
        ``steps``, ``spacing``, ``return_info``; SDE solvers draw their noise from ``rng``)."""
        from .solvers import sample as _sample

        rng = as_rng(rng)
        t_start = kwargs.get("t_start")
        if kwargs.get("steps") is not None:
            t_start = float(np.asarray(kwargs["steps"], dtype=float).ravel()[0])
        x_T = self.prior_sample(n, rng, t_start, dtype=dtype)
        if isinstance(solver, str) and solver.endswith("_sde"):
            kwargs["rng"] = rng  # the SDE noise continues the same stream
        return _sample(self, x_T, self.schedule, solver=solver, nfe=nfe, **kwargs)

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the weights, the configuration, the schedule and the training record to
        ``path`` (one ``torch.save`` file; everything but the tensors is stored as JSON)."""
        torch = _torch()
        payload = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "config": json.dumps(self.config.to_dict()),
            "schedule": json.dumps(_schedule_to_dict(self.schedule)),
            "info": json.dumps(self.info),
            "history": torch.as_tensor(self.history, dtype=torch.float64),
            "state_dict": {k: v.detach().cpu().clone()
                           for k, v in self.network.state_dict().items()},
        }
        torch.save(payload, path)

    @classmethod
    def load(cls, path, device="cpu"):
        """Read a model written by :meth:`save` (with ``weights_only=True``: no pickled code)."""
        torch = _torch()
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path!s} is not a saved sciflow MLPModel")
        if payload.get("version", 0) > _FORMAT_VERSION:
            raise ValueError(f"{path!s} was written by a newer sciflow (format version "
                             f"{payload['version']})")
        config = MLPConfig(**json.loads(payload["config"]))
        schedule = _schedule_from_dict(json.loads(payload["schedule"]))
        net = _build_network(config)
        net.load_state_dict(payload["state_dict"])
        net.to(torch.device(device))
        return cls(net, schedule, config, history=payload["history"].numpy(),
                   info=json.loads(payload["info"]))


# ============================================================================ training
def _as_data(data):
    """Training data as a float64 NumPy array of shape (n, d)."""
    if type(data).__module__.startswith("torch"):
        data = data.detach().cpu().numpy()
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"data must be an array of numbers: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"data must have shape (n, d), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"data must have at least 2 points and 1 dimension, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("data must be finite; it has NaN/inf values")
    return arr


def train(data, schedule, *, target=None, steps=4000, batch_size=512, lr=5e-3, width=128,
          depth=3, n_freqs=6, time_feature=None, ema_decay=0.999, warmup=100, weight_decay=0.0,
          t_sampler=None, rng=None, progress=True, device="cpu", num_threads=1):
    """Train an :class:`MLPModel` on ``data`` under ``schedule``.

    Parameters
    ----------
    data : array (n, d)
        Training points (NumPy or torch; used in float64 to form ``x_t``, the network runs in
        float32).
    schedule : VPSchedule, EDMSchedule or FlowSchedule
    target : "eps", "velocity" or "x0", optional
        What the network predicts (module docstring); default ``"velocity"`` for a
        :class:`~sciflow.sampling.FlowSchedule` (flow matching), ``"x0"`` (EDM
        preconditioning) for an :class:`~sciflow.sampling.EDMSchedule`, else ``"eps"``
        (denoising score matching).
    steps, batch_size : int
        Adam steps and points per step (drawn with replacement).
    lr : float
        Peak learning rate: linear warm-up over ``warmup`` steps, then cosine decay to 0.
    width, depth, n_freqs : int
        Network size (:class:`MLPConfig`).
    time_feature : "t" or "lambda", optional
        Default ``"lambda"`` for EDM (its time is ``sigma`` in ``[0, inf)``), else ``"t"``.
    ema_decay : float in [0, 1)
        Exponential moving average of the weights (the returned model uses the average);
        0 turns it off. The effective decay is ``min(ema_decay, (1 + k)/(10 + k))`` at step k.
    weight_decay : float
        AdamW weight decay.
    t_sampler : callable ``(n, rng) -> times``, optional
        Training-time density; default ``schedule.sample_training_t``.
    rng : numpy Generator or int seed
        Everything random (initial weights, batches, noise, times) comes from it, so a seed
        makes training reproducible (on one device and thread count).
    progress : bool
        tqdm progress bar with the running loss.
    device : str or torch.device
    num_threads : int or None
        ``torch.set_num_threads`` for the duration of training (restored afterwards). The
        default 1 is the fastest for networks this small and is robust on shared machines
        (default width, 4000 steps: 21 s on one thread; with two threads on two busy
        cores the same run took 274 s); ``None`` keeps torch's setting.

    Returns
    -------
    MLPModel
        ``info`` holds ``final_loss`` (mean over the last 100 steps), ``train_time_s`` and the
        settings; ``history`` the loss of every step.
    """
    torch = _torch()
    x_data = _as_data(data)
    _schedule_to_dict(schedule)
    target = _default_target(schedule) if target is None else target
    check_choice("target", target, TARGETS)
    time_feature = _default_time_feature(schedule) if time_feature is None else time_feature
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    warmup = check_int("warmup", warmup, low=0)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    ema_decay = check_nonnegative("ema_decay", ema_decay)
    if ema_decay >= 1.0:
        raise ValueError(f"ema_decay must be < 1, got {ema_decay}")
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    if num_threads is not None:
        num_threads = check_int("num_threads", num_threads, low=1)
    if t_sampler is None:
        t_sampler = schedule.sample_training_t
    elif not callable(t_sampler):
        raise TypeError(f"t_sampler must be callable (n, rng) -> times, got {t_sampler!r}")
    rng = as_rng(rng)
    sigma_data = float(np.sqrt(np.mean(x_data * x_data)))
    if not sigma_data > 0.0:
        raise ValueError("data must not be identically zero")
    config = MLPConfig(dim=x_data.shape[1], width=width, depth=depth, n_freqs=n_freqs,
                       target=target, time_feature=time_feature, sigma_data=sigma_data)
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
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        history = np.empty(steps)
        it = range(steps)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = it = tqdm(it, desc=f"train ({target})", leave=False)
        t0 = time.perf_counter()
        net.train()
        for k in it:
            scale = (k + 1) / warmup if k < warmup else 0.5 * (
                1.0 + math.cos(math.pi * (k - warmup) / max(steps - warmup, 1)))
            for g in opt.param_groups:
                g["lr"] = lr * max(scale, 0.0)
            x_in, feat, y = _batch(config, schedule, x_data, batch_size, rng, t_sampler)
            x_in, feat, y = (torch.as_tensor(v, dtype=torch.float32, device=dev)
                             for v in (x_in, feat, y))
            loss = torch.mean((net(x_in, feat) - y) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema is not None:
                d = min(ema_decay, (1.0 + k) / (10.0 + k))
                with torch.no_grad():
                    torch._foreach_lerp_(ema_params, params, 1.0 - d)
            history[k] = float(loss.detach())
            if bar is not None and (k % 50 == 0 or k == steps - 1):
                bar.set_postfix(loss=f"{np.mean(history[max(0, k - 49):k + 1]):.4f}")
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
    finally:
        if num_threads is not None:
            torch.set_num_threads(old_threads)
    final = ema if ema is not None else net
    final.eval()
    info = {
        "steps": steps, "batch_size": batch_size, "lr": lr, "warmup": warmup,
        "weight_decay": weight_decay, "ema_decay": ema_decay, "n_data": int(x_data.shape[0]),
        "train_time_s": wall, "final_loss": float(np.mean(history[-min(100, steps):])),
        "device": str(dev),
    }
    return MLPModel(final, schedule, config, history=history, info=info)


def _batch(config, schedule, x_data, batch_size, rng, t_sampler):
    """One training batch in float64 NumPy: (scaled input, time feature, regression target)."""
    idx = rng.integers(0, x_data.shape[0], size=batch_size)
    x0 = x_data[idx]
    eps = rng.standard_normal(x0.shape)
    t = schedule.check_t("t (from t_sampler)", np.asarray(t_sampler(batch_size, rng),
                                                          dtype=float))
    if t.shape != (batch_size,):
        raise ValueError(f"t_sampler must return {batch_size} times, got shape {t.shape}")
    tt = _terms(schedule, t)
    a, s = tt["a"][:, None], tt["s"][:, None]
    x_t = a * x0 + s * eps
    c_in, feat = _input_terms(config, tt, t)
    if config.target == "eps":
        y = eps
    elif config.target == "velocity":
        y = tt["da"][:, None] * x0 + tt["ds"][:, None] * eps
    else:
        c_skip, c_out = _training_pair(config, tt)
        y = (x0 - c_skip[:, None] * x_t) / c_out[:, None]
    if not np.all(np.isfinite(y)):
        raise ValueError("the training target is not finite at some sampled time; restrict "
                         "t_sampler away from the schedule's end points")
    return x_t * c_in[:, None], feat, y
