"""Losses: the value L (mean over samples) and the gradient that starts back-propagation.

``squared_error`` and ``mse`` give dL/dŷ, which the output layer's activation turns into δ.
``cross_entropy`` (softmax output) and ``binary_cross_entropy`` (sigmoid output) are fused with
their activation: their value is computed from the logits e, stable for any magnitude, and their
gradient is δ = dL/de = ŷ - y directly. The pairing is checked when the network is built, so no
loss ever silently assumes an activation it was not given.
"""

from __future__ import annotations

import numpy as np

from ._checks import cast, choice, finite_check, numeric_array, show
from .errors import ConfigError, InputError


class Loss:
    """Base class. ``fused`` losses return δ = dL/de; the others return dL/dŷ."""

    name = "loss"
    fused = False
    requires: str | None = None  # the output activation a fused loss is defined on
    classification = False

    def check_output(self, activation: str) -> None:
        """Raise if this loss cannot sit on an output layer with ``activation``."""
        if self.requires is not None and activation != self.requires:
            raise ConfigError(
                f"loss={self.name!r} is computed from the logits of a {self.requires!r} output "
                f"layer, but the last layer has activation={activation!r}; set the last "
                f"layer's activation to {self.requires!r}"
            )

    def targets(self, Y: object, n_out: int, dtype: np.dtype, name: str = "Y") -> np.ndarray:
        """Validate ``Y`` and return it as a float (n, n_out) target matrix."""
        array = numeric_array(Y, name)
        if array.ndim == 1 and n_out == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != n_out:
            raise InputError(
                f"{name} has shape {array.shape} but the network has {n_out} output(s); "
                f"pass targets of shape (n_samples, {n_out})"
            )
        if array.shape[0] == 0:
            raise InputError(f"{name} is empty (0 samples); pass at least one row")
        finite_check(array, name)
        return cast(array, name, dtype, "standardise (rescale) the targets or use dtype='float64'")

    def per_sample(self, e: np.ndarray, h: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Loss of each sample, shape (n,), from logits e, outputs h and targets T (n, k)."""
        raise NotImplementedError

    def gradient(self, h: np.ndarray, T: np.ndarray, scale: float, out: np.ndarray) -> np.ndarray:
        """Write ``scale`` × (dL/dŷ, or δ when fused) of the *mean* loss into ``out`` (n, k).

        ``out`` may be ``h`` itself.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class SquaredError(Loss):
    """½ Σ_outputs (y - ŷ)² per sample, averaged over samples (Mirabello, Mazur)."""

    name = "squared_error"

    def per_sample(self, e, h, T):
        diff = h - T
        return 0.5 * np.einsum("ij,ij->i", diff, diff)

    def gradient(self, h, T, scale, out):
        out = np.subtract(h, T, out=out)
        out *= scale / len(h)
        return out


class MeanSquaredError(Loss):
    """Mean of (y - ŷ)² over outputs and samples."""

    name = "mse"

    def per_sample(self, e, h, T):
        diff = h - T
        return np.einsum("ij,ij->i", diff, diff) / h.shape[1]

    def gradient(self, h, T, scale, out):
        out = np.subtract(h, T, out=out)
        out *= 2.0 * scale / h.size
        return out


class CrossEntropy(Loss):
    """-Σ_j y_j log softmax(e)_j per sample, from the logits; targets are labels or one-hot rows."""

    name = "cross_entropy"
    fused = True
    requires = "softmax"
    classification = True

    def targets(self, Y, n_out, dtype, name="Y"):
        array = numeric_array(Y, name, fix=_labels_fix(n_out))
        if array.ndim == 2 and array.shape[1] == 1 and n_out > 1:
            array = array[:, 0]
        if array.ndim == 1:
            return one_hot(array, n_out, dtype, name)
        T = super().targets(array, n_out, dtype, name)
        with np.errstate(over="ignore"):  # rows of huge values sum to inf: not one-hot either
            sums = T.sum(axis=1, dtype=np.float64)
        if (T < 0).any() or not np.allclose(sums, 1.0, atol=1e-5):
            raise InputError(
                f"{name} rows must be one-hot (or probabilities summing to 1) for "
                "cross_entropy; pass integer class labels of shape (n_samples,) instead"
            )
        return T

    def per_sample(self, e, h, T):
        m = e.max(axis=1, keepdims=True)
        lse = np.log(np.exp(e - m).sum(axis=1)) + m[:, 0]
        return lse - np.einsum("ij,ij->i", T, e)

    def gradient(self, h, T, scale, out):
        out = np.subtract(h, T, out=out)  # softmax − onehot
        out *= scale / len(h)
        return out


class BinaryCrossEntropy(Loss):
    """-Σ_j [y log σ(e) + (1-y) log(1-σ(e))] per sample, from the logits; y in [0, 1]."""

    name = "binary_cross_entropy"
    fused = True
    requires = "sigmoid"
    classification = True

    def targets(self, Y, n_out, dtype, name="Y"):
        T = super().targets(Y, n_out, dtype, name)
        if (T < 0).any() or (T > 1).any():
            raise InputError(
                f"{name} holds values outside [0, 1]; binary_cross_entropy needs 0/1 labels"
            )
        return T

    def per_sample(self, e, h, T):
        # softplus(e) - y e, with softplus(e) = max(e, 0) + log1p(exp(-|e|)) to avoid overflow.
        softplus = np.maximum(e, 0) + np.log1p(np.exp(-np.abs(e)))
        return (softplus - T * e).sum(axis=1)

    def gradient(self, h, T, scale, out):
        out = np.subtract(h, T, out=out)  # σ(e) − y
        out *= scale / len(h)
        return out


_REGISTRY: dict[str, type[Loss]] = {
    cls.name: cls for cls in (SquaredError, MeanSquaredError, CrossEntropy, BinaryCrossEntropy)
}
_ALIASES = {"log_loss": "cross_entropy", "categorical_cross_entropy": "cross_entropy"}

LOSSES: tuple[str, ...] = tuple(_REGISTRY)
"""The loss names, as accepted by ``Network(..., loss=NAME)``."""


def get_loss(spec: str | Loss, name: str = "loss") -> Loss:
    """Resolve a loss name (or pass a :class:`Loss` through)."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        spec = _ALIASES.get(spec.strip().lower(), spec)
    return _REGISTRY[choice(spec, name, LOSSES)]()


def _labels_fix(n_classes: int) -> str:
    return f"class labels must be integers 0..{n_classes - 1} (map string labels to integers first)"


def one_hot(labels: object, n_classes: int, dtype: np.dtype, name: str = "y") -> np.ndarray:
    """Integer labels (n,) in [0, n_classes) → one-hot matrix (n, n_classes)."""
    labels = numeric_array(labels, name, fix=_labels_fix(n_classes))
    if labels.ndim != 1:
        raise InputError(f"{name} labels must be 1-D, got shape {labels.shape}")
    if labels.size == 0:
        raise InputError(f"{name} is empty (0 samples); pass at least one label")
    if labels.dtype.kind == "f":
        finite_check(labels, name)
        if not np.array_equal(labels, np.round(labels)):
            raise InputError(f"{name} holds non-integer class labels; pass integers 0..K-1")
    # The range is checked before the cast to int64, which would wrap labels like 1e30.
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}[{first}] = {show(labels[first])} is out of range: the network has "
            f"{n_classes} outputs, so labels must be in 0..{n_classes - 1}"
        )
    index = labels.astype(np.int64)
    T = np.zeros((len(index), n_classes), dtype=dtype)
    T[np.arange(len(index)), index] = 1
    return T
