"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a model file (see :mod:`chainrule.io`) that also holds the optimizer's arrays
and, in its header, the completed epochs, the history so far, the optimizer's configuration,
the fit settings, the validation split's seed and the early-stopping state. The network's
random-generator state is saved with it, so a resumed run shuffles exactly as the uninterrupted
one would have: ``fit(..., resume=PATH)`` ends with bit-identical weights.

Loading trusts nothing in the file: every field is checked for type, range and consistency
with the network (an optimizer array one element short would otherwise have the compiled
epoch write past its end), and every refusal is a ModelFileError naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import show
from .errors import ChainruleError, ModelFileError
from .history import History
from .io import Fields, load_with_arrays, save
from .optimizers import SGD, Adam, Optimizer, optimizer_from_config

_SERIES = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
_INFO = ("epoch", "settings", "split_seed", "optimizer", "history", "early_stopping")
_OPTIMIZERS = {
    "sgd": ("lr", "momentum", "nesterov", "schedule"),
    "adam": ("lr", "beta1", "beta2", "eps", "t", "schedule"),
    "adamw": ("lr", "beta1", "beta2", "eps", "t", "weight_decay", "schedule"),
}
_CLIPS = ("clipnorm", "clipvalue")  # optional: checkpoints written before clipping lack them
_SCHEDULES = {
    "Constant": (),
    "StepDecay": ("step_size", "gamma"),
    "ExponentialDecay": ("gamma",),
    "InverseScaling": ("power",),
    "WarmupCosine": ("warmup", "total", "min_factor"),
}
_MONITOR = ("grad_norm", "saturated", "dead")  # GradientMonitor's rows in history.extra
MAX_INT = 2**63 - 1  # what fit's integers (epochs, batch_size) can be, as C integers
# Adam's step count: past 2**53 a float no longer counts single steps (and no run gets near).
MAX_STEPS = 2**53
_FIX = (
    "the checkpoint is damaged or was edited: resume from an intact one, or train again "
    "without resume="
)
_THETA = "the network's parameter vector (net.theta)"


@dataclass
class Checkpoint:
    """The training state read back from a checkpoint file."""

    epoch: int  # completed epochs
    settings: dict  # batch_size, shuffle, validation_split
    split_seed: int | None
    history: object  # History
    optimizer: Optimizer
    stopper: dict | None
    stopper_params: np.ndarray | None
    plateau: dict | None = None  # ReduceLROnPlateau's progress


def save_checkpoint(
    path, net, *, epoch, settings, split_seed, history, optimizer, stopper=None, plateau=None
) -> Path:
    """Write the network and its training state at the end of ``epoch`` completed epochs."""
    arrays = {}
    for key, values in optimizer.state().items():
        for i, array in enumerate(values):
            arrays[f"optimizer.{key}.{i}"] = array
    stop_state = None
    if stopper is not None:
        stop_state, best = stopper.state()
        if best is not None:
            arrays["early_stopping.best"] = best
    info = {
        "epoch": epoch,
        "settings": settings,
        "split_seed": split_seed,
        "optimizer": optimizer.to_config(),
        "history": {
            **{k: list(getattr(history, k)) for k in _SERIES},
            "extra": history.extra,
            "best_epoch": history.best_epoch,
        },
        "early_stopping": stop_state,
        "plateau": None if plateau is None else plateau.state(),
    }
    return save(net, path, extra_arrays=arrays, checkpoint=info)


def load_checkpoint(path) -> tuple[object, Checkpoint]:
    """Read a checkpoint: ``(network, Checkpoint)``. Raises ModelFileError if it is not one,
    or if any of its fields is malformed or does not fit the network."""

    net, arrays, header = load_with_arrays(path)  # takes the layer arrays out of `arrays`
    info = header.get("checkpoint")
    if not isinstance(info, dict):
        raise ModelFileError(
            f"{str(path)!r} is a model file but not a checkpoint; write one with "
            "fit(..., checkpoint=PATH)"
        )
    fields = Fields(f"{str(path)!r} is corrupt: checkpoint field", _FIX)
    fields.mapping(info, "checkpoint", _INFO, ("plateau",))  # older checkpoints lack plateau
    epoch = fields.integer(info["epoch"], "epoch", 0, MAX_INT, "the epochs completed")
    settings = _settings(fields, info["settings"])
    split_seed = _split_seed(fields, info["split_seed"], settings["validation_split"])
    optimizer = _optimizer(fields, info["optimizer"], epoch)
    _optimizer_arrays(fields, optimizer, arrays, net.theta, epoch)
    history = _history(fields, info["history"], epoch, len(net.layers))
    stopper, best = _stopper(fields, info["early_stopping"], arrays, net.theta, epoch)
    plateau = _plateau(fields, info.get("plateau"), epoch)
    for name in arrays:
        fields.fail(name, "is an array that no checkpoint holds")
    return net, Checkpoint(epoch, settings, split_seed, history, optimizer, stopper, best, plateau)


