"""SIGINT and SIGKILL at random moments of a training run that checkpoints every epoch: the
checkpoint on disk always loads, and resuming from it ends bit-identical to a run that was
never interrupted."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr

RUNS = 25  # per signal

TRAINER = r"""
import sys
import numpy as np
import chainrule as cr
sys.path.insert(0, sys.argv[2])
from test_training_interrupts import setup
net, X, y = setup()
ready = lambda net, epoch, logs: epoch == 0 and print("ready", flush=True)
try:
    net.fit(X, y, **__import__("json").loads(sys.argv[3]), checkpoint=sys.argv[1],
            checkpoint_every=1, callbacks=[ready])
except KeyboardInterrupt:  # legitimate only if it came after fit had finished: checked below
    sys.exit(3)
"""

SETTINGS = {"epochs": 40, "batch_size": 64}


def setup():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 20))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0)
    net = cr.Network(
        [cr.Dense(20, 64, "tanh"), cr.Dense(64, 3, "softmax")], loss="cross_entropy", seed=5
    )
    return net, X, y


@pytest.fixture(scope="module")
def reference():
    net, X, y = setup()
    net.fit(X, y, optimizer="momentum", **SETTINGS)
    return net.theta.tobytes()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_training_resumes_bit_identically(tmp_path, reference, sig, capsys):
    import json
    from pathlib import Path

    from chainrule.checkpoint import load_checkpoint

    here = str(Path(__file__).parent)
    rng = np.random.default_rng(11)
    settings = json.dumps({**SETTINGS, "optimizer": "momentum"})
    outcomes = {"no checkpoint yet": 0, "resumed": 0, "finished": 0}
    for run in range(RUNS):
        path = tmp_path / f"run{run}.ckpt"
        child = subprocess.Popen(
            [sys.executable, "-c", TRAINER, str(path), here, settings],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))  # training is under way
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert "Traceback" not in err, err
        escaped = child.returncode == 3  # the signal reached the script after fit returned
        net, X, y = setup()
        if not path.exists():
            assert not escaped, "fit let Ctrl-C escape"
            outcomes["no checkpoint yet"] += 1
            continue
        saved, state = load_checkpoint(path)  # the checkpoint always loads
        assert not escaped or state.epoch == SETTINGS["epochs"], "fit let Ctrl-C escape"
        if state.epoch == SETTINGS["epochs"]:  # the run had finished before the signal
            assert saved.theta.tobytes() == reference
            outcomes["finished"] += 1
            continue
        net.fit(X, y, resume=path, **SETTINGS)
        assert net.theta.tobytes() == reference
        outcomes["resumed"] += 1
    with capsys.disabled():
        print(
            f"\n[reliability] {signal.Signals(sig).name} during training: {RUNS} runs, "
            f"{outcomes['resumed']} resumed bit-identically, "
            f"{outcomes['no checkpoint yet']} stopped before the first checkpoint, failures 0"
        )
