"""McCulloch-Pitts units (Hasegawa-Johnson, lecture 10): logic by hand-set weights.

OR = u(x1 + x2 - 0.5) and AND = u(x1 + x2 - 1.5) are single threshold units; XOR is not (no
line separates its classes — checked here by trying a grid of weights), but two layers compute
it: h1 = u(0.5 - x1 - x2), h2 = u(x1 + x2 - 1.5), ŷ = u(0.5 - h1 - h2). The hidden layer maps
the four points to three corners of the (h1, h2) square, where one line does separate them.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..layers import Dense
from ..network import Network

TITLE = "McCulloch-Pitts units: OR, AND and the two-layer XOR"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def unit(w: list[float], b: float) -> Network:
    """One threshold unit u(w·x + b)."""
    return Network([Dense(2, 1, "step", weights=[[w[0]], [w[1]]], bias=[b])])


def xor_network() -> Network:
    """The lecture's two-layer XOR."""
    hidden = Dense(2, 2, "step", weights=[[-1.0, 1.0], [-1.0, 1.0]], bias=[0.5, -1.5])
    output = Dense(2, 1, "step", weights=[[-1.0], [-1.0]], bias=[0.5])
    return Network([hidden, output])


def single_unit_solutions(target: list[int]) -> int:
    """How many units u(w1 x1 + w2 x2 + b), w and b on a grid in [-2, 2], compute ``target``."""
    grid = np.arange(-2.0, 2.01, 0.25)
    W = np.array(list(itertools.product(grid, grid)))  # (m, 2)
    e = X @ W.T  # (4, m)
    hits = 0
    for b in grid:
        out = (e + b > 0).astype(int)  # (4, m)
        hits += int((out == np.asarray(target)[:, None]).all(axis=0).sum())
    return hits


def run(demo) -> None:
    or_out = unit([1, 1], -0.5).predict(X)[:, 0].astype(int).tolist()
    and_out = unit([1, 1], -1.5).predict(X)[:, 0].astype(int).tolist()
    net = xor_network()
    hidden = Network([Dense(2, 2, "step", weights=net.layers[0].W, bias=net.layers[0].b)])
    h = hidden.predict(X).astype(int)
    xor_out = net.predict(X)[:, 0].astype(int).tolist()

    demo.say("OR = u(x1 + x2 - 0.5), AND = u(x1 + x2 - 1.5)")
    demo.say("XOR: h1 = u(0.5 - x1 - x2), h2 = u(x1 + x2 - 1.5), ŷ = u(0.5 - h1 - h2)")
    demo.say()
    demo.say(" x1 x2 | OR AND | h1 h2 | XOR")
    demo.say("-------+--------+-------+----")
    for (x1, x2), o, a, (h1, h2), x in zip(X.astype(int), or_out, and_out, h, xor_out):
        demo.say(f"  {x1}  {x2} |  {o}   {a} |  {h1}  {h2} |  {x}")
    solutions = {
        name: single_unit_solutions(target)
        for name, target in (("OR", [0, 1, 1, 1]), ("AND", [0, 0, 0, 1]), ("XOR", [0, 1, 1, 0]))
    }
    demo.say()
    demo.say("Single units u(w1 x1 + w2 x2 + b) with w1, w2, b on a grid over [-2, 2] (17³ tried):")
    for name, count in solutions.items():
        demo.say(f"  {name}: {count} of them compute it")
    demo.say("No single unit computes XOR: its classes are not linearly separable.")
    demo.result.numbers.update(
        {
            "inputs": X.astype(int).tolist(),
            "OR": or_out,
            "AND": and_out,
            "XOR": xor_out,
            "hidden": h.tolist(),
            "single_unit_solutions": solutions,
        }
    )
    if demo.plots:
        _figure(demo, or_out, and_out, xor_out, h)


def _figure(demo, or_out, and_out, xor_out, h) -> None:
    from .. import plot

    fig, axes = plot.figure(16, 4.4, 1, 4)
    for ax, out, b, label in ((axes[0], or_out, -0.5, "OR"), (axes[1], and_out, -1.5, "AND")):
        plot.scatter_classes(ax, X, np.array(out), [f"{label} = 0", f"{label} = 1"], s=90)
        plot.line_2d(ax, [1, 1], b, X, color="black", lw=1.5, label=f"x1 + x2 - {-b:g} = 0")
        ax.set_title(f"{label} = u(x1 + x2 - {-b:g}): one unit, one line")
    ax = axes[2]
    plot.scatter_classes(ax, X, np.array(xor_out), ["XOR = 0", "XOR = 1"], s=90)
    plot.line_2d(
        ax, [-1, -1], 0.5, X, color="#2471a3", ls="--", lw=1.3, label="h1: 0.5 - x1 - x2 = 0"
    )
    plot.line_2d(
        ax, [1, 1], -1.5, X, color="#8e44ad", ls="--", lw=1.3, label="h2: x1 + x2 - 1.5 = 0"
    )
    ax.set_title("XOR in the input plane: no one line, two hidden units")
    ax = axes[3]
    plot.scatter_classes(ax, h.astype(float), np.array(xor_out), ["XOR = 0", "XOR = 1"], s=90)
    plot.line_2d(
        ax, [-1, -1], 0.5, h.astype(float), color="black", lw=1.5, label="ŷ: 0.5 - h1 - h2 = 0"
    )
    corners: dict[tuple[int, int], list[str]] = {}
    for (x1, x2), (h1, h2) in zip(X.astype(int), h):
        corners.setdefault((int(h1), int(h2)), []).append(f"({x1}, {x2})")
    for (h1, h2), xs in corners.items():
        ax.annotate(
            "x = " + ", ".join(xs), (h1, h2), textcoords="offset points", xytext=(6, 6), fontsize=8
        )
    ax.set_title("XOR in the hidden space (h1, h2): one line")
    labels = [("$x_1$", "$x_2$")] * 3 + [("$h_1$", "$h_2$")]
    for ax, (xl, yl) in zip(axes, labels):
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_xlim(-0.4, 1.6)
        ax.set_ylim(-0.4, 1.6)
        ax.set_aspect("equal")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper right")
        ax.title.set_fontsize(9.5)
    fig.suptitle("McCulloch-Pitts threshold units (step activation u)")
    demo.save(fig, "logic.png")