def _settings(fields: Fields, settings: object) -> dict:
    """fit's batch_size, shuffle and validation_split, typed as fit checks them."""
    fields.mapping(settings, "settings", ("batch_size", "shuffle", "validation_split"))
    batch = settings["batch_size"]
    if batch is not None:  # None: full batch
        batch = fields.integer(batch, "settings.batch_size", 1, MAX_INT)
    return {
        "batch_size": batch,
        "shuffle": fields.boolean(settings["shuffle"], "settings.shuffle"),
        "validation_split": fields.number(
            settings["validation_split"], "settings.validation_split", 0, 1, open_high=True
        ),
    }


def _split_seed(fields: Fields, seed: object, split: float) -> int | None:
    """The validation split's seed: drawn by fit (an int below 2**63) exactly when it splits."""
    if seed is not None:
        seed = fields.integer(seed, "split_seed", 0, 2**63 - 1)
    if (seed is None) != (split == 0):
        problem = f"is {show(seed)} with validation_split={split:g}"
        fields.fail("split_seed", problem + "; a split needs its seed, and only a split has one")
    return seed


def _optimizer(fields: Fields, config: object, epoch: int) -> Optimizer:
    """The optimizer, every value checked before its constructor sees it."""
    if not isinstance(config, dict):
        fields.fail("optimizer", f"is {show(config)}, not an object")
    name = fields.string(config.get("name"), "optimizer.name", tuple(_OPTIMIZERS))
    fields.mapping(config, "optimizer", ("name", *_OPTIMIZERS[name]), _CLIPS)
    clean = {
        "name": name,
        "lr": fields.number(config["lr"], "optimizer.lr", 0, open_low=True),
        "schedule": _schedule(fields, config["schedule"]),
    }
    for key in _CLIPS:
        if config.get(key) is not None:
            clean[key] = fields.number(config[key], f"optimizer.{key}", 0, open_low=True)
    if name == "sgd":
        clean["momentum"] = fields.number(
            config["momentum"], "optimizer.momentum", 0, 1, open_high=True
        )
        clean["nesterov"] = fields.boolean(config["nesterov"], "optimizer.nesterov")
    else:
        for key in ("beta1", "beta2"):
            clean[key] = fields.number(config[key], f"optimizer.{key}", 0, 1, open_high=True)
        clean["eps"] = fields.number(config["eps"], "optimizer.eps", 0, open_low=True)
        # t counts the steps taken; every completed epoch took at least one.
        why = "Adam's steps taken, at least one per completed epoch"
        clean["t"] = fields.integer(config["t"], "optimizer.t", epoch, MAX_STEPS, why)
        if name == "adamw":
            clean["weight_decay"] = fields.number(
                config["weight_decay"], "optimizer.weight_decay", 0
            )
    try:
        return optimizer_from_config(clean)
    except ChainruleError as exc:  # what the constructors refuse beyond single values
        fields.fail("optimizer", f"is invalid ({exc})")


def _schedule(fields: Fields, spec: object) -> dict:
    if not isinstance(spec, dict):
        fields.fail("optimizer.schedule", f"is {show(spec)}, not an object")
    kind = fields.string(spec.get("name"), "optimizer.schedule.name", tuple(_SCHEDULES))
    fields.mapping(spec, "optimizer.schedule", ("name", *_SCHEDULES[kind]))
    clean: dict = {"name": kind}
    if "step_size" in spec:
        clean["step_size"] = fields.integer(
            spec["step_size"], "optimizer.schedule.step_size", 1, MAX_INT
        )
    if "gamma" in spec:
        clean["gamma"] = fields.number(spec["gamma"], "optimizer.schedule.gamma", 0, open_low=True)
    if "power" in spec:
        clean["power"] = fields.number(spec["power"], "optimizer.schedule.power", 0)
    if "warmup" in spec:  # total > warmup: the constructor's check, a refusal like the others
        clean["warmup"] = fields.integer(spec["warmup"], "optimizer.schedule.warmup", 0, MAX_INT)
        clean["total"] = fields.integer(spec["total"], "optimizer.schedule.total", 1, MAX_INT)
        clean["min_factor"] = fields.number(
            spec["min_factor"], "optimizer.schedule.min_factor", 0, 1
        )
    return clean


def _optimizer_arrays(fields: Fields, opt: Optimizer, arrays: dict, theta, epoch: int) -> None:
    """Load the optimizer's arrays: exactly its own, each of ``theta``'s shape and dtype.

    The compiled epoch indexes them by parameter, so one element short is a write past the
    end of memory, not just a wrong number.
    """
    if isinstance(opt, Adam):
        keys, steps = ("m", "v"), opt.t  # the moments exist from the first step on
    else:
        assert isinstance(opt, SGD)
        keys, steps = (("velocity",) if opt.momentum else ()), epoch
    expected = [f"optimizer.{key}.0" for key in keys]  # one array each: theta is one vector
    present = [name for name in arrays if name.startswith("optimizer.")]
    for name in present:
        if name not in expected:
            held = ", ".join(map(repr, expected)) or "none"
            fields.fail(name, f"is not an array of this optimizer (it holds {held})")
    if (present or steps) and len(present) != len(expected):
        missing = next(name for name in expected if name not in present)
        fields.fail(missing, "is missing (the optimizer has taken steps, so it has this array)")
    if present and steps == 0 and isinstance(opt, Adam):
        fields.fail("optimizer.t", "is 0, yet the moments m and v of later steps are stored")
    if present:
        state = {}
        for key in keys:
            name = f"optimizer.{key}.0"
            state[key] = [fields.array(arrays.pop(name), name, theta, _THETA)]
        opt.load_state(state)  # copies


