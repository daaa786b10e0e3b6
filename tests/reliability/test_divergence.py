"""Divergence: learning rates that blow up stop training at the first non-finite epoch loss,
with a clear message, and leave the network at finite weights whose loss is finite."""

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule import _compiled

OPTIMIZERS = {
    "sgd": lambda: cr.SGD(50.0),
    "momentum": lambda: cr.SGD(20.0, momentum=0.9),
    "nesterov": lambda: cr.SGD(20.0, momentum=0.9, nesterov=True),
    "adam": lambda: cr.Adam(1e250),
}
NETS = {
    "regression": (lambda: [cr.Dense(3, 16, "relu"), cr.Dense(16, 2)], "mse"),
    "squared": (
        lambda: [cr.Dense(3, 8, "leaky_relu"), cr.Dense(8, 2, "identity")],
        "squared_error",
    ),
    "classifier": (lambda: [cr.Dense(3, 16, "relu"), cr.Dense(16, 3, "softmax")], "cross_entropy"),
}
CASES = list(itertools.product(OPTIMIZERS, NETS, [None, 7], ["float32", "float64"], [True, False]))


@pytest.mark.parametrize("opt, kind, batch, dtype, compiled", CASES)
def test_blow_up_stops_cleanly(monkeypatch, opt, kind, batch, dtype, compiled):
    monkeypatch.setattr(_compiled, "MAX_WORK", 10**9 if compiled else -1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * 30
    layers, loss = NETS[kind]
    Y = rng.integers(0, 3, 60) if loss == "cross_entropy" else X[:, :2] * 50
    net = cr.Network(layers(), loss=loss, dtype=dtype, seed=0)
    with pytest.raises(cr.TrainingDivergedError) as info:
        net.fit(X, Y, epochs=300, batch_size=batch, optimizer=OPTIMIZERS[opt]())
    message = str(info.value)
    assert "diverged at epoch" in message and "Lower the learning rate" in message
    history = info.value.history
    assert all(np.isfinite(history.loss))
    assert f"epoch {len(history.loss) + 1}:" in message  # stopped at the first bad epoch
    assert np.isfinite(net.theta).all()
    assert np.isfinite(net.loss(X, Y))
    assert np.isfinite(net.predict(X)).all()
