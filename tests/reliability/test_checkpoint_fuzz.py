"""Checkpoint fuzzing: structure-aware mutations of real checkpoints are refused cleanly, and a
resume from any mutant either fails with a chainrule error or trains to finite weights.

Real checkpoints (SGD, momentum, Nesterov, Adam, AdamW with clipping, a warm-up schedule and
ReduceLROnPlateau; with and without early stopping and a
validation split; float32 and float64; models with ``chainrule train``'s metadata and a
GradientMonitor record) are parsed, and their header fields and arrays mutated: values replaced
by other types, negative and huge numbers, non-finite JSON (``1e400``, ``NaN``), empty or nested
containers; keys removed or added; arrays shrunk, grown, reshaped, retyped or filled with inf and
NaN. Each mutant is written with the real file layout, then loaded with ``cr.load`` (and its
metadata checked and used, for data-file models) and resumed with ``fit(resume=...)`` on both
the compiled (Numba) and the NumPy path, in worker processes: a crash (an out-of-bounds write
once killed the process) or a hang is detected and counted, and the worker restarted.

``CHAINRULE_FUZZ_LONG=1`` runs ten times the cases. The figures print at the end (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import queue
import re
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import io

CASES = 3000 * (10 if os.environ.get("CHAINRULE_FUZZ_LONG") == "1" else 1)
SEED = 20261124
PER_CASE_SECONDS = 20.0  # a case past this is a hang (a clean one takes milliseconds)
START_SECONDS = 180.0  # a worker's imports and its first compilations
DONE, RESUMED = 2, 4  # epochs in the base checkpoints, and asked for on resume

# ---------------------------------------------------------------- the real checkpoints

BASES = {
    "sgd": {"opt": ("sgd", {"lr": 0.1}), "fit": {"batch_size": 8}},
    "momentum-split-stop": {
        "opt": ("sgd", {"lr": 0.05, "momentum": 0.9, "schedule": ("step", 2, 0.5)}),
        "fit": {"batch_size": 8, "validation_split": 0.2, "early_stopping": {"patience": 50}},
    },
    "nesterov-f64-split": {
        "dtype": "float64",
        "opt": ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        "fit": {"batch_size": 16, "validation_split": 0.25, "shuffle": False},
    },
    "adam-stop": {
        "opt": ("adam", {"lr": 0.01, "schedule": ("inverse", 0.5)}),
        "fit": {"batch_size": 8, "early_stopping": {"patience": 50, "monitor": "loss"}},
    },
    "adam-f64-split-stop": {
        "dtype": "float64",
        "opt": ("adam", {"lr": 0.01, "schedule": ("exponential", 0.9)}),
        "fit": {"batch_size": None, "validation_split": 0.2, "early_stopping": {}},
    },
    "adamw-clip-warmup-plateau": {
        "opt": ("adamw", {"lr": 0.01, "clipnorm": 1.0, "schedule": ("warmup", 1, 6, 0.1)}),
        "fit": {"batch_size": 8, "validation_split": 0.2, "plateau": {"patience": 1}},
    },
    "regression-leaky": {
        "task": "regress",
        "dtype": "float64",
        "opt": ("sgd", {"lr": 0.01, "momentum": 0.5}),
        "fit": {"batch_size": 5},
    },
    "cli-checkpoint": {
        "cli": True,
        "opt": ("adam", {"lr": 0.01}),
        "monitor": True,
        "fit": {"batch_size": 8, "validation_split": 0.2},
    },  # fmt: skip
    "cli-model": {"cli": True, "plain": True, "opt": ("sgd", {"lr": 0.1}), "fit": {}},
}


def make_data(base: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    if base.get("task") == "regress":
        return X[:, :3], X[:, :2] @ [[1.0, -1.0], [0.5, 2.0]]
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def make_net(base: dict, seed: int) -> cr.Network:
    dtype = base.get("dtype", "float32")
    if base.get("task") == "regress":
        layers = [cr.Dense(3, 6, "leaky_relu", alpha=0.1), cr.Dense(6, 2, bias=False)]
        return cr.Network(layers, loss="mse", dtype=dtype, seed=seed, l2=0.01)
    layers = [cr.Dense(4, 8, "tanh"), cr.Dense(8, 3, "softmax")]
    return cr.Network(layers, loss="cross_entropy", dtype=dtype, seed=seed)


def _optimizer(spec: tuple) -> cr.optimizers.Optimizer:
    kind, kwargs = spec
    kwargs = dict(kwargs)
    schedule = kwargs.pop("schedule", None)
    if schedule is not None:
        makers = {
            "step": cr.StepDecay,
            "exponential": cr.ExponentialDecay,
            "inverse": cr.InverseScaling,
            "warmup": cr.WarmupCosine,
        }
        kwargs["schedule"] = makers[schedule[0]](*schedule[1:])
    return {"sgd": cr.SGD, "adam": cr.Adam, "adamw": cr.AdamW}[kind](**kwargs)


def fit_kwargs(base: dict, X, y) -> dict:
    """The fit arguments of a base run (fresh callback objects each time)."""
    kwargs = dict(base["fit"])
    if "early_stopping" in kwargs:
        kwargs["early_stopping"] = cr.EarlyStopping(**kwargs["early_stopping"])
    if "plateau" in kwargs:
        kwargs["callbacks"] = [cr.ReduceLROnPlateau(**kwargs.pop("plateau"))]
    if base.get("monitor"):
        kwargs["callbacks"] = [cr.GradientMonitor(X, y, max_samples=16)]
    return kwargs


def cli_metadata(X: np.ndarray) -> dict:
    """What ``chainrule train`` stores with a classifier (see workflow.train_file)."""
    return {
        "features": [f"f{i}" for i in range(X.shape[1])],
        "target": "label",
        "classes": ["low", 1, 2.5],
        "scaling": {"mean": X.mean(axis=0).tolist(), "scale": X.std(axis=0).tolist()},
    }


def write_base(base: dict, path: Path) -> None:
    X, y = make_data(base)
    net = make_net(base, seed=0)
    if base.get("cli"):
        net.metadata = cli_metadata(X)
    kwargs = fit_kwargs(base, X, y)
    optimizer = _optimizer(base["opt"])
    if base.get("plain"):
        net.fit(X, y, epochs=DONE, optimizer=optimizer, **kwargs)
        net.save(path)
    else:
        net.fit(X, y, epochs=DONE, optimizer=optimizer, checkpoint=path, **kwargs)


# ---------------------------------------------------------------- mutations

JUNK = [
    None, True, False, 0, 1, -1, 2, 0.5, -0.0, 1e308, -1e308, 1e-320, 10**24, -(10**12),
    2**31, 2**53 + 1, 2**63, 2**64, 2**128, "", "x", "NaN", "Infinity", "1e400", "-1", "0",
    "float32", "sgd", "adam", "leaky_relu", [], {}, [0], [1.0, 2.0], [None], ["x"], {"a": 1},
    [[[]]], {"": {"": [None, {}]}}, [0.1] * 3, list(range(70)),
]  # fmt: skip
# Raw JSON text: Python's parser reads all of these (1e400 as infinity, the 5000 digits not).
RAW = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1e-400", "-0", "9" * 5000, "1E2"]
_ARRAY_NAMES = ["optimizer.velocity.1", "optimizer.m.1", "optimizer.x.0", "optimizer.velocity",
                "early_stopping.best", "layers.9.W", "zz", ""]  # fmt: skip


# Where header edits land, by top-level key: mostly the training state and the network.
_SECTIONS = {"checkpoint": 8, "network": 4, "metadata": 3, "rng": 2, "format_version": 1,
             "format": 0.5}  # fmt: skip


def _pick(rng, header: dict) -> tuple:
    """A path to a value inside ``header``, descending one random key at a time, so that every
    field of every level is reached (not mostly the entries of long lists)."""
    keys = [k for k in header if k in _SECTIONS]
    weights = np.array([_SECTIONS[k] for k in keys])
    key = keys[rng.choice(len(keys), p=weights / weights.sum())]
    path, node = (key,), header[key]
    while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
        key = list(node)[rng.integers(len(node))] if isinstance(node, dict) else None
        key = int(rng.integers(len(node))) if key is None else key
        path, node = (*path, key), node[key]
    return path


def _numeric(rng, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return JUNK[rng.integers(len(JUNK))]
    options = [value + 1, value - 1, -value, value * 2**40, 0, value + 0.5, float(value)]
    if isinstance(value, float):
        options += [round(value), value * 1e300]
    return options[rng.integers(len(options))]


def _retype(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return int(value) if abs(value) < 1e18 else str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def mutate_header(rng, header: dict, raw: dict) -> str:
    """One edit at a random place of ``header``; returns what it did."""
    path = _pick(rng, header)
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    op = ["replace", "raw", "numeric", "delete", "extra", "retype"][rng.integers(6)]
    if op == "raw":
        token = f"__RAW{len(raw)}__"
        raw[token] = RAW[rng.integers(len(RAW))]
        parent[key] = token
        return f"{'.'.join(map(str, path))}: raw {raw[token][:12]}"
    if op == "delete":
        del parent[key]
    elif op == "extra" and isinstance(value, dict):
        value["zz_extra"] = JUNK[rng.integers(len(JUNK))]
    elif op == "extra" and isinstance(value, list):
        value.append(value[0] if value and rng.integers(2) else JUNK[rng.integers(len(JUNK))])
    elif op == "numeric":
        parent[key] = _numeric(rng, value)
    elif op == "retype":
        parent[key] = _retype(value)
    else:
        op = "replace"
        parent[key] = copy.deepcopy(JUNK[rng.integers(len(JUNK))])
    return f"{'.'.join(map(str, path))}: {op}"


def _reshape(rng, a: np.ndarray) -> np.ndarray:
    options = [
        lambda: a[: max(len(a) // 2, 1)],
        lambda: a[:-1],
        lambda: a[:0],
        lambda: np.concatenate([a, a[:1]]),
        lambda: a.reshape(-1, 1),
        lambda: a[None],
        lambda: a.ravel(),
        lambda: a.T.copy(),
    ]
    return options[rng.integers(len(options))]()


def _values(rng, a: np.ndarray) -> np.ndarray:
    a = a.copy()
    if a.size:
        floats = [np.inf, -np.inf, np.nan, 3e38, -1e300]
        extremes = floats if a.dtype.kind == "f" else [2**62, -(2**62), -1, 0, 1]
        a.flat[rng.integers(a.size)] = extremes[rng.integers(5)]
    return a


def mutate_arrays(rng, arrays: dict) -> str:
    """One edit of the stored arrays; returns what it did."""
    names = list(arrays)
    name = names[rng.integers(len(names))]
    op = ["shape", "dtype", "values", "drop", "add"][rng.integers(5)]
    with np.errstate(over="ignore", invalid="ignore"):
        if op == "shape":
            arrays[name] = _reshape(rng, arrays[name])
        elif op == "dtype":
            kinds = [np.float32, np.float64, np.int64]
            arrays[name] = arrays[name].astype(kinds[rng.integers(3)])
        elif op == "values":
            arrays[name] = _values(rng, arrays[name])
        elif op == "drop":
            del arrays[name]
        else:
            name = _ARRAY_NAMES[rng.integers(len(_ARRAY_NAMES))]
            arrays[name] = _reshape(rng, arrays[names[rng.integers(len(names))]])
    return f"array {name}: {op}"


def serialise(path: Path, header: dict, arrays: dict, raw: dict) -> None:
    """Write with the layout of io.write_model_file; ``raw`` tokens go in as JSON text."""
    entries, blobs, offset = [], [], 0
    for name, array in arrays.items():
        data = np.ascontiguousarray(array).tobytes()
        code = array.dtype.newbyteorder("<").str
        entries.append({"name": name, "dtype": code, "shape": list(array.shape),
                        "offset": offset, "nbytes": len(data)})  # fmt: skip
        pad = (-len(data)) % 64
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    if blobs:
        blobs[-1] = blobs[-1][: entries[-1]["nbytes"]]
    text = json.dumps({**header, "arrays": entries}, separators=(",", ":"))
    for token, literal in raw.items():
        text = text.replace(f'"{token}"', literal)
    head = text.encode("utf-8")
    prefix = io.MAGIC + struct.pack("<IQ", io.FORMAT_VERSION, len(head))
    pad = (-(len(prefix) + len(head))) % 64
    path.write_bytes(prefix + head + b"\0" * pad + b"".join(blobs))


def make_cases(root: Path, originals: dict) -> list[dict]:
    """CASES mutants, spread over the bases, each 1-3 edits of header or arrays."""
    rng = np.random.default_rng(SEED)
    names = list(originals)
    cases = []
    for i in range(CASES):
        base = names[i % len(names)]
        header, arrays = copy.deepcopy(originals[base])
        raw: dict = {}
        done = []
        for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
            if rng.random() < 0.3 and arrays:
                done.append(mutate_arrays(rng, arrays))
            else:
                done.append(mutate_header(rng, header, raw))
        path = root / f"case{i}.ckpt"
        serialise(path, header, arrays, raw)
        cases.append({"i": i, "base": base, "path": str(path), "edits": "; ".join(done)})
    return cases


# ---------------------------------------------------------------- one case, in a worker


def _describe(exc: BaseException) -> str:
    """``Type|field`` for a chainrule error (the field named, else the message's gist)."""
    text = str(exc)
    found = re.search(r"field '([^']*)'", text)
    gist = (found.group(1) or "(empty)") if found else re.sub(r"^'[^']*'(: | )", "", text)
    gist = re.sub(r"\[\d+\]", "[]", re.sub(r"\d+", "N", gist) if not found else gist)
    return f"{type(exc).__name__}|{gist[:70]}"


def _outcome(action, *args, **kwargs) -> str:
    try:
        action(*args, **kwargs)
        return "ok"
    except cr.ChainruleError as exc:
        return _describe(exc)
    except Exception as exc:  # what the fuzzer hunts: anything not a chainrule error
        return f"FOREIGN|{type(exc).__name__}: {str(exc)[:200]}"


def _use_metadata(path: str) -> None:
    """What predict does with a data-file model: check the metadata, standardise, label."""
    from chainrule import data
    from chainrule.model_meta import check_file_metadata

    net = cr.load(path)
    meta = check_file_metadata(net.metadata, net, path)
    X, _ = make_data(BASES["cli-model"])
    out = net.predict(data.standardise(X, meta["scaling"], meta["features"]))
    [meta["classes"][i] for i in out.argmax(axis=1)]


def run_case(case: dict) -> dict:
    """Load, check metadata, and resume on both paths; each outcome as a short string."""
    from chainrule import _compiled

    base, path = BASES[case["base"]], case["path"]
    t0 = time.perf_counter()
    report = {"i": case["i"], "load": _outcome(cr.load, path)}
    if base.get("cli") and report["load"] == "ok":
        report["metadata"] = _outcome(_use_metadata, path)
    for kind, work in (("compiled", 10**9), ("numpy", -1)):
        _compiled.MAX_WORK = work  # the compiled epoch is planned below this much work
        X, y = make_data(base)
        net = make_net(base, seed=99)
        kwargs = fit_kwargs(base, X, y)
        report[kind] = _outcome(net.fit, X, y, epochs=RESUMED, resume=path, **kwargs)
        if not np.isfinite(net.theta).all():
            report[kind] = f"FOREIGN|non-finite weights after {report[kind]}"
    report["seconds"] = time.perf_counter() - t0
    return report


WORKER = r"""
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("error", RuntimeWarning)  # as pytest's filterwarnings does
import test_checkpoint_fuzz as fuzz
from chainrule import _compiled
cases = json.load(open(sys.argv[2]))
start = int(sys.argv[3])
# The unedited files: every kernel signature compiles before the clock starts, and the
# parent checks that they do load and resume.
warm = {name: fuzz.run_case({"i": -1, "base": name, "path": path})
        for name, path in cases["originals"].items()}
print(json.dumps({"ready": _compiled.available(), "warm": warm}), flush=True)
for case in cases["cases"][start:]:
    print(json.dumps(fuzz.run_case(case)), flush=True)
"""

# ---------------------------------------------------------------- the harness


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _start(manifest: Path, start: int, log: Path):
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(Path(__file__).parent), str(manifest), str(start)],
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
        text=True,
        env={**os.environ, "CHAINRULE_COMPILED": "1"},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True).start()
    ready = lines.get(timeout=START_SECONDS)
    assert ready is not None, f"the worker did not start: {log.read_text()[-3000:]}"
    ready = json.loads(ready)
    for name, report in ready["warm"].items():  # the real files load and resume
        assert report["load"] == "ok" and report.get("metadata", "ok") == "ok", (name, report)
        for key in ("compiled", "numpy"):
            if BASES[name].get("plain"):  # a model file, not a checkpoint
                assert "not a checkpoint" in report[key], (name, report)
            else:
                assert report[key] == "ok", (name, report)
    return child, lines, ready["ready"]


