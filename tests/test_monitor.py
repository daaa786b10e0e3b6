"""GradientMonitor: per-layer gradient norms, saturated and dead units, recorded during fit."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.plot import gradient_monitor


def _data(rng, n=40):
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_records_every_epoch_and_match_the_gradients(rng):
    X, y = _data(rng)
    net = cr.Network(
        [cr.Dense(2, 6, "tanh"), cr.Dense(6, 4, "relu"), cr.Dense(4, 1, "sigmoid")],
        loss="binary_cross_entropy",
        seed=0,
    )
    start = net.copy()
    monitor = cr.GradientMonitor(X[:16], y[:16])
    history = net.fit(X, y, epochs=7, batch_size=8, optimizer=cr.SGD(0.1), callbacks=[monitor])
    extra = history.extra
    assert extra["monitor_epoch"] == [-1, 0, 1, 2, 3, 4, 5, 6] == monitor.epochs
    assert np.array(extra["grad_norm"]).shape == (8, 3)
    assert extra["layer_names"] == ["layer 1 (tanh)", "layer 2 (relu)", "layer 3 (sigmoid)"]

    def norms(model):
        return [np.linalg.norm(g["W"]) for g in model.gradients(X[:16], y[:16])]

    assert extra["grad_norm"][0] == pytest.approx(norms(start), rel=1e-6)  # before training
    assert extra["grad_norm"][-1] == pytest.approx(norms(net), rel=1e-6)  # the final weights
    # Saturation for the tanh layer, dead units for the ReLU layer, neither for the output
    # (its sigmoid is fused with the loss).
    for sat, dead in zip(extra["saturated"], extra["dead"]):
        assert sat[0] is not None and sat[1] is None and sat[2] is None
        assert dead[0] is None and dead[1] is not None and dead[2] is None
    assert monitor.as_dict()["grad_norm"] == extra["grad_norm"]


def test_every_k_epochs_keeps_the_first_and_the_last(rng):
    X, y = _data(rng)
    net = cr.Network(
        [cr.Dense(2, 4, "tanh"), cr.Dense(4, 1, "sigmoid")], loss="binary_cross_entropy", seed=1
    )
    monitor = cr.GradientMonitor(X, y, every=5)
    net.fit(X, y, epochs=12, callbacks=[monitor])
    assert monitor.epochs == [-1, 4, 9, 11]
    # A second fit starts a fresh record.
    net.fit(X, y, epochs=3, callbacks=[monitor])
    assert monitor.epochs == [-1, 2]


def test_saturated_and_dead_shares_are_measured(rng):
    X, y = _data(rng, 50)
    W = np.array([[30.0, -25.0, 0.01], [20.0, 40.0, -0.02]])
    net = cr.Network(
        [
            cr.Dense(2, 3, "sigmoid", weights=W, bias=[0.0, 0.0, 0.0]),
            cr.Dense(3, 4, "relu", weights=np.ones((3, 4)), bias=[-100.0, -100.0, 0.0, 0.0]),
            cr.Dense(4, 1, "identity"),
        ],
        loss="squared_error",
        dtype="float64",
        seed=0,
    )
    monitor = cr.GradientMonitor(X, y)
    history = net.fit(X, y, epochs=1, optimizer=cr.SGD(1e-6), callbacks=[monitor])
    h = 1 / (1 + np.exp(-(X @ W)))
    expected = np.mean(h * (1 - h) < 0.05 * 0.25)
    assert 0.5 < expected < 1.0  # two saturating units, one that is not
    assert history.extra["saturated"][0][0] == pytest.approx(expected)
    # The first two ReLUs get -100 + (at most 3): dead for every sample, the others alive.
    assert history.extra["dead"][0][1] == pytest.approx(0.5)
    # A dead unit passes no gradient: its column of dL/dW is exactly zero.
    assert not net.gradients(X, y)[1]["W"][:, :2].any()


def test_plots_and_validation(rng, tmp_path):
    X, y = _data(rng)
    net = cr.Network([cr.Dense(2, 4, "relu"), cr.Dense(4, 4, "sigmoid"), cr.Dense(4, 1)], seed=0)
    monitor = cr.GradientMonitor(X, y)
    with pytest.raises(cr.ConfigError, match="nothing recorded"):
        monitor.plot()
    history = net.fit(X, y, epochs=5, callbacks=[monitor])
    fig = monitor.plot(tmp_path / "monitor.png")
    assert (tmp_path / "monitor.png").read_bytes()[:4] == b"\x89PNG"
    ax0, ax1 = fig.get_axes()
    assert ax0.get_yscale() == "log" and len(ax0.get_lines()) == 3
    assert "epoch" in ax0.get_xlabel() and ax1.get_ylabel() == "share of units (%)"
    gradient_monitor(history, tmp_path / "from-history.svg")
    assert (tmp_path / "from-history.svg").exists()
    with pytest.raises(cr.ConfigError, match="nothing to plot"):
        gradient_monitor(cr.History())
    with pytest.raises(cr.ConfigError, match="every"):
        cr.GradientMonitor(X, y, every=0)
    with pytest.raises(cr.InputError, match="features"):
        net.fit(X, y, epochs=1, callbacks=[cr.GradientMonitor(X[:, :1], y)])


def _small(seed=0):
    return cr.Network(
        [cr.Dense(2, 4, "tanh"), cr.Dense(4, 1, "sigmoid")], loss="binary_cross_entropy", seed=seed
    )


def test_a_resumed_run_continues_the_record(rng, tmp_path):
    X, y = _data(rng)
    whole = _small().fit(X, y, epochs=6, callbacks=[cr.GradientMonitor(X, y, every=2)])
    first = _small().fit(
        X,
        y,
        epochs=3,
        checkpoint=tmp_path / "run.ckpt",
        checkpoint_every=1,
        callbacks=[cr.GradientMonitor(X, y, every=2)],
    )
    assert first.extra["monitor_epoch"] == [-1, 1, 2]
    monitor = cr.GradientMonitor(X, y, every=2)
    resumed = _small().fit(X, y, epochs=6, resume=tmp_path / "run.ckpt", callbacks=[monitor])
    # No second "start" record: the run goes on from epoch 2's record (kept in the checkpoint).
    assert resumed.extra["monitor_epoch"] == [-1, 1, 2, 3, 5] == monitor.epochs
    assert monitor.as_dict()["grad_norm"] == resumed.extra["grad_norm"]
    # Every epoch both runs recorded has bit-identical numbers.
    a = dict(zip(resumed.extra["monitor_epoch"], resumed.extra["grad_norm"]))
    b = dict(zip(whole.extra["monitor_epoch"], whole.extra["grad_norm"]))
    assert set(b) <= set(a) and all(a[k] == b[k] for k in b)


def test_an_interrupt_after_the_record_drops_the_rolled_back_epoch(rng):
    X, y = _data(rng)

    def interrupt(net, epoch, logs):  # Ctrl-C after the monitor recorded epoch 3
        if epoch == 3:
            raise KeyboardInterrupt

    net, monitor = _small(), cr.GradientMonitor(X, y)
    history = net.fit(X, y, epochs=6, callbacks=[monitor, interrupt])
    assert history.interrupted and len(history.loss) == 3
    assert history.extra["monitor_epoch"] == [-1, 0, 1, 2] == monitor.epochs
    # The last record is of the weights the network holds now: those after epoch 2.
    expected = [np.linalg.norm(g["W"]) for g in net.gradients(X, y)]
    assert history.extra["grad_norm"][-1] == pytest.approx(expected, rel=1e-6)


def test_train_command_with_monitor(tmp_path):
    import subprocess
    import sys

    from chainrule import data

    X, y = cr.datasets.moons(120, noise=0.1, seed=0)
    rows = "".join(f"{a},{b},{int(c)}\n" for (a, b), c in zip(X, y))
    (tmp_path / "moons.csv").write_text("x1,x2,label\n" + rows)
    args = ["moons.csv", "--target", "label", "--hidden", "6,5", "--activation", "tanh"]
    args += ["--epochs", "4", "--out", "m.crnet", "--plot", "figs", "--monitor"]
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "train", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "figs" / "gradient-monitor.png").read_bytes()[:4] == b"\x89PNG"
    lines = done.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    assert "‖dL/dW‖ start" in lines[head] and "‖dL/dW‖ epoch 4" in lines[head]
    table = [line.split() for line in lines[head + 2 : head + 5]]
    assert [row[:3] for row in table] == [
        ["layer", "1", "(tanh)"],
        ["layer", "2", "(tanh)"],
        ["layer", "3", "(softmax)"],
    ]
    # The last column of norms is that of the saved model on the probe (first 256 rows).
    net = cr.load(tmp_path / "m.crnet")
    dataset = data.load_training(tmp_path / "moons.csv", "label")
    probe = data.standardise(dataset.X, net.metadata["scaling"])
    norms = [np.linalg.norm(g["W"]) for g in net.gradients(probe, dataset.y)]
    assert [float(row[4]) for row in table] == pytest.approx(norms, rel=2e-3)
    assert all(row[5].endswith("%") and row[6] == "-" for row in table[:2])
