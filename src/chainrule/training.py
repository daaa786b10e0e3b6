"""The training loop: epochs of (mini-)batch gradient descent, its callbacks and its pieces."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from ._epochs import epoch_runner
from .checkpoint import load_checkpoint, save_checkpoint
from .errors import ConfigError, InputError, TrainingDivergedError
from .history import History
from .optimizers import Optimizer, get_optimizer


class Callback:
    """Hooks called by :func:`fit`. Return True from :meth:`on_epoch_end` to stop training."""

    def on_train_begin(self, net, history: History) -> None:
        pass

    def on_epoch_end(self, net, epoch: int, logs: dict[str, float]) -> bool | None:
        return None

    def on_train_end(self, net, history: History) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` defaults to ``"val_loss"`` when there is validation data, else ``"loss"``. With
    ``restore_best`` the network ends with the weights of its best epoch.
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 1e-4,
        monitor: str | None = None,
        restore_best: bool = True,
    ) -> None:
        self.patience = _checks.positive_int(patience, "patience")
        self.min_delta = _checks.positive_number(min_delta, "min_delta", allow_zero=True)
        if monitor is not None:
            monitor = _checks.choice(monitor, "monitor", ["loss", "val_loss"])
        self.monitor = monitor
        self.restore_best = _checks.flag(restore_best, "restore_best")

    def on_train_begin(self, net, history):
        self.best = math.inf
        self.best_epoch = None
        self.best_params: np.ndarray | None = None
        self.wait = 0
        self.history = history

    def state(self) -> tuple[dict, np.ndarray | None]:
        """JSON-ready progress and the best weights so far (for checkpoints)."""
        best = self.best if math.isfinite(self.best) else None  # JSON has no infinity
        info = {"best": best, "best_epoch": self.best_epoch, "wait": self.wait}
        return info, self.best_params

    def load_state(self, info: dict, best_params: np.ndarray | None) -> None:
        self.best = math.inf if info["best"] is None else float(info["best"])
        self.best_epoch = info["best_epoch"]
        self.wait = int(info["wait"])
        self.best_params = None if best_params is None else best_params.copy()

    def on_epoch_end(self, net, epoch, logs):
        value = _monitored(self.monitor, logs, "EarlyStopping")
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_params = net.theta.copy()
            return None
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, net, history):
        history.best_epoch = self.best_epoch
        if self.restore_best and self.best_params is not None:
            net.theta[...] = self.best_params


class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's base rate ``opt.lr`` by ``factor`` when the monitored loss has
    not improved for more than ``patience`` epochs (PyTorch's semantics, mode 'min'; Keras
    cuts one epoch sooner, after ``patience``).

    Improvement: loss < best · (1 − min_delta) with ``threshold_mode="rel"`` (PyTorch's
    default), loss < best − min_delta with ``"abs"``. After a reduction, ``cooldown`` epochs
    count no bad epochs. The rate never goes below ``min_lr``, and a reduction smaller than
    1e-8 is skipped. ``monitor`` defaults as in :class:`EarlyStopping`. A schedule still
    multiplies the reduced base rate.
    """

    def __init__(
        self,
        monitor: str | None = None,
        factor: float = 0.1,
        patience: int = 10,
        min_lr: float = 0.0,
        cooldown: int = 0,
        min_delta: float = 1e-4,
        threshold_mode: str = "rel",
    ) -> None:
        if monitor is not None:
            monitor = _checks.choice(monitor, "monitor", ["loss", "val_loss"])
        self.monitor = monitor
        self.factor = _checks.number(
            factor, "factor", low=0.0, high=1.0, open_low=True, open_high=True
        )
        self.patience = _checks.count(patience, "patience")
        self.min_lr = _checks.positive_number(min_lr, "min_lr", allow_zero=True)
        self.cooldown = _checks.count(cooldown, "cooldown")
        self.min_delta = _checks.positive_number(min_delta, "min_delta", allow_zero=True)
        self.threshold_mode = _checks.choice(threshold_mode, "threshold_mode", ["rel", "abs"])
        self.optimizer: Optimizer | None = None  # set by fit
        self.on_train_begin(None, None)

    def on_train_begin(self, net, history):
        self.load_state({"best": None, "wait": 0, "cooldown_counter": 0})

    def state(self) -> dict:
        """JSON-ready progress (for checkpoints)."""
        best = self.best if math.isfinite(self.best) else None  # JSON has no infinity
        return {"best": best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state(self, info: dict) -> None:
        self.best = math.inf if info["best"] is None else float(info["best"])
        self.wait = int(info["wait"])
        self.cooldown_counter = int(info["cooldown_counter"])

    def on_epoch_end(self, net, epoch, logs):
        value = _monitored(self.monitor, logs, "ReduceLROnPlateau")
        if self.threshold_mode == "rel":  # written as PyTorch does: best may be infinite
            better = value < self.best * (1 - self.min_delta)
        else:
            better = value < self.best - self.min_delta
        if better:
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        if self.cooldown_counter > 0:  # bad epochs in the cooldown do not count
            self.cooldown_counter -= 1
            self.wait = 0
        if self.wait > self.patience:
            opt = self.optimizer
            new = max(opt.lr * self.factor, self.min_lr)
            if opt.lr - new > 1e-8:
                opt.lr = new
            self.cooldown_counter, self.wait = self.cooldown, 0
        return None


def _monitored(monitor: str | None, logs: dict[str, float], who: str) -> float:
    """The value a callback watches: ``monitor``, else val_loss when there is one, else loss."""
    key = monitor or ("val_loss" if "val_loss" in logs else "loss")
    if key not in logs:
        raise ConfigError(f"{who} monitor={key!r} needs validation data")
    return logs[key]


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def on_epoch_end(self, net, epoch, logs):
        return self.fn(net, epoch, logs)


def _split(X, T, weights, fraction, seed):
    """Hold out ``fraction`` of the samples, at random from ``seed``."""
    n_val = int(round(len(X) * fraction))
    if n_val < 1 or n_val >= len(X):
        raise InputError(
            f"validation_split={fraction} leaves {n_val} validation and {len(X) - n_val} "
            "training samples; both need at least one (use more data or another fraction)"
        )
    perm = np.random.default_rng(seed).permutation(len(X))
    val, train = perm[:n_val], perm[n_val:]
    if weights is not None:  # renormalise the training part to mean 1
        where = f" on the {len(train)} training samples left by validation_split={fraction}"
        total = _checks.weight_total(weights[train], where=where)
        weights = weights[train] * (len(train) / total)
    return X[train], T[train], X[val], T[val], weights


def _restore_finite(net, snapshots, X, T, weights) -> int:
    """Restore the newest snapshot with a finite loss; returns how many epochs back it is."""
    for back, saved in enumerate(snapshots):
        net.theta[...] = saved
        if math.isfinite(net._evaluate(X, T, weights)[0]):
            return back
    return len(snapshots) - 1


@dataclass
class RunState:
    """A run's checked settings and the state it starts from (:func:`prepare_run`).

    ``X`` (n, n_inputs), ``T`` (n, n_outputs) and ``weights`` (n,) are the training part (what a
    validation split leaves), weights at mean 1; ``Xv``/``Tv`` the validation data or None.
    ``hooks`` are the callbacks in calling order, early stopping last.
    """

    X: np.ndarray
    T: np.ndarray
    weights: np.ndarray | None
    Xv: np.ndarray | None
    Tv: np.ndarray | None
    epochs: int
    settings: dict  # batch_size, shuffle, validation_split: what a resumed run must repeat
    optimizer: Optimizer
    start_epoch: int
    split_seed: int | None
    history: History
    hooks: list[Callback]
    stopper: EarlyStopping | None
    plateau: ReduceLROnPlateau | None
    checkpoint_every: int | None
    resumed: object = None  # the checkpoint.Checkpoint resumed from


def prepare_run(
    net,
    X: object,
    Y: object,
    *,
    epochs: object,
    batch_size: object,
    optimizer: Optimizer | str | None,
    validation_split: object,
    validation_data: object,
    early_stopping: object,
    shuffle: object,
    callbacks: object,
    sample_weight: object,
    checkpoint_every: object,
    resume: str | os.PathLike | None,
) -> RunState:
    """Check :func:`fit`'s arguments (ConfigError/InputError naming the one at fault), load
    ``resume`` into ``net`` and split off the validation data. Draws the split's seed from
    ``net.rng`` (a fresh run with a split); the callbacks' on_train_begin is not called yet."""
    X, T = net.check_XY(X, Y)
    weights = net.check_weights(sample_weight, len(X))
    net.check_differentiable()
    epochs = _checks.positive_int(epochs, "epochs")
    batch_size = _checks.positive_int(batch_size, "batch_size", allow_none=True)
    validation_split = _checks.fraction(validation_split, "validation_split")
    checkpoint_every = _checks.positive_int(checkpoint_every, "checkpoint_every", allow_none=True)
    if validation_data is not None and validation_split:
        raise ConfigError("pass validation_split or validation_data, not both")
    shuffle = _checks.flag(shuffle, "shuffle")
    settings = {"batch_size": batch_size, "shuffle": shuffle, "validation_split": validation_split}
    resumed = None if resume is None else _resume(net, resume, settings, epochs)
    if resumed is not None:
        opt, start_epoch, split_seed = resumed.optimizer, resumed.epoch, resumed.split_seed
    else:
        opt, start_epoch = get_optimizer(optimizer), 0
        split_seed = int(net.rng.integers(2**63)) if validation_split else None
    if opt.owner is not net:  # velocities/moments belong to one network's parameters
        if resumed is None:
            opt.reset()
        opt.owner = net
    if validation_data is not None:
        Xv, Tv = _validation_data(net, validation_data)
    elif validation_split:
        X, T, Xv, Tv, weights = _split(X, T, weights, validation_split, split_seed)
    else:
        Xv = Tv = None
    hooks, stopper = _hooks(callbacks, early_stopping)
    history = History() if resumed is None else resumed.history
    return RunState(
        X=X,
        T=T,
        weights=weights,
        Xv=Xv,
        Tv=Tv,
        epochs=epochs,
        settings=settings,
        optimizer=opt,
        start_epoch=start_epoch,
        split_seed=split_seed,
        history=history,
        hooks=hooks,
        stopper=stopper,
        plateau=_plateau(hooks, opt),
        checkpoint_every=checkpoint_every,
        resumed=resumed,
    )


def _validation_data(net, validation_data: object) -> tuple[np.ndarray, np.ndarray]:
    """Check ``validation_data=(X_val, Y_val)`` as fit checks (X, Y)."""
    if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
        raise ConfigError("validation_data must be a pair (X_val, Y_val)")
    Xv = net.check_X(validation_data[0], "validation_data[0]")
    Tv = net.loss_fn.targets(validation_data[1], net.n_outputs, net.dtype, "validation_data[1]")
    _checks.same_length(Xv, Tv, "validation_data[0]", "validation_data[1]")
    return Xv, Tv


def _hooks(
    callbacks: object, early_stopping: object
) -> tuple[list[Callback], EarlyStopping | None]:
    """The callbacks as Callback objects, the early stopping (if any) appended last."""
    if isinstance(callbacks, (Callback, str)) or not isinstance(callbacks, Iterable):
        raise ConfigError(
            f"callbacks={_checks.show(callbacks)} must be a list of cr.Callback objects or "
            "functions f(net, epoch, logs)"
        )
    callbacks = list(callbacks)
    for c in callbacks:
        if not (isinstance(c, Callback) or callable(c)):
            raise ConfigError(
                f"callbacks holds {_checks.show(c)}, which is neither a Callback nor callable"
            )
    hooks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]
    if isinstance(early_stopping, np.bool_):
        early_stopping = bool(early_stopping)
    stopper = EarlyStopping() if early_stopping is True else early_stopping
    if isinstance(stopper, EarlyStopping):
        hooks.append(stopper)
        return hooks, stopper
    if early_stopping is not False:
        raise ConfigError("early_stopping must be True, False or a cr.EarlyStopping")
    return hooks, None


