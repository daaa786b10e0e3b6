"""Tabular data for the command line: CSV, Parquet, .npy and .npz into features and targets.

Files are parsed by pandas (and pyarrow for Parquet, numpy for arrays); this module only checks
what it gets — the target column exists, features are numbers with nothing missing, labels make
at least two classes — and names the column and first bad row when they are not. What would
make the parser itself slow or exhaust memory is refused before it runs: over-long CSV lines,
over 100,000 columns, array headers that declare more data than the file holds. The
label mapping and the feature standardisation fitted on the training data travel in
``net.metadata``, so ``predict`` and ``evaluate`` apply them to new files and answer in the
user's own labels.
"""

from __future__ import annotations

import collections
import csv
import math
import os
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import show
from .errors import ConfigError, InputError

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npy", ".npz")
# A CSV line longer than this is refused before parsing: no table has one, and pandas would
# spend minutes and gigabytes on it (50 MB of commas: 50 million fields).
MAX_LINE_BYTES = 1 << 20
MAX_COLUMNS = 100_000  # pandas needs seconds per 100,000 columns, the network a weight per one
# csv.Sniffer is superlinear in the quotes it sees (32 KiB of '",' takes 9 s, 4 KiB 0.2 s), and
# the delimiter shows in the first few hundred column names: it reads no more of the header.
SNIFF_CHARS = 4096
# dtype kinds that are numbers already: bool, signed and unsigned integers, floats.
_NUMBER_KINDS = "biuf"
# What a column may not hold (pandas.api.types.infer_dtype's names), and how to fix it.
_UNSUPPORTED = {
    "bytes": ("bytes", "decode it to text"),
    "decimal": ("decimals", "cast it to float64"),
    "complex": ("complex numbers", "split it into real and imaginary columns"),
    "date": ("dates", "convert it to numbers, e.g. days since a start date"),
    "datetime": ("dates and times", "convert it to numbers, e.g. seconds since a start"),
    "datetime64": ("dates and times", "convert it to numbers, e.g. seconds since a start"),
    "time": ("times of day", "convert it to numbers, e.g. seconds since midnight"),
    "timedelta": ("durations", "convert it to numbers of seconds"),
    "timedelta64": ("durations", "convert it to numbers of seconds"),
    "period": ("periods", "convert it to numbers"),
    "interval": ("intervals", "split it into start and end columns"),
}
_NESTED = (list, tuple, dict, set, np.ndarray)


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ConfigError("reading data files needs pandas: pip install 'chainrule[cli]'") from None
    return pandas


