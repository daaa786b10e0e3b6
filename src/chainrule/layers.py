"""Dense: a fully connected layer, e = h_prev · W + b, h = g(e)."""

from __future__ import annotations

import numpy as np

from ._checks import positive_int
from .activations import Activation, LeakyReLU, get_activation
from .errors import ConfigError, InputError
from .initializers import default_init, initialize


class Dense:
    """A fully connected layer.

    Parameters
    ----------
    n_in, n_out : number of inputs and of units.
    activation : name (``"sigmoid"``, ``"relu"``, …; see ``chainrule.ACTIVATIONS``) or object.
    bias : whether the layer has a bias vector b (shape (n_out,)).
    weights : explicit W, shape (n_in, n_out); drawn by ``init`` when None.
    init : initialiser name for W when ``weights`` is None (default: He for ReLU, else Xavier).
    alpha : negative slope of ``leaky_relu``.

    Attributes
    ----------
    W : ndarray (n_in, n_out), writable; set when the layer joins a :class:`Network`.
    b : ndarray (n_out,), or None when ``bias=False``.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation = "identity",
        *,
        bias: bool | object = True,
        weights: object = None,
        init: str | None = None,
        alpha: float = 0.01,
    ) -> None:
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        if activation == "leaky_relu":
            activation = LeakyReLU(alpha)
        self.activation = get_activation(activation)
        self.init = init if init is not None else default_init(self.activation.name)
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self._explicit_W = None if weights is None else self._check_shape(weights, "weights")
        # `bias` is either a flag or, as in the lectures, the explicit bias vector itself.
        if isinstance(bias, bool):
            self.has_bias = bias
            self._explicit_b = None
        else:
            self.has_bias = True
            self._explicit_b = self._check_shape(bias, "bias")

    def _check_shape(self, value: object, name: str) -> np.ndarray:
        expected = (self.n_in, self.n_out) if name == "weights" else (self.n_out,)
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ConfigError(f"{name} has dtype {array.dtype}; pass numbers")
        if array.shape != expected:
            raise ConfigError(
                f"{name} has shape {array.shape} but Dense({self.n_in}, {self.n_out}) needs "
                f"{expected}"
            )
        if not np.isfinite(array).all():
            raise ConfigError(f"{name} contains NaN or infinity; pass finite values")
        return array

    @property
    def params(self) -> list[np.ndarray]:
        """The layer's parameter arrays: [W] or [W, b]."""
        return [self.W] if self.b is None else [self.W, self.b]

    @property
    def n_params(self) -> int:
        return self.n_in * self.n_out + (self.n_out if self.has_bias else 0)

    def build(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Create W and b in ``dtype`` (explicit values, or drawn from ``rng``)."""
        if self._explicit_W is not None:
            self.W = np.array(self._explicit_W, dtype=dtype)
        else:
            self.W = initialize(self.init, rng, self.n_in, self.n_out, dtype)
        if not self.has_bias:
            self.b = None
        elif self._explicit_b is not None:
            self.b = np.array(self._explicit_b, dtype=dtype)
        else:
            self.b = np.zeros(self.n_out, dtype=dtype)

    def set_params(self, W: np.ndarray, b: np.ndarray | None) -> None:
        """Replace W (and b) in place, checking shapes; used by loaders and the playground."""
        W = self._check_shape(W, "weights")
        self.W[...] = W
        if self.b is not None:
            if b is None:
                raise InputError("bias is missing for a layer that has one")
            self.b[...] = self._check_shape(b, "bias")

    def forward(self, h_prev: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Excitation e = h_prev · W + b, shape (n, n_out), written into ``out`` if given."""
        e = np.matmul(h_prev, self.W, out=out)
        if self.b is not None:
            e += self.b
        return e

    def config(self) -> dict:
        """JSON-ready description (no arrays)."""
        act = self.activation
        cfg = {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": act.name,
            "bias": self.has_bias,
        }
        if isinstance(act, LeakyReLU):
            cfg["alpha"] = act.alpha
        return cfg

    def __repr__(self) -> str:
        bias = "" if self.has_bias else ", bias=False"
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.name!r}{bias})"