class Checkpointer(Callback):
    """Write the run's training state to ``path`` every ``every`` epochs (None: never) and at
    the end of training; :class:`Rollback` also calls :meth:`save` on Ctrl-C.

    ``fit(checkpoint=PATH, checkpoint_every=N)`` adds one after all other callbacks, so what it
    writes includes their progress for the epoch (early stopping, ReduceLROnPlateau).
    """

    def __init__(self, path: str | os.PathLike, every: int | None, run: RunState) -> None:
        self.path, self.every, self.run = path, every, run

    def save(self, net, completed: int) -> None:
        """Write the state at the end of ``completed`` epochs (the network holds its weights)."""
        run = self.run
        save_checkpoint(
            self.path,
            net,
            epoch=completed,
            settings=run.settings,
            split_seed=run.split_seed,
            history=run.history,
            optimizer=run.optimizer,
            stopper=run.stopper,
            plateau=run.plateau,
        )

    def on_epoch_end(self, net, epoch, logs):
        if self.every and (epoch + 1) % self.every == 0:
            self.save(net, epoch + 1)
        return None

    def on_train_end(self, net, history):
        if not history.interrupted:  # an interrupted run was written by the rollback
            self.save(net, len(history.loss))


class Rollback:
    """The guard around fit's epochs: on divergence or Ctrl-C, go back to the last good state.

    :meth:`check` after each epoch's loss: a NaN/inf loss (or weight) restores the newest of
    the weights at the start of this epoch and of the one before whose loss is finite, and
    raises TrainingDivergedError. :meth:`commit` at each epoch's end marks the state Ctrl-C
    returns to: weights, rng, optimizer (arrays, step count, lr), early stopping and
    ReduceLROnPlateau progress and the history's length. A KeyboardInterrupt inside the
    ``with`` block restores that mark, sets ``history.interrupted``, writes the checkpoint
    (if any) and is swallowed.
    """

    def __init__(self, net, run: RunState, saver: Checkpointer | None = None) -> None:
        self.net, self.run, self.saver = net, run, saver
        # The weights at the start of this epoch and of the one before (theta's shape).
        self.snapshots = [net.theta.copy(), net.theta.copy()]
        self._back = self._mark()
        # Overflow is found once per epoch by check(), not warned about at every step.
        self._errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")

    def _mark(self) -> tuple:
        run = self.run
        return (
            self.snapshots[0],  # these weights stay intact until the end of the next epoch
            self.net.rng.bit_generator.state,
            _copy_state(run.optimizer),  # O(parameters) once an epoch: cheap next to the epoch
            _copy_stopper(run.stopper),
            None if run.plateau is None else run.plateau.state(),
            len(run.history.loss),
        )

    def check(self, epoch: int, loss: float) -> None:
        """Raise TrainingDivergedError (after restoring finite weights) unless the epoch's
        loss and the weights are finite; else keep the weights as the newest snapshot."""
        theta, run = self.net.theta, self.run
        # A saturated unit (tanh, sigmoid) keeps the loss finite while the weights feeding
        # it overflow, so the weights are checked too (O(parameters)).
        if not math.isfinite(loss) or not np.isfinite(theta).all():
            what = "a weight overflowed" if math.isfinite(loss) else f"the loss became {loss}"
            kept = _restore_finite(self.net, self.snapshots, run.X, run.T, run.weights)
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch + 1}: {what}; the "
                f"network keeps its weights from the start of epoch {epoch + 1 - kept}, "
                f"the last with a finite loss. Lower the learning rate (now "
                f"{run.optimizer.current_lr:g}) or standardise the inputs",
                run.history,
            )
        self.snapshots.reverse()
        np.copyto(self.snapshots[0], theta)

    def commit(self) -> None:
        """The epoch is complete: Ctrl-C from now on comes back here."""
        self._back = self._mark()

    def __enter__(self) -> Rollback:
        self._errstate.__enter__()
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        try:
            if kind is None or not issubclass(kind, KeyboardInterrupt):
                return False
            self._restore()
            return True
        finally:
            self._errstate.__exit__(None, None, None)

    def _restore(self) -> None:
        theta, rng_state, opt_state, stop_state, plateau_state, recorded = self._back
        run = self.run
        self.net.theta[...] = theta
        self.net.rng.bit_generator.state = rng_state
        _restore_state(run.optimizer, opt_state)
        if stop_state is not None:
            run.stopper.load_state(*stop_state)
        if plateau_state is not None:
            run.plateau.load_state(plateau_state)
        _truncate(run.history, recorded)
        run.history.interrupted = True
        if self.saver is not None:
            self.saver.save(self.net, recorded)


