"""ONNX export (the ``onnx`` extra): the network as an ONNX graph any runtime can execute.

Each Dense layer becomes MatMul (+ Add for the bias) and its activation's ONNX operator:
Sigmoid, Tanh, Relu, LeakyRelu, Softmax (axis -1); the threshold units become Greater → Cast
(step) and Greater → Where (sign). The graph takes ``X`` (batch, n_inputs) and returns ``Y``
(batch, n_outputs) — exactly what :meth:`Network.predict` returns.

A model trained from a data file (``chainrule train``) standardises its inputs first; passing
its ``scaling`` puts that step (Sub, Div) at the head of the graph, so the ONNX model takes the
raw feature columns as ``chainrule predict`` does. Feature names, target and class labels from
``net.metadata`` are stored as JSON in the model's metadata properties.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import files
from .errors import ConfigError, ModelFileError

OPSET = 17


def to_onnx(net, path: str | os.PathLike, *, scaling: dict | None = None) -> Path:
    """Write ``net`` as an ONNX model to ``path`` (atomically); returns the path.

    ``scaling`` ({"mean": (d,), "scale": (d,)}, as ``chainrule train`` stores in
    ``net.metadata``) makes the graph standardise its input X (batch, d) first.
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ConfigError(
            "ONNX export needs the onnx package: pip install 'chainrule[onnx]'"
        ) from None
    from .io import _as_path

    path = _as_path(path, "path")
    if not path.parent.is_dir():
        raise ConfigError(f"path={str(path)!r}: folder {str(path.parent)!r} does not exist")
    elem = TensorProto.FLOAT if net.dtype == np.float32 else TensorProto.DOUBLE
    nodes, inits = [], []
    current = "X"
    if scaling is not None:
        for key in ("mean", "scale"):
            values = np.asarray(scaling[key], dtype=net.dtype)
            if values.shape != (net.n_inputs,):
                raise ConfigError(
                    f"scaling[{key!r}] has shape {values.shape}; the network takes "
                    f"{net.n_inputs} inputs"
                )
            inits.append(numpy_helper.from_array(values, key))
        nodes.append(helper.make_node("Sub", ["X", "mean"], ["centred"]))
        nodes.append(helper.make_node("Div", ["centred", "scale"], ["standardised"]))
        current = "standardised"
    for i, layer in enumerate(net.layers):
        w = f"W{i}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(layer.W), w))
        nodes.append(helper.make_node("MatMul", [current, w], [f"xw{i}"]))
        current = f"xw{i}"
        if layer.has_bias:
            inits.append(numpy_helper.from_array(np.ascontiguousarray(layer.b), f"b{i}"))
            nodes.append(helper.make_node("Add", [current, f"b{i}"], [f"e{i}"]))
            current = f"e{i}"
        out = "Y" if i == len(net.layers) - 1 else f"h{i}"
        name = layer.activation.name
        if name == "identity":
            nodes.append(helper.make_node("Identity", [current], [out]))
        elif name in ("sigmoid", "tanh", "relu"):
            op = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}[name]
            nodes.append(helper.make_node(op, [current], [out]))
        elif name == "leaky_relu":
            alpha = layer.activation.alpha
            nodes.append(helper.make_node("LeakyRelu", [current], [out], alpha=alpha))
        elif name == "softmax":
            nodes.append(helper.make_node("Softmax", [current], [out], axis=-1))
        elif name in ("step", "sign"):
            zero = f"zero{i}"
            inits.append(numpy_helper.from_array(np.zeros((), net.dtype), zero))
            nodes.append(helper.make_node("Greater", [current, zero], [f"gt{i}"]))
            if name == "step":
                nodes.append(helper.make_node("Cast", [f"gt{i}"], [out], to=elem))
            else:
                for value in (1, -1):
                    const = f"{'pos' if value > 0 else 'neg'}{i}"
                    inits.append(numpy_helper.from_array(np.array(value, net.dtype), const))
                nodes.append(helper.make_node("Where", [f"gt{i}", f"pos{i}", f"neg{i}"], [out]))
        else:  # a custom Activation subclass has no ONNX counterpart
            raise ConfigError(f"layer {i}'s activation {name!r} has no ONNX operator")
        current = out
    graph = helper.make_graph(
        nodes,
        "chainrule",
        [helper.make_tensor_value_info("X", elem, ["batch", net.n_inputs])],
        [helper.make_tensor_value_info("Y", elem, ["batch", net.n_outputs])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="chainrule"
    )
    notes = {k: net.metadata[k] for k in ("features", "target", "classes") if k in net.metadata}
    helper.set_model_props(model, {k: json.dumps(v) for k, v in notes.items()})
    onnx.checker.check_model(model)
    files.write_atomically(path, [model.SerializeToString()], ModelFileError)
    return path
