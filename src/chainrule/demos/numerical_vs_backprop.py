"""Numerical gradient versus back-propagation (Magdon-Ismail, lecture 21).

The numerical approach, ∂e/∂w ≈ (e(w + Δ) − e(w − Δ)) / 2Δ, is simple but needs two forward
passes per weight: with P weights, each pass costing O(P), the whole gradient costs O(P²).
Back-propagation gets every derivative from one forward and one backward pass, O(P). This demo
times both (:func:`chainrule.numerical_gradients` and ``net.gradients``) on 4-h-3 tanh/softmax
networks of growing width, and checks that they agree.
"""

from __future__ import annotations

import time

import numpy as np

from ..gradcheck import numerical_gradients, relative_error
from ..layers import Dense
from ..network import Network

TITLE = "Finite differences vs back-propagation: cost and agreement"

WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256)
BATCH = 32


def _best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(demo) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BATCH, 4))
    y = rng.integers(0, 3, BATCH)
    rows = []
    demo.say(f"4-h-3 networks (tanh, softmax + cross-entropy), a batch of {BATCH}, float64")
    demo.say(
        "  width  weights P  loss evaluations  numerical (s)  backprop (s)   ratio  max rel. error"
    )
    for h in WIDTHS:
        net = Network(
            [Dense(4, h, "tanh"), Dense(h, 3, "softmax")],
            loss="cross_entropy",
            seed=0,
            dtype="float64",
        )
        P = net.n_params
        start = time.perf_counter()
        numeric = numerical_gradients(net, X, y, eps=1e-6)
        t_num = time.perf_counter() - start
        t_bp = _best_time(lambda n=net: n.gradients(X, y), 5)
        analytic = net.gradients(X, y)
        err = max(relative_error(a[k], n[k]) for a, n in zip(analytic, numeric) for k in ("W", "b"))
        rows.append(
            {
                "width": h,
                "weights": P,
                "evaluations": 2 * P,
                "numerical_s": t_num,
                "backprop_s": t_bp,
                "max_relative_error": err,
            }
        )
        demo.say(
            f"  {h:5d}  {P:9d}  {2 * P:16d}  {t_num:13.4f}  {t_bp:12.6f}  {t_num / t_bp:6.0f}  "
            f"{err:.1e}"
        )
    P = np.array([r["weights"] for r in rows], float)
    slope_num = float(np.polyfit(np.log(P[2:]), np.log([r["numerical_s"] for r in rows[2:]]), 1)[0])
    slope_bp = float(np.polyfit(np.log(P[2:]), np.log([r["backprop_s"] for r in rows[2:]]), 1)[0])
    demo.say(
        f"time against P (log-log slope over the larger networks): numerical {slope_num:.2f}, "
        f"back-propagation {slope_bp:.2f}"
    )
    per_eval = [r["numerical_s"] / r["evaluations"] * 1e6 for r in rows]
    demo.say(
        f"one loss evaluation took {per_eval[0]:.0f} µs at P = {rows[0]['weights']} and "
        f"{per_eval[-1]:.0f} µs at P = {rows[-1]['weights']}: at these sizes a pass is mostly "
        "fixed overhead, so the numerical cost grows about like P (2P passes); once the "
        "arithmetic of a pass dominates, it grows like P². Timings are of this machine."
    )
    demo.result.numbers.update(
        {"rows": rows, "slope_numerical": slope_num, "slope_backprop": slope_bp}
    )
    if demo.plots:
        from .. import plot

        fig, (a0, a1) = plot.figure(11.5, 4.3, 1, 2)
        a0.loglog(
            P,
            [r["numerical_s"] for r in rows],
            "o-",
            label=f"finite differences (slope {slope_num:.2f})",
        )
        a0.loglog(
            P,
            [r["backprop_s"] for r in rows],
            "s-",
            label=f"back-propagation (slope {slope_bp:.2f})",
        )
        a0.set_xlabel("number of weights P")
        a0.set_ylabel("seconds per full gradient")
        a0.set_title("Cost of one gradient")
        a0.grid(True, which="both", alpha=0.3)
        a0.legend(fontsize=8)
        a1.loglog(P, [r["max_relative_error"] for r in rows], "o-", color=plot.CLASS_COLORS[2])
        a1.set_xlabel("number of weights P")
        a1.set_ylabel("largest relative difference")
        a1.set_title("Agreement: central differences (Δ = 1e-6) vs backprop")
        a1.grid(True, which="both", alpha=0.3)
        fig.suptitle(
            "The numerical gradient costs 2P loss evaluations, back-propagation one forward "
            "and one backward pass"
        )
        demo.save(fig, "numerical-vs-backprop.png")
