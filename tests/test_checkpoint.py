"""Interrupt, checkpoint, resume: the resumed run ends bit-identical to an uninterrupted one."""

import re

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
    # No kernel for AdamW or clipping: the NumPy path at either shape.
    "adamw-clip": lambda: cr.AdamW(0.01, clipnorm=0.5, schedule=cr.WarmupCosine(2, 7, 0.1)),
    "momentum-clipvalue": lambda: cr.SGD(0.05, momentum=0.9, clipvalue=0.05),
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


# ---------------------------------------------------------------- a checkpoint is not trusted


def _checkpoint(tmp_path, optimizer, **kwargs):
    """A real checkpoint after 2 of the epochs of a small run, and that run's data."""
    net, X, y, batch = _setup(SMALL)
    path = tmp_path / "run.ckpt"
    net.fit(X, y, epochs=2, batch_size=batch, optimizer=optimizer, checkpoint=path, **kwargs)
    return path, X, y, batch


def _edit(path, header=None, arrays=None):
    """Rewrite a model file with its parsed header and arrays edited in place."""
    from chainrule import io

    meta, stored = io.read_model_file(path)
    del meta["format"]
    if header is not None:
        header(meta)
    if arrays is not None:
        arrays(stored)
    io.write_model_file(path, meta, stored)


def _ckpt(key, value):
    return lambda h: h["checkpoint"].__setitem__(key, value)


def _sub(*keys, value):
    def edit(h):
        target = h["checkpoint"]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _array(name, change):
    return lambda a: a.__setitem__(name, change(a[name]))


def _set_inf(array):
    array = array.copy()
    array[0] = np.inf
    return array


ADAM = lambda: cr.Adam(0.01)  # noqa: E731
MOMENTUM = lambda: cr.SGD(0.05, momentum=0.9, schedule=cr.StepDecay(2, 0.5))  # noqa: E731
SPLIT = {"validation_split": 0.2}
STOP = {"validation_split": 0.2, "early_stopping": cr.EarlyStopping(patience=50)}
ADAMW = lambda: cr.AdamW(0.01, clipnorm=1.0, schedule=cr.WarmupCosine(1, 5))  # noqa: E731
PLATEAU = {"callbacks": [cr.ReduceLROnPlateau(patience=1)]}