def read_table(path: str | os.PathLike):
    """Read a data file into a pandas DataFrame (format chosen by the file's suffix).

    CSV/TSV/TXT go through ``pandas.read_csv`` (the delimiter is sniffed from the header),
    Parquet through ``pandas.read_parquet``; a 2-D ``.npy`` array gets columns "0", "1", …;
    an ``.npz`` needs arrays ``X`` (n, d) and optionally ``y`` (n,), which becomes column "y".
    """
    pd = _pandas()
    path = _data_path(path)
    readers = {
        ".parquet": _read_parquet,
        ".pq": _read_parquet,
        ".npy": _read_npy,
        ".npz": _read_npz,
    }
    reader = readers.get(path.suffix.lower(), _read_csv)
    try:
        frame = reader(pd, path)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{str(path)!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{str(path)!r} is empty; it needs a header row and data rows") from None
    except MemoryError:
        raise InputError(f"{str(path)!r} is too large to read into memory") from None
    except (ValueError, OSError, pd.errors.ParserError, csv.Error) as exc:
        raise _unreadable(path, exc) from None
    if len(frame) == 0:
        raise InputError(f"{str(path)!r} has a header but no data rows")
    frame.columns = [str(c) for c in frame.columns]
    _refuse_duplicates(list(frame.columns), path)
    return frame


def _unreadable(path: Path, exc: BaseException) -> InputError:
    return InputError(f"{str(path)!r} cannot be read: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    """The first line of a parser's message, cut short (it may quote a huge field)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def _data_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"data file {str(path)!r} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"data file {str(path)!r}: unknown format {suffix or '(no suffix)'}; use "
            "one of " + ", ".join(SUFFIXES)
        )
    if path.stat().st_size == 0:
        raise InputError(f"{str(path)!r} is empty; it needs a header row and data rows")
    return path


def _refuse_duplicates(names: list[str], path: Path) -> None:
    """Two columns of one name make the name ambiguous (and pandas renaming them takes time
    quadratic in their number): refused."""
    if len(names) > MAX_COLUMNS:
        raise InputError(
            f"{str(path)!r} has {len(names):,} columns; at most {MAX_COLUMNS:,} are read: "
            "drop the columns the model does not need"
        )
    counts = collections.Counter(n for n in names if n != "")
    name, count = max(counts.items(), key=lambda item: item[1], default=("", 0))
    if count > 1:
        raise InputError(
            f"{str(path)!r}: column name {show(name)} appears {count} times in the header; "
            "give every column its own name"
        )


# ------------------------------------------------------------------------------ CSV


def _read_csv(pd, path: Path):
    """pandas' C parser with the delimiter csv.Sniffer finds in the header's start."""
    _check_line_lengths(path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next((line for line in f if line.strip()), "").rstrip("\r\n")
    if not header:
        raise pd.errors.EmptyDataError
    try:
        sep = csv.Sniffer().sniff(header[:SNIFF_CHARS]).delimiter
    except csv.Error:
        raise InputError(
            f"{str(path)!r}: no delimiter found in the header {show(header)}; the first line "
            "must name the columns, separated by commas, semicolons or tabs"
        ) from None
    _refuse_duplicates(next(csv.reader([header], delimiter=sep)), path)
    # low_memory=False: one dtype per column, without pandas' mixed-type DtypeWarning
    return pd.read_csv(path, sep=sep, encoding="utf-8", low_memory=False)


def _check_line_lengths(path: Path) -> None:
    """Refuse a line longer than MAX_LINE_BYTES (the CR of a CRLF counted), reading the file
    in blocks (bounded memory, a few milliseconds per megabyte); stops at the first such line."""
    lines = 0  # lines ended before the current block
    carry = 0  # bytes of the line left open at the end of the previous block
    after_cr = False  # the previous block ended with a CR
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            ends = _line_ends(block, after_cr)
            after_cr = block.endswith(b"\r")
            lengths = np.diff(ends, prepend=-1) - 1
            if ends.size:
                lengths[0] += carry
                carry = len(block) - 1 - int(ends[-1])
            else:
                carry += len(block)
            over = np.flatnonzero(lengths > MAX_LINE_BYTES)
            if over.size or carry > MAX_LINE_BYTES:
                line = lines + (int(over[0]) if over.size else ends.size) + 1
                raise InputError(
                    f"{str(path)!r}: line {line} is longer than {MAX_LINE_BYTES:,} bytes; rows "
                    "of a table are shorter: check that it is a CSV file with one row per line"
                )
            lines += ends.size


def _line_ends(block: bytes, after_cr: bool) -> np.ndarray:
    """Where lines end in a block: at LF, CR, and the LF of CRLF (one end, not two)."""
    buf = np.frombuffer(block, np.uint8)
    ends = buf == 10
    if not after_cr and b"\r" not in block:  # most files (a fast byte search): LF alone
        return np.flatnonzero(ends)
    cr = buf == 13
    cr[:-1] &= ~ends[1:]  # a CRLF ends its line at the LF
    if after_cr and buf[0] == 10:  # the LF of a CRLF split by the block boundary
        ends[0] = False
    return np.flatnonzero(ends | cr)


# ------------------------------------------------------------------------------ Parquet


def _read_parquet(pd, path: Path):
    import pyarrow
    import pyarrow.parquet as pq

    try:
        _refuse_duplicates(list(pq.read_schema(path).names), path)
        return pd.read_parquet(path)
    except InputError:
        raise
    except (pyarrow.ArrowException, TypeError, KeyError, IndexError) as exc:
        # pyarrow's errors, and pandas' rebuilding of a frame from damaged pandas metadata
        raise _unreadable(path, exc) from None


# ------------------------------------------------------------------------------ .npy, .npz


def _read_npy(pd, path: Path):
    with open(path, "rb") as f:
        _check_array_header(f, path.stat().st_size, f"{str(path)!r}", ndim=2)
    return _from_arrays(pd, _native(np.load(path, allow_pickle=False)), None)


def _read_npz(pd, path: Path):
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "X.npy" not in names:
                raise InputError(f"{str(path)!r} holds no array named 'X'")
            for name, ndim in (("X", 2), ("y", 1)):
                if f"{name}.npy" in names:
                    _check_member(zf, zf.getinfo(f"{name}.npy"), f"{str(path)!r}: {name}", ndim)
        with np.load(path, allow_pickle=False) as z:
            y = _native(z["y"]) if "y" in z.files else None
            return _from_arrays(pd, _native(z["X"]), y)
    # NotImplementedError: a damaged header that asks for a zip feature ("zip file version")
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise InputError(
            f"{str(path)!r} is not a readable .npz (zip) file ({_first_line(exc)}); "
            "write it with numpy.savez"
        ) from None


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, ndim: int) -> None:
    """The member's declared size bounds the array: numpy allocates what its header says
    before reading a byte, so a 300-byte file could ask for 75 GiB."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"{what} is compressed in a way numpy.savez never writes; re-save it")
    # stored data is its own size, deflate expands at most ~1032-fold: beyond is a lie
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.file_size > (info.compress_size if stored else 1100 * info.compress_size + 1024):
        raise InputError(f"{what} declares {info.file_size:,} bytes, more than its data can hold")
    with zf.open(info) as f:
        _check_array_header(f, info.file_size, what, ndim)


def _check_array_header(f, size: int, what: str, ndim: int) -> None:
    """Shape, dtype and byte count of a .npy stream, checked before anything is allocated."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise InputError(f"{what}: .npy format version {version} is not read; use numpy.save")
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read(f)
    except (ValueError, SyntaxError, tokenize.TokenError, TypeError) as exc:
        raise InputError(f"{what} has no valid .npy header ({_first_line(exc)})") from None
    if len(shape) != ndim:
        raise InputError(
            f"{what} has shape {shape}; a {ndim}-D array is needed"
            + (" (rows, columns)" if ndim == 2 else " (one value per row)")
        )
    _check_dtype(dtype, what, labels=ndim == 1)
    if ndim == 2 and shape[1] > MAX_COLUMNS:
        raise InputError(f"{what} has {shape[1]:,} columns; at most {MAX_COLUMNS:,} are read")
    needed, held = math.prod(shape) * dtype.itemsize, size - f.tell()
    if needed > held:
        raise InputError(
            f"{what}: its header declares shape {shape} of {dtype} ({needed:,} bytes) but the "
            f"file holds {max(held, 0):,} bytes of data; it is truncated or damaged"
        )


def _check_dtype(dtype: np.dtype, what: str, labels: bool) -> None:
    if dtype.kind in _NUMBER_KINDS and dtype.itemsize <= 8 and not dtype.fields:
        return
    if labels and dtype.kind == "U":  # text labels
        return
    kinds = {
        "c": "complex numbers: split them into real and imaginary columns",
        "O": "Python objects, which are never unpickled: save numbers",
        "V": "structured or raw records: save a plain numeric array",
        "S": "bytes: save numbers (or text labels as str)",
        "U": "text: features must be numbers",
        "M": "dates: convert them to numbers",
        "m": "durations: convert them to numbers",
    }
    why = kinds.get(dtype.kind, "a type that is not read: save float64 or int64")
    raise InputError(f"{what} has dtype {dtype.str}, {why}")


def _native(array: np.ndarray) -> np.ndarray:
    """The array in this machine's byte order (pandas refuses big-endian data)."""
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _from_arrays(pd, X: np.ndarray, y: np.ndarray | None):
    if X.ndim != 2:
        raise InputError(f"the array has shape {X.shape}; a 2-D (rows, columns) array is needed")
    frame = pd.DataFrame(X, columns=[str(i) for i in range(X.shape[1])])
    if y is not None:
        if y.shape != (len(X),):
            raise InputError(f"y has shape {y.shape}; it needs one value per row of X")
        frame["y"] = y
    return frame


# ------------------------------------------------------------------------------ columns


def _check_column(frame, column: str, what: str) -> None:
    if column not in frame.columns:
        names = ", ".join(show(c) for c in frame.columns[:20])
        hint = ""
        if len(frame.columns) == 1 and any(d in frame.columns[0] for d in ",;|\t"):
            # one column whose name holds separators: the parser split on the wrong character
            hint = "; the file was read as a single column: check its delimiter"
        raise InputError(
            f"{what} column {show(column)} is not in the data; its columns are: {names}{hint}"
        )


def check_types(frame, columns: list[str], role: str) -> None:
    """Refuse, by name, a column of lists, structs, dates, decimals, bytes or complex numbers:
    nothing in it could become a feature (or a label stored in the model's JSON)."""
    from pandas.api.types import infer_dtype

    dtypes = frame.dtypes
    for column in columns:
        if dtypes[column].kind in _NUMBER_KINDS:  # numbers: nothing to look into (fast)
            continue
        values = frame[column]
        if values.dtype.name == "category":
            values = values.cat.categories.to_series()
        kind = infer_dtype(values, skipna=True)
        what, fix = _UNSUPPORTED.get(kind, (None, None))
        rows = frame[column].notna().to_numpy()
        if what is None and kind in ("mixed", "unknown-array"):
            rows = np.array([isinstance(v, _NESTED) for v in frame[column]], dtype=bool)
            what, fix = ("lists or structs", "flatten it into one column per value")
        if what is not None and rows.any():
            row = int(np.flatnonzero(rows)[0])
            raise InputError(
                f"{role} column {show(column)} holds {what} (row {row + 1}: "
                f"{show(frame[column].iloc[row])}); {fix}, or drop the column"
            )


def numeric_features(frame, columns: list[str], role: str = "feature") -> np.ndarray:
    """The given columns as a float64 matrix; names the first non-numeric or missing cell.

    Columns that are numbers already are converted as one block, so 100,000 of them take a
    second; only text or object columns are parsed (and checked) one by one.
    """
    pd = _pandas()
    for column in columns:
        _check_column(frame, column, role)
    block = frame[columns]
    dtypes = block.dtypes
    converted = {}
    for column in [c for c in columns if dtypes[c].kind not in _NUMBER_KINDS]:
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{role} column {show(column)} is not numeric: row {row + 1} holds "
                f"{show(values.iloc[row])}; encode it as numbers or drop the column"
            )
        converted[column] = numbers
    if converted:
        block = block.copy()
        for column, numbers in converted.items():
            block[column] = numbers
    X = block.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = ~np.isfinite(X)
    if missing.any():
        j = int(np.flatnonzero(missing.any(axis=0))[0])
        row = int(np.flatnonzero(missing[:, j])[0])
        raise InputError(
            f"{role} column {show(columns[j])} has a missing or infinite value in row {row + 1}; "
            "fill or drop such rows first"
        )
    return X


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


