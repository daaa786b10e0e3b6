"""Published worked examples from the lecture notes, through the public API."""

import warnings

import numpy as np
import pytest

import chainrule as cr

TRUTH = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def test_mirabello_single_neuron_example():
    # x = (0.50, 0.51), w = (0.35, 0.40), no bias, sigmoid, ½ squared error, η = 1.
    net = cr.Network(
        [cr.Dense(2, 1, "sigmoid", weights=[[0.35], [0.40]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )
    x, y = [[0.50, 0.51]], [[0.10]]
    sigma = float(x[0][0] * 0.35 + x[0][1] * 0.40)
    assert sigma == pytest.approx(0.379, abs=1e-3)
    y_hat = net.predict(x)[0, 0]
    assert y_hat == pytest.approx(0.594, abs=1e-3)
    assert net.loss(x, y) == pytest.approx(0.122, abs=1e-3)
    grad = net.gradients(x, y)[0]["W"][:, 0]
    # The three chain-rule factors: dJ/dŷ = ŷ - y ≈ 0.49, dŷ/dΣ = ŷ(1-ŷ) ≈ 0.24, dΣ/dw = x.
    assert grad == pytest.approx((y_hat - 0.1) * y_hat * (1 - y_hat) * np.array([0.50, 0.51]))
    assert grad == pytest.approx([0.0595, 0.0607], abs=1e-3)
    history = net.fit(x, y, epochs=1, optimizer=cr.SGD(lr=1.0))
    assert history.loss[0] == pytest.approx(0.122, abs=1e-3)  # seen before the update
    assert net.layers[0].W[:, 0] == pytest.approx([0.290, 0.339], abs=1e-3)
    assert net.predict(x)[0, 0] == pytest.approx(0.579, abs=1e-3)
    assert net.loss(x, y) < 0.1218  # the error has gone down (½(0.579 - 0.1)² ≈ 0.1147)
    assert net.loss(x, y) == pytest.approx(0.5 * (0.579 - 0.1) ** 2, abs=1e-3)


@pytest.mark.parametrize(
    "weights, bias, expected",
    [
        ([[1.0], [1.0]], [-0.5], [0, 1, 1, 1]),  # OR = u(x1 + x2 - 0.5)
        ([[1.0], [1.0]], [-1.5], [0, 0, 0, 1]),  # AND = u(x1 + x2 - 1.5)
    ],
)
def test_mcculloch_pitts_or_and(weights, bias, expected):
    net = cr.Network([cr.Dense(2, 1, "step", weights=weights, bias=bias)])
    assert net.predict(TRUTH)[:, 0].tolist() == expected


def test_mcculloch_pitts_xor_two_layers():
    # h1 = u(0.5 - x1 - x2), h2 = u(x1 + x2 - 1.5), ŷ = u(0.5 - h1 - h2)
    hidden = cr.Dense(2, 2, "step", weights=[[-1.0, 1.0], [-1.0, 1.0]], bias=[0.5, -1.5])
    output = cr.Dense(2, 1, "step", weights=[[-1.0], [-1.0]], bias=[0.5])
    net = cr.Network([hidden, output])
    assert net.predict(TRUTH)[:, 0].tolist() == [0, 1, 1, 0]


def test_step_networks_cannot_be_trained_by_backprop():
    net = cr.Network([cr.Dense(2, 1, "step")], seed=0)
    with pytest.raises(cr.NotDifferentiableError, match="step"):
        net.gradients(TRUTH, [[0], [1], [1], [1]])
    with pytest.raises(cr.NotDifferentiableError):
        net.fit(TRUTH, [[0], [1], [1], [1]], epochs=1)


def test_xor_learned_by_2_4_1_network_from_most_seeds():
    X, y = cr.datasets.xor()
    solved = 0
    for seed in range(20):
        net = cr.Network(
            [cr.Dense(2, 4, "tanh"), cr.Dense(4, 1, "sigmoid")],
            loss="binary_cross_entropy",
            seed=seed,
        )
        net.fit(X, y, epochs=500, optimizer=cr.SGD(lr=0.5, momentum=0.9))
        solved += bool((net.predict_classes(X) == y).all())
    assert solved >= 19


def test_perceptron_converges_on_separable_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (100, 2))
    y = (X[:, 0] + 2 * X[:, 1] > 0.1).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning allowed
        p = cr.Perceptron(2, max_epochs=1000).fit(X, y)
    assert p.converged_ and p.errors_[-1] == 0
    assert (p.predict(X)[:, 0] == y).all()
    assert (p.to_network().predict(X)[:, 0] == y).all()


def test_perceptron_reports_failure_on_xor():
    X, y = cr.datasets.xor()
    with pytest.warns(cr.ConvergenceWarning, match="did not converge"):
        p = cr.Perceptron(2, max_epochs=50).fit(X, y)
    assert not p.converged_
    assert min(p.errors_) > 0


def test_perceptron_sign_units():
    X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -0.5]])
    p = cr.Perceptron(2, activation="sign").fit(X, [1, 1, -1, -1])
    assert p.converged_
    assert p.predict(X)[:, 0].tolist() == [1, 1, -1, -1]


def test_uiuc_relu_softmax_scalar_example():
    # x scalar with a constant-1 input, a ReLU hidden layer, softmax over Y ∈ {0, 1}.
    X = np.array([[0.5, 1.0], [-1.0, 1.0], [2.0, 1.0]])
    y = np.array([1, 0, 1])
    net = cr.Network(
        [
            cr.Dense(2, 2, "relu", weights=[[1.0, -1.0], [0.2, 0.3]], bias=False),
            cr.Dense(2, 2, "softmax", weights=[[0.5, -0.5], [-0.3, 0.4]], bias=False),
        ],
        loss="cross_entropy",
        dtype="float64",
    )
    h1 = np.maximum(X @ net.layers[0].W, 0)
    e2 = h1 @ net.layers[1].W
    p = np.exp(e2) / np.exp(e2).sum(1, keepdims=True)
    assert net.predict(X) == pytest.approx(p)
    delta2 = (p - np.eye(2)[y]) / 3  # softmax − onehot, averaged
    assert net.gradients(X, y)[1]["W"] == pytest.approx(h1.T @ delta2)
    assert cr.gradcheck(net, X, y).max_error < 1e-7
