"""Interrupt, checkpoint, resume: the resumed run ends bit-identical to an uninterrupted one."""

import numpy as np
import pytest

import chainrule as cr

SMALL = ([4, 8, 3], 8)  # compiled path
LARGE = ([4, 300, 3], 64)  # NumPy path (batch × parameters > 100,000)


def _setup(shape, seed=0):
    sizes, batch = shape
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, sizes[0]))
    y = rng.integers(0, sizes[-1], 200)
    net = cr.Network(
        [cr.Dense(sizes[0], sizes[1], "relu"), cr.Dense(sizes[1], sizes[2], "softmax")],
        loss="cross_entropy",
        seed=seed,
    )
    return net, X, y, batch


OPTIMIZERS = {
    "momentum": lambda: cr.SGD(0.05, momentum=0.9, schedule=cr.StepDecay(2, 0.5)),
    "adam": lambda: cr.Adam(0.01, schedule=cr.InverseScaling(0.5)),
}


class StopAt(cr.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["compiled", "numpy"])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_interrupt_then_resume_is_bit_identical(tmp_path, shape, opt):
    kwargs = dict(epochs=7, validation_split=0.2, early_stopping=cr.EarlyStopping(patience=50))
    net, X, y, batch = _setup(shape)
    full = net.fit(X, y, batch_size=batch, optimizer=OPTIMIZERS[opt](), **kwargs)

    net, X, y, batch = _setup(shape)
    path = tmp_path / "run.ckpt"
    part = net.fit(
        X,
        y,
        batch_size=batch,
        optimizer=OPTIMIZERS[opt](),
        checkpoint=path,
        callbacks=[StopAt(3)],
        **kwargs,
    )
    assert part.interrupted and len(part.loss) == 3  # epochs 0-2 done; epoch 3 rolled back
    assert part.loss == full.loss[:3]

    from chainrule.checkpoint import load_checkpoint

    _, state = load_checkpoint(path)  # a checkpoint is also a model file (cr.load reads it)
    assert state.epoch == 3 and state.history.loss == part.loss
    fresh, _, _, _ = _setup(shape, seed=99)  # other weights: resume must restore them
    rest = fresh.fit(X, y, batch_size=batch, resume=path, **kwargs)
    assert rest.loss == full.loss and rest.val_loss == full.val_loss
    assert fresh.theta.tobytes() == _final(shape, opt, X, y, kwargs).tobytes()


def _final(shape, opt, X, y, kwargs):
    net, _, _, batch = _setup(shape)
    net.fit(X, y, batch_size=batch, optimizer=OPTIMIZERS[opt](), **kwargs)
    return net.theta


def test_interrupt_in_the_middle_of_an_epoch(tmp_path, monkeypatch):
    net, X, y, batch = _setup(LARGE)
    reference = net.copy()
    reference.fit(X, y, epochs=4, batch_size=batch, optimizer=cr.SGD(0.1, momentum=0.9))
    calls = {"n": 0}
    original = cr.Network.backward

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:  # the 2nd step of epoch 2 (4 steps per epoch)
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cr.Network, "backward", flaky)
    path = tmp_path / "mid.ckpt"
    history = net.fit(
        X, y, epochs=4, batch_size=batch, optimizer=cr.SGD(0.1, momentum=0.9), checkpoint=path
    )
    assert history.interrupted and len(history.loss) == 2
    monkeypatch.setattr(cr.Network, "backward", original)
    resumed = cr.load(path)
    resumed.fit(X, y, epochs=4, batch_size=batch, resume=path)
    assert resumed.theta.tobytes() == reference.theta.tobytes()


def test_periodic_checkpoints_and_final_state(tmp_path):
    net, X, y, batch = _setup(SMALL)
    path = tmp_path / "every.ckpt"
    net.fit(X, y, epochs=3, batch_size=batch, checkpoint=path, checkpoint_every=2)
    from chainrule.checkpoint import load_checkpoint

    saved, state = load_checkpoint(path)
    assert state.epoch == 3 and len(state.history.loss) == 3  # the final write wins
    assert saved.theta.tobytes() == net.theta.tobytes()


def test_resume_is_validated(tmp_path):
    net, X, y, batch = _setup(SMALL)
    path = tmp_path / "c.ckpt"
    net.fit(X, y, epochs=2, batch_size=batch, checkpoint=path)
    with pytest.raises(cr.ConfigError, match="same batch_size"):
        net.fit(X, y, epochs=4, batch_size=batch + 1, resume=path)
    with pytest.raises(cr.ConfigError, match="already completed 2 epochs"):
        net.fit(X, y, epochs=2, batch_size=batch, resume=path)
    other = cr.Network([cr.Dense(4, 5, "relu"), cr.Dense(5, 3, "softmax")], loss="cross_entropy")
    with pytest.raises(cr.ConfigError, match="different network"):
        other.fit(X, y, epochs=4, batch_size=batch, resume=path)
    plain = tmp_path / "plain.crnet"
    net.save(plain)
    with pytest.raises(cr.ModelFileError, match="not a checkpoint"):
        net.fit(X, y, epochs=4, batch_size=batch, resume=plain)
    with pytest.raises(cr.ConfigError, match="checkpoint_every=0"):
        net.fit(X, y, epochs=4, checkpoint=path, checkpoint_every=0)


def test_interrupt_in_the_first_epoch_with_early_stopping(tmp_path):
    net, X, y, batch = _setup(SMALL)
    path = tmp_path / "first.ckpt"
    history = net.fit(
        X,
        y,
        epochs=3,
        batch_size=batch,
        checkpoint=path,
        early_stopping=True,
        validation_split=0.2,
        callbacks=[StopAt(0)],
    )
    assert history.interrupted and history.loss == []
    rest = net.fit(
        X, y, epochs=3, batch_size=batch, resume=path, early_stopping=True, validation_split=0.2
    )
    assert len(rest.loss) == 3
