"""Back-propagation against finite differences, float64, over the registries."""

import numpy as np
import pytest

import chainrule as cr

SMOOTH = ["identity", "sigmoid", "tanh", "softmax"]
KINKED = ["relu", "leaky_relu"]
LOSSES = ["squared_error", "mse", "cross_entropy", "binary_cross_entropy"]
FUSED_OUTPUT = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}


def build(activation, loss, depth, seed=3, n_in=3, width=5, k=3, **kwargs):
    out = FUSED_OUTPUT.get(loss, activation)
    sizes = [n_in] + [width] * (depth - 1) + [k]
    layers = [
        cr.Dense(a, b, activation if i < depth - 1 else out)
        for i, (a, b) in enumerate(zip(sizes, sizes[1:]))
    ]
    return cr.Network(layers, loss=loss, dtype="float64", seed=seed, **kwargs)


def targets(loss, rng, n, k):
    if loss == "cross_entropy":
        return rng.integers(0, k, n)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k))
    return rng.normal(size=(n, k))


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", SMOOTH + KINKED)
def test_backprop_matches_finite_differences(activation, loss, depth, rng):
    net = build(activation, loss, depth)
    # Biases away from zero so every gradient entry is exercised.
    for layer in net.layers:
        layer.b[:] = rng.normal(0, 0.3, layer.b.shape)
    X = rng.normal(size=(6, 3))
    Y = targets(loss, rng, 6, 3)
    report = cr.gradcheck(net, X, Y)
    limit = 1e-5 if activation in KINKED else 1e-7
    assert report.max_error <= limit, str(report)
    assert set(report.errors) == {(i, k) for i in range(depth) for k in ("W", "b")}


def test_whole_network_all_parameters_with_regularisation(rng):
    net = build("tanh", "cross_entropy", 3, l1=0.01, l2=0.1)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 3, 8)
    analytic = net.gradients(X, y)
    numerical = cr.numerical_gradients(net, X, y, eps=1e-5, richardson=True)
    flat_a = np.concatenate([g[k].ravel() for g in analytic for k in ("W", "b")])
    flat_n = np.concatenate([g[k].ravel() for g in numerical for k in ("W", "b")])
    assert flat_a.size == net.n_params
    np.testing.assert_allclose(flat_a, flat_n, rtol=1e-7, atol=1e-10)


def test_plain_central_differences_agree_loosely(rng):
    net = build("sigmoid", "squared_error", 2)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    numerical = cr.numerical_gradients(net, X, Y, eps=1e-6)
    for a, n in zip(net.gradients(X, Y), numerical):
        np.testing.assert_allclose(a["W"], n["W"], rtol=1e-4, atol=1e-8)


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch):
    net = build("tanh", "squared_error", 2)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    # A tanh whose backward forgets the derivative: backprop is then wrong and must be caught.
    monkeypatch.setattr(cr.activations.Tanh, "backward", lambda self, dh, h, e=None: dh)
    report = cr.gradcheck(net, X, Y)
    assert not report.passed
    assert report.errors[(0, "W")] > 1e-2
    assert "FAIL" in str(report)


def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot(rng):
    net = cr.Network([cr.Dense(4, 3, "softmax")], loss="cross_entropy", dtype="float64", seed=0)
    X, y = rng.normal(size=(5, 4)), np.array([0, 2, 1, 1, 0])
    delta = (net.predict(X) - np.eye(3)[y]) / len(X)
    grads = net.gradients(X, y)
    np.testing.assert_allclose(grads[0]["W"], X.T @ delta, rtol=1e-12)
    np.testing.assert_allclose(grads[0]["b"], delta.sum(0), rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    W = np.array([[1000.0, -1000.0]])
    net = cr.Network([cr.Dense(1, 2, "softmax", weights=W)], loss="cross_entropy", dtype="float64")
    # Wrong class with a logit gap of 2000: the loss is 2000, not inf or nan.
    assert net.loss([[1.0]], [1]) == pytest.approx(2000.0)
    assert np.isfinite(net.gradients([[1.0]], [1])[0]["W"]).all()


def test_binary_cross_entropy_from_logits_is_stable():
    net = cr.Network(
        [cr.Dense(1, 1, "sigmoid", weights=[[800.0]])], loss="binary_cross_entropy", dtype="float64"
    )
    assert net.loss([[1.0]], [0]) == pytest.approx(800.0)
    assert net.loss([[1.0]], [1]) == pytest.approx(0.0, abs=1e-300)


def test_loss_conventions():
    net = cr.Network([cr.Dense(1, 2, weights=[[1.0, 2.0]])], loss="squared_error", dtype="float64")
    X, Y = [[1.0], [2.0]], [[0.0, 0.0], [1.0, 1.0]]
    # ŷ = [[1, 2], [2, 4]]; ½Σ per sample: 2.5 and 5 → mean 3.75.
    assert net.loss(X, Y) == pytest.approx(3.75)
    mse = cr.Network([cr.Dense(1, 2, weights=[[1.0, 2.0]])], loss="mse", dtype="float64")
    assert mse.loss(X, Y) == pytest.approx((1 + 4 + 1 + 9) / 4)


def test_regularisation_term():
    W = np.array([[1.0, -2.0]])
    net = cr.Network([cr.Dense(1, 2, weights=W)], loss="mse", dtype="float64", l1=0.5, l2=0.2)
    base = cr.Network([cr.Dense(1, 2, weights=W)], loss="mse", dtype="float64")
    X, Y = [[1.0]], [[0.0, 0.0]]
    assert net.loss(X, Y) - base.loss(X, Y) == pytest.approx(0.5 * 3 + 0.1 * 5)


def test_float32_network_gradients_close_to_float64(rng):
    net32 = build("tanh", "cross_entropy", 2)
    net32 = net32.astype("float32")
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    g32 = net32.gradients(X, y)
    g64 = net32.astype("float64").gradients(X, y)
    assert g32[0]["W"].dtype == np.float32
    np.testing.assert_allclose(g32[0]["W"], g64[0]["W"], rtol=1e-4, atol=1e-6)


def test_gradcheck_at_an_exact_relu_kink_does_not_crash():
    net = cr.Network(
        [cr.Dense(2, 3, "relu"), cr.Dense(3, 2, "softmax")],
        loss="cross_entropy",
        dtype="float64",
        seed=0,
    )
    X = np.zeros((1, 2))  # zero input and zero biases: every excitation is exactly 0
    report = cr.gradcheck(net, X, [1])
    assert report.eps == 1e-8
    assert np.isfinite(report.max_error)
