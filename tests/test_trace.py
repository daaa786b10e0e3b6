"""The trace: the numbers of one step, equal to those gradients and fit compute."""

import json

import numpy as np
import pytest

import chainrule as cr


def _net(loss="cross_entropy", out="softmax", k=3):
    return cr.Network(
        [cr.Dense(3, 4, "tanh"), cr.Dense(4, 5, "relu", bias=False), cr.Dense(5, k, out)],
        loss=loss,
        dtype="float64",
        seed=1,
    )


@pytest.mark.parametrize(
    "loss, out, k",
    [
        ("cross_entropy", "softmax", 3),
        ("squared_error", "sigmoid", 2),
        ("binary_cross_entropy", "sigmoid", 1),
    ],
)
def test_trace_equals_gradients_and_one_fit_step(loss, out, k, rng):
    net = _net(loss, out, k)
    X = rng.normal(size=(5, 3))
    Y = rng.integers(0, k, 5) if loss == "cross_entropy" else rng.integers(0, 2, (5, k))
    t = net.trace(X, Y, lr=0.3)
    grads = net.gradients(X, Y)
    for layer, g in zip(t.layers, grads):
        assert np.array_equal(layer.arrays["dL_dW"], g["W"])  # the very same computation
        if g["b"] is None:
            assert layer.arrays["dL_db"] is None and layer.arrays["b_new"] is None
        else:
            assert np.array_equal(layer.arrays["dL_db"], g["b"])
    assert t.loss == pytest.approx(net.loss(X, Y), rel=1e-15)
    np.testing.assert_array_equal(t.output, net.predict(X))
    stepped = net.copy()
    stepped.fit(X, Y, epochs=1, optimizer=cr.SGD(0.3))
    for layer, after in zip(t.layers, stepped.layers):
        np.testing.assert_allclose(layer.arrays["W_new"], after.W, rtol=0, atol=1e-12)
        if after.b is not None:
            np.testing.assert_allclose(layer.arrays["b_new"], after.b, rtol=0, atol=1e-12)


def test_trace_quantities_obey_the_chain_rule(rng):
    net = _net("squared_error", "sigmoid", 2)
    X, Y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    t = net.trace(X, Y, lr=0.1)
    for i, layer in enumerate(t.layers):
        a = layer.arrays
        W, b = net.layers[i].W, net.layers[i].b
        np.testing.assert_allclose(a["e"], a["h_prev"] @ W + (0 if b is None else b), atol=1e-14)
        np.testing.assert_allclose(a["dL_dW"], a["h_prev"].T @ a["delta"], atol=1e-14)
        if i + 1 < len(t.layers):
            below = t.layers[i + 1].arrays["delta"] @ net.layers[i + 1].W.T
            np.testing.assert_allclose(a["dL_dh"], below, atol=1e-14)
    top = t.layers[-1].arrays
    np.testing.assert_allclose(top["dL_dh"], (top["h"] - Y) / len(X), atol=1e-15)
    np.testing.assert_allclose(top["delta"], top["dL_dh"] * top["h"] * (1 - top["h"]), atol=1e-15)
    assert np.array_equal(net.layers[0].W, t.layers[0].arrays["W"])  # the network is unchanged


