"""A compiled training epoch for small networks (Numba; the optional ``fast`` extra).

For a network like the playground's (a few layers of a few units, batches of ten or so), a
NumPy step is some thirty library calls of about a microsecond each on arrays of a hundred
numbers: the call overhead, not the arithmetic, is the cost. This module runs a whole epoch —
gather, forward, backward, update — as one compiled loop nest, which is exactly the same
algorithm as :meth:`Network.forward`/:meth:`Network.backward` plus the optimizer, written out
element by element. Results agree with the NumPy path to rounding (the sums run in another
order), and are deterministic run to run.

It is used by :func:`chainrule.training.fit` only when Numba is installed, the network is
small enough that loops beat BLAS calls (see :data:`MAX_WORK`), and every part of it has a
compiled counterpart; otherwise the NumPy path runs. Set ``CHAINRULE_COMPILED=0`` to turn it off.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._checks import show
from .errors import ConfigError

try:  # Numba is optional: without it everything runs on the NumPy path.
    import numba
except ImportError:  # pragma: no cover - exercised when the extra is absent
    numba = None

# Per-step work (batch size × parameters) up to which the compiled loops beat NumPy's calls.
# Measured on a 2-core x86-64 (float32, ReLU + softmax): 2-8-8-2/16 (work 1.8k) 11 µs vs 95 µs
# per step; 10-32-32-3/32 (48k) 77 vs 119; 30-64-2/64 (135k) 118 vs 122; 64-100-10/32 (240k)
# 157 vs 99. Beyond about 100k the BLAS calls of the NumPy path win.
MAX_WORK = 100_000

_ACTS = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
_LOSSES = {"squared_error": 0, "mse": 1, "cross_entropy": 2, "binary_cross_entropy": 3}
# Adam's step count is an int64 in the kernel, which adds one per step: any t up to here
# leaves room for more steps than any run takes.
_MAX_T = 2**62
_STATE_FIX = (
    "the optimizer's state does not fit this network: call opt.reset() or pass a fresh optimizer"
)
_BUG_FIX = (
    "this is a bug in chainrule, please report it; CHAINRULE_COMPILED=0 trains on the NumPy "
    "path meanwhile"
)


def available() -> bool:
    return numba is not None and os.environ.get("CHAINRULE_COMPILED", "1") != "0"


class Plan:
    """The compiled epoch for one network and optimizer; :meth:`epoch` replaces the step loop."""

    def __init__(self, net, opt, layout: np.ndarray, alphas: np.ndarray, size: int) -> None:
        self.net, self.opt = net, opt
        self.layout, self.alphas = layout, alphas
        self.size = size  # the parameters the layout covers: theta's length
        self.loss_code = _LOSSES[net.loss_fn.name]

    def epoch(self, X, T, weights, order, bs, outputs) -> None:
        """One epoch over the samples in ``order`` in batches of ``bs``; outputs (n, k) filled."""
        from .optimizers import SGD, Adam

        net, opt = self.net, self.opt
        theta = net.theta
        lr = opt.current_lr
        if isinstance(opt, Adam):
            if not opt.m:
                opt.m, opt.v = [np.zeros_like(theta)], [np.zeros_like(theta)]
            code, mu, vel, m, v = 3, 0.0, theta[:0], opt.m[0], opt.v[0]
            b1, b2, eps = opt.beta1, opt.beta2, opt.eps
        else:
            assert isinstance(opt, SGD)
            if opt.momentum and not opt.velocity:
                opt.velocity = [np.zeros_like(theta)]
            code = 0 if not opt.momentum else (2 if opt.nesterov else 1)
            mu, vel = opt.momentum, (opt.velocity[0] if opt.momentum else theta[:0])
            m = v = theta[:0]
            b1 = b2 = eps = 0.0
        w = theta[:0] if weights is None else weights
        t = getattr(opt, "t", 0)
        # The kernel indexes every array without bounds checks: a wrong shape is a write
        # past the end of memory, so each is checked here, whatever produced it.
        used = {1: {"velocity": vel}, 2: {"velocity": vel}, 3: {"m": m, "v": v}}.get(code, {})
        self._check(X, T, weights, order, bs, outputs, used, t)
        t = _epoch(
            theta,
            self.layout,
            self.alphas,
            self.loss_code,
            X,
            T,
            w,
            weights is not None,
            order,
            bs,
            outputs,
            code,
            lr,
            mu,
            vel,
            m,
            v,
            t,
            b1,
            b2,
            eps,
            net.l1,
            net.l2,
        )
        if code == 3:
            opt.t = t

    def _check(self, X, T, weights, order, bs, outputs, state: dict, t) -> None:
        """Refuse (ConfigError) any array that does not have the shape the kernel assumes."""
        theta = self.net.theta
        dtype, n, k = theta.dtype, _length(X), int(self.layout[-1, 1])
        _require(theta, "net.theta", (self.size,), dtype, _BUG_FIX, write=True)
        for name, array in state.items():  # the optimizer arrays this optimizer updates
            _require(array, f"optimizer {name}", theta.shape, dtype, _STATE_FIX, write=True)
        _require(X, "X", (n, int(self.layout[0, 0])), dtype, _BUG_FIX)
        _require(T, "T", (n, k), dtype, _BUG_FIX)
        if weights is not None:
            _require(weights, "sample weights", (n,), dtype, _BUG_FIX)
        _require(order, "order", (_length(order),), np.dtype(np.int64), _BUG_FIX)
        _require(outputs, "outputs", (_length(order), k), dtype, _BUG_FIX, write=True)
        if len(order) and not (order.min() >= 0 and order.max() < n):
            raise ConfigError(f"the compiled epoch got sample indices outside [0, {n}); {_BUG_FIX}")
        if isinstance(bs, bool) or not isinstance(bs, (int, np.integer)) or bs < 1:
            raise ConfigError(f"the compiled epoch got batch size {show(bs)}; {_BUG_FIX}")
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= _MAX_T:
            problem = f"Adam's step count opt.t={show(t)} is not in [0, 2**62]"
            raise ConfigError(f"{problem}; {_STATE_FIX}")


def _length(array: object) -> int:
    """The rows of an array; -1 (which no shape has) for anything else."""
    return array.shape[0] if isinstance(array, np.ndarray) and array.ndim else -1


def _require(
    array: object, name: str, shape: tuple, dtype: np.dtype, fix: str, *, write: bool = False
) -> None:
    """Raise unless ``array`` is a C-contiguous (writable) ndarray of ``shape`` and ``dtype``."""
    ok = (
        isinstance(array, np.ndarray)
        and array.shape == shape
        and array.dtype == dtype
        and array.flags.c_contiguous
        and (array.flags.writeable or not write)
    )
    if not ok:
        got = (
            f"shape {array.shape}, dtype {array.dtype}"
            if isinstance(array, np.ndarray)
            else type(array).__name__
        )
        raise ConfigError(
            f"the compiled epoch needs {name} as a C-contiguous {dtype} array of shape {shape}, "
            f"got {got}; {fix}"
        )


def plan(net, opt, batch_size: int) -> Plan | None:
    """A :class:`Plan` when the compiled path applies to this network and optimizer, else None."""
    from .optimizers import SGD, Adam

    # AdamW and clipping have no kernel: the NumPy path runs them.
    if not available() or type(opt) not in (SGD, Adam) or opt.clips:
        return None
    if batch_size * int(net.theta.size) > MAX_WORK:
        return None
    layers = net.layers
    fused = net.loss_fn.fused
    layout = np.zeros((len(layers), 5), np.int64)
    alphas = np.zeros(len(layers), np.float64)
    offset = 0
    for i, layer in enumerate(layers):
        name = layer.activation.name
        if name not in _ACTS:
            return None
        # Softmax only as the output of the fused cross-entropy (its Jacobian is not coded).
        if name == "softmax" and not (i == len(layers) - 1 and fused):
            return None
        layout[i] = (layer.n_in, layer.n_out, layer.has_bias, _ACTS[name], offset)
        alphas[i] = getattr(layer.activation, "alpha", 0.0)
        offset += layer.Wb.size
    return Plan(net, opt, layout, alphas, offset)


def _njit(fn):
    return (
        numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})(fn)
        if numba is not None
        else fn
    )


@_njit
def _activate(h, code, alpha):
    rows, cols = h.shape
    for s in range(rows):
        if code == 5:  # softmax, row by row, shifted by the row maximum
            top = h[s, 0]
            for j in range(1, cols):
                top = max(top, h[s, j])
            total = 0.0
            for j in range(cols):
                h[s, j] = math.exp(h[s, j] - top)
                total += h[s, j]
            for j in range(cols):
                h[s, j] /= total
            continue
        for j in range(cols):
            e = h[s, j]
            if code == 1:
                h[s, j] = 1.0 / (1.0 + math.exp(-e)) if e >= -700.0 else 0.0
            elif code == 2:
                h[s, j] = math.tanh(e)
            elif code == 3:
                h[s, j] = e if e > 0 else 0.0
            elif code == 4:
                h[s, j] = e if e > 0 else alpha * e


@_njit
def _derive(d, h, code, alpha):
    """d ← d ⊙ g'(e), with g' written from the output h."""
    rows, cols = d.shape
    for s in range(rows):
        for j in range(cols):
            y = h[s, j]
            if code == 1:
                d[s, j] *= y * (1.0 - y)
            elif code == 2:
                d[s, j] *= 1.0 - y * y
            elif code == 3 and y <= 0:
                d[s, j] = 0.0
            elif code == 4 and y <= 0:
                d[s, j] *= alpha


@_njit
def _rows(flat, start, rows, cols):
    """A contiguous (rows, cols) view of ``flat`` from ``start``."""
    return flat[start : start + rows * cols].reshape((rows, cols))


@_njit
def _row(layout, i):
    return layout[i, 0], layout[i, 1], layout[i, 2], layout[i, 3], layout[i, 4]


@_njit
def _epoch(
    theta, layout, alphas, loss_code, X, T, w, use_w, order, bs, outputs,
    opt_code, lr, mu, vel, m, v, t, b1, b2, eps, l1, l2,
):  # fmt: skip
    n = order.shape[0]
    L = layout.shape[0]
    k = layout[L - 1, 1]
    width = 0
    for i in range(L):
        width = max(width, layout[i, 1])
    dtype = theta.dtype
    # Each layer's activations for the batch, and δ of the current layer and of the one below,
    # as contiguous (rows, units) views of flat buffers, so the inner loops vectorise.
    starts = np.zeros(L + 1, np.int64)
    for i in range(L):
        starts[i + 1] = starts[i] + bs * layout[i, 1]
    Hf = np.empty(starts[L], dtype)
    Df = np.empty((2, bs * width), dtype)
    x = np.empty((bs, layout[0, 0]), dtype)
    grad = np.empty_like(theta)
    for start in range(0, n, bs):
        nb = min(bs, n - start)
        for s in range(nb):  # gather the batch
            x[s, :] = X[order[start + s], :]
        # Forward: e = [h, 1]·[W; b], h = g(e).
        for li in range(L):
            n_in, n_out, bias, act, off = _row(layout, li)
            Wb = theta[off : off + (n_in + bias) * n_out].reshape((n_in + bias, n_out))
            src = x[:nb, :] if li == 0 else _rows(Hf, starts[li - 1], nb, n_in)
            out = _rows(Hf, starts[li], nb, n_out)
            for s in range(nb):
                for j in range(n_out):
                    out[s, j] = Wb[n_in, j] if bias else 0.0
                for i in range(n_in):
                    a = src[s, i]
                    for j in range(n_out):
                        out[s, j] += a * Wb[i, j]
            if li == L - 1 and loss_code >= 2:  # fused loss: the epoch loss uses the logits
                outputs[start : start + nb, :] = out
            _activate(out, act, alphas[li])
        # The loss gradient at the output, for the batch mean (and sample weights).
        top = _rows(Hf, starts[L - 1], nb, k)
        delta = _rows(Df[0], 0, nb, k)
        for s in range(nb):
            row = order[start + s]
            c = (lr if opt_code < 3 else 1.0) / nb
            if use_w:
                c *= w[row]
            if loss_code == 1:
                c *= 2.0 / k
            for j in range(k):
                if loss_code < 2:
                    outputs[start + s, j] = top[s, j]
                delta[s, j] = (top[s, j] - T[row, j]) * c
        if loss_code < 2:  # not fused with the activation: δ = dL/dŷ ⊙ g'(e)
            _derive(delta, top, layout[L - 1, 3], alphas[L - 1])
        # Backward: [dW; db] = [h, 1]ᵀ·δ, dL/dh below = δ·Wᵀ.
        cur = 0
        for li in range(L - 1, -1, -1):
            n_in, n_out, bias, act, off = _row(layout, li)
            size = (n_in + bias) * n_out
            Wb = theta[off : off + size].reshape((n_in + bias, n_out))
            G = grad[off : off + size].reshape((n_in + bias, n_out))
            src = x[:nb, :] if li == 0 else _rows(Hf, starts[li - 1], nb, n_in)
            d = _rows(Df[cur], 0, nb, n_out)
            G[:, :] = 0.0
            for s in range(nb):
                for i in range(n_in):
                    a = src[s, i]
                    for j in range(n_out):
                        G[i, j] += a * d[s, j]
                if bias:
                    for j in range(n_out):
                        G[n_in, j] += d[s, j]
            scale = lr if opt_code < 3 else 1.0
            if l2 != 0.0 or l1 != 0.0:
                for i in range(n_in):
                    for j in range(n_out):
                        wij = Wb[i, j]
                        sign = 1.0 if wij > 0 else (-1.0 if wij < 0 else 0.0)
                        G[i, j] += scale * (l2 * wij + l1 * sign)
            if li > 0:
                below = _rows(Df[1 - cur], 0, nb, n_in)
                for s in range(nb):
                    for i in range(n_in):
                        acc = 0.0
                        for j in range(n_out):
                            acc += d[s, j] * Wb[i, j]
                        below[s, i] = acc
                _derive(below, src, layout[li - 1, 3], alphas[li - 1])
                cur = 1 - cur
        # The update, on the flat parameter vector (SGD's gradients carry η, folded in above).
        if opt_code == 0:
            for p in range(theta.shape[0]):
                theta[p] -= grad[p]
        elif opt_code < 3:
            for p in range(theta.shape[0]):
                vel[p] = mu * vel[p] - grad[p]
                if opt_code == 1:
                    theta[p] += vel[p]
                else:
                    theta[p] += mu * vel[p] - grad[p]
        else:
            t += 1
            step = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
            for p in range(theta.shape[0]):
                g = grad[p]
                m[p] = b1 * m[p] + (1.0 - b1) * g
                v[p] = b2 * v[p] + (1.0 - b2) * g * g
                theta[p] -= step * m[p] / (math.sqrt(v[p]) + eps)
    return t
