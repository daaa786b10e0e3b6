"""One browser tab's training session: the data, the chainrule network, training, frames.

Training goes through the library's public path: ``Network.fit`` for epochs (called for a
slice of epochs at a time; a run cut into slices is bit-identical to one ``fit`` call, which is
what lets the exported script reproduce it), ``Network.evaluate`` for losses and
``Network.workspace``/``forward``/``backward`` for the heatmaps and gradient norms drawn on the
page. A session is used by one task at a time (the server holds its lock around every call).
"""

from __future__ import annotations

import math
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SGD, Adam, Dense, Network, Optimizer
from ..errors import ConfigError, InputError, TrainingDivergedError
from . import data as pdata
from .config import DATA_FIELDS, FEATURES, MAX_CLASSES, MAX_STEP_EPOCHS, NETWORK_FIELDS, Config
from .frames import encode_frame

# Above this many epochs per second a session is throttled whatever the page asks for.
DEFAULT_MAX_RATE = 50_000


@dataclass
class View:
    """What the page is showing that needs extra numbers in each frame."""

    hover: tuple[int, int] | None = None  # (layer, unit): that neuron's heatmap, full size
    warp: tuple[int, int, int] | None = None  # (layer, unit a, unit b): the ConvNetJS view


class Session:
    """A playground session: config, points, network, optimizer and epoch count."""

    def __init__(self, config: Config) -> None:
        self.id = secrets.token_urlsafe(18)
        self.config = config
        self.view = View()
        self.points = pdata.PointSet.from_config(config)
        self.grid = pdata.grid_points()
        self.warp_lines = pdata.warp_lines()
        self.notes: list[str] = []
        self.error: str | None = None  # why training stopped (divergence), shown on the page
        self.build_network()

    # ------------------------------------------------------------------ set-up
    @property
    def classification(self) -> bool:
        return self.config.problem == "classification"

    @property
    def n_classes(self) -> int:
        """Classes of the current data (uploads may bring their own), 0 for regression."""
        if not self.classification:
            return 0
        if self.points.custom:
            return max(2, int(self.points.y.max()) + 1)
        return self.config.classes

    def build_network(self) -> None:
        """A fresh network (weights drawn from the seed), optimizer and epoch count."""
        cfg = self.config
        k = self.n_classes
        if k > 2:
            out = Dense(cfg.layers[-1] if cfg.layers else len(cfg.features), k, "softmax")
            loss = "cross_entropy"
        elif k == 2:
            out = Dense(cfg.layers[-1] if cfg.layers else len(cfg.features), 1, "sigmoid")
            loss = "binary_cross_entropy"
        else:
            out = Dense(cfg.layers[-1] if cfg.layers else len(cfg.features), 1, "identity")
            loss = "squared_error"
        sizes = [len(cfg.features), *cfg.layers]
        hidden = [Dense(a, b, act) for a, b, act in zip(sizes, sizes[1:], cfg.activations)]
        self.net = Network(
            [*hidden, out],
            loss=loss,
            seed=cfg.seed,
            l1=cfg.regRate if cfg.reg == "l1" else 0.0,
            l2=cfg.regRate if cfg.reg == "l2" else 0.0,
        )
        self.opt = make_optimizer(cfg)
        self.epoch = 0
        self.replayable = True  # False once a run changes course (edits, new settings)
        self.error = None
        self._seconds_per_epoch = 1e-3
        self._prepare_data()

    def _prepare_data(self) -> None:
        """Features and targets in the network's dtype, checked once (fit re-checks cheaply)."""
        net, names = self.net, self.config.features
        Xtr, ytr = self.points.part(True)
        Xte, yte = self.points.part(False)
        self.train_X, self.train_T = net.check_XY(pdata.features(Xtr, names), ytr)
        self.train_y = ytr
        if len(Xte):
            self.test_X, self.test_T = net.check_XY(pdata.features(Xte, names), yte)
        else:
            self.test_X = self.test_T = None
        self.test_y = yte
        self.points_X = net.check_X(pdata.features(self.points.X, names))
        self.grid_X = net.check_X(pdata.features(self.grid, names))
        self.lines_X = net.check_X(pdata.features(self.warp_lines, names))

    def apply_config(self, new: Config) -> str:
        """Switch to ``new``; returns what had to be rebuilt: "data", "network" or "settings"."""
        old, self.config = self.config, new
        if any(getattr(old, f) != getattr(new, f) for f in DATA_FIELDS):
            self.points = pdata.PointSet.from_config(new)
            self.notes = []
            self.build_network()
            return "data"
        if any(getattr(old, f) != getattr(new, f) for f in NETWORK_FIELDS):
            self.build_network()
            return "network"
        net = self.net
        net.l1 = new.regRate if new.reg == "l1" else 0.0
        net.l2 = new.regRate if new.reg == "l2" else 0.0
        if new.optimizer != old.optimizer:
            self.opt = make_optimizer(new)
        else:
            self.opt.lr = new.lr  # keeps momentum/Adam state, as a running page expects
        changed = any(
            getattr(old, f) != getattr(new, f)
            for f in ("lr", "optimizer", "reg", "regRate", "batch")
        )
        if changed and self.epoch:
            self.replayable = False
        return "settings"

    def reset(self) -> None:
        """Back to epoch 0 with the seed's initial weights (custom points are kept)."""
        self.build_network()

    def regenerate(self) -> Config:
        """New data from the next seed (the page's "regenerate"): returns the new config."""
        self.apply_config(Config.from_dict({"seed": (self.config.seed + 1) % 2**31}, self.config))
        return self.config

    # ------------------------------------------------------------------ editing
    def add_point(self, x: float, y: float, label: float) -> None:
        if not (abs(x) <= pdata.DOMAIN and abs(y) <= pdata.DOMAIN):
            raise InputError(f"the point ({x:g}, {y:g}) is outside the plot [-6, 6]²")
        if self.classification:
            if label != int(label) or not 0 <= label < MAX_CLASSES:
                raise InputError(f"label={label!r} must be a class number 0..{MAX_CLASSES - 1}")
            if label >= max(self.n_classes, 2) and not self.points.custom:
                raise InputError(
                    f"label={int(label)} is not a class of this data set (it has "
                    f"{self.n_classes}); pick a class shown on the page"
                )
            label = int(label)
        elif not -10 <= label <= 10:
            raise InputError(f"label={label!r} must be a regression target from -10 to 10")
        before = self.n_classes
        self.points.add(x, y, label)
        self._data_edited(before)

    def delete_point(self, index: int) -> None:
        before = self.n_classes
        self.points.delete(index)
        self._data_edited(before)

    def upload(self, text: str) -> None:
        X, y, note = pdata.parse_csv(text, self.classification)
        self.points = pdata.PointSet.from_points(X, y, self.config)
        self.notes = [note] if note else []
        self.build_network()

    def _data_edited(self, classes_before: int) -> None:
        if self.n_classes != classes_before:  # a new class needs a new output layer
            self.build_network()
            return
        self._prepare_data()
        if self.epoch:
            self.replayable = False

    def set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """Set W[row, col] of ``layer`` (row n_in is the bias) to ``value``."""
        if not 0 <= layer < len(self.net.layers):
            raise InputError(
                f"layer={layer} is out of range; the network has {len(self.net.layers)} layers"
            )
        block = self.net.layers[layer].Wb
        if not (0 <= row < block.shape[0] and 0 <= col < block.shape[1]):
            raise InputError(
                f"weight ({row}, {col}) is out of range for layer {layer}, whose block "
                f"[W; b] has shape {block.shape}"
            )
        if not (math.isfinite(value) and abs(value) <= 1e3):
            raise InputError(f"value={value!r} must be a finite number from -1000 to 1000")
        block[row, col] = value
        self.replayable = False

    # ------------------------------------------------------------------ training
    def remaining(self) -> int | None:
        """Epochs left before the stop condition on epochs, or None without one."""
        stop = self.config.stopEpochs
        return None if not stop else max(0, stop - self.epoch)

    def train(self, budget: float, max_epochs: int | None = None) -> int:
        """Train for about ``budget`` seconds (at least one epoch); returns the epochs run.

        Raises TrainingDivergedError (after recording it in :attr:`error`) if the loss blew up.
        """
        k = max(1, int(min(budget / self._seconds_per_epoch, 1e9)))
        for cap in (max_epochs, self.remaining()):
            if cap is not None:
                k = min(k, cap)
        if k <= 0:
            return 0
        callbacks = [self._stop_on_loss] if self.config.stopLoss else []
        start = time.perf_counter()
        try:
            history = self.net.fit(
                self.train_X,
                self.train_T,
                epochs=k,
                batch_size=self.config.batch,
                optimizer=self.opt,
                callbacks=callbacks,
            )
        except TrainingDivergedError as exc:
            done = len(exc.history.loss) if exc.history is not None else 0
            self.epoch += done
            self.error = str(exc)
            raise
        done = history.epochs
        self.epoch += done
        spent = (time.perf_counter() - start) / done
        # Smoothed cost of one epoch, for sizing the next slice.
        self._seconds_per_epoch = 0.7 * self._seconds_per_epoch + 0.3 * max(spent, 1e-6)
        return done

    def step(self, epochs: int = 1) -> int:
        if not 1 <= epochs <= MAX_STEP_EPOCHS:
            raise InputError(f"epochs={epochs} must be from 1 to {MAX_STEP_EPOCHS}")
        return self.train(math.inf, epochs)

    def _stop_on_loss(self, net: Network, epoch: int, logs: dict) -> bool:
        return self.losses()[1 if self.test_X is not None else 0] <= self.config.stopLoss

    def stop_reached(self) -> bool:
        if self.config.stopEpochs and self.epoch >= self.config.stopEpochs:
            return True
        if self.config.stopLoss:
            return self.losses()[1 if self.test_X is not None else 0] <= self.config.stopLoss
        return False

    def losses(self) -> tuple[float, float | None]:
        """Mean training and test loss (with regularisation) of the current weights."""
        train = self.net.evaluate(self.train_X, self.train_T)[0]
        test = None if self.test_X is None else self.net.evaluate(self.test_X, self.test_T)[0]
        return train, test

    # ------------------------------------------------------------------ frames
    def frame(self) -> bytes:
        """Everything the page draws for the current weights, as one binary message."""
        net = self.net
        top = len(net.layers) - 1
        k = self.n_classes
        header: dict = {"type": "frame", "epoch": self.epoch, "error": self.error}
        train_loss, train_acc = net.evaluate(self.train_X, self.train_T)
        header["trainLoss"], header["trainAcc"] = _finite(train_loss), train_acc
        if self.test_X is not None:
            test_loss, test_acc = net.evaluate(self.test_X, self.test_T)
            header["testLoss"], header["testAcc"] = _finite(test_loss), test_acc
        else:
            header["testLoss"] = header["testAcc"] = None
        if k:
            header["confusion"] = {
                "train": confusion(self.train_y, net.predict_classes(self.train_X), k),
                "test": None
                if self.test_X is None
                else confusion(self.test_y, net.predict_classes(self.test_X), k),
            }
        header["gradNorms"] = self.gradient_norms()

        blobs: dict[str, np.ndarray] = {}
        ws = net.workspace(len(self.grid_X))
        out = net.forward(ws, self.grid_X)
        if k > 2:  # one probability map per class
            blobs["output"] = _quantise(out.T, 0.0, 1.0)
        elif k == 2:
            blobs["output"] = _quantise(out[:, 0], 0.0, 1.0)
        else:
            blobs["output"] = _quantise(out[:, 0], -1.0, 1.0)
        maps, hover = [], None
        for i in range(top + 1):
            values = ws.hv[i]
            shown = _display(values, i == top, k)
            grid = shown.reshape(pdata.GRID, pdata.GRID, -1)
            maps.append(grid[:: pdata.STEP, :: pdata.STEP].transpose(2, 0, 1).reshape(-1))
            if self.view.hover is not None and self.view.hover[0] == i:
                unit = self.view.hover[1]
                if unit < values.shape[1]:
                    hover = shown[:, unit]
        blobs["neurons"] = _quantise(np.concatenate(maps), -1.0, 1.0)
        if hover is not None:
            blobs["hover"] = _quantise(hover, -1.0, 1.0)
            header["hover"] = list(self.view.hover)
        blobs["weights"] = np.concatenate([layer.Wb.ravel() for layer in net.layers]).astype(
            np.float32
        )
        if self.view.warp is not None:
            warped = self.warp()
            if warped is not None:
                blobs["warp"] = warped
                header["warp"] = list(self.view.warp)
        return encode_frame(header, blobs)

    def gradient_norms(self) -> list[float]:
        """‖dL/dW(ℓ)‖ per layer over the whole training set, for the current weights."""
        net = self.net
        ws = net.workspace(len(self.train_X))
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(ws, self.train_X)
            net.backward(ws, self.train_X, self.train_T)
        norms = []
        for layer, dW in zip(net.layers, ws.dW):
            value = float(np.sqrt(np.square(dW[: layer.n_in], dtype=np.float64).sum()))
            norms.append(value if math.isfinite(value) else None)
        return norms

    def warp(self) -> np.ndarray | None:
        """The ConvNetJS view: the points (in the page's order) and grid lines mapped to two units.

        Layer 0 is the input features, ℓ ≥ 1 the output of network layer ℓ - 1. Returns
        float32 (2, n_points) or None when the layer or units do not exist.
        """
        layer, a, b = self.view.warp
        net = self.net
        X = np.concatenate([self.points_X, self.lines_X])  # in the page's order of points
        if layer == 0:
            values = X
        elif 1 <= layer <= len(net.layers):
            ws = net.workspace(len(X))
            net.forward(ws, X)
            values = ws.hv[layer - 1]
        else:
            return None
        if not (0 <= a < values.shape[1] and 0 <= b < values.shape[1]):
            return None
        return np.stack([values[:, a], values[:, b]]).astype(np.float32)

    # ------------------------------------------------------------------ what the page shows
    def state(self) -> dict:
        """The setup and the points (sent when they change, not with every frame)."""
        net = self.net
        return {
            "type": "state",
            "config": self.config.to_dict(),
            "classes": self.n_classes,
            "custom": self.points.custom,
            "replayable": self.replayable,
            "notes": self.notes,
            "epoch": self.epoch,
            "sizes": [net.n_inputs, *(layer.n_out for layer in net.layers)],
            "activations": [layer.activation.name for layer in net.layers],
            "points": np.column_stack([self.points.X, self.points.y, self.points.train])
            .round(6)
            .tolist(),
            "inputMaps": pdata.input_maps(list(FEATURES)),
            "warpLinePoints": pdata.WARP_POINTS,
        }

    def trace(
        self,
        index: int | None = None,
        xy: tuple[float, float] | None = None,
        label: float | None = None,
    ) -> dict:
        """The step-by-step back-propagation record of one point, from ``Network.trace``."""
        if index is not None:
            if not 0 <= index < len(self.points.X):
                raise InputError(
                    f"index={index} is out of range; there are {len(self.points.X)} points"
                )
            point, target = self.points.X[index], self.points.y[index]
        elif xy is not None and label is not None:
            point, target = np.asarray(xy, float), label
        else:
            raise InputError("give a point index, or x, y and a label")
        x = pdata.features(point[None, :], self.config.features)
        y = np.asarray([target])
        if not hasattr(self.net, "trace"):
            raise ConfigError("this chainrule has no Network.trace yet; update chainrule")
        record = self.net.trace(x, y, lr=self.opt.lr)
        result = record.to_dict()
        result["point"] = {
            "x": float(point[0]),
            "y": float(point[1]),
            "label": float(target),
            "features": x[0].tolist(),
            "names": self.config.features,
        }
        return result

    def model_file(self) -> bytes:
        """The network as a chainrule model file (what ``chainrule.load`` reads)."""
        self.net.metadata = {
            "playground": {
                "features": self.config.features,
                "config": self.config.to_dict(),
                "epoch": self.epoch,
                "classes": self.n_classes,
            }
        }
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "playground.crnet"
            self.net.save(path)
            return path.read_bytes()


def make_optimizer(cfg: Config) -> Optimizer:
    if cfg.optimizer == "adam":
        return Adam(cfg.lr)
    return SGD(cfg.lr, momentum=0.9 if cfg.optimizer == "momentum" else 0.0)


def confusion(true: np.ndarray, predicted: np.ndarray, k: int) -> list[list[int]]:
    """Counts (k, k): row = true class, column = predicted class."""
    counts = np.bincount(np.asarray(true, np.int64) * k + predicted, minlength=k * k)
    return counts[: k * k].reshape(k, k).tolist()


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: a loss that overflowed (hand-set weights) is sent as null."""
    return value if math.isfinite(value) else None


def _display(values: np.ndarray, output: bool, k: int) -> np.ndarray:
    """Unit values as drawn: hidden units as they are; class probabilities as 2p - 1."""
    if output and k:
        return 2.0 * values - 1.0
    return values


def _quantise(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] to 0..255 (clipped; NaN to the middle)."""
    scaled = (np.asarray(values, np.float32).ravel() - low) * (255.0 / (high - low))
    scaled = np.nan_to_num(scaled, nan=127.5, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