def test_mirabello_worked_example_in_the_trace():
    net = cr.Network(
        [cr.Dense(2, 1, "sigmoid", weights=[[0.35], [0.40]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )
    t = net.trace([0.50, 0.51], [0.10], lr=1.0)
    a = t.layers[0].arrays
    assert a["e"][0, 0] == pytest.approx(0.379, abs=1e-3)
    assert a["h"][0, 0] == pytest.approx(0.594, abs=1e-3)
    assert t.loss == pytest.approx(0.122, abs=1e-3)
    assert a["dL_dh"][0, 0] == pytest.approx(0.49, abs=1e-2)  # ∂J/∂ŷ
    assert (a["delta"] / a["dL_dh"])[0, 0] == pytest.approx(0.24, abs=1e-2)  # ∂ŷ/∂Σ
    assert a["W_new"][:, 0] == pytest.approx([0.290, 0.339], abs=1e-3)


def test_renderings(rng):
    net = _net()
    t = net.trace(rng.normal(size=3), 2, lr=0.5)  # one sample, one label
    text = str(t)
    assert "FORWARD" in text and "BACKWARD" in text and "UPDATE" in text
    assert "δ(3)" in text and "dL/de(3)" in text and "fused" in text
    assert "g'(e(1))" in text and "1 − h² (tanh)" in text and "δ(2)·W(2)ᵀ" in text
    md = t.to_markdown()
    assert md.startswith("# Back-propagation trace") and "| [0] |" in md
    data = json.loads(t.to_json())
    assert data["loss"] == pytest.approx(t.loss)
    assert len(data["layers"]) == 3 and data["layers"][1]["dL_db"] is None
    assert np.allclose(data["layers"][2]["delta"], t.layers[2].arrays["delta"])
    assert data["layers"][2]["dL_dh"] is None  # fused softmax + cross-entropy
    assert set(data["meanings"]) >= {"e", "h", "delta", "dL_dW"}


def test_trace_validates_its_input(rng):
    net = _net()
    with pytest.raises(cr.InputError, match="at most 64"):
        net.trace(rng.normal(size=(65, 3)), rng.integers(0, 3, 65))
    with pytest.raises(cr.ConfigError, match="lr="):
        net.trace(rng.normal(size=(1, 3)), [0], lr=0)
    with pytest.raises(cr.InputError, match="features"):
        net.trace(rng.normal(size=(1, 4)), [0])


def _cli(*args, cwd=None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_trace_command(tmp_path):
    done = _cli("trace", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    np.testing.assert_allclose(data["layers"][0]["W_new"], [[0.2905], [0.3393]], atol=1e-4)
    net = _net()
    net.save(tmp_path / "m.crnet")
    done = _cli(
        "trace", str(tmp_path / "m.crnet"), "--x", "0.1,0.2,0.3", "--y", "2", "--format", "markdown"
    )
    assert done.returncode == 0, done.stderr
    expected = net.trace([0.1, 0.2, 0.3], 2, lr=1.0)
    assert f"{expected.loss:.6g}" in done.stdout
    bad = _cli("trace", str(tmp_path / "m.crnet"), "--x", "0.1,0.2", "--y", "2")
    assert bad.returncode == 1 and "expects 3" in bad.stderr and "Traceback" not in bad.stderr


def test_trace_with_regularisation_equals_gradients_and_fit(rng):
    net = cr.Network(
        [cr.Dense(3, 4, "sigmoid"), cr.Dense(4, 2, "identity")],
        loss="mse",
        dtype="float64",
        seed=3,
        l1=0.01,
        l2=0.1,
    )
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    t = net.trace(X, Y, lr=0.2)
    for layer, g in zip(t.layers, net.gradients(X, Y)):
        assert np.array_equal(layer["dL_dW"], g["W"]) and np.array_equal(layer["dL_db"], g["b"])
    assert t.penalty == pytest.approx(net.penalty(), rel=1e-15) and t.penalty > 0
    assert t.loss == pytest.approx(net.loss(X, Y), rel=1e-14)
    assert t.sample_loss.mean() + t.penalty == pytest.approx(t.loss, rel=1e-14)
    stepped = net.copy()
    stepped.fit(X, Y, epochs=1, optimizer=cr.SGD(0.2))
    for layer, after in zip(t.layers, stepped.layers):
        np.testing.assert_allclose(layer["W_new"], after.W, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer["b_new"], after.b, rtol=0, atol=1e-12)
    assert "+ the l1/l2 term" in str(t)


def test_slopes_and_deltas_follow_the_chain_rule(rng):
    net = cr.Network(
        [
            cr.Dense(2, 3, "tanh"),
            cr.Dense(3, 3, "relu"),
            cr.Dense(3, 3, "leaky_relu", alpha=0.1),
            cr.Dense(3, 2, "softmax"),
        ],
        loss="squared_error",  # not fused: softmax's Jacobian is applied in backward
        dtype="float64",
        seed=0,
    )
    X, Y = rng.normal(size=(4, 2)), rng.uniform(size=(4, 2))
    t = net.trace(X, Y)
    tanh, relu, leaky, soft = (layer.arrays for layer in t.layers)
    np.testing.assert_allclose(tanh["g_prime"], 1 - tanh["h"] ** 2, rtol=1e-15)
    assert set(np.unique(relu["g_prime"])) <= {0.0, 1.0}
    np.testing.assert_array_equal(relu["g_prime"], (relu["e"] > 0).astype(float))
    np.testing.assert_allclose(leaky["g_prime"], np.where(leaky["e"] > 0, 1.0, 0.1))
    for a in (tanh, relu, leaky):
        np.testing.assert_allclose(a["delta"], a["dL_dh"] * a["g_prime"], rtol=1e-14, atol=0)
    # Softmax: no elementwise slope; δ is the Jacobian-vector product h ⊙ (g − Σ g·h).
    assert soft["g_prime"] is None
    g, h = soft["dL_dh"], soft["h"]
    np.testing.assert_allclose(
        soft["delta"], h * (g - (g * h).sum(axis=1, keepdims=True)), rtol=1e-13
    )
    np.testing.assert_allclose(soft["dL_dh"], (h - Y) / len(X), rtol=1e-15)


def test_to_dict_is_plain_and_non_finite_numbers_become_null():
    # Weights so large that the excitation overflows to infinity in float64.
    net = cr.Network(
        [cr.Dense(1, 1, "identity", weights=[[1e300]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )
    t = net.trace([1e10], [0.0], lr=1.0)
    assert np.isinf(t.layers[0]["e"][0, 0])
    data = t.to_dict()
    assert data["layers"][0]["e"] == [[None]] and data["loss"] is None
    parsed = json.loads(t.to_json())  # strict JSON: no NaN/Infinity tokens
    assert parsed["layers"][0]["W"] == [[1e300]]

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (bool, int, float, str))

    ok = cr.Network([cr.Dense(2, 2, "tanh"), cr.Dense(2, 3, "softmax")], "cross_entropy", seed=0)
    d = ok.trace([[0.1, 0.2], [0.3, -0.4]], [0, 2], lr=0.5).to_dict()
    assert plain(d)
    assert d["format"] == "chainrule.trace/1" and d["samples"] == 2 and d["fused"] is True
    assert [layer["shape"] for layer in d["layers"]] == [[2, 2], [2, 3]]
    assert np.array(d["layers"][1]["delta"]).shape == (2, 3)
    assert np.array(d["layers"][0]["dL_db"]).shape == (2,)
    assert len(d["sample_loss"]) == 2 and d["dtype"] == "float32"
    assert d["layers"][1]["g_prime"] is None and d["layers"][0]["g_prime"] is not None


def test_markdown_has_a_table_per_quantity():
    net = cr.Network(
        [cr.Dense(2, 1, "sigmoid", weights=[[0.35], [0.40]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )
    md = net.trace([0.50, 0.51], [0.10], lr=1.0).to_markdown()
    for heading in ("## Forward pass", "## Loss", "## Backward pass", "## Update"):
        assert heading in md
    assert "**W_new** — W(1) − η·dL/dW(1)" in md
    assert "| 0.2905 |" in md and "| 0.3393 |" in md  # w' = (0.290, 0.339), 4 digits
    assert "**g_prime**" in md and "| 0.2412 |" in md
