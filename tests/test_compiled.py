"""The compiled epoch (Numba) against the NumPy path: same training, to rounding, float64."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import _compiled

# Without Numba both runs below would take the NumPy path and compare it with itself.
needs_numba = pytest.mark.skipif(
    not _compiled.available(), reason="numba is not installed: there is no compiled path to test"
)

CASES = [
    # (hidden activations, output activation, loss, optimizer factory)
    (["tanh", "relu"], "softmax", "cross_entropy", lambda: cr.SGD(0.2)),
    (["sigmoid"], "sigmoid", "binary_cross_entropy", lambda: cr.SGD(0.3, momentum=0.9)),
    (
        ["leaky_relu", "tanh"],
        "identity",
        "squared_error",
        lambda: cr.SGD(0.05, momentum=0.8, nesterov=True),
    ),
    (["relu"], "tanh", "mse", lambda: cr.Adam(0.01)),
    (
        ["identity", "sigmoid"],
        "softmax",
        "cross_entropy",
        lambda: cr.SGD(0.1, schedule=cr.StepDecay(2, 0.5)),
    ),
]


def _train(compiled, monkeypatch, hidden, out, loss, make_opt, batch, weights, l1, l2):
    monkeypatch.setattr(_compiled, "MAX_WORK", 10**9 if compiled else -1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(37, 3))
    k = 1 if loss == "binary_cross_entropy" else 3
    if loss == "cross_entropy":
        Y = rng.integers(0, k, 37)
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, 37)
    else:
        Y = rng.normal(size=(37, k))
    sizes = [3] + [6] * len(hidden) + [k]
    acts = [*hidden, out]
    layers = [
        cr.Dense(a, b, g, bias=(i != 1)) for i, (a, b, g) in enumerate(zip(sizes, sizes[1:], acts))
    ]
    net = cr.Network(layers, loss=loss, dtype="float64", seed=3, l1=l1, l2=l2)
    w = rng.uniform(0.5, 2.0, 37) if weights else None
    opt = make_opt()
    assert (_compiled.plan(net, opt, batch or 30) is not None) == compiled  # the path under test
    history = net.fit(
        X,
        Y,
        epochs=4,
        batch_size=batch,
        optimizer=opt,
        sample_weight=w,
        validation_split=0.2,
    )
    return net, history


@needs_numba
@pytest.mark.parametrize("hidden, out, loss, make_opt", CASES)
@pytest.mark.parametrize(
    "batch, weights, l1, l2", [(None, False, 0, 0), (5, True, 0.01, 0.02), (1, False, 0, 0.1)]
)
def test_compiled_epoch_matches_numpy(
    monkeypatch, hidden, out, loss, make_opt, batch, weights, l1, l2
):
    fast, h_fast = _train(True, monkeypatch, hidden, out, loss, make_opt, batch, weights, l1, l2)
    slow, h_slow = _train(False, monkeypatch, hidden, out, loss, make_opt, batch, weights, l1, l2)
    np.testing.assert_allclose(fast.theta, slow.theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h_fast.loss, h_slow.loss, rtol=1e-9)
    np.testing.assert_allclose(h_fast.val_loss, h_slow.val_loss, rtol=1e-9)
    assert h_fast.accuracy == h_slow.accuracy


@needs_numba
def test_compiled_path_is_taken_for_small_nets_only():
    small = cr.Network([cr.Dense(2, 8, "tanh"), cr.Dense(8, 2, "softmax")], loss="cross_entropy")
    big = cr.Network(
        [cr.Dense(64, 100, "relu"), cr.Dense(100, 10, "softmax")], loss="cross_entropy"
    )
    hidden_softmax = cr.Network([cr.Dense(2, 4, "softmax"), cr.Dense(4, 1)], loss="mse")
    assert _compiled.plan(small, cr.SGD(0.1), 16) is not None
    assert _compiled.plan(big, cr.SGD(0.1), 32) is None
    assert _compiled.plan(hidden_softmax, cr.SGD(0.1), 8) is None


@needs_numba
def test_compiled_divergence_is_caught(monkeypatch):
    monkeypatch.setattr(_compiled, "MAX_WORK", 10**9)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * 100
    net = cr.Network([cr.Dense(2, 4, "relu"), cr.Dense(4, 1)], loss="mse", seed=0)
    with pytest.raises(cr.TrainingDivergedError):
        net.fit(X, X @ [[3.0], [-2.0]], epochs=50, batch_size=8, optimizer=cr.SGD(1.0))
    assert np.isfinite(net.theta).all()


# Each case spoils one array the compiled epoch receives. Before these checks, a short
# optimizer array or an index past the data made the kernel write out of bounds (SIGSEGV), so
# the cases run in a child process: a crash fails the test instead of killing pytest.
GUARDS = r"""
import numpy as np
import chainrule as cr
from chainrule import _compiled