def _history(fields: Fields, saved: object, epoch: int, n_layers: int):
    """The History so far: loss and lr for every completed epoch, the others all or none."""

    fields.mapping(saved, "history", (*_SERIES, "extra", "best_epoch"))
    every, maybe = (epoch,), (0, epoch)
    history = History(
        loss=fields.numbers(saved["loss"], "history.loss", every),
        accuracy=fields.numbers(saved["accuracy"], "history.accuracy", maybe, low=0, high=1),
        val_loss=fields.numbers(saved["val_loss"], "history.val_loss", maybe),
        val_accuracy=fields.numbers(
            saved["val_accuracy"], "history.val_accuracy", maybe, low=0, high=1
        ),
        lr=fields.numbers(saved["lr"], "history.lr", every, low=0),
    )
    best = saved["best_epoch"]
    if best is not None:
        history.best_epoch = fields.integer(best, "history.best_epoch", 0, epoch - 1)
    history.extra = _extra(fields, saved["extra"], n_layers)
    return history


def _extra(fields: Fields, extra: object, n_layers: int) -> dict:
    """history.extra is the callbacks' own JSON, except GradientMonitor's record, which a
    resumed monitor indexes: one row per recorded epoch, one value (or null) per layer."""
    if not isinstance(extra, dict):
        fields.fail("history.extra", f"is {show(extra)}, not an object")
    if "monitor_epoch" not in extra:
        return dict(extra)
    epochs = extra["monitor_epoch"]
    # Epochs recorded in order, from -1 (the starting weights); an interrupted epoch's entry
    # may outlive the rollback, so they can pass the completed epochs.
    if not (
        isinstance(epochs, list)
        and all(type(e) is int and -1 <= e <= MAX_INT for e in epochs)
        and epochs == sorted(set(epochs))
    ):
        problem = f"is {show(epochs)}; it must be a list of increasing epoch numbers"
        fields.fail("history.extra.monitor_epoch", problem)
    for key in _MONITOR:
        rows = extra.get(key)
        if not isinstance(rows, list) or len(rows) != len(epochs):
            problem = f"must be a list of {len(epochs)} rows, one per monitor_epoch entry"
            fields.fail(f"history.extra.{key}", problem)
        for i, row in enumerate(rows):
            name = f"history.extra.{key}[{i}]"
            if not isinstance(row, list) or len(row) != n_layers:
                fields.fail(name, f"must be a list of {n_layers} values, one per layer")
            for j, value in enumerate(row):
                if value is not None:
                    fields.number(value, f"{name}[{j}]", 0)
    return dict(extra)


def _stopper(fields: Fields, state: object, arrays: dict, theta, epoch: int):
    """EarlyStopping's progress and its best weights: ``(state or None, array or None)``."""
    best_params = arrays.pop("early_stopping.best", None)
    if state is None:
        if best_params is not None:
            fields.fail("early_stopping.best", "is stored without an early-stopping state")
        return None, None
    fields.mapping(state, "early_stopping", ("best", "best_epoch", "wait"))
    best, best_epoch = state["best"], state["best_epoch"]
    if best is not None:
        best = fields.number(best, "early_stopping.best")
    if best_epoch is not None:
        best_epoch = fields.integer(best_epoch, "early_stopping.best_epoch", 0, epoch - 1)
    if (best is None) != (best_epoch is None):
        fields.fail("early_stopping", "has a best loss without its epoch, or the reverse")
    wait = fields.integer(state["wait"], "early_stopping.wait", 0, epoch)
    if best_params is not None:
        if best_epoch is None:
            fields.fail("early_stopping.best", "holds best weights, but no epoch was best")
        fields.array(best_params, "early_stopping.best", theta, _THETA)
    return {"best": best, "best_epoch": best_epoch, "wait": wait}, best_params


def _plateau(fields: Fields, state: object, epoch: int) -> dict | None:
    """ReduceLROnPlateau's progress: the best loss so far, bad epochs, cooldown left."""
    if state is None:
        return None
    fields.mapping(state, "plateau", ("best", "wait", "cooldown_counter"))
    best = state["best"]
    if best is not None:  # null: no epoch seen yet (it may join a resumed run)
        best = fields.number(best, "plateau.best")
    return {
        "best": best,
        "wait": fields.integer(state["wait"], "plateau.wait", 0, epoch),
        "cooldown_counter": fields.integer(
            state["cooldown_counter"], "plateau.cooldown_counter", 0, MAX_INT
        ),
    }
