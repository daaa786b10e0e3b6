"""Input validation shared by the public entry points.

Each helper raises a :class:`~chainrule.errors.ChainruleError` subclass whose message names the
argument, the problem and the fix, so callers can validate at the boundary in one line.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterable

import numpy as np

from .errors import ConfigError, InputError

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def as_dtype(dtype: object, name: str = "dtype") -> np.dtype:
    """Return the NumPy float dtype for ``dtype`` ("float32"/"float64" or the NumPy type)."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        raise ConfigError(
            f"{name}={dtype!r} is not supported; use 'float32' (the default) or 'float64'"
        )
    return resolved


def positive_number(value: object, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={value!r} must be a number, got {type(value).__name__}")
    value = float(value)
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name}={value!r} must be finite and {bound}")
    return value


def fraction(value: object, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check ``low <= value < high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={value!r} must be a number in [{low}, {high})")
    value = float(value)
    if not (low <= value < high):
        raise ConfigError(f"{name}={value!r} must be in [{low}, {high})")
    return value


def positive_int(value: object, name: str, *, allow_none: bool = False) -> int | None:
    """Check that ``value`` is an integer >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        hint = " or None" if allow_none else ""
        raise ConfigError(f"{name}={value!r} must be a positive integer{hint}")
    return int(value)


def choice(value: object, name: str, options: Iterable[str]) -> str:
    """Check that ``value`` is one of ``options`` (case-insensitive, '-' same as '_')."""
    options = list(options)
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_")
        if key in options:
            return key
    raise ConfigError(f"{name}={value!r} is not known; choose one of: {', '.join(options)}")


def _as_array(data: object, name: str) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged nested lists, odd objects
        raise InputError(
            f"{name} cannot be read as an array ({exc}); pass a rectangular array of numbers"
        ) from None


def finite_check(array: np.ndarray, name: str) -> None:
    """Raise if ``array`` holds NaN or infinity, naming the first offending position."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        where = ", ".join(str(int(i)) for i in bad)
        kind = "NaN" if np.isnan(array[tuple(bad)]) else "infinity"
        raise InputError(
            f"{name} contains {kind} at index ({where}); remove or impute non-finite values first"
        )


def features(X: object, name: str, n_features: int | None, dtype: np.dtype) -> np.ndarray:
    """Validate a 2-D feature matrix and return it as a C-contiguous array of ``dtype``.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    n_features : expected number of columns, or None to accept any.
    """
    array = _as_array(X, name)
    if array.dtype.kind == "O":  # e.g. a list mixing ints and Decimals: numbers in disguise
        with contextlib.suppress(TypeError, ValueError):
            array = array.astype(np.float64)
    if array.dtype.kind not in "biuf":
        raise InputError(
            f"{name} has dtype {array.dtype}, not numbers; convert or encode it to numeric values"
        )
    if array.ndim != 2:
        fix = "use X.reshape(1, -1) for one sample" if array.ndim == 1 else "pass a 2-D array"
        raise InputError(
            f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}; {fix}"
        )
    if array.shape[0] == 0:
        raise InputError(f"{name} is empty (0 samples); pass at least one row")
    if n_features is not None and array.shape[1] != n_features:
        raise InputError(
            f"{name} has {array.shape[1]} features but the network expects {n_features}; "
            "pass the same columns the network was built for"
        )
    finite_check(array, name)
    with np.errstate(over="ignore"):
        result = np.ascontiguousarray(array, dtype=dtype)
    if result.dtype.kind == "f" and not np.isfinite(result).all():
        big = float(np.abs(array).max())
        raise InputError(
            f"{name} holds values up to {big:.3g}, beyond the range of {np.dtype(dtype).name}; "
            "rescale the features (standardise them) or use dtype='float64'"
        )
    return result


def same_length(X: np.ndarray, Y: np.ndarray, x_name: str = "X", y_name: str = "Y") -> None:
    if len(X) != len(Y):
        raise InputError(
            f"{x_name} has {len(X)} samples but {y_name} has {len(Y)}; they must have one row each"
        )
