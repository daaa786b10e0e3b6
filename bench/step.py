"""Per-step training time: chainrule's public ``fit`` against the matmul limit and peers.

One process, one run: every contender is timed in the same conditions, so the ratios hold on a
noisy machine. A step is forward + backward + SGD update on a float32 mini-batch of a
ReLU network with a softmax + cross-entropy output. Reported: the median µs per step.

    python bench/step.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import chainrule as cr

NETWORKS = {
    "tiny": ([2, 8, 8, 2], 16),
    "small": ([64, 100, 10], 32),
    "medium": ([784, 256, 256, 10], 128),
    "large": ([1024, 2048, 2048, 10], 256),
}
# Steps per epoch in the dataset given to fit, and how long to sample each contender.
STEPS_PER_EPOCH = {"tiny": 64, "small": 56, "medium": 20, "large": 8}
LR = 0.01


def data(sizes: list[int], n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], n)
    return X, y


def median_time(step: Callable[[], object], seconds: float, warmup: int = 2) -> float:
    """Median seconds per call of ``step`` over repeats filling about ``seconds``."""
    for _ in range(warmup):
        step()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class Chainrule:
    """Times ``Network.fit`` itself: shuffled mini-batches over a dataset, one epoch per stamp."""

    def __init__(self, sizes: list[int], batch: int) -> None:
        self.steps = STEPS_PER_EPOCH[name_of(sizes)]
        self.X, self.y = data(sizes, batch * self.steps)
        hidden = [cr.Dense(a, b, "relu") for a, b in zip(sizes[:-2], sizes[1:-1])]
        self.net = cr.Network(
            [*hidden, cr.Dense(sizes[-2], sizes[-1], "softmax")], loss="cross_entropy", seed=0
        )
        self.batch, self.opt = batch, cr.SGD(LR)
        self.fit(2)  # warm-up: buffers, caches

    def fit(self, epochs: int) -> list[float]:
        stamps = [time.perf_counter()]
        self.net.fit(
            self.X,
            self.y,
            epochs=epochs,
            batch_size=self.batch,
            optimizer=self.opt,
            callbacks=[lambda *_: stamps.append(time.perf_counter())],
        )
        return list(np.diff(stamps)[1:])  # the first epoch carries fit's set-up

    def __call__(self, seconds: float) -> float:
        epoch = statistics.median(self.fit(3))
        per_epoch = self.fit(max(4, int(seconds / max(epoch, 1e-6))))
        return statistics.median(per_epoch) / self.steps


def chainrule_step(sizes, batch):
    return Chainrule(sizes, batch)


def name_of(sizes):
    return next(k for k, (s, _) in NETWORKS.items() if s == sizes)


def limit_step(sizes, batch):
    """Only the matrix multiplies a step needs, on preallocated arrays."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    W = [rng.normal(size=(a, b)).astype(f32) for a, b in zip(sizes, sizes[1:])]
    H = [rng.normal(size=(batch, a)).astype(f32) for a in sizes]
    dH = [np.empty((batch, a), f32) for a in sizes]
    dW = [np.empty_like(w) for w in W]

    def step():
        for i, w in enumerate(W):
            np.matmul(H[i], w, out=H[i + 1])
        for i in range(len(W) - 1, -1, -1):
            np.matmul(H[i + 1], W[i].T, out=dH[i])  # dY · Wᵀ
            np.matmul(H[i].T, H[i + 1], out=dW[i])  # Xᵀ · dY

    return lambda seconds: median_time(step, seconds)


def torch_step(sizes, batch):
    import torch

    torch.manual_seed(0)
    mods = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*mods[:-1])
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    X, y = data(sizes, batch)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(Xt), yt)
        loss.backward()
        opt.step()

    return lambda seconds: median_time(step, seconds)


def jax_step(sizes, batch):
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        params.append(
            (
                jax.random.normal(sub, (a, b), jnp.float32) * np.sqrt(2 / a),
                jnp.zeros(b, jnp.float32),
            )
        )

    def loss(params, X, y):
        h = X
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = params[-1]
        logits = h @ W + b
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(len(y)), y])

    @jax.jit
    def update(params, X, y):
        grads = jax.grad(loss)(params, X, y)
        return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)

    X, y = data(sizes, batch)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    state = {"p": update(params, Xj, yj)}
    jax.block_until_ready(state["p"])  # compile outside the timing

    def step():
        state["p"] = update(state["p"], Xj, yj)
        jax.block_until_ready(state["p"])

    return lambda seconds: median_time(step, seconds)


def sklearn_step(sizes, batch):
    import warnings

    from sklearn.neural_network import MLPClassifier

    X, y = data(sizes, batch)
    clf = MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        solver="sgd",
        batch_size=batch,
        learning_rate_init=LR,
        momentum=0.0,
        random_state=0,
    )
    classes = np.arange(sizes[-1])
    y = np.arange(batch) % sizes[-1]
    warnings.filterwarnings("ignore", module="sklearn")
    clf.partial_fit(X, y, classes=classes)
    return lambda seconds: median_time(lambda: clf.partial_fit(X, y), seconds)


CONTENDERS = {
    "limit": limit_step,
    "pytorch": torch_step,
    "jax": jax_step,
    "sklearn": sklearn_step,
    "chainrule": chainrule_step,
}


def run(seconds: float = 2.0, names: list[str] | None = None, rounds: int = 5) -> dict:
    """Time every contender in ``rounds`` interleaved rounds; report medians over rounds.

    Interleaving makes every contender see the same machine: a slow spell hits all of them,
    and the per-round ratios (chainrule / peer) cancel it.
    """
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "unit": "microseconds per training step (median over rounds)",
        "nets": {},
    }
    for name in names or list(NETWORKS):
        sizes, batch = NETWORKS[name]
        timers = {}
        for who, factory in CONTENDERS.items():
            try:
                timers[who] = factory(sizes, batch)
            except ImportError as exc:
                print(f"  ({who} not installed: {exc.name}; pip install 'chainrule[bench]')")
        samples: dict[str, list[float]] = {who: [] for who in timers}
        for _ in range(rounds):
            for who, timer in timers.items():
                samples[who].append(timer(seconds / rounds) * 1e6)
        row = {who: statistics.median(v) for who, v in samples.items()}
        ratios = {
            who: statistics.median(m / p for m, p in zip(samples["chainrule"], samples[who]))
            for who in samples
            if who != "chainrule"
        }
        results["nets"][name] = {"us_per_step": row, "chainrule_ratio": ratios}
        print(format_row(name, row, ratios), flush=True)
    return results


def format_row(name: str, row: dict, ratios: dict) -> str:
    cells = [f"{name:<7}"]
    for who in CONTENDERS:
        v = row.get(who)
        cells.append(f"{who} {v:>9,.1f}" if v is not None else f"{who} {'-':>9}")
    cells += [f"{r:.2f}x {who}" for who, r in ratios.items()]
    return "  ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="sampling time per contender")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--nets", default=",".join(NETWORKS), help="comma-separated subset")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args()
    results = run(args.seconds, args.nets.split(","), args.rounds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
