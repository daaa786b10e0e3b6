"""Training modes, optimizers, schedules, history, callbacks, early stopping, seeds."""

import numpy as np
import pytest

import chainrule as cr


def moons_net(seed=0, **kwargs):
    return cr.Network(
        [cr.Dense(2, 16, "tanh"), cr.Dense(16, 2, "softmax")],
        loss="cross_entropy",
        seed=seed,
        **kwargs,
    )


@pytest.fixture
def data():
    return cr.datasets.moons(300, noise=0.1, seed=1)


@pytest.mark.parametrize("batch_size", [None, 1, 32])
@pytest.mark.parametrize(
    "optimizer",
    [
        cr.SGD(0.1),
        cr.SGD(0.05, momentum=0.9),
        cr.SGD(0.05, momentum=0.9, nesterov=True),
        cr.Adam(0.01),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_every_mode_and_optimizer_learns(data, batch_size, optimizer):
    X, y = data  # the optimizer objects are shared between cases: fit must reset their state
    net = moons_net()
    start = net.loss(X, y)
    epochs = 20 if batch_size is not None else 300
    history = net.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer)
    assert history.loss[-1] < 0.5 * start
    assert history.accuracy[-1] > 0.85
    assert len(history.loss) == epochs


def test_optimizer_names():
    from chainrule.optimizers import get_optimizer

    adam = get_optimizer("adam")
    assert isinstance(adam, cr.Adam) and adam.lr == 0.001
    nesterov = get_optimizer("nesterov")
    assert nesterov.momentum == 0.9 and nesterov.nesterov


def test_full_batch_sgd_step_is_one_gradient_step(data, rng):
    X, y = data
    net = moons_net().astype("float64")
    before = [p.copy() for p in net.params]
    grads = net.gradients(X, y)
    net.fit(X, y, epochs=1, optimizer=cr.SGD(0.3))
    flat = [g for layer in grads for g in (layer["W"], layer["b"])]
    for p, p0, g in zip(net.params, before, flat):
        np.testing.assert_allclose(p, p0 - 0.3 * g, rtol=1e-12, atol=1e-15)


def test_momentum_matches_its_definition(rng):
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    net = cr.Network([cr.Dense(3, 2)], loss="mse", dtype="float64", seed=0)
    ref = net.copy()
    v = [np.zeros_like(p) for p in ref.params]
    for _ in range(3):
        g = [a for layer in ref.gradients(X, Y) for a in (layer["W"], layer["b"])]
        for p, vi, gi in zip(ref.params, v, g):
            vi[...] = 0.9 * vi - 0.1 * gi
            p += 0.9 * vi - 0.1 * gi  # Nesterov
    net.fit(X, Y, epochs=3, optimizer=cr.SGD(0.1, momentum=0.9, nesterov=True))
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_adam_matches_its_definition(rng):
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    net = cr.Network([cr.Dense(3, 2)], loss="mse", dtype="float64", seed=0)
    ref = net.copy()
    m = [np.zeros_like(p) for p in ref.params]
    s = [np.zeros_like(p) for p in ref.params]
    for t in range(1, 4):
        g = [a for layer in ref.gradients(X, Y) for a in (layer["W"], layer["b"])]
        for p, mi, si, gi in zip(ref.params, m, s, g):
            mi[...] = 0.9 * mi + 0.1 * gi
            si[...] = 0.999 * si + 0.001 * gi**2
            mhat, shat = mi / (1 - 0.9**t), si / (1 - 0.999**t)
            p -= 0.01 * mhat / (np.sqrt(shat) + 1e-8)
    net.fit(X, Y, epochs=3, optimizer=cr.Adam(0.01))
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (cr.Constant(), [1, 1, 1, 1]),
        (cr.StepDecay(step_size=2, gamma=0.5), [1, 1, 0.5, 0.5]),
        (cr.ExponentialDecay(gamma=0.5), [1, 0.5, 0.25, 0.125]),
        (cr.InverseScaling(power=1.0), [1, 0.5, 1 / 3, 0.25]),
    ],
)
def test_schedules_reach_the_history(data, schedule, expected):
    X, y = data
    history = moons_net().fit(X, y, epochs=4, optimizer=cr.SGD(0.2, schedule=schedule))
    np.testing.assert_allclose(history.lr, 0.2 * np.array(expected))


def test_l2_shrinks_weights(data):
    X, y = data
    plain, decayed = moons_net(), moons_net(l2=0.1)
    plain.fit(X, y, epochs=50, batch_size=32, optimizer=cr.SGD(0.1))
    decayed.fit(X, y, epochs=50, batch_size=32, optimizer=cr.SGD(0.1))
    assert np.abs(decayed.layers[0].W).sum() < 0.8 * np.abs(plain.layers[0].W).sum()