def run_all(manifest: Path, n: int, log: Path) -> tuple[list[dict], dict]:
    """Every case's report; a worker that dies or hangs is recorded and replaced."""
    reports: list[dict] = []
    failures: dict = {"crash": [], "hang": []}
    compiled, nxt = True, 0
    while nxt < n:
        child, lines, compiled = _start(manifest, nxt, log)
        while nxt < n:
            try:
                line = lines.get(timeout=PER_CASE_SECONDS)
            except queue.Empty:
                failures["hang"].append(nxt)
                nxt += 1  # go on after the case that hung
                break
            if line is None:  # the worker died in the middle of this case
                failures["crash"].append((nxt, child.wait()))
                nxt += 1
                break
            reports.append(json.loads(line))
            nxt += 1
        else:  # all done: a heap corrupted earlier can still kill the worker on its way out
            with contextlib.suppress(subprocess.TimeoutExpired):
                if child.wait(timeout=PER_CASE_SECONDS) != 0:
                    failures["crash"].append((nxt - 1, child.returncode))
        child.kill()
        child.wait()
    return reports, {**failures, "compiled": compiled}


def test_checkpoint_mutations_are_refused_cleanly(tmp_path, capsys):
    t0 = time.perf_counter()
    originals, paths = {}, {}
    for name, base in BASES.items():
        paths[name] = tmp_path / f"{name}.ckpt"
        write_base(base, paths[name])
        header, arrays = io.read_model_file(paths[name])
        originals[name] = (header, arrays)
    cases = make_cases(tmp_path, originals)
    manifest = tmp_path / "cases.json"
    originals = {name: str(path) for name, path in paths.items()}
    manifest.write_text(json.dumps({"cases": cases, "originals": originals}))
    reports, failures = run_all(manifest, len(cases), tmp_path / "worker.log")
    edits = {c["i"]: f"{c['base']}: {c['edits']}" for c in cases}
    foreign = [(edits[r["i"]], v) for r in reports for v in r.values() if _foreign(v)]
    figures = {**_figures(cases, reports), "foreign": len(foreign)}
    _print(figures, failures, len(cases), time.perf_counter() - t0, capsys)
    assert not failures["crash"], [(edits[i], rc) for i, rc in failures["crash"]]
    assert not failures["hang"], [edits[i] for i in failures["hang"]]
    assert not foreign, foreign[:10]
    refusals = figures["refused"]
    assert refusals["ModelFileError"] > 0.5 * sum(refusals.values())
    assert figures["resumed"] > 0  # some mutants are benign, and they do train


