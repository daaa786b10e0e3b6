"""A catalogue of malformed inputs through the Python API and the command line: each gives a
ChainruleError naming what is wrong (one line and a non-zero exit on the command line, no
traceback), and no output file is left behind."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr


def _net():
    return cr.Network(
        [cr.Dense(2, 4, "tanh"), cr.Dense(4, 3, "softmax")], loss="cross_entropy", seed=0
    )


X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
y = np.array([0, 1, 2, 1])

API_CASES = {
    "NaN in X": (lambda: _net().fit(np.where(X == 1, np.nan, X), y), "X contains NaN"),
    "inf in X": (lambda: _net().predict([[np.inf, 0]]), "infinity"),
    "ragged rows": (lambda: _net().predict([[1.0, 2.0], [3.0]]), "cannot be read"),
    "empty X": (lambda: _net().predict(np.empty((0, 2))), "empty"),
    "strings as features": (lambda: _net().predict([["a", "b"]]), "dtype"),
    "1-D sample": (lambda: _net().predict([1.0, 2.0]), "reshape"),
    "3-D X": (lambda: _net().predict(np.zeros((2, 2, 2))), "2-D"),
    "wrong feature count": (lambda: _net().predict(np.zeros((2, 5))), "expects 2"),
    "label out of range": (lambda: _net().fit(X, [0, 1, 2, 3]), "out of range"),
    "negative label": (lambda: _net().fit(X, [0, -1, 2, 1]), "out of range"),
    "fractional label": (lambda: _net().fit(X, [0, 1.5, 2, 1]), "non-integer"),
    "string labels": (lambda: _net().fit(X, ["a", "b", "c", "a"]), "integers"),
    "length mismatch": (lambda: _net().fit(X, y[:3]), "4 samples but Y has 3"),
    "NaN target": (
        lambda: cr.Network([cr.Dense(2, 1)], loss="mse").fit(X, [1, np.nan, 0, 1]),
        "NaN",
    ),
    "learning rate 0": (lambda: cr.SGD(0), "lr="),
    "learning rate inf": (lambda: cr.Adam(np.inf), "lr="),
    "learning rate as text": (lambda: cr.SGD("fast"), "lr="),
    "momentum 1": (lambda: cr.SGD(0.1, momentum=1.0), "momentum"),
    "zero epochs": (lambda: _net().fit(X, y, epochs=0), "epochs=0"),
    "a billion-sample batch of -1": (lambda: _net().fit(X, y, batch_size=-1), "batch_size"),
    "validation split 1": (lambda: _net().fit(X, y, validation_split=1.0), "validation_split"),
    "unknown activation": (lambda: cr.Dense(2, 2, "swish"), "activation='swish'"),
    "unknown loss": (lambda: cr.Network([cr.Dense(2, 2)], loss="hinge"), "loss='hinge'"),
    "unknown optimizer": (lambda: _net().fit(X, y, optimizer="rmsprop"), "optimizer"),
    "softmax with squared error mismatch": (
        lambda: cr.Network([cr.Dense(2, 3, "sigmoid")], loss="cross_entropy"),
        "softmax",
    ),
    "layers that do not chain": (lambda: cr.Network([cr.Dense(2, 3), cr.Dense(4, 1)]), "expects 4"),
    "zero units": (lambda: cr.Dense(2, 0), "n_out=0"),
    "bad dtype": (lambda: cr.Network([cr.Dense(2, 2)], dtype="float16"), "dtype"),
    "negative L2": (lambda: cr.Network([cr.Dense(2, 2)], l2=-1.0), "l2="),
    "negative sample weight": (lambda: _net().fit(X, y, sample_weight=[1, -1, 1, 1]), ">= 0"),
    "trace of a huge batch": (
        lambda: _net().trace(np.zeros((100, 2)), np.zeros(100, int)),
        "at most 64",
    ),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_rejects_malformed_input(case):
    call, words = API_CASES[case]
    with pytest.raises(cr.ChainruleError, match=words):
        call()


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture
def files(tmp_path):
    net = _net()
    net.save(tmp_path / "good.crnet")
    (tmp_path / "pickle.crnet").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "empty.crnet").write_bytes(b"")
    (tmp_path / "text.crnet").write_text("hello")
    return tmp_path


CLI_CASES = [
    (["summary", "missing.crnet"], "does not exist"),
    (["summary", "pickle.crnet"], "pickle"),
    (["summary", "empty.crnet"], "not a chainrule model"),
    (["summary", "text.crnet"], "not a chainrule model"),
    (["summary", "."], "folder"),
    (["trace", "good.crnet", "--x", "1,2"], "--x and --y"),
    (["trace", "good.crnet", "--x", "1,a", "--y", "0"], "comma-separated"),
    (["trace", "good.crnet", "--x", "1,2,3", "--y", "0"], "expects 2"),
    (["trace", "good.crnet", "--x", "1,2", "--y", "7"], "out of range"),
    (["trace", "--lr", "-1"], "lr="),
    (["trace", "--format", "pdf"], "--format"),
    (["bench", "--nets", "huge"], "unknown network"),
    (["bench", "--seconds", "0"], "--seconds"),
]


@pytest.mark.parametrize(("args", "words"), CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_cli_rejects_malformed_input(files, args, words):
    before = sorted(p.name for p in files.iterdir())
    done = _cli(*args, cwd=files)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert words in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # one message (rich may wrap it)
    assert sorted(p.name for p in files.iterdir()) == before  # nothing written
