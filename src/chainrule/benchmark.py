"""chainrule's benchmarks: ``chainrule bench`` or ``python bench/run.py``.

1. Per-step training time of ``Network.fit`` against the matrix-multiply limit, PyTorch eager,
   JAX (jit) and scikit-learn, for four network sizes. One process, interleaved rounds: every
   contender sees the same machine, so the ratios hold on a noisy one. A step is forward +
   backward + SGD update on a float32 mini-batch of a ReLU network with a softmax +
   cross-entropy output. Reported: median µs per step, and the median of per-round ratios.
2. Time to 97 % test accuracy on scikit-learn's digits, chainrule against scikit-learn's
   ``MLPClassifier`` with the same architecture and optimizer.
3. Peak memory of a training run (tracemalloc, in a fresh process) against parameters +
   optimizer state + one batch of activations.
4. Training time against the number of samples (it should be linear).

Peers are optional (the ``bench`` extra); a missing one is reported and skipped.
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
from chainrule import files
from chainrule.errors import ConfigError

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


def run(seconds: float = 4.0, names: list[str] | None = None, rounds: int = 5) -> dict:
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


def digits_time_to_accuracy(target: float = 0.97, seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    """Seconds until test accuracy >= ``target`` on digits, chainrule vs scikit-learn (medians).

    Both: 64-100-10 ReLU/softmax, SGD with momentum 0.9, learning rate 0.05, batches of 32, no
    regularisation, standardised pixels, 75/25 stratified split; accuracy checked every epoch
    (the check is timed too).
    """
    import warnings

    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    X, y = cr.datasets.digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    Xtr, mean, scale = cr.datasets.standardize(Xtr)
    Xte = cr.datasets.standardize(Xte, mean, scale)[0]
    Xtr32, Xte32 = Xtr.astype(np.float32), Xte.astype(np.float32)
    warnings.filterwarnings("ignore", module="sklearn")
    times: dict[str, list[float]] = {"chainrule": [], "sklearn": []}
    epochs: dict[str, list[int]] = {"chainrule": [], "sklearn": []}
    for seed in seeds:
        net = cr.Network(
            [cr.Dense(64, 100, "relu"), cr.Dense(100, 10, "softmax")],
            loss="cross_entropy",
            seed=seed,
        )
        t0 = time.perf_counter()
        history = net.fit(
            Xtr32,
            ytr,
            epochs=200,
            batch_size=32,
            optimizer=cr.SGD(0.05, momentum=0.9),
            callbacks=[lambda n, e, logs: n.accuracy(Xte32, yte) >= target],
        )
        times["chainrule"].append(time.perf_counter() - t0)
        epochs["chainrule"].append(history.epochs)

        clf = MLPClassifier(
            hidden_layer_sizes=(100,),
            solver="sgd",
            momentum=0.9,
            nesterovs_momentum=False,
            learning_rate_init=0.05,
            batch_size=32,
            alpha=0.0,
            random_state=seed,
        )
        t0 = time.perf_counter()
        epoch = 0
        while epoch < 200:
            epoch += 1
            clf.partial_fit(Xtr, ytr, classes=np.arange(10))
            if clf.score(Xte, yte) >= target:
                break
        times["sklearn"].append(time.perf_counter() - t0)
        epochs["sklearn"].append(epoch)
    result = {
        who: {"seconds": statistics.median(t), "epochs": statistics.median(epochs[who])}
        for who, t in times.items()
    }
    result["speedup"] = result["sklearn"]["seconds"] / result["chainrule"]["seconds"]
    return result


_MEMORY_PROBE = """
import json, sys, tracemalloc
import numpy as np
import chainrule as cr
sizes, batch, steps = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.normal(size=(batch * steps, sizes[0])).astype(np.float32)
y = rng.integers(0, sizes[-1], batch * steps)
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
hidden = [cr.Dense(a, b, "relu") for a, b in zip(sizes[:-2], sizes[1:-1])]
net = cr.Network([*hidden, cr.Dense(sizes[-2], sizes[-1], "softmax")], loss="cross_entropy",
                 seed=0)
