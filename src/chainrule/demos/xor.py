"""A multi-layer network learns XOR by back-propagation (Mirabello: the MLP of 1986).

Where one threshold unit cannot separate XOR, a 2-4-1 network with tanh hidden units and a
sigmoid output, trained by gradient descent with momentum on binary cross-entropy, learns it:
the loss falls, the four points are classified right, and the boundary bends around them.
"""

from __future__ import annotations

from ..datasets import xor
from ..layers import Dense
from ..network import Network
from ..optimizers import SGD

TITLE = "A 2-4-1 network learns XOR"


def run(demo) -> None:
    X, y = xor()
    net = Network(
        [Dense(2, 4, "tanh"), Dense(4, 1, "sigmoid")], loss="binary_cross_entropy", seed=0
    )
    net = net.astype("float64")
    before = net.predict(X)[:, 0]
    history = net.fit(X, y, epochs=500, optimizer=SGD(lr=0.5, momentum=0.9))
    after = net.predict(X)[:, 0]
    acc = history.accuracy
    solved_at = next((k + 1 for k, a in enumerate(acc) if a == 1.0), None)
    demo.say("2-4-1 network, tanh hidden units, sigmoid output, binary cross-entropy,")
    demo.say("full-batch gradient descent (lr 0.5, momentum 0.9), 500 epochs")
    demo.say()
    demo.say(" x1 x2 | y | ŷ before | ŷ after")
    for (x1, x2), t, b, a in zip(X.astype(int), y, before, after):
        demo.say(f"  {x1}  {x2} | {t} |   {b:.3f}  |  {a:.3f}")
    demo.say()
    final = net.loss(X, y)
    demo.say(f"loss: {history.loss[0]:.4f} at the start, {final:.4g} after training")
    demo.say(f"all four points right from epoch {solved_at}")
    demo.result.numbers.update(
        {
            "before": before.tolist(),
            "after": after.tolist(),
            "classes": net.predict_classes(X).tolist(),
            "loss_start": float(history.loss[0]),
            "loss_end": float(final),
            "solved_at_epoch": solved_at,
            "loss": [float(v) for v in history.loss],
        }
    )
    if demo.plots:
        from .. import plot

        fig, (a0, a1) = plot.figure(11, 4.4, 1, 2)
        plot.decision_boundary(
            a0,
            net,
            X,
            y,
            names=["XOR = 0", "XOR = 1"],
            margin=0.35,
            title="Learned boundary (shading: ŷ = P(y = 1 | x))",
        )
        plot.curves(
            a1,
            {"training loss (binary cross-entropy)": history.loss},
            logy=True,
            title="Loss per epoch (log scale)",
        )
        if solved_at is not None:
            a1.axvline(solved_at, color="gray", ls=":", lw=1)
            a1.text(
                solved_at,
                history.loss[0],
                f" 100% right from epoch {solved_at}",
                fontsize=8,
                va="top",
            )
        fig.suptitle("XOR learned by back-propagation: 2-4-1, tanh + sigmoid")
        demo.save(fig, "xor.png")
