"""The step-by-step record of one forward pass, loss, backward pass and update.

``net.trace(x, y, lr=…)`` runs the very code that :meth:`Network.gradients` and
:meth:`Network.fit` run — :meth:`Network.forward` and :meth:`Network.backward` on a workspace,
through their ``record`` hooks — and keeps every intermediate they compute, per layer ℓ
(numbered from 1 in the renderings, as in the lectures; the input is h(0) = x):

==============  ==========================================================
``h_prev``      h(ℓ-1), the layer's input (x itself for the first layer), (n, n_in)
``W``, ``b``    the layer's weights (n_in, n_out) and bias (n_out,) before the update
``e``           e(ℓ) = h(ℓ-1)·W(ℓ) + b(ℓ), the excitation, (n, n_out)
``h``           h(ℓ) = g(e(ℓ)), the activation (ŷ at the output), (n, n_out)
``dL_dh``       dL/dh(ℓ) = δ(ℓ+1)·W(ℓ+1)ᵀ (or dL/dŷ from the loss); None for
                the output of a fused loss, whose δ is (ŷ − y)/n directly
``g_prime``     g'(e(ℓ)), the activation's slope (None for softmax and a fused output)
``delta``       δ(ℓ) = dL/de(ℓ) = dL/dh(ℓ) ⊙ g'(e(ℓ)), the sensitivity, (n, n_out)
``dL_dW``       dL/dW(ℓ) = h(ℓ-1)ᵀ·δ(ℓ) (+ the l1/l2 term), (n_in, n_out)
``dL_db``       dL/db(ℓ) = Σ over samples of δ(ℓ), (n_out,)
``W_new``       W(ℓ) − η·dL/dW(ℓ), one plain gradient-descent step (and ``b_new``)
==============  ==========================================================

L is the *mean* loss over the n samples (what ``net.loss`` returns), so dL/dŷ carries a 1/n.
All arrays are (rows, columns) with one row per sample, as everywhere in chainrule. The trace
renders as a text table (``str(trace)``), Markdown (:meth:`Trace.to_markdown`), a dict of plain
lists of floats (:meth:`Trace.to_dict`) and strict JSON (:meth:`Trace.to_json`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import numeric_array, positive_int, positive_number
from .errors import InputError

#: The most samples one trace takes: it keeps (and prints) every intermediate array.
MAX_ROWS = 64

#: The version of the :meth:`Trace.to_dict` layout.
FORMAT = "chainrule.trace/1"

#: What each per-layer key of a trace holds (``l`` is the layer's number).
MEANINGS = {
    "h_prev": "h(l-1): the layer's input",
    "e": "e(l) = h(l-1)·W(l) + b(l): excitation",
    "h": "h(l) = g(e(l)): activation",
    "dL_dh": "dL/dh(l) = δ(l+1)·W(l+1)ᵀ, or dL/dŷ at the output",
    "g_prime": "g'(e(l)): the activation's slope (none for softmax or a fused output)",
    "delta": "δ(l) = dL/de(l) = dL/dh(l) ⊙ g'(e(l)): sensitivity",
    "dL_dW": "dL/dW(l) = h(l-1)ᵀ·δ(l)",
    "dL_db": "dL/db(l) = Σ_samples δ(l)",
    "W": "W(l) before the update",
    "b": "b(l) before the update",
    "W_new": "W(l) − η·dL/dW(l)",
    "b_new": "b(l) − η·dL/db(l)",
}

#: Each loss per sample, as the renderings show it.
LOSS_FORMULAS = {
    "squared_error": "½ Σ_outputs (ŷ − y)²",
    "mse": "mean over outputs of (ŷ − y)²",
    "cross_entropy": "−Σ_j y_j log softmax(e)_j",
    "binary_cross_entropy": "−[y log σ(e) + (1 − y) log(1 − σ(e))]",
}

_DL_DYHAT = {
    "squared_error": "dL/dŷ = (ŷ − y)/n",
    "mse": "dL/dŷ = 2(ŷ − y)/(n·outputs)",
}

_SLOPES = {
    "identity": "g'(e) = 1 (identity)",
    "sigmoid": "g'(e) = h(1 − h) (sigmoid)",
    "tanh": "g'(e) = 1 − h² (tanh)",
    "relu": "g'(e) = u(e): 1 where e > 0 (relu)",
    "leaky_relu": "g'(e) = 1 where e > 0, else α (leaky_relu)",
}


@dataclass
class LayerTrace:
    """Everything one layer computed in the traced step (see the module table).

    ``index`` is the position in ``net.layers`` (0-based); the lectures' ℓ is ``index + 1``.
    ``arrays`` maps each key of :data:`MEANINGS` to its array, or None where it does not exist.
    """

    index: int
    activation: str
    arrays: dict[str, np.ndarray | None] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray | None:
        return self.arrays[key]


@dataclass
class Trace:
    """One forward pass, the loss, one backward pass and the update, with every number.

    ``x`` (n, n_inputs) and ``y`` (n, n_outputs: one-hot rows for class labels) are what the
    network saw; ``output`` is ŷ; ``loss`` the mean loss plus ``penalty`` (the l1/l2 term),
    ``sample_loss`` (n,) each sample's loss; ``lr`` the η of the recorded update.
    """

    loss_name: str
    lr: float
    x: np.ndarray
    y: np.ndarray
    output: np.ndarray
    loss: float
    fused: bool
    layers: list[LayerTrace]
    sample_loss: np.ndarray | None = None
    penalty: float = 0.0
    dtype: str = "float64"

    @property
    def n_samples(self) -> int:
        return len(self.x)

    @property
    def gradients(self) -> list[dict[str, np.ndarray | None]]:
        """``[{"W": dL/dW, "b": dL/db}, ...]``: the layout of :meth:`Network.gradients`."""
        return [{"W": t.arrays["dL_dW"], "b": t.arrays["dL_db"]} for t in self.layers]

    def graph(self):
        """The :class:`~chainrule.graph.ComputationGraph` of this trace (one sample)."""
        from .graph import ComputationGraph

        return ComputationGraph.from_trace(self)

    # ---------------------------------------------------------------- exports
    def to_dict(self) -> dict:
        """Plain JSON-ready data: floats and (nested) lists of floats, rows of samples.

        Keys: ``format`` (``"chainrule.trace/1"``), ``samples``, ``dtype``, ``loss_name``,
        ``loss_formula``, ``fused``, ``lr``, ``loss`` (mean + penalty), ``penalty``,
        ``sample_loss`` (n,), ``x`` (n, n_inputs), ``y`` (n, n_outputs), ``output`` (n,
        n_outputs), ``meanings`` (what each per-layer key stands for) and ``layers``: one dict
        per layer with ``layer`` (its 0-based index), ``activation``, ``shape`` ([n_in, n_out])
        and the arrays named in :data:`MEANINGS` — a matrix as a list of rows, a vector as a
        flat list, None where the quantity does not exist (no bias; dL_dh at a fused output).
        A non-finite number (an overflowed network) is None, so the JSON stays strict.
        """
        return {
            "format": FORMAT,
            "samples": self.n_samples,
            "dtype": self.dtype,
            "loss_name": self.loss_name,
            "loss_formula": LOSS_FORMULAS.get(self.loss_name, self.loss_name),
            "fused": self.fused,
            "lr": self.lr,
            "loss": _plain(self.loss),
            "penalty": _plain(self.penalty),
            "sample_loss": _plain(self.sample_loss),
            "x": _plain(self.x),
            "y": _plain(self.y),
            "output": _plain(self.output),
            "meanings": dict(MEANINGS),
            "layers": [
                {
                    "layer": t.index,
                    "activation": t.activation,
                    "shape": list(t.arrays["W"].shape),
                    **{k: _plain(t.arrays.get(k)) for k in MEANINGS},
                }
                for t in self.layers
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as strict JSON (no NaN or Infinity tokens)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_markdown(self, digits: int = 4) -> str:
        """The trace as Markdown: a section per stage, a table per array."""
        digits = positive_int(digits, "digits")
        n = self.n_samples
        out = [
            f"# Back-propagation trace ({self.loss_name}, η = {self.lr:g}, "
            f"{n} sample{'s' if n != 1 else ''})",
            "",
            "## Forward pass",
            "",
        ]
        for t in self.layers:
            out += [f"### Layer {t.index + 1} ({t.activation})", ""]
            for key in ("h_prev", "W", "b", "e", "h"):
                if t.arrays[key] is not None:
                    out += _md_array(key, t.arrays[key], digits, t.index + 1)
        formula = LOSS_FORMULAS.get(self.loss_name, self.loss_name)
        out += [
            "## Loss",
            "",
            f"Per sample L = {formula}; L = their mean"
            + (" + the l1/l2 penalty" if self.penalty else "")
            + f" = **{self.loss:.{digits + 2}g}**",
            "",
            *_md_array("output", self.output, digits, 0),
            *_md_array("y", self.y, digits, 0),
            "## Backward pass",
            "",
        ]
        for t in reversed(self.layers):
            out += [f"### Layer {t.index + 1}", ""]
            if t.arrays["dL_dh"] is None:
                out += [
                    f"δ = (ŷ − y)/n: {t.activation} and {self.loss_name} are differentiated "
                    "together, from the logits.",
                    "",
                ]
            for key in ("dL_dh", "g_prime", "delta", "dL_dW", "dL_db"):
                if t.arrays.get(key) is not None:
                    out += _md_array(key, t.arrays[key], digits, t.index + 1)
        out += ["## Update", ""]
        for t in self.layers:
            out += [f"### Layer {t.index + 1}", ""]
            for key in ("W_new", "b_new"):
                if t.arrays.get(key) is not None:
                    out += _md_array(key, t.arrays[key], digits, t.index + 1)
        return "\n".join(out).rstrip() + "\n"

    def to_text(self, digits: int = 4) -> str:
        """A text table: per stage and layer, each quantity's symbol, meaning and value."""
        return _text(self, positive_int(digits, "digits"))

    def __str__(self) -> str:
        return self.to_text()


