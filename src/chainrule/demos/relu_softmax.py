"""Hasegawa-Johnson's example: scalar x, a ReLU layer, softmax over Y ∈ {0, 1}.

The input is h(0) = (x, 1) — the constant 1 carries the bias, as on the slide — the hidden
layer is h(1) = ReLU(h(0)·W(1)) and the output h(2) = softmax(h(1)·W(2)) = (P(Y=0|x), P(Y=1|x)).
With L = −ln P(Y = y | x), the lecture's gradient at the output is

    dL/de(2)_j = softmax(e(2))_j − [j = y]        (softmax − onehot)

which this demo checks against central differences of L in each logit, and then, through
back-propagation, every weight against :func:`chainrule.gradcheck`. Finally the network is
trained on points labelled Y = 1 for |x| < 1: a bump that a ReLU layer can build from kinks.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import gradcheck
from ..layers import Dense
from ..network import Network
from ..optimizers import Adam

TITLE = "Scalar x, ReLU layer, softmax: the gradient softmax − onehot"


def network(seed: int | None = None, hand: bool = True) -> Network:
    """(x, 1) → 3 ReLU units → softmax over 2 classes, no other bias (the constant input is it).

    ``hand=True`` sets h(1) = (ReLU(x), ReLU(-x), ReLU(1)) and logits e0 = -e1 with
    e1 = 1 - |x|, so P(Y = 1 | x) > ½ exactly for |x| < 1; otherwise the weights are drawn.
    """
    if hand:
        W1 = [[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]  # rows: x, 1
        W2 = [[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]  # columns: Y = 0, Y = 1
        layers = [
            Dense(2, 3, "relu", weights=W1, bias=False),
            Dense(3, 2, "softmax", weights=W2, bias=False),
        ]
    else:
        layers = [Dense(2, 3, "relu", bias=False), Dense(3, 2, "softmax", bias=False)]
    return Network(layers, loss="cross_entropy", dtype="float64", seed=seed)


def with_one(x: np.ndarray) -> np.ndarray:
    """Scalars x (n,) as the inputs (x, 1), shape (n, 2)."""
    x = np.asarray(x, dtype=np.float64)
    return np.c_[x, np.ones_like(x)]


def run(demo) -> None:
    net = network()
    x0, y0 = 0.8, 1
    t = net.trace(with_one([x0])[0], y0, lr=0.1)
    logits = t.layers[1].arrays["e"][0]
    probs = t.layers[1].arrays["h"][0]
    delta = t.layers[1].arrays["delta"][0]
    onehot = np.eye(2)[y0]

    def loss_of(e: np.ndarray) -> float:
        m = e.max()
        return float(m + np.log(np.exp(e - m).sum()) - e[y0])

    eps = 1e-6
    numeric = np.array(
        [
            (loss_of(logits + eps * np.eye(2)[j]) - loss_of(logits - eps * np.eye(2)[j]))
            / (2 * eps)
            for j in range(2)
        ]
    )
    report = gradcheck(net, with_one([x0, -1.2, 0.3, 2.0]), [1, 0, 1, 0])
    demo.say(f"x = {x0}, input h(0) = (x, 1), target y = {y0}")
    demo.say(f"  hidden h(1) = ReLU(h(0)·W(1)) = {np.round(t.layers[0].arrays['h'][0], 4)}")
    demo.say(f"  logits e(2) = {np.round(logits, 4)}, softmax = {np.round(probs, 4)}")
    demo.say(f"  loss −ln P(Y = {y0} | x) = {t.loss:.6f}")
    demo.say(f"  back-propagation: δ(2) = softmax − onehot = {np.round(delta, 6)}")
    demo.say(f"  central differences of L in e(2):           {np.round(numeric, 6)}")
    gap = float(np.abs(delta - numeric).max())
    demo.say(f"  largest difference {gap:.2e}")
    demo.say(
        f"every weight, back-propagation vs Richardson finite differences: max relative "
        f"error {report.max_error:.1e} ({'passed' if report.passed else 'FAILED'})"
    )

    # Train: Y = 1 inside |x| < 1, from the hand-set weights and from 8 random starts.
    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, 200)
    ys = (np.abs(xs) < 1).astype(int)
    inputs = with_one(xs)
    trained = network()
    history = trained.fit(inputs, ys, epochs=400, optimizer=Adam(0.05))
    acc = trained.accuracy(inputs, ys)
    demo.say(
        f"trained on 200 points with Y = 1 for |x| < 1 (Adam 0.05, 400 epochs) from the weights "
        f"above: accuracy {acc:.1%}, loss {history.loss[0]:.3f} → {trained.loss(inputs, ys):.3f}"
    )
    restarts, dead = [], []
    for seed in range(8):
        other = network(seed=seed, hand=False)
        other.fit(inputs, ys, epochs=400, optimizer=Adam(0.05))
        restarts.append(float(other.accuracy(inputs, ys)))
        hidden = np.maximum(inputs @ other.layers[0].W, 0)
        dead.append(int((hidden <= 0).all(axis=0).sum()))  # units off for every point
    stuck = [i for i, a in enumerate(restarts) if a < 0.9]
    demo.say(f"from 8 random starts: accuracies {[round(a, 3) for a in restarts]}")
    demo.say(f"  dead ReLUs (off for every point) after training: {dead}")
    demo.say(
        f"  {len(stuck)} of 8 stall near {min(restarts):.0%}, the share of Y = 0, each with a "
        "dead unit: off for every point, it passes no gradient and cannot come back"
    )
    demo.result.numbers.update(
        {
            "x": x0,
            "y": y0,
            "probs": probs.tolist(),
            "loss": float(t.loss),
            "delta": delta.tolist(),
            "softmax_minus_onehot": (probs - onehot).tolist(),
            "numeric": numeric.tolist(),
            "max_gap": gap,
            "gradcheck_max_error": float(report.max_error),
            "trained_accuracy": float(acc),
            "restart_accuracies": restarts,
            "restart_dead_units": dead,
            "share_of_class_0": float(np.mean(ys == 0)),
        }
    )
    if demo.plots:
        _figure(demo, net, trained, xs, ys)


def _figure(demo, net, trained, xs, ys) -> None:
    from .. import plot

    grid = np.linspace(-3, 3, 601)
    fig, (a0, a1, a2) = plot.figure(15, 4.3, 1, 3)
    for ax, model, title in ((a0, net, "Hand-set weights"), (a1, trained, "After training")):
        hidden = Network(
            [Dense(2, 3, "relu", weights=model.layers[0].W, bias=False)], dtype="float64"
        ).predict(with_one(grid))
        for j in range(3):
            ax.plot(
                grid,
                hidden[:, j],
                lw=1.2,
                ls="--",
                label=f"$h^{{(1)}}_{j + 1}$ = ReLU unit {j + 1}",
            )
        ax.plot(
            grid,
            model.predict(with_one(grid))[:, 1],
            color="black",
            lw=2,
            label="P(Y = 1 | x) = softmax output",
        )
        ax.set_xlabel("x")
        ax.set_ylabel("activation / probability")
        ax.set_title(f"{title}: hidden ReLUs and P(Y = 1 | x)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left")
    a1.scatter(
        xs,
        ys,
        s=8,
        c=[plot.CLASS_COLORS[int(v)] for v in ys],
        zorder=3,
        label="training points (y)",
    )
    a1.legend(fontsize=7.5, loc="upper left")
    a1.set_ylim(-0.1, 3.2)
    a0.set_ylim(-0.1, 3.2)
    e = np.linspace(-3, 3, 121)
    probs = np.exp(e) / (np.exp(e) + 1.0)  # softmax over logits (e, 0)
    a2.plot(e, probs - 1, label="dL/de₁ for y = 1: softmax₁ − 1")
    a2.plot(e, probs, label="dL/de₁ for y = 0: softmax₁ − 0")
    a2.axhline(0, color="gray", lw=0.8)
    a2.set_xlabel("logit difference e₁ − e₀")
    a2.set_ylabel("dL/de₁")
    a2.set_title("The output gradient softmax − onehot")
    a2.grid(True, alpha=0.3)
    a2.legend(fontsize=8)
    fig.suptitle("Scalar x with a constant-1 input, a ReLU layer and softmax over Y ∈ {0, 1}")
    demo.save(fig, "relu-softmax.png")
