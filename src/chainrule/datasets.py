"""Small datasets, generated or bundled: XOR, the 2-D playground sets, the digits.

Every generator takes ``n`` samples, ``noise`` and ``seed`` and returns ``(X, y)`` with X of
shape (n, 2) in float64 and integer labels y (n,) — or float targets for regression sets.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .errors import ConfigError, InputError


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2) of 0/1, y (4,) = x1 XOR x2."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array([0, 1, 1, 0])


# The generators' coordinates are at most about 6; noise beyond this would only be noise, and
# a standard deviation near the float64 limit turns points into infinities.
MAX_NOISE = 1e6


def _args(n: int, noise: float, seed: int | None):
    n = _checks.positive_int(n, "n", high=_checks.MAX_SAMPLES)
    noise = _checks.number(noise, "noise", low=0.0, high=MAX_NOISE)
    return n, noise, np.random.default_rng(_checks.seed(seed))


def circle(n: int = 200, noise: float = 0.0, seed: int | None = None):
    """A disc of class 1 inside a ring of class 0, radius 5 (the playground's 'circle')."""
    n, noise, rng = _args(n, noise, seed)
    inner = n // 2
    radius = np.concatenate([rng.uniform(0, 2.5, inner), rng.uniform(3.5, 5.0, n - inner)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    X += rng.normal(0, noise, X.shape)
    y = np.r_[np.ones(inner, int), np.zeros(n - inner, int)]
    return X, y


def xor_2d(n: int = 200, noise: float = 0.0, seed: int | None = None):
    """Points in [-5, 5]²; class 1 where x1·x2 > 0 (the playground's 'XOR')."""
    n, noise, rng = _args(n, noise, seed)
    X = rng.uniform(-5, 5, (n, 2))
    X += np.sign(X) * 0.3  # keep points off the axes, as the playground does
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    X += rng.normal(0, noise, X.shape)
    return X, y


def gaussians(n: int = 200, noise: float = 0.0, seed: int | None = None, classes: int = 2):
    """``classes`` Gaussian blobs (std 1 + noise) on a circle of radius 3."""
    n, noise, rng = _args(n, noise, seed)
    classes = _checks.positive_int(classes, "classes")
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes + np.pi / 4
    centres = 3.0 * np.c_[np.cos(angle), np.sin(angle)]
    X = centres + rng.normal(0, 1.0 + noise, (n, 2))
    return X, y


def spiral(n: int = 200, noise: float = 0.0, seed: int | None = None, classes: int = 2):
    """``classes`` interleaved spiral arms of radius up to 5."""
    n, noise, rng = _args(n, noise, seed)
    classes = _checks.positive_int(classes, "classes")
    y = np.arange(n) % classes
    t = rng.uniform(0, 1, n)
    r = 5 * t
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / classes
    X = np.c_[r * np.sin(angle), r * np.cos(angle)] + rng.normal(0, noise, (n, 2))
    return X, y


def moons(n: int = 200, noise: float = 0.0, seed: int | None = None):
    """Two interleaving half circles."""
    n, noise, rng = _args(n, noise, seed)
    half = n // 2
    a = rng.uniform(0, np.pi, half)
    b = rng.uniform(0, np.pi, n - half)
    X = np.r_[np.c_[np.cos(a), np.sin(a)], np.c_[1 - np.cos(b), 0.5 - np.sin(b)]]
    X += rng.normal(0, noise, X.shape)
    return X, np.r_[np.zeros(half, int), np.ones(n - half, int)]


def plane(n: int = 200, noise: float = 0.0, seed: int | None = None):
    """Regression: y = (x1 + x2) / 10 on [-5, 5]² plus noise."""
    n, noise, rng = _args(n, noise, seed)
    X = rng.uniform(-5, 5, (n, 2))
    return X, (X[:, 0] + X[:, 1]) / 10 + rng.normal(0, noise, n)


# Centres and signs of the six bumps of multi_gaussian: a 3 × 2 checkerboard of ±1.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gaussian(n: int = 200, noise: float = 0.0, seed: int | None = None):
    """Regression: six ±1 bumps on [-6, 6]² (the playground's 'multi-Gaussian').

    Each bump falls linearly from its sign at its centre to 0 at distance 2; the target is the
    bump of largest magnitude at the point. ``noise`` is the std of Gaussian noise added to the
    inputs after the targets are computed. Returns X (n, 2) and y (n,) in [-1, 1].
    """
    n, noise, rng = _args(n, noise, seed)
    X = rng.uniform(-6, 6, (n, 2))
    dist = np.hypot(X[:, :1] - _BUMPS[:, 0], X[:, 1:] - _BUMPS[:, 1])  # (n, 6)
    values = _BUMPS[:, 2] * np.clip(1 - dist / 2, 0, 1)
    y = values[np.arange(n), np.abs(values).argmax(axis=1)]
    return X + rng.normal(0, noise, X.shape), y


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits: X (1797, 64) with pixel values 0..16, y (1797,).

    Needs scikit-learn (the ``sklearn`` extra); the data ships inside that package.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ConfigError(
            "the digits data ships with scikit-learn; install it: pip install 'chainrule[sklearn]'"
        ) from None
    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def standardize(
    X: object, mean: object = None, scale: object = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X - mean) / scale per column; constant columns get scale 1. Returns (Xs, mean, scale).

    ``mean`` and ``scale`` default to the columns' own; pass those of the training data to
    scale other data the same way.
    """
    X = _checks.features(X, "X", None, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
        mean = X.mean(axis=0) if mean is None else _column_stats(mean, "mean", X.shape[1])
        if scale is None:
            scale = X.std(axis=0)
            scale[scale == 0] = 1.0
        else:
            scale = _column_stats(scale, "scale", X.shape[1])
            if (scale <= 0).any():
                raise InputError("scale must be > 0 in every column; use 1 for a constant column")
        Xs = (X - mean) / scale
    fix = "the values are too large to standardise; divide X by a common factor first"
    _checks.computed_finite(np.r_[mean, scale], "the column statistics", np.float64, fix)
    _checks.computed_finite(Xs, "the standardised values", np.float64, fix)
    return Xs, mean, scale


def _column_stats(values: object, name: str, n_features: int) -> np.ndarray:
    """A finite float64 vector with one value per column of X."""
    array = _checks.numeric_array(values, name)
    if array.shape != (n_features,):
        raise InputError(
            f"{name} has shape {array.shape} but X has {n_features} columns; pass the {name} "
            "that standardize returned for data with the same columns"
        )
    _checks.finite_check(array, name)
    return array.astype(np.float64)
