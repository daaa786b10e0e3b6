"""Gradient checks to run from the command line: a saved model, or every building block.

:func:`check_model` compares back-propagation with finite differences (:func:`gradcheck`) for a
network on random probe samples of the right shape and kind — no data needed, since the check
is of the gradient code for that architecture, not of a fit. :func:`check_all` does it for small
networks covering every differentiable activation (as a hidden and as an output layer) and every
loss, a self-test of the installed chainrule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .gradcheck import GradcheckReport, gradcheck
from .layers import Dense
from .network import Network


def probe(net: Network, n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs (n, n_inputs) ~ N(0, 1) and targets the network's loss accepts."""
    n = _checks.positive_int(n, "samples")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, net.n_inputs))
    name, k = net.loss_fn.name, net.n_outputs
    if name == "cross_entropy":
        Y = rng.integers(0, k, n)
    elif name == "binary_cross_entropy":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    return X, Y


def check_model(
    net: Network, samples: int = 8, seed: int = 0, tolerance: float = 1e-6
) -> GradcheckReport:
    """:func:`gradcheck` of ``net`` (a float64 copy) on :func:`probe` samples."""
    X, Y = probe(net, samples, seed)
    return gradcheck(net, X, Y, tolerance=tolerance)


@dataclass
class CaseResult:
    """One network of :func:`check_all`: its description and its report."""

    name: str
    report: GradcheckReport


# (hidden activation, output activation, loss): every differentiable activation appears as a
# hidden layer, every loss with each output it accepts.
CASES = [
    ("identity", "identity", "squared_error"),
    ("sigmoid", "sigmoid", "squared_error"),
    ("tanh", "tanh", "mse"),
    ("relu", "identity", "mse"),
    ("leaky_relu", "softmax", "squared_error"),
    ("tanh", "softmax", "cross_entropy"),
    ("relu", "sigmoid", "binary_cross_entropy"),
    ("softmax", "identity", "squared_error"),
]


def check_all(seed: int = 0, tolerance: float = 1e-6) -> list[CaseResult]:
    """Gradient-check a 3-5-3 network (two hidden layers) for each of :data:`CASES`."""
    results = []
    for hidden, out, loss in CASES:
        net = Network(
            [Dense(3, 5, hidden), Dense(5, 4, hidden), Dense(4, 3, out)],
            loss=loss,
            dtype="float64",
            seed=seed,
            l2=0.01,
        )
        # Random biases too: with zero biases, a ReLU layer that is off for a sample hands the
        # next layer an excitation of exactly 0, right on a kink, where no derivative exists.
        rng = np.random.default_rng(seed)
        for layer in net.layers:
            layer.b = rng.normal(0.0, 0.5, layer.n_out)
        report = check_model(net, 6, seed, tolerance)
        results.append(CaseResult(f"3-5-4-3 {hidden} → {out}, {loss}, l2", report))
    return results
