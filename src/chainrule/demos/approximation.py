"""ReLU networks approximate functions (Shen, MIT 6.390): piecewise-linear fits of growing width.

A network x → w ReLU units → identity output is a piecewise-linear function of x with at most w
kinks, one per unit (where its excitation crosses 0). Two ways to see that width buys accuracy
on f(x) = sin(2x) over [−3, 3]:

* *trained*: networks of width 1, 2, 4, …, 32 fitted by Adam to 200 samples, their kinks
  starting spread over the interval (biases b_j = −w_j k_j with k_j uniform in [−3, 3]: with
  the usual zero biases every kink would start at x = 0);
* *built by hand*: the network whose kinks sit at w + 1 equally spaced knots and whose output
  weights are the changes of slope, f̂(x) = f(x₀) + Σ_k c_k ReLU(x − x_k), reproduces the
  linear interpolant exactly; its error falls like 1/w² (halving the spacing quarters it).
"""

from __future__ import annotations

import numpy as np

from ..layers import Dense
from ..network import Network
from ..optimizers import Adam

TITLE = "ReLU networks of growing width fit a 1-D function"

WIDTHS = (1, 2, 4, 8, 16, 32)
LO, HI = -3.0, 3.0
EPOCHS = 1500


def target(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * x)


def interpolant(width: int) -> Network:
    """The ReLU network equal to the linear interpolant of ``target`` at width + 1 knots."""
    knots = np.linspace(LO, HI, width + 1)
    values = target(knots)
    slopes = np.diff(values) / np.diff(knots)  # (width,)
    changes = np.r_[slopes[0], np.diff(slopes)]  # slope added at each kink
    hidden = Dense(1, width, "relu", weights=np.ones((1, width)), bias=-knots[:-1])
    output = Dense(width, 1, "identity", weights=changes[:, None], bias=[values[0]])
    return Network([hidden, output], loss="squared_error", dtype="float64")


def run(demo) -> None:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(LO, HI, 200))[:, None]
    y = target(x)
    grid = np.linspace(LO, HI, 1001)[:, None]
    truth = target(grid)[:, 0]
    trained, built, fits = {}, {}, {}
    demo.say(
        f"f(x) = sin(2x) on [−3, 3]; RMS error on 1001 grid points; trained: Adam 0.01, "
        f"{EPOCHS} full-batch epochs on 200 samples"
    )
    demo.say("  width   trained RMSE   hand-built RMSE   kinks in [−3, 3] (trained)")
    for w in WIDTHS:
        net = Network(
            [Dense(1, w, "relu"), Dense(w, 1, "identity")], loss="mse", seed=0, dtype="float64"
        )
        spread = np.random.default_rng(1).uniform(LO, HI, w)
        net.layers[0].b = -net.layers[0].W[0] * spread  # kink j at x = spread[j]
        net.fit(x, y, epochs=EPOCHS, optimizer=Adam(0.01))
        pred = net.predict(grid)[:, 0]
        W, b = net.layers[0].W[0], net.layers[0].b
        with np.errstate(divide="ignore", invalid="ignore"):
            kinks = np.where(W != 0, -b / W, np.nan)
        inside = int(np.sum((kinks > LO) & (kinks < HI)))
        trained[w] = float(np.sqrt(np.mean((pred - truth) ** 2)))
        hand = interpolant(w).predict(grid)[:, 0]
        built[w] = float(np.sqrt(np.mean((hand - truth) ** 2)))
        fits[w] = (pred, hand, kinks)
        demo.say(f"  {w:5d}   {trained[w]:12.4f}   {built[w]:15.5f}   {inside}")
    slope = float(np.polyfit(np.log(WIDTHS[2:]), np.log([built[w] for w in WIDTHS[2:]]), 1)[0])
    demo.say(f"hand-built error against width: log-log slope {slope:.2f} (theory: −2)")
    demo.result.numbers.update(
        {
            "widths": list(WIDTHS),
            "trained_rmse": {w: trained[w] for w in WIDTHS},
            "built_rmse": {w: built[w] for w in WIDTHS},
            "built_slope": slope,
        }
    )
    if demo.plots:
        _figure(demo, grid[:, 0], truth, fits, trained, built, x, y)


def _figure(demo, grid, truth, fits, trained, built, x, y) -> None:
    from .. import plot

    fig, (a0, a1, a2) = plot.figure(16, 4.6, 1, 3)
    for ax in (a0, a1):
        ax.plot(grid, truth, color="black", lw=2.5, alpha=0.35, label="target sin(2x)")
    a0.scatter(x[:, 0], y[:, 0], s=5, color="gray", alpha=0.6, label="training samples")
    show = (2, 4, 8, 32)
    for i, w in enumerate(show):
        color = plot.CLASS_COLORS[(i + 1) % len(plot.CLASS_COLORS)]
        pred, hand, kinks = fits[w]
        a0.plot(grid, pred, color=color, lw=1.4, label=f"width {w}")
        if w <= 8:
            knots = np.linspace(LO, HI, w + 1)
            a1.plot(grid, hand, color=color, lw=1.4, label=f"width {w}: {w + 1} knots")
            a1.plot(knots, np.sin(2 * knots), "o", color=color, ms=4)
    a0.set_title("Trained ReLU networks x → w units → ŷ")
    a1.set_title("Built by hand: the linear interpolant as a ReLU network")
    for ax in (a0, a1):
        ax.set_xlabel("x")
        ax.set_ylabel("f(x), ŷ")
        ax.set_ylim(-1.6, 1.9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left", ncol=2)
    widths = np.array(list(trained))
    a2.loglog(widths, [trained[w] for w in widths], "o-", label="trained (Adam)")
    a2.loglog(widths, [built[w] for w in widths], "s-", label="built by hand (interpolant)")
    tail = widths[widths >= 4]
    ref = built[tail[-1]] * (tail[-1] / tail) ** 2.0
    a2.loglog(tail, ref, ":", color="gray", label="∝ 1/width²")
    a2.set_xticks(widths, [str(w) for w in widths])
    a2.minorticks_off()
    a2.set_xlabel("width (hidden ReLU units)")
    a2.set_ylabel("RMS error on [−3, 3]")
    a2.set_title("Error against width")
    a2.grid(True, which="both", alpha=0.3)
    a2.legend(fontsize=8)
    fig.suptitle("Universal approximation by ReLU networks: piecewise-linear fits")
    demo.save(fig, "approximation.png")