def _begin(net, run: RunState, hooks: list[Callback]) -> None:
    """Call the callbacks' on_train_begin, then give a resumed run's callbacks their state."""
    for hook in hooks:
        hook.on_train_begin(net, run.history)
    resumed = run.resumed
    if resumed is not None and run.stopper is not None and resumed.stopper is not None:
        run.stopper.load_state(resumed.stopper, resumed.stopper_params)
    if resumed is not None and run.plateau is not None and resumed.plateau is not None:
        run.plateau.load_state(resumed.plateau)


def _end_epoch(
    net, run: RunState, hooks: list[Callback], epoch: int, loss: float, acc: float | None
) -> bool:
    """Record the epoch in the history, measure the validation data, call the callbacks;
    True when one of them asks to stop."""
    history = run.history
    logs = {"loss": loss}
    history.loss.append(loss)
    history.lr.append(run.optimizer.current_lr)
    if acc is not None:
        history.accuracy.append(acc)
        logs["accuracy"] = acc
    if run.Xv is not None:
        val_loss, val_acc = net._evaluate(run.Xv, run.Tv)
        history.val_loss.append(val_loss)
        logs["val_loss"] = val_loss
        if val_acc is not None:
            history.val_accuracy.append(val_acc)
            logs["val_accuracy"] = val_acc
    stop = False
    for hook in hooks:  # every callback sees every epoch, even after one asked to stop
        stop = bool(hook.on_epoch_end(net, epoch, logs)) or stop
    return stop