def _guess_task(labels) -> str:
    """Words, or a few whole numbers, are classes; other numbers are values."""
    numeric = labels.dtype.kind in "iufb"
    whole = numeric and bool((labels == labels.round()).all())
    few = labels.nunique() <= max(20, int(len(labels) ** 0.5))
    return "classify" if not numeric or (whole and few) else "regress"


def _classes(labels, target: str) -> tuple[np.ndarray, list]:
    """Class indices and the sorted labels. A label must be text, a finite number or a
    boolean: what the model's JSON can store (checked here, by name, before training)."""
    classes = sorted(labels.unique(), key=lambda v: (str(type(v)), v))
    values = _label_values(classes)
    for label, value in zip(classes, values):
        finite = not isinstance(value, float) or math.isfinite(value)
        if type(value) not in (str, int, float, bool) or not finite:
            row = int(np.flatnonzero((labels == label).to_numpy())[0])
            raise InputError(
                f"target column {show(target)} holds {show(value)} in row {row + 1}; a label "
                "must be text or a finite number: fill or drop such rows first"
            )
    if len(classes) < 2:
        raise InputError(
            f"target column {show(target)} holds one class only ({show(classes[0])}); a "
            "classifier needs at least two"
        )
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in labels], dtype=np.int64), values


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
    check_types(frame, [target], "target")
    check_types(frame, features, "feature")
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise InputError(f"target column {show(target)} is empty in row {row + 1}")
    task = task or _guess_task(labels)
    X = numeric_features(frame, features)
    if task == "classify":
        y, classes = _classes(labels, target)
        return Dataset(X, y, features, target, classes)
    y = numeric_features(frame, [target], "target")[:, 0]
    return Dataset(X, y, features, target, None)


