"""Two-dimensional classification (ConvNetJS classify2d, TensorFlow Playground).

Five data sets — circle, XOR, Gaussians, spiral, moons — each with an architecture chosen for
it, trained with Adam on mini-batches; the figure shades each plane by the network's output and
draws the decision boundary over the points. The Gaussians need no hidden layer at all (a line
separates them); the spiral needs two.
"""

from __future__ import annotations

from .. import datasets
from ..layers import Dense
from ..network import Network
from ..optimizers import Adam

TITLE = "Decision boundaries on circle, XOR, Gaussians, spiral and moons"

#: name: (data generator of a seed, hidden layers, activation, epochs); seed 0 trains, 1 tests
SETS = {
    "circle": (lambda seed: datasets.circle(200, noise=0.25, seed=seed), [8], "tanh", 200),
    "xor": (lambda seed: datasets.xor_2d(200, noise=0.25, seed=seed), [8], "tanh", 200),
    "gaussians": (lambda seed: datasets.gaussians(200, noise=0.0, seed=seed), [], "tanh", 100),
    "spiral": (lambda seed: datasets.spiral(300, noise=0.1, seed=seed), [16, 16], "tanh", 400),
    "moons": (lambda seed: datasets.moons(200, noise=0.1, seed=seed), [8], "relu", 300),
}


def network(hidden: list[int], activation: str) -> Network:
    """2 → hidden layers → 1 sigmoid unit, binary cross-entropy."""
    sizes = [2, *hidden]
    layers = [Dense(a, b, activation) for a, b in zip(sizes, sizes[1:])]
    layers.append(Dense(sizes[-1], 1, "sigmoid"))
    return Network(layers, loss="binary_cross_entropy", seed=0)


def run(demo) -> None:
    results = {}
    demo.say("  data set   network            epochs  training accuracy  test accuracy")
    for name, (make, hidden, act, epochs) in SETS.items():
        X, y = make(0)
        Xt, yt = make(1)  # a fresh sample from the same distribution
        Xs, mean, scale = datasets.standardize(X)
        net = network(hidden, act)
        history = net.fit(Xs, y, epochs=epochs, batch_size=16, optimizer=Adam(0.01))
        acc = net.accuracy(Xs, y)
        test = net.accuracy((Xt - mean) / scale, yt)
        arch = "-".join(map(str, [2, *hidden, 1])) + (f" {act}" if hidden else " (no hidden)")
        demo.say(f"  {name:9s}  {arch:17s}  {epochs:6d}  {acc:17.1%}  {test:13.1%}")
        results[name] = {
            "architecture": arch,
            "epochs": epochs,
            "accuracy": float(acc),
            "test_accuracy": float(test),
            "loss": [float(v) for v in history.loss],
        }
        results[name]["_plot"] = (X, y, net, mean, scale)
    demo.result.numbers.update(
        {k: {kk: vv for kk, vv in r.items() if kk != "_plot"} for k, r in results.items()}
    )
    if demo.plots:
        _figure(demo, results)


def _figure(demo, results) -> None:
    from .. import plot

    fig, axes = plot.figure(16, 9.0, 2, 3)
    for ax, (name, r) in zip(axes.ravel(), results.items()):
        X, y, net, mean, scale = r["_plot"]
        plot.decision_boundary(
            ax,
            net,
            X,
            y,
            features=lambda P, m=mean, s=scale: (P - m) / s,
            names=["class 0", "class 1"],
            margin=0.05,
            title=f"{name}: {r['architecture']}; train {r['accuracy']:.1%}, "
            f"test {r['test_accuracy']:.1%}",
        )
    ax = axes.ravel()[-1]
    plot.curves(
        ax,
        {name: r["loss"] for name, r in results.items()},
        logy=True,
        ylabel="training loss (binary cross-entropy)",
        title="Training loss per epoch (Adam 0.01, batches of 16)",
    )
    fig.suptitle("classify2d: decision boundaries of small networks")
    demo.save(fig, "classify2d.png")
