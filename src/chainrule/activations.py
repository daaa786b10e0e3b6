"""Activation functions g: forward h = g(e), and the back-propagation step δ = dL/dh ⊙ g'(e).

Every forward works in place on the excitation buffer (``out=``) so a layer allocates nothing per
step. Where the derivative can be written with the output h (sigmoid, tanh, ReLU, softmax), the
backward step uses h and the excitation need not be kept.
"""

from __future__ import annotations

import numpy as np

from ._checks import choice, number, numeric_array
from .errors import ConfigError, NotDifferentiableError


class Activation:
    """Base class: a scalar (or, for softmax, row-wise) nonlinearity.

    Subclasses implement :meth:`forward` and, when differentiable, :meth:`backward`.
    """

    name = "activation"
    differentiable = True

    def forward(self, e: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return h = g(e); ``e``, ``out`` shape (n, units). ``out`` may be ``e`` itself."""
        raise NotImplementedError

    def backward(self, dh: np.ndarray, h: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
        """Overwrite ``dh`` (dL/dh, shape (n, units)) with δ = dL/de and return it.

        ``h`` is this layer's output; ``e`` its excitation, needed only by activations whose
        derivative is not a function of the output (none of the built-ins).
        """
        raise NotDifferentiableError(
            f"activation {self.name!r} has a zero derivative almost everywhere, so gradients "
            "cannot be back-propagated through it; use 'sigmoid' or 'tanh' for training, or "
            "cr.Perceptron for a single layer of step units"
        )

    def derivative(self, e: np.ndarray) -> np.ndarray:
        """g'(e) elementwise (for plots and teaching; not used on the training path)."""
        e = numeric_array(e, "e").astype(np.float64)
        flat = np.atleast_1d(e)  # the in-place kernels need an array, not a 0-d scalar
        h = self.forward(flat.copy())
        return self.backward(np.ones_like(h), h, flat).reshape(e.shape)

    def __repr__(self) -> str:
        return self.name


class Identity(Activation):
    name = "identity"

    def forward(self, e, out=None):
        if out is None:
            return e.copy()
        if out is not e:
            np.copyto(out, e)
        return out

    def backward(self, dh, h, e=None):
        return dh


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, e, out=None):
        # 1 / (1 + exp(-e)); exp overflows to inf for very negative e, giving the correct 0.
        with np.errstate(over="ignore"):
            out = np.negative(e, out=out)
            np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    def backward(self, dh, h, e=None):
        # σ' = h (1 - h)
        dh *= h
        return np.multiply(dh, np.subtract(1.0, h), out=dh)


class Tanh(Activation):
    name = "tanh"

    def forward(self, e, out=None):
        return np.tanh(e, out=out)

    def backward(self, dh, h, e=None):
        # tanh' = 1 - h²
        return np.multiply(dh, 1.0 - h * h, out=dh)


class ReLU(Activation):
    name = "relu"

    def forward(self, e, out=None):
        return np.maximum(e, 0.0, out=out)

    def backward(self, dh, h, e=None):
        # ReLU' = u(e), and h > 0 exactly where e > 0.
        return np.multiply(dh, h > 0, out=dh)


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = number(alpha, "alpha", low=0.0, high=1.0, open_low=True, open_high=True)

    def forward(self, e, out=None):
        # max(e, αe) for 0 < α < 1.
        return np.maximum(e, self.alpha * e, out=out)

    def backward(self, dh, h, e=None):
        # The output has the sign of the excitation, so the slope is read from h.
        slope = np.where(h > 0, 1.0, self.alpha).astype(dh.dtype, copy=False)
        return np.multiply(dh, slope, out=dh)


class Softmax(Activation):
    """Row-wise softmax over the units of a layer (one probability row per sample)."""

    name = "softmax"

    def forward(self, e, out=None):
        out = np.subtract(e, e.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, dh, h, e=None):
        # Jacobian-vector product: δ_j = h_j (dh_j - Σ_k dh_k h_k).
        dh -= np.einsum("ij,ij->i", dh, h)[:, None]
        dh *= h
        return dh

    def derivative(self, e):
        raise ConfigError(
            "softmax has a Jacobian, not an elementwise derivative; use backward(dh, h) instead"
        )


class Step(Activation):
    """The McCulloch-Pitts unit u(e): 1 where e > 0, else 0."""

    name = "step"
    differentiable = False

    def forward(self, e, out=None):
        return np.greater(e, 0, out=out) if out is not None else (e > 0).astype(e.dtype)


class Sign(Activation):
    """sign(e) in {-1, +1} (0 maps to -1, as a threshold unit does)."""

    name = "sign"
    differentiable = False

    def forward(self, e, out=None):
        result = np.where(e > 0, 1.0, -1.0).astype(e.dtype, copy=False)
        if out is None:
            return result
        np.copyto(out, result)
        return out


_REGISTRY: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Step, Sign)
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "heaviside": "step"}

ACTIVATIONS: tuple[str, ...] = tuple(_REGISTRY)
"""The activation names, as accepted by ``Dense(..., activation=NAME)``."""


def get_activation(spec: str | Activation, name: str = "activation") -> Activation:
    """Resolve an activation name (or pass an :class:`Activation` through)."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        spec = _ALIASES.get(spec.strip().lower(), spec)
    key = choice(spec, name, ACTIVATIONS)
    return _REGISTRY[key]()
