"""Decomposable flow matching on a Laplacian pyramid of the 8x8 digits, against plain flow
matching on the 64 pixels.

Representation
--------------
:func:`decompose` maps an 8x8 image ``x`` to a 2-level Laplacian pyramid: the low-pass ``low =
down(x)`` (2x2 block means, 4x4) and the detail ``detail = x - up(low)`` (8x8, ``up`` = nearest
upsampling); :func:`reconstruct` is ``up(low) + detail``, exact up to rounding (one addition
per pixel: tested to 1e-12). The detail has zero mean on every 2x2 block (48 free numbers of 64);
:func:`project_detail` restores that property on generated details.

Models
------
:func:`train` fits a velocity network by conditional flow matching in the convention of
:class:`~sciflow.sampling.FlowSchedule` (``x_t = (1 - t) x_0 + t eps``, ``t = 1`` noise, ``t = 0``
data, target ``eps - x_0``) with one architecture for both kinds (a SiLU MLP whose Fourier time
features enter every hidden layer, as :mod:`sciflow.sampling.nn`):

* ``kind="plain"``: the 64 pixels, one time;
* ``kind="pyramid"``: decomposable flow matching (Haji-Ali et al. 2025, "Decomposable flow
  matching"; cf. Jin et al. 2024, "Pyramidal flow matching"): the state is ``[low (16),
  detail (64)]`` with one time per level; a training example is in stage 0 (coarse: ``t_low ~
  U(0, 1)``, ``t_detail = 1``, the detail pure noise) or stage 1 (detail: ``t_low = 0``, the
  clean low-pass, ``t_detail ~ U(0, 1)``) with probability 1/2 each; the loss is the squared
  error of the active level's velocity only. Sampling runs stage 0 then stage 1 (staged time
  windows): the coarse image is generated first and the detail conditioned on it; the NFE
  budget is split ``coarse_fraction`` : rest.

Each level (plain: the pixels) is centred per coordinate and scaled by one scalar (its RMS
about that mean) from the training data. :func:`matched_width` gives the hidden width of one
kind whose parameter count is closest to a network of the other kind (the in/out layers of the
pyramid network are 16 wider and it has two time inputs), so comparisons are at equal size.

Evaluation (:class:`DigitScorer`)
--------------------------------
Fitted once on training digits (seeded): the sliced 2-Wasserstein distance in pixel space (256
fixed directions) to held-out digits; the Fréchet distance between Gaussians fitted to the
10 logits of a multinomial logistic-regression classifier (scikit-learn, trained on the training
digits; :func:`sciflow.multiplicative.digits.frechet_distance`); the class coverage (entropy of
the predicted-label histogram, ``log 10 = 2.303`` at best) and the classifier's mean confidence.

torch is imported inside the functions that need it: ``import sciflow.sampling.pyramid`` needs
NumPy only (scikit-learn when the digits are loaded or scored).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .._validate import (
    as_rng,
    check_array,
    check_choice,
    check_in_range,
    check_int,
    check_positive,
)

__all__ = ["decompose", "reconstruct", "project_detail", "train", "PyramidFlowModel",
           "matched_width", "DigitScorer", "KINDS"]

KINDS = ("plain", "pyramid")
_LEVEL_SIZES = (16, 64)


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover
        raise ImportError("sciflow.sampling.pyramid training and sampling need PyTorch; install "
                          "it with `pip install 'sciflow[torch]'`") from exc
    return torch


# ============================================================================ pyramid
def _images(name, x):
    x = check_array(name, x)
    if x.ndim == 2 and x.shape[1] == 64:
        x = x.reshape(-1, 8, 8)
    if x.ndim != 3 or x.shape[1:] != (8, 8):
        raise ValueError(f"{name} must have shape (n, 8, 8) or (n, 64), got {x.shape}")
    return x


def decompose(images):
    """``(low, detail)``: 2x2 block means (n, 4, 4) and ``images - up(low)`` (n, 8, 8)."""
    x = _images("images", images)
    low = x.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))
    return low, x - _up(low)


def _up(low):
    return np.repeat(np.repeat(low, 2, axis=1), 2, axis=2)


def reconstruct(low, detail):
    """``up(low) + detail`` (n, 8, 8): the inverse of :func:`decompose`."""
    low = check_array("low", low)
    if low.ndim == 2 and low.shape[1] == 16:
        low = low.reshape(-1, 4, 4)
    if low.ndim != 3 or low.shape[1:] != (4, 4):
        raise ValueError(f"low must have shape (n, 4, 4) or (n, 16), got {low.shape}")
    detail = _images("detail", detail)
    if len(detail) != len(low):
        raise ValueError(f"detail must hold {len(low)} images like low, got {len(detail)}")
    return _up(low) + detail


def project_detail(detail):
    """``detail`` minus its 2x2 block means (the nearest valid Laplacian detail)."""
    d = _images("detail", detail)
    return d - _up(d.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)))


def _to_state(kind, images):
    x = images.reshape(len(images), 64)
    if kind == "plain":
        return x
    low, detail = decompose(images)
    return np.concatenate([low.reshape(-1, 16), detail.reshape(-1, 64)], axis=1)


def _from_state(kind, u):
    if kind == "plain":
        return u.reshape(-1, 8, 8)
    return reconstruct(u[:, :16].reshape(-1, 4, 4), project_detail(u[:, 16:].reshape(-1, 8, 8)))


# ============================================================================ network
_NET = None


def _net_class():
    global _NET
    if _NET is not None:
        return _NET
    torch = _torch()
    nn = torch.nn

    class MultiTimeMLP(nn.Module):
        """``F(u, t_1..t_k)``: SiLU MLP; Fourier features of the times added to every layer."""

        def __init__(self, dim, n_times, width, depth, n_freqs):
            super().__init__()
            self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_freqs,
                                                                       dtype=torch.float32))
            self.embed = nn.Sequential(nn.Linear(n_times * (1 + 2 * n_freqs), width), nn.SiLU())
            self.time_proj = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.layers = nn.ModuleList(
                [nn.Linear(dim, width)] + [nn.Linear(width, width) for _ in range(depth - 1)])
            self.out = nn.Linear(width, dim)
            self.act = nn.SiLU()

        def forward(self, u, t):  # t: (n, n_times)
            ang = (t[:, :, None] * self.freqs).flatten(1)
            emb = self.embed(torch.cat([t, torch.sin(ang), torch.cos(ang)], dim=1))
            h = u
            for layer, proj in zip(self.layers, self.time_proj, strict=True):
                h = self.act(layer(h) + proj(emb))
            return self.out(h)

    _NET = MultiTimeMLP
    return _NET


def _n_params(kind, width, depth, n_freqs):
    dim, nt = (64, 1) if kind == "plain" else (80, 2)
    emb = nt * (1 + 2 * n_freqs)
    return ((emb + 1) * width + depth * (width + 1) * width + (dim + 1) * width
            + (depth - 1) * (width + 1) * width + (width + 1) * dim)


def matched_width(kind, other_kind, other_width, *, depth=3, n_freqs=4):
    """Hidden width of a ``kind`` network whose parameter count is closest to that of an
    ``other_kind`` network of width ``other_width`` (same depth and time features)."""
    check_choice("kind", kind, KINDS)
    check_choice("other_kind", other_kind, KINDS)
    other_width = check_int("other_width", other_width, low=1)
    depth = check_int("depth", depth, low=1)
    n_freqs = check_int("n_freqs", n_freqs, low=0, high=20)
    target = _n_params(other_kind, other_width, depth, n_freqs)
    lo = max(1, other_width // 2)
    widths = range(lo, 2 * other_width + 2)
    return min(widths, key=lambda w: abs(_n_params(kind, w, depth, n_freqs) - target))


# ============================================================================ model
class PyramidFlowModel:
    """A trained flow-matching model of 8x8 images (:func:`train`); ``kind`` "plain" or
    "pyramid". :meth:`sample` draws images; ``n_parameters``, ``history`` (loss per logged
    step) and ``info`` (training wall time, steps) describe the fit."""

    def __init__(self, network, kind, mean, scales, *, history=(), info=None):
        check_choice("kind", kind, KINDS)
        dim, n_levels = (64, 1) if kind == "plain" else (80, 2)
        mean = check_array("mean", mean, ndim=1)
        if mean.shape != (dim,):
            raise ValueError(f"mean must have shape ({dim},) for kind {kind!r}, got {mean.shape}")
        scales = check_array("scales", scales, ndim=1)
        if scales.shape != (n_levels,) or np.any(scales <= 0):
            raise ValueError(f"scales must be {n_levels} positive number(s) for kind {kind!r}, "
                             f"got {scales}")
        if network is not None and not callable(network):
            raise TypeError(f"network must be a torch module (callable), got "
                            f"{type(network).__name__}")
        self.network, self.kind = network, kind
        self.mean, self.scales = mean, scales
        self.history = np.asarray(history, dtype=float)
        self.info = dict(info or {})

    @property
    def n_parameters(self) -> int:
        if self.network is None:
            return 0
        return int(sum(p.numel() for p in self.network.parameters()))

    def __repr__(self):
        return f"PyramidFlowModel(kind={self.kind!r}, parameters={self.n_parameters})"

    def _velocity(self, u, times):
        if self.network is None:
            raise ValueError("this PyramidFlowModel has no network (network=None); train one "
                             "with sciflow.sampling.pyramid.train")
        torch = _torch()
        with torch.no_grad():
            ut = torch.as_tensor(u, dtype=torch.float32)
            tt = torch.as_tensor(np.broadcast_to(times, (len(u), len(times))).copy(),
                                 dtype=torch.float32)
            return self.network(ut, tt).double().numpy()

    def sample(self, n, *, nfe=32, solver="euler", coarse_fraction=0.5, rng=None):
        """``n`` images (n, 8, 8) in the data range, from ``nfe`` network evaluations.

        ``solver``: "euler" (one evaluation per step) or "heun" (two per step; ``nfe`` even, and
        for the pyramid each stage's share even). The pyramid gives ``round(coarse_fraction *
        nfe)`` evaluations to the low-pass stage (at least one step per stage) and the rest to
        the detail stage.
        """
        n = check_int("n", n, low=1)
        nfe = check_int("nfe", nfe, low=1)
        check_choice("solver", solver, ("euler", "heun"))
        coarse_fraction = check_in_range("coarse_fraction", coarse_fraction, 0.0, 1.0,
                                         low_open=True, high_open=True)
        per = 2 if solver == "heun" else 1
        rng = as_rng(rng)
        dim = 64 if self.kind == "plain" else 80
        u = rng.standard_normal((n, dim))
        if self.kind == "plain":
            if nfe % per:
                raise ValueError(f"nfe must be even for solver 'heun', got {nfe}")
            u = self._integrate(u, nfe // per, solver, slice(0, 64), lambda s: np.array([s]))
        else:
            if nfe < 2 * per:
                raise ValueError(f"nfe must be >= {2 * per} for the pyramid with solver "
                                 f"{solver!r} (one step per stage), got {nfe}")
            n_coarse = min(max(int(round(coarse_fraction * nfe / per)), 1), nfe // per - 1)
            n_detail = nfe // per - n_coarse
            if nfe % per:
                raise ValueError(f"nfe must be even for solver 'heun', got {nfe}")
            u = self._integrate(u, n_coarse, solver, slice(0, 16), lambda s: np.array([s, 1.0]))
            u = self._integrate(u, n_detail, solver, slice(16, 80),
                                lambda s: np.array([0.0, s]))
        return self._decode(u)

    def _integrate(self, u, n_steps, solver, active, times):
        grid = np.linspace(1.0, 0.0, n_steps + 1)
        u = u.copy()
        for s, e in zip(grid[:-1], grid[1:], strict=True):
            h = e - s
            k1 = self._velocity(u, times(s))[:, active]
            if solver == "euler":
                u[:, active] += h * k1
            else:
                v = u.copy()
                v[:, active] += h * k1
                k2 = self._velocity(v, times(e))[:, active]
                u[:, active] += 0.5 * h * (k1 + k2)
        return u

    def _encode(self, images):
        return (_to_state(self.kind, images) - self.mean) / self._scale_vector()

    def _decode(self, u):
        return _from_state(self.kind, u * self._scale_vector() + self.mean)

    def _scale_vector(self):
        if self.kind == "plain":
            return np.full(64, self.scales[0])
        return np.concatenate([np.full(16, self.scales[0]), np.full(64, self.scales[1])])


def train(images, *, kind="pyramid", steps=2000, batch_size=256, lr=2e-3, width=192, depth=3,
          n_freqs=4, rng=0, progress=False):
    """Fit a :class:`PyramidFlowModel` by (decomposable) flow matching.

    Parameters
    ----------
    images : (n, 8, 8) or (n, 64) array
        Training images (any fixed range, e.g. ``[-1, 1]``).
    kind : "plain" or "pyramid"
    steps, batch_size, lr : training length, batch size, Adam learning rate (cosine-decayed
        to 0).
    width, depth, n_freqs : the MLP (hidden width, hidden layers, Fourier time frequencies).
    rng : Generator or seed — batches, times, noise and the initialisation.
    progress : bool — a tqdm bar.
    """
    check_choice("kind", kind, KINDS)
    x = _images("images", images)
    if len(x) < 2:
        raise ValueError(f"images must hold at least 2 images, got {len(x)}")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    width = check_int("width", width, low=1)
    depth = check_int("depth", depth, low=1)
    n_freqs = check_int("n_freqs", n_freqs, low=0, high=20)
    rng = as_rng(rng)
    torch = _torch()
    t0 = time.perf_counter()

    state = _to_state(kind, x)
    mean = state.mean(axis=0)
    if kind == "plain":
        scales = np.array([np.sqrt(np.mean((state - mean) ** 2))])
    else:
        scales = np.array([np.sqrt(np.mean((state[:, :16] - mean[:16]) ** 2)),
                           np.sqrt(np.mean((state[:, 16:] - mean[16:]) ** 2))])
    model = PyramidFlowModel(None, kind, mean, scales)
    data = torch.as_tensor(model._encode(x), dtype=torch.float32)
    dim = data.shape[1]
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    n_times = 1 if kind == "plain" else 2
    with torch.random.fork_rng():
        torch.manual_seed(int(rng.integers(2**31)))
        net = _net_class()(dim, n_times, width, depth, n_freqs)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"flow matching ({kind})")
    for step in range(steps):
        idx = torch.randint(len(data), (batch_size,), generator=gen)
        x0 = data[idx]
        eps = torch.randn(x0.shape, generator=gen)
        t = torch.rand(batch_size, generator=gen)
        if kind == "plain":
            xt = (1 - t[:, None]) * x0 + t[:, None] * eps
            pred = net(xt, t[:, None])
            loss = ((pred - (eps - x0)) ** 2).mean()
        else:
            stage = torch.rand(batch_size, generator=gen) < 0.5  # True: detail stage
            t_low = torch.where(stage, torch.zeros_like(t), t)
            t_det = torch.where(stage, t, torch.ones_like(t))
            tv = torch.cat([t_low[:, None].expand(-1, 16), t_det[:, None].expand(-1, 64)], 1)
            xt = (1 - tv) * x0 + tv * eps
            pred = net(xt, torch.stack([t_low, t_det], 1))
            mask = torch.cat([(~stage)[:, None].expand(-1, 16), stage[:, None].expand(-1, 64)],
                             1).float()
            err = (pred - (eps - x0)) ** 2 * mask
            loss = err.sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            history.append(float(loss.detach()))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    net.eval()
    info = {"steps": steps, "train_time": time.perf_counter() - t0, "width": width,
            "depth": depth, "n_freqs": n_freqs, "batch_size": batch_size}
    return PyramidFlowModel(net, kind, mean, scales, history=history, info=info)


# ============================================================================ evaluation
@dataclass(frozen=True)
class _Scores:
    sliced_w: float
    frechet: float
    coverage: float
    confidence: float


class DigitScorer:
    """A fixed evaluation of generated 8x8 digits (see the module docstring).

    Parameters
    ----------
    x_train, y_train : training images (n, 8, 8) and labels, for the classifier.
    x_ref : held-out images every sample set is compared with.
    n_projections : directions of the sliced Wasserstein distance.
    rng : seed of the directions (and of the classifier's solver).
    """

    def __init__(self, x_train, y_train, x_ref, *, n_projections=256, rng=0):
        from sklearn.linear_model import LogisticRegression

        xt = _images("x_train", x_train).reshape(-1, 64)
        y = np.asarray(y_train)
        if y.shape != (len(xt),):
            raise ValueError(f"y_train must have shape ({len(xt)},), got {y.shape}")
        self.x_ref = _images("x_ref", x_ref).reshape(-1, 64)
        self.n_projections = check_int("n_projections", n_projections, low=1)
        seed = int(as_rng(rng).integers(2**31))
        d = np.random.default_rng(seed).standard_normal((64, self.n_projections))
        self._dirs = d / np.linalg.norm(d, axis=0, keepdims=True)
        self.classifier = LogisticRegression(max_iter=3000, C=1.0, random_state=seed).fit(xt, y)
        self._ref_logits = self.classifier.decision_function(self.x_ref)

    def sliced_wasserstein(self, images):
        """Sliced W2 to the held-out images (equal sizes: quantiles otherwise)."""
        x = _images("images", images).reshape(-1, 64)
        px, py = x @ self._dirs, self.x_ref @ self._dirs
        q = (np.arange(max(len(x), len(py))) + 0.5) / max(len(x), len(py))
        qx = np.quantile(px, q, axis=0)
        qy = np.quantile(py, q, axis=0)
        return float(np.sqrt(np.mean((qx - qy) ** 2)))

    def score(self, images):
        """``{"sliced_w", "frechet", "coverage", "confidence"}`` of a set of images."""
        from ..multiplicative.digits import class_coverage, frechet_distance

        x = _images("images", images).reshape(-1, 64)
        if len(x) < 2:
            raise ValueError(f"images must hold at least 2 images, got {len(x)}")
        logits = self.classifier.decision_function(x)
        probs = self.classifier.predict_proba(x)
        labels = self.classifier.classes_[np.argmax(probs, axis=1)].astype(np.int64)
        s = _Scores(self.sliced_wasserstein(x), frechet_distance(logits, self._ref_logits),
                    class_coverage(labels), float(np.mean(probs.max(axis=1))))
        return {k: getattr(s, k) for k in ("sliced_w", "frechet", "coverage", "confidence")}
