"""The computation graph of a small network, with forward values and (after backward) gradients.

Nodes are the inputs x_i (and the constant-1 bias inputs), each unit's excitation e_j(ℓ) and
activation h_j(ℓ), the target y and the loss L; edges are the weights w_ij(ℓ) and biases b_j(ℓ)
(input → excitation), the activation g (excitation → activation) and the loss (output → L).

    >>> g = ComputationGraph(net)   # the structure
    >>> g.forward(x)                # values on the nodes: x, e, h
    >>> g.backward(y, lr=1.0)       # the loss, and the gradients dL/d· on nodes and weights
    >>> g.draw("graph.svg")         # matplotlib (the ``plot`` extra); PNG, SVG or PDF

Gradients exist only after :meth:`ComputationGraph.backward`, which runs ``net.trace`` — the
network's own forward and backward pass — so they are the numbers ``gradients`` and ``fit`` use.
This module needs only NumPy; drawing is in :mod:`chainrule.plot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, InputError

#: Largest network the drawing stays legible for: units per layer (and inputs), and layers.
MAX_UNITS = 8
MAX_LAYERS = 4


@dataclass
class Node:
    """One node: ``kind`` is input, bias, excitation, activation, target or loss.

    ``column`` and ``row`` place it in the drawing; ``value`` is its forward value and ``grad``
    its dL/d(node), both None until computed.
    """

    id: str
    kind: str
    label: str
    column: int
    row: int
    value: float | None = None
    grad: float | None = None


@dataclass
class Edge:
    """One edge ``source`` → ``target``: kind is weight, bias, activation, loss or target.

    For weight and bias edges ``value`` is the parameter and ``grad`` its dL/dw after backward;
    ``name`` is the activation's name on activation edges.
    """

    source: str
    target: str
    kind: str
    layer: int | None = None
    value: float | None = None
    grad: float | None = None
    name: str = ""


class ComputationGraph:
    """The computation of ``net`` for one sample, as nodes and edges (see the module doc).

    Parameters
    ----------
    net : a :class:`~chainrule.Network` of at most :data:`MAX_LAYERS` layers with at most
        :data:`MAX_UNITS` inputs and units per layer.
    """

    def __init__(self, net) -> None:
        if (
            len(net.layers) > MAX_LAYERS
            or max([net.n_inputs, *(layer.n_out for layer in net.layers)]) > MAX_UNITS
        ):
            raise ConfigError(
                f"the computation graph is drawn for small networks (at most {MAX_LAYERS} "
                f"layers of at most {MAX_UNITS} units and inputs); this one is "
                f"{net.n_inputs}-"
                + "-".join(str(la.n_out) for la in net.layers)
                + ": use net.trace for the numbers of a larger one"
            )
        self.net = net
        self.x: np.ndarray | None = None
        self.trace = None
        self.targets: np.ndarray | None = None
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self._build()

    @classmethod
    def from_trace(cls, trace) -> ComputationGraph:
        """The graph of a recorded :class:`~chainrule.trace.Trace` of one sample."""
        if trace.n_samples != 1:
            raise InputError(
                f"the trace holds {trace.n_samples} samples; the computation graph shows one: "
                "trace a single sample"
            )
        graph = cls.__new__(cls)
        graph.net = None
        graph.targets = None
        graph.nodes, graph.edges = {}, []
        graph._build_from_shapes(
            [lt.arrays["W"].shape[0] for lt in trace.layers[:1]]
            + [lt.arrays["W"].shape[1] for lt in trace.layers],
            [lt.activation for lt in trace.layers],
            [lt.arrays["b"] is not None for lt in trace.layers],
            trace.loss_name,
        )
        graph.x = trace.x[0].copy()
        graph._fill(trace)
        return graph

    # ------------------------------------------------------------------ structure
    def _build(self) -> None:
        net = self.net
        self._build_from_shapes(
            [net.n_inputs, *(layer.n_out for layer in net.layers)],
            [layer.activation.name for layer in net.layers],
            [layer.has_bias for layer in net.layers],
            net.loss_fn.name,
        )
        for k, layer in enumerate(net.layers, start=1):
            for edge in self.edges:
                if edge.layer == k and edge.kind in ("weight", "bias"):
                    edge.value = float(self._param(layer.W, layer.b, edge))

    def _build_from_shapes(
        self, sizes: list[int], activations: list[str], biases: list[bool], loss: str
    ) -> None:
        self.loss_name = loss
        self.sizes, self.activations = sizes, activations
        add = self._add
        for i in range(sizes[0]):
            add(Node(f"x{i + 1}", "input", f"$x_{{{i + 1}}}$", 0, i))
        for k, (units, act, bias) in enumerate(zip(sizes[1:], activations, biases), start=1):
            before = "x" if k == 1 else f"h{k - 1}_"
            col = 2 * k - 1
            if bias:
                add(Node(f"one{k}", "bias", "$1$", col - 1, sizes[k - 1]))
            for j in range(units):
                e_id, h_id = f"e{k}_{j + 1}", f"h{k}_{j + 1}"
                add(Node(e_id, "excitation", f"$e^{{({k})}}_{{{j + 1}}}$", col, j))
                add(Node(h_id, "activation", f"$h^{{({k})}}_{{{j + 1}}}$", col + 1, j))
                for i in range(sizes[k - 1]):
                    self.edges.append(Edge(f"{before}{i + 1}", e_id, "weight", k))
                if bias:
                    self.edges.append(Edge(f"one{k}", e_id, "bias", k))
                self.edges.append(Edge(e_id, h_id, "activation", k, name=act))
        top, last = len(sizes) - 1, sizes[-1]
        loss_col = 2 * top + 1
        add(Node("L", "loss", "$L$", loss_col, (last - 1) // 2))
        add(Node("y", "target", "$y$", loss_col, (last - 1) // 2 + 1))
        for j in range(last):
            self.edges.append(Edge(f"h{top}_{j + 1}", "L", "loss"))
        self.edges.append(Edge("y", "L", "target", name=loss))

    def _add(self, node: Node) -> None:
        self.nodes[node.id] = node

    @staticmethod
    def _param(W: np.ndarray, b: np.ndarray | None, edge: Edge) -> float:
        j = int(edge.target.split("_")[1]) - 1
        if edge.kind == "bias":
            return b[j]
        i = int(edge.source.split("_")[-1] if "_" in edge.source else edge.source[1:]) - 1
        return W[i, j]

    @property
    def has_gradients(self) -> bool:
        """Whether a backward pass has filled the gradients."""
        return self.trace is not None

    # ------------------------------------------------------------------ passes
    def forward(self, x: object) -> ComputationGraph:
        """Forward propagation of one sample ``x`` (n_inputs,): values on x, e and h nodes.

        Clears any gradients of an earlier backward pass (they belonged to other values).
        """
        net = self._network()
        X = net.check_X(np.asarray(x).reshape(1, -1) if np.ndim(x) == 1 else x, "x")
        if len(X) != 1:
            raise InputError(f"x holds {len(X)} samples; the graph shows one: pass one row")
        from .network import Workspace

        values: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(Workspace(net, 1), X, record=lambda i, e, h: values.__setitem__(i, (e, h)))
        self.x, self.trace, self.targets = X[0].copy(), None, None
        for node in self.nodes.values():
            node.value = node.grad = None
        for i, value in enumerate(self.x, start=1):
            self.nodes[f"x{i}"].value = float(value)
        for i, (e, h) in values.items():
            self._set_layer(i + 1, e[0], h[0])
        for node in self.nodes.values():
            if node.kind == "bias":
                node.value = 1.0
        for edge in self.edges:
            if edge.kind in ("weight", "bias"):
                edge.grad = None
        return self

    def backward(self, y: object, lr: float = 0.1) -> ComputationGraph:
        """The loss and back-propagation for target ``y`` of the sample given to :meth:`forward`.

        Runs ``net.trace(x, y, lr=lr)``; fills L, dL/d(node) on every node (δ on excitations,
        dL/dh on activations, dL/dx on inputs) and dL/dw on every weight and bias edge.
        """
        net = self._network()
        if self.x is None:
            raise ConfigError(
                "backward() needs a forward pass first: call graph.forward(x), then "
                "graph.backward(y) — the gradients are computed from the forward values"
            )
        self._fill(net.trace(self.x, y, lr=lr))
        return self

    def _network(self):
        if self.net is None:
            raise ConfigError(
                "this graph was made from a trace and has no network to run; make one with "
                "ComputationGraph(net)"
            )
        return self.net

    def _set_layer(self, k: int, e: np.ndarray, h: np.ndarray) -> None:
        for j in range(len(e)):
            self.nodes[f"e{k}_{j + 1}"].value = float(e[j])
            self.nodes[f"h{k}_{j + 1}"].value = float(h[j])

    def _fill(self, trace) -> None:
        """Values and gradients from a one-sample trace."""
        self.trace = trace
        for i, value in enumerate(trace.x[0], start=1):
            self.nodes[f"x{i}"].value = float(value)
        for lt in trace.layers:
            k, a = lt.index + 1, lt.arrays
            self._set_layer(k, a["e"][0], a["h"][0])
            for j in range(a["e"].shape[1]):
                self.nodes[f"e{k}_{j + 1}"].grad = float(a["delta"][0, j])
                dh = a["dL_dh"]
                self.nodes[f"h{k}_{j + 1}"].grad = None if dh is None else float(dh[0, j])
            for edge in self.edges:
                if edge.layer == k and edge.kind in ("weight", "bias"):
                    edge.value = float(self._param(a["W"], a["b"], edge))
                    edge.grad = float(self._param(a["dL_dW"], a["dL_db"], edge))
        # dL/dx = δ(1)·W(1)ᵀ: the step back-propagation skips (no weight below x needs it).
        first = trace.layers[0].arrays
        dx = first["delta"][0] @ first["W"].T
        for i, value in enumerate(dx, start=1):
            self.nodes[f"x{i}"].grad = float(value)
        for node in self.nodes.values():
            if node.kind == "bias":
                node.value = 1.0
        self.nodes["L"].value = float(trace.loss)
        self.nodes["L"].grad = 1.0
        self.nodes["y"].value = float(trace.y[0, 0]) if trace.y.shape[1] == 1 else None
        self.targets = trace.y[0].copy()

    # ------------------------------------------------------------------ drawing
    def draw(self, path: str | Path | None = None, *, title: str | None = None):
        """Draw the graph with matplotlib (see :func:`chainrule.plot.computation_graph`).

        Writes ``path`` (.png, .svg or .pdf) if given; returns the matplotlib Figure.
        """
        from .plot import computation_graph

        return computation_graph(self, path, title=title)
