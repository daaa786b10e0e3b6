"""The playground's data: generated sets, the train/test split, input features, CSV uploads.

Everything here is written so that the exported Python script can repeat it with the same
NumPy calls (see :mod:`.codegen`), which makes the script's network bit-identical to the page's.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from .. import datasets
from .._checks import show
from ..errors import InputError
from .config import MAX_CLASSES, MAX_SAMPLES, Config

DOMAIN = 6.0  # the page shows [-6, 6]²
GRID = 100  # the output heatmap is GRID × GRID
SMALL = 25  # neuron heatmaps: every (GRID // SMALL)-th cell
STEP = GRID // SMALL
MAX_TARGET = 1e6  # regression targets from a CSV: well inside float32, whose square also fits

# Playground name -> (chainrule.datasets function, takes classes=, noise per percent).
GENERATORS: dict[str, tuple[str, bool, float]] = {
    "circle": ("circle", False, 1 / 50),
    "xor": ("xor_2d", False, 1 / 50),
    "gauss": ("gaussians", True, 1 / 50),
    "spiral": ("spiral", True, 1 / 50),
    "plane": ("plane", False, 1 / 100),
    "multigauss": ("multi_gaussian", False, 1 / 100),
}

# Each feature as the expression the exported script uses, and the same computation here.
FEATURE_CODE: dict[str, str] = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1 * x1",
    "x2sq": "x2 * x2",
    "x1x2": "x1 * x2",
    "sinx1": "np.sin(x1)",
    "sinx2": "np.sin(x2)",
}


def _feature(name: str, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    if name == "x1":
        return x1
    if name == "x2":
        return x2
    if name == "x1sq":
        return x1 * x1
    if name == "x2sq":
        return x2 * x2
    if name == "x1x2":
        return x1 * x2
    if name == "sinx1":
        return np.sin(x1)
    return np.sin(x2)


def features(X: np.ndarray, names: list[str]) -> np.ndarray:
    """The chosen input features of points X (n, 2): shape (n, len(names)), float64."""
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([_feature(name, x1, x2) for name in names])


def noise_of(cfg: Config) -> float:
    """The generator's ``noise`` argument for the page's noise percentage."""
    return cfg.noise * GENERATORS[cfg.dataset][2]


def generate(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """The data set ``cfg`` names: X (samples, 2) float64 and y (samples,)."""
    func, multiclass, _ = GENERATORS[cfg.dataset]
    kwargs = {"classes": cfg.classes} if multiclass else {}
    return getattr(datasets, func)(cfg.samples, noise=noise_of(cfg), seed=cfg.seed, **kwargs)


def split(n: int, ratio: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test points: a seeded permutation cut at ``ratio`` percent."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = n_train_of(n, ratio)
    return order[:n_train], order[n_train:]


def n_train_of(n: int, ratio: int) -> int:
    return min(n - 1, max(1, round(n * ratio / 100))) if n > 1 else n


@dataclass
class PointSet:
    """The points on the page, training points first.

    X (n, 2) float64, y (n,) int labels or float targets, train (n,) bool. ``custom`` is True once
    points were added, deleted or uploaded (the URL then no longer describes the data).
    """

    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    custom: bool = False

    @classmethod
    def from_config(cls, cfg: Config) -> PointSet:
        X, y = generate(cfg)
        tr, te = split(len(X), cfg.ratio, cfg.seed)
        order = np.concatenate([tr, te])
        train = np.zeros(len(X), bool)
        train[: len(tr)] = True
        return cls(X[order], y[order], train)

    @classmethod
    def from_points(cls, X: np.ndarray, y: np.ndarray, cfg: Config) -> PointSet:
        tr, te = split(len(X), cfg.ratio, cfg.seed)
        order = np.concatenate([tr, te])
        train = np.zeros(len(X), bool)
        train[: len(tr)] = True
        return cls(X[order], y[order], train, custom=True)

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    def part(self, training: bool) -> tuple[np.ndarray, np.ndarray]:
        mask = self.train if training else ~self.train
        return self.X[mask], self.y[mask]

    def add(self, x: float, y: float, label: float | int) -> None:
        """Add a training point at (x, y)."""
        if len(self.X) >= MAX_SAMPLES:
            raise InputError(
                f"the data set already has {MAX_SAMPLES} points, the most the playground holds; "
                "delete some first"
            )
        self.X = np.vstack([self.X, [[x, y]]])
        self.y = np.append(self.y, np.asarray(label, self.y.dtype))
        self.train = np.append(self.train, True)
        self.custom = True

    def delete(self, index: int) -> None:
        """Delete point ``index`` (an index into X as the page lists them)."""
        if not 0 <= index < len(self.X):
            raise InputError(f"index={index} is out of range; there are {len(self.X)} points")
        if self.train[index] and self.n_train == 1:
            raise InputError("that is the last training point; the training set cannot be empty")
        keep = np.arange(len(self.X)) != index
        self.X, self.y, self.train = self.X[keep], self.y[keep], self.train[keep]
        self.custom = True


def grid_points() -> np.ndarray:
    """Centres of the GRID × GRID heatmap cells, row by row from the top: shape (GRID², 2)."""
    centres = -DOMAIN + 2 * DOMAIN * (np.arange(GRID) + 0.5) / GRID
    gx, gy = np.meshgrid(centres, centres[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


WARP_LINES, WARP_POINTS = 13, 48  # the warped view's grid: lines each way, points per line


def warp_lines(n_lines: int = WARP_LINES, n_points: int = WARP_POINTS) -> np.ndarray:
    """Points along horizontal then vertical lines across the domain: (2·n_lines·n_points, 2)."""
    at = np.linspace(-DOMAIN, DOMAIN, n_lines)
    along = np.linspace(-DOMAIN, DOMAIN, n_points)
    horizontal = np.stack(np.meshgrid(along, at), axis=-1).reshape(-1, 2)
    vertical = horizontal[:, ::-1]
    return np.concatenate([horizontal, vertical])


def input_maps(names: list[str]) -> dict[str, list[int]]:
    """Each feature on the small grid, scaled to [-1, 1] and quantised to 0..255."""
    small = grid_points().reshape(GRID, GRID, 2)[::STEP, ::STEP].reshape(-1, 2)
    values = features(small, names)
    scale = np.abs(values).max(axis=0)
    scale[scale == 0] = 1
    q = np.rint((values / scale + 1) * 127.5).astype(np.uint8)
    return {name: q[:, i].tolist() for i, name in enumerate(names)}


def parse_csv(text: str, classification: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Read an upload of rows ``x1,x2,label`` (a header row is allowed).

    Returns X (n, 2), y (n,) and a note on any rescaling. Labels are class numbers
    0..MAX_CLASSES-1 for classification, finite numbers up to ±MAX_TARGET for regression. Points
    outside the page's [-6, 6]² are shifted and scaled (one factor for both axes) into [-5, 5]².
    """
    rows = _csv_rows(text)
    if len(rows) < 2:
        raise InputError("the CSV needs at least two points (rows of x1, x2, label)")
    array = np.array(rows)
    X, y = array[:, :2], array[:, 2]
    y = _class_labels(y) if classification else _targets(y)
    X, note = _fit_plot(X)
    return X, y, note


