"""The worked example of Mirabello's slides, as a full trace; then a layer in front of it.

Part 1 — one sigmoid neuron, no bias: x = (0.50, 0.51), w = (0.35, 0.40), target y = 0.10,
J = ½ (y − ŷ)², η = 1. Forward: Σ = w·x ≈ 0.379, ŷ = σ(Σ) ≈ 0.594, J ≈ 0.122. Backward, the
three chain-rule factors of ∂J/∂w1 = ∂J/∂ŷ · ∂ŷ/∂Σ · ∂Σ/∂w1: ŷ − y ≈ 0.49, ŷ(1 − ŷ) ≈ 0.24 and
x1 = 0.50 (the slide text writes 0.51, x2, by a slip; the rounded results are the same). Update:
w' ≈ (0.290, 0.339); the new output ≈ 0.579 and the error falls to ≈ 0.115.

Part 2 — the slide's closing question, "what if I had another layer before this one?", answered
with the step-by-step example the slides point to (Mazur, 2015): a 2-2-2 sigmoid network,
x = (0.05, 0.10), targets (0.01, 0.99), η = 0.5. The output layer's δ travels back through its
weights to the hidden layer: δ(1) = (δ(2)·W(2)ᵀ) ⊙ h(1)(1 − h(1)). Mazur's published numbers:
E = 0.298371109, w5' = 0.35891648, w1' = 0.149780716, and after the step (weights only, biases
kept as Mazur keeps them) E = 0.291027924.
"""

from __future__ import annotations

from ..layers import Dense
from ..network import Network
from ..optimizers import SGD

TITLE = "The slides' worked example, step by step, then a layer in front of it"


def slide_network() -> Network:
    """Mirabello's neuron: two inputs, weights (0.35, 0.40), no bias, sigmoid, ½ squared error."""
    return Network(
        [Dense(2, 1, "sigmoid", weights=[[0.35], [0.40]], bias=False)],
        loss="squared_error",
        dtype="float64",
    )


def mazur_network() -> Network:
    """Mazur's 2-2-2 sigmoid network (w1..w8 and the biases of his example)."""
    hidden = Dense(2, 2, "sigmoid", weights=[[0.15, 0.25], [0.20, 0.30]], bias=[0.35, 0.35])
    output = Dense(2, 2, "sigmoid", weights=[[0.40, 0.50], [0.45, 0.55]], bias=[0.60, 0.60])
    return Network([hidden, output], loss="squared_error", dtype="float64")


