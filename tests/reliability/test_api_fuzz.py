"""API fuzz: hypothesis-built calls of the public entry points with valid and malformed
arguments. Each call either succeeds, with finite results where the contract promises them, or
raises a ``cr.ChainruleError`` whose message shows plain numbers: never another exception, never
a RuntimeWarning, never a hang (every size is small, or refused before anything is allocated).

About 1,500 seeded scenarios in CI; ``CHAINRULE_FUZZ_LONG=1`` runs ten times as many. The figures
(scenarios, outcomes by entry point and exception type, slowest call) print with ``pytest -s``.
"""

from __future__ import annotations

import math
import os
import re
import time
import warnings
from collections import Counter, defaultdict
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.optimizers import get_optimizer

settings.register_profile(
    "chainrule-api-fuzz",
    derandomize=True,  # the same scenarios on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("chainrule-api-fuzz-long", settings.get_profile("chainrule-api-fuzz"))
LONG = os.environ.get("CHAINRULE_FUZZ_LONG") == "1"
# Applied per test rather than loaded globally, so other hypothesis tests keep their settings.
PROFILE = settings.get_profile("chainrule-api-fuzz-long" if LONG else "chainrule-api-fuzz")
EXAMPLES = {"build": 350, "data": 400, "fit": 400, "other": 350}  # 1,500 scenarios in all
SCALE = 10 if LONG else 1

OUTCOMES: dict[str, Counter] = defaultdict(Counter)
SCENARIOS: Counter = Counter()
SLOWEST = [0.0, ""]
NUMPY_REPR = re.compile(r"\bnp\.\w+\(")


def scaled(name: str) -> settings:
    return settings(PROFILE, max_examples=EXAMPLES[name] * SCALE)


def attempt(entry: str, call):
    """Run ``call`` and count its outcome. A ChainruleError is returned; anything else, and
    any RuntimeWarning, escapes, so that hypothesis reports and shrinks it."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", cr.ConvergenceWarning)
            result = call()
    except cr.ChainruleError as exc:
        message = str(exc)
        assert not NUMPY_REPR.search(message), message  # plain numbers, not np.int64(3)
        assert 0 < len(message) < 600, message
        OUTCOMES[entry][type(exc).__name__] += 1
        return exc
    finally:
        took = time.perf_counter() - start
        if took > SLOWEST[0]:
            SLOWEST[:] = [took, entry]
    OUTCOMES[entry]["ok"] += 1
    return result


@pytest.fixture(scope="module", autouse=True)
def figures():
    start = time.perf_counter()
    yield
    total = sum(SCENARIOS.values())
    parts = ", ".join(f"{k} {v:,}" for k, v in SCENARIOS.items())
    print(f"\nAPI fuzz: {total:,} scenarios ({parts}) in {time.perf_counter() - start:.1f} s")
    print(f"slowest call: {SLOWEST[1]}, {SLOWEST[0] * 1000:.0f} ms; outcomes by entry point:")
    for entry in sorted(OUTCOMES):
        counts = ", ".join(f"{kind} {n:,}" for kind, n in OUTCOMES[entry].most_common())
        print(f"  {entry:20s} {counts}")


# ------------------------------------------------------------------ strategies
ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "step", "sign"]
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
LOSSES = ["squared_error", "mse", "cross_entropy", "binary_cross_entropy"]
OUTPUT_OF = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
EXTREMES = [math.nan, math.inf, -math.inf, 1e308, -1.7e308, 3.5e38, 1e38, 1e-320, 0.0]
# Values of the wrong kind for any argument: bools for ints, text, None, containers, complex,
# huge ints, odd number types, numpy scalars and 0-d arrays (these count as their numbers).
# fmt: off
ODD = [
    0, -1, True, False, None, "3", "abc", "", 2.5, -0.5, math.nan, math.inf, -math.inf, 1e308,
    1e-320, 10**30, 2**31, 2**63, -(2**63), 1j, 1 + 0j, np.int64(2), np.float32(0.5),
    np.array(0.3), np.array([1, 2]), [1], (), {}, object(), np.bool_(True), np.complex128(1),
    Decimal("0.1"), Fraction(1, 3), np.uint8(3), np.float64("nan"), b"1",
]
# fmt: on
odd = st.sampled_from(ODD)


def mostly(good, bad=odd, one_in: int = 8):
    """``good`` values, and ``bad`` ones about one draw in ``one_in``."""
    # A sampled_from stays near its share; hypothesis draws bounded integers' ends far more.
    return st.sampled_from([True] * (one_in - 1) + [False]).flatmap(lambda ok: good if ok else bad)


small_int = mostly(st.integers(1, 5))
any_float = mostly(st.floats(1e-4, 2.0), st.one_of(odd, st.sampled_from(EXTREMES)))
unit_float = mostly(st.floats(0.0, 0.99), st.one_of(odd, st.sampled_from(EXTREMES)))
switch = mostly(st.booleans())
# Sizes: small ones, or ones refused before allocating (never a valid huge one).
size = mostly(st.integers(1, 5), st.sampled_from([0, -3, 2**24 + 1, 2**31, 10**30, 2.0, "4"]))
seed = mostly(st.one_of(st.none(), st.integers(0, 2**63 - 1)))


@st.composite
def numbers(draw, shape, clean: bool):
    """An array of ``shape``: small float64 values when ``clean``, else some extremes in one of
    several dtypes (float32, ints, bool, complex, objects)."""
    values = st.floats(-3, 3) if clean else mostly(st.floats(-3, 3), st.sampled_from(EXTREMES), 3)
    count = int(np.prod(shape))
    array = np.array(draw(st.lists(values, min_size=count, max_size=count)), float).reshape(shape)
    if clean:
        return array
    kind = draw(st.sampled_from(["float64", "float32", "int64", "uint8", "bool", "c16", "O"]))
    if kind in ("int64", "uint8", "bool"):
        return np.nan_to_num(array, posinf=0, neginf=0).clip(0, 3).astype(kind)
    with np.errstate(over="ignore"):
        return array.astype(kind)


@st.composite
def features(draw, n, n_in):
    """X: a valid (n, n_in) matrix, or, one draw in four, malformed in one way."""
    how = draw(mostly(st.just("good"), st.sampled_from(["values", "shape", "ragged", "odd"]), 6))
    if how == "good":
        return draw(numbers((n, n_in), clean=True))
    if how == "values":
        return draw(numbers((n, n_in), clean=False))
    if how == "shape":
        shape = draw(st.sampled_from([(n,), (n, n_in + 1), (0, n_in), (n, n_in, 1), (), (n, 0)]))
        return draw(numbers(shape, clean=True))
    if how == "ragged":
        return [[1.0] * n_in, [1.0] * (n_in + 1)] + [[0.0] * n_in] * (n - 2)
    return draw(st.one_of(odd, st.just([["a"] * n_in] * n)))


@st.composite
def targets(draw, n, k, loss):
    """Y fitting ``loss``, or, one draw in four, malformed in one way."""
    how = draw(mostly(st.just("good"), st.sampled_from(["labels", "values", "shape", "odd"]), 6))
    if how == "good" and loss == "cross_entropy":
        return draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    if how == "good" and loss == "binary_cross_entropy":
        bits = draw(st.lists(st.integers(0, 1), min_size=n * k, max_size=n * k))
        return np.array(bits).reshape((n, k) if k > 1 else (n,))
    if how == "good":
        return draw(numbers((n, k), clean=True))
    if how == "labels":
        return draw(st.lists(st.integers(-2, k + 2), min_size=n, max_size=n))
    if how == "values":
        return draw(numbers(draw(st.sampled_from([(n,), (n, k)])), clean=False))
    if how == "shape":
        return draw(numbers(draw(st.sampled_from([(n + 1,), (n, k + 1), (0,), ()])), True))
    return draw(st.one_of(odd, st.just([[0], [0, 1]] + [[0]] * (n - 2))))


@st.composite
def sample_weights(draw, n):
    good = st.lists(st.floats(0.1, 5), min_size=n, max_size=n)
    bad = st.one_of(
        st.lists(
            st.sampled_from([0.0, 1.0, 1e308, 1e-320, -1.0, math.nan]), min_size=n, max_size=n
        ),
        numbers((n,), clean=False),
        numbers((n + 1,), clean=True),
        st.just([[1], [1, 2]]),
        odd,
    )
    return draw(mostly(good, bad, 3))


@st.composite
def network(draw, max_in: int = 4):
    """A small valid network (all activations differentiable)."""
    n_in = draw(st.integers(1, max_in))
    loss = draw(st.sampled_from(LOSSES))
    k = draw(st.integers(2 if loss == "cross_entropy" else 1, 3))
    widths = [n_in, *draw(st.lists(st.integers(1, 4), max_size=2)), k]
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        last = i == len(widths) - 2
        act = OUTPUT_OF.get(loss, "identity") if last else draw(st.sampled_from(HIDDEN))
        if last and loss not in OUTPUT_OF:
            act = draw(st.sampled_from(["identity", "sigmoid", "tanh"]))
        layers.append(cr.Dense(a, b, act, bias=draw(st.booleans()), alpha=0.1))
    return cr.Network(
        layers,
        loss=loss,
        dtype=draw(st.sampled_from(["float32", "float64"])),
        seed=draw(st.integers(0, 100)),
        l1=draw(st.sampled_from([0.0, 0.01])),
        l2=draw(st.sampled_from([0.0, 0.01])),
    )


def finite_tree(value) -> bool:
    if isinstance(value, dict):
        return all(v is None or np.isfinite(v).all() for v in value.values())
    return all(finite_tree(v) for v in value)


# ------------------------------------------------------------------ building networks
@st.composite
def dense_args(draw):
    n_in, n_out = draw(size), draw(size)
    kwargs = {}
    if draw(st.integers(0, 3)) == 0:
        kwargs["bias"] = draw(mostly(st.booleans(), st.one_of(odd, st.just([[1], [2, 3]])), 3))
    if draw(st.integers(0, 4)) == 0:
        fits = (n_in, n_out) if type(n_in) is type(n_out) is int and 0 < n_in * n_out < 30 else ()
        shape = draw(mostly(st.just(fits), st.sampled_from([(2, 2), (2, 1), (3,)]), 3))
        values = numbers(shape, clean=draw(st.booleans()))
        kwargs["weights"] = draw(mostly(values, st.one_of(st.just([[1, 2], [3]]), odd), 4))
    if draw(st.integers(0, 4)) == 0:
        kwargs["init"] = draw(mostly(st.sampled_from(["he", "xavier", "zeros"]), st.just("magic")))
    if draw(st.integers(0, 4)) == 0:
        kwargs["alpha"] = draw(unit_float)
    names = mostly(st.sampled_from(ACTIVATIONS), st.sampled_from(["swish", " TANH ", "Leaky-ReLU"]))
    return n_in, n_out, draw(mostly(names)), kwargs


@st.composite
def build_scenario(draw):
    specs = draw(st.lists(dense_args(), min_size=1, max_size=3))
    net_kwargs = {
        "loss": draw(mostly(st.sampled_from([*LOSSES, "hinge", "log_loss"]))),
        "dtype": draw(mostly(st.sampled_from(["float32", "float64", "float16", np.float64]))),
        "seed": draw(seed),
        "l1": draw(st.one_of(st.just(0.0), any_float)),
        "l2": draw(st.one_of(st.just(0.0), any_float)),
    }
    if draw(st.booleans()):  # a matching loss and output, so that more networks get built
        net_kwargs["loss"] = "mse"
    return specs, net_kwargs


@scaled("build")
@given(build_scenario())
def test_building_networks(scenario):
    """Dense and Network with random, often invalid, sizes, activations, losses and settings;
    a network that is built predicts finite outputs."""
    SCENARIOS["build"] += 1
    specs, net_kwargs = scenario
    layers = []
    for n_in, n_out, act, kwargs in specs:
        if layers:  # chain the sizes, so that more networks get built
            n_in = layers[-1].n_out
        layer = attempt("Dense", lambda: cr.Dense(n_in, n_out, act, **kwargs))  # noqa: B023
        if isinstance(layer, cr.Dense):
            layers.append(layer)
    net = attempt("Network", lambda: cr.Network(layers, **net_kwargs))
    if isinstance(net, cr.Network):
        X = np.random.default_rng(0).normal(size=(3, net.n_inputs))
        out = attempt("predict", lambda: net.predict(X))
        if isinstance(out, np.ndarray):
            assert out.shape == (3, net.n_outputs) and np.isfinite(out).all()
        attempt("summary", lambda: str(net.summary()) + repr(net))


# ------------------------------------------------------------------ data through a network
DATA_ENTRIES = ["predict", "predict_classes", "loss", "gradients", "evaluate", "accuracy", "trace"]


@st.composite
def data_scenario(draw):
    net = draw(network())
    n = draw(st.integers(1, 6))
    X = draw(features(n, net.n_inputs))
    Y = draw(targets(n, net.n_outputs, net.loss_fn.name))
    weights = draw(st.one_of(st.none(), sample_weights(n)))
    if draw(st.integers(0, 5)) == 0:  # weights with which float32 computations overflow
        net.layers[0].W = np.full((net.layers[0].n_in, net.layers[0].n_out), 1e30)
    return net, X, Y, weights


@scaled("data")
@given(data_scenario(), st.sampled_from(DATA_ENTRIES), st.one_of(st.just(0.1), any_float))
def test_data_through_a_network(scenario, entry, lr):
    """predict, loss, gradients, evaluate, accuracy and trace on good and malformed data:
    outputs and gradients, when given, are finite; accuracy is in [0, 1]."""
    SCENARIOS["data"] += 1
    net, X, Y, weights = scenario
    calls = {
        "predict": lambda: net.predict(X),
        "predict_classes": lambda: net.predict_classes(X),
        "loss": lambda: net.loss(X, Y, sample_weight=weights),
        "gradients": lambda: net.gradients(X, Y, sample_weight=weights),
        "evaluate": lambda: net.evaluate(X, Y, weights),
        "accuracy": lambda: net.accuracy(X, Y, sample_weight=weights),
        "trace": lambda: str(net.trace(X, Y, lr=lr)),
    }
    result = attempt(entry, calls[entry])
    if isinstance(result, cr.ChainruleError):
        return
    if entry == "predict":
        assert result.dtype == net.dtype and np.isfinite(result).all()
    elif entry == "gradients":
        assert finite_tree(result)
    elif entry == "accuracy":
        assert 0.0 <= result <= 1.0
    elif entry in ("loss", "evaluate"):
        assert isinstance(result if entry == "loss" else result[0], float)


# ------------------------------------------------------------------ fit
@st.composite
def schedules(draw):
    """A schedule name, or a constructor call of one (made inside ``attempt``)."""
    if draw(st.booleans()):
        return draw(mostly(st.sampled_from([None, "constant", "step", "exponential", "cosine"])))
    kind = draw(st.sampled_from([cr.StepDecay, cr.ExponentialDecay, cr.InverseScaling]))
    step, gamma = draw(small_int), draw(mostly(st.floats(0.1, 1.0)))
    return lambda: kind(step, gamma) if kind is cr.StepDecay else kind(gamma)


@st.composite
def optimizers(draw):
    """An optimizer name, or a constructor call of SGD or Adam with fuzzed hyper-parameters."""
    kind = draw(st.sampled_from(["name", "sgd", "adam"]))
    if kind == "name":
        return draw(mostly(st.sampled_from(["sgd", "momentum", "nesterov", "adam", "rmsprop"])))
    schedule = draw(schedules())
    lr = draw(mostly(st.floats(1e-3, 0.5), st.one_of(odd, st.sampled_from([1e3, 1e300]))))

    def make():
        s = schedule() if callable(schedule) else schedule
        if kind == "sgd":
            return cr.SGD(lr, draw_momentum, draw_nesterov, schedule=s)
        return cr.Adam(lr, beta1, beta2, eps, schedule=s)

    draw_momentum, draw_nesterov = draw(unit_float), draw(switch)
    beta1, beta2, eps = draw(unit_float), draw(unit_float), draw(mostly(st.just(1e-8)))
    return make


@st.composite
def fit_scenario(draw):
    net = draw(network())
    n = draw(st.integers(1, 10))
    X = draw(features(n, net.n_inputs))
    Y = draw(targets(n, net.n_outputs, net.loss_fn.name))
    kwargs = {"epochs": draw(mostly(st.integers(1, 3), one_in=10))}
    if draw(st.booleans()):
        kwargs["batch_size"] = draw(mostly(st.one_of(st.none(), st.integers(1, 12))))
    if draw(st.booleans()):
        kwargs["optimizer"] = draw(optimizers())
    if draw(st.integers(0, 3)) == 0:
        kwargs["validation_split"] = draw(mostly(st.sampled_from([0.2, 0.5, 0.9, 1.0])))
    elif draw(st.integers(0, 3)) == 0:
        pair = (draw(features(2, net.n_inputs)), draw(targets(2, net.n_outputs, net.loss_fn.name)))
        kwargs["validation_data"] = draw(mostly(st.just(pair), st.just(pair[:1]), 6))
    if draw(st.integers(0, 3)) == 0:
        args = (
            draw(small_int),
            draw(mostly(st.floats(0, 1e-3))),
            draw(mostly(st.sampled_from([None, "loss", "val_loss", "accuracy"]))),
            draw(switch),
        )
        kwargs["early_stopping"] = draw(
            mostly(st.one_of(st.booleans(), st.just(lambda: cr.EarlyStopping(*args))))
        )
    if draw(st.integers(0, 3)) == 0:
        kwargs["sample_weight"] = draw(sample_weights(n))
    if draw(st.integers(0, 4)) == 0:
        kwargs["shuffle"] = draw(switch)
    if draw(st.integers(0, 4)) == 0:
        stop = draw(st.sampled_from([None, True, False, 0, np.True_]))
        good = st.sampled_from([[lambda net, epoch, logs: stop], [cr.Callback()], ()])
        kwargs["callbacks"] = draw(mostly(good, st.sampled_from([3, "abc", [3], None]), 3))
    return net, X, Y, kwargs


def _construct(kwargs: dict) -> dict | None:
    """Call the optimizer and early-stopping constructors the scenario holds (fuzzed too)."""
    out = dict(kwargs)
    for key, entry in (("optimizer", "SGD/Adam"), ("early_stopping", "EarlyStopping")):
        if callable(out.get(key)) and not isinstance(out[key], (cr.Optimizer, cr.Callback)):
            made = attempt(entry, out[key])
            if isinstance(made, cr.ChainruleError):
                return None
            out[key] = made
    return out


@scaled("fit")
@given(fit_scenario())
def test_fit(scenario):
    """fit with fuzzed data, epochs, batch sizes, optimizers, validation, early stopping,
    weights, shuffling and callbacks: a History of finite values, or a ChainruleError (a
    TrainingDivergedError leaves finite weights and a finite history)."""
    SCENARIOS["fit"] += 1
    net, X, Y, kwargs = scenario
    kwargs = _construct(kwargs)
    if kwargs is None:
        return
    result = attempt("fit", lambda: net.fit(X, Y, **kwargs))
    assert np.isfinite(net.theta).all()
    history = getattr(result, "history", result)
    if isinstance(history, cr.History):
        for series in history.as_dict().values():
            assert np.isfinite(series).all()
        assert len(history.loss) <= kwargs["epochs"]


# ------------------------------------------------------------------ the other entry points
@st.composite
def optimizer_call(draw):
    spec = draw(optimizers())
    return "SGD/Adam", spec if callable(spec) else (lambda: get_optimizer(spec))


@st.composite
def schedule_call(draw):
    make = draw(st.sampled_from([cr.StepDecay, cr.ExponentialDecay, cr.InverseScaling]))
    a, b = draw(small_int), draw(any_float)
    epoch = draw(st.sampled_from([0, 1, 7, 10**6]))

    def call():
        schedule = make(a, b) if make is cr.StepDecay else make(b)
        factor = schedule.factor(epoch)
        assert isinstance(factor, float) and 0.0 <= factor < math.inf
        return schedule

    return "schedule", call


@st.composite
def early_stopping_call(draw):
    monitor = draw(mostly(st.sampled_from(["loss", "val_loss", "Val-Loss"])))
    args = (draw(small_int), draw(any_float), monitor, draw(switch))
    return "EarlyStopping", lambda: cr.EarlyStopping(*args)


@st.composite
def perceptron_call(draw):
    n, n_in = draw(st.integers(1, 8)), draw(size)
    kwargs = {
        "lr": draw(mostly(st.floats(0.1, 2), st.sampled_from([1e308, *ODD]))),
        "max_epochs": draw(mostly(st.integers(1, 20))),
        "shuffle": draw(switch),
        "seed": draw(seed),
    }
    act = draw(mostly(st.sampled_from(["step", "sign"])))
    X = draw(features(n, n_in if type(n_in) is int and 0 < n_in < 6 else 2))
    low = -1 if act == "sign" else 0
    labels = st.lists(st.sampled_from([low, 1, low, 1, 0 if low else -1]), min_size=n, max_size=n)
    y = draw(mostly(labels, st.one_of(odd, numbers((n,), clean=False))))

    def call():
        p = cr.Perceptron(n_in, 1, act, **kwargs).fit(X, y)
        assert np.isfinite(p.W).all() and np.isfinite(p.predict(X)).all()
        return p

    return "Perceptron", call


@st.composite
def dataset_call(draw):
    name = draw(st.sampled_from(["circle", "xor_2d", "gaussians", "spiral", "moons", "plane"]))
    name = draw(st.sampled_from([name, "multi_gaussian"]))
    kwargs = {
        "noise": draw(mostly(st.floats(0, 1), st.one_of(odd, st.just(1e308)))),
        "seed": draw(seed),
    }
    if name in ("gaussians", "spiral"):
        kwargs["classes"] = draw(small_int)
    n = draw(mostly(st.integers(1, 60)))

    def call():
        X, y = getattr(cr.datasets, name)(n, **kwargs)
        assert X.shape == (n, 2) and len(y) == n and np.isfinite(X).all()
        return X

    return "datasets", call


@st.composite
def standardize_call(draw):
    X = draw(features(4, 2))
    given = st.one_of(st.lists(st.floats(0.5, 3), min_size=2, max_size=2), numbers((2,), False))
    mean = draw(mostly(st.none(), st.one_of(given, odd), 3))
    scale = draw(mostly(st.none(), st.one_of(given, odd), 3))

    def call():
        Xs, _, s = cr.datasets.standardize(X, mean, scale)
        assert np.isfinite(Xs).all() and (s > 0).all()
        return Xs

    return "standardize", call


@st.composite
def gradient_check_call(draw):
    net = draw(network(max_in=2))
    X = draw(features(3, net.n_inputs))
    Y = draw(targets(3, net.n_outputs, net.loss_fn.name))
    subject = draw(mostly(st.just(net)))
    eps = draw(mostly(st.sampled_from([1e-6, 1e-3]), st.one_of(odd, st.sampled_from(EXTREMES))))
    if draw(st.booleans()):
        kwargs = {
            "eps": draw(st.one_of(st.none(), st.just(eps))),
            "tolerance": draw(mostly(st.just(1e-6))),
            "floor": draw(mostly(st.just(1e-3))),
        }
        return "gradcheck", lambda: cr.gradcheck(subject, X, Y, **kwargs).max_error
    richardson = draw(switch)

    def call():
        grads = cr.numerical_gradients(subject, X, Y, eps, richardson=richardson)
        assert finite_tree(grads)
        return grads

    return "numerical_gradients", call


@st.composite
def network_methods_call(draw):
    net = draw(network(max_in=2))
    X = draw(features(3, net.n_inputs))
    what = draw(st.sampled_from(["astype", "W", "b" if net.layers[0].has_bias else "W"]))
    if what == "astype":
        dtype = draw(mostly(st.sampled_from(["float32", "float64", "int8", np.float32])))
        if net.dtype == np.float64 and draw(st.booleans()):  # beyond float32's range
            net.layers[0].W = np.full((net.layers[0].n_in, net.layers[0].n_out), 1e150)
        return "astype", lambda: net.astype(dtype).predict(X)
    layer = net.layers[0]
    shape = (layer.n_in, layer.n_out) if what == "W" else (layer.n_out,)
    value = draw(mostly(numbers(shape, clean=False), st.one_of(odd, st.just([[1], [2, 3]]))))

    def call():
        setattr(layer, what, value)
        assert np.isfinite(net.theta).all()

    return "set W/b", call


@st.composite
def lookup_call(draw):
    if draw(st.booleans()):
        spec = draw(mostly(st.sampled_from([*LOSSES, "log_loss", " MSE "])))
        return "get_loss", lambda: cr.get_loss(spec)
    spec = draw(mostly(st.sampled_from([*ACTIVATIONS, "linear", "Logistic"])))
    e = draw(features(3, 2))
    return "get_activation", lambda: cr.get_activation(spec).derivative(e)


@scaled("other")
@given(
    st.one_of(
        optimizer_call(),
        schedule_call(),
        early_stopping_call(),
        perceptron_call(),
        dataset_call(),
        standardize_call(),
        gradient_check_call(),
        network_methods_call(),
        lookup_call(),
    )
)
def test_other_entry_points(scenario):
    """Optimizers, schedules, EarlyStopping, Perceptron, datasets, standardize, gradcheck,
    numerical_gradients, astype and the weight setters."""
    SCENARIOS["other"] += 1
    entry, call = scenario
    attempt(entry, call)