def _foreign(value: object) -> bool:
    return isinstance(value, str) and value.startswith("FOREIGN")


def _figures(cases: list[dict], reports: list[dict]) -> dict:
    """Outcomes per stage; per case, the error that first refused it (by the field named)."""
    refused, fields, outcomes = Counter(), Counter(), Counter()
    resumed = 0
    for report in reports:
        stages = [report.get(k) for k in ("load", "metadata", "compiled", "numpy")]
        for key, value in zip(("load", "metadata", "compiled", "numpy"), stages):
            if value is not None:
                outcomes[f"{key}: {value.split('|')[0]}"] += 1
        resumed += (report["compiled"] == "ok") + (report["numpy"] == "ok")
        first = next((v for v in stages if v not in (None, "ok")), None)
        if first is not None:
            kind, _, gist = first.partition("|")
            refused[kind] += 1
            fields[gist if kind == "ModelFileError" else f"{kind}: {gist}"] += 1
    slowest = max(reports, key=lambda r: r["seconds"])
    return {
        "refused": refused,
        "fields": fields,
        "outcomes": outcomes,
        "resumed": resumed,
        "slowest": (slowest["seconds"], cases[slowest["i"]]["edits"]),
    }


def _print(figures: dict, failures: dict, n: int, seconds: float, capsys) -> None:
    top = ", ".join(f"{k} {v}" for k, v in figures["fields"].most_common(40))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(figures["outcomes"].items()))
    slow_s, slow_edits = figures["slowest"]
    compiled = "on" if failures["compiled"] else "OFF (no numba)"
    lines = [
        f"\n[reliability] checkpoint mutations: {n} cases over {len(BASES)} real files, "
        f"{seconds:.1f} s, compiled path {compiled}: crashes {len(failures['crash'])}, hangs "
        f"{len(failures['hang'])}, errors other than ChainruleError {figures['foreign']}",
        f"  outcomes: {outcomes}",
        f"  resumes that trained: {figures['resumed']} (weights finite after each)",
        f"  refusals by field (top 40): {top}",
        f"  slowest case {slow_s * 1e3:.0f} ms ({slow_edits})",
    ]
    with capsys.disabled():
        print("\n".join(lines))
