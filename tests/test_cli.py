"""The command line as a user drives it: train, predict, evaluate, interrupt and resume, and
malformed inputs that must each give one clear message."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr


def run(*args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """A CSV with string labels and a column name with spaces, split in train and test."""
    folder = tmp_path_factory.mktemp("flowers")
    rng = np.random.default_rng(0)
    names = np.array(["setosa", "versicolor", "virginica"])
    y = rng.integers(0, 3, 300)
    X = rng.normal(size=(300, 3)) + y[:, None] * 2.0
    lines = ["petal length (cm),width,height,species"]
    lines += [f"{a:.4f},{b:.4f},{c:.4f},{names[k]}" for (a, b, c), k in zip(X, y)]
    (folder / "train.csv").write_text("\n".join(lines[:241]) + "\n")
    (folder / "test.csv").write_text("\n".join([lines[0], *lines[241:]]) + "\n")
    return folder


def test_train_predict_evaluate_with_string_labels(flowers):
    done = run(
        "train",
        "train.csv",
        "--target",
        "species",
        "--epochs",
        "40",
        "--hidden",
        "16",
        "--out",
        "flowers.crnet",
        "--plot",
        "figs",
        cwd=flowers,
    )
    assert done.returncode == 0, done.stderr
    assert (flowers / "flowers.crnet").exists() and (flowers / "figs/learning-curve.png").exists()
    history = (flowers / "flowers.history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,loss,accuracy,val_loss") and len(history) == 41

    predicted = run("predict", "flowers.crnet", "test.csv", "--out", "pred.csv", cwd=flowers)
    assert predicted.returncode == 0, predicted.stderr
    rows = (flowers / "pred.csv").read_text().splitlines()
    assert rows[0] == "prediction,p(setosa),p(versicolor),p(virginica)"
    truth = [line.rsplit(",", 1)[1] for line in (flowers / "test.csv").read_text().splitlines()[1:]]
    labels = [r.split(",")[0] for r in rows[1:]]
    assert set(labels) <= {"setosa", "versicolor", "virginica"}
    accuracy = np.mean([a == b for a, b in zip(labels, truth)])
    assert accuracy > 0.8

    evaluated = run("evaluate", "flowers.crnet", "test.csv", cwd=flowers)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"accuracy {accuracy:.4f}" in evaluated.stdout
    assert "confusion matrix" in evaluated.stdout and "virginica" in evaluated.stdout
    net = cr.load(flowers / "flowers.crnet")
    assert net.metadata["classes"] == ["setosa", "versicolor", "virginica"]
    assert net.metadata["features"][0] == "petal length (cm)"


def test_regression_on_a_numeric_target(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (400, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 0.5
    lines = ["a,b,price"] + [f"{p:.5f},{q:.5f},{t:.5f}" for (p, q), t in zip(X, y)]
    (tmp_path / "house.csv").write_text("\n".join(lines) + "\n")
    done = run(
        "train",
        "house.csv",
        "--target",
        "price",
        "--task",
        "regress",
        "--epochs",
        "60",
        "--hidden",
        "16",
        "--out",
        "house.crnet",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    evaluated = run("evaluate", "house.crnet", "house.csv", cwd=tmp_path)
    r2 = float(evaluated.stdout.split("R²")[1].split()[0])
    assert r2 > 0.95
    predicted = run("predict", "house.crnet", "house.csv", cwd=tmp_path)
    values = np.array([float(v) for v in predicted.stdout.split()])
    assert np.sqrt(np.mean((values - y) ** 2)) < 0.5


def test_sigint_then_resume_is_bit_identical(tmp_path):
    args = ["--epochs", "60", "--hidden", "32", "--seed", "3"]
    full = run("train", *args, "--out", "full.crnet", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    child = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "train", *args, "--out", "part.crnet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "part.crnet.ckpt").exists():  # wait until training is under way
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and "--resume" in err and "Traceback" not in err
    assert not (tmp_path / "part.crnet").exists()
    done = run("train", *args, "--out", "part.crnet", "--resume", "part.crnet.ckpt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    a, b = cr.load(tmp_path / "full.crnet"), cr.load(tmp_path / "part.crnet")
    assert a.theta.tobytes() == b.theta.tobytes()
