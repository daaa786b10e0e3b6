"""Dense: a fully connected layer, e = h_prev · W + b, h = g(e).

W and b live in one block ``Wb`` of shape (n_in + 1, n_out), b being its last row, so that with a
constant-1 column appended to the input (the lectures' bias node x₀ = 1) the excitation is a single
matrix product, e = [h_prev, 1] · Wb, and so is the gradient, [h_prev, 1]ᵀ · δ = [dL/dW; dL/db].
That saves three NumPy calls per layer and step, which is most of the cost of a small network.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .activations import Activation, LeakyReLU, get_activation
from .errors import ConfigError, InputError
from .initializers import INITIALIZERS, default_init, initialize

_WEIGHTS_FIX = "use smaller weights or dtype='float64'"


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
    Wb : ndarray (n_in + 1, n_out) — or (n_in, n_out) without bias: the block W and b are views of.
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
        self.n_in = _checks.units(n_in, "n_in")
        self.n_out = _checks.units(n_out, "n_out")
        if isinstance(activation, str) and activation.strip().lower() == "leaky_relu":
            activation = LeakyReLU(alpha)
        self.activation = get_activation(activation)
        if init is not None:
            init = _checks.choice(init, "init", INITIALIZERS)
        self.init = init if init is not None else default_init(self.activation.name)
        self.Wb: np.ndarray | None = None
        # `bias` is either a flag or, as in the lectures, the explicit bias vector itself.
        if isinstance(bias, (bool, np.bool_)):
            self.has_bias = bool(bias)
            self._explicit_b = None
        elif bias is None:
            raise ConfigError("bias=None is not accepted; pass True, False or n_out numbers")
        else:
            self.has_bias = True
            self._explicit_b = self._check_shape(bias, "bias")
        _checks.param_count(self.n_params, f"Dense({self.n_in}, {self.n_out})")
        self._explicit_W = None if weights is None else self._check_shape(weights, "weights")

    def _check_shape(self, value: object, name: str) -> np.ndarray:
        expected = (self.n_in, self.n_out) if name == "weights" else (self.n_out,)
        array = _checks.numeric_array(value, name)
        if array.shape != expected:
            raise ConfigError(
                f"{name} has shape {array.shape} but Dense({self.n_in}, {self.n_out}) needs "
                f"{expected}"
            )
        if not np.isfinite(array).all():
            raise ConfigError(f"{name} contains NaN or infinity; pass finite values")
        return array

    def _store(self, rows: slice | int, value: np.ndarray, name: str) -> None:
        """Write checked values into ``Wb``, refusing values beyond its dtype's range."""
        if self.Wb is None:
            raise ConfigError(
                f"this layer has no {name} until it joins a network; pass weights=/bias= to "
                "Dense, or set them on net.layers[i]"
            )
        self.Wb[rows] = _checks.cast(value, name, self.Wb.dtype, _WEIGHTS_FIX)

    @property
    def W(self) -> np.ndarray | None:
        return None if self.Wb is None else self.Wb[: self.n_in]

    @W.setter
    def W(self, value: object) -> None:
        self._store(slice(0, self.n_in), self._check_shape(value, "weights"), "weights")

    @property
    def b(self) -> np.ndarray | None:
        return self.Wb[self.n_in] if self.has_bias and self.Wb is not None else None

    @b.setter
    def b(self, value: object) -> None:
        if not self.has_bias:
            raise ConfigError("this layer was built with bias=False; it has no b to set")
        self._store(self.n_in, self._check_shape(value, "bias"), "bias")

    @property
    def params(self) -> list[np.ndarray]:
        """The layer's parameter arrays: [W] or [W, b]."""
        return [self.W] if self.b is None else [self.W, self.b]

    @property
    def n_params(self) -> int:
        return self.n_in * self.n_out + (self.n_out if self.has_bias else 0)

    def build(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Create W and b in ``dtype`` (explicit values, or drawn from ``rng``)."""
        self.Wb = np.zeros((self.n_in + self.has_bias, self.n_out), dtype=dtype)
        if self._explicit_W is not None:
            self._store(slice(0, self.n_in), self._explicit_W, "weights")
        else:
            self.Wb[: self.n_in] = initialize(self.init, rng, self.n_in, self.n_out, dtype)
        if self._explicit_b is not None:
            self._store(self.n_in, self._explicit_b, "bias")

    def set_params(self, W: np.ndarray, b: np.ndarray | None) -> None:
        """Replace W (and b) in place, checking shapes; used by loaders and the playground."""
        self.W = W
        if self.has_bias:
            if b is None:
                raise InputError("bias is missing for a layer that has one")
            self.b = b

    def forward(self, h_prev: np.ndarray) -> np.ndarray:
        """Excitation e = h_prev · W + b, shape (n, n_out), for inputs h_prev (n, n_in)."""
        e = h_prev @ self.W
        if self.has_bias:
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
