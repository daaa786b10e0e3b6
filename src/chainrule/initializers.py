"""Weight initialisers: each draws W of shape (n_in, n_out) from a seeded generator."""

from __future__ import annotations

import numpy as np

from ._checks import choice


def _glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _glorot_normal(rng, n_in, n_out):
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def _he_normal(rng, n_in, n_out):
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


def _he_uniform(rng, n_in, n_out):
    limit = np.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _uniform(rng, n_in, n_out):
    # LeCun-style scale, so 'uniform' is usable at any width.
    limit = 1.0 / np.sqrt(n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _normal(rng, n_in, n_out):
    return rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))


def _zeros(rng, n_in, n_out):
    return np.zeros((n_in, n_out))


_INITIALIZERS = {
    "xavier": _glorot_uniform,
    "glorot": _glorot_uniform,
    "glorot_uniform": _glorot_uniform,
    "glorot_normal": _glorot_normal,
    "he": _he_normal,
    "he_normal": _he_normal,
    "he_uniform": _he_uniform,
    "uniform": _uniform,
    "normal": _normal,
    "zeros": _zeros,
}

INITIALIZERS: tuple[str, ...] = tuple(_INITIALIZERS)


def default_init(activation: str) -> str:
    """He for the ReLU family, Glorot/Xavier for everything else."""
    return "he" if activation in ("relu", "leaky_relu") else "xavier"


def initialize(
    init: str, rng: np.random.Generator, n_in: int, n_out: int, dtype: np.dtype
) -> np.ndarray:
    """Draw a (n_in, n_out) weight matrix with initialiser ``init``, in float64 then cast."""
    key = choice(init, "init", INITIALIZERS)
    return _INITIALIZERS[key](rng, n_in, n_out).astype(dtype)
