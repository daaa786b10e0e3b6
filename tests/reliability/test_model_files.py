"""Model-file fuzzing: every malformed file is refused with a ModelFileError, quickly, within
bounded memory, and nothing in a file is ever executed.

Two generators: seeded random mutations of real model files (truncation, byte flips, insertions,
spliced headers, other formats) and hypothesis-built headers (huge shapes, wrong dtypes,
duplicate keys, offsets past the end, deep nesting, non-UTF-8 text). Each case is one call to
``cr.load``; the figures are printed at the end of the run.
"""

import json
import pickle
import struct
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import io

MUTATIONS = 10_000
MAX_SECONDS = 1.0


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A few real model files of different shapes, dtypes and activations."""
    root = tmp_path_factory.mktemp("models")
    nets = [
        cr.Network(
            [cr.Dense(2, 3, "tanh"), cr.Dense(3, 2, "softmax")], loss="cross_entropy", seed=0
        ),
        cr.Network(
            [cr.Dense(4, 1, "sigmoid", bias=False)],
            loss="binary_cross_entropy",
            dtype="float64",
            seed=1,
        ),
        cr.Network(
            [cr.Dense(3, 5, "leaky_relu", alpha=0.1), cr.Dense(5, 5, "relu"), cr.Dense(5, 2)],
            loss="mse",
            seed=2,
            l2=0.1,
        ),
    ]
    nets[0].metadata = {"labels": ["a", "b"], "note": "ü"}
    return [n.save(root / f"m{i}.crnet").read_bytes() for i, n in enumerate(nets)]


class Marker:
    """A pickle payload that would create a file if it were ever unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _mutate(rng: np.random.Generator, data: bytes, marker) -> bytes:
    kind = rng.integers(9)
    b = bytearray(data)
    if kind == 0:  # truncate anywhere
        return bytes(b[: rng.integers(len(b))])
    if kind == 1:  # flip a few bytes anywhere
        for _ in range(rng.integers(1, 8)):
            b[rng.integers(len(b))] ^= 1 << int(rng.integers(8))
        return bytes(b)
    if kind == 2:  # flip bytes inside the fixed prefix / header length
        b[rng.integers(8, 20)] = int(rng.integers(256))
        return bytes(b)
    if kind == 3:  # insert or delete a chunk
        at = rng.integers(len(b))
        if rng.integers(2):
            return bytes(b[:at] + rng.bytes(int(rng.integers(1, 64))) + b[at:])
        return bytes(b[:at] + b[at + int(rng.integers(1, 64)) :])
    if kind == 4:  # a pickle behind our magic number, or bare
        payload = pickle.dumps(marker, protocol=int(rng.integers(0, 6)))
        return (io.MAGIC if rng.integers(2) else b"") + payload
    if kind == 5:  # random bytes behind a valid prefix
        body = rng.bytes(int(rng.integers(0, 512)))
        return io.MAGIC + struct.pack("<IQ", 1, int(rng.integers(0, 2**40))) + body
    if kind == 6:  # other formats' openings
        heads = [b"PK\x03\x04", b"\x93NUMPY\x01\x00", b"PAR1", b"\x89PNG\r\n\x1a\n", b"{}", b"\xef"]
        return heads[int(rng.integers(len(heads)))] + rng.bytes(int(rng.integers(0, 256)))
    if kind == 7:  # edit one number in the JSON header text (shapes, offsets, sizes)
        n = struct.unpack_from("<Q", data, 12)[0]
        header = bytearray(data[20 : 20 + n])
        digits = [i for i, c in enumerate(header) if chr(c).isdigit()]
        if digits:
            header[digits[rng.integers(len(digits))]] = ord(str(rng.integers(10)))
        return data[:20] + bytes(header) + data[20 + n :]
    # kind 8: swap the header of one file for a random-length slice of itself
    n = struct.unpack_from("<Q", data, 12)[0]
    cut = int(rng.integers(1, n + 1))
    return data[:12] + struct.pack("<Q", cut) + data[20 : 20 + cut] + data[20 + n :]


