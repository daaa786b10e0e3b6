"""The optimizers' public contract: step takes plain gradients, clipping, validation."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import _compiled

FIRST_STEP = {  # p = 1, g = 1, η = 0.1: the parameter after one step
    "sgd": (lambda: cr.SGD(0.1), 0.9),
    "momentum": (lambda: cr.SGD(0.1, momentum=0.9), 0.9),
    "nesterov": (lambda: cr.SGD(0.1, momentum=0.9, nesterov=True), 0.81),  # 1 - 0.09 - 0.1
    "adam": (lambda: cr.Adam(0.1), 0.9),  # m̂ / √v̂ = 1
    "adamw": (lambda: cr.AdamW(0.1), 0.899),  # decay 0.1 · 0.01 first
}


@pytest.mark.parametrize("name", list(FIRST_STEP))
def test_step_takes_plain_gradients(name):
    make, expected = FIRST_STEP[name]
    p, g = np.array([1.0]), np.array([1.0])
    make().step([p], [g])
    assert p[0] == pytest.approx(expected, rel=1e-6)
    assert g[0] == 1.0


@pytest.mark.parametrize("clip", [{"clipnorm": 0.5}, {"clipvalue": 0.5}])
def test_clipping_acts_on_a_copy_of_the_plain_gradient(clip):
    p, g = np.array([1.0, 1.0]), np.array([3.0, 4.0])
    cr.SGD(1.0, **clip).step([p], [g])
    clipped = [0.3, 0.4] if "clipnorm" in clip else [0.5, 0.5]
    np.testing.assert_allclose(p, 1 - np.array(clipped), rtol=1e-5)
    assert g.tolist() == [3.0, 4.0]


def test_clip_grad_norm_in_place_and_returns_the_norm():
    grads = [np.array([3.0]), np.array([[4.0]])]
    assert cr.clip_grad_norm(grads, 1.0) == 5.0
    assert grads[0][0] == pytest.approx(0.6, rel=1e-6) and grads[1][0, 0] == pytest.approx(0.8)
    small = [np.array([0.3])]
    assert cr.clip_grad_norm(small, 1.0) == pytest.approx(0.3) and small[0][0] == 0.3


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: cr.SGD(clipnorm=1.0, clipvalue=1.0), "not both"),
        (lambda: cr.Adam(clipnorm=0), "clipnorm"),
        (lambda: cr.SGD(clipvalue=-1), "clipvalue"),
        (lambda: cr.AdamW(weight_decay=-0.1), "weight_decay"),
        (lambda: cr.WarmupCosine(warmup=5, total=5), "total > warmup"),
        (lambda: cr.WarmupCosine(warmup=-1), "warmup"),
        (lambda: cr.WarmupCosine(min_factor=1.5), "min_factor"),
        (lambda: cr.ReduceLROnPlateau(factor=1.0), "factor"),
        (lambda: cr.ReduceLROnPlateau(cooldown=-1), "cooldown"),
        (lambda: cr.ReduceLROnPlateau(patience=1.5), "patience"),
        (lambda: cr.ReduceLROnPlateau(threshold_mode="x"), "threshold_mode"),
        (lambda: cr.ReduceLROnPlateau(monitor="acc"), "monitor"),
        (lambda: cr.clip_grad_norm([np.ones(2)], 0), "max_norm"),
        (lambda: cr.clip_grad_norm(np.ones(2), 1.0), "grads"),
        (lambda: cr.SGD().step([np.ones(2)], [np.ones(3)]), "match params"),
        (lambda: cr.SGD().step([np.ones(2)], [[1.0, 1.0]]), "grads"),
    ],
)
def test_arguments_are_checked(make, match):
    with pytest.raises(cr.ConfigError, match=match):
        make()


def _data(n=120):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _net(dtype="float64"):
    layers = [cr.Dense(3, 6, "tanh"), cr.Dense(6, 2, "softmax")]
    return cr.Network(layers, loss="cross_entropy", dtype=dtype, seed=1, l2=0.01)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_fits_folded_sgd_equals_plain_step(momentum, nesterov):
    """fit's η-in-back-propagation path is the same rule as step: a clipnorm that never
    clips sends fit through step with plain gradients instead."""
    X, y = _data()
    runs = []
    for clip in (None, 1e300):
        net = _net()
        opt = cr.SGD(0.1, momentum=momentum, nesterov=nesterov, clipnorm=clip)
        net.fit(X, y, epochs=5, batch_size=16, optimizer=opt)
        runs.append(net.theta.copy())
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "opt",
    [cr.AdamW(), cr.SGD(clipnorm=1.0), cr.Adam(clipvalue=1.0)],
    ids=["adamw", "norm", "value"],
)
def test_no_compiled_plan_without_a_kernel(opt):
    assert _compiled.plan(_net(), opt, 8) is None


def test_adamw_trains_and_shrinks_weights():
    X, y = _data()
    sizes = []
    for decay in (0.0, 0.5):
        net = _net()
        net.fit(X, y, epochs=20, batch_size=16, optimizer=cr.AdamW(0.01, weight_decay=decay))
        sizes.append(float(np.linalg.norm(net.theta)))
    assert sizes[1] < sizes[0]


def test_reduce_lr_on_plateau_cuts_the_rate_in_fit():
    X, y = _data()
    plateau = cr.ReduceLROnPlateau(patience=1, min_delta=0.5, factor=0.5, min_lr=0.01)
    history = _net().fit(X, y, epochs=8, optimizer=cr.SGD(0.1), callbacks=[plateau])
    assert history.lr[0] == 0.1 and history.lr[-1] < 0.1 and min(history.lr) >= 0.01


def test_one_plateau_callback_at_most():
    X, y = _data()
    two = [cr.ReduceLROnPlateau(), cr.ReduceLROnPlateau()]
    with pytest.raises(cr.ConfigError, match="one"):
        _net().fit(X, y, epochs=1, callbacks=two)


def test_warmup_cosine_factors():
    s = cr.WarmupCosine(warmup=3, total=7, min_factor=0.2)
    f = [s.factor(e) for e in range(10)]
    assert f[:4] == [0.25, 0.5, 0.75, 1.0]
    assert f[5] == pytest.approx(0.6) and f[7:] == [pytest.approx(0.2)] * 3
    assert all(a > b for a, b in zip(f[3:7], f[4:8]))
    assert cr.WarmupCosine(warmup=0, total=4).factor(0) == 1.0