net.fit(X, y, epochs=2, batch_size=batch, optimizer=cr.SGD(0.01, momentum=0.9))
peak = tracemalloc.get_traced_memory()[1] - base
item = net.dtype.itemsize
params = net.theta.size * item
print(json.dumps({"peak": peak, "params": params, "optimizer_state": params,
                  "activations": batch * sum(sizes[1:]) * item}))
"""


def memory(names: tuple[str, ...] = ("small", "medium", "large")) -> dict:
    """Peak traced memory of ``fit`` (momentum SGD, 2 epochs) per network, in a fresh process."""
    import subprocess
    import sys

    results = {}
    for name in names:
        sizes, batch = NETWORKS[name]
        arg = json.dumps([sizes, batch, STEPS_PER_EPOCH[name]])
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, arg], capture_output=True, text=True, check=True
        ).stdout
        row = json.loads(out)
        budget = row["params"] + row["optimizer_state"] + row["activations"]
        row["ratio"] = row["peak"] / budget
        results[name] = row
    return results


def scaling(counts: tuple[int, ...] = (1000, 2000, 4000, 8000, 16000)) -> dict:
    """Seconds per epoch of the small (digits-size) network against the number of samples.

    Returns the per-sample times and the log-log slope (1.0 = linear).
    """
    sizes, batch = NETWORKS["small"]
    seconds = []
    for n in counts:
        X, y = data(sizes, n)
        net = cr.Network(
            [cr.Dense(64, 100, "relu"), cr.Dense(100, 10, "softmax")], loss="cross_entropy", seed=0
        )
        stamps = [time.perf_counter()]
        stamp = stamps.append
        net.fit(
            X,
            y,
            epochs=5,
            batch_size=batch,
            optimizer=cr.SGD(LR),
            callbacks=[lambda *_, stamp=stamp: stamp(time.perf_counter())],
        )
        seconds.append(statistics.median(np.diff(stamps)[1:]))
    slope = float(np.polyfit(np.log(counts), np.log(seconds), 1)[0])
    return {
        "samples": list(counts),
        "seconds_per_epoch": seconds,
        "us_per_sample": [t / n * 1e6 for t, n in zip(seconds, counts)],
        "slope": slope,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="chainrule benchmarks")
    parser.add_argument("--seconds", type=float, default=4.0, help="sampling time per contender")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--nets", default=",".join(NETWORKS), help="comma-separated subset")
    parser.add_argument("--only", default="step,digits,memory,scaling", help="which benchmarks")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)
    return run_all(args.seconds, args.nets.split(","), args.rounds, args.only.split(","), args.json)


def run_all(seconds, nets, rounds, only, json_path=None) -> dict:
    results: dict = {}
    if "step" in only:
        print("Per training step (µs, median), and chainrule's ratio to each:")
        results["step"] = run(seconds, nets, rounds)
    if "digits" in only:
        d = results["digits"] = digits_time_to_accuracy()
        print(
            f"\nDigits to 97 % test accuracy: chainrule {d['chainrule']['seconds']:.2f} s "
            f"({d['chainrule']['epochs']} epochs), scikit-learn {d['sklearn']['seconds']:.2f} s "
            f"({d['sklearn']['epochs']} epochs): {d['speedup']:.1f}x faster"
        )
    if "memory" in only:
        results["memory"] = memory()
        print("\nPeak memory of fit / (parameters + optimizer state + one batch of activations):")
        for name, row in results["memory"].items():
            print(f"  {name:<7} peak {row['peak'] / 2**20:8.2f} MiB   ratio {row['ratio']:.2f}")
    if "scaling" in only:
        sc = results["scaling"] = scaling()
        per = ", ".join(f"{n}: {u:.2f}" for n, u in zip(sc["samples"], sc["us_per_sample"]))
        print(
            f"\nTime per epoch against samples: slope {sc['slope']:.3f} (1 = linear); "
            f"µs per sample {per}"
        )
    if json_path:
        text = json.dumps(results, indent=2)
        files.write_atomically(json_path, [text.encode("utf-8")], ConfigError)
    return results


if __name__ == "__main__":
    main()