def _load(path):
    """Load once; return the outcome, the seconds taken and the peak traced memory."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        cr.load(path)
        outcome = "loaded"
    except cr.ModelFileError:
        outcome = "refused"
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, seconds, peak


def test_random_mutations_are_refused_cleanly(originals, tmp_path, capsys):
    rng = np.random.default_rng(20261123)
    marker = tmp_path / "EXECUTED"
    path = tmp_path / "fuzz.crnet"
    counts = {"loaded": 0, "refused": 0}
    slowest = peak_max = 0.0
    for _ in range(MUTATIONS):
        original = originals[rng.integers(len(originals))]
        data = _mutate(rng, original, Marker(marker))
        path.write_bytes(data)
        # Any other exception propagates and fails the test: only ModelFileError is clean.
        outcome, seconds, peak = _load(path)
        counts[outcome] += 1
        slowest = max(slowest, seconds)
        # Memory stays within a small multiple of the file itself (no giant allocations).
        assert peak < 8 * len(data) + 4 * 2**20, (peak, len(data))
        peak_max = max(peak_max, peak)
    assert not marker.exists(), "a pickle payload was executed"
    assert slowest < MAX_SECONDS
    assert counts["refused"] > MUTATIONS // 2  # the mutations really do corrupt files
    with capsys.disabled():
        print(
            f"\n[reliability] model-file mutations: {MUTATIONS} cases, "
            f"{counts['refused']} refused with ModelFileError, {counts['loaded']} still valid "
            f"(benign edits), other errors 0, slowest {slowest * 1e3:.1f} ms, "
            f"peak memory {peak_max / 2**20:.2f} MiB, code executed 0"
        )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_entry = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["layers.0.W", "layers.0.b", "layers.1.W", "x"])
        | st.text(max_size=5),
        "dtype": st.sampled_from(["<f4", "<f8", "<i8", "|O", ">f4", "<c16", "x"]),
        "shape": st.lists(st.integers(-2, 2**40), max_size=5) | _json,
        "offset": st.integers(-10, 2**62) | _json,
        "nbytes": st.integers(-10, 2**62) | _json,
    }
)
_layer = st.fixed_dictionaries(
    {
        "n_in": st.integers(-1, 10**12) | _json,
        "n_out": st.integers(-1, 10**12),
        "activation": st.sampled_from(["tanh", "relu", "softmax", "eval", "__import__"]) | _json,
        "bias": st.booleans() | _json,
    }
)
_header = st.fixed_dictionaries(
    {
        "format": st.just("chainrule-model") | _json,
        "network": st.fixed_dictionaries(
            {
                "layers": st.lists(_layer, max_size=3) | _json,
                "loss": st.sampled_from(["mse", "cross_entropy", "nope"]) | _json,
                "dtype": st.sampled_from(["float32", "float64", "object", "int8"]) | _json,
            }
        )
        | _json,
        "arrays": st.lists(_entry, max_size=4) | _json,
        "rng": _json,
        "metadata": _json,
    }
)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=_header, tail=st.binary(max_size=256), deep=st.integers(0, 3))
def test_crafted_headers_are_refused_cleanly(tmp_path_factory, header, tail, deep):
    text = json.dumps(header)
    if deep == 3:  # nesting far past any legitimate header
        text = "[" * 5000 + text + "]" * 5000
    raw = text.encode("utf-8") if deep != 2 else text.encode("utf-16")  # 2: not UTF-8
    path = tmp_path_factory.mktemp("h") / "h.crnet"
    path.write_bytes(io.MAGIC + struct.pack("<IQ", 1, len(raw)) + raw + tail)
    outcome, seconds, peak = _load(path)
    assert outcome in ("loaded", "refused")
    assert seconds < MAX_SECONDS and peak < 16 * 2**20


def test_duplicate_keys_are_refused(tmp_path):
    raw = b'{"format": "chainrule-model", "arrays": [], "arrays": []}'
    path = tmp_path / "d.crnet"
    path.write_bytes(io.MAGIC + struct.pack("<IQ", 1, len(raw)) + raw)
    with pytest.raises(cr.ModelFileError, match="repeats the key"):
        cr.load(path)
