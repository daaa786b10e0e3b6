"""Network: a stack of Dense layers with a loss; forward propagation and back-propagation.

The computation follows the lectures' data path. For layer ℓ with input h(ℓ-1):

    e(ℓ) = h(ℓ-1) · W(ℓ) + b(ℓ)          excitation, shape (n, units)
    h(ℓ) = g(ℓ)(e(ℓ))                    activation
    δ(ℓ) = dL/de(ℓ) = dL/dh(ℓ) ⊙ g'(e(ℓ)) sensitivity
    dL/dW(ℓ) = h(ℓ-1)ᵀ · δ(ℓ),  dL/db(ℓ) = Σ_samples δ(ℓ),  dL/dh(ℓ-1) = δ(ℓ) · W(ℓ)ᵀ

All of it runs on a :class:`Workspace` of buffers preallocated for one batch size, so a training
step allocates (almost) nothing and calls few NumPy functions per layer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import _checks
from .errors import ConfigError, NotDifferentiableError
from .layers import Dense
from .losses import Loss, get_loss

# Rows evaluated at once by predict/loss, to bound memory on large inputs.
CHUNK = 8192


class Workspace:
    """Buffers for one batch size n.

    ``xbuf`` (n, n_inputs [+1]) holds the input of layer 0 and ``h[ℓ]`` (n, units [+1]) the
    output of layer ℓ, each with a trailing column of ones when the next layer has a bias (see
    :mod:`chainrule.layers`); ``hv[ℓ]`` is the activation h(ℓ) itself, a view without that
    column. Each ``hv[ℓ]`` holds the excitation e(ℓ) until the activation overwrites it in place.
    ``delta[ℓ]`` (n, units) holds dL/dh(ℓ) and then δ(ℓ); ``dW[ℓ]`` is shaped like ``Wb`` and
    gets [dL/dW; dL/db]. ``logits`` keeps the output excitation when a loss value is wanted.
    """

    def __init__(self, net: Network, n: int) -> None:
        dtype, layers = net.dtype, net.layers
        self.n = n
        self.xbuf = _with_ones(n, net.n_inputs, layers[0].has_bias, dtype)
        self.x = self.xbuf  # the input of the last forward pass (xbuf, or the caller's array)
        self.h = [
            _with_ones(n, layer.n_out, i + 1 < len(layers) and layers[i + 1].has_bias, dtype)
            for i, layer in enumerate(layers)
        ]
        self.hv = [h[:, : layer.n_out] for h, layer in zip(self.h, layers)]
        self.delta = [np.empty((n, layer.n_out), dtype) for layer in layers]
        self.logits = np.empty((n, net.n_outputs), dtype)
        # One flat gradient vector laid out like Network.theta, and per-layer views of it.
        self.grad = np.empty_like(net.theta)
        self.dW, offset = [], 0
        for layer in layers:
            self.dW.append(self.grad[offset : offset + layer.Wb.size].reshape(layer.Wb.shape))
            offset += layer.Wb.size


def _with_ones(n: int, units: int, ones: bool, dtype: np.dtype) -> np.ndarray:
    buf = np.empty((n, units + ones), dtype)
    if ones:
        buf[:, units] = 1
    return buf


class Network:
    """A feed-forward network trained by back-propagation.

    Parameters
    ----------
    layers : the Dense layers, input to output; each layer's n_in equals the previous n_out.
    loss : ``"squared_error"``, ``"mse"``, ``"cross_entropy"`` (softmax output) or
        ``"binary_cross_entropy"`` (sigmoid output).
    dtype : ``"float32"`` (default) or ``"float64"``; every array of the network uses it.
    seed : seeds the weight initialisation and, later, shuffling and validation splits.
    l1, l2 : regularisation strengths; the objective adds l1·Σ|W| + (l2/2)·Σ W² over the
        weight matrices (biases are not regularised).

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([cr.Dense(2, 8, "tanh"), cr.Dense(8, 3, "softmax")],
    ...                  loss="cross_entropy", seed=0)
    >>> net.predict([[0.0, 1.0]]).shape
    (1, 3)
    """

    def __init__(
        self,
        layers: Sequence[Dense],
        loss: str | Loss = "squared_error",
        *,
        dtype: object = "float32",
        seed: int | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        if isinstance(layers, Dense) or not isinstance(layers, Sequence) or not layers:
            raise ConfigError("layers must be a non-empty list of cr.Dense layers")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise ConfigError(f"layers[{i}] is {type(layer).__name__}, not cr.Dense")
        for i, layer in enumerate(layers):
            if layer.Wb is not None or layers.index(layer) != i:
                raise ConfigError(
                    f"layers[{i}] already belongs to a network (a layer's weights live in its "
                    "network); create new cr.Dense layers, or use net.copy()"
                )
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.n_out != b.n_in:
                raise ConfigError(
                    f"layers[{i}] has {a.n_out} outputs but layers[{i + 1}] expects "
                    f"{b.n_in} inputs; make n_in of each layer equal n_out of the one before"
                )
        seed = _checks.seed(seed)
        _checks.param_count(sum(layer.n_params for layer in layers), "the network")
        self.layers = list(layers)
        self.loss_fn = get_loss(loss)
        self.loss_fn.check_output(self.layers[-1].activation.name)
        self.dtype = _checks.as_dtype(dtype)
        self.l1 = _checks.positive_number(l1, "l1", allow_zero=True)
        self.l2 = _checks.positive_number(l2, "l2", allow_zero=True)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.build(self.rng, self.dtype)
        self._pack()
        self.metadata: dict = {}  # JSON-ready notes saved with the model (labels, scaling, …)

    # ------------------------------------------------------------------ description
    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def params(self) -> list[np.ndarray]:
        """Every parameter array, layer by layer: W(1), b(1), W(2), … (writable views)."""
        return [p for layer in self.layers for p in layer.params]

    @property
    def blocks(self) -> list[np.ndarray]:
        """Each layer's parameter block Wb = [W; b] (views into :attr:`theta`)."""
        return [layer.Wb for layer in self.layers]

    def _pack(self) -> None:
        """Put every layer's Wb into one flat vector ``theta`` (the blocks become views of it).

        Optimizers then update all parameters with one NumPy call per operation, and a
        compiled training kernel receives one array.
        """
        self.theta = np.concatenate([layer.Wb.ravel() for layer in self.layers])
        offset = 0
        for layer in self.layers:
            size = layer.Wb.size
            layer.Wb = self.theta[offset : offset + size].reshape(layer.Wb.shape)
            offset += size
        self._workspaces: dict[int, Workspace] = {}

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    @property
    def is_classifier(self) -> bool:
        return self.loss_fn.classification

    def config(self) -> dict:
        """JSON-ready description of the architecture (no weights)."""
        return {
            "layers": [layer.config() for layer in self.layers],
            "loss": self.loss_fn.name,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "l1": self.l1,
            "l2": self.l2,
        }

    def summary(self) -> str:
        """A table of the layers: shapes, activations and parameter counts."""
        rows = [("layer", "shape", "activation", "params")]
        for i, layer in enumerate(self.layers):
            bias = "" if layer.has_bias else " (no bias)"
            rows.append(
                (
                    f"{i}: Dense{bias}",
                    f"{layer.n_in} -> {layer.n_out}",
                    layer.activation.name,
                    f"{layer.n_params:,}",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
        rule = "-" * len(lines[0])
        extras = f"loss: {self.loss_fn.name}   dtype: {self.dtype.name}"
        if self.l1 or self.l2:
            extras += f"   l1: {self.l1:g}   l2: {self.l2:g}"
        return _Text(
            "\n".join(
                [lines[0], rule, *lines[1:], rule, f"total parameters: {self.n_params:,}", extras]
            )
        )

    def __repr__(self) -> str:
        layers = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{layers}], loss={self.loss_fn.name!r}, dtype={self.dtype.name!r})"

    # ------------------------------------------------------------------ validation
    def check_X(self, X: object, name: str = "X") -> np.ndarray:
        """Validate features: 2-D, finite, numeric, n_inputs columns; cast to the network dtype."""
        return _checks.features(X, name, self.n_inputs, self.dtype)

    def check_XY(self, X: object, Y: object) -> tuple[np.ndarray, np.ndarray]:
        """Validate features and targets; Y becomes a float (n, n_outputs) target matrix."""
        X = self.check_X(X)
        T = self.loss_fn.targets(Y, self.n_outputs, self.dtype)
        _checks.same_length(X, T)
        return X, T

    def check_differentiable(self) -> None:
        for i, layer in enumerate(self.layers):
            if not layer.activation.differentiable:
                raise NotDifferentiableError(
                    f"layers[{i}] uses activation={layer.activation.name!r}, whose derivative "
                    "is zero almost everywhere, so back-propagation cannot train it; use "
                    "'sigmoid' or 'tanh', or cr.Perceptron for a single layer of step units"
                )

    def _check_computed(self, result: np.ndarray, what: str) -> None:
        """Report a non-finite result of finite inputs: overflow, or weights set to NaN/inf."""
        if np.isfinite(result).all():
            return
        if not np.isfinite(self.theta).all():
            raise ConfigError(
                "the network's weights hold NaN or infinity; set finite weights again (or "
                "cr.load a saved copy)"
            )
        fix = "standardise the features (and targets), keep the weights small (l2=)"
        fix += "" if self.dtype == np.float64 else ", or use dtype='float64'"
        _checks.computed_finite(result, what, self.dtype, fix)

    # ------------------------------------------------------------------ computation
    def workspace(self, n: int) -> Workspace:
        """The buffers for batch size ``n`` (created once, then reused)."""
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= 4:  # a few batch sizes at most (full + last partial)
                self._workspaces.clear()
            ws = self._workspaces[n] = Workspace(self, n)
        return ws

    def forward(
        self,
        ws: Workspace,
        X: np.ndarray,
        *,
        keep_logits: bool = False,
        record: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Forward propagation of a validated batch X (ws.n, n_inputs) into ``ws``; returns ŷ.

        ``X`` may already carry the column of ones (e.g. ``ws.xbuf``, filled by the training
        loop). ``record(ℓ, e, h)``, if given, is called per layer with copies of e(ℓ) and h(ℓ).
        """
        x = ws.xbuf
        if X.shape[1] == x.shape[1]:  # no bias, or the ones are there: use X as it is
            x = X
        else:
            np.copyto(x[:, :-1], X)
        ws.x = x
        top = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = ws.hv[i]
            np.matmul(x, layer.Wb, out=out)  # e = [h, 1]·[W; b]
            if i == top and keep_logits:
                np.copyto(ws.logits, out)
            if record is None:
                layer.activation.forward(out, out=out)
            else:
                e = out.copy()
                layer.activation.forward(out, out=out)
                record(i, e, out.copy())
            x = ws.h[i]
        return ws.hv[top]

    def backward(
        self,
        ws: Workspace,
        X: np.ndarray,
        T: np.ndarray,
        scale: float = 1.0,
        *,
        weights: np.ndarray | None = None,
        record: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    ) -> None:
        """Back-propagation after :meth:`forward` on the same batch X: fills ``ws.dW``.

        ``ws.dW[ℓ]`` gets [dL/dW(ℓ); dL/db(ℓ)], the gradient of the mean loss over the batch
        (plus regularisation) times ``scale``; the optimizer's learning rate is folded in here
        when it allows, saving a pass. ``weights`` (n,), if given, weighs each sample's loss
        (normalised to mean 1 by the caller). ``record(ℓ, dL/dh(ℓ), δ(ℓ))``, if given, is called
        per layer with copies (dL/dh is None for the output of a fused loss).
        """
        layers = self.layers
        top = len(layers) - 1
        delta = ws.delta[top]
        self.loss_fn.gradient(ws.hv[top], T, scale, out=delta)
        if weights is not None:
            delta *= weights[:, None]
        if self.loss_fn.fused:
            if record is not None:
                record(top, None, delta.copy())
        else:
            dh = delta.copy() if record is not None else None
            layers[top].activation.backward(delta, ws.hv[top])
            if record is not None:
                record(top, dh, delta.copy())
        for i in range(top, -1, -1):
            layer = layers[i]
            dW = ws.dW[i]
            np.matmul((ws.h[i - 1] if i else ws.x).T, delta, out=dW)  # [h, 1]ᵀ·δ = [dW; db]
            if self.l2:
                dW[: layer.n_in] += (scale * self.l2) * layer.W
            if self.l1:
                dW[: layer.n_in] += (scale * self.l1) * np.sign(layer.W)
            if i:
                below = ws.delta[i - 1]
                np.matmul(delta, layer.W.T, out=below)  # dL/dh(ℓ-1) = δ(ℓ)·W(ℓ)ᵀ
                dh = below.copy() if record is not None else None
                layers[i - 1].activation.backward(below, ws.hv[i - 1])
                if record is not None:
                    record(i - 1, dh, below.copy())
                delta = below

    def _batches(self, n: int) -> range:
        return range(0, n, CHUNK)

    def predict(self, X: object) -> np.ndarray:
        """Forward propagation: outputs ŷ, shape (n, n_outputs), for inputs X (n, n_inputs)."""
        X = self.check_X(X)
        out = np.empty((len(X), self.n_outputs), self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, once
            for start in self._batches(len(X)):
                chunk = X[start : start + CHUNK]
                out[start : start + len(chunk)] = self.forward(self.workspace(len(chunk)), chunk)
        self._check_computed(out, "the network's outputs")
        return out

    def predict_classes(self, X: object) -> np.ndarray:
        """Class labels (n,): argmax of the outputs, or ŷ > 0.5 for a single sigmoid output."""
        return self._classes(self.predict(X))

    def _classes(self, out: np.ndarray) -> np.ndarray:
        if out.shape[1] == 1:
            threshold = 0.0 if self.layers[-1].activation.name in ("sign", "tanh") else 0.5
            return (out[:, 0] > threshold).astype(np.int64)
        return out.argmax(axis=1)

    def _target_classes(self, T: np.ndarray) -> np.ndarray:
        return (T[:, 0] > 0.5).astype(np.int64) if T.shape[1] == 1 else T.argmax(axis=1)

    def penalty(self) -> float:
        """The regularisation term l1·Σ|W| + (l2/2)·Σ W²."""
        total = 0.0
        with np.errstate(over="ignore"):  # an overflow is an inf loss, which training reads
            for layer in self.layers:
                if self.l1:
                    total += self.l1 * float(np.abs(layer.W).sum(dtype=np.float64))
                if self.l2:
                    total += 0.5 * self.l2 * float(np.square(layer.W, dtype=np.float64).sum())
        return total

    def evaluate(
        self, X: object, Y: object, sample_weight: object = None
    ) -> tuple[float, float | None]:
        """Mean loss (with regularisation) and accuracy (classifiers, else None) on (X, Y).

        With ``sample_weight`` (n,), both are weighted means. As with :meth:`loss`, a loss
        beyond the dtype's range is returned as it is (inf or NaN), not raised.
        """
        X, T = self.check_XY(X, Y)
        return self._evaluate(X, T, self.check_weights(sample_weight, len(X)))

    def _evaluate(
        self, X: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[float, float | None]:
        """:meth:`evaluate` of checked data; ``weights`` as :meth:`check_weights` returns them."""
        total, correct = 0.0, 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for start in self._batches(len(X)):
                xb, tb = X[start : start + CHUNK], T[start : start + CHUNK]
                ws = self.workspace(len(xb))
                out = self.forward(ws, xb, keep_logits=True)
                losses = self.loss_fn.per_sample(ws.logits, out, tb)
                hits = (
                    self._classes(out) == self._target_classes(tb) if self.is_classifier else None
                )
                if weights is not None:
                    wb = weights[start : start + CHUNK]
                    losses = losses * wb
                    hits = None if hits is None else hits * wb
                total += float(losses.sum(dtype=np.float64))
                if hits is not None:
                    correct += float(hits.sum(dtype=np.float64))
        count = len(X) if weights is None else float(weights.sum(dtype=np.float64))
        loss = total / count + self.penalty()
        return loss, (correct / count if self.is_classifier else None)

    def epoch_metrics(
        self, outputs: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[float, float | None]:
        """Mean loss (with regularisation) and accuracy from outputs (n, k) already computed.

        ``outputs`` are the logits e for a fused loss (whose value is computed from them,
        exactly, at any magnitude) and the network's outputs ŷ otherwise.
        """
        if self.loss_fn.fused:
            losses = self.loss_fn.per_sample(outputs, None, T)
            out = self.layers[-1].activation.forward(outputs.copy()) if self.is_classifier else None
        else:
            losses = self.loss_fn.per_sample(None, outputs, T)
            out = outputs
        hits = (self._classes(out) == self._target_classes(T)) if self.is_classifier else None
        if weights is None:
            loss = float(losses.mean(dtype=np.float64))
            acc = None if hits is None else float(hits.mean())
        else:
            total = float(weights.sum(dtype=np.float64))
            loss = float(np.dot(losses, weights)) / total
            acc = None if hits is None else float(np.dot(hits, weights)) / total
        return loss + self.penalty(), acc

    def check_weights(self, sample_weight: object, n: int) -> np.ndarray | None:
        """Validate per-sample weights (n,) >= 0 with a positive sum; return them normalised to
        mean 1 (so the weighted loss is a weighted mean), or None when not given."""
        return _checks.sample_weights(sample_weight, n, self.dtype)

    def loss(self, X: object, Y: object, sample_weight: object = None) -> float:
        """Mean loss over the samples (plus the regularisation term if l1/l2 are set).

        With ``sample_weight`` (n,), the weighted mean Σ wᵢ Lᵢ / Σ wᵢ. A loss beyond the
        dtype's range is returned as inf (it is a value, which training reads to detect
        divergence), where :meth:`predict` and :meth:`gradients` report the overflow.
        """
        return self.evaluate(X, Y, sample_weight)[0]

    def accuracy(self, X: object, Y: object, sample_weight: object = None) -> float:
        """Share of samples whose predicted class equals the target class (weighted if given)."""
        X, T = self.check_XY(X, Y)
        hits = self.predict_classes(X) == self._target_classes(T)
        weights = self.check_weights(sample_weight, len(X))
        return float(np.average(hits, weights=weights))

    def gradients(
        self, X: object, Y: object, sample_weight: object = None
    ) -> list[dict[str, np.ndarray | None]]:
        """Back-propagation: one ``{"W": dL/dW, "b": dL/db}`` per layer (b is None without bias).

        The gradient is of :meth:`loss` (mean over samples plus regularisation).
        """
        X, T = self.check_XY(X, Y)
        weights = self.check_weights(sample_weight, len(X))
        self.check_differentiable()
        ws = Workspace(self, len(X))  # fresh buffers: the caller keeps the arrays
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, once
            self.forward(ws, X)
            self.backward(ws, X, T, weights=weights)
        self._check_computed(ws.grad, "the gradients")
        return [
            {"W": dW[: layer.n_in], "b": dW[layer.n_in] if layer.has_bias else None}
            for dW, layer in zip(ws.dW, self.layers)
        ]

    def trace(self, X: object, Y: object, lr: float = 0.1):
        """Record one forward pass, loss, backward pass and update, with every intermediate.

        See :mod:`chainrule.trace`; ``str()``, ``to_markdown()``, ``to_json()`` render it.
        """
        from .trace import trace

        return trace(self, X, Y, lr)

    # ------------------------------------------------------------------ training, files
    def fit(self, X: object, Y: object, **kwargs: object):
        """Train by gradient descent; see :func:`chainrule.training.fit` for the arguments.

        Returns the :class:`~chainrule.history.History` of loss and accuracy per epoch.
        """
        from .training import fit

        return fit(self, X, Y, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Write the network to ``path`` atomically (JSON metadata + raw arrays; no pickle)."""
        from .io import save

        return save(self, path)

    def __getstate__(self) -> dict:
        # Views do not survive pickling: keep the layers' blocks, rebuild theta and buffers.
        state = dict(self.__dict__)
        state.pop("theta")
        state["_workspaces"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pack()

    def to_onnx(self, path: str | Path) -> Path:
        """Export as an ONNX model (needs the ``onnx`` extra); see :mod:`chainrule.onnx`."""
        from .onnx import to_onnx

        return to_onnx(self, path)

    def copy(self) -> Network:
        """An independent network with the same architecture and weights."""
        clone = Network.__new__(Network)
        clone.__dict__.update(self.__dict__)
        clone.layers = []
        for layer in self.layers:
            new = Dense.__new__(Dense)
            new.__dict__.update(layer.__dict__)
            clone.layers.append(new)
        clone._pack()  # copies the weights into the clone's own theta
        clone.rng = np.random.default_rng()
        clone.rng.bit_generator.state = self.rng.bit_generator.state
        clone.metadata = copy.deepcopy(self.metadata)
        return clone

    def astype(self, dtype: object) -> Network:
        """A copy of the network whose weights and computation use ``dtype``."""
        clone = self.copy()
        clone.dtype = _checks.as_dtype(dtype)
        for i, layer in enumerate(clone.layers):
            fix = "keep the network in float64, or make the weights smaller"
            layer.Wb = _checks.cast(layer.Wb, f"layers[{i}].Wb", clone.dtype, fix)
        clone._pack()
        return clone


class _Text(str):
    """A string that shows itself unquoted at the REPL (for ``net.summary()``)."""

    def __repr__(self) -> str:
        return str(self)
