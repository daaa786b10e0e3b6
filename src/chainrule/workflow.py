"""Train, predict and evaluate on data files: what ``chainrule train/predict/evaluate`` run.

``train_file`` builds a network for the data (inputs standardised, softmax + cross-entropy for
classes, identity + MSE for values), trains it with a checkpoint so Ctrl-C loses nothing, and
stores in ``net.metadata`` what ``predict_file``/``evaluate_file`` need to read new files the
same way and answer in the user's labels.
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data, files
from ._checks import choice, positive_int
from .errors import ConfigError, InputError, ModelFileError
from .layers import Dense
from .network import Network
from .optimizers import get_optimizer


@dataclass
class TrainSettings:
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    epochs: int = 30
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float | None = None
    l2: float = 0.0
    val_split: float = 0.2
    early_stopping: bool = False
    seed: int = 0


def digits_frame():
    """scikit-learn's bundled 8×8 digits as a DataFrame: pixel columns and 'digit'."""
    from .datasets import digits

    pd = data._pandas()
    X, y = digits()
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    frame["digit"] = y
    return frame


def build(dataset: data.Dataset, settings: TrainSettings) -> Network:
    sizes = [dataset.X.shape[1], *settings.hidden]
    layers = [Dense(a, b, settings.activation) for a, b in zip(sizes, sizes[1:])]
    if dataset.classes is None:
        layers.append(Dense(sizes[-1], 1, "identity"))
        loss = "mse"
    else:
        layers.append(Dense(sizes[-1], len(dataset.classes), "softmax"))
        loss = "cross_entropy"
    return Network(layers, loss=loss, seed=settings.seed, l2=settings.l2)


def train_file(
    source,
    target: str,
    task: str | None,
    settings: TrainSettings,
    out: str | os.PathLike,
    *,
    callbacks=(),
    checkpoint: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    monitor: bool = False,
):
    """Train on a file (or DataFrame) and save the model to ``out``; returns (net, history).

    ``monitor=True`` adds a :class:`~chainrule.GradientMonitor` on the first 256 training rows;
    its record is in ``history.extra``.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    if task is not None:
        task = choice(task, "--task", ["classify", "regress"])
    dataset = data.load_training(source, target, task)
    scaling = data.standardiser(dataset.X, dataset.features)
    X = data.standardise(dataset.X, scaling)
    metadata = {
        "features": dataset.features,
        "target": dataset.target,
        "classes": dataset.classes,
        "scaling": scaling,
    }
    check_metadata(metadata)  # what the model file must hold is checked before training
    net = build(dataset, settings)
    if dataset.classes is None:
        data.check_target_range(dataset.y, dataset.target, net.dtype)
    net.metadata = metadata
    if monitor:
        from .monitor import GradientMonitor

        callbacks = [*callbacks, GradientMonitor(X, dataset.y, max_samples=256)]
    opt = get_optimizer(settings.optimizer, settings.lr)
    history = net.fit(
        X,
        dataset.y,
        epochs=positive_int(settings.epochs, "--epochs"),
        batch_size=settings.batch_size,
        optimizer=opt,
        validation_split=settings.val_split,
        early_stopping=settings.early_stopping,
        callbacks=callbacks,
        checkpoint=checkpoint,
        checkpoint_every=1 if checkpoint is not None else None,  # survives even SIGKILL
        resume=resume,
    )
    if not history.interrupted:
        net.save(out)
    return net, history


def check_metadata(metadata: dict) -> None:
    """Refuse, before training, metadata the model file could not hold: it is stored as strict
    JSON (no NaN, no infinity), and a reader refuses a header beyond ``io.MAX_HEADER_BYTES``."""
    from .io import MAX_HEADER_BYTES

    try:
        size = len(json.dumps(metadata, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise InputError(f"the labels and scaling cannot be stored in the model: {exc}") from None
    if size > MAX_HEADER_BYTES // 2:  # the other half is ample for the network's description
        raise InputError(
            f"the column names and labels take {size:,} bytes, more than a model file holds "
            f"({MAX_HEADER_BYTES // 2:,}); use fewer or shorter names"
        )


def _model(path) -> tuple[Network, dict]:
    """A model trained from a data file, and its metadata checked against the network."""
    from .io import load
    from .model_meta import check_file_metadata

    net = load(path)
    meta = net.metadata
    if not {"features", "target", "scaling"} <= set(meta):
        raise ModelFileError(
            f"{str(path)!r} was not trained from a data file (it lacks the feature names and "
            "scaling); train it with 'chainrule train'"
        )
    return net, check_file_metadata(meta, net, path)


def predict_file(model, source) -> tuple[list, np.ndarray]:
    """Predictions for a file, in the model's labels (or values), and the raw outputs."""
    net, meta = _model(model)
    X, _, _ = data.load_for_model(source, meta, need_target=False)
    out = net.predict(_scaled(net, X, meta))
    if meta.get("classes") is None:
        return out[:, 0].tolist(), out
    classes = meta["classes"]
    return [classes[i] for i in out.argmax(axis=1)], out


def _scaled(net: Network, X: np.ndarray, meta: dict) -> np.ndarray:
    """New rows standardised as in training; a value the network's dtype cannot hold after
    scaling is refused by column and row rather than met as an overflow inside the network."""
    limit = float(np.finfo(net.dtype).max)
    return data.standardise(X, meta["scaling"], meta["features"], limit=limit)


def evaluate_file(model, source) -> dict:
    """Metrics of the model on a labelled file."""
    net, meta = _model(model)
    X, y, _ = data.load_for_model(source, meta, need_target=True)
    out = net.predict(_scaled(net, X, meta)).astype(np.float64)
    if meta.get("classes") is None:
        with np.errstate(over="ignore", invalid="ignore"):  # huge errors give an honest inf
            err = out[:, 0] - y
            total = float(((y - y.mean()) ** 2).sum())
            sq = float((err**2).sum())
            mae = float(np.abs(err).mean())
        return {
            "task": "regress",
            "rmse": math.sqrt(sq / len(y)),
            "mae": mae,
            "r2": 1 - sq / total if 0 < total < math.inf else float("nan"),
            "n": len(y),
        }
    k = len(meta["classes"])
    pred = out.argmax(axis=1)
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (y, pred), 1)
    p = np.clip(out[np.arange(len(y)), y], 1e-15, 1.0)
    return {
        "task": "classify",
        "accuracy": float((pred == y).mean()),
        "log_loss": float(-np.log(p).mean()),
        "confusion": confusion.tolist(),
        "classes": meta["classes"],
        "n": len(y),
    }


def write_predictions(path, labels: list, outputs: np.ndarray, classes: list | None) -> Path:
    """A CSV of predictions (and class probabilities), written atomically."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ConfigError(f"--out {str(path)!r}: folder {str(path.parent)!r} does not exist")
    buffer = _io.StringIO()
    writer = csv.writer(buffer)
    names = [f"p({c})" for c in classes] if classes is not None else []
    writer.writerow(["prediction", *names])
    for label, row in zip(labels, outputs):
        writer.writerow([label, *(f"{v:.6g}" for v in (row if classes is not None else []))])
    write_text(path, buffer.getvalue())
    return path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    files.write_atomically(path, [text.encode("utf-8")], ModelFileError)
