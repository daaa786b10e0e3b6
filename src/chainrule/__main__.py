"""``python -m chainrule``: train a small network on a bundled 2-D dataset and report it."""

from __future__ import annotations

import sys

import chainrule as cr


def main() -> int:
    X, y = cr.datasets.spiral(600, noise=0.2, seed=0, classes=3)
    X, _, _ = cr.datasets.standardize(X)
    net = cr.Network(
        [cr.Dense(2, 32, "tanh"), cr.Dense(32, 32, "tanh"), cr.Dense(32, 3, "softmax")],
        loss="cross_entropy",
        seed=0,
    )
    print(net.summary())
    history = net.fit(
        X, y, epochs=300, batch_size=32, optimizer=cr.Adam(0.01), validation_split=0.2
    )
    for epoch in range(0, history.epochs, 50):
        val_loss, val_acc = history.val_loss[epoch], history.val_accuracy[epoch]
        print(
            f"epoch {epoch + 1:4d}  loss {history.loss[epoch]:.4f}  "
            f"val_loss {val_loss:.4f}  val_accuracy {val_acc:.3f}"
        )
    print(f"final validation accuracy on the 3-class spiral: {history.val_accuracy[-1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