def fit(
    net,
    X: object,
    Y: object,
    *,
    epochs: int = 100,
    batch_size: int | None = None,
    optimizer: Optimizer | str | None = None,
    validation_split: float = 0.0,
    validation_data: tuple[object, object] | None = None,
    early_stopping: bool | EarlyStopping = False,
    shuffle: bool = True,
    callbacks: Sequence[Callback | Callable] = (),
    sample_weight: object = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
) -> History:
    """Train ``net`` on (X, Y) by gradient descent.

    Parameters
    ----------
    X : array (n, n_inputs).
    Y : targets: (n, n_outputs); class labels (n,) or one-hot rows for cross_entropy.
    epochs : passes over the training data.
    batch_size : samples per step; None = full batch (gradient descent), 1 = one sample at a
        time (stochastic), else mini-batches. The last batch of an epoch may be smaller.
    optimizer : ``cr.SGD(...)``, ``cr.Adam(...)``, ``cr.AdamW(...)`` or a name (``"sgd"``,
        ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"adamw"``); default ``SGD(lr=0.01)``.
    validation_split : fraction of (X, Y) held out, drawn with the network's seeded rng.
    validation_data : explicit (X_val, Y_val) instead of a split.
    early_stopping : True for ``EarlyStopping()`` (patience 10, best weights restored) or an
        instance.
    shuffle : reshuffle the training samples every epoch (mini-batch modes).
    callbacks : :class:`Callback` objects or functions ``f(net, epoch, logs) -> stop?``; at
        most one :class:`ReduceLROnPlateau`, whose state checkpoints keep.
    sample_weight : (n,) weights >= 0; the loss becomes the weighted mean Σ wᵢ Lᵢ / Σ wᵢ.
    checkpoint : a file to write the training state to — every ``checkpoint_every`` epochs,
        at the end, and when training is interrupted (Ctrl-C).
    resume : a checkpoint written by an earlier ``fit`` with the same data and settings: the
        network, optimizer, history and random state are restored and training continues to
        ``epochs`` in all, ending bit-identical to an uninterrupted run. The checkpoint's
        optimizer is used (the ``optimizer`` argument is then ignored).

    Ctrl-C (KeyboardInterrupt) during an epoch stops training cleanly: the network, optimizer
    and random state go back to the end of the last completed epoch, the checkpoint (if any)
    is written, and the history is returned with ``interrupted=True``.

    Returns
    -------
    History of the mean loss and accuracy after each epoch.

    Raises
    ------
    TrainingDivergedError : the loss became NaN/inf; the network keeps the weights it had at the
        start of that epoch (its last finite loss), and the error carries the history.
    """
    run = prepare_run(
        net,
        X,
        Y,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        validation_split=validation_split,
        validation_data=validation_data,
        early_stopping=early_stopping,
        shuffle=shuffle,
        callbacks=callbacks,
        sample_weight=sample_weight,
        checkpoint_every=checkpoint_every,
        resume=resume,
    )
    opt, history, settings = run.optimizer, run.history, run.settings
    runner = epoch_runner(
        net, opt, run.X, run.T, run.weights, settings["batch_size"], settings["shuffle"]
    )
    saver = None if checkpoint is None else Checkpointer(checkpoint, run.checkpoint_every, run)
    hooks = run.hooks if saver is None else [*run.hooks, saver]  # the saver last: sees all
    _begin(net, run, hooks)
    with runner, Rollback(net, run, saver) as guard:  # Ctrl-C anywhere in here rolls back
        for epoch in range(run.start_epoch, run.epochs):
            opt.epoch = epoch  # the schedule's rate for this epoch
            # For each batch: forward, loss (its rows of the epoch's outputs), backward, update.
            loss, acc = runner.run_epoch(net.rng)
            guard.check(epoch, loss)
            stop = _end_epoch(net, run, hooks, epoch, loss, acc)
            guard.commit()
            if stop:
                history.stopped_early = True
                break
    try:
        for hook in hooks:
            hook.on_train_end(net, history)
    except KeyboardInterrupt:  # training is over; what was being written is written whole
        history.interrupted = True
    return history


