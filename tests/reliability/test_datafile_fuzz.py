"""A seeded, bounded fuzzer of data files through the real command line.

Odd files — CSV with random delimiters, quotes, ragged rows, huge fields, NUL bytes, BOMs,
other encodings, extreme numbers, very long lines; Parquet with lists, structs, dates,
decimals, binary, nulls, empty tables; .npy/.npz with bad headers, huge declared shapes,
big-endian, void, object and complex dtypes, truncated data, corrupt zips — are built from valid
files by structured mutations and given to ``chainrule train``, ``predict`` and ``evaluate``.
Every run must exit 0 or 1 within a time bound (never a crash, a signal or a hang), print
nothing or exactly one ``error: ...`` line on stderr (no traceback, no warning), and when it
fails leave its folder as it was (no model, history, checkpoint, plot or temporary file).

The cases run in one child interpreter that imports chainrule once and forks per case, so a
case costs a fork, not an interpreter start; the fork is killed by SIGALRM past the bound.
``CHAINRULE_FUZZ_LONG=1`` runs ten times as many cases, ``CHAINRULE_FUZZ_SEED=N`` other ones;
``pytest -s`` prints the figures.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

SEED = int(os.environ.get("CHAINRULE_FUZZ_SEED", "20250601"))
CASES = 3000 if os.environ.get("CHAINRULE_FUZZ_LONG") == "1" else 300
TIME_LIMIT = 20  # seconds a case may take before it counts as a hang
EXIT_CRASH = 70  # the child's code for an exception that escaped cli.main

# ------------------------------------------------------------------ the child: run the cases


def _run_one(case: dict) -> int:
    """In a forked child: run one command line in the case's folder; never returns."""
    import signal
    import traceback

    from chainrule import cli

    os.chdir(case["folder"])
    err = os.open("stderr.txt.fuzz", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(err, 2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    signal.alarm(TIME_LIMIT)  # the default action ends the process: counted as a hang
    try:
        code = cli.main(case["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = EXIT_CRASH
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _serve(cases_file: str, results_file: str) -> None:
    """The child interpreter: import once, warm up (compile, load) in this process, then fork
    per case."""
    import contextlib

    import pyarrow.parquet  # noqa: F401  (imported once, before the forks)

    from chainrule import cli

    with contextlib.suppress(Exception):
        from chainrule import plot  # noqa: F401  (matplotlib, for the --plot cases)
    cases = json.loads(Path(cases_file).read_text())
    warm = cases[0]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        os.chdir(warm["folder"])
        with contextlib.suppress(SystemExit):
            cli.main(warm["args"])
    results = [_run_one_forked(case) for case in cases[1:]]
    Path(results_file).write_text(json.dumps(results))


def _run_one_forked(case: dict) -> dict:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _run_one(case)
    _, status = os.waitpid(pid, 0)
    return {"code": os.waitstatus_to_exitcode(status), "seconds": time.perf_counter() - start}


# ------------------------------------------------------------------ valid tables


def _table(rng, reference: bool = False):
    """A small table: a few numeric features and a target (labels or values)."""
    import pandas as pd

    n = 30 if reference else int(rng.integers(3, 40))
    d = 2 if reference else int(rng.integers(1, 5))
    X = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 4, size=d)
    names = [f"x{j}" for j in range(d)]
    if not reference and rng.random() < 0.25:
        odd = ["a b", "é", "[bold]", "", 'q"uote', "x;y", "\t", "x" * 300, "𝔵", "0"]
        names = list(dict.fromkeys([*rng.choice(odd, size=d), *names]))[:d]
    frame = pd.DataFrame(X, columns=names)
    kind = "labels" if reference else rng.choice(["labels", "ints", "values", "bools"])
    signal = X[:, 0] > np.median(X[:, 0])
    frame["label"] = {
        "labels": np.where(signal, "yes", "no"),
        "ints": signal.astype(int) + rng.integers(0, 2, n),
        "values": X[:, 0] * 2.0 + rng.normal(size=n),
        "bools": signal,
    }[kind]
    return frame


# ------------------------------------------------------------------ CSV


EXTREME = [
    "1e308", "-1.7976931348623157e308", "1e-320", "1e400", "inf", "-inf", "nan", "NaN", "",
    "1_000", "0x10", " 3 ", "1e", "+-1", "9" * 400, "1,5", "∞", "None", "true", '"7"', "\x00",
]  # fmt: skip


def _csv_text(frame, rng) -> str:
    sep = str(rng.choice([",", ";", "\t", "|", " "]))
    quoting = int(rng.choice([0, 1, 2, 3]))  # csv.QUOTE_MINIMAL, ALL, NONNUMERIC, NONE
    try:
        return frame.to_csv(index=False, sep=sep, quoting=quoting, escapechar="\\")
    except Exception:  # QUOTE_NONE with a delimiter in a name: write it the plain way
        return frame.to_csv(index=False, sep=sep)


def _mutate_text(text: str, rng) -> tuple[str | bytes, str]:
    """One structured mutation of a CSV text; returns the new content and its name."""
    lines = text.splitlines()
    row = int(rng.integers(1, max(2, len(lines))))
    row = min(row, len(lines) - 1)
    which = str(
        rng.choice(
            [
                "none", "ragged", "huge field", "NUL", "BOM", "UTF-16", "latin-1", "empty",
                "header only", "blank lines", "extreme", "long line", "quote header",
                "unbalanced quote", "CR endings", "byte flips", "truncated", "duplicate names",
                "garbage", "huge values", "one class", "many columns",
            ]
        )
    )  # fmt: skip
    if which == "ragged" and len(lines) > 1:
        lines[row] += ",1,2" if rng.random() < 0.5 else ""
        lines[row] = lines[row][: len(lines[row]) // 2] if rng.random() < 0.5 else lines[row]
    elif which == "huge field" and len(lines) > 1:
        lines[row] = "x" * int(rng.choice([100_000, 600_000, 1_200_000])) + "," + lines[row]
    elif which == "NUL":
        at = int(rng.integers(0, len(text) + 1))
        return text[:at] + "\x00" * int(rng.integers(1, 4)) + text[at:], which
    elif which == "BOM":
        return "\ufeff" + text, which
    elif which == "UTF-16":
        return text.encode("utf-16"), which
    elif which == "latin-1":
        return text.replace("yes", "très").encode("latin-1", "replace"), which
    elif which == "empty":
        return str(rng.choice(["", " ", "\n", "\n\n\n", "\r\n"])), which
    elif which == "header only":
        return lines[0] + "\n", which
    elif which == "blank lines":
        return "\n\n" + "\n\n".join(lines) + "\n\n", which
    elif which == "extreme" and len(lines) > 1:
        cells = lines[row].split(",")
        cells[int(rng.integers(0, len(cells)))] = str(rng.choice(EXTREME))
        lines[row] = ",".join(cells)
    elif which == "long line":
        char = str(rng.choice([",", '"', ";", "a", " "]))
        lines.insert(row, char * int(rng.choice([900_000, 2_000_000])))
    elif which == "quote header":
        lines[0] = str(rng.choice(['",', '"', "',", '","'])) * int(rng.integers(1000, 150_000))
    elif which == "unbalanced quote":
        at = int(rng.integers(0, len(text) + 1))
        return text[:at] + '"' + text[at:], which
    elif which == "CR endings":
        return "\r".join(lines) + "\r", which
    elif which == "byte flips":
        data = bytearray(text.encode("utf-8"))
        for at in rng.integers(0, max(1, len(data)), size=int(rng.integers(1, 8))):
            data[int(at) % max(1, len(data))] = int(rng.integers(0, 256)) if data else 0
        return bytes(data), which
    elif which == "truncated":
        return text[: int(rng.integers(0, len(text) + 1))], which
    elif which == "duplicate names":
        lines[0] = lines[0] + "," + lines[0]
    elif which == "garbage":
        return rng.bytes(int(rng.integers(1, 3000))), which
    elif which == "huge values" and len(lines) > 1:
        for r in range(1, len(lines)):
            lines[r] = str(rng.choice(["1e300", "-1e300", "1.7e308"])) + "," + lines[r]
        lines[0] = "big," + lines[0]
    elif which == "one class" and len(lines) > 1:
        return "x,label\n" + "1,a\n2,a\n", which
    elif which == "many columns":
        lines[0] = ",".join(f"c{i}" for i in range(int(rng.choice([5000, 120_000]))))
    return "\n".join(lines) + "\n", which


# ------------------------------------------------------------------ Parquet


def _arrow_column(kind: str, n: int, rng):
    import pyarrow as pa

    ints = rng.integers(0, 3, n).tolist()
    day = datetime.date(2020, 1, 1)
    columns = {
        "float": lambda: pa.array(rng.normal(size=n)),
        "int with nulls": lambda: pa.array([None if i == 0 else i for i in ints], pa.int64()),
        "bool": lambda: pa.array([bool(i) for i in ints]),
        "string": lambda: pa.array([f"s{i}" for i in ints]),
        "dictionary": lambda: pa.array([f"s{i}" for i in ints]).dictionary_encode(),
        "list": lambda: pa.array([[i, i] for i in ints]),
        "struct": lambda: pa.array([{"a": i} for i in ints]),
        "date": lambda: pa.array([day + datetime.timedelta(days=i) for i in ints]),
        "timestamp": lambda: pa.array([datetime.datetime(2020, 1, 1 + i) for i in ints]),
        "timestamp tz": lambda: pa.array(
            [datetime.datetime(2020, 1, 1 + i) for i in ints], pa.timestamp("us", tz="UTC")
        ),
        "decimal": lambda: pa.array([decimal.Decimal(i) / 4 for i in ints]),
        "binary": lambda: pa.array([bytes([i]) for i in ints]),
        "duration": lambda: pa.array([datetime.timedelta(seconds=i) for i in ints]),
        "time": lambda: pa.array([datetime.time(i) for i in ints]),
        "null": lambda: pa.nulls(n),
        "all NaN": lambda: pa.array([float("nan")] * n),
        "uint64 max": lambda: pa.array([2**64 - 1 - i for i in ints], pa.uint64()),
        "half float": lambda: pa.array(rng.normal(size=n).astype(np.float16)),
        "map": lambda: pa.array([[("k", i)] for i in ints], pa.map_(pa.string(), pa.int64())),
        "huge float": lambda: pa.array([1e300 * (-1) ** i for i in range(n)]),
        "complex text": lambda: pa.array([f"{i}+1j" for i in ints]),
    }
    return columns[kind]()


def _parquet_bytes(rng) -> tuple[bytes, str, str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = int(rng.choice([0, 1, 3, 12, 30]))
    kinds = ["float", "float", "int with nulls", "bool", "string", "dictionary", "list", "struct"]
    kinds += ["date", "timestamp", "timestamp tz", "decimal", "binary", "duration", "time"]
    kinds += ["null", "all NaN", "uint64 max", "half float", "map", "huge float", "complex text"]
    chosen = ["float", *rng.choice(kinds, size=int(rng.integers(1, 4)))]
    table = pa.table({f"c{i}_{k}": _arrow_column(str(k), n, rng) for i, k in enumerate(chosen)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    mutation = "none"
    if rng.random() < 0.2:
        mutation = "truncated" if rng.random() < 0.5 else "byte flips"
        data = _damage(data, mutation, rng)
    target = str(rng.choice(table.column_names))
    return data, target, f"parquet {'+'.join(map(str, chosen[1:]))} ({mutation})"


def _damage(data: bytes, how: str, rng) -> bytes:
    if how == "truncated":
        return data[: int(rng.integers(0, len(data)))]
    out = bytearray(data)
    for at in rng.integers(0, len(out), size=int(rng.integers(1, 10))):
        out[int(at)] = int(rng.integers(0, 256))
    return bytes(out)


# ------------------------------------------------------------------ .npy and .npz


DTYPES = ["<f8", "<f4", "<f2", "<i8", "<i2", "|u1", "<u8", "|b1", ">f8", ">i4", "|V8", "|O"]
DTYPES += ["<c16", "<U5", "|S5", "<M8[D]", "<m8[s]", "<f16"]


def _array(rng, dtype: str, n: int, d: int) -> np.ndarray:
    values = rng.normal(size=(n, d)) * 3
    if dtype == "|O":
        return values.astype(object)
    if dtype in ("<U5", "|S5"):
        return values.round(1).astype(dtype)
    if dtype.startswith(("<M8", "<m8")):
        return values.astype(np.int64).astype(dtype)
    if dtype == "|V8":
        return np.zeros((n, d), "V8")
    return values.astype(dtype)


def _npy_bytes(array: np.ndarray, rng) -> tuple[bytes, str]:
    """The array as .npy bytes, perhaps with its header or data damaged."""
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(array) if rng.random() < 0.2 else array)
    data = buffer.getvalue()
    which = str(
        rng.choice(["none"] * 4 + ["huge shape", "garbage header", "version", "magic", "cut"])
    )
    header_end = data.index(b"\n") + 1
    if which == "huge shape":
        fields = np.lib.format.header_data_from_array_1_0(array)
        fields["shape"] = [(100_000, 100_000), (2**62, 2), (-1, 2)][int(rng.integers(0, 3))]
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, fields)
        data = header.getvalue() + data[header_end:]
    elif which == "garbage header":
        cut = int(rng.integers(11, header_end))
        data = data[:cut] + str(rng.choice(["(", "'", "{{", "\x00", "]"])).encode() + data[cut:]
    elif which == "version":
        data = data[:6] + bytes([int(rng.choice([3, 9])), 0]) + data[8:]
    elif which == "magic":
        data = b"\x93NUMPX" + data[6:]
    elif which == "cut":
        data = data[: int(rng.integers(0, len(data)))]
    return data, which


def _npz_bytes(rng, X: np.ndarray, y: np.ndarray) -> tuple[bytes, str]:
    which = str(
        rng.choice(
            ["none", "none", "compressed", "no X", "short y", "text y", "object y", "2-D y",
             "bad X", "truncated", "byte flips", "raw member"]
        )
    )  # fmt: skip
    members: dict[str, bytes] = {}
    for name, array in (("X", X), ("y", y)):
        buffer = io.BytesIO()
        np.save(buffer, array)
        members[f"{name}.npy"] = buffer.getvalue()
    if which == "no X":
        members.pop("X.npy")
    elif which == "short y":
        members["y.npy"] = _npy_bytes(y[:-1], rng)[0]
    elif which in ("text y", "object y", "2-D y"):
        other = {"text y": y.astype(str), "object y": y.astype(object), "2-D y": y[:, None]}
        members["y.npy"] = _npy_bytes(other[which], np.random.default_rng(0))[0]
    elif which == "bad X":
        members["X.npy"], detail = _npy_bytes(X, rng)
        which += f" ({detail})"
    elif which == "raw member":
        members["X"] = members.pop("X.npy")
    buffer = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if which == "compressed" else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    data = buffer.getvalue()
    if which in ("truncated", "byte flips"):
        data = _damage(data, which, rng)
    return data, which


# ------------------------------------------------------------------ cases


def _train_args(rng, data: str, target: str) -> list[str]:
    args = ["train", data, "--target", target, "--epochs", str(rng.integers(1, 3))]
    args += ["--hidden", "4", "--batch-size", "8", "--out", "out.crnet"]
    if rng.random() < 0.08:
        args += ["--plot", "figs"]
    if rng.random() < 0.1:
        args += ["--task", str(rng.choice(["classify", "regress"]))]
    if rng.random() < 0.03:
        args += ["--monitor"]
    return args


def _case(rng, folder: Path, reference_csv: str) -> tuple[list[str], str]:
    """Write one case's data file into ``folder``; returns its command line and description."""
    fmt = str(rng.choice(["csv"] * 5 + ["parquet"] * 2 + ["npy"] * 2 + ["npz"] * 2))
    command = str(rng.choice(["train"] * 7 + ["predict", "evaluate"]))
    if fmt == "csv":
        base = reference_csv if command != "train" else _csv_text(_table(rng), rng)
        content, what = _mutate_text(base, rng)
        path = folder / str(rng.choice(["data.csv", "data.tsv", "data.txt"]))
        target = "label"
    elif fmt == "parquet":
        content, target, what = _parquet_bytes(rng)
        path = folder / "data.parquet"
    elif fmt == "npy":
        dtype = str(rng.choice(DTYPES))
        shape = [(12, 3), (12, 3), (12,), (2, 3, 2), (0, 3), (12, 0)][int(rng.integers(0, 6))]
        array = _array(rng, dtype, shape[0], int(np.prod(shape[1:], dtype=int)))
        content, what = _npy_bytes(array.reshape(shape), rng)
        what, path, target = f"npy {dtype} {shape} ({what})", folder / "data.npy", "2"
    else:
        X = _array(rng, str(rng.choice(DTYPES[:9])), 12, 2)
        content, what = _npz_bytes(rng, X, rng.integers(0, 2, 12))
        what, path, target = f"npz ({what})", folder / "data.npz", "y"
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    path.write_bytes(data)
    if command == "train":
        args = _train_args(rng, path.name, target)
    else:
        shutil.copy(folder.parent / "reference" / "out.crnet", folder / "m.crnet")
        args = [command, "m.crnet", path.name] + (["--out", "p.csv"] * (command == "predict"))
    return args, f"{command} {path.suffix} {what}"


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but the case's stderr) with a hash of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "stderr.txt.fuzz"
    }


def _check(result: dict, case: dict, before: dict) -> str | None:
    """What is wrong with one case's outcome, or None."""
    code, folder = result["code"], Path(case["folder"])
    err = (folder / "stderr.txt.fuzz").read_text("utf-8", "replace")
    leftovers = [p.name for p in folder.rglob("*.tmp")]
    if leftovers:
        return f"temporary files left: {leftovers}"
    if code == EXIT_CRASH:
        return f"an exception escaped: {err.strip().splitlines()[-1:]}"
    if code < 0:
        return f"killed by signal {-code}" + (" (the time bound)" if code == -14 else "")
    if code not in (0, 1):
        return f"exit code {code}"
    lines = err.strip().splitlines()
    if "Traceback" in err or "Warning" in err:
        return f"stderr holds a traceback or a warning: {err[-300:]!r}"
    if code == 1 and (len(lines) != 1 or not lines[0].startswith("error: ")):
        return f"stderr is not one error line: {err[:300]!r}"
    if code == 0 and lines:
        return f"a successful run wrote to stderr: {err[:300]!r}"
    wrote = {"train": ["out.crnet", "out.history.csv"], "predict": ["p.csv"]}
    missing = [n for n in wrote.get(case["args"][0], []) if not (folder / n).is_file()]
    if code == 0 and missing:
        return f"a successful run did not write {missing}"
    if code == 1 and _snapshot(folder) != before:
        return f"the failed run changed its folder: {sorted(set(_snapshot(folder)) ^ set(before))}"
    return None


def test_data_files_never_crash_hang_or_leave_files(tmp_path):
    reference_csv = _table(np.random.default_rng(0), reference=True).to_csv(index=False)
    warm = {"args": ["train", "ref.csv", "--target", "label", "--epochs", "2", "--hidden", "4"]}
    warm["args"] += ["--out", "out.crnet"]
    for name in ("reference", "warm-up"):  # the model predict/evaluate use; the child's warm-up
        (tmp_path / name).mkdir()
        (tmp_path / name / "ref.csv").write_text(reference_csv)
    _train_reference(warm["args"], tmp_path / "reference")
    rng = np.random.default_rng(SEED)
    cases, described, snapshots = [{**warm, "folder": str(tmp_path / "warm-up")}], [], []
    for i in range(CASES):
        folder = tmp_path / f"case{i:04d}"
        folder.mkdir()
        args, what = _case(rng, folder, reference_csv)
        cases.append({"folder": str(folder), "args": args})
        described.append(what)
        snapshots.append(_snapshot(folder))
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, str(tmp_path / "cases.json"), str(tmp_path / "results.json")],
        check=True,
        timeout=CASES * TIME_LIMIT,
    )
    elapsed = time.perf_counter() - start
    results = json.loads((tmp_path / "results.json").read_text())
    problems = []
    for case, what, before, result in zip(cases[1:], described, snapshots, results):
        problem = _check(result, case, before)
        if problem:
            problems.append(f"{Path(case['folder']).name} {what}: {problem}")
    _report(results, described, elapsed, tmp_path)
    assert len(results) == CASES
    assert not problems, "\n".join(problems[:20])


def _train_reference(args: list[str], folder: Path) -> None:
    """The model predict/evaluate cases use, trained by the real CLI (its own interpreter)."""
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _report(results: list[dict], described: list[str], elapsed: float, root: Path) -> None:
    kinds = collections.Counter()
    errors = collections.Counter()
    for i, result in enumerate(results):
        code = result["code"]
        kinds[{0: "ok", 1: "error"}.get(code, f"code {code}")] += 1
        if code == 1:
            line = (root / f"case{i:04d}" / "stderr.txt.fuzz").read_text("utf-8", "replace")
            errors[_error_kind(line)] += 1
    slowest = max(range(len(results)), key=lambda i: results[i]["seconds"])
    print(
        f"\n[reliability] data-file fuzz: {len(results)} cases in {elapsed:.1f} s, exits "
        f"{dict(kinds)}, slowest {results[slowest]['seconds']:.2f} s ({described[slowest]})"
    )
    common = "; ".join(f"{n}× {k}" for k, n in errors.most_common(8))
    print(f"[reliability] commonest errors: {common}")


def _error_kind(line: str) -> str:
    """An error line without its particulars (names, numbers), to count kinds."""
    words = [w for w in line.split()[1:] if not any(c in w for c in "'0123456789(")]
    return " ".join(words[:6])


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