def _csv_rows(text: str) -> list[tuple[float, float, float]]:
    """The CSV's rows of three finite numbers; a first row that is not numbers is a header."""
    rows: list[tuple[float, float, float]] = []
    # newline="": the csv module then reads \n, \r\n and a bare \r (old Mac files) as row ends.
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise InputError(
                    f"CSV row {number} has {len(row)} fields; each row needs three: x1, x2, label"
                )
            try:
                values = tuple(float(cell) for cell in row)
            except ValueError:
                if number == 1 and not rows:
                    continue  # a header
                raise InputError(
                    f"CSV row {number} is {show(','.join(row))}: x1, x2 and label must be numbers"
                ) from None
            if not all(math.isfinite(v) for v in values):
                raise InputError(f"CSV row {number} holds NaN or infinity; give finite numbers")
            rows.append(values)
            if len(rows) > MAX_SAMPLES:
                raise InputError(
                    f"the CSV has more than {MAX_SAMPLES} points, the most the playground holds"
                )
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KiB)
        raise InputError(
            f"CSV row {number + 1} cannot be read ({exc}); each row holds three numbers: "
            "x1, x2, label"
        ) from None
    return rows


def _class_labels(y: np.ndarray) -> np.ndarray:
    if not np.all(y == np.round(y)) or y.min() < 0 or y.max() >= MAX_CLASSES:
        raise InputError(
            f"for classification the labels must be class numbers 0 to {MAX_CLASSES - 1}; "
            "switch the problem type to regression for numeric targets"
        )
    y = y.astype(np.int64)
    if len(np.unique(y)) < 2:
        raise InputError("the CSV's labels are all one class; a classifier needs two or more")
    return y


def _targets(y: np.ndarray) -> np.ndarray:
    if np.abs(y).max() > MAX_TARGET:
        raise InputError(
            f"the CSV's label column holds {show(float(np.abs(y).max()))}; regression targets "
            f"must be from -{MAX_TARGET:g} to {MAX_TARGET:g} (rescale them)"
        )
    return y


def _fit_plot(X: np.ndarray) -> tuple[np.ndarray, str]:
    """X shifted and scaled into [-5, 5]² if any point is outside the plot, and a note saying so."""
    if np.abs(X).max() <= DOMAIN:
        return X, ""
    # Halves first: (max + min) / 2 overflows for coordinates near the float limit.
    centre = X.max(axis=0) / 2 + X.min(axis=0) / 2
    spread = np.abs(X - centre).max()
    factor = 5.0 / spread if spread > 0 else 1.0  # all points equal: only shift them
    X = (X - centre) * factor
    shift = ", ".join(f"{v:.6g}" for v in -centre)  # not round(4): it overflows near 1e308
    note = f"points were shifted by [{shift}] and scaled by {factor:.4g} to fit the plot"
    return X, note