CORRUPT = {
    # name: (optimizer, fit kwargs, header edit, arrays edit, the field the error names)
    "epoch negative (trained forever)": (ADAM, {}, _ckpt("epoch", -(10**12)), None, "'epoch'"),
    "epoch a bool": (ADAM, {}, _ckpt("epoch", True), None, "'epoch'"),
    "adam t=-1 (ZeroDivisionError)": (
        ADAM,
        {},
        _sub("optimizer", "t", value=-1),
        None,
        "'optimizer.t'",
    ),
    "adam t=10**24 (OverflowError)": (
        ADAM,
        {},
        _sub("optimizer", "t", value=10**24),
        None,
        "'optimizer.t'",
    ),
    "adam t below the epochs": (ADAM, {}, _sub("optimizer", "t", value=1), None, "'optimizer.t'"),
    "split_seed text (TypeError)": (ADAM, SPLIT, _ckpt("split_seed", "x"), None, "'split_seed'"),
    "split_seed missing with a split": (
        ADAM,
        SPLIT,
        _ckpt("split_seed", None),
        None,
        "'split_seed'",
    ),
    "m reshaped (n, 1) (TypingError)": (
        ADAM,
        {},
        None,
        _array("optimizer.m.0", lambda a: a.reshape(-1, 1)),
        "'optimizer.m.0'",
    ),
    "m holds inf": (ADAM, {}, None, _array("optimizer.m.0", _set_inf), "'optimizer.m.0'"),
    "v float64 in a float32 net": (
        ADAM,
        {},
        None,
        _array("optimizer.v.0", lambda a: a.astype(np.float64)),
        "'optimizer.v.0'",
    ),
    "v missing": (ADAM, {}, None, lambda a: a.pop("optimizer.v.0"), "'optimizer.v.0'"),
    "velocity missing": (
        MOMENTUM,
        {},
        None,
        lambda a: a.pop("optimizer.velocity.0"),
        "'optimizer.velocity.0'",
    ),
    "extra optimizer array": (
        MOMENTUM,
        {},
        None,
        lambda a: a.__setitem__("optimizer.velocity.1", a["optimizer.velocity.0"]),
        "'optimizer.velocity.1'",
    ),
    "early stopping keys missing (KeyError)": (
        ADAM,
        STOP,
        _ckpt("early_stopping", {"best": 1.0}),
        None,
        "'early_stopping'",
    ),
    "early stopping wait text": (
        ADAM,
        STOP,
        _sub("early_stopping", "wait", value="3"),
        None,
        "'early_stopping.wait'",
    ),
    "early stopping best weights shrunk": (
        ADAM,
        STOP,
        None,
        _array("early_stopping.best", lambda a: a[:3]),
        "'early_stopping.best'",
    ),
    "settings a list": (ADAM, {}, _ckpt("settings", [8, True, 0.0]), None, "'settings'"),
    "settings batch_size true (== 1)": (
        ADAM,
        {},
        _sub("settings", "batch_size", value=True),
        None,
        "'settings.batch_size'",
    ),
    "history loss short (IndexError)": (
        ADAM,
        {},
        _sub("history", "loss", value=[1.0]),
        None,
        "'history.loss'",
    ),
    "history accuracy text": (
        ADAM,
        {},
        _sub("history", "accuracy", value=["a", "b"]),
        None,
        "'history.accuracy[0]'",
    ),
    "history val_loss one of two": (
        ADAM,
        SPLIT,
        _sub("history", "val_loss", value=[1.0]),
        None,
        "'history.val_loss'",
    ),
    "history extra a list": (
        ADAM,
        {},
        _sub("history", "extra", value=[1]),
        None,
        "'history.extra'",
    ),
    "history best_epoch text": (
        ADAM,
        {},
        _sub("history", "best_epoch", value="1"),
        None,
        "'history.best_epoch'",
    ),
    "monitor record rows missing": (
        ADAM,
        {},
        _sub("history", "extra", value={"monitor_epoch": [0]}),
        None,
        "'history.extra.grad_norm'",
    ),
    "optimizer lr 10**400 (OverflowError)": (
        ADAM,
        {},
        _sub("optimizer", "lr", value=10**400),
        None,
        "'optimizer.lr'",
    ),
    "optimizer lr text": (
        MOMENTUM,
        {},
        _sub("optimizer", "lr", value="0.1"),
        None,
        "'optimizer.lr'",
    ),
    "optimizer nesterov 1": (
        MOMENTUM,
        {},
        _sub("optimizer", "nesterov", value=1),
        None,
        "'optimizer.nesterov'",
    ),
    "optimizer unknown": (
        MOMENTUM,
        {},
        _sub("optimizer", "name", value="rmsprop"),
        None,
        "'optimizer.name'",
    ),
    "adamw weight_decay negative": (
        ADAMW,
        {},
        _sub("optimizer", "weight_decay", value=-0.1),
        None,
        "'optimizer.weight_decay'",
    ),
    "clipnorm zero": (
        ADAMW,
        {},
        _sub("optimizer", "clipnorm", value=0),
        None,
        "'optimizer.clipnorm'",
    ),
    "clipnorm and clipvalue both": (
        ADAMW,
        {},
        _sub("optimizer", "clipvalue", value=1.0),
        None,
        "'optimizer'",
    ),
    "warmup not below total": (
        ADAMW,
        {},
        _sub("optimizer", "schedule", "warmup", value=5),
        None,
        "'optimizer'",
    ),
    "min_factor above 1": (
        ADAMW,
        {},
        _sub("optimizer", "schedule", "min_factor", value=2.0),
        None,
        "'optimizer.schedule.min_factor'",
    ),
    "plateau wait past the epochs": (
        ADAM,
        PLATEAU,
        _sub("plateau", "wait", value=3),
        None,
        "'plateau.wait'",
    ),
    "plateau best text": (
        ADAM,
        PLATEAU,
        _sub("plateau", "best", value="x"),
        None,
        "'plateau.best'",
    ),
    "plateau cooldown negative": (
        ADAM,
        PLATEAU,
        _sub("plateau", "cooldown_counter", value=-1),
        None,
        "'plateau.cooldown_counter'",
    ),
    "plateau unknown key": (ADAM, PLATEAU, _sub("plateau", "x", value=1), None, "'plateau'"),
    "schedule step_size 1.5": (
        MOMENTUM,
        {},
        _sub("optimizer", "schedule", "step_size", value=1.5),
        None,
        "'optimizer.schedule.step_size'",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_checkpoint_fields_are_refused_before_training(tmp_path, case):
    optimizer, kwargs, header, arrays, field = CORRUPT[case]
    path, X, y, batch = _checkpoint(tmp_path, optimizer(), **kwargs)
    _edit(path, header, arrays)
    net, _, _, _ = _setup(SMALL, seed=5)
    before = net.theta.copy()
    with (
        _deadline(20),
        pytest.raises(cr.ModelFileError, match=re.escape(f"checkpoint field {field}")),
    ):
        net.fit(X, y, epochs=4, batch_size=batch, resume=path, **kwargs)
    assert net.theta.tobytes() == before.tobytes()  # refused before anything was touched


def test_every_fixture_checkpoint_resumes(tmp_path):
    """The unedited checkpoints of the cases above resume (the checks refuse no real file)."""
    seen = set()
    for optimizer, kwargs, *_ in CORRUPT.values():
        key = (optimizer, tuple(kwargs))
        if key in seen:
            continue
        seen.add(key)
        path, X, y, batch = _checkpoint(tmp_path, optimizer(), **kwargs)
        net, _, _, _ = _setup(SMALL, seed=5)
        history = net.fit(X, y, epochs=3, batch_size=batch, resume=path, **kwargs)
        assert len(history.loss) == 3 and np.isfinite(net.theta).all()


def test_resume_into_another_dtype_is_refused(tmp_path):
    path, X, y, batch = _checkpoint(tmp_path, ADAM())
    net, _, _, _ = _setup(SMALL)
    with pytest.raises(cr.ConfigError, match="different network"):
        net.astype("float64").fit(X, y, epochs=4, batch_size=batch, resume=path)


class _deadline:
    """Fail with TimeoutError after ``seconds`` (a corrupt epoch count once trained forever)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        import signal

        def expire(signum, frame):
            raise TimeoutError(f"still running after {self.seconds} s")

        self.previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)


# The velocity (or Adam's m) one element short: the compiled epoch wrote past its end and the
# process died with SIGSEGV. Run in a child so that a crash fails this test, not pytest.
SHRUNK = r"""
import os, sys
import re

import numpy as np
import chainrule as cr
from chainrule import _compiled, io
path, key, opt = sys.argv[1], sys.argv[2], sys.argv[3]
print("compiled" if _compiled.available() else "numpy", flush=True)
rng = np.random.default_rng(1)
X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
make = lambda: cr.Network([cr.Dense(4, 8, "relu"), cr.Dense(8, 3, "softmax")],
                          loss="cross_entropy", seed=0)
optimizer = cr.Adam(0.01) if opt == "adam" else cr.SGD(0.05, momentum=0.9)
make().fit(X, y, epochs=2, batch_size=8, optimizer=optimizer, checkpoint=path)
meta, arrays = io.read_model_file(path)
del meta["format"]
arrays[key] = arrays[key][:3]
io.write_model_file(path, meta, arrays)
net = make()
try:
    net.fit(X, y, epochs=40, batch_size=8, resume=path)
    print("trained", bool(np.isfinite(net.theta).all()))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize("compiled", ["1", "0"], ids=["compiled", "numpy"])
@pytest.mark.parametrize(
    "opt, key", [("momentum", "optimizer.velocity.0"), ("adam", "optimizer.m.0")]
)
def test_shrunk_optimizer_state_is_refused_not_a_crash(tmp_path, compiled, opt, key):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHAINRULE_COMPILED": compiled}
    child = subprocess.run(
        [sys.executable, "-c", SHRUNK, str(tmp_path / "c.ckpt"), key, opt],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr[-2000:]}"
    path_taken, outcome = child.stdout.splitlines()[:2]
    assert path_taken == ("compiled" if compiled == "1" else "numpy")
    assert outcome.startswith("ModelFileError") and f"'{key}'" in outcome, outcome


def test_resume_never_returns_overflowed_weights(tmp_path):
    """A velocity entry near float32's limit (finite, so the file is valid) overflows a weight
    into a tanh unit, whose output, and so the loss, stays finite: fit used to return the
    infinite weight. Now it is divergence, and the network keeps finite weights."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)

    def make():
        layers = [cr.Dense(4, 8, "tanh"), cr.Dense(8, 3, "softmax")]
        return cr.Network(layers, loss="cross_entropy", seed=0)

    path = tmp_path / "c.ckpt"
    make().fit(X, y, epochs=2, batch_size=8, optimizer=MOMENTUM(), checkpoint=path)
    _edit(
        path, arrays=_array("optimizer.velocity.0", lambda v: np.where(np.arange(v.size), v, 3e38))
    )
    for work in (10**9, -1):  # the compiled path, then the NumPy path
        net = make()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("chainrule._compiled.MAX_WORK", work)
            with pytest.raises(cr.TrainingDivergedError, match="a weight overflowed"):
                net.fit(X, y, epochs=4, batch_size=8, resume=path)
        assert np.isfinite(net.theta).all()


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["compiled", "numpy"])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_interrupt_without_a_checkpoint_rolls_the_optimizer_back(shape, opt):
    """Ctrl-C puts the optimizer's state back too, checkpoint or not (as the README says)."""
    kwargs = dict(epochs=6, early_stopping=cr.EarlyStopping(patience=50))
    net, X, y, batch = _setup(shape)
    clean = OPTIMIZERS[opt]()
    net.fit(X, y, batch_size=batch, optimizer=clean, **{**kwargs, "epochs": 3})

    net2, X, y, batch = _setup(shape)
    cut = OPTIMIZERS[opt]()
    part = net2.fit(X, y, batch_size=batch, optimizer=cut, callbacks=[StopAt(3)], **kwargs)
    assert part.interrupted and len(part.loss) == 3
    np.testing.assert_array_equal(net2.theta, net.theta)
    for key, arrays in clean.state().items():
        for a, b in zip(arrays, cut.state()[key], strict=True):
            np.testing.assert_array_equal(b, a)
    assert getattr(cut, "t", None) == getattr(clean, "t", None)


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["compiled", "numpy"])
def test_plateau_resumes_bit_identical(tmp_path, shape):
    """ReduceLROnPlateau's progress and the rate it cut are in the checkpoint."""

    def run(**extra):
        net, X, y, batch = _setup(shape)
        plateau = cr.ReduceLROnPlateau(patience=1, min_delta=0.05, cooldown=1, factor=0.5)
        callbacks = [plateau, *extra.pop("callbacks", [])]
        opt = cr.SGD(0.05, momentum=0.9)
        history = net.fit(
            X, y, epochs=8, batch_size=batch, optimizer=opt, callbacks=callbacks, **extra
        )
        return net, history, plateau, X, y

    full_net, full, full_plateau, X, y = run()
    assert len(set(full.lr)) > 1  # the rate was cut
    path = tmp_path / "run.ckpt"
    _, part, _, _, _ = run(checkpoint=path, callbacks=[StopAt(4)])
    assert part.interrupted and part.lr == full.lr[:4]
    net, _, _, batch = _setup(shape, seed=7)
    plateau = cr.ReduceLROnPlateau(patience=1, min_delta=0.05, cooldown=1, factor=0.5)
    rest = net.fit(X, y, epochs=8, batch_size=batch, resume=path, callbacks=[plateau])
    assert rest.lr == full.lr and rest.loss == full.loss
    assert net.theta.tobytes() == full_net.theta.tobytes()
    assert plateau.state() == full_plateau.state()
