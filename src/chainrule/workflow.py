"""Train, predict and evaluate on data files: what ``chainrule train/predict/evaluate`` run.

``train_file`` builds a network for the data (inputs standardised, softmax + cross-entropy for
classes, identity + MSE for values), trains it with a checkpoint so Ctrl-C loses nothing, and
stores in ``net.metadata`` what ``predict_file``/``evaluate_file`` need to read new files the
same way and answer in the user's labels.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import math
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data
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
    from .io import _signals_deferred, _write_atomically

    with _signals_deferred():
        _write_atomically(path, [text.encode("utf-8")])


def _stale_temporaries(path: Path) -> list[Path]:
    """Temporary files a killed run left next to ``path``: the names ``io._write_atomically``
    (and ``plot.save``) give them, ``.NAME.XXXXXXXX.tmp`` from ``tempfile.mkstemp``."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file()]
    return []


class Outputs:
    """The files one run writes, handled as a unit.

    :meth:`prepare` (before training) creates the folders, proves each writable, removes the
    temporaries of an earlier killed run and keeps a hard link to every file the run will
    replace. :meth:`rollback` (the run failed) puts each path back as it was: files the run
    created are removed, replaced ones restored, created folders removed. :meth:`commit` (the
    run succeeded, or stopped on Ctrl-C with its checkpoint) drops the kept links and the
    created folders left empty.
    """

    def __init__(self, files: dict[Path, str], folders: dict[Path, str] | None = None):
        self.files = files  # path -> the option that named it, for messages
        self.folders = folders or {}
        self.kept: dict[Path, Path] = {}  # path -> a link to its content before the run
        self.new: list[Path] = []  # paths that held no file before the run
        self.created: list[Path] = []  # folders this run made, outermost first

    def prepare(self) -> None:
        try:
            for folder, option in self.folders.items():
                self._make_folder(folder, option)
            for path, option in self.files.items():
                self._prepare_file(path, option)
        except BaseException:
            self.rollback()
            raise

    def _prepare_file(self, path: Path, option: str) -> None:
        if path.is_dir():
            raise ConfigError(f"{option}: {str(path)!r} is a folder; a file is written there")
        _prove_writable(path.parent, option, path)
        for stale in _stale_temporaries(path):
            with contextlib.suppress(OSError):
                stale.unlink()
        if path.is_file():
            self.kept[path] = _keep(path, option)
        elif not path.exists():
            self.new.append(path)

    def _make_folder(self, folder: Path, option: str) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{option} {str(folder)!r}: the folder cannot be created ({exc.strerror})"
            ) from None
        self.created += missing

    def rollback(self) -> None:
        for path, link in self.kept.items():
            with contextlib.suppress(OSError):  # a no-op where both are still one file (POSIX)
                os.replace(link, path)
        for path in self.new:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self.new.clear()
        self.commit()

    def commit(self) -> None:
        for link in self.kept.values():
            with contextlib.suppress(OSError):
                link.unlink()
        self.kept.clear()
        for folder in reversed(self.created):  # those left empty: an interrupted run's plots
            with contextlib.suppress(OSError):
                folder.rmdir()


def _prove_writable(folder: Path, option: str, path: Path) -> None:
    """Create and remove a file in ``folder``: the only sure test (permissions, read-only
    mounts, a full quota or a file where a folder should be all show here)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".chainrule-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{option} {str(path)!r}: the folder {str(folder)!r} cannot be written to "
            f"({exc.strerror})"
        ) from None


def _keep(path: Path, option: str) -> Path:
    """A second name for ``path``'s current content (a hard link; a copy where links are not
    supported), named like a temporary so a killed run's leftover is cleaned up later."""
    for _ in range(100):
        link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(path, link)
            return link
        except FileExistsError:
            continue
        except OSError:
            try:
                shutil.copy2(path, link)
                return link
            except OSError as exc:
                link.unlink(missing_ok=True)
                raise ConfigError(
                    f"{option} {str(path)!r} cannot be kept while it is replaced "
                    f"({exc.strerror}); free some space or choose another path"
                ) from None
    raise ConfigError(f"{option} {str(path)!r}: no free name for a temporary file next to it")