def trace(net, X: object, Y: object, lr: float = 0.1) -> Trace:
    """Record one gradient-descent step of ``net`` on (X, Y); the network is not changed.

    Parameters
    ----------
    X : one sample (n_inputs,) or a small batch (n, n_inputs), n <= 64.
    Y : its target(s), as for :meth:`Network.fit`; for one 1-D sample, a scalar (value or
        class label) or one row of n_outputs values.
    lr : the learning rate η of the recorded update.
    """
    from .network import Workspace

    lr = positive_number(lr, "lr")
    X, Y = numeric_array(X, "X"), numeric_array(Y, "Y")  # ragged lists: an InputError
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
    top = len(net.layers) - 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        net.forward(ws, X, record=lambda i, e, h: forward.__setitem__(i, (e, h)))
        output = ws.hv[top].copy()
        net.backward(ws, X, T, record=lambda i, dh, d: backward.__setitem__(i, (dh, d)))
        sample_loss = net.loss_fn.per_sample(forward[top][0], forward[top][1], T)
    layers = []
    for i, layer in enumerate(net.layers):
        e, h = forward[i]
        dh, delta = backward[i]
        dW = ws.dW[i][: layer.n_in].copy()
        db = ws.dW[i][layer.n_in].copy() if layer.has_bias else None
        slope = None
        if dh is not None and layer.activation.name != "softmax":
            # The slope alone, for the reader: δ = dL/dh ⊙ g'(e) (the Jacobian for softmax).
            slope = layer.activation.backward(np.ones_like(h), h, e)
        arrays = {
            "h_prev": X.copy() if i == 0 else forward[i - 1][1],
            "e": e,
            "h": h,
            "dL_dh": dh,
            "g_prime": slope,
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
    return Trace(
        net.loss_fn.name,
        lr,
        X.copy(),
        T.copy(),
        output,
        loss,
        net.loss_fn.fused,
        layers,
        sample_loss=sample_loss,
        penalty=net.penalty(),
        dtype=net.dtype.name,
    )


def _plain(value: object) -> object:
    """Arrays as nested lists of Python floats, scalars as float; NaN and ±inf as None."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        v = float(array)
        return v if math.isfinite(v) else None
    if np.isfinite(array).all():
        return array.tolist()
    return np.where(np.isfinite(array), array, None).tolist()


def _fmt(a: object, digits: int = 4, width: int = 72) -> str:
    """An array as rows of numbers to ``digits`` significant digits, aligned, wrapped to fit."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a):.{digits}g}"
    rows = np.atleast_2d(a)
    cells = [[f"{v:.{digits}g}" for v in row] for row in rows]
    w = max(len(c) for row in cells for c in row)
    per_line = max(1, (width - 4) // (w + 1))
    lines = []
    for r, row in enumerate(cells):
        chunks = [row[i : i + per_line] for i in range(0, len(row), per_line)] or [[]]
        for c, chunk in enumerate(chunks):
            text = " ".join(cell.rjust(w) for cell in chunk)
            open_ = ("[[" if r == 0 else " [") if c == 0 else "  "
            if a.ndim == 1:
                open_ = "[" if c == 0 else " "
            close = ("]]" if r == len(cells) - 1 else "]") if c == len(chunks) - 1 else ""
            if a.ndim == 1:
                close = "]" if c == len(chunks) - 1 else ""
            lines.append(open_ + text + close)
    return "\n".join(lines)


# Symbol and meaning of each quantity in the tables; {k} is the layer's number ℓ.
_ROWS = {
    "h_prev": ("h({p})", "input of layer {k}"),
    "W": ("W({k})", "weights ({shape})"),
    "b": ("b({k})", "bias, the weight of the constant-1 input"),
    "e": ("e({k})", "excitation h({p})·W({k}){bias}"),
    "h": ("h({k})", "activation {act}(e({k})){out}"),
    "dL_dh": ("dL/dh({k})", "{source}"),
    "g_prime": ("g'(e({k}))", "{slope}"),
    "delta": ("δ({k})", "dL/de({k}) = dL/dh({k}) ⊙ g'(e({k})){softmax}"),
    "dL_dW": ("dL/dW({k})", "h({p})ᵀ·δ({k}){reg}"),
    "dL_db": ("dL/db({k})", "Σ over samples of δ({k})"),
    "W_new": ("W({k})'", "W({k}) − η·dL/dW({k})"),
    "b_new": ("b({k})'", "b({k}) − η·dL/db({k})"),
    "output": ("ŷ", "the network's output"),
    "y": ("y", "the target"),
}


def _label(key: str, k: int, **context: str) -> tuple[str, str]:
    symbol, meaning = _ROWS[key]
    fill = {"k": k, "p": k - 1, **context}
    return symbol.format(**fill), meaning.format(**fill)


def _md_array(key: str, a: np.ndarray, digits: int, k: int) -> list[str]:
    a = np.atleast_2d(a)
    header = "| " + " | ".join(f"[{j}]" for j in range(a.shape[1])) + " |"
    rule = "|" + "---|" * a.shape[1]
    rows = ["| " + " | ".join(f"{v:.{digits}g}" for v in row) + " |" for row in a]
    if key in MEANINGS:
        meaning = (
            MEANINGS[key]
            .replace("(l-1)", f"({k - 1})")
            .replace("(l+1)", f"({k + 1})")
            .replace("(l)", f"({k})")
        )
    else:
        meaning = _ROWS[key][1]
    return [f"**{key}** — {meaning}", "", header, rule, *rows, ""]


def _text(t: Trace, digits: int) -> str:
    L = len(t.layers)
    n = t.n_samples
    sections: list[tuple[str, list[tuple[str, str, object]]]] = []
    for lt in t.layers:
        k, a = lt.index + 1, lt.arrays
        n_in, n_out = a["W"].shape
        ctx = {
            "shape": f"{n_in}×{n_out}",
            "bias": f" + b({k})" if a["b"] is not None else "",
            "act": lt.activation,
            "out": " = ŷ" if k == L else "",
        }
        rows = [
            (*_label(key, k, **ctx), a[key])
            for key in ("h_prev", "W", "b", "e", "h")
            if a[key] is not None
        ]
        sections.append((f"FORWARD  layer {k}: Dense {n_in} → {n_out}, {lt.activation}", rows))
    formula = LOSS_FORMULAS.get(t.loss_name, t.loss_name)
    loss_rows: list[tuple[str, str, object]] = [
        ("y", "the target" + (" (one-hot)" if t.loss_name == "cross_entropy" else ""), t.y),
    ]
    if t.sample_loss is not None and n > 1:
        loss_rows.append(("L(x_i)", f"each sample's loss {formula}", t.sample_loss))
        mean = f"mean over the {n} samples"
    else:
        mean = formula
    if t.penalty:
        mean += " + the l1/l2 penalty"
    loss_rows.append(("L", mean, float(t.loss)))
    sections.append((f"LOSS  {t.loss_name}", loss_rows))
    reg = " + the l1/l2 term" if t.penalty else ""
    for lt in reversed(t.layers):
        k, a = lt.index + 1, lt.arrays
        rows = []
        if a["dL_dh"] is None:
            rows.append(
                (
                    f"δ({k})",
                    f"dL/de({k}) = (ŷ − y)/n: {lt.activation} and {t.loss_name} fused, "
                    "differentiated together from the logits",
                    a["delta"],
                )
            )
        else:
            source = _DL_DYHAT.get(t.loss_name, "dL/dŷ") if k == L else f"δ({k + 1})·W({k + 1})ᵀ"
            rows.append((*_label("dL_dh", k, source=source), a["dL_dh"]))
            if a["g_prime"] is not None:
                slope = _SLOPES.get(lt.activation, f"{lt.activation}'(e)")
                rows.append((*_label("g_prime", k, slope=slope), a["g_prime"]))
            softmax = (
                " (softmax: h ⊙ (dL/dh − Σ_j dL/dh_j h_j))" if lt.activation == "softmax" else ""
            )
            rows.append((*_label("delta", k, softmax=softmax), a["delta"]))
        rows.append((*_label("dL_dW", k, reg=reg), a["dL_dW"]))
        if a["dL_db"] is not None:
            rows.append((*_label("dL_db", k), a["dL_db"]))
        sections.append((f"BACKWARD  layer {k}", rows))
    update = []
    for lt in t.layers:
        k, a = lt.index + 1, lt.arrays
        update.append((*_label("W_new", k), a["W_new"]))
        if a["b_new"] is not None:
            update.append((*_label("b_new", k), a["b_new"]))
    sections.append((f"UPDATE  one plain gradient step w ← w − η·dL/dw, η = {t.lr:g}", update))

    shape = " → ".join(
        [str(t.layers[0].arrays["W"].shape[0])] + [str(lt.arrays["W"].shape[1]) for lt in t.layers]
    )
    title = (
        f"Back-propagation trace: network {shape}, loss {t.loss_name}, η = {t.lr:g}, "
        f"{n} sample{'s' if n != 1 else ''} ({t.dtype})"
    )
    sym_w = max(len(s) for _, rows in sections for s, _, _ in rows)
    mean_w = min(max(len(m) for _, rows in sections for _, m, _ in rows), 44)
    indent = " " * (2 + sym_w + 2 + mean_w + 2)
    lines = [title]
    for heading, rows in sections:
        lines += ["", heading]
        for symbol, meaning, value in rows:
            shown = (
                f"{value:.{digits + 2}g}"
                if isinstance(value, float)
                else _fmt(value, digits, 100 - len(indent))
            ).splitlines()
            if len(meaning) > mean_w:  # a long meaning gets its own line
                lines.append(f"  {symbol.ljust(sym_w)}  {meaning}")
                lines.append(indent + shown[0])
            else:
                lines.append(f"  {symbol.ljust(sym_w)}  {meaning.ljust(mean_w)}  {shown[0]}")
            lines += [indent + rest for rest in shown[1:]]
    return "\n".join(lines)