def run(demo) -> None:
    numbers = demo.result.numbers
    # ---------------------------------------------------------------- part 1: the slide
    net = slide_network()
    x, y = [0.50, 0.51], [0.10]
    t = net.trace(x, y, lr=1.0)
    a = t.layers[0].arrays
    sigma, y_hat = float(a["e"][0, 0]), float(a["h"][0, 0])
    dj_dy, dy_ds = float(a["dL_dh"][0, 0]), float(a["g_prime"][0, 0])
    grad = a["dL_dW"][:, 0]
    w_new = a["W_new"][:, 0]
    stepped = net.copy()
    stepped.fit([x], [y], epochs=1, optimizer=SGD(lr=1.0))  # the same step, through fit
    new_y_hat = float(stepped.predict([x])[0, 0])
    new_j = float(stepped.loss([x], [y]))
    demo.say("Part 1: Mirabello's neuron — x = (0.50, 0.51), w = (0.35, 0.40), y = 0.10, η = 1")
    demo.say()
    demo.say(str(t))
    demo.say()
    demo.say("The slide's numbers, recomputed:")
    demo.say(f"  1. forward   Σ = 0.35·0.50 + 0.40·0.51 = {sigma:.4f}   ŷ = σ(Σ) = {y_hat:.4f}")
    demo.say(f"  2. loss      J = ½(y − ŷ)² = {t.loss:.4f}")
    demo.say(f"  3. backward  ∂J/∂ŷ = ŷ − y = {dj_dy:.4f}   ∂ŷ/∂Σ = ŷ(1 − ŷ) = {dy_ds:.4f}")
    demo.say("               ∂Σ/∂w = x = (0.50, 0.51)")
    demo.say(
        f"               ∂J/∂w1 = {dj_dy:.4f}·{dy_ds:.4f}·0.50 = {grad[0]:.4f}   "
        f"∂J/∂w2 = {dj_dy:.4f}·{dy_ds:.4f}·0.51 = {grad[1]:.4f}"
    )
    demo.say(
        f"  4. update    w1' = 0.35 − {grad[0]:.4f} = {w_new[0]:.4f}   "
        f"w2' = 0.40 − {grad[1]:.4f} = {w_new[1]:.4f}"
    )
    demo.say(
        f"  afterwards   ŷ = {new_y_hat:.4f}, J = {new_j:.4f} (was {t.loss:.4f}): the error fell"
    )
    fit_gap = float(abs(stepped.layers[0].W[:, 0] - w_new).max())
    demo.say(f"  one step of net.fit gives the same weights (largest difference {fit_gap:.1e})")
    numbers.update(
        {
            "sigma": sigma,
            "y_hat": y_hat,
            "J": float(t.loss),
            "dJ_dyhat": dj_dy,
            "dyhat_dsigma": dy_ds,
            "dsigma_dw": [0.50, 0.51],
            "grad": grad.tolist(),
            "w_new": w_new.tolist(),
            "new_y_hat": new_y_hat,
            "new_J": new_j,
            "fit_gap": fit_gap,
        }
    )
    # ---------------------------------------------------------------- part 2: one more layer
    deep = mazur_network()
    x2, y2 = [0.05, 0.10], [0.01, 0.99]
    t2 = deep.trace(x2, y2, lr=0.5)
    out, hid = t2.layers[1].arrays, t2.layers[0].arrays
    weights_only = deep.copy()
    weights_only.layers[0].W = hid["W_new"]
    weights_only.layers[1].W = out["W_new"]
    e_after_weights = float(weights_only.loss([x2], [y2]))
    both = deep.copy()
    both.fit([x2], [y2], epochs=1, optimizer=SGD(lr=0.5))
    e_after_fit = float(both.loss([x2], [y2]))
    demo.say()
    demo.say("Part 2: a layer in front — Mazur's 2-2-2 sigmoid network, x = (0.05, 0.10),")
    demo.say("targets (0.01, 0.99), η = 0.5; weights w1..w4 into the hidden layer, w5..w8 out")
    demo.say()
    demo.say(str(t2))
    demo.say()
    w5, w1 = float(out["W_new"][0, 0]), float(hid["W_new"][0, 0])
    demo.say(f"  E before the step       {t2.loss:.9f}   (Mazur: 0.298371109)")
    demo.say(f"  ∂E/∂w5 = δ(2)_1·h(1)_1  {out['dL_dW'][0, 0]:.9f}   (Mazur: 0.082167041)")
    demo.say(f"  w5' = 0.40 − 0.5·∂E/∂w5 {w5:.8f}    (Mazur: 0.35891648)")
    demo.say(f"  w1' (a layer further)   {w1:.9f}   (Mazur: 0.149780716)")
    demo.say(
        f"  E after, biases kept    {e_after_weights:.9f}   (Mazur: 0.291027924, from values"
        " rounded to 9 digits on the way)"
    )
    demo.say(f"  E after, biases updated too (net.fit) {e_after_fit:.9f}")
    numbers.update(
        {
            "mazur_E": float(t2.loss),
            "mazur_dE_dw5": float(out["dL_dW"][0, 0]),
            "mazur_W2_new": out["W_new"].tolist(),
            "mazur_W1_new": hid["W_new"].tolist(),
            "mazur_E_after_weights": e_after_weights,
            "mazur_E_after_fit": e_after_fit,
        }
    )
    if demo.plots:
        demo.write_text("worked-example-trace.md", t.to_markdown() + "\n" + t2.to_markdown())
        g = t.graph()
        demo.save(
            g.draw(
                title="The slide's neuron after one backward pass (η = 1): values and gradients"
            ),
            "worked-example-graph.png",
        )
        from ..graph import ComputationGraph

        forward_only = ComputationGraph(net).forward(x)
        demo.save(
            forward_only.draw(
                title="The same neuron after the forward pass only: no gradients yet"
            ),
            "worked-example-forward.png",
        )
        demo.save(
            t2.graph().draw(title="A layer in front (Mazur's 2-2-2 network): values and gradients"),
            "worked-example-two-layers.png",
        )