def load_for_model(path, metadata: dict, need_target: bool):
    """Features (and targets, if present or needed) of a new file, as the model was trained."""
    frame = read_table(path)
    features = list(metadata["features"])
    absent = [c for c in features if c not in frame.columns]
    if absent:
        names = ", ".join(show(c) for c in frame.columns[:20])
        trained = ", ".join(show(c) for c in features[:20])
        raise InputError(
            f"feature column {show(absent[0])} is not in the data: the model was trained on "
            f"{len(features)} features ({trained}) and {str(path)!r} has "
            f"{len(frame.columns)} columns ({names})"
        )
    check_types(frame, features, "feature")
    X = numeric_features(frame, features)
    target = metadata["target"]
    if target not in frame.columns:
        if need_target:
            raise InputError(
                f"target column {show(target)} is not in {str(path)!r}; evaluate needs it"
            )
        return X, None, frame
    check_types(frame, [target], "target")
    classes = metadata.get("classes")
    if classes is None:
        return X, numeric_features(frame, [target], "target")[:, 0], frame
    return X, _indices(frame[target], target, classes), frame


def _indices(labels, target: str, classes: list) -> np.ndarray:
    """Each label's index among the model's classes (compared as written, then as text)."""
    index = {c: i for i, c in enumerate(classes)}
    text_index = {str(c): i for i, c in enumerate(classes)}
    y = np.empty(len(labels), np.int64)
    for row, value in enumerate(_label_values(labels)):
        found = index.get(value, text_index.get(str(value)))
        if found is None:
            known = ", ".join(show(c) for c in classes[:10]) + (", ..." * (len(classes) > 10))
            raise InputError(
                f"target column {show(target)} holds {show(value)} in row {row + 1}, a label the "
                f"model was not trained on (it knows {known})"
            )
        y[row] = found
    return y


