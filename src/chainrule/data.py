"""Tabular data for the command line: CSV, Parquet, .npy and .npz into features and targets.

Files are parsed by pandas (and pyarrow for Parquet); this module only checks what it gets —
the target column exists, features are numbers with nothing missing, labels make at least two
classes — and names the column and first bad row when they are not. The label mapping and
the feature standardisation fitted on the training data travel in ``net.metadata``, so
``predict`` and ``evaluate`` apply them to new files and answer in the user's own labels.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, InputError

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npy", ".npz")


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ConfigError("reading data files needs pandas: pip install 'chainrule[cli]'") from None
    return pandas


def read_table(path: str | os.PathLike):
    """Read a data file into a pandas DataFrame (format chosen by the file's suffix).

    CSV/TSV/TXT go through ``pandas.read_csv`` (the delimiter is sniffed), Parquet through
    ``pandas.read_parquet``; a 2-D ``.npy`` array gets columns "0", "1", …; an ``.npz`` needs
    arrays ``X`` (n, d) and optionally ``y`` (n,), which becomes column "y".
    """
    pd = _pandas()
    path = Path(path)
    if not path.exists():
        raise InputError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"data file {str(path)!r} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"data file {str(path)!r}: unknown format {suffix or '(no suffix)'}; use one of "
            + ", ".join(SUFFIXES)
        )
    if path.stat().st_size == 0:
        raise InputError(f"{str(path)!r} is empty; it needs a header row and data rows")
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix == ".npy":
            frame = _from_arrays(pd, np.load(path, allow_pickle=False), None)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if "X" not in z:
                    raise InputError(f"{str(path)!r} holds no array named 'X'")
                frame = _from_arrays(pd, z["X"], z.get("y"))
        else:
            frame = pd.read_csv(path, sep=None, engine="python", encoding="utf-8")
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{str(path)!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{str(path)!r} is empty; it needs a header row and data rows") from None
    except (ValueError, OSError, pd.errors.ParserError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{str(path)!r} cannot be read: {first}") from None
    if len(frame) == 0:
        raise InputError(f"{str(path)!r} has a header but no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _from_arrays(pd, X: np.ndarray, y: np.ndarray | None):
    if X.ndim != 2:
        raise InputError(f"the array has shape {X.shape}; a 2-D (rows, columns) array is needed")
    frame = pd.DataFrame(X, columns=[str(i) for i in range(X.shape[1])])
    if y is not None:
        if y.shape != (len(X),):
            raise InputError(f"y has shape {y.shape}; it needs one value per row of X")
        frame["y"] = y
    return frame


def _check_column(frame, column: str, what: str) -> None:
    if column not in frame.columns:
        names = ", ".join(repr(c) for c in frame.columns[:20])
        hint = ""
        if len(frame.columns) == 1 and any(d in frame.columns[0] for d in ",;|\t"):
            # one column whose name holds separators: the parser split on the wrong character
            hint = "; the file was read as a single column: check its delimiter"
        raise InputError(
            f"{what} column {column!r} is not in the data; its columns are: {names}{hint}"
        )


def numeric_features(frame, columns: list[str]) -> np.ndarray:
    """The given columns as a float64 matrix; names the first non-numeric or missing cell."""
    pd = _pandas()
    for column in columns:
        _check_column(frame, column, "feature")
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"feature column {column!r} is not numeric: row {row + 1} holds "
                f"{values.iloc[row]!r}; encode it as numbers or drop the column"
            )
        missing = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float))
        if missing.any():
            row = int(np.flatnonzero(np.asarray(missing))[0])
            raise InputError(
                f"feature column {column!r} has a missing or infinite value in row {row + 1}; "
                "fill or drop such rows first"
            )
    return frame[columns].apply(pd.to_numeric).to_numpy(dtype=np.float64)


@dataclass
class Dataset:
    """Features X (n, d), targets y (n,) — class indices or values — and their description."""

    X: np.ndarray
    y: np.ndarray
    features: list[str]
    target: str
    classes: list | None  # class labels in index order, None for regression


def _label_values(series) -> list:
    return [v.item() if hasattr(v, "item") else v for v in series]


def load_training(path_or_frame, target: str, task: str | None = None) -> Dataset:
    """Features and targets for training; ``task`` 'classify', 'regress' or None (guess)."""
    frame = (
        path_or_frame
        if not isinstance(path_or_frame, (str, os.PathLike))
        else read_table(path_or_frame)
    )
    _check_column(frame, target, "target")
    features = [c for c in frame.columns if c != target]
    if not features:
        raise InputError("the data has no feature columns besides the target")
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise InputError(f"target column {target!r} is empty in row {row + 1}")
    if task is None:  # words, or a few whole numbers, are classes; other numbers are values
        numeric = labels.dtype.kind in "iufb"
        whole = numeric and bool((labels == labels.round()).all())
        few = labels.nunique() <= max(20, int(len(labels) ** 0.5))
        task = "classify" if not numeric or (whole and few) else "regress"
    X = numeric_features(frame, features)
    if task == "classify":
        classes = sorted(labels.unique(), key=lambda v: (str(type(v)), v))
        if len(classes) < 2:
            raise InputError(
                f"target column {target!r} holds one class only ({classes[0]!r}); a classifier "
                "needs at least two"
            )
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[v] for v in labels], dtype=np.int64)
        return Dataset(X, y, features, target, _label_values(classes))
    y = numeric_features(frame, [target])[:, 0]
    return Dataset(X, y, features, target, None)


def load_for_model(path, metadata: dict, need_target: bool):
    """Features (and targets, if present or needed) of a new file, as the model was trained."""
    frame = read_table(path)
    features = list(metadata["features"])
    absent = [c for c in features if c not in frame.columns]
    if absent:
        names = ", ".join(repr(c) for c in frame.columns[:20])
        trained = ", ".join(repr(c) for c in features[:20])
        raise InputError(
            f"feature column {absent[0]!r} is not in the data: the model was trained on "
            f"{len(features)} features ({trained}) and {str(path)!r} has {len(frame.columns)} "
            f"columns ({names})"
        )
    X = numeric_features(frame, features)
    target = metadata["target"]
    if target not in frame.columns:
        if need_target:
            raise InputError(f"target column {target!r} is not in {str(path)!r}; evaluate needs it")
        return X, None, frame
    labels = frame[target]
    classes = metadata.get("classes")
    if classes is None:
        return X, numeric_features(frame, [target])[:, 0], frame
    index = {c: i for i, c in enumerate(classes)}
    text_index = {str(c): i for i, c in enumerate(classes)}
    y = np.empty(len(labels), np.int64)
    for row, value in enumerate(_label_values(labels)):
        found = index.get(value, text_index.get(str(value)))
        if found is None:
            raise InputError(
                f"target column {target!r} holds {value!r} in row {row + 1}, a label the model "
                f"was not trained on (it knows {classes})"
            )
        y[row] = found
    return X, y, frame


def standardiser(X: np.ndarray) -> dict:
    """Mean and scale of each column (constant columns get scale 1), JSON-ready."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return {"mean": mean.tolist(), "scale": scale.tolist()}


def standardise(X: np.ndarray, scaling: dict) -> np.ndarray:
    return (X - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