N, P = 20, 3 * 6 + 6 + 6 * 2 + 2


def state(**arrays):
    # Set optimizer arrays (one per name, as a list of one).
    return lambda net, opt, a: [setattr(opt, k, [v]) for k, v in arrays.items()]


def frozen():
    v = np.zeros(P, "f4")
    v.setflags(write=False)
    return v


def arg(**values):
    return lambda net, opt, a: a.update(values)


X = np.random.default_rng(0).normal(size=(N, 3)).astype("f4")
cases = {
    "valid": ("sgd", arg()),
    "velocity short": ("momentum", state(velocity=np.zeros(3, "f4"))),
    "velocity empty": ("momentum", state(velocity=np.zeros(0, "f4"))),
    "velocity a list": ("momentum", state(velocity=[0.0] * P)),
    "m (n, 1)": ("adam", state(m=np.zeros((P, 1), "f4"), v=np.zeros(P, "f4"))),
    "v float64": ("adam", state(m=np.zeros(P, "f4"), v=np.zeros(P, "f8"))),
    "v read-only": ("adam", state(m=np.zeros(P, "f4"), v=frozen())),
    "t 10**24": ("adam", lambda net, opt, a: setattr(opt, "t", 10**24)),
    "t -1": ("adam", lambda net, opt, a: setattr(opt, "t", -1)),
    "X 2 columns": ("sgd", arg(X=np.ascontiguousarray(X[:, :2]))),
    "X float64": ("sgd", arg(X=X.astype("f8"))),
    "X Fortran order": ("sgd", arg(X=np.asfortranarray(X))),
    "T 10 rows": ("sgd", arg(T=np.zeros((10, 2), "f4"))),
    "weights 5": ("sgd", arg(weights=np.ones(5, "f4"))),
    "order past the data": ("sgd", arg(order=np.arange(N) + 5)),
    "order negative": ("sgd", arg(order=-np.arange(N) - 1)),
    "order int32": ("sgd", arg(order=np.arange(N, dtype="i4"))),
    "outputs 10 rows": ("sgd", arg(outputs=np.empty((10, 2), "f4"))),
    "outputs 1 column": ("sgd", arg(outputs=np.empty((N, 1), "f4"))),
    "batch size 0": ("sgd", arg(bs=0)),
    "theta swapped": ("sgd", lambda net, opt, a: setattr(net, "theta", np.zeros(3, "f4"))),
}
optimizers = {"sgd": lambda: cr.SGD(0.1), "momentum": lambda: cr.SGD(0.1, momentum=0.9),
              "adam": lambda: cr.Adam(0.01)}
rng = np.random.default_rng(0)
for name, (kind, spoil) in cases.items():
    net = cr.Network([cr.Dense(3, 6, "tanh"), cr.Dense(6, 2, "softmax")],
                     loss="cross_entropy", seed=0)
    opt = optimizers[kind]()
    plan = _compiled.plan(net, opt, 5)
    args = {"X": X,
            "T": np.eye(2, dtype="f4")[rng.integers(0, 2, N)],
            "weights": None, "order": np.arange(N), "bs": 5,
            "outputs": np.empty((N, 2), "f4")}
    spoil(net, opt, args)
    try:
        plan.epoch(**args)
        print(name, "| ran", flush=True)
    except Exception as exc:
        print(name, "|", type(exc).__name__, flush=True)
"""


@needs_numba
def test_compiled_epoch_refuses_arrays_of_the_wrong_shape(tmp_path):
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", GUARDS], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == 0, f"exit {child.returncode}: {child.stdout}{child.stderr[-2000:]}"
    outcomes = dict(line.split(" | ") for line in child.stdout.splitlines())
    assert outcomes.pop("valid") == "ran"
    assert len(outcomes) == 20
    assert set(outcomes.values()) == {"ConfigError"}, outcomes
