"""Batch sources and epoch runners: the inner loop of :func:`chainrule.training.fit`.

A batch source says which samples each step sees; an epoch runner takes one pass over them
(forward, backward, update per batch) and returns the epoch's loss. ``fit`` picks both once
per run, so another source (streamed from disk, one process's shard) only has to offer
:class:`ArrayBatches`'s interface to the NumPy runner: ``n``, ``bs``, ``batches(rng)`` and
``seen()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from . import _compiled
from .optimizers import Optimizer

if TYPE_CHECKING:  # hints only: network imports training, which imports this module
    from .network import Workspace

# One step's batch: the workspace it runs in, inputs xb (b, n_inputs [+1]), targets tb
# (b, n_outputs), sample weights wb (b,) or None, and the step's rows of the epoch's outputs.
Batch = tuple["Workspace", np.ndarray, np.ndarray, np.ndarray | None, slice]


class ArrayBatches:
    """Batches of ``bs`` rows of in-memory arrays, reshuffled every epoch when ``shuffle``.

    Shuffled batches are gathered into the workspace's input buffer (the data set is never
    copied); unshuffled ones are slices. ``X`` (n, n_inputs), ``T`` (n, n_outputs), ``weights``
    (n,) or None; ``bs`` in [1, n] (n: full batch). The last batch may be smaller.

    ``slices_with_ones``: append the column of ones to X once (when the first layer has a
    bias and batches are slices), so a step passes its slice to the network as it is. The
    compiled epoch gathers rows itself and wants X as given.
    """

    def __init__(
        self,
        net,
        X: np.ndarray,
        T: np.ndarray,
        weights: np.ndarray | None,
        bs: int,
        shuffle: bool,
        *,
        slices_with_ones: bool = True,
    ) -> None:
        self.n, self.bs = n, bs = len(X), bs
        self.mixing = shuffle and bs < n  # one batch: its order does not change the step
        if slices_with_ones and not self.mixing and net.layers[0].has_bias:
            X = np.hstack([X, np.ones((n, 1), X.dtype)])
        self.X, self.T, self.weights = X, T, weights
        self.order = np.arange(n)  # the visiting order of the current epoch
        n_in = net.n_inputs
        # Per batch size (full, and the last partial one): its workspace and where a gathered
        # batch goes, the input buffer without its column of ones.
        self._spaces: dict[int, tuple[Workspace, np.ndarray]] = {}
        for size in {min(bs, n - s) for s in range(0, n, bs)}:
            ws = net.workspace(size)
            self._spaces[size] = (ws, ws.xbuf[:, :n_in] if ws.xbuf.shape[1] > n_in else ws.xbuf)

    def shuffled(self, rng: np.random.Generator) -> np.ndarray:
        """Start an epoch: draw its visiting order (n,) from ``rng`` when shuffling."""
        if self.mixing:
            self.order = rng.permutation(self.n)
        return self.order

    def batches(self, rng: np.random.Generator) -> Iterator[Batch]:
        """One epoch of batches, in the order :meth:`shuffled` draws from ``rng``."""
        order = self.shuffled(rng)
        X, T, w, bs, n, spaces = self.X, self.T, self.weights, self.bs, self.n, self._spaces
        for start in range(0, n, bs):
            rows = slice(start, start + bs)
            ws, target = spaces[min(bs, n - start)]
            if self.mixing:
                idx = order[rows]
                np.take(X, idx, axis=0, out=target)
                yield ws, ws.xbuf, T[idx], None if w is None else w[idx], rows
            else:
                yield ws, X[rows], T[rows], None if w is None else w[rows], rows

    def seen(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Targets (n, n_outputs) and weights (n,) of the current epoch in visiting order."""
        if not self.mixing:
            return self.T, self.weights
        order = self.order
        return self.T[order], None if self.weights is None else self.weights[order]

    def workspaces(self) -> list[Workspace]:
        return [ws for ws, _ in self._spaces.values()]


class EpochRunner:
    """One pass over a batch source per :meth:`run_epoch`; every step's output lands in
    ``outputs`` (n, n_outputs), from which the epoch's loss is computed once.

    Each step's output is recorded before its update, so the loss is the one training saw (as
    Keras reports it, at no extra cost). For a fused loss these are the logits, so the loss is
    exact however large they grow.
    """

    def __init__(self, net, opt: Optimizer, source: ArrayBatches) -> None:
        self.net, self.opt, self.source = net, opt, source
        self.outputs = np.empty((source.n, net.n_outputs), net.dtype)

    def run_epoch(self, rng: np.random.Generator) -> tuple[float, float | None]:
        """Train one epoch; returns its mean loss (regularisation included) and accuracy."""
        self._steps(rng)
        return self.net.epoch_metrics(self.outputs, *self.source.seen())

    def _steps(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def __enter__(self) -> EpochRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        """Give the workspaces their own output buffers back (they were rows of ``outputs``)."""
        top = len(self.net.layers) - 1
        for ws in self.source.workspaces():
            if self.net.loss_fn.fused:
                ws.logits = np.empty_like(ws.logits)
            else:
                ws.h[top] = ws.hv[top] = np.empty_like(ws.hv[top])


class NumpyEpoch(EpochRunner):
    """The epoch as NumPy calls: for each batch, forward, backward, update."""

    def _steps(self, rng: np.random.Generator) -> None:
        net, theta, outputs = self.net, self.net.theta, self.outputs
        fused, top = net.loss_fn.fused, len(net.layers) - 1
        # SGD may take η inside back-propagation (one pass over theta fewer per step).
        fold = self.opt._fold()
        scale, update = (1.0, self.opt.step) if fold is None else (fold, self.opt._step_folded)
        for ws, xb, tb, wb, rows in self.source.batches(rng):
            # The output layer writes straight into this step's rows of `outputs`.
            if fused:
                ws.logits = outputs[rows]
            else:
                ws.h[top] = ws.hv[top] = outputs[rows]
            net.forward(ws, xb, keep_logits=fused)
            net.backward(ws, xb, tb, scale, weights=wb)
            update([theta], [ws.grad])


class CompiledEpoch(EpochRunner):
    """The epoch as one compiled loop nest (:mod:`chainrule._compiled`), for small networks."""

    def __init__(self, plan: _compiled.Plan, source: ArrayBatches) -> None:
        super().__init__(plan.net, plan.opt, source)
        self.plan = plan

    def _steps(self, rng: np.random.Generator) -> None:
        s = self.source
        self.plan.epoch(s.X, s.T, s.weights, s.shuffled(rng), s.bs, self.outputs)


def epoch_runner(
    net,
    opt: Optimizer,
    X: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray | None,
    batch_size: int | None,
    shuffle: bool,
) -> EpochRunner:
    """The compiled runner when :func:`chainrule._compiled.plan` accepts the network and
    optimizer, else the NumPy one, over the in-memory arrays (n, ·); batch_size None: full."""
    n = len(X)
    bs = n if batch_size is None else min(batch_size, n)
    plan = _compiled.plan(net, opt, bs)
    source = ArrayBatches(net, X, T, weights, bs, shuffle, slices_with_ones=plan is None)
    return NumpyEpoch(net, opt, source) if plan is None else CompiledEpoch(plan, source)
