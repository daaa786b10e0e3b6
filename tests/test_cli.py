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
    assert (tmp_path / "full.crnet.ckpt").exists()  # the default checkpoint sits by the model
    args += ["--checkpoint", "run.ckpt"]
    child = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "train", *args, "--out", "part.crnet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "run.ckpt").exists():  # wait until training is under way
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and "--resume run.ckpt" in err and "Traceback" not in err
    assert not (tmp_path / "part.crnet").exists() and not (tmp_path / "part.history.csv").exists()
    done = run("train", *args, "--out", "part.crnet", "--resume", "run.ckpt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    a, b = cr.load(tmp_path / "full.crnet"), cr.load(tmp_path / "part.crnet")
    assert a.theta.tobytes() == b.theta.tobytes()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A good CSV, a model trained on it, and files that do not fit it."""
    folder = tmp_path_factory.mktemp("small")
    rng = np.random.default_rng(2)
    rows = ["x1,x2,label"] + [
        f"{a:.3f},{b:.3f},{'yes' if a > b else 'no'}" for a, b in rng.normal(size=(40, 2))
    ]
    (folder / "good.csv").write_text("\n".join(rows) + "\n")
    (folder / "quoted.csv").write_text('"x1;x2;label"\n"1;2;yes"\n"3;4;no"\n')
    np.save(folder / "wide.npy", rng.normal(size=(5, 3)))
    (folder / "h.history.csv").mkdir()  # where 'train --out h.crnet' would write its history
    done = run(
        "train", "good.csv", "--target", "label", "--epochs", "2", "--out", "m.crnet", cwd=folder
    )
    assert done.returncode == 0, done.stderr
    return folder


OUTPUT_CASES = [
    (["--out", "."], "--out '.' is a folder"),
    (["--out", "m.crnet", "--plot", "good.csv"], "--plot 'good.csv' is a file"),
    (["--out", "n.crnet", "--checkpoint", "nowhere/c.ckpt"], "must be a file in an existing"),
    (["--out", "n.crnet", "--checkpoint", "n.crnet"], "--checkpoint must differ from --out"),
    (["--out", "n.crnet", "--resume", "good.csv"], "not a chainrule model file"),
    (["--out", "h.crnet"], "would replace a folder"),
]


@pytest.mark.parametrize(("args", "words"), OUTPUT_CASES, ids=[a[-1] for a, _ in OUTPUT_CASES])
def test_bad_output_paths_fail_before_training(small, args, words):
    before = sorted(p.name for p in small.iterdir())
    done = run("train", "good.csv", "--target", "label", "--epochs", "2", *args, cwd=small)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sorted(p.name for p in small.iterdir()) == before  # no model, history or plot


def test_files_that_do_not_fit_the_model_are_explained(small):
    wide = run("predict", "m.crnet", "wide.npy", "--out", "p.csv", cwd=small)
    assert wide.returncode == 1 and "Traceback" not in wide.stderr
    assert "trained on 2 features ('x1', 'x2')" in wide.stderr and "has 3 columns" in wide.stderr
    assert not (small / "p.csv").exists()
    quoted = run("train", "quoted.csv", "--target", "label", "--out", "q.crnet", cwd=small)
    assert quoted.returncode == 1 and "check its delimiter" in quoted.stderr
    assert not (small / "q.crnet").exists()


def test_every_command_has_help():
    from typer.main import get_command
    from typer.testing import CliRunner

    from chainrule.cli import app

    commands = get_command(app).commands
    assert {"train", "predict", "evaluate", "export", "summary"} <= set(commands)
    for name, command in commands.items():
        shown = CliRunner().invoke(app, [name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)
        assert "Usage: " in shown.output and command.help.split()[0] in shown.output
        for option in command.params:  # every option is documented
            if option.param_type_name == "option" and option.name != "help":
                assert option.help, f"{name} {option.name} has no help text"
