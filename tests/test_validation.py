"""One test per validation rule: the error class, and a message naming the argument."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def net():
    return cr.Network(
        [cr.Dense(2, 4, "tanh"), cr.Dense(4, 3, "softmax")], loss="cross_entropy", seed=0
    )


X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0, 1, 2])


def test_every_error_is_a_chainrule_error_and_a_builtin():
    assert issubclass(cr.InputError, cr.ChainruleError)
    assert issubclass(cr.InputError, ValueError)
    assert issubclass(cr.ConfigError, ValueError)
    assert issubclass(cr.ModelFileError, cr.ChainruleError)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(net, bad):
    Xb = X.copy()
    Xb[1, 0] = bad
    with pytest.raises(cr.InputError, match=r"X contains (NaN|infinity) at index \(1, 0\)"):
        net.fit(Xb, y, epochs=1)
    with pytest.raises(cr.InputError, match="X contains"):
        net.predict(Xb)


def test_non_finite_Y():
    reg = cr.Network([cr.Dense(2, 1)], loss="mse")
    with pytest.raises(cr.InputError, match=r"Y contains NaN"):
        reg.fit(X, [1.0, np.nan, 2.0], epochs=1)


def test_wrong_ndim_X(net):
    with pytest.raises(cr.InputError, match=r"X must be 2-D .*reshape\(1, -1\)"):
        net.predict([0.0, 1.0])
    with pytest.raises(cr.InputError, match="X must be 2-D"):
        net.predict(np.zeros((2, 2, 2)))


def test_wrong_ndim_Y(net):
    with pytest.raises(cr.InputError, match="Y"):
        net.fit(X, np.zeros((3, 3, 1)), epochs=1)


def test_mismatched_lengths(net):
    with pytest.raises(cr.InputError, match="X has 3 samples but Y has 2"):
        net.fit(X, y[:2], epochs=1)


def test_empty_input(net):
    with pytest.raises(cr.InputError, match="X is empty"):
        net.predict(np.empty((0, 2)))
    with pytest.raises(cr.InputError, match="empty"):
        net.fit(np.empty((0, 2)), np.empty(0, int), epochs=1)


def test_wrong_feature_count_at_predict(net):
    with pytest.raises(cr.InputError, match="X has 3 features but the network expects 2"):
        net.predict(np.zeros((4, 3)))


def test_labels_out_of_range(net):
    with pytest.raises(cr.InputError, match=r"Y\[2\] = 3 is out of range.*0\.\.2"):
        net.fit(X, [0, 1, 3], epochs=1)
    with pytest.raises(cr.InputError, match="out of range"):
        net.fit(X, [0, -1, 2], epochs=1)


def test_non_integer_and_non_numeric_labels(net):
    with pytest.raises(cr.InputError, match="non-integer"):
        net.fit(X, [0, 1.5, 2], epochs=1)
    with pytest.raises(cr.InputError, match="labels must be integers"):
        net.fit(X, ["a", "b", "c"], epochs=1)


def test_non_numeric_features(net):
    with pytest.raises(cr.InputError, match="X has dtype"):
        net.predict([["a", "b"]])


def test_ragged_features(net):
    with pytest.raises(cr.InputError, match="X cannot be read as an array"):
        net.predict([[1.0, 2.0], [3.0]])


def test_bad_one_hot_rows(net):
    with pytest.raises(cr.InputError, match="one-hot"):
        net.fit(X, np.full((3, 3), 0.5), epochs=1)


def test_binary_targets_outside_0_1():
    net = cr.Network([cr.Dense(2, 1, "sigmoid")], loss="binary_cross_entropy")
    with pytest.raises(cr.InputError, match=r"outside \[0, 1\]"):
        net.fit(X, [0, 2, 1], epochs=1)


def test_unknown_activation():
    with pytest.raises(cr.ConfigError, match="activation='swish' is not known; choose one of"):
        cr.Dense(2, 2, activation="swish")


def test_unknown_loss():
    with pytest.raises(cr.ConfigError, match="loss='hinge' is not known"):
        cr.Network([cr.Dense(2, 2)], loss="hinge")


def test_unknown_init_and_optimizer_and_dtype():
    with pytest.raises(cr.ConfigError, match="init='magic'"):
        cr.Network([cr.Dense(2, 2, init="magic")])
    with pytest.raises(cr.ConfigError, match="optimizer='rmsprop'"):
        cr.Network([cr.Dense(2, 1)], loss="mse").fit(X, [1, 2, 3], optimizer="rmsprop")
    with pytest.raises(cr.ConfigError, match="dtype='int8'"):
        cr.Network([cr.Dense(2, 2)], dtype="int8")


def test_loss_activation_pairing_is_explicit():
    with pytest.raises(cr.ConfigError, match="last layer's activation to 'softmax'"):
        cr.Network([cr.Dense(2, 3, "sigmoid")], loss="cross_entropy")
    with pytest.raises(cr.ConfigError, match="'sigmoid'"):
        cr.Network([cr.Dense(2, 1, "identity")], loss="binary_cross_entropy")


@pytest.mark.parametrize("lr", [0, -0.1, np.nan, np.inf, "fast"])
def test_non_positive_learning_rate(lr):
    with pytest.raises(cr.ConfigError, match="lr="):
        cr.SGD(lr=lr)
    with pytest.raises(cr.ConfigError, match="lr="):
        cr.Adam(lr=lr)


def test_bad_training_arguments(net):
    with pytest.raises(cr.ConfigError, match="epochs=0"):
        net.fit(X, y, epochs=0)
    with pytest.raises(cr.ConfigError, match="batch_size=-1"):
        net.fit(X, y, batch_size=-1)
    with pytest.raises(cr.ConfigError, match="validation_split=1.5"):
        net.fit(X, y, validation_split=1.5)
    with pytest.raises(cr.ConfigError, match="momentum"):
        cr.SGD(momentum=1.0)
    with pytest.raises(cr.ConfigError, match="nesterov"):
        cr.SGD(nesterov=True)
    with pytest.raises(cr.InputError, match="validation_split"):
        net.fit(X[:1], y[:1], validation_split=0.5)


def test_layer_shapes_must_chain():
    with pytest.raises(
        cr.ConfigError, match=r"layers\[0\] has 4 outputs but layers\[1\] expects 3"
    ):
        cr.Network([cr.Dense(2, 4), cr.Dense(3, 1)])
    with pytest.raises(cr.ConfigError, match="non-empty list"):
        cr.Network([])


def test_explicit_weights_are_checked():
    with pytest.raises(cr.ConfigError, match=r"weights has shape \(2, 1\) but Dense\(2, 2\)"):
        cr.Dense(2, 2, weights=[[1.0], [2.0]])
    with pytest.raises(cr.ConfigError, match="bias has shape"):
        cr.Dense(2, 2, bias=[1.0])
    with pytest.raises(cr.ConfigError, match="weights contains NaN"):
        cr.Dense(1, 1, weights=[[np.nan]])


def test_bad_sizes_and_seed():
    with pytest.raises(cr.ConfigError, match="n_out=0"):
        cr.Dense(2, 0)
    with pytest.raises(cr.ConfigError, match="seed="):
        cr.Network([cr.Dense(2, 2)], seed="abc")
    with pytest.raises(cr.ConfigError, match="l2="):
        cr.Network([cr.Dense(2, 2)], l2=-1)


@pytest.mark.parametrize("batch_size", [None, 10])
def test_divergence_stops_with_last_finite_weights(batch_size):
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(50, 2)) * 100
    Yr = Xr @ [[3.0], [-2.0]]
    net = cr.Network([cr.Dense(2, 8, "relu"), cr.Dense(8, 1)], loss="mse", seed=0)
    seen = [[p.copy() for p in net.params]]  # the weights at the start of every epoch
    with pytest.raises(
        cr.TrainingDivergedError, match="diverged at epoch .*Lower the learning rate"
    ) as info:
        net.fit(
            Xr,
            Yr,
            epochs=100,
            batch_size=batch_size,
            optimizer=cr.SGD(lr=1.0),
            callbacks=[lambda n, e, logs: seen.append([p.copy() for p in n.params])],
        )
    history = info.value.history
    assert all(np.isfinite(history.loss))
    failed_epoch = len(history.loss)  # 0-based index of the epoch whose loss was not finite
    assert f"at epoch {failed_epoch + 1}" in str(info.value)
    # Kept: the newest epoch-start weights (at most two back) whose loss is finite.
    candidates = seen[max(0, failed_epoch - 1) : failed_epoch + 1][::-1]
    finite = []
    for weights in candidates:
        probe = net.copy()
        for p, w in zip(probe.params, weights):
            p[...] = w
        finite.append(np.isfinite(probe.loss(Xr, Yr)))
    assert any(finite)
    expected = candidates[finite.index(True)]
    for kept, want in zip(net.params, expected):
        assert np.array_equal(kept, want)
    assert np.isfinite(net.loss(Xr, Yr))


def test_not_differentiable_in_hidden_layer():
    net = cr.Network([cr.Dense(2, 2, "sign"), cr.Dense(2, 1)], loss="mse")
    with pytest.raises(cr.NotDifferentiableError, match=r"layers\[0\] uses activation='sign'"):
        net.gradients(X, [1.0, 2.0, 3.0])


def test_a_layer_cannot_join_two_networks():
    layer = cr.Dense(2, 2)
    cr.Network([layer])
    with pytest.raises(cr.ConfigError, match=r"layers\[0\] already belongs to a network"):
        cr.Network([layer])
    twice = cr.Dense(2, 2)
    with pytest.raises(cr.ConfigError, match=r"layers\[1\] already belongs"):
        cr.Network([twice, twice])


def test_values_beyond_float32_are_refused_not_turned_into_inf(net):
    with pytest.raises(cr.InputError, match="beyond the range of float32"):
        net.predict([[1e300, 0.0]])
    wide = cr.Network([cr.Dense(2, 1)], loss="mse", dtype="float64")
    assert wide.check_X([[1e300, 0.0]])[0, 0] == 1e300  # float64 holds it


def test_object_arrays_of_numbers_are_accepted(net):
    from decimal import Decimal

    out = net.predict(np.array([[Decimal("0.5"), 1]], dtype=object))
    assert out.shape == (1, 3)