def check_target_range(y: np.ndarray, target: str, dtype) -> None:
    """Refuse regression targets whose squared error overflows the network's float type (the
    run would 'diverge' at once, blaming the learning rate)."""
    limit = math.sqrt(float(np.finfo(dtype).max)) / 2  # outputs grow to the targets' size
    biggest = float(np.abs(y).max(initial=0.0))
    if biggest > limit:
        raise InputError(
            f"target column {show(target)} has values too large for {np.dtype(dtype).name} "
            f"arithmetic (up to {biggest:.3g}; squared errors overflow beyond {limit:.2g}): "
            "divide the column by a power of ten first"
        )


def standardiser(X: np.ndarray, names: list[str] | None = None) -> dict:
    """Mean and scale of each column (constant columns get scale 1), JSON-ready.

    Values whose spread overflows float64 (beyond about 1e154) are refused by column name:
    their scale would be infinite and the model could not be written.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
    bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(scale)))
    if bad.size:
        j = int(bad[0])
        name = show(names[j]) if names is not None else f"{j}"
        biggest = float(np.abs(X[:, j]).max())
        raise InputError(
            f"feature column {name} has values too large to standardise (up to {biggest:.3g}): "
            f"their spread overflows float64; divide the column by a power of ten first"
        )
    scale[scale == 0] = 1.0
    return {"mean": mean.tolist(), "scale": scale.tolist()}


def standardise(
    X: np.ndarray, scaling: dict, names: list[str] | None = None, limit: float = np.inf
) -> np.ndarray:
    """``(X - mean) / scale``; with ``names``, a result beyond ``limit`` (or overflowing) is
    refused by column and row, e.g. a new value far outside what the model was trained on."""
    with np.errstate(over="ignore", invalid="ignore"):  # checked below when names are given
        out = (X - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    if names is not None:
        bad = ~(np.abs(out) <= limit)
        if bad.any():
            row, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"feature column {show(names[j])} row {row + 1} holds {show(X[row, j])}, too far "
                f"outside the values the model was trained on (mean {scaling['mean'][j]:.3g}, "
                f"scale {scaling['scale'][j]:.3g}) to be scaled; check its units"
            )
    return out