def _resume(net, path, settings: dict, epochs: int):
    """Load a checkpoint into ``net`` (weights, rng) and return its training state."""
    saved, state = load_checkpoint(path)  # every field checked against `saved`
    # The optimizer's arrays were checked against the saved network's parameters, so the
    # network resumed must have the same parameters: layers, loss and dtype.
    mine, theirs = net.config(), saved.config()
    if any(mine[key] != theirs[key] for key in ("layers", "loss", "dtype")):
        raise ConfigError(
            f"resume={str(path)!r} holds a different network ({saved!r}); resume it with the "
            "network it was written for (cr.load the checkpoint itself)"
        )
    if state.settings != settings:
        raise ConfigError(
            f"resume={str(path)!r} was written with {state.settings}, not {settings}; pass the "
            "same batch_size, shuffle and validation_split to continue the run exactly"
        )
    if state.epoch >= epochs:
        raise ConfigError(
            f"resume={str(path)!r} has already completed {state.epoch} epochs; ask for more "
            f"than that (epochs={epochs})"
        )
    net.theta[...] = saved.theta
    net.rng.bit_generator.state = saved.rng.bit_generator.state
    return state


def _plateau(hooks: list[Callback], opt: Optimizer) -> ReduceLROnPlateau | None:
    """The run's ReduceLROnPlateau (one at most: two would both cut the same rate), bound to
    ``opt``, the optimizer whose rate it changes."""
    found = [hook for hook in hooks if isinstance(hook, ReduceLROnPlateau)]
    if len(found) > 1:
        raise ConfigError(
            f"callbacks holds {len(found)} ReduceLROnPlateau objects; pass one (a checkpoint "
            "keeps the state of one)"
        )
    if not found:
        return None
    found[0].optimizer = opt
    return found[0]


def _copy_state(opt) -> dict:
    return {
        "arrays": {k: [a.copy() for a in v] for k, v in opt.state().items()},
        "t": getattr(opt, "t", None),
        "lr": opt.lr,  # ReduceLROnPlateau changes it
    }


def _copy_stopper(stopper: EarlyStopping | None) -> tuple | None:
    if stopper is None:
        return None
    info, best = stopper.state()
    return info, None if best is None else best.copy()


def _restore_state(opt, saved: dict) -> None:
    if saved["arrays"]:
        opt.load_state(saved["arrays"])
    else:
        opt.reset()
    if saved["t"] is not None:
        opt.t = saved["t"]
    opt.lr = saved["lr"]


def _truncate(history: History, length: int) -> None:
    for series in (
        history.loss,
        history.accuracy,
        history.val_loss,
        history.val_accuracy,
        history.lr,
    ):
        del series[length:]
