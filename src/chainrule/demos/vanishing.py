"""Vanishing gradients (Mirabello): a deep sigmoid network against a ReLU/He one.

Back-propagation multiplies, layer by layer, by W(ℓ)ᵀ and by the activation's slope; the
sigmoid's slope is at most ¼, so in a deep sigmoid network ‖dL/dW(ℓ)‖ shrinks by orders of
magnitude from the last layer to the first and the first layers barely move ("these are all
zero-point-somethings multiplied by each other"). ReLU units pass a slope of 1 where active, and
He initialisation keeps the signal's scale from layer to layer, so their gradients stay of
one size — at the price of units that can die (output 0 for every sample).

Two networks of 7 hidden layers of 16 units learn the two moons, from the same seed, by
full-batch gradient descent; a :class:`~chainrule.monitor.GradientMonitor` records the
per-layer gradient norms, the share of saturated sigmoid units and of dead ReLUs.
"""

from __future__ import annotations

import numpy as np

from ..datasets import moons, standardize
from ..layers import Dense
from ..monitor import GradientMonitor
from ..network import Network
from ..optimizers import SGD

TITLE = "Vanishing gradients: deep sigmoid vs ReLU/He"

DEPTH, WIDTH, EPOCHS, TARGET = 8, 16, 1000, 0.95
NETS = {  # name: (hidden activation, learning rate)
    "sigmoid (Xavier)": ("sigmoid", 1.0),
    "ReLU (He)": ("relu", 0.1),
}


def deep_network(activation: str, seed: int = 1) -> Network:
    """2 → 7 hidden layers of 16 → 1 sigmoid output, binary cross-entropy (default inits)."""
    layers = [Dense(2, WIDTH, activation)]
    layers += [Dense(WIDTH, WIDTH, activation) for _ in range(DEPTH - 2)]
    layers.append(Dense(WIDTH, 1, "sigmoid"))
    return Network(layers, loss="binary_cross_entropy", seed=seed)


def run(demo) -> None:
    X, y = moons(200, noise=0.1, seed=0)
    X = standardize(X)[0]
    results = {}
    demo.say(
        f"two moons (200 points); {DEPTH} layers (7 hidden of {WIDTH}); full-batch gradient "
        f"descent, {EPOCHS} epochs"
    )
    for name, (act, lr) in NETS.items():
        net = deep_network(act)
        monitor = GradientMonitor(X, y, every=10)
        history = net.fit(X, y, epochs=EPOCHS, optimizer=SGD(lr), callbacks=[monitor])
        acc = np.asarray(history.accuracy)
        reached = int(np.argmax(acc >= TARGET)) + 1 if (acc >= TARGET).any() else None
        norms0 = monitor.grad_norm[0]
        # The slopes g'(e) back-propagation multiplies by, at the starting weights.
        start = deep_network(act).trace(X[:64], y[:64])
        slopes = [float(lt["g_prime"].mean()) for lt in start.layers[: DEPTH - 1]]
        hidden = slice(0, DEPTH - 1)
        sat = [v for v in monitor.saturated[-1][hidden] if v is not None]
        dead0 = [v for v in monitor.dead[0][hidden] if v is not None]
        dead1 = [v for v in monitor.dead[-1][hidden] if v is not None]
        results[name] = {
            "lr": lr,
            "grad_norm_start": norms0,
            "mean_slope_start": slopes,
            "first_over_last": norms0[0] / norms0[-1],
            "orders_of_magnitude": float(np.log10(norms0[-1] / norms0[0])),
            "saturated_end": float(np.mean(sat)) if sat else None,
            "dead_start": float(np.mean(dead0)) if dead0 else None,
            "dead_end": float(np.mean(dead1)) if dead1 else None,
            "final_accuracy": float(acc[-1]),
            "epochs_to_target": reached,
            "loss": [float(v) for v in history.loss],
            "monitor": monitor,
        }
        r = results[name]
        demo.say()
        demo.say(f"{name}, learning rate {lr:g}:")
        demo.say("  ‖dL/dW(ℓ)‖ at the start, layer 1 → 8: " + "  ".join(f"{v:.1e}" for v in norms0))
        demo.say(
            f"  first layer / last layer = {r['first_over_last']:.1e} "
            f"({r['orders_of_magnitude']:.1f} orders of magnitude)"
        )
        demo.say(
            "  mean slope g'(e) of the hidden layers at the start (64 samples): "
            + "  ".join(f"{v:.2f}" for v in slopes)
        )
        if r["saturated_end"] is not None:
            demo.say(f"  saturated hidden units at the end: {r['saturated_end']:.1%}")
            if act == "sigmoid" and r["saturated_end"] < 0.01:
                demo.say(
                    "  (the gradient shrinks without any saturation: each layer multiplies it by "
                    "σ'(e) ≤ ¼ and by weights of size ~1/√16)"
                )
        if r["dead_start"] is not None:
            demo.say(
                f"  dead ReLUs (0 for every sample): {r['dead_start']:.1%} at the start, "
                f"{r['dead_end']:.1%} at the end"
            )
        when = f"epoch {reached}" if reached else f"not within {EPOCHS} epochs"
        demo.say(f"  {TARGET:.0%} training accuracy: {when}; final accuracy {acc[-1]:.1%}")
    demo.result.numbers.update(
        {name: {k: v for k, v in r.items() if k != "monitor"} for name, r in results.items()}
    )
    if demo.plots:
        _figures(demo, results)


def _figures(demo, results) -> None:
    from .. import plot

    fig, (a0, a1) = plot.figure(12, 4.4, 1, 2)
    layers = np.arange(1, DEPTH + 1)
    for i, (name, r) in enumerate(results.items()):
        color = plot.CLASS_COLORS[i]
        a0.semilogy(layers, r["grad_norm_start"], "o-", color=color, label=name)
        a1.plot(np.arange(1, EPOCHS + 1), r["loss"], color=color, label=name)
        if r["epochs_to_target"]:
            a1.axvline(r["epochs_to_target"], color=color, ls=":", lw=1)
            a1.text(
                r["epochs_to_target"],
                0.68,
                f" {TARGET:.0%} right\n at epoch {r['epochs_to_target']}",
                color=color,
                fontsize=8,
                va="top",
            )
    a0.set_xlabel("layer ℓ (1 = first hidden, 8 = output)")
    a0.set_ylabel("‖dL/dW(ℓ)‖ at the start (log scale)")
    a0.set_title("Gradient norm per layer, before training")
    a0.grid(True, which="both", alpha=0.3)
    a0.legend(fontsize=8)
    a1.set_xscale("log")
    a1.set_xlabel("epoch (log scale)")
    a1.set_ylabel("training loss (binary cross-entropy)")
    a1.set_title("Training: full-batch gradient descent")
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=8)
    fig.suptitle(f"Vanishing gradients: {DEPTH}-layer networks on the two moons")
    demo.save(fig, "vanishing.png")
    for name, r in results.items():
        slug = "sigmoid" if "sigmoid" in name else "relu"
        fig = r["monitor"].plot(title=f"GradientMonitor during training: {name}")
        demo.save(fig, f"vanishing-monitor-{slug}.png")