def test_l1_makes_weights_sparse(rng):
    X = rng.normal(size=(200, 10))
    Y = X[:, :2] @ [[1.0], [-1.0]]  # only two features matter
    net = cr.Network([cr.Dense(10, 1)], loss="mse", dtype="float64", seed=0, l1=0.05)
    net.fit(X, Y, epochs=300, optimizer=cr.SGD(0.05))
    W = np.abs(net.layers[0].W[:, 0])
    assert W[:2].min() > 0.5 and W[2:].max() < 0.05


def test_same_seed_bit_identical_and_other_seed_different(data):
    X, y = data
    runs = []
    for seed in (5, 5, 6):
        net = moons_net(seed=seed)
        net.fit(X, y, epochs=3, batch_size=16, optimizer="adam", validation_split=0.2)
        runs.append(b"".join(p.tobytes() for p in net.params))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_dtypes_are_kept(data):
    X, y = data
    for dtype in ("float32", "float64"):
        net = moons_net(dtype=dtype)
        net.fit(X, y, epochs=2, batch_size=50)
        assert all(p.dtype == np.dtype(dtype) for p in net.params)
        assert net.predict(X).dtype == np.dtype(dtype)


def test_validation_split_and_history(data):
    X, y = data
    history = moons_net().fit(
        X, y, epochs=5, batch_size=32, optimizer=cr.SGD(0.1), validation_split=0.25
    )
    assert len(history.val_loss) == len(history.val_accuracy) == 5
    assert set(history.as_dict()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert "epochs=5" in repr(history)


def test_validation_data_is_measured_at_epoch_end(data):
    X, y = data
    net = moons_net()
    history = net.fit(X[:200], y[:200], epochs=3, validation_data=(X[200:], y[200:]))
    assert history.val_loss[-1] == pytest.approx(net.loss(X[200:], y[200:]), rel=1e-6)
    assert history.val_accuracy[-1] == net.accuracy(X[200:], y[200:])


def test_full_batch_history_is_the_loss_at_each_epoch_start(data):
    X, y = data
    net = moons_net().astype("float64")
    before = net.loss(X, y)
    ends = []
    history = net.fit(
        X,
        y,
        epochs=4,
        optimizer=cr.SGD(0.5),
        callbacks=[lambda n, e, logs: ends.append(n.loss(X, y))],
    )
    assert history.loss == pytest.approx([before, *ends[:-1]], rel=1e-10)


def test_minibatch_history_is_the_mean_of_what_each_step_saw(data):
    X, y = data
    X, y = X[:100], y[:100]
    net = moons_net(l2=0.01).astype("float64")
    ref = net.copy()
    seen = []
    for start in range(0, 100, 32):  # shuffle=False: batches in order, last one of 4
        xb, yb = X[start : start + 32], y[start : start + 32]
        seen.append((ref.loss(xb, yb) - ref.penalty()) * len(xb))
        grads = ref.gradients(xb, yb)
        for p, g in zip(ref.params, [a for layer in grads for a in (layer["W"], layer["b"])]):
            p -= 0.3 * g
    history = net.fit(X, y, epochs=1, batch_size=32, shuffle=False, optimizer=cr.SGD(0.3))
    assert history.loss[0] == pytest.approx(sum(seen) / 100 + ref.penalty(), rel=1e-10)
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_early_stopping_restores_the_best_weights(data):
    X, y = data
    net = moons_net()
    stopper = cr.EarlyStopping(patience=3, min_delta=0.0)
    best = {}

    def spy(n, epoch, logs):
        if logs["val_loss"] < best.get("loss", np.inf):
            best.update(loss=logs["val_loss"], params=[p.copy() for p in n.params])

    # A learning rate far too high for Adam: validation loss stops improving quickly.
    history = net.fit(
        X,
        y,
        epochs=200,
        optimizer=cr.Adam(0.5),
        validation_split=0.3,
        early_stopping=stopper,
        callbacks=[spy],
    )
    assert history.stopped_early and history.epochs < 200
    assert history.best_epoch == int(np.argmin(history.val_loss))
    for p, b in zip(net.params, best["params"]):
        assert np.array_equal(p, b)


def test_callback_class_can_stop_training(data):
    X, y = data

    class StopAt(cr.Callback):
        def __init__(self):
            self.calls = []

        def on_train_begin(self, net, history):
            self.calls.append("begin")

        def on_epoch_end(self, net, epoch, logs):
            self.calls.append(epoch)
            return epoch == 2

        def on_train_end(self, net, history):
            self.calls.append("end")

    cb = StopAt()
    history = moons_net().fit(X, y, epochs=10, callbacks=[cb])
    assert cb.calls == ["begin", 0, 1, 2, "end"]
    assert history.epochs == 3 and history.stopped_early


def test_no_shuffle_is_deterministic_without_consuming_rng(data):
    X, y = data
    net = moons_net()
    state = net.rng.bit_generator.state
    net.fit(X, y, epochs=2, batch_size=32, shuffle=False)
    assert net.rng.bit_generator.state == state


def test_summary_lists_layers_and_counts():
    net = cr.Network(
        [cr.Dense(2, 8, "tanh"), cr.Dense(8, 3, "softmax", bias=False)], loss="cross_entropy"
    )
    text = net.summary()
    assert "2 -> 8" in text and "tanh" in text and "24" in text
    assert "(no bias)" in text and "total parameters: 48" in text
    assert repr(text) == str(text)


def test_initialisers_have_their_scale(rng):
    n = 400
    for init, std in [
        ("he", np.sqrt(2 / n)),
        ("glorot_normal", np.sqrt(2 / (2 * n))),
        ("xavier", np.sqrt(6 / (2 * n)) / np.sqrt(3)),
    ]:
        net = cr.Network([cr.Dense(n, n, init=init)], seed=0)
        assert net.layers[0].W.std() == pytest.approx(std, rel=0.02)
    zero = cr.Network([cr.Dense(3, 3, init="zeros")])
    assert not zero.layers[0].W.any()


def test_explicit_weights_are_used_exactly():
    W = np.array([[0.25, -0.5]])
    layer = cr.Dense(1, 2, "identity", weights=W, bias=[1.0, 2.0])
    net = cr.Network([layer], dtype="float64")
    assert np.array_equal(net.layers[0].W, W) and net.layers[0].b.tolist() == [1.0, 2.0]
    assert net.predict([[2.0]]).tolist() == [[1.5, 1.0]]


def test_activation_forward_values():
    e = np.array([[-2.0, 0.0, 3.0]])
    expect = {
        "identity": [-2, 0, 3],
        "sigmoid": 1 / (1 + np.exp(-e[0])),
        "tanh": np.tanh(e[0]),
        "relu": [0, 0, 3],
        "leaky_relu": [-0.02, 0, 3],
        "softmax": np.exp(e[0]) / np.exp(e[0]).sum(),
        "step": [0, 0, 1],
        "sign": [-1, -1, 1],
    }
    assert set(expect) == set(cr.ACTIVATIONS)
    for name, values in expect.items():
        out = cr.get_activation(name).forward(e.copy())
        np.testing.assert_allclose(out[0], values, rtol=1e-12)


def test_sample_weights_equal_duplicated_samples(rng):
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 3, 12)
    w = rng.integers(0, 4, 12)
    w[0] = 1
    net = cr.Network(
        [cr.Dense(3, 4, "tanh"), cr.Dense(4, 3, "softmax")],
        loss="cross_entropy",
        dtype="float64",
        seed=0,
    )
    Xd, yd = np.repeat(X, w, axis=0), np.repeat(y, w)
    assert net.loss(X, y, sample_weight=w) == pytest.approx(net.loss(Xd, yd), rel=1e-12)
    assert net.accuracy(X, y, sample_weight=w) == pytest.approx(net.accuracy(Xd, yd))
    for a, b in zip(net.gradients(X, y, sample_weight=w), net.gradients(Xd, yd)):
        np.testing.assert_allclose(a["W"], b["W"], rtol=1e-10, atol=1e-14)
    dup = net.copy()
    h1 = net.fit(X, y, epochs=5, sample_weight=w, optimizer=cr.SGD(0.5))
    h2 = dup.fit(Xd, yd, epochs=5, optimizer=cr.SGD(0.5))
    np.testing.assert_allclose(h1.loss, h2.loss, rtol=1e-10)
    for a, b in zip(net.params, dup.params):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_sample_weight_is_validated(rng):
    net = cr.Network([cr.Dense(3, 1)], loss="mse")
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=4)
    for bad, message in [
        ([1, 2], "4 numbers"),
        ([1, -1, 1, 1], ">= 0"),
        ([0, 0, 0, 0], "positive"),
        ([1, np.nan, 1, 1], "NaN"),
    ]:
        with pytest.raises(cr.InputError, match=message):
            net.fit(X, Y, epochs=1, sample_weight=bad)
    # Mini-batches with weights train and shuffle the weights with the samples.
    history = net.fit(
        X, Y, epochs=3, batch_size=2, sample_weight=[1, 2, 3, 4], validation_split=0.25
    )
    assert len(history.val_loss) == 3
