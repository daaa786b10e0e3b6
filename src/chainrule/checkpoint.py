"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a model file (see :mod:`chainrule.io`) that also holds the optimizer's arrays
and, in its header, the completed epochs, the history so far, the optimizer's configuration,
the fit settings, the validation split's seed and the early-stopping state. The network's
random-generator state is saved with it, so a resumed run shuffles exactly as the uninterrupted
one would have: ``fit(..., resume=PATH)`` ends with bit-identical weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, ModelFileError
from .optimizers import Optimizer, optimizer_from_config

_SERIES = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


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


def save_checkpoint(
    path, net, *, epoch, settings, split_seed, history, optimizer, stopper=None
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
    }
    from .io import save

    return save(net, path, extra_arrays=arrays, checkpoint=info)


def load_checkpoint(path) -> tuple[object, Checkpoint]:
    """Read a checkpoint: ``(network, Checkpoint)``. Raises ModelFileError if it is not one."""
    from .io import load_with_arrays
    from .training import History

    net, arrays, header = load_with_arrays(path)
    info = header.get("checkpoint")
    if not isinstance(info, dict):
        raise ModelFileError(
            f"{str(path)!r} is a model file but not a checkpoint; write one with "
            "fit(..., checkpoint=PATH)"
        )
    try:
        opt = optimizer_from_config(info["optimizer"])
        state: dict[str, list[np.ndarray]] = {}
        for name, array in arrays.items():
            if name.startswith("optimizer."):
                _, key, index = name.split(".")
                state.setdefault(key, []).insert(int(index), array.astype(net.dtype))
        opt.load_state(state)
        saved = info["history"]
        history = History(**{k: [float(v) for v in saved[k]] for k in _SERIES})
        history.extra = dict(saved.get("extra") or {})
        history.best_epoch = saved.get("best_epoch")
        checkpoint = Checkpoint(
            epoch=int(info["epoch"]),
            settings=dict(info["settings"]),
            split_seed=info.get("split_seed"),
            history=history,
            optimizer=opt,
            stopper=info.get("early_stopping"),
            stopper_params=arrays.get("early_stopping.best"),
        )
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelFileError(f"{str(path)!r} has an invalid checkpoint ({exc})") from None
    return net, checkpoint
