"""Rosenblatt's perceptron (Mirabello): converges on separable data, never on XOR.

The perceptron rule w ← w + η (y − ŷ) x, b ← b + η (y − ŷ) changes the weights only on
mistakes. On linearly separable data it stops after finitely many (an epoch without a mistake);
on XOR (Minsky and Papert, 1969) no line exists, so it keeps cycling and every epoch has at
least one mistake.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConvergenceWarning
from ..perceptron import Perceptron

TITLE = "The perceptron rule: separable data vs XOR"


def separable_data(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]² labelled by the line x1 + 2 x2 = 0.2, none closer to it than 0.05."""
    rng = np.random.default_rng(seed)
    X = np.empty((0, 2))
    while len(X) < n:
        cand = rng.uniform(-1, 1, (n, 2))
        margin = np.abs(cand[:, 0] + 2 * cand[:, 1] - 0.2) / np.sqrt(5)
        X = np.r_[X, cand[margin > 0.05]]
    X = X[:n]
    return X, (X[:, 0] + 2 * X[:, 1] > 0.2).astype(int)


def run(demo) -> None:
    X, y = separable_data()
    p = Perceptron(2, max_epochs=100).fit(X, y)
    acc = float((p.predict(X)[:, 0] == y).mean())
    demo.say("Separable data (80 points, classes split by x1 + 2 x2 = 0.2 with a margin):")
    demo.say(f"  mistakes per epoch: {p.errors_}")
    demo.say(
        f"  converged: {p.converged_} after {len(p.errors_)} epochs; accuracy {acc:.0%}; "
        f"w = {np.round(p.W[:, 0], 3).tolist()}, b = {p.b[0]:.3g}"
    )
    Xx = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    yx = np.array([0, 1, 1, 0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        q = Perceptron(2, max_epochs=30).fit(Xx, yx)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    acc_x = float((q.predict(Xx)[:, 0] == yx).mean())
    demo.say("XOR (4 points):")
    demo.say(f"  mistakes per epoch: {q.errors_}")
    demo.say(
        f"  converged: {q.converged_} in {len(q.errors_)} epochs (ConvergenceWarning: {warned});"
        f" accuracy of the last weights {acc_x:.0%} — at most 3 of 4 points can be right"
    )
    demo.result.numbers.update(
        {
            "separable": {
                "converged": bool(p.converged_),
                "epochs": len(p.errors_),
                "errors": list(p.errors_),
                "accuracy": acc,
                "w": p.W[:, 0].tolist(),
                "b": float(p.b[0]),
            },
            "xor": {
                "converged": bool(q.converged_),
                "epochs": len(q.errors_),
                "errors": list(q.errors_),
                "min_errors": int(min(q.errors_)),
                "accuracy": acc_x,
                "warned": warned,
            },
        }
    )
    if demo.plots:
        _figure(demo, X, y, p, Xx, yx, q)


def _figure(demo, X, y, p, Xx, yx, q) -> None:
    from .. import plot

    fig, axes = plot.figure(14, 4.3, 1, 3)
    for ax, data, labels, model, title in (
        (axes[0], X, y, p, f"Separable: converged in {len(p.errors_)} epochs"),
        (axes[1], Xx, yx, q, f"XOR: still {q.errors_[-1]} mistakes after {len(q.errors_)} epochs"),
    ):
        plot.scatter_classes(ax, data, labels, ["y = 0", "y = 1"], s=40 if ax is axes[0] else 90)
        plot.line_2d(
            ax,
            model.W[:, 0],
            model.b[0],
            data,
            color="black",
            lw=1.5,
            label="w·x + b = 0 (last weights)",
        )
        ax.set_title(title)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        lo, hi = data.min(axis=0) - 0.5, data.max(axis=0) + 0.5
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    ax = axes[2]
    ax.plot(np.arange(1, len(p.errors_) + 1), p.errors_, "o-", label="separable data (80 points)")
    ax.plot(np.arange(1, len(q.errors_) + 1), q.errors_, "s-", label="XOR (4 points)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mistakes in the epoch")
    ax.set_title("The perceptron rule: mistakes per epoch")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Rosenblatt's perceptron: linearly separable classes only (Minsky-Papert)")
    demo.save(fig, "perceptron.png")
