"""Kills and interrupts while a model file is being written: the file on disk is always the old
or the new model, complete, and it loads."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr

KILLS = 50

# Saves two different networks to one path, alternately, as fast as it can.
WRITER = r"""
import sys
import chainrule as cr
path = sys.argv[1]
nets = [cr.Network([cr.Dense(400, 400, "tanh"), cr.Dense(400, 10, "softmax")],
                   loss="cross_entropy", seed=seed) for seed in (0, 1)]
nets[0].save(path)
print("ready", flush=True)
i = 0
while True:
    i += 1
    nets[i % 2].save(path)
"""


def _versions():
    return [
        cr.Network(
            [cr.Dense(400, 400, "tanh"), cr.Dense(400, 10, "softmax")],
            loss="cross_entropy",
            seed=seed,
        ).theta.tobytes()
        for seed in (0, 1)
    ]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_while_saving_leaves_old_or_new_file(tmp_path, sig, capsys):
    versions = _versions()
    path = tmp_path / "model.crnet"
    rng = np.random.default_rng(7)
    seen = {0: 0, 1: 0}
    for _ in range(KILLS // 2):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))  # somewhere inside a save, most of the time
        child.send_signal(sig)
        child.wait(timeout=10)
        loaded = cr.load(path)  # always a complete model file
        which = versions.index(loaded.theta.tobytes())  # and exactly one of the two
        seen[which] += 1
        if sig == signal.SIGINT:  # an interrupted save removes its temporary file
            leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.crnet"]
            assert leftovers == []
        for stale in tmp_path.glob(".model.crnet.*.tmp"):  # SIGKILL cannot clean up
            stale.unlink()
    with capsys.disabled():
        print(
            f"\n[reliability] {signal.Signals(sig).name} during saving: {KILLS // 2} kills, "
            f"file old/new {seen[0]}/{seen[1]}, unreadable 0"
        )
