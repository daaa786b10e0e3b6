"""The "export as Python" script: the same data, network and training as the page, in code.

For a run that kept its settings (no weight edits, no mid-run changes, no point edits after
training began) the script's network is bit-identical to the page's after the same number of
epochs: both use the same generator calls, the same split, features and ``Network.fit``.
"""

from __future__ import annotations

import numpy as np

from .data import FEATURE_CODE, GENERATORS, noise_of
from .session import Session


def python_script(session: Session) -> str:
    """A runnable script that builds and trains the session's network."""
    cfg = session.config
    net = session.net
    epochs = session.epoch or 500
    lines = [
        '"""Built by the chainrule playground: train the same network in plain Python.',
        "",
        "Run: python playground_network.py  (needs chainrule and NumPy).",
        '"""',
        "",
        "import numpy as np",
        "",
        "import chainrule as cr",
        "",
    ]
    if session.points.custom:
        Xtr, ytr = session.points.part(True)
        Xte, yte = session.points.part(False)
        lines += [
            "# The points as they were on the page (edited or uploaded).",
            f"X_train = np.array({_floats(Xtr)})",
            f"y_train = np.array({_labels(ytr)})",
            f"X_test = np.array({_floats(Xte)}).reshape(-1, 2)",
            f"y_test = np.array({_labels(yte)})",
        ]
    else:
        func, multiclass, _ = GENERATORS[cfg.dataset]
        extra = f", classes={cfg.classes}" if multiclass else ""
        lines += [
            f"# The playground's {cfg.dataset!r} set: {cfg.samples} points, noise "
            f"{cfg.noise}%, seed {cfg.seed}.",
            f"X, y = cr.datasets.{func}({cfg.samples}, noise={noise_of(cfg)!r}, "
            f"seed={cfg.seed}{extra})",
            f"# {cfg.ratio}% for training, chosen by a seeded permutation.",
            f"order = np.random.default_rng({cfg.seed}).permutation(len(X))",
            f"n_train = min(len(X) - 1, max(1, round(len(X) * {cfg.ratio} / 100)))",
            "X_train, y_train = X[order[:n_train]], y[order[:n_train]]",
            "X_test, y_test = X[order[n_train:]], y[order[n_train:]]",
        ]
    columns = ", ".join(FEATURE_CODE[name] for name in cfg.features)
    lines += [
        "",
        "",
        "def features(X):",
        f'    """The input features {", ".join(cfg.features)} of points X (n, 2)."""',
        "    x1, x2 = X[:, 0], X[:, 1]",
        f"    return np.column_stack([{columns}])",
        "",
        "",
        "net = cr.Network(",
        "    [",
    ]
    for layer in net.layers:
        lines.append(f"        cr.Dense({layer.n_in}, {layer.n_out}, {layer.activation.name!r}),")
    regs = ""
    if net.l1:
        regs += f", l1={net.l1!r}"
    if net.l2:
        regs += f", l2={net.l2!r}"
    lines += [
        "    ],",
        f"    loss={net.loss_fn.name!r},",
        f"    seed={cfg.seed}{regs},",
        ")",
        f"optimizer = {_optimizer(cfg)}",
        "history = net.fit(",
        "    features(X_train),",
        "    y_train,",
        f"    epochs={epochs},",
        f"    batch_size={cfg.batch},",
        "    optimizer=optimizer,",
        ")",
    ]
    if not session.replayable:
        lines.insert(
            lines.index("history = net.fit("),
            "# Note: the page's run changed course (edited weights or points, or new settings "
            "mid-run),\n# so this replays the current settings from the start instead.",
        )
    metric = "accuracy" if session.n_classes else "loss"
    lines += [
        "print(f'epochs: {history.epochs}  training loss: {history.loss[-1]:.4f}')",
        "if len(X_test):",
        f"    print('test {metric}:', net.{metric}(features(X_test), y_test))",
        'net.save("playground_network.crnet")',
        "",
    ]
    return "\n".join(lines)


def _optimizer(cfg) -> str:
    if cfg.optimizer == "adam":
        return f"cr.Adam({cfg.lr!r})"
    if cfg.optimizer == "momentum":
        return f"cr.SGD({cfg.lr!r}, momentum=0.9)"
    return f"cr.SGD({cfg.lr!r})"


def _floats(X: np.ndarray) -> str:
    # repr of a Python float round-trips exactly, so the script sees the very same points.
    return "[" + ", ".join(f"[{float(a)!r}, {float(b)!r}]" for a, b in X) + "]"


def _labels(y: np.ndarray) -> str:
    if y.dtype.kind in "iu":
        return "[" + ", ".join(str(int(v)) for v in y) + "]"
    return "[" + ", ".join(repr(float(v)) for v in y) + "]"
