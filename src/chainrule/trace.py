"""The step-by-step record of one forward pass, loss, backward pass and update.

``net.trace(x, y, lr=…)`` runs the very code that :meth:`Network.gradients` and
:meth:`Network.fit` run — :meth:`Network.forward` and :meth:`Network.backward` on a workspace —
and keeps every intermediate they compute, per layer ℓ:

==============  ==========================================================
``h_prev``      h(ℓ-1), the layer's input (x itself for the first layer)
``e``           e(ℓ) = h(ℓ-1)·W(ℓ) + b(ℓ), the excitation
``h``           h(ℓ) = g(e(ℓ)), the activation
``dL_dh``       dL/dh(ℓ) = δ(ℓ+1)·W(ℓ+1)ᵀ (or dL/dŷ from the loss); absent for
                the output of a fused loss, whose δ is ŷ − y directly
``delta``       δ(ℓ) = dL/de(ℓ) = dL/dh(ℓ) ⊙ g'(e(ℓ)), the sensitivity
``dL_dW``       dL/dW(ℓ) = h(ℓ-1)ᵀ·δ(ℓ)
``dL_db``       dL/db(ℓ) = Σ over samples of δ(ℓ)
``W_new``       W(ℓ) − η·dL/dW(ℓ), one plain gradient-descent step (and ``b_new``)
==============  ==========================================================

All arrays are (rows, columns) with one row per sample, as everywhere in chainrule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ._checks import positive_number
from .errors import InputError

MAX_ROWS = 64

MEANINGS = {
    "h_prev": "h(l-1): the layer's input",
    "e": "e(l) = h(l-1)·W(l) + b(l): excitation",
    "h": "h(l) = g(e(l)): activation",
    "dL_dh": "dL/dh(l) = δ(l+1)·W(l+1)ᵀ, or dL/dŷ at the output",
    "delta": "δ(l) = dL/de(l) = dL/dh(l) ⊙ g'(e(l)): sensitivity",
    "dL_dW": "dL/dW(l) = h(l-1)ᵀ·δ(l)",
    "dL_db": "dL/db(l) = Σ_samples δ(l)",
    "W": "W(l) before the update",
    "b": "b(l) before the update",
    "W_new": "W(l) − η·dL/dW(l)",
    "b_new": "b(l) − η·dL/db(l)",
}


@dataclass
class LayerTrace:
    """Everything one layer computed in the traced step (see the module table)."""

    index: int
    activation: str
    arrays: dict[str, np.ndarray | None] = field(default_factory=dict)


@dataclass
class Trace:
    """One forward pass, the loss, one backward pass and the update, with every number."""

    loss_name: str
    lr: float
    x: np.ndarray
    y: np.ndarray
    output: np.ndarray
    loss: float
    fused: bool
    layers: list[LayerTrace]

    # ---------------------------------------------------------------- exports
    def to_dict(self) -> dict:
        """Plain JSON-ready data: floats and lists of floats (rows of samples).

        Keys: ``loss_name``, ``lr``, ``loss``, ``x``, ``y``, ``output``, ``meanings`` (what each
        per-layer key stands for) and ``layers``: one dict per layer with ``layer`` (its index),
        ``activation`` and the arrays named in :data:`MEANINGS` (None where not defined).
        """
        return {
            "loss_name": self.loss_name,
            "lr": self.lr,
            "loss": self.loss,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "output": self.output.tolist(),
            "meanings": dict(MEANINGS),
            "layers": [
                {
                    "layer": t.index,
                    "activation": t.activation,
                    **{k: None if v is None else v.tolist() for k, v in t.arrays.items()},
                }
                for t in self.layers
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, digits: int = 4) -> str:
        """The trace as Markdown: a section per stage, a table per array."""
        out = [
            f"# Back-propagation trace ({self.loss_name}, η = {self.lr:g})",
            "",
            "## Forward pass",
        ]
        for t in self.layers:
            out.append(f"### Layer {t.index + 1} ({t.activation})")
            for key in ("h_prev", "e", "h"):
                out += _md_array(key, t.arrays[key], digits)
        out += [
            "## Loss",
            f"ŷ = {_fmt(self.output, digits)}, y = {_fmt(self.y, digits)}, "
            f"L = {self.loss:.{digits + 2}g}",
            "",
            "## Backward pass",
        ]
        for t in reversed(self.layers):
            out.append(f"### Layer {t.index + 1}")
            for key in ("dL_dh", "delta", "dL_dW", "dL_db"):
                if t.arrays.get(key) is not None:
                    out += _md_array(key, t.arrays[key], digits)
        out.append("## Update")
        for t in self.layers:
            out.append(f"### Layer {t.index + 1}")
            for key in ("W", "W_new", "b", "b_new"):
                if t.arrays.get(key) is not None:
                    out += _md_array(key, t.arrays[key], digits)
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        lines = [f"Back-propagation trace: loss {self.loss_name}, learning rate η = {self.lr:g}"]
        lines.append("\nFORWARD")
        for t in self.layers:
            lines.append(f"  layer {t.index + 1} ({t.activation})")
            for key in ("h_prev", "e", "h"):
                lines.append(_text_row(key, t.arrays[key]))
        lines.append("\nLOSS")
        lines.append(f"  ŷ = {_fmt(self.output)}   y = {_fmt(self.y)}   L = {self.loss:.6g}")
        lines.append("\nBACKWARD")
        for t in reversed(self.layers):
            lines.append(f"  layer {t.index + 1}")
            for key in ("dL_dh", "delta", "dL_dW", "dL_db"):
                if t.arrays.get(key) is not None:
                    lines.append(_text_row(key, t.arrays[key]))
            if t.arrays.get("dL_dh") is None and self.fused and t.index == len(self.layers) - 1:
                lines.append(_text_note("δ = ŷ − y: the loss is fused with the output activation"))
        lines.append("\nUPDATE  (w ← w − η·dL/dw)")
        for t in self.layers:
            lines.append(f"  layer {t.index + 1}")
            for key in ("W_new", "b_new"):
                if t.arrays.get(key) is not None:
                    lines.append(_text_row(key, t.arrays[key]))
        return "\n".join(lines)


def _fmt(a: np.ndarray, digits: int = 4) -> str:
    return np.array2string(np.asarray(a), precision=digits, suppress_small=True, max_line_width=80)


def _text_row(key: str, a: np.ndarray) -> str:
    body = _fmt(a).replace("\n", "\n" + " " * 8)
    return f"    {MEANINGS[key]}\n        {body}"


def _text_note(text: str) -> str:
    return f"    ({text})"


def _md_array(key: str, a: np.ndarray, digits: int) -> list[str]:
    a = np.atleast_2d(a)
    header = "| " + " | ".join(f"[{j}]" for j in range(a.shape[1])) + " |"
    rule = "|" + "---|" * a.shape[1]
    rows = ["| " + " | ".join(f"{v:.{digits}g}" for v in row) + " |" for row in a]
    return [f"**{key}** — {MEANINGS[key]}", "", header, rule, *rows, ""]


def trace(net, X: object, Y: object, lr: float = 0.1) -> Trace:
    """Record one gradient-descent step of ``net`` on (X, Y); the network is not changed.

    Parameters
    ----------
    X : one sample (n_inputs,) or a small batch (n, n_inputs), n <= 64.
    Y : its target(s), as for :meth:`Network.fit`.
    lr : the learning rate η of the recorded update.
    """
    from .network import Workspace

    lr = positive_number(lr, "lr")
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim == 1:  # one sample: its target is a scalar label/value or one row
        X = X[None, :]
        Y = Y[None] if Y.ndim == 0 else Y[None, :]
    X, T = net.check_XY(X, Y)
    if len(X) > MAX_ROWS:
        raise InputError(
            f"X has {len(X)} rows; a trace is for one sample or a small batch (at most "
            f"{MAX_ROWS}); pass X[:{MAX_ROWS}]"
        )
    net.check_differentiable()
    ws = Workspace(net, len(X))
    forward: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    backward: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}
    net.forward(ws, X, record=lambda i, e, h: forward.__setitem__(i, (e, h)))
    output = ws.hv[-1].copy()
    net.backward(ws, X, T, record=lambda i, dh, d: backward.__setitem__(i, (dh, d)))
    layers = []
    for i, layer in enumerate(net.layers):
        e, h = forward[i]
        dh, delta = backward[i]
        dW = ws.dW[i][: layer.n_in].copy()
        db = ws.dW[i][layer.n_in].copy() if layer.has_bias else None
        arrays = {
            "h_prev": X.copy() if i == 0 else forward[i - 1][1],
            "e": e,
            "h": h,
            "dL_dh": dh,
            "delta": delta,
            "dL_dW": dW,
            "dL_db": db,
            "W": layer.W.copy(),
            "b": None if db is None else layer.b.copy(),
            "W_new": layer.W - lr * dW,
            "b_new": None if db is None else layer.b - lr * db,
        }
        layers.append(LayerTrace(i, layer.activation.name, arrays))
    loss = net.evaluate(X, T)[0]
    return Trace(net.loss_fn.name, lr, X.copy(), T.copy(), output, loss, net.loss_fn.fused, layers)
