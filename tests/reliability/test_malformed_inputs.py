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


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    """Good and bad data files, and a model trained on the good one."""
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    rows = ["x1,x2,label"] + [
        f"{a:.3f},{b:.3f},{'yes' if a + b > 0 else 'no'}" for a, b in rng.normal(size=(60, 2))
    ]
    (d / "good.csv").write_text("\n".join(rows) + "\n")
    bad = {
        "nan.csv": "x1,x2,label\n1,2,yes\n3,,no\n",
        "inf.csv": "x1,x2,label\n1,2,yes\n3,inf,no\n",
        "ragged.csv": "x1,x2,label\n1,2,yes\n3,4,5,no,extra\n",
        "empty.csv": "",
        "header.csv": "x1,x2,label\n",
        "text.csv": "x1,x2,label\n1,abc,yes\n2,3,no\n",
        "oneclass.csv": "x1,x2,label\n1,2,yes\n3,4,yes\n",
        "unseen.csv": "x1,x2,label\n1,2,maybe\n",
        "nofeature.csv": "x1,label\n1,yes\n",
        "delim.csv": "x1;x2|label\n1;2|yes\n3;4|no\n",
    }
    for name, text in bad.items():
        (d / name).write_text(text)
    (d / "latin1.csv").write_bytes("x1,x2,label\n1,2,oui\n3,4,tr\xe8s\n".encode("latin-1"))
    (d / "table.xlsx").write_bytes(b"PK\x03\x04")
    plain = _net()
    plain.save(d / "plain.crnet")
    done = _cli(
        "train", "good.csv", "--target", "label", "--epochs", "2", "--out", "m.crnet", cwd=d
    )
    assert done.returncode == 0, done.stderr
    return d


DATA_CASES = [
    (["train", "nan.csv", "--target", "label"], "missing or infinite value in row 2"),
    (["train", "inf.csv", "--target", "label"], "missing or infinite value in row 2"),
    (["train", "ragged.csv", "--target", "label"], "cannot be read"),
    (["train", "empty.csv", "--target", "label"], "is empty"),
    (["train", "header.csv", "--target", "label"], "no data rows"),
    (["train", "text.csv", "--target", "label"], "'x2' is not numeric: row 1 holds 'abc'"),
    (["train", "oneclass.csv", "--target", "label"], "one class only"),
    (["train", "latin1.csv", "--target", "label"], "not UTF-8"),
    (["train", "delim.csv", "--target", "label"], "column 'label' is not in the data"),
    (["train", "good.csv", "--target", "price"], "'price' is not in the data"),
    (["train", "good.csv"], "--target is needed"),
    (["train", "missing.csv", "--target", "label"], "does not exist"),
    (["train", "table.xlsx", "--target", "label"], "unknown format .xlsx"),
    (["train", "good.csv", "--target", "label", "--hidden", "8,x"], "--hidden"),
    (["train", "good.csv", "--target", "label", "--epochs", "0"], "epochs"),
    (["train", "good.csv", "--target", "label", "--optimizer", "lbfgs"], "optimizer"),
    (["train", "good.csv", "--target", "label", "--activation", "swish"], "swish"),
    (["train", "good.csv", "--target", "label", "--lr", "-1"], "lr="),
    (["train", "good.csv", "--target", "label", "--val-split", "1.5"], "validation_split"),
    (["train", "good.csv", "--target", "label", "--out", "nowhere/m.crnet"], "does not exist"),
    (["train", "good.csv", "--target", "label", "--task", "cluster"], "--task"),
    (["predict", "m.crnet", "nofeature.csv"], "'x2' is not in the data"),
    (["predict", "m.crnet", "text.csv"], "not numeric"),
    (["predict", "plain.crnet", "good.csv"], "not trained from a data file"),
    (["predict", "m.crnet", "good.csv", "--out", "nowhere/p.csv"], "does not exist"),
    (["evaluate", "m.crnet", "unseen.csv"], "'maybe' in row 1, a label the model"),
    (["evaluate", "m.crnet", "nofeature.csv"], "not in the data"),
]


@pytest.mark.parametrize(("args", "words"), DATA_CASES, ids=[" ".join(a) for a, _ in DATA_CASES])
def test_cli_rejects_malformed_data(data_files, args, words):
    before = sorted(p.name for p in data_files.rglob("*"))
    done = _cli(*args, cwd=data_files)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert words in " ".join(done.stderr.split()), done.stderr
    assert sorted(p.name for p in data_files.rglob("*")) == before  # no partial output
