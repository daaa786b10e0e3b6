"""The computation graph: structure, forward values, gradients only after backward, drawings."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import ComputationGraph


def _net():
    return cr.Network(
        [cr.Dense(2, 3, "tanh"), cr.Dense(3, 2, "softmax")],
        loss="cross_entropy",
        dtype="float64",
        seed=0,
    )


def _slide():
    return cr.Network(
        [cr.Dense(2, 1, "sigmoid", weights=[[0.35], [0.40]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )


def test_structure_counts_nodes_and_edges():
    g = ComputationGraph(_net())
    kinds = [n.kind for n in g.nodes.values()]
    assert kinds.count("input") == 2 and kinds.count("bias") == 2
    assert kinds.count("excitation") == 5 and kinds.count("activation") == 5
    assert kinds.count("loss") == 1 and kinds.count("target") == 1
    edges = [e.kind for e in g.edges]
    assert edges.count("weight") == 2 * 3 + 3 * 2 and edges.count("bias") == 3 + 2
    assert edges.count("activation") == 5 and edges.count("loss") == 2
    # Weights are on their edges from the start; values and gradients are not.
    w = next(e for e in g.edges if e.source == "x2" and e.target == "e1_3")
    assert w.value == pytest.approx(g.net.layers[0].W[1, 2])
    assert all(n.value is None for n in g.nodes.values() if n.kind != "bias")
    assert not g.has_gradients


def test_forward_fills_values_and_no_gradients():
    net = _net()
    x = np.array([0.5, -1.0])
    g = ComputationGraph(net).forward(x)
    e1 = x @ net.layers[0].W + net.layers[0].b
    h1 = np.tanh(e1)
    e2 = h1 @ net.layers[1].W + net.layers[1].b
    h2 = np.exp(e2) / np.exp(e2).sum()
    for j in range(3):
        assert g.nodes[f"e1_{j + 1}"].value == pytest.approx(e1[j], rel=1e-14)
        assert g.nodes[f"h1_{j + 1}"].value == pytest.approx(h1[j], rel=1e-14)
    for j in range(2):
        assert g.nodes[f"h2_{j + 1}"].value == pytest.approx(h2[j], rel=1e-14)
    assert not g.has_gradients
    assert all(n.grad is None for n in g.nodes.values())
    assert all(e.grad is None for e in g.edges)
    assert g.nodes["L"].value is None  # no target yet, no loss


def test_backward_needs_a_forward_pass_first():
    with pytest.raises(cr.ConfigError, match="forward"):
        ComputationGraph(_net()).backward(1)


def test_backward_gradients_are_the_networks_and_dL_dx_matches_finite_differences():
    net = _net()
    x = np.array([0.5, -1.0])
    g = ComputationGraph(net).forward(x).backward(1, lr=0.5)
    assert g.has_gradients
    grads = net.gradients([x], [1])
    for e in g.edges:
        if e.kind == "weight":
            j = int(e.target.split("_")[1]) - 1
            i = int(e.source.split("_")[-1] if "_" in e.source else e.source[1:]) - 1
            assert e.grad == grads[e.layer - 1]["W"][i, j]
        elif e.kind == "bias":
            j = int(e.target.split("_")[1]) - 1
            assert e.grad == grads[e.layer - 1]["b"][j]
    assert g.nodes["L"].value == pytest.approx(net.loss([x], [1]), rel=1e-14)
    # dL/dx, which back-propagation itself never needs, checked by central differences.
    for i in range(2):
        step = np.eye(2)[i] * 1e-6
        numeric = (net.loss([x + step], [1]) - net.loss([x - step], [1])) / 2e-6
        assert g.nodes[f"x{i + 1}"].grad == pytest.approx(numeric, rel=1e-7)
    # δ on excitations; at the fused softmax output, dL/dh is not computed.
    t = net.trace(x, 1)
    assert g.nodes["e2_1"].grad == t.layers[1]["delta"][0, 0]
    assert g.nodes["h2_1"].grad is None and g.nodes["h1_2"].grad == t.layers[0]["dL_dh"][0, 1]
    # A new forward pass clears the gradients: they belonged to other values.
    g.forward([0.1, 0.1])
    assert not g.has_gradients and all(e.grad is None for e in g.edges)


def test_graph_of_a_trace_and_its_limits(rng):
    net = _slide()
    g = net.trace([0.50, 0.51], [0.10], lr=1.0).graph()
    assert g.nodes["e1_1"].value == pytest.approx(0.379, abs=1e-3)
    assert g.nodes["h1_1"].value == pytest.approx(0.594, abs=1e-3)
    assert g.nodes["L"].value == pytest.approx(0.122, abs=1e-3)
    assert g.nodes["y"].value == pytest.approx(0.10)
    w1 = next(e for e in g.edges if e.source == "x1")
    assert w1.grad == pytest.approx(0.0595, abs=1e-4)
    with pytest.raises(cr.InputError, match="one"):
        net.trace(rng.normal(size=(2, 2)), [[0.1], [0.2]]).graph()
    with pytest.raises(cr.ConfigError, match="small networks"):
        ComputationGraph(cr.Network([cr.Dense(2, 9, "tanh"), cr.Dense(9, 1)]))
    with pytest.raises(cr.InputError, match="features"):
        ComputationGraph(net).forward([1.0, 2.0, 3.0])
    with pytest.raises(cr.ConfigError, match="no network"):
        g.forward([0.5, 0.5])


def test_drawings_show_gradients_only_after_backward(tmp_path):
    net = _slide()
    g = ComputationGraph(net).forward([0.50, 0.51])
    before = g.draw(tmp_path / "before.svg")
    assert before.get_axes()
    svg = (tmp_path / "before.svg").read_text()
    assert "w 0.35" in svg and "0.379" in svg and "0.594" in svg
    assert "∂" not in svg and "δ" not in svg and "gradients appear after" in svg
    g.backward([0.10], lr=1.0)
    g.draw(tmp_path / "after.svg")
    g.draw(tmp_path / "after.png")
    svg = (tmp_path / "after.svg").read_text()
    assert "∂ 0.0595" in svg and "∂ 0.0607" in svg and "δ 0.119" in svg
    assert "L = 0.122" in svg
    png = (tmp_path / "after.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(cr.ConfigError, match="suffix"):
        g.draw(tmp_path / "graph.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["after.png", "after.svg", "before.svg"]
