"""The pieces of fit on their own: the batch source, the epoch runner's choice, the rollback
guard (Ctrl-C and divergence) and the checkpoint callback."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import _compiled
from chainrule._epochs import ArrayBatches, CompiledEpoch, NumpyEpoch, epoch_runner
from chainrule.checkpoint import load_checkpoint
from chainrule.training import Checkpointer, Rollback, prepare_run


def _net(bias=True, seed=0):
    layers = [cr.Dense(3, 5, "tanh", bias=bias), cr.Dense(5, 2, "softmax")]
    return cr.Network(layers, loss="cross_entropy", dtype="float64", seed=seed)


def _data(n=23):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3))
    T = np.eye(2)[rng.integers(0, 2, n)]
    return X, T, rng.uniform(0.5, 1.5, n)


def _run(net, **kw):
    X, T, _ = _data()
    args = dict(
        epochs=10, batch_size=4, optimizer=None, validation_split=0.0, validation_data=None,
        early_stopping=False, shuffle=True, callbacks=(), sample_weight=None,
        checkpoint_every=None, resume=None,
    )  # fmt: skip
    args.update(kw)
    return prepare_run(net, X, T, **args)


@pytest.mark.parametrize("bs", [1, 4, 7, 23])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_batches_visit_every_row_once_in_the_seeded_order(bs, shuffle, bias):
    X, T, w = _data()
    net = _net(bias)
    source = ArrayBatches(net, X, T, w, bs, shuffle)
    for epoch in range(3):
        seed = np.random.default_rng(epoch)
        expected = seed.permutation(23) if shuffle and bs < 23 else np.arange(23)
        seen_x, seen_t, seen_w, rows = [], [], [], []
        for ws, xb, tb, wb, step in source.batches(np.random.default_rng(epoch)):
            assert ws.n == len(xb) == len(tb) == len(wb) == len(range(23)[step])
            if source.mixing:  # gathered into the workspace, not a copy of the data set
                assert xb is ws.xbuf
            seen_x.append(xb[:, :3].copy())
            seen_t.append(tb)
            seen_w.append(wb)
            rows.append(range(23)[step])
        assert [len(r) for r in rows] == [min(bs, 23 - s) for s in range(0, 23, bs)]
        assert [i for r in rows for i in r] == list(range(23))  # output rows: each once
        np.testing.assert_array_equal(source.order, expected)
        np.testing.assert_array_equal(np.concatenate(seen_x), X[expected])
        np.testing.assert_array_equal(np.concatenate(seen_t), T[expected])
        np.testing.assert_array_equal(np.concatenate(seen_w), w[expected])
        seen_T, seen_W = source.seen()
        np.testing.assert_array_equal(seen_T, T[expected])
        np.testing.assert_array_equal(seen_W, w[expected])


def test_unshuffled_batches_are_slices_with_the_ones_column():
    X, T, _ = _data()
    source = ArrayBatches(_net(), X, T, None, 5, shuffle=False)
    (ws, xb, tb, wb, rows), *_ = source.batches(np.random.default_rng(0))
    assert wb is None and xb.shape == (5, 4) and np.all(xb[:, 3] == 1)
    assert np.shares_memory(xb, source.X) and np.shares_memory(tb, T)
    compiled = ArrayBatches(_net(), X, T, None, 5, shuffle=False, slices_with_ones=False)
    assert compiled.X is X  # the compiled epoch wants X as given


def test_epoch_runner_is_chosen_once(monkeypatch):
    X, T, _ = _data()
    monkeypatch.setattr(_compiled, "MAX_WORK", -1)
    numpy = epoch_runner(_net(), cr.SGD(0.1), X, T, None, 4, True)
    assert isinstance(numpy, NumpyEpoch)
    if _compiled.available():
        monkeypatch.setattr(_compiled, "MAX_WORK", 10**9)
        fast = epoch_runner(_net(), cr.SGD(0.1), X, T, None, 4, True)
        assert isinstance(fast, CompiledEpoch) and fast.source.X is X
    loss, acc = numpy.run_epoch(np.random.default_rng(0))
    assert math.isfinite(loss) and 0 <= acc <= 1


def test_rollback_restores_everything_on_ctrl_c(tmp_path):
    net = _net()
    stopper, plateau = cr.EarlyStopping(patience=5), cr.ReduceLROnPlateau(patience=0)
    run = _run(net, optimizer=cr.Adam(0.1), early_stopping=stopper, callbacks=[plateau])
    for hook in run.hooks:
        hook.on_train_begin(net, run.history)
    opt, history = run.optimizer, run.history
    opt.step([net.theta], [np.ones_like(net.theta)])  # some optimizer state to restore
    history.loss.append(1.0), history.lr.append(0.1)
    stopper.on_epoch_end(net, 0, {"loss": 1.0})
    plateau.on_epoch_end(net, 0, {"loss": 1.0})
    saver = Checkpointer(tmp_path / "run.ckpt", None, run)
    guard = Rollback(net, run, saver)
    guard.commit()  # the end of epoch 1
    theta, rng = net.theta.copy(), net.rng.bit_generator.state
    m, t, lr = opt.m[0].copy(), opt.t, opt.lr
    wait, best = plateau.wait, stopper.best
    with guard:
        net.rng.permutation(10)
        opt.step([net.theta], [np.ones_like(net.theta)])
        opt.lr = 0.001
        history.loss.append(2.0), history.lr.append(0.1)
        stopper.on_epoch_end(net, 1, {"loss": 2.0})
        plateau.on_epoch_end(net, 1, {"loss": 2.0})
        raise KeyboardInterrupt
    np.testing.assert_array_equal(net.theta, theta)
    assert net.rng.bit_generator.state == rng
    np.testing.assert_array_equal(opt.m[0], m)
    assert (opt.t, opt.lr, plateau.wait, stopper.best, stopper.wait) == (t, lr, wait, best, 0)
    assert history.loss == [1.0] and history.lr == [0.1] and history.interrupted
    saved, state = load_checkpoint(tmp_path / "run.ckpt")
    assert state.epoch == 1 and state.optimizer.lr == lr
    np.testing.assert_array_equal(saved.theta, theta)


def test_rollback_on_divergence_keeps_the_last_finite_weights():
    net = _net()
    run = _run(net, optimizer=cr.SGD(0.5))
    guard = Rollback(net, run)
    start = net.theta.copy()
    with guard:
        net.theta += 0.01
        guard.check(0, 0.7)  # a finite epoch: its weights become the newest snapshot
        after_first = net.theta.copy()
        net.theta[0] = np.inf
        with pytest.raises(cr.TrainingDivergedError) as info:
            guard.check(1, math.nan)
    assert str(info.value) == (
        "training diverged at epoch 2: the loss became nan; the network keeps its weights "
        "from the start of epoch 2, the last with a finite loss. Lower the learning rate "
        "(now 0.5) or standardise the inputs"
    )
    assert info.value.history is run.history
    np.testing.assert_array_equal(net.theta, after_first)
    assert not np.array_equal(after_first, start)


def test_rollback_lets_other_errors_through():
    net = _net()
    run = _run(net)
    guard = Rollback(net, run)
    with pytest.raises(ValueError), guard:
        net.theta += 1.0
        raise ValueError("not ours")
    assert not run.history.interrupted
    assert not np.array_equal(net.theta, guard.snapshots[0])  # nothing rolled back


def test_checkpointer_writes_at_the_right_epochs(tmp_path):
    net = _net()
    run = _run(net)
    written = []

    class Spy(Checkpointer):
        def save(self, net, completed):
            written.append(completed)
            super().save(net, completed)

    spy = Spy(tmp_path / "run.ckpt", 3, run)
    for epoch in range(7):
        run.history.loss.append(1.0), run.history.lr.append(0.01)
        assert spy.on_epoch_end(net, epoch, {"loss": 1.0}) is None
    spy.on_train_end(net, run.history)
    assert written == [3, 6, 7]
    assert load_checkpoint(tmp_path / "run.ckpt")[1].epoch == 7
    run.history.interrupted = True  # the rollback wrote it already
    spy.on_train_end(net, run.history)
    assert written == [3, 6, 7]


def test_fit_checkpoints_every_n_epochs_and_at_the_end(tmp_path, monkeypatch):
    written = []
    original = Checkpointer.save
    monkeypatch.setattr(
        Checkpointer,
        "save",
        lambda self, net, done: (written.append(done), original(self, net, done)),
    )
    X, T, _ = _data()
    _net().fit(X, T, epochs=7, batch_size=4, checkpoint=tmp_path / "c.ckpt", checkpoint_every=3)
    assert written == [3, 6, 7]
